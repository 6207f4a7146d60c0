//! Sign-in as NHS staff do, through the real server: single sign-on against a small OpenID
//! provider on 127.0.0.1, two-factor codes with recovery codes, a second factor required of
//! everyone, and erasure from the admin page.

use std::collections::BTreeMap;

use reqwest::StatusCode;
use signin::{
    oidc::OidcConfig,
    testing::{Misbehaviour, TestProvider, TestUser},
    totp::TotpSecret,
};
use store::{AccountStore, Role, SigninStore};

use crate::app::{PASSWORD, TestApp, csrf_of};

const CLIENT: &str = "switchboard";
const SECRET: &str = "client secret of the test";
const COMMS: &str = "3c1d-comms-officers";

fn nhs_user() -> TestUser {
    TestUser {
        subject: "entra-object-id-42".into(),
        username: "kim.lee@nhs.net".into(),
        name: "Kim Lee".into(),
        groups: vec![COMMS.into(), "all-staff".into()],
    }
}

async fn app_with_sso(provider: &TestProvider) -> TestApp {
    let issuer = provider.issuer.clone();
    TestApp::start_bound(move |state, addr| {
        let config = OidcConfig {
            issuer,
            client_id: CLIENT.into(),
            client_secret_env: "UNUSED".into(),
            redirect_url: format!("http://{addr}/login/oidc/callback"),
            label: "Sign in with NHSmail".into(),
            groups_claim: "groups".into(),
            roles: BTreeMap::from([(COMMS.to_owned(), Role::Officer)]),
        };
        *state = state.clone().with_oidc(config, Some(SECRET.into()));
    })
    .await
}

/// Follows the sign-in from the login page's button through the provider and back.
async fn sso(app: &TestApp, client: &mut crate::app::Client) -> reqwest::Response {
    let login = client.get("/login?next=/inbox").await.text().await.unwrap();
    assert!(login.contains("Sign in with NHSmail"), "{login}");
    let to_provider = client.get("/login/oidc?next=/inbox").await;
    assert_eq!(to_provider.status(), StatusCode::SEE_OTHER);
    let authorize = to_provider.headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let back = client.http.get(&authorize).send().await.unwrap();
    assert_eq!(back.status(), StatusCode::SEE_OTHER);
    let callback = back.headers()["location"].to_str().unwrap().to_owned();
    let path = callback
        .strip_prefix(&app.url(""))
        .unwrap_or_else(|| panic!("back to this server: {callback}"))
        .to_owned();
    client.get(&path).await
}

#[tokio::test]
async fn oidc_sign_in_through_the_server_creates_the_account_with_its_group_role() {
    let provider = TestProvider::start(CLIENT, SECRET, nhs_user()).await;
    let app = app_with_sso(&provider).await;
    let mut client = app.client();
    let signed_in = sso(&app, &mut client).await;
    assert_eq!(signed_in.status(), StatusCode::SEE_OTHER);
    assert_eq!(signed_in.headers()["location"], "/inbox");
    let me: serde_json::Value = client.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["name"], "kim.lee@nhs.net");
    assert_eq!(me["role"], "officer");
    // The account has no password: the password form cannot be used to get in.
    let user = app.store.user_by_name("kim.lee@nhs.net").unwrap().unwrap();
    let mut other = app.client();
    let refused = other
        .try_login("kim.lee@nhs.net", server::oidc::NO_PASSWORD)
        .await;
    assert_ne!(refused.status(), StatusCode::SEE_OTHER);
    // The role follows the groups at the next sign-in, and the change is audited.
    provider.set_user(TestUser {
        groups: vec!["all-staff".into(), "unmapped".into()],
        ..nhs_user()
    });
    let mut again = app.client();
    let refused = sso(&app, &mut again).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("no group that may use Switchboard")
    );
    assert_eq!(
        app.store
            .user_by_name("kim.lee@nhs.net")
            .unwrap()
            .unwrap()
            .role,
        user.role
    );
}

#[tokio::test]
async fn oidc_refused_tokens_get_no_session_through_the_server() {
    let provider = TestProvider::start(CLIENT, SECRET, nhs_user()).await;
    let app = app_with_sso(&provider).await;
    for misbehaviour in [
        Misbehaviour::WrongIssuer,
        Misbehaviour::WrongAudience,
        Misbehaviour::WrongNonce,
        Misbehaviour::Expired,
        Misbehaviour::AlgNone,
        Misbehaviour::UnknownKeyId,
    ] {
        let mut client = app.client();
        provider.misbehave(misbehaviour);
        let refused = sso(&app, &mut client).await;
        assert_ne!(refused.status(), StatusCode::SEE_OTHER, "{misbehaviour:?}");
        assert!(
            client
                .cookies
                .iter()
                .all(|(k, _)| k != server::auth::SESSION_COOKIE),
            "{misbehaviour:?} gave a session"
        );
        assert_eq!(
            client.get("/api/me").await.status(),
            StatusCode::UNAUTHORIZED,
            "{misbehaviour:?}"
        );
    }
    assert!(app.store.user_by_name("kim.lee@nhs.net").unwrap().is_none());
    // A callback replayed with a state already used, or made up, is refused.
    let mut client = app.client();
    let forged = client
        .get("/login/oidc/callback?code=code-1&state=made-up")
        .await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);
}

fn now() -> u64 {
    u64::try_from(jiff::Timestamp::now().as_second()).unwrap()
}

/// Sets up an authenticator for a logged-in client through the account page; returns the
/// secret and the recovery codes shown.
async fn set_up_app(client: &mut crate::app::Client) -> (TotpSecret, Vec<String>) {
    let account = client
        .get("/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("is <strong>off</strong>"), "{account}");
    let csrf = client.csrf.clone();
    let setup = client
        .post_form("/account/two-factor/begin", &[("csrf", &csrf)])
        .await
        .text()
        .await
        .unwrap();
    let secret_text = setup
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap()
        .to_owned();
    let secret = TotpSecret::from_base32(&secret_text).unwrap();
    let wrong = client
        .post_form(
            "/account/two-factor/confirm",
            &[("csrf", &csrf), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status(), StatusCode::BAD_REQUEST);
    let code = secret.code_at(now()).unwrap();
    let codes_page = client
        .post_form(
            "/account/two-factor/confirm",
            &[("csrf", &csrf), ("code", &code)],
        )
        .await
        .text()
        .await
        .unwrap();
    let codes: Vec<String> = codes_page
        .split("<li><code>")
        .skip(1)
        .filter_map(|s| s.split('<').next())
        .map(str::to_owned)
        .collect();
    assert_eq!(codes.len(), 10, "{codes_page}");
    (secret, codes)
}

/// Logs in with the password and returns the client at its second step.
async fn password_step(app: &TestApp, name: &str) -> (crate::app::Client, String) {
    let mut client = app.client();
    let response = client.try_login(name, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let to = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(
        client
            .cookies
            .iter()
            .all(|(k, _)| k != server::auth::SESSION_COOKIE),
        "a session before the second step"
    );
    (client, to)
}

#[tokio::test]
async fn totp_second_factor_with_a_recovery_code() {
    let app = TestApp::start().await;
    let mut officer = app.login("officer").await;
    let (secret, codes) = set_up_app(&mut officer).await;
    let account = officer
        .get("/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(account.contains("10 unused recovery codes"), "{account}");

    // The password alone no longer gives a session.
    let (mut client, to) = password_step(&app, "officer").await;
    assert_eq!(to, "/login/two-factor");
    assert_eq!(
        client.get("/api/me").await.status(),
        StatusCode::UNAUTHORIZED
    );
    let page = client.get("/login/two-factor").await.text().await.unwrap();
    let token = csrf_of(&page).unwrap();
    let wrong = client
        .post_form("/login/two-factor", &[("csrf", &token), ("code", "123456")])
        .await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    // The code of the step used to set it up is refused (each step once); the next is taken.
    let used = secret.code_at(now()).unwrap();
    let next = secret.code_at(now() + 30).unwrap();
    if used != next {
        let replay = client
            .post_form("/login/two-factor", &[("csrf", &token), ("code", &used)])
            .await;
        assert_eq!(replay.status(), StatusCode::UNAUTHORIZED);
    }
    let forged = client
        .post_form(
            "/login/two-factor",
            &[("csrf", "not-the-token"), ("code", &next)],
        )
        .await;
    assert_eq!(forged.status(), StatusCode::FORBIDDEN);
    let ok = client
        .post_form("/login/two-factor", &[("csrf", &token), ("code", &next)])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(client.get("/api/me").await.status(), StatusCode::OK);

    // A recovery code works once.
    let (mut client, _) = password_step(&app, "officer").await;
    let token = csrf_of(&client.get("/login/two-factor").await.text().await.unwrap()).unwrap();
    let shouted = codes[3].to_uppercase();
    let ok = client
        .post_form("/login/two-factor", &[("csrf", &token), ("code", &shouted)])
        .await;
    assert_eq!(ok.status(), StatusCode::SEE_OTHER);
    assert_eq!(client.get("/api/me").await.status(), StatusCode::OK);
    let (mut client, _) = password_step(&app, "officer").await;
    let token = csrf_of(&client.get("/login/two-factor").await.text().await.unwrap()).unwrap();
    let again = client
        .post_form(
            "/login/two-factor",
            &[("csrf", &token), ("code", &codes[3])],
        )
        .await;
    assert_eq!(again.status(), StatusCode::UNAUTHORIZED);
    let user = app.store.user_by_name("officer").unwrap().unwrap();
    assert_eq!(
        app.store
            .second_factor(user.id)
            .unwrap()
            .unwrap()
            .recovery_codes_left,
        9
    );

    // Five wrong codes end the pending sign-in.
    for _ in 0..4 {
        client
            .post_form("/login/two-factor", &[("csrf", &token), ("code", "000000")])
            .await;
    }
    let page = client.get("/login/two-factor").await;
    assert_eq!(page.status(), StatusCode::UNAUTHORIZED);
    assert!(page.text().await.unwrap().contains("expired"));
}

#[tokio::test]
async fn required_second_factor_is_set_up_before_the_first_session() {
    let app = TestApp::start().await;
    let mut admin = app.login("admin").await;
    let mut viewer = app.login("viewer").await;
    let csrf = viewer.csrf.clone();
    let refused = viewer
        .post_form(
            "/settings/sign-in",
            &[("csrf", &csrf), ("require_two_factor", "on")],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let csrf = admin.csrf.clone();
    let missing_csrf = admin
        .post_form("/settings/sign-in", &[("require_two_factor", "on")])
        .await;
    assert_ne!(missing_csrf.status(), StatusCode::SEE_OTHER);
    let saved = admin
        .post_form(
            "/settings/sign-in",
            &[("csrf", &csrf), ("require_two_factor", "on")],
        )
        .await;
    assert_eq!(saved.status(), StatusCode::SEE_OTHER);
    assert!(app.store.two_factor_required().unwrap());

    let (mut client, to) = password_step(&app, "squad").await;
    assert_eq!(to, "/login/two-factor/setup");
    assert_eq!(client.get("/stream").await.status(), StatusCode::SEE_OTHER);
    let page = client
        .get("/login/two-factor/setup")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("requires a second step"), "{page}");
    let token = csrf_of(&page).unwrap();
    let secret_text = page
        .split("id=\"totp-secret\">")
        .nth(1)
        .and_then(|s| s.split('<').next())
        .unwrap();
    let secret = TotpSecret::from_base32(secret_text).unwrap();
    let code = secret.code_at(now()).unwrap();
    let done = client
        .post_form(
            "/login/two-factor/setup",
            &[("csrf", &token), ("code", &code)],
        )
        .await;
    assert_eq!(done.status(), StatusCode::OK);
    assert!(done.text().await.unwrap().contains("recovery-codes"));
    assert_eq!(client.get("/api/me").await.status(), StatusCode::OK);
    // It cannot be turned off while required.
    let page = client
        .get("/account/two-factor")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("cannot be turned off"), "{page}");
}

#[tokio::test]
async fn erasure_from_the_admin_page_removes_the_author() {
    let app = TestApp::start().await;
    let mut viewer = app.login("viewer").await;
    assert_eq!(
        viewer.get("/settings/erase").await.status(),
        StatusCode::FORBIDDEN
    );
    let mut admin = app.login("admin").await;
    assert_eq!(admin.get("/posts/x/1001").await.status(), StatusCode::OK);
    assert_eq!(admin.get("/settings/erase").await.status(), StatusCode::OK);
    let csrf = admin.csrf.clone();
    let form = [
        ("csrf", csrf.as_str()),
        ("network", "x"),
        ("account", "@patient_pat"),
        ("reason", "request 2026-31"),
    ];
    let no_csrf = admin.post_form("/settings/erase", &form[1..]).await;
    assert_eq!(no_csrf.status(), StatusCode::FORBIDDEN);
    assert!(app.store.user_by_name("admin").unwrap().is_some());
    let done = admin.post_form("/settings/erase", &form).await;
    assert_eq!(done.status(), StatusCode::OK);
    let text = done.text().await.unwrap();
    assert!(text.contains("Erased: 1 posts"), "{text}");
    let post = admin.get("/posts/x/1001").await;
    assert_eq!(post.status(), StatusCode::NOT_FOUND);
    let again = admin.post_form("/settings/erase", &form).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}
