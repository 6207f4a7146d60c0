//! The listening query language shared by search and monitors.
//!
//! Placeholder: the parser, the in-memory matcher and the tests are being written.

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
