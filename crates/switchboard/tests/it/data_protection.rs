//! The data-protection commands on a real database file: `audit verify` against a log an
//! attacker with the file changed (issue 14, finding 4).

use engage::NewAuditEntry;
use jiff::Timestamp;
use store::{EngageStore, SqliteStore};

use crate::{run, stderr, stdout, switchboard};

fn entries(n: i64) -> Vec<NewAuditEntry> {
    (0..n)
        .map(|i| {
            NewAuditEntry::new(
                Timestamp::from_second(1_767_225_600 + i).unwrap(),
                "sam",
                "case.note",
                format!("case:x:{i}"),
                "note",
            )
        })
        .collect()
}

#[test]
fn audit_verify_detects_the_last_50_entries_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    SqliteStore::open(&db)
        .unwrap()
        .append_audit(&entries(120))
        .unwrap();
    let ok = run(switchboard(dir.path()).args(["audit", "verify"]));
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(
        stdout(&ok).contains("120 entries, chain intact"),
        "{}",
        stdout(&ok)
    );

    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq > 70;")
        .unwrap();
    drop(raw);
    let cut = run(switchboard(dir.path()).args(["audit", "verify"]));
    assert!(
        !cut.status.success(),
        "a cut log verified: {}",
        stdout(&cut)
    );
    assert!(stderr(&cut).contains("cut off the end"), "{}", stderr(&cut));
}

#[test]
fn audit_verify_detects_a_forged_entry_with_rehashed_successors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    SqliteStore::open(&db)
        .unwrap()
        .append_audit(&entries(20))
        .unwrap();
    let raw = rusqlite::Connection::open(&db).unwrap();
    raw.execute_batch("DROP TRIGGER audit_log_only_erasure")
        .unwrap();
    let log = SqliteStore::open(&db)
        .unwrap()
        .audit_entries(0, 100)
        .unwrap();
    // Re-hash from entry 5 on with a key of the attacker's own.
    let guess = engage::AuditKey::from_bytes([42; 32]);
    let mut prev = log[3].clone();
    for e in &log[4..] {
        let mut entry = e.entry.clone();
        if e.seq == 5 {
            entry.actor = "mallory".into();
        }
        let forged = engage::AuditEntry::chain(&guess, Some(&prev), entry);
        raw.execute(
            "UPDATE audit_log SET actor = ?1, prev_hash = ?2, hash = ?3 WHERE seq = ?4",
            rusqlite::params![
                forged.entry.actor,
                forged.prev_hash,
                forged.hash,
                forged.seq as i64
            ],
        )
        .unwrap();
        prev = forged;
    }
    // The attacker also rewrites the checkpoint file to their new head.
    std::fs::write(
        dir.path().join("switchboard.db.audit-head"),
        format!("{}\n", prev.checkpoint()),
    )
    .unwrap();
    drop(raw);
    let forged = run(switchboard(dir.path()).args(["audit", "verify"]));
    assert!(
        !forged.status.success(),
        "a forged log verified: {}",
        stdout(&forged)
    );
    assert!(
        stderr(&forged).contains("broken at entry 5"),
        "{}",
        stderr(&forged)
    );
}
