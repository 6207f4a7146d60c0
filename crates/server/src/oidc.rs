//! Single sign-on through the organisation's OpenID Connect provider (Microsoft Entra ID for
//! NHSmail): `GET /login/oidc` sends the person to the provider with a fresh state, nonce and
//! PKCE challenge (kept in the store for ten minutes), and `GET /login/oidc/callback` takes them
//! back, checks the provider's answer ([`signin::oidc`]) and starts a session.
//!
//! The person's role comes from their groups at every sign-in, so a change at the provider
//! takes effect at the next one. A provider identity is linked to the account it created; a
//! local account of the same name is never taken over (an administrator must resolve it).
//! Accounts made here have no password: they cannot log in with one.

use std::sync::Arc;

use axum::{
    Router,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::get,
};
use engage::NewAuditEntry;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use signin::oidc::{OidcConfig, OidcError, OidcProvider, PendingLogin};
use tokio::sync::Mutex;

use crate::{
    ApiError, AppState, PageError,
    account::{login_response, safe_next, start_session},
    blocking,
    openapi::ApiRoute,
};

/// How long a sign-in sent to the provider may take to come back.
const PENDING_FOR: SignedDuration = SignedDuration::from_mins(10);

/// The password hash of an account made by single sign-on: not a PHC string, so no password
/// ever matches it.
pub const NO_PASSWORD: &str = "!single-sign-on";

/// The routes of single sign-on.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/login/oidc", get(start))
        .route("/login/oidc/callback", get(callback))
}

/// The API routes of this module (none).
pub const API: [ApiRoute; 0] = [];

/// The configured provider, discovered on first use (and again after a failure).
#[derive(Default)]
pub struct OidcState {
    settings: Option<(OidcConfig, Option<String>)>,
    provider: Mutex<Option<Arc<OidcProvider>>>,
}

impl OidcState {
    /// Single sign-on with `config`; `client_secret` is the value of its secret variable.
    pub fn new(config: OidcConfig, client_secret: Option<String>) -> OidcState {
        OidcState {
            settings: Some((config, client_secret)),
            provider: Mutex::new(None),
        }
    }

    /// The sign-in button's words, when single sign-on is configured.
    pub fn label(&self) -> Option<&str> {
        self.settings.as_ref().map(|(c, _)| c.label.as_str())
    }

    async fn provider(&self) -> Result<Arc<OidcProvider>, OidcError> {
        let Some((config, secret)) = &self.settings else {
            return Err(OidcError::Config("single sign-on is not configured".into()));
        };
        let mut provider = self.provider.lock().await;
        if let Some(found) = provider.as_ref() {
            return Ok(Arc::clone(found));
        }
        let found = Arc::new(OidcProvider::discover(config, secret.clone()).await?);
        *provider = Some(Arc::clone(&found));
        Ok(found)
    }
}

/// The query of `GET /login/oidc`.
#[derive(Debug, Deserialize)]
pub struct StartParams {
    /// Where to go after signing in.
    #[serde(default)]
    pub next: Option<String>,
}

fn refused(state: &AppState, status: StatusCode, message: String) -> Response {
    login_response(
        state,
        status,
        Some(message),
        "/stream".to_owned(),
        String::new(),
    )
}

/// `GET /login/oidc`: to the provider.
pub async fn start(State(state): State<AppState>, Query(params): Query<StartParams>) -> Response {
    let next = safe_next(params.next.as_deref());
    let provider = match state.oidc.provider().await {
        Ok(provider) => provider,
        Err(error) => {
            tracing::warn!(%error, "Single sign-on is unavailable.");
            return refused(&state, StatusCode::SERVICE_UNAVAILABLE, error.to_string());
        }
    };
    let (url, pending) = provider.start();
    let data = match serde_json::to_string(&pending) {
        Ok(data) => data,
        Err(error) => return PageError(ApiError::Internal(error.to_string())).into_response(),
    };
    let expires = Timestamp::now()
        .checked_add(PENDING_FOR)
        .unwrap_or_else(|_| Timestamp::now());
    let saved = blocking(&state, move |store| {
        Ok(store.add_oidc_login(&pending.state, &data, &next, expires)?)
    })
    .await;
    match saved {
        Ok(()) => Redirect::to(&url).into_response(),
        Err(error) => PageError(error).into_response(),
    }
}

/// The query the provider sends back.
#[derive(Debug, Deserialize)]
pub struct CallbackParams {
    /// The authorisation code.
    #[serde(default)]
    pub code: Option<String>,
    /// The state sent.
    #[serde(default)]
    pub state: Option<String>,
    /// The provider's error code, when it refused.
    #[serde(default)]
    pub error: Option<String>,
    /// Its words.
    #[serde(default)]
    pub error_description: Option<String>,
}

/// `GET /login/oidc/callback`: back from the provider.
pub async fn callback(
    State(state): State<AppState>,
    Query(params): Query<CallbackParams>,
) -> Response {
    if let Some(error) = params.error.as_deref() {
        let words = params.error_description.as_deref().unwrap_or_default();
        let words: String = words.chars().take(300).collect();
        return refused(
            &state,
            StatusCode::FORBIDDEN,
            format!("The sign-in was not completed at the identity provider ({error}). {words}"),
        );
    }
    let (Some(code), Some(sent)) = (params.code, params.state) else {
        return refused(
            &state,
            StatusCode::BAD_REQUEST,
            "The identity provider sent no code; sign in again.".into(),
        );
    };
    let taken = blocking(&state, move |store| {
        Ok(store.take_oidc_login(&sent, Timestamp::now())?)
    })
    .await;
    let (pending, next) = match taken {
        Ok(Some((data, next))) => match serde_json::from_str::<PendingLogin>(&data) {
            Ok(pending) => (pending, next),
            Err(error) => return PageError(ApiError::Internal(error.to_string())).into_response(),
        },
        Ok(None) => {
            return refused(
                &state,
                StatusCode::BAD_REQUEST,
                "This sign-in expired or was already used; sign in again.".into(),
            );
        }
        Err(error) => return PageError(error).into_response(),
    };
    let provider = match state.oidc.provider().await {
        Ok(provider) => provider,
        Err(error) => return refused(&state, StatusCode::SERVICE_UNAVAILABLE, error.to_string()),
    };
    let identity = match provider.finish(&pending, &code).await {
        Ok(identity) => identity,
        Err(error) => {
            tracing::warn!(%error, "A single sign-on was refused.");
            let status = match error {
                OidcError::Provider(_) => StatusCode::BAD_GATEWAY,
                _ => StatusCode::FORBIDDEN,
            };
            return refused(&state, status, error.to_string());
        }
    };
    let user = blocking(&state, move |store| {
        let now = Timestamp::now();
        let audit = |action: &str, name: &str, detail: String| {
            NewAuditEntry::new(now, "switchboard", action, format!("user:{name}"), detail)
        };
        if let Some(mut user) = store.user_for_identity(&identity.issuer, &identity.subject)? {
            if user.role != identity.role {
                store.set_role(user.id, identity.role)?;
                store.append_audit(&[audit(
                    "user.role",
                    &user.name,
                    format!(
                        "{} -> {} from the identity provider's groups",
                        user.role, identity.role
                    ),
                )])?;
                user.role = identity.role;
            }
            return Ok(user);
        }
        let Some(user) = store.add_user(&identity.username, identity.role, NO_PASSWORD)? else {
            return Err(ApiError::BadRequest(format!(
                "an account named {} already exists here and is not linked to your sign-in; \
                 ask an administrator",
                identity.username
            )));
        };
        store.link_identity(&identity.issuer, &identity.subject, user.id)?;
        store.append_audit(&[audit(
            "user.create",
            &user.name,
            format!(
                "first single sign-on; role {} from the identity provider's groups",
                user.role
            ),
        )])?;
        Ok(user)
    })
    .await;
    let user = match user {
        Ok(user) => user,
        Err(ApiError::BadRequest(message)) => {
            return refused(&state, StatusCode::FORBIDDEN, message);
        }
        Err(error) => return PageError(error).into_response(),
    };
    match start_session(&state, &user).await {
        Ok(cookie) => (
            [(axum::http::header::SET_COOKIE, cookie)],
            Redirect::to(&next),
        )
            .into_response(),
        Err(error) => PageError(error).into_response(),
    }
}
