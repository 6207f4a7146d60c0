//! Logging in and out, and the person's own account: the login page (its form's token doubled
//! in a short-lived cookie), sessions, the change-password form, and `GET /api/me`.

use std::net::SocketAddr;

use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{ConnectInfo, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use store::User;

use crate::{
    ApiError, AppState, PageError, auth,
    auth::CurrentUser,
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of logging in and out and of the account page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login", get(login_page).post(login))
        .route("/logout", post(logout))
        .route("/account", get(account))
        .route("/account/password", post(change_password))
        .route("/api/me", get(me))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/me",
    "Who is logged in and what they may do.",
    "viewer",
    &[],
)];

/// Who is logged in.
#[derive(Debug, Serialize)]
pub struct Me {
    /// The login name.
    pub name: String,
    /// The role.
    pub role: store::Role,
    /// The actions the role allows.
    pub may: Vec<Action>,
}

/// `GET /api/me`.
pub async fn me(user: CurrentUser) -> Json<Me> {
    Json(Me {
        name: user.user.name.clone(),
        role: user.user.role,
        may: Action::ALL
            .into_iter()
            .filter(|a| a.allowed(user.user.role))
            .collect(),
    })
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    token: String,
    next: String,
    name: String,
    /// The single sign-on button's words and address, when configured.
    sso: Option<(String, String)>,
}

/// The query of the login page.
#[derive(Debug, Deserialize)]
pub struct NextParam {
    /// Where to go after logging in.
    #[serde(default)]
    pub next: Option<String>,
}

/// Only paths of this site are followed after login.
pub(crate) fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/stream".to_owned(),
    }
}

/// The login page (with its form token's cookie), with `error` shown when given.
pub(crate) fn login_response(
    state: &AppState,
    status: StatusCode,
    error: Option<String>,
    next: String,
    name: String,
) -> Response {
    let token = match auth::random_token() {
        Ok(token) => token,
        Err(error) => return PageError(error).into_response(),
    };
    let page = LoginPage {
        layout: Layout::anonymous("Log in"),
        error,
        token: token.clone(),
        next: next.clone(),
        name,
        sso: state.oidc.label().map(|label| {
            (
                label.to_owned(),
                format!("/login/oidc?next={}", auth::form_urlencode(&next)),
            )
        }),
    };
    let cookie = auth::set_cookie(
        auth::LOGIN_COOKIE,
        &token,
        3600,
        state.config.secure_cookies,
    );
    (status, [(header::SET_COOKIE, cookie)], render(&page)).into_response()
}

/// `GET /login`.
pub async fn login_page(State(state): State<AppState>, Query(query): Query<NextParam>) -> Response {
    login_response(
        &state,
        StatusCode::OK,
        None,
        safe_next(query.next.as_deref()),
        String::new(),
    )
}

/// The login form.
#[derive(Debug, Deserialize)]
pub struct LoginForm {
    /// The token doubled in the login cookie.
    #[serde(default)]
    pub csrf: String,
    /// The login name.
    pub name: String,
    /// The password.
    pub password: String,
    /// Where to go next.
    #[serde(default)]
    pub next: Option<String>,
}

/// `POST /login`.
pub async fn login(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(form.next.as_deref());
    let doubled = auth::cookie(&headers, auth::LOGIN_COOKIE).unwrap_or_default();
    if form.csrf.is_empty() || !auth::same_secret(&form.csrf, doubled) {
        return PageError(ApiError::CsrfRejected).into_response();
    }
    let name = form.name.trim().to_owned();
    let checked_name = name.clone();
    let password = form.password;
    let ip = address.ip().to_string();
    let checked = blocking(&state, move |store| {
        auth::check_login(store, &checked_name, &password, &ip)
    })
    .await;
    let user = match checked {
        Ok(user) => user,
        Err(error @ (ApiError::InvalidCredentials | ApiError::TooManyAttempts)) => {
            let status = error.status();
            return login_response(&state, status, Some(error.to_string()), next, name);
        }
        Err(error) => return PageError(error).into_response(),
    };
    match crate::two_factor::after_password(&state, &user, &next).await {
        Ok(Some(second_step)) => return second_step,
        Ok(None) => {}
        Err(error) => return PageError(error).into_response(),
    }
    match start_session(&state, &user).await {
        Ok(cookie) => ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response(),
        Err(error) => PageError(error).into_response(),
    }
}

/// Starts a session for `user`; returns the `Set-Cookie` value.
pub async fn start_session(state: &AppState, user: &User) -> Result<String, ApiError> {
    let token = auth::random_token()?;
    let csrf = auth::random_token()?;
    let hash = auth::token_hash(&token);
    let hours = state.config.session_hours;
    let expires = Timestamp::now()
        .checked_add(SignedDuration::from_hours(hours))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let user_id = user.id;
    blocking(state, move |store| {
        Ok(store.add_session(&hash, user_id, &csrf, expires)?)
    })
    .await?;
    Ok(auth::set_cookie(
        auth::SESSION_COOKIE,
        &token,
        hours * 3600,
        state.config.secure_cookies,
    ))
}

/// A form that carries only the CSRF token.
#[derive(Debug, Deserialize)]
pub struct CsrfForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
}

/// `POST /logout`: ends the session in the store, so the cookie stops working everywhere.
pub async fn logout(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    let hash = user.token_hash.clone();
    blocking(&state, move |store| Ok(store.remove_session(&hash)?)).await?;
    let cookie = auth::set_cookie(auth::SESSION_COOKIE, "", 0, state.config.secure_cookies);
    Ok(([(header::SET_COOKIE, cookie)], Redirect::to("/login")).into_response())
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// Refuses a password shorter than [`MIN_PASSWORD`].
pub(crate) fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::BadRequest(format!(
            "the new password is too short: use at least {MIN_PASSWORD} characters"
        )));
    }
    Ok(())
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountTemplate {
    layout: Layout,
    changed: bool,
    min_password: usize,
}

/// The query of the account page.
#[derive(Debug, Deserialize, Default)]
pub struct AccountParams {
    /// Set after a successful change.
    #[serde(default)]
    pub changed: Option<String>,
}

/// `GET /account`: the person's own account, with the change-password form.
pub async fn account(
    page: PageContext,
    Query(params): Query<AccountParams>,
) -> Result<Response, PageError> {
    page.user.require(Action::ChangeOwnPassword)?;
    let template = AccountTemplate {
        layout: Layout::new("Your account", &page, "account"),
        changed: params.changed.is_some(),
        min_password: MIN_PASSWORD,
    };
    Ok(render(&template))
}

/// The change-own-password form.
#[derive(Debug, Deserialize)]
pub struct ChangePasswordForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The password in use now.
    pub current: String,
    /// The new password.
    pub password: String,
    /// The new password again.
    pub confirm: String,
}

/// `POST /account/password`: a person changes their own password, giving the current one
/// (checked like a login: wrong guesses count towards the failed-login limit). Every session of
/// the person ends; this browser gets a fresh one.
pub async fn change_password(
    State(state): State<AppState>,
    ConnectInfo(address): ConnectInfo<SocketAddr>,
    user: CurrentUser,
    Form(form): Form<ChangePasswordForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ChangeOwnPassword)?;
    if form.password != form.confirm {
        return Err(ApiError::BadRequest(
            "the new password and its confirmation differ: type the same password twice".into(),
        )
        .into());
    }
    check_new_password(&form.password)?;
    let name = user.user.name.clone();
    let id = user.user.id;
    let ip = address.ip().to_string();
    let ChangePasswordForm {
        current, password, ..
    } = form;
    let changed = blocking(&state, move |store| {
        let checked =
            auth::check_login(store, &name, &current, &ip).map_err(|error| match error {
                ApiError::InvalidCredentials => {
                    ApiError::BadRequest("the current password is wrong".into())
                }
                other => other,
            })?;
        if checked.id != id {
            return Err(ApiError::Forbidden);
        }
        let hash = auth::hash_password(&password)?;
        Ok(store.set_password(id, &hash)?)
    })
    .await?;
    if !changed {
        return Err(ApiError::NotFound.into());
    }
    let cookie = start_session(&state, &user.user).await?;
    Ok((
        [(header::SET_COOKIE, cookie)],
        Redirect::to("/account?changed=1"),
    )
        .into_response())
}
