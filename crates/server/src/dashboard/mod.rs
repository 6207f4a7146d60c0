//! The dashboard: volume by network, sentiment, intents, themes, busiest hours and top authors,
//! hashtags and links for a period, each chart with its data table. Counts come from the
//! hour cache in [`cache`], kept warm ahead of requests for the shortest periods.

pub mod cache;

use std::sync::Arc;

use askama::Template;
use axum::{
    Json, Router,
    extract::{Query, State},
    response::Response,
    routing::get,
};
use jiff::Timestamp;
use model::Network;
use serde::Deserialize;
use store::{Dashboard, DashboardQuery};

use self::cache::DashboardKey;
use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    charts::{self, PALETTE, Series},
    openapi::{ApiRoute, Param},
    page::{Layout, PageContext, render},
    roles::Action,
    views::london,
};

/// The routes of the dashboard.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/dashboard", get(dashboard))
        .route("/api/dashboard", get(api_dashboard))
}

/// The API routes of this module.
pub const API: [ApiRoute; 1] = [ApiRoute::get(
    "/api/dashboard",
    "The dashboard's counts for a period (`period`: 24h, 7d, 14d, 30d) and `monitor`.",
    "viewer",
    &[
        Param::query("period", "24h, 7d, 14d or 30d."),
        Param::query("monitor", "A monitor id."),
    ],
)];

/// The dashboard query.
#[derive(Debug, Deserialize, Default)]
pub struct DashboardParams {
    /// `24h`, `7d`, `14d` or `30d`.
    #[serde(default)]
    pub period: Option<String>,
    /// A monitor id.
    #[serde(default)]
    pub monitor: Option<String>,
}

/// The periods offered: value, label, span in hours, bucket in seconds.
pub const PERIODS: [(&str, &str, i64, i64); 4] = [
    ("24h", "Last 24 hours", 24, 3_600),
    ("7d", "Last 7 days", 168, 6 * 3_600),
    ("14d", "Last 14 days", 336, 12 * 3_600),
    ("30d", "Last 30 days", 720, 86_400),
];

/// A dashboard with its query.
pub struct LoadedDashboard {
    /// The counts.
    pub data: Arc<Dashboard>,
    /// The query.
    pub query: DashboardQuery,
    /// The period's value.
    pub period: &'static str,
    /// The monitor.
    pub monitor: Option<i64>,
}

/// Computes (or reuses) a dashboard.
pub async fn load_dashboard(
    state: &AppState,
    params: &DashboardParams,
) -> Result<LoadedDashboard, ApiError> {
    let (key, query, period, monitor) = dashboard_query(params)?;
    let data = cache::load(state, key, &query).await?;
    Ok(LoadedDashboard {
        data,
        query,
        period,
        monitor,
    })
}

/// How often the default dashboards are brought up to date ahead of requests.
const WARM_EVERY: std::time::Duration = std::time::Duration::from_secs(20);

/// Keeps the dashboards of the shortest two periods (no monitor) up to date, so that opening
/// the dashboard does not wait for a count of the period. Each round counts only the hours that
/// changed (see [`cache`]). Runs until the process ends.
pub async fn warm_dashboards(state: AppState) {
    loop {
        for (period, ..) in PERIODS.iter().take(2) {
            let params = DashboardParams {
                period: Some((*period).to_owned()),
                monitor: None,
            };
            let warmed = match dashboard_query(&params) {
                Ok((key, query, ..)) => cache::warm(&state, key, &query).await,
                Err(error) => Err(error),
            };
            if let Err(error) = warmed {
                tracing::warn!(%error, "Dashboard warm-up failed.");
            }
        }
        tokio::time::sleep(WARM_EVERY).await;
    }
}

/// The store query of a dashboard, its cache key, period and monitor.
fn dashboard_query(
    params: &DashboardParams,
) -> Result<(DashboardKey, DashboardQuery, &'static str, Option<i64>), ApiError> {
    let wanted = params.period.as_deref().unwrap_or("24h");
    let &(period, _, hours, bucket) = PERIODS.iter().find(|p| p.0 == wanted).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "unknown period `{wanted}`: use 24h, 7d, 14d or 30d"
        ))
    })?;
    let monitor = match params
        .monitor
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty())
    {
        Some(m) => Some(
            m.parse::<i64>()
                .map_err(|_| ApiError::BadRequest(format!("unknown monitor `{m}`")))?,
        ),
        None => None,
    };
    let now = Timestamp::now().as_second();
    let until_second = (now.div_euclid(bucket) + 1) * bucket;
    let until =
        Timestamp::from_second(until_second).map_err(|e| ApiError::Internal(e.to_string()))?;
    let since = Timestamp::from_second(until_second - hours * 3_600)
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let offset = i64::from(until.to_zoned(london()).offset().seconds());
    let query = DashboardQuery {
        since,
        until,
        monitor,
        bucket_seconds: bucket,
        utc_offset_seconds: offset,
        top: 10,
    };
    let key = (format!("{period}@{until_second}"), monitor);
    Ok((key, query, period, monitor))
}

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardTemplate {
    layout: Layout,
    periods: Vec<(&'static str, &'static str, bool)>,
    monitors: Vec<(i64, String, bool)>,
    total: u64,
    from: String,
    to: String,
    volume: String,
    sentiment: String,
    intents: String,
    themes: String,
    hours: String,
    authors: String,
    hashtags: String,
    links: String,
}

fn top_table(title: &str, what: &str, items: &[store::accounts::NamedCount]) -> String {
    let rows: Vec<Vec<String>> = items
        .iter()
        .map(|i| vec![i.name.clone(), i.posts.to_string()])
        .collect();
    format!(
        "<section class=\"top\"><h2>{}</h2>{}</section>",
        html_escape::encode_text(title),
        charts::table(title, &[what.to_owned(), "Posts".to_owned()], &rows)
    )
}

/// `GET /dashboard`.
pub async fn dashboard(
    State(state): State<AppState>,
    page: PageContext,
    Query(params): Query<DashboardParams>,
) -> Result<Response, PageError> {
    let user = &page.user;
    user.require(Action::Read)?;
    let loaded = load_dashboard(&state, &params).await?;
    let monitors = blocking(&state, |store| Ok(store.monitors()?)).await?;
    let data = &loaded.data;
    let hourly = loaded.query.bucket_seconds < 86_400;
    let labels: Vec<String> = data
        .buckets
        .iter()
        .map(|b| {
            let z = b.start.to_zoned(london());
            if hourly && loaded.query.bucket_seconds <= 3_600 {
                z.strftime("%H:%M").to_string()
            } else if hourly {
                z.strftime("%-d %b %H:%M").to_string()
            } else {
                z.strftime("%-d %b").to_string()
            }
        })
        .collect();
    let networks: Vec<Series> = Network::ALL
        .iter()
        .enumerate()
        .filter_map(|(i, n)| {
            let values: Vec<u64> = data
                .buckets
                .iter()
                .map(|b| b.by_network.get(i).copied().unwrap_or(0))
                .collect();
            values.iter().any(|v| *v > 0).then(|| Series {
                name: n.label().to_owned(),
                colour: PALETTE.get(i).copied().unwrap_or("#425563"),
                values,
            })
        })
        .collect();
    let sentiments: Vec<Series> = [
        ("Negative", "#d5281b"),
        ("Neutral", "#425563"),
        ("Positive", "#007f3b"),
        ("Not analysed", "#768692"),
    ]
    .iter()
    .enumerate()
    .map(|(i, (name, colour))| Series {
        name: (*name).to_owned(),
        colour,
        values: data
            .buckets
            .iter()
            .map(|b| b.by_sentiment.get(i).copied().unwrap_or(0))
            .collect(),
    })
    .collect();
    let pairs = |items: &[store::accounts::NamedCount]| -> Vec<(String, u64)> {
        items.iter().map(|i| (i.name.clone(), i.posts)).collect()
    };
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let template = DashboardTemplate {
        layout: Layout::new("Dashboard", &page, "dashboard"),
        periods: PERIODS
            .iter()
            .map(|p| (p.0, p.1, p.0 == loaded.period))
            .collect(),
        monitors: monitors
            .iter()
            .map(|m| (m.id, m.name.clone(), loaded.monitor == Some(m.id)))
            .collect(),
        total: data.total,
        from: loaded
            .query
            .since
            .to_zoned(london())
            .strftime("%-d %b %Y %H:%M")
            .to_string(),
        to: loaded
            .query
            .until
            .to_zoned(london())
            .strftime("%-d %b %Y %H:%M")
            .to_string(),
        volume: charts::stacked_bars(
            "volume",
            "Volume over time by network",
            "Stacked bars: posts per period, one colour per network.",
            &labels,
            &networks,
        ),
        sentiment: charts::stacked_bars(
            "sentiment",
            "Sentiment over time",
            "Stacked bars: negative, neutral, positive and not analysed posts per period.",
            &labels,
            &sentiments,
        ),
        intents: charts::bars(
            "intents",
            "Intents",
            "Posts per detected intent.",
            &pairs(&data.intents),
        ),
        themes: charts::bars(
            "themes",
            "Themes",
            "Posts per patient-experience theme.",
            &pairs(&data.themes),
        ),
        hours: charts::stacked_bars(
            "hours",
            "Busiest hours (UK time)",
            "Posts per hour of the day.",
            &hours,
            &[Series {
                name: "Posts".into(),
                colour: PALETTE[0],
                values: data.hours.clone(),
            }],
        ),
        authors: top_table("Top authors", "Author", &data.authors),
        hashtags: top_table("Top hashtags", "Hashtag", &data.hashtags),
        links: top_table("Top links", "Link", &data.links),
    };
    Ok(render(&template))
}

/// `GET /api/dashboard`.
pub async fn api_dashboard(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<DashboardParams>,
) -> Result<Json<Dashboard>, ApiError> {
    user.require(Action::Read)?;
    let loaded = load_dashboard(&state, &params).await?;
    Ok(Json(Dashboard::clone(&loaded.data)))
}
