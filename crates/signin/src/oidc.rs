//! Single sign-on by OpenID Connect: the authorisation code flow with PKCE, as Microsoft Entra
//! ID (NHSmail's identity provider) and any conforming provider speak it.
//!
//! Design and invariants:
//! - The provider is found by discovery (`/.well-known/openid-configuration`) and its signing
//!   keys by its JWKS; both are fetched over HTTPS with redirects off (a provider that redirects
//!   its own metadata is refused rather than followed to another host).
//! - [`OidcProvider::start`] makes a fresh state, nonce and PKCE verifier for every sign-in; the
//!   caller keeps them server-side under the state and hands back the one the callback names.
//! - [`OidcProvider::finish`] exchanges the code (with the verifier and the client secret) and
//!   accepts the ID token only when it is signed with one of the provider's keys by an
//!   asymmetric algorithm (never `none`), its issuer is the configured one, its audience is this
//!   client, its nonce is the one sent, and it has not expired. A key id the provider does not
//!   list is refused, after fetching the key set once more (providers rotate keys).
//! - The role comes from the provider's groups claim through the configured map; a person in no
//!   mapped group is refused, so nobody gets in by default.

use std::{collections::BTreeMap, future::Future, pin::Pin, time::Duration};

use base64::Engine;
use model::Role;
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, HttpRequest, HttpResponse, IssuerUrl, JsonWebKeySetUrl, Nonce,
    PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope, TokenResponse,
    core::{
        CoreClient, CoreIdTokenVerifier, CoreJsonWebKeySet, CoreProviderMetadata, CoreResponseType,
    },
};
use serde::{Deserialize, Serialize};

/// The most an answer of the provider may weigh (discovery, keys, tokens).
const MAX_RESPONSE_BYTES: usize = 1024 * 1024;
/// How long a call to the provider may take.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// The `[oidc]` table of the settings file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcConfig {
    /// The issuer; for Entra ID `https://login.microsoftonline.com/<tenant id>/v2.0`.
    pub issuer: String,
    /// This application's client (application) id at the provider.
    pub client_id: String,
    /// The environment variable that holds the client secret (the secret is never written in
    /// the settings file).
    #[serde(default = "default_secret_env")]
    pub client_secret_env: String,
    /// Where the provider sends people back: this server's `/login/oidc/callback`, exactly as
    /// registered at the provider.
    pub redirect_url: String,
    /// The words of the sign-in button.
    #[serde(default = "default_label")]
    pub label: String,
    /// The ID token claim listing the person's groups (Entra ID: `groups`, with the group
    /// claim turned on for security groups in the app registration).
    #[serde(default = "default_groups_claim")]
    pub groups_claim: String,
    /// Group (Entra ID: the group's object id) to role; a person in several groups gets the
    /// highest of their roles, a person in none is refused.
    #[serde(default)]
    pub roles: BTreeMap<String, Role>,
}

fn default_secret_env() -> String {
    "SWITCHBOARD_OIDC_CLIENT_SECRET".to_owned()
}

fn default_label() -> String {
    "Sign in with NHSmail".to_owned()
}

fn default_groups_claim() -> String {
    "groups".to_owned()
}

impl OidcConfig {
    /// The role of a person in `groups`: the highest mapped one.
    pub fn role_for(&self, groups: &[String]) -> Option<Role> {
        groups
            .iter()
            .filter_map(|group| self.roles.get(group))
            .copied()
            .max()
    }
}

/// Why a sign-in through the provider failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OidcError {
    /// The settings are wrong (an address that does not parse).
    #[error("the [oidc] settings are wrong: {0}")]
    Config(String),
    /// The provider could not be reached or answered something else than OpenID Connect.
    #[error("the identity provider could not be used: {0}")]
    Provider(String),
    /// The code could not be exchanged (used, expired, wrong verifier or secret).
    #[error("the identity provider did not accept the sign-in: {0}")]
    Exchange(String),
    /// The ID token failed a check (issuer, audience, nonce, expiry, signature, key).
    #[error("the identity provider's answer was refused: {0}")]
    Refused(String),
    /// The person is in no group that maps to a role.
    #[error("{username} is in no group that may use Switchboard; ask an administrator to add you")]
    NoRole {
        /// Who.
        username: String,
    },
}

/// What a sign-in in progress keeps server-side until the provider sends the person back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingLogin {
    /// The state sent (and expected back).
    pub state: String,
    /// The nonce the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier of the challenge sent.
    pub pkce_verifier: String,
}

/// Who the provider says signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The issuer.
    pub issuer: String,
    /// The provider's stable id of the person (`sub`).
    pub subject: String,
    /// A name to show and log in as: `preferred_username`, else the e-mail address, else `sub`.
    pub username: String,
    /// The person's name, when given.
    pub name: Option<String>,
    /// Their groups.
    pub groups: Vec<String>,
    /// The role their groups map to.
    pub role: Role,
}

/// An HTTP client for the provider: no redirects, a timeout, a size limit.
#[derive(Debug, Clone)]
struct Http(reqwest::Client);

type HttpFuture<'c> = Pin<Box<dyn Future<Output = Result<HttpResponse, HttpError>> + Send + 'c>>;

/// A failed call to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

impl<'c> openidconnect::AsyncHttpClient<'c> for Http {
    type Error = HttpError;
    type Future = HttpFuture<'c>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .0
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|e| HttpError(format!("{}: {e}", parts.uri)))?;
            let status = response.status();
            let headers = response.headers().clone();
            if response
                .content_length()
                .is_some_and(|n| n > MAX_RESPONSE_BYTES as u64)
            {
                return Err(HttpError(format!("{}: the answer is too large", parts.uri)));
            }
            let body = response
                .bytes()
                .await
                .map_err(|e| HttpError(format!("{}: {e}", parts.uri)))?;
            if body.len() > MAX_RESPONSE_BYTES {
                return Err(HttpError(format!("{}: the answer is too large", parts.uri)));
            }
            let mut builder = openidconnect::http::Response::builder().status(status);
            if let Some(map) = builder.headers_mut() {
                *map = headers;
            }
            builder
                .body(body.to_vec())
                .map_err(|e| HttpError(e.to_string()))
        })
    }
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// A provider found by discovery, ready for sign-ins.
#[derive(Debug, Clone)]
pub struct OidcProvider {
    config: OidcConfig,
    client: Client,
    client_secret: Option<String>,
    issuer: IssuerUrl,
    jwks_uri: JsonWebKeySetUrl,
    http: Http,
}

impl OidcProvider {
    /// Fetches the provider's discovery document and keys. `client_secret` is the value of the
    /// variable the settings name (`None` for a public client).
    pub async fn discover(
        config: &OidcConfig,
        client_secret: Option<String>,
    ) -> Result<OidcProvider, OidcError> {
        let issuer = IssuerUrl::new(config.issuer.clone())
            .map_err(|e| OidcError::Config(format!("issuer: {e}")))?;
        let redirect = RedirectUrl::new(config.redirect_url.clone())
            .map_err(|e| OidcError::Config(format!("redirect_url: {e}")))?;
        // One crypto provider for the whole process: ring (see STACK.md).
        let _already_installed = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(CALL_TIMEOUT)
            .build()
            .map(Http)
            .map_err(|e| OidcError::Provider(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer.clone(), &http)
            .await
            .map_err(|e| OidcError::Provider(error_chain(&e)))?;
        let jwks_uri = metadata.jwks_uri().clone();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(config.client_id.clone()),
            client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect);
        Ok(OidcProvider {
            config: config.clone(),
            client,
            client_secret,
            issuer,
            jwks_uri,
            http,
        })
    }

    /// The settings this provider was made from.
    pub fn config(&self) -> &OidcConfig {
        &self.config
    }

    /// Starts a sign-in: the address to send the person to, and what to keep until they come
    /// back.
    pub fn start(&self) -> (String, PendingLogin) {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = self
            .client
            .authorize_url(
                AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()))
            .set_pkce_challenge(challenge)
            .url();
        (
            url.to_string(),
            PendingLogin {
                state: state.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
            },
        )
    }

    /// Finishes a sign-in: exchanges `code`, checks the ID token against `pending`, maps the
    /// person's groups to a role.
    pub async fn finish(&self, pending: &PendingLogin, code: &str) -> Result<Identity, OidcError> {
        let response = self
            .client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| OidcError::Provider(e.to_string()))?
            .set_pkce_verifier(PkceCodeVerifier::new(pending.pkce_verifier.clone()))
            .request_async(&self.http)
            .await
            .map_err(|e| OidcError::Exchange(error_chain(&e)))?;
        let token = response
            .id_token()
            .ok_or_else(|| OidcError::Refused("the answer has no ID token".into()))?;
        let nonce = Nonce::new(pending.nonce.clone());
        let keys = self.client.id_token_verifier();
        let claims = match token.claims(&keys, &nonce) {
            Ok(claims) => claims.clone(),
            Err(openidconnect::ClaimsVerificationError::SignatureVerification(
                openidconnect::SignatureVerificationError::NoMatchingKey,
            )) => {
                // The provider may have rotated its keys since discovery: fetch them once more.
                let fresh = CoreJsonWebKeySet::fetch_async(&self.jwks_uri, &self.http)
                    .await
                    .map_err(|e| OidcError::Provider(error_chain(&e)))?;
                let verifier = self.verifier(fresh);
                token
                    .claims(&verifier, &nonce)
                    .map_err(|e| OidcError::Refused(refusal(&e)))?
                    .clone()
            }
            Err(e) => return Err(OidcError::Refused(refusal(&e))),
        };
        let extra = extra_claims(&token.to_string())?;
        let groups: Vec<String> = match extra.get(&self.config.groups_claim) {
            Some(serde_json::Value::Array(items)) => items
                .iter()
                .filter_map(|g| g.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        };
        let username = claims
            .preferred_username()
            .map(|u| u.as_str().to_owned())
            .or_else(|| claims.email().map(|e| e.as_str().to_owned()))
            .unwrap_or_else(|| claims.subject().as_str().to_owned());
        let role = self
            .config
            .role_for(&groups)
            .ok_or_else(|| OidcError::NoRole {
                username: username.clone(),
            })?;
        Ok(Identity {
            issuer: claims.issuer().as_str().to_owned(),
            subject: claims.subject().as_str().to_owned(),
            username,
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
            groups,
            role,
        })
    }

    fn verifier(&self, keys: CoreJsonWebKeySet) -> CoreIdTokenVerifier<'static> {
        let id = ClientId::new(self.config.client_id.clone());
        match &self.client_secret {
            Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                id,
                ClientSecret::new(secret.clone()),
                self.issuer.clone(),
                keys,
            ),
            None => CoreIdTokenVerifier::new_public_client(id, self.issuer.clone(), keys),
        }
    }
}

/// The claims of a JWT whose signature was already checked, as JSON (for claims the standard
/// set does not name, such as groups).
fn extra_claims(jwt: &str) -> Result<serde_json::Map<String, serde_json::Value>, OidcError> {
    let payload = jwt
        .split('.')
        .nth(1)
        .ok_or_else(|| OidcError::Refused("the ID token is not a JWT".into()))?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .map_err(|e| OidcError::Refused(format!("the ID token's claims: {e}")))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| OidcError::Refused(format!("the ID token's claims: {e}")))
}

/// A refusal in words, naming the check that failed.
fn refusal(error: &openidconnect::ClaimsVerificationError) -> String {
    use openidconnect::{ClaimsVerificationError as C, SignatureVerificationError as S};
    match error {
        C::Expired(_) => "the ID token has expired".into(),
        C::InvalidIssuer(_) => "the ID token comes from another issuer".into(),
        C::InvalidAudience(_) => "the ID token is for another application".into(),
        C::InvalidNonce(_) => "the ID token's nonce is not the one sent".into(),
        C::SignatureVerification(S::NoSignature) => "the ID token is not signed".into(),
        C::SignatureVerification(S::NoMatchingKey) => {
            "the ID token is signed with a key the provider does not list".into()
        }
        C::SignatureVerification(S::DisallowedAlg(alg))
        | C::SignatureVerification(S::UnsupportedAlg(alg)) => {
            format!("the ID token's signing algorithm {alg} is not accepted")
        }
        other => error_chain(other),
    }
}

/// An error with its causes, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
