//! The SQLite side of [`AlertStore`]: the `alerts`, `alert_updates` and `connector_health`
//! tables (migration 0007).
//!
//! Saving an update is one immediate transaction on the writer connection: an upsert of the
//! alert by its identity (scope, kind, detail, first trigger) and an append to its timeline.

use alert::{Alert, AlertState, Severity, UpdateKind};
use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::SqliteStore;
use crate::{
    StoreError,
    alerts::{AlertEvent, AlertFilter, AlertStore, SavedHealth, StoredAlert},
};

fn bad(detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, detail.into().into())
}

fn time(value: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(value).map_err(|e| bad(format!("time {value}: {e}")))
}

/// Reads an enum from its lower-case serde name.
fn named<T: serde::de::DeserializeOwned>(name: &str) -> rusqlite::Result<T> {
    serde_json::from_value(serde_json::Value::String(name.to_owned()))
        .map_err(|e| bad(format!("{name}: {e}")))
}

const fn state_name(state: AlertState) -> &'static str {
    match state {
        AlertState::Open => "open",
        AlertState::Resolved => "resolved",
    }
}

fn stored(id: i64, data: &str) -> rusqlite::Result<StoredAlert> {
    let alert: Alert = serde_json::from_str(data).map_err(|e| bad(e.to_string()))?;
    Ok(StoredAlert { id, alert })
}

impl AlertStore for SqliteStore {
    fn save_alert_update(&self, kind: UpdateKind, alert: &Alert) -> Result<i64, StoreError> {
        self.write_transaction(|conn| {
            let data = serde_json::to_string(alert).map_err(|e| bad(e.to_string()))?;
            let id: i64 = conn.query_row(
                "INSERT INTO alerts (scope, kind, detail, first_seen, last_seen, state, severity, \
                 data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) \
                 ON CONFLICT (scope, kind, detail, first_seen) DO UPDATE SET \
                 last_seen = excluded.last_seen, state = excluded.state, \
                 severity = excluded.severity, data = excluded.data \
                 RETURNING id",
                params![
                    alert.scope,
                    alert.kind.as_str(),
                    alert.detail,
                    alert.first_seen.as_microsecond(),
                    alert.last_seen.as_microsecond(),
                    state_name(alert.state),
                    alert.severity.as_str(),
                    data,
                ],
                |row| row.get(0),
            )?;
            conn.execute(
                "INSERT INTO alert_updates (alert_id, at, kind, severity, count, peak) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    id,
                    Timestamp::now().as_microsecond(),
                    kind.as_str(),
                    alert.severity.as_str(),
                    i64::try_from(alert.count).unwrap_or(i64::MAX),
                    alert.peak,
                ],
            )?;
            Ok(id)
        })
    }

    fn alert(&self, id: i64) -> Result<Option<StoredAlert>, StoreError> {
        self.read(|conn| {
            conn.query_row("SELECT id, data FROM alerts WHERE id = ?1", [id], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })
            .optional()?
            .map(|(id, data)| stored(id, &data))
            .transpose()
        })
    }

    fn alerts(&self, filter: &AlertFilter) -> Result<Vec<StoredAlert>, StoreError> {
        let state = filter.state.map(state_name);
        let limit = i64::try_from(filter.limit).unwrap_or(i64::MAX);
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT id, data FROM alerts WHERE (?1 IS NULL OR state = ?1) \
                 ORDER BY last_seen DESC, id DESC LIMIT ?2",
            )?;
            let rows = statement.query_map(params![state, limit], |row| {
                Ok((row.get::<_, i64>(0)?, row.get::<_, String>(1)?))
            })?;
            rows.map(|row| row.and_then(|(id, data)| stored(id, &data)))
                .collect()
        })
    }

    fn alert_timeline(&self, id: i64) -> Result<Vec<AlertEvent>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT at, kind, severity, count, peak FROM alert_updates WHERE alert_id = ?1 \
                 ORDER BY seq",
            )?;
            let rows = statement.query_map([id], |row| {
                Ok(AlertEvent {
                    at: time(row.get(0)?)?,
                    kind: named(&row.get::<_, String>(1)?)?,
                    severity: named(&row.get::<_, String>(2)?)?,
                    count: u64::try_from(row.get::<_, i64>(3)?).unwrap_or(0),
                    peak: row.get(4)?,
                })
            })?;
            rows.collect()
        })
    }

    fn save_health(&self, health: &[SavedHealth]) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            let mut statement = conn.prepare_cached(
                "INSERT INTO connector_health (source, data, updated_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (source) DO UPDATE SET data = excluded.data, \
                 updated_at = excluded.updated_at",
            )?;
            for record in health {
                statement.execute(params![
                    record.source,
                    record.data,
                    record.updated_at.as_microsecond()
                ])?;
            }
            Ok(())
        })
    }

    fn saved_health(&self) -> Result<Vec<SavedHealth>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT source, data, updated_at FROM connector_health ORDER BY source",
            )?;
            let rows = statement.query_map([], |row| {
                Ok(SavedHealth {
                    source: row.get(0)?,
                    data: row.get(1)?,
                    updated_at: time(row.get(2)?)?,
                })
            })?;
            rows.collect()
        })
    }

    fn dismiss_alert(
        &self,
        user_id: i64,
        alert_id: i64,
        severity: Severity,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            conn.execute(
                "INSERT INTO alert_dismissals (user_id, alert_id, severity, at) \
                 VALUES (?1, ?2, ?3, ?4) ON CONFLICT (user_id, alert_id) DO UPDATE SET \
                 severity = excluded.severity, at = excluded.at",
                params![user_id, alert_id, severity.as_str(), at.as_microsecond()],
            )?;
            Ok(())
        })
    }

    fn dismissed_alerts(&self, user_id: i64) -> Result<Vec<(i64, Severity)>, StoreError> {
        self.read(|conn| {
            let mut statement = conn.prepare_cached(
                "SELECT alert_id, severity FROM alert_dismissals WHERE user_id = ?1",
            )?;
            let rows = statement.query_map([user_id], |row| {
                Ok((row.get::<_, i64>(0)?, named(&row.get::<_, String>(1)?)?))
            })?;
            rows.collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use alert::{AlertKind, Severity};

    use super::*;

    fn alert(count: u64, state: AlertState) -> Alert {
        let at: Timestamp = "2026-07-04T10:00:00Z".parse().unwrap();
        Alert {
            id: 1,
            scope: "all posts".into(),
            kind: AlertKind::VolumeSpike,
            detail: String::new(),
            severity: if count > 10 {
                Severity::Critical
            } else {
                Severity::Warning
            },
            title: "Spike.".into(),
            state,
            first_seen: at,
            last_seen: at + jiff::SignedDuration::from_secs(count as i64),
            count,
            peak: count as f64,
            expected: 2.0,
            posts: Vec::new(),
            resolved_at: None,
            revision: 1,
        }
    }

    #[test]
    fn updates_of_one_alert_make_one_row_and_a_timeline() {
        let store = SqliteStore::open_in_memory().unwrap();
        let first = store
            .save_alert_update(UpdateKind::Opened, &alert(5, AlertState::Open))
            .unwrap();
        let again = store
            .save_alert_update(UpdateKind::Escalated, &alert(20, AlertState::Open))
            .unwrap();
        assert_eq!(first, again);
        let open = store
            .alerts(&AlertFilter {
                state: Some(AlertState::Open),
                limit: 10,
            })
            .unwrap();
        assert_eq!(open.len(), 1);
        assert_eq!(open[0].alert.count, 20);
        store
            .save_alert_update(UpdateKind::Resolved, &alert(20, AlertState::Resolved))
            .unwrap();
        assert!(
            store
                .alerts(&AlertFilter {
                    state: Some(AlertState::Open),
                    limit: 10
                })
                .unwrap()
                .is_empty()
        );
        let timeline = store.alert_timeline(first).unwrap();
        let kinds: Vec<_> = timeline.iter().map(|e| e.kind).collect();
        assert_eq!(
            kinds,
            [
                UpdateKind::Opened,
                UpdateKind::Escalated,
                UpdateKind::Resolved
            ]
        );
        assert_eq!(timeline[1].severity, Severity::Critical);
        assert_eq!(
            store.alert(first).unwrap().unwrap().alert.state,
            AlertState::Resolved
        );
        assert!(store.alert(first + 100).unwrap().is_none());
    }

    #[test]
    fn connector_health_is_replaced_per_source() {
        let store = SqliteStore::open_in_memory().unwrap();
        let at = Timestamp::now();
        let record = |data: &str| SavedHealth {
            source: "bluesky".into(),
            data: data.into(),
            updated_at: at,
        };
        store
            .save_health(&[record("{\"connected\":true}")])
            .unwrap();
        store
            .save_health(&[record("{\"connected\":false}")])
            .unwrap();
        let saved = store.saved_health().unwrap();
        assert_eq!(saved.len(), 1);
        assert_eq!(saved[0].data, "{\"connected\":false}");
    }

    #[test]
    fn a_dismissal_is_per_person_and_replaced() {
        let store = SqliteStore::open_in_memory().unwrap();
        let id = store
            .save_alert_update(UpdateKind::Opened, &alert(5, AlertState::Open))
            .unwrap();
        let at = Timestamp::now();
        store.dismiss_alert(1, id, Severity::Warning, at).unwrap();
        store.dismiss_alert(1, id, Severity::Critical, at).unwrap();
        assert_eq!(
            store.dismissed_alerts(1).unwrap(),
            [(id, Severity::Critical)]
        );
        assert!(store.dismissed_alerts(2).unwrap().is_empty());
    }
}
