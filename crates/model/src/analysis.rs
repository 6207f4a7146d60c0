//! What Switchboard understood of a post: the plain, serialisable result of the analysis engine.
//!
//! These types carry no logic and do no I/O, so the store, the web interface and the response
//! matrix can read and write analyses without depending on the `analyse` crate that computes
//! them. Every label carries a `reason`: the words or the rule that drove it, for the screen and
//! for the audit log.

use serde::{Deserialize, Serialize};

/// The full analysis of one post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Analysis {
    /// The version of the analysis engine and models that produced this analysis.
    pub engine: String,
    /// The language of the text.
    pub language: Language,
    /// How positive or negative the text is.
    pub sentiment: Sentiment,
    /// Every intent with its probability; `detected` marks the ones that apply.
    pub intents: Vec<Intent>,
    /// Patient-experience themes found in the text, most probable first.
    pub themes: Vec<Theme>,
    /// Whether the author presents as a healthcare professional, and the role found.
    pub professional: Option<Role>,
    /// Whether the author presents as a journalist, and the role found.
    pub journalist: Option<Role>,
    /// Who is speaking: our organisation, a peer, a news outlet, staff, a clinician or the
    /// public, from the directory or inferred from the payload and the bio. Analyses stored
    /// before this was read say [`AuthorKind::Public`] with an empty reason.
    #[serde(default)]
    pub author: AuthorFinding,
    /// Personal data exposed in the text, in text order.
    pub personal_data: Vec<PersonalData>,
    /// How urgently a human should look at the post.
    pub priority: Priority,
}

impl Analysis {
    /// Whether the given intent was detected.
    pub fn has_intent(&self, kind: IntentKind) -> bool {
        self.intents.iter().any(|i| i.kind == kind && i.detected)
    }

    /// The probability given to an intent (0 when absent).
    pub fn intent_probability(&self, kind: IntentKind) -> f32 {
        self.intents
            .iter()
            .find(|i| i.kind == kind)
            .map_or(0.0, |i| i.probability)
    }
}

/// Where the language of a post came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LanguageSource {
    /// The network or the author declared it.
    Declared,
    /// Detected from the text.
    Detected,
    /// Too little text to tell: the default (English) was assumed.
    Default,
}

/// The language of a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Language {
    /// ISO 639-1 code where one exists (`en`, `cy`, `pl`), else ISO 639-3.
    pub code: String,
    /// The English name (`English`, `Welsh`).
    pub name: String,
    /// Confidence in [0, 1].
    pub confidence: f32,
    /// Declared, detected or assumed.
    pub source: LanguageSource,
}

/// The three sentiment classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SentimentLabel {
    /// Negative.
    Negative,
    /// Neutral, objective or mixed.
    Neutral,
    /// Positive.
    Positive,
}

impl SentimentLabel {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            SentimentLabel::Negative => "negative",
            SentimentLabel::Neutral => "neutral",
            SentimentLabel::Positive => "positive",
        }
    }
}

/// Sentiment of a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Sentiment {
    /// The combined score in [-1, 1] (lexicon and trained model).
    pub score: f32,
    /// The label.
    pub label: SentimentLabel,
    /// The probability of the label from the trained model.
    pub confidence: f32,
    /// The lexicon-only compound score in [-1, 1].
    pub lexicon_score: f32,
    /// The words and rules that drove the score.
    pub reason: String,
}

/// What a post is trying to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentKind {
    /// A complaint about care, service or the organisation.
    Complaint,
    /// A compliment or thanks.
    Compliment,
    /// A question or a request for help.
    Question,
    /// A health claim that looks like misinformation.
    Misinformation,
    /// Self-harm, abuse, safeguarding or a threat: a human must look now.
    Safety,
    /// None of the above.
    Other,
}

impl IntentKind {
    /// Every intent, in display order.
    pub const ALL: [IntentKind; 6] = [
        IntentKind::Complaint,
        IntentKind::Compliment,
        IntentKind::Question,
        IntentKind::Misinformation,
        IntentKind::Safety,
        IntentKind::Other,
    ];

    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            IntentKind::Complaint => "complaint",
            IntentKind::Compliment => "compliment",
            IntentKind::Question => "question",
            IntentKind::Misinformation => "misinformation",
            IntentKind::Safety => "safety",
            IntentKind::Other => "other",
        }
    }
}

/// One intent with its probability and reason.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// Which intent.
    pub kind: IntentKind,
    /// Probability in [0, 1].
    pub probability: f32,
    /// Whether it applies (probability at or above the intent's threshold, or a rule fired).
    pub detected: bool,
    /// The words, model or rule that drove it.
    pub reason: String,
    /// Where in the post's text the intent is said, when the post says more than one thing (a
    /// complaint and thanks): byte ranges of the text, in text order. Empty when the intent
    /// covers the whole post.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spans: Vec<Span>,
}

/// A byte range of a post's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    /// Byte offset of the start.
    pub start: usize,
    /// Byte offset just past the end.
    pub end: usize,
}

/// One patient-experience theme found in a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Theme {
    /// A stable identifier (`timeliness_of_care`).
    pub id: String,
    /// The readable name (`Timeliness of care`).
    pub label: String,
    /// Probability in [0, 1].
    pub probability: f32,
    /// Why it was assigned.
    pub reason: String,
}

/// A role found in an author's name or bio.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Role {
    /// The role in plain words (`nurse`, `GP`, `consultant`, `journalist`).
    pub role: String,
    /// The text that showed it, and where (`bio: "RGN"`).
    pub reason: String,
}

/// Who is speaking, as the analysis reads intents in its light: an organisation's update is an
/// announcement, not a complaint; a staff story is not a complaint.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKind {
    /// Our organisation or one of its services.
    OwnOrganisation,
    /// One of our leaders.
    Leader,
    /// Our staff or social squad, or someone who says they work for the NHS.
    Staff,
    /// Another NHS organisation.
    PeerOrganisation,
    /// A news outlet.
    NewsOutlet,
    /// A journalist writing in their own name.
    Journalist,
    /// A healthcare professional who is not on our staff list.
    Clinician,
    /// An organisation that is neither NHS nor news (a charity, a council, a business).
    OtherOrganisation,
    /// A member of the public: anyone else.
    #[default]
    Public,
}

impl AuthorKind {
    /// Every kind, in display order. The one list the matrix, menus and help texts derive from.
    pub const ALL: [AuthorKind; 9] = [
        AuthorKind::OwnOrganisation,
        AuthorKind::Leader,
        AuthorKind::Staff,
        AuthorKind::PeerOrganisation,
        AuthorKind::NewsOutlet,
        AuthorKind::Journalist,
        AuthorKind::Clinician,
        AuthorKind::OtherOrganisation,
        AuthorKind::Public,
    ];

    /// The stable name in the database, the matrix and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            AuthorKind::OwnOrganisation => "own_organisation",
            AuthorKind::Leader => "leader",
            AuthorKind::Staff => "staff",
            AuthorKind::PeerOrganisation => "peer_organisation",
            AuthorKind::NewsOutlet => "news_outlet",
            AuthorKind::Journalist => "journalist",
            AuthorKind::Clinician => "clinician",
            AuthorKind::OtherOrganisation => "other_organisation",
            AuthorKind::Public => "public",
        }
    }

    /// The name people read on cards.
    pub const fn label(self) -> &'static str {
        match self {
            AuthorKind::OwnOrganisation => "Our organisation",
            AuthorKind::Leader => "Our leader",
            AuthorKind::Staff => "Staff",
            AuthorKind::PeerOrganisation => "NHS organisation",
            AuthorKind::NewsOutlet => "News outlet",
            AuthorKind::Journalist => "Journalist",
            AuthorKind::Clinician => "Clinician",
            AuthorKind::OtherOrganisation => "Organisation",
            AuthorKind::Public => "Public",
        }
    }

    /// Whether the author speaks for an organisation (ours, a peer, news or another body).
    pub const fn is_organisation(self) -> bool {
        matches!(
            self,
            AuthorKind::OwnOrganisation
                | AuthorKind::PeerOrganisation
                | AuthorKind::NewsOutlet
                | AuthorKind::OtherOrganisation
        )
    }
}

impl std::fmt::Display for AuthorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An author kind that Switchboard does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown author kind `{0}`: use own_organisation, leader, staff, peer_organisation, news_outlet, journalist, clinician, other_organisation or public"
)]
pub struct UnknownAuthorKind(pub String);

impl std::str::FromStr for AuthorKind {
    type Err = UnknownAuthorKind;

    fn from_str(value: &str) -> Result<AuthorKind, UnknownAuthorKind> {
        AuthorKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(value.trim()))
            .ok_or_else(|| UnknownAuthorKind(value.to_owned()))
    }
}

/// Where an author's kind was learnt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthorKindSource {
    /// The directory of organisations, people and accounts lists the account.
    Directory,
    /// Inferred from the payload and the bio.
    #[default]
    Inferred,
}

/// The kind of a post's author, where it was learnt and why.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct AuthorFinding {
    /// The kind.
    pub kind: AuthorKind,
    /// Directory or inferred.
    pub source: AuthorKindSource,
    /// The directory entry's id when the directory listed the account.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry: Option<i64>,
    /// Why, in words (`directory: Northgate Valley NHS FT`, `bio: "staff nurse at"`).
    pub reason: String,
}

/// The kinds of personal data Switchboard looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonalDataKind {
    /// A 10-digit NHS number with a valid Modulus 11 check digit.
    NhsNumber,
    /// A UK telephone number.
    Phone,
    /// An email address.
    Email,
    /// A UK postcode.
    Postcode,
    /// A date of birth.
    DateOfBirth,
}

impl PersonalDataKind {
    /// The lower-case name.
    pub const fn as_str(self) -> &'static str {
        match self {
            PersonalDataKind::NhsNumber => "nhs_number",
            PersonalDataKind::Phone => "phone",
            PersonalDataKind::Email => "email",
            PersonalDataKind::Postcode => "postcode",
            PersonalDataKind::DateOfBirth => "date_of_birth",
        }
    }
}

/// One piece of personal data found in a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonalData {
    /// What it is.
    pub kind: PersonalDataKind,
    /// Byte offset of the start in the post's text.
    pub start: usize,
    /// Byte offset just past the end in the post's text.
    pub end: usize,
    /// Why it was recognised.
    pub reason: String,
}

/// How urgently a human should look at a post.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Priority {
    /// 0 (ignore) to 100 (now).
    pub score: u8,
    /// What raised it, largest first.
    pub reasons: Vec<String>,
}
