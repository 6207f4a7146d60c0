//! Storage of the directory of organisations, people and accounts ([`DirectoryStore`]).
//!
//! The directory is read whole by [`crate::Store::directory`] (the analysis looks up every
//! post's author in it) and edited here, one entry at a time from the settings page or in one
//! transaction from an import. Invariants the store keeps:
//! - an account (network and handle, compared without case and without a leading `@`) belongs to
//!   one entry only, and so does a network's account id;
//! - an ODS code belongs to one entry only (kept in upper case);
//! - every change is written with its audit entries in the same transaction;
//! - removing an entry removes its handles and leaves its children without a parent.
//!
//! What makes an entry valid (lengths, kinds that may carry an ODS code, parents without
//! cycles) is checked before it reaches the store, by the `directory` crate.

use engage::NewAuditEntry;
use model::{Network, directory::DirectoryEntry};

use crate::StoreError;

/// Why a directory change was refused: something it claims belongs to another entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DirectoryConflict {
    /// The account is another entry's.
    #[error(
        "{handle} on {} already belongs to {holder_name}: remove it there first, or edit that entry",
        network.label()
    )]
    HandleTaken {
        /// The network.
        network: Network,
        /// The handle as given.
        handle: String,
        /// The entry holding it.
        holder: i64,
        /// That entry's name.
        holder_name: String,
    },
    /// The network's account id is another entry's.
    #[error(
        "the {} account id {account_id} already belongs to {holder_name}: remove it there first",
        network.label()
    )]
    AccountTaken {
        /// The network.
        network: Network,
        /// The account id.
        account_id: String,
        /// The entry holding it.
        holder: i64,
        /// That entry's name.
        holder_name: String,
    },
    /// The ODS code is another entry's.
    #[error("the ODS code {code} already belongs to {holder_name}: edit that entry instead")]
    OdsCodeTaken {
        /// The code.
        code: String,
        /// The entry holding it.
        holder: i64,
        /// That entry's name.
        holder_name: String,
    },
    /// The entry to change, or the parent named, is not in the directory (any more).
    #[error("directory entry {0} does not exist (any more): reload the directory and try again")]
    NoSuchEntry(i64),
}

/// One row of a directory import: an entry (with the id of the stored entry it replaces, or 0
/// for a new one) and, when its parent is imported in the same batch, the parent's position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedEntry {
    /// The entry. `entry.parent` is used when `parent_row` is `None`.
    pub entry: DirectoryEntry,
    /// The position in the batch of the parent, when the parent is imported with it.
    pub parent_row: Option<usize>,
}

/// What an import did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ImportSummary {
    /// Entries added.
    pub added: u64,
    /// Stored entries replaced by the imported version.
    pub updated: u64,
    /// Handles written (of added and updated entries).
    pub handles: u64,
}

/// A conflict found while importing, with the position in the batch of the row that caused it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowConflict {
    /// The position of the row in the batch (from 0).
    pub row: usize,
    /// What is wrong.
    pub conflict: DirectoryConflict,
}

/// Storage of the directory's entries and their handles.
pub trait DirectoryStore: Send + Sync {
    /// One entry with its handles.
    fn directory_entry(&self, id: i64) -> Result<Option<DirectoryEntry>, StoreError>;

    /// Adds an entry (when `entry.id` is 0) or replaces a stored one with its handles, with the
    /// audit entries of the change (their subject is set to `directory:ID`). Returns the
    /// entry's id, or what it claims that another entry holds (nothing is written then).
    fn save_directory_entry(
        &self,
        entry: &DirectoryEntry,
        audit: &[NewAuditEntry],
    ) -> Result<Result<i64, DirectoryConflict>, StoreError>;

    /// Removes an entry and its handles, with the audit entries of the change; its children
    /// keep their place without a parent. False when there was no such entry.
    fn remove_directory_entry(&self, id: i64, audit: &[NewAuditEntry]) -> Result<bool, StoreError>;

    /// Adds and replaces many entries in one transaction, with the audit entries of the import:
    /// all of them, or none when a row claims what another entry holds (every such row is
    /// returned).
    fn import_directory(
        &self,
        rows: &[ImportedEntry],
        audit: &[NewAuditEntry],
    ) -> Result<Result<ImportSummary, Vec<RowConflict>>, StoreError>;
}
