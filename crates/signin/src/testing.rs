//! A small OpenID provider for tests (feature `test-provider`): discovery, JWKS, the
//! authorisation endpoint (with PKCE) and the token endpoint issuing RS256 ID tokens, on
//! 127.0.0.1, as Entra ID speaks them. It can also be told to send what a client must refuse:
//! a wrong issuer, audience or nonce, an expired token, `alg: none`, an unknown key id.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use axum::{
    Form, Json, Router,
    extract::{Query, State},
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use rsa::{
    RsaPrivateKey,
    pkcs1v15::SigningKey,
    signature::{SignatureEncoding, Signer},
    traits::PublicKeyParts,
};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The key id the provider lists.
pub const KEY_ID: &str = "test-key-1";

/// What the next ID token gets wrong (the provider goes back to behaving after one token).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Misbehaviour {
    /// Nothing.
    #[default]
    None,
    /// Another issuer.
    WrongIssuer,
    /// Another audience.
    WrongAudience,
    /// Another nonce than the one sent.
    WrongNonce,
    /// Expired ten minutes ago.
    Expired,
    /// `alg: none`, no signature.
    AlgNone,
    /// Signed under a key id the provider does not list.
    UnknownKeyId,
}

/// The person who signs in at the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestUser {
    /// `sub`.
    pub subject: String,
    /// `preferred_username`.
    pub username: String,
    /// `name`.
    pub name: String,
    /// `groups`.
    pub groups: Vec<String>,
}

struct Grant {
    redirect_uri: String,
    challenge: String,
    nonce: String,
}

struct Inner {
    client_id: String,
    client_secret: String,
    user: TestUser,
    misbehaviour: Misbehaviour,
    grants: HashMap<String, Grant>,
    next_code: u64,
    tokens_issued: u64,
}

/// The running provider.
#[derive(Clone)]
pub struct TestProvider {
    /// Its issuer (`http://127.0.0.1:PORT`).
    pub issuer: String,
    inner: Arc<Mutex<Inner>>,
}

fn key() -> &'static RsaPrivateKey {
    static KEY: OnceLock<RsaPrivateKey> = OnceLock::new();
    KEY.get_or_init(|| {
        let mut rng = rsa::rand_core::OsRng;
        RsaPrivateKey::new(&mut rng, 2048).unwrap_or_else(|e| panic!("test RSA key: {e}"))
    })
}

impl TestProvider {
    /// Starts a provider on 127.0.0.1 for one client.
    pub async fn start(client_id: &str, client_secret: &str, user: TestUser) -> TestProvider {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("bind the test provider: {e}"));
        let port = listener
            .local_addr()
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("{e}"));
        let issuer = format!("http://127.0.0.1:{port}");
        let provider = TestProvider {
            issuer,
            inner: Arc::new(Mutex::new(Inner {
                client_id: client_id.to_owned(),
                client_secret: client_secret.to_owned(),
                user,
                misbehaviour: Misbehaviour::None,
                grants: HashMap::new(),
                next_code: 0,
                tokens_issued: 0,
            })),
        };
        let _ = key();
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(jwks))
            .route("/authorize", get(authorize))
            .route("/token", post(token))
            .with_state(provider.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        provider
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Who signs in next.
    pub fn set_user(&self, user: TestUser) {
        self.lock().user = user;
    }

    /// What the next ID token gets wrong.
    pub fn misbehave(&self, misbehaviour: Misbehaviour) {
        self.lock().misbehaviour = misbehaviour;
    }

    /// How many ID tokens were issued.
    pub fn tokens_issued(&self) -> u64 {
        self.lock().tokens_issued
    }
}

async fn discovery(State(p): State<TestProvider>) -> Json<Value> {
    let i = &p.issuer;
    Json(json!({
        "issuer": i,
        "authorization_endpoint": format!("{i}/authorize"),
        "token_endpoint": format!("{i}/token"),
        "jwks_uri": format!("{i}/jwks"),
        "response_types_supported": ["code"],
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "profile", "email"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "code_challenge_methods_supported": ["S256"],
    }))
}

async fn jwks() -> Json<Value> {
    let public = key().to_public_key();
    Json(json!({"keys": [{
        "kty": "RSA", "use": "sig", "alg": "RS256", "kid": KEY_ID,
        "n": URL_SAFE_NO_PAD.encode(public.n().to_bytes_be()),
        "e": URL_SAFE_NO_PAD.encode(public.e().to_bytes_be()),
    }]}))
}

fn refuse(status: StatusCode, error: &str) -> Response {
    (status, Json(json!({"error": error}))).into_response()
}

async fn authorize(
    State(p): State<TestProvider>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let field = |name: &str| q.get(name).cloned().unwrap_or_default();
    let mut inner = p.lock();
    let scopes = field("scope");
    if field("response_type") != "code"
        || field("client_id") != inner.client_id
        || field("code_challenge_method") != "S256"
        || field("code_challenge").is_empty()
        || field("state").is_empty()
        || field("nonce").is_empty()
        || !scopes.split(' ').any(|s| s == "openid")
    {
        return refuse(StatusCode::BAD_REQUEST, "invalid_request");
    }
    inner.next_code += 1;
    let code = format!("code-{}", inner.next_code);
    let redirect_uri = field("redirect_uri");
    inner.grants.insert(
        code.clone(),
        Grant {
            redirect_uri: redirect_uri.clone(),
            challenge: field("code_challenge"),
            nonce: field("nonce"),
        },
    );
    let state = field("state");
    Redirect::to(&format!(
        "{redirect_uri}?code={code}&state={}",
        form_encode(&state)
    ))
    .into_response()
}

fn form_encode(text: &str) -> String {
    text.bytes().fold(String::new(), |mut out, b| {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        out
    })
}

fn form_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok());
                if let Some(v) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    out.push(v);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[derive(Deserialize)]
struct TokenForm {
    grant_type: String,
    code: String,
    redirect_uri: String,
    code_verifier: String,
}

async fn token(
    State(p): State<TestProvider>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let mut inner = p.lock();
    // RFC 6749 §2.3.1: both halves form-urlencoded, then joined by a colon, then base64.
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|v| base64::engine::general_purpose::STANDARD.decode(v).ok())
        .and_then(|v| String::from_utf8(v).ok())
        .and_then(|v| {
            v.split_once(':')
                .map(|(id, secret)| (form_decode(id), form_decode(secret)))
        });
    if presented != Some((inner.client_id.clone(), inner.client_secret.clone())) {
        return refuse(StatusCode::UNAUTHORIZED, "invalid_client");
    }
    let Some(grant) = inner.grants.remove(&form.code) else {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    };
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(form.code_verifier.as_bytes()));
    if form.grant_type != "authorization_code"
        || form.redirect_uri != grant.redirect_uri
        || challenge != grant.challenge
    {
        return refuse(StatusCode::BAD_REQUEST, "invalid_grant");
    }
    let now = jiff::Timestamp::now().as_second();
    let misbehaviour = std::mem::take(&mut inner.misbehaviour);
    let user = inner.user.clone();
    let mut claims = json!({
        "iss": p.issuer,
        "sub": user.subject,
        "aud": inner.client_id,
        "iat": now,
        "exp": now + 3600,
        "nonce": grant.nonce,
        "preferred_username": user.username,
        "name": user.name,
        "groups": user.groups,
    });
    let mut kid = KEY_ID;
    let mut alg = "RS256";
    match misbehaviour {
        Misbehaviour::None => {}
        Misbehaviour::WrongIssuer => claims["iss"] = json!("https://login.evil.example/v2.0"),
        Misbehaviour::WrongAudience => claims["aud"] = json!("another-application"),
        Misbehaviour::WrongNonce => claims["nonce"] = json!("not-the-nonce-sent"),
        Misbehaviour::Expired => {
            claims["iat"] = json!(now - 7200);
            claims["exp"] = json!(now - 600);
        }
        Misbehaviour::AlgNone => alg = "none",
        Misbehaviour::UnknownKeyId => kid = "rotated-away",
    }
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "kid": kid, "typ": "JWT"}).to_string());
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signing_input = format!("{header}.{payload}");
    let signature = if alg == "none" {
        String::new()
    } else {
        let signer = SigningKey::<Sha256>::new(key().clone());
        URL_SAFE_NO_PAD.encode(signer.sign(signing_input.as_bytes()).to_bytes())
    };
    inner.tokens_issued += 1;
    Json(json!({
        "access_token": format!("access-{}", inner.tokens_issued),
        "token_type": "Bearer",
        "expires_in": 3600,
        "id_token": format!("{signing_input}.{signature}"),
    }))
    .into_response()
}
