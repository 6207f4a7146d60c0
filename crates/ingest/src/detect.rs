//! Recognising a format from the content of an input, never from its file name.
//!
//! [`detect`] looks at the first bytes (64 KiB, already decompressed) and scores the marks each
//! network leaves in its payloads: X's `edit_history_tweet_ids` and `author_id`, Mastodon's
//! `acct` and `spoiler_text`, Bluesky's `at://` URIs and Jetstream's `time_us`, Facebook's
//! `created_time`, an RSS or Atom root element, server-sent-event lines, or a CSV header.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

/// An input format Switchboard can import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    /// X API v2 JSON: search and lookup pages, filtered-stream lines, compliance files.
    X,
    /// Mastodon REST JSON: statuses, timelines, search, notifications, contexts.
    Mastodon,
    /// Mastodon streaming API body (`text/event-stream`).
    MastodonStream,
    /// Bluesky app view JSON: searchPosts, feeds, threads, getPosts, notifications, records.
    Bluesky,
    /// Bluesky Jetstream event lines.
    Jetstream,
    /// Facebook Graph API JSON: feeds, comments, lookups.
    Facebook,
    /// RSS or Atom news feed.
    Rss,
    /// CSV (or TSV) export of patient feedback or Friends and Family Test comments.
    Csv,
}

impl Format {
    /// Every format, in the order the help text lists them.
    pub const ALL: [Format; 8] = [
        Format::X,
        Format::Mastodon,
        Format::MastodonStream,
        Format::Bluesky,
        Format::Jetstream,
        Format::Facebook,
        Format::Rss,
        Format::Csv,
    ];

    /// The name used with `--format`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Format::X => "x",
            Format::Mastodon => "mastodon",
            Format::MastodonStream => "mastodon-stream",
            Format::Bluesky => "bluesky",
            Format::Jetstream => "jetstream",
            Format::Facebook => "facebook",
            Format::Rss => "rss",
            Format::Csv => "csv",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A `--format` value that is not a known format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown format `{0}`: use auto, x, mastodon, mastodon-stream, bluesky, jetstream, facebook, rss or csv"
)]
pub struct UnknownFormat(pub String);

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase();
        match wanted.as_str() {
            "twitter" => return Ok(Format::X),
            "atom" | "feed" => return Ok(Format::Rss),
            "tsv" => return Ok(Format::Csv),
            _ => {}
        }
        Format::ALL
            .into_iter()
            .find(|format| format.as_str() == wanted)
            .ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// Why the content of an input could not be recognised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DetectError {
    /// Nothing but white space.
    #[error("the file is empty")]
    Empty,
    /// NUL bytes or invalid UTF-8: not a text export.
    #[error("the file is binary, not a text export (JSON, JSON Lines, CSV, RSS or Atom)")]
    Binary,
    /// Text, but none of the known shapes.
    #[error("the content matches none of the known formats")]
    Unknown,
}

/// Recognises the format of an input from its first bytes (decompressed).
pub fn detect(head: &[u8]) -> Result<Format, DetectError> {
    let head = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
    if head.iter().all(u8::is_ascii_whitespace) {
        return Err(DetectError::Empty);
    }
    if looks_binary(head) {
        return Err(DetectError::Binary);
    }
    // A few damaged lines do not make a text export binary: the reader rejects them one by one.
    let text = String::from_utf8_lossy(head);
    let trimmed = text.trim_start();
    if trimmed.starts_with('<') {
        let lower = trimmed
            .get(..trimmed.len().min(4096))
            .unwrap_or(trimmed)
            .to_ascii_lowercase();
        if lower.contains("<rss") || lower.contains("<feed") || lower.contains("<rdf:rdf") {
            return Ok(Format::Rss);
        }
        return Err(DetectError::Unknown);
    }
    if looks_like_sse(trimmed) {
        return Ok(Format::MastodonStream);
    }
    if trimmed.starts_with('{') || trimmed.starts_with('[') {
        return detect_json(trimmed).ok_or(DetectError::Unknown);
    }
    if looks_like_csv(trimmed) {
        return Ok(Format::Csv);
    }
    Err(DetectError::Unknown)
}

/// Whether most lines of the head hold NUL bytes or bytes that are not UTF-8, as a spreadsheet,
/// an archive or an image does. A text export with a damaged line or two is not binary.
fn looks_binary(head: &[u8]) -> bool {
    let mut lines = 0_usize;
    let mut bad = 0_usize;
    let mut rest = head;
    while !rest.is_empty() {
        let (line, after) = match memchr::memchr(b'\n', rest) {
            Some(end) => (&rest[..end], &rest[end + 1..]),
            None => (rest, &[][..]),
        };
        rest = after;
        if line.trim_ascii().is_empty() {
            continue;
        }
        lines += 1;
        let damaged = match std::str::from_utf8(line) {
            Ok(_) => false,
            // The head may end inside a multi-byte character: only an error before the end counts.
            Err(error) => !(rest.is_empty() && error.error_len().is_none()),
        };
        if damaged || line.contains(&0) {
            bad += 1;
        }
    }
    bad * 2 > lines
}

fn looks_like_sse(text: &str) -> bool {
    text.lines().take(20).any(|line| line.starts_with("event:"))
        || (text.starts_with(':') && text.lines().take(20).any(|line| line.starts_with("data:")))
}

fn detect_json(text: &str) -> Option<Format> {
    let has = |needle: &str| text.contains(needle);
    if has("\"time_us\"") && has("\"did\"") && has("\"kind\"") {
        return Some(Format::Jetstream);
    }
    // Mastodon's streaming API over WebSocket: {"stream": [...], "event": "...", "payload": "..."}
    // with the status as a JSON string, so its own field names are escaped.
    if has("\"stream\"") && has("\"event\"") {
        return Some(Format::Mastodon);
    }
    // X batch compliance results: {"id", "action": "delete", "created_at", "reason"}.
    if has("\"action\"") && has("\"reason\"") && !has("\"acct\"") {
        return Some(Format::X);
    }
    let scores = [
        (
            Format::X,
            [
                "\"edit_history_tweet_ids\"",
                "\"author_id\"",
                "\"matching_rules\"",
                "\"public_metrics\"",
                "\"result_count\"",
                "\"conversation_id\"",
                "\"redacted_at\"",
                "\"tweet_count\"",
            ]
            .iter()
            .filter(|needle| has(needle))
            .count(),
        ),
        (
            Format::Mastodon,
            [
                "\"acct\"",
                "\"spoiler_text\"",
                "\"reblogs_count\"",
                "\"favourites_count\"",
                "\"visibility\"",
                "\"in_reply_to_account_id\"",
                "\"uses\"",
            ]
            .iter()
            .filter(|needle| has(needle))
            .count(),
        ),
        (
            Format::Bluesky,
            [
                "\"at://",
                "\"app.bsky.",
                "\"indexedAt\"",
                "\"did:plc:",
                "\"createdAt\"",
            ]
            .iter()
            .filter(|needle| has(needle))
            .count(),
        ),
        (
            Format::Facebook,
            [
                "\"created_time\"",
                "\"fbtrace_id\"",
                "\"paging\"",
                "\"cursors\"",
                "\"message\"",
                "\"fan_count\"",
                "\"checkins\"",
            ]
            .iter()
            .filter(|needle| has(needle))
            .count(),
        ),
    ];
    let (format, score) = scores.into_iter().max_by_key(|(_, score)| *score)?;
    if score > 0 {
        return Some(format);
    }
    // Error bodies: Mastodon says {"error": "..."}; X's problem+json has title/type/detail.
    if has("\"error\"") && !has("\"code\"") {
        return Some(Format::Mastodon);
    }
    if has("\"title\"") && has("\"detail\"") && has("\"type\"") {
        return Some(Format::X);
    }
    None
}

fn looks_like_csv(text: &str) -> bool {
    let Some(header) = text.lines().next() else {
        return false;
    };
    let delimiter = if header.contains('\t') { '\t' } else { ',' };
    header.contains(delimiter) || header.len() < 200
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_the_plain_cases() {
        assert_eq!(detect(b"   \n"), Err(DetectError::Empty));
        assert_eq!(detect(b"\x00\x01\x02abc"), Err(DetectError::Binary));
        assert_eq!(detect(b"<?xml version=\"1.0\"?><rss>"), Ok(Format::Rss));
        assert_eq!(
            detect(b"<feed xmlns=\"http://www.w3.org/2005/Atom\">"),
            Ok(Format::Rss)
        );
        assert_eq!(
            detect(b":)\n\nevent: update\ndata: {}\n"),
            Ok(Format::MastodonStream)
        );
        assert_eq!(
            detect(b"text,time\nGreat care,2024-01-01\n"),
            Ok(Format::Csv)
        );
        assert_eq!(
            detect(br#"{"did":"did:plc:x","time_us":1,"kind":"commit"}"#),
            Ok(Format::Jetstream)
        );
        assert_eq!("twitter".parse::<Format>(), Ok(Format::X));
        assert_eq!(
            detect(br#"{"id":"1","action":"delete","created_at":"2013-06-04T16:25:04+00:00","reason":"protected"}"#),
            Ok(Format::X)
        );
        assert!("myspace".parse::<Format>().is_err());
    }
}
