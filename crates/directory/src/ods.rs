//! The NHS Organisation Data Service (ODS) lists: NHS trusts (`etr.csv`), CCGs and ICB
//! sub-locations (`eccg.csv`), both in the ODS standard headerless layout, and the ICBs with
//! their ODS codes (`icb_names_codes_dec_2024.csv`, from the ONS, with a header).
//!
//! The lists name organisations by ODS code and hold no social media handles: the directory
//! links a peer organisation to its code ([`peer_entry`]) and the team adds its accounts. The
//! presence audit reads the same lists for every organisation, its type and its region.

use std::{collections::HashMap, path::Path};

use jiff::civil::Date;
use model::directory::{DirectoryEntry, EntryKind};

/// The files of the ODS lists, as named in the folder they are read from.
pub const FILES: [&str; 3] = ["etr.csv", "eccg.csv", "icb_names_codes_dec_2024.csv"];

/// What an organisation of the lists is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OdsKind {
    /// An NHS trust or foundation trust.
    Trust,
    /// An integrated care board.
    Icb,
    /// A sub-location of an ICB (a former CCG's area).
    IcbSubLocation,
    /// A clinical commissioning group (all closed since July 2022) or another commissioner.
    Commissioner,
}

impl OdsKind {
    /// The name people read.
    pub const fn label(self) -> &'static str {
        match self {
            OdsKind::Trust => "NHS trust",
            OdsKind::Icb => "Integrated care board",
            OdsKind::IcbSubLocation => "ICB sub-location",
            OdsKind::Commissioner => "Commissioner",
        }
    }
}

/// One organisation of the lists.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OdsOrganisation {
    /// The ODS code (`R0A`, `QYG`, `00L`).
    pub code: String,
    /// The name as people write it (`Manchester University NHS Foundation Trust`).
    pub name: String,
    /// What it is.
    pub kind: OdsKind,
    /// The NHS England region code (`Y62`), when listed.
    pub region: Option<String>,
    /// The ODS code of its ICB, when listed.
    pub icb: Option<String>,
    /// The postcode of its main address, when listed.
    pub postcode: Option<String>,
    /// When it closed, if it has.
    pub closed: Option<Date>,
}

impl OdsOrganisation {
    /// Whether it is still open.
    pub fn is_open(&self) -> bool {
        self.closed.is_none()
    }
}

/// The name of an NHS England region code (`Y62` → `North West`).
pub fn region_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "Y56" => "London",
        "Y58" => "South West",
        "Y59" => "South East",
        "Y60" => "Midlands",
        "Y61" => "East of England",
        "Y62" => "North West",
        "Y63" => "North East and Yorkshire",
        _ => return None,
    })
}

/// Why the lists could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct OdsError {
    /// The file, and the line when the mistake is in one (`etr.csv line 4`).
    pub file: String,
    /// What is wrong and what to do.
    pub message: String,
}

/// The ODS lists, indexed by code.
#[derive(Debug, Clone, Default)]
pub struct OdsLists {
    organisations: Vec<OdsOrganisation>,
    by_code: HashMap<String, usize>,
}

impl OdsLists {
    /// Reads the lists from the three files' contents (see [`FILES`]).
    pub fn parse(trusts: &[u8], commissioners: &[u8], icbs: &[u8]) -> Result<OdsLists, OdsError> {
        let mut organisations = standard(FILES[0], trusts, |_| OdsKind::Trust)?;
        organisations.extend(standard(FILES[1], commissioners, |name| {
            if name.contains(" ICB - ") {
                OdsKind::IcbSubLocation
            } else {
                OdsKind::Commissioner
            }
        })?);
        organisations.extend(icb_table(icbs)?);
        let mut by_code = HashMap::new();
        for (index, organisation) in organisations.iter().enumerate() {
            by_code.entry(organisation.code.clone()).or_insert(index);
        }
        Ok(OdsLists {
            organisations,
            by_code,
        })
    }

    /// Reads the lists from a folder holding the three [`FILES`] (such as `data/nhs-ods`).
    pub fn read_folder(folder: &Path) -> Result<OdsLists, OdsError> {
        let read = |name: &str| {
            let path = folder.join(name);
            std::fs::read(&path).map_err(|error| OdsError {
                file: path.display().to_string(),
                message: format!(
                    "cannot be read ({error}); point to the folder holding {}",
                    FILES.join(", ")
                ),
            })
        };
        OdsLists::parse(&read(FILES[0])?, &read(FILES[1])?, &read(FILES[2])?)
    }

    /// Every organisation, in file order.
    pub fn organisations(&self) -> &[OdsOrganisation] {
        &self.organisations
    }

    /// The organisation with this code (any case).
    pub fn get(&self, code: &str) -> Option<&OdsOrganisation> {
        self.by_code
            .get(&code.trim().to_uppercase())
            .and_then(|&index| self.organisations.get(index))
    }
}

/// Reads a file in the ODS standard layout: code, name, region, ICB, five address lines,
/// postcode, open date, close date, and more columns not used here.
fn standard(
    file: &str,
    bytes: &[u8],
    kind: impl Fn(&str) -> OdsKind,
) -> Result<Vec<OdsOrganisation>, OdsError> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| OdsError {
            file: file.to_owned(),
            message: format!("cannot be read as CSV ({error}); download the file again"),
        })?;
        let line = record.position().map_or(0, csv::Position::line);
        let field = |i: usize| record.get(i).map(str::trim).filter(|v| !v.is_empty());
        let (Some(code), Some(name)) = (field(0), field(1)) else {
            return Err(OdsError {
                file: format!("{file} line {line}"),
                message: "has no code or name in its first two columns: is this an ODS file?"
                    .into(),
            });
        };
        let closed = match field(11) {
            Some(text) => Some(date(text).ok_or_else(|| OdsError {
                file: format!("{file} line {line}"),
                message: format!("the close date `{text}` is not a date like 20240331"),
            })?),
            None => None,
        };
        out.push(OdsOrganisation {
            code: code.to_uppercase(),
            kind: kind(name),
            name: title_case(name),
            region: field(2).map(str::to_owned),
            icb: field(3).map(str::to_owned),
            postcode: field(9).map(str::to_owned),
            closed,
        });
    }
    Ok(out)
}

/// Reads the ONS table of ICBs (`ICB24CD,ICB24CDH,ICB24NM,...`).
fn icb_table(bytes: &[u8]) -> Result<Vec<OdsOrganisation>, OdsError> {
    let file = FILES[2];
    let mut reader = csv::ReaderBuilder::new().from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|error| OdsError {
            file: file.to_owned(),
            message: format!("cannot be read as CSV ({error})"),
        })?
        .clone();
    let column = |suffix: &str| {
        headers
            .iter()
            .position(|h| h.starts_with("ICB") && h.ends_with(suffix))
    };
    let (Some(code), Some(name)) = (column("CDH"), column("NM")) else {
        return Err(OdsError {
            file: file.to_owned(),
            message: "has no ICB..CDH and ICB..NM columns: is this the ONS table of ICB names \
                      and codes?"
                .into(),
        });
    };
    let mut out = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|error| OdsError {
            file: file.to_owned(),
            message: format!("cannot be read as CSV ({error})"),
        })?;
        if let (Some(code), Some(name)) = (record.get(code), record.get(name))
            && !code.trim().is_empty()
        {
            out.push(OdsOrganisation {
                code: code.trim().to_uppercase(),
                name: name.trim().to_owned(),
                kind: OdsKind::Icb,
                region: None,
                icb: None,
                postcode: None,
                closed: None,
            });
        }
    }
    Ok(out)
}

fn date(text: &str) -> Option<Date> {
    let year = text.get(0..4)?.parse().ok()?;
    let month = text.get(4..6)?.parse().ok()?;
    let day = text.get(6..8)?.parse().ok()?;
    Date::new(year, month, day).ok()
}

/// Words kept in capitals, and words written in lower case inside a name.
const CAPITALS: [&str; 6] = ["NHS", "ICB", "CCG", "UK", "GP", "CIC"];
const SMALL: [&str; 9] = ["and", "of", "the", "for", "in", "on", "at", "upon", "with"];

/// An ODS name in capitals as people write it:
/// `KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST` → `King's College Hospital NHS Foundation Trust`.
pub fn title_case(name: &str) -> String {
    if name.chars().any(char::is_lowercase) {
        return name.trim().to_owned();
    }
    name.split_whitespace()
        .enumerate()
        .map(|(index, word)| {
            word.split('-')
                .enumerate()
                .map(|(part_index, part)| {
                    let lower = part.to_lowercase();
                    if CAPITALS.contains(&part) || part.chars().any(|c| c.is_ascii_digit()) {
                        part.to_owned()
                    } else if (index > 0 || part_index > 0) && SMALL.contains(&lower.as_str()) {
                        lower
                    } else {
                        capitalise(&lower)
                    }
                })
                .collect::<Vec<_>>()
                .join("-")
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first letter in capitals (after any opening bracket or quote).
fn capitalise(word: &str) -> String {
    let mut out = String::with_capacity(word.len());
    let mut done = false;
    for c in word.chars() {
        if !done && c.is_alphabetic() {
            out.extend(c.to_uppercase());
            done = true;
        } else {
            out.push(c);
        }
    }
    out
}

/// A peer organisation's directory entry for an organisation of the lists: its name and code,
/// and what it is (with its region) as the title. The team adds its accounts.
pub fn peer_entry(organisation: &OdsOrganisation) -> DirectoryEntry {
    let region = organisation
        .region
        .as_deref()
        .and_then(region_name)
        .map(|r| format!(", {r}"))
        .unwrap_or_default();
    DirectoryEntry {
        ods_code: Some(organisation.code.clone()),
        title: Some(format!("{}{region}", organisation.kind.label())),
        ..DirectoryEntry::new(&organisation.name, EntryKind::PeerOrganisation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TRUSTS: &str = "\"R0A\",\"MANCHESTER UNIVERSITY NHS FOUNDATION TRUST\",\"Y62\",\"QOP\",\"COBBETT HOUSE\",\"OXFORD ROAD\",\"\",\"MANCHESTER\",\"\",\"M13 9WL\",\"20171001\",\"\",\"\"\n\
        \"RJZ\",\"KING'S COLLEGE HOSPITAL NHS FOUNDATION TRUST\",\"Y56\",\"QKK\",\"\",\"\",\"\",\"\",\"\",\"SE5 9RS\",\"19930401\",\"\"\n\
        \"RXX\",\"STOKE-ON-TRENT AND DISTRICT NHS TRUST\",\"Y60\",\"QNC\",\"\",\"\",\"\",\"\",\"\",\"\",\"19930401\",\"20200331\"\n";
    const COMMISSIONERS: &str = "\"00L\",\"NHS NORTH EAST AND NORTH CUMBRIA ICB - 00L\",\"Y63\",\"QHM\",\"\",\"\",\"\",\"\",\"\",\"NE61 6BL\",\"20130401\",\"\"\n\
        \"00C\",\"NHS DARLINGTON CCG\",\"Y63\",\"QHM\",\"\",\"\",\"\",\"\",\"\",\"\",\"20130401\",\"20200331\"\n";
    const ICBS: &str = "ICB24CD,ICB24CDH,ICB24NM,ObjectId\nE54000008,QYG,NHS Cheshire and Merseyside Integrated Care Board,1\n";

    #[test]
    fn the_three_lists_are_read_and_found_by_code() {
        let lists =
            OdsLists::parse(TRUSTS.as_bytes(), COMMISSIONERS.as_bytes(), ICBS.as_bytes()).unwrap();
        assert_eq!(lists.organisations().len(), 6);
        let manchester = lists.get("r0a").unwrap();
        assert_eq!(
            manchester.name,
            "Manchester University NHS Foundation Trust"
        );
        assert_eq!(manchester.kind, OdsKind::Trust);
        assert_eq!(manchester.region.as_deref(), Some("Y62"));
        assert!(manchester.is_open());
        assert_eq!(
            lists.get("RJZ").unwrap().name,
            "King's College Hospital NHS Foundation Trust"
        );
        let closed = lists.get("RXX").unwrap();
        assert_eq!(closed.name, "Stoke-on-Trent and District NHS Trust");
        assert_eq!(closed.closed, Some(jiff::civil::date(2020, 3, 31)));
        assert_eq!(lists.get("00L").unwrap().kind, OdsKind::IcbSubLocation);
        assert_eq!(
            lists.get("00L").unwrap().name,
            "NHS North East and North Cumbria ICB - 00L"
        );
        assert_eq!(lists.get("00C").unwrap().kind, OdsKind::Commissioner);
        let icb = lists.get("QYG").unwrap();
        assert_eq!(
            (icb.kind, icb.name.as_str()),
            (
                OdsKind::Icb,
                "NHS Cheshire and Merseyside Integrated Care Board"
            )
        );
        let entry = peer_entry(manchester);
        assert_eq!(entry.kind, EntryKind::PeerOrganisation);
        assert_eq!(entry.ods_code.as_deref(), Some("R0A"));
        assert_eq!(entry.title.as_deref(), Some("NHS trust, North West"));
    }

    #[test]
    fn broken_lists_name_the_file_and_line() {
        let bad = "\"R0A\",\"\"\n";
        let error = OdsLists::parse(bad.as_bytes(), b"", ICBS.as_bytes()).unwrap_err();
        assert_eq!(error.file, "etr.csv line 1");
        let bad = "\"R0A\",\"A TRUST\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"\",\"soon\"\n";
        let error = OdsLists::parse(bad.as_bytes(), b"", ICBS.as_bytes()).unwrap_err();
        assert!(error.to_string().contains("close date `soon`"), "{error}");
        let error = OdsLists::parse(b"", b"", b"a,b\n1,2\n").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("icb_names_codes_dec_2024.csv: has no ICB")
        );
        let error = OdsLists::read_folder(Path::new("/nowhere")).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("/nowhere/etr.csv: cannot be read"),
            "{error}"
        );
    }
}
