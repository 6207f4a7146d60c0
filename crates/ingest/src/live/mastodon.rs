//! Mastodon: the streaming API (server-sent events) with REST catch-up, or polling alone.
//!
//! Streams: `public`, `public:local`, `hashtag:<tag>`, `user`, `list:<id>`. The event stream is
//! cut into events at blank lines as bytes arrive, and each event goes through
//! [`crate::mastodon::parse_sse`], the parser of recorded `.sse` files. The streaming API has no
//! resume position, so the cursor is the highest status id seen: on every (re)connection the
//! connector first reads the matching REST timeline forwards from it (`min_id`, 40 a page) and
//! only then listens, so nothing said while disconnected is lost. With `poll_only` (servers or
//! tokens that do not allow streaming) it reads the timeline every `poll_interval_secs`.

use std::{io::Cursor, time::Duration};

use futures_util::StreamExt;
use model::Change;
use serde::Deserialize;

use super::{SourceContext, SourceError, http::Lines, max_id, secret};
use crate::{Parsed, Record, mastodon};

/// Statuses asked for per timeline page (the API's maximum).
const PAGE: usize = 40;
/// Pages read per catch-up at most.
const MAX_PAGES: usize = 100;

/// Mastodon settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MastodonConfig {
    /// The server, e.g. `https://mastodon.social`.
    pub base_url: String,
    /// Which stream: `public`, `public:local`, `hashtag:<tag>`, `user` or `list:<id>`.
    pub stream: String,
    /// The environment variable holding the access token (empty: no token).
    pub token_env: String,
    /// Poll the timeline instead of streaming.
    pub poll_only: bool,
    /// Seconds between polls when polling.
    pub poll_interval_secs: u64,
}

impl Default for MastodonConfig {
    fn default() -> Self {
        MastodonConfig {
            base_url: "https://mastodon.social".to_owned(),
            stream: "public".to_owned(),
            token_env: "MASTODON_ACCESS_TOKEN".to_owned(),
            poll_only: false,
            poll_interval_secs: 60,
        }
    }
}

/// The Mastodon connector.
#[derive(Debug)]
pub struct Mastodon {
    name: String,
    config: MastodonConfig,
}

impl Mastodon {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: MastodonConfig) -> Self {
        Mastodon {
            name: name.into(),
            config,
        }
    }

    fn base(&self) -> &str {
        self.config.base_url.trim_end_matches('/')
    }

    /// The streaming address of the configured stream.
    pub fn stream_url(&self) -> Result<String, SourceError> {
        let base = self.base();
        let stream = self.config.stream.as_str();
        Ok(match stream.split_once(':') {
            None if stream == "public" || stream == "user" => {
                format!("{base}/api/v1/streaming/{stream}")
            }
            Some(("public", "local")) => format!("{base}/api/v1/streaming/public/local"),
            Some(("hashtag", tag)) => format!("{base}/api/v1/streaming/hashtag?tag={tag}"),
            Some(("list", list)) => format!("{base}/api/v1/streaming/list?list={list}"),
            _ => return Err(unknown_stream(stream)),
        })
    }

    /// The REST timeline holding the same statuses as the stream.
    pub fn timeline_url(&self) -> Result<String, SourceError> {
        let base = self.base();
        let stream = self.config.stream.as_str();
        Ok(match stream.split_once(':') {
            None if stream == "public" => format!("{base}/api/v1/timelines/public?"),
            None if stream == "user" => format!("{base}/api/v1/timelines/home?"),
            Some(("public", "local")) => format!("{base}/api/v1/timelines/public?local=true&"),
            Some(("hashtag", tag)) => format!("{base}/api/v1/timelines/tag/{tag}?"),
            Some(("list", list)) => format!("{base}/api/v1/timelines/list/{list}?"),
            _ => return Err(unknown_stream(stream)),
        })
    }

    fn token(&self) -> Result<Option<String>, SourceError> {
        if self.config.token_env.is_empty() {
            return Ok(None);
        }
        secret(&self.config.token_env).map(Some)
    }

    /// Reads the timeline forwards from `cursor`, sending every page.
    async fn catch_up(
        &self,
        client: &reqwest::Client,
        token: Option<&str>,
        ctx: &SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<(), String>, SourceError> {
        let timeline = match self.timeline_url() {
            Ok(url) => url,
            Err(error) => return Err(error),
        };
        for _ in 0..MAX_PAGES {
            let mut url = format!("{timeline}limit={PAGE}");
            if let Some(cursor) = cursor.as_deref() {
                url.push_str(&format!("&min_id={cursor}"));
            }
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
            let mut found = Vec::new();
            mastodon::parse_document(&body, &mut found);
            let posts = advance(cursor, &found);
            ctx.send_parsed(found, cursor.clone()).await?;
            if posts < PAGE || cursor.is_none() {
                break;
            }
        }
        Ok(Ok(()))
    }

    /// Listens to the stream until it drops (`Ok(Ok)`), fails (`Ok(Err)`) or shutdown (`Err`
    /// never; shutdown is `Ok(Ok(true))`).
    async fn listen(
        &self,
        client: &reqwest::Client,
        token: Option<&str>,
        ctx: &mut SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<bool, String>, SourceError> {
        let mut request = client.get(self.stream_url()?);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = match request.send().await.and_then(|r| r.error_for_status()) {
            Ok(response) => response,
            Err(error) => return Ok(Err(error.to_string())),
        };
        ctx.health().connected();
        tracing::info!(source = %self.name, "Connector connected.");
        let mut body = response.bytes_stream();
        let mut lines = Lines::default();
        let mut event = String::new();
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
                if line.starts_with(':') {
                    ctx.health().touch();
                    continue;
                }
                if !line.is_empty() {
                    event.push_str(&line);
                    event.push('\n');
                    continue;
                }
                if event.is_empty() {
                    continue;
                }
                event.push('\n');
                let found: Vec<Parsed> = mastodon::parse_sse(
                    Box::new(Cursor::new(std::mem::take(&mut event))),
                    crate::DEFAULT_MAX_POST_BYTES,
                )
                .collect();
                advance(cursor, &found);
                ctx.send_parsed(found, cursor.clone()).await?;
            }
        }
    }
}

/// Moves the cursor to the highest status id found; returns how many posts there were.
fn advance(cursor: &mut Option<String>, found: &[Parsed]) -> usize {
    let mut posts = 0;
    for item in found {
        if let Ok(Record::Change(Change::Upsert(post))) = item {
            posts += 1;
            *cursor = max_id(cursor.take(), &post.id).or_else(|| cursor.clone());
        }
    }
    posts
}

fn unknown_stream(stream: &str) -> SourceError {
    SourceError::Config(format!(
        "unknown Mastodon stream `{stream}`; use public, public:local, hashtag:<tag>, user or \
         list:<id>"
    ))
}

impl super::Source for Mastodon {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        let client = super::http::client()?;
        let token = self.token()?;
        let token = token.as_deref();
        self.stream_url()?;
        let mut cursor = ctx.initial_cursor().map(str::to_owned);
        while !ctx.is_shutdown() {
            let caught_up = if cursor.is_some() || self.config.poll_only {
                self.catch_up(&client, token, &ctx, &mut cursor).await?
            } else {
                Ok(())
            };
            let outcome = match caught_up {
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
                Ok(()) => self.listen(&client, token, &mut ctx, &mut cursor).await?,
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
