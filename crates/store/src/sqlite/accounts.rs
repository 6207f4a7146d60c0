//! The SQLite side of [`AccountStore`] and [`DeskStore`]: people, sessions, monitors, tags,
//! saved searches, handled marks, the filtered stream and the dashboard's counts.
//!
//! Writes go through the store's one writer connection; reads use a reader connection, like the
//! post reads. Streams walk the post key (creation time) backwards, driven by the full-text
//! index when there are words, by the monitor's tags when a monitor is chosen, and by the
//! priority index for "needs attention". The dashboard's counts are read hour by hour (one read of the period, counted in Rust), so a
//! caller can keep hours that did not change.

use std::collections::HashMap;

use jiff::Timestamp;
use model::{Network, analysis::IntentKind};
use rusqlite::{
    Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params, types::Value,
};

use super::{SqliteStore, fts, write::SECOND};
use crate::{
    StoreError,
    accounts::{
        AccountStore, DeskStore, Handled, HourCounts, LoginFailures, Monitor, RecentPost, Role,
        SavedSearch, Session, StreamEntry, StreamFilter, StreamOrder, User, hour_floor,
    },
};

/// One hour in microseconds.
const HOUR: i64 = 3_600 * SECOND;

fn micros(time: Timestamp) -> i64 {
    time.as_microsecond()
}

fn bad(index: usize, detail: impl Into<String>) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        index,
        rusqlite::types::Type::Text,
        detail.into().into(),
    )
}

fn time(index: usize, value: i64) -> rusqlite::Result<Timestamp> {
    Timestamp::from_microsecond(value).map_err(|e| bad(index, e.to_string()))
}

fn network(index: usize, value: &str) -> rusqlite::Result<Network> {
    value
        .parse()
        .map_err(|e: model::UnknownNetwork| bad(index, e.0))
}

/// Reads `id, name, role, password_hash, created_at` from `row`, starting at `at`.
pub(super) fn user(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    let role: String = row.get(at + 2)?;
    Ok(User {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        role: role
            .parse()
            .map_err(|e: crate::accounts::UnknownRole| bad(at + 2, e.0))?,
        password_hash: row.get(at + 3)?,
        created_at: time(at + 4, row.get(at + 4)?)?,
    })
}

fn json_list<T: serde::de::DeserializeOwned>(index: usize, text: &str) -> rusqlite::Result<Vec<T>> {
    serde_json::from_str(text).map_err(|e| bad(index, e.to_string()))
}

fn to_json<T: serde::Serialize>(value: &T) -> rusqlite::Result<String> {
    serde_json::to_string(value).map_err(|e| rusqlite::Error::ToSqlConversionFailure(Box::new(e)))
}

fn count(value: usize) -> u64 {
    u64::try_from(value).unwrap_or(u64::MAX)
}

/// Columns read by [`entry`]: from `posts p`, `handled h`, `users u`.
const ENTRY: &str = "p.network, p.id, h.at, u.name,
    (SELECT group_concat(monitor_id) FROM post_monitors WHERE post_key = p.key)";

/// Joins that [`ENTRY`] needs.
const ENTRY_JOINS: &str =
    "LEFT JOIN handled h ON h.post_key = p.key LEFT JOIN users u ON u.id = h.user_id";

fn entry(row: &Row<'_>) -> rusqlite::Result<StreamEntry> {
    let name: String = row.get(0)?;
    let handled = match row.get::<_, Option<i64>>(2)? {
        Some(at) => Some(Handled {
            user: row.get(3)?,
            at: time(2, at)?,
        }),
        None => None,
    };
    let monitors = row
        .get::<_, Option<String>>(4)?
        .unwrap_or_default()
        .split(',')
        .filter_map(|id| id.parse().ok())
        .collect();
    Ok(StreamEntry {
        network: network(0, &name)?,
        id: row.get(1)?,
        handled,
        monitors,
    })
}

impl SqliteStore {
    fn write_with<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let writer = self.writer();
        f(writer.conn()).map_err(|e| self.err(e))
    }
}

/// Whether an error is a broken UNIQUE constraint.
fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

impl AccountStore for SqliteStore {
    fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError> {
        let now = Timestamp::now();
        self.write_with(|conn| {
            let inserted = conn
                .prepare_cached(
                    "INSERT INTO users (name, role, password_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                )?
                .execute(params![name, role.as_str(), password_hash, micros(now)]);
            match inserted {
                Ok(_) => Ok(Some(User {
                    id: conn.last_insert_rowid(),
                    name: name.to_owned(),
                    role,
                    password_hash: password_hash.to_owned(),
                    created_at: time(0, micros(now))?,
                })),
                Err(error) if is_unique_violation(&error) => Ok(None),
                Err(error) => Err(error),
            }
        })
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, name, role, password_hash, created_at FROM users ORDER BY name",
            )?
            .query_map([], |row| user(row, 0))?
            .collect()
        })
    }

    fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, name, role, password_hash, created_at FROM users WHERE name = ?1",
            )?
            .query_row([name], |row| user(row, 0))
            .optional()
        })
    }

    fn set_role(&self, user_id: i64, role: Role) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached("UPDATE users SET role = ?2 WHERE id = ?1")?
                .execute(params![user_id, role.as_str()])
                .map(|n| n > 0)
        })
    }

    fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            let changed = conn
                .prepare_cached("UPDATE users SET password_hash = ?2 WHERE id = ?1")?
                .execute(params![user_id, password_hash])?;
            conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([user_id])?;
            Ok(changed > 0)
        })
    }

    fn remove_user(&self, user_id: i64) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE user_id = ?1")?
                .execute([user_id])?;
            conn.prepare_cached("DELETE FROM saved_searches WHERE user_id = ?1")?
                .execute([user_id])?;
            conn.prepare_cached("UPDATE handled SET user_id = NULL WHERE user_id = ?1")?
                .execute([user_id])?;
            conn.prepare_cached("DELETE FROM users WHERE id = ?1")?
                .execute([user_id])
                .map(|n| n > 0)
        })
    }

    fn add_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        let now = micros(Timestamp::now());
        self.write_with(|conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE expires_at < ?1")?
                .execute([now])?;
            conn.prepare_cached(
                "INSERT INTO sessions (token_hash, user_id, csrf, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(params![token_hash, user_id, csrf, now, micros(expires_at)])?;
            Ok(())
        })
    }

    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>, StoreError> {
        let read = |conn: &Connection| {
            conn.prepare_cached(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_at, s.csrf, s.expires_at
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            )?
            .query_row(params![token_hash, micros(now)], |row| {
                Ok(Session {
                    user: user(row, 0)?,
                    csrf: row.get(5)?,
                    expires_at: time(6, row.get(6)?)?,
                })
            })
            .optional()
        };
        // A reader sees every committed session: each read is a transaction of its own.
        self.read(read)
    }

    fn remove_session(&self, token_hash: &str) -> Result<(), StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")?
                .execute([token_hash])?;
            Ok(())
        })
    }

    fn record_login(
        &self,
        account: &str,
        address: &str,
        success: bool,
        at: Timestamp,
    ) -> Result<(), StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached(
                "INSERT INTO login_attempts (account, address, at, success)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![account, address, micros(at), success])?;
            Ok(())
        })
    }

    fn login_failures(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<LoginFailures, StoreError> {
        self.write_with(|conn| {
            let since = micros(since);
            let last_success: Option<i64> = conn
                .prepare_cached(
                    "SELECT max(at) FROM login_attempts WHERE account = ?1 AND success = 1",
                )?
                .query_row([account], |row| row.get(0))?;
            let from = last_success.map_or(since, |at| at.max(since));
            let account_failures: u32 = conn
                .prepare_cached(
                    "SELECT count(*) FROM login_attempts
                     WHERE account = ?1 AND at > ?2 AND success = 0",
                )?
                .query_row(params![account, from], |row| row.get(0))?;
            let address_failures: u32 = conn
                .prepare_cached(
                    "SELECT count(*) FROM login_attempts
                     WHERE address = ?1 AND at > ?2 AND success = 0",
                )?
                .query_row(params![address, since], |row| row.get(0))?;
            Ok(LoginFailures {
                account: account_failures,
                address: address_failures,
            })
        })
    }

    fn monitors(&self) -> Result<Vec<Monitor>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT id, name, query, networks, languages, authors FROM monitors ORDER BY name",
            )?
            .query_map([], |row| {
                Ok(Monitor {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    query: row.get(2)?,
                    networks: json_list(3, &row.get::<_, String>(3)?)?,
                    languages: json_list(4, &row.get::<_, String>(4)?)?,
                    authors: json_list(5, &row.get::<_, String>(5)?)?,
                })
            })?
            .collect()
        })
    }

    fn save_monitor(&self, monitor: &Monitor) -> Result<Option<i64>, StoreError> {
        let parsed = model::query::parse(&monitor.query).map_err(|e| StoreError::InvalidQuery {
            message: e.to_string(),
        })?;
        let fts =
            fts::fts_match(&parsed).map_err(|message| StoreError::InvalidQuery { message })?;
        let writer = self.writer();
        let conn = writer.conn();
        let result = (|| -> rusqlite::Result<Option<i64>> {
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            let networks = to_json(&monitor.networks)?;
            let languages = to_json(&monitor.languages)?;
            let authors = to_json(&monitor.authors)?;
            let saved = if monitor.id == 0 {
                tx.execute(
                    "INSERT INTO monitors (name, query, networks, languages, authors, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        monitor.name,
                        monitor.query,
                        networks,
                        languages,
                        authors,
                        micros(Timestamp::now())
                    ],
                )
                .map(|_| tx.last_insert_rowid())
            } else {
                tx.execute(
                    "UPDATE monitors SET name = ?2, query = ?3, networks = ?4, languages = ?5,
                         authors = ?6 WHERE id = ?1",
                    params![
                        monitor.id,
                        monitor.name,
                        monitor.query,
                        networks,
                        languages,
                        authors
                    ],
                )
                .map(|_| monitor.id)
            };
            let id = match saved {
                Ok(id) => id,
                Err(error) if is_unique_violation(&error) => return Ok(None),
                Err(error) => return Err(error),
            };
            tx.execute("DELETE FROM post_monitors WHERE monitor_id = ?1", [id])?;
            tag_with_fts(&tx, monitor, id, &fts)?;
            tx.commit()?;
            Ok(Some(id))
        })();
        result.map_err(|e| self.err(e))
    }

    fn remove_monitor(&self, id: i64) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached("DELETE FROM post_monitors WHERE monitor_id = ?1")?
                .execute([id])?;
            conn.prepare_cached("DELETE FROM monitors WHERE id = ?1")?
                .execute([id])
                .map(|n| n > 0)
        })
    }

    fn retag_monitors(&self) -> Result<u64, StoreError> {
        let monitors = self.monitors()?;
        let mut added = 0;
        for monitor in monitors {
            let Ok(parsed) = model::query::parse(&monitor.query) else {
                continue;
            };
            let Ok(fts) = fts::fts_match(&parsed) else {
                continue;
            };
            added += self.write_with(|conn| tag_with_fts(conn, &monitor, monitor.id, &fts))?;
        }
        Ok(added)
    }

    fn save_tags(&self, tags: &[(Network, String, i64)]) -> Result<u64, StoreError> {
        if tags.is_empty() {
            return Ok(0);
        }
        let writer = self.writer();
        let conn = writer.conn();
        let result = (|| -> rusqlite::Result<u64> {
            let tx = Transaction::new_unchecked(conn, TransactionBehavior::Immediate)?;
            let mut saved = 0;
            {
                let mut insert = tx.prepare_cached(
                    "INSERT OR IGNORE INTO post_monitors (monitor_id, post_key)
                     SELECT ?3, key FROM posts WHERE network = ?1 AND id = ?2
                     AND EXISTS (SELECT 1 FROM monitors WHERE id = ?3)",
                )?;
                for (network, id, monitor) in tags {
                    saved += count(insert.execute(params![network.as_str(), id, monitor])?);
                }
            }
            tx.commit()?;
            Ok(saved)
        })();
        result.map_err(|e| self.err(e))
    }

    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT s.id, s.name, s.query, u.name, s.created_at
                 FROM saved_searches s JOIN users u ON u.id = s.user_id ORDER BY s.id DESC",
            )?
            .query_map([], |row| {
                Ok(SavedSearch {
                    id: row.get(0)?,
                    name: row.get(1)?,
                    query: row.get(2)?,
                    user: row.get(3)?,
                    created_at: time(4, row.get(4)?)?,
                })
            })?
            .collect()
        })
    }

    fn save_search(&self, name: &str, query: &str, user_id: i64) -> Result<i64, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached(
                "INSERT INTO saved_searches (name, query, user_id, created_at)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![name, query, user_id, micros(Timestamp::now())])?;
            Ok(conn.last_insert_rowid())
        })
    }

    fn remove_saved_search(&self, id: i64) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached("DELETE FROM saved_searches WHERE id = ?1")?
                .execute([id])
                .map(|n| n > 0)
        })
    }

    fn mark_handled(
        &self,
        network: Network,
        id: &str,
        user_id: i64,
        at: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_with(|conn| {
            conn.prepare_cached(
                "INSERT INTO handled (post_key, user_id, at)
                 SELECT key, ?3, ?4 FROM posts WHERE network = ?1 AND id = ?2
                 ON CONFLICT (post_key) DO UPDATE SET user_id = excluded.user_id,
                     at = excluded.at",
            )?
            .execute(params![network.as_str(), id, user_id, micros(at)])
            .map(|n| n > 0)
        })
    }
}

/// Tags with monitor `id` every stored post its words (through the full-text index), networks,
/// languages and authors match. Returns the number of tags added.
fn tag_with_fts(conn: &Connection, monitor: &Monitor, id: i64, fts: &str) -> rusqlite::Result<u64> {
    let mut sql = String::from(
        "INSERT OR IGNORE INTO post_monitors (monitor_id, post_key)
                 SELECT ?1, p.key FROM posts_fts f CROSS JOIN posts p ON p.key = f.rowid
                 LEFT JOIN analyses a ON a.key = p.key
                 JOIN authors au ON au.key = p.author_key
                 WHERE posts_fts MATCH ?2",
    );
    let mut values = vec![Value::Integer(id), Value::Text(fts.to_owned())];
    let list = |column: &str, items: Vec<String>, values: &mut Vec<Value>| {
        if items.is_empty() {
            return String::new();
        }
        let mut marks = Vec::new();
        for item in items {
            values.push(Value::Text(item));
            marks.push(format!("?{}", values.len()));
        }
        format!(" AND {column} IN ({})", marks.join(", "))
    };
    let networks = monitor
        .networks
        .iter()
        .map(|n| n.as_str().to_owned())
        .collect();
    sql.push_str(&list("p.network", networks, &mut values));
    let languages = monitor
        .languages
        .iter()
        .map(|l| l.to_ascii_lowercase())
        .collect();
    sql.push_str(&list(
        "lower(coalesce(a.language, p.lang, ''))",
        languages,
        &mut values,
    ));
    let authors = monitor
        .authors
        .iter()
        .map(|h| h.trim_start_matches('@').to_lowercase())
        .collect();
    sql.push_str(&list("lower(au.handle)", authors, &mut values));
    conn.execute(&sql, rusqlite::params_from_iter(values))
        .map(count)
}

impl DeskStore for SqliteStore {
    fn stream(&self, filter: &StreamFilter) -> Result<Vec<StreamEntry>, StoreError> {
        if filter.limit == 0 {
            return Ok(Vec::new());
        }
        let fts = match &filter.text {
            Some(text) => {
                Some(fts::fts_match(text).map_err(|message| StoreError::InvalidQuery { message })?)
            }
            None => None,
        };
        self.read(|conn| stream(conn, filter, fts.as_deref()))
    }

    fn desk_entry(&self, network: Network, id: &str) -> Result<Option<StreamEntry>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(&format!(
                "SELECT {ENTRY} FROM posts p {ENTRY_JOINS} WHERE p.network = ?1 AND p.id = ?2"
            ))?
            .query_row(params![network.as_str(), id], entry)
            .optional()
        })
    }

    fn thread(
        &self,
        network: Network,
        id: &str,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        self.read(|conn| {
            let found: Option<(Option<String>, Option<String>)> = conn
                .prepare_cached(
                    "SELECT thread_id, reply_to FROM posts WHERE network = ?1 AND id = ?2",
                )?
                .query_row(params![network.as_str(), id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let Some((thread, reply_to)) = found else {
                return Ok(Vec::new());
            };
            let thread = thread.unwrap_or_else(|| id.to_owned());
            let reply_to = reply_to.unwrap_or_default();
            conn.prepare_cached(&format!(
                "SELECT {ENTRY} FROM posts p {ENTRY_JOINS}
                 WHERE p.key IN (
                     SELECT key FROM posts WHERE network = ?1 AND thread_id = ?2
                     UNION SELECT key FROM posts WHERE network = ?1 AND id IN (?2, ?3, ?4)
                     UNION SELECT key FROM posts WHERE network = ?1 AND reply_to = ?3)
                 ORDER BY p.key LIMIT ?5"
            ))?
            .query_map(
                params![network.as_str(), thread, id, reply_to, limit_value(limit)],
                entry,
            )?
            .collect()
        })
    }

    fn author_posts(
        &self,
        network: Network,
        id: &str,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError> {
        self.read(|conn| {
            let found: Option<(i64, String)> = conn
                .prepare_cached(
                    "SELECT a.key, a.handle FROM posts p JOIN authors a ON a.key = p.author_key
                     WHERE p.network = ?1 AND p.id = ?2",
                )?
                .query_row(params![network.as_str(), id], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })
                .optional()?;
            let Some((author, handle)) = found else {
                return Ok(Vec::new());
            };
            let phrase = format!("handle : \"{}\"", handle.replace('"', "\"\""));
            conn.prepare_cached(&format!(
                "SELECT {ENTRY} FROM posts_fts f CROSS JOIN posts p ON p.key = f.rowid
                 {ENTRY_JOINS}
                 WHERE posts_fts MATCH ?1 AND p.author_key = ?2 AND p.deleted = 0
                 ORDER BY f.rowid DESC LIMIT ?3"
            ))?
            .query_map(params![phrase, author, limit_value(limit)], entry)?
            .collect()
        })
    }

    fn posts(&self, names: &[(Network, String)]) -> Result<Vec<crate::StoredPost>, StoreError> {
        self.read(|conn| super::read::posts(conn, names))
    }

    fn recent_posts(&self, since: Timestamp, limit: usize) -> Result<Vec<RecentPost>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT p.network, p.id, p.created_at, p.first_seen, a.key IS NOT NULL
                 FROM posts p LEFT JOIN analyses a ON a.key = p.key
                 WHERE p.key >= ?1 AND p.created_at >= ?1 AND p.deleted = 0
                 ORDER BY p.key DESC LIMIT ?2",
            )?
            .query_map(params![micros(since), limit_value(limit)], |row| {
                Ok(RecentPost {
                    network: network(0, row.get_ref(0)?.as_str()?)?,
                    id: row.get(1)?,
                    created_at: time(2, row.get(2)?)?,
                    first_seen: time(3, row.get(3)?)?,
                    analysed: row.get(4)?,
                })
            })?
            .collect()
        })
    }

    fn dashboard_hours(
        &self,
        since: Timestamp,
        until: Timestamp,
        monitor: Option<i64>,
    ) -> Result<Vec<HourCounts>, StoreError> {
        self.read(|conn| dashboard_hours(conn, since, until, monitor))
    }

    fn author_labels(&self, keys: &[i64]) -> Result<Vec<(i64, String)>, StoreError> {
        self.read(|conn| author_labels(conn, keys))
    }
}

fn limit_value(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn stream(
    conn: &Connection,
    filter: &StreamFilter,
    fts: Option<&str>,
) -> rusqlite::Result<Vec<StreamEntry>> {
    let mut values: Vec<Value> = Vec::new();
    let push = |values: &mut Vec<Value>, value: Value| {
        values.push(value);
        format!("?{}", values.len())
    };
    let priority = filter.order == StreamOrder::Priority;
    let mut sql = format!("SELECT {ENTRY} FROM ");
    let key;
    let mut monitor_done = false;
    let mut fts_done = false;
    if priority {
        sql.push_str("analyses a CROSS JOIN posts p ON p.key = a.key");
        key = "a.key";
    } else if let Some(fts) = fts {
        sql.push_str("posts_fts f CROSS JOIN posts p ON p.key = f.rowid");
        sql.push_str(" LEFT JOIN analyses a ON a.key = p.key");
        let mark = push(&mut values, Value::Text(fts.to_owned()));
        sql.push_str(&format!(" {ENTRY_JOINS} WHERE posts_fts MATCH {mark}"));
        fts_done = true;
        key = "f.rowid";
    } else if let Some(monitor) = filter.monitor {
        sql.push_str("post_monitors pm CROSS JOIN posts p ON p.key = pm.post_key");
        sql.push_str(" LEFT JOIN analyses a ON a.key = p.key");
        let mark = push(&mut values, Value::Integer(monitor));
        sql.push_str(&format!(" {ENTRY_JOINS} WHERE pm.monitor_id = {mark}"));
        monitor_done = true;
        key = "pm.post_key";
    } else {
        sql.push_str("posts p LEFT JOIN analyses a ON a.key = p.key");
        key = "p.key";
    }
    if priority || !(fts_done || monitor_done) {
        sql.push_str(&format!(" {ENTRY_JOINS} WHERE 1"));
    }
    if let (Some(fts), false) = (fts, fts_done) {
        let mark = push(&mut values, Value::Text(fts.to_owned()));
        sql.push_str(&format!(
            " AND p.key IN (SELECT rowid FROM posts_fts WHERE posts_fts MATCH {mark})"
        ));
    }
    if let (Some(monitor), false) = (filter.monitor, monitor_done) {
        let mark = push(&mut values, Value::Integer(monitor));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM post_monitors m WHERE m.monitor_id = {mark}
              AND m.post_key = p.key)"
        ));
    }
    if let Some(since) = filter.since {
        let mark = push(&mut values, Value::Integer(micros(since)));
        sql.push_str(&format!(" AND {key} >= {mark} AND p.created_at >= {mark}"));
    }
    if let Some(until) = filter.until {
        let high = push(
            &mut values,
            Value::Integer(micros(until).saturating_add(SECOND)),
        );
        let exact = push(&mut values, Value::Integer(micros(until)));
        sql.push_str(&format!(" AND {key} < {high} AND p.created_at < {exact}"));
    }
    sql.push_str(" AND p.deleted = 0");
    if !filter.networks.is_empty() {
        let marks: Vec<String> = filter
            .networks
            .iter()
            .map(|n| push(&mut values, Value::Text(n.as_str().to_owned())))
            .collect();
        sql.push_str(&format!(" AND p.network IN ({})", marks.join(", ")));
    }
    if let Some(sentiment) = filter.sentiment {
        let mark = push(&mut values, Value::Text(sentiment.as_str().to_owned()));
        sql.push_str(&format!(" AND a.sentiment_label = {mark}"));
    }
    if let Some(intent) = filter.intent {
        let mark = push(&mut values, Value::Text(format!("% {} %", intent.as_str())));
        sql.push_str(&format!(" AND a.intents LIKE {mark}"));
    }
    if let Some(theme) = &filter.theme {
        let mark = push(&mut values, Value::Text(format!("% {theme} %")));
        sql.push_str(&format!(" AND a.themes LIKE {mark}"));
    }
    if let Some(language) = &filter.language {
        let mark = push(&mut values, Value::Text(language.clone()));
        sql.push_str(&format!(" AND a.language = {mark}"));
    }
    match filter.handled {
        Some(true) => sql.push_str(" AND h.post_key IS NOT NULL"),
        Some(false) => sql.push_str(" AND h.post_key IS NULL"),
        None => {}
    }
    if priority {
        sql.push_str(" ORDER BY a.priority DESC, a.key DESC");
    } else {
        sql.push_str(&format!(" ORDER BY {key} DESC"));
    }
    let limit = push(&mut values, Value::Integer(limit_value(filter.limit)));
    let offset = push(&mut values, Value::Integer(limit_value(filter.offset)));
    sql.push_str(&format!(" LIMIT {limit} OFFSET {offset}"));
    let mut statement = conn.prepare_cached(&sql)?;
    let rows = statement.query_map(rusqlite::params_from_iter(values), entry)?;
    rows.collect()
}

/// Counts the posts created in `[since, until)` hour by hour (see
/// [`DeskStore::dashboard_hours`]): one read of the period, walking the post key.
fn dashboard_hours(
    conn: &Connection,
    since: Timestamp,
    until: Timestamp,
    monitor: Option<i64>,
) -> rusqlite::Result<Vec<HourCounts>> {
    let since = micros(hour_floor(since));
    let until = micros(until);
    let until = until + (HOUR - until.rem_euclid(HOUR)).rem_euclid(HOUR);
    let count = usize::try_from((until - since).max(0) / HOUR)
        .unwrap_or(0)
        .min(24 * 400);
    let mut hours = (0..count)
        .map(|i| {
            let start = since + HOUR * i64::try_from(i).unwrap_or(0);
            Ok(HourCounts::empty(time(0, start)?))
        })
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut sql = String::from(
        "SELECT p.created_at, p.network, a.sentiment_label, a.intents, a.themes, p.author_key,
                p.hashtags, p.links
         FROM posts p LEFT JOIN analyses a ON a.key = p.key
         WHERE p.key >= ?1 AND p.key < ?2 AND p.created_at >= ?1 AND p.created_at < ?3
           AND p.deleted = 0",
    );
    let mut values = vec![
        Value::Integer(since),
        Value::Integer(until.saturating_add(SECOND)),
        Value::Integer(until),
    ];
    if let Some(monitor) = monitor {
        values.push(Value::Integer(monitor));
        sql.push_str(
            " AND EXISTS (SELECT 1 FROM post_monitors m WHERE m.monitor_id = ?4
              AND m.post_key = p.key)",
        );
    }
    let mut statement = conn.prepare_cached(&sql)?;
    let mut rows = statement.query(rusqlite::params_from_iter(values))?;
    while let Some(row) = rows.next()? {
        let created: i64 = row.get(0)?;
        let slot = usize::try_from((created - since) / HOUR).unwrap_or(usize::MAX);
        let Some(hour) = hours.get_mut(slot) else {
            continue;
        };
        hour.total += 1;
        let net = network(1, row.get_ref(1)?.as_str()?)?;
        let sentiment = match row.get_ref(2)?.as_str_or_null()? {
            Some("negative") => 0,
            Some("neutral") => 1,
            Some("positive") => 2,
            _ => 3,
        };
        let index = Network::ALL.iter().position(|n| *n == net).unwrap_or(0);
        if let Some(cell) = hour.by_network.get_mut(index) {
            *cell += 1;
        }
        if let Some(cell) = hour.by_sentiment.get_mut(sentiment) {
            *cell += 1;
        }
        if let Some(found) = row.get_ref(3)?.as_str_or_null()? {
            for word in found.split_whitespace() {
                if let Some(i) = IntentKind::ALL.iter().position(|k| k.as_str() == word)
                    && let Some(cell) = hour.intents.get_mut(i)
                {
                    *cell += 1;
                }
            }
        }
        if let Some(found) = row.get_ref(4)?.as_str_or_null()? {
            for word in found.split_whitespace() {
                bump(&mut hour.themes, word);
            }
        }
        *hour.authors.entry(row.get(5)?).or_default() += 1;
        if let Some(text) = row.get_ref(6)?.as_str_or_null()? {
            for item in json_list::<String>(6, text)? {
                bump(&mut hour.hashtags, &item.to_lowercase());
            }
        }
        if let Some(text) = row.get_ref(7)?.as_str_or_null()? {
            for item in json_list::<String>(7, text)? {
                bump(&mut hour.links, &item);
            }
        }
    }
    Ok(hours)
}

/// Adds one to `name`'s count.
fn bump(counts: &mut HashMap<String, u64>, name: &str) {
    match counts.get_mut(name) {
        Some(cell) => *cell += 1,
        None => {
            counts.insert(name.to_owned(), 1);
        }
    }
}

/// `network:@handle` of authors by key.
fn author_labels(conn: &Connection, keys: &[i64]) -> rusqlite::Result<Vec<(i64, String)>> {
    let mut find = conn.prepare_cached("SELECT network, handle FROM authors WHERE key = ?1")?;
    let mut labels = Vec::with_capacity(keys.len());
    for key in keys {
        let found: Option<(String, String)> = find
            .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
            .optional()?;
        if let Some((net, handle)) = found {
            labels.push((*key, format!("{net}:@{handle}")));
        }
    }
    Ok(labels)
}
