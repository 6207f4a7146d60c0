//! Data protection: retention periods and the erasure of everything stored about one author
//! ([`ProtectionStore`]).
//!
//! Design and invariants:
//! - Retention removes posts older than their network's period (with their versions, payloads,
//!   analyses, full-text entries, monitor tags and handled marks, and authors left with no
//!   post), and empties raw payloads older than the payload period while keeping the posts.
//!   The posts of a case that is not closed are kept, whatever their age, until it closes.
//! - Erasure removes an author's posts and every copy of them: their cases (with notes, drafts
//!   and reviews), drafts replying to them, notes and drafts naming the author, the samples in
//!   alerts, and the detail of audit entries about them. The audit log keeps that an erasure
//!   happened, by whom, why and how much went ([`engage::audit::ErasureRecord`]), never who or
//!   what was erased.
//! - Erased bytes really go: deletions run with SQLite's `secure_delete`, the full-text index
//!   is merged so that deleted entries leave its segments, the database is rebuilt (`VACUUM`)
//!   so no free page keeps an old copy, and the write-ahead log is checkpointed and truncated.

use std::collections::BTreeMap;

use jiff::Timestamp;
use model::Network;
use serde::{Deserialize, Serialize};

use crate::StoreError;

/// How long things are kept. A network without a period (and no default) keeps its posts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionPolicy {
    /// Days a post is kept after it was written, per network (`x = 365`).
    pub posts_days: BTreeMap<Network, u32>,
    /// Days for networks not listed in `posts_days` (none: kept).
    pub default_posts_days: Option<u32>,
    /// Days a post's raw payload (the network's JSON, kept for re-reading) is kept after the
    /// store received it; the post itself stays (none: kept).
    pub raw_payload_days: Option<u32>,
}

impl RetentionPolicy {
    /// Whether the policy removes anything at all.
    pub fn is_empty(&self) -> bool {
        self.posts_days.is_empty()
            && self.default_posts_days.is_none()
            && self.raw_payload_days.is_none()
    }

    /// The period of a network's posts, in days.
    pub fn posts_days_for(&self, network: Network) -> Option<u32> {
        self.posts_days
            .get(&network)
            .copied()
            .or(self.default_posts_days)
    }
}

/// What a retention run removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RetentionSummary {
    /// Posts removed.
    pub posts: u64,
    /// Earlier versions removed with them.
    pub versions: u64,
    /// Raw payloads emptied (of posts kept, and of their earlier versions).
    pub payloads: u64,
    /// Authors removed because no post of theirs was left.
    pub authors: u64,
    /// Posts past their period kept because their case is not closed.
    pub kept_for_open_cases: u64,
}

/// Who to erase: an account on a network, by handle (with or without `@`, any case) or by the
/// network's account id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorRef {
    /// The network.
    pub network: Network,
    /// The handle or account id.
    pub account: String,
}

/// What an erasure removed (counts only).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct ErasureSummary {
    /// Author records removed.
    pub authors: u64,
    /// Posts removed.
    pub posts: u64,
    /// Earlier versions removed.
    pub versions: u64,
    /// Cases removed.
    pub cases: u64,
    /// Notes removed.
    pub notes: u64,
    /// Drafts removed (with their reviews).
    pub drafts: u64,
    /// Alerts whose sample posts were edited.
    pub alerts: u64,
    /// Audit entries whose detail was erased.
    pub audit_details: u64,
}

/// Retention and erasure.
pub trait ProtectionStore: Send + Sync {
    /// Applies `policy` as of `now`; the run is recorded in the audit log as done by `actor`.
    fn apply_retention(
        &self,
        policy: &RetentionPolicy,
        actor: &str,
        now: Timestamp,
    ) -> Result<RetentionSummary, StoreError>;

    /// Erases everything stored about `author`, recording that it happened (by `actor`, with
    /// `reason`) in the audit log. Erasing an author the store does not know removes nothing
    /// and records nothing.
    fn erase_author(
        &self,
        author: &AuthorRef,
        actor: &str,
        reason: &str,
        now: Timestamp,
    ) -> Result<ErasureSummary, StoreError>;
}
