//! Plain domain types shared by every Switchboard crate.
//!
//! Nothing here does I/O. A [`Post`] is one thing said on one network, normalised from that
//! network's own payload by `ingest`; a [`Change`] is what an importer or a live connector hands
//! to the store (a post to insert or update, or a deletion). Times are UTC [`jiff::Timestamp`]s.
//!
//! The identity of a post is `(network, id)`: the network's own id, as a string, exactly as the
//! network spells it (64-bit X ids are never routed through a float).

pub mod analysis;
pub mod directory;
pub mod query;
pub mod role;

pub use role::{Role, UnknownRole};

use std::{fmt, str::FromStr};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

/// A place where people post: a social network, a news feed, or a feedback export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Network {
    /// X (formerly Twitter), API v2.
    X,
    /// Mastodon and other servers speaking the Mastodon API.
    Mastodon,
    /// Bluesky and the AT Protocol.
    Bluesky,
    /// Facebook Pages and groups, Graph API.
    Facebook,
    /// RSS and Atom news feeds.
    News,
    /// Patient feedback and Friends and Family Test exports (CSV).
    Feedback,
}

impl Network {
    /// Every network, in display order. The one list that help texts and menus derive from.
    pub const ALL: [Network; 6] = [
        Network::X,
        Network::Mastodon,
        Network::Bluesky,
        Network::Facebook,
        Network::News,
        Network::Feedback,
    ];

    /// The stable lower-case name used in the database, URLs, JSON and on the command line.
    pub const fn as_str(self) -> &'static str {
        match self {
            Network::X => "x",
            Network::Mastodon => "mastodon",
            Network::Bluesky => "bluesky",
            Network::Facebook => "facebook",
            Network::News => "news",
            Network::Feedback => "feedback",
        }
    }

    /// The name people read on screens.
    pub const fn label(self) -> &'static str {
        match self {
            Network::X => "X",
            Network::Mastodon => "Mastodon",
            Network::Bluesky => "Bluesky",
            Network::Facebook => "Facebook",
            Network::News => "News",
            Network::Feedback => "Patient feedback",
        }
    }
}

impl fmt::Display for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A network name that Switchboard does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown network `{0}`: use one of x, mastodon, bluesky, facebook, news, feedback")]
pub struct UnknownNetwork(pub String);

impl FromStr for Network {
    type Err = UnknownNetwork;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "x" | "twitter" => Ok(Network::X),
            "mastodon" => Ok(Network::Mastodon),
            "bluesky" | "bsky" => Ok(Network::Bluesky),
            "facebook" | "fb" => Ok(Network::Facebook),
            "news" | "rss" | "atom" => Ok(Network::News),
            "feedback" | "csv" | "fft" => Ok(Network::Feedback),
            _ => Err(UnknownNetwork(s.to_owned())),
        }
    }
}

/// Who said something: an account on a network, or the named source of a feedback entry.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Author {
    /// The network's own stable id for the account (X user id, Mastodon account id, Bluesky DID,
    /// Facebook id). Empty when the network gives none (anonymous feedback).
    pub id: String,
    /// The handle people type: `nhs_trust`, `user@mastodon.social`, `name.bsky.social`.
    pub handle: String,
    /// The display name, when the account has one.
    pub display_name: Option<String>,
    /// The profile text, which tells whether the author is a healthcare professional.
    pub bio: Option<String>,
    /// Followers at the time of the payload, when known.
    pub followers: Option<u64>,
    /// Whether the network marks the account as verified.
    pub verified: bool,
    /// The profile's web address, when known.
    pub url: Option<String>,
}

/// How a post relates to another post it repeats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RelationKind {
    /// A plain repeat: retweet, boost, repost. The text is the original's.
    Repost,
    /// A repeat with the author's own words added: quote tweet, quote post.
    Quote,
}

/// A repost or quote relation to another post on the same network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Relation {
    /// Repost or quote.
    pub kind: RelationKind,
    /// The network id of the post repeated.
    pub target_id: String,
}

/// Engagement counts, as the network reported them at the time of the payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Counts {
    /// Likes, favourites, reactions.
    pub likes: Option<u64>,
    /// Replies.
    pub replies: Option<u64>,
    /// Reposts, retweets, boosts, shares.
    pub reposts: Option<u64>,
    /// Quotes.
    pub quotes: Option<u64>,
}

/// Fields that only patient-feedback entries carry.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Feedback {
    /// The rating given, as written in the export ("Very good", "5", "Extremely likely").
    pub rating: Option<String>,
    /// The service, ward or department the feedback is about.
    pub service: Option<String>,
}

/// One item said on a network: a tweet, toot, skeet, comment, news item or feedback entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    /// Where it was said.
    pub network: Network,
    /// The network's own id. For X edits this is the id of the first version, so every later
    /// version updates the same post.
    pub id: String,
    /// The public web address, when known.
    pub url: Option<String>,
    /// Who said it.
    pub author: Author,
    /// The plain text (HTML removed, entities decoded). For a repost, the repeated post's text.
    pub text: String,
    /// A title (news items) or content warning (Mastodon `spoiler_text`), shown before the text.
    pub title: Option<String>,
    /// The language the network or author declared (BCP 47, e.g. `en`), when given.
    pub lang: Option<String>,
    /// When it was first said, in UTC.
    pub created_at: Timestamp,
    /// When this version was written, if the post was edited.
    pub edited_at: Option<Timestamp>,
    /// The id of the post this one replies to.
    pub reply_to: Option<String>,
    /// The id of the conversation or thread root this post belongs to.
    pub thread_id: Option<String>,
    /// The post this one reposts or quotes.
    pub relation: Option<Relation>,
    /// Engagement counts.
    pub counts: Counts,
    /// Hashtags without the `#`, as written.
    pub hashtags: Vec<String>,
    /// Handles mentioned, without the `@`.
    pub mentions: Vec<String>,
    /// Links, expanded where the network gives the expanded form.
    pub links: Vec<String>,
    /// How many images, videos or audio files are attached.
    pub media_count: u32,
    /// Whether the network says the post was deleted (kept for the record, hidden from views).
    pub deleted: bool,
    /// Feedback-only fields (rating, service).
    pub feedback: Option<Feedback>,
    /// The network's payload for this post, as JSON text, kept for audit.
    pub raw: String,
}

impl Post {
    /// A post with the given identity, author, text and time, and every other field empty.
    pub fn new(
        network: Network,
        id: impl Into<String>,
        author: Author,
        text: impl Into<String>,
        created_at: Timestamp,
    ) -> Self {
        Post {
            network,
            id: id.into(),
            url: None,
            author,
            text: text.into(),
            title: None,
            lang: None,
            created_at,
            edited_at: None,
            reply_to: None,
            thread_id: None,
            relation: None,
            counts: Counts::default(),
            hashtags: Vec::new(),
            mentions: Vec::new(),
            links: Vec::new(),
            media_count: 0,
            deleted: false,
            feedback: None,
            raw: String::new(),
        }
    }

    /// The time of this version: the edit time if edited, else the creation time.
    pub fn version_time(&self) -> Timestamp {
        self.edited_at.unwrap_or(self.created_at)
    }
}

/// A post removed by its author or the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deletion {
    /// The network.
    pub network: Network,
    /// The network's id of the deleted post.
    pub id: String,
    /// When it was deleted, when known.
    pub deleted_at: Option<Timestamp>,
}

/// An account's handle, as the network announced it (a Bluesky identity event): it replaces
/// the bare account id shown for posts that came without a handle (Jetstream posts carry only
/// the DID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HandleChange {
    /// The network.
    pub network: Network,
    /// The network's stable id of the account (the DID).
    pub author_id: String,
    /// The handle people type (`name.bsky.social`).
    pub handle: String,
    /// When the network announced it.
    pub at: Timestamp,
}

/// What a source hands to the store: a post to insert or update, a deletion, or an account's
/// new handle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum Change {
    /// Insert the post, or update it if this is a newer version (an edit, new counts).
    Upsert(Box<Post>),
    /// Mark the post deleted.
    Delete(Deletion),
    /// Show this handle for the account's posts.
    Handle(HandleChange),
}

impl Change {
    /// The network of the post this change is about.
    pub fn network(&self) -> Network {
        match self {
            Change::Upsert(post) => post.network,
            Change::Delete(deletion) => deletion.network,
            Change::Handle(handle) => handle.network,
        }
    }

    /// The post of an upsert; `None` for a deletion.
    pub fn post(&self) -> Option<&Post> {
        match self {
            Change::Upsert(post) => Some(post),
            Change::Delete(_) | Change::Handle(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_names_round_trip() {
        for network in Network::ALL {
            assert_eq!(network.as_str().parse::<Network>().unwrap(), network);
            let json = serde_json::to_string(&network).unwrap();
            assert_eq!(json, format!("\"{}\"", network.as_str()));
        }
        assert!("myspace".parse::<Network>().is_err());
    }

    #[test]
    fn version_time_prefers_the_edit() {
        let created: Timestamp = "2024-01-01T00:00:00Z".parse().unwrap();
        let edited: Timestamp = "2024-01-02T00:00:00Z".parse().unwrap();
        let mut post = Post::new(Network::X, "1", Author::default(), "hi", created);
        assert_eq!(post.version_time(), created);
        post.edited_at = Some(edited);
        assert_eq!(post.version_time(), edited);
    }
}
