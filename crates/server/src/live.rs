//! Live updates: one poller watches the store for posts it has not seen and sends each to every
//! open page over Server-Sent Events, filtered by that page's own filters.
//!
//! The poller reads the store (not an in-process channel), so posts written by any process that
//! shares the database appear: a `switchboard import`, the demo's replay, a live connector. It
//! lists the posts created in the last [`WINDOW`] (names and times only, no post is read),
//! reads in full only those it has not sent yet, and waits a moment for a post's analysis so
//! that pages can filter and show it. A poll with nothing new costs one index walk.

use std::{
    collections::HashMap,
    convert::Infallible,
    sync::{Arc, Mutex},
    time::Duration,
};

use askama::Template;
use axum::{
    Router,
    extract::{Query, State},
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures_util::stream::{self, Stream};
use jiff::{SignedDuration, Timestamp};
use model::{Network, query};
use store::{StoredPost, StreamEntry, StreamFilter, StreamOrder, WebStore};
use tokio::sync::broadcast;

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    roles::Action,
    views::{HIGH_PRIORITY, PostView, StreamParams, monitor_names},
};

/// The routes of the live event streams.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/stream/events", get(events))
        .route("/attention/events", get(attention_events))
        .route("/alerts/events", get(crate::banner::events))
}

/// The API routes of this module (none: the event streams are for pages).
pub const API: [crate::openapi::ApiRoute; 0] = [];

/// How far back the poller looks (by creation time).
pub const WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// How long the poller waits for a new post's analysis before sending it without one.
const ANALYSIS_WAIT: SignedDuration = SignedDuration::from_secs(5);

/// A new post, ready to send.
#[derive(Debug, Clone)]
pub struct LiveItem {
    /// The post.
    pub post: StoredPost,
    /// Its desk entry (monitors, handled).
    pub entry: Option<StreamEntry>,
    /// The list item, rendered once for every page.
    pub html: String,
    /// The post as pages show it (for items drawn per person, with their forms).
    pub view: PostView,
}

/// The fragment sent for a new post.
#[derive(Template)]
#[template(path = "post_item.html")]
struct PostItem<'a> {
    post: &'a PostView,
    handle_form: bool,
    csrf: &'a str,
    back: &'a str,
}

/// The sender of new posts.
#[derive(Clone)]
pub struct Live {
    sender: broadcast::Sender<Arc<LiveItem>>,
    started: Arc<Mutex<bool>>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    /// A sender with room for 1,024 posts per slow page.
    pub fn new() -> Live {
        let (sender, _) = broadcast::channel(1024);
        Live {
            sender,
            started: Arc::new(Mutex::new(false)),
        }
    }

    /// Starts the poller once (later calls do nothing).
    pub fn start(&self, store: Arc<dyn WebStore>, every: Duration) {
        let mut started = self
            .started
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if *started {
            return;
        }
        *started = true;
        let sender = self.sender.clone();
        tokio::spawn(async move {
            let mut poller = Poller::default();
            let mut first = true;
            loop {
                let poll_store = Arc::clone(&store);
                let mut taken = std::mem::take(&mut poller);
                let result = tokio::task::spawn_blocking(move || {
                    let items = taken.poll(poll_store.as_ref(), first);
                    (taken, items)
                })
                .await;
                match result {
                    Ok((back, Ok(items))) => {
                        poller = back;
                        first = false;
                        for item in items {
                            let _ = sender.send(Arc::new(item));
                        }
                    }
                    Ok((back, Err(error))) => {
                        poller = back;
                        tracing::warn!(%error, "Live poll failed.");
                    }
                    Err(error) => tracing::warn!(%error, "Live poll stopped."),
                }
                tokio::time::sleep(every).await;
            }
        });
    }

    /// A receiver of new posts.
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveItem>> {
        self.sender.subscribe()
    }
}

/// What the poller has sent already.
#[derive(Debug, Default)]
struct Poller {
    sent: HashMap<(Network, String), Timestamp>,
}

impl Poller {
    fn poll(&mut self, store: &dyn WebStore, first: bool) -> Result<Vec<LiveItem>, ApiError> {
        let now = Timestamp::now();
        let since = now.checked_sub(WINDOW).unwrap_or(now);
        let found = store.recent_posts(since, 2_000)?;
        self.sent.retain(|_, created| *created >= since);
        let mut fresh: Vec<StoredPost> = Vec::new();
        for recent in found {
            let key = (recent.network, recent.id);
            if self.sent.contains_key(&key) {
                continue;
            }
            let young = now.duration_since(recent.first_seen) < ANALYSIS_WAIT;
            if !first && !recent.analysed && young {
                continue;
            }
            if !first && let Some(stored) = store.post(key.0, &key.1)? {
                fresh.push(stored);
            }
            self.sent.insert(key, recent.created_at);
        }
        if fresh.is_empty() {
            return Ok(Vec::new());
        }
        fresh.reverse();
        let names = monitor_names(&store.monitors()?);
        let mut items = Vec::with_capacity(fresh.len());
        for post in fresh {
            let entry = store.desk_entry(post.post.network, &post.post.id)?;
            let view = PostView::new(&post, entry.as_ref(), &names);
            let html = PostItem {
                post: &view,
                handle_form: false,
                csrf: "",
                back: "",
            }
            .render()
            .map_err(|e| ApiError::Internal(e.to_string()))?;
            items.push(LiveItem {
                post,
                entry,
                html,
                view,
            });
        }
        Ok(items)
    }
}

/// Whether a new post passes a page's filters (the time range is not checked: new posts are
/// the newest).
pub fn passes(filter: &StreamFilter, item: &LiveItem) -> bool {
    let post = &item.post.post;
    let analysis = item.post.analysis.as_ref();
    if !filter.networks.is_empty() && !filter.networks.contains(&post.network) {
        return false;
    }
    if let Some(monitor) = filter.monitor
        && !item
            .entry
            .as_ref()
            .is_some_and(|e| e.monitors.contains(&monitor))
    {
        return false;
    }
    if let Some(sentiment) = filter.sentiment
        && analysis.is_none_or(|a| a.sentiment.label != sentiment)
    {
        return false;
    }
    if let Some(intent) = filter.intent
        && analysis.is_none_or(|a| !a.has_intent(intent))
    {
        return false;
    }
    if let Some(theme) = &filter.theme
        && analysis.is_none_or(|a| !a.themes.iter().any(|t| &t.id == theme))
    {
        return false;
    }
    if let Some(lang) = &filter.language
        && analysis.is_none_or(|a| &a.language.code != lang)
    {
        return false;
    }
    if let Some(text) = &filter.text {
        let mut words = query::tokens(&post.text);
        if let Some(title) = &post.title {
            words.extend(query::tokens(title));
        }
        words.extend(query::tokens(&post.author.handle));
        if !text.matches_tokens(&words) {
            return false;
        }
    }
    true
}

/// `GET /stream/events`: new posts matching the query string's filters, as `post` events whose
/// data is the list item's HTML.
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    user.require(Action::Read)?;
    let filter = params.filter(StreamOrder::Newest)?;
    let receiver = state.live.subscribe();
    let events = stream::unfold((receiver, filter), |(mut receiver, filter)| async move {
        loop {
            match receiver.recv().await {
                Ok(item) => {
                    if passes(&filter, &item) {
                        let event = Event::default()
                            .event("post")
                            .id(format!("{}/{}", item.post.post.network, item.post.post.id))
                            .data(item.html.clone());
                        return Some((Ok(event), (receiver, filter)));
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// Whether a new post belongs at the top of an open Needs-attention page: high priority, not
/// handled, and passing the page's filters.
pub fn needs_attention(filter: &StreamFilter, item: &LiveItem) -> bool {
    let high = item
        .post
        .analysis
        .as_ref()
        .is_some_and(|a| a.priority.score >= HIGH_PRIORITY);
    let handled = item.entry.as_ref().is_some_and(|e| e.handled.is_some());
    high && !handled && passes(filter, item)
}

/// `GET /attention/events`: new high-priority posts (see [`needs_attention`]) matching the
/// query string's filters, as `post` events whose data is the list item's HTML, with the
/// mark-as-handled form when the person may use it.
pub async fn attention_events(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(params): Query<StreamParams>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    user.require(Action::Read)?;
    let filter = params.filter(StreamOrder::Priority)?;
    let handle_form = Action::MarkHandled.allowed(user.user.role);
    let back = format!("/attention?{}", params.with_page(1));
    let receiver = state.live.subscribe();
    let start = (receiver, filter, user.csrf, back);
    let events = stream::unfold(
        start,
        move |(mut receiver, filter, csrf, back)| async move {
            loop {
                match receiver.recv().await {
                    Ok(item) => {
                        if !needs_attention(&filter, &item) {
                            continue;
                        }
                        let drawn = PostItem {
                            post: &item.view,
                            handle_form,
                            csrf: &csrf,
                            back: &back,
                        }
                        .render();
                        match drawn {
                            Ok(html) => {
                                let event = Event::default()
                                    .event("post")
                                    .id(format!("{}/{}", item.post.post.network, item.post.post.id))
                                    .data(html);
                                return Some((Ok(event), (receiver, filter, csrf, back)));
                            }
                            Err(error) => tracing::warn!(%error, "A live post could not be drawn."),
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => return None,
                }
            }
        },
    );
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}
