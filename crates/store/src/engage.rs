//! Storage for triage and respond: matrix versions, cases, notes, drafts, reviews, and the
//! append-only audit log ([`EngageStore`]).
//!
//! Every write that changes a case, a draft or the matrix takes the audit entries that describe
//! it and stores both in one transaction, so the record and the change cannot part. The store
//! chains audit entries itself (reading the last hash inside the write transaction), so
//! concurrent writers cannot fork the chain. Nothing here updates or deletes audit rows, and the
//! SQLite schema refuses it with triggers.

use engage::{
    AuditEntry, BrokenLink, Case, CaseFilter, Checkpoint, Draft, DraftStatus, NewAuditEntry, Note,
};
use jiff::Timestamp;

use crate::StoreError;

/// One stored version of the response matrix.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixVersion {
    /// The version number, from 1.
    pub version: u64,
    /// Who set it.
    pub author: String,
    /// When.
    pub at: Timestamp,
    /// The TOML text.
    pub text: String,
    /// The line diff from the previous version.
    pub diff: String,
}

/// An approver's decision on a draft.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Review {
    /// The draft.
    pub draft_id: String,
    /// Who decided.
    pub reviewer: String,
    /// `approved`, `edited_and_approved` or `rejected`.
    pub decision: String,
    /// The comment (required for a rejection).
    pub comment: String,
    /// When.
    pub at: Timestamp,
}

/// Which drafts to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DraftFilter {
    /// Only these statuses; empty means all.
    pub statuses: Vec<DraftStatus>,
    /// Only drafts of this case.
    pub case_id: Option<String>,
    /// Only drafts scheduled at or after this time (the calendar's week start).
    pub scheduled_from: Option<Timestamp>,
    /// Only drafts scheduled before this time (the calendar's week end).
    pub scheduled_until: Option<Timestamp>,
    /// At most this many, newest first (0 means 100).
    pub limit: usize,
}

/// Which audit entries to show (the audit page's filters), newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Only entries about this subject (`case:x:1`, `draft:ab12`), or about subjects starting
    /// with it when it ends in `:` (`draft:` for every draft).
    pub subject: Option<String>,
    /// Only entries by this user.
    pub actor: Option<String>,
    /// Only entries before this sequence number (the next page).
    pub before_seq: Option<u64>,
    /// At most this many (0 means 50).
    pub limit: usize,
}

/// What a check of the whole audit log found ([`EngageStore::verify_audit`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditReport {
    /// Entries verified (all of them when the log is intact).
    pub entries: u64,
    /// How many of them had their detail erased (each named by an erasure record).
    pub erased: u64,
    /// The public id of the key the log is chained with.
    pub key_id: String,
    /// Where the key came from, in words (never the key).
    pub key_source: String,
    /// The last entry in the database.
    pub head: Option<Checkpoint>,
    /// The head recorded in the checkpoint file outside the database.
    pub checkpoint: Option<Checkpoint>,
    /// Why the checkpoint file could not serve (missing while the log has entries, unreadable).
    pub checkpoint_problem: Option<String>,
    /// The first broken link, if any.
    pub broken: Option<BrokenLink>,
}

impl AuditReport {
    /// Whether the log verified against its key and its checkpoint.
    pub fn intact(&self) -> bool {
        self.broken.is_none() && self.checkpoint_problem.is_none()
    }
}

/// Storage for cases, drafts, the matrix and the audit log.
pub trait EngageStore: Send + Sync {
    /// Stores a new matrix version (it becomes active) with its audit entry; returns it.
    fn set_matrix(
        &self,
        text: &str,
        author: &str,
        diff: &str,
        at: Timestamp,
        audit: &NewAuditEntry,
    ) -> Result<MatrixVersion, StoreError>;

    /// The active (newest) matrix version, if one was ever set.
    fn active_matrix(&self) -> Result<Option<MatrixVersion>, StoreError>;

    /// Matrix versions, newest first.
    fn matrix_versions(&self, limit: usize) -> Result<Vec<MatrixVersion>, StoreError>;

    /// Creates or replaces a case, with the audit entries of the change.
    fn save_case(&self, case: &Case, audit: &[NewAuditEntry]) -> Result<(), StoreError>;

    /// One case by id.
    fn case(&self, id: &str) -> Result<Option<Case>, StoreError>;

    /// Cases matching a filter, soonest due first.
    fn cases(&self, filter: &CaseFilter) -> Result<Vec<Case>, StoreError>;

    /// Adds an internal note, with its audit entry.
    fn add_note(&self, note: &Note, audit: &NewAuditEntry) -> Result<(), StoreError>;

    /// A case's notes, oldest first.
    fn notes(&self, case_id: &str) -> Result<Vec<Note>, StoreError>;

    /// Creates or replaces a draft, and optionally its case, with the audit entries.
    fn save_draft(
        &self,
        draft: &Draft,
        case: Option<&Case>,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError>;

    /// One draft by id.
    fn draft(&self, id: &str) -> Result<Option<Draft>, StoreError>;

    /// Drafts matching a filter, newest first.
    fn drafts(&self, filter: &DraftFilter) -> Result<Vec<Draft>, StoreError>;

    /// How many drafts wait for approval (the count shown to approvers on every page).
    fn count_awaiting_approval(&self) -> Result<u64, StoreError>;

    /// Scheduled drafts due at `now` (scheduled time passed, not sent), oldest first.
    fn due_drafts(&self, now: Timestamp) -> Result<Vec<Draft>, StoreError>;

    /// Records an approver's decision, with the draft's new state and the audit entries.
    fn add_review(
        &self,
        review: &Review,
        draft: &Draft,
        case: Option<&Case>,
        audit: &[NewAuditEntry],
    ) -> Result<(), StoreError>;

    /// A draft's reviews, oldest first.
    fn reviews(&self, draft_id: &str) -> Result<Vec<Review>, StoreError>;

    /// Appends entries to the audit log; returns them chained.
    fn append_audit(&self, entries: &[NewAuditEntry]) -> Result<Vec<AuditEntry>, StoreError>;

    /// Up to `limit` audit entries after `after_seq`, in order (0 for the start).
    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError>;

    /// Audit entries matching a query, newest first.
    fn audit_search(&self, query: &AuditQuery) -> Result<Vec<AuditEntry>, StoreError>;

    /// Checks the whole audit log: every keyed hash with the store's key, and the end of the
    /// log against the checkpoint kept outside the database and against `checkpoints` given by
    /// the caller (heads taken from the log output).
    fn verify_audit(&self, checkpoints: &[Checkpoint]) -> Result<AuditReport, StoreError>;
}
