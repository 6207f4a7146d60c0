//! Dashboards added up from counts per hour kept in memory, so that a dashboard over a week
//! re-reads only the hours that changed instead of every post of the week.
//!
//! Design and invariants:
//! - The store counts whole hours ([`store::DeskStore::dashboard_hours`]); this cache keeps
//!   them by monitor and hour, with the time they were counted.
//! - An hour counted before it had ended (plus [`SETTLE`], for late posts and analyses) is
//!   *hot*: it is counted again when its counts are older than [`HOT_TTL`].
//! - A settled hour can still change (an edit, a deletion, a new analysis, an import of older
//!   posts): the background warm-up counts the hours of the warmed dashboards again, those of
//!   the last day after [`RECHECK_RECENT`], older ones after [`RECHECK`] (a few per round),
//!   and a request counts again any hour older than [`STALE`]. So a change shows on the warmed
//!   dashboards within a minute or two for the last day and about ten minutes before that, and
//!   on the others within [`STALE`] at worst.
//! - The background warm-up counts one hour per store call and pauses between calls, so a
//!   request never queues behind a scan of a whole period.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

use jiff::{SignedDuration, Timestamp};
use store::{Dashboard, DashboardQuery, HourCounts};

use crate::{ApiError, AppState, blocking};

/// How long after its end an hour may still receive posts and analyses.
pub const SETTLE: SignedDuration = SignedDuration::from_mins(2);
/// How old the counts of a hot hour may be.
pub const HOT_TTL: SignedDuration = SignedDuration::from_secs(15);
/// When the warm-up counts a settled hour of the last day again.
pub const RECHECK_RECENT: SignedDuration = SignedDuration::from_mins(1);
/// When the warm-up counts an older settled hour again.
pub const RECHECK: SignedDuration = SignedDuration::from_mins(10);
/// When a request counts a settled hour again itself.
pub const STALE: SignedDuration = SignedDuration::from_hours(1);
/// How long an added-up dashboard is reused.
pub const DASHBOARD_TTL: Duration = Duration::from_secs(30);
/// Settled hours older than a day counted again per warm-up round (hours of the last day are
/// all counted again when due).
const RECHECKS_PER_ROUND: usize = 12;
/// The pause between two hours counted by the warm-up.
const PAUSE: Duration = Duration::from_millis(20);
/// Hours further back than this are dropped from the cache.
const KEEP: SignedDuration = SignedDuration::from_hours(32 * 24);
/// Monitor hours not counted for this long are dropped (monitor dashboards are not warmed).
const KEEP_MONITOR: SignedDuration = SignedDuration::from_hours(2);

/// An hour's counts and when they were taken.
struct CachedHour {
    counts: Arc<HourCounts>,
    counted: Timestamp,
}

/// A dashboard's period end and monitor, as the added-up cache knows it.
pub type DashboardKey = (String, Option<i64>);

/// Counts per hour, and the dashboards added up from them in the last [`DASHBOARD_TTL`].
#[derive(Default)]
pub struct DashboardCache {
    hours: Mutex<HashMap<(Option<i64>, i64), CachedHour>>,
    dashboards: Mutex<HashMap<DashboardKey, (Instant, Arc<Dashboard>)>>,
}

/// Why an hour is counted again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Need {
    Fresh,
    Missing,
    Hot,
    Recheck,
    Stale,
}

fn need(start: Timestamp, cached: Option<&CachedHour>, now: Timestamp) -> Need {
    let Some(cached) = cached else {
        return Need::Missing;
    };
    let settled_at = start
        .checked_add(SignedDuration::from_hours(1) + SETTLE)
        .unwrap_or(start);
    let age = now.duration_since(cached.counted);
    if cached.counted < settled_at {
        if age > HOT_TTL {
            Need::Hot
        } else {
            Need::Fresh
        }
    } else if age > STALE {
        Need::Stale
    } else if age > RECHECK
        || (age > RECHECK_RECENT && now.duration_since(start) < SignedDuration::from_hours(24))
    {
        Need::Recheck
    } else {
        Need::Fresh
    }
}

/// The hour starts of a query's period.
fn hour_starts(query: &DashboardQuery) -> Vec<Timestamp> {
    let mut starts = Vec::new();
    let mut at = store::accounts::hour_floor(query.since);
    while at < query.until && starts.len() < 24 * 400 {
        starts.push(at);
        match at.checked_add(SignedDuration::from_hours(1)) {
            Ok(next) => at = next,
            Err(_) => break,
        }
    }
    starts
}

impl DashboardCache {
    fn lock_hours(&self) -> std::sync::MutexGuard<'_, HashMap<(Option<i64>, i64), CachedHour>> {
        self.hours.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The hours of `query` that must be counted: those whose need is in `counted_again`.
    fn wanted(&self, query: &DashboardQuery, counted_again: &[Need]) -> Vec<(Timestamp, Need)> {
        let now = Timestamp::now();
        let hours = self.lock_hours();
        hour_starts(query)
            .into_iter()
            .map(|start| {
                let key = (query.monitor, start.as_second());
                (start, need(start, hours.get(&key), now))
            })
            .filter(|(_, need)| counted_again.contains(need))
            .collect()
    }

    fn keep(&self, monitor: Option<i64>, counted: Timestamp, found: Vec<HourCounts>) {
        let mut hours = self.lock_hours();
        for counts in found {
            hours.insert(
                (monitor, counts.start.as_second()),
                CachedHour {
                    counts: Arc::new(counts),
                    counted,
                },
            );
        }
    }

    /// Drops hours too old to be shown and monitor hours nobody asked for lately.
    fn forget_old(&self) {
        let now = Timestamp::now();
        let oldest = now.checked_sub(KEEP).unwrap_or(now).as_second();
        let mut hours = self.lock_hours();
        hours.retain(|(monitor, start), cached| {
            *start >= oldest
                && (monitor.is_none() || now.duration_since(cached.counted) < KEEP_MONITOR)
        });
    }

    fn cached_dashboard(&self, key: &DashboardKey) -> Option<Arc<Dashboard>> {
        self.dashboards
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(key)
            .filter(|(at, _)| at.elapsed() < DASHBOARD_TTL)
            .map(|(_, data)| Arc::clone(data))
    }

    fn keep_dashboard(&self, key: DashboardKey, data: Arc<Dashboard>) {
        let mut dashboards = self
            .dashboards
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        dashboards.retain(|_, (at, _)| at.elapsed() < DASHBOARD_TTL);
        dashboards.insert(key, (Instant::now(), data));
    }
}

/// Counts `starts` (sorted) in as few store calls as there are runs of consecutive hours.
async fn count_runs(
    state: &AppState,
    monitor: Option<i64>,
    starts: &[Timestamp],
) -> Result<(), ApiError> {
    let mut runs: Vec<(Timestamp, Timestamp)> = Vec::new();
    for start in starts {
        let end = start
            .checked_add(SignedDuration::from_hours(1))
            .map_err(|e| ApiError::Internal(e.to_string()))?;
        match runs.last_mut() {
            Some(run) if run.1 == *start => run.1 = end,
            _ => runs.push((*start, end)),
        }
    }
    for (since, until) in runs {
        let counted = Timestamp::now();
        let found = blocking(state, move |store| {
            Ok(store.dashboard_hours(since, until, monitor)?)
        })
        .await?;
        state.dashboards.keep(monitor, counted, found);
    }
    Ok(())
}

/// Adds up the cached hours of `query` (all present) into a dashboard.
async fn add_up(state: &AppState, query: &DashboardQuery) -> Result<Arc<Dashboard>, ApiError> {
    let parts: Vec<Arc<HourCounts>> = {
        let hours = state.dashboards.lock_hours();
        hour_starts(query)
            .into_iter()
            .filter_map(|start| {
                hours
                    .get(&(query.monitor, start.as_second()))
                    .map(|cached| Arc::clone(&cached.counts))
            })
            .collect()
    };
    let run = query.clone();
    let data = blocking(state, move |store| {
        Ok(store::accounts::add_up(
            &run,
            parts.iter().map(Arc::as_ref),
            |keys| store.author_labels(keys),
        )?)
    })
    .await?;
    Ok(Arc::new(data))
}

/// The dashboard of `query`, reused for [`DASHBOARD_TTL`] under `key`; hours missing, hot or
/// stale are counted first.
pub async fn load(
    state: &AppState,
    key: DashboardKey,
    query: &DashboardQuery,
) -> Result<Arc<Dashboard>, ApiError> {
    if let Some(data) = state.dashboards.cached_dashboard(&key) {
        return Ok(data);
    }
    let wanted: Vec<Timestamp> = state
        .dashboards
        .wanted(query, &[Need::Missing, Need::Hot, Need::Stale])
        .into_iter()
        .map(|(start, _)| start)
        .collect();
    count_runs(state, query.monitor, &wanted).await?;
    let data = add_up(state, query).await?;
    state.dashboards.keep_dashboard(key, Arc::clone(&data));
    Ok(data)
}

/// One round of the warm-up for `query`: counts the hours that are missing, hot or stale, and up
/// to [`RECHECKS_PER_ROUND`] settled hours due for a recheck, one hour per store call with a
/// pause between; then adds the dashboard up again and keeps it under `key`.
pub async fn warm(
    state: &AppState,
    key: DashboardKey,
    query: &DashboardQuery,
) -> Result<(), ApiError> {
    let wanted = state.dashboards.wanted(
        query,
        &[Need::Missing, Need::Hot, Need::Stale, Need::Recheck],
    );
    let mut rechecks = 0;
    let recent = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(24))
        .unwrap_or(query.since);
    for (start, need) in wanted {
        if need == Need::Recheck && start < recent {
            if rechecks == RECHECKS_PER_ROUND {
                continue;
            }
            rechecks += 1;
        }
        count_runs(state, query.monitor, &[start]).await?;
        tokio::time::sleep(PAUSE).await;
    }
    state.dashboards.forget_old();
    let data = add_up(state, query).await?;
    state.dashboards.keep_dashboard(key, data);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn hours_are_hot_until_counted_after_they_settle_then_rechecked() {
        let start = at("2026-01-01T10:00:00Z");
        let counted = |time: &str| CachedHour {
            counts: Arc::new(HourCounts::empty(start)),
            counted: at(time),
        };
        assert_eq!(need(start, None, at("2026-01-01T10:30:00Z")), Need::Missing);
        let early = counted("2026-01-01T10:30:00Z");
        assert_eq!(
            need(start, Some(&early), at("2026-01-01T10:30:10Z")),
            Need::Fresh
        );
        assert_eq!(
            need(start, Some(&early), at("2026-01-01T10:30:16Z")),
            Need::Hot
        );
        let late = counted("2026-01-01T11:01:00Z");
        assert_eq!(
            need(start, Some(&late), at("2026-01-01T11:01:30Z")),
            Need::Hot
        );
        let settled = counted("2026-01-01T11:03:00Z");
        assert_eq!(
            need(start, Some(&settled), at("2026-01-01T11:03:50Z")),
            Need::Fresh
        );
        assert_eq!(
            need(start, Some(&settled), at("2026-01-01T11:04:10Z")),
            Need::Recheck
        );
        let old = counted("2026-01-03T11:00:00Z");
        assert_eq!(
            need(start, Some(&old), at("2026-01-03T11:05:00Z")),
            Need::Fresh
        );
        assert_eq!(
            need(start, Some(&old), at("2026-01-03T11:11:00Z")),
            Need::Recheck
        );
        assert_eq!(
            need(start, Some(&old), at("2026-01-03T12:01:00Z")),
            Need::Stale
        );
    }

    #[test]
    fn a_period_is_its_whole_hours() {
        let query = DashboardQuery {
            since: at("2026-01-01T00:00:00Z"),
            until: at("2026-01-02T00:00:00Z"),
            monitor: None,
            bucket_seconds: 3_600,
            utc_offset_seconds: 0,
            top: 10,
        };
        let starts = hour_starts(&query);
        assert_eq!(starts.len(), 24);
        assert_eq!(starts[23], at("2026-01-01T23:00:00Z"));
    }
}
