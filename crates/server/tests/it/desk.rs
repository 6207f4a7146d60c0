//! HTTP tests of the desk's later forms and pushes: changing a monitor in place, password
//! resets by an admin and by the person, live posts on the Needs-attention page, and the
//! dashboard counted hour by hour.

use std::time::Duration;

use jiff::Timestamp;
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel},
};
use reqwest::StatusCode;
use store::{AccountStore, Monitor};

use crate::app::{
    Client, PASSWORD, TestApp, add_posts, analysis, last_posts_seq, post, wait_for_event,
};

async fn stream_ids(client: &mut Client, query: &str) -> Vec<String> {
    let api: serde_json::Value = client
        .get(&format!("/api/stream?{query}"))
        .await
        .json()
        .await
        .unwrap();
    api["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_monitor_is_changed_in_place_and_posts_are_tagged_again() {
    let app = TestApp::start().await;
    let id = app
        .store
        .save_monitor(&Monitor {
            id: 0,
            name: "Maternity".into(),
            query: "maternity".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        })
        .unwrap()
        .unwrap();
    app.store
        .save_monitor(&Monitor {
            id: 0,
            name: "Parking".into(),
            query: "parking".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        })
        .unwrap()
        .unwrap();
    let edit = format!("/settings/monitors/{id}/edit");
    let save = format!("/settings/monitors/{id}");
    // Below officer: no form and no change.
    for role in ["viewer", "squad"] {
        let mut client = app.login(role).await;
        assert_eq!(client.get(&edit).await.status(), StatusCode::FORBIDDEN);
        let csrf = client.csrf.clone();
        let response = client
            .post_form(
                &save,
                &[("csrf", &csrf), ("name", "Waits"), ("query", "hours")],
            )
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let mut officer = app.login("officer").await;
    let page = officer.get(&edit).await.text().await.unwrap();
    assert!(page.contains("value=\"Maternity\"") && page.contains("value=\"maternity\""));
    let listed = officer
        .get("/settings/monitors")
        .await
        .text()
        .await
        .unwrap();
    assert!(listed.contains(&format!("href=\"{edit}\"")));
    // Without the token nothing changes.
    let response = officer
        .post_form(&save, &[("name", "Waits"), ("query", "hours")])
        .await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        stream_ids(&mut officer, &format!("monitor={id}")).await,
        ["m1"]
    );
    let csrf = officer.csrf.clone();
    // A bad query and a taken name are refused and change nothing.
    let response = officer
        .post_form(
            &save,
            &[("csrf", &csrf), ("name", "Waits"), ("query", "(hours")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = officer
        .post_form(
            &save,
            &[("csrf", &csrf), ("name", "Parking"), ("query", "hours")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::CONFLICT);
    let response = officer
        .post_form(
            "/settings/monitors/999/edit",
            &[("csrf", &csrf), ("name", "Waits"), ("query", "hours")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::METHOD_NOT_ALLOWED);
    let response = officer
        .post_form(
            "/settings/monitors/999",
            &[("csrf", &csrf), ("name", "Waits"), ("query", "hours")],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        stream_ids(&mut officer, &format!("monitor={id}")).await,
        ["m1"]
    );
    // The change keeps the id and retags: the A&E post now, the maternity post no longer.
    let response = officer
        .post_form(
            &save,
            &[
                ("csrf", &csrf),
                ("name", "Waits"),
                ("query", "hours OR waited"),
                ("networks", "x, bluesky"),
            ],
        )
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let monitor = app
        .store
        .monitors()
        .unwrap()
        .into_iter()
        .find(|m| m.id == id)
        .unwrap();
    assert_eq!(monitor.name, "Waits");
    assert_eq!(monitor.networks, [Network::X, Network::Bluesky]);
    assert_eq!(
        stream_ids(&mut officer, &format!("monitor={id}")).await,
        ["1001"]
    );
}

#[tokio::test]
async fn an_admin_resets_a_password_and_the_person_is_logged_out() {
    let app = TestApp::start().await;
    let officer_id = app.store.user_by_name("officer").unwrap().unwrap().id;
    let path = format!("/settings/users/{officer_id}/password");
    let new_password = "a brand new password";
    let mut officer = app.login("officer").await;
    // Nobody below admin may reset, not even their own password this way.
    for role in ["viewer", "squad", "officer", "approver"] {
        let mut client = app.login(role).await;
        let csrf = client.csrf.clone();
        let response = client
            .post_form(&path, &[("csrf", &csrf), ("password", new_password)])
            .await;
        assert_eq!(response.status(), StatusCode::FORBIDDEN, "{role}");
    }
    let mut admin = app.login("admin").await;
    let page = admin.get("/settings/users").await.text().await.unwrap();
    assert!(page.contains(&format!("action=\"{path}\"")));
    let response = admin.post_form(&path, &[("password", new_password)]).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let csrf = admin.csrf.clone();
    let response = admin
        .post_form(&path, &[("csrf", &csrf), ("password", "short")])
        .await;
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let response = admin
        .post_form(
            "/settings/users/999/password",
            &[("csrf", &csrf), ("password", new_password)],
        )
        .await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(officer.get("/api/me").await.status(), StatusCode::OK);
    let response = admin
        .post_form(&path, &[("csrf", &csrf), ("password", new_password)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The officer's session has ended; only the new password works.
    assert_eq!(
        officer.get("/api/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut again = app.client();
    let response = again.try_login("officer", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let response = again.try_login("officer", new_password).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    // The admin's own session is untouched.
    assert_eq!(admin.get("/api/me").await.status(), StatusCode::OK);
}

#[tokio::test]
async fn people_change_their_own_password_with_the_current_one() {
    let app = TestApp::start().await;
    let mut here = app.login("viewer").await;
    let mut elsewhere = app.login("viewer").await;
    let page = here.get("/account").await.text().await.unwrap();
    assert!(page.contains("action=\"/account/password\""));
    let new_password = "my own new password";
    let csrf = here.csrf.clone();
    let form = |current: &'static str, password: &'static str, confirm: &'static str| {
        [
            ("current", current),
            ("password", password),
            ("confirm", confirm),
        ]
    };
    let with_token = |fields: [(&'static str, &'static str); 3]| {
        let mut all = vec![("csrf", csrf.clone())];
        all.extend(fields.iter().map(|(k, v)| (*k, (*v).to_owned())));
        all
    };
    // No token: refused before anything else.
    let fields = form(PASSWORD, new_password, new_password);
    let response = here.post_form("/account/password", &fields).await;
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    for (fields, status) in [
        (
            form("wrong password", new_password, new_password),
            StatusCode::BAD_REQUEST,
        ),
        (
            form(PASSWORD, new_password, "something else entirely"),
            StatusCode::BAD_REQUEST,
        ),
        (form(PASSWORD, "short", "short"), StatusCode::BAD_REQUEST),
    ] {
        let pairs = with_token(fields);
        let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let response = here.post_form("/account/password", &borrowed).await;
        assert_eq!(response.status(), status, "{fields:?}");
    }
    assert_eq!(elsewhere.get("/api/me").await.status(), StatusCode::OK);
    let pairs = with_token(form(PASSWORD, new_password, new_password));
    let borrowed: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let response = here.post_form("/account/password", &borrowed).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/account?changed=1");
    // This browser goes on with a fresh session; the other session has ended.
    assert_eq!(here.get("/api/me").await.status(), StatusCode::OK);
    let page = here.get("/account?changed=1").await.text().await.unwrap();
    assert!(page.contains("Your password has been changed"));
    assert_eq!(
        elsewhere.get("/api/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let mut again = app.client();
    assert_eq!(
        again.try_login("viewer", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        again.try_login("viewer", new_password).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[tokio::test]
async fn a_new_high_priority_post_arrives_on_an_open_attention_page() {
    let app = TestApp::start().await;
    let mut client = app.login("squad").await;
    let page = client.get("/attention").await.text().await.unwrap();
    assert!(page.contains("data-live=\"list=attention&#38;\""));
    let mut live = client.open_live().await;
    let before =
        last_posts_seq(&wait_for_event(&mut live, "event: posts", Duration::from_secs(5)).await);
    let now = Timestamp::now();
    add_posts(
        &app.store,
        &[
            (
                post(Network::X, "4001", "low_lou", "Parking is a bit dear", now),
                analysis(SentimentLabel::Negative, IntentKind::Complaint, 30),
            ),
            (
                post(
                    Network::Mastodon,
                    "4002",
                    "elsewhere_ed",
                    "Someone collapsed in the car park",
                    now,
                ),
                analysis(SentimentLabel::Negative, IntentKind::Safety, 95),
            ),
            (
                post(
                    Network::X,
                    "4003",
                    "urgent_una",
                    "My father was sent home with a broken hip",
                    now,
                ),
                analysis(SentimentLabel::Negative, IntentKind::Complaint, 90),
            ),
        ],
    );
    let mut seen = String::new();
    while seen.is_empty() || last_posts_seq(&seen) < before + 3 {
        seen.push_str(&wait_for_event(&mut live, "event: posts", Duration::from_secs(5)).await);
    }
    let new = client.new_posts("list=attention&network=x", before).await;
    let html: Vec<&str> = new["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["html"].as_str().unwrap())
        .collect();
    assert_eq!(
        html.len(),
        1,
        "only high-priority posts, and the page's filters hold"
    );
    assert!(html[0].contains("@urgent_una"));
    // A squad member gets the mark-as-handled form with their own token.
    assert!(html[0].contains("/posts/x/4003/handled"));
    assert!(html[0].contains(&client.csrf));
    // A viewer gets the post without the form.
    let mut viewer = app.login("viewer").await;
    let new = viewer.new_posts("list=attention", before).await;
    let html = new["items"].to_string();
    assert!(html.contains("@urgent_una") && html.contains("@elsewhere_ed"));
    assert!(!html.contains("/handled"));
    // Without a session there is no live connection and no new posts.
    let response = app.client().get("/live").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let response = app.client().get("/live/posts?list=attention").await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
}

#[tokio::test]
async fn the_dashboard_adds_up_its_hours() {
    let app = TestApp::start().await;
    let id = app
        .store
        .save_monitor(&Monitor {
            id: 0,
            name: "Maternity".into(),
            query: "maternity".into(),
            networks: Vec::new(),
            languages: Vec::new(),
            authors: Vec::new(),
        })
        .unwrap()
        .unwrap();
    let mut client = app.login("viewer").await;
    for period in ["24h", "7d", "14d", "30d"] {
        let day: serde_json::Value = client
            .get(&format!("/api/dashboard?period={period}"))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(day["total"], 3, "{period}");
        let sum = |values: &serde_json::Value| -> u64 {
            values
                .as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_u64().unwrap())
                .sum()
        };
        let by_network: u64 = day["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| sum(&b["by_network"]))
            .sum();
        let by_sentiment: u64 = day["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| sum(&b["by_sentiment"]))
            .sum();
        assert_eq!((by_network, by_sentiment), (3, 3), "{period}");
        assert_eq!(sum(&day["hours"]), 3, "{period}");
        assert_eq!(day["hashtags"][0]["name"], "nhs");
        assert_eq!(day["hashtags"][0]["posts"], 3);
        assert_eq!(day["authors"].as_array().unwrap().len(), 3);
    }
    let monitor: serde_json::Value = client
        .get(&format!("/api/dashboard?period=7d&monitor={id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(monitor["total"], 1);
    assert_eq!(monitor["authors"][0]["name"], "mastodon:@happy_harry");
    let page = client
        .get(&format!("/dashboard?period=7d&monitor={id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("Top hashtags") && page.contains("Busiest hours"));
}
