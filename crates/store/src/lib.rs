//! Where Switchboard keeps posts: the [`Store`] trait and its SQLite implementation.
//!
//! All of Switchboard's SQL lives in this crate. Nothing outside it knows which database is in
//! use: callers see [`Store`], plain data types and [`StoreError`], none of which mention SQLite
//! (no row ids, no FTS5 syntax, no driver error types), so a PostgreSQL implementation can come
//! later behind the same trait.
//!
//! The trait is synchronous on purpose: imports push 50,000+ posts a second through
//! [`Store::apply`] from one writer thread, and reads run on other threads at the same time
//! (every method takes `&self`; implementations are `Send + Sync`).
//!
//! Invariants every implementation keeps:
//! - a post is unique by `(network, id)`; applying the same changes again changes nothing;
//! - the current version of a post is the one with the latest version time
//!   ([`Post::version_time`]); every other version seen is kept in its history;
//! - a deletion is never lost, even when it arrives before the post it deletes;
//! - search results come newest first (by creation time).

pub mod accounts;
pub mod alerts;
pub mod cancel;
pub mod directory;
pub mod engage;
mod prepared;
pub mod protection;
pub mod signin;
pub mod sqlite;

use std::ops::{Add, AddAssign};

use jiff::{Timestamp, civil::Date};
use model::{Network, Post, analysis::Analysis, query::Query};

pub use accounts::{
    AccountStore, Dashboard, DashboardQuery, DeskStore, HourCounts, Monitor, RecentPost, Role,
    StreamEntry, StreamFilter, StreamOrder, User, WebStore,
};
pub use alerts::{AlertEvent, AlertFilter, AlertStore, SavedHealth, StoredAlert};
pub use cancel::{Cancel, CancelOnDrop};
pub use directory::{DirectoryConflict, DirectoryStore, ImportSummary, ImportedEntry, RowConflict};
pub use engage::{AuditQuery, AuditReport, DraftFilter, EngageStore, MatrixVersion, Review};
pub use prepared::PreparedAnalysis;
pub use protection::{
    AuthorRef, ErasureSummary, ProtectionStore, RetentionPolicy, RetentionSummary,
};
pub use signin::{SecondFactor, SigninStore};
pub use sqlite::SqliteStore;

/// Storage of posts, their history and the resume positions of live sources.
pub trait Store: Send + Sync {
    /// Applies a batch of changes in one transaction: all of them are stored, or none.
    ///
    /// Callers batch about 5,000 to 10,000 changes per call for speed.
    fn apply(&self, changes: &[model::Change]) -> Result<ApplySummary, StoreError>;

    /// Posts matching `query`, newest first, at most `query.limit` of them.
    fn search(&self, query: &SearchQuery) -> Result<Vec<StoredPost>, StoreError>;

    /// The current version of one post, deleted or not.
    fn post(&self, network: Network, id: &str) -> Result<Option<StoredPost>, StoreError>;

    /// Every version of one post seen so far, oldest first; the current version is the last
    /// one. Empty when the post is unknown.
    fn history(&self, network: Network, id: &str) -> Result<Vec<PostVersion>, StoreError>;

    /// Counts by network and by UTC day, with totals.
    fn stats(&self) -> Result<Stats, StoreError>;

    /// How many posts are stored, deleted ones included.
    fn count_posts(&self) -> Result<u64, StoreError>;

    /// The resume position saved for a live source (a stream cursor, a since-id), if any.
    fn cursor(&self, source: &str) -> Result<Option<String>, StoreError>;

    /// Saves the resume position of a live source, replacing the previous one.
    fn set_cursor(&self, source: &str, value: &str) -> Result<(), StoreError>;

    /// Saves analyses of stored posts in one transaction, replacing the analysis of an older
    /// version or another engine. Analyses of posts not stored, or of a version older than the
    /// stored one, are passed over. Returns how many were saved.
    fn save_analyses(&self, analyses: &[PostAnalysis]) -> Result<u64, StoreError> {
        let prepared = analyses
            .iter()
            .map(PreparedAnalysis::new)
            .collect::<Result<Vec<_>, _>>()?;
        self.save_prepared_analyses(&prepared)
    }

    /// [`Store::save_analyses`] for analyses already in their stored form.
    fn save_prepared_analyses(&self, analyses: &[PreparedAnalysis]) -> Result<u64, StoreError>;

    /// Applies a batch of changes and saves analyses of its posts in the same transaction, so
    /// that a crash leaves both or neither. The analyses follow the rules of
    /// [`Store::save_analyses`]. Returns what the changes did and how many analyses were saved.
    fn apply_analysed(
        &self,
        changes: &[model::Change],
        analyses: &[PreparedAnalysis],
    ) -> Result<(ApplySummary, u64), StoreError>;

    /// Up to `limit` stored posts whose current version has no analysis by `engine`, starting
    /// after `after` (the `next` of the previous page; `None` for the first page).
    fn posts_to_analyse(
        &self,
        engine: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<AnalysisBacklog, StoreError>;

    /// The directory of organisations, people and accounts, read whole: what the analysis
    /// looks every post's author up in. Edited through [`DirectoryStore`].
    fn directory(&self) -> Result<model::directory::Directory, StoreError>;
}

/// What [`Store::apply`] did with a batch: one count per change (a tombstone for a post not yet
/// seen counts as `deleted`; an account's new handle as `handles`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApplySummary {
    /// Posts seen for the first time.
    pub inserted: u64,
    /// Posts replaced by a newer version (an edit); the previous version went to history.
    pub updated: u64,
    /// Posts whose counts or other metadata changed, with the same text.
    pub refreshed: u64,
    /// Changes that were already stored (duplicates).
    pub unchanged: u64,
    /// Posts marked deleted, and deletions remembered for posts not seen yet.
    pub deleted: u64,
    /// Older versions that arrived after a newer one: kept in history only.
    pub history_only: u64,
    /// Account handles learnt from the network (Bluesky identity events).
    pub handles: u64,
}

impl ApplySummary {
    /// The number of changes this summary accounts for.
    pub fn total(&self) -> u64 {
        self.inserted
            + self.updated
            + self.refreshed
            + self.unchanged
            + self.deleted
            + self.history_only
            + self.handles
    }
}

impl Add for ApplySummary {
    type Output = ApplySummary;

    fn add(mut self, other: ApplySummary) -> ApplySummary {
        self += other;
        self
    }
}

impl AddAssign for ApplySummary {
    fn add_assign(&mut self, other: ApplySummary) {
        self.inserted += other.inserted;
        self.updated += other.updated;
        self.refreshed += other.refreshed;
        self.unchanged += other.unchanged;
        self.deleted += other.deleted;
        self.history_only += other.history_only;
        self.handles += other.handles;
    }
}

/// A search over stored posts. Every filter given must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchQuery {
    /// Words to find in the text, title, author handle or author name. `None` lists all posts.
    pub text: Option<Query>,
    /// Only these networks; empty means every network.
    pub networks: Vec<Network>,
    /// Only posts created at or after this time.
    pub since: Option<Timestamp>,
    /// Only posts created before this time.
    pub until: Option<Timestamp>,
    /// At most this many posts (the newest).
    pub limit: usize,
    /// Include posts marked deleted.
    pub include_deleted: bool,
}

impl Default for SearchQuery {
    fn default() -> Self {
        SearchQuery {
            text: None,
            networks: Vec::new(),
            since: None,
            until: None,
            limit: 50,
            include_deleted: false,
        }
    }
}

/// A post as stored: the current version, with what the store knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredPost {
    /// The current version, with the newest known profile of its author.
    pub post: Post,
    /// When this store first saw the post.
    pub first_seen: Timestamp,
    /// When this store last changed the post (new version, counts, deletion).
    pub updated_at: Timestamp,
    /// When the post was deleted, if it was.
    pub deleted_at: Option<Timestamp>,
    /// How many versions of the post the store has seen (1 when never edited).
    pub versions: u32,
    /// What Switchboard understood of the post, when it has been analysed.
    pub analysis: Option<Analysis>,
}

/// The analysis of one version of a stored post, for [`Store::save_analyses`].
#[derive(Debug, Clone, PartialEq)]
pub struct PostAnalysis {
    /// The network of the post.
    pub network: Network,
    /// The network's id of the post.
    pub id: String,
    /// The version analysed ([`model::Post::version_time`]): an analysis of a version older
    /// than the stored one is passed over.
    pub version_at: Timestamp,
    /// The analysis.
    pub analysis: Analysis,
}

/// A page of posts that need analysing, from [`Store::posts_to_analyse`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AnalysisBacklog {
    /// The posts, in the store's order.
    pub posts: Vec<StoredPost>,
    /// Where the next page starts, or `None` when this was the last page.
    pub next: Option<String>,
}

/// One version of a post's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PostVersion {
    /// The version time: the edit time, or the creation time for the first version.
    pub version_at: Timestamp,
    /// The edit time, as the network gave it.
    pub edited_at: Option<Timestamp>,
    /// The text of this version.
    pub text: String,
    /// The title of this version.
    pub title: Option<String>,
    /// The network's payload of this version.
    pub raw: String,
    /// When this store learnt of this version.
    pub seen_at: Timestamp,
    /// Whether this is the current version.
    pub current: bool,
}

/// Counts over the whole store.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// Posts stored, deleted ones included.
    pub posts: u64,
    /// Posts marked deleted.
    pub deleted: u64,
    /// Distinct authors.
    pub authors: u64,
    /// Earlier versions kept in history.
    pub history_versions: u64,
    /// Deletions waiting for a post not seen yet.
    pub pending_deletions: u64,
    /// Per network, in [`Network::ALL`] order, networks without posts left out.
    pub by_network: Vec<NetworkCount>,
    /// Per UTC day of creation, oldest first, days without posts left out.
    pub by_day: Vec<DayCount>,
    /// Creation time of the oldest post.
    pub oldest: Option<Timestamp>,
    /// Creation time of the newest post.
    pub newest: Option<Timestamp>,
}

/// Posts of one network.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NetworkCount {
    /// The network.
    pub network: Network,
    /// Posts stored, deleted ones included.
    pub posts: u64,
    /// Of which deleted.
    pub deleted: u64,
}

/// Posts created on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// The day (UTC).
    pub day: Date,
    /// Posts created that day, deleted ones included.
    pub posts: u64,
}

/// Why the store could not do what was asked. Every message names the database and says what
/// to do.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// Another process holds the database.
    #[error(
        "{path}: the database is locked by another switchboard process; stop it or use another --db"
    )]
    Locked {
        /// The database file.
        path: String,
    },
    /// The file exists but is not a database.
    #[error("{path}: this file is not a switchboard database; check the path given to --db")]
    NotADatabase {
        /// The file.
        path: String,
    },
    /// The file could not be opened or created.
    #[error(
        "{path}: cannot open or create the database ({reason}); check that the folder exists and is writable"
    )]
    CannotOpen {
        /// The file.
        path: String,
        /// What the operating system or database said.
        reason: String,
    },
    /// The database was written by a newer Switchboard.
    #[error(
        "{path}: the database is at schema version {found}, newer than this switchboard knows \
         ({supported}); upgrade switchboard or use another --db"
    )]
    NewerSchema {
        /// The file.
        path: String,
        /// The version found in the file.
        found: u32,
        /// The newest version this build knows.
        supported: u32,
    },
    /// The disk is full.
    #[error("{path}: the disk is full; free some space and run again")]
    DiskFull {
        /// The file.
        path: String,
    },
    /// The file or folder is read-only.
    #[error("{path}: the database is read-only; check the file's permissions")]
    ReadOnly {
        /// The file.
        path: String,
    },
    /// The file is damaged.
    #[error(
        "{path}: the database file is damaged; restore it from a backup or re-import into a new --db"
    )]
    Corrupt {
        /// The file.
        path: String,
    },
    /// A value in the database could not be read back.
    #[error("{path}: unexpected data in the database ({detail}); this is a bug, please report it")]
    BadData {
        /// The file.
        path: String,
        /// What was wrong.
        detail: String,
    },
    /// A search query that the full-text index cannot answer (only possible with a query built
    /// by hand rather than by [`model::query::parse`]).
    #[error("the search cannot be run: {message}; rewrite the query")]
    InvalidQuery {
        /// What is wrong with the query.
        message: String,
    },
    /// A read stopped through its [`Cancel`]: its deadline passed or whoever asked went away.
    #[error("the query was stopped before it finished: it took too long, or it was abandoned")]
    Cancelled,
    /// The audit key is unusable (a malformed key, an unreadable or uncreatable key file).
    #[error("{path}: {reason}")]
    AuditKey {
        /// The database file.
        path: String,
        /// What is wrong and where.
        reason: String,
    },
    /// The database's audit log is keyed but the key is not to be found.
    #[error(
        "{path}: the audit log is keyed, but its key file {key_file} is missing and \
         SWITCHBOARD_AUDIT_KEY is not set; restore the key file from your backup (or set the \
         variable to the key); a new key would leave the log unverifiable"
    )]
    AuditKeyMissing {
        /// The database file.
        path: String,
        /// Where the key file was looked for.
        key_file: String,
    },
    /// The audit key found is not the one the log was chained with.
    #[error(
        "{path}: the audit log was chained with key id {expected}, but {from} holds key id \
         {found}; use the key the log was made with"
    )]
    AuditKeyMismatch {
        /// The database file.
        path: String,
        /// The key id the database records.
        expected: String,
        /// The id of the key found.
        found: String,
        /// Where the key found came from.
        from: String,
    },
    /// Any other database failure.
    #[error("{path}: database error: {message}")]
    Database {
        /// The file.
        path: String,
        /// What the database said.
        message: String,
    },
}
