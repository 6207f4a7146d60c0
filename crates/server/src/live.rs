//! Live updates: one connection per browser carries every live feature of the desk.
//!
//! - `GET /live` is a Server-Sent Events stream per person: `posts` (the number of the newest
//!   post seen, so open lists fetch what is new to them), `alerts` (the person's alert line,
//!   with its signature as the event id) and `counts` (the navigation's counts). Pages reach it
//!   through one shared worker per browser (`static/live-worker.js`), so six open tabs hold one
//!   connection, not six; each page lets go of it on `pagehide` and takes it again on
//!   `pageshow`, so pages kept by the back/forward cache hold none (`static/live.js`, which
//!   opens the stream itself in browsers without shared workers).
//! - `GET /live/posts?list=stream|attention&after=N&<filters>` gives an open list the posts
//!   after number `N` that pass its filters, drawn for the person (their forms and token).
//!
//! One poller watches the store for posts it has not seen and numbers them in a window of the
//! most recent [`RECENT`]. It reads the store (not an in-process channel), so posts written by
//! any process that shares the database appear: a `switchboard import`, the demo's replay, a
//! live connector. It lists the posts created in the last [`WINDOW`] (names and times only, no
//! post is read), reads in full only those it has not numbered yet, and waits a moment for a
//! post's analysis so that pages can filter and show it. A poll with nothing new costs one
//! index walk. The counts are read once for everyone every [`COUNTS_EVERY`].

use std::{
    collections::{HashMap, VecDeque},
    convert::Infallible,
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use askama::Template;
use axum::{
    Json, Router,
    extract::{Query, State},
    response::sse::{Event, KeepAlive, Sse},
    routing::get,
};
use futures_util::stream::{self, Stream};
use jiff::{SignedDuration, Timestamp};
use model::{Network, query};
use serde::{Deserialize, Serialize};
use store::{StoredPost, StreamEntry, StreamFilter, StreamOrder, WebStore};
use tokio::sync::{broadcast, watch};

use crate::{
    ApiError, AppState, PageError,
    auth::CurrentUser,
    blocking,
    roles::{self, Action},
    views::{CardActions, HIGH_PRIORITY, PostView, StreamParams, attach_case, monitor_names},
};

/// The routes of the live connection.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/live", get(events))
        .route("/live/posts", get(new_posts))
}

/// The API routes of this module (none: the live connection is for pages).
pub const API: [crate::openapi::ApiRoute; 0] = [];

/// How far back the poller looks (by creation time).
pub const WINDOW: SignedDuration = SignedDuration::from_mins(10);
/// How long the poller waits for a new post's analysis before sending it without one.
const ANALYSIS_WAIT: SignedDuration = SignedDuration::from_secs(5);
/// How many of the newest posts are kept for open lists to fetch.
pub const RECENT: usize = 1_024;
/// How often the navigation's counts are read for the live connections.
pub const COUNTS_EVERY: Duration = Duration::from_secs(2);
/// How often an idle live connection sends a comment, so proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// A new post, ready to send.
#[derive(Debug, Clone)]
pub struct LiveItem {
    /// The post.
    pub post: StoredPost,
    /// Its desk entry (monitors, handled).
    pub entry: Option<StreamEntry>,
    /// The post as pages show it.
    pub view: PostView,
}

/// The list item of a post, drawn for one person.
#[derive(Template)]
#[template(path = "post_item.html")]
pub(crate) struct PostItem<'a> {
    pub(crate) post: &'a PostView,
    pub(crate) actions: &'a CardActions,
}

/// The counts the live connection sends (the navigation's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LiveCounts {
    /// Drafts waiting for approval.
    pub approvals: u64,
}

/// The newest posts, oldest first, each with its number.
type Numbered = VecDeque<(u64, Arc<LiveItem>)>;

/// The newest posts, numbered, and the counts: what every live connection reads.
#[derive(Clone)]
pub struct Live {
    recent: Arc<RwLock<Numbered>>,
    /// Every new post, for consumers in this process (the inbox router).
    sender: broadcast::Sender<Arc<LiveItem>>,
    latest: watch::Sender<u64>,
    counts: watch::Sender<LiveCounts>,
    started: Arc<AtomicBool>,
}

impl Default for Live {
    fn default() -> Self {
        Live::new()
    }
}

impl Live {
    /// Nothing seen yet.
    pub fn new() -> Live {
        Live {
            recent: Arc::default(),
            sender: broadcast::channel(RECENT).0,
            latest: watch::Sender::new(0),
            counts: watch::Sender::new(LiveCounts::default()),
            started: Arc::default(),
        }
    }

    /// The number of the newest post seen (0: none yet).
    pub fn latest(&self) -> u64 {
        *self.latest.borrow()
    }

    /// Numbers `items` (oldest first) after the newest, keeps the last [`RECENT`], and wakes
    /// the live connections.
    pub fn push(&self, items: Vec<LiveItem>) {
        if items.is_empty() {
            return;
        }
        let mut recent = self
            .recent
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut seq = self.latest();
        for item in items {
            seq += 1;
            let item = Arc::new(item);
            let _no_receiver_is_fine = self.sender.send(Arc::clone(&item));
            recent.push_back((seq, item));
        }
        while recent.len() > RECENT {
            recent.pop_front();
        }
        drop(recent);
        self.latest.send_replace(seq);
    }

    /// A receiver of every new post (for consumers in this process).
    pub fn subscribe(&self) -> broadcast::Receiver<Arc<LiveItem>> {
        self.sender.subscribe()
    }

    /// The posts numbered after `after`, newest first.
    pub fn after(&self, after: u64) -> Vec<(u64, Arc<LiveItem>)> {
        self.recent
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .rev()
            .take_while(|(seq, _)| *seq > after)
            .map(|(seq, item)| (*seq, Arc::clone(item)))
            .collect()
    }

    /// Starts the poller and the counts once (later calls do nothing).
    pub fn start(&self, store: Arc<dyn WebStore>, every: Duration) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let live = self.clone();
        let poll_store = Arc::clone(&store);
        tokio::spawn(async move {
            let mut poller = Poller::default();
            let mut first = true;
            loop {
                let store = Arc::clone(&poll_store);
                let mut taken = std::mem::take(&mut poller);
                let result = tokio::task::spawn_blocking(move || {
                    let items = taken.poll(store.as_ref(), first);
                    (taken, items)
                })
                .await;
                match result {
                    Ok((back, Ok(items))) => {
                        poller = back;
                        first = false;
                        live.push(items);
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
        let counts = self.counts.clone();
        tokio::spawn(async move {
            loop {
                let reader = Arc::clone(&store);
                match tokio::task::spawn_blocking(move || reader.count_awaiting_approval()).await {
                    Ok(Ok(approvals)) => {
                        counts.send_if_modified(|now| {
                            let changed = now.approvals != approvals;
                            now.approvals = approvals;
                            changed
                        });
                    }
                    Ok(Err(error)) => tracing::warn!(%error, "Live counts not read."),
                    Err(error) => tracing::warn!(%error, "Live counts not read."),
                }
                tokio::time::sleep(COUNTS_EVERY).await;
            }
        });
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
            items.push(LiveItem { post, entry, view });
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

/// What happened since a live connection last spoke.
enum Change {
    Posts,
    Alerts,
    Counts,
}

/// A live connection's state between two events.
struct Connection {
    state: AppState,
    user: CurrentUser,
    posts: watch::Receiver<u64>,
    alerts: watch::Receiver<u64>,
    counts: Option<watch::Receiver<LiveCounts>>,
    /// Events due before waiting again.
    due: VecDeque<Change>,
}

impl Connection {
    /// The next event: one that is due, or the next change.
    async fn next(mut self) -> Option<(Result<Event, Infallible>, Connection)> {
        loop {
            if let Some(change) = self.due.pop_front() {
                match self.event(change).await {
                    Some(event) => return Some((Ok(event), self)),
                    None => continue,
                }
            }
            let change = tokio::select! {
                changed = self.posts.changed() => changed.ok().map(|()| Change::Posts),
                changed = self.alerts.changed() => changed.ok().map(|()| Change::Alerts),
                changed = async {
                    match self.counts.as_mut() {
                        Some(counts) => counts.changed().await,
                        None => std::future::pending().await,
                    }
                } => changed.ok().map(|()| Change::Counts),
            };
            self.due.push_back(change?);
        }
    }

    async fn event(&mut self, change: Change) -> Option<Event> {
        match change {
            Change::Posts => {
                let seq = *self.posts.borrow_and_update();
                Some(Event::default().event("posts").data(seq.to_string()))
            }
            Change::Alerts => {
                self.alerts.borrow_and_update();
                let drawn = crate::banner::banner_html(
                    &self.state,
                    self.user.user.id,
                    self.user.csrf.clone(),
                )
                .await;
                match drawn {
                    Ok((html, signature)) => {
                        Some(Event::default().event("alerts").id(signature).data(html))
                    }
                    Err(error) => {
                        tracing::warn!(%error, "Alert line not drawn.");
                        None
                    }
                }
            }
            Change::Counts => {
                let counts = *self.counts.as_mut()?.borrow_and_update();
                let data = serde_json::to_string(&counts).ok()?;
                Some(Event::default().event("counts").data(data))
            }
        }
    }
}

/// `GET /live`: the person's live connection (see the module's documentation).
pub async fn events(
    State(state): State<AppState>,
    user: CurrentUser,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, PageError> {
    user.require(Action::Read)?;
    let approver = user.user.role >= roles::APPROVAL_COUNT_ROLE;
    // The page was drawn with the alert line and the counts as they are now: only changes
    // follow. The newest post's number comes at once (a list compares it with its own).
    let due = VecDeque::from([Change::Posts]);
    let connection = Connection {
        posts: state.live.latest.subscribe(),
        alerts: state.banner.subscribe(),
        counts: approver.then(|| {
            let mut counts = state.live.counts.subscribe();
            counts.mark_unchanged();
            counts
        }),
        due,
        user,
        state,
    };
    let events = stream::unfold(connection, Connection::next);
    Ok(Sse::new(events).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// Which list asks for new posts, and from which number.
#[derive(Debug, Deserialize)]
pub struct NewPostsParams {
    /// `stream` or `attention`.
    #[serde(default)]
    pub list: String,
    /// The number of the newest post the list has.
    #[serde(default)]
    pub after: Option<String>,
}

/// The new posts of a list.
#[derive(Debug, Serialize)]
pub struct NewPosts {
    /// The number of the newest post seen (the list's next `after`).
    pub seq: u64,
    /// The list items, newest first: `network/id` and the item's HTML.
    pub items: Vec<NewPost>,
}

/// One new list item.
#[derive(Debug, Serialize)]
pub struct NewPost {
    /// `network/id`, as the list items' `data-id`.
    pub id: String,
    /// The list item's HTML, drawn for the person.
    pub html: String,
}

/// `GET /live/posts?list=&after=&<filters>`: the posts numbered after `after` that belong in
/// the list (the stream's filters; Needs attention: high priority and not handled too).
pub async fn new_posts(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(which): Query<NewPostsParams>,
    Query(params): Query<StreamParams>,
) -> Result<Json<NewPosts>, ApiError> {
    user.require(Action::Read)?;
    let after: u64 = match which.after.as_deref().map(str::trim) {
        None | Some("") => 0,
        Some(n) => n.parse().map_err(|_| {
            ApiError::BadRequest(format!("after `{n}` is not the number of a post"))
        })?,
    };
    let (attention, back) = match which.list.as_str() {
        "stream" => (false, format!("/stream?{}", params.with_page(1))),
        "attention" => (true, format!("/attention?{}", params.with_page(1))),
        other => {
            return Err(ApiError::BadRequest(format!(
                "list `{other}` is not live: use stream or attention"
            )));
        }
    };
    let order = if attention {
        StreamOrder::Priority
    } else {
        StreamOrder::Newest
    };
    let filter = params.filter(order)?;
    let actions = CardActions::for_user(&user, back);
    let seq = state.live.latest();
    let wanted: Vec<Arc<LiveItem>> = state
        .live
        .after(after)
        .into_iter()
        .map(|(_, item)| item)
        .filter(|item| {
            if attention {
                needs_attention(&filter, item)
            } else {
                passes(&filter, item)
            }
        })
        .collect();
    // The cases of their conversations, as they are now.
    let views = blocking(&state, move |store| {
        let mut views = Vec::with_capacity(wanted.len());
        for item in wanted {
            let mut view = item.view.clone();
            attach_case(store, &mut view, &item.post.post)?;
            views.push(view);
        }
        Ok(views)
    })
    .await?;
    let mut items = Vec::with_capacity(views.len());
    for view in &views {
        let html = PostItem {
            post: view,
            actions: &actions,
        }
        .render()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
        items.push(NewPost {
            id: format!("{}/{}", view.network, view.id),
            html,
        });
    }
    Ok(Json(NewPosts { seq, items }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> LiveItem {
        let post = model::Post::new(
            Network::X,
            id,
            model::Author {
                id: "a".into(),
                handle: "a".into(),
                display_name: None,
                bio: None,
                followers: None,
                verified: false,
                url: None,
            },
            "text",
            Timestamp::now(),
        );
        let stored = StoredPost {
            post,
            first_seen: Timestamp::now(),
            updated_at: Timestamp::now(),
            deleted_at: None,
            versions: 1,
            analysis: None,
        };
        let view = PostView::new(&stored, None, &HashMap::new());
        LiveItem {
            post: stored,
            entry: None,
            view,
        }
    }

    #[test]
    fn posts_are_numbered_and_the_oldest_forgotten() {
        let live = Live::new();
        live.push(vec![item("1"), item("2")]);
        assert_eq!(live.latest(), 2);
        let after: Vec<u64> = live.after(0).iter().map(|(seq, _)| *seq).collect();
        assert_eq!(after, [2, 1]);
        assert_eq!(live.after(1).len(), 1);
        assert!(live.after(2).is_empty());
        live.push((0..RECENT).map(|i| item(&i.to_string())).collect());
        assert_eq!(live.latest(), 2 + RECENT as u64);
        assert_eq!(live.after(0).len(), RECENT);
    }
}
