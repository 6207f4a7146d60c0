//! The audit log: append-only, each entry chained to the one before by a keyed hash
//! (HMAC-SHA256) whose key is kept outside the database.
//!
//! An entry's hash is `HMAC-SHA256(key, previous hash in hex, "\n", canonical entry)`, where the
//! canonical entry is the JSON array `[seq, at, actor, action, subject, detail digest]` (RFC 3339
//! time in UTC with microseconds) and the detail digest is the SHA-256 of the detail text. The
//! first entry's previous hash is 64 zeros.
//!
//! Design and invariants:
//! - Someone who can write the database but does not hold the [`AuditKey`] cannot forge an entry
//!   or re-hash the entries after a change: every hash after the change would need the key.
//! - Cutting entries off the end leaves a chain that is intact on its own, so the head of the
//!   chain is also checkpointed outside the database (a [`Checkpoint`]: a file beside it and the
//!   log output); [`ChainVerifier::with_checkpoint`] reports a log that ends before, or differs
//!   at, a checkpoint.
//! - The chain covers a digest of each entry's detail, not the text, so the text can be erased
//!   (a person's data removed on request) while the chain still verifies. An erased entry is
//!   marked and its detail is empty; every erased entry must be named by a later erasure record
//!   ([`ERASURE_ACTION`], whose detail lists the erased entries), or verification fails.
//! - Logs written before keys existed were chained by plain SHA-256 ([`legacy_sha256`]); the
//!   store checks such a log once with it and moves it onto the keyed chain, recording the result.

use std::{collections::BTreeSet, fmt, str::FromStr};

use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The previous hash of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The action of the entry that records an erasure; its detail is an [`ErasureRecord`] in JSON.
pub const ERASURE_ACTION: &str = "data.erase";

/// The secret that keys the chain: 32 bytes, kept outside the database.
#[derive(Clone, PartialEq, Eq)]
pub struct AuditKey([u8; 32]);

impl fmt::Debug for AuditKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AuditKey(id {})", self.id())
    }
}

/// Why a text is not an audit key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an audit key is 64 hexadecimal digits (32 bytes); {0}")]
pub struct BadAuditKey(String);

impl AuditKey {
    /// A key from its 32 bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> AuditKey {
        AuditKey(bytes)
    }

    /// A key from 64 hexadecimal digits (surrounding white space ignored).
    pub fn from_hex(text: &str) -> Result<AuditKey, BadAuditKey> {
        let text = text.trim();
        if text.len() != 64 {
            return Err(BadAuditKey(format!("found {} characters", text.len())));
        }
        let mut bytes = [0_u8; 32];
        for (i, byte) in bytes.iter_mut().enumerate() {
            let pair = text
                .get(i * 2..i * 2 + 2)
                .ok_or_else(|| BadAuditKey("not ASCII".into()))?;
            *byte = u8::from_str_radix(pair, 16)
                .map_err(|_| BadAuditKey(format!("{pair:?} is not hexadecimal")))?;
        }
        Ok(AuditKey(bytes))
    }

    /// The key as 64 lower-case hexadecimal digits (for the key file only: never log it).
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// A public name of the key (16 hex digits of a keyed hash of a fixed text): tells which key
    /// a log was chained with without revealing it.
    pub fn id(&self) -> String {
        let mut mac = self.mac();
        mac.update(b"switchboard audit key id");
        hex(mac.finalize().into_bytes().get(..8).unwrap_or_default())
    }

    fn mac(&self) -> Hmac<Sha256> {
        // HMAC takes a key of any length, so this cannot fail.
        <Hmac<Sha256> as Mac>::new_from_slice(&self.0).unwrap_or_else(|_| unreachable!())
    }
}

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
    /// The event (its detail is empty once erased).
    #[serde(flatten)]
    pub entry: NewAuditEntry,
    /// The SHA-256 of the detail as written (hex): what the chain covers.
    pub detail_digest: String,
    /// Whether the detail was erased (a person's data removed on request).
    pub erased: bool,
    /// The previous entry's hash (hex).
    pub prev_hash: String,
    /// This entry's keyed hash (hex).
    pub hash: String,
}

/// The SHA-256 of an entry's detail (hex).
pub fn detail_digest(detail: &str) -> String {
    hex(&Sha256::digest(detail.as_bytes()))
}

/// The canonical text of an entry that is hashed.
pub fn canonical(seq: u64, e: &NewAuditEntry, detail_digest: &str) -> String {
    let at = e.at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    serde_json::json!([seq, at, e.actor, e.action, e.subject, detail_digest]).to_string()
}

/// The keyed hash of an entry given the previous hash.
pub fn hash(
    key: &AuditKey,
    prev_hash: &str,
    seq: u64,
    e: &NewAuditEntry,
    detail_digest: &str,
) -> String {
    let mut mac = key.mac();
    mac.update(prev_hash.as_bytes());
    mac.update(b"\n");
    mac.update(canonical(seq, e, detail_digest).as_bytes());
    hex(&mac.finalize().into_bytes())
}

/// The hash of the unkeyed chain used before audit keys existed:
/// `SHA-256(previous hash, "\n", [seq, at, actor, action, subject, detail])`. Only for checking
/// an old log once, when it is moved onto the keyed chain.
pub fn legacy_sha256(prev_hash: &str, seq: u64, e: &NewAuditEntry) -> String {
    let at = e.at.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let text = serde_json::json!([seq, at, e.actor, e.action, e.subject, e.detail]).to_string();
    let mut h = Sha256::new();
    h.update(prev_hash.as_bytes());
    h.update(b"\n");
    h.update(text.as_bytes());
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
pub const CSV_HEADER: [&str; 10] = [
    "seq",
    "at",
    "actor",
    "action",
    "subject",
    "detail",
    "prev_hash",
    "hash",
    "detail_digest",
    "erased",
];

impl AuditEntry {
    /// The entry as one row of the CSV export (columns as in [`CSV_HEADER`]).
    pub fn csv_record(&self) -> [String; 10] {
        [
            self.seq.to_string(),
            self.entry.at.to_string(),
            self.entry.actor.clone(),
            self.entry.action.clone(),
            self.entry.subject.clone(),
            self.entry.detail.clone(),
            self.prev_hash.clone(),
            self.hash.clone(),
            self.detail_digest.clone(),
            self.erased.to_string(),
        ]
    }

    /// Chains a new event after `prev` (`None` for the first entry) with `key`.
    pub fn chain(key: &AuditKey, prev: Option<&AuditEntry>, entry: NewAuditEntry) -> AuditEntry {
        let (seq, prev_hash) =
            prev.map_or((1, GENESIS.to_owned()), |p| (p.seq + 1, p.hash.clone()));
        let detail_digest = detail_digest(&entry.detail);
        let hash = hash(key, &prev_hash, seq, &entry, &detail_digest);
        AuditEntry {
            seq,
            entry,
            detail_digest,
            erased: false,
            prev_hash,
            hash,
        }
    }

    /// Removes the detail text, keeping its digest so that the chain still verifies.
    pub fn erase_detail(&mut self) {
        self.entry.detail.clear();
        self.erased = true;
    }

    /// This entry as a checkpoint of the chain's head.
    pub fn checkpoint(&self) -> Checkpoint {
        Checkpoint {
            seq: self.seq,
            hash: self.hash.clone(),
        }
    }
}

/// What an erasure record says (the detail of an [`ERASURE_ACTION`] entry, in JSON): how much
/// was removed and which audit entries lost their detail, never what was removed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// Why (for example the reference of the person's request).
    pub reason: String,
    /// Posts removed.
    pub posts: u64,
    /// Earlier versions of posts removed.
    pub versions: u64,
    /// Cases removed.
    pub cases: u64,
    /// Notes removed.
    pub notes: u64,
    /// Drafts removed.
    pub drafts: u64,
    /// The audit entries whose detail was erased.
    pub audit_entries_erased: Vec<u64>,
}

/// A point of the chain recorded outside the database: entry `seq` had hash `hash`. Written as
/// `SEQ:HASH`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The entry.
    pub seq: u64,
    /// Its keyed hash (hex).
    pub hash: String,
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.seq, self.hash)
    }
}

/// Why a text is not a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a checkpoint: write it as SEQ:HASH (a number, a colon, 64 hex digits)")]
pub struct BadCheckpoint(String);

impl FromStr for Checkpoint {
    type Err = BadCheckpoint;

    fn from_str(text: &str) -> Result<Checkpoint, BadCheckpoint> {
        let bad = || BadCheckpoint(text.chars().take(100).collect());
        let (seq, hash) = text.trim().split_once(':').ok_or_else(bad)?;
        let seq = seq.trim().parse().map_err(|_| bad())?;
        let hash = hash.trim();
        if hash.len() != 64 || !hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        Ok(Checkpoint {
            seq,
            hash: hash.to_ascii_lowercase(),
        })
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

/// Verifies a log entry by entry, in order, then [`ChainVerifier::finish`] checks the end.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    key: Option<AuditKey>,
    checkpoints: Vec<Checkpoint>,
    prev_hash: String,
    next_seq: u64,
    erased: BTreeSet<u64>,
    erasures_recorded: BTreeSet<u64>,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            key: None,
            checkpoints: Vec::new(),
            prev_hash: GENESIS.to_owned(),
            next_seq: 1,
            erased: BTreeSet::new(),
            erasures_recorded: BTreeSet::new(),
        }
    }
}

impl ChainVerifier {
    /// A verifier of the links only (order, previous hashes, detail digests) for callers without
    /// the key: it cannot tell a log re-hashed by someone who changed it. Use
    /// [`ChainVerifier::keyed`] wherever the key is at hand.
    pub fn new() -> ChainVerifier {
        ChainVerifier::default()
    }

    /// A verifier that also checks every keyed hash.
    pub fn keyed(key: &AuditKey) -> ChainVerifier {
        ChainVerifier {
            key: Some(key.clone()),
            ..ChainVerifier::default()
        }
    }

    /// Also checks the log against a head recorded outside the database: the log must reach
    /// `checkpoint.seq` and have `checkpoint.hash` there.
    pub fn with_checkpoint(mut self, checkpoint: Checkpoint) -> ChainVerifier {
        self.checkpoints.push(checkpoint);
        self
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
        if e.erased {
            if !e.entry.detail.is_empty() {
                return Err(broken("it is marked erased but still has a detail".into()));
            }
            self.erased.insert(e.seq);
        } else if detail_digest(&e.entry.detail) != e.detail_digest {
            return Err(broken(
                "its detail does not match its digest: the detail was changed after it was \
                 written"
                    .into(),
            ));
        }
        if let Some(key) = &self.key {
            let expected = hash(key, &self.prev_hash, e.seq, &e.entry, &e.detail_digest);
            if e.hash != expected {
                return Err(broken(
                    "its content does not match its keyed hash: the entry was changed or forged \
                     after it was written (or the log was chained with another key)"
                        .into(),
                ));
            }
        }
        for c in self.checkpoints.iter().filter(|c| c.seq == e.seq) {
            if c.hash != e.hash {
                return Err(broken(format!(
                    "it differs from the checkpoint kept outside the database ({c}): the log was \
                     rewritten from here or before"
                )));
            }
        }
        if e.entry.action == ERASURE_ACTION && !e.erased {
            let record: ErasureRecord = serde_json::from_str(&e.entry.detail)
                .map_err(|error| broken(format!("its erasure record cannot be read: {error}")))?;
            self.erasures_recorded
                .extend(record.audit_entries_erased.iter().filter(|&&s| s < e.seq));
        }
        self.prev_hash.clone_from(&e.hash);
        self.next_seq += 1;
        Ok(())
    }

    /// Checks what can only be checked at the end: that no checkpoint lies beyond the last
    /// entry (entries cut off the end) and that every erased detail has its erasure record.
    /// Returns how many entries were verified.
    pub fn finish(&self) -> Result<u64, BrokenLink> {
        let last = self.verified();
        if let Some(c) = self.checkpoints.iter().find(|c| c.seq > last) {
            return Err(BrokenLink {
                seq: last + 1,
                reason: format!(
                    "the log ends at entry {last} but the checkpoint kept outside the database \
                     records entry {} ({c}): entries were cut off the end",
                    c.seq
                ),
            });
        }
        if let Some(seq) = self.erased.difference(&self.erasures_recorded).next() {
            return Err(BrokenLink {
                seq: *seq,
                reason: "its detail was erased without an erasure record naming it".into(),
            });
        }
        Ok(last)
    }

    /// How many entries were verified.
    pub fn verified(&self) -> u64 {
        self.next_seq - 1
    }

    /// How many of them had their detail erased.
    pub fn erased(&self) -> u64 {
        self.erased.len() as u64
    }

    /// Whether keyed hashes are checked.
    pub fn is_keyed(&self) -> bool {
        self.key.is_some()
    }
}

/// Verifies the links of a whole log without the key (see [`ChainVerifier::new`]); returns how
/// many entries it has.
pub fn verify<'a>(entries: impl IntoIterator<Item = &'a AuditEntry>) -> Result<u64, BrokenLink> {
    verify_with(ChainVerifier::new(), entries)
}

/// Verifies a whole log with `verifier`; returns how many entries it has.
pub fn verify_with<'a>(
    mut verifier: ChainVerifier,
    entries: impl IntoIterator<Item = &'a AuditEntry>,
) -> Result<u64, BrokenLink> {
    for e in entries {
        verifier.push(e)?;
    }
    verifier.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> AuditKey {
        AuditKey::from_bytes([7; 32])
    }

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
            let next = AuditEntry::chain(&key(), out.last(), e);
            out.push(next);
        }
        out
    }

    fn keyed(log: &[AuditEntry]) -> Result<u64, BrokenLink> {
        verify_with(ChainVerifier::keyed(&key()), log)
    }

    #[test]
    fn chain_verifies_and_detects_tampering() {
        let mut l = log(5);
        assert_eq!(keyed(&l), Ok(5));
        l[2].entry.actor = "mallory".into();
        assert_eq!(keyed(&l).unwrap_err().seq, 3);

        let mut l = log(5);
        l.remove(1);
        let e = keyed(&l).unwrap_err();
        assert_eq!(e.seq, 2, "{e}");

        let mut l = log(5);
        l[3].entry.detail = "x".into();
        assert_eq!(keyed(&l).unwrap_err().seq, 4);
    }

    /// Finding 4 of issue 14: one entry forged and the entries after it re-hashed by someone
    /// without the key (the unkeyed SHA-256 chain let this verify).
    #[test]
    fn forged_entry_with_rehashed_successors_is_detected_without_the_key() {
        let mut l = log(6);
        let wrong_key = AuditKey::from_bytes([9; 32]);
        l[2].entry.actor = "mallory".into();
        let mut prev = l[1].clone();
        for e in l.iter_mut().skip(2) {
            let forged = AuditEntry::chain(&wrong_key, Some(&prev), e.entry.clone());
            *e = forged;
            prev = e.clone();
        }
        assert_eq!(verify(&l), Ok(6), "the links alone cannot tell");
        let broken = keyed(&l).unwrap_err();
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("keyed hash"), "{broken}");
    }

    #[test]
    fn cut_off_end_is_detected_by_the_checkpoint() {
        let l = log(8);
        let head = l[7].checkpoint();
        let cut = &l[..5];
        assert_eq!(keyed(cut), Ok(5), "a cut chain is intact on its own");
        let broken = verify_with(
            ChainVerifier::keyed(&key()).with_checkpoint(head.clone()),
            cut,
        )
        .unwrap_err();
        assert_eq!(broken.seq, 6);
        assert!(broken.reason.contains("cut off the end"), "{broken}");
        assert_eq!(
            verify_with(ChainVerifier::keyed(&key()).with_checkpoint(head), &l),
            Ok(8)
        );
        let other = Checkpoint {
            seq: 4,
            hash: "ab".repeat(32),
        };
        assert_eq!(
            verify_with(ChainVerifier::keyed(&key()).with_checkpoint(other), &l)
                .unwrap_err()
                .seq,
            4
        );
    }

    #[test]
    fn erased_detail_verifies_only_with_its_erasure_record() {
        let mut l = log(4);
        l[1].erase_detail();
        let broken = keyed(&l).unwrap_err();
        assert_eq!(broken.seq, 2);
        assert!(broken.reason.contains("without an erasure record"));
        let record = ErasureRecord {
            reason: "request 12".into(),
            audit_entries_erased: vec![2],
            ..ErasureRecord::default()
        };
        let e = NewAuditEntry::new(
            Timestamp::from_second(1_800_000_000).unwrap(),
            "dee",
            ERASURE_ACTION,
            "author:x",
            serde_json::to_string(&record).unwrap(),
        );
        let next = AuditEntry::chain(&key(), l.last(), e);
        l.push(next);
        let mut v = ChainVerifier::keyed(&key());
        for e in &l {
            v.push(e).unwrap();
        }
        assert_eq!(v.finish(), Ok(5));
        assert_eq!(v.erased(), 1);
    }

    #[test]
    fn keys_and_checkpoints_round_trip_as_text() {
        let k = AuditKey::from_hex(&"0f".repeat(32)).unwrap();
        assert_eq!(k.to_hex(), "0f".repeat(32));
        assert_eq!(k.id().len(), 16);
        assert_ne!(k.id(), key().id());
        assert!(!format!("{k:?}").contains(&"0f".repeat(32)));
        assert!(AuditKey::from_hex("abc").is_err());
        assert!(AuditKey::from_hex(&"zz".repeat(32)).is_err());
        let c: Checkpoint = format!("12:{}", "AB".repeat(32)).parse().unwrap();
        assert_eq!(c.seq, 12);
        assert_eq!(c.to_string(), format!("12:{}", "ab".repeat(32)));
        assert!("12".parse::<Checkpoint>().is_err());
        assert!("x:ab".parse::<Checkpoint>().is_err());
    }

    #[test]
    fn legacy_hash_is_the_old_chain() {
        let e = NewAuditEntry::new(
            Timestamp::from_second(1_700_000_000).unwrap(),
            "sam",
            "case.assign",
            "case:x:1",
            "to sam",
        );
        // Computed with the SHA-256 chain as it was written before keys (commit 33976ea).
        let text = r#"[1,"2023-11-14T22:13:20.000000Z","sam","case.assign","case:x:1","to sam"]"#;
        let mut h = Sha256::new();
        h.update(format!("{GENESIS}\n{text}").as_bytes());
        assert_eq!(legacy_sha256(GENESIS, 1, &e), hex(&h.finalize()));
    }
}
