//! The desk never stalls: Debian's headless Chromium in its default settings (back/forward
//! cache on, HTTP/1.1 with its six connections per host) clicks through every item of the
//! navigation 30 times at 1366×900, with back and forward between rounds, and through the
//! navigation in a seventh tab while six tabs are open on live pages. Any page change over 5 s
//! fails: that is a stall (a page waiting for a connection held by a live stream), not slowness,
//! which the benchmark measures (`scripts/bench-desk.sh`).
//!
//! See: issue 12, item 1 (a click took 58.5 s after three or four page changes).

use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::{Duration, Instant},
};

use serde_json::Value;

use crate::{
    app::{PASSWORD, TestApp, add_busy_traffic},
    browser::{Browser, Options, tools},
};

/// The longest page change that is not a stall.
const STALL: Duration = Duration::from_secs(5);
/// How many times the walk goes through the navigation.
const ROUNDS: usize = 30;

/// Runs `script` in the current tab; `None` while the tab is between two documents.
async fn poll(browser: &Browser, script: &str) -> Option<Value> {
    browser.try_script(script).await
}

/// Waits until the current tab shows `path` fully loaded in another document than the one
/// marked last (a page restored by the back/forward cache carries an older mark); returns how
/// long since `started`, or panics past [`STALL`].
async fn wait_for_page(
    browser: &Browser,
    (path, mark): (&str, u64),
    started: Instant,
    what: &str,
) -> Duration {
    let check = format!(
        "return window.__walk !== {mark} && location.pathname + location.search === '{path}' \
         && document.readyState === 'complete';"
    );
    loop {
        if poll(browser, &check).await == Some(Value::Bool(true)) {
            return started.elapsed();
        }
        let waited = started.elapsed();
        assert!(
            waited < STALL,
            "{what}: {path} not shown after {waited:?} (a stall: the page waits for a connection)"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// The number of the last mark (of every test's browser).
static MARKS: AtomicU64 = AtomicU64::new(0);

/// Marks the current document with a new number and returns it, so that [`wait_for_page`]
/// knows when another document is there.
async fn mark(browser: &Browser) -> u64 {
    let mark = MARKS.fetch_add(1, Ordering::SeqCst) + 1;
    let script = format!("window.__walk = {mark}; return true;");
    loop {
        if poll(browser, &script).await == Some(Value::Bool(true)) {
            return mark;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Clicks the navigation's link to `href` and waits for its page.
async fn click_nav(browser: &Browser, href: &str, what: &str) -> Duration {
    let mark = mark(browser).await;
    let started = Instant::now();
    browser
        .click(&format!("nav[aria-label=Main] a[href='{href}']"))
        .await;
    wait_for_page(browser, (href, mark), started, what).await
}

/// Logs in as `name` and returns the navigation's links.
async fn log_in(browser: &Browser, app: &TestApp, name: &str) -> Vec<String> {
    browser.go(&app.url("/login?next=/stream")).await;
    let login = ("/login?next=/stream", 0);
    wait_for_page(browser, login, Instant::now(), "login page").await;
    browser.type_into("#name", name).await;
    browser.type_into("#password", PASSWORD).await;
    let mark = mark(browser).await;
    let started = Instant::now();
    browser.click("form.form button[type=submit]").await;
    wait_for_page(browser, ("/stream", mark), started, "log in").await;
    let links = browser
        .script(
            "return Array.from(document.querySelectorAll('nav[aria-label=Main] a'))\
             .map(function (a) { return a.getAttribute('href'); });",
        )
        .await;
    links
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap().to_owned())
        .collect()
}

fn summary(times: &mut [Duration]) -> String {
    times.sort();
    format!(
        "{} page changes: median {:?}, slowest {:?}",
        times.len(),
        times[times.len() / 2],
        times[times.len() - 1]
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_navigation_item_thirty_times_without_a_stall() {
    let Some(tools) = tools() else {
        return;
    };
    let app = TestApp::start().await;
    add_busy_traffic(&app);
    let options = Options {
        size: (1366, 900),
        page_load: "none",
    };
    let browser = Browser::start_with(&tools, &options).await;
    let links = log_in(&browser, &app, "admin").await;
    assert!(links.len() >= 12, "the navigation: {links:?}");
    let mut times = Vec::with_capacity(ROUNDS * (links.len() + 3));
    // SWITCHBOARD_SCREENSHOTS=dir: the first round saves each page as a PNG, to look at.
    let shots = std::env::var_os("SWITCHBOARD_SCREENSHOTS").map(std::path::PathBuf::from);
    for round in 1..=ROUNDS {
        for href in &links {
            times.push(click_nav(&browser, href, &format!("round {round}")).await);
            if let Some(dir) = shots.as_ref().filter(|_| round == 1) {
                let name = href.trim_start_matches('/').replace('/', "-");
                browser.screenshot(&dir.join(format!("{name}.png"))).await;
            }
        }
        // Back twice and forward once, as people do.
        for (step, back) in [(1, true), (2, true), (1, false)] {
            let target = if back {
                &links[links.len() - 1 - step]
            } else {
                &links[links.len() - 2]
            };
            let mark = mark(&browser).await;
            let started = Instant::now();
            let command = if back { "/back" } else { "/forward" };
            browser
                .call(reqwest::Method::POST, command, Some(serde_json::json!({})))
                .await;
            let what = format!("round {round}, {command}");
            times.push(wait_for_page(&browser, (target, mark), started, &what).await);
        }
    }
    eprintln!("navigation walk at 1366x900: {}", summary(&mut times));
    browser.quit().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_open_tabs_do_not_starve_a_seventh() {
    let Some(tools) = tools() else {
        return;
    };
    let app = TestApp::start().await;
    add_busy_traffic(&app);
    let options = Options {
        size: (1366, 900),
        page_load: "none",
    };
    let browser = Browser::start_with(&tools, &options).await;
    let links = log_in(&browser, &app, "admin").await;
    // Six tabs on the live pages, each left open.
    let live = [
        "/stream",
        "/attention",
        "/stream",
        "/attention",
        "/stream",
        "/inbox",
    ];
    for path in live {
        let tab = browser.new_tab().await;
        browser.switch_to(&tab).await;
        let started = Instant::now();
        browser.go(&app.url(path)).await;
        wait_for_page(&browser, (path, 0), started, "opening a tab").await;
    }
    // Let their live connections open.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let seventh = browser.new_tab().await;
    browser.switch_to(&seventh).await;
    let started = Instant::now();
    browser.go(&app.url("/stream")).await;
    let seventh_page = ("/stream", 0);
    let mut times = vec![wait_for_page(&browser, seventh_page, started, "the seventh tab").await];
    for href in &links {
        times.push(click_nav(&browser, href, "the seventh tab").await);
    }
    eprintln!("seventh tab beside six open ones: {}", summary(&mut times));
    browser.quit().await;
}
