//! Facebook Page posts and their comments, by polling the Graph API with cursors.
//!
//! Each poll reads `/{page}/feed?since=` following `paging.next`, then `/{post}/comments` of
//! every post found, and sends every page through [`crate::facebook::parse_document`], the
//! parser of saved Graph API responses. The cursor is the newest `created_time` seen (Unix
//! seconds); it is sent only with the last batch of a poll, so a poll cut short is read again
//! from the same place next time rather than skipped.

use std::time::Duration;

use model::Change;
use serde::Deserialize;
use serde_json::Value;

use super::{SourceContext, SourceError, secret};
use crate::{Parsed, Record, facebook};

/// Pages followed per listing at most.
const MAX_PAGES: usize = 20;

/// Facebook settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FacebookConfig {
    /// The Graph API with its version, `https://graph.facebook.com/v21.0`.
    pub base_url: String,
    /// The Page's id.
    pub page_id: String,
    /// The environment variable holding the Page access token (empty: none).
    pub token_env: String,
    /// Read the comments of the posts found too.
    pub comments: bool,
    /// Seconds between polls.
    pub poll_interval_secs: u64,
}

impl Default for FacebookConfig {
    fn default() -> Self {
        FacebookConfig {
            base_url: "https://graph.facebook.com/v21.0".to_owned(),
            page_id: String::new(),
            token_env: "FACEBOOK_PAGE_TOKEN".to_owned(),
            comments: true,
            poll_interval_secs: 120,
        }
    }
}

/// The Facebook connector.
#[derive(Debug)]
pub struct Facebook {
    name: String,
    config: FacebookConfig,
}

impl Facebook {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: FacebookConfig) -> Self {
        Facebook {
            name: name.into(),
            config,
        }
    }

    /// Reads a listing from `url` following `paging.next`; returns the ids of posts found.
    async fn listing(
        &self,
        client: &reqwest::Client,
        token: Option<&str>,
        ctx: &SourceContext,
        url: String,
        newest: &mut i64,
        cursor: Option<&String>,
    ) -> Result<Result<Vec<String>, String>, SourceError> {
        let mut next = Some(url);
        let mut ids = Vec::new();
        for _ in 0..MAX_PAGES {
            let Some(url) = next.take() else { break };
            let mut request = client.get(&url);
            if let Some(token) = token {
                request = request.bearer_auth(token);
            }
            let body = match request.send().await.and_then(|r| r.error_for_status()) {
                Ok(response) => match response.text().await {
                    Ok(body) => body,
                    Err(error) => return Ok(Err(error.to_string())),
                },
                Err(error) => return Ok(Err(error.to_string())),
            };
            let mut found: Vec<Parsed> = Vec::new();
            facebook::parse_document(&body, &mut found);
            for item in &found {
                if let Ok(Record::Change(Change::Upsert(post))) = item {
                    *newest = (*newest).max(post.created_at.as_second());
                    ids.push(post.id.clone());
                }
            }
            ctx.send_parsed(found, cursor.cloned()).await?;
            next = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|v| Some(v.get("paging")?.get("next")?.as_str()?.to_owned()));
        }
        Ok(Ok(ids))
    }

    async fn poll(
        &self,
        client: &reqwest::Client,
        token: Option<&str>,
        ctx: &SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<(), String>, SourceError> {
        let base = self.config.base_url.trim_end_matches('/');
        let since = cursor
            .as_deref()
            .map(|c| format!("&since={c}"))
            .unwrap_or_default();
        let mut newest: i64 = cursor.as_deref().and_then(|c| c.parse().ok()).unwrap_or(0);
        let feed = format!(
            "{base}/{}/feed?fields=id,message,created_time,from,permalink_url&limit=100{since}",
            self.config.page_id
        );
        let ids = match self
            .listing(client, token, ctx, feed, &mut newest, cursor.as_ref())
            .await?
        {
            Ok(ids) => ids,
            Err(error) => return Ok(Err(error)),
        };
        if self.config.comments {
            for id in ids {
                let url = format!(
                    "{base}/{id}/comments?fields=id,message,created_time,from,permalink_url\
                     &filter=stream&limit=100{since}"
                );
                if let Err(error) = self
                    .listing(client, token, ctx, url, &mut newest, cursor.as_ref())
                    .await?
                {
                    return Ok(Err(error));
                }
            }
        }
        if newest > 0 {
            *cursor = Some(newest.to_string());
            ctx.send(Vec::new(), cursor.clone()).await?;
        }
        Ok(Ok(()))
    }
}

impl super::Source for Facebook {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        if self.config.page_id.is_empty() {
            return Err(SourceError::Config(format!(
                "the Facebook connector `{}` has no page_id",
                self.name
            )));
        }
        let client = super::http::client()?;
        let token = if self.config.token_env.is_empty() {
            None
        } else {
            Some(secret(&self.config.token_env)?)
        };
        let mut cursor = ctx.initial_cursor().map(str::to_owned);
        while !ctx.is_shutdown() {
            match self
                .poll(&client, token.as_deref(), &ctx, &mut cursor)
                .await?
            {
                Ok(()) => {
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
