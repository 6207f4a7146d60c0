//! The directory of organisations, people and accounts as people keep it: the checks every entry
//! passes ([`check`]), the CSV file it is imported from and exported to ([`csv`]), and the NHS
//! ODS lists that peer organisations are linked to by code ([`ods`]).
//!
//! The entries themselves are `model::directory`'s plain types and the store keeps them; this
//! crate does no I/O apart from [`ods::OdsLists::read_folder`], which reads the three ODS files
//! from a folder.

pub mod check;
pub mod csv;
pub mod ods;

pub use check::{FieldError, check_entry};
pub use csv::{LineError, Row};
pub use ods::{OdsKind, OdsLists, OdsOrganisation};
