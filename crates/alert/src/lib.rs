//! Alert detectors: what turns a stream of analysed posts into a handful of alerts.
//!
//! The [`Engine`] keeps, for every scope (the whole organisation, and each monitor), a sliding
//! window of per-minute counts and a seasonal baseline that knows the hour of the day and the day
//! of the week (see [`seasonal`]). Four detectors run on every post:
//!
//! - a **volume spike**: the posts of the last few minutes against the baseline, tested with a
//!   Poisson-style z score, a minimum ratio and a minimum count;
//! - a **negative surge**: the negative share of the last half hour against its baseline, only
//!   with enough volume;
//! - a **high-priority post**: safety, personal data exposed, a complaint from an account with a
//!   large reach, or a journalist;
//! - a **watch-list phrase** ("data breach", "never event", "outbreak", ...).
//!
//! Invariants:
//! - the engine is pure and driven by time given by the caller (post timestamps in a replay, the
//!   wall clock when live, plus [`Engine::tick`]), so a replay gives the same alerts;
//! - the work per post is O(1) per scope: a minute roll-over touches a fixed number of buckets;
//! - one situation makes **one** alert: a trigger with the key of an open alert updates it (count,
//!   peak, last seen, severity) and only a quiet cool-down resolves it.

pub mod engine;
pub mod seasonal;

use jiff::Timestamp;
use model::Network;
use serde::{Deserialize, Serialize};

pub use engine::{Engine, MonitorSpec};

/// How urgent an alert is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Worth a look.
    #[default]
    Info,
    /// Look soon.
    Warning,
    /// Look now.
    Critical,
}

impl Severity {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// Which detector raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Many more posts than usual at this hour and weekday.
    VolumeSpike,
    /// A much larger share of negative posts than usual, with enough volume.
    NegativeSurge,
    /// One post that needs a human now (see the alert's `detail` for why).
    HighPriorityPost,
    /// A phrase on the watch list (the alert's `detail`).
    WatchPhrase,
}

impl AlertKind {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertKind::VolumeSpike => "volume_spike",
            AlertKind::NegativeSurge => "negative_surge",
            AlertKind::HighPriorityPost => "high_priority_post",
            AlertKind::WatchPhrase => "watch_phrase",
        }
    }
}

/// Whether an alert is still going on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// Triggers arrived within the cool-down.
    #[default]
    Open,
    /// Quiet for the whole cool-down.
    Resolved,
}

/// A post that drove an alert, short enough to show in a banner or a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostRef {
    /// The network.
    pub network: Network,
    /// The network's id of the post.
    pub id: String,
    /// The post's address, when known.
    pub url: Option<String>,
    /// The author's handle.
    pub author: String,
    /// The start of the text (at most 280 characters).
    pub text: String,
    /// When the post was observed by the engine.
    pub at: Timestamp,
}

/// One alert: a situation, updated while it lasts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Unique within one engine's life; stores give their own ids.
    pub id: u64,
    /// The scope: a monitor's name, or the organisation-wide scope.
    pub scope: String,
    /// Which detector.
    pub kind: AlertKind,
    /// What exactly: the phrase, the priority reason; empty for spikes and surges.
    pub detail: String,
    /// How urgent, the highest reached so far.
    pub severity: Severity,
    /// One line a person reads first.
    pub title: String,
    /// Open or resolved.
    pub state: AlertState,
    /// The time of the first trigger.
    pub first_seen: Timestamp,
    /// The time of the latest trigger.
    pub last_seen: Timestamp,
    /// Triggering posts counted since it opened.
    pub count: u64,
    /// The peak measure: posts in the window (spike), negative share (surge), or posts.
    pub peak: f64,
    /// What the baseline expected at the peak (same unit as `peak`).
    pub expected: f64,
    /// The first posts that drove it (at most [`AlertConfig::sample_posts`]).
    pub posts: Vec<PostRef>,
    /// When it was resolved.
    pub resolved_at: Option<Timestamp>,
    /// Increases with every update sent, so a listener can drop stale ones.
    pub revision: u32,
}

/// What happened to an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UpdateKind {
    /// A new alert.
    Opened,
    /// Its severity went up.
    Escalated,
    /// New counts or peak (throttled to one per update interval).
    Updated,
    /// Quiet for the whole cool-down.
    Resolved,
}

impl UpdateKind {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            UpdateKind::Opened => "opened",
            UpdateKind::Escalated => "escalated",
            UpdateKind::Updated => "updated",
            UpdateKind::Resolved => "resolved",
        }
    }

    /// Whether people should be notified (webhook, email): openings and escalations.
    pub const fn notifies(self) -> bool {
        matches!(self, UpdateKind::Opened | UpdateKind::Escalated)
    }
}

/// An alert as it is after an update, and what the update was.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertUpdate {
    /// What happened.
    pub kind: UpdateKind,
    /// The alert after the update.
    pub alert: Alert,
}

/// The detectors' settings. Every field has a default that suits a trust of medium size.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertConfig {
    /// The name of the organisation-wide scope (every post is in it).
    pub organisation_scope: String,
    /// The time zone whose hours and weekdays the baseline learns.
    pub timezone: String,
    /// Seconds without a trigger after which an alert is resolved.
    pub cooldown_secs: u64,
    /// Seconds between two `updated` messages of one alert (escalations are sent at once).
    pub update_interval_secs: u64,
    /// Posts kept in each alert as examples.
    pub sample_posts: usize,
    /// Volume spike settings.
    pub spike: SpikeConfig,
    /// Negative surge settings.
    pub negative: NegativeConfig,
    /// High-priority post settings.
    pub priority: PriorityConfig,
    /// Watch-list phrases, matched without case anywhere in the text or title.
    pub watch_phrases: Vec<String>,
}

impl Default for AlertConfig {
    fn default() -> Self {
        AlertConfig {
            organisation_scope: "all posts".to_owned(),
            timezone: "Europe/London".to_owned(),
            cooldown_secs: 3600,
            update_interval_secs: 60,
            sample_posts: 10,
            spike: SpikeConfig::default(),
            negative: NegativeConfig::default(),
            priority: PriorityConfig::default(),
            watch_phrases: [
                "data breach",
                "never event",
                "outbreak",
                "cyber attack",
                "strike",
            ]
            .map(str::to_owned)
            .to_vec(),
        }
    }
}

/// Volume spike detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SpikeConfig {
    /// Minutes in the sliding window counted against the baseline.
    pub window_minutes: u32,
    /// Fewest posts in the window that can make a spike.
    pub min_count: u32,
    /// The window must hold at least this multiple of the expected count.
    pub min_ratio: f64,
    /// And be this many standard deviations (Poisson) above it.
    pub z: f64,
    /// Minutes of history before any spike is raised (warm-up).
    pub warmup_minutes: u32,
    /// The window at this multiple of the expected count makes the alert critical.
    pub critical_ratio: f64,
}

impl Default for SpikeConfig {
    fn default() -> Self {
        SpikeConfig {
            window_minutes: 10,
            min_count: 6,
            min_ratio: 3.0,
            z: 5.0,
            warmup_minutes: 360,
            critical_ratio: 8.0,
        }
    }
}

/// Negative surge detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NegativeConfig {
    /// Minutes in the sliding window.
    pub window_minutes: u32,
    /// Fewest posts in the window for the share to count.
    pub min_volume: u32,
    /// The share must exceed the baseline share by at least this much (0.2 = 20 points).
    pub min_increase: f64,
    /// And be this many standard deviations (binomial) above it.
    pub z: f64,
    /// Posts seen before any surge is raised (warm-up).
    pub warmup_posts: u64,
}

impl Default for NegativeConfig {
    fn default() -> Self {
        NegativeConfig {
            window_minutes: 30,
            min_volume: 30,
            min_increase: 0.2,
            z: 4.0,
            warmup_posts: 300,
        }
    }
}

/// High-priority post detector settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PriorityConfig {
    /// Raise an alert for a post with the safety intent.
    pub safety: bool,
    /// Raise an alert for a post exposing personal data (such as an NHS number).
    pub personal_data: bool,
    /// Followers from which a complaint counts as one from an account with a large reach
    /// (0 turns it off).
    pub reach_followers: u64,
    /// Raise an alert for a post by a journalist.
    pub journalist: bool,
}

impl Default for PriorityConfig {
    fn default() -> Self {
        PriorityConfig {
            safety: true,
            personal_data: true,
            reach_followers: 10_000,
            journalist: true,
        }
    }
}

/// Why the configuration cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A monitor's query does not parse.
    #[error("the monitor `{name}` has a query that cannot be read ({source}); correct its words")]
    Query {
        /// The monitor.
        name: String,
        /// The cause.
        source: model::query::QueryError,
    },
    /// The watch list cannot be compiled.
    #[error("the watch list cannot be compiled ({message}); shorten or simplify the phrases")]
    WatchList {
        /// The cause.
        message: String,
    },
    /// A window of zero minutes.
    #[error("`{field}` must be at least 1 minute")]
    Window {
        /// The setting.
        field: &'static str,
    },
}
