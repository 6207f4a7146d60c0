//! The SQLite side of [`EngageStore`]: matrix versions, cases, notes, drafts, reviews and the
//! audit log.
//!
//! Cases and drafts are stored whole as JSON in `data`, with the columns that lists filter and
//! order by beside it. Each write runs in one transaction on the writer connection together with
//! its audit entries; the audit chain is extended inside that transaction from the last stored
//! hash. The audit table is only ever inserted into (triggers refuse UPDATE and DELETE).

use engage::{AuditEntry, Case, CaseFilter, CaseState, Draft, DraftStatus, NewAuditEntry, Note};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params, types::Value};

use super::SqliteStore;
use crate::{
    StoreError,
    engage::{AuditQuery, DraftFilter, EngageStore, MatrixVersion, Review},
};

fn bad(detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, detail.into().into())
}

fn time(value: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(value).map_err(|e| bad(format!("time {value}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| bad(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| bad(e.to_string()))
}

/// Appends audit entries in the current transaction, chaining from the last stored one.
pub(super) fn append(
    conn: &Connection,
    entries: &[NewAuditEntry],
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut last = conn
        .query_row(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
             ORDER BY seq DESC LIMIT 1",
            [],
            audit_row,
        )
        .optional()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, prev_hash, hash) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let next = AuditEntry::chain(last.as_ref(), e.clone());
        insert.execute(params![
            next.seq as i64,
            next.entry.at.as_microsecond(),
            next.entry.actor,
            next.entry.action,
            next.entry.subject,
            next.entry.detail,
            next.prev_hash,
            next.hash,
        ])?;
        out.push(next.clone());
        last = Some(next);
    }
    Ok(out)
}

fn audit_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
    Ok(AuditEntry {
        seq: row
            .get::<_, i64>(0)?
            .try_into()
            .map_err(|_| bad("negative seq"))?,
        entry: NewAuditEntry {
            at: time(row.get(1)?)?,
            actor: row.get(2)?,
            action: row.get(3)?,
            subject: row.get(4)?,
            detail: row.get(5)?,
        },
        prev_hash: row.get(6)?,
        hash: row.get(7)?,
    })
}

fn matrix_row(row: &Row<'_>) -> rusqlite::Result<MatrixVersion> {
    Ok(MatrixVersion {
        version: row
            .get::<_, i64>(0)?
            .try_into()
            .map_err(|_| bad("negative version"))?,
        author: row.get(1)?,
        at: time(row.get(2)?)?,
        text: row.get(3)?,
        diff: row.get(4)?,
    })
}

fn put_case(conn: &Connection, case: &Case) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO cases (id, state, assignee, rule, due_at, first_response_at, \
         opened_at, data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?
    .execute(params![
        case.id,
        case.state.as_str(),
        case.assignee,
        case.rule,
        case.due_at.map(|t| t.as_microsecond()),
        case.first_response_at.map(|t| t.as_microsecond()),
        case.opened_at.as_microsecond(),
        to_json(case)?,
    ])?;
    Ok(())
}

fn put_draft(conn: &Connection, draft: &Draft) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO drafts (id, case_id, status, author, scheduled_at, updated_at, \
         data) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        draft.id,
        draft.case_id,
        draft.status.as_str(),
        draft.author,
        draft.scheduled_at.map(|t| t.as_microsecond()),
        draft.updated_at.as_microsecond(),
        to_json(draft)?,
    ])?;
    Ok(())
}

impl EngageStore for SqliteStore {
    fn set_matrix(
        &self,
        text: &str,
        author: &str,
        diff: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<MatrixVersion, StoreError> {
        self.write_transaction(|conn| {
            conn.execute(
                "INSERT INTO matrix_versions (author, at, text, diff) VALUES (?1, ?2, ?3, ?4)",
                params![author, at.as_microsecond(), text, diff],
            )?;
            let version = conn.last_insert_rowid();
            let mut entry = audit.clone();
            entry.subject = format!("matrix:{version}");
            append(conn, &[entry])?;
            Ok(MatrixVersion {
                version: version.try_into().unwrap_or_default(),
                author: author.to_owned(),
                at,
                text: text.to_owned(),
                diff: diff.to_owned(),
            })
        })
    }

    fn active_matrix(&self) -> Result<Option<MatrixVersion>, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT version, author, at, text, diff FROM matrix_versions \
                 ORDER BY version DESC LIMIT 1",
                [],
                matrix_row,
            )
            .optional()
        })
    }

    fn matrix_versions(&self, limit: usize) -> Result<Vec<MatrixVersion>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT version, author, at, text, diff FROM matrix_versions \
                 ORDER BY version DESC LIMIT ?1",
            )?;
            stmt.query_map([limit as i64], matrix_row)?.collect()
        })
    }

    fn save_case(&self, case: &Case, audit: &[NewAuditEntry]) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            put_case(conn, case)?;
            append(conn, audit)?;
            Ok(())
        })
    }

    fn case(&self, id: &str) -> Result<Option<Case>, StoreError> {
        self.read(|conn| {
            let data: Option<String> = conn
                .query_row("SELECT data FROM cases WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            data.map(|d| from_json(&d)).transpose()
        })
    }

    fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError> {
        let mut sql = String::from("SELECT data FROM cases WHERE 1 = 1");
        let mut values: Vec<Value> = Vec::new();
        let states: Vec<CaseState> = if filter.states.is_empty() {
            CaseState::ALL
                .into_iter()
                .filter(|s| *s != CaseState::Closed)
                .collect()
        } else {
            filter.states.clone()
        };
        let marks = vec!["?"; states.len()].join(", ");
        sql.push_str(&format!(" AND state IN ({marks})"));
        values.extend(states.iter().map(|s| Value::Text(s.as_str().into())));
        if let Some(a) = &filter.assignee {
            sql.push_str(" AND assignee = ?");
            values.push(Value::Text(a.clone()));
        }
        if let Some(r) = &filter.rule {
            sql.push_str(" AND rule = ?");
            values.push(Value::Text(r.clone()));
        }
        if let Some(at) = filter.breached_at {
            sql.push_str(
                " AND due_at IS NOT NULL AND (first_response_at > due_at OR \
                 (first_response_at IS NULL AND due_at < ?))",
            );
            values.push(Value::Integer(at.as_microsecond()));
        }
        sql.push_str(" ORDER BY due_at IS NULL, due_at, opened_at LIMIT ?");
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        values.push(Value::Integer(limit as i64));
        self.read(|conn| {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                r.get::<_, String>(0)
            })?;
            rows.map(|d| d.and_then(|d| from_json(&d))).collect()
        })
    }

    fn add_note(&self, note: &Note, audit: &NewAuditEntry) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            conn.execute(
                "INSERT INTO case_notes (case_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
                params![
                    note.case_id,
                    note.author,
                    note.at.as_microsecond(),
                    note.text
                ],
            )?;
            append(conn, std::slice::from_ref(audit))?;
            Ok(())
        })
    }

    fn notes(&self, case_id: &str) -> Result<Vec<Note>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT case_id, author, at, text FROM case_notes WHERE case_id = ?1 \
                 ORDER BY at, id",
            )?;
            stmt.query_map([case_id], |r| {
                Ok(Note {
                    case_id: r.get(0)?,
                    author: r.get(1)?,
                    at: time(r.get(2)?)?,
                    text: r.get(3)?,
                })
            })?
            .collect()
        })
    }

    fn save_draft(
        &self,
        draft: &Draft,
        case: Option<&Case>,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            put_draft(conn, draft)?;
            if let Some(case) = case {
                put_case(conn, case)?;
            }
            append(conn, audit)?;
            Ok(())
        })
    }

    fn draft(&self, id: &str) -> Result<Option<Draft>, StoreError> {
        self.read(|conn| {
            let data: Option<String> = conn
                .query_row("SELECT data FROM drafts WHERE id = ?1", [id], |r| r.get(0))
                .optional()?;
            data.map(|d| from_json(&d)).transpose()
        })
    }

    fn drafts(&self, filter: &DraftFilter) -> Result<Vec<Draft>, StoreError> {
        let mut sql = String::from("SELECT data FROM drafts WHERE 1 = 1");
        let mut values: Vec<Value> = Vec::new();
        if !filter.statuses.is_empty() {
            let marks = vec!["?"; filter.statuses.len()].join(", ");
            sql.push_str(&format!(" AND status IN ({marks})"));
            values.extend(
                filter
                    .statuses
                    .iter()
                    .map(|s| Value::Text(s.as_str().into())),
            );
        }
        if let Some(c) = &filter.case_id {
            sql.push_str(" AND case_id = ?");
            values.push(Value::Text(c.clone()));
        }
        if let Some(from) = filter.scheduled_from {
            sql.push_str(" AND scheduled_at >= ?");
            values.push(Value::Integer(from.as_microsecond()));
        }
        if let Some(until) = filter.scheduled_until {
            sql.push_str(" AND scheduled_at < ?");
            values.push(Value::Integer(until.as_microsecond()));
        }
        if filter.scheduled_from.is_some() || filter.scheduled_until.is_some() {
            sql.push_str(" ORDER BY scheduled_at LIMIT ?");
        } else {
            sql.push_str(" ORDER BY updated_at DESC LIMIT ?");
        }
        let limit = if filter.limit == 0 { 100 } else { filter.limit };
        values.push(Value::Integer(limit as i64));
        self.read(|conn| {
            let mut stmt = conn.prepare(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(values), |r| {
                r.get::<_, String>(0)
            })?;
            rows.map(|d| d.and_then(|d| from_json(&d))).collect()
        })
    }

    fn count_awaiting_approval(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT count(*) FROM drafts WHERE status = ?1",
                [DraftStatus::AwaitingApproval.as_str()],
                |r| r.get::<_, i64>(0),
            )
            .map(|n| n.try_into().unwrap_or_default())
        })
    }

    fn due_drafts(&self, now: Timestamp) -> Result<Vec<Draft>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT data FROM drafts WHERE status = ?1 AND scheduled_at <= ?2 \
                 ORDER BY scheduled_at",
            )?;
            let rows = stmt.query_map(
                params![DraftStatus::Scheduled.as_str(), now.as_microsecond()],
                |r| r.get::<_, String>(0),
            )?;
            rows.map(|d| d.and_then(|d| from_json(&d))).collect()
        })
    }

    fn add_review(
        &self,
        review: &Review,
        draft: &Draft,
        case: Option<&Case>,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError> {
        self.write_transaction(|conn| {
            put_draft(conn, draft)?;
            conn.execute(
                "INSERT INTO draft_reviews (draft_id, reviewer, decision, comment, at) \
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    review.draft_id,
                    review.reviewer,
                    review.decision,
                    review.comment,
                    review.at.as_microsecond()
                ],
            )?;
            if let Some(case) = case {
                put_case(conn, case)?;
            }
            append(conn, audit)?;
            Ok(())
        })
    }

    fn reviews(&self, draft_id: &str) -> Result<Vec<Review>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT draft_id, reviewer, decision, comment, at FROM draft_reviews \
                 WHERE draft_id = ?1 ORDER BY at, id",
            )?;
            stmt.query_map([draft_id], |r| {
                Ok(Review {
                    draft_id: r.get(0)?,
                    reviewer: r.get(1)?,
                    decision: r.get(2)?,
                    comment: r.get(3)?,
                    at: time(r.get(4)?)?,
                })
            })?
            .collect()
        })
    }

    fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditEntry>, StoreError> {
        self.write_transaction(|conn| append(conn, entries))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
                 WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            )?;
            stmt.query_map(params![after_seq as i64, limit as i64], audit_row)?
                .collect()
        })
    }

    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = String::from(
            "SELECT seq, at, actor, action, subject, detail, prev_hash, hash FROM audit_log \
             WHERE 1 = 1",
        );
        let mut values: Vec<Value> = Vec::new();
        if let Some(subject) = query.subject.as_deref().filter(|s| !s.is_empty()) {
            if let Some(prefix) = subject.strip_suffix(':') {
                sql.push_str(" AND substr(subject, 1, ?) = ?");
                let prefix = format!("{prefix}:");
                values.push(Value::Integer(prefix.chars().count() as i64));
                values.push(Value::Text(prefix));
            } else {
                sql.push_str(" AND subject = ?");
                values.push(Value::Text(subject.to_owned()));
            }
        }
        if let Some(actor) = query.actor.as_deref().filter(|s| !s.is_empty()) {
            sql.push_str(" AND actor = ?");
            values.push(Value::Text(actor.to_owned()));
        }
        if let Some(before) = query.before_seq {
            sql.push_str(" AND seq < ?");
            values.push(Value::Integer(before as i64));
        }
        sql.push_str(" ORDER BY seq DESC LIMIT ?");
        let limit = if query.limit == 0 { 50 } else { query.limit };
        values.push(Value::Integer(limit as i64));
        self.read(|conn| {
            let mut stmt = conn.prepare(&sql)?;
            stmt.query_map(rusqlite::params_from_iter(values), audit_row)?
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use engage::{Actor, ChainVerifier, Matrix, Role, audit::verify};
    use model::Network;

    use super::*;

    fn t(s: i64) -> Timestamp {
        Timestamp::from_second(1_767_225_600 + s).unwrap()
    }

    fn post(id: &str) -> model::Post {
        serde_json::from_value(serde_json::json!({
            "network": "x", "id": id, "url": null,
            "author": {"id": "a", "handle": "pat", "display_name": null, "bio": null, "followers": null, "verified": false, "url": null},
            "text": "hi", "title": null, "lang": null, "created_at": "2026-01-01T00:00:00Z", "edited_at": null,
            "reply_to": null, "thread_id": null, "relation": null, "counts": {"likes": null, "replies": null, "reposts": null, "quotes": null},
            "hashtags": [], "mentions": [], "links": [], "media_count": 0, "deleted": false, "feedback": null, "raw": ""
        }))
        .unwrap()
    }

    #[test]
    fn cases_drafts_reviews_and_audit_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        let store = SqliteStore::open(&path).unwrap();
        let m = Matrix::default_matrix().unwrap();
        let v = store
            .set_matrix(
                engage::matrix::DEFAULT_MATRIX,
                "dee",
                "+all",
                t(0),
                &NewAuditEntry::new(t(0), "dee", "matrix.set", "matrix", "first"),
            )
            .unwrap();
        assert_eq!(v.version, 1);
        assert_eq!(store.active_matrix().unwrap().unwrap().author, "dee");
        let changed = engage::matrix::DEFAULT_MATRIX.replace("\"1h\"", "\"45m\"");
        let diff = engage::diff::diff_lines(engage::matrix::DEFAULT_MATRIX, &changed, 1);
        let v2 = store
            .set_matrix(
                &changed,
                "olu",
                &diff,
                t(1),
                &NewAuditEntry::new(t(1), "olu", "matrix.set", "matrix", diff.clone()),
            )
            .unwrap();
        assert_eq!(v2.version, 2);
        let versions = store.matrix_versions(10).unwrap();
        assert_eq!(
            versions.iter().map(|v| v.version).collect::<Vec<_>>(),
            [2, 1]
        );
        assert!(
            versions[0].diff.contains("+respond_within = \"45m\""),
            "{}",
            versions[0].diff
        );
        assert_eq!(store.active_matrix().unwrap().unwrap().text, changed);

        let rule = m.rule("complaint").unwrap();
        let (mut case, open) = Case::open(&post("1"), rule, t(0)).unwrap();
        store.save_case(&case, &[open]).unwrap();
        let nina = Actor::new("nina", Role::Squad);
        let e = case.assign(&nina, "nina", t(1)).unwrap();
        store.save_case(&case, &[e]).unwrap();
        assert_eq!(store.case("x:1").unwrap().unwrap(), case);
        let mine = store
            .cases(&CaseFilter {
                assignee: Some("nina".into()),
                ..CaseFilter::default()
            })
            .unwrap();
        assert_eq!(mine.len(), 1);
        let breached = store
            .cases(&CaseFilter {
                breached_at: Some(t(4000)),
                ..CaseFilter::default()
            })
            .unwrap();
        assert_eq!(breached.len(), 1);
        assert!(
            store
                .cases(&CaseFilter {
                    breached_at: Some(t(10)),
                    ..CaseFilter::default()
                })
                .unwrap()
                .is_empty()
        );
        let (note, e) = case.note(&nina, "Rang the ward", t(2)).unwrap();
        store.add_note(&note, &e).unwrap();
        assert_eq!(store.notes("x:1").unwrap(), vec![note]);

        let mut d = Draft::new(
            Some("x:1"),
            Network::X,
            Some("1"),
            "nina",
            "Hi Pat ^Nina",
            t(3),
        );
        d.status = DraftStatus::AwaitingApproval;
        store
            .save_draft(
                &d,
                None,
                &[NewAuditEntry::new(
                    t(3),
                    "nina",
                    "draft.submit",
                    d.subject(),
                    "",
                )],
            )
            .unwrap();
        assert_eq!(store.count_awaiting_approval().unwrap(), 1);
        d.status = DraftStatus::Rejected;
        let r = Review {
            draft_id: d.id.clone(),
            reviewer: "dee".into(),
            decision: "rejected".into(),
            comment: "warmer".into(),
            at: t(4),
        };
        store
            .add_review(
                &r,
                &d,
                Some(&case),
                &[NewAuditEntry::new(
                    t(4),
                    "dee",
                    "draft.reject",
                    d.subject(),
                    "warmer",
                )],
            )
            .unwrap();
        assert_eq!(store.reviews(&d.id).unwrap(), vec![r]);
        assert_eq!(store.count_awaiting_approval().unwrap(), 0);
        d.status = DraftStatus::Scheduled;
        d.scheduled_at = Some(t(100));
        store.save_draft(&d, None, &[]).unwrap();
        assert!(store.due_drafts(t(99)).unwrap().is_empty());
        assert_eq!(store.due_drafts(t(100)).unwrap().len(), 1);
        let week = |from: i64, until: i64| {
            store
                .drafts(&DraftFilter {
                    scheduled_from: Some(t(from)),
                    scheduled_until: Some(t(until)),
                    ..DraftFilter::default()
                })
                .unwrap()
                .len()
        };
        assert_eq!((week(0, 200), week(101, 200)), (1, 0));
        assert_eq!(
            store
                .drafts(&DraftFilter {
                    case_id: Some("x:1".into()),
                    ..DraftFilter::default()
                })
                .unwrap()
                .len(),
            1
        );

        let log = store.audit_entries(0, 1000).unwrap();
        assert_eq!(log.len(), 7);
        assert_eq!(log[0].entry.subject, "matrix:1");
        assert_eq!(log[1].entry.subject, "matrix:2");
        assert_eq!(verify(&log), Ok(7));
    }

    #[test]
    fn audit_tampering_in_the_file_is_detected() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        {
            let store = SqliteStore::open(&path).unwrap();
            let entries: Vec<NewAuditEntry> = (0..5)
                .map(|i| {
                    NewAuditEntry::new(t(i), "sam", "case.note", format!("case:x:{i}"), "note")
                })
                .collect();
            store.append_audit(&entries).unwrap();
            store.append_audit(&entries[..2]).unwrap();
        }
        let raw = rusqlite::Connection::open(&path).unwrap();
        let refused = raw.execute("UPDATE audit_log SET actor = 'mallory' WHERE seq = 3", []);
        assert!(refused.unwrap_err().to_string().contains("append-only"));
        assert!(
            raw.execute("DELETE FROM audit_log WHERE seq = 3", [])
                .is_err()
        );
        // An attacker with the file can drop the guard; the chain still tells.
        raw.execute_batch("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;").unwrap();
        drop(raw);
        let store = SqliteStore::open(&path).unwrap();
        let mut v = ChainVerifier::new();
        let broken = store
            .audit_entries(0, 100)
            .unwrap()
            .iter()
            .try_for_each(|e| v.push(e))
            .unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("changed"));
    }
}
