//! Normalisation of social text into tokens that the lexicon, the rules and the models share.
//!
//! HTML entities and the literal `\uXXXX` escapes of old tweet dumps are decoded; URLs and
//! @mentions become placeholder tokens; hashtags are split into words (camel case, digits, a
//! small dictionary of NHS tags such as `#AandE`, and dictionary segmentation of lower-case
//! tags such as `#thankyounhs`); emoji and emoticons are kept as tokens of their own, because they
//! carry sentiment; elongated words (`sooooo`) are shortened and marked, and words written in
//! capitals are marked, because both are emphasis.

use crate::features::FxHashSet as HashSet;
use std::borrow::Cow;

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenKind {
    /// A word (letters, digits, inner apostrophes, `&` or hyphens).
    Word,
    /// A word that came from splitting a hashtag.
    HashtagWord,
    /// A text emoticon such as `:)` or `<3`.
    Emoticon,
    /// One emoji character.
    Emoji,
    /// A link.
    Url,
    /// An @mention.
    Mention,
    /// Sentence punctuation: `.`, `,`, `;`, `:`, `!` or `?`.
    Punct,
}

/// One token of a normalised text. Its text lies in [`Normalised::padded`]: read it with
/// [`Normalised::text`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    /// Where the lower-case form (elongations shortened to two letters) starts in `padded`.
    start: u32,
    /// Where it ends in `padded`.
    end: u32,
    /// What the token is.
    pub kind: TokenKind,
    /// Written in capitals (two or more letters, none lower case).
    pub caps: bool,
    /// A letter was repeated three or more times (`sooo`).
    pub elongated: bool,
}

impl Token {
    /// Where the token's text starts in [`Normalised::padded`] (always after a space).
    pub fn start(&self) -> usize {
        self.start as usize
    }

    /// Whether the token is a word (plain or from a hashtag).
    pub fn is_word(&self) -> bool {
        matches!(self.kind, TokenKind::Word | TokenKind::HashtagWord)
    }
}

/// A text normalised for analysis.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Normalised {
    /// The tokens, in text order.
    pub tokens: Vec<Token>,
    /// How many `!` the text has.
    pub exclamations: u32,
    /// How many `?` the text has.
    pub questions: u32,
    /// Some words are in capitals and some are not (capitals then mean emphasis).
    pub mixed_case: bool,
    /// The decoded text, lower case, tokens joined by single spaces (URLs as `<url>`, mentions as
    /// `@user`), with one space before and after, for whole-word phrase matching.
    pub padded: String,
}

impl Normalised {
    /// The text of a token: its lower-case form, elongations shortened to two letters.
    pub fn text(&self, token: &Token) -> &str {
        self.padded
            .get(token.start as usize..token.end as usize)
            .unwrap_or_default()
    }

    /// The tokens joined by single spaces, without the padding.
    pub fn joined(&self) -> &str {
        self.padded.trim_matches(' ')
    }
}

/// Hashtags that camel-case splitting gets wrong, lower case, with their words.
const HASHTAG_WORDS: &[(&str, &str)] = &[
    ("aande", "a&e"),
    ("ae", "a&e"),
    ("nhsheroes", "nhs heroes"),
    ("clapforcarers", "clap for carers"),
    ("clapforournhs", "clap for our nhs"),
    ("protectthenhs", "protect the nhs"),
    ("savethenhs", "save the nhs"),
    ("covid19", "covid19"),
    ("covid", "covid"),
    ("gp", "gp"),
    ("nhs", "nhs"),
    ("fft", "friends and family test"),
];

/// Extra words for segmenting lower-case hashtags, beside the sentiment lexicon.
const SEGMENT_WORDS: &[&str] = &[
    "a",
    "i",
    "the",
    "to",
    "of",
    "and",
    "for",
    "in",
    "on",
    "at",
    "our",
    "my",
    "your",
    "you",
    "we",
    "is",
    "it",
    "be",
    "all",
    "day",
    "week",
    "nhs",
    "gp",
    "care",
    "carers",
    "staff",
    "nurse",
    "nurses",
    "doctor",
    "doctors",
    "hospital",
    "health",
    "mental",
    "team",
    "work",
    "life",
    "love",
    "thank",
    "thanks",
    "hero",
    "heroes",
    "save",
    "protect",
    "stay",
    "home",
    "safe",
    "clap",
    "covid",
    "vaccine",
    "patient",
    "patients",
    "ward",
    "wait",
    "waiting",
    "time",
    "times",
    "junior",
    "strike",
    "pay",
    "fair",
    "support",
    "help",
    "family",
    "friends",
    "test",
    "ambulance",
    "cancer",
    "baby",
    "mum",
    "new",
    "year",
    "happy",
    "good",
    "great",
    "best",
    "social",
    "media",
    "comms",
    "news",
    "people",
    "kind",
    "kindness",
    "hello",
    "my",
    "name",
    "is",
    "this",
    "that",
    "not",
    "no",
    "one",
    "two",
    "first",
    "last",
    "night",
    "shift",
    "back",
    "get",
    "well",
    "soon",
    "free",
];

/// A dictionary used to split lower-case hashtags into words.
#[derive(Debug, Default)]
pub struct Segmenter {
    words: HashSet<String>,
    longest: usize,
}

impl Segmenter {
    /// A segmenter over the given words and the built-in list.
    pub fn new<'a>(words: impl IntoIterator<Item = &'a str>) -> Self {
        let mut set: HashSet<String> = SEGMENT_WORDS.iter().map(|w| (*w).to_owned()).collect();
        for w in words {
            if w.len() >= 2 && w.bytes().all(|b| b.is_ascii_lowercase()) {
                set.insert(w.to_owned());
            }
        }
        let longest = set.iter().map(String::len).max().unwrap_or(0);
        Segmenter {
            words: set,
            longest,
        }
    }

    /// Splits a lower-case ASCII string into known words with the fewest pieces, or `None`.
    pub fn split(&self, s: &str) -> Option<Vec<String>> {
        let n = s.len();
        if n == 0 || n > 40 || !s.bytes().all(|b| b.is_ascii_lowercase()) {
            return None;
        }
        let mut best: Vec<Option<(usize, usize)>> = vec![None; n + 1];
        best[0] = Some((0, 0));
        for end in 1..=n {
            let from = end.saturating_sub(self.longest);
            for start in from..end {
                let Some((pieces, _)) = best[start] else {
                    continue;
                };
                if self.words.contains(&s[start..end]) {
                    let cand = pieces + 1;
                    if best[end].is_none_or(|(p, _)| cand < p) {
                        best[end] = Some((cand, start));
                    }
                }
            }
        }
        let mut out = Vec::new();
        let mut end = n;
        while end > 0 {
            let (_, start) = best[end]?;
            out.push(s[start..end].to_owned());
            end = start;
        }
        out.reverse();
        Some(out)
    }
}

/// Decodes HTML entities and literal `\uXXXX` escapes; borrows when there is nothing to decode.
pub fn decode(text: &str) -> Cow<'_, str> {
    if !text.contains('&') && !text.contains("\\u") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find(['&', '\\']) {
        out.push_str(&rest[..pos]);
        let tail = &rest[pos..];
        if let Some((ch, used)) = decode_one(tail) {
            out.push(ch);
            rest = &tail[used..];
        } else {
            out.push_str(&tail[..1]);
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn decode_one(tail: &str) -> Option<(char, usize)> {
    if let Some(hex) = tail.strip_prefix("\\u") {
        let code = hex.get(..4)?;
        let value = u32::from_str_radix(code, 16).ok()?;
        return char::from_u32(value).map(|c| (c, 6));
    }
    let semi = tail.find(';')?;
    if semi > 10 {
        return None;
    }
    let name = tail.get(1..semi)?;
    let ch = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        "pound" => '£',
        _ => {
            let num = name.strip_prefix('#')?;
            let value = if let Some(h) = num.strip_prefix(['x', 'X']) {
                u32::from_str_radix(h, 16).ok()?
            } else {
                num.parse().ok()?
            };
            char::from_u32(value)?
        }
    };
    Some((ch, semi + 1))
}

/// Whether a character is an emoji or pictograph (the ranges that carry meaning in posts).
pub fn is_emoji(c: char) -> bool {
    matches!(c as u32,
        0x1F300..=0x1FAFF | 0x2600..=0x27BF | 0x2B50 | 0x2B55 | 0x1F000..=0x1F2FF)
}

fn is_joiner(c: char) -> bool {
    matches!(
        c as u32,
        0xFE0F | 0xFE0E | 0x200D | 0x1F3FB..=0x1F3FF | 0x20E3
    )
}

/// Shortens runs of three or more identical letters to two; reports whether it did.
fn shorten(word: &str) -> (String, bool) {
    let mut out = String::with_capacity(word.len());
    let mut last = '\0';
    let mut run = 0;
    let mut changed = false;
    for c in word.chars() {
        if c == last {
            run += 1;
        } else {
            last = c;
            run = 1;
        }
        if run <= 2 || !c.is_alphabetic() {
            out.push(c);
        } else {
            changed = true;
        }
    }
    (out, changed)
}

/// Splits a hashtag body into words: dictionary, camel case, letters and digits.
fn split_hashtag(tag: &str, segmenter: &Segmenter) -> Vec<String> {
    let lower = tag.to_lowercase();
    if let Some((_, words)) = HASHTAG_WORDS.iter().find(|(t, _)| *t == lower) {
        return words.split(' ').map(str::to_owned).collect();
    }
    let chars: Vec<char> = tag.chars().collect();
    let mut parts: Vec<String> = Vec::new();
    let mut cur = String::new();
    for (i, &c) in chars.iter().enumerate() {
        let prev = i.checked_sub(1).and_then(|p| chars.get(p)).copied();
        let next = chars.get(i + 1).copied();
        let boundary = match prev {
            None => false,
            Some(p) => {
                (p.is_lowercase() && c.is_uppercase())
                    || (p.is_alphabetic() && c.is_numeric())
                    || (p.is_numeric() && c.is_alphabetic())
                    || (p.is_uppercase()
                        && c.is_uppercase()
                        && next.is_some_and(char::is_lowercase))
                    || c == '_'
            }
        };
        if boundary && !cur.is_empty() {
            parts.push(std::mem::take(&mut cur));
        }
        if c != '_' {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        parts.push(cur);
    }
    let mut out = Vec::new();
    for part in parts {
        let lower = part.to_lowercase();
        if let Some((_, words)) = HASHTAG_WORDS.iter().find(|(t, _)| *t == lower) {
            out.extend(words.split(' ').map(str::to_owned));
        } else if part.chars().all(char::is_lowercase) && lower.len() > 5 {
            match segmenter.split(&lower) {
                Some(words) => out.extend(words),
                None => out.push(lower),
            }
        } else {
            out.push(lower);
        }
    }
    out
}

/// The tokeniser: emoticons known to the lexicon plus the hashtag segmenter.
#[derive(Debug, Default)]
pub struct Normaliser {
    emoticons: HashSet<String>,
    longest_emoticon: usize,
    word_like_emoticons: bool,
    segmenter: Segmenter,
}

impl Normaliser {
    /// A normaliser that knows these emoticons and segments hashtags with these words. When no
    /// emoticon starts with two letters or digits (none of the lexicon's does), chunks that do
    /// (`great!`) are not looked up.
    pub fn new(emoticons: HashSet<String>, segmenter: Segmenter) -> Self {
        Normaliser {
            longest_emoticon: emoticons.iter().map(String::len).max().unwrap_or(0),
            word_like_emoticons: emoticons.iter().any(|e| {
                e.as_bytes()
                    .get(..2)
                    .is_some_and(|b| b.iter().all(u8::is_ascii_alphanumeric))
            }),
            emoticons,
            segmenter,
        }
    }

    /// Normalises a text.
    pub fn normalise(&self, text: &str) -> Normalised {
        let decoded = decode(text);
        let mut out = Normalised {
            tokens: Vec::with_capacity(decoded.len() / 4 + 4),
            padded: String::with_capacity(decoded.len() + 16),
            ..Normalised::default()
        };
        out.padded.push(' ');
        let mut caps_words = 0usize;
        let mut words = 0usize;
        // For ASCII without a vertical tab, the byte split finds the same chunks.
        let ascii = decoded.is_ascii() && !decoded.contains('\x0B');
        if ascii {
            for chunk in decoded.split_ascii_whitespace() {
                self.chunk(chunk, &mut out);
            }
        } else {
            for chunk in decoded.split_whitespace() {
                self.chunk(chunk, &mut out);
            }
        }
        for t in out.tokens.iter().filter(|t| t.kind == TokenKind::Word) {
            let text = out.text(t);
            let has_letter = if ascii {
                text.bytes().any(|b| b.is_ascii_alphabetic())
            } else {
                text.chars().any(char::is_alphabetic)
            };
            if has_letter {
                words += 1;
                if t.caps {
                    caps_words += 1;
                }
            }
        }
        out.mixed_case = caps_words > 0 && caps_words < words;
        out
    }

    fn chunk(&self, chunk: &str, out: &mut Normalised) {
        // A plain word (letters and digits, at least one letter): none of the cases below can
        // apply to it (no URL, mention or hashtag prefix; an emoticon is not all alphanumeric),
        // so it is flushed first, without their checks.
        if chunk.len() <= 24
            && chunk.bytes().all(|b| b.is_ascii_alphanumeric())
            && chunk.bytes().any(|b| b.is_ascii_alphabetic())
        {
            flush_ascii(chunk, out);
            return;
        }
        let starts = |p: &str| {
            chunk
                .as_bytes()
                .get(..p.len())
                .is_some_and(|b| b.eq_ignore_ascii_case(p.as_bytes()))
        };
        if starts("http://") || starts("https://") || starts("www.") {
            push(out, "<url>", TokenKind::Url, false, false);
            return;
        }
        if let Some(handle) = chunk.strip_prefix('@')
            && handle
                .chars()
                .next()
                .is_some_and(|c| c.is_alphanumeric() || c == '_')
        {
            push(out, "@user", TokenKind::Mention, false, false);
            return;
        }
        let trimmed = chunk.trim_end_matches([',', '.', ';']);
        let starts_as_word = trimmed
            .as_bytes()
            .get(..2)
            .is_some_and(|b| b.iter().all(u8::is_ascii_alphanumeric));
        if trimmed.len() >= 2
            && trimmed.len() <= self.longest_emoticon
            && (!starts_as_word || self.word_like_emoticons)
            && !trimmed.chars().all(char::is_alphanumeric)
        {
            // ASCII without capitals is its own lower case: no allocation for it.
            let lower: std::borrow::Cow<'_, str> = if trimmed
                .bytes()
                .any(|b| b.is_ascii_uppercase() || !b.is_ascii())
            {
                trimmed.to_lowercase().into()
            } else {
                trimmed.into()
            };
            if self.emoticons.contains(lower.as_ref()) {
                push(out, &lower, TokenKind::Emoticon, false, false);
                return;
            }
        }
        if let Some(tag) = chunk.strip_prefix('#') {
            let body: String = tag
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !body.is_empty() {
                for word in split_hashtag(&body, &self.segmenter) {
                    push(out, &word, TokenKind::HashtagWord, false, false);
                }
                let rest = &tag[body.len()..];
                if !rest.is_empty() {
                    self.chunk(rest, out);
                }
                return;
            }
        }
        if chunk.is_ascii() {
            ascii_words(chunk, out);
            return;
        }
        let mut word = String::new();
        let mut chars = chunk.chars().peekable();
        while let Some(c) = chars.next() {
            let next_alnum = chars.peek().is_some_and(|n| n.is_alphanumeric());
            if c.is_alphanumeric()
                || (!word.is_empty() && next_alnum && matches!(c, '\'' | '’' | '&' | '-'))
            {
                word.push(if c == '’' { '\'' } else { c });
                continue;
            }
            flush(&mut word, out);
            if is_emoji(c) {
                push(
                    out,
                    c.encode_utf8(&mut [0u8; 4]),
                    TokenKind::Emoji,
                    false,
                    false,
                );
            } else if matches!(c, '!' | '?' | '.' | ',' | ';' | ':') {
                push_punct(c, out);
            } else if is_joiner(c) {
                continue;
            }
        }
        flush(&mut word, out);
    }
}

/// The word and punctuation loop of [`Normaliser::chunk`] for an ASCII chunk, on bytes: a word
/// is a run of letters and digits, joined by `'`, `&` or `-` when a letter or digit follows; no
/// ASCII byte is an emoji or a joiner. Each word is flushed as [`flush`] would.
fn ascii_words(chunk: &str, out: &mut Normalised) {
    let bytes = chunk.as_bytes();
    let mut start: Option<usize> = None;
    for (i, &b) in bytes.iter().enumerate() {
        let next_alnum = bytes.get(i + 1).is_some_and(u8::is_ascii_alphanumeric);
        if b.is_ascii_alphanumeric()
            || (start.is_some() && next_alnum && matches!(b, b'\'' | b'&' | b'-'))
        {
            start.get_or_insert(i);
            continue;
        }
        if let Some(s) = start.take() {
            flush_ascii(chunk.get(s..i).unwrap_or_default(), out);
        }
        if matches!(b, b'!' | b'?' | b'.' | b',' | b';' | b':') {
            push_punct(char::from(b), out);
        }
    }
    if let Some(s) = start {
        flush_ascii(chunk.get(s..).unwrap_or_default(), out);
    }
}

/// Counts `!` and `?`, and pushes a punctuation token unless the last token is the same mark.
fn push_punct(c: char, out: &mut Normalised) {
    if c == '!' {
        out.exclamations += 1;
    } else if c == '?' {
        out.questions += 1;
    }
    if out
        .tokens
        .last()
        .is_none_or(|t| t.kind != TokenKind::Punct || !out.text(t).starts_with(c))
    {
        push(
            out,
            c.encode_utf8(&mut [0u8; 4]),
            TokenKind::Punct,
            false,
            false,
        );
    }
}

fn flush(word: &mut String, out: &mut Normalised) {
    if word.is_empty() {
        return;
    }
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let caps = letters >= 2 && !word.chars().any(char::is_lowercase);
    let lower = word.to_lowercase();
    let (text, elongated) = shorten(&lower);
    push(out, &text, TokenKind::Word, caps, elongated);
    word.clear();
}

/// [`flush`] for an ASCII word, written straight into `padded`: copied and lower-cased in
/// place, unless a letter occurs three times in a row (any case), when [`flush_elongated`]
/// shortens it.
fn flush_ascii(word: &str, out: &mut Normalised) {
    let bytes = word.as_bytes();
    let elongated = bytes.windows(3).any(|w| {
        matches!(w, [a, b, c] if a.is_ascii_alphabetic()
            && a.eq_ignore_ascii_case(b)
            && b.eq_ignore_ascii_case(c))
    });
    if elongated {
        flush_elongated(word, out);
        return;
    }
    let letters = bytes.iter().filter(|b| b.is_ascii_alphabetic()).count();
    let lower_seen = bytes.iter().any(u8::is_ascii_lowercase);
    let start = out.padded.len();
    out.padded.push_str(word);
    if let Some(text) = out.padded.get_mut(start..) {
        text.make_ascii_lowercase();
    }
    let caps = letters >= 2 && !lower_seen;
    end_token(out, start, TokenKind::Word, caps, false);
}

/// [`flush_ascii`] for a word with a run of three or more of one letter: one pass on bytes,
/// runs of a letter cut to two, as [`shorten`] does.
fn flush_elongated(word: &str, out: &mut Normalised) {
    let mut letters = 0usize;
    let mut lower_seen = false;
    let start = out.padded.len();
    let text = &mut out.padded;
    let mut last = 0u8;
    let mut run = 0usize;
    let mut elongated = false;
    for b in word.bytes() {
        if b.is_ascii_alphabetic() {
            letters += 1;
            lower_seen |= b.is_ascii_lowercase();
        }
        let l = b.to_ascii_lowercase();
        if l == last {
            run += 1;
        } else {
            last = l;
            run = 1;
        }
        if run <= 2 || !l.is_ascii_alphabetic() {
            text.push(char::from(l));
        } else {
            elongated = true;
        }
    }
    let caps = letters >= 2 && !lower_seen;
    end_token(out, start, TokenKind::Word, caps, elongated);
}

/// Appends a token's text to `padded` and records the token.
fn push(out: &mut Normalised, text: &str, kind: TokenKind, caps: bool, elongated: bool) {
    let start = out.padded.len();
    out.padded.push_str(text);
    end_token(out, start, kind, caps, elongated);
}

/// Records the token whose text was written to `padded` from `start`, and pads it.
fn end_token(out: &mut Normalised, start: usize, kind: TokenKind, caps: bool, elongated: bool) {
    out.tokens.push(Token {
        start: start as u32,
        end: out.padded.len() as u32,
        kind,
        caps,
        elongated,
    });
    out.padded.push(' ');
}

#[cfg(test)]
mod tests {
    use super::*;

    fn normaliser() -> Normaliser {
        let emoticons = [":)", ":(", "<3", ":-("]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        Normaliser::new(emoticons, Segmenter::new(["wonderful", "you"]))
    }

    fn words(text: &str) -> Vec<String> {
        let n = normaliser().normalise(text);
        n.tokens.iter().map(|t| n.text(t).to_owned()).collect()
    }

    #[test]
    fn entities_and_escapes_are_decoded() {
        assert_eq!(decode("A&amp;E &lt;3 &#39;hi&#x27;"), "A&E <3 'hi'");
        assert_eq!(decode("it\\u2019s"), "it’s");
        assert_eq!(decode("fish & chips"), "fish & chips");
    }

    #[test]
    fn urls_mentions_and_hashtags() {
        assert_eq!(
            words("@NHSEngland thanks! https://t.co/x #NHSHeroes #AandE #thankyounhs"),
            vec![
                "@user", "thanks", "!", "<url>", "nhs", "heroes", "a&e", "thank", "you", "nhs"
            ]
        );
        assert_eq!(words("#WaitingTimes2024"), vec!["waiting", "times", "2024"]);
    }

    #[test]
    fn emoji_emoticons_elongation_and_caps() {
        let n = normaliser().normalise("Sooooo GOOD :) 😀😀 in A&E, it's fine");
        let texts: Vec<&str> = n.tokens.iter().map(|t| n.text(t)).collect();
        assert_eq!(
            texts,
            vec![
                "soo", "good", ":)", "😀", "😀", "in", "a&e", ",", "it's", "fine"
            ]
        );
        assert!(n.tokens[0].elongated);
        assert!(n.tokens[1].caps);
        assert!(n.mixed_case);
        assert_eq!(n.tokens[2].kind, TokenKind::Emoticon);
        assert_eq!(n.tokens[3].kind, TokenKind::Emoji);
    }

    #[test]
    fn ascii_flush_matches_the_byte_loop() {
        let words = [
            "hello",
            "HELLO",
            "Hello",
            "a",
            "I",
            "A1",
            "1a",
            "2024",
            "x9Y",
            "soo",
            "Sooo",
            "SOOOO",
            "aAa",
            "aaB",
            "zzz",
            "111a",
            "a111",
            "it's",
            "a&e",
            "well-known",
            "NHS",
            "BBBc",
            "bbBB",
            "abcdefghijklmnopqrstuvwx",
        ];
        for w in words {
            let mut fast = Normalised::default();
            let mut slow = Normalised::default();
            flush_ascii(w, &mut fast);
            flush_elongated(w, &mut slow);
            assert_eq!(fast, slow, "{w}");
        }
    }

    #[test]
    fn punctuation_is_counted() {
        let n = normaliser().normalise("Why?? Really!!!");
        assert_eq!(n.questions, 2);
        assert_eq!(n.exclamations, 3);
        assert_eq!(n.joined(), "why ? really !");
        assert_eq!(n.padded, " why ? really ! ");
    }
}
