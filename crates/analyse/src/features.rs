//! Hashed features of a normalised text: word unigrams and bigrams (with negation scope
//! marked), character n-grams of words, and a few named dense values (the lexicon scores).
//!
//! Features are hashed once to 64 bits with FNV-1a and a final mix; each model folds the hash
//! into its own number of buckets, so one extraction serves every model.

use crate::normalise::{Normalised, TokenKind};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// FNV-1a over bytes, continuing from a state.
const fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        h ^= bytes[i] as u64;
        h = h.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    h
}

/// A well-mixed 64-bit hash of a namespaced string.
pub const fn hash(namespace: u8, bytes: &[u8]) -> u64 {
    mix(fnv(fnv(FNV_OFFSET, &[namespace]), bytes))
}

const fn mix(mut h: u64) -> u64 {
    h ^= h >> 33;
    h = h.wrapping_mul(0xff51_afd7_ed55_8ccd);
    h ^= h >> 33;
    h
}

/// A fast non-cryptographic hasher for the engine's small string tables (the FxHash
/// multiply-rotate scheme); the tables are built from embedded data, so flooding is no concern.
#[derive(Debug, Clone, Copy, Default)]
pub struct FxHasher(u64);

impl std::hash::Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            let mut a = [0u8; 8];
            a.copy_from_slice(c);
            self.add(u64::from_le_bytes(a));
        }
        for b in chunks.remainder() {
            self.add(u64::from(*b));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x517c_c1b7_2722_0a95);
    }
}

/// A `HashMap` with [`FxHasher`].
pub type FxHashMap<K, V> = std::collections::HashMap<K, V, std::hash::BuildHasherDefault<FxHasher>>;
/// A `HashSet` with [`FxHasher`].
pub type FxHashSet<K> = std::collections::HashSet<K, std::hash::BuildHasherDefault<FxHasher>>;

/// The features of one text.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Hashes of word unigrams and bigrams.
    pub words: Vec<u64>,
    /// Hashes of character n-grams of words.
    pub chars: Vec<u64>,
    /// Named dense values (hash of the name, value).
    pub dense: Vec<(u64, f32)>,
}

fn is_negator(word: &str) -> bool {
    matches!(
        word,
        "not" | "no" | "never" | "nobody" | "nothing" | "none" | "cannot" | "without" | "nor"
    ) || word.ends_with("n't")
        || matches!(
            word,
            "dont" | "didnt" | "cant" | "wont" | "isnt" | "wasnt" | "doesnt"
        )
}

/// Extracts word and character features from a normalised text.
pub fn extract(norm: &Normalised) -> Features {
    extract_with(norm, true)
}

/// [`extract`], with the character n-grams or without them (the analyser sums those word by
/// word through a cache, see [`char_ngrams`]).
pub fn extract_with(norm: &Normalised, with_chars: bool) -> Features {
    let mut f = Features {
        words: Vec::with_capacity(norm.tokens.len() * 3 + 2),
        chars: Vec::with_capacity(if with_chars { norm.padded.len() * 3 } else { 0 }),
        dense: Vec::with_capacity(8),
    };
    let mut prev: Option<&str> = None;
    let mut negated = false;
    for tok in &norm.tokens {
        let text = norm.text(tok);
        if tok.kind == TokenKind::Punct {
            negated = false;
        }
        let ns = if negated { 2 } else { 1 };
        f.words.push(hash(ns, text.as_bytes()));
        if tok.caps {
            f.words.push(hash(3, text.as_bytes()));
        }
        let p = prev.unwrap_or("<s>");
        let h = fnv(fnv(fnv(FNV_OFFSET, &[4]), p.as_bytes()), &[0xff]);
        f.words.push(mix(fnv(h, text.as_bytes())));
        prev = Some(text);
        if tok.is_word() && is_negator(text) {
            negated = true;
        }
    }
    if let Some(p) = prev {
        let h = fnv(fnv(fnv(FNV_OFFSET, &[4]), p.as_bytes()), &[0xff]);
        f.words.push(mix(fnv(h, b"</s>")));
    }
    if with_chars {
        for word in char_ngram_words(norm) {
            char_ngrams(word.as_bytes(), &mut f.chars);
        }
    }
    f
}

/// The tokens whose character n-grams are features ([`char_ngrams`] of each, in this order):
/// the words, plain or from hashtags.
pub fn char_ngram_words(norm: &Normalised) -> impl Iterator<Item = &str> {
    norm.tokens
        .iter()
        .filter(|t| t.is_word())
        .map(|t| norm.text(t))
}

/// Character 3- to 5-grams of a word with boundary marks. The three lengths from one start
/// share their hash prefix (one FNV step per byte), and a gram's length is part of its bytes.
/// [`extract`] adds them for every word token, in token order.
pub fn char_ngrams(word: &[u8], out: &mut Vec<u64>) {
    if word.len() > 30 {
        return;
    }
    let mut buf = [0u8; 32];
    let n = word.len() + 2;
    if let Some(first) = buf.first_mut() {
        *first = b'<';
    }
    if let Some(middle) = buf.get_mut(1..=word.len()) {
        middle.copy_from_slice(word);
    }
    if let Some(last) = buf.get_mut(word.len() + 1) {
        *last = b'>';
    }
    let seed = fnv(FNV_OFFSET, &[CHAR_NAMESPACE]);
    let Some(text) = buf.get(..n) else { return };
    for start in 0..n.saturating_sub(2) {
        let mut h = seed;
        for (len, b) in text.iter().skip(start).take(5).enumerate() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(FNV_PRIME);
            if len >= 2 {
                out.push(mix(h));
            }
        }
    }
}

/// The namespace of character n-grams.
const CHAR_NAMESPACE: u8 = 8;

/// Words of the first person (the author speaking of themselves).
fn is_first_person(word: &str) -> bool {
    matches!(
        word,
        "i" | "me"
            | "my"
            | "mine"
            | "myself"
            | "i'm"
            | "im"
            | "i've"
            | "ive"
            | "i'd"
            | "i'll"
            | "we"
            | "us"
            | "our"
            | "ours"
            | "we're"
            | "we've"
    )
}

/// Words addressing the reader (a complaint usually speaks to the company).
fn is_second_person(word: &str) -> bool {
    matches!(
        word,
        "you" | "your" | "yours" | "you're" | "youre" | "you've" | "u" | "ur"
    )
}

/// Dense complaint cues of a normalised text, each a name hash ([`hash`] namespace 20) and a
/// value of about 0 to 1: whether it opens with an @mention, its mentions and links, its
/// question and exclamation marks, first- and second-person words, negators, clauses that
/// hold both a first-person word and a negator ("I still haven't", "my order never"), digits
/// (order and reference numbers), words in capitals, its length in words, and words of more
/// than four letters ending in "ed" (a rough past tense: complaints tell what happened).
pub fn complaint_cues(norm: &Normalised) -> [(u64, f32); 13] {
    let (mut mentions, mut urls, mut first, mut second, mut negators) = (0u32, 0u32, 0, 0, 0);
    let (mut words, mut digits, mut caps, mut first_negative) = (0u32, 0u32, 0u32, 0u32);
    let mut past = 0u32;
    let (mut clause_first, mut clause_negated, mut clause_counted) = (false, false, false);
    for tok in &norm.tokens {
        let text = norm.text(tok);
        match tok.kind {
            TokenKind::Mention => mentions += 1,
            TokenKind::Url => urls += 1,
            TokenKind::Punct => {
                (clause_first, clause_negated, clause_counted) = (false, false, false)
            }
            TokenKind::Word | TokenKind::HashtagWord => {
                words += 1;
                let own = is_first_person(text);
                first += u32::from(own);
                second += u32::from(is_second_person(text));
                clause_first |= own;
                if is_negator(text) {
                    negators += 1;
                    clause_negated = true;
                }
                digits += u32::from(text.bytes().any(|b| b.is_ascii_digit()));
                caps += u32::from(tok.caps);
                past += u32::from(text.len() > 4 && text.ends_with("ed"));
                if clause_first && clause_negated && !clause_counted {
                    first_negative += 1;
                    clause_counted = true;
                }
            }
            _ => {}
        }
    }
    let opens_with_mention = norm
        .tokens
        .first()
        .is_some_and(|t| t.kind == TokenKind::Mention);
    let capped = |n: u32, cap: u32| n.min(cap) as f32 / cap as f32;
    let values = [
        f32::from(u8::from(opens_with_mention)),
        capped(mentions, 3),
        capped(urls, 1),
        capped(norm.questions, 2),
        capped(norm.exclamations, 3),
        capped(first, 3),
        capped(second, 2),
        capped(negators, 3),
        capped(first_negative, 2),
        capped(digits, 1),
        capped(caps, 2),
        capped(words, 30),
        capped(past, 3),
    ];
    let mut cues = [(0, 0.0); 13];
    for ((cue, h), v) in cues.iter_mut().zip(CUE_HASHES).zip(values) {
        *cue = (h, v);
    }
    cues
}

/// The names of the values of [`complaint_cues`], in order.
const CUE_NAMES: [&str; 13] = [
    "cue_mention_start",
    "cue_mentions",
    "cue_url",
    "cue_question",
    "cue_exclaim",
    "cue_first_person",
    "cue_second_person",
    "cue_negators",
    "cue_first_negative",
    "cue_digits",
    "cue_caps",
    "cue_length",
    "cue_past",
];

/// [`hash`] of each of [`CUE_NAMES`] in namespace 20, computed at compile time.
const CUE_HASHES: [u64; 13] = {
    let mut out = [0u64; 13];
    let mut i = 0;
    while i < CUE_NAMES.len() {
        out[i] = hash(20, CUE_NAMES[i].as_bytes());
        i += 1;
    }
    out
};

/// Adds a named dense value.
pub fn add_dense(f: &mut Features, name: &str, value: f32) {
    f.dense.push((hash(20, name.as_bytes()), value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::normalise::{Normaliser, Segmenter};

    #[test]
    fn complaint_cues_are_named_by_their_hash() {
        for (name, h) in CUE_NAMES.iter().zip(CUE_HASHES) {
            assert_eq!(hash(20, name.as_bytes()), h, "{name}");
        }
        let n = Normaliser::new(Default::default(), Segmenter::new([]));
        let cues = complaint_cues(&n.normalise("@shop I still haven't received my order!"));
        let value = |name: &str| {
            let h = hash(20, name.as_bytes());
            cues.iter().find(|c| c.0 == h).map(|c| c.1)
        };
        assert_eq!(value("cue_mention_start"), Some(1.0));
        assert_eq!(value("cue_first_negative"), Some(0.5));
        assert_eq!(value("cue_url"), Some(0.0));
        assert!(value("cue_past").is_some_and(|v| v > 0.0));
    }

    #[test]
    fn features_are_stable_and_mark_negation() {
        let n = Normaliser::new(Default::default(), Segmenter::new([]));
        let a = extract(&n.normalise("not good"));
        let b = extract(&n.normalise("good"));
        assert_eq!(a, extract(&n.normalise("not good")));
        assert!(
            !a.words.contains(&b.words[0]),
            "negated good differs from good"
        );
        assert_eq!(hash(1, b"x"), hash(1, b"x"));
        assert_ne!(hash(1, b"x"), hash(2, b"x"));
    }
}
