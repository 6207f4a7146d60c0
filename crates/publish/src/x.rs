//! X: `POST /2/tweets` with a user access token (OAuth 2.0 user context) and
//! `reply.in_reply_to_tweet_id`.
//!
//! X has no idempotency key. After an ambiguous failure (5xx, a lost connection or timeout, when
//! the post may have been created), the client reads the account's latest posts
//! (`GET /2/users/me`, then `GET /2/users/:id/tweets`) before retrying and returns the post with
//! the same text and reply target if it is there. A 403 "duplicate content" answer is handled the
//! same way. What was done is in [`Published::recovered`] and the log.

use serde::Deserialize;
use serde_json::json;
use tokio::sync::Mutex;
use tracing::warn;

use crate::{
    Outgoing, PublishError, Published,
    retry::{RetryPolicy, retryable},
};

/// An X account to post as.
#[derive(Debug)]
pub struct X {
    base: String,
    token: String,
    http: reqwest::Client,
    policy: RetryPolicy,
    user_id: Mutex<Option<String>>,
}

#[derive(Debug, Deserialize)]
struct Data<T> {
    data: T,
}

#[derive(Debug, Deserialize)]
struct Tweet {
    id: String,
    text: String,
    #[serde(default)]
    referenced_tweets: Vec<Referenced>,
}

#[derive(Debug, Deserialize)]
struct Referenced {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Debug, Deserialize)]
struct Me {
    id: String,
}

impl X {
    /// A client for the API at `base` (`https://api.x.com`) with a user access token.
    pub fn new(base: &str, token: &str, policy: RetryPolicy) -> Result<X, PublishError> {
        Ok(X {
            base: base.trim_end_matches('/').to_owned(),
            token: token.to_owned(),
            http: crate::http_client(policy.timeout)?,
            policy,
            user_id: Mutex::new(None),
        })
    }

    /// A client from `SWITCHBOARD_X_USER_TOKEN` (and `SWITCHBOARD_X_API`, default
    /// `https://api.x.com`).
    pub fn from_env() -> Result<X, PublishError> {
        let token = std::env::var("SWITCHBOARD_X_USER_TOKEN").map_err(|_| {
            PublishError::Config("set SWITCHBOARD_X_USER_TOKEN to post to X".into())
        })?;
        let base =
            std::env::var("SWITCHBOARD_X_API").unwrap_or_else(|_| "https://api.x.com".into());
        X::new(&base, &token, RetryPolicy::default())
    }

    async fn user_id(&self) -> Option<String> {
        let mut guard = self.user_id.lock().await;
        if let Some(id) = guard.as_ref() {
            return Some(id.clone());
        }
        let r = self
            .http
            .get(format!("{}/2/users/me", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        let me = r.json::<Data<Me>>().await.ok()?.data;
        *guard = Some(me.id.clone());
        Some(me.id)
    }

    /// The account's recent post with this text and reply target, if any.
    async fn find_existing(&self, text: &str, in_reply_to: Option<&str>) -> Option<String> {
        let id = self.user_id().await?;
        let url = format!(
            "{}/2/users/{id}/tweets?max_results=20&tweet.fields=referenced_tweets",
            self.base
        );
        let r = self
            .http
            .get(url)
            .bearer_auth(&self.token)
            .send()
            .await
            .ok()?;
        let tweets = r.json::<Data<Vec<Tweet>>>().await.ok()?.data;
        tweets
            .into_iter()
            .find(|t| {
                let replied = t
                    .referenced_tweets
                    .iter()
                    .find(|r| r.kind == "replied_to")
                    .map(|r| r.id.as_str());
                same_text(&t.text, text) && replied == in_reply_to
            })
            .map(|t| t.id)
    }

    /// Posts, replying to the post `in_reply_to` when given. The bearer token never appears in
    /// an error, even when the server echoes it.
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
        let mut body = json!({ "text": post.text });
        if let Some(id) = in_reply_to {
            body["reply"] = json!({ "in_reply_to_tweet_id": id });
        }
        let url = format!("{}/2/tweets", self.base);
        let mut ambiguous = post.resumed;
        let mut last = String::new();
        for attempt in 1..=self.policy.max_attempts {
            if ambiguous && let Some(id) = self.find_existing(&post.text, in_reply_to).await {
                warn!(
                    network = "x",
                    attempt, "The post was created by an earlier attempt; not posting again."
                );
                return Ok(Published {
                    url: Some(format!("https://x.com/i/status/{id}")),
                    id,
                    cid: None,
                    attempts: attempt,
                    recovered: true,
                });
            }
            let sent = self
                .http
                .post(&url)
                .bearer_auth(&self.token)
                .json(&body)
                .send()
                .await;
            let r = match sent {
                Ok(r) => r,
                Err(e) => {
                    ambiguous = true;
                    last = format!("request failed: {e}");
                    tokio::time::sleep(self.policy.delay(attempt, None)).await;
                    continue;
                }
            };
            let status = r.status().as_u16();
            let headers = r.headers().clone();
            let text = r.text().await.unwrap_or_default();
            if (200..300).contains(&status) {
                let t: Data<Tweet> =
                    serde_json::from_str(&text).map_err(|e| PublishError::Rejected {
                        network: "x",
                        status,
                        message: format!("unexpected response ({e})"),
                    })?;
                let id = t.data.id;
                return Ok(Published {
                    url: Some(format!("https://x.com/i/status/{id}")),
                    id,
                    cid: None,
                    attempts: attempt,
                    recovered: false,
                });
            }
            let message: String = text.chars().take(300).collect();
            if status == 401 {
                return Err(PublishError::Unauthorized {
                    network: "x",
                    message,
                });
            }
            if status == 403 && message.to_lowercase().contains("duplicate") {
                if let Some(id) = self.find_existing(&post.text, in_reply_to).await {
                    return Ok(Published {
                        url: Some(format!("https://x.com/i/status/{id}")),
                        id,
                        cid: None,
                        attempts: attempt,
                        recovered: true,
                    });
                }
                return Err(PublishError::Rejected {
                    network: "x",
                    status,
                    message,
                });
            }
            if !retryable(status) {
                return Err(PublishError::Rejected {
                    network: "x",
                    status,
                    message,
                });
            }
            // A 429 is refused before anything is written; a 5xx may have written the post.
            ambiguous |= status >= 500;
            last = format!("HTTP {status}");
            if attempt < self.policy.max_attempts {
                tokio::time::sleep(self.policy.delay(attempt, Some(&headers))).await;
            }
        }
        Err(PublishError::GaveUp {
            network: "x",
            attempts: self.policy.max_attempts,
            last,
        })
    }
}

/// Whether X's text of a post is ours (X rewrites links to t.co and escapes `&`, `<`, `>`).
fn same_text(theirs: &str, ours: &str) -> bool {
    let norm = |s: &str| {
        s.replace("&amp;", "&")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .split_whitespace()
            .filter(|w| !w.starts_with("http://") && !w.starts_with("https://"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    norm(theirs) == norm(ours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_comparison_ignores_link_rewrites() {
        assert!(same_text(
            "Hi &amp; bye https://t.co/abc",
            "Hi & bye https://nhs.uk/long"
        ));
        assert!(!same_text("Hi", "Hello"));
    }
}
