//! What the web application keeps besides posts: people and their roles, sessions, login
//! attempts, monitors (named listening queries) and the posts they matched, saved searches and
//! handled marks; and the reads behind its pages (the filtered stream, the dashboard's counts).
//!
//! Design and invariants:
//! - [`Role`] is the one table of roles, ordered from least to most trusted; everything that
//!   checks a role compares with it.
//! - A session is stored under a hash of its secret, never the secret itself, so a copy of the
//!   database does not hand out live sessions; deleting the row ends the session everywhere.
//! - Posts are named by `(network, id)` here as everywhere outside the store.
//! - Monitor tags are kept in the store so that a stream filtered by monitor is an index walk.

use jiff::Timestamp;
use model::{
    Network, Post,
    analysis::{IntentKind, SentimentLabel},
    query::{self, Query, QueryError},
};
use serde::{Deserialize, Serialize};

use crate::{
    AlertStore, DirectoryStore, EngageStore, ProtectionStore, SigninStore, Store, StoreError,
};

pub use model::{Role, UnknownRole};

/// A person who may log in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    /// The store's id of the person.
    pub id: i64,
    /// The login name (unique, compared without case).
    pub name: String,
    /// What they may do.
    pub role: Role,
    /// The password hash in PHC string format.
    pub password_hash: String,
    /// When the account was created.
    pub created_at: Timestamp,
}

/// A live session, found by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// Who is logged in.
    pub user: User,
    /// The synchroniser token every form of this session must carry.
    pub csrf: String,
    /// When the session ends.
    pub expires_at: Timestamp,
}

/// Recent failed logins, for rate limiting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    /// Failures for the account name.
    pub account: u32,
    /// Failures from the address.
    pub address: u32,
}

/// A named listening query: posts whose words match `query` and that pass the network,
/// language and author lists (an empty list lets everything through).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Monitor {
    /// The store's id (0 for a monitor not saved yet).
    pub id: i64,
    /// The name shown in filters and on posts.
    pub name: String,
    /// The words, in the listening query language of [`model::query`].
    pub query: String,
    /// Only these networks (empty: every network).
    pub networks: Vec<Network>,
    /// Only these language codes (empty: every language).
    pub languages: Vec<String>,
    /// Only these author handles, without `@`, compared without case (empty: anyone).
    pub authors: Vec<String>,
}

impl Monitor {
    /// Parses the query once, for matching many posts.
    pub fn compile(&self) -> Result<MonitorMatcher, QueryError> {
        Ok(MonitorMatcher {
            id: self.id,
            query: query::parse(&self.query)?,
            networks: self.networks.clone(),
            languages: self
                .languages
                .iter()
                .map(|lang| lang.to_ascii_lowercase())
                .collect(),
            authors: self
                .authors
                .iter()
                .map(|handle| handle.trim_start_matches('@').to_lowercase())
                .collect(),
        })
    }
}

/// A [`Monitor`] with its query parsed.
#[derive(Debug, Clone)]
pub struct MonitorMatcher {
    /// The monitor's id.
    pub id: i64,
    query: Query,
    networks: Vec<Network>,
    languages: Vec<String>,
    authors: Vec<String>,
}

impl MonitorMatcher {
    /// Whether `post` (whose language is `language`, when known) matches the monitor. The words
    /// are looked for in the text, the title and the author's handle and name, as the full-text
    /// index does.
    pub fn matches(&self, post: &Post, language: Option<&str>) -> bool {
        if !self.networks.is_empty() && !self.networks.contains(&post.network) {
            return false;
        }
        if !self.languages.is_empty() {
            let Some(language) = language.or(post.lang.as_deref()) else {
                return false;
            };
            let language = language.to_ascii_lowercase();
            if !self
                .languages
                .iter()
                .any(|l| language.starts_with(l.as_str()))
            {
                return false;
            }
        }
        if !self.authors.is_empty()
            && !self
                .authors
                .iter()
                .any(|handle| post.author.handle.to_lowercase() == *handle)
        {
            return false;
        }
        let mut words = query::tokens(&post.text);
        if let Some(title) = &post.title {
            words.extend(query::tokens(title));
        }
        words.extend(query::tokens(&post.author.handle));
        if let Some(name) = &post.author.display_name {
            words.extend(query::tokens(name));
        }
        self.query.matches_tokens(&words)
    }
}

/// A search kept under a name for the whole team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedSearch {
    /// The store's id.
    pub id: i64,
    /// The name shown in the list.
    pub name: String,
    /// The search page's query string (without `?`).
    pub query: String,
    /// Who saved it.
    pub user: String,
    /// When.
    #[serde(with = "timestamp_micros")]
    pub created_at: Timestamp,
}

/// Who marked a post as handled, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Handled {
    /// The person (absent when their account was removed).
    pub user: Option<String>,
    /// When.
    #[serde(with = "timestamp_micros")]
    pub at: Timestamp,
}

mod timestamp_micros {
    use jiff::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(time: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&time.to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The order of a stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StreamOrder {
    /// Newest first.
    #[default]
    Newest,
    /// Highest priority first, newest first among equals; analysed posts only.
    Priority,
}

/// Which posts a stream shows. Every filter given must hold.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StreamFilter {
    /// Only posts tagged with this monitor.
    pub monitor: Option<i64>,
    /// Only these networks (empty: every network).
    pub networks: Vec<Network>,
    /// Only this sentiment.
    pub sentiment: Option<SentimentLabel>,
    /// Only posts with this intent detected.
    pub intent: Option<IntentKind>,
    /// Only posts with this theme id.
    pub theme: Option<String>,
    /// Only this language code.
    pub language: Option<String>,
    /// Created at or after.
    pub since: Option<Timestamp>,
    /// Created before.
    pub until: Option<Timestamp>,
    /// Words to find.
    pub text: Option<Query>,
    /// `Some(false)`: only posts not handled; `Some(true)`: only handled ones.
    pub handled: Option<bool>,
    /// The order.
    pub order: StreamOrder,
    /// Rows to skip (paging).
    pub offset: usize,
    /// At most this many rows.
    pub limit: usize,
}

/// One row of a stream: the post's identity and what the desk knows of it. The post itself is
/// read with [`Store::post`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamEntry {
    /// The network.
    pub network: Network,
    /// The network's id.
    pub id: String,
    /// Whether and by whom it was handled.
    pub handled: Option<Handled>,
    /// Ids of the monitors it matched.
    pub monitors: Vec<i64>,
}

/// The period and monitor of a dashboard.
#[derive(Debug, Clone, PartialEq)]
pub struct DashboardQuery {
    /// Start (inclusive).
    pub since: Timestamp,
    /// End (exclusive).
    pub until: Timestamp,
    /// Only posts tagged with this monitor.
    pub monitor: Option<i64>,
    /// The width of a time bucket, in seconds.
    pub bucket_seconds: i64,
    /// Added to UTC before taking the hour of day (the UK offset, in seconds).
    pub utc_offset_seconds: i64,
    /// Entries kept in each top list.
    pub top: usize,
}

/// A name and how many posts have it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamedCount {
    /// The name.
    pub name: String,
    /// Posts.
    pub posts: u64,
}

/// Counts for one time bucket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bucket {
    /// Start of the bucket.
    #[serde(with = "timestamp_micros")]
    pub start: Timestamp,
    /// Posts per network, in [`Network::ALL`] order.
    pub by_network: Vec<u64>,
    /// Posts per sentiment: negative, neutral, positive, not analysed.
    pub by_sentiment: [u64; 4],
}

/// The counts behind a dashboard.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Dashboard {
    /// Posts in the period.
    pub total: u64,
    /// Posts per time bucket, oldest first, every bucket of the period present.
    pub buckets: Vec<Bucket>,
    /// Posts per detected intent, in [`IntentKind::ALL`] order.
    pub intents: Vec<NamedCount>,
    /// Posts per theme, most first.
    pub themes: Vec<NamedCount>,
    /// Authors with most posts (`network:@handle`).
    pub authors: Vec<NamedCount>,
    /// Hashtags, most used first.
    pub hashtags: Vec<NamedCount>,
    /// Links, most shared first.
    pub links: Vec<NamedCount>,
    /// Posts per hour of the day (local to the query's offset), 24 entries.
    pub hours: Vec<u64>,
}

/// People, sessions, monitors, saved searches and handled marks.
pub trait AccountStore: Send + Sync {
    /// Adds a person; `None` when the name is taken.
    fn add_user(
        &self,
        name: &str,
        role: Role,
        password_hash: &str,
    ) -> Result<Option<User>, StoreError>;
    /// Everyone, by name.
    fn users(&self) -> Result<Vec<User>, StoreError>;
    /// One person by login name (without case).
    fn user_by_name(&self, name: &str) -> Result<Option<User>, StoreError>;
    /// Changes a person's role; false when unknown.
    fn set_role(&self, user_id: i64, role: Role) -> Result<bool, StoreError>;
    /// Changes a person's password and ends their sessions; false when unknown.
    fn set_password(&self, user_id: i64, password_hash: &str) -> Result<bool, StoreError>;
    /// Removes a person and their sessions; false when unknown.
    fn remove_user(&self, user_id: i64) -> Result<bool, StoreError>;

    /// Starts a session under the hash of its secret.
    fn add_session(
        &self,
        token_hash: &str,
        user_id: i64,
        csrf: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;
    /// The live session with this secret hash (expired ones are not returned).
    fn session(&self, token_hash: &str, now: Timestamp) -> Result<Option<Session>, StoreError>;
    /// Ends a session.
    fn remove_session(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Records a login attempt.
    fn record_login(
        &self,
        account: &str,
        address: &str,
        success: bool,
        at: Timestamp,
    ) -> Result<(), StoreError>;
    /// Failed logins since `since` for the account and from the address, not counting those
    /// before the account's last success.
    fn login_failures(
        &self,
        account: &str,
        address: &str,
        since: Timestamp,
    ) -> Result<LoginFailures, StoreError>;

    /// Every monitor, by name.
    fn monitors(&self) -> Result<Vec<Monitor>, StoreError>;
    /// Saves a monitor (new when `id` is 0), tags the stored posts it matches again, and returns
    /// its id; `None` when the name is taken by another monitor.
    fn save_monitor(&self, monitor: &Monitor) -> Result<Option<i64>, StoreError>;
    /// Removes a monitor and its tags; false when unknown.
    fn remove_monitor(&self, id: i64) -> Result<bool, StoreError>;
    /// Tags every stored post each monitor matches (after a bulk import); tags already there
    /// stay. Returns the number of tags added.
    fn retag_monitors(&self) -> Result<u64, StoreError>;
    /// Records that these stored posts matched these monitors (unknown posts are passed over).
    fn save_tags(&self, tags: &[(Network, String, i64)]) -> Result<u64, StoreError>;

    /// Tags stored posts with every monitor they match (the language when known, else the
    /// network's own). Returns the number of tags written.
    fn tag_posts(&self, posts: &[(&Post, Option<&str>)]) -> Result<u64, StoreError> {
        let matchers: Vec<MonitorMatcher> = self
            .monitors()?
            .iter()
            .filter_map(|monitor| monitor.compile().ok())
            .collect();
        if matchers.is_empty() {
            return Ok(0);
        }
        let mut tags = Vec::new();
        for (post, language) in posts {
            for matcher in &matchers {
                if matcher.matches(post, *language) {
                    tags.push((post.network, post.id.clone(), matcher.id));
                }
            }
        }
        self.save_tags(&tags)
    }

    /// Saved searches, newest first.
    fn saved_searches(&self) -> Result<Vec<SavedSearch>, StoreError>;
    /// Saves a search; returns its id.
    fn save_search(&self, name: &str, query: &str, user_id: i64) -> Result<i64, StoreError>;
    /// Removes a saved search; false when unknown.
    fn remove_saved_search(&self, id: i64) -> Result<bool, StoreError>;

    /// Marks a stored post as handled (again: the newest mark wins); false when unknown.
    fn mark_handled(
        &self,
        network: Network,
        id: &str,
        user_id: i64,
        at: Timestamp,
    ) -> Result<bool, StoreError>;
}

/// The reads behind the desk's pages.
pub trait DeskStore: Send + Sync {
    /// The posts of a stream page.
    fn stream(&self, filter: &StreamFilter) -> Result<Vec<StreamEntry>, StoreError>;
    /// Handled mark and monitors of one post.
    fn desk_entry(&self, network: Network, id: &str) -> Result<Option<StreamEntry>, StoreError>;
    /// The posts of the same thread (the post itself, what it replies to, its replies), oldest
    /// first, at most `limit`.
    fn thread(
        &self,
        network: Network,
        id: &str,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError>;
    /// The newest posts of the author of a post, at most `limit`.
    fn author_posts(
        &self,
        network: Network,
        id: &str,
        limit: usize,
    ) -> Result<Vec<StreamEntry>, StoreError>;
    /// The posts named by `names` (network and id), read together, in the order given; posts
    /// not found are left out. One read for a page of posts instead of one per post.
    fn posts(&self, names: &[(Network, String)]) -> Result<Vec<crate::StoredPost>, StoreError>;
    /// The newest posts created since `since` (not deleted), newest first, at most `limit`:
    /// only what tells a live poller which posts are new, without reading the posts.
    fn recent_posts(&self, since: Timestamp, limit: usize) -> Result<Vec<RecentPost>, StoreError>;
    /// The counts of every whole hour in `[since, until)`, oldest first, one entry per hour
    /// (empty hours included). `since` is rounded down and `until` up to the hour.
    fn dashboard_hours(
        &self,
        since: Timestamp,
        until: Timestamp,
        monitor: Option<i64>,
    ) -> Result<Vec<HourCounts>, StoreError>;
    /// `network:@handle` of the authors with these store keys (unknown keys are left out).
    fn author_labels(&self, keys: &[i64]) -> Result<Vec<(i64, String)>, StoreError>;
    /// The counts of a dashboard, added up from its hours (see [`add_up`]).
    fn dashboard(&self, query: &DashboardQuery) -> Result<Dashboard, StoreError> {
        let hours = self.dashboard_hours(query.since, query.until, query.monitor)?;
        add_up(query, hours.iter(), |keys| self.author_labels(keys))
    }
}

/// A recently created post, as a live poller lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecentPost {
    /// The network.
    pub network: Network,
    /// The network's id of the post.
    pub id: String,
    /// When it was written.
    pub created_at: Timestamp,
    /// When the store first saw it.
    pub first_seen: Timestamp,
    /// Whether it has an analysis.
    pub analysed: bool,
}

/// One hour in microseconds.
const HOUR_MICROS: i64 = 3_600_000_000;

/// The counts of the posts created in one hour: the part dashboards are added up from, so that
/// a dashboard over a week re-reads only the hours that changed.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HourCounts {
    /// Start of the hour (UTC, on the hour).
    pub start: Timestamp,
    /// Posts.
    pub total: u64,
    /// Posts per network, in [`Network::ALL`] order.
    pub by_network: Vec<u64>,
    /// Posts per sentiment: negative, neutral, positive, not analysed.
    pub by_sentiment: [u64; 4],
    /// Posts per detected intent, in [`IntentKind::ALL`] order.
    pub intents: Vec<u64>,
    /// Posts per theme id.
    pub themes: std::collections::HashMap<String, u64>,
    /// Posts per author (store key of the author).
    pub authors: std::collections::HashMap<i64, u64>,
    /// Posts per hashtag (lower case).
    pub hashtags: std::collections::HashMap<String, u64>,
    /// Posts per link.
    pub links: std::collections::HashMap<String, u64>,
}

impl HourCounts {
    /// An hour with no posts.
    pub fn empty(start: Timestamp) -> HourCounts {
        HourCounts {
            start,
            by_network: vec![0; Network::ALL.len()],
            intents: vec![0; IntentKind::ALL.len()],
            ..HourCounts::default()
        }
    }
}

/// The start of the hour that holds `time`.
pub fn hour_floor(time: Timestamp) -> Timestamp {
    let micros = time.as_microsecond();
    Timestamp::from_microsecond(micros - micros.rem_euclid(HOUR_MICROS)).unwrap_or(time)
}

/// Sorts counts, most first then by name, and keeps `top`.
fn top_counts<K: Ord + Clone>(
    counts: std::collections::HashMap<K, u64>,
    top: usize,
) -> Vec<(K, u64)> {
    let mut list: Vec<(K, u64)> = counts.into_iter().collect();
    list.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    list.truncate(top);
    list
}

/// Adds hours up into the dashboard of `query`: hours outside the period are skipped, each
/// hour goes to the bucket holding its start (buckets are counted from `query.since`, so whole
/// hours fall in one bucket when the bucket width is a multiple of an hour), and the hour of
/// day is the hour's start moved by `query.utc_offset_seconds`. `labels` names the top authors.
pub fn add_up<'a>(
    query: &DashboardQuery,
    hours: impl IntoIterator<Item = &'a HourCounts>,
    labels: impl FnOnce(&[i64]) -> Result<Vec<(i64, String)>, StoreError>,
) -> Result<Dashboard, StoreError> {
    use std::collections::HashMap;
    let since = query.since.as_microsecond();
    let until = query.until.as_microsecond();
    let width = query.bucket_seconds.max(60).saturating_mul(1_000_000);
    let buckets = usize::try_from(((until - since).max(0) + width - 1) / width)
        .unwrap_or(0)
        .min(10_000);
    let mut dash = Dashboard {
        buckets: (0..buckets)
            .map(|i| Bucket {
                start: Timestamp::from_microsecond(since + width * i64::try_from(i).unwrap_or(0))
                    .unwrap_or(query.since),
                by_network: vec![0; Network::ALL.len()],
                by_sentiment: [0; 4],
            })
            .collect(),
        hours: vec![0; 24],
        ..Dashboard::default()
    };
    let mut intents = vec![0_u64; IntentKind::ALL.len()];
    let mut themes: HashMap<String, u64> = HashMap::new();
    let mut authors: HashMap<i64, u64> = HashMap::new();
    let mut hashtags: HashMap<String, u64> = HashMap::new();
    let mut links: HashMap<String, u64> = HashMap::new();
    let add = |into: &mut [u64], from: &[u64]| {
        for (cell, value) in into.iter_mut().zip(from) {
            *cell += value;
        }
    };
    for hour in hours {
        let start = hour.start.as_microsecond();
        if start < since || start >= until || hour.total == 0 {
            continue;
        }
        dash.total += hour.total;
        let slot = usize::try_from((start - since) / width).unwrap_or(0);
        if let Some(bucket) = dash.buckets.get_mut(slot) {
            add(&mut bucket.by_network, &hour.by_network);
            add(&mut bucket.by_sentiment, &hour.by_sentiment);
        }
        let local = start / 1_000_000 + query.utc_offset_seconds;
        let of_day = usize::try_from(local.rem_euclid(86_400) / 3_600).unwrap_or(0);
        if let Some(cell) = dash.hours.get_mut(of_day) {
            *cell += hour.total;
        }
        add(&mut intents, &hour.intents);
        for (into, from) in [
            (&mut themes, &hour.themes),
            (&mut hashtags, &hour.hashtags),
            (&mut links, &hour.links),
        ] {
            for (name, posts) in from {
                match into.get_mut(name) {
                    Some(cell) => *cell += posts,
                    None => {
                        into.insert(name.clone(), *posts);
                    }
                }
            }
        }
        for (author, posts) in &hour.authors {
            *authors.entry(*author).or_default() += posts;
        }
    }
    let named = |list: Vec<(String, u64)>| -> Vec<NamedCount> {
        list.into_iter()
            .map(|(name, posts)| NamedCount { name, posts })
            .collect()
    };
    dash.intents = IntentKind::ALL
        .iter()
        .zip(intents)
        .map(|(kind, posts)| NamedCount {
            name: kind.as_str().to_owned(),
            posts,
        })
        .collect();
    dash.themes = named(top_counts(themes, query.top));
    dash.hashtags = named(top_counts(hashtags, query.top));
    dash.links = named(top_counts(links, query.top));
    let ranked = top_counts(authors, query.top);
    let keys: Vec<i64> = ranked.iter().map(|(key, _)| *key).collect();
    let names: HashMap<i64, String> = labels(&keys)?.into_iter().collect();
    dash.authors = ranked
        .into_iter()
        .filter_map(|(key, posts)| {
            names.get(&key).map(|name| NamedCount {
                name: name.clone(),
                posts,
            })
        })
        .collect();
    Ok(dash)
}

/// Everything the web application needs from a store.
pub trait WebStore:
    Store
    + AccountStore
    + DeskStore
    + AlertStore
    + EngageStore
    + DirectoryStore
    + ProtectionStore
    + SigninStore
{
}

impl<
    T: Store
        + AccountStore
        + DeskStore
        + AlertStore
        + EngageStore
        + DirectoryStore
        + ProtectionStore
        + SigninStore,
> WebStore for T
{
}
