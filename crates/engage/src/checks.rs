//! Checks run on a draft as it is typed and again before it is sent. Each finding says why, how
//! serious it is ([`Severity`]) and, where it helps, what to write instead.
//!
//! - **length** for the network: X counts 280 with each link as 23 (and wide characters as 2),
//!   Mastodon 500 with links as 23 and remote mentions as the local part, Bluesky 300 graphemes;
//! - **personal data** in the reply (an NHS number that passes Modulus 11, a phone number that is
//!   not one of the organisation's published lines, a date of birth): blocked;
//! - **tone mismatch**: apology or complaint words to a compliment, thanks to a complaint: warned;
//! - **robotic tone**: mostly stock phrases, "we apologise for any inconvenience", no name and no
//!   human sign-off: warned, with a suggestion;
//! - **clinical statement** or a statement about an individual patient's care from someone the
//!   matrix does not allow to make one: needs approval.
//!
//! The personal-data finder is the analysis engine's ([`analyse::pii::PiiFinder`]), so a reply is
//! held to the same definition as the posts Switchboard reads.

use analyse::pii::PiiFinder;
use model::{
    Network,
    analysis::{Analysis, IntentKind, PersonalDataKind},
};
use regex::Regex;
use serde::Serialize;
use unicode_normalization::UnicodeNormalization;
use unicode_segmentation::UnicodeSegmentation;

/// How serious a finding is, least first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// The sender should look again; they may still send.
    Warn,
    /// The draft must be approved before it goes out.
    NeedsApproval,
    /// The draft cannot be sent as it is.
    Block,
}

/// Which check found something.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckKind {
    /// Too long for the network.
    Length,
    /// Personal data in the reply.
    PersonalData,
    /// Apology to a compliment or thanks to a complaint: an approver decides.
    ToneMismatch,
    /// Stock phrases, no name, no human sign-off.
    RoboticTone,
    /// A clinical statement or one about an individual patient's care.
    Clinical,
}

/// One thing a check found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The check.
    pub check: CheckKind,
    /// How serious.
    pub severity: Severity,
    /// Why, in plain words.
    pub message: String,
    /// What to write instead, when there is advice.
    pub suggestion: Option<String>,
}

/// Everything the checks found in one draft.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The findings, in check order.
    pub findings: Vec<Finding>,
}

impl Verdict {
    /// The most serious finding's severity, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// Whether the draft cannot be sent.
    pub fn blocked(&self) -> bool {
        self.worst() == Some(Severity::Block)
    }

    /// Whether a check asks for approval.
    pub fn needs_approval(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == Severity::NeedsApproval)
    }

    /// Whether a given check found anything.
    pub fn has(&self, check: CheckKind) -> bool {
        self.findings.iter().any(|f| f.check == check)
    }
}

/// What the checks need to know besides the text.
#[derive(Debug, Clone, Copy)]
pub struct DraftContext<'a> {
    /// The network the reply goes to.
    pub network: Network,
    /// The analysis of the post replied to (`None` for a new post).
    pub replying_to: Option<&'a Analysis>,
    /// The name or handle of the person replied to, when known.
    pub recipient: Option<&'a str>,
    /// Whether the sender may make clinical statements without approval.
    pub clinical_allowed: bool,
    /// The organisation's published phone numbers, allowed in replies.
    pub phone_lines: &'a [String],
}

/// Stock phrases of corporate replies, lower case.
const STOCK_PHRASES: &[&str] = &[
    "we apologise for any inconvenience",
    "we apologize for any inconvenience",
    "apologise for any inconvenience caused",
    "sorry for any inconvenience",
    "for any inconvenience caused",
    "thank you for your feedback",
    "thank you for your comments",
    "thank you for bringing this to our attention",
    "thank you for getting in touch",
    "thank you for contacting us",
    "your feedback is important to us",
    "we value your feedback",
    "we take all feedback seriously",
    "we take all complaints seriously",
    "we take this very seriously",
    "we take patient safety very seriously",
    "please contact our pals team",
    "please contact pals",
    "please contact the patient advice and liaison service",
    "please dm us",
    "please direct message us",
    "we are sorry to hear",
    "we're sorry to hear",
    "we would like to apologise",
    "we are unable to comment on individual cases",
    "we strive to",
    "we are committed to",
    "in due course",
    "please be advised",
    "at this time",
];

/// The sender's [`Checker`]: compiled patterns, built once and shared.
#[derive(Debug)]
pub struct Checker {
    pii: PiiFinder,
    url: Regex,
    mention: Regex,
    apology: Regex,
    thanks: Regex,
    greeting: Regex,
    sign_off: Regex,
    clinical: Vec<(Regex, &'static str)>,
}

/// The checker could not be built (a pattern failed to compile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CheckerError {
    /// A pattern failed to compile.
    #[error("a draft check pattern failed to compile ({0}); this is a bug, please report it")]
    Pattern(String),
}

impl Checker {
    /// Compiles the patterns.
    pub fn new() -> Result<Checker, CheckerError> {
        let re = |p: &str| Regex::new(p).map_err(|e| CheckerError::Pattern(e.to_string()));
        let pii = PiiFinder::new().map_err(|e| CheckerError::Pattern(e.to_string()))?;
        let clinical = vec![
            (
                re(
                    r"(?i)\b(?:your|his|her|their|the patient'?s?|mum'?s|dad'?s)\s+(?:diagnosis|treatment|medication|medicines?|prescription|dose|operation|surgery|scan|x-ray|test results?|blood results?|results|care plan|condition|notes|records)\b",
                )?,
                "talks about an individual's diagnosis, treatment or records",
            ),
            (
                re(
                    r"(?i)\b(?:you|he|she|they)\s+(?:should|must|need to|can safely)\s+(?:take|stop|start|increase|reduce|continue)\b",
                )?,
                "gives medical advice",
            ),
            (
                re(r"(?i)\b\d+(?:\.\d+)?\s?(?:mg|ml|mcg|micrograms?)\b")?,
                "gives a dose",
            ),
            (
                re(
                    r"(?i)\b(?:we|i)\s+(?:have\s+|'ve\s+)?(?:reviewed|looked at|checked|read)\s+(?:your|his|her|their|the)\s+(?:notes|records|care|case|file|results)\b",
                )?,
                "says the records of an individual were looked at",
            ),
            (
                re(r"(?i)\b(?:the|this|your)\s+patient\s+(?:was|is|has|had|received|died)\b")?,
                "describes a patient's care",
            ),
            (
                re(
                    r"(?i)\b(?:is|isn't|is not|are|aren't)\s+(?:safe|dangerous|harmful)\s+(?:to take|in pregnancy|for children)\b|\bvaccines?\s+(?:is|are)\s+(?:safe|effective)\b|\bclinically\b",
                )?,
                "makes a clinical claim",
            ),
        ];
        Ok(Checker {
            pii,
            url: re(r"https?://[^\s]+")?,
            mention: re(r"@([A-Za-z0-9_]+)@[A-Za-z0-9.\-]+")?,
            apology: re(
                r"(?i)\b(?:sorry|apologi[sz]e|apologies|apology|regret|complaint|complain|unacceptable|inconvenience|pals)\b",
            )?,
            thanks: re(
                r"(?i)\b(?:thank you|thanks|glad|delighted|lovely to hear|great to hear|kind words|wonderful)\b",
            )?,
            greeting: re(r"(?i)\b(?:hi|hello|dear|hey|morning|afternoon|evening)\s+@?\p{L}+")?,
            sign_off: re(
                r"(?:[\^~]\s?\p{Lu}[\p{L}]*(?:[ ,][\p{L}\d ,]*)?|[-–—]\s?\p{Lu}\p{L}+(?:[ ,]+[\p{L}\d ]+)?|(?i:thanks|best wishes|kind regards|regards|take care|best),?\s+\p{Lu}\p{L}+(?:[ ,]+[\p{L}\d ]+)?)[.!]?\s*$",
            )?,
            clinical,
        })
    }

    /// Runs every check on a draft.
    pub fn check(&self, text: &str, ctx: &DraftContext<'_>) -> Verdict {
        let mut findings = Vec::new();
        if let Some(f) = self.length(text, ctx.network) {
            findings.push(f);
        }
        findings.extend(self.personal_data(text, ctx.phone_lines));
        findings.extend(self.tone_mismatch(text, ctx.replying_to));
        findings.extend(self.robotic(text, ctx.recipient));
        if !ctx.clinical_allowed {
            findings.extend(self.clinical(text));
        }
        Verdict { findings }
    }

    /// The length of the text as the network counts it, and the network's limit (`None` when
    /// the network has none Switchboard knows).
    pub fn measure(&self, text: &str, network: Network) -> (usize, Option<usize>) {
        let text: String = text.nfc().collect();
        match network {
            Network::X => {
                let links = self.url.find_iter(&text).count();
                let rest = self.url.replace_all(&text, "");
                (
                    links * 23 + rest.chars().map(x_weight).sum::<usize>(),
                    Some(280),
                )
            }
            Network::Mastodon => {
                let links = self.url.find_iter(&text).count();
                let rest = self.url.replace_all(&text, "");
                let rest = self.mention.replace_all(&rest, "@$1");
                (links * 23 + rest.chars().count(), Some(500))
            }
            Network::Bluesky => (text.graphemes(true).count(), Some(300)),
            Network::Facebook => (text.chars().count(), Some(8000)),
            Network::News | Network::Feedback => (text.chars().count(), None),
        }
    }

    fn length(&self, text: &str, network: Network) -> Option<Finding> {
        let (count, limit) = self.measure(text, network);
        let limit = limit?;
        (count > limit).then(|| Finding {
            check: CheckKind::Length,
            severity: Severity::Block,
            message: format!(
                "{count} characters as {} counts them, over its limit of {limit} by {}",
                network.label(),
                count - limit
            ),
            suggestion: Some("Shorten the reply, or move the detail to a direct message.".into()),
        })
    }

    fn personal_data(&self, text: &str, phone_lines: &[String]) -> Vec<Finding> {
        let digits = |s: &str| s.chars().filter(char::is_ascii_digit).collect::<String>();
        let allowed: Vec<String> = phone_lines.iter().map(|p| digits(p)).collect();
        self.pii
            .find(text)
            .into_iter()
            .filter_map(|p| {
                let found = text.get(p.start..p.end).unwrap_or_default();
                let (severity, what) = match p.kind {
                    PersonalDataKind::NhsNumber => (Severity::Block, "an NHS number"),
                    PersonalDataKind::DateOfBirth => (Severity::Block, "a date of birth"),
                    PersonalDataKind::Phone => {
                        let d = digits(found);
                        let d = d.strip_prefix("44").map_or(d.clone(), |r| format!("0{r}"));
                        if allowed.contains(&d) {
                            return None;
                        }
                        (
                            Severity::Block,
                            "a phone number that is not one of our published lines",
                        )
                    }
                    PersonalDataKind::Email => (Severity::Warn, "an email address"),
                    PersonalDataKind::Postcode => (Severity::Warn, "a postcode"),
                };
                Some(Finding {
                    check: CheckKind::PersonalData,
                    severity,
                    message: format!(
                        "the reply contains {what} ({}): {}",
                        p.kind.as_str(),
                        p.reason
                    ),
                    suggestion: Some(
                        "Never put a patient's details in a public reply: ask them to send a \
                         direct message or to call a published line."
                            .into(),
                    ),
                })
            })
            .collect()
    }

    fn tone_mismatch(&self, text: &str, replying_to: Option<&Analysis>) -> Option<Finding> {
        let a = replying_to?;
        let complaint = a.has_intent(IntentKind::Complaint);
        let compliment = a.has_intent(IntentKind::Compliment);
        if compliment && !complaint {
            if let Some(m) = self.apology.find(text) {
                return Some(Finding {
                    check: CheckKind::ToneMismatch,
                    severity: Severity::NeedsApproval,
                    message: format!(
                        "the post is a compliment but the reply says \"{}\", which reads as an \
                         apology or a complaint",
                        m.as_str()
                    ),
                    suggestion: Some("Thank them and pass the praise on to the team.".into()),
                });
            }
        } else if complaint
            && !self.apology.is_match(text)
            && let Some(m) = self.thanks.find(text)
        {
            return Some(Finding {
                check: CheckKind::ToneMismatch,
                severity: Severity::NeedsApproval,
                message: format!(
                    "the post is a complaint but the reply says \"{}\" without acknowledging the \
                     problem",
                    m.as_str()
                ),
                suggestion: Some(
                    "Say sorry for what went wrong, plainly, before anything else.".into(),
                ),
            });
        }
        None
    }

    fn robotic(&self, text: &str, recipient: Option<&str>) -> Option<Finding> {
        let lower = text.to_lowercase();
        let words = lower.split_whitespace().count().max(1);
        let mut covered = 0;
        let mut found: Vec<&str> = Vec::new();
        for phrase in STOCK_PHRASES {
            let n = lower.matches(phrase).count();
            if n > 0
                && !found
                    .iter()
                    .any(|f| f.contains(phrase) || phrase.contains(f))
            {
                covered += n * phrase.split_whitespace().count();
                found.push(phrase);
            }
        }
        let share = covered as f32 / words as f32;
        let inconvenience = lower.contains("any inconvenience");
        let named = match recipient.map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => {
                let r = r.trim_start_matches('@').to_lowercase();
                let first = r.split_whitespace().next().unwrap_or_default().to_owned();
                lower.contains(&first)
            }
            None => self.greeting.is_match(text),
        };
        let signed = self.sign_off.is_match(text.trim_end());
        let mut reasons = Vec::new();
        if inconvenience {
            reasons.push("\"apologise for any inconvenience\" reads as a form letter".to_owned());
        }
        if share >= 0.5 {
            reasons.push(format!(
                "{:.0}% of the words are stock phrases ({})",
                share * 100.0,
                found.join("; ")
            ));
        }
        if !named && !signed {
            reasons.push("it neither uses the person's name nor ends with a human sign-off".into());
        }
        (!reasons.is_empty()).then(|| Finding {
            check: CheckKind::RoboticTone,
            severity: Severity::Warn,
            message: format!("the reply sounds robotic: {}", reasons.join("; ")),
            suggestion: Some(
                "Write as a person: use their name, say sorry (or thanks) in your own words, and \
                 sign off with your first name, e.g. \"^Sam\"."
                    .into(),
            ),
        })
    }

    fn clinical(&self, text: &str) -> Vec<Finding> {
        self.clinical
            .iter()
            .filter_map(|(re, what)| {
                re.find(text).map(|m| Finding {
                    check: CheckKind::Clinical,
                    severity: Severity::NeedsApproval,
                    message: format!(
                        "\"{}\" {what}: only the roles the matrix allows may say this without \
                         approval",
                        m.as_str()
                    ),
                    suggestion: Some(
                        "Send it for approval, or keep the reply general and move the detail to \
                         a private conversation."
                            .into(),
                    ),
                })
            })
            .take(1)
            .collect()
    }
}

/// X's weight of a character (twitter-text v3): 1 for Latin and common punctuation ranges, 2
/// for the rest (CJK, emoji).
fn x_weight(c: char) -> usize {
    let u = c as u32;
    if u <= 0x10FF
        || (0x2000..=0x200D).contains(&u)
        || (0x2010..=0x201F).contains(&u)
        || (0x2032..=0x2037).contains(&u)
    {
        1
    } else {
        2
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analysis(text: &str) -> Analysis {
        analyse::Analyser::new().unwrap().analyse_text(text)
    }

    fn ctx<'a>(
        network: Network,
        to: Option<&'a Analysis>,
        lines: &'a [String],
    ) -> DraftContext<'a> {
        DraftContext {
            network,
            replying_to: to,
            recipient: Some("Pat"),
            clinical_allowed: false,
            phone_lines: lines,
        }
    }

    const GOOD: &str = "Hi Pat, I'm so sorry you waited that long. Could you call us on 01632 960000 so we can look into it? ^Sam";

    #[test]
    fn a_human_reply_passes() {
        let c = Checker::new().unwrap();
        let lines = vec!["01632 960000".to_owned()];
        let a = analysis(
            "Waited 9 hours in A&E last night. Absolutely disgraceful, nobody told us anything.",
        );
        let v = c.check(GOOD, &ctx(Network::X, Some(&a), &lines));
        assert!(v.findings.is_empty(), "{v:?}");
    }

    #[test]
    fn length_per_network() {
        let c = Checker::new().unwrap();
        let link = "https://example.org/a/very/long/path/that/is/much/longer/than/twenty-three/characters/for/sure";
        let text = format!("{} {link}", "a".repeat(256));
        assert_eq!(c.measure(&text, Network::X).0, 257 + 23);
        assert!(
            !c.check(&text, &ctx(Network::X, None, &[]))
                .has(CheckKind::Length)
        );
        let over = format!("{} {link}", "a".repeat(257));
        let v = c.check(&over, &ctx(Network::X, None, &[]));
        assert!(v.has(CheckKind::Length) && v.blocked(), "{v:?}");
        assert_eq!(c.measure("日本", Network::X).0, 4);

        let family = "👨‍👩‍👧".repeat(300);
        assert_eq!(c.measure(&family, Network::Bluesky).0, 300);
        assert!(
            !c.check(&family, &ctx(Network::Bluesky, None, &[]))
                .has(CheckKind::Length)
        );
        let v = c.check(&format!("{family}!"), &ctx(Network::Bluesky, None, &[]));
        assert!(v.has(CheckKind::Length));

        let toot = format!("{} @sam@nhs.social", "b".repeat(495));
        assert_eq!(c.measure(&toot, Network::Mastodon).0, 500);
        let v = c.check(&format!("{toot}!"), &ctx(Network::Mastodon, None, &[]));
        assert!(v.has(CheckKind::Length));
    }

    #[test]
    fn personal_data_is_blocked_but_our_lines_are_allowed() {
        let c = Checker::new().unwrap();
        let lines = vec!["01632 960000".to_owned()];
        for text in [
            "Hi Pat, your NHS number 943 476 5919 is on file. ^Sam",
            "Hi Pat, we'll ring you on 07700 900123 today. ^Sam",
            "Hi Pat, I see your DOB: 12/03/1984 on the letter. ^Sam",
        ] {
            let v = c.check(text, &ctx(Network::X, None, &lines));
            assert!(
                v.blocked() && v.has(CheckKind::PersonalData),
                "{text}: {v:?}"
            );
        }
        let v = c.check(GOOD, &ctx(Network::X, None, &lines));
        assert!(!v.has(CheckKind::PersonalData), "{v:?}");
        let v = c.check(
            "Hi Pat, number 943 476 5918 is not valid. ^Sam",
            &ctx(Network::X, None, &lines),
        );
        assert!(!v.has(CheckKind::PersonalData), "{v:?}");
    }

    #[test]
    fn apology_to_compliment_and_thanks_to_complaint_need_approval() {
        let c = Checker::new().unwrap();
        let compliment = analysis(
            "Huge thanks to the nurses on ward 7 who looked after my mum, you were all wonderful",
        );
        assert!(compliment.has_intent(IntentKind::Compliment));
        let v = c.check(
            "Hi Pat, we're so sorry about your experience. ^Sam",
            &ctx(Network::X, Some(&compliment), &[]),
        );
        assert!(v.has(CheckKind::ToneMismatch), "{v:?}");
        let v = c.check(
            "Thank you Pat, I'll pass this on to ward 7. ^Sam",
            &ctx(Network::X, Some(&compliment), &[]),
        );
        assert!(!v.has(CheckKind::ToneMismatch), "{v:?}");

        let complaint = analysis(
            "Waited 9 hours in A&E last night. Absolutely disgraceful, nobody told us anything.",
        );
        assert!(complaint.has_intent(IntentKind::Complaint));
        let v = c.check(
            "Thanks for the shout out Pat! ^Sam",
            &ctx(Network::X, Some(&complaint), &[]),
        );
        assert!(v.has(CheckKind::ToneMismatch), "{v:?}");
        assert_eq!(v.worst(), Some(Severity::NeedsApproval));
        let v = c.check(GOOD, &ctx(Network::X, Some(&complaint), &[]));
        assert!(!v.has(CheckKind::ToneMismatch));
    }

    #[test]
    fn robotic_tone_is_warned_with_a_suggestion() {
        let c = Checker::new().unwrap();
        let text = "Thank you for your feedback. We apologise for any inconvenience caused. Please contact our PALS team.";
        let mut context = ctx(Network::X, None, &[]);
        context.recipient = None;
        let v = c.check(text, &context);
        let f = v
            .findings
            .iter()
            .find(|f| f.check == CheckKind::RoboticTone)
            .unwrap();
        assert!(
            f.message.contains("inconvenience") && f.message.contains("stock phrases"),
            "{f:?}"
        );
        assert!(f.message.contains("sign-off"));
        assert!(f.suggestion.as_deref().unwrap().contains("^Sam"));
        assert!(!c.check(GOOD, &context).has(CheckKind::RoboticTone));
        let v = c.check(
            "Sorry to hear that, call us on 01632 960000 - Sam, ward 7",
            &context,
        );
        assert!(!v.has(CheckKind::RoboticTone), "{v:?}");
    }

    #[test]
    fn clinical_statements_need_approval_unless_allowed() {
        let c = Checker::new().unwrap();
        let text = "Hi Pat, we've reviewed your notes and your treatment was correct. ^Sam";
        let v = c.check(text, &ctx(Network::X, None, &[]));
        assert!(v.needs_approval() && v.has(CheckKind::Clinical), "{v:?}");
        let mut allowed = ctx(Network::X, None, &[]);
        allowed.clinical_allowed = true;
        assert!(!c.check(text, &allowed).has(CheckKind::Clinical));
        let v = c.check(
            "Hi Pat, you should stop taking 20mg of it. ^Sam",
            &ctx(Network::X, None, &[]),
        );
        assert!(v.needs_approval());
        assert!(!c.check(GOOD, &ctx(Network::X, None, &[])).needs_approval());
    }
}
