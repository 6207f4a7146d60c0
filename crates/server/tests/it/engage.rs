//! Triage and respond, end to end: posts arrive, the matrix opens cases in the inbox, replies are
//! drafted, checked, approved or rejected, and published to a local server on 127.0.0.1 that
//! speaks Mastodon's `POST /api/v1/statuses` (with `in_reply_to_id` and `Idempotency-Key`).

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing,
};
use jiff::{SignedDuration, Timestamp};
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel, Theme},
};
use reqwest::header;
use serde_json::{Value, json};
use server::engage_work::EngageRuntime;
use store::{EngageStore, SqliteStore};

use crate::{
    app::{PASSWORD, TestApp, add_posts, analysis, post},
    browser::{Browser, tools},
};

/// A status the fake Mastodon server created.
#[derive(Debug, Clone)]
struct Status {
    id: String,
    key: String,
    text: String,
    in_reply_to_id: Option<String>,
}

/// What the fake server knows.
#[derive(Default)]
struct Fake {
    statuses: Vec<Status>,
    /// Requests answered 503 before the server works again.
    fail_next: u32,
    requests: u32,
}

type Shared = Arc<Mutex<Fake>>;

/// `POST /api/v1/statuses` as Mastodon documents it: a bearer token, JSON `status` and optional
/// `in_reply_to_id`, and an `Idempotency-Key` whose first status is returned again for a repeat.
async fn create_status(
    State(fake): State<Shared>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let mut fake = fake.lock().unwrap();
    fake.requests += 1;
    if headers.get("authorization").and_then(|v| v.to_str().ok()) != Some("Bearer test-token") {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "The access token is invalid"})),
        )
            .into_response();
    }
    if fake.fail_next > 0 {
        fake.fail_next -= 1;
        return (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"error": "Service unavailable"})),
        )
            .into_response();
    }
    let text = body["status"].as_str().unwrap_or_default().to_owned();
    if text.trim().is_empty() {
        return (
            StatusCode::UNPROCESSABLE_ENTITY,
            Json(json!({"error": "Validation failed: Text can't be blank"})),
        )
            .into_response();
    }
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let status = match fake
        .statuses
        .iter()
        .find(|s| !key.is_empty() && s.key == key)
    {
        Some(existing) => existing.clone(),
        None => {
            let status = Status {
                id: format!("{}", 109_000 + fake.statuses.len()),
                key,
                text,
                in_reply_to_id: body["in_reply_to_id"].as_str().map(str::to_owned),
            };
            fake.statuses.push(status.clone());
            status
        }
    };
    Json(json!({
        "id": status.id,
        "url": format!("https://nhs.example/@trust/{}", status.id),
        "content": format!("<p>{}</p>", status.text),
        "in_reply_to_id": status.in_reply_to_id,
        "visibility": "public"
    }))
    .into_response()
}

async fn fake_mastodon() -> (String, Shared) {
    let fake: Shared = Arc::default();
    let app = Router::new()
        .route("/api/v1/statuses", routing::post(create_status))
        .with_state(Arc::clone(&fake));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), fake)
}

async fn start(base: &str) -> TestApp {
    let base = base.to_owned();
    TestApp::start_with(move |state| {
        let runtime = EngageRuntime::new(
            "the Emergency Department".into(),
            Duration::from_millis(200),
        );
        let policy = publish::RetryPolicy {
            max_attempts: 2,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
            timeout: Duration::from_secs(5),
        };
        runtime.set_publisher(
            Network::Mastodon,
            publish::Publisher::Mastodon(
                publish::Mastodon::new(&base, "test-token", policy).unwrap(),
            ),
        );
        state.engage = Arc::new(runtime);
    })
    .await
}

/// Waits for the matrix to open the case of a thread; returns how long it took.
async fn wait_for_case(store: &SqliteStore, id: &str) -> Duration {
    let started = Instant::now();
    loop {
        if store.case(id).unwrap().is_some() {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no case {id} was opened"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn complaint(id: &str) -> (model::Post, model::analysis::Analysis) {
    (
        post(
            Network::Mastodon,
            id,
            "angry_ann",
            "Waited 9 hours in A&E last night with my dad. Absolutely disgraceful.",
            Timestamp::now(),
        ),
        analysis(SentimentLabel::Negative, IntentKind::Complaint, 60),
    )
}

fn clinical_question(id: &str) -> (model::Post, model::analysis::Analysis) {
    let mut a = analysis(SentimentLabel::Neutral, IntentKind::Question, 50);
    a.themes = vec![Theme {
        id: "care_plans".into(),
        label: "Care plans".into(),
        probability: 0.8,
        reason: "care plan".into(),
    }];
    (
        post(
            Network::Mastodon,
            id,
            "worried_will",
            "Can someone explain my mum's care plan after discharge? The ward said the pain team would call",
            Timestamp::now(),
        ),
        a,
    )
}

async fn check_axe(violations: &mut Vec<String>, browser: &Browser, axe: &str, page: &str) {
    violations.extend(
        browser
            .axe(axe)
            .await
            .into_iter()
            .map(|v| format!("{page}: {v}")),
    );
}

async fn log_in(browser: &Browser, app: &TestApp, name: &str, next: &str) {
    browser.go(&app.url(&format!("/login?next={next}"))).await;
    browser.type_into("#name", name).await;
    browser.type_into("#password", PASSWORD).await;
    browser.click("form.form button[type=submit]").await;
    browser
        .wait_for(
            &format!("return location.pathname === '{next}';"),
            Duration::from_secs(10),
        )
        .await;
}

async fn log_out(browser: &Browser) {
    browser.click("form.header__logout button").await;
    browser
        .wait_for(
            "return location.pathname === '/login';",
            Duration::from_secs(5),
        )
        .await;
}

async fn draft_id(browser: &Browser) -> String {
    let url = browser.url().await;
    let path = url.split("/drafts/").nth(1).unwrap();
    path.split(['?', '#']).next().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn complaint_sent_at_once_and_clinical_reply_approved_after_rejection_in_chromium() {
    let Some(tools) = tools() else {
        return;
    };
    let (base, fake) = fake_mastodon().await;
    let app = start(&base).await;
    // The live poller's first look takes what is stored; posts after it are arrivals.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let mut violations: Vec<String> = Vec::new();
    let browser = Browser::start(&tools).await;

    // A complaint arrives; the matrix opens a case.
    add_posts(&app.store, &[complaint("c1")]);
    let arrival = wait_for_case(&app.store, "mastodon:c1").await;
    eprintln!("arrival to case in the inbox: {arrival:?}");

    // A squad member finds it in the inbox and drafts the apology, sent at once.
    log_in(&browser, &app, "squad", "/inbox").await;
    let text = browser.text().await;
    assert!(
        text.contains("complaint: reply with template apology"),
        "{text}"
    );
    assert!(text.contains("due in"), "{text}");
    check_axe(&mut violations, &browser, &tools.axe, "/inbox").await;
    browser.click("#cases a").await;
    browser
        .wait_for(
            "return location.pathname === '/inbox/case';",
            Duration::from_secs(5),
        )
        .await;
    let text = browser.text().await;
    assert!(text.contains("Rule complaint (line"), "{text}");
    assert!(text.contains("Waited 9 hours in A&E"), "{text}");
    assert!(
        text.contains("complaint (90%)"),
        "the analysis is shown: {text}"
    );
    check_axe(&mut violations, &browser, &tools.axe, "/inbox/case").await;
    browser.click("#start-reply").await;
    browser
        .wait_for(
            "return location.pathname.indexOf('/drafts/') === 0;",
            Duration::from_secs(5),
        )
        .await;
    let value = browser
        .script("return document.getElementById('text').value;")
        .await;
    let value = value.as_str().unwrap();
    assert!(
        value.starts_with("Hi angry_ann, I'm so sorry")
            && value.contains("the Emergency Department")
            && value.contains("01632 960000")
            && value.ends_with("^Squad"),
        "the template's variables are filled in: {value}"
    );
    assert_eq!(
        browser
            .script("return document.getElementById('submit-draft').textContent;")
            .await,
        json!("Send now")
    );
    check_axe(&mut violations, &browser, &tools.axe, "/drafts (editor)").await;
    let apology = draft_id(&browser).await;
    browser.click("#submit-draft").await;
    browser
        .wait_for(
            "return location.search.indexOf('done=sent') >= 0;",
            Duration::from_secs(10),
        )
        .await;
    assert!(browser.text().await.contains("Published."));
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.statuses.len(), 1);
        assert_eq!(fake.statuses[0].in_reply_to_id.as_deref(), Some("c1"));
        assert_eq!(fake.statuses[0].key, apology);
    }
    let case = app.store.case("mastodon:c1").unwrap().unwrap();
    assert_eq!(case.state, engage::CaseState::Answered);
    log_out(&browser).await;

    // A clinical question is escalated to an officer.
    add_posts(&app.store, &[clinical_question("q1")]);
    wait_for_case(&app.store, "mastodon:q1").await;
    log_in(&browser, &app, "officer", "/inbox").await;
    browser.click("#cases tr[data-case='mastodon:q1'] a").await;
    browser
        .wait_for(
            "return location.pathname === '/inbox/case';",
            Duration::from_secs(5),
        )
        .await;
    let text = browser.text().await;
    assert!(
        text.contains("escalate to officer") && text.contains("Approver"),
        "{text}"
    );
    browser
        .script("document.getElementById('assignee').value = 'officer';")
        .await;
    browser
        .click("form[action='/inbox/case/assign'] button")
        .await;
    browser
        .wait_for(
            "return document.getElementById('case-owner').textContent === 'officer';",
            Duration::from_secs(5),
        )
        .await;
    browser
        .type_into(
            "#note",
            "Checked with the ward: the pain team is calling today.",
        )
        .await;
    browser
        .click("form[action='/inbox/case/note'] button")
        .await;
    browser
        .wait_for(
            "return !!document.getElementById('notes');",
            Duration::from_secs(5),
        )
        .await;
    browser.click("#start-reply").await;
    browser
        .wait_for(
            "return location.pathname.indexOf('/drafts/') === 0;",
            Duration::from_secs(5),
        )
        .await;
    let reply = draft_id(&browser).await;
    // The checks run as the officer types: a clinical statement needs approval.
    browser
        .type_into(
            "#text",
            "Hi Will, we've reviewed your notes and your results are normal. ^Officer",
        )
        .await;
    browser
        .wait_for(
            "return document.getElementById('checks').textContent.indexOf('Clinical statements: needs approval') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    assert_eq!(
        browser
            .script("return document.getElementById('submit-draft').textContent;")
            .await,
        json!("Submit for approval")
    );
    browser.click("#submit-draft").await;
    browser
        .wait_for(
            "return location.search.indexOf('done=submitted') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    assert!(browser.text().await.contains("You wrote this draft"));
    log_out(&browser).await;

    // The approver sees the count on every page, the post, the draft and the checks, and rejects.
    log_in(&browser, &app, "approver", "/approvals").await;
    assert_eq!(
        browser
            .script("return document.getElementById('approvals-count').firstChild.textContent;")
            .await,
        json!("1")
    );
    let text = browser.text().await;
    assert!(
        text.contains("care plan after discharge")
            && text.contains("results are normal")
            && text.contains("Clinical statements: needs approval"),
        "{text}"
    );
    check_axe(&mut violations, &browser, &tools.axe, "/approvals").await;
    browser.click("#approvals a.button").await;
    browser
        .wait_for(
            "return location.pathname.indexOf('/drafts/') === 0;",
            Duration::from_secs(5),
        )
        .await;
    check_axe(&mut violations, &browser, &tools.axe, "/drafts (review)").await;
    browser
        .type_into("#comment", "Don't discuss results in public")
        .await;
    browser.click("#reject").await;
    browser
        .wait_for(
            "return location.search.indexOf('done=rejected') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    log_out(&browser).await;

    // The officer sees why and redrafts.
    log_in(&browser, &app, "officer", &format!("/drafts/{reply}")).await;
    assert!(
        browser
            .text()
            .await
            .contains("Don't discuss results in public")
    );
    browser
        .script("document.getElementById('text').value = '';")
        .await;
    browser
        .type_into(
            "#text",
            "Hi Will, sorry for the wait. Please call us on 01632 960000 and we'll talk it through with you. ^Officer",
        )
        .await;
    browser.click("#submit-draft").await;
    browser
        .wait_for(
            "return location.search.indexOf('done=submitted') >= 0;",
            Duration::from_secs(5),
        )
        .await;
    log_out(&browser).await;

    // The approver edits and approves; it is published once, as a reply to the question.
    log_in(&browser, &app, "approver", &format!("/drafts/{reply}")).await;
    browser
        .script("document.getElementById('approve-text').value = document.getElementById('approve-text').value.replace('with you', 'with you today');")
        .await;
    browser.click("#approve").await;
    browser
        .wait_for(
            "return location.search.indexOf('done=sent') >= 0;",
            Duration::from_secs(10),
        )
        .await;
    // A second click on a stale page (a double-click, a retry) sends nothing more.
    let mut approver = app.login("approver").await;
    let csrf = approver.csrf.clone();
    let again = approver
        .post_form(&format!("/drafts/{reply}/publish"), &[("csrf", &csrf)])
        .await;
    assert_eq!(again.status(), reqwest::StatusCode::SEE_OTHER);
    assert!(
        again.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("done=already_sent")
    );
    {
        let fake = fake.lock().unwrap();
        let replies: Vec<&Status> = fake
            .statuses
            .iter()
            .filter(|s| s.in_reply_to_id.as_deref() == Some("q1"))
            .collect();
        assert_eq!(replies.len(), 1, "{replies:?}");
        assert_eq!(replies[0].key, reply);
        assert!(
            replies[0].text.contains("with you today"),
            "{:?}",
            replies[0]
        );
        assert_eq!(fake.statuses.len(), 2);
    }
    assert_eq!(
        app.store.case("mastodon:q1").unwrap().unwrap().state,
        engage::CaseState::Answered
    );

    // The audit log shows every step, and the chain verifies.
    browser
        .go(&app.url(&format!("/audit?subject=draft:{reply}")))
        .await;
    let text = browser.text().await;
    for step in [
        "draft.create",
        "draft.submit",
        "draft.reject",
        "draft.approve",
        "draft.publish",
    ] {
        assert!(text.contains(step), "{step} is in the audit log: {text}");
    }
    assert!(text.contains("Chain verified"), "{text}");
    check_axe(&mut violations, &browser, &tools.axe, "/audit").await;
    browser
        .go(&app.url("/audit?subject=case:mastodon:q1"))
        .await;
    let text = browser.text().await;
    for step in [
        "case.open",
        "case.assign",
        "case.note",
        "case.awaiting_approval",
        "case.rejected",
        "case.answered",
    ] {
        assert!(text.contains(step), "{step} is in the audit log: {text}");
    }
    for page in ["/stories", "/inbox?state=all"] {
        browser.go(&app.url(page)).await;
        check_axe(&mut violations, &browser, &tools.axe, page).await;
    }
    browser.quit().await;
    let log = app.store.audit_entries(0, 10_000).unwrap();
    assert_eq!(engage::audit::verify(&log), Ok(log.len() as u64));
    assert!(
        violations.is_empty(),
        "accessibility violations:\n{}",
        violations.join("\n")
    );
}

async fn check_json(
    client: &mut crate::app::Client,
    base: &str,
    draft: &str,
    csrf: &str,
    text: &str,
) -> reqwest::Response {
    let cookies = client
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    client
        .http
        .post(format!("{base}/api/drafts/{draft}/check"))
        .header(header::COOKIE, cookies)
        .header("x-csrf-token", csrf)
        .json(&json!({"text": text}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn roles_csrf_self_approval_retries_and_the_scheduler() {
    let (base, fake) = fake_mastodon().await;
    let app = start(&base).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    add_posts(&app.store, &[complaint("c2")]);
    wait_for_case(&app.store, "mastodon:c2").await;

    // A viewer reads the inbox (and its JSON) but cannot work cases.
    let mut viewer = app.login("viewer").await;
    let inbox: Value = viewer.get("/api/inbox").await.json().await.unwrap();
    assert_eq!(inbox[0]["case"]["id"], "mastodon:c2");
    assert_eq!(inbox[0]["breached"], false);
    assert_eq!(inbox[0]["author"], "@angry_ann");
    assert_eq!(
        inbox[0]["excerpt"],
        "Waited 9 hours in A&E last night with my dad. Absolutely disgraceful."
    );
    let csrf = viewer.csrf.clone();
    let refused = viewer
        .post_form(
            "/inbox/case/reply",
            &[("csrf", &csrf), ("id", "mastodon:c2")],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert_eq!(
        viewer.get("/audit").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );

    // A case past its time limit is flagged, and the breached filter finds only it.
    let (late_post, _) = complaint("late");
    let two_hours_ago = Timestamp::now()
        .checked_sub(SignedDuration::from_hours(2))
        .unwrap();
    let matrix = engage::Matrix::default_matrix().unwrap();
    let (late, opened) =
        engage::Case::open(&late_post, matrix.rule("complaint").unwrap(), two_hours_ago).unwrap();
    app.store.save_case(&late, &[opened]).unwrap();
    let breached: Value = viewer
        .get("/api/inbox?breached=1")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(breached.as_array().unwrap().len(), 1, "{breached}");
    assert_eq!(breached[0]["case"]["id"], "mastodon:late");
    assert_eq!(breached[0]["breached"], true);
    let page = viewer.get("/inbox").await.text().await.unwrap();
    assert!(
        page.contains("Breached") && page.contains("overdue"),
        "{page}"
    );
    // Each case names who wrote and what they said; a case whose post is not stored shows its id.
    assert!(
        page.contains("@angry_ann on Mastodon")
            && page.contains("last night with my dad. Absolutely disgraceful."),
        "{page}"
    );
    assert!(page.contains("Mastodon late"), "{page}");

    // Forms without the session's token are refused before anything else.
    let mut squad = app.login("squad").await;
    let refused = squad
        .post_form(
            "/inbox/case/reply",
            &[("csrf", "forged"), ("id", "mastodon:c2")],
        )
        .await;
    assert_eq!(refused.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(
        app.store
            .drafts(&store::DraftFilter::default())
            .unwrap()
            .is_empty()
    );

    // The squad member starts a reply; the JSON check explains each finding.
    let csrf = squad.csrf.clone();
    let started = squad
        .post_form(
            "/inbox/case/reply",
            &[("csrf", &csrf), ("id", "mastodon:c2")],
        )
        .await;
    let location = started.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .to_owned();
    let draft = location.trim_start_matches("/drafts/").to_owned();
    let report: Value = check_json(
        &mut squad,
        &app.url(""),
        &draft,
        &csrf,
        "We apologise for any inconvenience caused. Your NHS number 943 476 5919 is on file.",
    )
    .await
    .json()
    .await
    .unwrap();
    let rows = report["rows"].as_array().unwrap();
    let status_of = |name: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| r["name"] == name)
            .map(|r| r["status"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(status_of("Personal data"), ["blocked"], "{report}");
    assert!(
        status_of("Human tone").contains(&"warning".to_owned()),
        "{report}"
    );
    assert_eq!(status_of("Length"), ["passed"]);
    assert_eq!(report["blocked"], true);
    let forged = check_json(&mut squad, &app.url(""), &draft, "forged", "x").await;
    assert_eq!(forged.status(), reqwest::StatusCode::FORBIDDEN);
    // Without the script, the same checks run on submit; a blocked draft is not sent and the
    // text typed is kept.
    let blocked = squad
        .post_form(
            &format!("/drafts/{draft}/submit"),
            &[
                ("csrf", &csrf),
                (
                    "text",
                    "Hi Ann, your NHS number 943 476 5919 is on file. ^Squad",
                ),
            ],
        )
        .await;
    assert_eq!(blocked.status(), reqwest::StatusCode::BAD_REQUEST);
    let page = blocked.text().await.unwrap();
    assert!(
        page.contains("NHS number") && page.contains("943 476 5919"),
        "{page}"
    );
    assert!(fake.lock().unwrap().statuses.is_empty());

    // The network fails: the failure is shown and the draft can be published again, once.
    fake.lock().unwrap().fail_next = 2;
    let failed = squad
        .post_form(
            &format!("/drafts/{draft}/submit"),
            &[
                ("csrf", &csrf),
                (
                    "text",
                    "Hi Ann, I'm so sorry about the wait. Please call us on 01632 960000. ^Sam",
                ),
            ],
        )
        .await;
    assert!(
        failed.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("done=failed")
    );
    let page = squad
        .get(&format!("/drafts/{draft}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Publishing failed") && page.contains("kept failing"),
        "{page}"
    );
    assert!(page.contains("Try publishing again"));
    let (first, second) = tokio::join!(
        async {
            let mut c = app.login("squad").await;
            let t = c.csrf.clone();
            c.post_form(&format!("/drafts/{draft}/publish"), &[("csrf", &t)])
                .await
        },
        async {
            let mut c = app.login("squad").await;
            let t = c.csrf.clone();
            c.post_form(&format!("/drafts/{draft}/publish"), &[("csrf", &t)])
                .await
        }
    );
    let outcomes =
        [first, second].map(|r| r.headers()[header::LOCATION].to_str().unwrap().to_owned());
    assert!(
        outcomes.iter().any(|o| o.ends_with("done=sent")),
        "{outcomes:?}"
    );
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.statuses.len(), 1, "one post however many clicks");
        assert_eq!(fake.statuses[0].in_reply_to_id.as_deref(), Some("c2"));
    }

    // Nobody approves their own draft, even an approver; a leader approves their own voice.
    let mut approver = app.login("approver").await;
    let csrf = approver.csrf.clone();
    let at = Timestamp::now()
        .checked_add(SignedDuration::from_secs(4))
        .unwrap()
        .to_zoned(server::views::london())
        .strftime("%Y-%m-%dT%H:%M:%S")
        .to_string();
    let created = approver
        .post_form(
            "/stories",
            &[
                ("csrf", &csrf),
                ("network", "mastodon"),
                ("text", "Our new maternity unit opens today. Thank you to everyone who made it happen. ^Chris"),
                ("on_behalf_of", "admin"),
                ("scheduled_at", &at),
            ],
        )
        .await;
    let story = created.headers()[header::LOCATION]
        .to_str()
        .unwrap()
        .trim_start_matches("/drafts/")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    // The approver wrote it as the admin's (the leader's) post: it waits for the leader.
    let officer_form = approver
        .post_form(
            &format!("/drafts/{story}/submit"),
            &[
                ("csrf", &csrf),
                ("text", "Our new maternity unit opens today. Thank you to everyone who made it happen. ^Chris"),
                ("scheduled_at", &at),
            ],
        )
        .await;
    assert!(
        officer_form.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("done=submitted")
    );
    let own = approver
        .post_form(
            &format!("/drafts/{story}/approve"),
            &[("csrf", &csrf), ("text", "")],
        )
        .await;
    assert_eq!(own.status(), reqwest::StatusCode::FORBIDDEN);
    assert!(own.text().await.unwrap().contains("cannot approve"));
    let mut leader = app.login("admin").await;
    let csrf = leader.csrf.clone();
    let approved = leader
        .post_form(
            &format!("/drafts/{story}/approve"),
            &[("csrf", &csrf), ("text", "")],
        )
        .await;
    assert!(
        approved.headers()[header::LOCATION]
            .to_str()
            .unwrap()
            .ends_with("done=scheduled")
    );
    let stories = leader.get("/stories").await.text().await.unwrap();
    assert!(
        stories.contains("Scheduled (1)") && stories.contains("maternity unit"),
        "{stories}"
    );
    assert_eq!(
        fake.lock().unwrap().statuses.len(),
        1,
        "not before its time"
    );

    // The scheduler publishes it when it falls due.
    let started = Instant::now();
    loop {
        if app.store.draft(&story).unwrap().unwrap().status == engage::DraftStatus::Sent {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "the scheduler did not publish"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    {
        let fake = fake.lock().unwrap();
        assert_eq!(fake.statuses.len(), 2);
        assert_eq!(fake.statuses[1].in_reply_to_id, None);
        assert_eq!(fake.statuses[1].key, story);
    }

    // The CSV export, for approvers and above.
    let csv = leader.get("/audit/export.csv").await;
    assert_eq!(csv.status(), reqwest::StatusCode::OK);
    let csv = csv.text().await.unwrap();
    assert!(csv.starts_with("seq,at,actor,action,subject,detail,prev_hash,hash"));
    assert!(csv.contains("draft.publish_failed") && csv.contains("case.open"));
    let mut officer = app.login("officer").await;
    assert_eq!(
        officer.get("/audit/export.csv").await.status(),
        reqwest::StatusCode::FORBIDDEN
    );
    let doc: Value = officer.get("/api/openapi.json").await.json().await.unwrap();
    assert!(doc["paths"]["/api/inbox"]["get"].is_object());
    assert!(doc["paths"]["/api/drafts/{id}/check"]["post"].is_object());
}

#[test]
fn posts_stored_while_the_server_was_stopped_get_their_cases_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path().join("s.db")).unwrap();
    use store::Store;
    // The first start ever: nothing stored before it is routed.
    add_posts(&store, &[complaint("old")]);
    assert_eq!(server::engage_work::catch_up(&store).unwrap(), 0);
    assert!(store.case("mastodon:old").unwrap().is_none());
    // Stopped; posts arrive; started again: their cases open, once.
    std::thread::sleep(Duration::from_millis(5));
    add_posts(
        &store,
        &[complaint("while-down"), clinical_question("q-down")],
    );
    assert_eq!(server::engage_work::catch_up(&store).unwrap(), 2);
    let case = store.case("mastodon:while-down").unwrap().unwrap();
    assert_eq!(case.rule, "complaint");
    assert_eq!(
        store.case("mastodon:q-down").unwrap().unwrap().rule,
        "clinical-question"
    );
    let entries = store.audit_entries(0, 100).unwrap().len();
    assert_eq!(server::engage_work::catch_up(&store).unwrap(), 0);
    assert_eq!(store.audit_entries(0, 100).unwrap().len(), entries);
    assert_eq!(store.count_posts().unwrap(), 3);
}

/// Arrival to case through the running server as deployed (the live poller at its default
/// interval, the matrix, the case written): a post is stored with its analysis, and the clock
/// stops when its case is in the store. Run:
/// `cargo test -p server --release --test it -- --ignored arrival_to_case --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run by hand, prints figures"]
async fn bench_arrival_to_case_through_the_server() {
    let app = TestApp::start_with(|state| state.config = Arc::new(server::Config::default())).await;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let arrivals = 200;
    let mut times = Vec::with_capacity(arrivals);
    for i in 0..arrivals {
        let id = format!("bench{i}");
        let started = Instant::now();
        add_posts(&app.store, &[complaint(&id)]);
        wait_for_case(&app.store, &format!("mastodon:{id}")).await;
        times.push(started.elapsed());
        // Arrivals at varied moments of the poller's cycle.
        tokio::time::sleep(Duration::from_millis(((i * 53) % 250) as u64)).await;
    }
    times.sort();
    let at = |p: f64| times[((times.len() - 1) as f64 * p).round() as usize];
    eprintln!(
        "arrival to case over {arrivals} posts (live poll {:?}): median {:?}, p95 {:?}, max {:?}",
        server::Config::default().live_poll,
        at(0.5),
        at(0.95),
        at(1.0)
    );
}
