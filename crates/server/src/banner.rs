//! The alert banner on every page: the open alerts a person has not dismissed, rendered into the
//! layout (so it works without JavaScript on the next page load) and pushed to open pages over
//! the live connection ([`crate::live`]).
//!
//! One [`Board`] per server keeps the open alerts in memory. It re-reads them from the store
//! when the pipeline in this process publishes an update on the [`notify::AlertHub`] (within
//! milliseconds), and every few seconds anyway, so alerts raised by a `switchboard listen` in
//! another process show too. Every change wakes the live connections, each of which renders the
//! banner for its own person (their dismissals applied).

use std::{
    sync::{
        Arc, RwLock,
        atomic::{AtomicBool, Ordering},
    },
    time::Duration,
};

use alert::{AlertState, Severity};
use askama::Template;
use jiff::{SignedDuration, Timestamp};
use notify::AlertHub;
use store::{AlertFilter, StoredAlert, WebStore};
use tokio::sync::{broadcast, watch};

use crate::{ApiError, AppState, blocking, views::london};

/// Open alerts older than this (by their last trigger) leave the banner, even if no resolution
/// was saved (a pipeline stopped before its cool-down ended).
pub const BANNER_AGE: SignedDuration = SignedDuration::from_hours(24);
/// A new critical alert, shown in full above the page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BannerAlert {
    /// The store's id.
    pub id: i64,
    /// One line.
    pub title: String,
    /// Triggering posts so far.
    pub count: u64,
    /// When it started (UK time).
    pub since: String,
}

/// How many open alerts there are of one severity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SeverityCount {
    /// `info`, `warning` or `critical`.
    pub severity: &'static str,
    /// The count in words: `1 critical`, `2 warnings`, `1 for information`.
    pub label: String,
}

/// What every page shows of the open alerts: one line of counts by severity, most severe first,
/// and in full only the critical alerts the person has not dismissed, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertLine {
    /// The counts, most severe first (severities without open alerts left out).
    pub counts: Vec<SeverityCount>,
    /// The new critical alerts, oldest first.
    pub banners: Vec<BannerAlert>,
    /// What a page compares to know whether its line is current (the live event's id).
    pub signature: String,
}

impl AlertLine {
    /// Whether there is nothing to show.
    pub fn is_empty(&self) -> bool {
        self.counts.is_empty()
    }
}

/// The words for a severity.
pub const fn severity_label(severity: Severity) -> &'static str {
    match severity {
        Severity::Info => "Information",
        Severity::Warning => "Warning",
        Severity::Critical => "Critical",
    }
}

/// `n` alerts of `severity` in words.
fn count_label(severity: Severity, n: usize) -> String {
    match (severity, n) {
        (Severity::Critical, n) => format!("{n} critical"),
        (Severity::Warning, 1) => "1 warning".to_owned(),
        (Severity::Warning, n) => format!("{n} warnings"),
        (Severity::Info, n) => format!("{n} for information"),
    }
}

/// The alert line a person sees: every open alert counted; critical ones shown in full until
/// the person dismisses them (a dismissal holds while the alert stays at that severity or
/// below).
pub fn visible(open: &[StoredAlert], dismissed: &[(i64, Severity)]) -> AlertLine {
    let counts: Vec<SeverityCount> = [Severity::Critical, Severity::Warning, Severity::Info]
        .into_iter()
        .filter_map(|severity| {
            let n = open.iter().filter(|s| s.alert.severity == severity).count();
            (n > 0).then(|| SeverityCount {
                severity: severity.as_str(),
                label: count_label(severity, n),
            })
        })
        .collect();
    let mut critical: Vec<&StoredAlert> = open
        .iter()
        .filter(|stored| stored.alert.severity == Severity::Critical)
        .filter(|stored| {
            !dismissed
                .iter()
                .any(|(id, severity)| *id == stored.id && *severity >= stored.alert.severity)
        })
        .collect();
    critical.sort_by_key(|stored| (stored.alert.first_seen, stored.id));
    let banners: Vec<BannerAlert> = critical
        .into_iter()
        .map(|stored| BannerAlert {
            id: stored.id,
            title: stored.alert.title.clone(),
            count: stored.alert.count,
            since: stored
                .alert
                .first_seen
                .to_zoned(london())
                .strftime("%H:%M on %-d %b")
                .to_string(),
        })
        .collect();
    let mut signature: Vec<String> = counts.iter().map(|c| c.label.clone()).collect();
    signature.extend(banners.iter().map(|b| format!("{}:{}", b.id, b.count)));
    AlertLine {
        counts,
        banners,
        signature: signature.join(" "),
    }
}

/// The open alerts, kept in memory for every page.
#[derive(Clone)]
pub struct Board {
    open: Arc<RwLock<Vec<StoredAlert>>>,
    changed: watch::Sender<u64>,
    started: Arc<AtomicBool>,
}

impl Default for Board {
    fn default() -> Self {
        Board::new()
    }
}

impl Board {
    /// An empty board.
    pub fn new() -> Board {
        Board {
            open: Arc::default(),
            changed: watch::Sender::new(0),
            started: Arc::default(),
        }
    }

    /// The open alerts, most recently active first.
    pub fn open(&self) -> Vec<StoredAlert> {
        self.open
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A receiver woken at every change.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changed.subscribe()
    }

    /// Replaces the open alerts; wakes the listeners when something a banner shows changed.
    pub fn replace(&self, fresh: Vec<StoredAlert>) {
        let mut open = self
            .open
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let same = open.len() == fresh.len()
            && open.iter().zip(&fresh).all(|(a, b)| {
                a.id == b.id
                    && a.alert.severity == b.alert.severity
                    && a.alert.count == b.alert.count
                    && a.alert.title == b.alert.title
            });
        if same {
            return;
        }
        *open = fresh;
        drop(open);
        self.changed.send_modify(|version| *version += 1);
    }

    /// Wakes the listeners (a person's dismissals changed what their banner shows).
    pub fn touch(&self) {
        self.changed.send_modify(|version| *version += 1);
    }

    /// Starts keeping the board (once; later calls do nothing): re-reads the store at every
    /// update on `hub` and every `every`.
    pub fn start(&self, store: Arc<dyn WebStore>, hub: AlertHub, every: Duration) {
        if self.started.swap(true, Ordering::SeqCst) {
            return;
        }
        let board = self.clone();
        tokio::spawn(async move {
            let mut updates = hub.subscribe();
            loop {
                let reader = Arc::clone(&store);
                match tokio::task::spawn_blocking(move || open_alerts(reader.as_ref())).await {
                    Ok(Ok(fresh)) => board.replace(fresh),
                    Ok(Err(error)) => tracing::warn!(%error, "Open alerts not read."),
                    Err(error) => tracing::warn!(%error, "Open alerts not read."),
                }
                tokio::select! {
                    received = updates.recv() => {
                        if matches!(received, Err(broadcast::error::RecvError::Closed)) {
                            tokio::time::sleep(every).await;
                        }
                    }
                    () = tokio::time::sleep(every) => {}
                }
            }
        });
    }
}

/// The open alerts active in the last [`BANNER_AGE`], from the store.
fn open_alerts(store: &dyn WebStore) -> Result<Vec<StoredAlert>, store::StoreError> {
    let now = Timestamp::now();
    let oldest = now.checked_sub(BANNER_AGE).unwrap_or(now);
    Ok(store
        .alerts(&AlertFilter {
            state: Some(AlertState::Open),
            limit: 50,
        })?
        .into_iter()
        .filter(|stored| stored.alert.last_seen >= oldest)
        .collect())
}

/// What the alert line's fragment needs (the names match the layout's, as both use one
/// template).
pub struct BannerContext {
    /// The line.
    pub alerts: AlertLine,
    /// The session's CSRF token, for the dismiss forms.
    pub csrf: String,
}

#[derive(Template)]
#[template(path = "alert_banner.html")]
struct BannerFragment {
    layout: BannerContext,
}

/// The alert line for `user` as HTML, with its signature.
pub(crate) async fn banner_html(
    state: &AppState,
    user_id: i64,
    csrf: String,
) -> Result<(String, String), ApiError> {
    let open = state.banner.open();
    let dismissed = if open.is_empty() {
        Vec::new()
    } else {
        blocking(state, move |store| Ok(store.dismissed_alerts(user_id)?)).await?
    };
    let alerts = visible(&open, &dismissed);
    let signature = alerts.signature.clone();
    let html = BannerFragment {
        layout: BannerContext { alerts, csrf },
    }
    .render()
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((html, signature))
}

#[cfg(test)]
mod tests {
    use alert::{Alert, AlertKind};

    use super::*;

    fn stored(id: i64, severity: Severity) -> StoredAlert {
        let at = Timestamp::now();
        StoredAlert {
            id,
            alert: Alert {
                id: 1,
                scope: "all posts".into(),
                kind: AlertKind::WatchPhrase,
                detail: "data breach".into(),
                severity,
                title: "Watch-list phrase".into(),
                state: AlertState::Open,
                first_seen: at,
                last_seen: at,
                count: 1,
                peak: 1.0,
                expected: 0.0,
                posts: Vec::new(),
                resolved_at: None,
                revision: 1,
            },
        }
    }

    #[test]
    fn a_dismissed_alert_shows_again_when_it_escalates() {
        let open = [stored(1, Severity::Critical), stored(2, Severity::Warning)];
        let shown = visible(&open, &[(1, Severity::Warning), (2, Severity::Warning)]);
        assert_eq!(shown.banners.len(), 1);
        assert_eq!(shown.banners[0].id, 1);
        let labels: Vec<&str> = shown.counts.iter().map(|c| c.label.as_str()).collect();
        assert_eq!(labels, ["1 critical", "1 warning"]);
        let dismissed = visible(&open, &[(1, Severity::Critical)]);
        assert!(dismissed.banners.is_empty());
        assert_eq!(dismissed.counts.len(), 2);
    }

    #[test]
    fn the_board_wakes_listeners_only_on_change() {
        let board = Board::new();
        let mut receiver = board.subscribe();
        board.replace(vec![stored(1, Severity::Warning)]);
        assert!(receiver.has_changed().unwrap());
        receiver.borrow_and_update();
        board.replace(vec![stored(1, Severity::Warning)]);
        assert!(!receiver.has_changed().unwrap());
    }
}
