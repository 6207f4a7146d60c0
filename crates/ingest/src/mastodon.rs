//! Placeholder: the mastodon importer is being written.

use crate::Parsed;

/// Parses one JSON document of this network.
pub fn parse_document(_doc: &str, _out: &mut Vec<Parsed>) {}

/// Parses a streaming API body.
pub fn parse_sse(_input: crate::input::Input) -> crate::input::Records {
    Box::new(std::iter::empty())
}
