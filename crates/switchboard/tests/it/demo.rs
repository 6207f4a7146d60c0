//! `switchboard demo` without any settings: its live replay goes through the alert detectors, so
//! alerts reach the store (the crisis view and `/alerts` read them there).

use std::{
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use store::{AlertFilter, AlertStore, SqliteStore};

use crate::switchboard;

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_demo_replay_raises_alerts_into_the_store_without_settings() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("switchboard.db");
    let child = switchboard(dir.path())
        .args([
            "demo",
            "--posts",
            "300",
            "--port",
            "0",
            "--replay-speed",
            "720",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let _demo = Killed(child);
    let deadline = Instant::now() + Duration::from_secs(240);
    let mut alerts = Vec::new();
    while alerts.is_empty() {
        assert!(
            Instant::now() < deadline,
            "the demo replay raised no alert within four minutes"
        );
        std::thread::sleep(Duration::from_secs(2));
        if !db.is_file() {
            continue;
        }
        let Ok(store) = SqliteStore::open(&db) else {
            continue;
        };
        alerts = store.alerts(&AlertFilter::default()).unwrap_or_default();
    }
    let alert = &alerts[0];
    assert!(!alert.alert.posts.is_empty(), "{alert:?}");
    let replayed = alert.alert.first_seen;
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(300);
    assert!(
        replayed > started,
        "the alert comes from the live replay: {alert:?}"
    );
}
