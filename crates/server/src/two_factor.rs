//! The second factor of local accounts: codes from an authenticator app (TOTP, RFC 6238) and
//! one-time recovery codes ([`signin::totp`], [`signin::recovery`]).
//!
//! - After a right password, a person with a second factor gets no session yet: a pending
//!   sign-in (its secret in an `HttpOnly` cookie for ten minutes, only its hash stored) leads to
//!   `/login/two-factor`, where a code or a recovery code finishes it. Five wrong codes end the
//!   pending sign-in; each code's step is accepted once.
//! - When an administrator requires a second factor for everyone (`/settings/sign-in`), a
//!   person without one is taken from the password to `/login/two-factor/setup` and gets a
//!   session only once the app is set up and its first code typed.
//! - `/account/two-factor` lets a logged-in person set one up, see how many recovery codes are
//!   left, make new ones, or remove the factor (not while it is required).
//! - The pending forms carry a token derived from the pending cookie, so another site cannot
//!   post them; the account forms carry the session's token.

use askama::Template;
use axum::{
    Form, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use engage::NewAuditEntry;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use signin::{recovery, totp::TotpSecret};
use store::User;

use crate::{
    ApiError, AppState, PageError,
    account::{CsrfForm, login_response, start_session},
    auth::{self, CurrentUser},
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The cookie of a pending sign-in.
pub const PENDING_COOKIE: &str = "sb_pending";
/// How long a pending sign-in lasts.
const PENDING_FOR: SignedDuration = SignedDuration::from_mins(10);
/// Wrong codes allowed per pending sign-in.
pub const MAX_CODE_ATTEMPTS: u32 = 5;
/// The name apps show for the account.
const ISSUER: &str = "Switchboard";

/// The routes of the second factor.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/two-factor", get(code_page).post(check_code))
        .route(
            "/login/two-factor/setup",
            get(setup_page).post(confirm_setup),
        )
        .route("/account/two-factor", get(account_page))
        .route("/account/two-factor/begin", post(account_begin))
        .route("/account/two-factor/confirm", post(account_confirm))
        .route("/account/two-factor/remove", post(account_remove))
        .route("/settings/sign-in", get(settings_page).post(settings_save))
}

/// The API routes of this module (none).
pub const API: [ApiRoute; 0] = [];

fn unix_now() -> u64 {
    u64::try_from(Timestamp::now().as_second()).unwrap_or(0)
}

fn form_token(secret: &str) -> String {
    auth::token_hash(&format!("two-factor form\n{secret}"))
}

fn pending_cookie(state: &AppState, value: &str, max_age: i64) -> String {
    auth::set_cookie(PENDING_COOKIE, value, max_age, state.config.secure_cookies)
}

fn back_to_login(state: &AppState, message: &str) -> Response {
    let mut response = login_response(
        state,
        StatusCode::UNAUTHORIZED,
        Some(message.to_owned()),
        "/stream".to_owned(),
        String::new(),
    );
    if let Ok(value) = pending_cookie(state, "", 0).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// After a right password: `None` when the person may have a session at once, or the response
/// that takes them to their second step.
pub async fn after_password(
    state: &AppState,
    user: &User,
    next: &str,
) -> Result<Option<Response>, ApiError> {
    let id = user.id;
    let (factor, required) = blocking(state, move |store| {
        Ok((store.second_factor(id)?, store.two_factor_required()?))
    })
    .await?;
    let confirmed = factor.as_ref().is_some_and(|f| f.confirmed);
    if !confirmed && !required {
        return Ok(None);
    }
    let secret = auth::random_token()?;
    let hash = auth::token_hash(&secret);
    let next = next.to_owned();
    let expires = Timestamp::now()
        .checked_add(PENDING_FOR)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    blocking(state, move |store| {
        Ok(store.add_pending_login(&hash, id, &next, expires)?)
    })
    .await?;
    let to = if confirmed {
        "/login/two-factor"
    } else {
        "/login/two-factor/setup"
    };
    Ok(Some(
        (
            [(header::SET_COOKIE, pending_cookie(state, &secret, 600))],
            Redirect::to(to),
        )
            .into_response(),
    ))
}

/// The pending sign-in of this browser, with its cookie secret.
async fn pending(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<Option<(String, store::signin::PendingLogin)>, ApiError> {
    let Some(secret) = auth::cookie(headers, PENDING_COOKIE).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    let secret = secret.to_owned();
    let hash = auth::token_hash(&secret);
    let found = blocking(state, move |store| {
        Ok(store.pending_login(&hash, Timestamp::now())?)
    })
    .await?;
    Ok(found.map(|p| (secret, p)))
}

#[derive(Template)]
#[template(path = "two_factor_login.html")]
struct CodePage {
    layout: Layout,
    token: String,
    error: Option<String>,
}

/// `GET /login/two-factor`.
pub async fn code_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match pending(&state, &headers).await {
        Ok(Some((secret, _))) => render(&CodePage {
            layout: Layout::anonymous("Two-factor code"),
            token: form_token(&secret),
            error: None,
        }),
        Ok(None) => back_to_login(&state, "Your sign-in expired; log in again."),
        Err(error) => PageError(error).into_response(),
    }
}

/// The code form.
#[derive(Debug, Deserialize)]
pub struct CodeForm {
    /// The form token.
    #[serde(default)]
    pub csrf: String,
    /// A six-digit code or a recovery code.
    #[serde(default)]
    pub code: String,
}

/// Checks a six-digit code (each step once) or a recovery code (each once).
fn code_matches(store: &dyn store::WebStore, user_id: i64, code: &str) -> Result<bool, ApiError> {
    let Some(factor) = store.second_factor(user_id)?.filter(|f| f.confirmed) else {
        return Ok(false);
    };
    let digits: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if digits.len() == usize::from(signin::totp::DIGITS)
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        let secret = TotpSecret::from_base32(&factor.secret)
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        return match secret.verify(&digits, unix_now(), factor.last_step) {
            Some(step) => Ok(store.use_totp_step(user_id, step)?),
            None => Ok(false),
        };
    }
    Ok(store.use_recovery_code(user_id, &recovery::digest(code), Timestamp::now())?)
}

/// `POST /login/two-factor`.
pub async fn check_code(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let (secret, pending) = match pending(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return back_to_login(&state, "Your sign-in expired; log in again."),
        Err(error) => return PageError(error).into_response(),
    };
    if !auth::same_secret(&form.csrf, &form_token(&secret)) {
        return PageError(ApiError::CsrfRejected).into_response();
    }
    let hash = auth::token_hash(&secret);
    let user_id = pending.user.id;
    let code = form.code.chars().take(64).collect::<String>();
    let checked = blocking(&state, move |store| {
        if code_matches(store, user_id, &code)? {
            store.remove_pending_login(&hash)?;
            Ok(None)
        } else {
            let attempts = store.fail_pending_login(&hash)?;
            if attempts >= MAX_CODE_ATTEMPTS {
                store.remove_pending_login(&hash)?;
            }
            Ok(Some(attempts))
        }
    })
    .await;
    match checked {
        Ok(None) => finish(&state, &pending.user, &pending.next, None).await,
        Ok(Some(attempts)) if attempts >= MAX_CODE_ATTEMPTS => {
            back_to_login(&state, "Too many wrong codes; log in again.")
        }
        Ok(Some(_)) => {
            let mut response = render(&CodePage {
                layout: Layout::anonymous("Two-factor code"),
                token: form_token(&secret),
                error: Some(
                    "That code is wrong or was already used: type the code your app shows now, \
                     or a recovery code."
                        .into(),
                ),
            });
            *response.status_mut() = StatusCode::UNAUTHORIZED;
            response
        }
        Err(error) => PageError(error).into_response(),
    }
}

/// Starts the session and ends the pending cookie; with `codes`, shows the new recovery codes
/// first.
async fn finish(state: &AppState, user: &User, next: &str, codes: Option<Vec<String>>) -> Response {
    let cookie = match start_session(state, user).await {
        Ok(cookie) => cookie,
        Err(error) => return PageError(error).into_response(),
    };
    let mut response = match codes {
        Some(codes) => render(&CodesPage {
            layout: Layout::anonymous("Your recovery codes"),
            codes,
            next: next.to_owned(),
        }),
        None => Redirect::to(next).into_response(),
    };
    for value in [cookie, pending_cookie(state, "", 0)] {
        if let Ok(value) = value.parse() {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

#[derive(Template)]
#[template(path = "two_factor_setup.html")]
struct SetupPage {
    layout: Layout,
    action: &'static str,
    token: String,
    secret: String,
    uri: String,
    required: bool,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "two_factor_codes.html")]
struct CodesPage {
    layout: Layout,
    codes: Vec<String>,
    next: String,
}

/// Makes (or reuses) the secret being set up for `user`.
fn begin(store: &dyn store::WebStore, user: &User) -> Result<Option<TotpSecret>, ApiError> {
    if let Some(factor) = store.second_factor(user.id)? {
        if factor.confirmed {
            return Ok(None);
        }
        return TotpSecret::from_base32(&factor.secret)
            .map(Some)
            .map_err(|e| ApiError::Internal(e.to_string()));
    }
    let secret = TotpSecret::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
    store.begin_second_factor(user.id, &secret.to_base32())?;
    Ok(Some(secret))
}

/// Confirms the factor being set up with its first code; returns the new recovery codes.
fn confirm(
    store: &dyn store::WebStore,
    user: &User,
    code: &str,
) -> Result<Option<Vec<String>>, ApiError> {
    let Some(factor) = store.second_factor(user.id)?.filter(|f| !f.confirmed) else {
        return Ok(None);
    };
    let secret =
        TotpSecret::from_base32(&factor.secret).map_err(|e| ApiError::Internal(e.to_string()))?;
    let Some(step) = secret.verify(code, unix_now(), None) else {
        return Ok(None);
    };
    let codes = recovery::generate().map_err(|e| ApiError::Internal(e.to_string()))?;
    let digests: Vec<String> = codes.iter().map(|c| recovery::digest(c)).collect();
    let now = Timestamp::now();
    if !store.confirm_second_factor(user.id, step, &digests, now)? {
        return Ok(None);
    }
    store.append_audit(&[NewAuditEntry::new(
        now,
        user.name.clone(),
        "user.two_factor.on",
        format!("user:{}", user.name),
        "an authenticator app was set up, with new recovery codes",
    )])?;
    Ok(Some(codes))
}

fn setup_page_for(
    action: &'static str,
    token: String,
    secret: &TotpSecret,
    user: &User,
    required: bool,
    layout: Layout,
    error: Option<String>,
) -> Response {
    render(&SetupPage {
        layout,
        action,
        token,
        secret: secret.to_base32(),
        uri: secret.otpauth_uri(ISSUER, &user.name),
        required,
        error,
    })
}

/// `GET /login/two-factor/setup`: set up the app required before the first session.
pub async fn setup_page(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let (secret, pending) = match pending(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return back_to_login(&state, "Your sign-in expired; log in again."),
        Err(error) => return PageError(error).into_response(),
    };
    let user = pending.user.clone();
    match blocking(&state, move |store| begin(store, &user)).await {
        Ok(Some(totp)) => setup_page_for(
            "/login/two-factor/setup",
            form_token(&secret),
            &totp,
            &pending.user,
            true,
            Layout::anonymous("Set up two-factor sign-in"),
            None,
        ),
        Ok(None) => Redirect::to("/login/two-factor").into_response(),
        Err(error) => PageError(error).into_response(),
    }
}

/// `POST /login/two-factor/setup`.
pub async fn confirm_setup(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CodeForm>,
) -> Response {
    let (secret, pending) = match pending(&state, &headers).await {
        Ok(Some(found)) => found,
        Ok(None) => return back_to_login(&state, "Your sign-in expired; log in again."),
        Err(error) => return PageError(error).into_response(),
    };
    if !auth::same_secret(&form.csrf, &form_token(&secret)) {
        return PageError(ApiError::CsrfRejected).into_response();
    }
    let user = pending.user.clone();
    let hash = auth::token_hash(&secret);
    let code = form.code.chars().take(64).collect::<String>();
    let confirmed = blocking(&state, move |store| {
        let codes = confirm(store, &user, &code)?;
        if codes.is_some() {
            store.remove_pending_login(&hash)?;
        } else if store.fail_pending_login(&hash)? >= MAX_CODE_ATTEMPTS {
            store.remove_pending_login(&hash)?;
            return Err(ApiError::TooManyAttempts);
        }
        Ok(codes)
    })
    .await;
    match confirmed {
        Ok(Some(codes)) => finish(&state, &pending.user, &pending.next, Some(codes)).await,
        Ok(None) => {
            let user = pending.user.clone();
            match blocking(&state, move |store| begin(store, &user)).await {
                Ok(Some(totp)) => {
                    let mut response = setup_page_for(
                        "/login/two-factor/setup",
                        form_token(&secret),
                        &totp,
                        &pending.user,
                        true,
                        Layout::anonymous("Set up two-factor sign-in"),
                        Some("That code is wrong: type the code your app shows now.".into()),
                    );
                    *response.status_mut() = StatusCode::UNAUTHORIZED;
                    response
                }
                Ok(None) => Redirect::to("/login/two-factor").into_response(),
                Err(error) => PageError(error).into_response(),
            }
        }
        Err(ApiError::TooManyAttempts) => {
            back_to_login(&state, "Too many wrong codes; log in again.")
        }
        Err(error) => PageError(error).into_response(),
    }
}

#[derive(Template)]
#[template(path = "two_factor_account.html")]
struct AccountPage {
    layout: Layout,
    enabled: bool,
    codes_left: u64,
    required: bool,
}

/// `GET /account/two-factor`.
pub async fn account_page(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    page.user.require(Action::ChangeOwnPassword)?;
    let id = page.user.user.id;
    let (factor, required) = blocking(&state, move |store| {
        Ok((store.second_factor(id)?, store.two_factor_required()?))
    })
    .await?;
    let enabled = factor.as_ref().is_some_and(|f| f.confirmed);
    Ok(render(&AccountPage {
        layout: Layout::new("Two-factor sign-in", &page, "account"),
        enabled,
        codes_left: factor.map_or(0, |f| f.recovery_codes_left),
        required,
    }))
}

/// `POST /account/two-factor/begin`: shows a new secret to set up.
pub async fn account_begin(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    page.user.check_csrf(&form.csrf)?;
    page.user.require(Action::ChangeOwnPassword)?;
    let user = page.user.user.clone();
    let Some(totp) = blocking(&state, move |store| begin(store, &user)).await? else {
        return Ok(Redirect::to("/account/two-factor").into_response());
    };
    Ok(setup_page_for(
        "/account/two-factor/confirm",
        page.user.csrf.clone(),
        &totp,
        &page.user.user,
        false,
        Layout::new("Set up two-factor sign-in", &page, "account"),
        None,
    ))
}

/// `POST /account/two-factor/confirm`.
pub async fn account_confirm(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    page.user.check_csrf(&form.csrf)?;
    page.user.require(Action::ChangeOwnPassword)?;
    let user = page.user.user.clone();
    let code = form.code.chars().take(64).collect::<String>();
    let codes = blocking(&state, move |store| confirm(store, &user, &code)).await?;
    match codes {
        Some(codes) => Ok(render(&CodesPage {
            layout: Layout::new("Your recovery codes", &page, "account"),
            codes,
            next: "/account/two-factor".into(),
        })),
        None => {
            let user = page.user.user.clone();
            let Some(totp) = blocking(&state, move |store| begin(store, &user)).await? else {
                return Ok(Redirect::to("/account/two-factor").into_response());
            };
            let mut response = setup_page_for(
                "/account/two-factor/confirm",
                page.user.csrf.clone(),
                &totp,
                &page.user.user,
                false,
                Layout::new("Set up two-factor sign-in", &page, "account"),
                Some("That code is wrong: type the code your app shows now.".into()),
            );
            *response.status_mut() = StatusCode::BAD_REQUEST;
            Ok(response)
        }
    }
}

/// `POST /account/two-factor/remove`: needs a current code; refused while it is required.
pub async fn account_remove(
    State(state): State<AppState>,
    page: PageContext,
    Form(form): Form<CodeForm>,
) -> Result<Response, PageError> {
    page.user.check_csrf(&form.csrf)?;
    page.user.require(Action::ChangeOwnPassword)?;
    let user = page.user.user.clone();
    let code = form.code.chars().take(64).collect::<String>();
    blocking(&state, move |store| {
        if store.two_factor_required()? {
            return Err(ApiError::BadRequest(
                "an administrator requires two-factor sign-in for everyone: it cannot be removed"
                    .into(),
            ));
        }
        if !code_matches(store, user.id, &code)? {
            return Err(ApiError::BadRequest(
                "that code is wrong: type the code your app shows now, or a recovery code".into(),
            ));
        }
        store.remove_second_factor(user.id)?;
        store.append_audit(&[NewAuditEntry::new(
            Timestamp::now(),
            user.name.clone(),
            "user.two_factor.off",
            format!("user:{}", user.name),
            "two-factor sign-in removed",
        )])?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/account/two-factor").into_response())
}

#[derive(Template)]
#[template(path = "signin_settings.html")]
struct SettingsPage {
    layout: Layout,
    required: bool,
    sso: Option<String>,
}

/// `GET /settings/sign-in` (administrators).
pub async fn settings_page(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    page.user.require(Action::ManageUsers)?;
    let required = blocking(&state, |store| Ok(store.two_factor_required()?)).await?;
    Ok(render(&SettingsPage {
        layout: Layout::new("Sign-in", &page, "users"),
        required,
        sso: state.oidc.label().map(str::to_owned),
    }))
}

/// The sign-in settings form.
#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// `on` to require a second factor of every local account.
    #[serde(default)]
    pub require_two_factor: Option<String>,
}

/// `POST /settings/sign-in`.
pub async fn settings_save(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    let required = form.require_two_factor.as_deref() == Some("on");
    let by = user.user.name.clone();
    blocking(&state, move |store| {
        store.set_two_factor_required(required)?;
        store.append_audit(&[NewAuditEntry::new(
            Timestamp::now(),
            by,
            "signin.require_two_factor",
            "settings:sign-in",
            if required { "required" } else { "not required" },
        )])?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to("/settings/sign-in").into_response())
}
