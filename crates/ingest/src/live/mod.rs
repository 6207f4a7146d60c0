//! Live connectors: the networks' streaming and polling APIs feeding the same records as files.
//!
//! One module per network. Each connector implements [`Source`]: it connects, turns every
//! payload into [`Record`]s **with the file importers' own parsers** (one path for files and live
//! data), and sends them as [`Batch`]es on the channel of its [`SourceContext`].
//!
//! Invariants every connector keeps:
//! - a batch carries the resume position (cursor) reached *after* its records; the consumer saves
//!   the cursor only once the records are stored, so a cursor never gets ahead of stored posts
//!   and a restart loses nothing;
//! - after a dropped connection the connector resumes from its last cursor (Jetstream rewinds a
//!   few seconds and drops the events it already sent; Mastodon and X catch up through their
//!   REST timelines with `min_id`/`since_id`); duplicates may reach the store, which is
//!   idempotent, but a cursor never skips;
//! - reconnects wait with exponential backoff and full jitter ([`Backoff`]);
//! - [`Health`] (connected, last event, lag, counters) is readable at any time;
//! - the shutdown signal ends `run` promptly with `Ok(())`.

pub mod facebook;
pub mod gdelt;
pub mod health;
pub mod http;
pub mod jetstream;
pub mod mastodon;
pub mod rss;
pub mod x;

#[cfg(test)]
mod tests;

use std::{future::Future, time::Duration};

use model::Change;
use tokio::sync::{mpsc, watch};

pub use health::{Health, HealthSnapshot};

use crate::{Parsed, Record};

/// What a connector hands to the pipeline: records and the cursor reached after them.
#[derive(Debug, Clone, PartialEq)]
pub struct Batch {
    /// The connector's name (also the key of its saved cursor).
    pub source: String,
    /// Posts, deletions and skipped items, in arrival order.
    pub records: Vec<Record>,
    /// The resume position after these records, to save once they are stored.
    pub cursor: Option<String>,
}

/// Why a connector stopped for good (transient failures are retried inside `run`).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SourceError {
    /// The pipeline closed its end of the channel.
    #[error("the pipeline stopped accepting records")]
    Closed,
    /// A setting is missing or wrong; retrying cannot help.
    #[error("{0}")]
    Config(String),
}

/// A live connector.
pub trait Source: Send + 'static {
    /// The connector's name, unique among the configured connectors (the cursor's key).
    fn name(&self) -> &str;

    /// Runs until shut down: connects, sends batches, reconnects with backoff.
    fn run(self, ctx: SourceContext) -> impl Future<Output = Result<(), SourceError>> + Send;
}

/// Exponential backoff with full jitter: the n-th wait is uniform in
/// `[base·2ⁿ / 2, base·2ⁿ]`, capped at `max`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backoff {
    /// The first wait.
    pub base: Duration,
    /// The longest wait.
    pub max: Duration,
    attempt: u32,
}

impl Backoff {
    /// A backoff from `base` up to `max`.
    pub const fn new(base: Duration, max: Duration) -> Self {
        Backoff {
            base,
            max,
            attempt: 0,
        }
    }

    /// The next wait, growing with each call until [`Backoff::reset`].
    pub fn next_wait(&mut self) -> Duration {
        let factor = 2u32.saturating_pow(self.attempt.min(20));
        self.attempt = self.attempt.saturating_add(1);
        let ceiling = self.base.saturating_mul(factor).min(self.max);
        let half = ceiling / 2;
        half + ceiling.saturating_sub(half).mul_f64(fastrand::f64())
    }

    /// Starts again from `base` (after a connection that worked).
    pub fn reset(&mut self) {
        self.attempt = 0;
    }
}

impl Default for Backoff {
    fn default() -> Self {
        Backoff::new(Duration::from_millis(500), Duration::from_secs(60))
    }
}

/// What a connector gets from the pipeline: where to send, where it stopped last time, its
/// health, its backoff and the shutdown signal.
#[derive(Debug, Clone)]
pub struct SourceContext {
    name: String,
    sender: mpsc::Sender<Batch>,
    cursor: Option<String>,
    health: Health,
    shutdown: watch::Receiver<bool>,
    /// The reconnect backoff (tests use short waits).
    pub backoff: Backoff,
    /// The largest post passed on (see [`crate::check_size`]); larger ones are counted as
    /// rejected and left out.
    pub max_post_bytes: usize,
}

impl SourceContext {
    /// A context for the connector `name`, resuming from `cursor` (the value saved last time).
    pub fn new(
        name: impl Into<String>,
        sender: mpsc::Sender<Batch>,
        cursor: Option<String>,
        shutdown: watch::Receiver<bool>,
    ) -> Self {
        let name = name.into();
        let health = Health::new(&name);
        health.set_cursor(cursor.clone());
        SourceContext {
            name,
            sender,
            cursor,
            health,
            shutdown,
            backoff: Backoff::default(),
            max_post_bytes: crate::DEFAULT_MAX_POST_BYTES,
        }
    }

    /// The connector's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The cursor saved by the previous run, if any.
    pub fn initial_cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    /// The connector's health, shared with whoever shows it.
    pub fn health(&self) -> &Health {
        &self.health
    }

    /// Whether shutdown was asked for.
    pub fn is_shutdown(&self) -> bool {
        *self.shutdown.borrow()
    }

    /// Waits until shutdown is asked for.
    pub async fn shutdown_signal(&mut self) {
        while !*self.shutdown.borrow_and_update() {
            if self.shutdown.changed().await.is_err() {
                return;
            }
        }
    }

    /// Waits `wait`, or less if shutdown is asked for; returns false on shutdown.
    pub async fn sleep(&mut self, wait: Duration) -> bool {
        tokio::select! {
            () = tokio::time::sleep(wait) => !self.is_shutdown(),
            () = self.shutdown_signal() => false,
        }
    }

    /// Waits the next backoff step after a failure, counting a reconnect; false on shutdown.
    pub async fn backoff_wait(&mut self) -> bool {
        self.health.disconnected();
        let wait = self.backoff.next_wait();
        self.sleep(wait).await
    }

    /// Sends what a parser found, counting rejections in the health, with the cursor reached.
    pub async fn send_parsed(
        &self,
        found: Vec<Parsed>,
        cursor: Option<String>,
    ) -> Result<(), SourceError> {
        let mut records = Vec::with_capacity(found.len());
        for item in found {
            match item {
                Ok(Record::Cursor(_)) => {}
                Ok(record) => records.push(record),
                Err(rejected) => {
                    self.health.rejected();
                    tracing::debug!(source = %self.name, %rejected, "Payload rejected.");
                }
            }
        }
        self.send(records, cursor).await
    }

    /// Sends records with the cursor reached after them.
    pub async fn send(
        &self,
        records: Vec<Record>,
        cursor: Option<String>,
    ) -> Result<(), SourceError> {
        let mut records = records;
        records.retain(|record| match record {
            Record::Change(Change::Upsert(post)) => match crate::check_size(post, self.max_post_bytes) {
                Ok(()) => true,
                Err(rejected) => {
                    self.health.rejected();
                    tracing::warn!(source = %self.name, %rejected, "A post over the size limit was left out.");
                    false
                }
            },
            _ => true,
        });
        let posts = records
            .iter()
            .filter(|record| matches!(record, Record::Change(_)))
            .count();
        self.health.received(posts as u64, cursor.as_deref());
        let batch = Batch {
            source: self.name.clone(),
            records,
            cursor,
        };
        let mut signal = self.shutdown.clone();
        tokio::select! {
            sent = self.sender.send(batch) => sent.map_err(|_| SourceError::Closed),
            // A pipeline too busy to take the batch must not hold up shutdown. The batch is
            // dropped with its cursor, so the next run resumes before it: nothing is lost.
            _ = signal.wait_for(|stop| *stop) => Ok(()),
        }
    }
}

/// Reads a secret from the environment variable `var`.
pub fn secret(var: &str) -> Result<String, SourceError> {
    std::env::var(var).map_err(|_| {
        SourceError::Config(format!(
            "the environment variable {var} is not set; set it to the access token"
        ))
    })
}

/// The greater of two numeric ids given as decimal strings (longer is greater).
pub fn max_id(current: Option<String>, candidate: &str) -> Option<String> {
    let key = |id: &str| (id.len(), id.to_owned());
    match current {
        Some(current) if key(&current) >= key(candidate) => Some(current),
        _ if candidate.is_empty() || !candidate.bytes().all(|b| b.is_ascii_digit()) => None,
        _ => Some(candidate.to_owned()),
    }
}
