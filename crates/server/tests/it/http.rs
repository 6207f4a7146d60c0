//! HTTP tests: role checks for every action, CSRF, logout, login limits, pages, API, live.

use std::time::Duration;

use jiff::Timestamp;
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel},
};
use reqwest::StatusCode;
use server::roles::{Action, Role};
use store::{AccountStore, Monitor, Store};

use crate::app::{
    Client, TestApp, add_alert, add_posts, add_statement, analysis, last_posts_seq, post,
    wait_for_event,
};

/// Does `action` as `client`; the status tells whether it was allowed.
async fn attempt(
    app: &TestApp,
    client: &mut Client,
    action: Action,
    round: usize,
    alert: i64,
) -> StatusCode {
    let csrf = client.csrf.clone();
    match action {
        Action::DismissAlert => client
            .post_form(&format!("/alerts/{alert}/dismiss"), &[("csrf", &csrf)])
            .await
            .status(),
        Action::DraftStatement => {
            let text = format!("We are aware of reports and are looking into them ({round}).");
            client
                .post_form(
                    &format!("/alerts/{alert}/statement"),
                    &[("csrf", &csrf), ("network", "x"), ("text", &text)],
                )
                .await
                .status()
        }
        Action::ApproveStatement => {
            let draft = add_statement(app, alert, "ghost", round);
            client
                .post_form(
                    &format!("/alerts/{alert}/statement/{draft}/approve"),
                    &[("csrf", &csrf)],
                )
                .await
                .status()
        }
        Action::Read => client.get("/dashboard").await.status(),
        Action::MarkHandled => client
            .post_form(
                "/posts/x/1002/handled",
                &[("csrf", &csrf), ("back", "/attention")],
            )
            .await
            .status(),
        Action::SaveSearch => client
            .post_form(
                "/search/saved",
                &[("csrf", &csrf), ("name", "A&E waits"), ("query", "q=wait")],
            )
            .await
            .status(),
        Action::ManageMonitors => {
            let name = format!("Monitor {round}");
            client
                .post_form(
                    "/settings/monitors",
                    &[("csrf", &csrf), ("name", &name), ("query", "maternity")],
                )
                .await
                .status()
        }
        Action::ChangeOwnPassword => client
            .post_form(
                "/account/password",
                &[
                    ("csrf", &csrf),
                    ("current", crate::app::PASSWORD),
                    ("password", crate::app::PASSWORD),
                    ("confirm", crate::app::PASSWORD),
                ],
            )
            .await
            .status(),
        Action::ManageUsers => {
            let name = format!("person{round}");
            client
                .post_form(
                    "/settings/users",
                    &[
                        ("csrf", &csrf),
                        ("name", &name),
                        ("role", "viewer"),
                        ("password", "a long enough password"),
                    ],
                )
                .await
                .status()
        }
        Action::WorkCases => client
            .post_form(
                "/inbox/case/note",
                &[("csrf", &csrf), ("id", "x:1001"), ("value", "Called back")],
            )
            .await
            .status(),
        Action::AssignCases => client
            .post_form(
                "/inbox/case/assign",
                &[("csrf", &csrf), ("id", "x:1001"), ("value", "admin")],
            )
            .await
            .status(),
        Action::ApproveDrafts => client.get("/approvals").await.status(),
        Action::PublishDrafts => {
            let id = sent_draft().id;
            client
                .post_form(&format!("/drafts/{id}/publish"), &[("csrf", &csrf)])
                .await
                .status()
        }
        Action::PlanStories => client
            .post_form(
                "/stories",
                &[
                    ("csrf", &csrf),
                    ("network", "mastodon"),
                    ("text", "Open day"),
                ],
            )
            .await
            .status(),
        Action::ReadAudit => client.get("/audit").await.status(),
        Action::ExportAudit => client.get("/audit/export.csv").await.status(),
        Action::EraseData => client.get("/settings/erase").await.status(),
    }
}

/// A reply already published (publishing it again is allowed and sends nothing).
fn sent_draft() -> engage::Draft {
    let at = jiff::Timestamp::from_second(1_767_225_600).unwrap();
    let mut draft = engage::Draft::new(
        Some("x:1001"),
        model::Network::X,
        Some("1001"),
        "olu",
        "Thanks",
        at,
    );
    draft.status = engage::DraftStatus::Sent;
    draft.sent_id = Some("1".into());
    draft
}

/// A case for the post x:1001 and a published reply to it.
fn add_case(app: &TestApp) {
    use store::EngageStore;
    let matrix = engage::Matrix::default_matrix().unwrap();
    let (post, _) = {
        let stored = app.store.post(model::Network::X, "1001").unwrap().unwrap();
        (stored.post, ())
    };
    let (case, audit) = engage::Case::open(
        &post,
        matrix.rule("complaint").unwrap(),
        jiff::Timestamp::now(),
    )
    .unwrap();
    app.store.save_case(&case, &[audit]).unwrap();
    app.store.save_draft(&sent_draft(), None, &[]).unwrap();
}

#[tokio::test]
async fn each_role_may_do_exactly_what_the_table_allows() {
    let app = TestApp::start().await;
    let alert = add_alert(&app.store, "data breach");
    add_case(&app);
    let mut round = 0;
    for role in Role::ALL {
        let mut client = app.login(role.as_str()).await;
        for action in Action::ALL {
            round += 1;
            let status = attempt(&app, &mut client, action, round, alert).await;
            if action.allowed(role) {
                assert!(
                    status == StatusCode::OK || status == StatusCode::SEE_OTHER,
                    "{role} {action:?}: {status}"
                );
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} {action:?}");
            }
        }
        let users = client.get("/api/users").await.status();
        let expected = if role == Role::Admin {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(users, expected, "{role} /api/users");
        let page = client.get("/settings/users").await.status();
        assert_eq!(page, expected, "{role} /settings/users");
        for path in [
            "/stream",
            "/attention",
            "/search?q=wait",
            "/settings/monitors",
            "/posts/x/1001",
            "/alerts",
            "/status",
        ] {
            assert_eq!(
                client.get(path).await.status(),
                StatusCode::OK,
                "{role} {path}"
            );
        }
    }
}

#[tokio::test]
async fn forms_without_a_valid_csrf_token_or_from_another_site_are_refused() {
    let app = TestApp::start().await;
    let mut client = app.login("admin").await;
    for token in ["", "0000", "not-the-token"] {
        let response = client
            .post_form("/posts/x/1001/handled", &[("csrf", token)])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
    }
    let response = client
        .post_form("/settings/monitors", &[("name", "x"), ("query", "y")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // A valid token but a cross-site origin.
    let cookie = client
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let response = client
        .http
        .post(app.url("/posts/x/1001/handled"))
        .header("cookie", &cookie)
        .header("origin", "https://evil.example")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", client.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "csrf_rejected");
    let response = client
        .http
        .post(app.url("/posts/x/1001/handled"))
        .header("cookie", &cookie)
        .header("sec-fetch-site", "cross-site")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("csrf={}", client.csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Login needs the doubled token too.
    let mut fresh = app.client();
    let response = fresh
        .post_form(
            "/login",
            &[("name", "admin"), ("password", crate::app::PASSWORD)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    // Nothing was marked.
    let page = client.get("/posts/x/1001").await.text().await.unwrap();
    assert!(!page.contains("Handled by"));
    // The same form with the token goes through.
    let csrf = client.csrf.clone();
    let response = client
        .post_form("/posts/x/1001/handled", &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn a_session_cookie_stops_working_after_logout() {
    let app = TestApp::start().await;
    let mut client = app.login("officer").await;
    let copied = client.cookies.clone();
    assert_eq!(client.get("/api/me").await.status(), StatusCode::OK);
    let cookie = client
        .cookies
        .iter()
        .find(|(k, _)| k == "sb_session")
        .map(|(_, v)| v.clone())
        .unwrap();
    // Only the hash of the secret is stored.
    assert!(
        app.store
            .session(&cookie, Timestamp::now())
            .unwrap()
            .is_none()
    );
    let csrf = client.csrf.clone();
    let response = client.post_form("/logout", &[("csrf", &csrf)]).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let mut replay = app.client();
    replay.cookies = copied;
    let response = replay.get("/api/me").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "unauthenticated");
    let response = replay.get("/stream").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert!(
        response.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/login")
    );
}

#[tokio::test]
async fn failed_logins_are_limited_per_account() {
    let app = TestApp::start().await;
    let mut client = app.client();
    for _ in 0..5 {
        let response = client.try_login("squad", "wrong password").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = client.try_login("squad", crate::app::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another account from the same address still works (below the address limit).
    let response = client.try_login("viewer", crate::app::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn failed_logins_are_limited_per_address() {
    let app = TestApp::start().await;
    let mut client = app.client();
    for i in 0..20 {
        let response = client.try_login(&format!("nobody{i}"), "wrong").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    }
    let response = client.try_login("admin", crate::app::PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn pages_show_posts_masked_filtered_and_ordered() {
    let app = TestApp::start().await;
    let mut client = app.login("viewer").await;
    assert_eq!(client.get("/stream").await.status(), StatusCode::OK);
    let page = client
        .get("/stream?sentiment=negative")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("@patient_pat"));
    assert!(page.contains("[phone removed]") && !page.contains("07700 900123"));
    assert!(!page.contains("@happy_harry"));
    let page = client
        .get("/stream?network=mastodon")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("@happy_harry") && !page.contains("@patient_pat"));
    let api: serde_json::Value = client.get("/api/attention").await.json().await.unwrap();
    assert_eq!(api["posts"][0]["id"], "1001");
    assert_eq!(api["posts"][0]["priority"], 80);
    let detail: serde_json::Value = client.get("/api/posts/x/1001").await.json().await.unwrap();
    assert_eq!(detail["thread"].as_array().unwrap().len(), 2);
    assert_eq!(detail["analysis"]["priority"]["score"], 80);
    let page = client.get("/posts/x/1002").await.text().await.unwrap();
    assert!(page.contains("Thread") && page.contains("@patient_pat"));
    let page = client
        .get("/dashboard?period=24h")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("<svg") && page.contains("<title id=\"volume-t\">"));
    assert!(page.contains("<caption>Top hashtags</caption>") && page.contains(">nhs<"));
    // Bluesky ids are at:// URIs: the post page takes them as one encoded path segment.
    add_posts(
        &app.store,
        &[(
            post(
                Network::Bluesky,
                "at://did:plc:abc/app.bsky.feed.post/3k",
                "sky_sam",
                "Outpatients letter never arrived",
                Timestamp::now(),
            ),
            analysis(SentimentLabel::Negative, IntentKind::Complaint, 30),
        )],
    );
    let api: serde_json::Value = client
        .get("/api/stream?network=bluesky")
        .await
        .json()
        .await
        .unwrap();
    let href = api["posts"][0]["href"].as_str().unwrap().to_owned();
    assert!(href.ends_with("at%3A%2F%2Fdid%3Aplc%3Aabc%2Fapp.bsky.feed.post%2F3k"));
    let page = client.get(&href).await;
    assert_eq!(page.status(), StatusCode::OK);
    assert!(page.text().await.unwrap().contains("Outpatients letter"));
    let response = client.get("/stream?sentiment=angry").await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let openapi: serde_json::Value = client.get("/api/openapi.json").await.json().await.unwrap();
    assert!(openapi["paths"]["/api/stream"]["get"].is_object());
    assert_eq!(app.client().get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(
        app.client().get("/api/stream").await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn monitors_tag_posts_at_save_and_as_they_arrive() {
    let app = TestApp::start().await;
    let id = app
        .store
        .save_monitor(&Monitor {
            id: 0,
            name: "Maternity".into(),
            query: "maternity OR midwife*".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        })
        .unwrap()
        .unwrap();
    let mut client = app.login("viewer").await;
    let page = client
        .get(&format!("/stream?monitor={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("@happy_harry") && !page.contains("@patient_pat"));
    add_posts(
        &app.store,
        &[(
            post(
                Network::Bluesky,
                "b1",
                "mum_mel",
                "The midwife was wonderful",
                Timestamp::now(),
            ),
            analysis(SentimentLabel::Positive, IntentKind::Compliment, 5),
        )],
    );
    let api: serde_json::Value = client
        .get(&format!("/api/stream?monitor={id}"))
        .await
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = api["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["b1", "m1"]);
    // A bulk import stores posts untagged; retagging after it finds them.
    let later = post(
        Network::X,
        "3001",
        "dad_dan",
        "Maternity ward parking is a nightmare",
        Timestamp::now(),
    );
    app.store
        .apply(&[model::Change::Upsert(Box::new(later))])
        .unwrap();
    assert_eq!(app.store.retag_monitors().unwrap(), 1);
    let api: serde_json::Value = client
        .get(&format!("/api/stream?monitor={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["posts"][0]["id"], "3001");
}

#[tokio::test]
async fn a_new_post_reaches_an_open_stream_through_the_live_connection() {
    let app = TestApp::start().await;
    let mut client = app.login("viewer").await;
    let page = client
        .get("/stream?sentiment=negative")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("data-live=\"list=stream&#38;sentiment=negative\""));
    let mut live = client.open_live().await;
    let first = wait_for_event(&mut live, "event: posts", Duration::from_secs(5)).await;
    let before = last_posts_seq(&first);
    add_posts(
        &app.store,
        &[
            (
                post(
                    Network::X,
                    "2001",
                    "calm_cal",
                    "Lovely staff today",
                    Timestamp::now(),
                ),
                analysis(SentimentLabel::Positive, IntentKind::Compliment, 5),
            ),
            (
                post(
                    Network::X,
                    "2002",
                    "angry_ann",
                    "Cancelled again, disgraceful",
                    Timestamp::now(),
                ),
                analysis(SentimentLabel::Negative, IntentKind::Complaint, 60),
            ),
        ],
    );
    let started = std::time::Instant::now();
    let mut seen = String::new();
    while seen.is_empty() || last_posts_seq(&seen) < before + 2 {
        seen.push_str(&wait_for_event(&mut live, "event: posts", Duration::from_secs(5)).await);
    }
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    let new = client
        .new_posts("list=stream&sentiment=negative", before)
        .await;
    let items = new["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "the page's filter holds for live posts: {new}"
    );
    assert_eq!(items[0]["id"], "x/2002");
    assert!(items[0]["html"].as_str().unwrap().contains("@angry_ann"));
    assert_eq!(new["seq"].as_u64(), Some(before + 2));
    let none = client
        .new_posts("list=stream&sentiment=negative", before + 2)
        .await;
    assert!(none["items"].as_array().unwrap().is_empty());
    // Pages are never kept by the browser.
    let response = client.get("/stream").await;
    assert_eq!(response.headers()["cache-control"], "no-store");
}
