//! Alerts in the store: each situation the detectors raised, its updates (the timeline of the
//! crisis view), and the last known health of the live connectors.
//!
//! An alert is identified by its scope, detector, detail and first trigger time, so saving the
//! updates of an engine that restarted never duplicates an alert. The whole [`alert::Alert`] is
//! kept as JSON beside the columns that lists filter and sort by.

use alert::{Alert, AlertState, Severity, UpdateKind};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// An alert with the store's id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAlert {
    /// The store's id (stable across restarts; use it in addresses).
    pub id: i64,
    /// The alert as last updated.
    pub alert: Alert,
}

/// One update of an alert, for its timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertEvent {
    /// When it was saved.
    pub at: Timestamp,
    /// What happened.
    pub kind: UpdateKind,
    /// The severity after it.
    pub severity: Severity,
    /// Triggering posts counted so far.
    pub count: u64,
    /// The peak measure so far.
    pub peak: f64,
}

/// Which alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlertFilter {
    /// Only open ones, or only resolved ones; `None` for both.
    pub state: Option<AlertState>,
    /// At most this many, most recently active first.
    pub limit: usize,
}

impl Default for AlertFilter {
    fn default() -> Self {
        AlertFilter {
            state: None,
            limit: 50,
        }
    }
}

/// A connector's health as last saved (the JSON of the connector's own health record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedHealth {
    /// The connector's name.
    pub source: String,
    /// Its health, as JSON.
    pub data: String,
    /// When it was saved.
    pub updated_at: Timestamp,
}

/// Storage of alerts and connector health.
pub trait AlertStore: Send + Sync {
    /// Saves an update: the alert is inserted the first time and replaced afterwards, and the
    /// update is appended to its timeline. Returns the store's id of the alert.
    fn save_alert_update(&self, kind: UpdateKind, alert: &Alert) -> Result<i64, StoreError>;

    /// One alert by the store's id.
    fn alert(&self, id: i64) -> Result<Option<StoredAlert>, StoreError>;

    /// Alerts, most recently active first.
    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError>;

    /// The updates of one alert, oldest first.
    fn alert_timeline(&self, id: i64) -> Result<Vec<AlertEvent>, StoreError>;

    /// Saves the health of connectors (replacing what was saved for each).
    fn save_health(&self, health: &[SavedHealth]) -> Result<(), StoreError>;

    /// The health last saved for every connector, by name.
    fn saved_health(&self) -> Result<Vec<SavedHealth>, StoreError>;

    /// Hides an alert from one person's banner while its severity stays at or below
    /// `severity` (dismissing again replaces the earlier dismissal).
    fn dismiss_alert(
        &self,
        user_id: i64,
        alert_id: i64,
        severity: Severity,
        at: Timestamp,
    ) -> Result<(), StoreError>;

    /// The alerts one person dismissed, with the severity each had then.
    fn dismissed_alerts(&self, user_id: i64) -> Result<Vec<(i64, Severity)>, StoreError>;
}
