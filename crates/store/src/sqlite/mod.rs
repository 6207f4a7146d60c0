//! The SQLite implementation of [`Store`]: one `switchboard.db` file in WAL mode.
//!
//! Design and invariants:
//! - One writer connection behind a mutex does every write; [`Store::apply`] runs one
//!   `BEGIN IMMEDIATE` transaction per call. A pool of reader connections (opened on demand, at
//!   most [`MAX_READERS`], kept open once opened) serves reads while an import writes: WAL lets
//!   readers see the last committed state without waiting. A read that finds every reader busy
//!   waits for one, so a burst of requests never opens more files or caches than that. An
//!   in-memory store has no readers; it reads on the writer.
//! - Writers of one file take turns across processes: a bulk writer (an import, `analyse`, a
//!   live connector) lets every writer that announced itself go first before each of its
//!   transactions, so a web request's write waits for at most the one bulk transaction under
//!   way, never for a whole import (SQLite's own busy handler polls and can lose every time).
//!   The turns are `flock`s on a small file beside the database (`switchboard.db-writers`):
//!   a shared lock announces a writer, an exclusive lock taken and dropped waits for them.
//! - Reads run inside a [`crate::Cancel`] scope can be stopped while they run (see
//!   [`crate::cancel`]).
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
mod signin;
mod write;

use std::{
    collections::HashMap,
    fs::{File, OpenOptions},
    path::Path,
    sync::{
        Condvar, Mutex, MutexGuard, PoisonError,
        mpsc::{self, RecvTimeoutError},
    },
    thread::JoinHandle,
    time::Duration,
};

use model::{Change, Network};
use rusqlite::{Connection, ErrorCode, OpenFlags, TransactionBehavior};

use crate::{
    AnalysisBacklog, ApplySummary, PostVersion, PreparedAnalysis, SearchQuery, Stats, Store,
    StoreError, StoredPost, cancel,
};

/// The migrations, in order; migration `n` (from 1) brings the schema to `user_version = n`.
const MIGRATIONS: [&str; 11] = [
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
    include_str!("../../migrations/sqlite/0011_signin.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: u32 = 11;

/// Reader connections open at most: more reads at once wait for one of them.
pub const MAX_READERS: usize = 8;

/// How often a read waiting for a reader connection checks whether it was cancelled.
const READER_WAIT_CHECK: Duration = Duration::from_millis(50);

/// Virtual machine steps between two checks of the read's cancellation.
const PROGRESS_STEPS: i32 = 10_000;

/// How long a statement waits for a lock held by another connection or process.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A [`Store`] in one SQLite database file (or in memory, for tests).
pub struct SqliteStore {
    /// The file as given, for messages.
    name: String,
    writer: Mutex<write::Writer>,
    /// Turns at writing shared with other processes; `None` in memory, or when the file beside
    /// the database cannot be made (then SQLite's busy timeout alone arbitrates).
    turns: Option<File>,
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

/// The pool of reader connections.
/// The writer connection, with this process's write announced (see [`SqliteStore::writer`]).
/// The announcement is released before the connection's mutex (fields drop in order): the
/// lock belongs to the file, shared by every thread of the process, so the next thread must
/// not announce itself before this one's announcement is gone.
struct WriterGuard<'a> {
    _announced: Option<Announced<'a>>,
    writer: MutexGuard<'a, write::Writer>,
}

impl std::ops::Deref for WriterGuard<'_> {
    type Target = write::Writer;

    fn deref(&self) -> &write::Writer {
        &self.writer
    }
}

impl std::ops::DerefMut for WriterGuard<'_> {
    fn deref_mut(&mut self) -> &mut write::Writer {
        &mut self.writer
    }
}

/// A shared lock on the turns file, released when dropped.
struct Announced<'a>(&'a File);

impl Drop for Announced<'_> {
    fn drop(&mut self) {
        let _ = self.0.unlock();
    }
}

/// The pool of reader connections.
struct Readers {
    path: std::path::PathBuf,
    pool: Mutex<Pool>,
    /// Signalled when a connection goes back to the pool.
    returned: Condvar,
}

/// The reader connections not in use, and how many are open in all.
#[derive(Default)]
struct Pool {
    idle: Vec<Connection>,
    open: usize,
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
        let mut turns_path = path.as_os_str().to_owned();
        turns_path.push("-writers");
        let turns = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(turns_path)
            .ok();
        Ok(SqliteStore {
            writer: Mutex::new(write::Writer::new(conn)),
            turns,
            readers: Some(Readers {
                path: path.to_path_buf(),
                pool: Mutex::new(Pool::default()),
                returned: Condvar::new(),
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
            turns: None,
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

    fn lock_writer(&self) -> MutexGuard<'_, write::Writer> {
        self.writer.lock().unwrap_or_else(|poisoned| {
            let mut writer = poisoned.into_inner();
            writer.forget_cache();
            writer
        })
    }

    /// The writer connection for a short write (a web request's): announced to bulk writers
    /// in other processes, which let it go first, for as long as the guard lives.
    fn writer(&self) -> WriterGuard<'_> {
        let writer = self.lock_writer();
        let announced = self
            .turns
            .as_ref()
            .filter(|file| file.lock_shared().is_ok())
            .map(Announced);
        WriterGuard {
            _announced: announced,
            writer,
        }
    }

    /// The writer connection for a bulk write (a batch of an import, of analyses, of a live
    /// connector): first waits until the writers announced by other processes are done.
    fn bulk_writer(&self) -> MutexGuard<'_, write::Writer> {
        let writer = self.lock_writer();
        if let Some(file) = &self.turns
            && file.lock().is_ok()
        {
            let _ = file.unlock();
        }
        writer
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

    /// Runs `f` on a reader connection (or the writer for an in-memory store), stoppable by
    /// the [`crate::Cancel`] of the current scope.
    fn read<T>(&self, f: impl FnOnce(&Connection) -> rusqlite::Result<T>) -> Result<T, StoreError> {
        let Some(readers) = &self.readers else {
            let writer = self.writer();
            return self.run_read(writer.conn(), f);
        };
        let conn = self.checkout(readers)?;
        let result = self.run_read(&conn, f);
        let mut pool = readers.pool.lock().unwrap_or_else(PoisonError::into_inner);
        pool.idle.push(conn);
        drop(pool);
        readers.returned.notify_one();
        result
    }

    /// Runs one read on `conn`, registered with the current scope's cancellation.
    fn run_read<T>(
        &self,
        conn: &Connection,
        f: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let Some(registered) = cancel::register(conn) else {
            return Err(StoreError::Cancelled);
        };
        let result = f(conn);
        drop(registered);
        result.map_err(|e| self.err(e))
    }

    /// A reader connection: an idle one, a new one while fewer than [`MAX_READERS`] are open,
    /// or the next one given back.
    fn checkout(&self, readers: &Readers) -> Result<Connection, StoreError> {
        let mut pool = readers.pool.lock().unwrap_or_else(PoisonError::into_inner);
        loop {
            if let Some(conn) = pool.idle.pop() {
                return Ok(conn);
            }
            if pool.open < MAX_READERS {
                pool.open += 1;
                drop(pool);
                let opened = self.open_reader(&readers.path);
                if opened.is_err() {
                    let mut pool = readers.pool.lock().unwrap_or_else(PoisonError::into_inner);
                    pool.open -= 1;
                    drop(pool);
                    readers.returned.notify_one();
                }
                return opened;
            }
            if cancel::current_is_cancelled() {
                return Err(StoreError::Cancelled);
            }
            pool = readers
                .returned
                .wait_timeout(pool, READER_WAIT_CHECK)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }

    fn open_reader(&self, path: &Path) -> Result<Connection, StoreError> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        let mut conn = Connection::open_with_flags(path, flags).map_err(|e| self.err(e))?;
        configure(&conn, false).map_err(|e| self.err(e))?;
        conn.progress_handler(PROGRESS_STEPS, Some(cancel::current_is_cancelled))
            .map_err(|e| self.err(e))?;
        Ok(conn)
    }

    fn err(&self, error: rusqlite::Error) -> StoreError {
        map_err(&self.name, error)
    }
}

impl Store for SqliteStore {
    fn apply(&self, changes: &[Change]) -> Result<ApplySummary, StoreError> {
        let mut writer = self.bulk_writer();
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
        let mut writer = self.bulk_writer();
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
        let mut writer = self.bulk_writer();
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
            ErrorCode::OperationInterrupted => StoreError::Cancelled,
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
