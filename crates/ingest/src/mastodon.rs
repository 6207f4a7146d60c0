//! Mastodon: REST API responses and the streaming API, turned into posts and deletions.
//!
//! [`parse_document`] reads one JSON document: a status, an array of statuses (timelines), a
//! search v2 result, notifications (v1 lists and v2 grouped results), a context, conversations,
//! an edit history, a deleted-status response, trends, an account, an error body, or one
//! WebSocket streaming message. [`parse_sse`] reads a `text/event-stream` body event by event,
//! never holding more than one event in memory. Status HTML becomes plain text through
//! [`crate::html`]; a boost becomes a repost of the original, which is imported too, and a quote
//! post a quote of the status it embeds. Each status is imported at most once per document.

use std::collections::{HashSet, VecDeque};

use jiff::Timestamp;
use model::{Author, Change, Counts, Deletion, Network, Post, Relation, RelationKind};
use serde_json::{Map, Value};

use crate::{
    Location, Parsed, Record, Rejected,
    bluesky::parse_time,
    html,
    input::{Input, Records},
};

/// Parses one Mastodon JSON document (a whole API response, one JSON Lines line, or one
/// WebSocket streaming message) and pushes what it found.
pub fn parse_document(doc: &str, out: &mut Vec<Parsed>) {
    let value: Value = match serde_json::from_str(doc) {
        Ok(value) => value,
        Err(error) => {
            out.push(Err(Rejected::at("", format!("not valid JSON ({error})"))));
            return;
        }
    };
    let mut document = Document { seen: HashSet::new(), out };
    document.top(&value);
}

/// Parses a Mastodon streaming API body (`text/event-stream`), one event at a time.
///
/// Comment lines (heartbeats such as `:)`) are ignored; `update` and `status.update` events give
/// posts, `delete` a deletion, `notification` and `conversation` the status they carry, and
/// other events (`filters_changed`, `announcement`) are skipped. Rejections carry the line where
/// their event starts.
pub fn parse_sse(input: Input) -> Records {
    Box::new(SseRecords {
        input,
        line_number: 0,
        buffer: Vec::new(),
        pending: VecDeque::new(),
        finished: false,
    })
}

struct SseRecords {
    input: Input,
    line_number: u64,
    buffer: Vec<u8>,
    pending: VecDeque<Parsed>,
    finished: bool,
}

/// One event being read: its name, its data lines and the line where it started.
#[derive(Default)]
struct Event {
    name: Option<String>,
    data: Option<String>,
    start: Option<u64>,
}

impl SseRecords {
    /// Reads up to the end of the next event and queues what it holds. Returns false at the end
    /// of the input.
    fn fill(&mut self) -> bool {
        let mut event = Event::default();
        loop {
            self.buffer.clear();
            match self.input.read_until(b'\n', &mut self.buffer) {
                Ok(0) => {
                    self.dispatch(event);
                    return false;
                }
                Ok(_) => {}
                Err(error) => {
                    self.dispatch(event);
                    self.pending.push_back(Err(Rejected {
                        location: Location::line(self.line_number + 1),
                        reason: format!(
                            "the stream stops here: {error}. If it is gzip, the file is cut short \
                             or damaged: copy it again; everything before this point was read"
                        ),
                        excerpt: None,
                    }));
                    return false;
                }
            }
            self.line_number += 1;
            let line = String::from_utf8_lossy(&self.buffer);
            let line = line.trim_end_matches(['\n', '\r']);
            if line.is_empty() {
                if event.start.is_some() {
                    self.dispatch(event);
                    return true;
                }
                continue;
            }
            if line.starts_with(':') {
                continue;
            }
            let (field, value) = match line.split_once(':') {
                Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
                None => (line, ""),
            };
            match field {
                "event" => {
                    event.start.get_or_insert(self.line_number);
                    event.name = Some(value.to_owned());
                }
                "data" => {
                    event.start.get_or_insert(self.line_number);
                    match &mut event.data {
                        Some(data) => {
                            data.push('\n');
                            data.push_str(value);
                        }
                        None => event.data = Some(value.to_owned()),
                    }
                }
                _ => {}
            }
        }
    }

    fn dispatch(&mut self, event: Event) {
        let Some(start) = event.start else {
            return;
        };
        let name = event.name.unwrap_or_else(|| "message".to_owned());
        let data = event.data.unwrap_or_default();
        let mut found = Vec::new();
        stream_event(&name, &data, &mut found);
        for mut item in found {
            if let Err(rejected) = &mut item {
                rejected.location.line.get_or_insert(start);
            }
            self.pending.push_back(item);
        }
    }
}

impl Iterator for SseRecords {
    type Item = Parsed;

    fn next(&mut self) -> Option<Parsed> {
        loop {
            if let Some(item) = self.pending.pop_front() {
                return Some(item);
            }
            if self.finished {
                return None;
            }
            if !self.fill() {
                self.finished = true;
            }
        }
    }
}

/// Handles one streaming event (from the event stream or a WebSocket message).
fn stream_event(name: &str, data: &str, out: &mut Vec<Parsed>) {
    let json = || -> Result<Value, Rejected> {
        serde_json::from_str(data).map_err(|error| {
            Rejected::at("", format!("the `{name}` event's data is not valid JSON ({error})"))
                .with_excerpt(data)
        })
    };
    let mut document = Document { seen: HashSet::new(), out };
    match name {
        "update" | "status.update" => match json() {
            Ok(value) => document.status(&value, ""),
            Err(rejected) => document.out.push(Err(rejected)),
        },
        "notification" => match json() {
            Ok(value) => document.notification(&value, ""),
            Err(rejected) => document.out.push(Err(rejected)),
        },
        "conversation" => match json() {
            Ok(value) => document.conversation(&value, ""),
            Err(rejected) => document.out.push(Err(rejected)),
        },
        "delete" => {
            let id = data.trim().trim_matches('"');
            if id.is_empty() {
                document.out.push(Err(Rejected::at(
                    "",
                    "a `delete` event without the id of the deleted status; the stream is damaged",
                )));
            } else {
                document.out.push(Ok(Record::Change(Change::Delete(Deletion {
                    network: Network::Mastodon,
                    id: id.to_owned(),
                    deleted_at: None,
                }))));
            }
        }
        other => document.skip(&format!("mastodon {other} event")),
    }
}

/// What is read from one document: the output and the ids of statuses already emitted.
struct Document<'a> {
    seen: HashSet<String>,
    out: &'a mut Vec<Parsed>,
}

fn child(pointer: &str, key: impl std::fmt::Display) -> String {
    format!("{pointer}/{key}")
}

fn is_status(object: &Map<String, Value>) -> bool {
    object.contains_key("id")
        && object.contains_key("account")
        && (object.contains_key("content") || object.contains_key("text"))
}

fn non_null<'v>(object: &'v Map<String, Value>, key: &str) -> Option<&'v Value> {
    object.get(key).filter(|value| !value.is_null())
}

fn string<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

/// An id as the server spells it: a string, or a JSON number kept as its digits.
fn id_of(value: &Value) -> Option<String> {
    match value.get("id")? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

impl Document<'_> {
    fn skip(&mut self, kind: &str) {
        self.out.push(Ok(Record::Skipped { kind: kind.to_owned() }));
    }

    fn reject(&mut self, pointer: &str, reason: impl Into<String>) {
        self.out.push(Err(Rejected::at(pointer, reason)));
    }

    fn top(&mut self, value: &Value) {
        match value {
            Value::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    self.item(item, &child("", index));
                }
            }
            Value::Object(object) => self.object(value, object),
            _ => self.reject(
                "",
                "not a Mastodon API response (expected a JSON object or array); check that this \
                 is a Mastodon export",
            ),
        }
    }

    fn object(&mut self, value: &Value, object: &Map<String, Value>) {
        if let Some(error) = object.get("error").and_then(Value::as_str) {
            self.reject("", error_advice(error, object.get("error_description")));
        } else if let (Some(event), Some(payload)) =
            (object.get("event").and_then(Value::as_str), object.get("payload"))
        {
            let data = match payload {
                Value::String(text) => text.clone(),
                other => other.to_string(),
            };
            stream_event(event, &data, self.out);
        } else if object.contains_key("notification_groups") {
            self.grouped_notifications(value);
        } else if object.contains_key("ancestors") || object.contains_key("descendants") {
            self.context(value);
        } else if object.contains_key("statuses")
            || object.contains_key("accounts") && object.contains_key("hashtags")
        {
            self.search(value);
        } else {
            self.item(value, "");
        }
    }

    /// One element of an array, or a single object: recognised by its fields.
    fn item(&mut self, value: &Value, pointer: &str) {
        let Some(object) = value.as_object() else {
            self.reject(pointer, "expected a JSON object here");
            return;
        };
        if is_status(object) {
            self.status(value, pointer);
        } else if object.contains_key("last_status")
            || object.contains_key("accounts") && object.contains_key("unread")
        {
            self.conversation(value, pointer);
        } else if object.contains_key("type")
            && object.contains_key("account")
            && !object.contains_key("content")
        {
            self.notification(value, pointer);
        } else if object.contains_key("content") && object.contains_key("account") {
            self.skip("mastodon status edit");
        } else if object.contains_key("acct") && object.contains_key("username") {
            self.skip("mastodon account");
        } else if object.contains_key("text") && object.contains_key("spoiler_text") {
            self.skip("mastodon status source");
        } else if object.contains_key("history") && object.contains_key("name") {
            self.skip("mastodon trending tag");
        } else if object.contains_key("history") && object.contains_key("url") {
            self.skip("mastodon trending link");
        } else {
            self.reject(
                pointer,
                "not a Mastodon status, notification, conversation, account or trend; check \
                 that this is a Mastodon API response",
            );
        }
    }

    fn search(&mut self, value: &Value) {
        for (key, kind) in [
            ("accounts", "mastodon account"),
            ("hashtags", "mastodon hashtag"),
            ("collections", "mastodon collection"),
        ] {
            for _ in value.get(key).and_then(Value::as_array).into_iter().flatten() {
                self.skip(kind);
            }
        }
        for (index, status) in
            value.get("statuses").and_then(Value::as_array).into_iter().flatten().enumerate()
        {
            self.status(status, &child("/statuses", index));
        }
    }

    fn context(&mut self, value: &Value) {
        let root = value
            .get("ancestors")
            .and_then(Value::as_array)
            .and_then(|ancestors| ancestors.first())
            .filter(|first| first.get("in_reply_to_id").is_none_or(Value::is_null))
            .and_then(id_of);
        for key in ["ancestors", "descendants"] {
            for (index, status) in
                value.get(key).and_then(Value::as_array).into_iter().flatten().enumerate()
            {
                self.status_in_thread(status, &child(&child("", key), index), root.as_deref());
            }
        }
    }

    fn grouped_notifications(&mut self, value: &Value) {
        let statuses: Vec<&Value> =
            value.get("statuses").and_then(Value::as_array).into_iter().flatten().collect();
        let groups = value.get("notification_groups").and_then(Value::as_array);
        for (index, group) in groups.into_iter().flatten().enumerate() {
            let pointer = child("/notification_groups", index);
            let kind = string(group, "type").unwrap_or("unknown");
            let status_id = group.get("status_id").and_then(|id| match id {
                Value::String(id) => Some(id.clone()),
                Value::Number(id) => Some(id.to_string()),
                _ => None,
            });
            match status_id {
                Some(status_id) => {
                    match statuses.iter().position(|s| id_of(s).as_deref() == Some(&status_id)) {
                        Some(position) => {
                            if let Some(status) = statuses.get(position) {
                                self.status(status, &child("/statuses", position));
                            }
                        }
                        None => self.reject(
                            &child(&pointer, "status_id"),
                            format!(
                                "the notification refers to status {status_id}, which is not in \
                                 the `statuses` list; export the notifications again"
                            ),
                        ),
                    }
                }
                None => self.skip(&format!("mastodon {kind} notification")),
            }
        }
        for (index, status) in statuses.iter().enumerate() {
            self.status(status, &child("/statuses", index));
        }
    }

    fn notification(&mut self, value: &Value, pointer: &str) {
        match value.get("status").filter(|status| !status.is_null()) {
            Some(status) => self.status(status, &child(pointer, "status")),
            None => {
                let kind = string(value, "type").unwrap_or("unknown");
                self.skip(&format!("mastodon {kind} notification"));
            }
        }
    }

    fn conversation(&mut self, value: &Value, pointer: &str) {
        match value.get("last_status").filter(|status| !status.is_null()) {
            Some(status) => self.status(status, &child(pointer, "last_status")),
            None => self.skip("mastodon conversation without a status"),
        }
    }

    fn status(&mut self, value: &Value, pointer: &str) {
        self.status_in_thread(value, pointer, None);
    }

    /// Emits a status (and the statuses it boosts or quotes), or its deletion.
    fn status_in_thread(&mut self, value: &Value, pointer: &str, thread: Option<&str>) {
        let Some(object) = value.as_object() else {
            self.reject(pointer, "expected a status object here");
            return;
        };
        let Some(id) = id_of(value) else {
            self.reject(&child(pointer, "id"), "a status without an id; it cannot be imported");
            return;
        };
        if !self.seen.insert(id.clone()) {
            return;
        }
        if !object.contains_key("content") && object.contains_key("text") {
            self.out.push(Ok(Record::Change(Change::Delete(Deletion {
                network: Network::Mastodon,
                id,
                deleted_at: None,
            }))));
            return;
        }
        let reblog = non_null(object, "reblog").filter(|reblog| reblog.is_object());
        let quoted = quoted_status(object);
        let built = match reblog {
            Some(original) => build_post(original, &child(pointer, "reblog")).and_then(|original| {
                let mut post = build_post(value, pointer)?;
                post.text = original.text;
                post.title = original.title;
                post.lang = post.lang.or(original.lang);
                post.hashtags = original.hashtags;
                post.mentions = original.mentions;
                post.links = original.links;
                post.media_count = original.media_count;
                post.relation =
                    Some(Relation { kind: RelationKind::Repost, target_id: original.id });
                Ok(post)
            }),
            None => build_post(value, pointer).map(|mut post| {
                post.relation = quote_target(object, quoted)
                    .map(|target_id| Relation { kind: RelationKind::Quote, target_id });
                post
            }),
        };
        match built {
            Ok(mut post) => {
                if post.thread_id.is_none() {
                    post.thread_id = thread.map(str::to_owned);
                }
                self.out.push(Ok(Record::Change(Change::Upsert(Box::new(post)))));
            }
            Err(rejected) => self.out.push(Err(rejected)),
        }
        if let Some(original) = reblog {
            self.status_in_thread(original, &child(pointer, "reblog"), None);
        }
        if let Some((quoted, quoted_pointer)) = quoted {
            self.status_in_thread(quoted, &child(pointer, quoted_pointer), None);
        }
    }
}

/// The status a quote post embeds, with its pointer below the quoting status: the current
/// `quote.quoted_status` shape, or an older `quote` that is itself a status.
fn quoted_status(object: &Map<String, Value>) -> Option<(&Value, &'static str)> {
    let quote = non_null(object, "quote")?;
    if let Some(quoted) = quote.get("quoted_status").filter(|q| q.is_object()) {
        return Some((quoted, "quote/quoted_status"));
    }
    quote.as_object().filter(|q| is_status(q)).map(|_| (quote, "quote"))
}

/// The id of the quoted status, from an embedded status or a bare reference.
fn quote_target(
    object: &Map<String, Value>,
    quoted: Option<(&Value, &'static str)>,
) -> Option<String> {
    if let Some(id) = quoted.and_then(|(status, _)| id_of(status)) {
        return Some(id);
    }
    let reference = non_null(object, "quote")
        .and_then(|quote| quote.get("quoted_status_id"))
        .or_else(|| non_null(object, "quote_id"));
    match reference? {
        Value::String(id) if !id.is_empty() => Some(id.clone()),
        Value::Number(id) => Some(id.to_string()),
        _ => None,
    }
}

/// What to tell a person who imports an error body instead of data.
fn error_advice(error: &str, description: Option<&Value>) -> String {
    let lower = error.to_ascii_lowercase();
    let detail = description
        .and_then(Value::as_str)
        .map(|d| format!(" ({d})"))
        .unwrap_or_default();
    let advice = if lower.contains("token") || lower.contains("authori") || lower.contains("auth") {
        "the request was not authorised: check the access token (it may be missing, expired or \
         revoked, or lack the read scope) and fetch the data again"
    } else if lower.contains("not found") {
        "the status, account or timeline does not exist or is not visible to this account: \
         check the id or URL and fetch the data again"
    } else if lower.contains("rate") || lower.contains("too many") {
        "the server limited the request rate: wait a few minutes and fetch the data again"
    } else {
        "fetch the data again, or leave this file out"
    };
    format!("the Mastodon server answered with an error, not data: \"{error}\"{detail}; {advice}")
}

/// Parses a Mastodon time, naming the field when it is missing or malformed.
fn time_field(value: &Value, key: &str, pointer: &str) -> Result<Option<Timestamp>, Rejected> {
    match value.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(text)) => parse_time(text).map(Some).ok_or_else(|| {
            Rejected::at(child(pointer, key), format!("`{text}` is not a date and time"))
        }),
        Some(_) => Err(Rejected::at(child(pointer, key), "expected a date and time string")),
    }
}

fn count(value: &Value, key: &str) -> Option<u64> {
    value.get(key).and_then(Value::as_u64)
}

/// Builds the post of one status object, without following its boost or quote.
fn build_post(value: &Value, pointer: &str) -> Result<Post, Rejected> {
    let id = id_of(value)
        .ok_or_else(|| Rejected::at(child(pointer, "id"), "a status without an id"))?;
    let account = value
        .get("account")
        .filter(|account| account.is_object())
        .ok_or_else(|| Rejected::at(child(pointer, "account"), "a status without its account"))?;
    let author = author(account, &child(pointer, "account"))?;
    let created_at = time_field(value, "created_at", pointer)?
        .ok_or_else(|| Rejected::at(child(pointer, "created_at"), "a status without created_at"))?;
    let content = html::to_text(string(value, "content").unwrap_or_default());
    let mut post = Post::new(Network::Mastodon, id, author, content.text, created_at);
    post.url = string(value, "url").or_else(|| string(value, "uri")).map(str::to_owned);
    post.title = string(value, "spoiler_text").filter(|s| !s.trim().is_empty()).map(str::to_owned);
    post.lang = string(value, "language").filter(|l| !l.is_empty()).map(str::to_owned);
    post.edited_at = time_field(value, "edited_at", pointer)?;
    post.reply_to = match value.get("in_reply_to_id") {
        Some(Value::String(id)) if !id.is_empty() => Some(id.clone()),
        Some(Value::Number(id)) => Some(id.to_string()),
        _ => None,
    };
    post.counts = Counts {
        likes: count(value, "favourites_count"),
        replies: count(value, "replies_count"),
        reposts: count(value, "reblogs_count"),
        quotes: count(value, "quotes_count"),
    };
    post.hashtags = names(value, "tags", "name");
    post.mentions = names(value, "mentions", "acct");
    post.links = content.links;
    if let Some(card) = value.get("card").and_then(|card| string(card, "url"))
        && !post.links.iter().any(|link| link == card)
    {
        post.links.push(card.to_owned());
    }
    post.media_count = value
        .get("media_attachments")
        .and_then(Value::as_array)
        .map_or(0, |media| u32::try_from(media.len()).unwrap_or(u32::MAX));
    post.raw = value.to_string();
    Ok(post)
}

/// The `field` of every object in the array `key`.
fn names(value: &Value, key: &str, field: &str) -> Vec<String> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|item| string(item, field))
        .map(str::to_owned)
        .collect()
}

/// The author of a status from its `account` object.
fn author(account: &Value, pointer: &str) -> Result<Author, Rejected> {
    let id = id_of(account)
        .ok_or_else(|| Rejected::at(child(pointer, "id"), "an account without an id"))?;
    let acct = string(account, "acct")
        .or_else(|| string(account, "username"))
        .ok_or_else(|| Rejected::at(child(pointer, "acct"), "an account without acct"))?;
    let url = string(account, "url").map(str::to_owned);
    let handle = if acct.contains('@') {
        acct.to_owned()
    } else {
        match url.as_deref().or_else(|| string(account, "uri")).and_then(host) {
            Some(domain) => format!("{acct}@{domain}"),
            None => acct.to_owned(),
        }
    };
    let bio = html::to_text(string(account, "note").unwrap_or_default()).text;
    Ok(Author {
        id,
        handle,
        display_name: string(account, "display_name")
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned),
        bio: Some(bio).filter(|bio| !bio.is_empty()),
        followers: count(account, "followers_count"),
        verified: account
            .get("fields")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .any(|field| field.get("verified_at").is_some_and(|at| !at.is_null())),
        url,
    })
}

/// The host (with port, if any) of an `http(s)` URL.
fn host(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let host = rest.get(..end)?;
    let host = host.rsplit_once('@').map_or(host, |(_, host)| host);
    Some(host).filter(|host| !host.is_empty())
}
