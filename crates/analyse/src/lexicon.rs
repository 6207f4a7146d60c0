//! Lexicon sentiment with valence shifters, in the manner of VADER (Hutto & Gilbert, ICWSM 2014).
//!
//! The word list is the VADER lexicon (MIT licence, see `data/README.md`), used as data; the rules
//! are written here: boosters and dampeners (`very`, `slightly`), negation in the three words
//! before (`not`, `never`, `no one`, `n't`), contrast (`but`: the part before counts half, the
//! part after one and a half), capitals among lower-case words, elongation, `!` and `?`
//! emphasis, emoji through their names, and the normalised compound score `s / sqrt(s² + 15)`.
//! On top of that sits a lexicon of healthcare complaint and praise words and phrases
//! (`data/nhs_lexicon.tsv`) and a rule for waits (`waited 9 hours`).

use crate::features::{FxHashMap as HashMap, FxHashSet as HashSet};

use aho_corasick::{AhoCorasick, AhoCorasickKind, Anchored, Input, MatchKind, StartKind};
use regex::Regex;

use crate::normalise::{Normalised, Token, TokenKind};

const VADER_LEXICON: &str = include_str!("../data/vader_lexicon.tsv");
const VADER_EMOJI: &str = include_str!("../data/vader_emoji.tsv");
const NHS_LEXICON: &str = include_str!("../data/nhs_lexicon.tsv");

const BOOST: f32 = 0.293;
const CAPS_BOOST: f32 = 0.733;
const NEGATION: f32 = -0.74;

/// Words that raise the intensity of the next sentiment word.
const BOOSTERS_UP: &[&str] = &[
    "absolutely",
    "amazingly",
    "awfully",
    "completely",
    "considerably",
    "decidedly",
    "deeply",
    "enormously",
    "entirely",
    "especially",
    "exceptionally",
    "extremely",
    "fabulously",
    "fully",
    "greatly",
    "highly",
    "hugely",
    "incredibly",
    "intensely",
    "majorly",
    "more",
    "most",
    "particularly",
    "purely",
    "quite",
    "really",
    "remarkably",
    "so",
    "substantially",
    "thoroughly",
    "totally",
    "tremendously",
    "unbelievably",
    "unusually",
    "utterly",
    "very",
    "truly",
    "seriously",
    "bloody",
    "fucking",
    "effing",
    "flipping",
    "super",
    "proper",
];

/// Words that lower the intensity of the next sentiment word.
const BOOSTERS_DOWN: &[&str] = &[
    "almost",
    "barely",
    "hardly",
    "kinda",
    "less",
    "little",
    "marginally",
    "occasionally",
    "partly",
    "scarcely",
    "slightly",
    "somewhat",
    "sorta",
    "fairly",
    "bit",
];

/// Words that negate what follows them.
const NEGATORS: &[&str] = &[
    "not", "no", "never", "none", "nobody", "nothing", "nowhere", "neither", "nor", "without",
    "cannot", "cant", "dont", "doesnt", "didnt", "wont", "wouldnt", "shouldnt", "couldnt", "isnt",
    "arent", "wasnt", "werent", "hasnt", "havent", "hadnt", "aint", "rarely", "seldom",
];

/// Collapses every run of a repeated letter to one (`soo` → `so`).
fn squeeze(word: &str) -> String {
    let mut single = String::with_capacity(word.len());
    for c in word.chars() {
        if !single.ends_with(c) {
            single.push(c);
        }
    }
    single
}

/// The lexicon score of a text, with the evidence.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LexiconScore {
    /// Normalised compound score in [-1, 1].
    pub compound: f32,
    /// Share of positive sentiment.
    pub pos: f32,
    /// Share of negative sentiment.
    pub neg: f32,
    /// Share of neutral words.
    pub neu: f32,
    /// The raw sum before normalisation.
    pub sum: f32,
    /// The strongest contributions, as `word (+1.9)`.
    pub evidence: Vec<(String, f32)>,
    /// A healthcare complaint word or phrase was found.
    pub complaint_terms: Vec<String>,
    /// With [`Lexicon::watch`]: the byte offsets in [`Normalised::padded`] of the spaces
    /// before the tokens that are first words of a watched phrase, in order.
    pub watched: Vec<usize>,
}

/// Where a contribution to the score came from (turned into text for the top few only).
#[derive(Debug, Clone, Copy)]
enum Evidence {
    Token(usize),
    Phrase(usize),
    Wait,
}

/// The tokens a score is computed over: token, text, valence, shifter bits.
type ScoredTokens<'a> = Vec<(&'a Token, &'a str, Option<f32>, u8)>;

/// The lexicon scorer.
#[derive(Debug)]
pub struct Lexicon {
    words: HashMap<String, f32>,
    emoji: HashMap<char, Vec<String>>,
    phrases: AhoCorasick,
    phrase_values: Vec<(String, f32, bool)>,
    /// The first words of the phrases (a phrase can only start at the space before a token
    /// that is one of them), and of the phrases of [`Lexicon::watch`], with their bits
    /// ([`PHRASE`], [`WATCHED`]).
    phrase_starts: HashMap<String, u8>,
    /// Whether [`LexiconScore::watched`] is filled.
    watching: bool,
    /// Whether every phrase starts with a word no URL, mention or punctuation token can be,
    /// so that the phrases are searched only before the tokens of `phrase_starts`.
    anchored_phrases: bool,
    wait: Regex,
    shifters: HashMap<&'static str, u8>,
    /// Every word of `words` and `shifters` with its valence and shifter bits: one look-up per
    /// plain token.
    entries: HashMap<String, (Option<f32>, u8)>,
}

/// A booster: raises the next sentiment word.
const UP: u8 = 1;
/// A dampener: lowers the next sentiment word.
const DOWN: u8 = 2;
/// A negator.
const NEGATOR: u8 = 4;
/// Not a shifter: the word is the first word of a phrase.
const PHRASE: u8 = 8;
/// Not a shifter: the word is the first word of a phrase of [`Lexicon::watch`].
const WATCHED: u8 = 16;

/// Whether every phrase starting with one of `words` can only start before a token looked up
/// in `entries` or in the phrase starts: no word is empty, a URL, a mention or punctuation.
fn can_anchor<'a>(mut words: impl Iterator<Item = &'a str>) -> bool {
    words.all(|w| {
        !w.is_empty()
            && w != "<url>"
            && w != "@user"
            && !w.starts_with(['!', '?', '.', ',', ';', ':'])
    })
}

fn parse_tsv(text: &str) -> impl Iterator<Item = (&str, &str)> {
    text.lines().filter_map(|line| {
        let line = line.trim_end_matches('\r');
        if line.starts_with("# ") || line.is_empty() {
            return None;
        }
        line.split_once('\t')
    })
}

impl Lexicon {
    /// Loads the embedded lexicons.
    pub fn new() -> Result<Self, crate::Error> {
        let mut words = HashMap::with_capacity_and_hasher(8000, Default::default());
        for (word, value) in parse_tsv(VADER_LEXICON) {
            if let Ok(v) = value.trim().parse::<f32>() {
                words.insert(word.to_owned(), v);
            }
        }
        let mut phrase_values = Vec::new();
        for (term, rest) in parse_tsv(NHS_LEXICON) {
            let mut cols = rest.split('\t');
            let value = cols.next().and_then(|v| v.trim().parse::<f32>().ok());
            let complaint = cols.next().is_some_and(|c| c.trim() == "complaint");
            let Some(value) = value else { continue };
            if term.contains(' ') {
                phrase_values.push((term.to_owned(), value, complaint));
            } else {
                words.insert(term.to_owned(), value);
                if complaint {
                    phrase_values.push((term.to_owned(), 0.0, true));
                }
            }
        }
        let mut emoji = HashMap::default();
        for (e, name) in parse_tsv(VADER_EMOJI) {
            let mut chars = e.chars().filter(|c| !matches!(*c as u32, 0xFE0F | 0x200D));
            if let (Some(c), None) = (chars.next(), chars.next()) {
                let name_words = name.split_whitespace().map(str::to_owned).collect();
                emoji.insert(c, name_words);
            }
        }
        let patterns: Vec<String> = phrase_values
            .iter()
            .map(|(p, _, _)| format!(" {p} "))
            .collect();
        let phrases = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .kind(Some(AhoCorasickKind::DFA))
            .start_kind(StartKind::Both)
            .prefilter(false)
            .build(&patterns)
            .map_err(|e| crate::Error::Data(format!("phrase list: {e}")))?;
        let wait = Regex::new(
            r"\b(?:wait(?:ed|ing)?|sat|sitting|been here|queued?|queuing|on hold)(?: for)?(?: over| nearly| almost| about| around| more than)? (\d+|two|three|four|five|six|seven|eight|nine|ten|twelve) (hours?|hrs?|days?|weeks?|months?)\b",
        )
        .map_err(|e| crate::Error::Data(format!("wait rule: {e}")))?;
        let mut shifters: HashMap<&'static str, u8> = HashMap::default();
        for (list, bit) in [
            (BOOSTERS_UP, UP),
            (BOOSTERS_DOWN, DOWN),
            (NEGATORS, NEGATOR),
        ] {
            for w in list {
                *shifters.entry(*w).or_insert(0) |= bit;
            }
        }
        let mut entries: HashMap<String, (Option<f32>, u8)> =
            HashMap::with_capacity_and_hasher(words.len() + shifters.len(), Default::default());
        for (w, v) in &words {
            entries.entry(w.clone()).or_insert((None, 0)).0 = Some(*v);
        }
        for (w, bits) in &shifters {
            entries.entry((*w).to_owned()).or_insert((None, 0)).1 = *bits;
        }
        let mut phrase_starts: HashMap<String, u8> = HashMap::default();
        for (p, _, _) in &phrase_values {
            let first = p.split(' ').next().unwrap_or_default();
            phrase_starts.insert(first.to_owned(), PHRASE);
            entries.entry(first.to_owned()).or_insert((None, 0)).1 |= PHRASE;
        }
        let anchored_phrases = can_anchor(phrase_starts.keys().map(String::as_str));
        Ok(Lexicon {
            words,
            emoji,
            phrases,
            phrase_values,
            phrase_starts,
            watching: false,
            anchored_phrases,
            wait,
            shifters,
            entries,
        })
    }

    /// The emoticons the lexicon knows (for the normaliser).
    pub fn emoticons(&self) -> HashSet<String> {
        self.words
            .keys()
            .filter(|w| !w.chars().any(char::is_alphabetic) || w.starts_with(':'))
            .filter(|w| w.len() >= 2)
            .cloned()
            .collect()
    }

    /// The words of the lexicon (for hashtag segmentation).
    pub fn words(&self) -> impl Iterator<Item = &str> {
        self.words.keys().map(String::as_str)
    }

    /// The valence of one word, trying the shortened form of an elongated word.
    pub fn valence(&self, word: &str) -> Option<f32> {
        if let Some(v) = self.words.get(word) {
            return Some(*v);
        }
        if let Some(stripped) = word.strip_suffix("'s") {
            return self.words.get(stripped).copied();
        }
        None
    }

    fn token_valence(&self, token: &Token, text: &str) -> Option<f32> {
        match token.kind {
            TokenKind::Word | TokenKind::HashtagWord | TokenKind::Emoticon => {
                let v = self.valence(text);
                if v.is_none() && token.elongated {
                    return self.valence(&squeeze(text));
                }
                v
            }
            TokenKind::Emoji => {
                let c = text.chars().next()?;
                let names = self.emoji.get(&c)?;
                let mut total = 0.0;
                let mut found = false;
                for name in names {
                    if let Some(v) = self.words.get(name) {
                        total += v;
                        found = true;
                    }
                }
                found.then_some(total)
            }
            _ => None,
        }
    }

    /// A token's valence and its shifter bits ([`UP`], [`DOWN`], [`NEGATOR`]), one table
    /// look-up each.
    fn token_info(&self, token: &Token, text: &str) -> (Option<f32>, u8) {
        if matches!(token.kind, TokenKind::Punct) {
            return (None, 0);
        }
        if !token.elongated
            && matches!(
                token.kind,
                TokenKind::Word | TokenKind::HashtagWord | TokenKind::Emoticon
            )
        {
            let (valence, shift) = self.entries.get(text).copied().unwrap_or((None, 0));
            let valence = valence.or_else(|| {
                text.strip_suffix("'s")
                    .and_then(|stripped| self.words.get(stripped).copied())
            });
            return (valence, shift);
        }
        let shift = if token.elongated {
            self.shifters
                .get(squeeze(text).as_str())
                .copied()
                .unwrap_or(0)
        } else {
            self.shifters.get(text).copied().unwrap_or(0)
        };
        (self.token_valence(token, text), shift)
    }

    /// Watches the phrases of another list (padded with spaces and matched on
    /// [`Normalised::padded`], as the lexicon's own), of which `first_words` are the first
    /// words: [`Lexicon::score`] then lists in [`LexiconScore::watched`] the only places where
    /// one of them can start. Returns whether it watches them (not when a word could be a
    /// URL, a mention or punctuation, whose tokens are not looked up).
    pub fn watch<'a>(&mut self, first_words: impl IntoIterator<Item = &'a str>) -> bool {
        let words: Vec<&str> = first_words.into_iter().collect();
        if !can_anchor(words.iter().copied()) {
            return false;
        }
        for w in words {
            *self.phrase_starts.entry(w.to_owned()).or_insert(0) |= WATCHED;
            self.entries.entry(w.to_owned()).or_insert((None, 0)).1 |= WATCHED;
        }
        self.watching = true;
        true
    }

    /// Whether [`LexiconScore::watched`] is filled (see [`Lexicon::watch`]).
    pub fn watching(&self) -> bool {
        self.watching
    }

    /// Whether [`Lexicon::token_info`] looks the token's own text up in `entries` (so that
    /// its bits include [`PHRASE`]).
    fn looked_up_whole(token: &Token) -> bool {
        !token.elongated
            && matches!(
                token.kind,
                TokenKind::Word | TokenKind::HashtagWord | TokenKind::Emoticon
            )
    }

    /// The phrases a leftmost-longest scan of `padded` finds (their pattern numbers, in
    /// order), from anchored searches at the space before each token that may start one:
    /// every phrase starts with a space and a whole token, so a match can start nowhere else,
    /// and the leftmost candidate with a match gives the leftmost-longest one. `None` when
    /// that does not hold for the phrase list or a search fails: then scan the whole text.
    fn anchored_phrase_matches(
        &self,
        norm: &Normalised,
        toks: &[(&Token, &str, Option<f32>, u8)],
    ) -> Option<Vec<usize>> {
        if !self.anchored_phrases {
            return None;
        }
        let mut matches = Vec::new();
        let mut from = 0usize;
        for (tok, _, _, shift) in toks {
            let Some(at) = tok.start().checked_sub(1) else {
                continue;
            };
            if shift & PHRASE == 0 || at < from {
                continue;
            }
            let input = Input::new(&norm.padded).range(at..).anchored(Anchored::Yes);
            if let Some(m) = self.phrases.try_find(input).ok()? {
                matches.push(m.pattern().as_usize());
                from = m.end();
            }
        }
        Some(matches)
    }

    /// Each scored token (not URLs or mentions) with its text, valence and shifter bits
    /// ([`PHRASE`] too), in one vector sized up front.
    fn scored_tokens<'a>(&self, norm: &'a Normalised) -> ScoredTokens<'a> {
        let mut toks: ScoredTokens<'a> = Vec::with_capacity(norm.tokens.len());
        toks.extend(
            norm.tokens
                .iter()
                .filter(|t| t.kind != TokenKind::Url && t.kind != TokenKind::Mention)
                .map(|t| {
                    let text = norm.text(t);
                    let (valence, mut shift) = self.token_info(t, text);
                    if !Self::looked_up_whole(t) && t.kind != TokenKind::Punct {
                        shift |= self.phrase_starts.get(text).copied().unwrap_or(0);
                    }
                    (t, text, valence, shift)
                }),
        );
        toks
    }

    /// Scores a normalised text.
    pub fn score(&self, norm: &Normalised) -> LexiconScore {
        let toks = self.scored_tokens(norm);
        let mut watched = Vec::new();
        if self.watching {
            watched.extend(
                toks.iter()
                    .filter(|t| t.3 & WATCHED != 0)
                    .filter_map(|t| t.0.start().checked_sub(1)),
            );
        }
        let mut values: Vec<f32> = Vec::with_capacity(toks.len() + 4);
        values.resize(toks.len(), 0.0);
        let mut evidence: Vec<(Evidence, f32)> = Vec::with_capacity(toks.len() + 2);
        let mut but_at: Option<usize> = None;
        let shift_of = |j: usize| toks.get(j).map_or(0, |x| x.3);
        for (i, &(tok, text, valence, shift)) in toks.iter().enumerate() {
            if tok.kind == TokenKind::Punct {
                continue;
            }
            if text == "but" && tok.kind == TokenKind::Word {
                but_at = Some(i);
            }
            if shift & (UP | DOWN) != 0 {
                continue;
            }
            let Some(mut v) = valence else {
                continue;
            };
            if text == "kind" && toks.get(i + 1).is_some_and(|t| t.1 == "of") {
                continue;
            }
            if text == "no" && toks.get(i + 1).is_some_and(|x| x.2.is_some()) {
                continue;
            }
            if tok.caps && norm.mixed_case {
                v += if v > 0.0 { CAPS_BOOST } else { -CAPS_BOOST };
            }
            if tok.elongated {
                v += if v > 0.0 { BOOST } else { -BOOST };
            }
            let mut negated = false;
            for back in 1..=3usize {
                let Some(j) = i.checked_sub(back) else {
                    break;
                };
                let Some(&(prev, prev_text, _, _)) = toks.get(j) else {
                    break;
                };
                if prev.kind == TokenKind::Punct && prev_text != "," {
                    break;
                }
                let damp = match back {
                    1 => 1.0,
                    2 => 0.95,
                    _ => 0.9,
                };
                let shift = shift_of(j);
                if shift & (UP | DOWN) != 0 {
                    let mut b = if shift & UP != 0 { BOOST } else { -BOOST };
                    if prev.caps {
                        b += if b > 0.0 { CAPS_BOOST } else { -CAPS_BOOST };
                    }
                    let signed = if v < 0.0 { -b } else { b };
                    v += signed * damp;
                }
                if shift & NEGATOR != 0 || prev_text.ends_with("n't") {
                    negated = true;
                }
            }
            if negated {
                v *= NEGATION;
            }
            if let Some(slot) = values.get_mut(i) {
                *slot = v;
            }
            evidence.push((Evidence::Token(i), v));
        }
        if let Some(b) = but_at {
            for (i, v) in values.iter_mut().enumerate() {
                if i < b {
                    *v *= 0.5;
                } else if i > b {
                    *v *= 1.5;
                }
            }
        }
        let mut complaint_terms = Vec::new();
        let mut found = |k: usize| {
            if let Some((term, value, complaint)) = self.phrase_values.get(k) {
                if *value != 0.0 {
                    values.push(*value);
                    evidence.push((Evidence::Phrase(k), *value));
                }
                if *complaint {
                    complaint_terms.push(term.clone());
                }
            }
        };
        match self.anchored_phrase_matches(norm, &toks) {
            Some(matches) => matches.into_iter().for_each(&mut found),
            None => {
                for m in self.phrases.find_iter(&norm.padded) {
                    found(m.pattern().as_usize());
                }
            }
        }
        let mut wait_phrase = String::new();
        // `find` first: it needs no `Captures` allocation, and most texts have no match.
        let joined = norm.joined();
        if let Some(c) = self
            .wait
            .find(joined)
            .and_then(|_| self.wait.captures(joined))
        {
            let unit = c.get(2).map_or("", |m| m.as_str());
            let amount = c.get(1).map_or("", |m| m.as_str());
            let hours: f32 = amount.parse().unwrap_or(3.0);
            let v = if unit.starts_with('h') && hours < 2.0 {
                -0.8
            } else {
                -2.0
            };
            values.push(v);
            wait_phrase = c.get(0).map_or(String::new(), |m| m.as_str().to_owned());
            evidence.push((Evidence::Wait, v));
            complaint_terms.push(wait_phrase.clone());
        }
        let mut sum: f32 = values.iter().sum();
        if sum != 0.0 {
            let bangs = norm.exclamations.min(4) as f32 * 0.292;
            let qs = match norm.questions {
                0 | 1 => 0.0,
                2 | 3 => norm.questions as f32 * 0.18,
                _ => 0.96,
            };
            let emphasis = bangs + qs;
            sum += if sum > 0.0 { emphasis } else { -emphasis };
        }
        let compound = (sum / (sum * sum + 15.0).sqrt()).clamp(-1.0, 1.0);
        let mut pos = 0.0;
        let mut neg = 0.0;
        let mut neutral = 0usize;
        for v in &values {
            if *v > 0.0 {
                pos += v + 1.0;
            } else if *v < 0.0 {
                neg += v - 1.0;
            }
        }
        for (i, t) in toks.iter().enumerate() {
            if t.0.kind != TokenKind::Punct && values.get(i).is_some_and(|v| *v == 0.0) {
                neutral += 1;
            }
        }
        let total = pos - neg + neutral as f32;
        let (pos, neg, neu) = if total > 0.0 {
            (pos / total, -neg / total, neutral as f32 / total)
        } else {
            (0.0, 0.0, 1.0)
        };
        evidence.sort_by(|a, b| b.1.abs().total_cmp(&a.1.abs()));
        evidence.truncate(5);
        let evidence = evidence
            .into_iter()
            .map(|(e, v)| {
                let text = match e {
                    Evidence::Token(i) => toks.get(i).map_or(String::new(), |t| t.1.to_owned()),
                    Evidence::Phrase(k) => self
                        .phrase_values
                        .get(k)
                        .map_or(String::new(), |p| p.0.clone()),
                    Evidence::Wait => wait_phrase.clone(),
                };
                (text, v)
            })
            .collect();
        LexiconScore {
            compound,
            pos,
            neg,
            neu,
            sum,
            evidence,
            complaint_terms,
            watched,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{Normaliser, Segmenter};

    fn score(text: &str) -> f32 {
        let lex = Lexicon::new().unwrap();
        let norm = Normaliser::new(lex.emoticons(), Segmenter::new(lex.words()));
        lex.score(&norm.normalise(text)).compound
    }

    #[test]
    fn basic_polarity() {
        assert!(score("The nurses were wonderful") > 0.5);
        assert!(score("The food was awful") < -0.4);
        assert_eq!(score("The clinic opens at nine"), 0.0);
    }

    #[test]
    fn negation_flips() {
        assert!(score("The staff were not helpful") < 0.0);
        assert!(score("I didn't hate it") > 0.0);
        assert!(score("nobody was kind") < 0.0);
    }

    #[test]
    fn but_shifts_weight_to_the_second_part() {
        let s = score("The nurses were lovely but the wait was awful and the ward dirty");
        assert!(s < 0.0, "{s}");
        assert!(score("The wait was bad but the nurses were brilliant") > 0.0);
    }

    #[test]
    fn capitals_boosters_and_punctuation_intensify() {
        assert!(score("the care was GOOD") > score("the care was good"));
        assert!(score("the care was very good") > score("the care was good"));
        assert!(score("the care was good!!!") > score("the care was good"));
        assert!(score("the care was sooo good") > score("the care was good"));
    }

    #[test]
    fn healthcare_complaints_are_negative() {
        assert!(score("Waited 9 hours in A&E. Absolutely disgraceful.") < -0.5);
        assert!(score("My operation was cancelled again") < 0.0);
        assert!(score("nobody called back") < 0.0);
        assert!(score("Dad was discharged too early") < 0.0);
    }

    #[test]
    fn anchored_phrase_search_equals_the_full_scan() {
        let lex = Lexicon::new().unwrap();
        assert!(lex.anchored_phrases);
        let norm = Normaliser::new(lex.emoticons(), Segmenter::new(lex.words()));
        let mut texts: Vec<String> = lex
            .phrase_values
            .iter()
            .map(|(p, _, _)| format!("well {p} and {p}, then not {p}!"))
            .collect();
        texts.extend(
            [
                "Waited 9 hours in A&E. Absolutely disgraceful.",
                "nobody called back and nobody cared, no one came",
                "Dad was discharged too early and sent home",
                "I can't fault them, never been treated so well #NHS @x https://t.co/y",
                "lost lost my notes, left waiting left on hold",
                "sooo rude RUDE staff :( not good",
                "",
            ]
            .map(str::to_owned),
        );
        for t in &texts {
            let n = norm.normalise(t);
            let toks = lex.scored_tokens(&n);
            let full: Vec<usize> = lex
                .phrases
                .find_iter(&n.padded)
                .map(|m| m.pattern().as_usize())
                .collect();
            assert_eq!(lex.anchored_phrase_matches(&n, &toks), Some(full), "{t}");
        }
    }

    #[test]
    fn emoji_and_emoticons_count() {
        assert!(score("at the clinic 😀") > 0.0);
        assert!(score("at the clinic :(") < 0.0);
    }
}
