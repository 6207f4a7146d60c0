//! The errors of the web layer: one [`ApiError`] with a stable snake_case code per variant, and
//! [`PageError`] beside it for pages. The JSON API answers `{"error": "<code>", "message": "..."}`;
//! a page shows the same message in an error page with the same status.

use axum::{
    Json,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use engage::{ApprovalError, InboxError};
use serde::Serialize;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ApiError {
    /// No live session: log in first.
    #[error("you are not logged in")]
    Unauthenticated,
    /// The person's role does not allow the action.
    #[error("your role does not allow this")]
    Forbidden,
    /// A form came without a valid CSRF token, or from another site.
    #[error("the form could not be checked; reload the page and try again")]
    CsrfRejected,
    /// Wrong name or password.
    #[error("the name or password is wrong")]
    InvalidCredentials,
    /// Too many failed logins for the account or from the address.
    #[error("too many failed logins; wait 15 minutes and try again")]
    TooManyAttempts,
    /// Nothing at this address.
    #[error("not found")]
    NotFound,
    /// A parameter could not be understood.
    #[error("{0}")]
    BadRequest(String),
    /// The name is taken.
    #[error("{0}")]
    Conflict(String),
    /// The store failed.
    #[error("the database failed: {0}")]
    Store(#[from] store::StoreError),
    /// Anything else that went wrong on the server.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ApiError {
    /// Every variant's code, for the OpenAPI document.
    pub const CODES: [&'static str; 10] = [
        "unauthenticated",
        "forbidden",
        "csrf_rejected",
        "invalid_credentials",
        "too_many_attempts",
        "not_found",
        "bad_request",
        "conflict",
        "store_error",
        "internal",
    ];

    /// The stable code of the error.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::Unauthenticated => "unauthenticated",
            ApiError::Forbidden => "forbidden",
            ApiError::CsrfRejected => "csrf_rejected",
            ApiError::InvalidCredentials => "invalid_credentials",
            ApiError::TooManyAttempts => "too_many_attempts",
            ApiError::NotFound => "not_found",
            ApiError::BadRequest(_) => "bad_request",
            ApiError::Conflict(_) => "conflict",
            ApiError::Store(_) => "store_error",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The HTTP status of the error.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthenticated | ApiError::InvalidCredentials => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden | ApiError::CsrfRejected => StatusCode::FORBIDDEN,
            ApiError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Store(_) | ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// The JSON body of an error.
#[derive(Debug, Serialize)]
pub struct ErrorBody {
    /// The stable code.
    pub error: &'static str,
    /// A sentence for people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if matches!(self, ApiError::Store(_) | ApiError::Internal(_)) {
            tracing::error!(error = %self, "Request failed.");
        }
        let body = ErrorBody {
            error: self.code(),
            message: self.to_string(),
        };
        (self.status(), Json(body)).into_response()
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(error: tokio::task::JoinError) -> Self {
        ApiError::Internal(error.to_string())
    }
}

/// The status and message of a refusal by the `engage` workflow rules (self-approval, a check
/// that blocks, a case in the wrong state...).
pub fn refusal(error: &InboxError) -> (StatusCode, String) {
    let status = match error {
        InboxError::Approval(
            ApprovalError::SelfApproval(_)
            | ApprovalError::BelowTier { .. }
            | ApprovalError::NotTheLeader { .. }
            | ApprovalError::MayNotSend { .. },
        )
        | InboxError::Case(engage::CaseError::NotAllowed { .. }) => StatusCode::FORBIDDEN,
        InboxError::Approval(ApprovalError::Blocked(_) | ApprovalError::MissingComment)
        | InboxError::Case(engage::CaseError::EmptyNote)
        | InboxError::Template(_) => StatusCode::BAD_REQUEST,
        _ => StatusCode::CONFLICT,
    };
    (status, error.to_string())
}

impl From<&InboxError> for ApiError {
    fn from(error: &InboxError) -> Self {
        match refusal(error) {
            (StatusCode::FORBIDDEN, _) => ApiError::Forbidden,
            (StatusCode::BAD_REQUEST, m) => ApiError::BadRequest(m),
            (_, m) => ApiError::Conflict(m),
        }
    }
}

/// An error shown as an HTML page (the layout, a title in words and the message) with the
/// error's status.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError(error)
    }
}

impl From<store::StoreError> for PageError {
    fn from(error: store::StoreError) -> Self {
        PageError(ApiError::Store(error))
    }
}

impl PageError {
    /// The page's title: what went wrong, in words.
    pub fn title(&self) -> &'static str {
        match self.0 {
            ApiError::Forbidden => "You cannot do this",
            ApiError::CsrfRejected => "The form could not be checked",
            ApiError::NotFound => "Page not found",
            ApiError::BadRequest(_) => "There is a problem with the request",
            ApiError::TooManyAttempts => "Too many attempts",
            _ => "Sorry, there is a problem",
        }
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, ApiError::Store(_) | ApiError::Internal(_)) {
            tracing::error!(error = %self.0, "Page failed.");
        }
        let status = self.0.status();
        let page = crate::page::error_page(self.title(), self.0.to_string());
        (status, page).into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_listed_once_each() {
        let all = [
            ApiError::Unauthenticated,
            ApiError::Forbidden,
            ApiError::CsrfRejected,
            ApiError::InvalidCredentials,
            ApiError::TooManyAttempts,
            ApiError::NotFound,
            ApiError::BadRequest(String::new()),
            ApiError::Conflict(String::new()),
            ApiError::Store(store::StoreError::InvalidQuery {
                message: String::new(),
            }),
            ApiError::Internal(String::new()),
        ];
        let codes: Vec<&str> = all.iter().map(ApiError::code).collect();
        assert_eq!(codes, ApiError::CODES);
    }
}
