//! The listening query language shared by search and monitors.
//!
//! A query is words, `"quoted phrases"`, prefix words (`nurs*`), the operators `AND`, `OR` and
//! `NOT` (written in capitals; `-word` is short for `NOT word`) and parentheses. Words side by
//! side must all appear (implicit `AND`); `AND` binds tighter than `OR`, so `a b OR c` means
//! `(a AND b) OR c`. Matching ignores case and, for Latin letters, diacritics: `cafe` finds
//! `Café`.
//!
//! Invariants of a parsed [`Query`]:
//! - every word is already in the index's own form (see [`tokens`]): lower-case, diacritics
//!   removed, never empty, never containing a separator; a phrase has at least two words;
//! - `And` and `Or` have at least two parts and never hold a part of their own kind (they are
//!   flattened);
//! - a `Not` only appears directly inside an `And` that also has a positive part, never inside
//!   an `Or` and never at the top: a query always names something that must appear, so a
//!   full-text index can answer it (a query of only `NOT` terms would match almost everything
//!   and is refused by [`parse`]).
//!
//! [`tokens`] splits text exactly like SQLite FTS5's `unicode61 remove_diacritics 2` tokenizer,
//! which the store's full-text index uses, so that [`Query::matches`] (used by monitors to tag
//! posts in memory) agrees with a search of the store. Token characters are letters, digits and
//! private-use characters; everything else separates words. Case folding and diacritic removal
//! use SQLite's own tables (copied below); the letter/digit test uses Rust's Unicode tables,
//! which can differ from SQLite's for a few characters outside Latin scripts (for example
//! combining vowel signs in Indic scripts).

use std::fmt;

/// A parsed query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// One word; `prefix` when written with a trailing `*`.
    Term {
        /// The word, lower-cased.
        text: String,
        /// Whether the word matches as a prefix.
        prefix: bool,
    },
    /// Words that must appear in this order, written in double quotes.
    Phrase(Vec<String>),
    /// Every part must match.
    And(Vec<Query>),
    /// At least one part must match.
    Or(Vec<Query>),
    /// The part must not match.
    Not(Box<Query>),
}

/// Why a query could not be parsed. Positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum QueryError {
    /// Nothing to search for.
    #[error("the query is empty: type at least one word")]
    Empty,
    /// A `"` without its closing partner.
    #[error("unclosed quote at {at}: add a closing \"")]
    UnclosedQuote {
        /// Position of the opening quote.
        at: usize,
    },
    /// A `(` without its closing partner.
    #[error("unclosed parenthesis at {at}: add a closing )")]
    UnclosedParenthesis {
        /// Position of the opening parenthesis.
        at: usize,
    },
    /// A `)` with no `(` before it.
    #[error("unmatched ) at {at}: remove it or add a ( before it")]
    UnmatchedParenthesis {
        /// Position of the closing parenthesis.
        at: usize,
    },
    /// `()` with no words inside.
    #[error("empty parentheses at {at}: put words inside or remove them")]
    EmptyParentheses {
        /// Position of the opening parenthesis.
        at: usize,
    },
    /// `""` or quotes around punctuation only.
    #[error("nothing to search for in the quotes at {at}: put words between them or remove them")]
    EmptyQuotes {
        /// Position of the opening quote.
        at: usize,
    },
    /// An operator with no word on one of its sides.
    #[error(
        "{operator} at {at} has nothing {side} it: add a word {side} it or remove the {operator}"
    )]
    MissingOperand {
        /// The operator as written: `AND`, `OR`, `NOT` or `-`.
        operator: &'static str,
        /// `before` or `after`.
        side: &'static str,
        /// Position of the operator.
        at: usize,
    },
    /// The whole query (or a `NOT` group) says only what must not appear.
    #[error(
        "the query from {at} has only NOT terms, which would match almost every post: add a word \
         that must appear, e.g. `nurse NOT agency`"
    )]
    OnlyNegative {
        /// Position where the negative part starts.
        at: usize,
    },
    /// A `NOT` as one side of an `OR`.
    #[error(
        "the NOT at {at} is one side of an OR, which would match almost every post: put a word \
         that must appear next to it in parentheses, e.g. `(nurse -agency) OR midwife`"
    )]
    NegativeInOr {
        /// Position of the negative part.
        at: usize,
    },
    /// The query is longer than [`MAX_LENGTH`].
    #[error(
        "the query is {found} characters long; at most {max} are allowed: search for fewer \
         words, or save several searches"
    )]
    TooLong {
        /// The length of the query, in characters.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// Parentheses or `NOT`s nested deeper than [`MAX_DEPTH`].
    #[error(
        "the parentheses and NOTs at {at} nest deeper than the {max} levels allowed: remove \
         some parentheses"
    )]
    TooDeep {
        /// Position of the opening parenthesis or `NOT` one level too deep.
        at: usize,
        /// The limit.
        max: usize,
    },
    /// More words than [`MAX_TERMS`].
    #[error(
        "the query has {found} words (each word of a phrase counts); at most {max} are allowed: \
         search for fewer words, or save several searches"
    )]
    TooManyTerms {
        /// How many the query has.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// More prefix words than [`MAX_PREFIX_TERMS`].
    #[error(
        "the query has {found} prefix words (word*); at most {max} are allowed: write some of \
         them out in full"
    )]
    TooManyPrefixes {
        /// How many the query has.
        found: usize,
        /// The limit.
        max: usize,
    },
    /// A prefix (`word*`) whose word is really several words, like `covid-1*`.
    #[error(
        "`{word}` at {at} is several words with a * at the end: a prefix must be one word \
         (letters and digits only), e.g. `nurs*`"
    )]
    PrefixOfSeveralWords {
        /// The word as written.
        word: String,
        /// Its position.
        at: usize,
    },
}

/// The longest query accepted, in characters.
pub const MAX_LENGTH: usize = 2_000;

/// How deeply parentheses and `NOT`s may nest.
pub const MAX_DEPTH: usize = 16;

/// The most words one query may hold, counting every word of a phrase and every prefix word:
/// the full-text index reads the positions of each.
pub const MAX_TERMS: usize = 64;

/// The most prefix words (`nurs*`) one query may hold: each one makes the full-text index read
/// the lists of every word that starts so.
pub const MAX_PREFIX_TERMS: usize = 10;

/// Parses a query written in the listening query language (see the module documentation).
///
/// Words made only of punctuation (`&`, `--`) are ignored, like the full-text index ignores them.
pub fn parse(input: &str) -> Result<Query, QueryError> {
    let length = input.chars().count();
    if length > MAX_LENGTH {
        return Err(QueryError::TooLong {
            found: length,
            max: MAX_LENGTH,
        });
    }
    let tokens = lex(input)?;
    let mut parser = Parser {
        tokens,
        pos: 0,
        depth: 0,
    };
    let node = parser.or()?;
    if let Some(Lexeme { at, .. }) = parser.tokens.get(parser.pos) {
        return Err(QueryError::UnmatchedParenthesis { at: *at });
    }
    let node = node.ok_or(QueryError::Empty)?;
    if !bounded(&node.query) {
        return Err(QueryError::OnlyNegative { at: node.at });
    }
    let (terms, prefixes) = count_terms(&node.query);
    if prefixes > MAX_PREFIX_TERMS {
        return Err(QueryError::TooManyPrefixes {
            found: prefixes,
            max: MAX_PREFIX_TERMS,
        });
    }
    if terms > MAX_TERMS {
        return Err(QueryError::TooManyTerms {
            found: terms,
            max: MAX_TERMS,
        });
    }
    Ok(node.query)
}

/// How many words a query holds (every word of a phrase counted), and how many of them are
/// prefixes.
fn count_terms(query: &Query) -> (usize, usize) {
    match query {
        Query::Term { prefix, .. } => (1, usize::from(*prefix)),
        Query::Phrase(words) => (words.len(), 0),
        Query::And(parts) | Query::Or(parts) => parts
            .iter()
            .map(count_terms)
            .fold((0, 0), |(terms, prefixes), (t, p)| {
                (terms + t, prefixes + p)
            }),
        Query::Not(part) => count_terms(part),
    }
}

impl Query {
    /// Whether `text` matches the query, with the same word splitting as the full-text index.
    pub fn matches(&self, text: &str) -> bool {
        self.matches_tokens(&tokens(text))
    }

    /// Whether text already split with [`tokens`] matches. Use it to test one text against many
    /// queries without splitting it again.
    pub fn matches_tokens<S: AsRef<str>>(&self, words: &[S]) -> bool {
        match self {
            Query::Term {
                text,
                prefix: false,
            } => words.iter().any(|w| w.as_ref() == text),
            Query::Term { text, prefix: true } => {
                words.iter().any(|w| w.as_ref().starts_with(text.as_str()))
            }
            Query::Phrase(phrase) => {
                !phrase.is_empty()
                    && words.windows(phrase.len()).any(|window| {
                        window
                            .iter()
                            .zip(phrase)
                            .all(|(w, p)| w.as_ref() == p.as_str())
                    })
            }
            Query::And(parts) => parts.iter().all(|q| q.matches_tokens(words)),
            Query::Or(parts) => parts.iter().any(|q| q.matches_tokens(words)),
            Query::Not(part) => !part.matches_tokens(words),
        }
    }
}

/// Writes the query back in the query language, in a canonical form that [`parse`] reads back
/// to the same query.
impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Query::Term { text, prefix } => {
                f.write_str(text)?;
                if *prefix {
                    f.write_str("*")?;
                }
                Ok(())
            }
            Query::Phrase(words) => write!(f, "\"{}\"", words.join(" ")),
            Query::And(parts) => write_joined(f, parts, " "),
            Query::Or(parts) => write_joined(f, parts, " OR "),
            Query::Not(part) => {
                f.write_str("-")?;
                write_part(f, part)
            }
        }
    }
}

fn write_joined(f: &mut fmt::Formatter<'_>, parts: &[Query], separator: &str) -> fmt::Result {
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            f.write_str(separator)?;
        }
        write_part(f, part)?;
    }
    Ok(())
}

fn write_part(f: &mut fmt::Formatter<'_>, part: &Query) -> fmt::Result {
    match part {
        Query::And(_) | Query::Or(_) => write!(f, "({part})"),
        _ => write!(f, "{part}"),
    }
}

/// Splits text into the words of the full-text index: lower-case, diacritics of Latin letters
/// removed, split at every character that is not a letter or digit (FTS5 `unicode61
/// remove_diacritics 2`).
pub fn tokens(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        let take = if current.is_empty() {
            is_token_char(c)
        } else {
            is_token_char(c) || is_diacritic(c)
        };
        if take {
            if let Some(folded) = fold(c) {
                current.push(folded);
            } else if current.is_empty() {
                // A token character that folds to nothing still opens a token in FTS5.
                current.push('\u{0}');
            }
        } else if !current.is_empty() {
            push_token(&mut out, &mut current);
        }
    }
    if !current.is_empty() {
        push_token(&mut out, &mut current);
    }
    out
}

fn push_token(out: &mut Vec<String>, current: &mut String) {
    let token: String = current.chars().filter(|&c| c != '\u{0}').collect();
    current.clear();
    if !token.is_empty() {
        out.push(token);
    }
}

fn is_token_char(c: char) -> bool {
    if c.is_ascii() {
        c.is_ascii_alphanumeric()
    } else {
        c.is_alphanumeric()
            || matches!(c, '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{FFFFD}' | '\u{100000}'..='\u{10FFFD}')
    }
}

/// SQLite's `sqlite3Fts5UnicodeIsdiacritic`: combining marks that continue a word.
fn is_diacritic(c: char) -> bool {
    let c = u32::from(c);
    if !(768..=817).contains(&c) {
        return false;
    }
    let (mask, bit) = if c < 768 + 32 {
        (0x0802_9FDF_u32, c - 768)
    } else {
        (0x0003_61F8_u32, c - 768 - 32)
    };
    mask & (1 << bit) != 0
}

/// SQLite's `sqlite3Fts5UnicodeFold` with diacritic removal 2. `None` when the character is
/// dropped from the word (a combining mark).
fn fold(c: char) -> Option<char> {
    let code = u32::from(c);
    if code < 128 {
        return Some(c.to_ascii_lowercase());
    }
    if code >= 65536 {
        if (66560..66600).contains(&code) {
            return char::from_u32(code + 40);
        }
        return Some(c);
    }
    let mut folded = code;
    let index = FOLD_RANGES.partition_point(|&(start, _, _)| u32::from(start) <= code);
    if let Some(&(start, flags, range)) = index.checked_sub(1).and_then(|i| FOLD_RANGES.get(i)) {
        let start = u32::from(start);
        let every_second = u32::from(flags & 1);
        if code < start + u32::from(range) && (every_second & (start ^ code)) == 0 {
            let offset = FOLD_OFFSETS
                .get(usize::from(flags >> 1))
                .copied()
                .map_or(0, u32::from);
            folded = (code + offset) & 0xFFFF;
        }
    }
    let base = remove_diacritic(folded);
    if base == 0 {
        None
    } else {
        char::from_u32(base).or(Some(c))
    }
}

/// SQLite's `fts5_remove_diacritic` with `bComplex` set.
fn remove_diacritic(code: u32) -> u32 {
    let key = (code << 3) | 7;
    let index = DIACRITIC_KEYS.partition_point(|&k| u32::from(k) <= key);
    let Some(i) = index.checked_sub(1) else {
        return code;
    };
    let (Some(&entry), Some(&base)) = (DIACRITIC_KEYS.get(i), DIACRITIC_BASE.get(i)) else {
        return code;
    };
    let entry = u32::from(entry);
    if code > (entry >> 3) + (entry & 7) {
        code
    } else {
        u32::from(base & 0x7F)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Lex {
    Word(String),
    Phrase(String),
    Open,
    Close,
    And,
    Or,
    Not,
    Minus,
}

#[derive(Debug, Clone)]
struct Lexeme {
    lex: Lex,
    at: usize,
}

fn lex(input: &str) -> Result<Vec<Lexeme>, QueryError> {
    let chars: Vec<char> = input.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while let Some(&c) = chars.get(i) {
        let at = i + 1;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' => {
                out.push(Lexeme { lex: Lex::Open, at });
                i += 1;
            }
            ')' => {
                out.push(Lexeme {
                    lex: Lex::Close,
                    at,
                });
                i += 1;
            }
            '"' => {
                let end = chars
                    .iter()
                    .skip(i + 1)
                    .position(|&c| c == '"')
                    .ok_or(QueryError::UnclosedQuote { at })?;
                let text: String = chars.iter().skip(i + 1).take(end).collect();
                out.push(Lexeme {
                    lex: Lex::Phrase(text),
                    at,
                });
                i += end + 2;
            }
            '-' if chars
                .get(i + 1)
                .is_some_and(|&n| !n.is_whitespace() && n != ')' && n != '-') =>
            {
                out.push(Lexeme {
                    lex: Lex::Minus,
                    at,
                });
                i += 1;
            }
            _ => {
                let len = chars
                    .iter()
                    .skip(i)
                    .position(|&c| c.is_whitespace() || matches!(c, '(' | ')' | '"'))
                    .unwrap_or(chars.len() - i);
                let word: String = chars.iter().skip(i).take(len).collect();
                let lex = match word.as_str() {
                    "AND" => Lex::And,
                    "OR" => Lex::Or,
                    "NOT" => Lex::Not,
                    _ => Lex::Word(word),
                };
                out.push(Lexeme { lex, at });
                i += len;
            }
        }
    }
    Ok(out)
}

/// A query under construction, with the position where it starts (for error messages).
struct Node {
    query: Query,
    at: usize,
}

struct Parser {
    tokens: Vec<Lexeme>,
    pos: usize,
    /// Parentheses and `NOT`s open around the current position, bounded by [`MAX_DEPTH`] so
    /// that the recursion of the parser (and of everything that walks the query) stays shallow.
    depth: usize,
}

impl Parser {
    /// Enters one more level of nesting at `at`, or refuses it past [`MAX_DEPTH`].
    fn descend(&mut self, at: usize) -> Result<(), QueryError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(QueryError::TooDeep { at, max: MAX_DEPTH });
        }
        Ok(())
    }

    fn peek(&self) -> Option<&Lexeme> {
        self.tokens.get(self.pos)
    }

    fn or(&mut self) -> Result<Option<Node>, QueryError> {
        let mut parts: Vec<Node> = Vec::new();
        let mut pending_or: Option<usize> = None;
        loop {
            let part = self.and()?;
            match (part, pending_or) {
                (Some(node), _) => parts.push(node),
                (None, Some(at)) => {
                    return Err(QueryError::MissingOperand {
                        operator: "OR",
                        side: "after",
                        at,
                    });
                }
                (None, None) => {}
            }
            match self.peek() {
                Some(Lexeme { lex: Lex::Or, at }) => {
                    let at = *at;
                    if parts.is_empty() {
                        return Err(QueryError::MissingOperand {
                            operator: "OR",
                            side: "before",
                            at,
                        });
                    }
                    pending_or = Some(at);
                    self.pos += 1;
                }
                _ => break,
            }
        }
        if parts.len() > 1
            && let Some(bad) = parts.iter().find(|p| !bounded(&p.query))
        {
            return Err(QueryError::NegativeInOr { at: bad.at });
        }
        Ok(combine(parts, Query::Or))
    }

    fn and(&mut self) -> Result<Option<Node>, QueryError> {
        let mut parts: Vec<Node> = Vec::new();
        while let Some(lexeme) = self.peek() {
            let at = lexeme.at;
            match lexeme.lex {
                Lex::Or | Lex::Close => break,
                Lex::And => {
                    self.pos += 1;
                    if parts.is_empty() {
                        return Err(QueryError::MissingOperand {
                            operator: "AND",
                            side: "before",
                            at,
                        });
                    }
                    match self.unary()? {
                        Some(node) => parts.push(node),
                        None => {
                            return Err(QueryError::MissingOperand {
                                operator: "AND",
                                side: "after",
                                at,
                            });
                        }
                    }
                }
                _ => {
                    if let Some(node) = self.unary()? {
                        parts.push(node);
                    }
                }
            }
        }
        Ok(combine(parts, Query::And))
    }

    fn unary(&mut self) -> Result<Option<Node>, QueryError> {
        let Some(lexeme) = self.peek() else {
            return Ok(None);
        };
        let at = lexeme.at;
        let operator = match lexeme.lex {
            Lex::Not => "NOT",
            Lex::Minus => "-",
            _ => return self.primary(),
        };
        self.pos += 1;
        self.descend(at)?;
        let operand = self.unary()?.ok_or(QueryError::MissingOperand {
            operator,
            side: "after",
            at,
        })?;
        self.depth -= 1;
        let query = match operand.query {
            Query::Not(inner) => *inner,
            other if bounded(&other) => Query::Not(Box::new(other)),
            _ => return Err(QueryError::OnlyNegative { at: operand.at }),
        };
        Ok(Some(Node { query, at }))
    }

    fn primary(&mut self) -> Result<Option<Node>, QueryError> {
        let Some(lexeme) = self.tokens.get(self.pos).cloned() else {
            return Ok(None);
        };
        let at = lexeme.at;
        self.pos += 1;
        let query = match lexeme.lex {
            Lex::Open => {
                self.descend(at)?;
                let inner = self.or()?;
                self.depth -= 1;
                match self.peek() {
                    Some(Lexeme {
                        lex: Lex::Close, ..
                    }) => self.pos += 1,
                    _ => return Err(QueryError::UnclosedParenthesis { at }),
                }
                return match inner {
                    Some(node) => Ok(Some(Node { at, ..node })),
                    None => Err(QueryError::EmptyParentheses { at }),
                };
            }
            Lex::Phrase(text) => {
                let mut words = tokens(&text);
                match words.len() {
                    0 => return Err(QueryError::EmptyQuotes { at }),
                    1 => Query::Term {
                        text: words.remove(0),
                        prefix: false,
                    },
                    _ => Query::Phrase(words),
                }
            }
            Lex::Word(word) => {
                let stem = word.trim_end_matches('*');
                let prefix = stem.len() < word.len();
                let mut words = tokens(stem);
                match words.len() {
                    0 => return Ok(None),
                    1 => Query::Term {
                        text: words.remove(0),
                        prefix,
                    },
                    _ if prefix => return Err(QueryError::PrefixOfSeveralWords { word, at }),
                    _ => Query::Phrase(words),
                }
            }
            Lex::Close | Lex::And | Lex::Or | Lex::Not | Lex::Minus => {
                // Not an operand: leave it to the caller, which reports what is missing.
                self.pos -= 1;
                return Ok(None);
            }
        };
        Ok(Some(Node { query, at }))
    }
}

/// Joins parts with `make` (`Query::And` or `Query::Or`), flattening nested parts of the same
/// kind; a single part stands alone.
fn combine(parts: Vec<Node>, make: fn(Vec<Query>) -> Query) -> Option<Node> {
    let at = parts.first()?.at;
    let or = matches!(make(Vec::new()), Query::Or(_));
    let mut flat = Vec::with_capacity(parts.len());
    for node in parts {
        match node.query {
            Query::And(inner) if !or => flat.extend(inner),
            Query::Or(inner) if or => flat.extend(inner),
            other => flat.push(other),
        }
    }
    if flat.len() == 1 {
        let query = flat.pop()?;
        Some(Node { query, at })
    } else {
        Some(Node {
            query: make(flat),
            at,
        })
    }
}

/// Whether the query names something that must appear (so an index can answer it).
fn bounded(query: &Query) -> bool {
    match query {
        Query::Term { .. } | Query::Phrase(_) => true,
        Query::Not(_) => false,
        Query::And(parts) => parts.iter().any(bounded),
        Query::Or(parts) => parts.iter().all(bounded),
    }
}

const DIACRITIC_KEYS: [u16; 126] = [
    0, 1797, 1848, 1859, 1891, 1928, 1940, 1995, 2024, 2040, 2060, 2110, 2168, 2206, 2264, 2286,
    2344, 2383, 2472, 2488, 2516, 2596, 2668, 2732, 2782, 2842, 2894, 2954, 2984, 3000, 3028, 3336,
    3456, 3696, 3712, 3728, 3744, 3766, 3832, 3896, 3912, 3928, 3944, 3968, 4008, 4040, 4056, 4106,
    4138, 4170, 4202, 4234, 4266, 4296, 4312, 4344, 4408, 4424, 4442, 4472, 4488, 4504, 6148, 6198,
    6264, 6280, 6360, 6429, 6505, 6529, 61448, 61468, 61512, 61534, 61592, 61610, 61642, 61672,
    61688, 61704, 61726, 61784, 61800, 61816, 61836, 61880, 61896, 61914, 61948, 61998, 62062,
    62122, 62154, 62184, 62200, 62218, 62252, 62302, 62364, 62410, 62442, 62478, 62536, 62554,
    62584, 62604, 62640, 62648, 62656, 62664, 62730, 62766, 62830, 62890, 62924, 62974, 63032,
    63050, 63082, 63118, 63182, 63242, 63274, 63310, 63368, 63390,
];

const DIACRITIC_BASE: [u8; 126] = [
    b'\0', b'a', b'c', b'e', b'i', b'n', b'o', b'u', b'y', b'y', b'a', b'c', b'd', b'e', b'e',
    b'g', b'h', b'i', b'j', b'k', b'l', b'n', b'o', b'r', b's', b't', b'u', b'u', b'w', b'y', b'z',
    b'o', b'u', b'a', b'i', b'o', b'u', b'u', b'a', b'g', b'k', b'o', b'o', b'j', b'g', b'n', b'a',
    b'a', b'e', b'i', b'o', b'r', b'u', b's', b't', b'h', b'a', b'e', b'o', b'o', b'o', b'y',
    b'\0', b'\0', b'\0', b'\0', b'\0', b'\0', b'\0', b'\0', b'a', b'b', b'c', b'd', b'd', b'e',
    b'e', b'e', b'f', b'g', b'h', b'h', b'i', b'i', b'k', b'l', b'l', b'l', b'm', b'n', b'o', b'p',
    b'r', b'r', b'r', b's', b's', b't', b'u', b'u', b'v', b'w', b'w', b'x', b'y', b'z', b'h', b't',
    b'w', b'y', b'a', b'a', b'a', b'a', b'e', b'e', b'e', b'i', b'o', b'o', b'o', b'o', b'u', b'u',
    b'u', b'y',
];

const FOLD_RANGES: [(u16, u8, u8); 163] = [
    (65, 14, 26),
    (181, 64, 1),
    (192, 14, 23),
    (216, 14, 7),
    (256, 1, 48),
    (306, 1, 6),
    (313, 1, 16),
    (330, 1, 46),
    (376, 116, 1),
    (377, 1, 6),
    (383, 104, 1),
    (385, 50, 1),
    (386, 1, 4),
    (390, 44, 1),
    (391, 0, 1),
    (393, 42, 2),
    (395, 0, 1),
    (398, 32, 1),
    (399, 38, 1),
    (400, 40, 1),
    (401, 0, 1),
    (403, 42, 1),
    (404, 46, 1),
    (406, 52, 1),
    (407, 48, 1),
    (408, 0, 1),
    (412, 52, 1),
    (413, 54, 1),
    (415, 56, 1),
    (416, 1, 6),
    (422, 60, 1),
    (423, 0, 1),
    (425, 60, 1),
    (428, 0, 1),
    (430, 60, 1),
    (431, 0, 1),
    (433, 58, 2),
    (435, 1, 4),
    (439, 62, 1),
    (440, 0, 1),
    (444, 0, 1),
    (452, 2, 1),
    (453, 0, 1),
    (455, 2, 1),
    (456, 0, 1),
    (458, 2, 1),
    (459, 1, 18),
    (478, 1, 18),
    (497, 2, 1),
    (498, 1, 4),
    (502, 122, 1),
    (503, 134, 1),
    (504, 1, 40),
    (544, 110, 1),
    (546, 1, 18),
    (570, 70, 1),
    (571, 0, 1),
    (573, 108, 1),
    (574, 68, 1),
    (577, 0, 1),
    (579, 106, 1),
    (580, 28, 1),
    (581, 30, 1),
    (582, 1, 10),
    (837, 36, 1),
    (880, 1, 4),
    (886, 0, 1),
    (902, 18, 1),
    (904, 16, 3),
    (908, 26, 1),
    (910, 24, 2),
    (913, 14, 17),
    (931, 14, 9),
    (962, 0, 1),
    (975, 4, 1),
    (976, 140, 1),
    (977, 142, 1),
    (981, 146, 1),
    (982, 144, 1),
    (984, 1, 24),
    (1008, 136, 1),
    (1009, 138, 1),
    (1012, 130, 1),
    (1013, 128, 1),
    (1015, 0, 1),
    (1017, 152, 1),
    (1018, 0, 1),
    (1021, 110, 3),
    (1024, 34, 16),
    (1040, 14, 32),
    (1120, 1, 34),
    (1162, 1, 54),
    (1216, 6, 1),
    (1217, 1, 14),
    (1232, 1, 88),
    (1329, 22, 38),
    (4256, 66, 38),
    (4295, 66, 1),
    (4301, 66, 1),
    (7680, 1, 150),
    (7835, 132, 1),
    (7838, 96, 1),
    (7840, 1, 96),
    (7944, 150, 8),
    (7960, 150, 6),
    (7976, 150, 8),
    (7992, 150, 8),
    (8008, 150, 6),
    (8025, 151, 8),
    (8040, 150, 8),
    (8072, 150, 8),
    (8088, 150, 8),
    (8104, 150, 8),
    (8120, 150, 2),
    (8122, 126, 2),
    (8124, 148, 1),
    (8126, 100, 1),
    (8136, 124, 4),
    (8140, 148, 1),
    (8152, 150, 2),
    (8154, 120, 2),
    (8168, 150, 2),
    (8170, 118, 2),
    (8172, 152, 1),
    (8184, 112, 2),
    (8186, 114, 2),
    (8188, 148, 1),
    (8486, 98, 1),
    (8490, 92, 1),
    (8491, 94, 1),
    (8498, 12, 1),
    (8544, 8, 16),
    (8579, 0, 1),
    (9398, 10, 26),
    (11264, 22, 47),
    (11360, 0, 1),
    (11362, 88, 1),
    (11363, 102, 1),
    (11364, 90, 1),
    (11367, 1, 6),
    (11373, 84, 1),
    (11374, 86, 1),
    (11375, 80, 1),
    (11376, 82, 1),
    (11378, 0, 1),
    (11381, 0, 1),
    (11390, 78, 2),
    (11392, 1, 100),
    (11499, 1, 4),
    (11506, 0, 1),
    (42560, 1, 46),
    (42624, 1, 24),
    (42786, 1, 14),
    (42802, 1, 62),
    (42873, 1, 4),
    (42877, 76, 1),
    (42878, 1, 10),
    (42891, 0, 1),
    (42893, 74, 1),
    (42896, 1, 4),
    (42912, 1, 10),
    (42922, 72, 1),
    (65313, 14, 26),
];

const FOLD_OFFSETS: [u16; 77] = [
    1, 2, 8, 15, 16, 26, 28, 32, 37, 38, 40, 48, 63, 64, 69, 71, 79, 80, 116, 202, 203, 205, 206,
    207, 209, 210, 211, 213, 214, 217, 218, 219, 775, 7264, 10792, 10795, 23228, 23256, 30204,
    54721, 54753, 54754, 54756, 54787, 54793, 54809, 57153, 57274, 57921, 58019, 58363, 61722,
    65268, 65341, 65373, 65406, 65408, 65410, 65415, 65424, 65436, 65439, 65450, 65462, 65472,
    65476, 65478, 65480, 65482, 65488, 65506, 65511, 65514, 65521, 65527, 65528, 65529,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str) -> Query {
        Query::Term {
            text: text.to_owned(),
            prefix: false,
        }
    }

    fn prefix(text: &str) -> Query {
        Query::Term {
            text: text.to_owned(),
            prefix: true,
        }
    }

    fn not(q: Query) -> Query {
        Query::Not(Box::new(q))
    }

    fn phrase(words: &[&str]) -> Query {
        Query::Phrase(words.iter().map(|w| (*w).to_owned()).collect())
    }

    #[test]
    fn tokens_fold_case_and_diacritics() {
        assert_eq!(
            tokens("Café NAÏVE Œuvre Straße"),
            ["cafe", "naive", "œuvre", "straße"]
        );
        assert_eq!(
            tokens("A&E wait—4 hours!! #NHS @trust_1"),
            ["a", "e", "wait", "4", "hours", "nhs", "trust", "1"]
        );
        // A decomposed accent (e + combining acute) is dropped inside a word.
        assert_eq!(tokens("cafe\u{301} ok"), ["cafe", "ok"]);
        assert_eq!(
            tokens("Ελληνικά ДОКТОР 看護師"),
            ["ελληνικά", "доктор", "看護師"]
        );
        assert!(tokens(" -- !! ").is_empty());
    }

    #[test]
    fn parses_words_phrases_and_operators() {
        assert_eq!(parse("nurse").unwrap(), term("nurse"));
        assert_eq!(
            parse("Nurse Doctor").unwrap(),
            Query::And(vec![term("nurse"), term("doctor")])
        );
        assert_eq!(
            parse("nurse AND doctor").unwrap(),
            parse("nurse doctor").unwrap()
        );
        assert_eq!(
            parse("\"A&E waiting\"").unwrap(),
            phrase(&["a", "e", "waiting"])
        );
        assert_eq!(parse("covid-19").unwrap(), phrase(&["covid", "19"]));
        assert_eq!(parse("nurs*").unwrap(), prefix("nurs"));
        assert_eq!(
            parse("a b OR c").unwrap(),
            Query::Or(vec![Query::And(vec![term("a"), term("b")]), term("c")])
        );
        assert_eq!(
            parse("a (b OR c)").unwrap(),
            Query::And(vec![term("a"), Query::Or(vec![term("b"), term("c")])])
        );
        assert_eq!(
            parse("nurse -agency NOT bank").unwrap(),
            Query::And(vec![term("nurse"), not(term("agency")), not(term("bank"))])
        );
        assert_eq!(
            parse("nurse (-agency -bank)").unwrap(),
            Query::And(vec![term("nurse"), not(term("agency")), not(term("bank"))])
        );
        assert_eq!(
            parse("a OR b OR (c OR d)").unwrap(),
            Query::Or(vec![term("a"), term("b"), term("c"), term("d")])
        );
        assert_eq!(parse("NOT NOT a").unwrap(), term("a"));
        // Lower-case operator words are plain words; punctuation-only words are ignored.
        assert_eq!(
            parse("not & happy").unwrap(),
            Query::And(vec![term("not"), term("happy")])
        );
        assert_eq!(parse("well-led -").unwrap(), phrase(&["well", "led"]));
    }

    #[test]
    fn errors_say_where_and_what_to_do() {
        let err = parse("nurse \"long wait").unwrap_err();
        assert_eq!(err, QueryError::UnclosedQuote { at: 7 });
        assert_eq!(err.to_string(), "unclosed quote at 7: add a closing \"");
        assert_eq!(
            parse("(a OR b").unwrap_err(),
            QueryError::UnclosedParenthesis { at: 1 }
        );
        assert_eq!(
            parse("a OR b)").unwrap_err(),
            QueryError::UnmatchedParenthesis { at: 7 }
        );
        assert_eq!(
            parse("a () b").unwrap_err(),
            QueryError::EmptyParentheses { at: 3 }
        );
        assert_eq!(
            parse("a \"\"").unwrap_err(),
            QueryError::EmptyQuotes { at: 3 }
        );
        assert_eq!(parse("   ").unwrap_err(), QueryError::Empty);
        assert_eq!(parse("&&").unwrap_err(), QueryError::Empty);
        assert!(matches!(
            parse("OR a").unwrap_err(),
            QueryError::MissingOperand {
                operator: "OR",
                side: "before",
                at: 1
            }
        ));
        assert!(matches!(
            parse("a OR").unwrap_err(),
            QueryError::MissingOperand {
                operator: "OR",
                side: "after",
                at: 3
            }
        ));
        assert!(matches!(
            parse("a AND").unwrap_err(),
            QueryError::MissingOperand {
                operator: "AND",
                side: "after",
                ..
            }
        ));
        assert!(matches!(
            parse("a NOT").unwrap_err(),
            QueryError::MissingOperand {
                operator: "NOT",
                ..
            }
        ));
        assert!(matches!(
            parse("(a NOT) b").unwrap_err(),
            QueryError::MissingOperand {
                operator: "NOT",
                at: 4,
                ..
            }
        ));
        assert_eq!(
            parse("-agency").unwrap_err(),
            QueryError::OnlyNegative { at: 1 }
        );
        assert_eq!(
            parse("NOT a NOT b").unwrap_err(),
            QueryError::OnlyNegative { at: 1 }
        );
        assert_eq!(
            parse("a OR -b").unwrap_err(),
            QueryError::NegativeInOr { at: 6 }
        );
        assert_eq!(
            parse("x NOT (-a -b)").unwrap_err(),
            QueryError::OnlyNegative { at: 7 }
        );
        assert!(matches!(
            parse("covid-1*").unwrap_err(),
            QueryError::PrefixOfSeveralWords { at: 1, .. }
        ));
        let message = parse("-agency").unwrap_err().to_string();
        assert!(message.contains("add a word that must appear"), "{message}");
    }

    #[test]
    fn matches_in_memory() {
        let q = parse("(nurse* OR midwife) \"night shift\" -agency").unwrap();
        assert!(q.matches("Our NURSES did a brilliant night shift"));
        assert!(q.matches("midwife on the night-shift"));
        assert!(!q.matches("nurse on the shift at night"));
        assert!(!q.matches("agency nurse on the night shift"));
        assert!(parse("cafe").unwrap().matches("Le Café"));
        assert!(parse("café").unwrap().matches("cafe"));
        assert!(parse("A&E").unwrap().matches("queue at a&e today"));
        assert!(!parse("A&E").unwrap().matches("a queue, e"));
    }

    /// A small deterministic generator standing in for a property-testing crate.
    struct Lcg(u64);

    impl Lcg {
        fn next(&mut self, n: u64) -> u64 {
            self.0 = self
                .0
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (self.0 >> 33) % n
        }
    }

    const WORDS: [&str; 6] = ["nurse", "ward", "café", "wait", "a", "e"];

    fn random_query(rng: &mut Lcg, depth: u32) -> Query {
        let leaf = depth == 0 || rng.next(3) == 0;
        if leaf {
            let word = tokens(WORDS[rng.next(6) as usize]).remove(0);
            return match rng.next(3) {
                0 => term(&word),
                1 => prefix(&word[..1]),
                _ => Query::Phrase(vec![word, tokens(WORDS[rng.next(6) as usize]).remove(0)]),
            };
        }
        let n = 2 + rng.next(2) as usize;
        let parts: Vec<Query> = (0..n).map(|_| random_query(rng, depth - 1)).collect();
        if rng.next(2) == 0 {
            let mut parts: Vec<Query> = parts
                .into_iter()
                .flat_map(|p| match p {
                    Query::Or(inner) => inner,
                    other => vec![other],
                })
                .collect();
            parts.dedup();
            if parts.len() < 2 {
                return parts.remove(0);
            }
            Query::Or(parts)
        } else {
            let mut flat = Vec::new();
            for (i, p) in parts.into_iter().enumerate() {
                let p = if i > 0 && rng.next(3) == 0 { not(p) } else { p };
                match p {
                    Query::And(inner) => flat.extend(inner),
                    other => flat.push(other),
                }
            }
            if !flat.iter().any(bounded) {
                return flat.remove(0);
            }
            Query::And(flat)
        }
    }

    fn random_text(rng: &mut Lcg) -> String {
        let n = rng.next(8);
        (0..n)
            .map(|_| WORDS[rng.next(6) as usize])
            .collect::<Vec<_>>()
            .join(if rng.next(2) == 0 { " " } else { ", " })
    }

    #[test]
    fn display_parses_back_and_matching_is_boolean_algebra() {
        let mut rng = Lcg(7);
        for _ in 0..2000 {
            let q = random_query(&mut rng, 3);
            let shown = q.to_string();
            let back = parse(&shown).unwrap_or_else(|e| panic!("{shown}: {e}"));
            assert_eq!(back, q, "{shown}");
            let text = random_text(&mut rng);
            let expected = match &q {
                Query::And(parts) => parts.iter().all(|p| p.matches(&text)),
                Query::Or(parts) => parts.iter().any(|p| p.matches(&text)),
                other => other.matches(&text),
            };
            assert_eq!(q.matches(&text), expected);
        }
    }

    #[test]
    fn deep_nesting_is_refused_not_fatal() {
        // Issue 14, finding 1: 6,000 nested parentheses overflowed the stack of the parser.
        let deep = format!("{}nurse{}", "(".repeat(6_000), ")".repeat(6_000));
        assert!(matches!(
            parse(&deep).unwrap_err(),
            QueryError::TooLong { .. }
        ));
        let deep = format!("{}nurse{}", "(".repeat(990), ")".repeat(990));
        let error = parse(&deep).unwrap_err();
        assert!(matches!(error, QueryError::TooDeep { .. }), "{error:?}");
        assert!(error.to_string().contains("16 levels"), "{error}");
        let nots = format!("a {}b", "NOT ".repeat(6_000));
        assert!(matches!(
            parse(&nots).unwrap_err(),
            QueryError::TooDeep { .. } | QueryError::TooLong { .. }
        ));
        let fine = format!("{}nurse{}", "(".repeat(MAX_DEPTH), ")".repeat(MAX_DEPTH));
        assert_eq!(parse(&fine).unwrap(), term("nurse"));
        let one_more = format!(
            "{}nurse{}",
            "(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert_eq!(
            parse(&one_more).unwrap_err(),
            QueryError::TooDeep {
                at: MAX_DEPTH + 1,
                max: MAX_DEPTH
            }
        );
    }

    #[test]
    fn expensive_queries_are_refused_with_the_limit_named() {
        // Issue 14, finding 2: 500 prefix terms took 39 s of CPU.
        let prefixes = ["a*"; 500].join(" ");
        let error = parse(&prefixes).unwrap_err();
        assert_eq!(
            error,
            QueryError::TooManyPrefixes {
                found: 500,
                max: MAX_PREFIX_TERMS
            }
        );
        assert!(error.to_string().contains(&MAX_PREFIX_TERMS.to_string()));
        let allowed = ["nurs*"; MAX_PREFIX_TERMS].join(" OR ");
        assert!(parse(&allowed).is_ok());

        let words: Vec<String> = (0..MAX_TERMS + 1).map(|i| format!("w{i}")).collect();
        assert_eq!(
            parse(&words.join(" OR ")).unwrap_err(),
            QueryError::TooManyTerms {
                found: MAX_TERMS + 1,
                max: MAX_TERMS
            }
        );
        assert!(parse(&words[..MAX_TERMS].join(" OR ")).is_ok());
        let long_phrase = format!("the NOT \"{}\"", ["the"; MAX_TERMS].join(" "));
        assert_eq!(
            parse(&long_phrase).unwrap_err(),
            QueryError::TooManyTerms {
                found: MAX_TERMS + 1,
                max: MAX_TERMS
            }
        );

        let long = "nurse ".repeat(MAX_LENGTH);
        assert_eq!(
            parse(&long).unwrap_err(),
            QueryError::TooLong {
                found: long.chars().count(),
                max: MAX_LENGTH
            }
        );
    }

    #[test]
    fn arbitrary_input_never_panics() {
        let mut rng = Lcg(11);
        let alphabet = [
            'a', 'B', ' ', '"', '(', ')', '-', '*', 'é', '&', 'O', 'R', 'N', 'T', 'D',
        ];
        for _ in 0..5000 {
            let n = rng.next(14);
            let input: String = (0..n)
                .map(|_| alphabet[rng.next(alphabet.len() as u64) as usize])
                .collect();
            if let Ok(q) = parse(&input) {
                assert!(bounded(&q), "{input}");
                assert_eq!(parse(&q.to_string()).unwrap(), q, "{input}");
            }
        }
    }
}
