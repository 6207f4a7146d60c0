//! The data-protection commands on a real database file: `audit verify` against a log an
//! attacker with the file changed (issue 14, finding 4), `erase`, `retention run`, and the
//! retention the server applies.

use std::{
    io::{BufRead, BufReader},
    path::Path,
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use engage::NewAuditEntry;
use jiff::{SignedDuration, Timestamp};
use model::{Author, Change, Network, Post};
use store::{EngageStore, SqliteStore, Store};

use crate::{run, stderr, stdout, switchboard};

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(network: Network, id: &str, handle: &str, text: &str, age_days: i64) -> Change {
    let author = Author {
        id: format!("id-{handle}"),
        handle: handle.to_owned(),
        ..Author::default()
    };
    let created = Timestamp::now() - SignedDuration::from_hours(24 * age_days);
    Change::Upsert(Box::new(Post::new(network, id, author, text, created)))
}

fn count(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(sql, [], |r| r.get(0))
        .unwrap()
}

/// Posts aged 1, 20, 40 and 400 days on X and Mastodon.
fn aged_posts(db: &Path) {
    let store = SqliteStore::open(db).unwrap();
    let mut changes = Vec::new();
    for (i, age) in [1, 20, 40, 400].into_iter().enumerate() {
        for network in [Network::X, Network::Mastodon] {
            changes.push(post(network, &i.to_string(), "someone", "words", age));
        }
    }
    store.apply(&changes).unwrap();
}

const RETENTION: &str = "[retention]\nposts_days = { x = 30 }\ndefault_posts_days = 365\n";

#[test]
fn erase_command_removes_the_author_and_the_log_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    SqliteStore::open(&db)
        .unwrap()
        .apply(&[
            post(
                Network::Mastodon,
                "1",
                "pat@example.social",
                "my private story",
                1,
            ),
            post(Network::Mastodon, "2", "olive@example.social", "thanks", 1),
        ])
        .unwrap();
    let erase = |account: &str| {
        run(switchboard(dir.path()).args([
            "erase",
            "--network",
            "mastodon",
            "--author",
            account,
            "--reason",
            "request 7",
            "--by",
            "dee",
        ]))
    };
    let done = erase("@Pat@example.social");
    assert!(done.status.success(), "{}", stderr(&done));
    assert!(
        stdout(&done).contains("erased: 1 posts"),
        "{}",
        stdout(&done)
    );
    assert_eq!(count(&db, "SELECT count(*) FROM posts"), 1);
    let again = erase("pat@example.social");
    assert!(!again.status.success());
    assert!(
        stderr(&again).contains("nothing was erased"),
        "{}",
        stderr(&again)
    );
    let verified = run(switchboard(dir.path()).args(["audit", "verify"]));
    assert!(verified.status.success(), "{}", stderr(&verified));
}

#[test]
fn retention_run_applies_the_periods_of_the_settings_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    aged_posts(&db);
    let config = dir.path().join("switchboard.toml");
    std::fs::write(&config, RETENTION).unwrap();
    let expected = count(
        &db,
        &format!(
            "SELECT count(*) FROM posts WHERE (network = 'x' AND created_at < {}) OR created_at < {}",
            (Timestamp::now() - SignedDuration::from_hours(24 * 30)).as_microsecond(),
            (Timestamp::now() - SignedDuration::from_hours(24 * 365)).as_microsecond(),
        ),
    );
    assert_eq!(expected, 3);
    let ran = run(switchboard(dir.path())
        .args(["retention", "run", "--config"])
        .arg(&config));
    assert!(ran.status.success(), "{}", stderr(&ran));
    assert!(stdout(&ran).contains("3 posts removed"), "{}", stdout(&ran));
    assert_eq!(count(&db, "SELECT count(*) FROM posts"), 8 - expected);

    std::fs::write(&config, "[retention]\nposts_days = { twitter = 3 }\n").unwrap();
    let bad = run(switchboard(dir.path())
        .args(["retention", "run", "--config"])
        .arg(&config));
    assert!(!bad.status.success());
    assert!(
        stderr(&bad).contains("switchboard.toml"),
        "{}",
        stderr(&bad)
    );
}

#[test]
fn server_applies_retention_when_it_starts() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    aged_posts(&db);
    let config = dir.path().join("switchboard.toml");
    // `serve --config` wants a connector: a feed on a local port nobody answers.
    let feed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = feed.local_addr().unwrap().port();
    drop(feed);
    std::fs::write(
        &config,
        format!("{RETENTION}\n[rss.news]\nurl = \"http://127.0.0.1:{port}/feed.xml\"\npoll_interval_secs = 3600\n"),
    )
    .unwrap();
    let mut child = switchboard(dir.path())
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _server = Killed(child);
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    assert!(line.starts_with("Switchboard is serving"), "{line}");
    let start = Instant::now();
    while count(&db, "SELECT count(*) FROM posts") != 5 {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "the server did not apply retention"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

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
