//! The compliance test every connector passes.
//!
//! A local server on 127.0.0.1 speaks the network's real protocol (WebSocket for Jetstream,
//! server-sent events, chunked HTTP streams and JSON pages over HTTP/1.1), replays the recorded
//! payloads of `../shared/data/api-samples/`, and drops the connection midway. The test then
//! asserts that every post arrives (exactly once after the store's de-duplication by identity),
//! that the cursor advanced, that health counted the events and the reconnect, and that the
//! connector shuts down cleanly.

// tungstenite's handshake callback returns its own large error type; the signature is fixed.
#![allow(clippy::result_large_err)]

use std::{
    collections::{BTreeMap, BTreeSet},
    net::SocketAddr,
    path::PathBuf,
    sync::{
        Arc, Mutex,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use model::{Change, Network};
use serde_json::Value;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::{TcpListener, TcpStream},
    sync::{mpsc, watch},
    task::JoinHandle,
};
use tokio_tungstenite::tungstenite::{Message, handshake::server};

use super::{
    Backoff, Batch, Source, SourceContext, SourceError,
    facebook::{Facebook, FacebookConfig},
    gdelt::{Gdelt, GdeltConfig},
    jetstream::{Jetstream, JetstreamConfig},
    mastodon::{Mastodon, MastodonConfig},
    rss::{Rss, RssConfig},
    x::{X, XConfig, XRule},
};
use crate::{Parsed, Record};

fn sample(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/api-samples")
        .join(path)
}

fn read(path: &str) -> String {
    std::fs::read_to_string(sample(path)).unwrap()
}

/// The identity of a change, as the store de-duplicates it.
type Key = (Network, String, bool);

fn key(change: &Change) -> Key {
    match change {
        Change::Upsert(post) => (post.network, post.id.clone(), false),
        Change::Delete(deletion) => (deletion.network, deletion.id.clone(), true),
        Change::Handle(handle) => (
            handle.network,
            format!("handle of {}", handle.author_id),
            false,
        ),
    }
}

fn keys_of(found: &[Parsed]) -> BTreeSet<Key> {
    found
        .iter()
        .filter_map(|item| match item {
            Ok(Record::Change(change)) => Some(key(change)),
            _ => None,
        })
        .collect()
}

/// A running connector with its channel and shutdown switch.
struct Running {
    batches: mpsc::Receiver<Batch>,
    shutdown: watch::Sender<bool>,
    handle: JoinHandle<Result<(), SourceError>>,
    health: super::Health,
    received: Vec<Batch>,
}

fn start<S: Source>(source: S, cursor: Option<&str>) -> Running {
    let (sender, batches) = mpsc::channel(1024);
    let (shutdown, signal) = watch::channel(false);
    let mut ctx = SourceContext::new(
        source.name().to_owned(),
        sender,
        cursor.map(str::to_owned),
        signal,
    );
    ctx.backoff = Backoff::new(Duration::from_millis(10), Duration::from_millis(100));
    let health = ctx.health().clone();
    let handle = tokio::spawn(source.run(ctx));
    Running {
        batches,
        shutdown,
        handle,
        health,
        received: Vec::new(),
    }
}

impl Running {
    /// Receives until every expected key arrived (or 10 s passed); returns the counts per key.
    async fn collect(&mut self, expected: &BTreeSet<Key>) -> BTreeMap<Key, usize> {
        let mut counts: BTreeMap<Key, usize> = BTreeMap::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while !expected.iter().all(|k| counts.contains_key(k)) {
            let Ok(Some(batch)) = tokio::time::timeout_at(deadline, self.batches.recv()).await
            else {
                break;
            };
            for record in &batch.records {
                if let Record::Change(change) = record {
                    *counts.entry(key(change)).or_default() += 1;
                }
            }
            self.received.push(batch);
        }
        // Let the batches that close a poll (with its cursor) arrive too.
        while let Ok(Some(batch)) =
            tokio::time::timeout(Duration::from_millis(300), self.batches.recv()).await
        {
            for record in &batch.records {
                if let Record::Change(change) = record {
                    *counts.entry(key(change)).or_default() += 1;
                }
            }
            self.received.push(batch);
        }
        counts
    }

    fn last_cursor(&self) -> Option<String> {
        self.received.iter().rev().find_map(|b| b.cursor.clone())
    }

    /// Asserts the compliance properties and shuts the connector down.
    async fn assert_compliance(
        mut self,
        expected: &BTreeSet<Key>,
        initial_cursor: Option<&str>,
    ) -> (Option<String>, super::HealthSnapshot, BTreeMap<Key, usize>) {
        let counts = self.collect(expected).await;
        let got: BTreeSet<Key> = counts.keys().cloned().collect();
        let missing: Vec<_> = expected.difference(&got).collect();
        let extra: Vec<_> = got.difference(expected).collect();
        assert!(missing.is_empty(), "missing after the drop: {missing:?}");
        assert!(extra.is_empty(), "unexpected: {extra:?}");
        let cursor = self.last_cursor();
        assert!(cursor.is_some(), "no cursor was sent");
        assert_ne!(
            cursor.as_deref(),
            initial_cursor,
            "the cursor did not advance"
        );
        let health = self.health.snapshot();
        assert!(health.reconnects >= 1, "no reconnect counted: {health:?}");
        assert!(health.posts >= expected.len() as u64, "{health:?}");
        assert!(health.events >= 1, "{health:?}");
        assert!(health.last_event.is_some(), "{health:?}");
        self.shutdown.send(true).unwrap();
        let ended = tokio::time::timeout(Duration::from_secs(3), self.handle)
            .await
            .expect("the connector did not stop on shutdown")
            .unwrap();
        assert!(ended.is_ok(), "{ended:?}");
        (cursor, health, counts)
    }
}

// ---------------------------------------------------------------------------------------------
// A tiny HTTP/1.1 server: enough to serve pages, chunked streams, drops and 304s.

/// A request as the handler sees it.
#[derive(Debug, Clone)]
struct Request {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
    body: String,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn param(&self, name: &str) -> Option<String> {
        let query = self.target.split_once('?')?.1;
        query.split('&').find_map(|pair| {
            let (k, v) = pair.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }
}

/// What the server does with a request.
enum Reply {
    /// A whole response.
    Full {
        status: u16,
        headers: Vec<(&'static str, String)>,
        body: String,
    },
    /// A chunked stream of `chunks`, then either a drop (no final chunk) or a hang.
    Stream {
        content_type: &'static str,
        chunks: Vec<String>,
        drop_after: bool,
    },
    /// Close the connection without answering.
    Drop,
}

type Handler = Arc<dyn Fn(&Request, usize) -> Reply + Send + Sync>;

async fn http_server(handler: Handler) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let served = Arc::new(AtomicUsize::new(0));
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let handler = handler.clone();
            let served = served.clone();
            tokio::spawn(async move { serve(stream, handler, served).await });
        }
    });
    addr
}

async fn serve(mut stream: TcpStream, handler: Handler, served: Arc<AtomicUsize>) {
    loop {
        let mut head = Vec::new();
        let mut byte = [0u8; 1];
        while !head.ends_with(b"\r\n\r\n") {
            match stream.read(&mut byte).await {
                Ok(1) => head.push(byte[0]),
                _ => return,
            }
        }
        let head = String::from_utf8_lossy(&head).into_owned();
        let mut lines = head.split("\r\n");
        let mut first = lines.next().unwrap_or("").split(' ');
        let method = first.next().unwrap_or("").to_owned();
        let target = first.next().unwrap_or("").to_owned();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let length: usize = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0u8; length];
        if length > 0 && stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let request = Request {
            method,
            target,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        };
        let number = served.fetch_add(1, Ordering::SeqCst);
        match handler(&request, number) {
            Reply::Full {
                status,
                headers,
                body,
            } => {
                let mut response =
                    format!("HTTP/1.1 {status} X\r\ncontent-length: {}\r\n", body.len());
                for (name, value) in headers {
                    response.push_str(&format!("{name}: {value}\r\n"));
                }
                response.push_str("\r\n");
                response.push_str(&body);
                if stream.write_all(response.as_bytes()).await.is_err() {
                    return;
                }
            }
            Reply::Stream {
                content_type,
                chunks,
                drop_after,
            } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {content_type}\r\n\
                     transfer-encoding: chunked\r\n\r\n"
                );
                if stream.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for chunk in chunks {
                    let framed = format!("{:x}\r\n{chunk}\r\n", chunk.len());
                    if stream.write_all(framed.as_bytes()).await.is_err() {
                        return;
                    }
                    let _ = stream.flush().await;
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
                if drop_after {
                    return;
                }
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if stream.write_all(b"2\r\n\r\n\r\n").await.is_err() {
                        return;
                    }
                }
            }
            Reply::Drop => return,
        }
    }
}

fn json_reply(body: String) -> Reply {
    Reply::Full {
        status: 200,
        headers: vec![("content-type", "application/json".to_owned())],
        body,
    }
}

// ---------------------------------------------------------------------------------------------

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_resumes_after_a_drop_without_loss_or_duplicates() {
    let lines: Vec<String> = read("bluesky/jetstream__v1-capture-2026-07-04__152-events.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    let mut expected_found = Vec::new();
    for line in &lines {
        crate::bluesky::parse_document(line, &mut expected_found);
    }
    let expected = keys_of(&expected_found);
    assert!(expected.len() > 10, "{}", expected.len());
    let lines = Arc::new(lines);
    let cursors: Arc<Mutex<Vec<Option<i64>>>> = Arc::default();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    {
        let lines = lines.clone();
        let cursors = cursors.clone();
        tokio::spawn(async move {
            let mut connection = 0;
            while let Ok((stream, _)) = listener.accept().await {
                connection += 1;
                let seen = Arc::new(Mutex::new(None));
                let callback = {
                    let seen = seen.clone();
                    move |request: &server::Request, response: server::Response| {
                        *seen.lock().unwrap() = Some(request.uri().to_string());
                        Ok(response)
                    }
                };
                let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await
                else {
                    continue;
                };
                let uri = seen.lock().unwrap().clone().unwrap_or_default();
                assert!(
                    uri.contains("wantedCollections=app.bsky.feed.post"),
                    "{uri}"
                );
                let cursor: Option<i64> = uri
                    .split("cursor=")
                    .nth(1)
                    .and_then(|c| c.split('&').next())
                    .and_then(|c| c.parse().ok());
                cursors.lock().unwrap().push(cursor);
                let time = |line: &str| {
                    serde_json::from_str::<Value>(line).unwrap()["time_us"]
                        .as_i64()
                        .unwrap()
                };
                let half = lines.len() / 2;
                let to_send: Vec<&String> = if connection == 1 {
                    lines.iter().take(half).collect()
                } else {
                    lines
                        .iter()
                        .filter(|l| cursor.is_none_or(|c| time(l) >= c))
                        .collect()
                };
                for line in to_send {
                    if socket.send(Message::text(line.clone())).await.is_err() {
                        break;
                    }
                }
                if connection == 1 {
                    // Drop the TCP connection without a close frame.
                    drop(socket);
                    continue;
                }
                tokio::spawn(async move { while socket.next().await.is_some() {} });
            }
        });
    }
    let config = JetstreamConfig {
        endpoint: format!("ws://{addr}/subscribe"),
        ..JetstreamConfig::default()
    };
    let running = start(Jetstream::new("jetstream", config).unwrap(), None);
    let (cursor, health, counts) = running.assert_compliance(&expected, None).await;
    let twice: Vec<_> = counts.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "sent twice after the resume: {twice:?}");
    let max_time = lines
        .iter()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["time_us"]
                .as_i64()
                .unwrap()
        })
        .max()
        .unwrap();
    assert_eq!(cursor, Some(max_time.to_string()));
    assert!(health.lag_ms.is_some());
    let cursors = cursors.lock().unwrap().clone();
    assert_eq!(cursors.first(), Some(&None));
    assert!(cursors.get(1).is_some_and(Option::is_some), "{cursors:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jetstream_keeps_only_posts_with_the_keywords_and_resumes_from_a_saved_cursor() {
    let lines: Vec<String> = read("bluesky/jetstream__v1-golden-10-events.jsonl")
        .lines()
        .map(str::to_owned)
        .collect();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let uris: Arc<Mutex<Vec<String>>> = Arc::default();
    {
        let uris = uris.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let uris = uris.clone();
                let callback = move |request: &server::Request, response: server::Response| {
                    uris.lock().unwrap().push(request.uri().to_string());
                    Ok(response)
                };
                if let Ok(mut socket) = tokio_tungstenite::accept_hdr_async(stream, callback).await
                {
                    for line in &lines {
                        let _ = socket.send(Message::text(line.clone())).await;
                    }
                    tokio::spawn(async move { while socket.next().await.is_some() {} });
                }
            }
        });
    }
    let config = JetstreamConfig {
        endpoint: format!("ws://{addr}/subscribe"),
        keywords: vec!["zzzz-no-such-word".to_owned()],
        wanted_dids: vec!["did:plc:abc".to_owned()],
        ..JetstreamConfig::default()
    };
    let mut running = start(
        Jetstream::new("js", config).unwrap(),
        Some("1779719009000000"),
    );
    let counts = running.collect(&BTreeSet::new()).await;
    assert!(counts.is_empty());
    tokio::time::sleep(Duration::from_millis(300)).await;
    while let Ok(batch) = running.batches.try_recv() {
        assert!(
            batch
                .records
                .iter()
                .all(|r| !matches!(r, Record::Change(Change::Upsert(_))))
        );
    }
    let uri = uris.lock().unwrap().first().cloned().unwrap();
    assert!(uri.contains("wantedDids=did:plc:abc"), "{uri}");
    assert!(uri.contains("cursor=1779719006000000"), "{uri}");
    running.shutdown.send(true).unwrap();
    assert!(running.handle.await.unwrap().is_ok());
}

/// Mastodon statuses of the recorded stream and public timeline, oldest id first.
fn mastodon_statuses() -> Vec<Value> {
    let mut statuses: Vec<Value> = Vec::new();
    for line in read("mastodon/mastodonpy__local__stream-user-mixed.sse")
        .lines()
        .chain(read("mastodon/mastodonpy__local__stream-user-update.sse").lines())
    {
        if let Some(data) = line.strip_prefix("data: ")
            && let Ok(value) = serde_json::from_str::<Value>(data)
            && value.get("content").is_some()
        {
            statuses.push(value);
        }
    }
    let timeline: Vec<Value> =
        serde_json::from_str(&read("mastodon/mastodonpy__local__public-timeline.json")).unwrap();
    statuses.extend(timeline);
    let id = |v: &Value| v["id"].as_str().unwrap().parse::<u128>().unwrap();
    statuses.sort_by_key(id);
    statuses.dedup_by_key(|v| id(v));
    statuses
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mastodon_streams_and_catches_up_through_the_timeline_after_a_drop() {
    let statuses = mastodon_statuses();
    assert!(statuses.len() >= 4, "{}", statuses.len());
    let mut found = Vec::new();
    crate::mastodon::parse_document(&Value::Array(statuses.clone()).to_string(), &mut found);
    let expected = keys_of(&found);
    let half = statuses.len() / 2;
    let statuses = Arc::new(statuses);
    let streams = Arc::new(AtomicUsize::new(0));
    let handler: Handler = {
        let statuses = statuses.clone();
        let streams = streams.clone();
        Arc::new(move |request, _| {
            assert_eq!(request.header("authorization"), None);
            if request
                .target
                .starts_with("/api/v1/streaming/hashtag?tag=nhs")
            {
                let connection = streams.fetch_add(1, Ordering::SeqCst);
                if connection == 0 {
                    let mut chunks = vec![":)\n".to_owned()];
                    for status in statuses.iter().take(half) {
                        chunks.push(format!("event: update\ndata: {status}\n\n"));
                    }
                    chunks.push("event: filters_changed\ndata: undefined\n\n".to_owned());
                    return Reply::Stream {
                        content_type: "text/event-stream",
                        chunks,
                        drop_after: true,
                    };
                }
                return Reply::Stream {
                    content_type: "text/event-stream",
                    chunks: vec![":thump\n".to_owned()],
                    drop_after: false,
                };
            }
            if request.target.starts_with("/api/v1/timelines/tag/nhs") {
                let min_id: u128 = request
                    .param("min_id")
                    .and_then(|m| m.parse().ok())
                    .unwrap_or(0);
                let newer: Vec<Value> = statuses
                    .iter()
                    .filter(|s| s["id"].as_str().unwrap().parse::<u128>().unwrap() > min_id)
                    .take(40)
                    .cloned()
                    .collect();
                return json_reply(Value::Array(newer).to_string());
            }
            Reply::Full {
                status: 404,
                headers: Vec::new(),
                body: String::new(),
            }
        })
    };
    let addr = http_server(handler).await;
    let config = MastodonConfig {
        base_url: format!("http://{addr}"),
        stream: "hashtag:nhs".to_owned(),
        token_env: String::new(),
        ..MastodonConfig::default()
    };
    let running = start(Mastodon::new("mastodon", config), None);
    let (cursor, _, _) = running.assert_compliance(&expected, None).await;
    let newest = statuses.last().unwrap()["id"].as_str().unwrap().to_owned();
    assert_eq!(cursor, Some(newest));
    assert!(streams.load(Ordering::SeqCst) >= 2);
}

/// The recorded filtered-stream lines: complete ones sorted by tweet id, and the truncated one.
fn x_stream_lines() -> (Vec<String>, String) {
    let text = read("x-twitter/twarc-csv__filtered-stream__dogs__truncated-last-line.jsonl");
    let mut complete: Vec<(u64, String)> = Vec::new();
    let mut truncated = String::new();
    for line in text.lines() {
        match serde_json::from_str::<Value>(line) {
            Ok(value) => {
                let id = value["data"]["id"].as_str().unwrap().parse().unwrap();
                complete.push((id, line.to_owned()));
            }
            Err(_) => truncated = line.to_owned(),
        }
    }
    complete.sort();
    (complete.into_iter().map(|(_, l)| l).collect(), truncated)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_syncs_rules_streams_and_catches_up_with_recent_search_after_a_drop() {
    let (lines, truncated) = x_stream_lines();
    let mut found = Vec::new();
    for line in &lines {
        crate::x::parse_document(line, &mut found);
    }
    let expected = keys_of(&found);
    let half = lines.len() / 2;
    let lines = Arc::new(lines);
    let rule_posts: Arc<Mutex<Vec<String>>> = Arc::default();
    let streams = Arc::new(AtomicUsize::new(0));
    let handler: Handler = {
        let lines = lines.clone();
        let rule_posts = rule_posts.clone();
        let streams = streams.clone();
        Arc::new(move |request, _| {
            if request.target.starts_with("/2/tweets/search/stream/rules") {
                if request.method == "POST" {
                    rule_posts.lock().unwrap().push(request.body.clone());
                    return json_reply("{\"meta\":{}}".to_owned());
                }
                return json_reply(
                    r#"{"data":[{"id":"1","value":"old rule"},{"id":"2","value":"dogs"}]}"#
                        .to_owned(),
                );
            }
            if request.target.starts_with("/2/tweets/search/stream") {
                assert!(request.target.contains("expansions=author_id"));
                let connection = streams.fetch_add(1, Ordering::SeqCst);
                if connection == 0 {
                    let mut chunks = Vec::new();
                    for line in lines.iter().take(half) {
                        chunks.push(format!("{line}\r\n"));
                        chunks.push("\r\n".to_owned());
                    }
                    chunks.push(format!("{truncated}\r\n"));
                    return Reply::Stream {
                        content_type: "application/json",
                        chunks,
                        drop_after: true,
                    };
                }
                return Reply::Stream {
                    content_type: "application/json",
                    chunks: vec!["\r\n".to_owned()],
                    drop_after: false,
                };
            }
            if request.target.starts_with("/2/tweets/search/recent") {
                let since: u64 = request
                    .param("since_id")
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(0);
                assert!(request.param("query").is_some());
                let mut data = Vec::new();
                let mut includes: serde_json::Map<String, Value> = serde_json::Map::new();
                for line in lines.iter() {
                    let value: Value = serde_json::from_str(line).unwrap();
                    let id: u64 = value["data"]["id"].as_str().unwrap().parse().unwrap();
                    if id <= since {
                        continue;
                    }
                    data.push(value["data"].clone());
                    if let Some(map) = value["includes"].as_object() {
                        for (kind, items) in map {
                            let entry = includes
                                .entry(kind.clone())
                                .or_insert_with(|| Value::Array(Vec::new()));
                            if let (Some(all), Some(items)) =
                                (entry.as_array_mut(), items.as_array())
                            {
                                all.extend(items.iter().cloned());
                            }
                        }
                    }
                }
                data.reverse();
                let count = data.len();
                let page = serde_json::json!({
                    "data": data,
                    "includes": includes,
                    "meta": {"result_count": count},
                });
                return json_reply(page.to_string());
            }
            Reply::Full {
                status: 404,
                headers: Vec::new(),
                body: String::new(),
            }
        })
    };
    let addr = http_server(handler).await;
    let config = XConfig {
        base_url: format!("http://{addr}"),
        token_env: String::new(),
        rules: vec![
            XRule {
                value: "dogs".to_owned(),
                tag: None,
            },
            XRule {
                value: "\"never event\" nhs".to_owned(),
                tag: Some("never events".to_owned()),
            },
        ],
        ..XConfig::default()
    };
    let running = start(X::new("x", config), None);
    let (cursor, health, _) = running.assert_compliance(&expected, None).await;
    let newest: Value = serde_json::from_str(lines.last().unwrap()).unwrap();
    assert_eq!(cursor.as_deref(), newest["data"]["id"].as_str());
    assert!(
        health.rejected >= 1,
        "the truncated line was not counted: {health:?}"
    );
    let posts = rule_posts.lock().unwrap().clone();
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert!(posts[0].contains("\"delete\"") && posts[0].contains("\"1\""));
    assert!(posts[1].contains("never event") && !posts[1].contains("\"dogs\""));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn facebook_polls_pages_and_comments_and_retries_a_dropped_page() {
    let p1 = read("facebook/python-facebook__page-feed-default-fields-p1.json");
    let p2 = read("facebook/python-facebook__page-feed-default-fields-p2.json");
    let comments = read("facebook/python-facebook__post-comments-p1.json");
    let mut found = Vec::new();
    for doc in [&p1, &p2, &comments] {
        crate::facebook::parse_document(doc, &mut found);
    }
    let expected = keys_of(&found);
    let first_post = {
        let value: Value = serde_json::from_str(&p1).unwrap();
        value["data"][0]["id"].as_str().unwrap().to_owned()
    };
    let page_two_asked = Arc::new(AtomicUsize::new(0));
    let addr_cell: Arc<Mutex<String>> = Arc::default();
    let handler: Handler = {
        let page_two_asked = page_two_asked.clone();
        let addr_cell = addr_cell.clone();
        Arc::new(move |request, _| {
            let base = addr_cell.lock().unwrap().clone();
            let strip_next = |doc: &str, next: Option<String>| {
                let mut value: Value = serde_json::from_str(doc).unwrap();
                match next {
                    Some(next) => value["paging"]["next"] = Value::String(next),
                    None => {
                        if let Some(paging) = value["paging"].as_object_mut() {
                            paging.remove("next");
                        }
                    }
                }
                value.to_string()
            };
            if request.target.starts_with("/v21.0/19292868552/feed") {
                return json_reply(strip_next(&p1, Some(format!("http://{base}/page-two"))));
            }
            if request.target.starts_with("/page-two") {
                if page_two_asked.fetch_add(1, Ordering::SeqCst) == 0 {
                    return Reply::Drop;
                }
                return json_reply(strip_next(&p2, None));
            }
            if request.target.contains("/comments") {
                if request
                    .target
                    .starts_with(&format!("/v21.0/{first_post}/comments"))
                {
                    return json_reply(strip_next(&comments, None));
                }
                return json_reply("{\"data\":[]}".to_owned());
            }
            Reply::Full {
                status: 404,
                headers: Vec::new(),
                body: String::new(),
            }
        })
    };
    let addr = http_server(handler).await;
    *addr_cell.lock().unwrap() = addr.to_string();
    let config = FacebookConfig {
        base_url: format!("http://{addr}/v21.0"),
        page_id: "19292868552".to_owned(),
        token_env: String::new(),
        ..FacebookConfig::default()
    };
    let running = start(Facebook::new("facebook", config), None);
    let (cursor, health, _) = running.assert_compliance(&expected, None).await;
    assert!(cursor.unwrap().parse::<i64>().unwrap() > 1_600_000_000);
    assert!(health.errors >= 1);
}

const FEED: &str = r#"<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>Health news</title>
  <link href="https://news.example.invalid/"/>
  <id>urn:feed</id>
  <updated>2026-07-04T10:00:00Z</updated>
  <entry><title>Ward reopens</title><id>urn:a</id><updated>2026-07-04T09:00:00Z</updated><summary>The ward reopened.</summary></entry>
  <entry><title>Strike ballot</title><id>urn:b</id><updated>2026-07-04T10:00:00Z</updated><summary>Nurses vote.</summary></entry>
</feed>"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rss_polls_with_validators_and_retries_a_dropped_request() {
    let found: Vec<Parsed> =
        crate::rss::parse(Box::new(std::io::Cursor::new(FEED.as_bytes().to_vec()))).collect();
    let expected = keys_of(&found);
    let conditional = Arc::new(AtomicUsize::new(0));
    let handler: Handler = {
        let conditional = conditional.clone();
        Arc::new(move |request, number| {
            if number == 0 {
                return Reply::Drop;
            }
            if request.header("if-none-match") == Some("\"v1\"") {
                conditional.fetch_add(1, Ordering::SeqCst);
                return Reply::Full {
                    status: 304,
                    headers: Vec::new(),
                    body: String::new(),
                };
            }
            Reply::Full {
                status: 200,
                headers: vec![
                    ("content-type", "application/atom+xml".to_owned()),
                    ("etag", "\"v1\"".to_owned()),
                    ("last-modified", "Sat, 04 Jul 2026 10:00:00 GMT".to_owned()),
                ],
                body: FEED.to_owned(),
            }
        })
    };
    let addr = http_server(handler).await;
    let config = RssConfig {
        url: format!("http://{addr}/feed.atom"),
        poll_interval_secs: 1,
    };
    let running = start(Rss::new("news", config), None);
    let (cursor, _, _) = running.assert_compliance(&expected, None).await;
    assert_eq!(
        cursor.as_deref(),
        Some("\"v1\"\tSat, 04 Jul 2026 10:00:00 GMT")
    );
}

/// A GDELT DOC API answer (no recorded sample exists; this follows the API's documented shape).
const GDELT: &str = r#"{"articles": [
  {"url": "https://news.example.invalid/a", "url_mobile": "", "title": "Hospital cyber attack disrupts clinics", "seendate": "20260704T091500Z", "socialimage": "", "domain": "news.example.invalid", "language": "English", "sourcecountry": "United Kingdom"},
  {"url": "https://paper.example.invalid/b", "url_mobile": "", "title": "Ward reopens after norovirus outbreak", "seendate": "20260704T101500Z", "socialimage": "", "domain": "paper.example.invalid", "language": "English", "sourcecountry": "United Kingdom"}
]}"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gdelt_polls_from_its_cursor_and_retries_a_dropped_request() {
    let mut found = Vec::new();
    super::gdelt::parse_page(GDELT, &mut found);
    let expected = keys_of(&found);
    assert_eq!(expected.len(), 2);
    let starts: Arc<Mutex<Vec<Option<String>>>> = Arc::default();
    let handler: Handler = {
        let starts = starts.clone();
        Arc::new(move |request, number| {
            if number == 0 {
                return Reply::Drop;
            }
            assert_eq!(request.param("mode").as_deref(), Some("artlist"));
            starts.lock().unwrap().push(request.param("startdatetime"));
            json_reply(GDELT.to_owned())
        })
    };
    let addr = http_server(handler).await;
    let config = GdeltConfig {
        base_url: format!("http://{addr}/api/v2/doc/doc"),
        query: "hospital".to_owned(),
        poll_interval_secs: 1,
    };
    let running = start(Gdelt::new("gdelt", config), None);
    let (cursor, _, _) = running.assert_compliance(&expected, None).await;
    assert_eq!(cursor.as_deref(), Some("20260704101500"));
    assert_eq!(starts.lock().unwrap().first(), Some(&None));
}

#[test]
fn backoff_grows_with_jitter_and_resets() {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(1));
    let waits: Vec<Duration> = (0..6).map(|_| backoff.next_wait()).collect();
    assert!(waits[0] >= Duration::from_millis(50) && waits[0] <= Duration::from_millis(100));
    assert!(waits[3] >= Duration::from_millis(400) && waits[3] <= Duration::from_millis(800));
    assert!(waits[5] <= Duration::from_secs(1));
    backoff.reset();
    assert!(backoff.next_wait() <= Duration::from_millis(100));
}
