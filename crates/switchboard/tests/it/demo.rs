//! `switchboard demo` without any settings: its live replay goes through the alert detectors, so
//! alerts reach the store, the crisis view and the banner of open pages.

use std::{
    io::{BufRead, BufReader},
    process::{Child, ChildStdout, Stdio},
    time::{Duration, Instant},
};

use store::{AlertFilter, AlertStore, SqliteStore, StoredAlert};

use crate::switchboard;

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// The `demo` login's password and the served address, read from the demo's output.
fn password_and_address(stdout: ChildStdout) -> (String, String) {
    let mut password = None;
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap();
        if let Some(rest) = line.strip_prefix("Log in as `demo` with the password `") {
            password = rest.split('`').next().map(str::to_owned);
        }
        if let Some(address) = line.strip_prefix("Switchboard is serving ") {
            return (
                password.expect("the password is printed"),
                address.to_owned(),
            );
        }
    }
    panic!("the demo stopped before serving");
}

/// The `name=value` pairs of a response's `Set-Cookie` headers, as a `Cookie` header.
fn cookies(response: &reqwest::Response) -> String {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok()?.split(';').next().map(str::to_owned))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Logs in as `demo`; returns the session's `Cookie` header.
async fn log_in(http: &reqwest::Client, base: &str, password: &str) -> String {
    let page = http.get(format!("{base}/login")).send().await.unwrap();
    let login_cookie = cookies(&page);
    let html = page.text().await.unwrap();
    let token = html
        .split("name=\"csrf\" value=\"")
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .expect("the login form has a token");
    let answer = http
        .post(format!("{base}/login"))
        .header(reqwest::header::COOKIE, login_cookie)
        .header(
            reqwest::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(format!("csrf={token}&name=demo&password={password}"))
        .send()
        .await
        .unwrap();
    assert!(answer.status().is_redirection(), "{}", answer.status());
    cookies(&answer)
}

/// Waits until the demo's database holds an alert.
fn first_alert(db: &std::path::Path) -> StoredAlert {
    let deadline = Instant::now() + Duration::from_secs(240);
    loop {
        assert!(
            Instant::now() < deadline,
            "the demo replay raised no alert within four minutes"
        );
        std::thread::sleep(Duration::from_secs(2));
        let Ok(store) = SqliteStore::open(db) else {
            continue;
        };
        if let Some(alert) = store
            .alerts(&AlertFilter::default())
            .unwrap_or_default()
            .pop()
        {
            return alert;
        }
    }
}

#[test]
fn the_demo_replay_raises_alerts_shown_in_the_crisis_view_and_banner_without_settings() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = switchboard(dir.path())
        .args([
            "demo",
            "--posts",
            "300",
            "--port",
            "0",
            "--replay-speed",
            "720",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let _demo = Killed(child);
    let (password, base) = password_and_address(stdout);
    let stored = first_alert(&dir.path().join("switchboard.db"));
    assert!(!stored.alert.posts.is_empty(), "{stored:?}");
    let started = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(300);
    assert!(
        stored.alert.first_seen > started,
        "the alert comes from the live replay, not the imported fortnight: {stored:?}"
    );
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let session = log_in(&http, &base, &password).await;
        let crisis = http
            .get(format!("{base}/alerts/{}", stored.id))
            .header(reqwest::header::COOKIE, &session)
            .send()
            .await
            .unwrap();
        assert_eq!(crisis.status(), 200);
        let page = crisis.text().await.unwrap();
        assert!(page.contains(&stored.alert.detail), "{page}");
        // Every page carries the alert line (the open page's live connection updates it).
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let page = http
                .get(format!("{base}/stream"))
                .header(reqwest::header::COOKIE, &session)
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap();
            let line = page.contains("class=\"alert-line\"");
            let shown = match stored.alert.severity {
                alert::Severity::Critical => page.contains(&format!("/alerts/{}", stored.id)),
                _ => line,
            };
            if shown {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the alert line shows the alert: {page}"
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    });
}
