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
    time::Duration,
};

use engage::{
    Actor, Case, Checker, Draft, DraftStatus, Inbox, Matrix, NewAuditEntry, Role, Subject,
    thread_key,
};
use jiff::Timestamp;
use model::Network;
use publish::{Outgoing, Publisher};
use store::WebStore;
use tokio::sync::broadcast::error::RecvError;

use crate::{ApiError, AppState, live::LiveItem};

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

/// Routes one arriving post through the active matrix: opens, updates or reopens its thread's
/// case. Returns the case when one was written.
pub fn route_post(store: &dyn WebStore, item: &LiveItem) -> Result<Option<Case>, ApiError> {
    let Some(analysis) = item.post.analysis.as_ref() else {
        return Ok(None);
    };
    let post = &item.post.post;
    let matrix = active_matrix(store)?;
    let monitors: Vec<String> = match &item.entry {
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
    let subject = Subject::new(post, analysis, &monitors);
    match Case::route(&matrix, &subject, post, existing, Timestamp::now()) {
        Some((_, case, audit)) => {
            store.save_case(&case, &[audit])?;
            Ok(Some(case))
        }
        None => Ok(None),
    }
}

/// Starts the inbox router (every new post the live poller finds goes through the matrix) and
/// the scheduler (due posts are published on time; at start-up, what fell due while stopped).
pub fn start(state: &AppState) {
    let mut receiver = state.live.subscribe();
    let router_state = state.clone();
    tokio::spawn(async move {
        loop {
            match receiver.recv().await {
                Ok(item) => {
                    let routed =
                        crate::blocking(&router_state, move |store| route_post(store, &item)).await;
                    if let Err(error) = routed {
                        tracing::warn!(%error, "A post could not be routed to the inbox.");
                    }
                }
                Err(RecvError::Lagged(missed)) => {
                    tracing::warn!(missed, "The inbox router fell behind the live poller.");
                }
                Err(RecvError::Closed) => return,
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

/// Publishes every scheduled draft due at `now`, once each. Returns (published, failed).
pub async fn publish_due(state: &AppState, now: Timestamp) -> Result<(usize, usize), ApiError> {
    let due: Vec<Draft> = crate::blocking(state, move |store| Ok(store.due_drafts(now)?)).await?;
    let (mut published, mut failed) = (0, 0);
    for draft in due {
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
