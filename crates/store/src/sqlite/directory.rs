//! The SQLite side of [`DirectoryStore`] and of [`crate::Store::directory`].
//!
//! Entries live in `directory_entries`, their accounts in `directory_handles` (unique by network
//! and folded handle, and by network and account id). A write checks every claim first (who holds
//! each handle, account id and ODS code) so that it can name every conflict, then writes the
//! entry, its handles and the audit entries in one transaction; a conflict rolls it all back.

use std::collections::HashMap;

use engage::NewAuditEntry;
use jiff::Timestamp;
use model::{
    Network,
    directory::{Directory, DirectoryEntry, EntryKind, Handle, handle_key},
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{SqliteStore, engage::append};
use crate::{
    StoreError,
    directory::{DirectoryConflict, DirectoryStore, ImportSummary, ImportedEntry, RowConflict},
};

fn bad(detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Text, detail.into().into())
}

/// A rollback that carries the conflicts found, so that nothing is written.
enum Outcome<T> {
    Done(T),
    Refused(Vec<RowConflict>),
}

/// Reads every entry (or the one with `only`), with its handles, by kind then name.
pub(super) fn read_entries(
    conn: &Connection,
    only: Option<i64>,
) -> rusqlite::Result<Vec<DirectoryEntry>> {
    let mut entries: Vec<DirectoryEntry> = conn
        .prepare_cached(
            "SELECT id, name, kind, ods_code, parent_id, title, notes FROM directory_entries \
             WHERE ?1 IS NULL OR id = ?1",
        )?
        .query_map([only], |row| {
            let kind: String = row.get(2)?;
            Ok(DirectoryEntry {
                id: row.get(0)?,
                name: row.get(1)?,
                kind: kind
                    .parse()
                    .map_err(|e: model::directory::UnknownEntryKind| {
                        bad(format!("directory kind {}", e.0))
                    })?,
                ods_code: row.get(3)?,
                parent: row.get(4)?,
                title: row.get(5)?,
                notes: row.get(6)?,
                handles: Vec::new(),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut handles: HashMap<i64, Vec<Handle>> = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT entry_id, network, handle, account_id FROM directory_handles \
         WHERE ?1 IS NULL OR entry_id = ?1 ORDER BY id",
    )?;
    let rows = stmt.query_map([only], |row| {
        let network: String = row.get(1)?;
        Ok((
            row.get::<_, i64>(0)?,
            Handle {
                network: network
                    .parse()
                    .map_err(|e: model::UnknownNetwork| bad(format!("network {}", e.0)))?,
                handle: row.get(2)?,
                account_id: row.get(3)?,
            },
        ))
    })?;
    for row in rows {
        let (entry, handle) = row?;
        handles.entry(entry).or_default().push(handle);
    }
    for entry in &mut entries {
        entry.handles = handles.remove(&entry.id).unwrap_or_default();
    }
    let order = |kind: EntryKind| EntryKind::ALL.iter().position(|k| *k == kind);
    entries.sort_by(|a, b| {
        order(a.kind)
            .cmp(&order(b.kind))
            .then_with(|| a.name.to_lowercase().cmp(&b.name.to_lowercase()))
            .then_with(|| a.id.cmp(&b.id))
    });
    Ok(entries)
}

/// The entry holding a claim, and its name.
fn holder(
    conn: &Connection,
    sql: &str,
    values: &[&dyn rusqlite::ToSql],
) -> rusqlite::Result<Option<(i64, String)>> {
    conn.prepare_cached(sql)?
        .query_row(values, |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()
}

/// What `entry` (stored as `id`, 0 when new) claims that another entry holds.
fn conflicts(
    conn: &Connection,
    entry: &DirectoryEntry,
    id: i64,
) -> rusqlite::Result<Vec<DirectoryConflict>> {
    let mut found = Vec::new();
    if let Some(code) = &entry.ods_code
        && let Some((holder, holder_name)) = holder(
            conn,
            "SELECT id, name FROM directory_entries WHERE ods_code = ?1 AND id != ?2",
            &[code, &id],
        )?
    {
        found.push(DirectoryConflict::OdsCodeTaken {
            code: code.clone(),
            holder,
            holder_name,
        });
    }
    for handle in &entry.handles {
        let network = handle.network.as_str();
        if let Some((holder, holder_name)) = holder(
            conn,
            "SELECT e.id, e.name FROM directory_handles h JOIN directory_entries e \
             ON e.id = h.entry_id WHERE h.network = ?1 AND h.handle_key = ?2 AND e.id != ?3",
            &[&network, &handle_key(&handle.handle), &id],
        )? {
            found.push(DirectoryConflict::HandleTaken {
                network: handle.network,
                handle: handle.handle.clone(),
                holder,
                holder_name,
            });
        }
        if let Some(account) = &handle.account_id
            && let Some((holder, holder_name)) = holder(
                conn,
                "SELECT e.id, e.name FROM directory_handles h JOIN directory_entries e \
                 ON e.id = h.entry_id WHERE h.network = ?1 AND h.account_id = ?2 AND e.id != ?3",
                &[&network, account, &id],
            )?
        {
            found.push(DirectoryConflict::AccountTaken {
                network: handle.network,
                account_id: account.clone(),
                holder,
                holder_name,
            });
        }
    }
    Ok(found)
}

fn exists(conn: &Connection, id: i64) -> rusqlite::Result<bool> {
    conn.prepare_cached("SELECT 1 FROM directory_entries WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()
        .map(|found| found.is_some())
}

/// Writes an entry's fields (a new row when `id` is 0) and replaces its handles; returns its id
/// and how many handles were written. The parent is written separately by the caller.
fn write_entry(
    conn: &Connection,
    entry: &DirectoryEntry,
    id: i64,
    parent: Option<i64>,
    now: i64,
) -> rusqlite::Result<(i64, u64)> {
    let id = if id == 0 {
        conn.prepare_cached(
            "INSERT INTO directory_entries \
             (name, kind, ods_code, parent_id, title, notes, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?7)",
        )?
        .execute(params![
            entry.name,
            entry.kind.as_str(),
            entry.ods_code,
            parent,
            entry.title,
            entry.notes,
            now
        ])?;
        conn.last_insert_rowid()
    } else {
        conn.prepare_cached(
            "UPDATE directory_entries SET name = ?2, kind = ?3, ods_code = ?4, parent_id = ?5, \
             title = ?6, notes = ?7, updated_at = ?8 WHERE id = ?1",
        )?
        .execute(params![
            id,
            entry.name,
            entry.kind.as_str(),
            entry.ods_code,
            parent,
            entry.title,
            entry.notes,
            now
        ])?;
        conn.prepare_cached("DELETE FROM directory_handles WHERE entry_id = ?1")?
            .execute([id])?;
        id
    };
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO directory_handles \
         (entry_id, network, handle, handle_key, account_id) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut written = 0;
    for handle in &entry.handles {
        written += insert.execute(params![
            id,
            handle.network.as_str(),
            handle.handle,
            handle_key(&handle.handle),
            handle.account_id
        ])? as u64;
    }
    Ok((id, written))
}

fn subject(audit: &[NewAuditEntry], id: i64) -> Vec<NewAuditEntry> {
    audit
        .iter()
        .map(|entry| NewAuditEntry {
            subject: format!("directory:{id}"),
            ..entry.clone()
        })
        .collect()
}

impl SqliteStore {
    /// Runs `f` in a write transaction that is rolled back when it refuses.
    fn directory_write<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<Outcome<T>>,
    ) -> Result<Result<T, Vec<RowConflict>>, StoreError> {
        let writer = self.writer();
        let conn = writer.conn();
        let run = || -> rusqlite::Result<Outcome<T>> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(Outcome::Done(value)) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(Outcome::Done(value))
                }
                Ok(refused) => {
                    conn.execute_batch("ROLLBACK")?;
                    Ok(refused)
                }
                Err(error) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(error)
                }
            }
        };
        let outcome = run().map_err(|e| self.err(e))?;
        drop(writer);
        match outcome {
            Outcome::Done(value) => {
                self.record_audit_head()?;
                Ok(Ok(value))
            }
            Outcome::Refused(conflicts) => Ok(Err(conflicts)),
        }
    }

    /// The whole directory.
    pub(super) fn read_directory(&self) -> Result<Directory, StoreError> {
        self.read(|conn| read_entries(conn, None))
            .map(Directory::new)
    }
}

/// Something only one entry may hold.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Claim {
    Ods(String),
    Handle(Network, String),
    Account(Network, String),
}

impl DirectoryConflict {
    /// Names the entry holding the claim.
    fn set_holder(&mut self, id: i64, name: &str) {
        match self {
            DirectoryConflict::HandleTaken {
                holder,
                holder_name,
                ..
            }
            | DirectoryConflict::AccountTaken {
                holder,
                holder_name,
                ..
            }
            | DirectoryConflict::OdsCodeTaken {
                holder,
                holder_name,
                ..
            } => {
                *holder = id;
                name.clone_into(holder_name);
            }
            DirectoryConflict::NoSuchEntry(_) => {}
        }
    }
}

fn refused<T>(row: usize, found: Vec<DirectoryConflict>) -> Outcome<T> {
    Outcome::Refused(
        found
            .into_iter()
            .map(|conflict| RowConflict { row, conflict })
            .collect(),
    )
}

impl DirectoryStore for SqliteStore {
    fn directory_entry(&self, id: i64) -> Result<Option<DirectoryEntry>, StoreError> {
        self.read(|conn| read_entries(conn, Some(id)))
            .map(|entries| entries.into_iter().next())
    }

    fn save_directory_entry(
        &self,
        entry: &DirectoryEntry,
        audit: &[NewAuditEntry],
    ) -> Result<Result<i64, DirectoryConflict>, StoreError> {
        let now = Timestamp::now().as_microsecond();
        let written = self.directory_write(|conn| {
            for id in [entry.id, entry.parent.unwrap_or(0)] {
                if id != 0 && !exists(conn, id)? {
                    return Ok(refused(0, vec![DirectoryConflict::NoSuchEntry(id)]));
                }
            }
            let found = conflicts(conn, entry, entry.id)?;
            if !found.is_empty() {
                return Ok(refused(0, found));
            }
            let (id, _) = write_entry(conn, entry, entry.id, entry.parent, now)?;
            append(conn, &self.seal.key, &subject(audit, id))?;
            Ok(Outcome::Done(id))
        })?;
        Ok(written.map_err(|mut conflicts| conflicts.swap_remove(0).conflict))
    }

    fn remove_directory_entry(&self, id: i64, audit: &[NewAuditEntry]) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let removed = conn
                .prepare_cached("DELETE FROM directory_entries WHERE id = ?1")?
                .execute([id])?;
            if removed > 0 {
                append(conn, &self.seal.key, &subject(audit, id))?;
            }
            Ok(removed > 0)
        })
        .and_then(|removed| {
            if removed {
                self.record_audit_head()?;
            }
            Ok(removed)
        })
    }

    fn import_directory(
        &self,
        rows: &[ImportedEntry],
        audit: &[NewAuditEntry],
    ) -> Result<Result<ImportSummary, Vec<RowConflict>>, StoreError> {
        let now = Timestamp::now().as_microsecond();
        self.directory_write(|conn| {
            let mut found = Vec::new();
            let mut claimed: HashMap<Claim, usize> = HashMap::new();
            for (row, imported) in rows.iter().enumerate() {
                let entry = &imported.entry;
                for id in [entry.id, entry.parent.unwrap_or(0)] {
                    if id != 0 && !exists(conn, id)? {
                        found.push(RowConflict {
                            row,
                            conflict: DirectoryConflict::NoSuchEntry(id),
                        });
                    }
                }
                // Entries replaced by this import give up their handles: only claims held by
                // entries outside the import, or by an earlier row, conflict.
                for conflict in conflicts(conn, entry, entry.id)? {
                    let replaced = match &conflict {
                        DirectoryConflict::HandleTaken { holder, .. }
                        | DirectoryConflict::AccountTaken { holder, .. }
                        | DirectoryConflict::OdsCodeTaken { holder, .. } => {
                            rows.iter().any(|r| r.entry.id == *holder)
                        }
                        DirectoryConflict::NoSuchEntry(_) => false,
                    };
                    if !replaced {
                        found.push(RowConflict { row, conflict });
                    }
                }
                let mut claims: Vec<(Claim, DirectoryConflict)> = Vec::new();
                if let Some(code) = &entry.ods_code {
                    claims.push((
                        Claim::Ods(code.to_uppercase()),
                        DirectoryConflict::OdsCodeTaken {
                            code: code.clone(),
                            holder: 0,
                            holder_name: String::new(),
                        },
                    ));
                }
                for handle in &entry.handles {
                    claims.push((
                        Claim::Handle(handle.network, handle_key(&handle.handle)),
                        DirectoryConflict::HandleTaken {
                            network: handle.network,
                            handle: handle.handle.clone(),
                            holder: 0,
                            holder_name: String::new(),
                        },
                    ));
                    if let Some(account) = &handle.account_id {
                        claims.push((
                            Claim::Account(handle.network, account.clone()),
                            DirectoryConflict::AccountTaken {
                                network: handle.network,
                                account_id: account.clone(),
                                holder: 0,
                                holder_name: String::new(),
                            },
                        ));
                    }
                }
                for (claim, mut conflict) in claims {
                    match claimed.get(&claim) {
                        Some(&first) if first != row => {
                            if let Some(earlier) = rows.get(first) {
                                conflict.set_holder(earlier.entry.id, &earlier.entry.name);
                            }
                            found.push(RowConflict { row, conflict });
                        }
                        Some(_) => {}
                        None => {
                            claimed.insert(claim, row);
                        }
                    }
                }
            }
            if !found.is_empty() {
                return Ok(Outcome::Refused(found));
            }
            // Handles and codes of replaced entries are cleared first, so that rows may swap
            // them between themselves.
            for imported in rows.iter().filter(|r| r.entry.id != 0) {
                conn.prepare_cached("DELETE FROM directory_handles WHERE entry_id = ?1")?
                    .execute([imported.entry.id])?;
                conn.prepare_cached("UPDATE directory_entries SET ods_code = NULL WHERE id = ?1")?
                    .execute([imported.entry.id])?;
            }
            let mut summary = ImportSummary::default();
            let mut ids = Vec::with_capacity(rows.len());
            for imported in rows {
                let entry = &imported.entry;
                let parent = if imported.parent_row.is_some() {
                    None
                } else {
                    entry.parent
                };
                let (id, handles) = write_entry(conn, entry, entry.id, parent, now)?;
                if entry.id == 0 {
                    summary.added += 1;
                } else {
                    summary.updated += 1;
                }
                summary.handles += handles;
                ids.push(id);
            }
            for (imported, id) in rows.iter().zip(&ids) {
                if let Some(parent) = imported.parent_row {
                    let parent = ids.get(parent).copied().ok_or_else(|| {
                        bad(format!("the parent row {parent} is not in the import"))
                    })?;
                    conn.prepare_cached(
                        "UPDATE directory_entries SET parent_id = ?2 WHERE id = ?1",
                    )?
                    .execute([*id, parent])?;
                }
            }
            append(conn, &self.seal.key, audit)?;
            Ok(Outcome::Done(summary))
        })
    }
}
