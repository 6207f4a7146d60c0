//! OpenID Connect sign-in against a small provider on 127.0.0.1 that speaks the real protocol
//! (discovery, JWKS, authorisation code with PKCE, RS256 ID tokens), and refusal of every ID
//! token a client must not accept.

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use model::Role;
    use signin::{
        oidc::{OidcConfig, OidcError, OidcProvider},
        testing::{Misbehaviour, TestProvider, TestUser},
    };

    const CLIENT: &str = "switchboard-test";
    const SECRET: &str = "a client secret for tests";
    const OFFICERS: &str = "5e1f0c6a-officers";
    const ADMINS: &str = "9a77d2b4-admins";

    fn user(groups: &[&str]) -> TestUser {
        TestUser {
            subject: "00000000-aaaa-bbbb-cccc-000000000001".into(),
            username: "sam.jones@nhs.net".into(),
            name: "Sam Jones".into(),
            groups: groups.iter().map(|g| (*g).to_owned()).collect(),
        }
    }

    fn config(issuer: &str) -> OidcConfig {
        OidcConfig {
            issuer: issuer.to_owned(),
            client_id: CLIENT.into(),
            client_secret_env: "UNUSED".into(),
            redirect_url: "http://127.0.0.1:9/login/oidc/callback".into(),
            label: "Sign in with NHSmail".into(),
            groups_claim: "groups".into(),
            roles: BTreeMap::from([
                (OFFICERS.to_owned(), Role::Officer),
                (ADMINS.to_owned(), Role::Admin),
            ]),
        }
    }

    /// The person's browser: follows the address to the provider's authorisation endpoint and
    /// reads the code and state it sends back to the redirect address.
    async fn authorise(url: &str) -> (String, String) {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let response = http.get(url).send().await.unwrap();
        assert_eq!(response.status(), 303, "{:?}", response.text().await);
        let location = response.headers()["location"].to_str().unwrap().to_owned();
        assert!(
            location.starts_with("http://127.0.0.1:9/login/oidc/callback?"),
            "{location}"
        );
        let query = location.split_once('?').unwrap().1;
        let field = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(&format!("{name}=")))
                .unwrap()
                .to_owned()
        };
        (field("code"), field("state"))
    }

    async fn sign_in(
        provider: &TestProvider,
        misbehaviour: Misbehaviour,
    ) -> Result<signin::oidc::Identity, OidcError> {
        let client = OidcProvider::discover(&config(&provider.issuer), Some(SECRET.into()))
            .await
            .unwrap();
        let (url, pending) = client.start();
        assert!(url.contains("code_challenge_method=S256"), "{url}");
        let (code, state) = authorise(&url).await;
        assert_eq!(state, pending.state);
        provider.misbehave(misbehaviour);
        client.finish(&pending, &code).await
    }

    #[tokio::test]
    async fn oidc_sign_in_maps_the_highest_group_to_a_role() {
        let provider =
            TestProvider::start(CLIENT, SECRET, user(&[OFFICERS, ADMINS, "other"])).await;
        let who = sign_in(&provider, Misbehaviour::None).await.unwrap();
        assert_eq!(who.username, "sam.jones@nhs.net");
        assert_eq!(who.subject, "00000000-aaaa-bbbb-cccc-000000000001");
        assert_eq!(who.issuer, provider.issuer);
        assert_eq!(who.name.as_deref(), Some("Sam Jones"));
        assert_eq!(who.role, Role::Admin);
        provider.set_user(user(&[OFFICERS]));
        assert_eq!(
            sign_in(&provider, Misbehaviour::None).await.unwrap().role,
            Role::Officer
        );
    }

    #[tokio::test]
    async fn oidc_person_in_no_mapped_group_is_refused() {
        let provider = TestProvider::start(CLIENT, SECRET, user(&["someone-elses-group"])).await;
        let refused = sign_in(&provider, Misbehaviour::None).await.unwrap_err();
        assert!(matches!(refused, OidcError::NoRole { .. }), "{refused}");
    }

    #[tokio::test]
    async fn oidc_refuses_every_bad_id_token() {
        let provider = TestProvider::start(CLIENT, SECRET, user(&[ADMINS])).await;
        for (misbehaviour, says) in [
            (Misbehaviour::WrongIssuer, "another issuer"),
            (Misbehaviour::WrongAudience, "another application"),
            (Misbehaviour::WrongNonce, "nonce"),
            (Misbehaviour::Expired, "expired"),
            (Misbehaviour::AlgNone, ""),
            (Misbehaviour::UnknownKeyId, "key the provider does not list"),
        ] {
            let refused = sign_in(&provider, misbehaviour).await.unwrap_err();
            assert!(
                matches!(refused, OidcError::Refused(_) | OidcError::Exchange(_)),
                "{misbehaviour:?}: {refused}"
            );
            assert!(
                refused.to_string().contains(says),
                "{misbehaviour:?}: {refused}"
            );
        }
        // And the same provider, behaving, is accepted (the refusals were the tokens' fault).
        assert!(sign_in(&provider, Misbehaviour::None).await.is_ok());
    }

    #[tokio::test]
    async fn oidc_code_exchange_needs_the_pkce_verifier_and_works_once() {
        let provider = TestProvider::start(CLIENT, SECRET, user(&[ADMINS])).await;
        let client = OidcProvider::discover(&config(&provider.issuer), Some(SECRET.into()))
            .await
            .unwrap();
        let (url, mut pending) = client.start();
        let (code, _) = authorise(&url).await;
        let right = pending.pkce_verifier.clone();
        pending.pkce_verifier = "x".repeat(50);
        let refused = client.finish(&pending, &code).await.unwrap_err();
        assert!(matches!(refused, OidcError::Exchange(_)), "{refused}");
        // The code was spent by the failed attempt, as a provider does.
        pending.pkce_verifier = right;
        assert!(client.finish(&pending, &code).await.is_err());
        let wrong_secret = OidcProvider::discover(&config(&provider.issuer), Some("wrong".into()))
            .await
            .unwrap();
        let (url, pending) = wrong_secret.start();
        let (code, _) = authorise(&url).await;
        assert!(matches!(
            wrong_secret.finish(&pending, &code).await.unwrap_err(),
            OidcError::Exchange(_)
        ));
    }

    #[tokio::test]
    async fn oidc_unreachable_provider_is_a_clear_error() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let issuer = format!("http://{}", closed.local_addr().unwrap());
        drop(closed);
        let error = OidcProvider::discover(&config(&issuer), None)
            .await
            .unwrap_err();
        assert!(matches!(error, OidcError::Provider(_)), "{error}");
        assert!(error.to_string().contains("127.0.0.1"), "{error}");
    }
}
