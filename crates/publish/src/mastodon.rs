//! Mastodon: `POST /api/v1/statuses` with `status`, `in_reply_to_id` and an `Idempotency-Key`
//! header. The key is the draft id and is the same on every attempt, so a retry after a lost
//! response gets the first status back instead of a second post.

use serde::Deserialize;
use tracing::warn;

use crate::{
    Outgoing, PublishError, Published,
    retry::{RetryPolicy, retryable},
};

/// A Mastodon account to post as.
#[derive(Debug, Clone)]
pub struct Mastodon {
    base: String,
    token: String,
    http: reqwest::Client,
    policy: RetryPolicy,
}

#[derive(Debug, Deserialize)]
struct Status {
    id: String,
    url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct ApiError {
    error: String,
}

impl Mastodon {
    /// A client for the server at `base` (`https://nhs.social`) with an access token.
    pub fn new(base: &str, token: &str, policy: RetryPolicy) -> Result<Mastodon, PublishError> {
        Ok(Mastodon {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: crate::http_client(policy.timeout)?,
            policy,
        })
    }

    /// A client from `SWITCHBOARD_MASTODON_URL` and `SWITCHBOARD_MASTODON_TOKEN`.
    pub fn from_env() -> Result<Mastodon, PublishError> {
        let var = |k: &str| {
            std::env::var(k)
                .map_err(|_| PublishError::Config(format!("set {k} to post to Mastodon")))
        };
        Mastodon::new(
            &var("SWITCHBOARD_MASTODON_URL")?,
            &var("SWITCHBOARD_MASTODON_TOKEN")?,
            RetryPolicy::default(),
        )
    }

    /// Posts a status, replying to the status `in_reply_to` when given. The access token never
    /// appears in an error, even when the server echoes it.
    pub async fn post(
        &self,
        post: &Outgoing,
        in_reply_to: Option<&str>,
    ) -> Result<Published, PublishError> {
        self.post_unredacted(post, in_reply_to)
            .await
            .map_err(|error| error.redacted(&[&self.token]))
    }

    async fn post_unredacted(
        &self,
        post: &Outgoing,
        in_reply_to: Option<&str>,
    ) -> Result<Published, PublishError> {
        let url = format!("{}/api/v1/statuses", self.base);
        let mut body = serde_json::json!({ "status": post.text });
        if let Some(id) = in_reply_to {
            body["in_reply_to_id"] = serde_json::Value::String(id.to_owned());
        }
        let mut last = String::new();
        for attempt in 1..=self.policy.max_attempts {
            let sent = self
                .http
                .post(&url)
                .bearer_auth(&self.token)
                .header("Idempotency-Key", &post.key)
                .json(&body)
                .send()
                .await;
            let response = match sent {
                Ok(r) => r,
                Err(e) => {
                    last = format!("request failed: {e}");
                    warn!(network = "mastodon", attempt, error = %e, "Request failed; retrying with the same key.");
                    tokio::time::sleep(self.policy.delay(attempt, None)).await;
                    continue;
                }
            };
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let text = response.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                let s: Status =
                    serde_json::from_str(&text).map_err(|e| PublishError::Rejected {
                        network: "mastodon",
                        status,
                        message: format!("unexpected response ({e})"),
                    })?;
                return Ok(Published {
                    id: s.id,
                    url: s.url,
                    cid: None,
                    attempts: attempt,
                    recovered: false,
                });
            }
            let message = serde_json::from_str::<ApiError>(&text)
                .map(|e| e.error)
                .unwrap_or_else(|_| text.chars().take(200).collect());
            if status == 401 || status == 403 {
                return Err(PublishError::Unauthorized {
                    network: "mastodon",
                    message,
                });
            }
            if !retryable(status) {
                return Err(PublishError::Rejected {
                    network: "mastodon",
                    status,
                    message,
                });
            }
            last = format!("HTTP {status}: {message}");
            warn!(
                network = "mastodon",
                attempt, status, "Server asked to retry."
            );
            if attempt < self.policy.max_attempts {
                tokio::time::sleep(self.policy.delay(attempt, Some(&headers))).await;
            }
        }
        Err(PublishError::GaveUp {
            network: "mastodon",
            attempts: self.policy.max_attempts,
            last,
        })
    }
}
