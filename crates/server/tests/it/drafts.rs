//! The draft editor tells the truth: its button says what will happen (or, disabled, what to
//! change), every check says what it found for the person's role, an apology to a compliment
//! waits for an approver, and a status never claims an approval nobody gave.
//!
//! See: issue 12, item 5 ("Send now" on the button while a check said blocked; an administrator's
//! clinical statement reported as "No clinical statement"; a draft nobody approved shown as
//! "approved").

use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::app::{Client, TestApp};

/// Opens the reply to a post from its card; returns the draft's id.
async fn reply_to(client: &mut Client, post: &str) -> String {
    let csrf = client.csrf.clone();
    let response = client
        .post_form(&format!("/posts/{post}/reply"), &[("csrf", &csrf)])
        .await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let location = response.headers()[header::LOCATION].to_str().unwrap();
    location.strip_prefix("/drafts/").unwrap().to_owned()
}

/// The checks of `text` as the editor's script asks for them.
async fn check(app: &TestApp, client: &Client, draft: &str, text: &str) -> Value {
    let cookies = client
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let response = client
        .http
        .post(app.url(&format!("/api/drafts/{draft}/check")))
        .header(header::COOKIE, cookies)
        .header("x-csrf-token", &client.csrf)
        .json(&json!({ "text": text }))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    response.json().await.unwrap()
}

/// The row of the check called `name`.
fn row<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == name)
        .unwrap_or_else(|| panic!("no {name} row in {report}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_draft_editor_says_what_will_happen_and_every_check_tells_the_truth() {
    let app = TestApp::start().await;

    // An apology to a compliment waits for an approver's decision.
    let mut squad = app.login("squad").await;
    let draft = reply_to(&mut squad, "mastodon/m1").await;
    let report = check(
        &app,
        &squad,
        &draft,
        "So sorry to hear about this, Harry, we will look into it. ^Sam",
    )
    .await;
    assert_eq!(row(&report, "Fits the post")["status"], "needs approval");
    assert_eq!(report["action"], "Submit for approval", "{report}");

    // A blocked text: the button says what to change, and is disabled on the page.
    let nhs = "Hi Harry, thank you! Your NHS number 943 476 5919 is on file. ^Sam";
    let report = check(&app, &squad, &draft, nhs).await;
    assert_eq!(report["blocked"], true);
    assert_eq!(
        report["action"], "Remove the NHS number to send",
        "{report}"
    );
    let csrf = squad.csrf.clone();
    let page = squad
        .post_form(
            &format!("/drafts/{draft}/submit"),
            &[("csrf", &csrf), ("text", nhs)],
        )
        .await
        .text()
        .await
        .unwrap();
    let button = page
        .split("id=\"submit-draft\"")
        .nth(1)
        .and_then(|rest| rest.split("</button>").next())
        .unwrap_or_else(|| panic!("no submit button in {page}"));
    assert!(
        button.contains("disabled") && button.contains("Remove the NHS number to send"),
        "{button}"
    );

    // Sent without anyone's approval: the status does not say "approved".
    let page = squad
        .post_form(
            &format!("/drafts/{draft}/submit"),
            &[
                ("csrf", &csrf),
                (
                    "text",
                    "Thank you Harry, I will pass this on to the maternity team. ^Sam",
                ),
            ],
        )
        .await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let page = squad
        .get(&format!("/drafts/{draft}"))
        .await
        .text()
        .await
        .unwrap();
    let status = page
        .split("id=\"draft-status\">")
        .nth(1)
        .and_then(|rest| rest.split("</dd>").next())
        .unwrap();
    assert!(!status.to_lowercase().contains("approved"), "{status}");
    let api: Value = squad
        .get("/api/approvals")
        .await
        .json()
        .await
        .unwrap_or(Value::Null);
    assert!(api.as_array().is_none_or(Vec::is_empty));

    // An administrator's clinical statement is named, with why it may go out.
    let mut admin = app.login("admin").await;
    let draft = reply_to(&mut admin, "x/1001").await;
    let report = check(
        &app,
        &admin,
        &draft,
        "Hi Pat, we've reviewed your notes and your treatment was correct. ^Alex",
    )
    .await;
    let clinical = row(&report, "Clinical statements");
    let message = clinical["message"].as_str().unwrap();
    assert!(
        !message.starts_with("No clinical statement") && message.contains("your role may"),
        "{clinical}"
    );
}
