//! Drafts: replies to a case and new posts (the story pipeline), not yet sent.
//!
//! A draft's id is derived from its case, author and creation time, so it is stable across
//! restarts: the publisher uses it as the Mastodon `Idempotency-Key` and to derive the Bluesky
//! record key, so a retried send never posts twice.

use jiff::Timestamp;
use model::Network;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::{audit::hex, role::Role};

/// Where a draft is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftStatus {
    /// Being written (a story idea, or a reply in progress).
    Editing,
    /// Waiting for an approver.
    AwaitingApproval,
    /// Approved (or needing no approval): may be sent or scheduled.
    Approved,
    /// Rejected with a comment: back to the writer.
    Rejected,
    /// Scheduled for a time.
    Scheduled,
    /// Published.
    Sent,
}

impl DraftStatus {
    /// Every status, in pipeline order.
    pub const ALL: [DraftStatus; 6] = [
        DraftStatus::Editing,
        DraftStatus::AwaitingApproval,
        DraftStatus::Approved,
        DraftStatus::Rejected,
        DraftStatus::Scheduled,
        DraftStatus::Sent,
    ];

    /// The snake_case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            DraftStatus::Editing => "editing",
            DraftStatus::AwaitingApproval => "awaiting_approval",
            DraftStatus::Approved => "approved",
            DraftStatus::Rejected => "rejected",
            DraftStatus::Scheduled => "scheduled",
            DraftStatus::Sent => "sent",
        }
    }

    /// The status with this name.
    pub fn parse(s: &str) -> Option<DraftStatus> {
        DraftStatus::ALL.into_iter().find(|d| d.as_str() == s)
    }
}

/// A reply or post not yet sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    /// Stable id (16 hex digits).
    pub id: String,
    /// The case it answers, if it is a reply.
    pub case_id: Option<String>,
    /// The network it goes to.
    pub network: Network,
    /// The post it replies to (the network's id), if any.
    pub in_reply_to: Option<String>,
    /// Who wrote it.
    pub author: String,
    /// The account it goes out as, when that is a leader's own account: only that leader may
    /// approve it.
    pub on_behalf_of: Option<String>,
    /// The text.
    pub text: String,
    /// The status.
    pub status: DraftStatus,
    /// The role that must approve it, when approval is needed.
    pub approval_tier: Option<Role>,
    /// Who approved it.
    pub approved_by: Option<String>,
    /// The last rejection's comment.
    pub rejection: Option<String>,
    /// When it should go out (scheduled posts).
    pub scheduled_at: Option<Timestamp>,
    /// The network's id of the published post.
    pub sent_id: Option<String>,
    /// How many times publishing was started (a second start checks the network first).
    #[serde(default)]
    pub publish_attempts: u32,
    /// When it was written.
    pub created_at: Timestamp,
    /// When it last changed.
    pub updated_at: Timestamp,
}

impl Draft {
    /// A new draft.
    pub fn new(
        case_id: Option<&str>,
        network: Network,
        in_reply_to: Option<&str>,
        author: &str,
        text: &str,
        now: Timestamp,
    ) -> Draft {
        let mut h = Sha256::new();
        h.update(case_id.unwrap_or("-").as_bytes());
        h.update(b"\n");
        h.update(author.as_bytes());
        h.update(b"\n");
        h.update(now.as_microsecond().to_string().as_bytes());
        h.update(b"\n");
        h.update(text.as_bytes());
        let id = hex(h.finalize().get(..8).unwrap_or_default());
        Draft {
            id,
            case_id: case_id.map(Into::into),
            network,
            in_reply_to: in_reply_to.map(Into::into),
            author: author.into(),
            on_behalf_of: None,
            text: text.into(),
            status: DraftStatus::Editing,
            approval_tier: None,
            approved_by: None,
            rejection: None,
            scheduled_at: None,
            sent_id: None,
            publish_attempts: 0,
            created_at: now,
            updated_at: now,
        }
    }

    /// The draft's name in the audit log.
    pub fn subject(&self) -> String {
        format!("draft:{}", self.id)
    }
}
