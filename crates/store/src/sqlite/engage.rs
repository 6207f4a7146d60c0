//! The SQLite side of [`EngageStore`]: matrix versions, cases, notes, drafts, reviews and the
//! audit log.
//!
//! Cases and drafts are stored whole as JSON in `data`, with the columns that lists filter and
//! order by beside it. Each write runs in one transaction on the writer connection together with
//! its audit entries; the audit chain is extended inside that transaction from the last stored
//! hash. The audit table is only ever inserted into (triggers refuse UPDATE and DELETE).

use engage::{
    AuditEntry, AuditKey, Case, CaseFilter, CaseState, ChainVerifier, Checkpoint, Draft,
    DraftStatus, NewAuditEntry, Note,
};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params, types::Value};

use super::SqliteStore;
use crate::{
    StoreError,
    engage::{AuditQuery, AuditReport, DraftFilter, EngageStore, MatrixVersion, Review},
};

pub(super) fn bad(detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, detail.into().into())
}

pub(super) fn time(value: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(value).map_err(|e| bad(format!("time {value}: {e}")))
}

fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| bad(e.to_string()))
}

fn from_json<T: serde::de::DeserializeOwned>(text: &str) -> rusqlite::Result<T> {
    serde_json::from_str(text).map_err(|e| bad(e.to_string()))
}

/// The columns of an audit row, in the order [`audit_row`] reads them.
const AUDIT_COLUMNS: &str =
    "seq, at, actor, action, subject, detail, detail_digest, erased, prev_hash, hash";

/// Appends audit entries in the current transaction, chaining from the last stored one with
/// `key`.
pub(super) fn append(
    conn: &Connection,
    key: &AuditKey,
    entries: &[NewAuditEntry],
) -> rusqlite::Result<Vec<AuditEntry>> {
    let mut last = conn
        .query_row(
            &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"),
            [],
            audit_row,
        )
        .optional()?;
    let mut insert = conn.prepare_cached(
        "INSERT INTO audit_log (seq, at, actor, action, subject, detail, detail_digest, erased, \
         prev_hash, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 0, ?8, ?9)",
    )?;
    let mut out = Vec::with_capacity(entries.len());
    for e in entries {
        let next = AuditEntry::chain(key, last.as_ref(), e.clone());
        insert.execute(params![
            next.seq as i64,
            next.entry.at.as_microsecond(),
            next.entry.actor,
            next.entry.action,
            next.entry.subject,
            next.entry.detail,
            next.detail_digest,
            next.prev_hash,
            next.hash,
        ])?;
        out.push(next.clone());
        last = Some(next);
    }
    Ok(out)
}

pub(super) fn audit_row(row: &Row<'_>) -> rusqlite::Result<AuditEntry> {
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
        detail_digest: row.get(6)?,
        erased: row.get(7)?,
        prev_hash: row.get(8)?,
        hash: row.get(9)?,
    })
}

impl SqliteStore {
    /// Runs `f` in one write transaction with an [`Appender`] for its audit entries; after the
    /// commit, the new head of the chain is checkpointed outside the database.
    pub(super) fn audited<T>(
        &self,
        f: impl FnOnce(&Connection, &mut Appender<'_>) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut head = None;
        let value = self.write_transaction(|conn| {
            let mut appender = Appender {
                key: &self.seal.key,
                head: &mut head,
            };
            f(conn, &mut appender)
        })?;
        if let Some(head) = head {
            self.seal.record_head(&head);
        }
        Ok(value)
    }
}

impl SqliteStore {
    /// Checkpoints the last entry of the chain outside the database (after a write that
    /// appended entries without an [`Appender`]).
    pub(super) fn record_audit_head(&self) -> Result<(), StoreError> {
        let last = self.read(|conn| {
            conn.query_row(
                &format!("SELECT {AUDIT_COLUMNS} FROM audit_log ORDER BY seq DESC LIMIT 1"),
                [],
                audit_row,
            )
            .optional()
        })?;
        if let Some(last) = last {
            self.seal.record_head(&last);
        }
        Ok(())
    }
}

/// Appends audit entries inside an [`SqliteStore::audited`] transaction and remembers the head.
pub(super) struct Appender<'a> {
    key: &'a AuditKey,
    head: &'a mut Option<AuditEntry>,
}

impl Appender<'_> {
    /// Appends `entries` to the chain.
    pub(super) fn append(
        &mut self,
        conn: &Connection,
        entries: &[NewAuditEntry],
    ) -> rusqlite::Result<Vec<AuditEntry>> {
        let written = append(conn, self.key, entries)?;
        if let Some(last) = written.last() {
            *self.head = Some(last.clone());
        }
        Ok(written)
    }
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
        self.audited(|conn, audit_log| {
            conn.execute(
                "INSERT INTO matrix_versions (author, at, text, diff) VALUES (?1, ?2, ?3, ?4)",
                params![author, at.as_microsecond(), text, diff],
            )?;
            let version = conn.last_insert_rowid();
            let mut entry = audit.clone();
            entry.subject = format!("matrix:{version}");
            audit_log.append(conn, &[entry])?;
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
        self.audited(|conn, audit_log| {
            put_case(conn, case)?;
            audit_log.append(conn, audit)?;
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
        self.audited(|conn, audit_log| {
            conn.execute(
                "INSERT INTO case_notes (case_id, author, at, text) VALUES (?1, ?2, ?3, ?4)",
                params![
                    note.case_id,
                    note.author,
                    note.at.as_microsecond(),
                    note.text
                ],
            )?;
            audit_log.append(conn, std::slice::from_ref(audit))?;
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
        self.audited(|conn, audit_log| {
            put_draft(conn, draft)?;
            if let Some(case) = case {
                put_case(conn, case)?;
            }
            audit_log.append(conn, audit)?;
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
        self.audited(|conn, audit_log| {
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
            audit_log.append(conn, audit)?;
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
        self.audited(|conn, audit_log| audit_log.append(conn, entries))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.read(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {AUDIT_COLUMNS} FROM audit_log WHERE seq > ?1 ORDER BY seq LIMIT ?2"
            ))?;
            stmt.query_map(params![after_seq as i64, limit as i64], audit_row)?
                .collect()
        })
    }

    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError> {
        let mut sql = format!("SELECT {AUDIT_COLUMNS} FROM audit_log WHERE 1 = 1");
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

    fn verify_audit(&self, checkpoints: &[Checkpoint]) -> Result<AuditReport, StoreError> {
        let (checkpoint, mut checkpoint_problem) = match self.seal.read_head() {
            Ok(found) => (found, None),
            Err(problem) => (None, Some(problem)),
        };
        let mut verifier = ChainVerifier::keyed(&self.seal.key);
        for c in checkpoint.iter().chain(checkpoints) {
            verifier = verifier.with_checkpoint(c.clone());
        }
        let mut head = None;
        let mut broken = None;
        let mut after = 0;
        'pages: loop {
            let page = self.audit_entries(after, 10_000)?;
            let Some(last) = page.last() else { break };
            after = last.seq;
            for e in &page {
                if let Err(link) = verifier.push(e) {
                    broken = Some(link);
                    break 'pages;
                }
                head = Some(e.checkpoint());
            }
        }
        if broken.is_none() {
            broken = verifier.finish().err();
        }
        if checkpoint.is_none()
            && checkpoint_problem.is_none()
            && head.is_some()
            && let Some(file) = &self.seal.head_file
        {
            checkpoint_problem = Some(format!(
                "the checkpoint file {} is missing, so entries cut off the end cannot be \
                 detected from it; give a head from the log output with --head",
                file.display()
            ));
        }
        Ok(AuditReport {
            entries: verifier.verified(),
            erased: verifier.erased(),
            key_id: self.seal.key.id(),
            key_source: self.seal.source.to_string(),
            head,
            checkpoint,
            checkpoint_problem,
            broken,
        })
    }
}

#[cfg(test)]
mod tests {
    use engage::{Actor, Matrix, Role, audit::verify};
    use model::Network;

    use super::*;
    use crate::sqlite::seal;

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
        let refused = raw.execute("UPDATE audit_log SET detail = 'other' WHERE seq = 3", []);
        assert!(
            refused
                .unwrap_err()
                .to_string()
                .contains("only an entry's detail")
        );
        // An attacker with the file can drop the guard; the chain still tells.
        raw.execute_batch("DROP TRIGGER audit_log_only_erasure; UPDATE audit_log SET actor = 'mallory' WHERE seq = 3;").unwrap();
        drop(raw);
        let store = SqliteStore::open(&path).unwrap();
        let report = store.verify_audit(&[]).unwrap();
        let broken = report.broken.unwrap();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("changed"));
    }

    /// The attacker of finding 4 (issue 14): write access to the database file, no key.
    fn attacked_log(path: &std::path::Path, n: i64) {
        let store = SqliteStore::open(path).unwrap();
        let entries: Vec<NewAuditEntry> = (0..n)
            .map(|i| NewAuditEntry::new(t(i), "sam", "case.note", format!("case:x:{i}"), "note"))
            .collect();
        store.append_audit(&entries).unwrap();
        let report = store.verify_audit(&[]).unwrap();
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.entries, n as u64);
    }

    fn verify_file(path: &std::path::Path) -> AuditReport {
        SqliteStore::open(path).unwrap().verify_audit(&[]).unwrap()
    }

    /// Finding 4 of issue 14: deleting the last 50 entries verified as intact (seen failing with
    /// the unkeyed chain and no checkpoint outside the database).
    #[test]
    fn audit_log_with_last_50_entries_deleted_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        attacked_log(&path, 120);
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(
            "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 70;",
        )
        .unwrap();
        drop(raw);
        let report = verify_file(&path);
        assert!(!report.intact(), "cut log verifies as intact");
        let broken = report.broken.unwrap();
        assert_eq!(broken.seq, 71);
        assert!(broken.reason.contains("cut off the end"), "{broken}");
        assert_eq!(report.checkpoint.unwrap().seq, 120);

        // Without the checkpoint file, a head taken from the log output still tells.
        let head = std::fs::read_to_string(seal::head_file_for(&path)).unwrap();
        std::fs::remove_file(seal::head_file_for(&path)).unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let report = store.verify_audit(&[]).unwrap();
        assert!(!report.intact());
        assert!(report.checkpoint_problem.unwrap().contains("missing"));
        let report = store.verify_audit(&[head.trim().parse().unwrap()]).unwrap();
        assert_eq!(report.broken.unwrap().seq, 71);
    }

    /// Finding 4 of issue 14: forging one entry and re-hashing the entries after it verified as
    /// intact (seen failing with the unkeyed chain).
    #[test]
    fn audit_log_with_forged_entry_and_rehashed_successors_fails_verification() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        attacked_log(&path, 20);
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch("DROP TRIGGER audit_log_only_erasure")
            .unwrap();
        let store = SqliteStore::open(&path).unwrap();
        let mut log = store.audit_entries(0, 100).unwrap();
        // The attacker's best guess at a key: not the one in the key file.
        let guess = AuditKey::from_bytes([0; 32]);
        log[4].entry.detail = "forged".into();
        for i in 4..log.len() {
            let prev = log[i - 1].clone();
            log[i] = AuditEntry::chain(&guess, Some(&prev), log[i].entry.clone());
            raw.execute(
                "UPDATE audit_log SET detail = ?1, detail_digest = ?2, prev_hash = ?3, hash = ?4 \
                 WHERE seq = ?5",
                params![
                    log[i].entry.detail,
                    log[i].detail_digest,
                    log[i].prev_hash,
                    log[i].hash,
                    log[i].seq as i64
                ],
            )
            .unwrap();
        }
        drop(raw);
        drop(store);
        let report = verify_file(&path);
        assert!(
            !report.intact(),
            "forged and re-hashed log verifies as intact"
        );
        let broken = report.broken.unwrap();
        assert_eq!(broken.seq, 5);
        assert!(broken.reason.contains("keyed hash"), "{broken}");
    }

    #[test]
    fn audit_key_file_is_private_and_required_once_the_log_is_keyed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.db");
        attacked_log(&path, 3);
        let key_file = seal::key_file_for(&path);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&key_file).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let key = std::fs::read_to_string(&key_file).unwrap();
        // The same key from the environment opens it; another key is refused by name.
        let store = SqliteStore::open_with_key(&path, Some(key.trim())).unwrap();
        assert!(store.verify_audit(&[]).unwrap().intact());
        drop(store);
        let error = SqliteStore::open_with_key(&path, Some(&"11".repeat(32))).unwrap_err();
        assert!(
            matches!(error, StoreError::AuditKeyMismatch { .. }),
            "{error}"
        );
        std::fs::remove_file(&key_file).unwrap();
        let error = SqliteStore::open(&path).unwrap_err();
        assert!(
            matches!(error, StoreError::AuditKeyMissing { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("s.db.audit-key"), "{error}");
        assert!(!key_file.exists(), "no new key was made for a keyed log");
    }

    #[test]
    fn unkeyed_log_is_checked_and_moved_onto_the_keyed_chain() {
        let dir = tempfile::tempdir().unwrap();
        for (name, tamper) in [("intact.db", false), ("tampered.db", true)] {
            let path = dir.path().join(name);
            // A database as the previous schema left it: the SHA-256 chain, no key.
            let raw = rusqlite::Connection::open(&path).unwrap();
            for sql in &MIGRATIONS_BEFORE_KEYS {
                raw.execute_batch(sql).unwrap();
            }
            raw.pragma_update(None, "user_version", MIGRATIONS_BEFORE_KEYS.len() as i64)
                .unwrap();
            let mut prev = engage::audit::GENESIS.to_owned();
            for seq in 1..=4_u64 {
                let e = NewAuditEntry::new(t(seq as i64), "sam", "case.note", "case:x:1", "n");
                let hash = engage::audit::legacy_sha256(&prev, seq, &e);
                let actor = if tamper && seq == 2 { "mallory" } else { "sam" };
                raw.execute(
                    "INSERT INTO audit_log VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                    params![
                        seq as i64,
                        e.at.as_microsecond(),
                        actor,
                        e.action,
                        e.subject,
                        e.detail,
                        prev,
                        hash
                    ],
                )
                .unwrap();
                prev = hash;
            }
            drop(raw);
            let store = SqliteStore::open(&path).unwrap();
            let report = store.verify_audit(&[]).unwrap();
            assert!(report.intact(), "{report:?}");
            assert_eq!(report.entries, 5);
            let log = store.audit_entries(0, 10).unwrap();
            assert_eq!(log[1].entry.actor, if tamper { "mallory" } else { "sam" });
            let record = &log[4];
            assert_eq!(record.entry.action, "audit.rekey");
            let said = if tamper {
                "broken at entry 2: its content does not match its hash"
            } else {
                "was intact"
            };
            assert!(
                record.entry.detail.contains(said),
                "{}",
                record.entry.detail
            );
            assert_eq!(report.checkpoint, Some(record.checkpoint()));
            drop(store);
            // Opening again moves nothing twice.
            let store = SqliteStore::open(&path).unwrap();
            assert_eq!(store.audit_entries(0, 10).unwrap().len(), 5);
        }
    }

    /// The schema before the audit log was keyed.
    const MIGRATIONS_BEFORE_KEYS: [&str; 9] = [
        include_str!("../../migrations/sqlite/0001_posts.sql"),
        include_str!("../../migrations/sqlite/0002_cursors.sql"),
        include_str!("../../migrations/sqlite/0003_fts_hashsize.sql"),
        include_str!("../../migrations/sqlite/0004_analyses.sql"),
        include_str!("../../migrations/sqlite/0005_accounts.sql"),
        include_str!("../../migrations/sqlite/0006_engage.sql"),
        include_str!("../../migrations/sqlite/0007_alerts.sql"),
        include_str!("../../migrations/sqlite/0008_alert_dismissals.sql"),
        include_str!("../../migrations/sqlite/0009_directory.sql"),
    ];
}
