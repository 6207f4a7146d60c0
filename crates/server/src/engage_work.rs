//! The moving parts of triage and respond in the running server: routing each arriving post
//! through the active response matrix into the inbox, publishing drafts exactly once, and the
//! scheduler that publishes due posts on time (and, at start-up, what fell due while the server
//! was stopped).
//!
//! Exactly once: a draft is published under its stable id (the Mastodon `Idempotency-Key`, the
//! Bluesky record key, the X duplicate check), one publication per draft runs at a time in this
//! process, the attempt is recorded before the request so that a restart resumes it with a look
//! at the network first, and a draft already sent is never sent again.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, OnceLock, PoisonError},
    time::{Duration, Instant},
};

use engage::{
    Actor, Case, Checker, Draft, DraftStatus, Inbox, Matrix, NewAuditEntry, Role, Subject,
    thread_key,
};
use jiff::Timestamp;
use model::Network;
use publish::{Outgoing, Publisher};
use store::{StoredPost, StreamEntry, WebStore};
use tokio::sync::broadcast::error::RecvError;

use crate::{ApiError, AppState};

/// The name the system acts under in the audit log.
pub const SYSTEM: &str = "switchboard";

/// What the engage pages share: the draft checker, the publishers and the drafts being sent.
pub struct EngageRuntime {
    checker: OnceLock<Result<Checker, String>>,
    publishers: Mutex<HashMap<Network, Arc<Publisher>>>,
    in_flight: Mutex<HashSet<String>>,
    /// The service named in reply templates (`{service}`).
    pub service: String,
    /// How often the scheduler looks for due posts.
    pub publish_every: Duration,
}

impl Default for EngageRuntime {
    fn default() -> Self {
        EngageRuntime::new(
            std::env::var("SWITCHBOARD_SERVICE").unwrap_or_else(|_| "our hospitals".to_owned()),
            Duration::from_secs(15),
        )
    }
}

impl std::fmt::Debug for EngageRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EngageRuntime")
            .field("service", &self.service)
            .field("publish_every", &self.publish_every)
            .finish_non_exhaustive()
    }
}

impl EngageRuntime {
    /// A runtime naming `service` in replies and looking for due posts every `publish_every`.
    pub fn new(service: String, publish_every: Duration) -> EngageRuntime {
        EngageRuntime {
            checker: OnceLock::new(),
            publishers: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashSet::new()),
            service,
            publish_every,
        }
    }

    /// Uses `publisher` for `network` instead of one configured from the environment.
    pub fn set_publisher(&self, network: Network, publisher: Publisher) {
        self.publishers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(network, Arc::new(publisher));
    }

    /// The draft checker (built once).
    pub fn checker(&self) -> Result<&Checker, ApiError> {
        self.checker
            .get_or_init(|| Checker::new().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|e| ApiError::Internal(format!("the draft checks cannot start: {e}")))
    }

    /// The client for a network: the one set, or one from the environment's credentials.
    fn publisher(&self, network: Network) -> Result<Arc<Publisher>, publish::PublishError> {
        let mut publishers = self
            .publishers
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(p) = publishers.get(&network) {
            return Ok(Arc::clone(p));
        }
        let p = Arc::new(Publisher::from_env(network)?);
        publishers.insert(network, Arc::clone(&p));
        Ok(p)
    }

    /// Marks a draft as being sent; `None` when it already is.
    fn claim(self: &Arc<Self>, draft_id: &str) -> Option<Claim> {
        let mut set = self
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        set.insert(draft_id.to_owned()).then(|| Claim {
            runtime: Arc::clone(self),
            draft_id: draft_id.to_owned(),
        })
    }
}

/// A draft being sent by this process; released when dropped.
struct Claim {
    runtime: Arc<EngageRuntime>,
    draft_id: String,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.runtime
            .in_flight
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&self.draft_id);
    }
}

/// The active matrix (the default one until a matrix is set).
pub fn active_matrix(store: &dyn WebStore) -> Result<Matrix, ApiError> {
    match store.active_matrix()? {
        Some(v) => Matrix::parse(&v.text).map_err(|e| {
            ApiError::Internal(format!(
                "the stored matrix version {} is invalid: {e}",
                v.version
            ))
        }),
        None => Matrix::default_matrix().map_err(|e| ApiError::Internal(e.to_string())),
    }
}

/// What happened when a draft was to be published.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PublishOutcome {
    /// Published now as the network's post id.
    Published(String),
    /// It had been published before (a repeated click or request): nothing was sent.
    AlreadySent(String),
    /// Another request is publishing it right now: nothing was sent.
    InProgress,
    /// The network or the set-up refused; the draft stays approved and may be retried.
    Failed(String),
}

/// Publishes an approved (or due scheduled) draft once, as `actor`; records the attempt, the
/// result and, for a reply, the answered case.
pub async fn publish_draft(
    state: &AppState,
    draft_id: &str,
    actor: Actor,
) -> Result<PublishOutcome, ApiError> {
    let Some(_claim) = state.engage.claim(draft_id) else {
        return Ok(PublishOutcome::InProgress);
    };
    let id = draft_id.to_owned();
    let who = actor.name.clone();
    let started = crate::blocking(state, move |store| {
        let mut draft = store.draft(&id)?.ok_or(ApiError::NotFound)?;
        if draft.status == DraftStatus::Sent {
            return Ok(Err(draft.sent_id.unwrap_or_default()));
        }
        if !matches!(draft.status, DraftStatus::Approved | DraftStatus::Scheduled) {
            return Err(ApiError::Conflict(format!(
                "draft {id} is {}: only an approved draft can be published",
                draft.status.as_str()
            )));
        }
        draft.publish_attempts += 1;
        draft.updated_at = Timestamp::now();
        let start = NewAuditEntry::new(
            draft.updated_at,
            &who,
            "draft.publish_start",
            draft.subject(),
            format!("attempt {} to {}", draft.publish_attempts, draft.network),
        );
        store.save_draft(&draft, None, &[start])?;
        Ok(Ok(draft))
    })
    .await?;
    let draft = match started {
        Ok(d) => d,
        Err(sent_id) => return Ok(PublishOutcome::AlreadySent(sent_id)),
    };
    let sent = match state.engage.publisher(draft.network) {
        Ok(client) => {
            let outgoing = Outgoing {
                key: draft.id.clone(),
                text: draft.text.clone(),
                created_at: draft.created_at,
                resumed: draft.publish_attempts > 1,
            };
            Box::pin(client.send(&outgoing, draft.in_reply_to.as_deref())).await
        }
        Err(e) => Err(e),
    };
    let id = draft.id.clone();
    let engage = Arc::clone(&state.engage);
    crate::blocking(state, move |store| {
        let now = Timestamp::now();
        let mut draft = store.draft(&id)?.ok_or(ApiError::NotFound)?;
        match sent {
            Ok(published) => {
                let mut case = match &draft.case_id {
                    Some(case_id) => store.case(case_id)?,
                    None => None,
                };
                if draft.status == DraftStatus::Scheduled {
                    draft.status = DraftStatus::Approved;
                }
                let how = format!(
                    "{} request(s){}",
                    published.attempts,
                    if published.recovered {
                        "; found already posted by an earlier attempt"
                    } else {
                        ""
                    }
                );
                let mut audit = match case.as_mut() {
                    Some(case) => {
                        let matrix = active_matrix(store)?;
                        Inbox::new(&matrix, engage.checker()?)
                            .mark_sent(case, &mut draft, &actor, &published.id, now)
                            .map_err(|e| ApiError::Conflict(e.to_string()))?
                    }
                    None => {
                        draft.status = DraftStatus::Sent;
                        draft.sent_id = Some(published.id.clone());
                        draft.updated_at = now;
                        vec![NewAuditEntry::new(
                            now,
                            &actor.name,
                            "draft.publish",
                            draft.subject(),
                            format!("published to {} as {}", draft.network, published.id),
                        )]
                    }
                };
                audit.push(NewAuditEntry::new(
                    now,
                    &actor.name,
                    "draft.publish_detail",
                    draft.subject(),
                    how,
                ));
                store.save_draft(&draft, case.as_ref(), &audit)?;
                Ok(PublishOutcome::Published(published.id))
            }
            Err(error) => {
                let message = error.to_string();
                store.append_audit(&[NewAuditEntry::new(
                    now,
                    &actor.name,
                    "draft.publish_failed",
                    draft.subject(),
                    message.clone(),
                )])?;
                Ok(PublishOutcome::Failed(message))
            }
        }
    })
    .await
}

/// What routing a post did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Routed {
    /// The thread's case was opened, updated or reopened.
    Case(Box<Case>),
    /// No rule opens a case for it.
    NoCase,
    /// The post has no analysis yet: it is tried again when it has one.
    NotAnalysed,
}

/// Routes one arriving post through the active matrix: opens, updates or reopens its thread's
/// case.
pub fn route_post(
    store: &dyn WebStore,
    stored: &StoredPost,
    entry: Option<&StreamEntry>,
) -> Result<Routed, ApiError> {
    let Some(analysis) = stored.analysis.as_ref() else {
        return Ok(Routed::NotAnalysed);
    };
    let post = &stored.post;
    let matrix = active_matrix(store)?;
    let monitors: Vec<String> = match entry {
        Some(entry) if !entry.monitors.is_empty() => {
            let names = crate::views::monitor_names(&store.monitors()?);
            entry
                .monitors
                .iter()
                .filter_map(|id| names.get(id).cloned())
                .collect()
        }
        _ => Vec::new(),
    };
    let existing = store.case(&thread_key(post))?;
    if existing.as_ref().is_some_and(|c| c.post_id == post.id) {
        // Seen already (the catch-up and the live router may both meet a post).
        return Ok(Routed::NoCase);
    }
    let subject = Subject::new(post, analysis, &monitors);
    match Case::route(&matrix, &subject, post, existing, Timestamp::now()) {
        Some((_, case, audit)) => {
            store.save_case(&case, &[audit])?;
            Ok(Routed::Case(Box::new(case)))
        }
        None => Ok(Routed::NoCase),
    }
}

/// How long the router waits for an arriving post's analysis before giving up on it.
pub const ANALYSIS_PATIENCE: Duration = Duration::from_secs(120);

/// The store cursor holding the creation time of the newest post the router has seen.
pub const ROUTER_CURSOR: &str = "engage.router";

/// Routes the posts stored since the router last looked (while the server was stopped) that
/// their thread's case has not taken yet. The first run ever starts from now. Returns how many
/// cases were written.
pub fn catch_up(store: &dyn WebStore) -> Result<usize, ApiError> {
    let now = Timestamp::now();
    let since = store
        .cursor(ROUTER_CURSOR)?
        .and_then(|c| c.parse::<Timestamp>().ok());
    let Some(since) = since else {
        store.set_cursor(ROUTER_CURSOR, &now.to_string())?;
        return Ok(0);
    };
    let mut posts = store.search(&store::SearchQuery {
        since: Some(since),
        limit: 5_000,
        ..store::SearchQuery::default()
    })?;
    posts.reverse();
    let mut written = 0;
    let mut newest = since;
    for stored in posts {
        newest = newest.max(stored.post.created_at);
        if let Some(case) = store.case(&thread_key(&stored.post))?
            && case.updated_at >= stored.first_seen
        {
            continue;
        }
        let entry = store.desk_entry(stored.post.network, &stored.post.id)?;
        if let Routed::Case(_) = route_post(store, &stored, entry.as_ref())? {
            written += 1;
        }
    }
    store.set_cursor(ROUTER_CURSOR, &newest.to_string())?;
    Ok(written)
}

/// Posts that arrived before their analysis, tried again each second, and the newest creation
/// time routed (saved as [`ROUTER_CURSOR`] each second).
#[derive(Default)]
struct Waiting {
    posts: Vec<(Network, String, Instant)>,
    newest: Option<Timestamp>,
    saved: Option<Timestamp>,
}

impl Waiting {
    /// Routes the waiting posts that have an analysis now; drops those waited on too long.
    fn retry(&mut self, store: &dyn WebStore) -> Result<(), ApiError> {
        let mut still = Vec::new();
        for (network, id, since) in std::mem::take(&mut self.posts) {
            let Some(stored) = store.post(network, &id)? else {
                continue;
            };
            let entry = store.desk_entry(network, &id)?;
            match route_post(store, &stored, entry.as_ref())? {
                Routed::NotAnalysed if since.elapsed() < ANALYSIS_PATIENCE => {
                    still.push((network, id, since));
                }
                Routed::NotAnalysed => {
                    tracing::warn!(%network, %id, "A post was never analysed; no case was opened.");
                }
                Routed::Case(_) | Routed::NoCase => {}
            }
        }
        self.posts = still;
        if self.newest != self.saved
            && let Some(newest) = self.newest
        {
            store.set_cursor(ROUTER_CURSOR, &newest.to_string())?;
            self.saved = Some(newest);
        }
        Ok(())
    }
}

/// Starts the inbox router (every new post the live poller finds goes through the matrix, and
/// at start-up the posts stored while the server was stopped) and the scheduler (due posts are published on time; at start-up, what fell due while stopped).
pub fn start(state: &AppState) {
    let mut receiver = state.live.subscribe();
    let router_state = state.clone();
    // Posts stored while the server was stopped: now, and once more after the live poller's
    // first look (which takes what is stored without sending it).
    let catch_up_state = state.clone();
    let after_first_poll = state.config.live_poll * 2 + Duration::from_secs(1);
    tokio::spawn(async move {
        for wait in [Duration::ZERO, after_first_poll] {
            tokio::time::sleep(wait).await;
            match crate::blocking(&catch_up_state, catch_up).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(cases = n, "Posts stored while stopped were routed."),
                Err(error) => tracing::warn!(%error, "The inbox could not catch up."),
            }
        }
    });
    tokio::spawn(async move {
        let waiting = Arc::new(Mutex::new(Waiting::default()));
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            let routed = tokio::select! {
                received = receiver.recv() => match received {
                    Ok(item) => {
                        let waiting = Arc::clone(&waiting);
                        crate::blocking(&router_state, move |store| {
                            let routed = route_post(store, &item.post, item.entry.as_ref())?;
                            let post = &item.post.post;
                            let mut waiting =
                                waiting.lock().unwrap_or_else(PoisonError::into_inner);
                            waiting.newest = waiting.newest.max(Some(post.created_at));
                            if routed == Routed::NotAnalysed {
                                waiting
                                    .posts
                                    .push((post.network, post.id.clone(), Instant::now()));
                            }
                            Ok(())
                        })
                        .await
                    }
                    Err(RecvError::Lagged(missed)) => {
                        tracing::warn!(missed, "The inbox router fell behind the live poller.");
                        Ok(())
                    }
                    Err(RecvError::Closed) => return,
                },
                _ = tick.tick() => {
                    let waiting = Arc::clone(&waiting);
                    crate::blocking(&router_state, move |store| {
                        waiting
                            .lock()
                            .unwrap_or_else(PoisonError::into_inner)
                            .retry(store)
                    })
                    .await
                }
            };
            if let Err(error) = routed {
                tracing::warn!(%error, "A post could not be routed to the inbox.");
            }
        }
    });
    let scheduler_state = state.clone();
    tokio::spawn(async move {
        loop {
            if let Err(error) = publish_due(&scheduler_state, Timestamp::now()).await {
                tracing::warn!(%error, "The scheduler could not publish due posts.");
            }
            tokio::time::sleep(scheduler_state.engage.publish_every).await;
        }
    });
}

/// Whether a due draft should be tried now: at once the first time, then after a wait that
/// doubles with each failed attempt (from the scheduler's interval, at most an hour), so that a
/// network that keeps failing is not hammered and the audit log not flooded.
pub fn retry_due(draft: &Draft, now: Timestamp, every: Duration) -> bool {
    if draft.publish_attempts == 0 {
        return true;
    }
    let factor = 2_u32.saturating_pow(draft.publish_attempts.min(12));
    let wait = every.saturating_mul(factor).min(Duration::from_secs(3_600));
    let wait = jiff::SignedDuration::try_from(wait).unwrap_or(jiff::SignedDuration::from_hours(1));
    draft
        .updated_at
        .checked_add(wait)
        .is_ok_and(|next| now >= next)
}

/// Publishes every scheduled draft due at `now`, once each. Returns (published, failed).
pub async fn publish_due(state: &AppState, now: Timestamp) -> Result<(usize, usize), ApiError> {
    let due: Vec<Draft> = crate::blocking(state, move |store| Ok(store.due_drafts(now)?)).await?;
    let (mut published, mut failed) = (0, 0);
    for draft in due {
        if !retry_due(&draft, now, state.engage.publish_every) {
            continue;
        }
        match publish_draft(state, &draft.id, Actor::new(SYSTEM, Role::Admin)).await? {
            PublishOutcome::Published(_) => published += 1,
            PublishOutcome::Failed(error) => {
                tracing::warn!(draft = %draft.id, %error, "A scheduled post failed; it is retried.");
                failed += 1;
            }
            PublishOutcome::AlreadySent(_) | PublishOutcome::InProgress => {}
        }
    }
    Ok((published, failed))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_scheduled_posts_are_retried_with_a_growing_wait() {
        let at = Timestamp::from_second(1_767_225_600).unwrap_or(Timestamp::UNIX_EPOCH);
        let mut draft = Draft::new(None, Network::Mastodon, None, "olu", "Open day", at);
        let every = Duration::from_secs(15);
        let later = |secs: i64| {
            at.checked_add(jiff::SignedDuration::from_secs(secs))
                .unwrap_or(at)
        };
        assert!(retry_due(&draft, at, every), "the first attempt at once");
        draft.publish_attempts = 1;
        assert!(!retry_due(&draft, later(29), every));
        assert!(retry_due(&draft, later(30), every));
        draft.publish_attempts = 3;
        assert!(!retry_due(&draft, later(119), every));
        assert!(retry_due(&draft, later(120), every));
        draft.publish_attempts = 40;
        assert!(!retry_due(&draft, later(3_599), every));
        assert!(retry_due(&draft, later(3_600), every), "at most an hour");
    }
}
