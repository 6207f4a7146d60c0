//! Placeholder: the CSV importer is being written.

/// How CSV columns map to post fields.
#[derive(Debug, Clone, Default)]
pub struct Mapping {}

/// Parses a CSV export.
pub fn parse(_input: crate::input::Input, _mapping: &Mapping) -> Result<crate::input::Records, String> {
    Ok(Box::new(std::iter::empty()))
}
