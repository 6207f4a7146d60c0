//! Publishing to the networks' real APIs: Mastodon, Bluesky and X.
//!
//! Each client sends one [`Outgoing`] post (a reply or a new post) and returns what the network
//! made of it ([`Published`]). Credentials come from the environment (`from_env`), never from
//! files or logs. Every client retries with exponential backoff on 429 (honouring `Retry-After`
//! or `x-rate-limit-reset`) and on 5xx and connection failures, and never posts twice:
//!
//! - **Mastodon** sends the same `Idempotency-Key` (the draft id) on every attempt; the server
//!   returns the first status for a repeated key.
//! - **Bluesky** writes the record under a deterministic record key derived from the draft, so
//!   a retry after a lost response hits the existing record; before each retry the client asks
//!   for that record (`com.atproto.repo.getRecord`) and returns it if it exists.
//! - **X** has no idempotency key: after an ambiguous failure (5xx, timeout, lost connection)
//!   the client reads the account's latest posts (`GET /2/users/:id/tweets`) and, when one has
//!   the same text and reply target, returns it instead of posting again. X also refuses
//!   duplicate text (403), which is treated the same way.
//!
//! TLS is rustls with the ring provider only ([`install_crypto_provider`]).
//!
//! What a network answers is never trusted with secrets: every error a client returns has its
//! credentials, and anything shaped like a token, replaced by `[redacted]` ([`redact_secrets`]),
//! since error messages are stored on drafts and shown on pages.

pub mod bluesky;
pub mod mastodon;
mod redact;
mod retry;
pub mod x;

use std::{sync::Once, time::Duration};

use jiff::Timestamp;

pub use bluesky::{Bluesky, StrongRef};
pub use mastodon::Mastodon;
pub use redact::redact_secrets;
pub use retry::RetryPolicy;
pub use x::X;

/// A client for one network, chosen at run time.
#[derive(Debug)]
#[non_exhaustive]
pub enum Publisher {
    /// Mastodon.
    Mastodon(Mastodon),
    /// Bluesky.
    Bluesky(Bluesky),
    /// X.
    X(X),
}

impl Publisher {
    /// The client for a network, with credentials from the environment.
    pub fn from_env(network: model::Network) -> Result<Publisher, PublishError> {
        match network {
            model::Network::Mastodon => Mastodon::from_env().map(Publisher::Mastodon),
            model::Network::Bluesky => Bluesky::from_env().map(Publisher::Bluesky),
            model::Network::X => X::from_env().map(Publisher::X),
            other => Err(PublishError::Config(format!(
                "Switchboard cannot publish to {}: use Mastodon, Bluesky or X",
                other.label()
            ))),
        }
    }

    /// Sends a post, as a reply to the network's post `in_reply_to` when given (for Bluesky,
    /// its at-uri: the thread's root and the parent's content id are looked up).
    pub async fn send(
        &self,
        post: &Outgoing,
        in_reply_to: Option<&str>,
    ) -> Result<Published, PublishError> {
        match self {
            Publisher::Mastodon(m) => m.post(post, in_reply_to).await,
            Publisher::X(x) => x.post(post, in_reply_to).await,
            Publisher::Bluesky(b) => match in_reply_to {
                Some(uri) => {
                    let (root, parent) = b.reply_refs(uri).await?;
                    b.post(post, Some((&root, &parent))).await
                }
                None => b.post(post, None).await,
            },
        }
    }
}

/// Installs rustls' ring crypto provider for the process, once. Safe to call many times and
/// from many threads; a provider installed earlier by someone else is kept.
pub fn install_crypto_provider() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

/// The HTTP client the publishers share settings with.
pub(crate) fn http_client(timeout: Duration) -> Result<reqwest::Client, PublishError> {
    install_crypto_provider();
    reqwest::Client::builder()
        .timeout(timeout)
        .user_agent(concat!("switchboard/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| PublishError::Config(format!("cannot build the HTTP client: {e}")))
}

/// A post to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// A stable key for this post (the draft id): the same key is never published twice.
    pub key: String,
    /// The text.
    pub text: String,
    /// When the draft was written (Bluesky's `createdAt` and record key derive from it).
    pub created_at: Timestamp,
    /// Whether an earlier run may already have sent it (a restart after a crash): the client
    /// looks for it on the network before posting.
    pub resumed: bool,
}

/// What the network made of a sent post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    /// The network's id of the new post (Mastodon status id, Bluesky at-uri, X tweet id).
    pub id: String,
    /// A link to it, when the network gives one.
    pub url: Option<String>,
    /// Bluesky's content id of the record (for replies to it).
    pub cid: Option<String>,
    /// How many requests it took.
    pub attempts: u32,
    /// Whether an earlier attempt had already created it (found instead of posted again).
    pub recovered: bool,
}

impl PublishError {
    /// The same error with `known` secrets, and anything shaped like a token, redacted from
    /// what the network said.
    pub fn redacted(self, known: &[&str]) -> PublishError {
        let clean = |text: String| redact_secrets(&text, known);
        match self {
            PublishError::Config(message) => PublishError::Config(clean(message)),
            PublishError::Unauthorized { network, message } => PublishError::Unauthorized {
                network,
                message: clean(message),
            },
            PublishError::Rejected {
                network,
                status,
                message,
            } => PublishError::Rejected {
                network,
                status,
                message: clean(message),
            },
            PublishError::GaveUp {
                network,
                attempts,
                last,
            } => PublishError::GaveUp {
                network,
                attempts,
                last: clean(last),
            },
        }
    }
}

/// Why a post could not be sent.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PublishError {
    /// A setting or credential is missing or wrong.
    #[error("publishing is not set up: {0}")]
    Config(String),
    /// The network refused the credentials.
    #[error("{network} refused the credentials ({message}); check the token in the environment")]
    Unauthorized {
        /// The network.
        network: &'static str,
        /// What it said.
        message: String,
    },
    /// The network refused the post itself (validation).
    #[error(
        "{network} refused the post (HTTP {status}): {message}; change the text or reply target"
    )]
    Rejected {
        /// The network.
        network: &'static str,
        /// The HTTP status.
        status: u16,
        /// What it said.
        message: String,
    },
    /// Still failing after every retry.
    #[error("{network} kept failing after {attempts} attempts (last: {last}); try again later")]
    GaveUp {
        /// The network.
        network: &'static str,
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
}
