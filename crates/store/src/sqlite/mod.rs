//! The SQLite implementation of [`Store`]: one `switchboard.db` file in WAL mode.
//!
//! Design and invariants:
//! - One writer connection behind a mutex does every write; [`Store::apply`] runs one
//!   `BEGIN IMMEDIATE` transaction per call. A few reader connections (opened on demand, at most
//!   [`MAX_IDLE_READERS`] kept) serve reads while an import writes: WAL lets readers see the last
//!   committed state without waiting. An in-memory store has no readers; it reads on the writer.
//! - The schema comes from versioned SQL files in `migrations/sqlite/`, embedded in the binary;
//!   `PRAGMA user_version` records how many have run. A file from a newer build is refused.
//! - The posts' integer primary key follows creation time in microseconds, so "newest first"
//!   (with or without a full-text match) walks the key backwards and stops after `limit` rows,
//!   and time filters are key ranges. Two posts created in the same microsecond get the next
//!   free key within the following second.
//! - The FTS5 index (`posts_fts`, contentless, rowid = post key) covers text, title, author
//!   handle and author display name of the current version, and is kept in sync by the writer
//!   in the same transaction: no triggers.
//! - All times are stored as integer microseconds since the Unix epoch, UTC.
//! - The writer never checkpoints the write-ahead log itself: a `Checkpointer` thread with its
//!   own connection copies committed pages into the database file twice a second, so an import
//!   writes on one core while the checkpoint runs on the other.

mod accounts;
mod alerts;
mod directory;
mod engage;
mod fts;
pub(crate) mod packed;
mod protection;
mod read;
pub mod seal;
mod write;

use std::{
    collections::HashMap,
    path::Path,
    sync::{
        Mutex, MutexGuard, PoisonError,
        mpsc::{self, RecvTimeoutError},
    },
    thread::JoinHandle,
    time::Duration,
};

use model::{Change, Network};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::{
    AnalysisBacklog, ApplySummary, PostVersion, PreparedAnalysis, SearchQuery, Stats, Store,
    StoreError, StoredPost,
};

/// The migrations, in order; migration `n` (from 1) brings the schema to `user_version = n`.
const MIGRATIONS: [&str; 10] = [
    include_str!("../../migrations/sqlite/0001_posts.sql"),
    include_str!("../../migrations/sqlite/0002_cursors.sql"),
    include_str!("../../migrations/sqlite/0003_fts_hashsize.sql"),
    include_str!("../../migrations/sqlite/0004_analyses.sql"),
    include_str!("../../migrations/sqlite/0005_accounts.sql"),
    include_str!("../../migrations/sqlite/0006_engage.sql"),
    include_str!("../../migrations/sqlite/0007_alerts.sql"),
    include_str!("../../migrations/sqlite/0008_alert_dismissals.sql"),
    include_str!("../../migrations/sqlite/0009_directory.sql"),
    include_str!("../../migrations/sqlite/0010_audit_keyed.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 10;

/// Reader connections kept open between reads.
pub const MAX_IDLE_READERS: usize = 4;

/// How long a statement waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in one SQLite database file (or in memory, for tests).
pub struct SqliteStore {
    /// The file as given, for messages.
    name: String,
    writer: Mutex<write::Writer>,
    /// `None` for an in-memory database (reads use the writer).
    readers: Option<Readers>,
    /// Kept for its `Drop`: stops the checkpoint thread. `None` for an in-memory database.
    _checkpointer: Option<Checkpointer>,
    /// The audit key and the checkpoint file of the chain's head.
    seal: seal::Seal,
}

/// How often the background thread checkpoints the write-ahead log.
const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);

/// A thread that checkpoints the write-ahead log from its own connection (`PASSIVE`: it never
/// waits for readers or the writer), stopped and joined when the store is dropped.
struct Checkpointer {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Checkpointer {
    fn start(conn: Connection) -> Checkpointer {
        let (stop, stopped) = mpsc::channel::<()>();
        let thread = std::thread::Builder::new()
            .name("sqlite-checkpoint".into())
            .spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_EVERY) {
                    let _ = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()));
                }
            })
            .ok();
        Checkpointer {
            stop: Some(stop),
            thread,
        }
    }
}

impl Drop for Checkpointer {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Readers {
    path: std::path::PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl SqliteStore {
    /// Opens the database file at `path`, creating it if missing and migrating it to the
    /// current schema. The audit key comes from [`seal::AUDIT_KEY_ENV`] when set, else from the
    /// key file beside the database (created on first use); see [`seal`].
    pub fn open(path: impl AsRef<Path>) -> Result<SqliteStore, StoreError> {
        let env = std::env::var(seal::AUDIT_KEY_ENV).ok();
        SqliteStore::open_with_key(path, env.as_deref())
    }

    /// [`SqliteStore::open`] with the audit key given as 64 hex digits instead of read from the
    /// environment (`None`: the key file beside the database).
    pub fn open_with_key(
        path: impl AsRef<Path>,
        audit_key: Option<&str>,
    ) -> Result<SqliteStore, StoreError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let mut conn = Connection::open(path).map_err(|e| map_err(&name, e))?;
        configure(&conn, true).map_err(|e| map_err(&name, e))?;
        migrate(&mut conn, &name)?;
        let sealed = seal::sealed_key_id(&conn).map_err(|e| map_err(&name, e))?;
        let seal = seal::resolve(&name, path, audit_key, sealed.as_deref())?;
        if let Some(head) =
            seal::seal(&conn, &seal.key, jiff::Timestamp::now()).map_err(|e| map_err(&name, e))?
        {
            seal.record_head(&head);
        }
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(|e| map_err(&name, e))?;
        let checkpoints = Connection::open(path).map_err(|e| map_err(&name, e))?;
        checkpoints
            .busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| map_err(&name, e))?;
        Ok(SqliteStore {
            writer: Mutex::new(write::Writer::new(conn)),
            readers: Some(Readers {
                path: path.to_path_buf(),
                idle: Mutex::new(Vec::new()),
            }),
            _checkpointer: Some(Checkpointer::start(checkpoints)),
            seal,
            name,
        })
    }

    /// A fresh database in memory, gone when dropped. Reads share the writer connection.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        let name = ":memory:".to_owned();
        let mut conn = Connection::open_in_memory().map_err(|e| map_err(&name, e))?;
        configure(&conn, true).map_err(|e| map_err(&name, e))?;
        migrate(&mut conn, &name)?;
        let seal = seal::Seal::ephemeral(&name)?;
        seal::seal(&conn, &seal.key, jiff::Timestamp::now()).map_err(|e| map_err(&name, e))?;
        Ok(SqliteStore {
            writer: Mutex::new(write::Writer::new(conn)),
            readers: None,
            _checkpointer: None,
            seal,
            name,
        })
    }

    /// The database file as given to [`SqliteStore::open`], or `:memory:`.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn writer(&self) -> MutexGuard<'_, write::Writer> {
        self.writer.lock().unwrap_or_else(|poisoned| {
            let mut writer = poisoned.into_inner();
            writer.forget_cache();
            writer
        })
    }

    /// Runs `f` in one immediate transaction on the writer connection: committed when `f`
    /// succeeds, rolled back when it fails (the engage and alert tables).
    fn write_transaction<T>(
        &self,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let writer = self.writer();
        let conn = writer.conn();
        let run = || -> rusqlite::Result<T> {
            conn.execute_batch("BEGIN IMMEDIATE")?;
            match f(conn) {
                Ok(value) => {
                    conn.execute_batch("COMMIT")?;
                    Ok(value)
                }
                Err(error) => {
                    let _ = conn.execute_batch("ROLLBACK");
                    Err(error)
                }
            }
        };
        run().map_err(|e| self.err(e))
    }

    /// Runs `f` on a reader connection (or the writer for an in-memory store).
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let Some(readers) = &self.readers else {
            let writer = self.writer();
            return f(writer.conn()).map_err(|e| self.err(e));
        };
        let idle = readers
            .idle
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop();
        let conn = match idle {
            Some(conn) => conn,
            None => self.open_reader(&readers.path)?,
        };
        let result = f(&conn).map_err(|e| self.err(e));
        let mut idle = readers.idle.lock().unwrap_or_else(PoisonError::into_inner);
        if idle.len() < MAX_IDLE_READERS {
            idle.push(conn);
        }
        result
    }

    fn open_reader(&self, path: &Path) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(path, flags).map_err(|e| self.err(e))?;
        configure(&conn, false).map_err(|e| self.err(e))?;
        Ok(conn)
    }

    fn err(&self, error: rusqlite::Error) -> StoreError {
        map_err(&self.name, error)
    }
}

impl Store for SqliteStore {
    fn apply(&self, changes: &[Change]) -> Result<ApplySummary, StoreError> {
        let mut writer = self.writer();
        writer
            .apply(changes, &[])
            .map(|(summary, _)| summary)
            .map_err(|e| self.err(e))
    }

    fn apply_analysed(
        &self,
        changes: &[Change],
        analyses: &[PreparedAnalysis],
    ) -> Result<(ApplySummary, u64), StoreError> {
        let mut writer = self.writer();
        writer.apply(changes, analyses).map_err(|e| self.err(e))
    }

    fn search(&self, query: &SearchQuery) -> Result<Vec<StoredPost>, StoreError> {
        let text = match &query.text {
            Some(text) => {
                Some(fts::fts_match(text).map_err(|message| StoreError::InvalidQuery { message })?)
            }
            None => None,
        };
        self.read(|conn| read::search(conn, query, text.as_deref()))
    }

    fn post(&self, network: Network, id: &str) -> Result<Option<StoredPost>, StoreError> {
        self.read(|conn| read::post(conn, network, id))
    }

    fn history(&self, network: Network, id: &str) -> Result<Vec<PostVersion>, StoreError> {
        self.read(|conn| read::history(conn, network, id))
    }

    fn stats(&self) -> Result<Stats, StoreError> {
        self.read(read::stats)
    }

    fn count_posts(&self) -> Result<u64, StoreError> {
        self.read(|conn| {
            conn.prepare_cached("SELECT count(*) FROM posts")?
                .query_row([], |row| row.get::<_, i64>(0))
                .map(|n| u64::try_from(n).unwrap_or(0))
        })
    }

    fn cursor(&self, source: &str) -> Result<Option<String>, StoreError> {
        self.read(|conn| read::cursor(conn, source))
    }

    fn set_cursor(&self, source: &str, value: &str) -> Result<(), StoreError> {
        let writer = self.writer();
        writer.set_cursor(source, value).map_err(|e| self.err(e))
    }

    fn save_prepared_analyses(&self, analyses: &[PreparedAnalysis]) -> Result<u64, StoreError> {
        let mut writer = self.writer();
        writer.save_analyses(analyses).map_err(|e| self.err(e))
    }

    fn posts_to_analyse(
        &self,
        engine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<AnalysisBacklog, StoreError> {
        self.read(|conn| read::posts_to_analyse(conn, engine, after, limit))
    }

    fn directory(&self) -> Result<model::directory::Directory, StoreError> {
        self.read_directory()
    }
}

/// Connection settings: WAL, `synchronous=NORMAL`, a busy timeout, foreign keys, caches.
fn configure(conn: &Connection, writer: bool) -> rusqlite::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    conn.set_prepared_statement_cache_capacity(64);
    if writer {
        conn.query_row("PRAGMA journal_mode = WAL", [], |row| {
            row.get::<_, String>(0)
        })?;
        conn.pragma_update(None, "synchronous", "NORMAL")?;
        conn.pragma_update(None, "cache_size", -65_536)?;
    } else {
        conn.pragma_update(None, "cache_size", -16_384)?;
    }
    conn.pragma_update(None, "foreign_keys", true)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    Ok(())
}

/// Brings the schema to [`SCHEMA_VERSION`], one transaction per migration.
fn migrate(conn: &mut Connection, name: &str) -> Result<(), StoreError> {
    let err = |e| map_err(name, e);
    let supported = SCHEMA_VERSION;
    loop {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(err)?;
        let found: u32 = tx
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .map_err(err)?;
        if found > supported {
            return Err(StoreError::NewerSchema {
                path: name.to_owned(),
                found,
                supported,
            });
        }
        let Some(sql) = MIGRATIONS.get(found as usize) else {
            return Ok(());
        };
        tx.execute_batch(sql).map_err(err)?;
        tx.pragma_update(None, "user_version", found + 1)
            .map_err(err)?;
        tx.commit().map_err(err)?;
    }
}

/// Turns a driver error into a [`StoreError`] that names the file and says what to do.
fn map_err(name: &str, error: rusqlite::Error) -> StoreError {
    let path = name.to_owned();
    match &error {
        rusqlite::Error::SqliteFailure(failure, message) => match failure.code {
            ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked => StoreError::Locked { path },
            ErrorCode::NotADatabase => StoreError::NotADatabase { path },
            ErrorCode::CannotOpen => StoreError::CannotOpen {
                path,
                reason: message.clone().unwrap_or_else(|| failure.to_string()),
            },
            ErrorCode::DiskFull => StoreError::DiskFull { path },
            ErrorCode::ReadOnly => StoreError::ReadOnly { path },
            ErrorCode::DatabaseCorrupt => StoreError::Corrupt { path },
            _ => StoreError::Database {
                path,
                message: error.to_string(),
            },
        },
        rusqlite::Error::FromSqlConversionFailure(..)
        | rusqlite::Error::IntegralValueOutOfRange(..)
        | rusqlite::Error::InvalidColumnType(..) => StoreError::BadData {
            path,
            detail: error.to_string(),
        },
        _ => StoreError::Database {
            path,
            message: error.to_string(),
        },
    }
}

/// Author identities already written in this process: `(network, identity)` to key, profile
/// time and profile hash. Cleared when a transaction fails (its rows are gone).
type AuthorCache = HashMap<(Network, String), write::CachedAuthor>;
