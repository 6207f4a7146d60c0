//! Bluesky: Jetstream event lines and app view (XRPC) responses, turned into posts and deletions.
//!
//! [`parse_document`] reads one JSON document. A Jetstream line gives a post for each created or
//! updated `app.bsky.feed.post` record, a deletion for a deleted one, a skip for every other
//! collection and for identity and account events, and always the event's `time_us` as a resume
//! cursor. App view responses (searchPosts, getAuthorFeed, getTimeline, getFeed, getListFeed,
//! getActorLikes, getPostThread, getPosts, getQuotes, listNotifications, and the raw records of
//! com.atproto.repo.getRecord and listRecords) give their posts, the posts they reply to or quote,
//! and a repost post for every `reasonRepost`; each post at most once per document. Rich text
//! facets use UTF-8 byte offsets and are read without ever panicking on a bad offset.

use std::collections::HashSet;

use jiff::{Timestamp, civil::DateTime, tz::TimeZone};
use model::{Author, Change, Counts, Deletion, Network, Post, Relation, RelationKind};
use serde_json::Value;

use crate::{Parsed, Record, Rejected};

const POST_COLLECTION: &str = "app.bsky.feed.post";

/// Parses one Bluesky JSON document (a Jetstream line or a whole app view response) and pushes
/// what it found.
pub fn parse_document(doc: &str, out: &mut Vec<Parsed>) {
    let value: Value = match serde_json::from_str(doc) {
        Ok(value) => value,
        Err(error) => {
            out.push(Err(Rejected::at("", format!("not valid JSON ({error})"))));
            return;
        }
    };
    let mut document = Document {
        seen: HashSet::new(),
        missing: HashSet::new(),
        out,
    };
    document.top(&value);
}

/// Parses a date and time robustly: RFC 3339 with any offset, too many fractional digits, an
/// offset without a colon (`+0000`), no offset at all (taken as UTC), or a bare date.
pub(crate) fn parse_time(text: &str) -> Option<Timestamp> {
    let text = text.trim();
    if let Ok(time) = text.parse::<Timestamp>() {
        return Some(time);
    }
    let normalised = normalise_time(text);
    if let Ok(time) = normalised.parse::<Timestamp>() {
        return Some(time);
    }
    let civil = normalised.trim_end_matches(['Z', 'z']);
    if let Ok(time) = civil.parse::<DateTime>() {
        return TimeZone::UTC.to_timestamp(time).ok();
    }
    civil.parse::<jiff::civil::Date>().ok().and_then(|date| {
        TimeZone::UTC
            .to_timestamp(date.to_datetime(jiff::civil::Time::midnight()))
            .ok()
    })
}

/// Cuts fractional seconds to nine digits, puts a colon in a `+hhmm` offset and a `T` between
/// date and time.
fn normalise_time(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 1);
    let mut fraction_digits: Option<usize> = None;
    for (index, c) in text.char_indices() {
        if index == 10 && c == ' ' {
            out.push('T');
            continue;
        }
        match fraction_digits {
            Some(digits) if c.is_ascii_digit() => {
                if digits < 9 {
                    out.push(c);
                }
                fraction_digits = Some(digits + 1);
                continue;
            }
            Some(_) => fraction_digits = None,
            None if c == '.' && index > 10 => {
                fraction_digits = Some(0);
                out.push(c);
                continue;
            }
            None => {}
        }
        out.push(c);
    }
    let bytes = out.as_bytes();
    let length = bytes.len();
    if length > 5
        && matches!(bytes.get(length - 5), Some(b'+' | b'-'))
        && bytes
            .get(length - 4..)
            .is_some_and(|tail| tail.iter().all(u8::is_ascii_digit))
        && bytes
            .get(length - 14)
            .is_some_and(|b| *b == b'T' || b.is_ascii_digit())
    {
        out.insert(length - 2, ':');
    }
    out
}

/// A Jetstream `time_us` (microseconds since the epoch) as a time.
fn time_from_micros(micros: i64) -> Option<Timestamp> {
    Timestamp::from_microsecond(micros).ok()
}

struct Document<'a> {
    seen: HashSet<String>,
    missing: HashSet<String>,
    out: &'a mut Vec<Parsed>,
}

fn child(pointer: &str, key: impl std::fmt::Display) -> String {
    format!("{pointer}/{key}")
}

fn string<'v>(value: &'v Value, key: &str) -> Option<&'v str> {
    value.get(key).and_then(Value::as_str)
}

fn array<'v>(value: &'v Value, key: &str) -> impl Iterator<Item = &'v Value> {
    value
        .get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// The parts of an `at://did/collection/rkey` URI.
fn split_uri(uri: &str) -> Option<(&str, &str, &str)> {
    let mut parts = uri.strip_prefix("at://")?.splitn(3, '/');
    Some((parts.next()?, parts.next()?, parts.next()?))
}

impl Document<'_> {
    fn skip(&mut self, kind: impl Into<String>) {
        self.out.push(Ok(Record::Skipped { kind: kind.into() }));
    }

    fn reject(&mut self, pointer: &str, reason: impl Into<String>) {
        self.out.push(Err(Rejected::at(pointer, reason)));
    }

    fn emit(&mut self, post: Post) {
        if self.seen.insert(post.id.clone()) {
            self.out
                .push(Ok(Record::Change(Change::Upsert(Box::new(post)))));
        }
    }

    fn top(&mut self, value: &Value) {
        if !value.is_object() {
            self.reject(
                "",
                "not a Bluesky response or Jetstream event (expected a JSON object)",
            );
            return;
        }
        if value.get("kind").is_some() && value.get("time_us").is_some() {
            self.jetstream(value);
        } else if let Some(error) = string(value, "error") {
            let message = string(value, "message")
                .map(|m| format!(": {m}"))
                .unwrap_or_default();
            self.reject(
                "",
                format!(
                    "the Bluesky server answered with an error, not data ({error}{message}); \
                     check the handle, post URI or access token and fetch the data again"
                ),
            );
        } else if value.get("feed").is_some() {
            for (index, item) in array(value, "feed").enumerate() {
                self.feed_item(item, &child("/feed", index));
            }
        } else if value.get("posts").is_some() {
            for (index, post) in array(value, "posts").enumerate() {
                self.post_view(post, &child("/posts", index));
            }
        } else if let Some(thread) = value.get("thread") {
            self.thread(thread, "/thread");
        } else if value.get("notifications").is_some() {
            for (index, notification) in array(value, "notifications").enumerate() {
                self.notification(notification, &child("/notifications", index));
            }
        } else if value.get("records").is_some() {
            for (index, record) in array(value, "records").enumerate() {
                self.repo_record(record, &child("/records", index));
            }
        } else if value.get("likes").is_some() {
            for _ in array(value, "likes") {
                self.skip("bluesky like");
            }
        } else if value.get("repostedBy").is_some() {
            for _ in array(value, "repostedBy") {
                self.skip("bluesky repost");
            }
        } else if value.get("value").is_some() && value.get("uri").is_some() {
            self.repo_record(value, "");
        } else if value.get("record").is_some() && value.get("author").is_some() {
            self.post_view(value, "");
        } else {
            self.reject(
                "",
                "not a Bluesky feed, thread, post list, notification list, record or Jetstream \
                 event; check that this is a Bluesky API response",
            );
        }
    }

    fn jetstream(&mut self, event: &Value) {
        let time_us = event.get("time_us").and_then(Value::as_i64);
        match time_us {
            Some(time_us) => self.out.push(Ok(Record::Cursor(time_us.to_string()))),
            None => {
                self.reject(
                    "/time_us",
                    "expected `time_us`, microseconds since 1970, as a number",
                );
                return;
            }
        }
        let event_time = time_us.and_then(time_from_micros);
        match string(event, "kind") {
            Some("commit") => self.commit(event, event_time),
            Some("identity") => self.identity(event, event_time),
            Some(kind) => self.skip(format!("bluesky {kind} event")),
            None => self.reject("/kind", "a Jetstream event without a `kind`"),
        }
    }

    /// An identity event: the account's handle, when it has one (`handle.invalid` and a
    /// missing handle say it has none), replaces the bare DID shown for its posts; otherwise
    /// the event is skipped.
    fn identity(&mut self, event: &Value, event_time: Option<Timestamp>) {
        let identity = event.get("identity");
        let did = identity
            .and_then(|identity| string(identity, "did"))
            .or_else(|| string(event, "did"));
        let handle = identity
            .and_then(|identity| string(identity, "handle"))
            .filter(|handle| !handle.is_empty() && *handle != "handle.invalid");
        let at = identity
            .and_then(|identity| string(identity, "time"))
            .and_then(|time| time.parse::<Timestamp>().ok())
            .or(event_time);
        match (did, handle, at) {
            (Some(did), Some(handle), Some(at)) => {
                self.out
                    .push(Ok(Record::Change(Change::Handle(model::HandleChange {
                        network: Network::Bluesky,
                        author_id: did.to_owned(),
                        handle: handle.to_owned(),
                        at,
                    }))));
            }
            _ => self.skip("bluesky identity event"),
        }
    }

    fn commit(&mut self, event: &Value, event_time: Option<Timestamp>) {
        let Some(commit) = event.get("commit") else {
            self.reject("/commit", "a Jetstream commit event without its `commit`");
            return;
        };
        let Some(collection) = string(commit, "collection") else {
            self.reject(
                "/commit/collection",
                "a Jetstream commit without a collection",
            );
            return;
        };
        if collection != POST_COLLECTION {
            self.skip(format!("bluesky {collection}"));
            return;
        }
        let (Some(did), Some(rkey)) = (string(event, "did"), string(commit, "rkey")) else {
            self.reject("/commit", "a Jetstream post commit without `did` or `rkey`");
            return;
        };
        let id = format!("at://{did}/{POST_COLLECTION}/{rkey}");
        let operation = string(commit, "operation").unwrap_or_default();
        match operation {
            "delete" => self.out.push(Ok(Record::Change(Change::Delete(Deletion {
                network: Network::Bluesky,
                id,
                deleted_at: event_time,
            })))),
            "create" | "update" => {
                let Some(record) = commit.get("record") else {
                    self.reject("/commit/record", "a Jetstream post without its record");
                    return;
                };
                let author = Author {
                    id: did.to_owned(),
                    handle: did.to_owned(),
                    ..Author::default()
                };
                match post_from_record(&id, author, record, event_time, "/commit/record") {
                    Ok(mut post) => {
                        if operation == "update" {
                            post.edited_at = event_time;
                        }
                        post.raw = event.to_string();
                        self.emit(post);
                    }
                    Err(rejected) => self.out.push(Err(rejected)),
                }
            }
            other => self.reject(
                "/commit/operation",
                format!("unknown commit operation `{other}` (expected create, update or delete)"),
            ),
        }
    }

    fn feed_item(&mut self, item: &Value, pointer: &str) {
        let Some(post) = item.get("post") else {
            self.reject(pointer, "a feed item without its post");
            return;
        };
        self.post_view(post, &child(pointer, "post"));
        if let Some(reply) = item.get("reply") {
            for key in ["parent", "root"] {
                if let Some(node) = reply.get(key) {
                    self.node(node, &child(&child(pointer, "reply"), key));
                }
            }
        }
        if let Some(reason) = item.get("reason")
            && string(reason, "$type").is_some_and(|t| t.ends_with("#reasonRepost"))
        {
            self.repost(reason, post, &child(pointer, "reason"));
        }
    }

    /// A repost by `reason.by` of `post`, with the original's text.
    fn repost(&mut self, reason: &Value, post: &Value, pointer: &str) {
        let Some(by) = reason.get("by") else {
            self.reject(&child(pointer, "by"), "a repost without who reposted");
            return;
        };
        let Some(original) = string(post, "uri") else {
            return;
        };
        let author = match view_author(by, &child(pointer, "by")) {
            Ok(author) => author,
            Err(rejected) => {
                self.out.push(Err(rejected));
                return;
            }
        };
        let id = match string(reason, "uri") {
            Some(uri) => uri.to_owned(),
            None => {
                let rkey = split_uri(original).map_or(original, |(_, _, rkey)| rkey);
                format!("at://{}/app.bsky.feed.repost/{rkey}", author.id)
            }
        };
        let Some(created_at) = string(reason, "indexedAt")
            .and_then(parse_time)
            .or_else(|| string(post, "indexedAt").and_then(parse_time))
        else {
            self.reject(
                &child(pointer, "indexedAt"),
                "a repost without a readable indexedAt",
            );
            return;
        };
        let text = post
            .get("record")
            .and_then(|record| string(record, "text"))
            .unwrap_or_default();
        let mut repost = Post::new(Network::Bluesky, id, author, text, created_at);
        repost.relation = Some(Relation {
            kind: RelationKind::Repost,
            target_id: original.to_owned(),
        });
        repost.raw = reason.to_string();
        self.emit(repost);
    }

    /// A thread or reply node: a post view, or a post that is gone or blocked.
    fn node(&mut self, node: &Value, pointer: &str) {
        let kind = string(node, "$type").unwrap_or_default();
        let missing = if kind.ends_with("#notFoundPost") || node.get("notFound").is_some() {
            Some("bluesky not found post")
        } else if kind.ends_with("#blockedPost") || node.get("blocked").is_some() {
            Some("bluesky blocked post")
        } else {
            None
        };
        if let Some(label) = missing {
            let uri = string(node, "uri").unwrap_or_default().to_owned();
            if self.missing.insert(uri) {
                self.skip(label);
            }
        } else if let Some(post) = node.get("post") {
            self.post_view(post, &child(pointer, "post"));
        } else if node.get("record").is_some() {
            self.post_view(node, pointer);
        } else {
            self.reject(
                pointer,
                "a thread node that is neither a post nor a missing post",
            );
        }
    }

    fn thread(&mut self, node: &Value, pointer: &str) {
        self.node(node, pointer);
        if let Some(parent) = node.get("parent") {
            self.thread(parent, &child(pointer, "parent"));
        }
        for (index, reply) in array(node, "replies").enumerate() {
            self.thread(reply, &child(&child(pointer, "replies"), index));
        }
    }

    /// A post view, and the post it quotes when the view embeds it with its text.
    fn post_view(&mut self, view: &Value, pointer: &str) {
        match post_from_view(view, "record", pointer) {
            Ok(post) => self.emit(post),
            Err(rejected) => {
                self.out.push(Err(rejected));
                return;
            }
        }
        let embed = view.get("embed");
        let embedded = match embed.and_then(|e| string(e, "$type")) {
            Some("app.bsky.embed.record#view") => embed
                .and_then(|e| e.get("record"))
                .map(|r| (r, "embed/record")),
            Some("app.bsky.embed.recordWithMedia#view") => embed
                .and_then(|e| e.get("record"))
                .and_then(|r| r.get("record"))
                .map(|r| (r, "embed/record/record")),
            _ => None,
        };
        if let Some((record, at)) = embedded
            && string(record, "$type") == Some("app.bsky.embed.record#viewRecord")
            && record
                .get("value")
                .and_then(|value| string(value, "text"))
                .is_some_and(|text| !text.trim().is_empty())
        {
            match post_from_view(record, "value", &child(pointer, at)) {
                Ok(post) => self.emit(post),
                Err(rejected) => self.out.push(Err(rejected)),
            }
        }
    }

    fn notification(&mut self, notification: &Value, pointer: &str) {
        let reason = string(notification, "reason").unwrap_or("unknown");
        let is_post = notification
            .get("record")
            .and_then(|record| string(record, "$type"))
            .is_some_and(|t| t == POST_COLLECTION);
        if matches!(reason, "reply" | "mention" | "quote") && is_post {
            match post_from_view(notification, "record", pointer) {
                Ok(post) => self.emit(post),
                Err(rejected) => self.out.push(Err(rejected)),
            }
        } else {
            self.skip(format!("bluesky {reason} notification"));
        }
    }

    /// A raw repository record (`uri`, `cid`, `value`), as getRecord and listRecords return.
    fn repo_record(&mut self, record: &Value, pointer: &str) {
        let Some(uri) = string(record, "uri") else {
            self.reject(&child(pointer, "uri"), "a record without its uri");
            return;
        };
        let Some(value) = record.get("value") else {
            self.reject(&child(pointer, "value"), "a record without its value");
            return;
        };
        let kind = string(value, "$type").unwrap_or_default();
        if kind != POST_COLLECTION {
            self.skip(format!("bluesky {kind}"));
            return;
        }
        let did = split_uri(uri).map_or(uri, |(did, _, _)| did);
        let author = Author {
            id: did.to_owned(),
            handle: did.to_owned(),
            ..Author::default()
        };
        match post_from_record(uri, author, value, None, &child(pointer, "value")) {
            Ok(mut post) => {
                post.raw = record.to_string();
                self.emit(post);
            }
            Err(rejected) => self.out.push(Err(rejected)),
        }
    }
}

/// The author of a view: `did`, `handle`, `displayName`, `description`.
fn view_author(author: &Value, pointer: &str) -> Result<Author, Rejected> {
    let did = string(author, "did")
        .ok_or_else(|| Rejected::at(child(pointer, "did"), "an author without a did"))?;
    let handle = string(author, "handle")
        .filter(|h| !h.is_empty())
        .unwrap_or(did);
    Ok(Author {
        id: did.to_owned(),
        handle: handle.to_owned(),
        display_name: string(author, "displayName")
            .filter(|name| !name.trim().is_empty())
            .map(str::to_owned),
        bio: string(author, "description")
            .filter(|bio| !bio.trim().is_empty())
            .map(str::to_owned),
        followers: author.get("followersCount").and_then(Value::as_u64),
        verified: author
            .get("verification")
            .and_then(|v| string(v, "verifiedStatus"))
            .is_some_and(|status| status == "valid"),
        url: Some(format!("https://bsky.app/profile/{handle}")),
    })
}

/// A post from a view that has `uri`, `author`, the record under `record_key`, counts and
/// `indexedAt`: a postView, a quoted viewRecord, or a notification.
fn post_from_view(view: &Value, record_key: &str, pointer: &str) -> Result<Post, Rejected> {
    let uri = string(view, "uri")
        .ok_or_else(|| Rejected::at(child(pointer, "uri"), "a post without its uri"))?;
    let author_value = view
        .get("author")
        .ok_or_else(|| Rejected::at(child(pointer, "author"), "a post without its author"))?;
    let author = view_author(author_value, &child(pointer, "author"))?;
    let record = view
        .get(record_key)
        .ok_or_else(|| Rejected::at(child(pointer, record_key), "a post without its record"))?;
    let indexed = string(view, "indexedAt").and_then(parse_time);
    let handle = author.handle.clone();
    let mut post = post_from_record(uri, author, record, indexed, &child(pointer, record_key))?;
    if let Some((_, _, rkey)) = split_uri(uri) {
        post.url = Some(format!("https://bsky.app/profile/{handle}/post/{rkey}"));
    }
    post.counts = Counts {
        likes: view.get("likeCount").and_then(Value::as_u64),
        replies: view.get("replyCount").and_then(Value::as_u64),
        reposts: view.get("repostCount").and_then(Value::as_u64),
        quotes: view.get("quoteCount").and_then(Value::as_u64),
    };
    post.raw = view.to_string();
    Ok(post)
}

/// A post from an `app.bsky.feed.post` record. `fallback` is used when `createdAt` is missing
/// or unreadable (Jetstream `time_us`, app view `indexedAt`).
fn post_from_record(
    uri: &str,
    author: Author,
    record: &Value,
    fallback: Option<Timestamp>,
    pointer: &str,
) -> Result<Post, Rejected> {
    let created_at = string(record, "createdAt")
        .and_then(parse_time)
        .or(fallback)
        .ok_or_else(|| {
            Rejected::at(
                child(pointer, "createdAt"),
                "a post without a readable createdAt, and no other time to use",
            )
        })?;
    let text = string(record, "text").unwrap_or_default();
    let mut post = Post::new(Network::Bluesky, uri, author, text, created_at);
    post.lang = array(record, "langs")
        .filter_map(Value::as_str)
        .next()
        .map(str::to_owned);
    if let Some(reply) = record.get("reply") {
        post.reply_to = reply
            .get("parent")
            .and_then(|p| string(p, "uri"))
            .map(str::to_owned);
        post.thread_id = reply
            .get("root")
            .and_then(|r| string(r, "uri"))
            .map(str::to_owned);
    }
    let embed = record.get("embed");
    let (quoted, media) = match embed.and_then(|e| string(e, "$type")) {
        Some("app.bsky.embed.record") => (embed.and_then(|e| e.get("record")), None),
        Some("app.bsky.embed.recordWithMedia") => (
            embed
                .and_then(|e| e.get("record"))
                .and_then(|r| r.get("record")),
            embed.and_then(|e| e.get("media")),
        ),
        _ => (None, embed),
    };
    post.relation = quoted
        .and_then(|q| string(q, "uri"))
        .filter(|target| split_uri(target).is_some_and(|(_, c, _)| c == POST_COLLECTION))
        .map(|target| Relation {
            kind: RelationKind::Quote,
            target_id: target.to_owned(),
        });
    post.media_count = media.map_or(0, media_count);
    facets(record, text, &mut post);
    for tag in array(record, "tags").filter_map(Value::as_str) {
        if !post.hashtags.iter().any(|t| t == tag) {
            post.hashtags.push(tag.to_owned());
        }
    }
    if let Some(external) = embed
        .and_then(|e| e.get("external"))
        .or_else(|| media.and_then(|m| m.get("external")))
        .and_then(|external| string(external, "uri"))
        && !post.links.iter().any(|link| link == external)
    {
        post.links.push(external.to_owned());
    }
    post.raw = record.to_string();
    Ok(post)
}

/// How many images or videos an embed (or the media half of a recordWithMedia) carries.
fn media_count(media: &Value) -> u32 {
    match string(media, "$type") {
        Some("app.bsky.embed.images") => {
            u32::try_from(array(media, "images").count()).unwrap_or(u32::MAX)
        }
        Some("app.bsky.embed.video") => 1,
        _ => 0,
    }
}

/// Links, mentions and hashtags from rich-text facets. Offsets are UTF-8 byte offsets into
/// `text`; a facet whose range is out of bounds or not on character boundaries is ignored for
/// what needs the text, never a panic.
fn facets(record: &Value, text: &str, post: &mut Post) {
    for facet in array(record, "facets") {
        let index = facet.get("index");
        let start = index
            .and_then(|i| i.get("byteStart"))
            .and_then(Value::as_u64);
        let end = index.and_then(|i| i.get("byteEnd")).and_then(Value::as_u64);
        let slice = match (start, end) {
            (Some(start), Some(end)) => usize::try_from(start)
                .ok()
                .zip(usize::try_from(end).ok())
                .and_then(|(start, end)| text.get(start..end)),
            _ => None,
        };
        for feature in array(facet, "features") {
            match string(feature, "$type").unwrap_or_default() {
                "app.bsky.richtext.facet#link" => {
                    if let Some(uri) = string(feature, "uri")
                        && !post.links.iter().any(|link| link == uri)
                    {
                        post.links.push(uri.to_owned());
                    }
                }
                "app.bsky.richtext.facet#mention" => {
                    let handle = slice
                        .map(|s| s.trim().trim_start_matches('@'))
                        .filter(|s| !s.is_empty())
                        .or_else(|| string(feature, "did"));
                    if let Some(handle) = handle
                        && !post.mentions.iter().any(|m| m == handle)
                    {
                        post.mentions.push(handle.to_owned());
                    }
                }
                "app.bsky.richtext.facet#tag" => {
                    if let Some(tag) = string(feature, "tag")
                        && !post.hashtags.iter().any(|t| t == tag)
                    {
                        post.hashtags.push(tag.to_owned());
                    }
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::{Format, ImportOptions, input};

    const SAMPLES: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/api-samples/bluesky"
    );

    /// Per file: posts, deletions, skipped, cursors, rejected.
    const EXPECTED: &[(&str, [usize; 5])] = &[
        // 7 liked posts + 1 reply parent/root pair adds 1 new post + 3 quoted posts with text.
        ("bskyr__getActorLikes.json", [11, 0, 0, 0, 0]),
        // 50 posts, reply parents/roots, quoted posts, 7 reposts; 3 distinct not-found parents.
        ("bskyr__getAuthorFeed.json", [87, 0, 3, 0, 0]),
        ("bskyr__getFeed__bsky-team.json", [7, 0, 0, 0, 0]),
        ("bskyr__getLikes.json", [0, 0, 4, 0, 0]),
        ("bskyr__getListFeed.json", [10, 0, 0, 0, 0]),
        ("bskyr__getPostThread.json", [1, 0, 0, 0, 0]),
        ("bskyr__getPosts.json", [1, 0, 0, 0, 0]),
        // 2 quote posts and the post they both quote.
        ("bskyr__getQuotes.json", [3, 0, 0, 0, 0]),
        ("bskyr__getRecord__quote-post.json", [1, 0, 0, 0, 0]),
        ("bskyr__getRecord__reply-post.json", [1, 0, 0, 0, 0]),
        ("bskyr__getRepostedBy.json", [0, 0, 1, 0, 0]),
        // 49 posts, 3 reply parents/roots and quoted posts new, 3 reposts.
        ("bskyr__getTimeline.json", [53, 0, 0, 0, 0]),
        // 11 mentions + 7 quotes; 17 follows, 13 likes, 2 reposts skipped.
        ("bskyr__listNotifications.json", [18, 0, 32, 0, 0]),
        ("bskyr__listRecords__posts.json", [50, 0, 0, 0, 0]),
        // 25 posts and 1 quoted post with text.
        ("bskyr__searchPosts__redistricting.json", [26, 0, 0, 0, 0]),
        // 17 post creates, 1 post delete, 132 other collections + identity + account.
        (
            "jetstream__v1-capture-2026-07-04__152-events.jsonl",
            [17, 1, 134, 152, 0],
        ),
        // 1 post reply; like, repost, follow, profile, foreign delete, foreign update, block,
        // identity, account skipped.
        ("jetstream__v1-golden-10-events.jsonl", [1, 0, 9, 10, 0]),
    ];

    fn run(name: &str) -> Vec<Parsed> {
        let path = Path::new(SAMPLES).join(name);
        let (format, reader) = input::open_path(&path, Some(Format::Bluesky)).unwrap();
        input::parse(&path, format, reader, &ImportOptions::default())
            .unwrap()
            .collect()
    }

    fn tally(items: &[Parsed]) -> [usize; 5] {
        let mut counts = [0; 5];
        for item in items {
            let slot = match item {
                Ok(Record::Change(Change::Upsert(_))) => 0,
                Ok(Record::Change(Change::Delete(_))) => 1,
                Ok(Record::Change(Change::Handle(_))) => 2,
                Ok(Record::Skipped { .. }) => 2,
                Ok(Record::Cursor(_)) => 3,
                Err(_) => 4,
            };
            counts[slot] += 1;
        }
        counts
    }

    fn posts(items: &[Parsed]) -> Vec<&Post> {
        items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Change(Change::Upsert(post))) => Some(post.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn post<'a>(items: &'a [Parsed], id: &str) -> &'a Post {
        posts(items).into_iter().find(|post| post.id == id).unwrap()
    }

    fn parse_one(doc: &str) -> Vec<Parsed> {
        let mut out = Vec::new();
        parse_document(doc, &mut out);
        out
    }

    #[test]
    fn every_sample_gives_the_expected_counts() {
        for (name, expected) in EXPECTED {
            let items = run(name);
            assert_eq!(tally(&items), *expected, "{name}: {items:?}");
            let ids: Vec<&str> = posts(&items).iter().map(|post| post.id.as_str()).collect();
            let unique: HashSet<&str> = ids.iter().copied().collect();
            if !name.starts_with("jetstream") {
                assert_eq!(ids.len(), unique.len(), "{name}: a post emitted twice");
            }
            assert!(
                posts(&items)
                    .iter()
                    .all(|post| post.network == Network::Bluesky)
            );
        }
    }

    #[test]
    fn every_sample_file_has_an_expectation() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(SAMPLES)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .collect();
        files.sort();
        assert!(!files.is_empty());
        for file in files {
            let name = file.file_name().unwrap().to_str().unwrap().to_owned();
            assert!(
                EXPECTED.iter().any(|(known, _)| *known == name),
                "no expectation for {name}"
            );
        }
    }

    #[test]
    fn jetstream_identity_and_account_events_are_skipped_and_counted_not_rejected() {
        // Issue 14, finding 13: Jetstream `account` and `identity` events were reported as
        // rejects; an identity event's handle should replace the bare DID on screen. The
        // recorded events, and the same identity event with the handle it carries when the
        // account has one (as Jetstream sends it).
        let recorded = std::fs::read_to_string(
            Path::new(SAMPLES).join("jetstream__v1-golden-10-events.jsonl"),
        )
        .unwrap();
        let identity = recorded
            .lines()
            .find(|line| line.contains("\"kind\":\"identity\""))
            .unwrap();
        let account = recorded
            .lines()
            .find(|line| line.contains("\"kind\":\"account\""))
            .unwrap();
        let with_handle = identity.replacen(
            "\"seq\"",
            "\"handle\":\"ward7.northgate.nhs.uk\",\"seq\"",
            1,
        );
        let deactivated = account.replace(
            "\"active\":true",
            "\"active\":false,\"status\":\"deactivated\"",
        );
        let text = [
            identity,
            account,
            with_handle.as_str(),
            deactivated.as_str(),
        ]
        .join("\n");
        let path = Path::new("events.jsonl");
        let (format, reader) = input::open_reader(
            path,
            Box::new(std::io::Cursor::new(text.into_bytes())),
            None,
        )
        .unwrap();
        let items: Vec<Parsed> = input::parse(path, format, reader, &ImportOptions::default())
            .unwrap()
            .collect();
        assert!(items.iter().all(Result::is_ok), "{items:?}");
        let skipped: Vec<&str> = items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Skipped { kind }) => Some(kind.as_str()),
                _ => None,
            })
            .collect();
        assert_eq!(
            skipped,
            [
                "bluesky identity event",
                "bluesky account event",
                "bluesky account event"
            ]
        );
        let handles: Vec<&model::HandleChange> = items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Change(Change::Handle(handle))) => Some(handle),
                _ => None,
            })
            .collect();
        assert_eq!(handles.len(), 1);
        assert_eq!(handles[0].handle, "ward7.northgate.nhs.uk");
        assert_eq!(handles[0].author_id, "did:plc:g4ut2w5755qxi3fe7mfs72p4");
        assert_eq!(handles[0].network, Network::Bluesky);
    }

    #[test]
    fn jetstream_reply_post_and_skipped_collections_keep_their_cursors() {
        let items = run("jetstream__v1-golden-10-events.jsonl");
        let reply = posts(&items)[0];
        assert_eq!(
            reply.id,
            "at://did:plc:q235v55g5unth4zjjdpacfdr/app.bsky.feed.post/3mmoojp4cd223"
        );
        assert_eq!(reply.author.id, "did:plc:q235v55g5unth4zjjdpacfdr");
        assert_eq!(reply.author.handle, "did:plc:q235v55g5unth4zjjdpacfdr");
        assert_eq!(reply.text, "Try RSV for a good time !!");
        assert_eq!(reply.lang.as_deref(), Some("en"));
        assert_eq!(
            reply.created_at,
            "2026-05-25T14:23:28.757Z".parse::<Timestamp>().unwrap()
        );
        assert!(
            reply
                .reply_to
                .as_deref()
                .unwrap()
                .starts_with("at://did:plc:j76tr")
        );
        assert!(reply.thread_id.is_some());
        let skipped: Vec<&str> = items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Skipped { kind }) => Some(kind.as_str()),
                _ => None,
            })
            .collect();
        for kind in [
            "bluesky app.bsky.feed.like",
            "bluesky app.bsky.feed.repost",
            "bluesky app.bsky.graph.follow",
            "bluesky app.bsky.actor.profile",
            "bluesky org.hypercerts.claim.activity",
            "bluesky identity event",
            "bluesky account event",
        ] {
            assert!(skipped.contains(&kind), "{kind} not skipped: {skipped:?}");
        }
        assert!(items.contains(&Ok(Record::Cursor("1779719009132431".to_owned()))));
    }

    #[test]
    fn jetstream_delete_and_update() {
        let items = run("jetstream__v1-capture-2026-07-04__152-events.jsonl");
        let deletion = items.iter().find_map(|item| match item {
            Ok(Record::Change(Change::Delete(deletion))) => Some(deletion),
            _ => None,
        });
        let deletion = deletion.unwrap();
        assert!(
            deletion.id.starts_with("at://did:") && deletion.id.contains("/app.bsky.feed.post/")
        );
        assert!(deletion.deleted_at.is_some());

        let line = r#"{"did":"did:plc:abc","time_us":1700000000000000,"kind":"commit","commit":{"operation":"update","collection":"app.bsky.feed.post","rkey":"3k","record":{"$type":"app.bsky.feed.post","text":"edited","createdAt":"2023-11-14T22:13:20.123456789123+0100"}}}"#;
        let items = parse_one(line);
        assert_eq!(tally(&items), [1, 0, 0, 1, 0]);
        let edited = post(&items, "at://did:plc:abc/app.bsky.feed.post/3k");
        assert_eq!(
            edited.created_at,
            "2023-11-14T21:13:20.123456789Z"
                .parse::<Timestamp>()
                .unwrap()
        );
        assert_eq!(
            edited.edited_at,
            Some("2023-11-14T22:13:20Z".parse::<Timestamp>().unwrap())
        );

        let bad_time = r#"{"did":"did:plc:abc","time_us":1700000000000000,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"3m","record":{"text":"hi","createdAt":"yesterday"}}}"#;
        let items = parse_one(bad_time);
        assert_eq!(
            post(&items, "at://did:plc:abc/app.bsky.feed.post/3m")
                .created_at
                .as_microsecond(),
            1_700_000_000_000_000
        );
        let broken = r#"{"did":"did:plc:abc","time_us":1700000000000001,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post"}}"#;
        assert_eq!(tally(&parse_one(broken)), [0, 0, 0, 1, 1]);
    }

    #[test]
    fn facets_with_multibyte_text_give_the_right_mention_and_link() {
        let items = run("bskyr__getQuotes.json");
        let quoted = post(
            &items,
            "at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3lc5c5qv72r2w",
        );
        assert!(
            quoted
                .text
                .starts_with("Test quote with :emoji: and 🔥 and 🎊")
        );
        assert_eq!(quoted.mentions, vec!["bskyr.bsky.social".to_owned()]);
        assert_eq!(
            quoted.links,
            vec!["https://christophertkenny.com/bskyr/".to_owned()]
        );
        assert_eq!(quoted.author.handle, "bskyr.bsky.social");
        let quote = post(
            &items,
            "at://did:plc:3ixxligsafp4u6ghljcoetnm/app.bsky.feed.post/3lc6isqcp6u2y",
        );
        assert_eq!(
            quote.relation,
            Some(Relation {
                kind: RelationKind::Quote,
                target_id: quoted.id.clone()
            })
        );

        let text = "🏥 see example.org/x and @ann.test";
        let link_start = text.find("example.org").unwrap();
        let mention_start = text.find("@ann").unwrap();
        let doc = format!(
            r#"{{"uri":"at://did:plc:a/app.bsky.feed.post/1","value":{{"$type":"app.bsky.feed.post","text":"{text}","createdAt":"2024-01-01T00:00:00Z","facets":[
            {{"index":{{"byteStart":{link_start},"byteEnd":{}}},"features":[{{"$type":"app.bsky.richtext.facet#link","uri":"https://example.org/x"}}]}},
            {{"index":{{"byteStart":{mention_start},"byteEnd":{}}},"features":[{{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:ann"}}]}},
            {{"index":{{"byteStart":1,"byteEnd":400}},"features":[{{"$type":"app.bsky.richtext.facet#mention","did":"did:plc:bad"}}]}},
            {{"index":{{"byteStart":2,"byteEnd":3}},"features":[{{"$type":"app.bsky.richtext.facet#tag","tag":"nhs"}}]}}]}}}}"#,
            link_start + "example.org/x".len(),
            text.len(),
        );
        let items = parse_one(&doc);
        let found = post(&items, "at://did:plc:a/app.bsky.feed.post/1");
        assert_eq!(found.links, vec!["https://example.org/x".to_owned()]);
        assert_eq!(
            found.mentions,
            vec!["ann.test".to_owned(), "did:plc:bad".to_owned()]
        );
        assert_eq!(found.hashtags, vec!["nhs".to_owned()]);
    }

    #[test]
    fn author_feed_reposts_replies_and_missing_parents() {
        let items = run("bskyr__getAuthorFeed.json");
        let repost = post(
            &items,
            "at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.repost/3lnneysi3ps2c",
        );
        let original_id = "at://did:plc:n65dhyosfrm6t7jhzum76exq/app.bsky.feed.post/3lnneysi3ps2c";
        assert_eq!(
            repost.relation,
            Some(Relation {
                kind: RelationKind::Repost,
                target_id: original_id.to_owned()
            })
        );
        assert_eq!(repost.author.handle, "chriskenny.bsky.social");
        assert_eq!(
            repost.created_at,
            "2025-04-25T18:43:12.048Z".parse::<Timestamp>().unwrap()
        );
        let original = post(&items, original_id);
        assert_eq!(original.author.handle, "mickael.canouil.fr");
        assert_eq!(repost.text, original.text);
        assert!(
            original
                .text
                .starts_with("You saw or you made something related to #QuartoPub")
        );
        assert_eq!(
            original.url.as_deref(),
            Some("https://bsky.app/profile/mickael.canouil.fr/post/3lnneysi3ps2c")
        );

        let own = post(
            &items,
            "at://did:plc:wpe35pganb6d4pg4ekmfy6u5/app.bsky.feed.post/3lo7irc7njk2p",
        );
        assert_eq!(own.author.display_name.as_deref(), Some("Chris Kenny"));
        assert_eq!(
            own.created_at,
            "2025-05-02T18:54:36.307Z".parse::<Timestamp>().unwrap()
        );
        assert!(
            own.links
                .contains(&"https://github.com/christopherkenny/harvard-diss".to_owned())
        );
        assert!(own.mentions.contains(&"typst.app".to_owned()));
        assert!(items.contains(&Ok(Record::Skipped {
            kind: "bluesky not found post".to_owned()
        })));
    }

    #[test]
    fn thread_nodes_not_found_and_blocked_are_skipped() {
        let doc = r#"{"thread":{"$type":"app.bsky.feed.defs#threadViewPost",
            "post":{"uri":"at://did:plc:a/app.bsky.feed.post/2","cid":"c","author":{"did":"did:plc:a","handle":"a.test"},
              "record":{"$type":"app.bsky.feed.post","text":"reply","createdAt":"2024-05-01T10:00:00.000Z",
                "reply":{"root":{"uri":"at://did:plc:r/app.bsky.feed.post/0","cid":"x"},"parent":{"uri":"at://did:plc:r/app.bsky.feed.post/1","cid":"y"}}},
              "likeCount":3,"indexedAt":"2024-05-01T10:00:01.000Z"},
            "parent":{"$type":"app.bsky.feed.defs#notFoundPost","uri":"at://did:plc:r/app.bsky.feed.post/1","notFound":true},
            "replies":[{"$type":"app.bsky.feed.defs#blockedPost","uri":"at://did:plc:b/app.bsky.feed.post/3","blocked":true,"author":{"did":"did:plc:b"}},
              {"$type":"app.bsky.feed.defs#threadViewPost","post":{"uri":"at://did:plc:c/app.bsky.feed.post/4","author":{"did":"did:plc:c","handle":"c.test"},
                "record":{"$type":"app.bsky.feed.post","text":"deeper","createdAt":"2024-05-01T11:00:00Z"},"indexedAt":"2024-05-01T11:00:00Z"},"replies":[]}]}}"#;
        let items = parse_one(doc);
        assert_eq!(tally(&items), [2, 0, 2, 0, 0]);
        assert!(items.contains(&Ok(Record::Skipped {
            kind: "bluesky not found post".to_owned()
        })));
        assert!(items.contains(&Ok(Record::Skipped {
            kind: "bluesky blocked post".to_owned()
        })));
        let reply = post(&items, "at://did:plc:a/app.bsky.feed.post/2");
        assert_eq!(
            reply.reply_to.as_deref(),
            Some("at://did:plc:r/app.bsky.feed.post/1")
        );
        assert_eq!(
            reply.thread_id.as_deref(),
            Some("at://did:plc:r/app.bsky.feed.post/0")
        );
        assert_eq!(reply.counts.likes, Some(3));
    }

    #[test]
    fn raw_records_and_errors() {
        let items = run("bskyr__getRecord__reply-post.json");
        let record = posts(&items)[0];
        assert_eq!(record.author.id, "did:plc:5c2r73erhng4bszmxlfdtscf");
        assert_eq!(
            record.created_at,
            "2023-11-25T00:32:48.655755Z".parse::<Timestamp>().unwrap()
        );
        assert_eq!(record.mentions, vec!["bskyr.bsky.social".to_owned()]);
        assert_eq!(
            record.links,
            vec!["https://christophertkenny.com/bskyr/".to_owned()]
        );
        let items = run("bskyr__getRecord__quote-post.json");
        let quote = posts(&items)[0];
        // Despite the file name, this record is a self-reply without an embedded quote.
        assert_eq!(quote.relation, None);
        assert_eq!(
            quote.reply_to.as_deref(),
            Some("at://did:plc:5c2r73erhng4bszmxlfdtscf/app.bsky.feed.post/3kexwuoyqj32g")
        );
        let items = parse_one(r#"{"error":"InvalidRequest","message":"Profile not found"}"#);
        let rejected = items[0].as_ref().unwrap_err();
        assert!(rejected.reason.contains("Profile not found"));
    }

    #[test]
    fn times_are_parsed_robustly() {
        let utc = |s: &str| s.parse::<Timestamp>().unwrap();
        assert_eq!(
            parse_time("2024-01-01T00:00:00Z"),
            Some(utc("2024-01-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-01-01T00:00:00+0000"),
            Some(utc("2024-01-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-01-01T02:00:00.5+02:00"),
            Some(utc("2024-01-01T00:00:00.5Z"))
        );
        assert_eq!(
            parse_time("2024-01-01T00:00:00.1234567890123Z"),
            Some(utc("2024-01-01T00:00:00.123456789Z"))
        );
        assert_eq!(
            parse_time("2024-01-01T00:00:00"),
            Some(utc("2024-01-01T00:00:00Z"))
        );
        assert_eq!(
            parse_time("2024-01-01 00:00:00"),
            Some(utc("2024-01-01T00:00:00Z"))
        );
        assert_eq!(parse_time("2024-01-01"), Some(utc("2024-01-01T00:00:00Z")));
        assert_eq!(parse_time("not a time"), None);
    }
}
