//! Hand-written intent rules: questions and requests for help, thanks and compliments, and the
//! careful phrase list for safety (self-harm, abuse, safeguarding, threats).
//!
//! Phrases are matched on the normalised text padded with spaces, so they match whole words
//! only (`kill myself` does not match `skill myself`). Each rule returns its probability and the
//! words that fired it.

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};

use crate::Error;
use crate::normalise::{Normalised, TokenKind};

/// Safety phrases with their category and probability.
const SAFETY: &[(&str, &str, f32)] = &[
    ("kill myself", "self-harm", 0.95),
    ("killing myself", "self-harm", 0.95),
    ("end my life", "self-harm", 0.95),
    ("end it all", "self-harm", 0.9),
    ("take my own life", "self-harm", 0.95),
    ("taking my own life", "self-harm", 0.95),
    ("want to die", "self-harm", 0.9),
    ("wanna die", "self-harm", 0.85),
    ("want to be dead", "self-harm", 0.9),
    ("better off dead", "self-harm", 0.9),
    ("no reason to live", "self-harm", 0.9),
    ("can't go on", "self-harm", 0.7),
    ("cannot go on", "self-harm", 0.7),
    ("i'm suicidal", "self-harm", 0.95),
    ("im suicidal", "self-harm", 0.95),
    ("feeling suicidal", "self-harm", 0.95),
    ("suicidal thoughts", "self-harm", 0.9),
    ("suicidal", "self-harm", 0.75),
    ("self harm", "self-harm", 0.8),
    ("self-harm", "self-harm", 0.8),
    ("self harming", "self-harm", 0.85),
    ("cut myself", "self-harm", 0.85),
    ("cutting myself", "self-harm", 0.85),
    ("hurt myself", "self-harm", 0.8),
    ("hurting myself", "self-harm", 0.8),
    ("overdose", "self-harm", 0.7),
    // Said in Care Opinion comments (phase1_co): "my intentions to harm myself/end my life",
    // "I attempted to take my own life", "tried to take my life".
    ("harm myself", "self-harm", 0.85),
    ("harming myself", "self-harm", 0.85),
    ("take my life", "self-harm", 0.9),
    ("suicide attempt", "self-harm", 0.85),
    ("attempted suicide", "self-harm", 0.85),
    ("overdosed", "self-harm", 0.8),
    ("domestic abuse", "abuse", 0.85),
    ("domestic violence", "abuse", 0.85),
    ("he hits me", "abuse", 0.95),
    ("she hits me", "abuse", 0.95),
    ("he beats me", "abuse", 0.95),
    ("hit me again", "abuse", 0.85),
    ("abusing me", "abuse", 0.9),
    ("abused me", "abuse", 0.85),
    ("being abused", "abuse", 0.9),
    ("raped", "abuse", 0.9),
    ("sexually assaulted", "abuse", 0.95),
    ("sexual assault", "abuse", 0.85),
    ("scared to go home", "abuse", 0.85),
    ("afraid to go home", "abuse", 0.85),
    ("not safe at home", "safeguarding", 0.9),
    ("child at risk", "safeguarding", 0.9),
    ("children at risk", "safeguarding", 0.85),
    ("safeguarding concern", "safeguarding", 0.9),
    ("safeguarding issue", "safeguarding", 0.85),
    ("being neglected", "safeguarding", 0.85),
    ("left alone for days", "safeguarding", 0.85),
    ("left in soiled", "safeguarding", 0.85),
    ("elder abuse", "safeguarding", 0.9),
    ("child abuse", "safeguarding", 0.85),
    ("grooming", "safeguarding", 0.6),
    ("missing person", "safeguarding", 0.7),
    ("i will kill", "threat", 0.95),
    ("i'll kill", "threat", 0.9),
    ("going to kill", "threat", 0.85),
    ("gonna kill", "threat", 0.8),
    ("i'll hurt", "threat", 0.85),
    ("i will hurt", "threat", 0.9),
    ("i know where you live", "threat", 0.95),
    ("watch your back", "threat", 0.85),
    ("burn it down", "threat", 0.85),
    ("burn the place down", "threat", 0.9),
    ("bomb threat", "threat", 0.95),
    ("plant a bomb", "threat", 0.95),
    ("shoot up", "threat", 0.85),
    ("you'll regret", "threat", 0.6),
    ("deserve to die", "threat", 0.85),
    ("should be shot", "threat", 0.85),
];

/// Phrases that defuse a safety phrase when found with it (awareness posts, fundraising).
const SAFETY_CONTEXT_DOWN: &[&str] = &[
    "awareness",
    "prevention",
    "campaign",
    "fundraising",
    "charity",
    "webinar",
    "training",
    "conference",
    "research",
    "podcast",
    "helpline",
    "samaritans",
    "world suicide",
];

/// Thanks and compliment phrases.
const THANKS: &[&str] = &[
    "thank you",
    "thanks",
    "thankyou",
    "thx",
    "grateful",
    "gratitude",
    "well done",
    "kudos",
    "shout out",
    "shoutout",
    "couldn't fault",
    "could not fault",
    "can't fault",
    "above and beyond",
    "amazing staff",
    "brilliant staff",
    "fantastic staff",
    "wonderful staff",
    "amazing care",
    "brilliant care",
    "excellent care",
    "fantastic care",
    "great care",
    "so kind",
    "lifesaver",
    "lifesavers",
    "saved my life",
    "heroes",
    "angels",
    "diolch",
    "credit to",
    "proud of",
    "appreciate",
    "appreciated",
    "nothing was too much trouble",
];

/// Sarcastic thanks.
const NOT_THANKS: &[&str] = &[
    "thanks for nothing",
    "thanks a lot for",
    "no thanks",
    "thanks but no",
    "no thank you",
];

/// Requests for help and questions without a question mark.
const REQUESTS: &[&str] = &[
    "can anyone",
    "can someone",
    "does anyone",
    "anyone know",
    "any advice",
    "please advise",
    "please help",
    "need help",
    "need advice",
    "who do i contact",
    "who should i contact",
    "how do i",
    "how can i",
    "where can i",
    "where do i",
    "is there a",
    "could you tell",
    "can you tell",
    "please can",
    "please could",
    "i'd like to know",
    "i would like to know",
    "looking for information",
    "wondering if",
    "dm me",
    "please dm",
    "please reply",
    "please get in touch",
    "please contact me",
];

/// Words that open a question.
const INTERROGATIVES: &[&str] = &[
    "how", "what", "where", "when", "why", "who", "which", "can", "could", "is", "are", "does",
    "do", "did", "will", "would", "should", "has", "have", "any", "anyone",
];

/// Whether the writer speaks of themselves just before a safety phrase found at `start` of the
/// padded text (`I`, `me`, `my`, `I'm` within the 48 bytes before it): such a post tells of the
/// writer's own state, and words such as "research" or "helpline" elsewhere in it do not make
/// it an awareness post.
fn first_person_before(padded: &str, start: usize) -> bool {
    let from = start.saturating_sub(48);
    let window = (from..=start)
        .find_map(|i| padded.get(i..start))
        .unwrap_or("");
    [" i ", " me ", " my ", " i'm ", " im ", " myself "]
        .iter()
        .any(|w| window.contains(w))
}

/// The output of one rule.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleHit {
    /// Probability in [0, 1].
    pub probability: f32,
    /// What fired it.
    pub reason: String,
}

/// The intent rules.
#[derive(Debug)]
pub struct Rules {
    /// One automaton over the padded phrases of every list, reporting all (overlapping)
    /// matches, so that a post is scanned once; `owners` maps a pattern back to its list.
    phrases: AhoCorasick,
    owners: Vec<(PhraseList, usize)>,
    /// The first word of every phrase of every list.
    first_words: Vec<&'static str>,
    safety_down: AhoCorasick,
}

/// The phrase lists merged into [`Rules`]' automaton.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PhraseList {
    Safety,
    Thanks,
    NotThanks,
    Requests,
}

/// A phrase found in padded text: byte start, byte end and its index in its own list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct PhraseMatch {
    start: usize,
    end: usize,
    index: usize,
}

/// The phrases of every list found in one padded text (all of them, overlapping).
#[derive(Debug, Default)]
pub struct PhraseHits {
    safety: Vec<PhraseMatch>,
    thanks: Vec<PhraseMatch>,
    not_thanks: bool,
    requests: Vec<PhraseMatch>,
}

/// The match a leftmost-longest search starting at `from` reports: the smallest start, then
/// the longest, then the first pattern of the list.
fn leftmost_longest(matches: &[PhraseMatch], from: usize) -> Option<PhraseMatch> {
    matches
        .iter()
        .filter(|m| m.start >= from)
        .min_by_key(|m| (m.start, std::cmp::Reverse(m.end), m.index))
        .copied()
}

/// The matches a leftmost-longest, non-overlapping iteration reports, in order.
fn leftmost_longest_iter(matches: &[PhraseMatch]) -> impl Iterator<Item = PhraseMatch> + '_ {
    let mut from = 0;
    std::iter::from_fn(move || {
        let m = leftmost_longest(matches, from)?;
        from = m.end;
        Some(m)
    })
}

impl Rules {
    /// Builds the phrase matchers.
    pub fn new() -> Result<Self, Error> {
        let lists: [(PhraseList, Vec<&'static str>); 4] = [
            (
                PhraseList::Safety,
                SAFETY.iter().map(|(p, _, _)| *p).collect(),
            ),
            (PhraseList::Thanks, THANKS.to_vec()),
            (PhraseList::NotThanks, NOT_THANKS.to_vec()),
            (PhraseList::Requests, REQUESTS.to_vec()),
        ];
        let mut owners = Vec::new();
        let mut patterns = Vec::new();
        let mut first_words = Vec::new();
        for (list, words) in &lists {
            for (index, w) in words.iter().enumerate() {
                owners.push((*list, index));
                patterns.push(format!(" {w} "));
                first_words.push(w.split(' ').next().unwrap_or_default());
            }
        }
        // Every pattern starts with a space, so a prefilter would stop at every word; the DFA
        // alone is faster.
        let phrases = AhoCorasick::builder()
            .match_kind(MatchKind::Standard)
            .kind(Some(AhoCorasickKind::DFA))
            .start_kind(StartKind::Both)
            .prefilter(false)
            .build(&patterns)
            .map_err(|e| Error::Data(format!("phrase list: {e}")))?;
        Ok(Rules {
            phrases,
            owners,
            first_words,
            safety_down: AhoCorasick::new(SAFETY_CONTEXT_DOWN)
                .map_err(|e| Error::Data(format!("phrase list: {e}")))?,
        })
    }

    /// The first word of every phrase of every list (for [`crate::lexicon::Lexicon::watch`]).
    pub fn first_words(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.first_words.iter().copied()
    }

    /// Finds the phrases of every list in `padded` in one scan.
    pub fn scan(&self, padded: &str) -> PhraseHits {
        let mut hits = PhraseHits::default();
        for m in self.phrases.find_overlapping_iter(padded) {
            self.record(&mut hits, m);
        }
        hits
    }

    /// [`Rules::scan`] when the phrases can only start at the offsets `starts` (the spaces
    /// before the tokens that are first words of a phrase, in order): an anchored overlapping
    /// search at each finds every phrase starting there (and those ending inside them, which
    /// are skipped), so the hits are the same (the rules read them in an order of their own).
    /// `None` when a search fails.
    pub fn scan_at(&self, padded: &str, starts: &[usize]) -> Option<PhraseHits> {
        let mut hits = PhraseHits::default();
        for &at in starts {
            let input = Input::new(padded).range(at..).anchored(Anchored::Yes);
            let mut state = aho_corasick::automaton::OverlappingState::start();
            loop {
                self.phrases
                    .try_find_overlapping(input.clone(), &mut state)
                    .ok()?;
                match state.get_match() {
                    // The shorter phrases ending inside one that starts here are reported too:
                    // they are found from their own start.
                    Some(m) if m.start() == at => self.record(&mut hits, m),
                    Some(_) => {}
                    None => break,
                }
            }
        }
        Some(hits)
    }

    /// Files one match of the merged automaton under its list.
    fn record(&self, hits: &mut PhraseHits, m: aho_corasick::Match) {
        let Some((list, index)) = self.owners.get(m.pattern().as_usize()).copied() else {
            return;
        };
        let found = PhraseMatch {
            start: m.start(),
            end: m.end(),
            index,
        };
        match list {
            PhraseList::Safety => hits.safety.push(found),
            PhraseList::Thanks => hits.thanks.push(found),
            PhraseList::NotThanks => hits.not_thanks = true,
            PhraseList::Requests => hits.requests.push(found),
        }
    }

    /// The safety rule: the strongest phrase found, and its category.
    pub fn safety(&self, padded: &str) -> Option<RuleHit> {
        self.safety_of(&self.scan(padded), padded)
    }

    /// [`Rules::safety`] from the phrases of one scan of `padded`.
    pub fn safety_of(&self, hits: &PhraseHits, padded: &str) -> Option<RuleHit> {
        let mut best: Option<(f32, &str, &str, usize)> = None;
        for m in leftmost_longest_iter(&hits.safety) {
            if let Some((phrase, category, p)) = SAFETY.get(m.index)
                && best.is_none_or(|(b, _, _, _)| *p > b)
            {
                best = Some((*p, phrase, category, m.start));
            }
        }
        let (mut p, phrase, category, start) = best?;
        let mut reason = format!("{category}: \"{phrase}\"");
        if let Some(m) = self.safety_down.find(padded)
            && !first_person_before(padded, start)
        {
            p *= 0.6;
            let context = SAFETY_CONTEXT_DOWN
                .get(m.pattern().as_usize())
                .unwrap_or(&"");
            reason.push_str(&format!(
                " (lowered: \"{context}\" suggests an awareness post)"
            ));
        }
        Some(RuleHit {
            probability: p,
            reason,
        })
    }

    /// The thanks and compliment rule.
    pub fn thanks(&self, padded: &str) -> Option<RuleHit> {
        self.thanks_of(&self.scan(padded))
    }

    /// [`Rules::thanks`] from the phrases of one scan.
    pub fn thanks_of(&self, hits: &PhraseHits) -> Option<RuleHit> {
        let m = leftmost_longest(&hits.thanks, 0)?;
        if hits.not_thanks {
            return None;
        }
        let phrase = THANKS.get(m.index).unwrap_or(&"");
        Some(RuleHit {
            probability: 0.85,
            reason: format!("\"{phrase}\""),
        })
    }

    /// The question and request-for-help rule.
    pub fn question(&self, norm: &Normalised, padded: &str) -> Option<RuleHit> {
        self.question_of(norm, &self.scan(padded))
    }

    /// [`Rules::question`] from the phrases of one scan.
    pub fn question_of(&self, norm: &Normalised, hits: &PhraseHits) -> Option<RuleHit> {
        let first = norm
            .tokens
            .iter()
            .find(|t| t.kind == TokenKind::Word)
            .map(|t| norm.text(t));
        let opens = first.is_some_and(|w| INTERROGATIVES.contains(&w));
        let request = leftmost_longest(&hits.requests, 0).and_then(|m| REQUESTS.get(m.index));
        match (norm.questions > 0, opens, request) {
            (true, _, Some(r)) => Some(RuleHit {
                probability: 0.95,
                reason: format!("\"{r}\" and a question mark"),
            }),
            (true, true, None) => Some(RuleHit {
                probability: 0.9,
                reason: format!(
                    "opens with \"{}\" and has a question mark",
                    first.unwrap_or("")
                ),
            }),
            (true, false, None) => Some(RuleHit {
                probability: 0.65,
                reason: "question mark".into(),
            }),
            (false, _, Some(r)) => Some(RuleHit {
                probability: 0.8,
                reason: format!("\"{r}\""),
            }),
            (false, true, None) if norm.tokens.len() >= 4 => Some(RuleHit {
                probability: 0.4,
                reason: format!("opens with \"{}\"", first.unwrap_or("")),
            }),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{Normaliser, Segmenter};

    fn norm(text: &str) -> (Normalised, String) {
        let n = Normaliser::new(Default::default(), Segmenter::new([])).normalise(text);
        let padded = n.padded.clone();
        (n, padded)
    }

    #[test]
    fn anchored_scan_at_watched_words_equals_the_full_scan() {
        let r = Rules::new().unwrap();
        let mut lex = crate::lexicon::Lexicon::new().unwrap();
        assert!(lex.watch(r.first_words()));
        let n = Normaliser::new(lex.emoticons(), Segmenter::new(lex.words()));
        let lists = [
            SAFETY.iter().map(|(p, _, _)| *p).collect::<Vec<_>>(),
            THANKS.to_vec(),
            NOT_THANKS.to_vec(),
            REQUESTS.to_vec(),
        ];
        let mut texts: Vec<String> = lists
            .iter()
            .flatten()
            .map(|p| format!("so {p} and {p}, thanks for nothing! can you help {p}?"))
            .collect();
        texts.extend(
            [
                "Thank you so much to the nurses, thank you thank you",
                "I want to end it all, can someone please help me",
                "@NHS thanks for nothing https://t.co/x #NHSHeroes",
                "sooo grateful THANK YOU :) 😀",
                "",
            ]
            .map(str::to_owned),
        );
        let key = |h: &PhraseHits| {
            let mut v = [h.safety.clone(), h.thanks.clone(), h.requests.clone()];
            for l in &mut v {
                l.sort_by_key(|m| (m.start, m.end, m.index));
            }
            (v, h.not_thanks)
        };
        for t in &texts {
            let norm = n.normalise(t);
            let score = lex.score(&norm);
            let at = r.scan_at(&norm.padded, &score.watched).unwrap();
            assert_eq!(key(&at), key(&r.scan(&norm.padded)), "{t}");
        }
    }

    #[test]
    fn safety_phrases_are_careful() {
        let r = Rules::new().unwrap();
        assert!(r.safety(&norm("I want to kill myself tonight").1).is_some());
        assert!(
            r.safety(&norm("My partner hits me again and again, he hits me").1)
                .is_some()
        );
        assert!(r.safety(&norm("This skill myself is great").1).is_none());
        assert!(r.safety(&norm("You're killing it, well done!").1).is_none());
        let aware = r.safety(&norm("Suicide prevention awareness week: self harm support").1);
        assert!(aware.unwrap().probability < 0.6);
        // The writer's own state, in a post that also mentions research (Care Opinion,
        // phase1_co row 480): not an awareness post.
        let own = r.safety(
            &norm("I did my own research. This situation caused me to become extremely suicidal").1,
        );
        assert!(own.unwrap().probability >= 0.7);
    }

    /// The one overlapping scan reports what a leftmost-longest automaton per list reports
    /// (matches and their order), on texts dense with phrases of every list.
    #[test]
    fn merged_scan_equals_one_leftmost_longest_automaton_per_list() {
        let r = Rules::new().unwrap();
        let own = |words: Vec<&str>| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(words.iter().map(|w| format!(" {w} ")))
                .unwrap()
        };
        let safety = own(SAFETY.iter().map(|(p, _, _)| *p).collect());
        let thanks = own(THANKS.to_vec());
        let not_thanks = own(NOT_THANKS.to_vec());
        let requests = own(REQUESTS.to_vec());
        let mut words: Vec<&str> = SAFETY.iter().map(|(p, _, _)| *p).collect();
        words.extend(THANKS);
        words.extend(NOT_THANKS);
        words.extend(REQUESTS);
        let mut texts = Vec::new();
        for (i, a) in words.iter().enumerate() {
            let b = words[(i * 7 + 3) % words.len()];
            let c = words[(i * 13 + 5) % words.len()];
            texts.push(format!(" {a} "));
            texts.push(format!(" {a} {b} {c} {a} "));
            texts.push(format!(" x {b} {a} my {c} "));
        }
        let spans = |m: aho_corasick::Match| (m.start(), m.end(), m.pattern().as_usize());
        for padded in &texts {
            let hits = r.scan(padded);
            let ours: Vec<_> = leftmost_longest_iter(&hits.safety)
                .map(|m| (m.start, m.end, m.index))
                .collect();
            let theirs: Vec<_> = safety.find_iter(padded.as_str()).map(spans).collect();
            assert_eq!(ours, theirs, "{padded}");
            let first =
                |v: &[PhraseMatch]| leftmost_longest(v, 0).map(|m| (m.start, m.end, m.index));
            assert_eq!(
                first(&hits.thanks),
                thanks.find(padded.as_str()).map(spans),
                "{padded}"
            );
            assert_eq!(
                first(&hits.requests),
                requests.find(padded.as_str()).map(spans),
                "{padded}"
            );
            assert_eq!(
                hits.not_thanks,
                not_thanks.is_match(padded.as_str()),
                "{padded}"
            );
        }
    }

    #[test]
    fn thanks_and_questions() {
        let r = Rules::new().unwrap();
        assert!(
            r.thanks(&norm("Thank you to the staff on ward 3").1)
                .is_some()
        );
        assert!(r.thanks(&norm("Thanks for nothing").1).is_none());
        let (n, p) = norm("How do I get a repeat prescription?");
        assert!(r.question(&n, &p).unwrap().probability > 0.9);
        let (n, p) = norm("The ward was clean");
        assert!(r.question(&n, &p).is_none());
    }
}
