//! Browser tests: Debian's headless Chromium driven through chromedriver with the raw
//! WebDriver protocol (JSON over HTTP), against the real server. They log in, watch a post
//! arrive live, filter, open a post, see the dashboard's charts, log out, and run axe-core on
//! every page (no serious or critical violations).
//!
//! Without Chromium or axe-core they are skipped locally, and fail when `CI=true`.

use std::{
    path::{Path, PathBuf},
    process::Stdio,
    time::{Duration, Instant},
};

use jiff::Timestamp;
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel},
};
use serde_json::{Value, json};
use tokio::process::{Child, Command};

use store::AccountStore;

use crate::app::{PASSWORD, TestApp, add_posts, analysis, post};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

fn find_binary(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

fn axe_path() -> Option<PathBuf> {
    let mut candidates = Vec::new();
    if let Some(path) = std::env::var_os("AXE_CORE_JS") {
        candidates.push(PathBuf::from(path));
    }
    if let Some(home) = std::env::var_os("HOME") {
        candidates
            .push(Path::new(&home).join(".cache/switchboard-axe/node_modules/axe-core/axe.min.js"));
    }
    candidates.into_iter().find(|p| p.is_file())
}

/// What the browser tests need, or `None` (skip) when missing outside CI.
pub(crate) struct Tools {
    chromium: PathBuf,
    chromedriver: PathBuf,
    pub(crate) axe: String,
}

pub(crate) fn tools() -> Option<Tools> {
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    let chromium = find_binary(&["chromium", "chromium-browser"]);
    let chromedriver = find_binary(&["chromedriver"]);
    let axe = axe_path();
    match (chromium, chromedriver, axe) {
        (Some(chromium), Some(chromedriver), Some(axe)) => Some(Tools {
            chromium,
            chromedriver,
            axe: std::fs::read_to_string(axe).unwrap(),
        }),
        missing => {
            let message = format!(
                "browser tests need chromium, chromedriver (apt-get install chromium \
                 chromium-driver) and axe-core (npm, see .ci/run); found {missing:?}"
            );
            assert!(!ci, "{message}");
            eprintln!("skipped: {message}");
            None
        }
    }
}

/// How a browser is started.
pub(crate) struct Options {
    /// The window's width and height in CSS pixels.
    pub(crate) size: (u32, u32),
    /// WebDriver's page load strategy: `normal` (navigation commands wait for the load) or
    /// `none` (they return at once; the test waits itself, with its own deadline).
    pub(crate) page_load: &'static str,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            size: (1200, 900),
            page_load: "normal",
        }
    }
}

pub(crate) struct Browser {
    http: reqwest::Client,
    base: String,
    session: String,
    driver: Child,
    _profile: tempfile::TempDir,
}

impl Browser {
    pub(crate) async fn start(tools: &Tools) -> Browser {
        Browser::start_with(tools, &Options::default()).await
    }

    /// Starts Debian's Chromium in its default settings (headless, and without the sandbox,
    /// which needs a user namespace that containers lack).
    pub(crate) async fn start_with(tools: &Tools, options: &Options) -> Browser {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let driver = Command::new(&tools.chromedriver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        crate::app::install_crypto_provider();
        let http = reqwest::Client::new();
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        loop {
            if let Ok(response) = http.get(format!("{base}/status")).send().await
                && response.status().is_success()
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(20),
                "chromedriver did not start"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let profile = tempfile::tempdir().unwrap();
        let args = vec![
            "--headless".to_owned(),
            "--no-sandbox".to_owned(),
            "--disable-gpu".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--no-first-run".to_owned(),
            "--disable-background-networking".to_owned(),
            "--disable-component-update".to_owned(),
            "--disable-sync".to_owned(),
            format!("--window-size={},{}", options.size.0, options.size.1),
            format!("--user-data-dir={}", profile.path().display()),
        ];
        let response: Value = http
            .post(format!("{base}/session"))
            .json(&json!({"capabilities": {"alwaysMatch": {
                "browserName": "chrome",
                "pageLoadStrategy": options.page_load,
                "goog:chromeOptions": {"binary": tools.chromium, "args": args}
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
            driver,
            _profile: profile,
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        let url = format!("{}/session/{}{path}", self.base, self.session);
        let mut request = self.http.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response: Value = request.send().await.unwrap().json().await.unwrap();
        if response["value"]["error"].is_string() {
            panic!("webdriver {path}: {}", response["value"]);
        }
        response["value"].clone()
    }

    /// Opens a new tab and returns its handle (the current tab stays current).
    pub(crate) async fn new_tab(&self) -> String {
        let value = self
            .call(
                reqwest::Method::POST,
                "/window/new",
                Some(json!({"type": "tab"})),
            )
            .await;
        value["handle"].as_str().unwrap().to_owned()
    }

    /// Makes the tab `handle` current.
    pub(crate) async fn switch_to(&self, handle: &str) {
        self.call(
            reqwest::Method::POST,
            "/window",
            Some(json!({"handle": handle})),
        )
        .await;
    }

    /// Sets the window's size in CSS pixels.
    pub(crate) async fn resize(&self, width: u32, height: u32) {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// Makes the page area `width` × `height` CSS pixels through the DevTools protocol, as a
    /// phone's screen (Chromium's windows are at least 500 px wide).
    pub(crate) async fn emulate(&self, width: u32, height: u32, mobile: bool) {
        self.call(
            reqwest::Method::POST,
            "/goog/cdp/execute",
            Some(
                json!({"cmd": "Emulation.setDeviceMetricsOverride", "params": {
                    "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile
                }}),
            ),
        )
        .await;
    }

    /// Saves a screenshot of the current tab as PNG.
    pub(crate) async fn screenshot(&self, path: &Path) {
        use base64::Engine;
        let value = self.call(reqwest::Method::GET, "/screenshot", None).await;
        let png = base64::engine::general_purpose::STANDARD
            .decode(value.as_str().unwrap())
            .unwrap();
        std::fs::write(path, png).unwrap();
    }

    pub(crate) async fn go(&self, url: &str) {
        self.call(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub(crate) async fn find(&self, css: &str) -> String {
        let value = self
            .call(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        value[ELEMENT].as_str().unwrap().to_owned()
    }

    pub(crate) async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub(crate) async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.call(
            reqwest::Method::POST,
            &format!("/element/{element}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Runs `script`; `None` when WebDriver refuses (a tab between two documents).
    pub(crate) async fn try_script(&self, script: &str) -> Option<Value> {
        let url = format!("{}/session/{}/execute/sync", self.base, self.session);
        let response: Value = self
            .http
            .post(url)
            .json(&json!({"script": script, "args": []}))
            .send()
            .await
            .ok()?
            .json()
            .await
            .ok()?;
        if response["value"]["error"].is_string() {
            return None;
        }
        Some(response["value"].clone())
    }

    pub(crate) async fn script(&self, script: &str) -> Value {
        self.call(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
        .await
    }

    pub(crate) async fn url(&self) -> String {
        self.call(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    pub(crate) async fn text(&self) -> String {
        self.script("return document.body.innerText;")
            .await
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Waits until `script` returns true.
    pub(crate) async fn wait_for(&self, script: &str, within: Duration) -> Duration {
        let started = Instant::now();
        loop {
            if self.script(script).await == Value::Bool(true) {
                return started.elapsed();
            }
            assert!(
                started.elapsed() < within,
                "timed out waiting for: {script}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Runs axe-core on the page; returns serious and critical violations, and any of the
    /// heading order.
    pub(crate) async fn axe(&self, axe: &str) -> Vec<String> {
        self.script(axe).await;
        let result = self
            .call(
                reqwest::Method::POST,
                "/execute/async",
                Some(json!({"script": "var done = arguments[arguments.length - 1];
                    axe.run(document, {resultTypes: ['violations']}).then(function (r) {
                      done(r.violations
                        .filter(function (v) { return v.impact === 'serious' || v.impact === 'critical' || v.id === 'heading-order'; })
                        .map(function (v) { return v.id + ' (' + v.impact + '): ' + v.nodes.map(function (n) { return n.target.join(' '); }).join(', '); }));
                    }, function (e) { done(['axe failed: ' + e]); });", "args": []})),
            )
            .await;
        result
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    }

    pub(crate) async fn quit(mut self) {
        let _ = self
            .http
            .delete(format!("{}/session/{}", self.base, self.session))
            .send()
            .await;
        let _ = self.driver.kill().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_day_at_the_desk_in_chromium() {
    let Some(tools) = tools() else {
        return;
    };
    let app = TestApp::start().await;
    let browser = Browser::start(&tools).await;
    let mut violations = Vec::new();

    // Log in (the login page checked too).
    browser.go(&app.url("/stream")).await;
    assert!(browser.url().await.contains("/login"));
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/login: {v}")),
    );
    browser.type_into("#name", "officer").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for(
            "return location.pathname === '/stream';",
            Duration::from_secs(10),
        )
        .await;

    // The stream, and a post arriving live without a reload.
    assert!(browser.text().await.contains("@patient_pat"));
    browser.script("window.__marker = 'same page';").await;
    browser
        .wait_for("return typeof EventSource !== 'undefined' && document.getElementById('posts') !== null;", Duration::from_secs(5))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let imported = Instant::now();
    add_posts(
        &app.store,
        &[(
            post(
                Network::Bluesky,
                "live1",
                "live_lucy",
                "Just arrived: parking at Northgate is full again",
                Timestamp::now(),
            ),
            analysis(SentimentLabel::Negative, IntentKind::Complaint, 40),
        )],
    );
    browser
        .wait_for(
            "var first = document.querySelector('#posts > li'); return !!first && first.textContent.indexOf('@live_lucy') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    let arrival = imported.elapsed();
    eprintln!("live arrival in the browser: {arrival:?}");
    assert_eq!(
        browser.script("return window.__marker;").await,
        json!("same page")
    );
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/stream: {v}")),
    );

    // Filter by network with the form, unfolded from its one line.
    browser.click("details.filters summary").await;
    browser
        .script("document.getElementById('network').value = 'mastodon';")
        .await;
    browser.click(".filters form button[type=submit]").await;
    browser
        .wait_for(
            "return location.search.indexOf('network=mastodon') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    let text = browser.text().await;
    assert!(text.contains("@happy_harry") && !text.contains("@patient_pat"));

    // Open a post.
    browser.go(&app.url("/stream?network=x")).await;
    browser.click("#posts a[href='/posts/x/1001']").await;
    browser
        .wait_for(
            "return location.pathname === '/posts/x/1001';",
            Duration::from_secs(5),
        )
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("Analysis") && text.contains("[phone removed]") && !text.contains("900123")
    );
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/posts: {v}")),
    );

    // The other pages, each checked with axe.
    for path in [
        "/attention",
        "/search?q=wait",
        "/settings/monitors",
        "/dashboard",
    ] {
        browser.go(&app.url(path)).await;
        violations.extend(
            browser
                .axe(&tools.axe)
                .await
                .into_iter()
                .map(|v| format!("{path}: {v}")),
        );
    }
    // The dashboard's charts are drawn (still on /dashboard).
    let charts = browser
        .script("return document.querySelectorAll('svg.chart title').length;")
        .await;
    assert!(charts.as_u64().unwrap() >= 5, "{charts}");

    // Needs attention: a new high-priority post arrives live, with its mark-as-handled form.
    browser.go(&app.url("/attention")).await;
    browser
        .wait_for(
            "return document.getElementById('posts').getAttribute('data-live') !== null;",
            Duration::from_secs(5),
        )
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    add_posts(
        &app.store,
        &[(
            post(
                Network::X,
                "urgent1",
                "urgent_ursula",
                "Someone has collapsed in the main entrance",
                Timestamp::now(),
            ),
            analysis(SentimentLabel::Negative, IntentKind::Safety, 95),
        )],
    );
    browser
        .wait_for(
            "var first = document.querySelector('#posts > li'); return !!first && first.textContent.indexOf('@urgent_ursula') >= 0 && !!first.querySelector('form[action$=\"/handled\"]');",
            Duration::from_secs(5),
        )
        .await;
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/attention (live): {v}")),
    );

    // Change a monitor in place.
    let monitor = app
        .store
        .save_monitor(&store::Monitor {
            id: 0,
            name: "Maternity".into(),
            query: "maternity".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        })
        .unwrap()
        .unwrap();
    browser.go(&app.url("/settings/monitors")).await;
    browser
        .click(&format!("a[href='/settings/monitors/{monitor}/edit']"))
        .await;
    browser
        .wait_for(
            "return location.pathname.endsWith('/edit');",
            Duration::from_secs(5),
        )
        .await;
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/settings/monitors/{monitor}/edit: {v}")),
    );
    browser
        .script("document.getElementById('m-query').value = 'maternity OR midwife*';")
        .await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for(
            "return location.pathname === '/settings/monitors' && document.body.innerText.indexOf('maternity OR midwife*') >= 0;",
            Duration::from_secs(5),
        )
        .await;

    // Change one's own password.
    browser.click("a[href='/account']").await;
    browser
        .wait_for(
            "return location.pathname === '/account';",
            Duration::from_secs(5),
        )
        .await;
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/account: {v}")),
    );
    let new_password = "officer's new password";
    browser.type_into("#a-current", PASSWORD).await;
    browser.type_into("#a-password", new_password).await;
    browser.type_into("#a-confirm", new_password).await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for(
            "return location.search === '?changed=1' && document.body.innerText.indexOf('Your password has been changed') >= 0;",
            Duration::from_secs(10),
        )
        .await;

    // Readable on a phone: nothing wider than the screen.
    browser.resize(360, 740).await;
    for path in ["/stream", "/attention", "/dashboard", "/settings/monitors"] {
        browser.go(&app.url(path)).await;
        let overflow = browser
            .script("return document.documentElement.scrollWidth - document.documentElement.clientWidth;")
            .await;
        assert!(
            overflow.as_i64().unwrap() <= 0,
            "{path} is wider than a phone screen by {overflow} px"
        );
    }

    // Log out: back to the login page, and the stream needs a login again.
    browser.click("form.header__logout button").await;
    browser
        .wait_for(
            "return location.pathname === '/login';",
            Duration::from_secs(5),
        )
        .await;
    browser.go(&app.url("/stream")).await;
    assert!(browser.url().await.contains("/login"));
    browser.quit().await;

    // The admin-only page.
    let browser = Browser::start(&tools).await;
    browser.go(&app.url("/login?next=/settings/users")).await;
    browser.type_into("#name", "admin").await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for(
            "return location.pathname === '/settings/users';",
            Duration::from_secs(10),
        )
        .await;
    violations.extend(
        browser
            .axe(&tools.axe)
            .await
            .into_iter()
            .map(|v| format!("/settings/users: {v}")),
    );
    browser.quit().await;

    assert!(
        violations.is_empty(),
        "accessibility violations:\n{}",
        violations.join("\n")
    );
    assert!(
        arrival < Duration::from_secs(2),
        "live arrival took {arrival:?}"
    );
}
