//! The SQLite side of [`ProtectionStore`]: retention and erasure on the writer connection, with
//! `secure_delete` on, the full-text index merged, and the write-ahead log truncated after.

use std::collections::BTreeSet;

use engage::{NewAuditEntry, audit::ErasureRecord};
use jiff::Timestamp;
use model::Network;
use rusqlite::{Connection, params};

use super::{SqliteStore, engage::append};
use crate::{
    StoreError,
    protection::{AuthorRef, ErasureSummary, ProtectionStore, RetentionPolicy, RetentionSummary},
};

/// Posts removed per transaction by retention, so that the writer is never held long.
const RETENTION_BATCH: usize = 5_000;

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// Counts of one batch of removed posts.
#[derive(Default)]
struct Removed {
    posts: u64,
    versions: u64,
}

/// Removes posts by key with everything attached to them (not their authors).
fn remove_posts(conn: &Connection, keys: &[i64]) -> rusqlite::Result<Removed> {
    let mut removed = Removed::default();
    for key in keys {
        for sql in [
            "DELETE FROM posts_fts WHERE rowid = ?1",
            "DELETE FROM post_raw WHERE key = ?1",
            "DELETE FROM analyses WHERE key = ?1",
            "DELETE FROM post_monitors WHERE post_key = ?1",
            "DELETE FROM handled WHERE post_key = ?1",
        ] {
            conn.prepare_cached(sql)?.execute([key])?;
        }
        removed.versions += conn
            .prepare_cached("DELETE FROM post_versions WHERE post_key = ?1")?
            .execute([key])? as u64;
        removed.posts += conn
            .prepare_cached("DELETE FROM posts WHERE key = ?1")?
            .execute([key])? as u64;
    }
    Ok(removed)
}

/// Removes authors that no post refers to any more.
fn remove_orphan_authors(conn: &Connection) -> rusqlite::Result<u64> {
    conn.execute(
        "DELETE FROM authors WHERE NOT EXISTS (SELECT 1 FROM posts p WHERE p.author_key = authors.key)",
        [],
    )
    .map(|n| n as u64)
}

/// Fills the temporary table `kept_threads` with the threads of cases that are not closed.
fn mark_open_case_threads(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute_batch(
        "CREATE TEMP TABLE IF NOT EXISTS kept_threads (network TEXT, root TEXT, post_id TEXT);
         DELETE FROM kept_threads;
         INSERT INTO kept_threads (network, root, post_id)
             SELECT json_extract(data, '$.network'),
                    substr(id, length(json_extract(data, '$.network')) + 2),
                    json_extract(data, '$.post_id')
             FROM cases WHERE state != 'closed';",
    )
}

/// The condition that a post `p` belongs to a thread in `kept_threads`.
const IN_OPEN_CASE: &str = "EXISTS (SELECT 1 FROM kept_threads k WHERE k.network = p.network \
     AND (p.id = k.root OR p.id = k.post_id OR p.thread_id = k.root OR p.reply_to = k.root))";

/// Merges the full-text index into one segment, which drops deleted entries from it.
fn merge_fts(conn: &Connection) -> rusqlite::Result<()> {
    conn.execute("INSERT INTO posts_fts (posts_fts) VALUES ('optimize')", [])
        .map(|_| ())
}

/// Whether `text` contains `word` with no letter, digit or `_` either side (case-insensitive).
fn names(text: &str, word: &str) -> bool {
    if word.is_empty() {
        return false;
    }
    let text = text.to_lowercase();
    let word = word.to_lowercase();
    let inside = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    text.match_indices(&word).any(|(at, _)| {
        !inside(text.get(..at).and_then(|s| s.chars().next_back()))
            && !inside(text.get(at + word.len()..).and_then(|s| s.chars().next()))
    })
}

impl SqliteStore {
    /// Runs `f` on the writer with `secure_delete` on (freed content overwritten); `f` runs its
    /// own transactions. The author cache is dropped after, since authors may be gone.
    fn with_secure_delete<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let mut writer = self.writer();
        let conn = writer.conn();
        let run = || -> rusqlite::Result<T> {
            let before: i64 = conn.query_row("PRAGMA secure_delete", [], |r| r.get(0))?;
            conn.pragma_update(None, "secure_delete", 1)?;
            let result = f(conn);
            conn.pragma_update(None, "secure_delete", before)?;
            result
        };
        let result = run().map_err(|e| self.err(e));
        writer.forget_cache();
        result
    }

    /// Copies the write-ahead log into the database and truncates it to nothing, so old page
    /// images leave the disk; waits for readers up to the busy timeout.
    fn truncate_wal(&self, conn: &Connection) -> rusqlite::Result<()> {
        if self.readers.is_none() {
            return Ok(());
        }
        let busy: i64 = conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |r| r.get(0))?;
        if busy != 0 {
            return Err(rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("readers kept the write-ahead log from being truncated; run again".into()),
            ));
        }
        Ok(())
    }

    /// Up to [`RETENTION_BATCH`] posts past their period and not in an open case's thread.
    fn retention_batch(
        conn: &Connection,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> rusqlite::Result<Vec<i64>> {
        let mut keys = Vec::new();
        for (network, cutoff) in cutoffs(policy, now) {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT p.key FROM posts p \
                 WHERE p.network = ?1 AND p.key < ?2 + 1000000 AND p.created_at < ?2 \
                 AND NOT {IN_OPEN_CASE} LIMIT ?3"
            ))?;
            let left = RETENTION_BATCH - keys.len();
            for key in stmt.query_map(params![network.as_str(), cutoff, left as i64], |r| {
                r.get::<_, i64>(0)
            })? {
                keys.push(key?);
            }
            if keys.len() >= RETENTION_BATCH {
                break;
            }
        }
        Ok(keys)
    }

    /// How many posts past their period are kept for open cases.
    fn kept_for_open_cases(
        conn: &Connection,
        policy: &RetentionPolicy,
        now: Timestamp,
    ) -> rusqlite::Result<u64> {
        let mut kept = 0;
        for (network, cutoff) in cutoffs(policy, now) {
            kept += conn
                .prepare_cached(&format!(
                    "SELECT count(*) FROM posts p WHERE p.network = ?1 AND p.key < ?2 + 1000000 \
                     AND p.created_at < ?2 AND {IN_OPEN_CASE}"
                ))?
                .query_row(params![network.as_str(), cutoff], |r| r.get::<_, i64>(0))?
                as u64;
        }
        Ok(kept)
    }
}

/// Each network with a period, and the creation time (microseconds) before which its posts go.
fn cutoffs(policy: &RetentionPolicy, now: Timestamp) -> Vec<(Network, i64)> {
    Network::ALL
        .into_iter()
        .filter_map(|network| {
            let days = policy.posts_days_for(network)?;
            Some((
                network,
                now.as_microsecond() - i64::from(days) * MICROS_PER_DAY,
            ))
        })
        .collect()
}

impl ProtectionStore for SqliteStore {
    fn apply_retention(
        &self,
        policy: &RetentionPolicy,
        actor: &str,
        now: Timestamp,
    ) -> Result<RetentionSummary, StoreError> {
        let key = &self.seal.key;
        let mut head = None;
        let summary = self.with_secure_delete(|conn| {
            let mut summary = RetentionSummary::default();
            loop {
                conn.execute_batch("BEGIN IMMEDIATE")?;
                let batch = (|| {
                    mark_open_case_threads(conn)?;
                    let keys = SqliteStore::retention_batch(conn, policy, now)?;
                    let removed = remove_posts(conn, &keys)?;
                    Ok::<_, rusqlite::Error>((keys.len(), removed))
                })();
                match batch {
                    Ok((n, removed)) => {
                        conn.execute_batch("COMMIT")?;
                        summary.posts += removed.posts;
                        summary.versions += removed.versions;
                        if n < RETENTION_BATCH {
                            break;
                        }
                    }
                    Err(error) => {
                        let _ = conn.execute_batch("ROLLBACK");
                        return Err(error);
                    }
                }
            }
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let finish = (|| {
                mark_open_case_threads(conn)?;
                summary.kept_for_open_cases = SqliteStore::kept_for_open_cases(conn, policy, now)?;
                summary.authors = remove_orphan_authors(conn)?;
                if let Some(days) = policy.raw_payload_days {
                    let cutoff = now.as_microsecond() - i64::from(days) * MICROS_PER_DAY;
                    summary.payloads += conn.execute(
                        "UPDATE post_raw SET raw = '' WHERE raw != '' AND key IN \
                         (SELECT key FROM posts WHERE version_seen < ?1)",
                        [cutoff],
                    )? as u64;
                    summary.payloads += conn.execute(
                        "UPDATE post_versions SET raw = '' WHERE raw != '' AND seen_at < ?1",
                        [cutoff],
                    )? as u64;
                }
                if summary.posts > 0 {
                    merge_fts(conn)?;
                }
                let detail = serde_json::to_string(&summary)
                    .map_err(|e| super::engage::bad(e.to_string()))?;
                let written = append(
                    conn,
                    key,
                    &[NewAuditEntry::new(
                        now,
                        actor,
                        "retention.run",
                        "retention",
                        detail,
                    )],
                )?;
                head = written.last().cloned();
                Ok::<_, rusqlite::Error>(())
            })();
            match finish {
                Ok(()) => conn.execute_batch("COMMIT")?,
                Err(error) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(error);
                }
            }
            self.truncate_wal(conn)?;
            Ok(summary)
        })?;
        if let Some(head) = head {
            self.seal.record_head(&head);
        }
        Ok(summary)
    }

    fn erase_author(
        &self,
        author: &AuthorRef,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<ErasureSummary, StoreError> {
        let key = &self.seal.key;
        let account = author.account.trim().trim_start_matches('@').to_owned();
        let network = author.network;
        let mut head = None;
        let summary = self.with_secure_delete(|conn| {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            let mut run = || -> rusqlite::Result<Option<ErasureSummary>> {
                let mut summary = ErasureSummary::default();
                // The author's records and what they are called, to find copies by name.
                let mut aliases: BTreeSet<String> = BTreeSet::new();
                let authors: Vec<i64> = {
                    let mut stmt = conn.prepare(
                        "SELECT key, handle, display_name FROM authors WHERE network = ?1 \
                         AND (lower(handle) = lower(?2) OR author_id = ?2)",
                    )?;
                    let rows = stmt.query_map(params![network.as_str(), account], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, Option<String>>(2)?,
                        ))
                    })?;
                    let mut keys = Vec::new();
                    for row in rows {
                        let (k, handle, _name) = row?;
                        keys.push(k);
                        aliases.insert(handle.trim_start_matches('@').to_owned());
                    }
                    keys
                };
                if authors.is_empty() {
                    return Ok(None);
                }
                aliases.insert(account.clone());
                let mut posts: Vec<(i64, String)> = Vec::new();
                for author_key in &authors {
                    let mut stmt =
                        conn.prepare_cached("SELECT key, id FROM posts WHERE author_key = ?1")?;
                    for row in stmt.query_map([author_key], |r| Ok((r.get(0)?, r.get(1)?)))? {
                        posts.push(row?);
                    }
                }
                let post_ids: BTreeSet<String> = posts.iter().map(|(_, id)| id.clone()).collect();
                let mentions = |text: &str| aliases.iter().any(|alias| names(text, alias));

                // Cases of their posts, and everything hanging off them.
                let mut cases: BTreeSet<String> = BTreeSet::new();
                {
                    let mut stmt = conn.prepare(
                        "SELECT id, json_extract(data, '$.post_id') FROM cases \
                         WHERE json_extract(data, '$.network') = ?1",
                    )?;
                    let prefix = format!("{}:", network.as_str());
                    for row in stmt.query_map([network.as_str()], |r| {
                        Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?))
                    })? {
                        let (id, post_id) = row?;
                        let root = id.strip_prefix(&prefix).unwrap_or(&id);
                        if post_ids.contains(root)
                            || post_id.as_ref().is_some_and(|p| post_ids.contains(p))
                        {
                            cases.insert(id);
                        }
                    }
                }
                // Drafts: of those cases, replying to their posts, or naming them.
                let mut drafts: BTreeSet<String> = BTreeSet::new();
                {
                    let mut stmt = conn.prepare(
                        "SELECT id, case_id, json_extract(data, '$.network'), \
                         json_extract(data, '$.in_reply_to'), json_extract(data, '$.text') \
                         FROM drafts",
                    )?;
                    for row in stmt.query_map([], |r| {
                        Ok((
                            r.get::<_, String>(0)?,
                            r.get::<_, Option<String>>(1)?,
                            r.get::<_, Option<String>>(2)?,
                            r.get::<_, Option<String>>(3)?,
                            r.get::<_, Option<String>>(4)?,
                        ))
                    })? {
                        let (id, case_id, draft_network, reply_to, text) = row?;
                        let replies = draft_network.as_deref() == Some(network.as_str())
                            && reply_to.as_ref().is_some_and(|p| post_ids.contains(p));
                        if case_id.as_ref().is_some_and(|c| cases.contains(c))
                            || replies
                            || text.as_deref().is_some_and(mentions)
                        {
                            drafts.insert(id);
                        }
                    }
                }
                // Notes: of those cases, or naming them.
                let mut notes: Vec<i64> = Vec::new();
                {
                    let mut stmt = conn.prepare("SELECT id, case_id, text FROM case_notes")?;
                    for row in stmt.query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })? {
                        let (id, case_id, text) = row?;
                        if cases.contains(&case_id) || mentions(&text) {
                            notes.push(id);
                        }
                    }
                }
                // Audit entries about any of it, or naming them: their detail goes.
                let mut subjects: BTreeSet<String> = BTreeSet::new();
                for id in &post_ids {
                    subjects.insert(format!("post:{}:{id}", network.as_str()));
                }
                subjects.extend(cases.iter().map(|c| format!("case:{c}")));
                subjects.extend(drafts.iter().map(|d| format!("draft:{d}")));
                let mut erased_entries: Vec<u64> = Vec::new();
                {
                    let mut stmt = conn.prepare(
                        "SELECT seq, subject, detail FROM audit_log WHERE erased = 0 AND detail != ''",
                    )?;
                    for row in stmt.query_map([], |r| {
                        Ok((
                            r.get::<_, i64>(0)?,
                            r.get::<_, String>(1)?,
                            r.get::<_, String>(2)?,
                        ))
                    })? {
                        let (seq, subject, detail) = row?;
                        if subjects.contains(&subject) || mentions(&detail) {
                            erased_entries.push(seq as u64);
                        }
                    }
                }

                for id in &notes {
                    summary.notes += conn
                        .prepare_cached("DELETE FROM case_notes WHERE id = ?1")?
                        .execute([id])? as u64;
                }
                for id in &drafts {
                    conn.prepare_cached("DELETE FROM draft_reviews WHERE draft_id = ?1")?
                        .execute([id])?;
                    summary.drafts += conn
                        .prepare_cached("DELETE FROM drafts WHERE id = ?1")?
                        .execute([id])? as u64;
                }
                for id in &cases {
                    conn.prepare_cached("DELETE FROM case_notes WHERE case_id = ?1")?
                        .execute([id])?;
                    summary.cases += conn
                        .prepare_cached("DELETE FROM cases WHERE id = ?1")?
                        .execute([id])? as u64;
                }
                let keys: Vec<i64> = posts.iter().map(|(k, _)| *k).collect();
                let removed = remove_posts(conn, &keys)?;
                summary.posts = removed.posts;
                summary.versions = removed.versions;
                for author_key in &authors {
                    summary.authors += conn
                        .prepare_cached("DELETE FROM authors WHERE key = ?1")?
                        .execute([author_key])? as u64;
                }
                summary.alerts = erase_alert_samples(conn, network, &post_ids, &mentions)?;
                for seq in &erased_entries {
                    conn.prepare_cached(
                        "UPDATE audit_log SET detail = '', erased = 1 WHERE seq = ?1",
                    )?
                    .execute([*seq as i64])?;
                }
                summary.audit_details = erased_entries.len() as u64;
                merge_fts(conn)?;
                let record = ErasureRecord {
                    reason: reason.to_owned(),
                    posts: summary.posts,
                    versions: summary.versions,
                    cases: summary.cases,
                    notes: summary.notes,
                    drafts: summary.drafts,
                    audit_entries_erased: erased_entries,
                };
                let detail =
                    serde_json::to_string(&record).map_err(|e| super::engage::bad(e.to_string()))?;
                let written = append(
                    conn,
                    key,
                    &[NewAuditEntry::new(
                        now,
                        actor,
                        engage::audit::ERASURE_ACTION,
                        "erasure",
                        detail,
                    )],
                )?;
                head = written.last().cloned();
                Ok(Some(summary))
            };
            let summary = match run() {
                Ok(Some(summary)) => {
                    conn.execute_batch("COMMIT")?;
                    summary
                }
                Ok(None) => {
                    conn.execute_batch("ROLLBACK")?;
                    return Ok(ErasureSummary::default());
                }
                Err(error) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    return Err(error);
                }
            };
            // No free page may keep an old copy: rebuild the file, then empty the log.
            conn.execute_batch("VACUUM")?;
            self.truncate_wal(conn)?;
            Ok(summary)
        })?;
        if let Some(head) = head {
            self.seal.record_head(&head);
        }
        Ok(summary)
    }
}

/// Removes the author's posts from the samples kept in alerts; returns how many alerts changed.
fn erase_alert_samples(
    conn: &Connection,
    network: Network,
    post_ids: &BTreeSet<String>,
    mentions: &dyn Fn(&str) -> bool,
) -> rusqlite::Result<u64> {
    let rows: Vec<(i64, String)> = {
        let mut stmt = conn.prepare("SELECT id, data FROM alerts")?;
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut changed = 0;
    for (id, data) in rows {
        if !mentions(&data) && !post_ids.iter().any(|p| data.contains(p.as_str())) {
            continue;
        }
        let mut value: serde_json::Value =
            serde_json::from_str(&data).map_err(|e| super::engage::bad(e.to_string()))?;
        let Some(samples) = value.get_mut("posts").and_then(|p| p.as_array_mut()) else {
            continue;
        };
        let before = samples.len();
        samples.retain(|sample| {
            let same_network =
                sample.get("network").and_then(|n| n.as_str()) == Some(network.as_str());
            let id = sample
                .get("id")
                .and_then(|i| i.as_str())
                .unwrap_or_default();
            let author = sample
                .get("author")
                .and_then(|a| a.as_str())
                .unwrap_or_default();
            let text = sample
                .get("text")
                .and_then(|t| t.as_str())
                .unwrap_or_default();
            !(same_network && (post_ids.contains(id) || mentions(author)) || mentions(text))
        });
        if samples.len() != before {
            conn.execute(
                "UPDATE alerts SET data = ?2 WHERE id = ?1",
                params![id, value.to_string()],
            )?;
            changed += 1;
        }
    }
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_finds_whole_words_only() {
        assert!(names("Spoke to @Pat_Smith today", "pat_smith"));
        assert!(names("pat", "pat"));
        assert!(!names("the patient", "pat"));
        assert!(!names("anything", ""));
    }
}
