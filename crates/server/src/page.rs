//! What every page shows around its content, apart from who is asking: the alert banner and
//! the counts in the navigation come from a [`PageContext`], read once per page request (the
//! JSON API and form posts, which draw no layout, do not pay for them). [`Layout`] is what the
//! common template (`base.html`) reads.

use std::sync::Arc;

use askama::Template;
use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{Html, IntoResponse, Response},
};

use crate::{
    ApiError, AppState,
    auth::{CurrentUser, LoginRequired},
    banner::{self, AlertLine},
    roles::{self, Action},
};

/// The counts shown in the navigation.
#[derive(Debug, Clone, Default)]
pub struct NavCounts {
    /// Drafts waiting for approval, for people who approve (`None` for others).
    pub awaiting_approval: Option<u64>,
}

/// The person behind a page request, with what the page shows around its content.
#[derive(Debug, Clone)]
pub struct PageContext {
    /// Who is asking.
    pub user: CurrentUser,
    /// The alert line.
    pub alerts: AlertLine,
    /// The counts in the navigation.
    pub counts: NavCounts,
}

impl FromRequestParts<AppState> for PageContext {
    type Rejection = LoginRequired;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let user = CurrentUser::from_request_parts(parts, state).await?;
        let store = Arc::clone(&state.store);
        let open = state.banner.open();
        let user_id = user.user.id;
        let role = user.user.role;
        let read = tokio::task::spawn_blocking(move || {
            let dismissed = if open.is_empty() {
                Vec::new()
            } else {
                store.dismissed_alerts(user_id)?
            };
            let awaiting_approval = if role >= roles::APPROVAL_COUNT_ROLE {
                Some(store.count_awaiting_approval()?)
            } else {
                None
            };
            Ok::<_, store::StoreError>((
                banner::visible(&open, &dismissed),
                NavCounts { awaiting_approval },
            ))
        })
        .await;
        let failed = |error: ApiError| LoginRequired::failed(error);
        let (alerts, counts) = read
            .map_err(|e| failed(ApiError::from(e)))?
            .map_err(|e| failed(ApiError::from(e)))?;
        Ok(PageContext {
            user,
            alerts,
            counts,
        })
    }
}

/// The person as the layout shows them.
pub struct UserView {
    pub(crate) name: String,
    pub(crate) role_label: &'static str,
    pub(crate) admin: bool,
    /// Drafts waiting for approval, for people who approve (shown in the nav on every page).
    pub(crate) awaiting_approval: Option<u64>,
    /// Whether the person may read the audit log.
    pub(crate) audit: bool,
}

/// What the common layout needs.
pub struct Layout {
    pub(crate) title: String,
    pub(crate) user: Option<UserView>,
    pub(crate) csrf: String,
    pub(crate) nav: &'static str,
    /// The alert line.
    pub(crate) alerts: AlertLine,
}

impl Layout {
    /// The layout of a page titled `title` for the person of `page`, with `nav` (the navigation
    /// item's key) marked as the current page.
    pub(crate) fn new(title: impl Into<String>, page: &PageContext, nav: &'static str) -> Layout {
        let user = &page.user;
        Layout {
            title: title.into(),
            user: Some(UserView {
                name: user.user.name.clone(),
                role_label: user.user.role.label(),
                admin: Action::ManageUsers.allowed(user.user.role),
                awaiting_approval: page.counts.awaiting_approval,
                audit: Action::ReadAudit.allowed(user.user.role),
            }),
            csrf: user.csrf.clone(),
            nav,
            alerts: page.alerts.clone(),
        }
    }

    /// The layout of a page seen without logging in (the login page, error pages).
    pub(crate) fn anonymous(title: &str) -> Layout {
        Layout {
            title: title.to_owned(),
            user: None,
            csrf: String::new(),
            nav: "",
            alerts: AlertLine::default(),
        }
    }
}

/// Renders a template into a response (a plain 500 when rendering fails).
pub(crate) fn render<T: Template>(template: &T) -> Response {
    match template.render() {
        Ok(html) => Html(html).into_response(),
        Err(error) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("the page could not be drawn: {error}"),
        )
            .into_response(),
    }
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    message: String,
}

/// The error page titled `title` saying `message` (see [`crate::PageError`]).
pub(crate) fn error_page(title: &str, message: String) -> Response {
    render(&ErrorPage {
        layout: Layout::anonymous(title),
        message,
    })
}
