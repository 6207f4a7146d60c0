//! The response matrix: rules written in advance, in order, that turn an analysed post into an
//! action.
//!
//! A matrix is a TOML file with `[templates.NAME]` tables (reply texts with variables) and
//! `[[rules]]` in order. The first rule whose `when` conditions all hold decides: whether a case
//! opens, the action (reply with a template, escalate to a role, watch, ignore), the time limit
//! to the first response, who may send, and which role must approve. A post that no rule takes
//! is ignored.
//!
//! Parsing checks everything it can and reports every mistake with its line and column and what
//! to do about it ([`MatrixIssue`]). Parsed rules are compiled to bit masks so that evaluating a
//! rule costs a few integer operations: the matrix runs over millions of stored posts.

use std::{collections::BTreeMap, fmt, ops::Range};

use jiff::SignedDuration;
use model::{
    Network, Post,
    analysis::{Analysis, IntentKind, SentimentLabel},
};
use serde::Deserialize;
use toml::Spanned;

use crate::{role::Role, template::Template};

/// The default matrix for an NHS trust, shipped with Switchboard.
pub const DEFAULT_MATRIX: &str = include_str!("../matrix/default.toml");

/// One mistake in a matrix file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatrixIssue {
    /// The line, from 1.
    pub line: usize,
    /// The column in characters, from 1.
    pub column: usize,
    /// What is wrong and what to do.
    pub message: String,
}

impl fmt::Display for MatrixIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.message)
    }
}

/// Why a matrix was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MatrixError {
    /// The file has mistakes; every one found is listed.
    #[error("the response matrix has {} mistake(s):\n{}", issues.len(), list(issues))]
    Invalid {
        /// The mistakes, in file order.
        issues: Vec<MatrixIssue>,
    },
}

impl MatrixError {
    /// The mistakes.
    pub fn issues(&self) -> &[MatrixIssue] {
        match self {
            MatrixError::Invalid { issues } => issues,
        }
    }
}

fn list(issues: &[MatrixIssue]) -> String {
    issues
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n")
}

/// What a rule tells people to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Reply with the named template.
    Reply {
        /// The template's name in `[templates]`.
        template: String,
    },
    /// Hand to a role (a clinician, the director, the safeguarding lead's officer).
    Escalate {
        /// The role that must deal with it.
        role: Role,
    },
    /// Keep an eye on it; no reply expected.
    Watch,
    /// Nothing to do.
    Ignore,
}

impl Action {
    /// A short description for screens and reports (`reply with apology`).
    pub fn describe(&self) -> String {
        match self {
            Action::Reply { template } => format!("reply with template {template}"),
            Action::Escalate { role } => format!("escalate to {role}"),
            Action::Watch => "watch".into(),
            Action::Ignore => "ignore".into(),
        }
    }
}

/// The conditions of a rule, compiled. Every condition given must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Conditions {
    /// Any of these intents detected (bit per [`IntentKind::ALL`] index); 0 = any.
    intents: u8,
    /// The sentiment label is one of these (bit per label); 0 = any.
    sentiment: u8,
    /// Any of these theme ids present; empty = any.
    themes: Vec<String>,
    /// Priority at least this.
    min_priority: Option<u8>,
    /// Safety intent detected (true) or not (false).
    safety: Option<bool>,
    /// Personal data present (true) or not (false).
    personal_data: Option<bool>,
    /// Author is a healthcare professional (true) or not (false).
    professional: Option<bool>,
    /// Author is a journalist (true) or not (false).
    journalist: Option<bool>,
    /// Author has at least this many followers.
    min_followers: Option<u64>,
    /// Post matched any of these monitors; empty = any.
    monitors: Vec<String>,
    /// Post is on one of these networks (bit per network); 0 = any.
    networks: u8,
}

impl Conditions {
    /// Whether no condition is set (the rule takes every post).
    pub fn is_catch_all(&self) -> bool {
        *self == Conditions::default()
    }
}

/// One rule of the matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// The rule's unique name.
    pub name: String,
    /// The line of the rule in the file.
    pub line: usize,
    /// What must hold for the rule to take a post.
    pub when: Conditions,
    /// Whether a case opens in the inbox.
    pub create_case: bool,
    /// What to do.
    pub action: Action,
    /// Time limit to the first response, when there is one.
    pub respond_within: Option<SignedDuration>,
    /// The roles that may send the reply (any role at or above one listed).
    pub senders: Vec<Role>,
    /// The role that must approve before sending, if approval is needed.
    pub approval: Option<Role>,
}

impl Rule {
    /// Whether an actor with `role` may send a reply under this rule.
    pub fn may_send(&self, role: Role) -> bool {
        self.senders.iter().any(|s| role.at_least(*s))
    }

    /// Whether a reply under this rule needs approval before it goes out when sent by `role`
    /// (an approver at or above the tier needs no one else's approval).
    pub fn needs_approval(&self, role: Role) -> bool {
        self.approval.is_some_and(|tier| !role.at_least(tier))
    }
}

/// What the matrix evaluates: a post's network, analysis and author, and the monitors that
/// matched it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// The network.
    pub network: Network,
    /// The analysis.
    pub analysis: &'a Analysis,
    /// The author's followers, when known.
    pub followers: Option<u64>,
    /// The names of the monitors that matched the post.
    pub monitors: &'a [String],
}

impl<'a> Subject<'a> {
    /// The subject for a post and its analysis.
    pub fn new(post: &'a Post, analysis: &'a Analysis, monitors: &'a [String]) -> Subject<'a> {
        Subject {
            network: post.network,
            analysis,
            followers: post.author.followers,
            monitors,
        }
    }
}

/// A parsed, validated response matrix.
#[derive(Debug, Clone, PartialEq)]
pub struct Matrix {
    /// The rules, in order.
    pub rules: Vec<Rule>,
    /// Reply templates by name.
    pub templates: BTreeMap<String, Template>,
    /// Roles allowed to make clinical statements or statements about a patient's care without
    /// approval.
    pub clinical_roles: Vec<Role>,
    /// The organisation's published phone numbers: allowed in replies.
    pub phone_lines: Vec<String>,
}

fn intent_bit(kind: IntentKind) -> u8 {
    let i = IntentKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or_default();
    1 << i
}

fn sentiment_bit(label: SentimentLabel) -> u8 {
    match label {
        SentimentLabel::Negative => 1,
        SentimentLabel::Neutral => 2,
        SentimentLabel::Positive => 4,
    }
}

fn network_bit(network: Network) -> u8 {
    let i = Network::ALL
        .iter()
        .position(|n| *n == network)
        .unwrap_or_default();
    1 << i
}

/// The bits of the detected intents of an analysis.
fn intent_mask(analysis: &Analysis) -> u8 {
    analysis
        .intents
        .iter()
        .filter(|i| i.detected)
        .fold(0, |m, i| m | intent_bit(i.kind))
}

impl Matrix {
    /// The default matrix shipped with Switchboard.
    pub fn default_matrix() -> Result<Matrix, MatrixError> {
        Matrix::parse(DEFAULT_MATRIX)
    }

    /// Parses and validates a matrix file's text.
    pub fn parse(text: &str) -> Result<Matrix, MatrixError> {
        let raw: RawMatrix = toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map_or((1, 1), |span| line_column(text, span.start));
            MatrixError::Invalid {
                issues: vec![MatrixIssue {
                    line,
                    column,
                    message: toml_message(&e),
                }],
            }
        })?;
        Compiler {
            text,
            issues: Vec::new(),
        }
        .compile(raw)
    }

    /// The first rule that takes the subject, if any.
    pub fn evaluate(&self, subject: &Subject<'_>) -> Option<&Rule> {
        self.evaluate_index(subject).and_then(|i| self.rules.get(i))
    }

    /// The index of the first rule that takes the subject, if any.
    pub fn evaluate_index(&self, subject: &Subject<'_>) -> Option<usize> {
        let a = subject.analysis;
        let intents = intent_mask(a);
        let sentiment = sentiment_bit(a.sentiment.label);
        let network = network_bit(subject.network);
        let safety = intents & intent_bit(IntentKind::Safety) != 0;
        self.rules.iter().position(|rule| {
            let w = &rule.when;
            (w.intents == 0 || w.intents & intents != 0)
                && (w.sentiment == 0 || w.sentiment & sentiment != 0)
                && (w.networks == 0 || w.networks & network != 0)
                && w.min_priority.is_none_or(|p| a.priority.score >= p)
                && w.safety.is_none_or(|s| s == safety)
                && w.personal_data
                    .is_none_or(|p| p != a.personal_data.is_empty())
                && w.professional.is_none_or(|p| p == a.professional.is_some())
                && w.journalist.is_none_or(|p| p == a.journalist.is_some())
                && w.min_followers
                    .is_none_or(|m| subject.followers.unwrap_or(0) >= m)
                && (w.themes.is_empty() || a.themes.iter().any(|t| w.themes.contains(&t.id)))
                && (w.monitors.is_empty()
                    || subject.monitors.iter().any(|m| w.monitors.contains(m)))
        })
    }

    /// The rule with this name.
    pub fn rule(&self, name: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.name == name)
    }

    /// Whether an actor with `role` may make clinical statements without approval.
    pub fn may_make_clinical_statements(&self, role: Role) -> bool {
        self.clinical_roles.iter().any(|r| role.at_least(*r))
    }
}

/// The 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = text.get(..offset).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, column)
}

fn toml_message(e: &toml::de::Error) -> String {
    let msg = e.message().trim().to_owned();
    if msg.contains("unknown field") {
        format!("{msg}; remove it or fix its spelling")
    } else if msg.contains("unknown variant") {
        format!("{msg}; use one of the names listed")
    } else if msg.contains("missing field") {
        format!("{msg}; add it")
    } else {
        format!("{msg}; fix the TOML syntax here")
    }
}

/// Parses a time limit like `15m`, `4h`, `1d`, `1h 30m`.
pub fn parse_duration(s: &str) -> Option<SignedDuration> {
    let mut total: i64 = 0;
    let mut number = String::new();
    let mut any = false;
    for c in s.trim().chars() {
        if c.is_ascii_digit() {
            number.push(c);
        } else if c.is_whitespace() {
            continue;
        } else {
            let n: i64 = number.parse().ok()?;
            number.clear();
            let unit = match c {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                _ => return None,
            };
            total = total.checked_add(n.checked_mul(unit)?)?;
            any = true;
        }
    }
    (any && number.is_empty() && total > 0).then(|| SignedDuration::from_secs(total))
}

/// Writes a duration as the matrix does (`1h 30m`).
pub fn format_duration(d: SignedDuration) -> String {
    let mut secs = d.as_secs();
    let mut out = Vec::new();
    for (unit, size) in [("d", 86_400), ("h", 3600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push(format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out.join(" ")
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMatrix {
    #[serde(default)]
    templates: BTreeMap<String, Spanned<RawTemplate>>,
    #[serde(default)]
    rules: Vec<Spanned<RawRule>>,
    #[serde(default)]
    clinical_roles: Option<Spanned<Vec<Role>>>,
    #[serde(default)]
    phone_lines: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawTemplate {
    text: Spanned<String>,
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum RawAction {
    Reply,
    Escalate,
    Watch,
    Ignore,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    name: Spanned<String>,
    #[serde(default)]
    when: Option<Spanned<RawWhen>>,
    case: bool,
    action: Spanned<RawAction>,
    template: Option<Spanned<String>>,
    role: Option<Spanned<Role>>,
    respond_within: Option<Spanned<String>>,
    senders: Option<Spanned<Vec<Role>>>,
    approval: Option<Spanned<Role>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhen {
    intents: Option<Spanned<Vec<IntentKind>>>,
    sentiment: Option<Spanned<Vec<SentimentLabel>>>,
    themes: Option<Spanned<Vec<String>>>,
    min_priority: Option<Spanned<u8>>,
    safety: Option<bool>,
    personal_data: Option<bool>,
    professional: Option<bool>,
    journalist: Option<bool>,
    min_followers: Option<u64>,
    monitors: Option<Spanned<Vec<String>>>,
    networks: Option<Spanned<Vec<Network>>>,
}

struct Compiler<'t> {
    text: &'t str,
    issues: Vec<MatrixIssue>,
}

impl Compiler<'_> {
    fn issue(&mut self, span: Range<usize>, message: impl Into<String>) {
        let (line, column) = line_column(self.text, span.start);
        self.issues.push(MatrixIssue {
            line,
            column,
            message: message.into(),
        });
    }

    fn compile(mut self, raw: RawMatrix) -> Result<Matrix, MatrixError> {
        let mut templates = BTreeMap::new();
        for (name, t) in raw.templates {
            let text = t.get_ref().text.get_ref().clone();
            match Template::parse(&name, &text) {
                Ok(template) => {
                    templates.insert(name, template);
                }
                Err(e) => {
                    let span = t.get_ref().text.span();
                    self.issue(span, e.to_string());
                }
            }
        }
        let clinical_roles = match raw.clinical_roles {
            Some(roles) if roles.get_ref().is_empty() => {
                self.issue(
                    roles.span(),
                    "clinical_roles is empty: list at least one role, e.g. [\"approver\"]",
                );
                Vec::new()
            }
            Some(roles) => roles.into_inner(),
            None => vec![Role::Approver],
        };
        let mut rules: Vec<Rule> = Vec::new();
        let mut catch_all: Option<String> = None;
        for raw_rule in raw.rules {
            let span = raw_rule.span();
            let r = raw_rule.into_inner();
            let name = r.name.get_ref().trim().to_owned();
            if name.is_empty() {
                self.issue(
                    r.name.span(),
                    "the rule has an empty name: give it a short name",
                );
            }
            if rules.iter().any(|x| x.name == name) {
                self.issue(
                    r.name.span(),
                    format!("a rule named `{name}` already exists: give each rule its own name"),
                );
            }
            if let Some(earlier) = &catch_all {
                self.issue(
                    r.name.span(),
                    format!(
                        "rule `{name}` can never apply: rule `{earlier}` before it has no \
                         conditions and takes every post; move `{earlier}` to the end"
                    ),
                );
            }
            let when = match r.when {
                Some(w) => self.conditions(w.into_inner()),
                None => Conditions::default(),
            };
            let action = match *r.action.get_ref() {
                RawAction::Reply => match &r.template {
                    Some(t) if templates.contains_key(t.get_ref()) => Action::Reply {
                        template: t.get_ref().clone(),
                    },
                    Some(t) => {
                        let known = if templates.is_empty() {
                            "(the file has no [templates] yet)".to_owned()
                        } else {
                            templates.keys().cloned().collect::<Vec<_>>().join(", ")
                        };
                        self.issue(
                            t.span(),
                            format!(
                                "no template named `{}`: define [templates.{}] or use one of: {known}",
                                t.get_ref(),
                                t.get_ref()
                            ),
                        );
                        Action::Ignore
                    }
                    None => {
                        self.issue(
                            r.action.span(),
                            "action \"reply\" needs a template: add template = \"NAME\" naming a \
                             [templates.NAME] table",
                        );
                        Action::Ignore
                    }
                },
                RawAction::Escalate => match &r.role {
                    Some(role) => Action::Escalate {
                        role: *role.get_ref(),
                    },
                    None => {
                        self.issue(
                            r.action.span(),
                            "action \"escalate\" needs a role: add role = \"officer\" (or \
                             \"approver\", \"admin\")",
                        );
                        Action::Ignore
                    }
                },
                RawAction::Watch => Action::Watch,
                RawAction::Ignore => Action::Ignore,
            };
            if let Some(t) = &r.template
                && !matches!(r.action.get_ref(), RawAction::Reply)
            {
                self.issue(
                    t.span(),
                    "template is only used with action = \"reply\": remove it or change the action",
                );
            }
            if let Some(role) = &r.role
                && !matches!(r.action.get_ref(), RawAction::Escalate)
            {
                self.issue(
                    role.span(),
                    "role is only used with action = \"escalate\": remove it or change the action",
                );
            }
            let respond_within = match &r.respond_within {
                Some(d) => match parse_duration(d.get_ref()) {
                    Some(d) => Some(d),
                    None => {
                        self.issue(
                            d.span(),
                            format!(
                                "`{}` is not a time limit: write it like \"15m\", \"4h\", \"1d\" \
                                 or \"1h 30m\"",
                                d.get_ref()
                            ),
                        );
                        None
                    }
                },
                None => None,
            };
            if r.case && r.respond_within.is_none() {
                self.issue(
                    r.name.span(),
                    format!(
                        "rule `{name}` opens a case but has no time limit: add respond_within = \
                         \"4h\" (or another limit)"
                    ),
                );
            }
            if !r.case && matches!(action, Action::Reply { .. } | Action::Escalate { .. }) {
                self.issue(
                    r.action.span(),
                    format!(
                        "rule `{name}` asks for a reply or an escalation but opens no case: set \
                         case = true so someone owns it"
                    ),
                );
            }
            let senders = match r.senders {
                Some(s) if s.get_ref().is_empty() => {
                    self.issue(
                        s.span(),
                        "senders is empty: list who may send, e.g. [\"squad\", \"officer\"]",
                    );
                    Vec::new()
                }
                Some(s) if s.get_ref().contains(&Role::Viewer) => {
                    self.issue(
                        s.span(),
                        "viewers cannot send replies: remove \"viewer\" from senders",
                    );
                    s.into_inner()
                }
                Some(s) => s.into_inner(),
                None => vec![Role::Officer],
            };
            let approval = match r.approval {
                Some(a) if *a.get_ref() < Role::Officer => {
                    self.issue(
                        a.span(),
                        format!(
                            "`{}` cannot approve: use \"officer\", \"approver\" or \"admin\"",
                            a.get_ref()
                        ),
                    );
                    None
                }
                Some(a) => Some(a.into_inner()),
                None => None,
            };
            if when.is_catch_all() && catch_all.is_none() {
                catch_all = Some(name.clone());
            }
            let (line, _) = line_column(self.text, span.start);
            rules.push(Rule {
                name,
                line,
                when,
                create_case: r.case,
                action,
                respond_within,
                senders,
                approval,
            });
        }
        if rules.is_empty() {
            self.issue(
                0..0,
                "the matrix has no rules: add [[rules]] tables, most specific first",
            );
        }
        if self.issues.is_empty() {
            Ok(Matrix {
                rules,
                templates,
                clinical_roles,
                phone_lines: raw.phone_lines,
            })
        } else {
            self.issues.sort_by_key(|i| (i.line, i.column));
            Err(MatrixError::Invalid {
                issues: self.issues,
            })
        }
    }

    fn conditions(&mut self, w: RawWhen) -> Conditions {
        let mut c = Conditions::default();
        if let Some(intents) = w.intents {
            if intents.get_ref().is_empty() {
                self.issue(
                    intents.span(),
                    "intents is empty: list intents or remove the line",
                );
            }
            c.intents = intents.get_ref().iter().fold(0, |m, k| m | intent_bit(*k));
        }
        if let Some(s) = w.sentiment {
            if s.get_ref().is_empty() {
                self.issue(
                    s.span(),
                    "sentiment is empty: list labels or remove the line",
                );
            }
            c.sentiment = s.get_ref().iter().fold(0, |m, l| m | sentiment_bit(*l));
        }
        if let Some(n) = w.networks {
            if n.get_ref().is_empty() {
                self.issue(
                    n.span(),
                    "networks is empty: list networks or remove the line",
                );
            }
            c.networks = n.get_ref().iter().fold(0, |m, x| m | network_bit(*x));
        }
        if let Some(themes) = w.themes {
            for t in themes.get_ref() {
                if t.is_empty()
                    || !t
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                {
                    self.issue(
                        themes.span(),
                        format!(
                            "`{t}` is not a theme id: theme ids are lower case with underscores, \
                             like \"timeliness_of_care\""
                        ),
                    );
                }
            }
            c.themes = themes.into_inner();
        }
        if let Some(p) = w.min_priority {
            if *p.get_ref() > 100 {
                self.issue(p.span(), "min_priority is from 0 to 100: lower it");
            }
            c.min_priority = Some(*p.get_ref());
        }
        if let Some(m) = w.monitors {
            if m.get_ref().is_empty() {
                self.issue(
                    m.span(),
                    "monitors is empty: list monitor names or remove the line",
                );
            }
            c.monitors = m.into_inner();
        }
        c.safety = w.safety;
        c.personal_data = w.personal_data;
        c.professional = w.professional;
        c.journalist = w.journalist;
        c.min_followers = w.min_followers;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(text: &str) -> Vec<MatrixIssue> {
        match Matrix::parse(text) {
            Ok(_) => Vec::new(),
            Err(e) => e.issues().to_vec(),
        }
    }

    #[test]
    fn default_matrix_is_valid() {
        let m = Matrix::default_matrix().unwrap();
        assert!(m.rules.len() >= 6);
        assert!(m.templates.contains_key("apology"));
    }

    #[test]
    fn syntax_error_has_line_and_column() {
        let text = "[[rules]]\nname = \"a\"\ncase = true\naction = watch\n";
        let found = issues(text);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].line, 4);
        assert_eq!(found[0].column, 10);
        assert!(found[0].message.contains("fix the TOML syntax"));
    }

    #[test]
    fn unknown_field_and_variant_are_located() {
        let text = "[[rules]]\nname = \"a\"\ncase = false\naction = \"watch\"\nwhen = { intent = [\"complaint\"] }\n";
        let found = issues(text);
        assert_eq!(found[0].line, 5);
        assert!(found[0].message.contains("unknown field"), "{found:?}");

        let text = "[[rules]]\nname = \"a\"\ncase = false\naction = \"watch\"\nwhen = { intents = [\"complain\"] }\n";
        let found = issues(text);
        assert_eq!((found[0].line, found[0].column), (5, 21), "{found:?}");
        assert!(found[0].message.contains("complaint"));
    }

    #[test]
    fn semantic_mistakes_are_all_reported_with_positions() {
        let text = r#"[templates.apology]
text = "Sorry {author_name}, {nonsense}"

[[rules]]
name = "everything"
case = false
action = "watch"

[[rules]]
name = "complaints"
when = { intents = ["complaint"] }
case = true
action = "reply"
template = "sorry"
respond_within = "soon"
approval = "squad"
"#;
        let found = issues(text);
        let at: Vec<(usize, &str)> = found.iter().map(|i| (i.line, i.message.as_str())).collect();
        assert!(
            at.iter().any(|(l, m)| *l == 2 && m.contains("nonsense")),
            "{at:?}"
        );
        assert!(
            at.iter()
                .any(|(l, m)| *l == 10 && m.contains("never apply")),
            "{at:?}"
        );
        assert!(
            at.iter()
                .any(|(l, m)| *l == 14 && m.contains("no template named")),
            "{at:?}"
        );
        assert!(
            at.iter().any(|(l, m)| *l == 15 && m.contains("15m")),
            "{at:?}"
        );
        assert!(
            at.iter()
                .any(|(l, m)| *l == 16 && m.contains("cannot approve")),
            "{at:?}"
        );
        let msg = Matrix::parse(text).unwrap_err().to_string();
        assert!(msg.contains("14:12: no template named `sorry`"), "{msg}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("15m"), Some(SignedDuration::from_mins(15)));
        assert_eq!(
            parse_duration("1h 30m"),
            Some(SignedDuration::from_mins(90))
        );
        assert_eq!(parse_duration("1d"), Some(SignedDuration::from_hours(24)));
        assert_eq!(parse_duration("soon"), None);
        assert_eq!(parse_duration("15"), None);
        assert_eq!(format_duration(SignedDuration::from_mins(90)), "1h 30m");
    }

    fn analyse(text: &str, bio: Option<&str>) -> (Post, Analysis) {
        let analyser = analyse::Analyser::new().unwrap();
        let post = Post {
            network: Network::X,
            id: "1".into(),
            url: None,
            author: model::Author {
                id: "a".into(),
                handle: "pat".into(),
                display_name: Some("Pat".into()),
                bio: bio.map(Into::into),
                followers: Some(120),
                verified: false,
                url: None,
            },
            text: text.into(),
            title: None,
            lang: Some("en".into()),
            created_at: jiff::Timestamp::UNIX_EPOCH,
            edited_at: None,
            reply_to: None,
            thread_id: None,
            relation: None,
            counts: model::Counts::default(),
            hashtags: Vec::new(),
            mentions: Vec::new(),
            links: Vec::new(),
            media_count: 0,
            deleted: false,
            feedback: None,
            raw: String::new(),
        };
        let analysis = analyser.analyse(&post);
        (post, analysis)
    }

    #[test]
    fn default_matrix_routes_real_analyses() {
        let m = Matrix::default_matrix().unwrap();
        let route = |text: &str, bio: Option<&str>| {
            let (post, a) = analyse(text, bio);
            let rule = m
                .evaluate(&Subject::new(&post, &a, &[]))
                .map(|r| r.name.clone());
            (rule, a)
        };
        let (rule, a) = route(
            "Waited 9 hours in A&E at the General last night with my dad. Absolutely disgraceful, nobody told us anything.",
            None,
        );
        assert!(a.has_intent(IntentKind::Complaint), "{a:?}");
        assert_eq!(rule.as_deref(), Some("complaint"));

        let (rule, a) = route(
            "Huge thanks to the nurses on ward 7 who looked after my mum, you were all wonderful",
            None,
        );
        assert!(a.has_intent(IntentKind::Compliment), "{a:?}");
        assert_eq!(rule.as_deref(), Some("compliment"));

        let (rule, _) = route(
            "My NHS number is 943 476 5919, can someone at the hospital tell me when my appointment is?",
            None,
        );
        assert_eq!(rule.as_deref(), Some("personal-data"));
    }

    #[test]
    fn conditions_on_author_network_and_monitor() {
        let text = r#"[[rules]]
name = "press"
when = { journalist = true }
case = true
action = "escalate"
role = "approver"
respond_within = "1h"

[[rules]]
name = "big-mastodon"
when = { networks = ["mastodon"], min_followers = 1000, monitors = ["maternity"] }
case = false
action = "watch"
"#;
        let m = Matrix::parse(text).unwrap();
        let (mut post, a) = analyse(
            "Any comment on the maternity report?",
            Some("Health reporter at the Gazette"),
        );
        if a.journalist.is_some() {
            assert_eq!(
                m.evaluate(&Subject::new(&post, &a, &[])).unwrap().name,
                "press"
            );
        }
        let (_, mut a) = analyse("Any comment on the maternity report?", None);
        a.journalist = None;
        post.network = Network::Mastodon;
        post.author.followers = Some(5000);
        let monitors = vec!["maternity".to_owned()];
        assert_eq!(
            m.evaluate(&Subject::new(&post, &a, &monitors))
                .unwrap()
                .name,
            "big-mastodon"
        );
        assert!(m.evaluate(&Subject::new(&post, &a, &[])).is_none());
        post.author.followers = Some(10);
        assert!(m.evaluate(&Subject::new(&post, &a, &monitors)).is_none());
    }

    #[test]
    fn senders_and_approval() {
        let m = Matrix::default_matrix().unwrap();
        let complaint = m.rule("complaint").unwrap();
        assert!(complaint.may_send(Role::Squad));
        assert!(!complaint.needs_approval(Role::Squad));
        let clinical = m.rule("clinical-question").unwrap();
        assert!(clinical.needs_approval(Role::Officer));
        assert!(!clinical.needs_approval(Role::Approver));
        assert!(!m.may_make_clinical_statements(Role::Squad));
    }
}
