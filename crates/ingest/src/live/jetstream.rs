//! Bluesky Jetstream over WebSocket: posts as they are written, resumable by `time_us`.
//!
//! The connector subscribes with `wantedCollections=app.bsky.feed.post` (and `wantedDids` when
//! accounts are chosen). Each message is one Jetstream event, parsed by
//! [`crate::bluesky::parse_document`], the same parser as `.jsonl` captures. The cursor is the
//! event's `time_us`. After a dropped connection it resumes from the last `time_us` minus a
//! rewind margin (Jetstream's own advice, as events are not strictly ordered) and drops events it
//! already sent, remembered by `(did, rkey, time_us)` in a bounded ring.
//!
//! Keywords, when configured, are matched here (case-insensitive) so the firehose does not reach
//! the store; deletions always pass.

use std::{
    collections::{HashSet, VecDeque},
    time::Duration,
};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder};
use futures_util::{SinkExt, StreamExt};
use model::Change;
use serde::Deserialize;
use tokio_tungstenite::tungstenite::Message;

use super::{Source, SourceContext, SourceError};
use crate::{Parsed, Record, bluesky};

/// Events remembered for de-duplication after a resume.
const REMEMBERED: usize = 32_768;

/// Jetstream settings.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JetstreamConfig {
    /// The subscribe endpoint (`wss://…/subscribe`).
    pub endpoint: String,
    /// Only these accounts (DIDs); empty for everyone.
    pub wanted_dids: Vec<String>,
    /// Only posts containing one of these words or phrases (no case); empty for every post.
    pub keywords: Vec<String>,
    /// Seconds rewound from the last cursor when resuming.
    pub rewind_secs: u64,
}

impl Default for JetstreamConfig {
    fn default() -> Self {
        JetstreamConfig {
            endpoint: "wss://jetstream2.us-east.bsky.network/subscribe".to_owned(),
            wanted_dids: Vec::new(),
            keywords: Vec::new(),
            rewind_secs: 3,
        }
    }
}

/// The Jetstream connector.
#[derive(Debug)]
pub struct Jetstream {
    name: String,
    config: JetstreamConfig,
    keywords: Option<AhoCorasick>,
}

impl Jetstream {
    /// A connector named `name`.
    pub fn new(name: impl Into<String>, config: JetstreamConfig) -> Result<Self, SourceError> {
        let keywords = if config.keywords.is_empty() {
            None
        } else {
            Some(
                AhoCorasickBuilder::new()
                    .ascii_case_insensitive(true)
                    .build(&config.keywords)
                    .map_err(|error| SourceError::Config(format!("bad keywords ({error})")))?,
            )
        };
        Ok(Jetstream {
            name: name.into(),
            config,
            keywords,
        })
    }

    /// The subscribe address resuming at `cursor` (microseconds).
    pub fn url(&self, cursor: Option<i64>) -> String {
        let mut url = format!(
            "{}?wantedCollections=app.bsky.feed.post",
            self.config.endpoint
        );
        for did in &self.config.wanted_dids {
            url.push_str("&wantedDids=");
            url.push_str(did);
        }
        if let Some(cursor) = cursor {
            let rewind = i64::try_from(self.config.rewind_secs).unwrap_or(0) * 1_000_000;
            url.push_str(&format!("&cursor={}", (cursor - rewind).max(0)));
        }
        url
    }

    fn wanted(&self, record: &Parsed) -> bool {
        match (record, &self.keywords) {
            (Ok(Record::Change(Change::Upsert(post))), Some(keywords)) => {
                keywords.is_match(&post.text)
            }
            _ => true,
        }
    }
}

/// The fields of an event needed to de-duplicate it.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(borrow, default)]
    did: &'a str,
    #[serde(default)]
    time_us: i64,
    #[serde(borrow, default)]
    commit: Option<Commit<'a>>,
}

#[derive(Deserialize)]
struct Commit<'a> {
    #[serde(borrow, default)]
    rkey: &'a str,
}

/// Events already sent, remembered in arrival order up to [`REMEMBERED`].
#[derive(Debug, Default)]
struct Seen {
    order: VecDeque<(i64, String)>,
    set: HashSet<(i64, String)>,
}

impl Seen {
    /// Remembers the event; false when it was already there.
    fn insert(&mut self, key: (i64, String)) -> bool {
        if !self.set.insert(key.clone()) {
            return false;
        }
        self.order.push_back(key);
        if self.order.len() > REMEMBERED
            && let Some(old) = self.order.pop_front()
        {
            self.set.remove(&old);
        }
        true
    }
}

enum Closed {
    Shutdown,
    Dropped,
}

impl Source for Jetstream {
    fn name(&self) -> &str {
        &self.name
    }

    async fn run(self, mut ctx: SourceContext) -> Result<(), SourceError> {
        let mut cursor: Option<i64> = ctx.initial_cursor().and_then(|c| c.parse().ok());
        let mut seen = Seen::default();
        while !ctx.is_shutdown() {
            let url = self.url(cursor);
            match tokio_tungstenite::connect_async(url.as_str()).await {
                Ok((socket, _)) => {
                    ctx.health().connected();
                    tracing::info!(source = %self.name, %url, "Connector connected.");
                    match self.read(socket, &mut ctx, &mut cursor, &mut seen).await? {
                        Closed::Shutdown => return Ok(()),
                        Closed::Dropped => {
                            tracing::warn!(source = %self.name, "Connection closed by server.");
                        }
                    }
                }
                Err(error) => {
                    ctx.health().error(&error.to_string());
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

impl Jetstream {
    async fn read<S>(
        &self,
        mut socket: S,
        ctx: &mut SourceContext,
        cursor: &mut Option<i64>,
        seen: &mut Seen,
    ) -> Result<Closed, SourceError>
    where
        S: futures_util::Stream<Item = Result<Message, tokio_tungstenite::tungstenite::Error>>
            + futures_util::Sink<Message>
            + Unpin,
    {
        let mut first = true;
        loop {
            let message = tokio::select! {
                message = socket.next() => message,
                () = ctx.shutdown_signal() => {
                    let closing = tokio::time::timeout(Duration::from_secs(1), socket.close());
                    let _closed = closing.await;
                    return Ok(Closed::Shutdown);
                }
            };
            let text = match message {
                Some(Ok(Message::Text(text))) => text,
                Some(Ok(Message::Close(_))) | None => return Ok(Closed::Dropped),
                Some(Ok(_)) => continue,
                Some(Err(error)) => {
                    ctx.health().error(&error.to_string());
                    return Ok(Closed::Dropped);
                }
            };
            if first {
                ctx.backoff.reset();
                first = false;
            }
            let Ok(head) = serde_json::from_str::<Head<'_>>(text.as_str()) else {
                ctx.health().rejected();
                continue;
            };
            let rkey = head.commit.as_ref().map_or("", |commit| commit.rkey);
            if !seen.insert((head.time_us, format!("{}/{rkey}", head.did))) {
                continue;
            }
            let mut found = Vec::new();
            bluesky::parse_document(text.as_str(), &mut found);
            found.retain(|record| self.wanted(record));
            if head.time_us > 0 {
                *cursor = Some(cursor.map_or(head.time_us, |c| c.max(head.time_us)));
                if let Ok(time) = jiff::Timestamp::from_microsecond(head.time_us) {
                    ctx.health().event_time(time);
                }
            }
            ctx.send_parsed(found, cursor.map(|c| c.to_string()))
                .await?;
        }
    }
}
