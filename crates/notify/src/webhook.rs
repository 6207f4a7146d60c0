//! Webhooks: generic JSON signed with HMAC-SHA256, Slack and Microsoft Teams incoming webhooks.
//!
//! The generic body is `{"event": "alert.opened", "alert": {...}}` with the full [`alert::Alert`];
//! the receiver checks `X-Switchboard-Signature: sha256=<hex of HMAC-SHA256(secret, body)>`
//! (compare in constant time). Slack gets `text` plus a `mrkdwn` section; Teams gets a message
//! with one Adaptive Card, the format of Teams workflows and connectors.

use std::time::Duration;

use alert::{AlertUpdate, Severity};
use hmac::{Hmac, Mac};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::{NotifyError, SIGNATURE_HEADER, default_min_severity, headline};

/// The body format of a webhook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// Switchboard's JSON, signed.
    #[default]
    Json,
    /// A Slack incoming webhook.
    Slack,
    /// A Microsoft Teams incoming webhook (Adaptive Card).
    Teams,
}

/// A webhook as written in the settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WebhookConfig {
    /// The receiver's address.
    pub url: String,
    /// The body format.
    pub format: WebhookFormat,
    /// The environment variable holding the signing secret (generic JSON only; empty: unsigned).
    pub secret_env: String,
    /// The lowest severity sent.
    pub min_severity: Severity,
    /// Attempts after the first one fails.
    pub retries: u32,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            url: String::new(),
            format: WebhookFormat::Json,
            secret_env: "SWITCHBOARD_WEBHOOK_SECRET".to_owned(),
            min_severity: default_min_severity(),
            retries: 4,
        }
    }
}

impl WebhookConfig {
    /// Reads the secret through `env`.
    pub fn resolve(
        &self,
        env: &impl Fn(&str) -> Option<String>,
    ) -> Result<WebhookTarget, NotifyError> {
        if self.url.is_empty() {
            return Err(NotifyError::Config(
                "a webhook has no url; add `url = \"https://…\"`".to_owned(),
            ));
        }
        let secret = if self.secret_env.is_empty() || self.format != WebhookFormat::Json {
            None
        } else {
            Some(env(&self.secret_env).ok_or_else(|| {
                NotifyError::Config(format!(
                    "the environment variable {} (the webhook's signing secret) is not set",
                    self.secret_env
                ))
            })?)
        };
        Ok(WebhookTarget {
            url: self.url.clone(),
            format: self.format,
            secret,
            min_severity: self.min_severity,
            retries: self.retries,
            first_wait: Duration::from_millis(250),
        })
    }
}

/// A webhook ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookTarget {
    /// The receiver's address.
    pub url: String,
    /// The body format.
    pub format: WebhookFormat,
    /// The signing secret (generic JSON).
    pub secret: Option<String>,
    /// The lowest severity sent.
    pub min_severity: Severity,
    /// Attempts after the first one fails.
    pub retries: u32,
    /// The wait before the first retry; it doubles each time, with jitter.
    pub first_wait: Duration,
}

/// The signature header value of `body`: `sha256=<hex>`.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// The body sent for `update` in `format`.
pub fn body(format: WebhookFormat, update: &AlertUpdate) -> Value {
    let alert = &update.alert;
    let line = headline(update);
    let examples: Vec<String> = alert
        .posts
        .iter()
        .take(3)
        .map(|post| {
            format!(
                "@{}: {}",
                post.author,
                post.text.chars().take(140).collect::<String>()
            )
        })
        .collect();
    match format {
        WebhookFormat::Json => json!({
            "event": format!("alert.{}", update.kind.as_str()),
            "alert": alert,
        }),
        WebhookFormat::Slack => json!({
            "text": line,
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": format!("*{line}*")}},
                {"type": "section", "text": {"type": "mrkdwn", "text": examples.join("\n")}},
            ],
        }),
        WebhookFormat::Teams => json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [
                        {"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true,
                         "text": line,
                         "color": if alert.severity == Severity::Critical { "Attention" } else { "Warning" }},
                        {"type": "FactSet", "facts": [
                            {"title": "Scope", "value": alert.scope},
                            {"title": "Posts", "value": alert.count.to_string()},
                            {"title": "First seen", "value": alert.first_seen.to_string()},
                        ]},
                        {"type": "TextBlock", "wrap": true, "text": examples.join("\n\n")},
                    ],
                },
            }],
        }),
    }
}

impl WebhookTarget {
    /// Sends `update`, retrying with backoff.
    pub async fn send(
        &self,
        client: &reqwest::Client,
        update: &AlertUpdate,
    ) -> Result<(), NotifyError> {
        let payload = body(self.format, update).to_string();
        let signature = self
            .secret
            .as_ref()
            .map(|secret| sign(secret.as_bytes(), payload.as_bytes()));
        let mut wait = self.first_wait;
        let mut last = String::new();
        for attempt in 0..=self.retries {
            if attempt > 0 {
                let jittered = wait / 2 + (wait / 2).mul_f64(fastrand::f64());
                tokio::time::sleep(jittered).await;
                wait = wait.saturating_mul(2);
            }
            let mut request = client
                .post(&self.url)
                .header("content-type", "application/json")
                .body(payload.clone());
            if let Some(signature) = &signature {
                request = request.header(SIGNATURE_HEADER, signature);
            }
            match request.send().await {
                Ok(response) if response.status().is_success() => {
                    tracing::info!(url = %self.url, alert = update.alert.id, "Alert sent.");
                    return Ok(());
                }
                Ok(response) => {
                    let status = response.status();
                    last = format!("the receiver answered {status}");
                    if status.is_client_error() && status.as_u16() != 429 {
                        break;
                    }
                }
                Err(error) => last = error.to_string(),
            }
        }
        Err(NotifyError::Delivery {
            target: self.url.clone(),
            message: last,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::{Arc, Mutex};

    use alert::{Alert, AlertKind, AlertState, UpdateKind};
    use tokio::{
        io::{AsyncReadExt, AsyncWriteExt},
        net::TcpListener,
    };

    use super::*;
    use crate::Notifier;

    pub(crate) fn update() -> AlertUpdate {
        let at: jiff::Timestamp = "2026-07-04T10:00:00Z".parse().unwrap();
        AlertUpdate {
            kind: UpdateKind::Opened,
            alert: Alert {
                id: 7,
                scope: "all posts".into(),
                kind: AlertKind::WatchPhrase,
                detail: "data breach".into(),
                severity: Severity::Critical,
                title: "Critical: watch-list phrase \"data breach\".".into(),
                state: AlertState::Open,
                first_seen: at,
                last_seen: at,
                count: 1,
                peak: 1.0,
                expected: 0.0,
                posts: Vec::new(),
                resolved_at: None,
                revision: 1,
            },
        }
    }

    /// What the receiver saw of each request: the signature header and the body.
    type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

    /// A receiver that answers 503 to the first `failures` requests, then 200; it records
    /// (signature header, body) of each request.
    async fn receiver(failures: usize) -> (String, Seen) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen: Seen = Arc::default();
        let log = seen.clone();
        tokio::spawn(async move {
            let mut served = 0;
            while let Ok((mut stream, _)) = listener.accept().await {
                let mut data = Vec::new();
                let mut buffer = [0u8; 4096];
                loop {
                    let n = stream.read(&mut buffer).await.unwrap();
                    data.extend_from_slice(&buffer[..n]);
                    let text = String::from_utf8_lossy(&data).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length: usize = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse().unwrap())
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            let signature = head.lines().find_map(|l| {
                                l.to_ascii_lowercase()
                                    .starts_with("x-switchboard-signature:")
                                    .then(|| l.split_once(':').unwrap().1.trim().to_owned())
                            });
                            log.lock().unwrap().push((signature, body.to_owned()));
                            break;
                        }
                    }
                    if n == 0 {
                        break;
                    }
                }
                let status = if served < failures {
                    "503 Busy"
                } else {
                    "200 OK"
                };
                served += 1;
                let response =
                    format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
                let _ = stream.write_all(response.as_bytes()).await;
            }
        });
        (format!("http://{addr}/hook"), seen)
    }

    #[tokio::test]
    async fn a_signed_webhook_is_retried_until_it_is_received() {
        let (url, seen) = receiver(2).await;
        let config = WebhookConfig {
            url,
            ..WebhookConfig::default()
        };
        let mut target = config
            .resolve(&|name| (name == "SWITCHBOARD_WEBHOOK_SECRET").then(|| "s3cret".to_owned()))
            .unwrap();
        target.first_wait = Duration::from_millis(5);
        let notifier = Notifier::new(vec![target], None).unwrap();
        let failures = notifier.notify(&update()).await;
        assert!(failures.is_empty(), "{failures:?}");
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 3);
        let (signature, body) = seen.last().unwrap();
        assert_eq!(
            signature.as_deref(),
            Some(sign(b"s3cret", body.as_bytes()).as_str())
        );
        let value: Value = serde_json::from_str(body).unwrap();
        assert_eq!(value["event"], "alert.opened");
        assert_eq!(value["alert"]["detail"], "data breach");
    }

    #[tokio::test]
    async fn slack_and_teams_get_their_own_formats() {
        let (url, seen) = receiver(0).await;
        for format in [WebhookFormat::Slack, WebhookFormat::Teams] {
            let target = WebhookConfig {
                url: url.clone(),
                format,
                ..WebhookConfig::default()
            }
            .resolve(&|_| None)
            .unwrap();
            let notifier = Notifier::new(vec![target], None).unwrap();
            assert!(notifier.notify(&update()).await.is_empty());
        }
        let seen = seen.lock().unwrap().clone();
        let slack: Value = serde_json::from_str(&seen[0].1).unwrap();
        assert!(slack["text"].as_str().unwrap().contains("data breach"));
        assert_eq!(seen[0].0, None);
        let teams: Value = serde_json::from_str(&seen[1].1).unwrap();
        assert_eq!(
            teams["attachments"][0]["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
