//! What keeps the audit log honest outside the database: the key that chains it and the
//! checkpoint of the chain's head.
//!
//! The key comes from `SWITCHBOARD_AUDIT_KEY` (64 hex digits) when that is set, otherwise from a
//! key file beside the database (`<db>.audit-key`), created with owner-only permissions on the
//! first open. The file is the default so that every installation is keyed from its first run
//! without a step anyone can forget, and a copy of the database alone (a backup, an export, a
//! file handed to a database tool) does not carry the key; the variable is for installations that
//! keep secrets in a secret store, away from the data folder. The store records the key's public
//! id and refuses to open a keyed log with a different or missing key, rather than start a new
//! chain that would hide the old one.
//!
//! After every write that extends the chain, the head (`SEQ:HASH`) is written to
//! `<db>.audit-head` (only ever forwards, under a lock, replaced atomically) and to the log
//! output (target `switchboard::audit`), so that entries cut off the end are detected.

use std::{
    fs::{self, File, OpenOptions},
    io::{self, Read, Write},
    path::{Path, PathBuf},
};

use engage::{AuditEntry, AuditKey, Checkpoint, NewAuditEntry, audit};
use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, params};

use crate::StoreError;

/// The environment variable that holds the audit key (64 hex digits), when it is not in the key
/// file beside the database.
pub const AUDIT_KEY_ENV: &str = "SWITCHBOARD_AUDIT_KEY";

/// Where the audit key came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    /// The environment variable [`AUDIT_KEY_ENV`].
    Environment,
    /// The key file beside the database.
    File(PathBuf),
    /// A key made for an in-memory database, gone with it.
    Ephemeral,
}

impl std::fmt::Display for KeySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeySource::Environment => write!(f, "the environment variable {AUDIT_KEY_ENV}"),
            KeySource::File(path) => write!(f, "the key file {}", path.display()),
            KeySource::Ephemeral => write!(f, "a key kept in memory"),
        }
    }
}

/// The key file of a database: `<db>.audit-key`.
pub fn key_file_for(db: &Path) -> PathBuf {
    with_suffix(db, ".audit-key")
}

/// The checkpoint file of a database: `<db>.audit-head`.
pub fn head_file_for(db: &Path) -> PathBuf {
    with_suffix(db, ".audit-head")
}

fn with_suffix(db: &Path, suffix: &str) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The key and checkpoint of one store.
#[derive(Debug)]
pub(crate) struct Seal {
    pub(crate) key: AuditKey,
    pub(crate) source: KeySource,
    pub(crate) head_file: Option<PathBuf>,
}

impl Seal {
    /// A seal for an in-memory database: a random key, no files.
    pub(crate) fn ephemeral(name: &str) -> Result<Seal, StoreError> {
        Ok(Seal {
            key: random_key(name)?,
            source: KeySource::Ephemeral,
            head_file: None,
        })
    }

    /// Records a new head of the chain outside the database: the checkpoint file and the log.
    /// A file that cannot be written is logged, not fatal: the entries are already committed.
    pub(crate) fn record_head(&self, head: &AuditEntry) {
        let checkpoint = head.checkpoint();
        tracing::info!(
            target: "switchboard::audit",
            seq = checkpoint.seq,
            head = %checkpoint,
            "Audit chain head."
        );
        if let Some(path) = &self.head_file
            && let Err(error) = advance_head(path, &checkpoint)
        {
            tracing::warn!(
                target: "switchboard::audit",
                file = %path.display(),
                %error,
                "Cannot write the audit checkpoint file."
            );
        }
    }

    /// The checkpoint kept in the file, if there is a file.
    pub(crate) fn read_head(&self) -> Result<Option<Checkpoint>, String> {
        match &self.head_file {
            Some(path) => read_head(path),
            None => Ok(None),
        }
    }
}

fn random_key(name: &str) -> Result<AuditKey, StoreError> {
    let mut bytes = [0_u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| StoreError::AuditKey {
        path: name.to_owned(),
        reason: format!("no random bytes for a new key: {e}"),
    })?;
    Ok(AuditKey::from_bytes(bytes))
}

/// Finds the key of the database at `db`: from `env` (the value of [`AUDIT_KEY_ENV`]) when set,
/// else from the key file, which is created when the log was never keyed (`sealed` is the key id
/// the database records, if any).
pub(crate) fn resolve(
    name: &str,
    db: &Path,
    env: Option<&str>,
    sealed: Option<&str>,
) -> Result<Seal, StoreError> {
    let key_file = key_file_for(db);
    let bad = |reason: String| StoreError::AuditKey {
        path: name.to_owned(),
        reason,
    };
    let (key, source) = match env.map(str::trim).filter(|v| !v.is_empty()) {
        Some(value) => (
            AuditKey::from_hex(value).map_err(|e| bad(format!("{AUDIT_KEY_ENV}: {e}")))?,
            KeySource::Environment,
        ),
        None => match fs::read_to_string(&key_file) {
            Ok(text) => (
                AuditKey::from_hex(&text)
                    .map_err(|e| bad(format!("the key file {}: {e}", key_file.display())))?,
                KeySource::File(key_file.clone()),
            ),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                if sealed.is_some() {
                    return Err(StoreError::AuditKeyMissing {
                        path: name.to_owned(),
                        key_file: key_file.display().to_string(),
                    });
                }
                (
                    create_key_file(name, &key_file)?,
                    KeySource::File(key_file.clone()),
                )
            }
            Err(e) => {
                return Err(bad(format!(
                    "cannot read the key file {}: {e}",
                    key_file.display()
                )));
            }
        },
    };
    if let Some(id) = sealed
        && id != key.id()
    {
        return Err(StoreError::AuditKeyMismatch {
            path: name.to_owned(),
            expected: id.to_owned(),
            found: key.id(),
            from: source.to_string(),
        });
    }
    Ok(Seal {
        key,
        source,
        head_file: Some(head_file_for(db)),
    })
}

/// Writes a new random key to `path` with owner-only permissions. The key is written to a
/// temporary file first and linked into place, so a second process opening the same new
/// database at the same moment reads the one key that won, never half a file.
fn create_key_file(name: &str, path: &Path) -> Result<AuditKey, StoreError> {
    let key = random_key(name)?;
    let fail = |e: io::Error| StoreError::AuditKey {
        path: name.to_owned(),
        reason: format!("cannot create the key file {}: {e}", path.display()),
    };
    let tmp = with_suffix(path, &format!(".{}.tmp", std::process::id()));
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let written = options.open(&tmp).and_then(|mut file| {
        file.write_all(format!("{}\n", key.to_hex()).as_bytes())?;
        file.sync_all()
    });
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(fail(e));
    }
    let linked = fs::hard_link(&tmp, path);
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(key),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            let text = fs::read_to_string(path).map_err(fail)?;
            AuditKey::from_hex(&text).map_err(|e| StoreError::AuditKey {
                path: name.to_owned(),
                reason: format!("the key file {}: {e}", path.display()),
            })
        }
        Err(e) => Err(fail(e)),
    }
}

/// Reads a checkpoint file (`None` when there is none).
pub(crate) fn read_head(path: &Path) -> Result<Option<Checkpoint>, String> {
    let mut text = String::new();
    match File::open(path).and_then(|f| f.take(1024).read_to_string(&mut text)) {
        Ok(_) => text
            .trim()
            .parse()
            .map(Some)
            .map_err(|e| format!("the checkpoint file {}: {e}", path.display())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!(
            "cannot read the checkpoint file {}: {e}",
            path.display()
        )),
    }
}

/// Replaces the checkpoint in `path` with `head` unless the file already records a later entry
/// (another process wrote after us). Holds a lock beside it while reading and replacing.
fn advance_head(path: &Path, head: &Checkpoint) -> io::Result<()> {
    let lock = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(with_suffix(path, ".lock"))?;
    lock.lock()?;
    if let Ok(Some(current)) = read_head(path)
        && current.seq >= head.seq
    {
        return Ok(());
    }
    let tmp = with_suffix(path, ".tmp");
    let mut file = File::create(&tmp)?;
    file.write_all(format!("{head}\n").as_bytes())?;
    file.sync_all()?;
    fs::rename(&tmp, path)
}

/// Whether the unkeyed log of before keys is still waiting to be moved.
fn has_legacy_log(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'audit_log_sha256'",
        [],
        |r| r.get(0),
    )
}

/// The key id recorded in the database, if the log was ever keyed.
pub(crate) fn sealed_key_id(conn: &Connection) -> rusqlite::Result<Option<String>> {
    conn.query_row("SELECT key_id FROM audit_seal WHERE id = 1", [], |r| {
        r.get(0)
    })
    .optional()
}

/// Records the key id (on first use) and moves a log of the old unkeyed SHA-256 chain onto the
/// keyed chain, in one transaction. The old chain is checked first, and the move is recorded in
/// the log with what the check found: an old log that was tampered with is moved as found, with
/// its first broken link written into the keyed log for good. Returns the new head, if any.
pub(crate) fn seal(
    conn: &Connection,
    key: &AuditKey,
    now: Timestamp,
) -> rusqlite::Result<Option<AuditEntry>> {
    // Nothing to do in the usual case: no write lock taken (another process may be importing).
    if sealed_key_id(conn)?.is_some() && !has_legacy_log(conn)? {
        return Ok(None);
    }
    conn.execute_batch("BEGIN IMMEDIATE")?;
    let run = || -> rusqlite::Result<Option<AuditEntry>> {
        if sealed_key_id(conn)?.is_none() {
            conn.execute(
                "INSERT INTO audit_seal (id, key_id, sealed_at) VALUES (1, ?1, ?2)",
                params![key.id(), now.as_microsecond()],
            )?;
        }
        if !has_legacy_log(conn)? {
            return Ok(None);
        }
        let old: Vec<(i64, NewAuditEntry, String, String)> = {
            let mut stmt = conn.prepare(
                "SELECT seq, at, actor, action, subject, detail, prev_hash, hash \
                 FROM audit_log_sha256 ORDER BY seq",
            )?;
            stmt.query_map([], |r| {
                Ok((
                    r.get::<_, i64>(0)?,
                    NewAuditEntry {
                        at: super::engage::time(r.get(1)?)?,
                        actor: r.get(2)?,
                        action: r.get(3)?,
                        subject: r.get(4)?,
                        detail: r.get(5)?,
                    },
                    r.get::<_, String>(6)?,
                    r.get::<_, String>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        conn.execute_batch("DROP TABLE audit_log_sha256")?;
        if old.is_empty() {
            return Ok(None);
        }
        let mut expected_prev = audit::GENESIS.to_owned();
        let mut broken = None;
        for (i, (seq, entry, prev_hash, hash)) in old.iter().enumerate() {
            let want_seq = i as i64 + 1;
            let reason = if *seq != want_seq {
                Some(format!("entry {want_seq} is missing"))
            } else if *prev_hash != expected_prev {
                Some("its previous hash does not match the entry before".to_owned())
            } else if audit::legacy_sha256(prev_hash, *seq as u64, entry) != *hash {
                Some("its content does not match its hash".to_owned())
            } else {
                None
            };
            if let Some(reason) = reason {
                broken = Some(format!("broken at entry {want_seq}: {reason}"));
                break;
            }
            expected_prev.clone_from(hash);
        }
        let legacy_head = old.last().map(|(_, _, _, h)| h.clone()).unwrap_or_default();
        let mut moved = old.into_iter().map(|(_, e, _, _)| e).collect::<Vec<_>>();
        let count = moved.len();
        moved.push(NewAuditEntry::new(
            now,
            "switchboard",
            "audit.rekey",
            "audit",
            format!(
                "Moved {count} entries of the unkeyed SHA-256 chain onto the keyed chain (key id \
                 {}). The SHA-256 chain was {}; its head was {legacy_head}.",
                key.id(),
                broken.as_deref().unwrap_or("intact"),
            ),
        ));
        let written = super::engage::append(conn, key, &moved)?;
        Ok(written.last().cloned())
    };
    match run() {
        Ok(head) => {
            conn.execute_batch("COMMIT")?;
            Ok(head)
        }
        Err(error) => {
            let _ = conn.execute_batch("ROLLBACK");
            Err(error)
        }
    }
}
