//! X: the filtered stream (rules kept in step with the monitors) with recent-search catch-up,
//! or recent-search polling alone.
//!
//! On start the connector reads the stream's rules, deletes those not configured and adds the
//! missing ones (`POST /2/tweets/search/stream/rules`). The stream is chunked HTTP, one JSON
//! object per line, with blank keep-alive lines every few seconds; each line goes through
//! [`crate::x::parse_document`], the parser of recorded `.jsonl` captures, so a truncated line
//! is a rejection, not a failure. The cursor is the highest tweet id seen: after a dropped
//! connection (or at start with a saved cursor) the connector reads
//! `GET /2/tweets/search/recent?since_id=` for the rules' query, following `next_token`, before
//! listening again.

use std::time::Duration;

use futures_util::StreamExt;
use model::Change;
use serde::Deserialize;
use serde_json::{Value, json};

use super::{SourceContext, SourceError, http::Lines, max_id, secret};
use crate::{Parsed, Record, x};

/// The fields asked for on every tweet request, so authors and references arrive in `includes`.
const FIELDS: &str = "expansions=author_id,referenced_tweets.id,attachments.media_keys\
&tweet.fields=created_at,lang,public_metrics,conversation_id,in_reply_to_user_id,\
referenced_tweets,entities,edit_history_tweet_ids\
&user.fields=name,username,description,public_metrics,verified,verified_type";

/// Search pages read per catch-up at most.
const MAX_PAGES: usize = 50;

/// One filtered-stream rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XRule {
    /// The rule in X's query language.
    pub value: String,
    /// A tag naming the monitor it comes from.
    #[serde(default)]
    pub tag: Option<String>,
}

/// X settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct XConfig {
    /// The API, `https://api.x.com`.
    pub base_url: String,
    /// The environment variable holding the app's bearer token.
    pub token_env: String,
    /// The filtered-stream rules (also the recent-search query, joined with `OR`).
    pub rules: Vec<XRule>,
    /// Poll recent search instead of streaming.
    pub poll_only: bool,
    /// Seconds between polls when polling.
    pub poll_interval_secs: u64,
}

impl Default for XConfig {
    fn default() -> Self {
        XConfig {
            base_url: "https://api.x.com".to_owned(),
            token_env: "X_BEARER_TOKEN".to_owned(),
            rules: Vec::new(),
            poll_only: false,
            poll_interval_secs: 60,
        }
    }
}

/// The X connector.
#[derive(Debug)]
pub struct X {
    name: String,
    config: XConfig,
}

/// A request failure to retry, in words.
type Retry = String;

impl X {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: XConfig) -> Self {
        X {
            name: name.into(),
            config,
        }
    }

    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }

    fn query(&self) -> String {
        self.config
            .rules
            .iter()
            .map(|rule| format!("({})", rule.value))
            .collect::<Vec<_>>()
            .join(" OR ")
    }

    /// Makes the stream's rules those configured.
    async fn sync_rules(&self, client: &reqwest::Client, token: &str) -> Result<(), Retry> {
        let url = format!("{}/2/tweets/search/stream/rules", self.base());
        let current: Value = client
            .get(&url)
            .bearer_auth(token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| e.to_string())?
            .json()
            .await
            .map_err(|e| e.to_string())?;
        let existing: Vec<(String, String)> = current
            .get("data")
            .and_then(Value::as_array)
            .map(|rules| {
                rules
                    .iter()
                    .filter_map(|rule| {
                        let id = match rule.get("id")? {
                            Value::String(id) => id.clone(),
                            other => other.to_string(),
                        };
                        Some((id, rule.get("value")?.as_str()?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let stale: Vec<&str> = existing
            .iter()
            .filter(|(_, value)| !self.config.rules.iter().any(|r| &r.value == value))
            .map(|(id, _)| id.as_str())
            .collect();
        let missing: Vec<&XRule> = self
            .config
            .rules
            .iter()
            .filter(|rule| !existing.iter().any(|(_, value)| value == &rule.value))
            .collect();
        if !stale.is_empty() {
            let body = json!({"delete": {"ids": stale}});
            self.post(client, token, &url, &body).await?;
        }
        if !missing.is_empty() {
            let add: Vec<Value> = missing
                .iter()
                .map(|rule| json!({"value": rule.value, "tag": rule.tag}))
                .collect();
            self.post(client, token, &url, &json!({ "add": add }))
                .await?;
        }
        Ok(())
    }

    async fn post(
        &self,
        client: &reqwest::Client,
        token: &str,
        url: &str,
        body: &Value,
    ) -> Result<(), Retry> {
        client
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .and_then(|r| r.error_for_status())
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    /// Reads recent search from the cursor onwards, sending every page.
    async fn catch_up(
        &self,
        client: &reqwest::Client,
        token: &str,
        ctx: &SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<(), Retry>, SourceError> {
        let since = cursor.clone();
        if since.is_none() && !self.config.poll_only {
            return Ok(Ok(()));
        }
        let mut next_token: Option<String> = None;
        let mut newest = cursor.clone();
        for _ in 0..MAX_PAGES {
            let mut request = client
                .get(format!(
                    "{}/2/tweets/search/recent?max_results=100&{FIELDS}",
                    self.base()
                ))
                .bearer_auth(token)
                .query(&[("query", self.query())]);
            if let Some(since) = &since {
                request = request.query(&[("since_id", since)]);
            }
            if let Some(next) = &next_token {
                request = request.query(&[("next_token", next)]);
            }
            let body = match request.send().await.and_then(|r| r.error_for_status()) {
                Ok(response) => match response.text().await {
                    Ok(body) => body,
                    Err(error) => return Ok(Err(error.to_string())),
                },
                Err(error) => return Ok(Err(error.to_string())),
            };
            let mut found = Vec::new();
            x::parse_document(&body, &mut found);
            advance(&mut newest, &found);
            let last_page = next_token_of(&body).is_none();
            // The cursor moves only after the last page: pages come newest first.
            let page_cursor = if last_page {
                newest.clone()
            } else {
                cursor.clone()
            };
            ctx.send_parsed(found, page_cursor).await?;
            next_token = next_token_of(&body);
            if last_page {
                break;
            }
        }
        *cursor = newest;
        Ok(Ok(()))
    }

    /// Listens to the filtered stream; `Ok(Ok(true))` on shutdown, `Ok(Ok(false))` when dropped.
    async fn listen(
        &self,
        client: &reqwest::Client,
        token: &str,
        ctx: &mut SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<bool, Retry>, SourceError> {
        let url = format!("{}/2/tweets/search/stream?{FIELDS}", self.base());
        let response = match client
            .get(url)
            .bearer_auth(token)
            .send()
            .await
            .and_then(|r| r.error_for_status())
        {
            Ok(response) => response,
            Err(error) => return Ok(Err(error.to_string())),
        };
        ctx.health().connected();
        tracing::info!(source = %self.name, "Connector connected.");
        let mut body = response.bytes_stream();
        let mut lines = Lines::default();
        loop {
            let chunk = tokio::select! {
                chunk = body.next() => chunk,
                () = ctx.shutdown_signal() => return Ok(Ok(true)),
            };
            match chunk {
                Some(Ok(bytes)) => lines.push(&bytes),
                Some(Err(error)) => return Ok(Err(error.to_string())),
                None => return Ok(Ok(false)),
            }
            ctx.backoff.reset();
            while let Some(line) = lines.next_line() {
                let line = line.trim();
                if line.is_empty() {
                    ctx.health().touch();
                    continue;
                }
                let mut found = Vec::new();
                match serde_json::from_str::<serde::de::IgnoredAny>(line) {
                    Ok(_) => x::parse_document(line, &mut found),
                    Err(error) => found.push(Err(crate::Rejected::at(
                        "",
                        format!("not valid JSON ({error}); the line may be cut short"),
                    ))),
                }
                advance(cursor, &found);
                ctx.send_parsed(found, cursor.clone()).await?;
            }
        }
    }
}

fn next_token_of(body: &str) -> Option<String> {
    let value: Value = serde_json::from_str(body).ok()?;
    Some(value.get("meta")?.get("next_token")?.as_str()?.to_owned())
}

/// Moves the cursor to the highest tweet id found.
fn advance(cursor: &mut Option<String>, found: &[Parsed]) {
    for item in found {
        if let Ok(Record::Change(Change::Upsert(post))) = item {
            *cursor = max_id(cursor.take(), &post.id).or_else(|| cursor.clone());
        }
    }
}

impl super::Source for X {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        let client = super::http::client()?;
        let token = if self.config.token_env.is_empty() {
            String::new()
        } else {
            secret(&self.config.token_env)?
        };
        let mut cursor = ctx.initial_cursor().map(str::to_owned);
        let mut rules_synced = self.config.poll_only;
        while !ctx.is_shutdown() {
            let outcome = if !rules_synced {
                match self.sync_rules(&client, &token).await {
                    Ok(()) => {
                        rules_synced = true;
                        continue;
                    }
                    Err(error) => Err(error),
                }
            } else {
                match self.catch_up(&client, &token, &ctx, &mut cursor).await? {
                    Err(error) => Err(error),
                    Ok(()) if self.config.poll_only => {
                        ctx.health().connected();
                        ctx.backoff.reset();
                        let wait = Duration::from_secs(self.config.poll_interval_secs.max(1));
                        if !ctx.sleep(wait).await {
                            break;
                        }
                        continue;
                    }
                    Ok(()) => self.listen(&client, &token, &mut ctx, &mut cursor).await?,
                }
            };
            match outcome {
                Ok(true) => return Ok(()),
                Ok(false) => tracing::warn!(source = %self.name, "Connection closed by server."),
                Err(error) => {
                    ctx.health().error(&error);
                    tracing::warn!(source = %self.name, %error, "Connection failed.");
                }
            }
            if !ctx.backoff_wait().await {
                break;
            }
        }
        Ok(())
    }
}
