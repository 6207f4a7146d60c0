//! The GDELT DOC 2.0 API: news articles matching a query, by polling.
//!
//! Each poll asks `mode=artlist&format=json&sort=dateasc` from the cursor (`startdatetime`, the
//! newest `seendate` seen, GDELT's `YYYYMMDDHHMMSS` in UTC) and turns every article into a
//! [`Network::News`] post whose id is the article's address, so an article seen twice is one
//! post. GDELT has no file export Switchboard imports, so this module carries the (small)
//! mapping itself.

use std::time::Duration;

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use model::{Author, Change, Network, Post};
use serde::Deserialize;

use super::{SourceContext, SourceError};
use crate::{Parsed, Record, Rejected};

/// GDELT settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GdeltConfig {
    /// The DOC API address.
    pub base_url: String,
    /// The query in GDELT's syntax, e.g. `"Northgate Hospital" sourcecountry:UK`.
    pub query: String,
    /// Seconds between polls (GDELT updates every 15 minutes).
    pub poll_interval_secs: u64,
}

impl Default for GdeltConfig {
    fn default() -> Self {
        GdeltConfig {
            base_url: "https://api.gdeltproject.org/api/v2/doc/doc".to_owned(),
            query: String::new(),
            poll_interval_secs: 900,
        }
    }
}

/// The GDELT connector.
#[derive(Debug)]
pub struct Gdelt {
    name: String,
    config: GdeltConfig,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    articles: Vec<Article>,
}

#[derive(Deserialize)]
struct Article {
    url: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    seendate: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    language: String,
}

/// Reads GDELT's `20240501T101500Z` (or `20240501101500`).
fn seen_time(text: &str) -> Option<Timestamp> {
    let digits: String = text.chars().filter(char::is_ascii_digit).collect();
    let civil = DateTime::strptime("%Y%m%d%H%M%S", &digits).ok()?;
    TimeZone::UTC.to_timestamp(civil).ok()
}

/// Turns one DOC API response into records.
pub fn parse_page(body: &str, out: &mut Vec<Parsed>) {
    let page: Page = match serde_json::from_str(body) {
        Ok(page) => page,
        Err(error) => {
            out.push(Err(Rejected::at(
                "",
                format!("not a GDELT article list ({error})"),
            )
            .with_excerpt(body)));
            return;
        }
    };
    for (index, article) in page.articles.into_iter().enumerate() {
        let Some(created_at) = seen_time(&article.seendate) else {
            out.push(Err(Rejected::at(
                format!("/articles/{index}/seendate"),
                format!("`{}` is not a GDELT date", article.seendate),
            )));
            continue;
        };
        let author = Author {
            id: article.domain.clone(),
            handle: article.domain.clone(),
            display_name: Some(article.domain),
            ..Author::default()
        };
        let mut post = Post::new(
            Network::News,
            article.url.clone(),
            author,
            article.title.clone(),
            created_at,
        );
        post.url = Some(article.url);
        post.title = Some(article.title);
        if article.language.eq_ignore_ascii_case("english") {
            post.lang = Some("en".to_owned());
        }
        out.push(Ok(Record::Change(Change::Upsert(Box::new(post)))));
    }
}

impl Gdelt {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: GdeltConfig) -> Self {
        Gdelt {
            name: name.into(),
            config,
        }
    }

    async fn poll(
        &self,
        client: &reqwest::Client,
        ctx: &SourceContext,
        cursor: &mut Option<String>,
    ) -> Result<Result<(), String>, SourceError> {
        let mut request = client.get(&self.config.base_url).query(&[
            ("query", self.config.query.as_str()),
            ("mode", "artlist"),
            ("format", "json"),
            ("sort", "dateasc"),
            ("maxrecords", "250"),
        ]);
        if let Some(start) = cursor.as_deref() {
            request = request.query(&[("startdatetime", start)]);
        }
        let body = match request.send().await.and_then(|r| r.error_for_status()) {
            Ok(response) => match response.text().await {
                Ok(body) => body,
                Err(error) => return Ok(Err(error.to_string())),
            },
            Err(error) => return Ok(Err(error.to_string())),
        };
        let mut found = Vec::new();
        parse_page(&body, &mut found);
        let newest = found
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Change(Change::Upsert(post))) => Some(post.created_at),
                _ => None,
            })
            .max();
        if let Some(newest) = newest {
            let next = newest
                .to_zoned(TimeZone::UTC)
                .strftime("%Y%m%d%H%M%S")
                .to_string();
            *cursor = Some(next);
        }
        ctx.send_parsed(found, cursor.clone()).await?;
        Ok(Ok(()))
    }
}

impl super::Source for Gdelt {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        if self.config.query.is_empty() {
            return Err(SourceError::Config(format!(
                "the GDELT connector `{}` has no query",
                self.name
            )));
        }
        let client = super::http::client()?;
        let mut cursor = ctx.initial_cursor().map(str::to_owned);
        while !ctx.is_shutdown() {
            match self.poll(&client, &ctx, &mut cursor).await? {
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
