//! The language of a post: the network's own declaration when present, else a cheap check for
//! plain English, else whatlang restricted to the languages spoken in the UK that it knows.
//!
//! whatlang 0.18 knows Welsh (`cym`) but not Somali, Pashto, Tigrinya or Kurdish; those fall to
//! the nearest listed language or to the default. Texts too short to tell (fewer than three
//! words of letters) are taken as English, the default, marked as such.

use model::analysis::{Language, LanguageSource};
use whatlang::{Detector, Lang};

use crate::features::FxHashSet;

/// The languages whatlang may answer with.
const UK_LANGUAGES: &[Lang] = &[
    Lang::Eng,
    Lang::Cym,
    Lang::Pol,
    Lang::Urd,
    Lang::Pan,
    Lang::Ben,
    Lang::Guj,
    Lang::Ara,
    Lang::Ron,
    Lang::Por,
    Lang::Spa,
    Lang::Fra,
    Lang::Ita,
    Lang::Lit,
    Lang::Bul,
    Lang::Tam,
    Lang::Hin,
    Lang::Cmn,
    Lang::Tur,
    Lang::Deu,
    Lang::Pes,
];

/// Very common English words: a text made mostly of these is English without asking whatlang.
const ENGLISH_WORDS: &[&str] = &[
    "the",
    "and",
    "of",
    "is",
    "it",
    "you",
    "that",
    "for",
    "was",
    "my",
    "with",
    "this",
    "be",
    "are",
    "have",
    "not",
    "at",
    "but",
    "we",
    "they",
    "just",
    "your",
    "all",
    "been",
    "what",
    "from",
    "will",
    "can",
    "get",
    "out",
    "if",
    "she",
    "his",
    "her",
    "our",
    "by",
    "or",
    "had",
    "there",
    "about",
    "when",
    "who",
    "how",
    "why",
    "today",
    "tomorrow",
    "going",
    "day",
    "time",
    "thank",
    "thanks",
    "love",
    "good",
    "great",
    "people",
    "like",
    "know",
    "it's",
    "i'm",
    "don't",
    "did",
    "has",
    "in",
    "to",
    "i",
    "on",
    "so",
    "do",
    "an",
    "as",
    "up",
    "he",
    "am",
    "were",
    "would",
    "could",
    "should",
    "one",
    "more",
    "now",
    "new",
    "see",
    "got",
    "lol",
    "im",
    "u",
    "ur",
    "want",
    "make",
    "need",
    "think",
    "really",
    "back",
    "after",
    "first",
    "last",
    "night",
    "week",
    "year",
    "best",
    "happy",
    "watch",
    "tonight",
    "may",
    "sunday",
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "game",
    "go",
    "come",
    "its",
    "than",
    "then",
    "them",
    "their",
    "him",
    "you're",
    "can't",
    "didn't",
    "isn't",
    "i'll",
    "i've",
    "that's",
    "he's",
    "she's",
    "we're",
    "they're",
    "let's",
    "still",
    "never",
    "ever",
    "only",
    "some",
    "any",
    "every",
    "much",
    "many",
    "very",
    "well",
    "too",
    "also",
    "here",
    "where",
    "which",
    "shall",
    "must",
    "might",
    "being",
    "does",
    "doing",
    "done",
    "say",
    "said",
    "tell",
    "told",
    "seen",
    "look",
    "wanted",
    "needed",
    "thought",
    "feel",
    "felt",
    "made",
    "take",
    "took",
    "give",
    "gave",
    "went",
    "gone",
    "came",
    "knew",
    "liked",
    "loved",
    "hate",
    "yesterday",
    "morning",
    "weekend",
    "birthday",
    "old",
    "big",
    "little",
    "bad",
    "better",
    "worst",
    "right",
    "wrong",
    "free",
    "off",
    "over",
    "into",
    "down",
    "before",
    "again",
    "though",
    "because",
    "while",
    "until",
    "since",
    "through",
    "against",
    "between",
    "during",
    "without",
    "within",
    "along",
    "across",
];

/// Whether a word (any case) is one of [`ENGLISH_WORDS`], without allocating.
fn is_common_english(set: &FxHashSet<u128>, word: &str) -> bool {
    is_common_english_bytes(set, word.as_bytes())
}

/// A word of at most 15 ASCII bytes as one integer: the bytes lower-cased, zero-padded, and
/// the length in the last byte (so that distinct words have distinct keys). Compared as an
/// integer, with no string comparison.
fn word_key(bytes: &[u8]) -> Option<u128> {
    if bytes.len() > 15 || !bytes.is_ascii() {
        return None;
    }
    let mut buf = [0u8; 16];
    for (d, b) in buf.iter_mut().zip(bytes) {
        *d = b.to_ascii_lowercase();
    }
    buf[15] = bytes.len() as u8;
    Some(u128::from_le_bytes(buf))
}

/// [`is_common_english`] on the bytes of a word.
fn is_common_english_bytes(set: &FxHashSet<u128>, bytes: &[u8]) -> bool {
    word_key(bytes).is_some_and(|k| set.contains(&k))
}

/// How many of `words` words must be common English for a text to be English without
/// whatlang: at least a fifth of them, and at least two.
fn enough_common(words: usize) -> usize {
    words.div_ceil(5).max(2)
}

/// How many words [`LanguageDetector::count_words_ascii`] may put aside.
const PUT_ASIDE: usize = 64;

/// The language detector.
#[derive(Debug)]
pub struct LanguageDetector {
    detector: Detector,
    english: FxHashSet<u128>,
}

fn names(lang: Lang) -> (&'static str, &'static str) {
    match lang {
        Lang::Eng => ("en", "English"),
        Lang::Cym => ("cy", "Welsh"),
        Lang::Pol => ("pl", "Polish"),
        Lang::Urd => ("ur", "Urdu"),
        Lang::Pan => ("pa", "Punjabi"),
        Lang::Ben => ("bn", "Bengali"),
        Lang::Guj => ("gu", "Gujarati"),
        Lang::Ara => ("ar", "Arabic"),
        Lang::Ron => ("ro", "Romanian"),
        Lang::Por => ("pt", "Portuguese"),
        Lang::Spa => ("es", "Spanish"),
        Lang::Fra => ("fr", "French"),
        Lang::Ita => ("it", "Italian"),
        Lang::Lit => ("lt", "Lithuanian"),
        Lang::Bul => ("bg", "Bulgarian"),
        Lang::Tam => ("ta", "Tamil"),
        Lang::Hin => ("hi", "Hindi"),
        Lang::Cmn => ("zh", "Chinese"),
        Lang::Tur => ("tr", "Turkish"),
        Lang::Deu => ("de", "German"),
        Lang::Pes => ("fa", "Persian"),
        other => (other.code(), other.eng_name()),
    }
}

fn declared_name(code: &str) -> String {
    let primary = code
        .split(['-', '_'])
        .next()
        .unwrap_or(code)
        .to_ascii_lowercase();
    let known = UK_LANGUAGES
        .iter()
        .map(|l| names(*l))
        .find(|(c, _)| *c == primary);
    match (primary.as_str(), known) {
        (_, Some((_, name))) => name.to_owned(),
        ("so", None) => "Somali".to_owned(),
        ("ps", None) => "Pashto".to_owned(),
        ("ti", None) => "Tigrinya".to_owned(),
        ("ku", None) => "Kurdish".to_owned(),
        _ => primary,
    }
}

impl Default for LanguageDetector {
    fn default() -> Self {
        Self::new()
    }
}

impl LanguageDetector {
    /// A detector restricted to the UK list.
    pub fn new() -> Self {
        LanguageDetector {
            detector: Detector::with_allowlist(UK_LANGUAGES.to_vec()),
            english: ENGLISH_WORDS
                .iter()
                .filter_map(|w| word_key(w.as_bytes()))
                .collect(),
        }
    }

    /// Words of letters (not mentions, hashtags or links) and whether enough of them are
    /// common English words ([`enough_common`]).
    fn count_words(&self, text: &str) -> (usize, bool) {
        let mut words = 0usize;
        let mut common = 0usize;
        for w in text.split_whitespace() {
            if w.starts_with(['@', '#']) || w.starts_with("http") {
                continue;
            }
            let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'');
            if !w.chars().any(char::is_alphabetic) {
                continue;
            }
            words += 1;
            if is_common_english(&self.english, w) {
                common += 1;
            }
        }
        (words, common >= enough_common(words))
    }

    /// [`Self::count_words`] for ASCII text, on bytes (the same words, the same answer). A word
    /// met while the common words so far already suffice for the words so far is put aside
    /// (up to [`PUT_ASIDE`] of them) and looked up at the end only while the count falls short.
    fn count_words_ascii(&self, text: &str) -> (usize, bool) {
        let mut words = 0usize;
        let mut common = 0usize;
        let mut aside: [&[u8]; PUT_ASIDE] = [&[]; PUT_ASIDE];
        let mut set_aside = 0usize;
        let chunks = text
            .as_bytes()
            .split(|b| matches!(b, b' ' | b'\t'..=b'\r'))
            .filter(|w| !w.is_empty());
        for w in chunks {
            if matches!(w.first(), Some(b'@' | b'#')) || w.starts_with(b"http") {
                continue;
            }
            let keep = |b: &u8| b.is_ascii_alphanumeric() || *b == b'\'';
            let start = w.iter().position(keep).unwrap_or(w.len());
            let end = w.iter().rposition(keep).map_or(start, |e| e + 1);
            let w = w.get(start..end).unwrap_or_default();
            if !w.iter().any(u8::is_ascii_alphabetic) {
                continue;
            }
            words += 1;
            if common >= enough_common(words)
                && let Some(slot) = aside.get_mut(set_aside)
            {
                *slot = w;
                set_aside += 1;
                continue;
            }
            if is_common_english_bytes(&self.english, w) {
                common += 1;
            }
        }
        let need = enough_common(words);
        for w in aside.iter().take(set_aside) {
            if common >= need {
                break;
            }
            if is_common_english_bytes(&self.english, w) {
                common += 1;
            }
        }
        (words, common >= need)
    }

    /// The language of a text, trusting `declared` (a BCP 47 tag) when present.
    pub fn detect(&self, text: &str, declared: Option<&str>) -> Language {
        if let Some(code) = declared
            .map(str::trim)
            .filter(|c| !c.is_empty() && *c != "und")
        {
            let primary = code
                .split(['-', '_'])
                .next()
                .unwrap_or(code)
                .to_ascii_lowercase();
            return Language {
                name: declared_name(&primary),
                code: primary,
                confidence: 1.0,
                source: LanguageSource::Declared,
            };
        }
        let english = || Language {
            code: "en".into(),
            name: "English".into(),
            confidence: 0.5,
            source: LanguageSource::Default,
        };
        let ascii = text.is_ascii();
        let (words, enough) = if ascii {
            self.count_words_ascii(text)
        } else {
            self.count_words(text)
        };
        if words < 3 {
            return english();
        }
        if enough && (ascii || !text.chars().any(|c| ('\u{0590}'..='\u{1FFF}').contains(&c))) {
            return Language {
                code: "en".into(),
                name: "English".into(),
                confidence: 0.9,
                source: LanguageSource::Detected,
            };
        }
        match self.detector.detect(text) {
            Some(info) => {
                let (code, name) = names(info.lang());
                Language {
                    code: code.into(),
                    name: name.into(),
                    confidence: info.confidence() as f32,
                    source: LanguageSource::Detected,
                }
            }
            None => english(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_english_words_by_integer_key() {
        let d = LanguageDetector::new();
        assert_eq!(d.english.len(), ENGLISH_WORDS.len());
        for w in ENGLISH_WORDS {
            assert!(is_common_english(&d.english, w), "{w}");
            assert!(is_common_english(&d.english, &w.to_uppercase()), "{w}");
            let longer = format!("{w}x");
            assert!(
                ENGLISH_WORDS.contains(&longer.as_str()) || !is_common_english(&d.english, &longer),
                "{longer}"
            );
            assert!(!is_common_english(&d.english, &format!("{w}\0")), "{w}");
        }
        assert!(!is_common_english(&d.english, ""));
        assert!(!is_common_english(&d.english, "théâtre"));
        assert!(!is_common_english(&d.english, "the the the the the the"));
    }

    #[test]
    fn words_put_aside_give_the_same_answer() {
        let d = LanguageDetector::new();
        let full = |text: &str| {
            let (mut words, mut common) = (0usize, 0usize);
            for w in text.split_ascii_whitespace() {
                let w = w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '\'');
                if w.bytes().any(|b| b.is_ascii_alphabetic()) {
                    words += 1;
                    common += usize::from(is_common_english(&d.english, w));
                }
            }
            (words, common * 5 >= words && common >= 2)
        };
        let texts = [
            "the cat sat on the mat and then it went away",
            "zorg blap the and quix flom trel vorp snel grib",
            "the the xx yy zz qq ww ee rr tt",
            "aa bb cc dd ee ff gg hh ii jj the and",
            "I waited for hours and nobody came to see me at all today",
            "Diolch yn fawr iawn i'r staff yn yr ysbyty am eu gofal arbennig",
            "the a b c d e f g h i j k l m n o p q r s t u v w x y z",
        ];
        for t in texts {
            assert_eq!(d.count_words_ascii(t), full(t), "{t}");
        }
        let long: String = (0..300)
            .map(|i| if i % 6 == 0 { "the " } else { "zorg " })
            .collect();
        assert_eq!(d.count_words_ascii(&long), full(&long));
        let long: String = (0..300)
            .map(|i| {
                if i % 4 == 0 && i < 100 {
                    "the "
                } else {
                    "zorg "
                }
            })
            .collect();
        assert_eq!(d.count_words_ascii(&long), full(&long));
    }

    #[test]
    fn declared_fast_path_and_detection() {
        let d = LanguageDetector::new();
        assert_eq!(d.detect("anything", Some("pl-PL")).name, "Polish");
        assert_eq!(d.detect("anything", Some("so")).name, "Somali");
        let en = d.detect("I waited for hours and nobody came to see me", None);
        assert_eq!(
            (en.code.as_str(), en.source),
            ("en", LanguageSource::Detected)
        );
        assert_eq!(d.detect("ok", None).source, LanguageSource::Default);
        let cy = d.detect(
            "Diolch yn fawr iawn i'r staff yn yr ysbyty am eu gofal arbennig",
            None,
        );
        assert_eq!(cy.code, "cy");
        let pl = d.detect(
            "Dziękuję bardzo za pomoc, lekarze byli bardzo mili i pomocni",
            None,
        );
        assert_eq!(pl.code, "pl");
    }
}
