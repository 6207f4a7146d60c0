//! Importers: every network's payloads turned into [`model::Change`]s.
//!
//! One module per format. Each JSON-speaking network module exposes
//! `parse_document(doc: &str, out: &mut Vec<Result<Record, Rejected>>)`, which reads one JSON
//! document (a whole API response, or one line of a JSON Lines file) and pushes what it found.
//! The framework here opens files (gzip read transparently), recognises formats from the content
//! ([`detect`]), splits JSON Lines from whole documents, and stamps each rejection with its line.
//!
//! Invariants every module keeps:
//! - a broken record is a [`Rejected`] naming where (JSON pointer) and why; it never stops the rest;
//! - payloads that carry no posts (counts, lists, users, likes) are [`Record::Skipped`] with a
//!   readable kind, so the import summary can say what it passed over;
//! - ids are kept as the network's strings, never routed through `f64`.

pub mod bluesky;
pub mod csv;
pub mod detect;
pub mod facebook;
pub mod html;
pub mod input;
#[cfg(feature = "live")]
pub mod live;
pub mod mastodon;
pub mod rss;
pub mod x;

use std::fmt;

use model::Change;

pub use detect::{Format, detect};
pub use input::{ImportOptions, InputError, open_path, records};

/// One thing an importer found in its input.
#[derive(Debug, Clone, PartialEq)]
pub enum Record {
    /// A post to store, or a deletion to apply.
    Change(Change),
    /// Something understood and deliberately not imported, such as a like, a follow, a counts
    /// page or a Jetstream identity event. `kind` is a short readable label ("bluesky like").
    Skipped {
        /// What was skipped, for the import summary.
        kind: String,
    },
    /// A resume position of a stream (Jetstream `time_us`), so a live connector can resume.
    Cursor(String),
}

/// Where in an input something was found: a line (1-based) and/or a JSON pointer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Location {
    /// The 1-based line of the input, for line-oriented inputs or documents of one line.
    pub line: Option<u64>,
    /// A JSON pointer into the document (`/data/3/created_at`), or a CSV column name.
    pub pointer: Option<String>,
}

impl Location {
    /// A location at a JSON pointer, with the line left for the framework to fill in.
    pub fn pointer(pointer: impl Into<String>) -> Self {
        Location {
            line: None,
            pointer: Some(pointer.into()),
        }
    }

    /// A location at a line.
    pub fn line(line: u64) -> Self {
        Location {
            line: Some(line),
            pointer: None,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.line, &self.pointer) {
            (Some(line), Some(pointer)) if !pointer.is_empty() => {
                write!(f, "line {line}, at {pointer}")
            }
            (Some(line), _) => write!(f, "line {line}"),
            (None, Some(pointer)) if !pointer.is_empty() => write!(f, "at {pointer}"),
            _ => f.write_str("the document"),
        }
    }
}

/// A record that could not be imported, with where it was and why, so a person can fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Where in the input.
    pub location: Location,
    /// Why, in plain words.
    pub reason: String,
    /// The offending text (shortened), written to the rejects file.
    pub excerpt: Option<String>,
}

impl Rejected {
    /// A rejection at a JSON pointer.
    pub fn at(pointer: impl Into<String>, reason: impl Into<String>) -> Self {
        Rejected {
            location: Location::pointer(pointer),
            reason: reason.into(),
            excerpt: None,
        }
    }

    /// The same rejection with the offending text attached (cut to 2,000 characters).
    pub fn with_excerpt(mut self, text: &str) -> Self {
        self.excerpt = Some(shorten(text, 2000));
        self
    }
}

impl fmt::Display for Rejected {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.reason)
    }
}

/// Cuts `text` to at most `max` characters, marking the cut with `…`.
pub fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The largest post imported by default: text and title together, 128 KiB. Longer than any
/// network allows (Facebook, the longest, allows 63,206 characters), short enough that a page
/// listing fifty posts stays small.
pub const DEFAULT_MAX_POST_BYTES: usize = 128 * 1024;

/// Refuses a post whose text and title together are longer than `max` bytes, or whose payload
/// is longer than eight times that.
pub fn check_size(post: &model::Post, max: usize) -> Result<(), Rejected> {
    let words = post.text.len() + post.title.as_ref().map_or(0, String::len);
    let raw_max = max.saturating_mul(8);
    let (what, size, limit) = if words > max {
        ("text", words, max)
    } else if post.raw.len() > raw_max {
        ("payload", post.raw.len(), raw_max)
    } else {
        return Ok(());
    };
    Err(Rejected {
        location: Location::default(),
        reason: format!(
            "the post {id} has a {what} of {size} bytes, more than the {limit} bytes allowed; \
             it was left out (the limit is the max_post_bytes setting, --max-post-bytes on import)",
            id = post.id
        ),
        excerpt: Some(shorten(&post.text, 200)),
    })
}

/// Turns every post in `items` larger than `max` bytes (see [`check_size`]) into a rejection.
pub fn limit_size(items: &mut [Parsed], max: usize) {
    for item in items {
        if let Ok(Record::Change(Change::Upsert(post))) = item
            && let Err(rejected) = check_size(post, max)
        {
            *item = Err(rejected);
        }
    }
}

/// The result type importers push into their output.
pub type Parsed = Result<Record, Rejected>;
