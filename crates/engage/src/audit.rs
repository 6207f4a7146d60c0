//! The audit log: append-only, each entry chained to the one before by SHA-256.
//!
//! An entry's hash is `SHA-256(previous hash in hex, "\n", canonical entry)`, where the
//! canonical entry is the JSON array `[seq, at, actor, action, subject, detail]` (RFC 3339 time
//! in UTC with microseconds). The first entry's previous hash is 64 zeros. Changing, removing or
//! reordering any entry breaks the link after it; [`ChainVerifier`] walks a log (in pages, for
//! long logs) and reports the first broken link.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// An event to record, before it is chained.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAuditEntry {
    /// When it happened.
    pub at: Timestamp,
    /// Who did it (a user name, or `switchboard` for the system).
    pub actor: String,
    /// What they did (`case.assign`, `draft.approve`, `matrix.set`).
    pub action: String,
    /// What it was done to (`case:x:123`, `draft:ab12`, `matrix:3`, `post:x:123`, `user:sam`).
    pub subject: String,
    /// The details, in plain words or JSON.
    pub detail: String,
}

impl NewAuditEntry {
    /// An event.
    pub fn new(
        at: Timestamp,
        actor: impl Into<String>,
        action: impl Into<String>,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) -> NewAuditEntry {
        NewAuditEntry {
            at,
            actor: actor.into(),
            action: action.into(),
            subject: subject.into(),
            detail: detail.into(),
        }
    }
}

/// An entry of the chained log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Position in the log, from 1.
    pub seq: u64,
    /// The event.
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's hash (hex).
    pub hash: String,
}

/// The canonical text of an entry that is hashed.
pub fn canonical(seq: u64, e: &NewAuditEntry) -> String {
    let at = e.at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    serde_json::json!([seq, at, e.actor, e.action, e.subject, e.detail]).to_string()
}

/// The hash of an entry given the previous hash.
pub fn hash(prev_hash: &str, seq: u64, e: &NewAuditEntry) -> String {
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(canonical(seq, e).as_bytes());
    hex(&h.finalize())
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// The columns of the audit log's CSV export, in the order of [`AuditEntry::csv_record`].
pub const CSV_HEADER: [&str; 8] = [
    "seq",
    "at",
    "actor",
    "action",
    "subject",
    "detail",
    "prev_hash",
    "hash",
];

impl AuditEntry {
    /// The entry as one row of the CSV export (columns as in [`CSV_HEADER`]).
    pub fn csv_record(&self) -> [String; 8] {
        [
            self.seq.to_string(),
            self.entry.at.to_string(),
            self.entry.actor.clone(),
            self.entry.action.clone(),
            self.entry.subject.clone(),
            self.entry.detail.clone(),
            self.prev_hash.clone(),
            self.hash.clone(),
        ]
    }

    /// Chains a new event after `prev` (`None` for the first entry).
    pub fn chain(prev: Option<&AuditEntry>, entry: NewAuditEntry) -> AuditEntry {
        let (seq, prev_hash) =
            prev.map_or((1, GENESIS.to_owned()), |p| (p.seq + 1, p.hash.clone()));
        let hash = hash(&prev_hash, seq, &entry);
        AuditEntry {
            seq,
            entry,
            prev_hash,
            hash,
        }
    }
}

/// The first broken link of a log.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the audit log is broken at entry {seq}: {reason}")]
pub struct BrokenLink {
    /// The entry where the chain breaks.
    pub seq: u64,
    /// What is wrong.
    pub reason: String,
}

/// Verifies a log entry by entry, in order.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    prev_hash: String,
    next_seq: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            prev_hash: GENESIS.to_owned(),
            next_seq: 1,
        }
    }
}

impl ChainVerifier {
    /// A verifier for a log from its first entry.
    pub fn new() -> ChainVerifier {
        ChainVerifier::default()
    }

    /// Checks the next entry.
    pub fn push(&mut self, e: &AuditEntry) -> Result<(), BrokenLink> {
        let broken = |reason: String| BrokenLink { seq: e.seq, reason };
        if e.seq != self.next_seq {
            return Err(BrokenLink {
                seq: self.next_seq,
                reason: format!(
                    "entry {} is missing (found entry {} in its place)",
                    self.next_seq, e.seq
                ),
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(broken(
                "its previous hash does not match the entry before: an entry was removed or \
                 changed"
                    .into(),
            ));
        }
        let expected = hash(&self.prev_hash, e.seq, &e.entry);
        if e.hash != expected {
            return Err(broken(
                "its content does not match its hash: the entry was changed after it was written"
                    .into(),
            ));
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_seq += 1;
        Ok(())
    }

    /// How many entries were verified.
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }
}

/// Verifies a whole log; returns how many entries it has.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, BrokenLink> {
    let mut v = ChainVerifier::new();
    for e in entries {
        v.push(e)?;
    }
    Ok(v.verified())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(n: u64) -> Vec<AuditEntry> {
        let mut out: Vec<AuditEntry> = Vec::new();
        for i in 0..n {
            let e = NewAuditEntry::new(
                Timestamp::from_second(1_700_000_000 + i as i64).unwrap(),
                "sam",
                "case.assign",
                format!("case:x:{i}"),
                "to sam",
            );
            let next = AuditEntry::chain(out.last(), e);
            out.push(next);
        }
        out
    }

    #[test]
    fn chain_verifies_and_detects_tampering() {
        let mut l = log(5);
        assert_eq!(verify(&l), Ok(5));
        l[2].entry.actor = "mallory".into();
        assert_eq!(verify(&l).unwrap_err().seq, 3);

        let mut l = log(5);
        l.remove(1);
        let e = verify(&l).unwrap_err();
        assert_eq!(e.seq, 2, "{e}");

        let mut l = log(5);
        let e = l[3].entry.clone();
        l[3].hash = hash(
            &l[3].prev_hash,
            4,
            &NewAuditEntry {
                detail: "x".into(),
                ..e
            },
        );
        l[3].entry.detail = "x".into();
        assert_eq!(verify(&l).unwrap_err().seq, 5);
    }
}
