//! The alerts: every alert, most recently active first, and dismissing one from one's own
//! banner; and `GET /api/alerts`. One alert's crisis view is [`crate::crisis`].

use alert::AlertState;
use askama::Template;
use axum::{
    Form, Json, Router,
    extract::{Path, State},
    http::{HeaderMap, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use jiff::Timestamp;
use serde::Deserialize;
use store::{AlertFilter, StoredAlert};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    banner::severity_label,
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
    views::london,
};

/// The routes of the alerts page.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/alerts", get(alerts_page))
        .route("/alerts/{id}/dismiss", post(dismiss))
        .route("/api/alerts", get(api_alerts))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/alerts",
    "Alerts, most recently active first.",
    "viewer",
    &[],
)];

pub(crate) fn when(at: Timestamp) -> String {
    at.to_zoned(london())
        .strftime("%H:%M:%S on %-d %b %Y")
        .to_string()
}

/// An alert as the pages show it.
pub(crate) struct AlertView {
    pub(crate) id: i64,
    pub(crate) title: String,
    pub(crate) severity: &'static str,
    pub(crate) severity_label: &'static str,
    pub(crate) state: &'static str,
    pub(crate) kind: &'static str,
    pub(crate) detail: String,
    pub(crate) scope: String,
    pub(crate) count: u64,
    pub(crate) peak: String,
    pub(crate) expected: String,
    pub(crate) first_seen: String,
    pub(crate) last_seen: String,
}

impl AlertView {
    pub(crate) fn new(stored: &StoredAlert) -> AlertView {
        let alert = &stored.alert;
        AlertView {
            id: stored.id,
            title: alert.title.clone(),
            severity: alert.severity.as_str(),
            severity_label: severity_label(alert.severity),
            state: match alert.state {
                AlertState::Open => "open",
                AlertState::Resolved => "resolved",
            },
            kind: match alert.kind {
                alert::AlertKind::VolumeSpike => "volume spike",
                alert::AlertKind::NegativeSurge => "negative surge",
                alert::AlertKind::HighPriorityPost => "high-priority post",
                alert::AlertKind::WatchPhrase => "watch-list phrase",
            },
            detail: alert.detail.clone(),
            scope: alert.scope.clone(),
            count: alert.count,
            peak: format!("{:.2}", alert.peak),
            expected: format!("{:.2}", alert.expected),
            first_seen: when(alert.first_seen),
            last_seen: when(alert.last_seen),
        }
    }
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsTemplate {
    layout: Layout,
    alerts: Vec<AlertView>,
}

/// `GET /api/alerts`: alerts, most recently active first.
pub async fn api_alerts(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<StoredAlert>>, ApiError> {
    user.require(Action::Read)?;
    let alerts = blocking(&state, |store| {
        Ok(store.alerts(&AlertFilter {
            state: None,
            limit: 200,
        })?)
    })
    .await?;
    Ok(Json(alerts))
}

/// `GET /alerts`: every alert, most recently active first.
pub async fn alerts_page(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let alerts = blocking(&state, |store| {
        Ok(store.alerts(&AlertFilter {
            state: None,
            limit: 200,
        })?)
    })
    .await?;
    Ok(render(&AlertsTemplate {
        layout: Layout::new("Alerts", &page, "alerts"),
        alerts: alerts.iter().map(AlertView::new).collect(),
    }))
}

/// The dismiss form.
#[derive(Debug, Deserialize)]
pub struct DismissForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
}

/// The page a form came from (its path), when the `Referer` names this site; else `/alerts`.
pub fn back_to(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let path = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|referer| referer.split_once("://"))
        .and_then(|(_, rest)| rest.strip_prefix(host))
        .filter(|path| path.starts_with('/') && !path.starts_with("//") && !path.contains('\\'));
    path.map_or_else(|| "/alerts".to_owned(), str::to_owned)
}

/// `POST /alerts/{id}/dismiss`: hides the alert from this person's banner until it escalates.
pub async fn dismiss(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    headers: HeaderMap,
    Form(form): Form<DismissForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::DismissAlert)?;
    let user_id = user.user.id;
    blocking(&state, move |store| {
        let stored = store.alert(id)?.ok_or(ApiError::NotFound)?;
        store.dismiss_alert(user_id, id, stored.alert.severity, Timestamp::now())?;
        Ok(())
    })
    .await?;
    state.banner.touch();
    Ok(Redirect::to(&back_to(&headers)).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_goes_only_to_this_site() {
        let mut headers = HeaderMap::new();
        headers.insert(header::HOST, "127.0.0.1:8080".parse().unwrap());
        headers.insert(
            header::REFERER,
            "http://127.0.0.1:8080/stream?network=x".parse().unwrap(),
        );
        assert_eq!(back_to(&headers), "/stream?network=x");
        headers.insert(header::REFERER, "http://evil.example/".parse().unwrap());
        assert_eq!(back_to(&headers), "/alerts");
    }
}
