//! Switchboard's web application: the listening desk a communications team lives in.
//!
//! Server-rendered HTML (askama templates compiled into the binary) that works without
//! JavaScript; a little script, served as a static file, adds live updates by Server-Sent
//! Events. Every page's data is also served as JSON under `/api/`, described by the OpenAPI
//! document at `/api/openapi.json`.
//!
//! Layout: one module per page or area (`stream`, `attention`, `post`, `dashboard`, `search`,
//! `inbox`, `case`, `draft`, `approvals`, `stories`, `audit`, `alerts`, `crisis`, `settings`,
//! `status`, `account`), each with a `routes()` holding its pages and API routes and an `API`
//! list documenting the API routes; [`router`] merges the routes and [`openapi::document`] is
//! built from the lists ([`API_ROUTES`]). Shared pieces: [`auth`] (who is asking), [`page`]
//! (what every page shows around its content), [`error`], [`views`], [`charts`], [`live`].
//!
//! Design and invariants:
//! - The store is synchronous (SQLite); every store call from a handler runs in
//!   `tokio::task::spawn_blocking`.
//! - Every handler that shows or changes data takes the person ([`auth::CurrentUser`], or a
//!   [`page::PageContext`] for pages, which adds the banner and the navigation's counts) and
//!   checks the action against the one role table ([`roles::Action::min_role`]) before touching
//!   the store.
//! - Every unsafe request passes [`auth::same_origin`], and every form carries the session's
//!   CSRF token, checked before anything else in its handler.
//! - New posts reach open pages through one poller ([`live`]) that watches the store, so posts
//!   written by another process (an import, a live connector) appear as well.

pub mod account;
pub mod alerts;
pub mod approvals;
pub mod assets;
pub mod attention;
pub mod audit;
pub mod auth;
pub mod banner;
pub mod case;
pub mod charts;
pub mod crisis;
pub mod dashboard;
pub mod draft;
pub mod engage_work;
pub mod error;
pub mod inbox;
pub mod lists;
pub mod live;
pub mod oidc;
pub mod openapi;
pub mod page;
pub mod post;
pub mod roles;
pub mod search;
pub mod settings;
pub mod status;
pub mod stories;
pub mod stream;
pub mod two_factor;
pub mod views;

use std::{net::SocketAddr, sync::Arc, time::Duration};

use axum::{
    Router,
    http::{HeaderName, HeaderValue, header},
    middleware,
    response::Redirect,
    routing::get,
};
pub use error::{ApiError, ErrorBody, PageError};
use tokio::net::TcpListener;
use tower_http::set_header::SetResponseHeaderLayer;

/// How the server behaves.
#[derive(Debug, Clone)]
pub struct Config {
    /// Mark cookies `Secure` (set when the server is reached over HTTPS, e.g. behind a proxy).
    pub secure_cookies: bool,
    /// How long a session lasts.
    pub session_hours: i64,
    /// How often the live poller looks for new posts.
    pub live_poll: Duration,
    /// Keep the default dashboards computed ahead of requests.
    pub warm_dashboards: bool,
    /// How often the banner re-reads the open alerts from the store (alerts raised in this
    /// process arrive at once through the hub).
    pub alert_poll: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            secure_cookies: false,
            session_hours: 12,
            live_poll: Duration::from_millis(250),
            warm_dashboards: true,
            alert_poll: Duration::from_secs(2),
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub struct AppState {
    /// The store.
    pub store: Arc<dyn store::WebStore>,
    /// The configuration.
    pub config: Arc<Config>,
    /// New posts, for live pages.
    pub live: live::Live,
    /// Recent dashboards.
    pub dashboards: Arc<dashboard::cache::DashboardCache>,
    /// Alert updates from the pipeline running in this process (none when it runs elsewhere).
    pub alert_hub: notify::AlertHub,
    /// The open alerts, for the banner.
    pub banner: banner::Board,
    /// The health of the connectors running in this process, when they do.
    pub live_health: Option<status::LiveHealth>,
    /// Triage and respond: checker, publishers, drafts being sent.
    pub engage: Arc<engage_work::EngageRuntime>,
    /// Single sign-on, when configured.
    pub oidc: Arc<oidc::OidcState>,
}

impl AppState {
    /// A state over `store`; starts nothing (see [`live::Live::start`]).
    pub fn new(store: Arc<dyn store::WebStore>, config: Config) -> AppState {
        AppState {
            store,
            config: Arc::new(config),
            live: live::Live::new(),
            dashboards: Arc::new(dashboard::cache::DashboardCache::default()),
            alert_hub: notify::AlertHub::default(),
            banner: banner::Board::new(),
            live_health: None,
            engage: Arc::new(engage_work::EngageRuntime::default()),
            oidc: Arc::new(oidc::OidcState::default()),
        }
    }

    /// Shares `hub` with the alert pipeline running in this process, so its alerts reach open
    /// pages at once.
    #[must_use]
    pub fn with_alert_hub(mut self, hub: notify::AlertHub) -> AppState {
        self.alert_hub = hub;
        self
    }

    /// Offers single sign-on through the provider of `config` on the login page;
    /// `client_secret` is the value of the variable the settings name.
    #[must_use]
    pub fn with_oidc(
        mut self,
        config: signin::oidc::OidcConfig,
        client_secret: Option<String>,
    ) -> AppState {
        self.oidc = Arc::new(oidc::OidcState::new(config, client_secret));
        self
    }

    /// Shows the health of the connectors running in this process on `/status` and `/healthz`.
    #[must_use]
    pub fn with_live_health(mut self, read: status::LiveHealth) -> AppState {
        self.live_health = Some(read);
        self
    }
}

/// Runs a blocking store call off the async threads.
pub async fn blocking<T: Send + 'static>(
    state: &AppState,
    f: impl FnOnce(&dyn store::WebStore) -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    let store = Arc::clone(&state.store);
    tokio::task::spawn_blocking(move || f(store.as_ref())).await?
}

/// The API routes of every page module, for the OpenAPI document ([`openapi::document`]).
pub const API_ROUTES: [&[openapi::ApiRoute]; 22] = [
    &openapi::API,
    &account::API,
    &stream::API,
    &attention::API,
    &search::API,
    &post::API,
    &dashboard::API,
    &inbox::API,
    &case::API,
    &draft::API,
    &approvals::API,
    &stories::API,
    &audit::API,
    &alerts::API,
    &crisis::API,
    &settings::monitors::API,
    &settings::users::API,
    &settings::erasure::API,
    &oidc::API,
    &two_factor::API,
    &status::API,
    &live::API,
];

/// The source of every module that registers routes, for the test that each `/api/` route is
/// documented in its module's list.
#[cfg(test)]
pub(crate) const SOURCES: [&str; 22] = [
    include_str!("lib.rs"),
    include_str!("account.rs"),
    include_str!("stream.rs"),
    include_str!("attention.rs"),
    include_str!("search.rs"),
    include_str!("post.rs"),
    include_str!("dashboard/mod.rs"),
    include_str!("inbox.rs"),
    include_str!("case.rs"),
    include_str!("draft.rs"),
    include_str!("approvals.rs"),
    include_str!("stories.rs"),
    include_str!("audit.rs"),
    include_str!("alerts.rs"),
    include_str!("crisis.rs"),
    include_str!("settings/monitors.rs"),
    include_str!("settings/users.rs"),
    include_str!("settings/erasure.rs"),
    include_str!("oidc.rs"),
    include_str!("two_factor.rs"),
    include_str!("status.rs"),
    include_str!("live.rs"),
];

/// Every route of the application: each page module's routes (its pages and API routes).
pub fn router(state: AppState) -> Router {
    let csp = HeaderValue::from_static(
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    );
    Router::new()
        .route("/", get(|| async { Redirect::to("/stream") }))
        .route("/api/openapi.json", get(openapi::openapi_document))
        .merge(assets::routes())
        .merge(account::routes())
        .merge(stream::routes())
        .merge(attention::routes())
        .merge(search::routes())
        .merge(post::routes())
        .merge(dashboard::routes())
        .merge(inbox::routes())
        .merge(case::routes())
        .merge(draft::routes())
        .merge(approvals::routes())
        .merge(stories::routes())
        .merge(audit::routes())
        .merge(alerts::routes())
        .merge(crisis::routes())
        .merge(settings::routes())
        .merge(oidc::routes())
        .merge(two_factor::routes())
        .merge(status::routes())
        .merge(live::routes())
        .fallback(|| async { PageError(ApiError::NotFound) })
        .layer(middleware::from_fn(auth::same_origin))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        // Logged-in pages, the API and exports are never kept by the browser (nor by the
        // back/forward cache); static files say otherwise for themselves.
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            HeaderName::from_static("x-frame-options"),
            HeaderValue::from_static("DENY"),
        ))
        .with_state(state)
}

/// Serves the application on `listener` until the process ends, with the live poller running.
pub async fn serve(listener: TcpListener, state: AppState) -> std::io::Result<()> {
    state
        .live
        .start(Arc::clone(&state.store), state.config.live_poll);
    state.banner.start(
        Arc::clone(&state.store),
        state.alert_hub.clone(),
        state.config.alert_poll,
    );
    engage_work::start(&state);
    if state.config.warm_dashboards {
        tokio::spawn(dashboard::warm_dashboards(state.clone()));
    }
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app).await
}

/// Binds `addr`, calls `ready` with the bound address (port 0 picks a free one), and serves
/// until the process ends, on a runtime of its own. For command-line callers without tokio.
pub fn run(addr: &str, state: AppState, ready: impl FnOnce(SocketAddr)) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::bind(addr).await?;
        ready(listener.local_addr()?);
        serve(listener, state).await
    })
}
