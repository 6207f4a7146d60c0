//! The Facebook Graph API importer.
//!
//! Reads Page and group feeds (`data[]` of posts), comment lists, single object lookups and
//! multi-id lookups (an object keyed by id), emits the comments embedded in feed items
//! (`comments.data[]`) as posts replying to their post, reports Page details and likes lists as
//! skipped, and error bodies (`{"error": {...}}`) as rejections. Graph API times carry an offset
//! without a colon (`2021-08-10T18:45:03+0000`); they are read as UTC. Every field except `id` is
//! optional, as the `fields=` parameter decides what comes back.

use std::{borrow::Cow, fmt};

use jiff::Timestamp;
use model::{Author, Change, Counts, Network, Post};
use serde::{
    Deserialize, Deserializer,
    de::{IgnoredAny, MapAccess, Visitor},
};
use serde_json::value::RawValue;

use crate::{Parsed, Record, Rejected};

/// Parses one Graph API response (or one JSON Lines line of them) and pushes its posts,
/// comments, skipped items and rejections into `out`.
pub fn parse_document(doc: &str, out: &mut Vec<Parsed>) {
    let top = match serde_json::from_str::<Top<'_>>(doc) {
        Ok(top) => top,
        Err(error) => {
            out.push(Err(Rejected::at(
                "",
                format!("not a Graph API response this importer can read ({error})"),
            )
            .with_excerpt(doc)));
            return;
        }
    };
    if let Some(error) = top.error {
        out.push(Err(error.rejected(doc)));
        return;
    }
    if let Some(data) = top.data {
        for (index, raw) in data.iter().enumerate() {
            object(raw, &format!("/data/{index}"), Context::List, out);
        }
        return;
    }
    if top.id.is_some() {
        match serde_json::from_str::<&RawValue>(doc) {
            Ok(raw) => object(raw, "", Context::Single, out),
            Err(error) => out.push(Err(Rejected::at(
                "",
                format!("unreadable object ({error})"),
            ))),
        }
        return;
    }
    let entries = match serde_json::from_str::<Entries<'_>>(doc) {
        Ok(entries) => entries.0,
        Err(error) => {
            out.push(Err(Rejected::at(
                "",
                format!("unreadable response ({error})"),
            )));
            return;
        }
    };
    if entries.is_empty() {
        out.push(Err(Rejected::at(
            "",
            "an empty Graph API response: no `data`, `id` or objects keyed by id",
        )));
        return;
    }
    for (key, raw) in entries {
        let pointer = format!("/{}", key.replace('~', "~0").replace('/', "~1"));
        if raw.get().starts_with('{') {
            object(raw, &pointer, Context::Single, out);
        } else {
            out.push(Err(Rejected::at(
                pointer,
                "not a Graph API object: expected `data`, `error`, an object with `id`, or \
                 objects keyed by id",
            )
            .with_excerpt(raw.get())));
        }
    }
}

/// Where an object was found, which helps tell what it is.
#[derive(Clone, Copy)]
enum Context<'p> {
    /// An item of `data[]`.
    List,
    /// A whole response, or a value of a multi-id lookup.
    Single,
    /// A comment embedded in the feed item with this id.
    CommentOf(&'p str),
    /// A reply nested under a comment: the post the thread belongs to, and the comment.
    ReplyOf {
        /// The post (or photo) the thread belongs to.
        post: &'p str,
        /// The comment answered.
        comment: &'p str,
    },
}

/// The edges whose `data[]` items are posts of their own: a Page's or group's posts, feed,
/// photos and videos.
const POST_EDGES: [&str; 7] = [
    "posts",
    "feed",
    "photos",
    "videos",
    "published_posts",
    "visitor_posts",
    "tagged",
];

/// Reads one object and pushes what it is.
fn object(raw: &RawValue, pointer: &str, context: Context<'_>, out: &mut Vec<Parsed>) {
    let item = match serde_json::from_str::<Object<'_>>(raw.get()) {
        Ok(item) => item,
        Err(error) => {
            out.push(Err(Rejected::at(
                pointer.to_owned(),
                format!("unreadable object ({error})"),
            )
            .with_excerpt(raw.get())));
            return;
        }
    };
    let said = item.created_time.is_some() || item.message.is_some() || item.story.is_some();
    let edges = [
        &item.posts,
        &item.feed,
        &item.photos,
        &item.videos,
        &item.published_posts,
        &item.visitor_posts,
        &item.tagged,
    ];
    for (name, edge) in POST_EDGES.into_iter().zip(edges) {
        for (index, raw) in edge.iter().flat_map(|edge| edge.data.iter().enumerate()) {
            object(
                raw,
                &format!("{pointer}/{name}/data/{index}"),
                Context::List,
                out,
            );
        }
    }
    if !said {
        let kind = if item.fan_count.is_some() || item.category.is_some() || item.about.is_some() {
            Some("facebook page")
        } else if item.name.is_some() {
            Some(match context {
                Context::List => "facebook like",
                _ => "facebook page",
            })
        } else {
            None
        };
        match kind {
            Some(kind) => out.push(Ok(Record::Skipped {
                kind: kind.to_owned(),
            })),
            None => out.push(Err(Rejected::at(
                pointer.to_owned(),
                "an object with no `created_time`, `message` or `name`: request \
                 fields=id,message,created_time,from,permalink_url",
            )
            .with_excerpt(raw.get()))),
        }
        return;
    }
    let comment =
        matches!(context, Context::CommentOf(_) | Context::ReplyOf { .. }) || item.is_comment();
    let built = if comment {
        item.comment(raw, pointer, context)
    } else {
        item.post(raw, pointer)
    };
    match built {
        Ok(post) => {
            let id = post.id.clone();
            let thread = post.thread_id.clone();
            out.push(Ok(Record::Change(Change::Upsert(Box::new(post)))));
            if let Some(comments) = &item.comments {
                for (index, raw) in comments.data.iter().enumerate() {
                    let pointer = format!("{pointer}/comments/data/{index}");
                    let context = match (comment, &thread) {
                        (false, _) => Context::CommentOf(&id),
                        (true, Some(thread)) => Context::ReplyOf {
                            post: thread,
                            comment: &id,
                        },
                        (true, None) => Context::ReplyOf {
                            post: &id,
                            comment: &id,
                        },
                    };
                    object(raw, &pointer, context, out);
                }
            }
        }
        Err(rejected) => out.push(Err(rejected)),
    }
}

/// The top level of a response.
#[derive(Deserialize)]
struct Top<'a> {
    #[serde(borrow, default)]
    error: Option<ApiError<'a>>,
    #[serde(borrow, default)]
    data: Option<Vec<&'a RawValue>>,
    #[serde(default)]
    id: Option<IgnoredAny>,
}

/// The `error` of an error body.
#[derive(Deserialize)]
struct ApiError<'a> {
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    code: Option<i64>,
    #[serde(borrow, default)]
    fbtrace_id: Option<Cow<'a, str>>,
}

impl ApiError<'_> {
    fn rejected(&self, doc: &str) -> Rejected {
        let message = self.message.as_deref().unwrap_or("no message");
        let kind = self.kind.as_deref().unwrap_or("error");
        let code = self
            .code
            .map(|code| format!(", code {code}"))
            .unwrap_or_default();
        let trace = self
            .fbtrace_id
            .as_deref()
            .map(|id| format!(", fbtrace_id {id}"))
            .unwrap_or_default();
        let advice = match self.code {
            Some(190 | 102 | 10 | 200..=299) => {
                "renew the access token or grant the permission named, then fetch again"
            }
            Some(4 | 17 | 32 | 613) => "the rate limit was hit: wait, then fetch again",
            Some(100) => {
                "check the object id, the fields asked for and the app's permissions, then \
                 fetch again"
            }
            _ => "the file holds an API error instead of posts: fetch the data again",
        };
        Rejected::at(
            "/error",
            format!(
                "the Graph API returned an error, not posts: \"{message}\" ({kind}{code}{trace}); \
                 {advice}"
            ),
        )
        .with_excerpt(doc)
    }
}

/// The entries of a multi-id lookup, in document order.
struct Entries<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de: 'a, 'a> Deserialize<'de> for Entries<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EntriesVisitor<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for EntriesVisitor<'a> {
            type Value = Entries<'a>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entries<'a>, A::Error> {
                let mut entries = Vec::new();
                while let Some(entry) = map.next_entry::<Cow<'de, str>, &'de RawValue>()? {
                    entries.push(entry);
                }
                Ok(Entries(entries))
            }
        }
        deserializer.deserialize_map(EntriesVisitor(std::marker::PhantomData))
    }
}

/// A post, comment, page or user: whatever the fields asked for brought back.
#[derive(Deserialize)]
struct Object<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    message: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    story: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    created_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    updated_time: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    from: Option<Sender<'a>>,
    #[serde(borrow, default)]
    permalink_url: Option<Cow<'a, str>>,
    #[serde(default)]
    shares: Option<Shares>,
    #[serde(default)]
    reactions: Option<Edge>,
    #[serde(default)]
    likes: Option<Likes>,
    #[serde(default)]
    like: Option<Edge>,
    #[serde(borrow, default)]
    comments: Option<Comments<'a>>,
    #[serde(borrow, default)]
    posts: Option<Comments<'a>>,
    #[serde(borrow, default)]
    feed: Option<Comments<'a>>,
    #[serde(borrow, default)]
    photos: Option<Comments<'a>>,
    #[serde(borrow, default)]
    videos: Option<Comments<'a>>,
    #[serde(borrow, default)]
    published_posts: Option<Comments<'a>>,
    #[serde(borrow, default)]
    visitor_posts: Option<Comments<'a>>,
    #[serde(borrow, default)]
    tagged: Option<Comments<'a>>,
    #[serde(borrow, default)]
    message_tags: Option<Tags<'a>>,
    #[serde(default)]
    like_count: Option<u64>,
    #[serde(default)]
    comment_count: Option<u64>,
    #[serde(borrow, default)]
    parent: Option<Parent<'a>>,
    #[serde(borrow, default)]
    attachments: Option<Attachments<'a>>,
    #[serde(borrow, default)]
    attachment: Option<Attachment<'a>>,
    #[serde(borrow, default)]
    name: Option<Name<'a>>,
    #[serde(default)]
    fan_count: Option<IgnoredAny>,
    #[serde(default)]
    category: Option<IgnoredAny>,
    #[serde(default)]
    about: Option<IgnoredAny>,
}

/// A `name`: a photo's caption, a Page's or person's name; anything else is passed over.
#[derive(Deserialize)]
#[serde(untagged)]
enum Name<'a> {
    Text(#[serde(borrow)] Cow<'a, str>),
    Other(IgnoredAny),
}

/// `message_tags`: a list of the people and Pages tagged, or (older versions) lists keyed by
/// offset.
#[derive(Deserialize)]
#[serde(untagged)]
enum Tags<'a> {
    List(#[serde(borrow)] Vec<Tag<'a>>),
    ByOffset(#[serde(borrow)] std::collections::BTreeMap<Cow<'a, str>, Vec<Tag<'a>>>),
    Other(IgnoredAny),
}

/// One tag of `message_tags`.
#[derive(Deserialize)]
struct Tag<'a> {
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

impl Tags<'_> {
    /// The names tagged, in order, each once.
    fn names(&self) -> Vec<String> {
        let tags: Vec<&Tag<'_>> = match self {
            Tags::List(list) => list.iter().collect(),
            Tags::ByOffset(by_offset) => by_offset.values().flatten().collect(),
            Tags::Other(_) => Vec::new(),
        };
        let mut names: Vec<String> = Vec::new();
        for name in tags.iter().filter_map(|tag| tag.name.as_deref()) {
            if !names.iter().any(|known| known == name) {
                names.push(name.to_owned());
            }
        }
        names
    }
}

#[derive(Deserialize)]
struct Sender<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Shares {
    #[serde(default)]
    count: Option<u64>,
}

/// `likes`: an edge on posts, a plain number on comments embedded in older API versions.
#[derive(Deserialize)]
#[serde(untagged)]
enum Likes {
    Count(u64),
    Edge(Edge),
}

impl Likes {
    fn count(&self) -> Option<u64> {
        match self {
            Likes::Count(count) => Some(*count),
            Likes::Edge(edge) => edge
                .summary
                .as_ref()
                .and_then(|summary| summary.total_count),
        }
    }
}

/// A reactions, likes or comments edge with its `summary`.
#[derive(Deserialize)]
struct Edge {
    #[serde(default)]
    summary: Option<Summary>,
}

#[derive(Deserialize)]
struct Summary {
    #[serde(default)]
    total_count: Option<u64>,
}

/// An edge with a `data` list: the comments of a post, or the posts or feed of a page.
#[derive(Deserialize)]
struct Comments<'a> {
    #[serde(borrow, default)]
    data: Vec<&'a RawValue>,
    #[serde(default)]
    summary: Option<Summary>,
}

#[derive(Deserialize)]
struct Parent<'a> {
    #[serde(borrow, default)]
    id: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Attachments<'a> {
    #[serde(borrow, default)]
    data: Vec<Attachment<'a>>,
}

#[derive(Deserialize)]
struct Attachment<'a> {
    #[serde(borrow, default)]
    title: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    description: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    url: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    unshimmed_url: Option<Cow<'a, str>>,
    #[serde(default)]
    media: Option<IgnoredAny>,
    #[serde(borrow, default)]
    subattachments: Option<Attachments<'a>>,
}

impl Attachment<'_> {
    fn media_count(&self) -> u32 {
        match &self.subattachments {
            Some(sub) if !sub.data.is_empty() => sub.data.iter().map(Attachment::media_count).sum(),
            _ => u32::from(self.media.is_some()),
        }
    }

    /// The link shared, unless it only points back into Facebook.
    fn link(&self) -> Option<String> {
        let url = self.unshimmed_url.as_deref().or(self.url.as_deref())?;
        let internal = [
            "https://www.facebook.com/",
            "https://facebook.com/",
            "https://m.facebook.com/",
        ]
        .iter()
        .any(|prefix| url.starts_with(prefix));
        (!internal && !url.is_empty()).then(|| url.to_owned())
    }
}

/// Where a comment sits, read from its permalink (`.../{page}/posts/{post}/?comment_id=...`).
#[derive(Default)]
struct Permalink<'u> {
    page: Option<&'u str>,
    post: Option<&'u str>,
    comment: Option<&'u str>,
    reply: Option<&'u str>,
}

impl<'u> Permalink<'u> {
    fn read(url: &'u str) -> Self {
        let (path, query) = url.split_once('?').unwrap_or((url, ""));
        let mut permalink = Permalink::default();
        let segments: Vec<&str> = path.split('/').filter(|part| !part.is_empty()).collect();
        if let Some(at) = segments.iter().position(|part| *part == "posts") {
            permalink.page = at
                .checked_sub(1)
                .and_then(|before| segments.get(before))
                .copied();
            permalink.post = segments.get(at + 1).copied();
        }
        for pair in query.split('&') {
            match pair.split_once('=') {
                Some(("comment_id", value)) => permalink.comment = Some(value),
                Some(("reply_comment_id", value)) => permalink.reply = Some(value),
                Some(("story_fbid", value)) => permalink.post = permalink.post.or(Some(value)),
                Some(("id", value)) => permalink.page = permalink.page.or(Some(value)),
                _ => {}
            }
        }
        permalink.page = permalink
            .page
            .filter(|page| page.bytes().all(|b| b.is_ascii_digit()));
        permalink
    }
}

impl Object<'_> {
    fn is_comment(&self) -> bool {
        self.parent.is_some()
            || self.comment_count.is_some()
            || self.like_count.is_some()
            || self.attachment.is_some()
            || self
                .permalink_url
                .as_deref()
                .is_some_and(|url| url.contains("comment_id="))
    }

    fn time(&self, pointer: &str, raw: &RawValue) -> Result<Timestamp, Rejected> {
        let text = self
            .created_time
            .as_deref()
            .or(self.updated_time.as_deref());
        let Some(text) = text else {
            return Err(Rejected::at(
                pointer.to_owned(),
                "no `created_time`: request fields=id,message,created_time",
            )
            .with_excerpt(raw.get()));
        };
        parse_time(text).ok_or_else(|| {
            Rejected::at(
                format!("{pointer}/created_time"),
                format!("`{text}` is not a Graph API time like 2021-08-10T18:45:03+0000"),
            )
            .with_excerpt(raw.get())
        })
    }

    fn author(&self, fallback_id: Option<&str>) -> Author {
        match &self.from {
            Some(from) => Author {
                id: from.id.as_deref().unwrap_or_default().to_owned(),
                handle: String::new(),
                display_name: from.name.as_deref().map(str::to_owned),
                url: from
                    .id
                    .as_deref()
                    .map(|id| format!("https://www.facebook.com/{id}")),
                ..Author::default()
            },
            None => match fallback_id {
                Some(id) => Author {
                    id: id.to_owned(),
                    url: Some(format!("https://www.facebook.com/{id}")),
                    ..Author::default()
                },
                None => Author::default(),
            },
        }
    }

    /// The words: the message, else the story ("… updated their cover photo."), else a
    /// photo's or video's caption (`name`), else the title of what is attached.
    fn text(&self) -> String {
        if let Some(text) = self.message.as_deref().or(self.story.as_deref()) {
            return text.to_owned();
        }
        if let Some(Name::Text(caption)) = &self.name
            && self.created_time.is_some()
        {
            return caption.clone().into_owned();
        }
        let attachments = self.attachments.iter().flat_map(|list| &list.data);
        attachments
            .chain(&self.attachment)
            .find_map(|attachment| {
                attachment
                    .title
                    .as_deref()
                    .or(attachment.description.as_deref())
            })
            .unwrap_or_default()
            .to_owned()
    }

    fn fill(&self, post: &mut Post, raw: &RawValue) {
        post.hashtags = hashtags(&post.text);
        post.mentions = self
            .message_tags
            .as_ref()
            .map(Tags::names)
            .unwrap_or_default();
        let attachments: Vec<&Attachment<'_>> = self
            .attachments
            .iter()
            .flat_map(|list| &list.data)
            .chain(&self.attachment)
            .collect();
        post.media_count = attachments
            .iter()
            .map(|attachment| attachment.media_count())
            .sum();
        post.links = attachments
            .iter()
            .filter_map(|attachment| attachment.link())
            .collect();
        post.raw = raw.get().to_owned();
    }

    fn post(&self, raw: &RawValue, pointer: &str) -> Result<Post, Rejected> {
        let Some(id) = self.id.as_deref() else {
            return Err(
                Rejected::at(pointer.to_owned(), "a post without `id`: request fields=id")
                    .with_excerpt(raw.get()),
            );
        };
        let created_at = self.time(pointer, raw)?;
        let page = id.split_once('_').map(|(page, _)| page);
        let mut post = Post::new(
            Network::Facebook,
            id,
            self.author(page),
            self.text(),
            created_at,
        );
        post.url = Some(self.url(id));
        let summary = |edge: &Option<Edge>| {
            edge.as_ref()
                .and_then(|edge| edge.summary.as_ref())
                .and_then(|s| s.total_count)
        };
        post.counts = Counts {
            likes: summary(&self.reactions)
                .or_else(|| self.likes.as_ref().and_then(Likes::count))
                .or(summary(&self.like)),
            replies: self
                .comments
                .as_ref()
                .and_then(|comments| comments.summary.as_ref())
                .and_then(|summary| summary.total_count),
            reposts: self.shares.as_ref().and_then(|shares| shares.count),
            quotes: None,
        };
        self.fill(&mut post, raw);
        Ok(post)
    }

    fn comment(
        &self,
        raw: &RawValue,
        pointer: &str,
        context: Context<'_>,
    ) -> Result<Post, Rejected> {
        let link = self
            .permalink_url
            .as_deref()
            .map(Permalink::read)
            .unwrap_or_default();
        let id = match (self.id.as_deref(), link.post, link.reply.or(link.comment)) {
            (Some(id), ..) => id.to_owned(),
            (None, Some(post), Some(comment)) => format!("{post}_{comment}"),
            _ => {
                return Err(Rejected::at(
                    pointer.to_owned(),
                    "a comment without `id` or a permalink naming it: request fields=id",
                )
                .with_excerpt(raw.get()));
            }
        };
        let created_at = self.time(pointer, raw)?;
        let post_id = match context {
            Context::CommentOf(post) | Context::ReplyOf { post, .. } => Some(post.to_owned()),
            _ => {
                let post = link
                    .post
                    .or_else(|| id.split_once('_').map(|(post, _)| post));
                post.map(|post| match link.page {
                    Some(page) => format!("{page}_{post}"),
                    None => post.to_owned(),
                })
            }
        };
        let parent = self
            .parent
            .as_ref()
            .and_then(|parent| parent.id.as_deref())
            .map(str::to_owned);
        let parent = parent.or_else(|| match (link.reply, link.comment, link.post) {
            (Some(_), Some(comment), Some(post)) => Some(format!("{post}_{comment}")),
            _ => None,
        });
        let parent = parent.or_else(|| match context {
            Context::ReplyOf { comment, .. } => Some(comment.to_owned()),
            _ => None,
        });
        let mut post = Post::new(
            Network::Facebook,
            &id,
            self.author(None),
            self.text(),
            created_at,
        );
        post.url = Some(self.url(&id));
        post.reply_to = parent.or_else(|| post_id.clone());
        post.thread_id = post_id;
        post.counts = Counts {
            likes: self
                .like_count
                .or_else(|| self.likes.as_ref().and_then(Likes::count)),
            replies: self.comment_count,
            reposts: None,
            quotes: None,
        };
        self.fill(&mut post, raw);
        Ok(post)
    }

    fn url(&self, id: &str) -> String {
        match self.permalink_url.as_deref() {
            Some(url) if !url.is_empty() => url.to_owned(),
            _ => format!("https://www.facebook.com/{id}"),
        }
    }
}

/// Reads a Graph API time: RFC 3339, or with the offset written without a colon (`+0000`).
fn parse_time(text: &str) -> Option<Timestamp> {
    if let Ok(time) = text.parse::<Timestamp>() {
        return Some(time);
    }
    let split = text.len().checked_sub(5)?;
    let (head, offset) = (text.get(..split)?, text.get(split..)?);
    let bytes = offset.as_bytes();
    let signed = matches!(bytes.first(), Some(b'+' | b'-'));
    if !signed || !bytes.iter().skip(1).all(u8::is_ascii_digit) {
        return None;
    }
    let fixed = format!("{head}{}:{}", offset.get(..3)?, offset.get(3..)?);
    fixed.parse::<Timestamp>().ok()
}

/// The `#tags` of a text, without the `#`.
fn hashtags(text: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find('#') {
        let before = rest.get(..at).and_then(|head| head.chars().next_back());
        rest = rest.get(at + 1..).unwrap_or_default();
        let end = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let tag = rest.get(..end).unwrap_or_default();
        let starts_word = before.is_none_or(|c| !(c.is_alphanumeric() || c == '&' || c == '/'));
        if starts_word && tag.chars().any(char::is_alphabetic) {
            tags.push(tag.to_owned());
        }
    }
    tags
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::{Format, ImportOptions, input};

    const DIR: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/api-samples/facebook"
    );

    /// Per file: posts, deletions, skipped, rejected (counted from the files with python3).
    const EXPECTED: &[(&str, usize, usize, usize, usize)] = &[
        ("python-facebook__comment-single.json", 1, 0, 0, 0),
        ("python-facebook__comments-multi.json", 2, 0, 0, 0),
        ("python-facebook__error-2.json", 0, 0, 0, 1),
        ("python-facebook__error.json", 0, 0, 0, 1),
        ("python-facebook__group-feed-p1.json", 5, 0, 0, 0),
        ("python-facebook__group-feed-p2.json", 6, 0, 0, 0),
        ("python-facebook__object-likes.json", 0, 0, 2, 0),
        (
            "python-facebook__page-feed-default-fields-p1.json",
            5,
            0,
            0,
            0,
        ),
        (
            "python-facebook__page-feed-default-fields-p2.json",
            5,
            0,
            0,
            0,
        ),
        ("python-facebook__page-feed-fields-p1.json", 5, 0, 0, 0),
        ("python-facebook__page-feed-fields-p2.json", 5, 0, 0, 0),
        ("python-facebook__page-info.json", 0, 0, 1, 0),
        ("python-facebook__post-comments-p1.json", 10, 0, 0, 0),
        ("python-facebook__post-comments-p2.json", 5, 0, 0, 0),
        ("python-facebook__post-single.json", 1, 0, 0, 0),
        ("python-facebook__posts-multi.json", 2 + 7 + 9, 0, 0, 0),
    ];

    fn path(name: &str) -> PathBuf {
        Path::new(DIR).join(name)
    }

    fn read(name: &str) -> Vec<Parsed> {
        let path = path(name);
        let (_, input) = input::open_path(&path, Some(Format::Facebook)).unwrap();
        input::parse(&path, Format::Facebook, input, &ImportOptions::default())
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

    fn post<'a>(items: &'a [Parsed], id: &str) -> &'a Post {
        posts(items).into_iter().find(|post| post.id == id).unwrap()
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

    fn time(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    fn parse_text(doc: &str) -> Vec<Parsed> {
        let mut out = Vec::new();
        parse_document(doc, &mut out);
        out
    }

    #[test]
    fn comments_nested_under_photos_and_posts_are_imported() {
        // Issue 14, finding 13: Graph API comments nested under photos, and under posts with
        // story and message tags, were missed. Shapes as the Graph API reference gives them:
        // a Page with its `photos` edge (`GET /{page-id}?fields=photos{name,created_time,
        // comments{message,created_time,from,comments}}`), a photo's caption in `name`, and
        // replies nested under the comment they answer.
        let page = r#"{"id":"109118975134543","name":"Northgate Valley NHS Foundation Trust",
          "photos":{"data":[{"id":"1021349045011523","created_time":"2024-05-01T10:00:00+0000",
            "name":"Our new A&E opens today","from":{"name":"Northgate Valley NHS Foundation Trust","id":"109118975134543"},
            "name_tags":[{"id":"109118975134543","name":"Northgate","offset":0,"length":9}],
            "comments":{"data":[
              {"id":"1021349045011523_2001","message":"Waited 6 hours last week, hope this helps",
               "created_time":"2024-05-01T11:00:00+0000","from":{"name":"Jane Doe","id":"555"},
               "comments":{"data":[{"id":"1021349045011523_2002","message":"Sorry to hear that, Jane",
                 "created_time":"2024-05-01T11:30:00+0000","from":{"name":"Northgate Valley NHS Foundation Trust","id":"109118975134543"}}]}},
              {"id":"1021349045011523_2003","message":"Brilliant news","created_time":"2024-05-01T12:00:00+0000"}],
              "paging":{"cursors":{"before":"QVFI","after":"QVFJ"}}}}],
            "paging":{"cursors":{"before":"a","after":"b"}}},
          "posts":{"data":[{"id":"109118975134543_3001","created_time":"2024-05-02T10:00:00+0000",
            "story":"Northgate Valley NHS Foundation Trust updated their cover photo.",
            "story_tags":[{"id":"109118975134543","name":"Northgate Valley NHS Foundation Trust","type":"page","offset":0,"length":38}],
            "message":"Thank you Ward 7!","message_tags":[{"id":"777","name":"Ward 7","type":"page","offset":10,"length":6}],
            "comments":{"data":[{"id":"3001_4001","message":"Lovely @Ward 7 team","created_time":"2024-05-02T11:00:00+0000",
              "message_tags":[{"id":"777","name":"Ward 7 team","type":"user","offset":7,"length":11}],
              "comments":{"data":[{"id":"3001_4002","message":"Thank you!","created_time":"2024-05-02T11:05:00+0000"}]}}]}}]}}"#;
        let items = parse_text(page);
        assert_eq!(tally(&items), (7, 0, 1, 0), "{items:?}");
        let tagged_comment = post(&items, "3001_4001");
        assert_eq!(tagged_comment.mentions, ["Ward 7 team"]);
        let photo = post(&items, "1021349045011523");
        assert_eq!(photo.text, "Our new A&E opens today");
        let reply = post(&items, "1021349045011523_2002");
        assert_eq!(reply.reply_to.as_deref(), Some("1021349045011523_2001"));
        assert_eq!(reply.thread_id.as_deref(), Some("1021349045011523"));
        let comment = post(&items, "1021349045011523_2001");
        assert_eq!(comment.reply_to.as_deref(), Some("1021349045011523"));
        let story = post(&items, "109118975134543_3001");
        assert_eq!(story.text, "Thank you Ward 7!");
        let tagged = post(&items, "3001_4002");
        assert_eq!(tagged.reply_to.as_deref(), Some("3001_4001"));
        assert_eq!(tagged.thread_id.as_deref(), Some("109118975134543_3001"));
        // The photos list itself (`GET /{page-id}/photos`) gives the same photo and comments.
        let list = format!(
            r#"{{"data":[{}]}}"#,
            &page[page.find("{\"id\":\"1021349045011523\"").unwrap()
                ..page.find("],\n            \"paging\"").unwrap()]
        );
        assert_eq!(tally(&parse_text(&list)), (4, 0, 0, 0));
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
                assert_eq!(post.network, Network::Facebook);
                assert!(!post.id.is_empty(), "{name}");
                assert!(
                    post.raw.starts_with('{') && post.raw.ends_with('}'),
                    "{name}"
                );
                assert!(
                    post.url
                        .as_deref()
                        .unwrap()
                        .starts_with("https://www.facebook.com/")
                );
            }
        }
    }

    #[test]
    fn offsets_without_a_colon_are_read_as_utc() {
        assert_eq!(
            parse_time("2021-08-10T18:45:03+0000"),
            Some(time("2021-08-10T18:45:03Z"))
        );
        assert_eq!(
            parse_time("2021-08-10T18:45:03-0130"),
            Some(time("2021-08-10T20:15:03Z"))
        );
        assert_eq!(
            parse_time("2021-08-10T18:45:03+01:00"),
            Some(time("2021-08-10T17:45:03Z"))
        );
        assert_eq!(parse_time("10 August"), None);
        let items = read("python-facebook__post-comments-p1.json");
        assert_eq!(posts(&items)[0].created_at, time("2021-08-10T18:45:03Z"));
    }

    #[test]
    fn feed_posts_have_page_authors_text_and_counts() {
        let items = read("python-facebook__page-feed-default-fields-p1.json");
        let first = post(&items, "19292868552_10158349356748553");
        assert_eq!(first.author.id, "19292868552");
        assert_eq!(first.created_at, time("2021-07-09T19:09:52Z"));
        assert_eq!(
            first.url.as_deref(),
            Some("https://www.facebook.com/19292868552/posts/10158349356748553/")
        );
        assert_eq!(first.counts.likes, Some(125));
        assert_eq!(first.counts.replies, Some(13));
        assert_eq!(first.counts.reposts, Some(10));
        assert!(first.text.contains("Ninja Van Singapore"));
        assert_eq!(first.reply_to, None);

        let items = read("python-facebook__group-feed-p1.json");
        let silent = post(&items, "2260975870792283_3038566336366562");
        assert_eq!(silent.text, "", "a post without message is kept");
        assert_eq!(silent.author.id, "2260975870792283");

        let items = read("python-facebook__post-single.json");
        let single = post(&items, "175154750010052_424924701699721");
        assert_eq!(single.text, "我测试一下 MyLife");
        assert_eq!(single.created_at, time("2019-08-12T03:45:11Z"));
        assert_eq!(single.counts.likes, Some(1));
        assert_eq!(single.counts.replies, Some(0));
    }

    #[test]
    fn comments_reply_to_their_post_or_parent() {
        let items = read("python-facebook__post-comments-p1.json");
        let first = post(&items, "10158407654328553_10158407835073553");
        assert_eq!(
            first.reply_to.as_deref(),
            Some("19292868552_10158407654328553")
        );
        assert_eq!(
            first.thread_id.as_deref(),
            Some("19292868552_10158407654328553")
        );
        assert_eq!(first.counts.replies, Some(1));
        assert_eq!(first.counts.likes, Some(0));
        assert!(first.text.starts_with("Boa noite"));
        let reply = post(&items, "10158407654328553_10158409983033553");
        assert_eq!(
            reply.reply_to.as_deref(),
            Some("10158407654328553_10158407903973553")
        );

        let items = read("python-facebook__comment-single.json");
        let single = post(&items, "10158371815748553_10158371930463553");
        assert_eq!(single.text, "This is really nice");
        assert_eq!(
            single.reply_to.as_deref(),
            Some("19292868552_10158371815748553")
        );

        let mut out = Vec::new();
        parse_document(
            r#"{"data":[{"id":"1_2","message":"child","created_time":"2021-01-01T00:00:00+0000","parent":{"id":"1_3"},"from":{"id":"9","name":"Ann"}}]}"#,
            &mut out,
        );
        let child = posts(&out)[0];
        assert_eq!(child.reply_to.as_deref(), Some("1_3"));
        assert_eq!(child.author.display_name.as_deref(), Some("Ann"));
        assert_eq!(child.author.id, "9");
    }

    #[test]
    fn multi_id_lookups_and_embedded_comments() {
        let items = read("python-facebook__comments-multi.json");
        let ids: Vec<_> = posts(&items).iter().map(|post| post.id.clone()).collect();
        assert_eq!(
            ids,
            [
                "10158371815748553_10158371930463553",
                "10158371815748553_10158372268858553"
            ]
        );
        let items = read("python-facebook__posts-multi.json");
        let post_id = "19292868552_10158347294088553";
        let parent = post(&items, post_id);
        assert_eq!(parent.reply_to, None);
        let comment = post(&items, "19292868552_10158347294088553_10158348537573553");
        assert_eq!(comment.reply_to.as_deref(), Some(post_id));
        assert_eq!(comment.thread_id.as_deref(), Some(post_id));
        assert_eq!(comment.author.display_name.as_deref(), Some("Vivian Smith"));
        assert_eq!(comment.author.id, "100070073499229");
        assert_eq!(comment.created_at, time("2021-07-09T09:29:06Z"));
        assert_eq!(comment.counts.likes, Some(0));
        let replies = posts(&items)
            .iter()
            .filter(|p| p.reply_to.as_deref() == Some(post_id))
            .count();
        assert_eq!(replies, 7);
    }

    #[test]
    fn error_bodies_are_rejected_with_message_and_code() {
        let items = read("python-facebook__error.json");
        let Err(rejected) = &items[0] else {
            panic!("not rejected")
        };
        assert!(
            rejected.reason.contains("app secret proof"),
            "{}",
            rejected.reason
        );
        assert!(rejected.reason.contains("code 100"));
        assert!(rejected.reason.contains("OAuthException"));
    }

    #[test]
    fn pages_and_likes_are_skipped() {
        let items = read("python-facebook__page-info.json");
        assert!(matches!(&items[0], Ok(Record::Skipped { kind }) if kind == "facebook page"));
        let items = read("python-facebook__object-likes.json");
        assert!(matches!(&items[0], Ok(Record::Skipped { kind }) if kind == "facebook like"));
    }

    #[test]
    fn a_broken_item_does_not_stop_the_others() {
        let mut out = Vec::new();
        parse_document(
            r#"{"data":[{"id":"1_2","created_time":"soon"},{"id":"1_3","story":"Page updated its cover photo.","created_time":"2021-01-01T00:00:00+0000"},{"id":"1_4","message":5},{"id":"1_5"}]}"#,
            &mut out,
        );
        assert_eq!(tally(&out), (1, 0, 0, 3));
        assert_eq!(posts(&out)[0].text, "Page updated its cover photo.");
        let pointers: Vec<_> = out
            .iter()
            .filter_map(|item| item.as_ref().err())
            .map(|rejected| rejected.location.pointer.clone().unwrap())
            .collect();
        assert_eq!(pointers, ["/data/0/created_time", "/data/2", "/data/3"]);
    }

    #[test]
    fn posts_nested_in_a_page_lookup() {
        let mut out = Vec::new();
        parse_document(
            r#"{"id":"55","name":"Trust","posts":{"data":[{"id":"55_1","message":"Clinic open #NHS","created_time":"2024-01-02T03:04:05+0100","comments":{"data":[{"id":"1_7","message":"Thanks","created_time":"2024-01-02T04:00:00+0000","from":{"id":"8","name":"Pat"}}]}}]}}"#,
            &mut out,
        );
        assert_eq!(tally(&out), (2, 0, 1, 0));
        let post = post(&out, "55_1");
        assert_eq!(post.created_at, time("2024-01-02T02:04:05Z"));
        assert_eq!(post.hashtags, ["NHS"]);
        assert_eq!(post.author.id, "55");
        let comment = posts(&out).into_iter().find(|p| p.id == "1_7").unwrap();
        assert_eq!(comment.reply_to.as_deref(), Some("55_1"));
        assert_eq!(comment.author.display_name.as_deref(), Some("Pat"));
    }

    #[test]
    fn hashtags_come_from_the_text() {
        assert_eq!(
            hashtags("Join #NHS75 today & #thank_you! not#this or #1"),
            ["NHS75", "thank_you"]
        );
    }
}
