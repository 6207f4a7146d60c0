//! The HTML pages: server-rendered, usable without JavaScript. Every handler checks the
//! person's role for its action first, and every form handler checks the CSRF token before
//! anything else.

use std::{net::SocketAddr, sync::Arc};

use askama::Template;
use axum::{
    Form,
    extract::{ConnectInfo, Path, Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{Html, IntoResponse, Redirect, Response},
};
use jiff::{SignedDuration, Timestamp};
use model::{
    Network,
    analysis::{Analysis, IntentKind, LanguageSource},
};
use serde::Deserialize;
use store::{
    Dashboard, DashboardQuery, Monitor, Role, StoredPost, StreamFilter, StreamOrder, User,
    accounts::SavedSearch,
};

use crate::{
    ApiError, AppState, auth,
    auth::CurrentUser,
    blocking,
    charts::{self, PALETTE, Series},
    dashboards::{self, DashboardKey},
    roles::Action,
    views::{PAGE_SIZE, PostView, StreamParams, london, monitor_names},
};

/// The stylesheet, compiled in.
const CSS: &str = include_str!("../static/app.css");
/// The progressive-enhancement script, compiled in.
const SCRIPT: &str = include_str!("../static/live.js");

/// An error shown as an HTML page with the error's status.
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

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    layout: Layout,
    message: String,
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        if matches!(self.0, ApiError::Store(_) | ApiError::Internal(_)) {
            tracing::error!(error = %self.0, "Page failed.");
        }
        let status = self.0.status();
        let title = match self.0 {
            ApiError::Forbidden => "You cannot do this",
            ApiError::CsrfRejected => "The form could not be checked",
            ApiError::NotFound => "Page not found",
            ApiError::BadRequest(_) => "There is a problem with the request",
            ApiError::TooManyAttempts => "Too many attempts",
            _ => "Sorry, there is a problem",
        };
        let page = ErrorPage {
            layout: Layout::anonymous(title),
            message: self.0.to_string(),
        };
        (status, render(&page)).into_response()
    }
}

/// Renders a template into a response (an error page when rendering fails).
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
    pub(crate) live: bool,
    /// The open alerts the person has not dismissed.
    pub(crate) banner: Vec<crate::banner::BannerAlert>,
}

impl Layout {
    pub(crate) fn new(title: impl Into<String>, user: &CurrentUser, nav: &'static str) -> Layout {
        Layout {
            title: title.into(),
            user: Some(UserView {
                name: user.user.name.clone(),
                role_label: user.user.role.label(),
                admin: Action::ManageUsers.allowed(user.user.role),
                awaiting_approval: user.awaiting_approval,
                audit: Action::ReadAudit.allowed(user.user.role),
            }),
            csrf: user.csrf.clone(),
            nav,
            live: false,
            banner: user.banner.clone(),
        }
    }

    fn anonymous(title: &str) -> Layout {
        Layout {
            title: title.to_owned(),
            user: None,
            csrf: String::new(),
            nav: "",
            live: false,
            banner: Vec::new(),
        }
    }
}

/// `GET /`: to the stream.
pub async fn home() -> Redirect {
    Redirect::to("/stream")
}

/// Any unknown address.
pub async fn not_found() -> PageError {
    PageError(ApiError::NotFound)
}

/// `GET /static/app.css`.
pub async fn css() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
        .into_response()
}

/// `GET /static/live.js`.
pub async fn script() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        SCRIPT,
    )
        .into_response()
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    layout: Layout,
    error: Option<String>,
    token: String,
    next: String,
    name: String,
}

/// The query of the login page.
#[derive(Debug, Deserialize)]
pub struct NextParam {
    /// Where to go after logging in.
    #[serde(default)]
    pub next: Option<String>,
}

/// Only paths of this site are followed after login.
fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path.to_owned()
        }
        _ => "/stream".to_owned(),
    }
}

fn login_response(
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
        next,
        name,
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

/// A page of posts with what the desk knows.
pub struct StreamPage {
    /// The posts.
    pub posts: Vec<PostView>,
    /// Whether there is a next page.
    pub more: bool,
}

/// The views of the posts of `entries`, read with one store call, in the entries' order.
fn views_of(
    store: &dyn store::WebStore,
    entries: &[store::StreamEntry],
    names: &std::collections::HashMap<i64, String>,
) -> Result<Vec<PostView>, ApiError> {
    let wanted: Vec<(Network, String)> =
        entries.iter().map(|e| (e.network, e.id.clone())).collect();
    let mut found: std::collections::HashMap<(Network, String), StoredPost> = store
        .posts(&wanted)?
        .into_iter()
        .map(|p| ((p.post.network, p.post.id.clone()), p))
        .collect();
    Ok(entries
        .iter()
        .filter_map(|e| {
            found
                .remove(&(e.network, e.id.clone()))
                .map(|stored| PostView::new(&stored, Some(e), names))
        })
        .collect())
}

/// Reads one page of a stream.
pub async fn load_stream(state: &AppState, filter: StreamFilter) -> Result<StreamPage, ApiError> {
    blocking(state, move |store| {
        let entries = store.stream(&filter)?;
        let names = monitor_names(&store.monitors()?);
        let more = entries.len() > PAGE_SIZE;
        let shown = &entries[..entries.len().min(PAGE_SIZE)];
        Ok(StreamPage {
            posts: views_of(store, shown, &names)?,
            more,
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "stream.html")]
struct StreamTemplate {
    layout: Layout,
    intro: Option<String>,
    action: &'static str,
    params: StreamParams,
    monitors: Vec<(i64, String, bool)>,
    networks: Vec<(&'static str, &'static str, bool)>,
    sentiments: Vec<(&'static str, &'static str, bool)>,
    intents: Vec<(&'static str, &'static str, bool)>,
    save: Option<String>,
    saved: Vec<SavedSearch>,
    can_save: bool,
    heading: String,
    posts: Vec<PostView>,
    live: bool,
    events: &'static str,
    query: String,
    handle_form: bool,
    csrf: String,
    back: String,
    prev: Option<String>,
    next: Option<String>,
    page: usize,
}

/// Which list page is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ListKind {
    Stream,
    Attention,
    Search,
}

async fn list_page(
    state: AppState,
    user: CurrentUser,
    params: StreamParams,
    kind: ListKind,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    let order = if kind == ListKind::Attention {
        StreamOrder::Priority
    } else {
        StreamOrder::Newest
    };
    let filter = params.filter(order)?;
    let page = params.page();
    let (monitors, saved) = blocking(&state, move |store| {
        let saved = if kind == ListKind::Search {
            store.saved_searches()?
        } else {
            Vec::new()
        };
        Ok((store.monitors()?, saved))
    })
    .await?;
    let loaded = if kind == ListKind::Search && params.text().is_none() {
        StreamPage {
            posts: Vec::new(),
            more: false,
        }
    } else {
        load_stream(&state, filter).await?
    };
    let selected = |value: &Option<String>, option: &str| value.as_deref() == Some(option);
    let (title, action, nav, intro) = match kind {
        ListKind::Stream => (
            "Live stream",
            "/stream",
            "stream",
            Some("Every post about the organisation, newest first. New posts appear here as they arrive.".to_owned()),
        ),
        ListKind::Attention => (
            "Needs attention",
            "/attention",
            "attention",
            Some("Posts not yet handled, highest priority first.".to_owned()),
        ),
        ListKind::Search => ("Search", "/search", "search", None),
    };
    let query = params.with_page(1);
    let can_save = Action::SaveSearch.allowed(user.user.role);
    let live = matches!(kind, ListKind::Stream | ListKind::Attention) && page == 1;
    let events = if kind == ListKind::Attention {
        "/attention/events"
    } else {
        "/stream/events"
    };
    let mut layout = Layout::new(title, &user, nav);
    layout.live = live;
    let heading = match kind {
        ListKind::Search if params.text().is_none() => "Write some words to search".to_owned(),
        ListKind::Search => "Results, newest first".to_owned(),
        ListKind::Attention => "Posts to look at".to_owned(),
        ListKind::Stream => "Posts, newest first".to_owned(),
    };
    let template = StreamTemplate {
        layout,
        intro,
        action,
        monitors: monitors
            .iter()
            .map(|m| {
                (
                    m.id,
                    m.name.clone(),
                    selected(&params.monitor, &m.id.to_string()),
                )
            })
            .collect(),
        networks: Network::ALL
            .iter()
            .map(|n| (n.as_str(), n.label(), selected(&params.network, n.as_str())))
            .collect(),
        sentiments: ["negative", "neutral", "positive"]
            .into_iter()
            .map(|s| (s, s, selected(&params.sentiment, s)))
            .collect(),
        intents: IntentKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.as_str(), selected(&params.intent, k.as_str())))
            .collect(),
        save: (kind == ListKind::Search && can_save && params.text().is_some())
            .then(|| query.clone()),
        saved,
        can_save,
        heading,
        posts: loaded.posts,
        live,
        events,
        handle_form: kind == ListKind::Attention && Action::MarkHandled.allowed(user.user.role),
        csrf: user.csrf.clone(),
        back: format!("{action}?{}", params.with_page(page)),
        prev: (page > 1).then(|| params.with_page(page - 1)),
        next: loaded.more.then(|| params.with_page(page + 1)),
        page,
        query,
        params,
    };
    Ok(render(&template))
}

/// `GET /stream`.
pub async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, user, params, ListKind::Stream).await
}

/// `GET /attention`.
pub async fn attention(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, user, params, ListKind::Attention).await
}

/// `GET /search`.
pub async fn search(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Response, PageError> {
    list_page(state, user, params, ListKind::Search).await
}

/// The mark-as-handled form.
#[derive(Debug, Deserialize)]
pub struct HandledForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The page to go back to.
    #[serde(default)]
    pub back: Option<String>,
}

fn network_of(name: &str) -> Result<Network, ApiError> {
    name.parse().map_err(|_| ApiError::NotFound)
}

/// `POST /posts/{network}/{id}/handled`.
pub async fn mark_handled(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
    Form(form): Form<HandledForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::MarkHandled)?;
    let network = network_of(&network)?;
    let user_id = user.user.id;
    let found = blocking(&state, move |store| {
        Ok(store.mark_handled(network, &id, user_id, Timestamp::now())?)
    })
    .await?;
    if !found {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to(&safe_next(form.back.as_deref())).into_response())
}

#[derive(Template)]
#[template(path = "post.html")]
struct PostTemplate {
    layout: Layout,
    post: PostView,
    analysis: Option<Analysis>,
    language_source: &'static str,
    thread: Vec<PostView>,
    recent: Vec<PostView>,
    bio: Option<String>,
    followers: Option<u64>,
    history: Vec<(String, String, bool)>,
    handle_form: bool,
    csrf: String,
    back: String,
}

/// Everything the post page shows.
pub struct PostDetails {
    /// The post.
    pub stored: StoredPost,
    /// Its view.
    pub view: PostView,
    /// The thread around it.
    pub thread: Vec<PostView>,
    /// The author's recent posts.
    pub recent: Vec<PostView>,
    /// Versions: time, text, current.
    pub history: Vec<(String, String, bool)>,
}

/// Reads a post with its thread, author's posts and history.
pub async fn load_post(
    state: &AppState,
    network: Network,
    id: String,
) -> Result<PostDetails, ApiError> {
    blocking(state, move |store| {
        let stored = store.post(network, &id)?.ok_or(ApiError::NotFound)?;
        let names = monitor_names(&store.monitors()?);
        let entry = store.desk_entry(network, &id)?;
        let view = PostView::new(&stored, entry.as_ref(), &names);
        let thread = views_of(store, &store.thread(network, &id, 50)?, &names)?;
        let recent = views_of(store, &store.author_posts(network, &id, 10)?, &names)?;
        let history = store
            .history(network, &id)?
            .into_iter()
            .map(|v| {
                (
                    v.version_at
                        .to_zoned(london())
                        .strftime("%-d %b %Y %H:%M")
                        .to_string(),
                    v.text,
                    v.current,
                )
            })
            .collect();
        Ok(PostDetails {
            stored,
            view,
            thread,
            recent,
            history,
        })
    })
    .await
}

/// `GET /posts/{network}/{id}`.
pub async fn post_page(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((network, id)): Path<(String, String)>,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    let network = network_of(&network)?;
    let details = load_post(&state, network, id).await?;
    let analysis = details.stored.analysis.clone();
    let language_source = match analysis.as_ref().map(|a| a.language.source) {
        Some(LanguageSource::Declared) => "declared by the network or author",
        Some(LanguageSource::Detected) => "detected from the text",
        Some(LanguageSource::Default) => "too little text: English assumed",
        None => "",
    };
    let back = details.view.href.clone();
    let template = PostTemplate {
        layout: Layout::new(format!("Post by @{}", details.view.author), &user, ""),
        handle_form: Action::MarkHandled.allowed(user.user.role) && details.view.handled.is_none(),
        csrf: user.csrf.clone(),
        back,
        bio: details.stored.post.author.bio.clone(),
        followers: details.stored.post.author.followers,
        post: details.view,
        analysis,
        language_source,
        thread: details.thread,
        recent: details.recent,
        history: details.history,
    };
    Ok(render(&template))
}

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
    let data = dashboards::load(state, key, &query).await?;
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
/// changed (see [`dashboards`]). Runs until the process ends.
pub async fn warm_dashboards(state: AppState) {
    loop {
        for (period, ..) in PERIODS.iter().take(2) {
            let params = DashboardParams {
                period: Some((*period).to_owned()),
                monitor: None,
            };
            let warmed = match dashboard_query(&params) {
                Ok((key, query, ..)) => dashboards::warm(&state, key, &query).await,
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
    user: CurrentUser,
    Query(params): Query<DashboardParams>,
) -> Result<Response, PageError> {
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
        layout: Layout::new("Dashboard", &user, "dashboard"),
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

/// The save-search form.
#[derive(Debug, Deserialize)]
pub struct SaveSearchForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The name.
    pub name: String,
    /// The search page's query string.
    pub query: String,
}

/// `POST /search/saved`.
pub async fn save_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<SaveSearchForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::SaveSearch)?;
    let name = form.name.trim().to_owned();
    if name.is_empty() {
        return Err(ApiError::BadRequest("give the search a name".into()).into());
    }
    let query = form.query.clone();
    let user_id = user.user.id;
    blocking(&state, move |store| {
        Ok(store.save_search(&name, &query, user_id)?)
    })
    .await?;
    Ok(Redirect::to(&format!("/search?{}", form.query)).into_response())
}

/// `POST /search/saved/{id}/delete`.
pub async fn delete_search(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::SaveSearch)?;
    if !blocking(&state, move |store| Ok(store.remove_saved_search(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/search").into_response())
}

/// A monitor as the settings page lists it.
pub struct MonitorRow {
    id: i64,
    name: String,
    query: String,
    networks: String,
    languages: String,
    authors: String,
}

#[derive(Template)]
#[template(path = "monitors.html")]
struct MonitorsTemplate {
    layout: Layout,
    monitors: Vec<MonitorRow>,
    can_manage: bool,
}

fn any(list: Vec<String>) -> String {
    if list.is_empty() {
        "any".to_owned()
    } else {
        list.join(", ")
    }
}

/// `GET /settings/monitors`.
pub async fn monitors(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    user.require(Action::Read)?;
    let list = blocking(&state, |store| Ok(store.monitors()?)).await?;
    let template = MonitorsTemplate {
        layout: Layout::new("Monitors", &user, "monitors"),
        monitors: list
            .into_iter()
            .map(|m| MonitorRow {
                id: m.id,
                name: m.name,
                query: m.query,
                networks: any(m.networks.iter().map(|n| n.label().to_owned()).collect()),
                languages: any(m.languages),
                authors: any(m.authors),
            })
            .collect(),
        can_manage: Action::ManageMonitors.allowed(user.user.role),
    };
    Ok(render(&template))
}

/// The monitor form.
#[derive(Debug, Deserialize)]
pub struct MonitorForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The name.
    pub name: String,
    /// The query.
    pub query: String,
    /// Networks, comma separated.
    #[serde(default)]
    pub networks: String,
    /// Languages, comma separated.
    #[serde(default)]
    pub languages: String,
    /// Authors, comma separated.
    #[serde(default)]
    pub authors: String,
}

fn list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Checks a monitor form and turns it into a monitor.
pub fn monitor_from(form: &MonitorForm) -> Result<Monitor, ApiError> {
    let networks = list(&form.networks)
        .iter()
        .map(|n| {
            n.to_ascii_lowercase()
                .parse::<Network>()
                .map_err(|_| ApiError::BadRequest(format!("unknown network `{n}`")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let monitor = Monitor {
        id: 0,
        name: form.name.trim().to_owned(),
        query: form.query.trim().to_owned(),
        networks,
        languages: list(&form.languages),
        authors: list(&form.authors),
    };
    if monitor.name.is_empty() {
        return Err(ApiError::BadRequest("give the monitor a name".into()));
    }
    monitor
        .compile()
        .map_err(|e| ApiError::BadRequest(format!("the query `{}`: {e}", monitor.query)))?;
    Ok(monitor)
}

/// `POST /settings/monitors`.
pub async fn save_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<MonitorForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    let monitor = monitor_from(&form)?;
    let name = monitor.name.clone();
    let saved = blocking(&state, move |store| Ok(store.save_monitor(&monitor)?)).await?;
    if saved.is_none() {
        return Err(ApiError::Conflict(format!("a monitor called `{name}` exists already")).into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

#[derive(Template)]
#[template(path = "monitor_edit.html")]
struct MonitorEditTemplate {
    layout: Layout,
    id: i64,
    name: String,
    query: String,
    networks: String,
    languages: String,
    authors: String,
}

/// `GET /settings/monitors/{id}/edit`: the monitor's form, filled in.
pub async fn edit_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Response, PageError> {
    user.require(Action::ManageMonitors)?;
    let list = blocking(&state, |store| Ok(store.monitors()?)).await?;
    let monitor = list
        .into_iter()
        .find(|m| m.id == id)
        .ok_or(ApiError::NotFound)?;
    let template = MonitorEditTemplate {
        layout: Layout::new(
            format!("Change monitor {}", monitor.name),
            &user,
            "monitors",
        ),
        id: monitor.id,
        name: monitor.name,
        query: monitor.query,
        networks: monitor
            .networks
            .iter()
            .map(|n| n.as_str())
            .collect::<Vec<_>>()
            .join(", "),
        languages: monitor.languages.join(", "),
        authors: monitor.authors.join(", "),
    };
    Ok(render(&template))
}

/// `POST /settings/monitors/{id}`: changes a monitor in place (same id, so links and saved
/// filters keep working) and retags every post with it.
pub async fn update_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<MonitorForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    let mut monitor = monitor_from(&form)?;
    monitor.id = id;
    let name = monitor.name.clone();
    let saved = blocking(&state, move |store| {
        if !store.monitors()?.iter().any(|m| m.id == id) {
            return Err(ApiError::NotFound);
        }
        Ok(store.save_monitor(&monitor)?)
    })
    .await?;
    if saved.is_none() {
        return Err(ApiError::Conflict(format!("a monitor called `{name}` exists already")).into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

/// `POST /settings/monitors/{id}/delete`.
pub async fn delete_monitor(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageMonitors)?;
    if !blocking(&state, move |store| Ok(store.remove_monitor(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/monitors").into_response())
}

#[derive(Template)]
#[template(path = "users.html")]
struct UsersTemplate {
    layout: Layout,
    users: Vec<User>,
    roles: &'static [Role],
}

/// `GET /settings/users` (admins only).
pub async fn users(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Response, PageError> {
    user.require(Action::ManageUsers)?;
    let users = blocking(&state, |store| Ok(store.users()?)).await?;
    let template = UsersTemplate {
        layout: Layout::new("Users", &user, "users"),
        users,
        roles: &Role::ALL,
    };
    Ok(render(&template))
}

/// The add-person form.
#[derive(Debug, Deserialize)]
pub struct UserForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The login name.
    pub name: String,
    /// The role.
    pub role: String,
    /// The password.
    pub password: String,
}

/// The shortest password accepted.
pub const MIN_PASSWORD: usize = 10;

/// `POST /settings/users`.
pub async fn add_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Form(form): Form<UserForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: store::accounts::UnknownRole| ApiError::BadRequest(e.to_string()))?;
    let name = form.name.trim().to_owned();
    if name.is_empty() || form.password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::BadRequest(format!(
            "give a name and a password of at least {MIN_PASSWORD} characters"
        ))
        .into());
    }
    let password = form.password;
    let taken = name.clone();
    let added = blocking(&state, move |store| {
        let hash = auth::hash_password(&password)?;
        Ok(store.add_user(&name, role, &hash)?)
    })
    .await?;
    if added.is_none() {
        return Err(ApiError::Conflict(format!("`{taken}` exists already")).into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// The change-role form.
#[derive(Debug, Deserialize)]
pub struct RoleForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The new role.
    pub role: String,
}

/// `POST /settings/users/{id}/role`.
pub async fn set_role(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<RoleForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    let role: Role = form
        .role
        .parse()
        .map_err(|e: store::accounts::UnknownRole| ApiError::BadRequest(e.to_string()))?;
    if !blocking(&state, move |store| Ok(store.set_role(id, role)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}

/// The reset-password form (an admin sets another person's password).
#[derive(Debug, Deserialize)]
pub struct ResetPasswordForm {
    /// The session's token.
    #[serde(default)]
    pub csrf: String,
    /// The new password.
    pub password: String,
}

/// Refuses a password shorter than [`MIN_PASSWORD`].
fn check_new_password(password: &str) -> Result<(), ApiError> {
    if password.chars().count() < MIN_PASSWORD {
        return Err(ApiError::BadRequest(format!(
            "the new password is too short: use at least {MIN_PASSWORD} characters"
        )));
    }
    Ok(())
}

/// `POST /settings/users/{id}/password`: an admin sets a new password for a person; every
/// session of that person ends, so they log in again with the new one.
pub async fn reset_password(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ResetPasswordForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    check_new_password(&form.password)?;
    let password = form.password;
    let changed = blocking(&state, move |store| {
        let hash = auth::hash_password(&password)?;
        Ok(store.set_password(id, &hash)?)
    })
    .await?;
    if !changed {
        return Err(ApiError::NotFound.into());
    }
    if id == user.user.id {
        return Ok(Redirect::to("/login").into_response());
    }
    Ok(Redirect::to("/settings/users").into_response())
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
    user: CurrentUser,
    Query(params): Query<AccountParams>,
) -> Result<Response, PageError> {
    user.require(Action::ChangeOwnPassword)?;
    let template = AccountTemplate {
        layout: Layout::new("Your account", &user, "account"),
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

/// `POST /settings/users/{id}/delete`.
pub async fn delete_user(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, PageError> {
    user.check_csrf(&form.csrf)?;
    user.require(Action::ManageUsers)?;
    if id == user.user.id {
        return Err(ApiError::BadRequest("you cannot remove yourself".into()).into());
    }
    if !blocking(&state, move |store| Ok(store.remove_user(id)?)).await? {
        return Err(ApiError::NotFound.into());
    }
    Ok(Redirect::to("/settings/users").into_response())
}
