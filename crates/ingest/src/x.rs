//! The X (Twitter) API v2 importer.
//!
//! Reads search and lookup pages (`data` as an array, or one object for `GET /2/tweets/:id` and
//! filtered-stream lines), joins authors from `includes.users`, emits the referenced tweets of
//! `includes.tweets` as posts too (once per document), recovers the full text of truncated
//! retweets, maps every edited version onto the id of the first version, turns batch compliance
//! lines into deletions, and reports pages of users, lists and counts as skipped. Tweets are read
//! with borrowed, typed structs; a small splitter (`split`) first finds each tweet's and user's
//! JSON text without decoding it (that text is kept as the post's `raw`), so a page is scanned
//! about one and a half times and nothing goes through `serde_json::Value` or `f64`.

use std::{borrow::Cow, collections::HashMap, collections::HashSet, fmt};

use jiff::Timestamp;
use model::{Author, Change, Counts, Deletion, Network, Post, Relation, RelationKind};
use serde::{
    Deserialize, Deserializer,
    de::{IgnoredAny, SeqAccess, Visitor},
};

use crate::{Parsed, Record, Rejected};

/// Milliseconds between the Unix epoch and the X snowflake epoch (2010-11-04T01:42:54.657Z).
const SNOWFLAKE_EPOCH_MS: i64 = 1_288_834_974_657;

/// Parses one X API v2 document (a whole response, one stream line or one compliance line) and
/// pushes its posts, deletions, skipped items and rejections into `out`.
pub fn parse_document(doc: &str, out: &mut Vec<Parsed>) {
    let Some(parts) = split::page(doc) else {
        out.push(Err(Rejected::at(
            "",
            "not a well-formed JSON object: an X API v2 response is one object per document or \
             line",
        )
        .with_excerpt(doc)));
        return;
    };
    let split::Parts {
        mut data,
        single,
        includes,
        users,
        tweets,
        errors,
        meta,
    } = parts;
    let mut whole = false;
    if data.is_empty() && !includes {
        if !other(doc, &errors, meta, out) {
            return;
        }
        data.push(doc);
        whole = true;
    }
    let users: Vec<User<'_>> = users
        .into_iter()
        .filter_map(|raw| serde_json::from_str(raw).ok())
        .collect();
    let mut page = Page::new(&users);

    let mut items = Vec::with_capacity(data.len());
    for (index, &raw) in data.iter().enumerate() {
        let pointer = match (whole, single) {
            (true, _) => Where::Document,
            (false, true) => Where::Data(None),
            (false, false) => Where::Data(Some(index)),
        };
        match serde_json::from_str::<Item<'_>>(raw) {
            Ok(item) => {
                if item.text.is_none()
                    && item.username.is_some()
                    && let Ok(user) = serde_json::from_str::<User<'_>>(raw)
                {
                    page.extra_users.push(user);
                }
                items.push((pointer, raw, item));
            }
            Err(error) => out.push(Err(Rejected::at(
                pointer.to_string(),
                format!("unreadable tweet ({error})"),
            )
            .with_excerpt(raw))),
        }
    }
    for (index, &raw) in tweets.iter().enumerate() {
        let pointer = Where::Included(index);
        match serde_json::from_str::<Item<'_>>(raw) {
            Ok(item) if item.text.is_some() => page.include(item, raw, pointer),
            Ok(_) => out.push(Err(Rejected::at(
                pointer.to_string(),
                "a referenced tweet without `text`",
            )
            .with_excerpt(raw))),
            Err(error) => out.push(Err(Rejected::at(
                pointer.to_string(),
                format!("unreadable referenced tweet ({error})"),
            )
            .with_excerpt(raw))),
        }
    }

    let mut seen: HashSet<&str> = HashSet::with_capacity(items.len() + page.included.len());
    for (pointer, raw, item) in &items {
        match item.kind() {
            Kind::Tweet => {
                if seen.insert(item.id.as_ref()) {
                    out.push(page.post(item, raw, *pointer));
                }
            }
            Kind::Other(kind) => out.push(Ok(skipped(kind))),
            Kind::Unknown => out.push(Err(Rejected::at(
                pointer.to_string(),
                "neither a tweet, a user, a list nor a counts bucket: no `text`, `username`, \
                 `name` or `tweet_count`",
            )
            .with_excerpt(raw))),
        }
    }
    for (item, raw, pointer) in &page.included {
        if seen.insert(item.id.as_ref()) {
            out.push(page.post(item, raw, *pointer));
        }
    }
    for _ in &errors {
        out.push(Ok(skipped("x partial error")));
    }
}

/// Where a tweet is in its document; written as a JSON pointer only when something is wrong.
#[derive(Clone, Copy)]
enum Where {
    /// The whole document is the tweet.
    Document,
    /// In `data`: at an index, or the object itself.
    Data(Option<usize>),
    /// In `includes.tweets`, at an index.
    Included(usize),
}

impl fmt::Display for Where {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Where::Document => Ok(()),
            Where::Data(None) => f.write_str("/data"),
            Where::Data(Some(index)) => write!(f, "/data/{index}"),
            Where::Included(index) => write!(f, "/includes/tweets/{index}"),
        }
    }
}

fn skipped(kind: &str) -> Record {
    Record::Skipped {
        kind: kind.to_owned(),
    }
}

/// A document with no `data` or `includes`: a compliance line, an error body, an empty page, a
/// bare tweet object (as `twarc2 flatten` writes them), or not X at all. Returns true for a bare
/// tweet, which the caller reads as a page of one.
fn other(doc: &str, errors: &[&str], meta: bool, out: &mut Vec<Parsed>) -> bool {
    let fields = match serde_json::from_str::<Fields<'_>>(doc) {
        Ok(fields) => fields,
        Err(error) => {
            out.push(Err(Rejected::at(
                "",
                format!("unreadable X document ({error})"),
            )
            .with_excerpt(doc)));
            return false;
        }
    };
    if fields.text.is_some() && fields.id.is_some() {
        return true;
    }
    if let Some(action) = fields.action.as_deref() {
        compliance(&fields, action, out);
    } else if fields.title.is_some() || fields.detail.is_some() {
        let problem = Problem {
            title: fields.title,
            detail: fields.detail,
            kind: fields.kind,
        };
        out.push(Err(Rejected::at("", problem.reason(1)).with_excerpt(doc)));
    } else if let Some(first) = errors.first() {
        let problem = serde_json::from_str::<Problem<'_>>(first).unwrap_or_default();
        out.push(Err(
            Rejected::at("/errors", problem.reason(errors.len())).with_excerpt(first)
        ));
    } else if !meta {
        out.push(Err(Rejected::at(
            "",
            "not an X API v2 response: no `data`, `errors`, `meta` or compliance `action`; \
             check that the file is an X export, or import it with the right --format",
        )
        .with_excerpt(doc)));
    }
    false
}

/// One batch compliance line: a tweet deletion, or a user event that is skipped.
fn compliance(fields: &Fields<'_>, action: &str, out: &mut Vec<Parsed>) {
    let Some(id) = fields.id.as_deref() else {
        out.push(Err(Rejected::at("/id", "a compliance line without `id`")));
        return;
    };
    if !is_tweet_compliance(fields, id) {
        out.push(Ok(skipped("x user compliance")));
        return;
    }
    if action != "delete" {
        out.push(Ok(skipped("x tweet compliance")));
        return;
    }
    let deleted_at = fields
        .redacted_at
        .as_deref()
        .and_then(|time| parse_time(time).ok());
    out.push(Ok(Record::Change(Change::Delete(Deletion {
        network: Network::X,
        id: id.to_owned(),
        deleted_at,
    }))));
}

/// Tells tweet compliance lines from user ones. Only tweet results carry `redacted_at`; user
/// results write `created_at` as `+00:00`; and a tweet's `created_at` is the time in its
/// snowflake id (a user's is not, for accounts older than snowflake ids).
fn is_tweet_compliance(fields: &Fields<'_>, id: &str) -> bool {
    if fields.redacted_at.is_some() {
        return true;
    }
    let Some(created) = fields.created_at.as_deref() else {
        return true;
    };
    if created.ends_with("+00:00") {
        return false;
    }
    match (snowflake_time(id, false), parse_time(created)) {
        (Some(from_id), Ok(created)) => {
            (from_id.as_millisecond() - created.as_millisecond()).abs() < 2_000
        }
        _ => true,
    }
}

/// What a page's `includes` gives the tweets of `data`: their authors and referenced tweets.
struct Page<'a, 'u> {
    users: HashMap<&'u str, &'u User<'a>>,
    extra_users: Vec<User<'a>>,
    included: Vec<(Item<'a>, &'a str, Where)>,
    by_id: HashMap<&'a str, usize>,
}

impl<'a, 'u> Page<'a, 'u> {
    fn new(users: &'u [User<'a>]) -> Self {
        let mut map = HashMap::with_capacity(users.len());
        for user in users {
            map.insert(user.id.as_ref(), user);
        }
        Page {
            users: map,
            extra_users: Vec::new(),
            included: Vec::new(),
            by_id: HashMap::new(),
        }
    }

    /// Adds a tweet of `includes.tweets`, so tweets of `data` can find what they reference.
    fn include(&mut self, item: Item<'a>, raw: &'a str, pointer: Where) {
        if let Cow::Borrowed(id) = item.id {
            self.by_id.insert(id, self.included.len());
        }
        self.included.push((item, raw, pointer));
    }

    fn referenced(&self, id: &str) -> Option<&Item<'a>> {
        let index = *self.by_id.get(id)?;
        self.included.get(index).map(|(item, _, _)| item)
    }

    fn user(&self, id: &str) -> Option<&User<'a>> {
        self.users
            .get(id)
            .copied()
            .or_else(|| self.extra_users.iter().find(|user| user.id == id))
    }

    fn author(&self, author_id: Option<&str>) -> Author {
        let Some(author_id) = author_id else {
            return Author::default();
        };
        match self.user(author_id) {
            Some(user) => user.author(),
            None => Author {
                id: author_id.to_owned(),
                ..Author::default()
            },
        }
    }

    /// Builds the post of one tweet.
    fn post(&self, tweet: &Item<'a>, raw: &str, pointer: Where) -> Parsed {
        let own_id = tweet.id.as_ref();
        if own_id.is_empty() {
            return Err(Rejected::at(pointer.to_string(), "a tweet without `id`").with_excerpt(raw));
        }
        let first_id = tweet
            .edit_history_tweet_ids
            .as_ref()
            .and_then(|ids| ids.0.as_ref())
            .map_or(own_id, |first| first.0.as_ref());
        let own_time = match tweet.created_at.as_deref() {
            Some(text) => match parse_time(text) {
                Ok(time) => Some(time),
                Err(error) => {
                    return Err(Rejected::at(
                        format!("{pointer}/created_at"),
                        format!("`created_at` is not a time ({error})"),
                    )
                    .with_excerpt(raw));
                }
            },
            None => snowflake_time(own_id, true),
        };
        let Some(own_time) = own_time else {
            return Err(Rejected::at(
                pointer.to_string(),
                "a tweet without `created_at` whose id does not carry a time; request \
                 tweet.fields=created_at",
            )
            .with_excerpt(raw));
        };
        let (created_at, edited_at) = if first_id == own_id {
            (own_time, None)
        } else {
            let original = self
                .referenced(first_id)
                .and_then(|item| item.created_at.as_deref())
                .and_then(|text| parse_time(text).ok())
                .or_else(|| snowflake_time(first_id, true));
            (original.unwrap_or(own_time), Some(own_time))
        };

        let author = match &tweet.author {
            Some(user) => user.author(),
            None => self.author(tweet.author_id.as_deref()),
        };
        let mut relation = None;
        let mut reply_to = None;
        let mut source = tweet;
        let mut inline_text = None;
        for reference in tweet.referenced_tweets.iter().flatten() {
            match reference.kind.as_ref() {
                "retweeted" => {
                    relation = Some(Relation {
                        kind: RelationKind::Repost,
                        target_id: reference.id.to_string(),
                    });
                    if let Some(original) = self.referenced(reference.id.as_ref()) {
                        source = original;
                    } else if let Some(text) = reference.text.as_deref() {
                        inline_text = Some(text);
                    }
                }
                "quoted" if relation.is_none() => {
                    relation = Some(Relation {
                        kind: RelationKind::Quote,
                        target_id: reference.id.to_string(),
                    });
                }
                "replied_to" => reply_to = Some(reference.id.to_string()),
                _ => {}
            }
        }
        let text = inline_text.or(source.text.as_deref()).unwrap_or_default();
        let url = match author.handle.as_str() {
            "" => concat(&["https://x.com/i/web/status/", first_id]),
            handle => concat(&["https://x.com/", handle, "/status/", first_id]),
        };
        let mut post = Post::new(Network::X, first_id, author, decode(text), created_at);
        post.edited_at = edited_at;
        post.url = Some(url);
        post.lang = tweet
            .lang
            .as_deref()
            .filter(|lang| is_language(lang))
            .map(str::to_owned);
        post.reply_to = reply_to;
        post.thread_id = tweet.conversation_id.as_deref().map(str::to_owned);
        post.relation = relation;
        if let Some(metrics) = &tweet.public_metrics {
            post.counts = Counts {
                likes: metrics.like_count,
                replies: metrics.reply_count,
                reposts: metrics.retweet_count,
                quotes: metrics.quote_count,
            };
        }
        if let Some(entities) = &source.entities {
            post.hashtags = entities
                .hashtags
                .iter()
                .map(|tag| tag.tag.to_string())
                .collect();
            post.mentions = entities
                .mentions
                .iter()
                .map(|mention| mention.username.to_string())
                .collect();
            post.links = entities.urls.iter().filter_map(Link::target).collect();
        }
        let media = source.attachments.as_ref().or(tweet.attachments.as_ref());
        post.media_count = media.map_or(0, |attachments| {
            u32::try_from(attachments.media_keys.len()).unwrap_or(u32::MAX)
        });
        post.raw = raw.to_owned();
        Ok(Record::Change(Change::Upsert(Box::new(post))))
    }
}

/// The time in a snowflake id, or `None` for an id that is not a snowflake. With `whole_second`
/// it is cut to the second, as the API writes `created_at`, so versions of a post agree.
fn snowflake_time(id: &str, whole_second: bool) -> Option<Timestamp> {
    let id = id.parse::<u64>().ok()?;
    let since_epoch = i64::try_from(id >> 22).ok()?;
    if since_epoch == 0 {
        return None;
    }
    let mut millis = since_epoch.checked_add(SNOWFLAKE_EPOCH_MS)?;
    if whole_second {
        millis -= millis.rem_euclid(1000);
    }
    Timestamp::from_millisecond(millis).ok()
}

/// Joins strings into one allocation (cheaper than `format!` on this hot path).
fn concat(parts: &[&str]) -> String {
    let mut joined = String::with_capacity(parts.iter().map(|part| part.len()).sum());
    for part in parts {
        joined.push_str(part);
    }
    joined
}

/// Reads an X time. The API's own form, `2022-10-03T17:57:11.000Z`, is read directly; anything
/// else goes through jiff's RFC 3339 parser.
fn parse_time(text: &str) -> Result<Timestamp, jiff::Error> {
    match api_time(text.as_bytes()) {
        Some(time) => Ok(time),
        None => text.parse(),
    }
}

fn api_time(b: &[u8]) -> Option<Timestamp> {
    let number = |from: usize, to: usize| -> Option<i64> {
        b.get(from..to)?.iter().try_fold(0_i64, |value, &digit| {
            digit
                .is_ascii_digit()
                .then(|| value * 10 + i64::from(digit - b'0'))
        })
    };
    let shape = b.len() == 24
        && b.get(4) == Some(&b'-')
        && b.get(7) == Some(&b'-')
        && b.get(10) == Some(&b'T')
        && b.get(13) == Some(&b':')
        && b.get(16) == Some(&b':')
        && b.get(19) == Some(&b'.')
        && b.get(23) == Some(&b'Z');
    if !shape {
        return None;
    }
    let (year, month, day) = (number(0, 4)?, number(5, 7)?, number(8, 10)?);
    let (hour, minute, second, millis) = (
        number(11, 13)?,
        number(14, 16)?,
        number(17, 19)?,
        number(20, 23)?,
    );
    if !(1..=12).contains(&month)
        || !(1..=28).contains(&day)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    // Days from 1970-01-01 to the civil date (Howard Hinnant's algorithm).
    let shifted = if month <= 2 { year - 1 } else { year };
    let era = shifted.div_euclid(400);
    let year_of_era = shifted - era * 400;
    let day_of_year = (153 * ((month + 9) % 12) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    let days = era * 146_097 + day_of_era - 719_468;
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second;
    Timestamp::new(seconds, i32::try_from(millis * 1_000_000).ok()?).ok()
}

/// X marks text with no language with pseudo-codes (`und`, `zxx`, `qme`, `qst`...): not languages.
fn is_language(lang: &str) -> bool {
    !(lang.is_empty()
        || lang == "und"
        || lang == "zxx"
        || (lang.len() == 3 && lang.starts_with('q')))
}

/// Tweet text escapes `&`, `<` and `>` as HTML entities.
fn decode(text: &str) -> String {
    if text.contains('&') {
        html_escape::decode_html_entities(text).into_owned()
    } else {
        text.to_owned()
    }
}

/// The top-level fields of a document without tweets: a problem+json body or a compliance line.
#[derive(Deserialize)]
struct Fields<'a> {
    #[serde(borrow, default)]
    title: Option<Text<'a>>,
    #[serde(borrow, default)]
    detail: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
    #[serde(borrow, default)]
    action: Option<Text<'a>>,
    #[serde(borrow, default)]
    id: Option<Text<'a>>,
    #[serde(borrow, default)]
    created_at: Option<Text<'a>>,
    #[serde(borrow, default)]
    redacted_at: Option<Text<'a>>,
    #[serde(default)]
    text: Option<IgnoredAny>,
}

/// The first id of `edit_history_tweet_ids` (the original version), read without a `Vec`.
struct FirstId<'a>(Option<Text<'a>>);

/// A string borrowed from the document unless it has escapes. (`Option<Cow<str>>` fields would
/// always allocate: serde borrows only a `Cow` that is the field's whole type.)
#[derive(Deserialize, Clone, Default)]
struct Text<'a>(#[serde(borrow)] Cow<'a, str>);

impl std::ops::Deref for Text<'_> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for FirstId<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct FirstVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for FirstVisitor<'a> {
            type Value = FirstId<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an array of tweet ids")
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<FirstId<'a>, A::Error> {
                let first = seq.next_element::<Text<'de>>()?;
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(FirstId(first))
            }
        }
        deserializer.deserialize_seq(FirstVisitor(std::marker::PhantomData))
    }
}

/// A user object of `includes.users` or of a users page.
#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    username: Option<Text<'a>>,
    #[serde(borrow, default)]
    name: Option<Text<'a>>,
    #[serde(borrow, default)]
    description: Option<Text<'a>>,
    #[serde(default)]
    public_metrics: Option<UserMetrics>,
    #[serde(default)]
    verified: Option<bool>,
    #[serde(borrow, default)]
    verified_type: Option<Text<'a>>,
}

impl User<'_> {
    fn author(&self) -> Author {
        let handle = self.username.as_deref().unwrap_or_default();
        Author {
            id: self.id.to_string(),
            handle: handle.to_owned(),
            display_name: self.name.as_deref().map(str::to_owned),
            bio: self
                .description
                .as_deref()
                .filter(|bio| !bio.is_empty())
                .map(decode),
            followers: self
                .public_metrics
                .as_ref()
                .and_then(|metrics| metrics.followers_count),
            verified: self.verified.unwrap_or(false)
                || self
                    .verified_type
                    .as_deref()
                    .is_some_and(|kind| kind != "none"),
            url: (!handle.is_empty()).then(|| concat(&["https://x.com/", handle])),
        }
    }
}

#[derive(Deserialize)]
struct UserMetrics {
    #[serde(default)]
    followers_count: Option<u64>,
}

/// One item of `data` or `includes.tweets`: a tweet, or (with no `text`) a user, list or bucket.
#[derive(Deserialize)]
struct Item<'a> {
    #[serde(borrow, default)]
    id: Cow<'a, str>,
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
    #[serde(borrow, default)]
    author_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    author: Option<User<'a>>,
    #[serde(borrow, default)]
    created_at: Option<Text<'a>>,
    #[serde(borrow, default)]
    conversation_id: Option<Text<'a>>,
    #[serde(borrow, default)]
    lang: Option<Text<'a>>,
    #[serde(borrow, default)]
    edit_history_tweet_ids: Option<FirstId<'a>>,
    #[serde(borrow, default)]
    referenced_tweets: Option<Vec<Reference<'a>>>,
    #[serde(default)]
    public_metrics: Option<TweetMetrics>,
    #[serde(borrow, default)]
    entities: Option<Entities<'a>>,
    #[serde(default)]
    attachments: Option<Attachments>,
    #[serde(default)]
    username: Option<IgnoredAny>,
    #[serde(default)]
    name: Option<IgnoredAny>,
    #[serde(default)]
    tweet_count: Option<IgnoredAny>,
    #[serde(default)]
    start: Option<IgnoredAny>,
}

enum Kind {
    Tweet,
    Other(&'static str),
    Unknown,
}

impl Item<'_> {
    fn kind(&self) -> Kind {
        if self.text.is_some() {
            Kind::Tweet
        } else if self.username.is_some() {
            Kind::Other("x user")
        } else if self.tweet_count.is_some() || self.start.is_some() {
            Kind::Other("x counts bucket")
        } else if self.name.is_some() {
            Kind::Other("x list")
        } else {
            Kind::Unknown
        }
    }
}

#[derive(Deserialize)]
struct Reference<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
    /// The referenced tweet's text, when it is inlined (`twarc2 flatten` output).
    #[serde(borrow, default)]
    text: Option<Text<'a>>,
}

#[derive(Deserialize)]
struct TweetMetrics {
    #[serde(default)]
    like_count: Option<u64>,
    #[serde(default)]
    reply_count: Option<u64>,
    #[serde(default)]
    retweet_count: Option<u64>,
    #[serde(default)]
    quote_count: Option<u64>,
}

#[derive(Deserialize)]
struct Entities<'a> {
    #[serde(borrow, default)]
    hashtags: Vec<Tag<'a>>,
    #[serde(borrow, default)]
    mentions: Vec<Mention<'a>>,
    #[serde(borrow, default)]
    urls: Vec<Link<'a>>,
}

#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(borrow)]
    tag: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Mention<'a> {
    #[serde(borrow)]
    username: Cow<'a, str>,
}

#[derive(Deserialize)]
struct Link<'a> {
    #[serde(borrow, default)]
    url: Option<Text<'a>>,
    #[serde(borrow, default)]
    expanded_url: Option<Text<'a>>,
    #[serde(borrow, default)]
    unwound_url: Option<Text<'a>>,
    #[serde(borrow, default)]
    display_url: Option<Text<'a>>,
    #[serde(default)]
    media_key: Option<IgnoredAny>,
}

impl Link<'_> {
    /// The link's target, or `None` for the `pic.twitter.com` link of attached media.
    fn target(&self) -> Option<String> {
        let media = self.media_key.is_some()
            || self.display_url.as_deref().is_some_and(|shown| {
                shown.starts_with("pic.twitter.com/") || shown.starts_with("pic.x.com/")
            });
        if media {
            return None;
        }
        [&self.unwound_url, &self.expanded_url, &self.url]
            .into_iter()
            .flatten()
            .find(|url| !url.is_empty())
            .map(|url| url.to_string())
    }
}

#[derive(Deserialize)]
struct Attachments {
    #[serde(default)]
    media_keys: Vec<IgnoredAny>,
}

/// An entry of `errors`, or a problem+json body.
#[derive(Deserialize, Default)]
struct Problem<'a> {
    #[serde(borrow, default)]
    title: Option<Text<'a>>,
    #[serde(borrow, default)]
    detail: Option<Text<'a>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Text<'a>>,
}

impl Problem<'_> {
    /// A reason that quotes the error and says what to do about it.
    fn reason(&self, count: usize) -> String {
        let title = self.title.as_deref().unwrap_or("error");
        let detail = self
            .detail
            .as_deref()
            .map(|detail| format!(": {detail}"))
            .unwrap_or_default();
        let kind = self.kind.as_deref().unwrap_or_default();
        let more = match count {
            0 | 1 => String::new(),
            more => format!(" (and {} more errors)", more - 1),
        };
        let lower = format!("{title} {kind}").to_ascii_lowercase();
        let advice = if lower.contains("unauthorized") || lower.contains("not-authorized") {
            "check the app's bearer token and its access level, then fetch again"
        } else if lower.contains("too many")
            || lower.contains("usage-capped")
            || lower.contains("rate")
        {
            "the rate limit or monthly cap was hit: wait for it to reset, then fetch again"
        } else if lower.contains("not found") || lower.contains("not-found") {
            "the tweets or users asked for are deleted, suspended or private: nothing to import"
        } else if lower.contains("invalid") {
            "correct the request (query, ids or fields) and fetch again"
        } else {
            "the file holds an API error instead of tweets: fetch the data again"
        };
        format!("the X API returned an error, not tweets: \"{title}{detail}\"{more}; {advice}")
    }
}

/// Finds the JSON text of a page's tweets, users and errors in one pass, without decoding them:
/// strings are skipped with a short loop or `memchr`, containers by counting brackets. Each
/// tweet and user is then decoded once, by serde, and its text is kept as the post's `raw`.
mod split {
    /// Where the parts of a page are, as JSON texts.
    #[derive(Default)]
    pub(super) struct Parts<'a> {
        /// The items of `data`, or the one object `data` is.
        pub(super) data: Vec<&'a str>,
        /// Whether `data` is one object rather than an array.
        pub(super) single: bool,
        /// Whether the document has `includes`.
        pub(super) includes: bool,
        /// `includes.users`.
        pub(super) users: Vec<&'a str>,
        /// `includes.tweets`.
        pub(super) tweets: Vec<&'a str>,
        /// `errors`.
        pub(super) errors: Vec<&'a str>,
        /// Whether the document has `meta`.
        pub(super) meta: bool,
    }

    /// Splits a document, or `None` if it is not a well-formed JSON object. Keys are compared
    /// raw: the API never escapes its own key names.
    pub(super) fn page(doc: &str) -> Option<Parts<'_>> {
        let mut scan = Scan { text: doc, at: 0 };
        let mut parts = Parts::default();
        scan.members(|key, scan| match key {
            "data" => match scan.peek()? {
                b'[' => scan.elements(&mut parts.data),
                b'{' => {
                    parts.data.push(scan.value()?);
                    parts.single = true;
                    Some(())
                }
                _ => scan.skip(),
            },
            "includes" if scan.peek() == Some(b'{') => {
                parts.includes = true;
                scan.members(|key, scan| match key {
                    "users" if scan.peek() == Some(b'[') => scan.elements(&mut parts.users),
                    "tweets" if scan.peek() == Some(b'[') => scan.elements(&mut parts.tweets),
                    _ => scan.skip(),
                })
            }
            "errors" if scan.peek() == Some(b'[') => scan.elements(&mut parts.errors),
            "meta" => {
                parts.meta = true;
                scan.skip()
            }
            _ => scan.skip(),
        })?;
        scan.space();
        (scan.at == doc.len()).then_some(parts)
    }

    struct Scan<'a> {
        text: &'a str,
        at: usize,
    }

    /// The offset of the first `"` or `\\` in `bytes`, eight bytes at a time (SWAR: a byte
    /// equal to the one looked for becomes zero, and the lowest zero byte is found exactly).
    fn find_quote_or_escape(bytes: &[u8]) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        let zero_bytes = |word: u64| word.wrapping_sub(ONES) & !word & HIGH;
        let mut at = 0;
        while let Some(chunk) = bytes.get(at..at + 8) {
            let mut word = [0_u8; 8];
            word.copy_from_slice(chunk);
            let word = u64::from_le_bytes(word);
            let found = zero_bytes(word ^ (ONES * u64::from(b'"')))
                | zero_bytes(word ^ (ONES * u64::from(b'\\')));
            if found != 0 {
                return Some(at + (found.trailing_zeros() / 8) as usize);
            }
            at += 8;
        }
        let rest = bytes.get(at..)?;
        rest.iter()
            .position(|&byte| byte == b'"' || byte == b'\\')
            .map(|offset| at + offset)
    }

    impl<'a> Scan<'a> {
        /// The next byte that is not white space.
        fn peek(&mut self) -> Option<u8> {
            self.space();
            self.text.as_bytes().get(self.at).copied()
        }

        fn space(&mut self) {
            let bytes = self.text.as_bytes();
            while matches!(bytes.get(self.at), Some(b' ' | b'\n' | b'\r' | b'\t')) {
                self.at += 1;
            }
        }

        fn eat(&mut self, byte: u8) -> bool {
            let found = self.peek() == Some(byte);
            if found {
                self.at += 1;
            }
            found
        }

        fn expect(&mut self, byte: u8) -> Option<()> {
            self.eat(byte).then_some(())
        }

        /// Reads an object, handing each key to `member`, which must read the value.
        fn members(
            &mut self,
            mut member: impl FnMut(&'a str, &mut Self) -> Option<()>,
        ) -> Option<()> {
            self.expect(b'{')?;
            if self.eat(b'}') {
                return Some(());
            }
            loop {
                self.space();
                let key = self.string()?;
                self.expect(b':')?;
                member(key, self)?;
                if self.eat(b'}') {
                    return Some(());
                }
                self.expect(b',')?;
            }
        }

        /// Reads an array, pushing the text of each element.
        fn elements(&mut self, out: &mut Vec<&'a str>) -> Option<()> {
            self.expect(b'[')?;
            if self.eat(b']') {
                return Some(());
            }
            out.reserve(100);
            loop {
                out.push(self.value()?);
                if self.eat(b']') {
                    return Some(());
                }
                self.expect(b',')?;
            }
        }

        fn skip(&mut self) -> Option<()> {
            self.value().map(drop)
        }

        /// At a `"`: moves past the string and returns its raw content.
        fn string(&mut self) -> Option<&'a str> {
            let bytes = self.text.as_bytes();
            if bytes.get(self.at) != Some(&b'"') {
                return None;
            }
            let start = self.at + 1;
            let mut at = start;
            loop {
                let found = at + find_quote_or_escape(bytes.get(at..)?)?;
                if bytes.get(found) == Some(&b'\\') {
                    at = found + 2;
                } else {
                    self.at = found + 1;
                    return self.text.get(start..found);
                }
            }
        }

        /// Moves past one value and returns its text.
        fn value(&mut self) -> Option<&'a str> {
            let start = self.at;
            let bytes = self.text.as_bytes();
            match self.peek()? {
                b'"' => {
                    self.string()?;
                }
                b'{' | b'[' => {
                    let mut depth = 0_usize;
                    let mut at = self.at;
                    loop {
                        match *bytes.get(at)? {
                            b'"' => {
                                self.at = at;
                                self.string()?;
                                at = self.at;
                                continue;
                            }
                            b'{' | b'[' => depth += 1,
                            b'}' | b']' => {
                                depth = depth.checked_sub(1)?;
                                if depth == 0 {
                                    self.at = at + 1;
                                    break;
                                }
                            }
                            _ => {}
                        }
                        at += 1;
                    }
                }
                _ => {
                    let first = self.at;
                    while let Some(byte) = bytes.get(self.at) {
                        if matches!(byte, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                            break;
                        }
                        self.at += 1;
                    }
                    if self.at == first {
                        return None;
                    }
                }
            }
            self.text.get(start..self.at).map(str::trim_start)
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::{Format, ImportOptions, input};

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/api-samples/x-twitter"
    );

    /// Per file: posts, deletions, skipped, rejected (counted from the files with python3).
    const EXPECTED: &[(&str, usize, usize, usize, usize)] = &[
        ("twarc-csv__compliance-job-result__tweets.jsonl", 0, 2, 0, 0),
        ("twarc-csv__compliance-job-result__users.jsonl", 0, 0, 2, 0),
        ("twarc-csv__counts-recent__dogs.json", 0, 0, 169, 0),
        (
            "twarc-csv__filtered-stream__dogs__truncated-last-line.jsonl",
            11,
            0,
            0,
            1,
        ),
        ("twarc-csv__followed-lists.json", 0, 0, 2, 0),
        ("twarc-csv__owned-lists.json", 0, 0, 4, 0),
        ("twarc-csv__search-all__two-tweets.json", 2, 0, 0, 0),
        ("twarc-csv__search-recent__brexit.json", 155, 0, 0, 0),
        (
            "twarc-csv__search-recent__kpop-with-errors.json",
            121,
            0,
            1,
            0,
        ),
        ("twarc-csv__tweets-lookup__cashtags.json", 1, 0, 0, 0),
        ("twarc-csv__tweets-lookup__cotweet.json", 1, 0, 0, 0),
        ("twarc-csv__tweets-lookup__edited-after.json", 2, 0, 0, 0),
        ("twarc-csv__tweets-lookup__edited-before.json", 2, 0, 0, 0),
        ("twarc-csv__tweets-lookup__edited.json", 2, 0, 0, 0),
        ("twarc-csv__tweets-lookup__geo-1.json", 1, 0, 0, 0),
        (
            "twarc-csv__tweets-lookup__geo-2-with-place.json",
            2,
            0,
            0,
            0,
        ),
        ("twarc-csv__tweets-lookup__many-urls.json", 2, 0, 0, 0),
        ("twarc-csv__tweets-lookup__media.json", 1, 0, 0, 0),
        ("twarc-csv__tweets-lookup__mentions.json", 2, 0, 0, 0),
        ("twarc-csv__tweets-lookup__quoted-edit.json", 3, 0, 0, 0),
        ("twarc-csv__tweets-lookup__verified-type.json", 1, 0, 0, 0),
        ("twarc-csv__tweets-lookup__withheld-1.json", 1, 0, 0, 0),
        ("twarc-csv__tweets-lookup__withheld-2.json", 1, 0, 0, 0),
        (
            "twarc-csv__tweets-lookup__withheld-3-with-errors.json",
            1,
            0,
            1,
            0,
        ),
        ("twarc-csv__users-lookup__with-errors.json", 52, 0, 104, 0),
        ("tweepy__counts-recent.json", 0, 0, 169, 0),
        ("tweepy__home-timeline.json", 98, 0, 0, 0),
        ("tweepy__liked-tweets.json", 96, 0, 0, 0),
        ("tweepy__list-tweets.json", 97, 0, 0, 0),
        ("tweepy__quote-tweets.json", 9, 0, 0, 0),
        ("tweepy__retweeted-by.json", 0, 0, 38, 0),
        ("tweepy__search-all.json", 10, 0, 0, 0),
        ("tweepy__search-recent.json", 10, 0, 0, 0),
        ("tweepy__tweet-lookup-single.json", 1, 0, 0, 0),
        ("tweepy__tweets-lookup-multi.json", 2, 0, 0, 0),
        ("tweepy__user-mentions.json", 10, 0, 0, 0),
        ("tweepy__user-tweets.json", 2, 0, 0, 0),
    ];

    fn path(name: &str) -> PathBuf {
        Path::new(DIR).join(name)
    }

    fn read(name: &str) -> Vec<Parsed> {
        let path = path(name);
        let (_, input) = input::open_path(&path, Some(Format::X)).unwrap();
        input::parse(&path, Format::X, input, &ImportOptions::default())
            .unwrap()
            .collect()
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

    fn rejected(items: &[Parsed]) -> Vec<&Rejected> {
        items
            .iter()
            .filter_map(|item| item.as_ref().err())
            .collect()
    }

    fn tally(items: &[Parsed]) -> (usize, usize, usize, usize) {
        let mut counts = (0, 0, 0, 0);
        for item in items {
            match item {
                Ok(Record::Change(Change::Upsert(_))) => counts.0 += 1,
                Ok(Record::Change(Change::Delete(_))) => counts.1 += 1,
                Ok(Record::Change(Change::Handle(_))) => counts.2 += 1,
                Ok(Record::Skipped { .. }) => counts.2 += 1,
                Ok(Record::Cursor(_)) => {}
                Err(_) => counts.3 += 1,
            }
        }
        counts
    }

    fn one<'a>(items: &'a [Parsed], id: &str, text_start: &str) -> &'a Post {
        posts(items)
            .into_iter()
            .find(|post| post.id == id && post.text.starts_with(text_start))
            .unwrap()
    }

    fn time(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn every_sample_file_gives_the_expected_counts() {
        for &(name, posts, deletions, skipped, rejected) in EXPECTED {
            let items = read(name);
            assert_eq!(
                tally(&items),
                (posts, deletions, skipped, rejected),
                "{name}"
            );
        }
    }

    #[test]
    fn every_sample_file_has_an_expectation() {
        for entry in std::fs::read_dir(DIR).unwrap() {
            let name = entry.unwrap().file_name().into_string().unwrap();
            assert!(
                EXPECTED.iter().any(|expected| expected.0 == name),
                "{name} is not tested"
            );
        }
    }

    #[test]
    fn every_post_is_complete() {
        for &(name, ..) in EXPECTED {
            for post in posts(&read(name)) {
                assert_eq!(post.network, Network::X);
                assert!(!post.id.is_empty() && post.id.bytes().all(|b| b.is_ascii_digit()));
                assert!(
                    post.raw.starts_with('{') && post.raw.ends_with('}'),
                    "{name}"
                );
                assert!(post.url.as_deref().unwrap().starts_with("https://x.com/"));
                assert!(!post.text.contains("&amp;"), "{name}: {}", post.text);
            }
        }
    }

    #[test]
    fn a_truncated_retweet_gets_the_full_text_of_the_original() {
        let items = read("twarc-csv__search-recent__brexit.json");
        let retweet = one(&items, "1440716856763977732", "");
        assert_eq!(retweet.author.id, "4100727022");
        let relation = retweet.relation.as_ref().unwrap();
        assert_eq!(relation.kind, RelationKind::Repost);
        assert_eq!(relation.target_id, "1440713161355583489");
        let original = one(&items, "1440713161355583489", "");
        assert_eq!(retweet.text, original.text);
        assert!(retweet.text.starts_with(". #BorisJohnson has revealed"));
        assert!(!retweet.text.ends_with('…'));
        assert!(retweet.text.len() > 140);
        assert_eq!(original.author.handle, "carolJhedges");
        assert!(original.relation.is_none());
        let truncated = posts(&items)
            .into_iter()
            .filter(|post| post.text.ends_with('…') && post.text.starts_with("RT @"))
            .count();
        assert_eq!(
            truncated, 0,
            "every truncated retweet has its original in includes"
        );
        let reposts = posts(&items)
            .into_iter()
            .filter(|post| {
                post.relation
                    .as_ref()
                    .is_some_and(|r| r.kind == RelationKind::Repost)
            })
            .count();
        assert_eq!(
            reposts, 67,
            "all in data: none of the referenced tweets is a retweet"
        );
    }

    #[test]
    fn authors_come_from_includes() {
        let items = read("twarc-csv__search-all__two-tweets.json");
        let retweet = one(&items, "1394735776701816833", "#POIUYTREWQ");
        assert_eq!(retweet.author.handle, "LachiVeronica");
        assert_eq!(retweet.created_at, time("2021-05-18T19:24:56Z"));
        assert_eq!(
            retweet.url.as_deref(),
            Some("https://x.com/LachiVeronica/status/1394735776701816833")
        );
        let original = one(&items, "1391677057810288641", "#POIUYTREWQ");
        assert_eq!(original.author.handle, "bibaigna96");
        assert_eq!(
            original.author.url.as_deref(),
            Some("https://x.com/bibaigna96")
        );
        assert_eq!(original.hashtags, ["POIUYTREWQ"]);

        let items = read("twarc-csv__tweets-lookup__verified-type.json");
        assert!(posts(&items).iter().all(|post| post.author.verified));
    }

    #[test]
    fn an_edited_tweet_maps_to_its_first_id() {
        let first = "1576994746135764992";
        for name in [
            "twarc-csv__tweets-lookup__edited.json",
            "twarc-csv__tweets-lookup__edited-before.json",
            "twarc-csv__tweets-lookup__edited-after.json",
        ] {
            let items = read(name);
            let latest = one(&items, first, "hey :)");
            assert_eq!(
                latest.edited_at,
                Some(time("2022-10-03T17:57:11Z")),
                "{name}"
            );
            assert_eq!(latest.created_at, time("2022-10-03T17:57:01Z"), "{name}");
            assert_eq!(latest.author.handle, "wongmjane");
            assert_eq!(latest.author.followers, Some(138_097));
            assert!(latest.author.verified);
            let likes = if name.ends_with("edited.json") {
                27
            } else {
                32
            };
            assert_eq!(latest.counts.likes, Some(likes), "{name}");
            assert_eq!(latest.lang, None, "`qst` is not a language");
            assert!(latest.raw.contains("\"id\": \"1576994789110992896\""));
            let original = one(&items, first, "i miss y’all");
            assert_eq!(original.edited_at, None);
            assert_eq!(original.created_at, time("2022-10-03T17:57:01Z"));
            assert_eq!(original.media_count, 1);
            assert_eq!(
                original.links,
                ["https://twitter.com/i/web/status/1576994746135764992"]
            );
        }
        let items = read("twarc-csv__tweets-lookup__quoted-edit.json");
        let quote = one(&items, "1576995594388000768", "@wongmjane Test");
        let relation = quote.relation.as_ref().unwrap();
        assert_eq!(
            (relation.kind, relation.target_id.as_str()),
            (RelationKind::Quote, first)
        );
        assert_eq!(quote.reply_to.as_deref(), Some("1576994789110992896"));
        assert_eq!(quote.mentions, ["wongmjane"]);
        assert_eq!(
            posts(&items).iter().filter(|post| post.id == first).count(),
            2
        );
    }

    #[test]
    fn the_created_at_of_an_edit_comes_from_the_snowflake_without_the_original() {
        let doc = r#"{"data":{"id":"1576994789110992896","text":"hey","edit_history_tweet_ids":["1576994746135764992","1576994789110992896"],"created_at":"2022-10-03T17:57:11.000Z"}}"#;
        let mut out = Vec::new();
        parse_document(doc, &mut out);
        let post = posts(&out)[0];
        assert_eq!(post.id, "1576994746135764992");
        assert_eq!(post.created_at, time("2022-10-03T17:57:01Z"));
        assert_eq!(post.edited_at, Some(time("2022-10-03T17:57:11Z")));
        assert_eq!(
            post.url.as_deref(),
            Some("https://x.com/i/web/status/1576994746135764992")
        );
        assert_eq!(
            snowflake_time("1576994746135764992", false),
            Some(time("2022-10-03T17:57:01.281Z"))
        );
    }

    #[test]
    fn stream_lines_with_big_rule_ids_and_a_truncated_last_line() {
        let items = read("twarc-csv__filtered-stream__dogs__truncated-last-line.jsonl");
        let rejected = rejected(&items);
        assert_eq!(rejected.len(), 1);
        assert_eq!(rejected[0].location.line, Some(8));
        let first = one(&items, "1377650090978992134", "");
        assert!(
            first
                .relation
                .as_ref()
                .is_some_and(|r| r.kind == RelationKind::Quote)
        );
        assert!(!first.author.handle.is_empty());
        assert_eq!(
            posts(&items)
                .iter()
                .filter(|post| post.reply_to.is_some())
                .count(),
            3
        );

        let mut out = Vec::new();
        parse_document(r#"{"data":{"author_id":"1021159080151404544""#, &mut out);
        assert_eq!(tally(&out), (0, 0, 0, 1));
    }

    #[test]
    fn partial_errors_are_skipped_and_error_bodies_rejected() {
        let items = read("twarc-csv__tweets-lookup__withheld-3-with-errors.json");
        let reply = one(&items, "506695756406095872", "@ru_yarosh");
        assert_eq!(reply.reply_to.as_deref(), Some("506694458445152256"));
        assert!(
            items.iter().any(
                |item| matches!(item, Ok(Record::Skipped { kind }) if kind == "x partial error")
            )
        );

        let mut out = Vec::new();
        parse_document(
            r#"{"title":"Unauthorized","type":"about:blank","status":401,"detail":"Unauthorized"}"#,
            &mut out,
        );
        let reason = &rejected(&out)[0].reason;
        assert!(
            reason.contains("Unauthorized") && reason.contains("bearer token"),
            "{reason}"
        );

        let mut out = Vec::new();
        parse_document(
            r#"{"errors":[{"title":"Not Found Error","detail":"Could not find tweet with ids: [1].","type":"https://api.twitter.com/2/problems/resource-not-found"}]}"#,
            &mut out,
        );
        assert_eq!(tally(&out), (0, 0, 0, 1));
        assert!(
            rejected(&out)[0]
                .reason
                .contains("Could not find tweet with ids: [1].")
        );

        let mut out = Vec::new();
        parse_document(r#"{"meta":{"result_count":0}}"#, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn compliance_lines_become_deletions() {
        let items = read("twarc-csv__compliance-job-result__tweets.jsonl");
        let deletions: Vec<_> = items
            .iter()
            .filter_map(|item| match item {
                Ok(Record::Change(Change::Delete(deletion))) => Some(deletion),
                _ => None,
            })
            .collect();
        assert_eq!(deletions[0].id, "1170025343920402432");
        assert_eq!(deletions[0].deleted_at, None);
        assert_eq!(
            deletions[1].deleted_at,
            Some(time("2021-08-17T17:26:15.788Z"))
        );
        assert_eq!(deletions[1].network, Network::X);
    }

    #[test]
    fn a_broken_tweet_does_not_stop_the_others() {
        let doc = r#"{"data":[{"id":"1","text":"a","created_at":"2021-01-01T00:00:00.000Z"},{"id":"2","text":"b","created_at":"yesterday"},{"id":"3","text":7},{"id":"1440716856763977732","text":"c"}]}"#;
        let mut out = Vec::new();
        parse_document(doc, &mut out);
        assert_eq!(tally(&out), (2, 0, 0, 2));
        let pointers: Vec<_> = rejected(&out)
            .iter()
            .map(|r| r.location.pointer.clone().unwrap())
            .collect();
        assert_eq!(pointers, ["/data/2", "/data/1/created_at"]);
    }

    #[test]
    fn links_skip_media_and_prefer_unwound_urls() {
        let items = read("twarc-csv__tweets-lookup__many-urls.json");
        for post in posts(&items) {
            assert!(
                post.links
                    .iter()
                    .all(|link| !link.starts_with("https://t.co/"))
            );
        }
        let items = read("tweepy__tweet-lookup-single.json");
        let post = posts(&items)[0];
        assert_eq!(post.id, "1293593516040269825");
        assert_eq!(post.author, Author::default());
        assert_eq!(post.created_at, time("2020-08-12T17:01:42Z"));
        assert!(post.text.contains("Say hello to the new #TwitterAPI"));
    }

    #[test]
    fn the_splitter_finds_tweets_users_and_errors() {
        let doc = r#" { "x" : "a\\\"}y" , "data":[{"c":"]\\"}, [] ,-2.5e3, {"d":[{}]}],
            "includes": {"media": [{"a": "}"}], "users": [ {"id":"1"} ], "tweets": []},
            "errors": [null], "meta": {}} "#;
        let parts = split::page(doc).unwrap();
        assert_eq!(
            parts.data,
            [r#"{"c":"]\\"}"#, "[]", "-2.5e3", r#"{"d":[{}]}"#]
        );
        assert!(!parts.single && parts.includes && parts.meta);
        assert_eq!(parts.users, [r#"{"id":"1"}"#]);
        assert!(parts.tweets.is_empty());
        assert_eq!(parts.errors, ["null"]);
        let parts = split::page(r#"{"data": {"id": "1"}}"#).unwrap();
        assert!(parts.single && !parts.includes && !parts.meta);
        assert_eq!(parts.data, [r#"{"id": "1"}"#]);
        for broken in [
            "",
            "{",
            "[]",
            r#"{"a":1"#,
            r#"{"a":1}x"#,
            r#"{"a" 1}"#,
            r#"{"a":"1}"#,
            "{]",
            r#"{"data":[1,]}"#,
            r#"{"data":[{"id":"1"}"#,
        ] {
            assert!(split::page(broken).is_none(), "{broken}");
        }
    }

    #[test]
    fn bare_tweet_objects_as_twarc_flatten_writes_them() {
        let doc = r#"{"id":"1440716856763977732","text":"RT @carol: cut\u2026","author_id":"9","created_at":"2021-09-22T16:29:00.000Z","author":{"id":"9","username":"nhs_trust","name":"NHS Trust","verified_type":"government"},"referenced_tweets":[{"type":"retweeted","id":"1440713161355583489","text":"the full text &amp; more"}]}"#;
        let mut out = Vec::new();
        parse_document(doc, &mut out);
        assert_eq!(tally(&out), (1, 0, 0, 0));
        let post = posts(&out)[0];
        assert_eq!(post.author.handle, "nhs_trust");
        assert!(post.author.verified);
        assert_eq!(post.text, "the full text & more");
        assert_eq!(post.raw, doc);

        let mut out = Vec::new();
        parse_document(
            r#"{"text":"no id","created_at":"2021-09-22T16:29:00.000Z"}"#,
            &mut out,
        );
        assert_eq!(tally(&out), (0, 0, 0, 1));
        let mut out = Vec::new();
        parse_document(r#"{"data":[{"text":"no id"}]}"#, &mut out);
        assert_eq!(
            rejected(&out)[0].location.pointer.as_deref(),
            Some("/data/0")
        );
    }

    #[test]
    fn the_fast_time_reader_agrees_with_jiff() {
        let mut time = time("1971-01-01T00:00:00.007Z");
        for _ in 0..30_000 {
            let text = time.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
            assert_eq!(text.len(), 24, "{text}");
            assert_eq!(api_time(text.as_bytes()).unwrap_or(time), time, "{text}");
            assert_eq!(parse_time(&text).unwrap(), time, "{text}");
            time = time
                .checked_add(jiff::SignedDuration::from_millis(86_400_000 + 3_661_001))
                .unwrap();
        }
        assert!(parse_time("2022-10-03T17:57:11+01:00").is_ok());
        assert!(parse_time("2022-13-03T17:57:11.000Z").is_err());
    }

    #[test]
    #[ignore = "profile baseline"]
    fn scan_loop() {
        let doc = std::fs::read_to_string(path("twarc-csv__search-recent__brexit.json")).unwrap();
        let rounds = std::env::var("ROUNDS").map_or(2000, |n| n.parse().unwrap());
        for _ in 0..rounds {
            std::hint::black_box(serde_json::from_str::<IgnoredAny>(&doc).unwrap());
        }
    }

    #[test]
    #[ignore = "profile"]
    fn profile_loop() {
        let doc = std::fs::read_to_string(path("twarc-csv__search-recent__brexit.json")).unwrap();
        let mut out = Vec::new();
        let rounds = std::env::var("ROUNDS").map_or(2000, |n| n.parse().unwrap());
        for _ in 0..rounds {
            out.clear();
            parse_document(&doc, &mut out);
        }
    }

    #[test]
    #[ignore = "timing: run with --release -- --ignored --nocapture"]
    fn throughput() {
        let doc = std::fs::read_to_string(path("twarc-csv__search-recent__brexit.json")).unwrap();
        let rounds = 500;
        let (mut scan, mut seconds) = (0.0, 0.0);
        let mut out = Vec::new();
        for _ in 0..rounds {
            let start = std::time::Instant::now();
            serde_json::from_str::<IgnoredAny>(&doc).unwrap();
            scan += start.elapsed().as_secs_f64();
            out.clear();
            let start = std::time::Instant::now();
            parse_document(&doc, &mut out);
            seconds += start.elapsed().as_secs_f64();
        }
        let tweets = f64::from(rounds) * 100.0;
        println!(
            "parse: {:.0} data tweets/s ({:.0} posts/s); a bare JSON scan of the same pages: {:.0} \
             tweets/s",
            tweets / seconds,
            f64::from(rounds) * 155.0 / seconds,
            tweets / scan,
        );
    }
}
