//! The status page and `/healthz`: the live connectors' health (connected, last event, lag,
//! errors), read live from the connectors running in this process and, for those running
//! elsewhere (`switchboard listen`) or before a restart, from the health they last saved.

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::State,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
    routing::get,
};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use store::SavedHealth;

use crate::{
    AppState, PageError,
    auth::CurrentUser,
    blocking,
    openapi::ApiRoute,
    page::{Layout, PageContext, render},
    roles::Action,
};

/// The routes of the status page and `/healthz`.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/healthz", get(healthz))
        .route("/status", get(status_page))
        .route("/api/status", get(api_status))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/status",
    "The live connectors' health.",
    "viewer",
    &[],
)];

/// One connector's health, as the status page shows it.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct ConnectorHealth {
    /// The connector's name.
    pub source: String,
    /// Whether a connection is open (pollers: whether the last poll worked).
    pub connected: bool,
    /// When the last event or keep-alive arrived.
    pub last_event: Option<Timestamp>,
    /// Milliseconds between an event's own time and its arrival, when the network tells it.
    pub lag_ms: Option<i64>,
    /// Posts and deletions received.
    pub posts: u64,
    /// Payloads the parsers rejected.
    pub rejected: u64,
    /// Connection or request failures.
    pub errors: u64,
    /// Reconnects so far.
    pub reconnects: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
}

/// Reads the health of the connectors running in this process.
pub type LiveHealth = Arc<dyn Fn() -> Vec<ConnectorHealth> + Send + Sync>;

/// A connector's health and where the figures come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConnectorStatus {
    /// The figures.
    pub health: ConnectorHealth,
    /// `None` when read live from this process; else when they were saved.
    pub saved_at: Option<Timestamp>,
}

/// Every connector: those running here (live), then those only known from saved health.
pub fn connectors(live: &[ConnectorHealth], saved: &[SavedHealth]) -> Vec<ConnectorStatus> {
    let mut all: Vec<ConnectorStatus> = live
        .iter()
        .map(|health| ConnectorStatus {
            health: health.clone(),
            saved_at: None,
        })
        .collect();
    for record in saved {
        if live.iter().any(|h| h.source == record.source) {
            continue;
        }
        let mut health: ConnectorHealth = serde_json::from_str(&record.data).unwrap_or_default();
        health.source.clone_from(&record.source);
        all.push(ConnectorStatus {
            health,
            saved_at: Some(record.updated_at),
        });
    }
    all
}

/// How long ago `at` was, in words (`12 s ago`, `3 min ago`, `2 h ago`).
pub fn ago(at: Timestamp, now: Timestamp) -> String {
    let seconds = now.duration_since(at).as_secs().max(0);
    if seconds < 120 {
        format!("{seconds} s ago")
    } else if seconds < 7_200 {
        format!("{} min ago", seconds / 60)
    } else {
        format!("{} h ago", seconds / 3_600)
    }
}

/// One line of `/healthz` for a connector.
fn health_line(status: &ConnectorStatus, now: Timestamp) -> String {
    let h = &status.health;
    let last = h.last_event.map_or_else(
        || "no event yet".to_owned(),
        |at| format!("last event {}", ago(at, now)),
    );
    let lag = h
        .lag_ms
        .map_or_else(String::new, |lag| format!(", lag {lag} ms"));
    let from = status
        .saved_at
        .map_or_else(String::new, |at| format!(" (saved {})", ago(at, now)));
    format!(
        "connector {}: {}, {last}{lag}, {} posts, {} errors{from}",
        h.source,
        if h.connected {
            "connected"
        } else {
            "disconnected"
        },
        h.posts,
        h.errors
    )
}

async fn gather(state: &AppState) -> Result<Vec<ConnectorStatus>, crate::ApiError> {
    let live = state
        .live_health
        .as_ref()
        .map(|read| read())
        .unwrap_or_default();
    let saved = blocking(state, |store| Ok(store.saved_health()?)).await?;
    Ok(connectors(&live, &saved))
}

/// `GET /api/status`: every connector's health.
pub async fn api_status(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Json<Vec<ConnectorStatus>>, crate::ApiError> {
    user.require(Action::Read)?;
    Ok(Json(gather(&state).await?))
}

/// `GET /healthz`: `ok` when the store answers, then one line per live connector.
pub async fn healthz(State(state): State<AppState>) -> Response {
    let checked = blocking(&state, |store| Ok(store.count_posts()?)).await;
    if let Err(error) = checked {
        return (StatusCode::SERVICE_UNAVAILABLE, error.to_string()).into_response();
    }
    let now = Timestamp::now();
    let mut body = String::from("ok\n");
    match gather(&state).await {
        Ok(all) => {
            for status in &all {
                body.push_str(&health_line(status, now));
                body.push('\n');
            }
        }
        Err(error) => body.push_str(&format!("connectors unknown: {error}\n")),
    }
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        body,
    )
        .into_response()
}

/// A row of the status table.
struct StatusRow {
    source: String,
    connected: bool,
    last_event: String,
    lag: String,
    posts: u64,
    rejected: u64,
    errors: u64,
    reconnects: u64,
    last_error: String,
    from: String,
}

#[derive(Template)]
#[template(path = "status.html")]
struct StatusTemplate {
    layout: Layout,
    rows: Vec<StatusRow>,
}

/// `GET /status`: the connectors' health.
pub async fn status_page(
    State(state): State<AppState>,
    page: PageContext,
) -> Result<Response, PageError> {
    page.user.require(Action::Read)?;
    let now = Timestamp::now();
    let rows = gather(&state)
        .await?
        .into_iter()
        .map(|status| {
            let h = status.health;
            StatusRow {
                last_event: h
                    .last_event
                    .map_or_else(|| "none yet".to_owned(), |at| ago(at, now)),
                lag: h
                    .lag_ms
                    .map_or_else(|| "not known".to_owned(), |lag| format!("{lag} ms")),
                last_error: h.last_error.unwrap_or_else(|| "none".to_owned()),
                from: status.saved_at.map_or_else(
                    || "running in this server".to_owned(),
                    |at| format!("saved {}", ago(at, now)),
                ),
                source: h.source,
                connected: h.connected,
                posts: h.posts,
                rejected: h.rejected,
                errors: h.errors,
                reconnects: h.reconnects,
            }
        })
        .collect();
    Ok(render(&StatusTemplate {
        layout: Layout::new("Status", &page, "status"),
        rows,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn live_figures_win_over_saved_ones_and_saved_ones_are_read() {
        let now = Timestamp::now();
        let live = [ConnectorHealth {
            source: "bluesky".into(),
            connected: true,
            posts: 3,
            ..ConnectorHealth::default()
        }];
        let saved = [
            SavedHealth {
                source: "bluesky".into(),
                data: "{\"connected\":false}".into(),
                updated_at: now,
            },
            SavedHealth {
                source: "bbc".into(),
                data: "{\"source\":\"bbc\",\"connected\":true,\"errors\":2,\"cursor\":\"x\"}"
                    .into(),
                updated_at: now,
            },
        ];
        let all = connectors(&live, &saved);
        assert_eq!(all.len(), 2);
        assert!(all[0].health.connected && all[0].saved_at.is_none());
        assert_eq!(all[1].health.errors, 2);
        assert!(health_line(&all[1], now).starts_with("connector bbc: connected, no event yet"));
        assert_eq!(
            ago(now - jiff::SignedDuration::from_mins(5), now),
            "5 min ago"
        );
    }
}
