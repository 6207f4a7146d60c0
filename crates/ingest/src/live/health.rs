//! The health of a connector: connected or not, the last event, the lag, and counters, for a
//! status page and `/healthz`.
//!
//! A [`Health`] is a cheap handle (an `Arc`) shared by the connector, which writes it, and the
//! readers, which take a [`HealthSnapshot`]. The lock is held for a few field writes only.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::Timestamp;
use serde::Serialize;

/// A point-in-time copy of a connector's health.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct HealthSnapshot {
    /// The connector's name.
    pub source: String,
    /// Whether a connection is open (pollers: whether the last poll worked).
    pub connected: bool,
    /// When the last event or keep-alive arrived.
    pub last_event: Option<Timestamp>,
    /// Milliseconds between the last event's own time (its cursor, for Jetstream) and its
    /// arrival, when the network tells it.
    pub lag_ms: Option<i64>,
    /// Batches received.
    pub events: u64,
    /// Posts and deletions received.
    pub posts: u64,
    /// Payloads the parsers rejected.
    pub rejected: u64,
    /// Connection or request failures.
    pub errors: u64,
    /// Reconnects (and retried polls) so far.
    pub reconnects: u64,
    /// The last failure, in words.
    pub last_error: Option<String>,
    /// The cursor reached.
    pub cursor: Option<String>,
}

/// A shared, updatable health record.
#[derive(Debug, Clone, Default)]
pub struct Health(Arc<Mutex<HealthSnapshot>>);

impl Health {
    /// A health record for the connector `source`.
    pub fn new(source: &str) -> Self {
        Health(Arc::new(Mutex::new(HealthSnapshot {
            source: source.to_owned(),
            ..HealthSnapshot::default()
        })))
    }

    fn update(&self, change: impl FnOnce(&mut HealthSnapshot)) {
        let mut guard = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        change(&mut guard);
    }

    /// A copy of the current health.
    pub fn snapshot(&self) -> HealthSnapshot {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// A connection opened (or a poll worked).
    pub fn connected(&self) {
        self.update(|h| {
            h.connected = true;
            h.last_event = Some(Timestamp::now());
        });
    }

    /// The connection closed; a reconnect follows.
    pub fn disconnected(&self) {
        self.update(|h| {
            h.connected = false;
            h.reconnects += 1;
        });
    }

    /// A failure.
    pub fn error(&self, error: &str) {
        self.update(|h| {
            h.errors += 1;
            h.last_error = Some(error.to_owned());
        });
    }

    /// A keep-alive arrived.
    pub fn touch(&self) {
        self.update(|h| h.last_event = Some(Timestamp::now()));
    }

    /// A payload was rejected by its parser.
    pub fn rejected(&self) {
        self.update(|h| h.rejected += 1);
    }

    /// A batch of `posts` arrived, reaching `cursor`.
    pub fn received(&self, posts: u64, cursor: Option<&str>) {
        self.update(|h| {
            h.events += 1;
            h.posts += posts;
            h.last_event = Some(Timestamp::now());
            if let Some(cursor) = cursor {
                h.cursor = Some(cursor.to_owned());
            }
        });
    }

    /// The network's own time of the last event, to compute the lag.
    pub fn event_time(&self, time: Timestamp) {
        let lag = Timestamp::now().as_millisecond() - time.as_millisecond();
        self.update(|h| h.lag_ms = Some(lag));
    }

    /// Sets the cursor (at start, from the saved value).
    pub fn set_cursor(&self, cursor: Option<String>) {
        self.update(|h| h.cursor = cursor);
    }
}
