//! `switchboard serve --config`: a local Jetstream-speaking WebSocket server on 127.0.0.1 feeds
//! the connectors running inside the server; a watch-list phrase raises an alert; the banner
//! appears on a page already open in headless Chromium, without a reload; the crisis view shows
//! the driving post; a holding statement is drafted by an officer and approved by an approver;
//! the status page and `/healthz` show the connector; axe-core finds no serious violation on
//! the new pages.
//!
//! Without Chromium, chromedriver or axe-core the test is skipped locally and fails when
//! `CI=true` (as the server's browser tests).

use std::{
    io::{BufRead, BufReader},
    path::{Path, PathBuf},
    process::{Child, Stdio},
    time::{Duration, Instant},
};

use futures_util::SinkExt;
use serde_json::{Value, json};
use tokio::{net::TcpListener, sync::mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::switchboard;

const PASSWORD: &str = "correct horse battery";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |name| dir.join(name)))
        .find(|candidate| candidate.is_file())
}

/// Chromium, chromedriver and axe-core's source, or `None` (skip) when missing outside CI.
fn tools() -> Option<(PathBuf, PathBuf, String)> {
    let axe = std::env::var_os("AXE_CORE_JS")
        .map(PathBuf::from)
        .into_iter()
        .chain(std::env::var_os("HOME").map(|home| {
            Path::new(&home).join(".cache/switchboard-axe/node_modules/axe-core/axe.min.js")
        }))
        .find(|p| p.is_file());
    match (
        find_binary(&["chromium", "chromium-browser"]),
        find_binary(&["chromedriver"]),
        axe,
    ) {
        (Some(chromium), Some(driver), Some(axe)) => {
            Some((chromium, driver, std::fs::read_to_string(axe).unwrap()))
        }
        missing => {
            let message = format!(
                "the browser test needs chromium, chromedriver and axe-core; found {missing:?}"
            );
            let ci = std::env::var("CI").is_ok_and(|v| v == "true");
            assert!(!ci, "{message}");
            eprintln!("skipped: {message}");
            None
        }
    }
}

/// A child process killed when dropped.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A WebDriver session in headless Chromium.
struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    _driver: Killed,
    _profile: tempfile::TempDir,
}

impl Browser {
    async fn start(chromium: &Path, chromedriver: &Path) -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let driver = Killed(
            std::process::Command::new(chromedriver)
                .arg(format!("--port={port}"))
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while !http
            .get(format!("{base}/status"))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = [
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--window-size=1200,900".to_owned(),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "goog:chromeOptions": {"binary": chromium, "args": args}
            }}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let session = response["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {response}"))
            .to_owned();
        Browser {
            http,
            base,
            session,
            _driver: driver,
            _profile: profile,
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        assert!(
            !response["value"]["error"].is_string(),
            "webdriver {path}: {}",
            response["value"]
        );
        response["value"].clone()
    }

    async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    async fn find(&self, css: &str) -> String {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value[ELEMENT].as_str().unwrap().to_owned()
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    async fn text(&self) -> String {
        self.script("return document.body.innerText;")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    async fn wait_for(&self, script: &str, within: Duration) -> Duration {
        let started = Instant::now();
        while self.script(script).await != Value::Bool(true) {
            assert!(
                started.elapsed() < within,
                "timed out waiting for: {script}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        started.elapsed()
    }

    async fn login(&self, base: &str, name: &str, next: &str) {
        self.go(&format!("{base}/login?next={next}")).await;
        self.type_into("#name", name).await;
        self.type_into("#password", PASSWORD).await;
        self.click("form.form button[type=submit]").await;
        self.wait_for(
            &format!("return location.pathname === '{next}';"),
            Duration::from_secs(10),
        )
        .await;
    }

    /// Serious and critical axe-core violations on the page, each prefixed with `page`.
    async fn axe(&self, axe: &str, page: &str) -> Vec<String> {
        self.script(axe).await;
        let result = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script": "var done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(function (r) {
                      done(r.violations
                        .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical'; })
                        .map(function (v) { return v.id + ': ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }));
                    }, function (e) { done(['axe failed: ' + e]); });", "args": []})),
            )
            .await;
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|v| format!("{page}: {}", v.as_str().unwrap()))
            .collect()
    }

    async fn quit(self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
    }
}

/// One Jetstream commit event creating a post, as the network sends it.
fn jetstream_post(rkey: &str, text: &str) -> String {
    let now = jiff::Timestamp::now();
    json!({
        "did": "did:plc:reporter42",
        "time_us": now.as_microsecond(),
        "kind": "commit",
        "commit": {
            "rev": "3l2", "operation": "create", "collection": "app.bsky.feed.post",
            "rkey": rkey, "cid": "bafyreib2rxk3rh6kzwq",
            "record": {"$type": "app.bsky.feed.post", "createdAt": now.to_string(),
                       "langs": ["en"], "text": text}
        }
    })
    .to_string()
}

/// A Jetstream-speaking WebSocket server: every client gets the lines sent on the channel.
async fn jetstream_server() -> (String, mpsc::UnboundedSender<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("ws://{}/subscribe", listener.local_addr().unwrap());
    let (sender, mut lines) = mpsc::unbounded_channel::<String>();
    tokio::spawn(async move {
        let Ok((stream, _)) = listener.accept().await else {
            return;
        };
        let Ok(mut socket) = tokio_tungstenite::accept_async(stream).await else {
            return;
        };
        while let Some(line) = lines.recv().await {
            if socket.send(Message::text(line)).await.is_err() {
                return;
            }
        }
    });
    (endpoint, sender)
}

fn add_user(dir: &Path, name: &str, role: &str) {
    let output = crate::run(
        switchboard(dir)
            .args(["user", "add", name, "--role", role])
            .env("SWITCHBOARD_PASSWORD", PASSWORD),
    );
    assert!(output.status.success(), "{}", crate::stderr(&output));
}

/// Starts `switchboard serve` and returns it with its base address.
fn serve(dir: &Path, config: &Path) -> (Killed, String) {
    let mut child = switchboard(dir)
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(config)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(stdout).read_line(&mut line).unwrap();
    let base = line
        .trim()
        .strip_prefix("Switchboard is serving ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_owned();
    (Killed(child), base)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_watch_phrase_from_jetstream_reaches_an_open_page_and_its_crisis_view() {
    let Some((chromium, chromedriver, axe)) = tools() else {
        return;
    };
    let _already_installed = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    add_user(dir.path(), "olive", "officer");
    add_user(dir.path(), "amir", "approver");
    let (endpoint, jetstream) = jetstream_server().await;
    let config = dir.path().join("switchboard.toml");
    std::fs::write(
        &config,
        format!(
            "[jetstream.bluesky]\nendpoint = \"{endpoint}\"\n\n[alerts]\nwatch_phrases = [\"data breach\"]\n"
        ),
    )
    .unwrap();
    let (_server, base) = serve(dir.path(), &config);
    let mut violations = Vec::new();

    // An officer has the stream open; a quiet post arrives first (no alert).
    let browser = Browser::start(&chromium, &chromedriver).await;
    browser.login(&base, "olive", "/stream").await;
    browser
        .wait_for(
            "return typeof SharedWorker !== 'undefined' && !!document.getElementById('alert-banner');",
            Duration::from_secs(5),
        )
        .await;
    browser.script("window.__marker = 'same page';").await;
    jetstream
        .send(jetstream_post("3kquiet", "Lovely care on ward 4 today"))
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        browser
            .script("return document.querySelectorAll('#alert-banner .alert-line').length;")
            .await,
        json!(0)
    );

    // The watch-list phrase (a warning): the alert line appears on the open page within seconds.
    let sent = Instant::now();
    jetstream
        .send(jetstream_post(
            "3kbreach",
            "Is there a data breach at Northgate hospital? My records were emailed to a stranger",
        ))
        .unwrap();
    browser
        .wait_for(
            "var a = document.querySelector('#alert-banner .alert-line'); return !!a && a.textContent.indexOf('1 warning') >= 0;",
            Duration::from_secs(10),
        )
        .await;
    let arrival = sent.elapsed();
    eprintln!("alert line on an open page {arrival:?} after the Jetstream event was sent");
    assert_eq!(
        browser.script("return window.__marker;").await,
        json!("same page")
    );
    violations.extend(browser.axe(&axe, "/stream with the banner").await);

    // The crisis view, through the alerts list: the driving post, the timeline, the chart.
    browser.click("#alert-banner .alert-line a").await;
    browser
        .wait_for(
            "return location.pathname === '/alerts';",
            Duration::from_secs(5),
        )
        .await;
    browser.click("table a[href^='/alerts/']").await;
    browser
        .wait_for(
            "return /^\\/alerts\\/[0-9]+$/.test(location.pathname);",
            Duration::from_secs(5),
        )
        .await;
    let crisis = browser
        .script("return location.pathname;")
        .await
        .as_str()
        .unwrap()
        .to_owned();
    let text = browser.text().await;
    assert!(
        text.contains("@did:plc:reporter42") && text.contains("records were emailed"),
        "{text}"
    );
    assert!(
        text.contains("Timeline") && text.contains("opened"),
        "{text}"
    );
    assert_eq!(
        browser
            .script("return document.querySelectorAll('.driving-posts a[href^=\"/posts/bluesky/\"]').length;")
            .await,
        json!(1)
    );
    assert_eq!(
        browser
            .script("return document.querySelectorAll('svg.chart').length;")
            .await,
        json!(1)
    );
    violations.extend(browser.axe(&axe, "crisis view").await);

    // A holding statement, drafted by the officer.
    browser
        .script("document.getElementById('s-network').value = 'bluesky';")
        .await;
    browser
        .type_into(
            "#s-text",
            "We are aware of reports about patient records and are looking into them urgently.",
        )
        .await;
    browser
        .click("form[action$='/statement'] button[type=submit]")
        .await;
    browser
        .wait_for(
            "return document.body.innerText.indexOf('awaiting_approval') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser
            .script("return document.querySelectorAll('form[action$=\"/approve\"]').length;")
            .await,
        json!(0),
        "the author is offered no approval"
    );
    for path in ["/alerts", "/status"] {
        browser.go(&format!("{base}{path}")).await;
        violations.extend(browser.axe(&axe, path).await);
    }
    let status = browser.text().await;
    assert!(
        status.contains("bluesky") && status.contains("running in this server"),
        "{status}"
    );
    browser.quit().await;

    // The approver approves it.
    let browser = Browser::start(&chromium, &chromedriver).await;
    browser.login(&base, "amir", &crisis).await;
    browser.click("form[action$='/approve'] button").await;
    browser
        .wait_for(
            "return document.body.innerText.indexOf('approved by amir') >= 0;",
            Duration::from_secs(5),
        )
        .await;

    // A monitor added in the web application tags the next live post, without a restart.
    browser.go(&format!("{base}/settings/monitors")).await;
    browser.type_into("#m-name", "Norovirus").await;
    browser.type_into("#m-query", "norovirus").await;
    browser
        .click("form[action='/settings/monitors'] button[type=submit]")
        .await;
    browser
        .wait_for(
            "return !!document.querySelector('a[href^=\"/stream?monitor=\"]');",
            Duration::from_secs(5),
        )
        .await;
    let monitor = browser
        .script(
            "return document.querySelector('a[href^=\"/stream?monitor=\"]').getAttribute('href');",
        )
        .await
        .as_str()
        .unwrap()
        .to_owned();
    jetstream
        .send(jetstream_post(
            "3knoro",
            "Norovirus has closed ward 7 at Northgate",
        ))
        .unwrap();
    let started = Instant::now();
    loop {
        browser.go(&format!("{base}{monitor}")).await;
        if browser.text().await.contains("closed ward 7") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the live post was not tagged with the new monitor"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    browser.quit().await;

    let health = reqwest::get(format!("{base}/healthz"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        health.starts_with("ok\n") && health.contains("connector bluesky: connected"),
        "{health}"
    );
    assert!(
        violations.is_empty(),
        "accessibility:\n{}",
        violations.join("\n")
    );
    assert!(
        arrival < Duration::from_secs(5),
        "the banner took {arrival:?}"
    );
}
