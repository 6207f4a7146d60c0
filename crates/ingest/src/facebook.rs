//! Placeholder: the facebook importer is being written.

use crate::Parsed;

/// Parses one JSON document of this network.
pub fn parse_document(_doc: &str, _out: &mut Vec<Parsed>) {}
