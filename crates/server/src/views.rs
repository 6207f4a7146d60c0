//! What pages and the API show: stream filters read from the query string, and posts turned
//! into plain view data (personal data masked, labels in words).

use std::collections::HashMap;

use jiff::{Span, Timestamp, tz::TimeZone};
use model::{
    Network,
    analysis::{IntentKind, SentimentLabel},
    query,
};
use serde::{Deserialize, Serialize};
use store::{Monitor, StoredPost, StreamEntry, StreamFilter, StreamOrder};

use crate::ApiError;

/// The priority from which a post is high priority: badged in red, and pushed live to open
/// Needs-attention pages.
pub const HIGH_PRIORITY: u8 = 70;
/// Posts per page.
pub const PAGE_SIZE: usize = 25;
/// The deepest page served.
pub const MAX_PAGE: usize = 400;

/// The filters of a stream, search or attention page, as given in the query string. Every
/// field is optional; empty values mean "any".
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
pub struct StreamParams {
    /// A monitor id.
    #[serde(default)]
    pub monitor: Option<String>,
    /// A network (`x`, `mastodon`, `bluesky`, `facebook`, `news`, `feedback`).
    #[serde(default)]
    pub network: Option<String>,
    /// `negative`, `neutral` or `positive`.
    #[serde(default)]
    pub sentiment: Option<String>,
    /// An intent (`complaint`, `compliment`, `question`, `misinformation`, `safety`, `other`).
    #[serde(default)]
    pub intent: Option<String>,
    /// A theme id.
    #[serde(default)]
    pub theme: Option<String>,
    /// A language code.
    #[serde(default)]
    pub lang: Option<String>,
    /// From: `2024-05-01`, `2024-05-01T14:30`, or back from now (`24h`, `7d`).
    #[serde(default)]
    pub since: Option<String>,
    /// Until, in the same forms.
    #[serde(default)]
    pub until: Option<String>,
    /// Words, in the listening query language.
    #[serde(default)]
    pub q: Option<String>,
    /// The page, from 1.
    #[serde(default)]
    pub page: Option<String>,
}

fn given(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

impl StreamParams {
    /// The page number (from 1).
    pub fn page(&self) -> usize {
        given(&self.page)
            .and_then(|p| p.parse().ok())
            .unwrap_or(1_usize)
            .clamp(1, MAX_PAGE)
    }

    /// The free text, if any.
    pub fn text(&self) -> Option<&str> {
        given(&self.q)
    }

    /// The query string of these filters with another page number (without `?`).
    pub fn with_page(&self, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> = Vec::new();
        for (key, value) in [
            ("monitor", &self.monitor),
            ("network", &self.network),
            ("sentiment", &self.sentiment),
            ("intent", &self.intent),
            ("theme", &self.theme),
            ("lang", &self.lang),
            ("since", &self.since),
            ("until", &self.until),
            ("q", &self.q),
        ] {
            if let Some(value) = given(value) {
                pairs.push((key, value.to_owned()));
            }
        }
        if page > 1 {
            pairs.push(("page", page.to_string()));
        }
        pairs
            .iter()
            .map(|(k, v)| format!("{k}={}", crate::auth::form_urlencode(v)))
            .collect::<Vec<_>>()
            .join("&")
    }

    /// The store filter, or a 400 naming what is wrong.
    pub fn filter(&self, order: StreamOrder) -> Result<StreamFilter, ApiError> {
        let bad =
            |what: &str, value: &str| ApiError::BadRequest(format!("unknown {what} `{value}`"));
        let monitor = match given(&self.monitor) {
            Some(id) => Some(id.parse::<i64>().map_err(|_| bad("monitor", id))?),
            None => None,
        };
        let networks = match given(&self.network) {
            Some(name) => vec![name.parse::<Network>().map_err(|_| bad("network", name))?],
            None => Vec::new(),
        };
        let sentiment = match given(&self.sentiment) {
            Some(name) => Some(
                [
                    SentimentLabel::Negative,
                    SentimentLabel::Neutral,
                    SentimentLabel::Positive,
                ]
                .into_iter()
                .find(|s| s.as_str() == name)
                .ok_or_else(|| bad("sentiment", name))?,
            ),
            None => None,
        };
        let intent = match given(&self.intent) {
            Some(name) => Some(
                IntentKind::ALL
                    .into_iter()
                    .find(|k| k.as_str() == name)
                    .ok_or_else(|| bad("intent", name))?,
            ),
            None => None,
        };
        let text = match given(&self.q) {
            Some(words) => Some(
                query::parse(words)
                    .map_err(|e| ApiError::BadRequest(format!("the search `{words}`: {e}")))?,
            ),
            None => None,
        };
        let time = |value: &Option<String>| -> Result<Option<Timestamp>, ApiError> {
            given(value)
                .map(|v| parse_time(v).map_err(ApiError::BadRequest))
                .transpose()
        };
        let page = self.page();
        Ok(StreamFilter {
            monitor,
            networks,
            sentiment,
            intent,
            theme: given(&self.theme).map(str::to_owned),
            language: given(&self.lang).map(str::to_owned),
            since: time(&self.since)?,
            until: time(&self.until)?,
            text,
            handled: (order == StreamOrder::Priority).then_some(false),
            order,
            offset: (page - 1) * PAGE_SIZE,
            limit: PAGE_SIZE + 1,
        })
    }
}

/// UK time.
pub fn london() -> TimeZone {
    TimeZone::get("Europe/London").unwrap_or(TimeZone::UTC)
}

/// A moment in UK time for people: `4 May 2026 14:30`.
pub fn uk_time(at: Timestamp) -> String {
    at.to_zoned(london())
        .strftime("%-d %b %Y %H:%M")
        .to_string()
}

/// Reads a time: `2024-05-01`, `2024-05-01T14:30` (UK time), `2024-05-01T14:30:00Z`, or a span
/// back from now such as `30m`, `24h`, `7d`, `2w`.
pub fn parse_time(value: &str) -> Result<Timestamp, String> {
    let value = value.trim();
    if let Ok(timestamp) = value.parse::<Timestamp>() {
        return Ok(timestamp);
    }
    let local = |datetime: jiff::civil::DateTime| {
        datetime
            .to_zoned(london())
            .map(|zoned| zoned.timestamp())
            .map_err(|e| e.to_string())
    };
    if let Ok(datetime) = value.parse::<jiff::civil::DateTime>() {
        return local(datetime);
    }
    if let Ok(date) = value.parse::<jiff::civil::Date>() {
        return local(date.to_datetime(jiff::civil::Time::midnight()));
    }
    if let Some(split) = value.find(|c: char| !c.is_ascii_digit())
        && let Ok(number) = value[..split].parse::<i64>()
    {
        let hours = match &value[split..] {
            "m" | "min" => Some(Span::new().minutes(number)),
            "h" => Some(Span::new().hours(number)),
            "d" => number.checked_mul(24).map(|h| Span::new().hours(h)),
            "w" => number.checked_mul(168).map(|h| Span::new().hours(h)),
            _ => None,
        };
        if let Some(span) = hours {
            return Timestamp::now()
                .checked_sub(span)
                .map_err(|e| e.to_string());
        }
    }
    Err(format!(
        "`{value}` is not a time: write 2024-05-01, 2024-05-01T14:30, or a span back from now \
         such as 24h or 7d"
    ))
}

/// A post as pages and the API show it.
#[derive(Debug, Clone, Serialize)]
pub struct PostView {
    /// The network's name (`x`, `mastodon`...).
    pub network: &'static str,
    /// The network for people.
    pub network_label: &'static str,
    /// The network's id of the post.
    pub id: String,
    /// The page of the post in this application.
    pub href: String,
    /// The post on its network.
    pub url: Option<String>,
    /// The author's handle.
    pub author: String,
    /// The author's display name.
    pub author_name: Option<String>,
    /// The healthcare professional role found in the author's bio.
    pub professional: Option<String>,
    /// Who the author is, in words (`Public`, `Staff`, `Peer NHS organisation`...), when the
    /// post is analysed.
    pub author_kind: Option<&'static str>,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Creation time for people (UK time).
    pub created_label: String,
    /// Creation time, for how long ago it was.
    #[serde(skip)]
    pub created: Timestamp,
    /// The title (news, feedback).
    pub title: Option<String>,
    /// The text, personal data replaced by `[kind removed]`.
    pub text: String,
    /// Kinds of personal data masked.
    pub personal_data: Vec<&'static str>,
    /// Sentiment label, when analysed.
    pub sentiment: Option<&'static str>,
    /// The sentiment in words (`Negative`).
    pub sentiment_label: Option<&'static str>,
    /// Sentiment score from -1 to 1.
    pub sentiment_score: Option<f32>,
    /// Detected intents.
    pub intents: Vec<&'static str>,
    /// Detected intents in words (`Complaint`, `Safety concern`).
    pub intent_labels: Vec<&'static str>,
    /// Theme labels.
    pub themes: Vec<String>,
    /// Priority 0-100.
    pub priority: Option<u8>,
    /// Why that priority (with the figures, for the post page and the API).
    pub reasons: Vec<String>,
    /// Why the post matters, in words (`complaint words: "disgraceful"`), for cards.
    pub why: Vec<String>,
    /// Names of the monitors the post matched.
    pub monitors: Vec<String>,
    /// Who handled it and when, for people.
    pub handled: Option<String>,
    /// The post it replies to, if any.
    pub reply_to: Option<String>,
    /// The case of the post's conversation, when one is open or was.
    pub case: Option<CaseLink>,
}

/// The case of a post's conversation, as a card links to it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseLink {
    /// The case id.
    pub id: String,
    /// Its page.
    pub href: String,
    /// Who holds it.
    pub assignee: Option<String>,
    /// Its state in words.
    pub state: &'static str,
    /// Whether it is closed.
    pub closed: bool,
}

impl CaseLink {
    /// The link to `case`.
    pub fn new(case: &engage::Case) -> CaseLink {
        CaseLink {
            id: case.id.clone(),
            href: format!("/inbox/case?id={}", crate::auth::form_urlencode(&case.id)),
            assignee: case.assignee.clone(),
            state: case_state_label(case.state),
            closed: case.state == engage::CaseState::Closed,
        }
    }
}

/// A case's state in words.
pub const fn case_state_label(state: engage::CaseState) -> &'static str {
    match state {
        engage::CaseState::New => "New",
        engage::CaseState::Assigned => "Assigned",
        engage::CaseState::Drafting => "Reply being written",
        engage::CaseState::AwaitingApproval => "Waiting for approval",
        engage::CaseState::Answered => "Answered",
        engage::CaseState::Closed => "Closed",
    }
}

/// An intent in words.
pub const fn intent_label(kind: IntentKind) -> &'static str {
    match kind {
        IntentKind::Complaint => "Complaint",
        IntentKind::Compliment => "Compliment",
        IntentKind::Question => "Question",
        IntentKind::Misinformation => "Misinformation",
        IntentKind::Safety => "Safety concern",
        IntentKind::Other => "Other",
    }
}

/// A sentiment in words.
pub const fn sentiment_label(label: SentimentLabel) -> &'static str {
    match label {
        SentimentLabel::Negative => "Negative",
        SentimentLabel::Neutral => "Neutral",
        SentimentLabel::Positive => "Positive",
    }
}

/// Why a post matters, in words and without the model's figures: the words behind each detected
/// intent (`complaint words: "disgraceful", "nobody called back"`), then the other reasons of its
/// priority (`1,541 followers`, `healthcare professional: consultant`).
pub fn reasons_in_words(intents: &[model::analysis::Intent], priority: &[String]) -> Vec<String> {
    let mut why = Vec::new();
    for intent in intents.iter().filter(|i| i.detected) {
        let name = intent_label(intent.kind).to_lowercase();
        let words = intent
            .reason
            .split(';')
            .map(str::trim)
            .find_map(|part| part.strip_prefix("words "));
        match words {
            Some(words) => why.push(format!("{name} words: {words}")),
            None if intent.reason.contains(" model p=") || intent.reason.is_empty() => {
                why.push(name);
            }
            None => why.push(format!("{name}: {}", intent.reason)),
        }
    }
    for reason in priority {
        // "+5 reach: 1541 followers" and the like; the intents and sentiment are said above.
        let text = reason
            .trim_start_matches(|c: char| c == '+' || c == '-' || c.is_ascii_digit())
            .trim();
        if let Some(followers) = text.strip_prefix("reach: ") {
            why.push(followers.to_owned());
        } else if text.starts_with("healthcare professional")
            || text.starts_with("verified")
            || text.starts_with("journalist")
        {
            why.push(text.to_owned());
        }
    }
    why
}

/// A theme's name for people from its id (`timeliness_of_care` → `Timeliness of care`).
pub fn theme_label(id: &str) -> String {
    let words = id.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => words,
    }
}

/// How long ago `at` was, in words (`just now`, `12 min ago`, `3 h ago`, `yesterday`,
/// `4 days ago`), for times shown with the exact time on hover.
pub fn ago(at: Timestamp, now: Timestamp) -> String {
    let seconds = now.duration_since(at).as_secs();
    match seconds {
        ..60 => "just now".to_owned(),
        60..3_600 => format!("{} min ago", seconds / 60),
        3_600..86_400 => format!("{} h ago", seconds / 3_600),
        86_400..172_800 => "yesterday".to_owned(),
        _ => format!("{} days ago", seconds / 86_400),
    }
}

/// Replaces each personal data span (byte offsets) with `[kind removed]`.
pub fn mask(text: &str, spans: &[model::analysis::PersonalData]) -> String {
    let mut spans: Vec<_> = spans.iter().collect();
    spans.sort_by_key(|p| p.start);
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for span in spans {
        if span.start < at {
            continue;
        }
        let (Some(before), Some(_)) = (text.get(at..span.start), text.get(span.start..span.end))
        else {
            continue;
        };
        out.push_str(before);
        out.push_str(&format!(
            "[{} removed]",
            span.kind.as_str().replace('_', " ")
        ));
        at = span.end;
    }
    out.push_str(text.get(at..).unwrap_or_default());
    out
}

impl PostView {
    /// The view of a stored post with its desk entry; `monitors` names monitor ids.
    pub fn new(
        stored: &StoredPost,
        entry: Option<&StreamEntry>,
        monitors: &HashMap<i64, String>,
    ) -> PostView {
        let post = &stored.post;
        let analysis = stored.analysis.as_ref();
        let text = match analysis {
            Some(a) => mask(&post.text, &a.personal_data),
            None => post.text.clone(),
        };
        let zoned = post.created_at.to_zoned(london());
        PostView {
            network: post.network.as_str(),
            network_label: post.network.label(),
            id: post.id.clone(),
            href: format!(
                "/posts/{}/{}",
                post.network.as_str(),
                path_segment(&post.id)
            ),
            url: post.url.clone().or_else(|| original_url(post)),
            author: post.author.handle.clone(),
            author_name: post.author.display_name.clone(),
            professional: analysis.and_then(|a| a.professional.as_ref().map(|r| r.role.clone())),
            author_kind: analysis.map(|a| a.author.kind.label()),
            created_at: post.created_at.to_string(),
            created_label: zoned.strftime("%-d %b %Y %H:%M").to_string(),
            created: post.created_at,
            title: post.title.clone(),
            text,
            personal_data: analysis
                .map(|a| a.personal_data.iter().map(|p| p.kind.as_str()).collect())
                .unwrap_or_default(),
            sentiment: analysis.map(|a| a.sentiment.label.as_str()),
            sentiment_label: analysis.map(|a| sentiment_label(a.sentiment.label)),
            sentiment_score: analysis.map(|a| a.sentiment.score),
            intents: analysis
                .map(|a| {
                    a.intents
                        .iter()
                        .filter(|i| i.detected)
                        .map(|i| i.kind.as_str())
                        .collect()
                })
                .unwrap_or_default(),
            intent_labels: analysis
                .map(|a| {
                    a.intents
                        .iter()
                        .filter(|i| i.detected)
                        .map(|i| intent_label(i.kind))
                        .collect()
                })
                .unwrap_or_default(),
            themes: analysis
                .map(|a| a.themes.iter().map(|t| t.label.clone()).collect())
                .unwrap_or_default(),
            priority: analysis.map(|a| a.priority.score),
            reasons: analysis
                .map(|a| a.priority.reasons.clone())
                .unwrap_or_default(),
            why: analysis
                .map(|a| reasons_in_words(&a.intents, &a.priority.reasons))
                .unwrap_or_default(),
            monitors: entry
                .map(|e| {
                    e.monitors
                        .iter()
                        .filter_map(|id| monitors.get(id).cloned())
                        .collect()
                })
                .unwrap_or_default(),
            handled: entry.and_then(|e| e.handled.as_ref()).map(|h| {
                let when = h.at.to_zoned(london()).strftime("%-d %b %H:%M").to_string();
                match &h.user {
                    Some(user) => format!("Handled by {user}, {when}"),
                    None => format!("Handled {when}"),
                }
            }),
            reply_to: post.reply_to.clone(),
            case: None,
        }
    }

    /// How long ago the post was written, in words.
    pub fn ago(&self) -> String {
        ago(self.created, Timestamp::now())
    }

    /// Whether the case of the post's conversation is held by `name`.
    pub fn held_by(&self, name: &str) -> bool {
        self.case
            .as_ref()
            .is_some_and(|c| c.assignee.as_deref() == Some(name))
    }

    /// The priority in a word for cards (`Urgent`, `Soon`), none for the rest.
    pub fn priority_word(&self) -> Option<&'static str> {
        match self.priority {
            Some(p) if p >= HIGH_PRIORITY => Some("Urgent"),
            Some(p) if p >= 40 => Some("Soon"),
            _ => None,
        }
    }

    /// The CSS class of the priority badge.
    pub fn priority_class(&self) -> &'static str {
        match self.priority {
            Some(p) if p >= HIGH_PRIORITY => "priority priority--high",
            Some(p) if p >= 40 => "priority priority--medium",
            _ => "priority",
        }
    }
}

/// The address of a post on its network when the payload gave none: a Bluesky post's page
/// from its `at://` URI (`https://bsky.app/profile/{did}/post/{rkey}`).
pub fn original_url(post: &model::Post) -> Option<String> {
    if post.network != Network::Bluesky {
        return None;
    }
    let rest = post.id.strip_prefix("at://")?;
    let (did, tail) = rest.split_once('/')?;
    let rkey = tail.strip_prefix("app.bsky.feed.post/")?;
    (!did.is_empty() && !rkey.is_empty() && !rkey.contains('/'))
        .then(|| format!("https://bsky.app/profile/{did}/post/{rkey}"))
}

/// Percent-encodes a path segment: everything but unreserved characters, `/` included (Bluesky
/// post ids are `at://` URIs).
pub fn path_segment(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// What a person may do from a post's card, with their form token and the page to come back
/// to.
#[derive(Debug, Clone, Default)]
pub struct CardActions {
    /// Start or take a case, and reply.
    pub work: bool,
    /// Mark the post as handled.
    pub handle: bool,
    /// The person's name (a case they hold says "yours").
    pub me: String,
    /// The session's CSRF token.
    pub csrf: String,
    /// The page to come back to after marking a post as handled.
    pub back: String,
}

impl CardActions {
    /// The actions `user` may take, coming back to `back`.
    pub fn for_user(user: &crate::auth::CurrentUser, back: String) -> CardActions {
        CardActions {
            work: crate::roles::Action::WorkCases.allowed(user.user.role),
            handle: crate::roles::Action::MarkHandled.allowed(user.user.role),
            me: user.user.name.clone(),
            csrf: user.csrf.clone(),
            back,
        }
    }
}

/// Adds the case of the post's conversation to its view, when there is one.
pub fn attach_case(
    store: &dyn store::WebStore,
    view: &mut PostView,
    post: &model::Post,
) -> Result<(), store::StoreError> {
    view.case = store
        .case(&engage::thread_key(post))?
        .as_ref()
        .map(CaseLink::new);
    Ok(())
}

/// Monitor names by id.
pub fn monitor_names(monitors: &[Monitor]) -> HashMap<i64, String> {
    monitors.iter().map(|m| (m.id, m.name.clone())).collect()
}

#[cfg(test)]
mod tests {
    use model::analysis::{PersonalData, PersonalDataKind};

    use super::*;

    #[test]
    fn masks_personal_data() {
        let text = "Call me on 07700 900123 please";
        let spans = [PersonalData {
            kind: PersonalDataKind::Phone,
            start: 11,
            end: 23,
            reason: String::new(),
        }];
        assert_eq!(mask(text, &spans), "Call me on [phone removed] please");
    }

    #[test]
    fn reasons_are_said_in_words_without_figures() {
        let intents = [
            model::analysis::Intent {
                kind: IntentKind::Complaint,
                probability: 0.96,
                detected: true,
                reason: "complaint model p=0.96; words \"missed\", \"drove\"".into(),
                spans: Vec::new(),
            },
            model::analysis::Intent {
                kind: IntentKind::Question,
                probability: 1.0,
                detected: true,
                reason: "question mark".into(),
                spans: Vec::new(),
            },
        ];
        let reasons = [
            "+24 complaint (p=0.96)".to_owned(),
            "+5 reach: 1541 followers".to_owned(),
            "+5 healthcare professional: consultant".to_owned(),
        ];
        assert_eq!(
            reasons_in_words(&intents, &reasons),
            [
                "complaint words: \"missed\", \"drove\"",
                "question: question mark",
                "1541 followers",
                "healthcare professional: consultant"
            ]
        );
        assert_eq!(theme_label("timeliness_of_care"), "Timeliness of care");
    }

    #[test]
    fn bluesky_posts_link_to_their_page_on_bluesky() {
        let author = model::Author::default();
        let post = model::Post::new(
            Network::Bluesky,
            "at://did:plc:x/app.bsky.feed.post/3n2",
            author.clone(),
            "hi",
            Timestamp::now(),
        );
        assert_eq!(
            original_url(&post).as_deref(),
            Some("https://bsky.app/profile/did:plc:x/post/3n2")
        );
        let other = model::Post::new(Network::X, "1", author, "hi", Timestamp::now());
        assert_eq!(original_url(&other), None);
    }

    #[test]
    fn encodes_ids_as_one_path_segment() {
        assert_eq!(
            path_segment("at://did:plc:x/app.bsky.feed.post/3n2"),
            "at%3A%2F%2Fdid%3Aplc%3Ax%2Fapp.bsky.feed.post%2F3n2"
        );
    }

    #[test]
    fn reads_filters() {
        let params = StreamParams {
            network: Some("mastodon".into()),
            sentiment: Some("negative".into()),
            q: Some("A&E wait*".into()),
            page: Some("2".into()),
            ..StreamParams::default()
        };
        let filter = params.filter(StreamOrder::Newest).unwrap();
        assert_eq!(filter.networks, vec![Network::Mastodon]);
        assert_eq!(filter.offset, PAGE_SIZE);
        assert!(params.with_page(3).contains("page=3"));
        let wrong = StreamParams {
            intent: Some("nonsense".into()),
            ..StreamParams::default()
        };
        assert!(wrong.filter(StreamOrder::Newest).is_err());
    }
}
