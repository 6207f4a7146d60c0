//! Passwords, sessions and CSRF.
//!
//! - Passwords are hashed with Argon2id (PHC strings); an unknown name is checked against a
//!   dummy hash so that timing does not tell which names exist.
//! - A session cookie carries 256 random bits; the store keeps only their SHA-256, and logging
//!   out deletes the row, so a copied cookie stops working at once. Cookies are `HttpOnly`,
//!   `SameSite=Lax`, and `Secure` when the server is configured as behind HTTPS.
//! - Every form carries the session's synchroniser token (the login form: a token doubled in a
//!   short-lived cookie), and every unsafe request is refused when `Sec-Fetch-Site` or `Origin`
//!   say it came from another site.
//! - Failed logins are limited per account and per address over a sliding 15 minutes.

use std::sync::{Arc, OnceLock};

use argon2::{
    Argon2, PasswordHash, PasswordHasher, PasswordVerifier,
    password_hash::{SaltString, rand_core::OsRng},
};
use axum::{
    extract::{FromRequestParts, Request},
    http::{HeaderMap, Method, header, request::Parts},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use engage::Actor;
use jiff::{SignedDuration, Timestamp};
use sha2::{Digest, Sha256};
use store::{User, accounts::Session};

use crate::{ApiError, AppState, roles::Action};

/// The name of the session cookie.
pub const SESSION_COOKIE: &str = "sb_session";
/// The name of the cookie that doubles the login form's token.
pub const LOGIN_COOKIE: &str = "sb_login";
/// Failed logins allowed per account in [`FAILURE_WINDOW`].
pub const MAX_ACCOUNT_FAILURES: u32 = 5;
/// Failed logins allowed per address in [`FAILURE_WINDOW`].
pub const MAX_ADDRESS_FAILURES: u32 = 20;
/// The window of the login limits.
pub const FAILURE_WINDOW: SignedDuration = SignedDuration::from_mins(15);

/// Hashes a password with Argon2id and a random salt.
pub fn hash_password(password: &str) -> Result<String, ApiError> {
    let salt = SaltString::generate(&mut OsRng);
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Whether `password` matches `hash` (false for a malformed hash).
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

/// A hash to check against when the name is unknown, so both paths cost the same.
fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| hash_password("not a password").unwrap_or_default())
}

/// 32 random bytes as hex.
pub fn random_token() -> Result<String, ApiError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// The SHA-256 of a session secret, as stored.
pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Compares two secrets in time that does not depend on where they differ.
pub fn same_secret(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0_u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The value of a cookie in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// A `Set-Cookie` value.
pub fn set_cookie(name: &str, value: &str, max_age: i64, secure: bool) -> String {
    let secure = if secure { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}")
}

/// The person behind a request, with their session: who they are and nothing else (what a page
/// shows around its content comes from [`crate::page::PageContext`]).
#[derive(Debug, Clone)]
pub struct CurrentUser {
    /// Who.
    pub user: User,
    /// The session's CSRF token, for forms.
    pub csrf: String,
    /// The hash of the session secret (to end it).
    pub token_hash: String,
}

impl CurrentUser {
    /// The person as the `engage` workflow rules see them.
    pub fn actor(&self) -> Actor {
        Actor::new(self.user.name.clone(), self.user.role)
    }

    /// Refuses with 403 unless the person's role allows `action`.
    pub fn require(&self, action: Action) -> Result<(), ApiError> {
        if action.allowed(self.user.role) {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        }
    }

    /// Refuses unless `token` is this session's CSRF token.
    pub fn check_csrf(&self, token: &str) -> Result<(), ApiError> {
        if same_secret(token, &self.csrf) {
            Ok(())
        } else {
            Err(ApiError::CsrfRejected)
        }
    }
}

/// Why a request has no user: API calls get a 401 JSON answer, pages go to the login page.
#[derive(Debug)]
pub struct LoginRequired {
    api: bool,
    next: String,
    error: Option<ApiError>,
}

impl LoginRequired {
    /// The session could not be read: `error` is shown instead of asking for a login.
    pub fn failed(error: ApiError) -> LoginRequired {
        LoginRequired {
            api: false,
            next: String::new(),
            error: Some(error),
        }
    }
}

impl IntoResponse for LoginRequired {
    fn into_response(self) -> Response {
        if let Some(error) = self.error {
            if self.api {
                return error.into_response();
            }
            return crate::PageError(error).into_response();
        }
        if self.api {
            return ApiError::Unauthenticated.into_response();
        }
        let next: String = form_urlencode(&self.next);
        Redirect::to(&format!("/login?next={next}")).into_response()
    }
}

/// Percent-encodes a query value.
pub fn form_urlencode(value: &str) -> String {
    let mut out = String::new();
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~/".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = LoginRequired;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let api = parts.uri.path().starts_with("/api/");
        let next = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let reject = |error: Option<ApiError>| LoginRequired {
            api,
            next: next.clone(),
            error,
        };
        let Some(token) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(reject(None));
        };
        let hash = token_hash(token);
        let store = Arc::clone(&state.store);
        let lookup = hash.clone();
        let found = tokio::task::spawn_blocking(move || store.session(&lookup, Timestamp::now()))
            .await
            .map_err(|e| reject(Some(ApiError::from(e))))?
            .map_err(|e| reject(Some(ApiError::from(e))))?;
        match found {
            Some(Session { user, csrf, .. }) => Ok(CurrentUser {
                user,
                csrf,
                token_hash: hash,
            }),
            None => Err(reject(None)),
        }
    }
}

/// Refuses unsafe requests that a browser says come from another site (`Sec-Fetch-Site`), or
/// whose `Origin` is not this host.
pub async fn same_origin(request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let headers = request.headers();
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return ApiError::CsrfRejected.into_response();
    }
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        let host = headers
            .get(header::HOST)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let origin_host = origin.split_once("://").map_or(origin, |(_, rest)| rest);
        if origin == "null" || origin_host != host {
            return ApiError::CsrfRejected.into_response();
        }
    }
    next.run(request).await
}

/// Checks a login: limits, password, and records the attempt. Returns the person.
pub fn check_login(
    store: &dyn store::WebStore,
    name: &str,
    password: &str,
    address: &str,
) -> Result<User, ApiError> {
    let now = Timestamp::now();
    let since = now.checked_sub(FAILURE_WINDOW).unwrap_or(now);
    let failures = store.login_failures(name, address, since)?;
    if failures.account >= MAX_ACCOUNT_FAILURES || failures.address >= MAX_ADDRESS_FAILURES {
        store.record_login(name, address, false, now)?;
        return Err(ApiError::TooManyAttempts);
    }
    let user = store.user_by_name(name)?;
    let hash = user
        .as_ref()
        .map_or_else(|| dummy_hash(), |u| u.password_hash.as_str());
    let ok = verify_password(password, hash) && user.is_some();
    store.record_login(name, address, ok, now)?;
    match user {
        Some(user) if ok => Ok(user),
        _ => Err(ApiError::InvalidCredentials),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_tokens_are_long() {
        let hash = hash_password("correct horse").unwrap();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &hash));
        assert!(!verify_password("wrong", &hash));
        let token = random_token().unwrap();
        assert_eq!(token.len(), 64);
        assert_ne!(token, random_token().unwrap());
        assert_eq!(token_hash("a").len(), 64);
        assert!(same_secret("abc", "abc") && !same_secret("abc", "abd"));
    }

    #[test]
    fn reads_cookies() {
        let mut headers = HeaderMap::new();
        headers.insert(header::COOKIE, "a=1; sb_session=xyz".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE), Some("xyz"));
        assert_eq!(cookie(&headers, "b"), None);
    }
}
