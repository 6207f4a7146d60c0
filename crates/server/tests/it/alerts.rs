//! Alerts over HTTP: the banner pushed over the live connection and rendered into every page,
//! dismissal per person, the alerts list and crisis view, a holding statement drafted and
//! approved by a second person (never its author), and the status page and `/healthz`.

use std::time::Duration;

use alert::{AlertUpdate, Severity, UpdateKind};
use jiff::Timestamp;
use reqwest::StatusCode;
use store::{AlertStore, EngageStore, SavedHealth};

use crate::app::{TestApp, add_alert_with, wait_for_event};

#[tokio::test]
async fn an_alert_reaches_open_pages_and_its_crisis_view_takes_an_approved_statement() {
    let app = TestApp::start().await;
    let mut officer = app.login("officer").await;
    let mut approver = app.login("approver").await;
    let page = officer.get("/stream").await.text().await.unwrap();
    assert!(page.contains("id=\"alert-banner\"") && !page.contains("role=\"alert\""));

    // An open page's live connection: the alert line arrives when the pipeline publishes.
    let mut body = officer.open_live().await;
    wait_for_event(&mut body, "event: posts", Duration::from_secs(5)).await;
    let id = add_alert_with(&app.store, "data breach", Severity::Critical);
    let stored = app.store.alert(id).unwrap().unwrap();
    app.hub.publish(AlertUpdate {
        kind: UpdateKind::Opened,
        alert: stored.alert,
    });
    let event = wait_for_event(&mut body, "data breach", Duration::from_secs(5)).await;
    assert!(event.contains("role=\"alert\"") && event.contains(&format!("/alerts/{id}")));

    // Without script: the next page load carries the banner.
    let page = officer.get("/dashboard").await.text().await.unwrap();
    assert!(page.contains("role=\"alert\"") && page.contains("data breach"));

    // The list and the crisis view.
    let list = officer.get("/alerts").await.text().await.unwrap();
    assert!(list.contains(&format!("href=\"/alerts/{id}\"")));
    let view = officer
        .get(&format!("/alerts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(view.contains("href=\"/posts/x/1001\"") && view.contains("@patient_pat"));
    assert!(view.contains("<svg class=\"chart\"") && view.contains("opened"));

    // A holding statement: CSRF checked first, then drafted by the officer.
    let form = |csrf: &str| {
        vec![
            ("csrf".to_owned(), csrf.to_owned()),
            ("network".to_owned(), "x".to_owned()),
            (
                "text".to_owned(),
                "We are aware of reports about our systems and are looking into them urgently."
                    .to_owned(),
            ),
        ]
    };
    let pairs = |form: &[(String, String)]| -> Vec<(String, String)> { form.to_vec() };
    let bad = pairs(&form("not-the-token"));
    let bad: Vec<(&str, &str)> = bad.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let path = format!("/alerts/{id}/statement");
    assert_eq!(
        officer.post_form(&path, &bad).await.status(),
        StatusCode::FORBIDDEN
    );
    let good = form(&officer.csrf.clone());
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        officer.post_form(&path, &good).await.status(),
        StatusCode::SEE_OTHER
    );
    let drafts = app
        .store
        .drafts(&store::DraftFilter {
            case_id: Some(format!("alert:{id}")),
            ..store::DraftFilter::default()
        })
        .unwrap();
    assert_eq!(drafts.len(), 1);
    let draft = drafts[0].id.clone();
    let approve = format!("/alerts/{id}/statement/{draft}/approve");
    let csrf = officer.csrf.clone();
    assert_eq!(
        officer
            .post_form(&approve, &[("csrf", &csrf)])
            .await
            .status(),
        StatusCode::FORBIDDEN,
        "an officer may not approve"
    );

    // The approver's own statement cannot be approved by them.
    let own = form(&approver.csrf.clone());
    let own: Vec<(&str, &str)> = own.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(
        approver.post_form(&path, &own).await.status(),
        StatusCode::SEE_OTHER
    );
    let mine = app
        .store
        .drafts(&store::DraftFilter {
            case_id: Some(format!("alert:{id}")),
            ..store::DraftFilter::default()
        })
        .unwrap()
        .into_iter()
        .find(|d| d.author == "approver")
        .unwrap();
    let csrf = approver.csrf.clone();
    let refused = approver
        .post_form(
            &format!("/alerts/{id}/statement/{}/approve", mine.id),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(refused.text().await.unwrap().contains("cannot approve"));

    // The officer's statement, approved by the approver.
    assert_eq!(
        approver
            .post_form(&approve, &[("csrf", &csrf)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let view = officer
        .get(&format!("/alerts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(view.contains("approved by approver"), "{view}");
    let audit = app.store.audit_entries(0, 100).unwrap();
    let subject = format!("draft:{draft}");
    let actions: Vec<(&str, &str)> = audit
        .iter()
        .filter(|e| e.entry.subject == subject)
        .map(|e| (e.entry.actor.as_str(), e.entry.action.as_str()))
        .collect();
    assert_eq!(
        actions,
        [
            ("officer", "draft.create"),
            ("officer", "draft.submit"),
            ("approver", "draft.approve")
        ]
    );

    // The approver's own statement, rejected by the admin: a comment is required.
    let mut admin = app.login("admin").await;
    let csrf = admin.csrf.clone();
    let reject = format!("/alerts/{id}/statement/{}/reject", mine.id);
    assert_eq!(
        admin
            .post_form(&reject, &[("csrf", &csrf), ("comment", " ")])
            .await
            .status(),
        StatusCode::BAD_REQUEST
    );
    assert_eq!(
        admin
            .post_form(&reject, &[("csrf", &csrf), ("comment", "Too vague")])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let rejected = app.store.draft(&mine.id).unwrap().unwrap();
    assert_eq!(rejected.rejection.as_deref(), Some("Too vague"));

    // The same data in the JSON API.
    let api: serde_json::Value = officer
        .get(&format!("/api/alerts/{id}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(api["stored"]["alert"]["detail"], "data breach");
    assert_eq!(api["drafts"].as_array().map(Vec::len), Some(2));
    assert!(api["volume"]["buckets"].is_array());
    let list: serde_json::Value = officer.get("/api/alerts").await.json().await.unwrap();
    assert_eq!(list[0]["id"], id);

    // Dismissed by the officer only.
    let csrf = officer.csrf.clone();
    assert_eq!(
        officer
            .post_form(&format!("/alerts/{id}/dismiss"), &[("csrf", &csrf)])
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let page = officer.get("/stream").await.text().await.unwrap();
    assert!(!page.contains("role=\"alert\""));
    let page = approver.get("/stream").await.text().await.unwrap();
    assert!(page.contains("role=\"alert\""));
}

/// The alert line of a page (from its opening tag to the end of the banner's container).
fn alert_area(page: &str) -> &str {
    let start = page.find("id=\"alert-banner\"").expect("the alert area");
    let end = page[start..]
        .find("<main")
        .map_or(page.len(), |e| start + e);
    &page[start..end]
}

// See: issue 12, item 4 (five banners filled 400 px of every desktop page, critical below
// warnings, order changing between loads).
#[tokio::test]
async fn alerts_take_one_compact_line_and_only_a_new_critical_alert_a_full_banner() {
    let app = TestApp::start().await;
    let warning = add_alert_with(&app.store, "parking", Severity::Warning);
    let critical = add_alert_with(&app.store, "power cut", Severity::Critical);
    add_alert_with(&app.store, "car park fire", Severity::Warning);
    add_alert_with(&app.store, "open day", Severity::Info);
    let stored = app.store.alert(critical).unwrap().unwrap();
    app.hub.publish(AlertUpdate {
        kind: UpdateKind::Opened,
        alert: stored.alert,
    });
    let mut officer = app.login("officer").await;
    let mut page = String::new();
    for _ in 0..50 {
        page = officer.get("/stream").await.text().await.unwrap();
        if page.contains("power cut") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let area = alert_area(&page).to_owned();
    // One line: counts by severity, most severe first, and a link to every alert.
    let critical_at = area.find("1 critical").expect("the critical count");
    let warnings_at = area.find("2 warnings").expect("the warning count");
    let info_at = area
        .find("1 for information")
        .expect("the information count");
    assert!(critical_at < warnings_at && warnings_at < info_at, "{area}");
    assert!(area.contains("href=\"/alerts\""));
    // The full banner for the new critical alert only, with its crisis view and dismissal.
    assert_eq!(area.matches("role=\"alert\"").count(), 1, "{area}");
    assert!(area.contains(&format!("href=\"/alerts/{critical}\"")));
    assert!(area.contains(&format!("/alerts/{critical}/dismiss")));
    assert!(!area.contains("parking") && !area.contains(&format!("/alerts/{warning}/")));
    // The same on every load.
    for _ in 0..3 {
        let again = officer.get("/dashboard").await.text().await.unwrap();
        assert_eq!(alert_area(&again), area);
    }
    // Dismissed: the banner folds into the line for this person, in every session of theirs.
    let csrf = officer.csrf.clone();
    officer
        .post_form(&format!("/alerts/{critical}/dismiss"), &[("csrf", &csrf)])
        .await;
    let mut later = app.login("officer").await;
    let page = later.get("/stream").await.text().await.unwrap();
    let area = alert_area(&page);
    assert!(
        !area.contains("role=\"alert\"") && area.contains("1 critical"),
        "{area}"
    );
    let mut approver = app.login("approver").await;
    let page = approver.get("/stream").await.text().await.unwrap();
    assert_eq!(alert_area(&page).matches("role=\"alert\"").count(), 1);
}

#[tokio::test]
async fn status_and_healthz_show_the_connectors_health() {
    let app = TestApp::start().await;
    app.store
        .save_health(&[SavedHealth {
            source: "bluesky".into(),
            data: serde_json::json!({
                "source": "bluesky", "connected": true, "last_event": Timestamp::now(),
                "lag_ms": 180, "events": 4, "posts": 12, "rejected": 0, "errors": 1,
                "reconnects": 1, "last_error": "connection reset", "cursor": "1"
            })
            .to_string(),
            updated_at: Timestamp::now(),
        }])
        .unwrap();
    let health = app.client().get("/healthz").await.text().await.unwrap();
    assert!(health.starts_with("ok\n"), "{health}");
    assert!(
        health.contains("connector bluesky: connected, last event ")
            && health.contains(" s ago, lag 180 ms, 12 posts, 1 errors (saved "),
        "{health}"
    );
    let mut viewer = app.login("viewer").await;
    let page = viewer.get("/status").await.text().await.unwrap();
    assert!(page.contains("bluesky") && page.contains("Connected") && page.contains("180 ms"));
    assert!(page.contains("connection reset"));
    let api: serde_json::Value = viewer.get("/api/status").await.json().await.unwrap();
    assert_eq!(api[0]["health"]["source"], "bluesky");
    assert_eq!(api[0]["health"]["lag_ms"], 180);
    assert!(api[0]["saved_at"].is_string());
}
