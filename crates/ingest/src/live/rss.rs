//! RSS and Atom news feeds by polling, with `ETag` and `Last-Modified` so an unchanged feed
//! costs one `304 Not Modified`.
//!
//! The body goes through [`crate::rss::parse`], the parser of saved feed files. Items keep the
//! feed's own ids, so reading a feed again only re-stores what the store already has (an
//! idempotent upsert); the cursor is the validators of the last good response, written as
//! `etag<TAB>last-modified`.

use std::{io::Cursor, time::Duration};

use reqwest::{StatusCode, header};
use serde::Deserialize;

use super::{SourceContext, SourceError};
use crate::rss;

/// RSS/Atom settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RssConfig {
    /// The feed's address.
    pub url: String,
    /// Seconds between polls.
    pub poll_interval_secs: u64,
}

impl Default for RssConfig {
    fn default() -> Self {
        RssConfig {
            url: String::new(),
            poll_interval_secs: 300,
        }
    }
}

/// The RSS/Atom connector.
#[derive(Debug)]
pub struct Rss {
    name: String,
    config: RssConfig,
}

impl Rss {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: RssConfig) -> Self {
        Rss {
            name: name.into(),
            config,
        }
    }

    /// One poll; returns the new cursor, or the failure in words.
    async fn poll(
        &self,
        client: &reqwest::Client,
        ctx: &SourceContext,
        cursor: Option<&str>,
    ) -> Result<Result<Option<String>, String>, SourceError> {
        let mut request = client.get(&self.config.url);
        let (etag, modified) = cursor.and_then(|c| c.split_once('\t')).unwrap_or(("", ""));
        if !etag.is_empty() {
            request = request.header(header::IF_NONE_MATCH, etag);
        }
        if !modified.is_empty() {
            request = request.header(header::IF_MODIFIED_SINCE, modified);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(error) => return Ok(Err(error.to_string())),
        };
        if response.status() == StatusCode::NOT_MODIFIED {
            ctx.health().touch();
            return Ok(Ok(cursor.map(str::to_owned)));
        }
        let response = match response.error_for_status() {
            Ok(response) => response,
            Err(error) => return Ok(Err(error.to_string())),
        };
        let validator = |name| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("")
                .to_owned()
        };
        let next = format!(
            "{}\t{}",
            validator(header::ETAG),
            validator(header::LAST_MODIFIED)
        );
        let body = match response.bytes().await {
            Ok(body) => body,
            Err(error) => return Ok(Err(error.to_string())),
        };
        let found: Vec<_> = rss::parse(Box::new(Cursor::new(body.to_vec()))).collect();
        ctx.send_parsed(found, Some(next.clone())).await?;
        Ok(Ok(Some(next)))
    }
}

impl super::Source for Rss {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        if self.config.url.is_empty() {
            return Err(SourceError::Config(format!(
                "the feed `{}` has no url; add `url = \"https://…\"`",
                self.name
            )));
        }
        let client = super::http::client()?;
        let mut cursor = ctx.initial_cursor().map(str::to_owned);
        while !ctx.is_shutdown() {
            match self.poll(&client, &ctx, cursor.as_deref()).await? {
                Ok(next) => {
                    cursor = next;
                    ctx.health().connected();
                    ctx.backoff.reset();
                    let wait = Duration::from_secs(self.config.poll_interval_secs.max(1));
                    if !ctx.sleep(wait).await {
                        break;
                    }
                }
                Err(error) => {
                    ctx.health().error(&error);
                    tracing::warn!(source = %self.name, %error, "Poll failed.");
                    if !ctx.backoff_wait().await {
                        break;
                    }
                }
            }
        }
        Ok(())
    }
}
