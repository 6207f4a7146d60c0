//! The directory as a CSV file: one row per organisation or person, one column per network.
//!
//! ```text
//! name,kind,ods_code,parent,title,notes,x,mastodon,bluesky,facebook,news
//! Northgate Valley NHS Foundation Trust,own_organisation,,,,,NorthgateNHS,...
//! Dr Catherine Ellwood,leader,,Northgate Valley NHS Foundation Trust,Chief executive,,CathEllwoodCEO,...
//! ```
//!
//! Only `name` and `kind` are required; columns may come in any order. A network's cell holds
//! any number of handles separated by `;`, each written `handle` or `handle (account id)`;
//! profile links are turned into handles. `parent` names another entry by its name or ODS code,
//! in the file or already in the directory.
//!
//! Reading a file plans an import against the directory it goes into: a row whose ODS code or
//! name is already there replaces that entry (its handles too); every other row adds one. Every
//! mistake is reported with its line and field, and nothing is imported while there is one.
//! The export writes the same format, so an exported file imports back to the same directory.

use std::{collections::HashMap, fmt};

use model::directory::{Directory, DirectoryEntry, EntryKind};

use crate::check::{self, FieldError, network_field, networks};

/// The most rows a file may have.
pub const MAX_ROWS: usize = 10_000;

/// The columns that are not networks, in the order the export writes them.
pub const FIELDS: [&str; 6] = ["name", "kind", "ods_code", "parent", "title", "notes"];

/// A mistake in a directory file, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// The line of the file, from 1 (the header is line 1).
    pub line: u64,
    /// The column, when the mistake is in one.
    pub field: Option<String>,
    /// What is wrong and what to do.
    pub message: String,
}

impl LineError {
    fn new(line: u64, field: Option<&str>, message: impl Into<String>) -> LineError {
        LineError {
            line,
            field: field.map(str::to_owned),
            message: message.into(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.field {
            Some(field) => write!(f, "line {}, {field}: {}", self.line, self.message),
            None => write!(f, "line {}: {}", self.line, self.message),
        }
    }
}

/// One planned row of an import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// The line it came from.
    pub line: u64,
    /// The entry to store: `id` is the stored entry it replaces (0: a new one); `parent` is a
    /// stored entry's id, when the parent is not in the file.
    pub entry: DirectoryEntry,
    /// The position in the plan of the parent, when the parent is in the file.
    pub parent_row: Option<usize>,
}

/// The columns of a file, by position.
enum Column {
    Field(&'static str),
    Network(model::Network),
}

fn header(record: &csv::StringRecord) -> Result<Vec<Column>, Vec<LineError>> {
    let mut columns = Vec::new();
    let mut errors = Vec::new();
    let known: Vec<String> = FIELDS
        .iter()
        .map(|f| (*f).to_owned())
        .chain(networks().map(|n| network_field(n).to_owned()))
        .collect();
    for name in record {
        let wanted = name.trim().to_lowercase().replace([' ', '-'], "_");
        let column = if let Some(field) = FIELDS.iter().find(|f| **f == wanted) {
            Column::Field(field)
        } else if let Some(network) = networks().find(|n| network_field(*n) == wanted) {
            Column::Network(network)
        } else {
            errors.push(LineError::new(
                1,
                None,
                format!(
                    "unknown column `{}`: the columns are {}",
                    name.trim(),
                    known.join(", ")
                ),
            ));
            continue;
        };
        let same = |c: &Column| match (c, &column) {
            (Column::Field(a), Column::Field(b)) => a == b,
            (Column::Network(a), Column::Network(b)) => a == b,
            _ => false,
        };
        if columns.iter().any(same) {
            errors.push(LineError::new(
                1,
                None,
                format!("the column `{}` appears twice: keep one", name.trim()),
            ));
        }
        columns.push(column);
    }
    for required in ["name", "kind"] {
        if !columns
            .iter()
            .any(|c| matches!(c, Column::Field(f) if *f == required))
        {
            errors.push(LineError::new(
                1,
                None,
                format!("the header has no `{required}` column: add it (the first line names the columns)"),
            ));
        }
    }
    if errors.is_empty() {
        Ok(columns)
    } else {
        Err(errors)
    }
}

/// A row as read, before it is matched with the directory.
struct Read {
    line: u64,
    entry: DirectoryEntry,
    parent: Option<String>,
}

/// Reads a row into an entry, with the mistakes found in it (the entry is planned even so, so
/// that the mistakes of later checks are reported too).
fn read_row(line: u64, record: &csv::StringRecord, columns: &[Column]) -> (Read, Vec<LineError>) {
    let mut errors = Vec::new();
    if record.len() > columns.len() {
        errors.push(LineError::new(
            line,
            None,
            format!(
                "{} values for {} columns: quote values that hold a comma",
                record.len(),
                columns.len()
            ),
        ));
    }
    let mut entry = DirectoryEntry::new("", EntryKind::OwnOrganisation);
    let mut kind = None;
    let mut parent = None;
    for (column, value) in columns.iter().zip(record.iter()) {
        let value = value.trim();
        match column {
            Column::Field("name") => value.clone_into(&mut entry.name),
            Column::Field("kind") => match value.parse::<EntryKind>() {
                Ok(k) => kind = Some(k),
                Err(_) if value.is_empty() => errors.push(LineError::new(
                    line,
                    Some("kind"),
                    "is empty: say what the entry is (own_organisation, own_service, leader, \
                     staff, social_squad, peer_organisation or news_outlet)",
                )),
                Err(error) => errors.push(LineError::new(line, Some("kind"), error.to_string())),
            },
            Column::Field("ods_code") => entry.ods_code = Some(value.to_owned()),
            Column::Field("parent") => parent = Some(value.to_owned()).filter(|p| !p.is_empty()),
            Column::Field("title") => entry.title = Some(value.to_owned()),
            Column::Field("notes") => entry.notes = Some(value.to_owned()),
            Column::Field(_) => {}
            Column::Network(network) => match check::read_handles(*network, value) {
                Ok(handles) => entry.handles.extend(handles),
                Err(message) => {
                    errors.push(LineError::new(line, Some(network_field(*network)), message));
                }
            },
        }
    }
    match kind {
        Some(kind) => entry.kind = kind,
        None if !errors.iter().any(|e| e.field.as_deref() == Some("kind")) => {
            errors.push(LineError::new(
                line,
                Some("kind"),
                "is missing: say what the entry is (own_organisation, own_service, leader, staff, \
                 social_squad, peer_organisation or news_outlet)",
            ));
        }
        None => {}
    }
    (
        Read {
            line,
            entry,
            parent,
        },
        errors,
    )
}

/// Where a name or ODS code points: a row of the file or a stored entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Row(usize),
    Stored(i64),
}

/// Plans the import of a directory file into `directory`: every row checked, matched with the
/// entry it replaces and linked to its parent. Returns every mistake found otherwise.
pub fn read(bytes: &[u8], directory: &Directory) -> Result<Vec<Row>, Vec<LineError>> {
    let text = std::str::from_utf8(bytes).map_err(|error| {
        let line = bytes
            .get(..error.valid_up_to())
            .map_or(1, |b| b.iter().filter(|c| **c == b'\n').count() as u64 + 1);
        vec![LineError::new(
            line,
            None,
            "the file is not UTF-8 text: save it again as \"CSV UTF-8\"",
        )]
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .has_headers(false)
        .from_reader(text.as_bytes());
    let mut records = reader.records();
    let columns = match records.next() {
        Some(Ok(record)) => header(&record)?,
        Some(Err(error)) => return Err(vec![LineError::new(1, None, csv_message(&error))]),
        None => {
            return Err(vec![LineError::new(
                1,
                None,
                "the file is empty: its first line names the columns (name,kind,...)",
            )]);
        }
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut entries = 0;
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                let line = error.position().map_or(0, csv::Position::line);
                errors.push(LineError::new(line, None, csv_message(&error)));
                continue;
            }
        };
        let line = record.position().map_or(0, csv::Position::line);
        if record.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        entries += 1;
        if entries > MAX_ROWS {
            errors.push(LineError::new(
                line,
                None,
                format!("the file has more than {MAX_ROWS} entries: split it into several files"),
            ));
            break;
        }
        let (row, mut found) = read_row(line, &record, &columns);
        rows.push(row);
        errors.append(&mut found);
    }
    if rows.is_empty() && errors.is_empty() {
        errors.push(LineError::new(
            2,
            None,
            "the file has no entries under its header: add one row per organisation or person",
        ));
    }
    let planned = plan(rows, directory, &mut errors);
    if errors.is_empty() {
        Ok(planned)
    } else {
        errors.sort_by_key(|e| e.line);
        errors.dedup();
        Err(errors)
    }
}

fn csv_message(error: &csv::Error) -> String {
    format!("this line cannot be read as CSV ({error}): check its quotes")
}

/// Matches rows with stored entries, links parents and checks every entry.
fn plan(rows: Vec<Read>, directory: &Directory, errors: &mut Vec<LineError>) -> Vec<Row> {
    let mut stored_by_code: HashMap<String, i64> = HashMap::new();
    let mut stored_by_name: HashMap<String, Vec<i64>> = HashMap::new();
    for entry in directory.entries() {
        if let Some(code) = &entry.ods_code {
            stored_by_code.insert(code.to_uppercase(), entry.id);
        }
        stored_by_name
            .entry(entry.name.to_lowercase())
            .or_default()
            .push(entry.id);
    }
    let mut file_by_key: HashMap<String, usize> = HashMap::new();
    let mut replaced: HashMap<i64, u64> = HashMap::new();
    let mut planned = Vec::with_capacity(rows.len());
    let mut parents = Vec::with_capacity(rows.len());
    for (index, mut read) in rows.into_iter().enumerate() {
        let line = read.line;
        let code = read
            .entry
            .ods_code
            .as_deref()
            .map(|c| c.trim().to_uppercase())
            .filter(|c| !c.is_empty());
        let name = read.entry.name.trim().to_lowercase();
        for key in code
            .iter()
            .map(|c| format!("ods:{c}"))
            .chain([format!("name:{name}")])
        {
            if let Some(&earlier) = file_by_key.get(&key) {
                let earlier_line = planned.get(earlier).map_or(0, |r: &Row| r.line);
                errors.push(LineError::new(
                    line,
                    Some(if key.starts_with("ods:") {
                        "ods_code"
                    } else {
                        "name"
                    }),
                    format!("the same entry as line {earlier_line}: keep one of the two rows"),
                ));
            } else {
                file_by_key.insert(key, index);
            }
        }
        let stored = match code.as_ref().and_then(|c| stored_by_code.get(c)) {
            Some(id) => Some(*id),
            None => match stored_by_name.get(&name).map(Vec::as_slice) {
                Some([id]) => Some(*id),
                Some([_, _, ..]) => {
                    errors.push(LineError::new(
                        line,
                        Some("name"),
                        format!(
                            "{} entries in the directory are named `{}`: give the ODS code, or \
                             rename one of them on the settings page",
                            stored_by_name.get(&name).map_or(0, Vec::len),
                            read.entry.name
                        ),
                    ));
                    None
                }
                _ => None,
            },
        };
        if let Some(id) = stored {
            if let Some(earlier_line) = replaced.insert(id, line) {
                errors.push(LineError::new(
                    line,
                    None,
                    format!(
                        "replaces the same directory entry as line {earlier_line}: keep one of \
                         the two rows"
                    ),
                ));
            }
            read.entry.id = id;
        }
        parents.push(read.parent.take());
        planned.push(Row {
            line,
            entry: read.entry,
            parent_row: None,
        });
    }
    for (index, parent) in parents.iter().enumerate() {
        let Some(parent) = parent else { continue };
        let target = find_target(parent, &file_by_key, &stored_by_code, &stored_by_name);
        let Some(row) = planned.get_mut(index) else {
            continue;
        };
        match target {
            Ok(Target::Row(at)) if at == index => errors.push(LineError::new(
                row.line,
                Some("parent"),
                "an entry cannot belong to itself: name another parent or leave it empty",
            )),
            Ok(Target::Row(at)) => row.parent_row = Some(at),
            Ok(Target::Stored(id)) => row.entry.parent = Some(id),
            Err(message) => errors.push(LineError::new(row.line, Some("parent"), message)),
        }
    }
    check_cycles(&planned, directory, errors);
    for row in &mut planned {
        // Parents were checked above, with the file's own rows taken into account.
        let parent = row.entry.parent.take();
        if let Err(found) = check::check_entry(&mut row.entry, directory) {
            errors.extend(found.into_iter().map(|FieldError { field, message }| {
                LineError::new(row.line, Some(&field), message)
            }));
        }
        row.entry.parent = parent;
    }
    planned
}

fn find_target(
    parent: &str,
    file_by_key: &HashMap<String, usize>,
    stored_by_code: &HashMap<String, i64>,
    stored_by_name: &HashMap<String, Vec<i64>>,
) -> Result<Target, String> {
    let code = parent.trim().to_uppercase();
    let name = parent.trim().to_lowercase();
    if let Some(row) = file_by_key
        .get(&format!("ods:{code}"))
        .or_else(|| file_by_key.get(&format!("name:{name}")))
    {
        return Ok(Target::Row(*row));
    }
    if let Some(id) = stored_by_code.get(&code) {
        return Ok(Target::Stored(*id));
    }
    match stored_by_name.get(&name).map(Vec::as_slice) {
        Some([id]) => Ok(Target::Stored(*id)),
        Some([_, _, ..]) => Err(format!(
            "several entries are named `{parent}`: name the parent by its ODS code"
        )),
        _ => Err(format!(
            "no entry named `{parent}` in the file or the directory: add it, or leave the \
             parent empty"
        )),
    }
}

/// Reports rows whose parents lead back to themselves, with the file's rows applied over the
/// directory.
fn check_cycles(rows: &[Row], directory: &Directory, errors: &mut Vec<LineError>) {
    // Stored entries by their id; rows of new entries by -(position + 1).
    let node = |index: usize, row: &Row| {
        if row.entry.id == 0 {
            -(index as i64) - 1
        } else {
            row.entry.id
        }
    };
    let mut parent_of: HashMap<i64, i64> = directory
        .entries()
        .iter()
        .filter_map(|e| e.parent.map(|p| (e.id, p)))
        .collect();
    for (index, row) in rows.iter().enumerate() {
        let me = node(index, row);
        let parent = match row.parent_row {
            Some(at) => rows.get(at).map(|r| node(at, r)),
            None => row.entry.parent,
        };
        match parent {
            Some(parent) => parent_of.insert(me, parent),
            None => parent_of.remove(&me),
        };
    }
    for (index, row) in rows.iter().enumerate() {
        let me = node(index, row);
        let mut at = parent_of.get(&me).copied();
        for _ in 0..=parent_of.len() {
            match at {
                Some(current) if current == me => {
                    errors.push(LineError::new(
                        row.line,
                        Some("parent"),
                        "the parents lead back to this entry: one of them must have another \
                         parent or none",
                    ));
                    break;
                }
                Some(current) => at = parent_of.get(&current).copied(),
                None => break,
            }
        }
    }
}

/// The directory as a CSV file that [`read`] reads back.
pub fn write(directory: &Directory) -> String {
    let mut writer = csv::Writer::from_writer(Vec::new());
    let header: Vec<&str> = FIELDS
        .iter()
        .copied()
        .chain(networks().map(network_field))
        .collect();
    let mut records = vec![header.iter().map(|h| (*h).to_owned()).collect::<Vec<_>>()];
    for entry in directory.entries() {
        let parent = entry
            .parent
            .and_then(|id| directory.get(id))
            .map(|p| p.ods_code.clone().unwrap_or_else(|| p.name.clone()))
            .unwrap_or_default();
        let mut record = vec![
            entry.name.clone(),
            entry.kind.as_str().to_owned(),
            entry.ods_code.clone().unwrap_or_default(),
            parent,
            entry.title.clone().unwrap_or_default(),
            entry.notes.clone().unwrap_or_default(),
        ];
        record.extend(networks().map(|network| {
            check::write_handles(entry.handles.iter().filter(|h| h.network == network))
        }));
        records.push(record);
    }
    for record in records {
        // Writing to memory cannot fail.
        let _ = writer.write_record(&record);
    }
    writer
        .into_inner()
        .ok()
        .and_then(|bytes| String::from_utf8(bytes).ok())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use model::{Network, directory::Handle};

    use super::*;

    fn stored() -> Directory {
        Directory::new(vec![
            DirectoryEntry {
                id: 1,
                ods_code: Some("RNV".into()),
                handles: vec![Handle::new(Network::X, "NorthgateNHS")],
                ..DirectoryEntry::new(
                    "Northgate Valley NHS Foundation Trust",
                    EntryKind::OwnOrganisation,
                )
            },
            DirectoryEntry {
                id: 2,
                ..DirectoryEntry::new("Pat Twin", EntryKind::Staff)
            },
            DirectoryEntry {
                id: 3,
                ..DirectoryEntry::new("Pat Twin", EntryKind::SocialSquad)
            },
        ])
    }

    fn errors(text: &str) -> Vec<String> {
        read(text.as_bytes(), &stored())
            .unwrap_err()
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn rows_replace_stored_entries_by_code_or_name_and_link_parents() {
        let text = "\u{feff}Name,Kind,ODS code,parent,x,bluesky\n\
                    Northgate Valley NHS FT,own_organisation,rnv,,@NorthgateNHS;NorthgateNews,northgatevalley.nhs.uk (did:plc:t)\n\
                    Heron Birth Centre,own service,,RNV,HeronBirth,\n\
                    Dr Catherine Ellwood,leader,,Northgate Valley NHS FT,https://x.com/CathEllwoodCEO,\n\
                    ,,,,,\n\
                    Night porters,staff,,Heron Birth Centre,,\n";
        let rows = read(text.as_bytes(), &stored()).unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            (rows[0].line, rows[0].entry.id),
            (2, 1),
            "replaces by ODS code"
        );
        assert_eq!(rows[0].entry.name, "Northgate Valley NHS FT");
        assert_eq!(rows[0].entry.ods_code.as_deref(), Some("RNV"));
        assert_eq!(rows[0].entry.handles.len(), 3);
        assert_eq!(rows[1].entry.kind, EntryKind::OwnService);
        assert_eq!(
            rows[1].parent_row,
            Some(0),
            "parent by ODS code, in the file"
        );
        assert_eq!(rows[2].parent_row, Some(0), "parent by name, in the file");
        assert_eq!(rows[2].entry.handles[0].handle, "CathEllwoodCEO");
        assert_eq!(
            rows[3].line, 6,
            "blank rows are skipped, lines still counted"
        );
        assert_eq!(rows[3].parent_row, Some(1));
    }

    #[test]
    fn every_mistake_is_named_by_line_and_field() {
        let found = errors("name,kind,ods_code,parent,x,colour\n");
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(
            found[0].starts_with("line 1: unknown column `colour`"),
            "{found:?}"
        );

        let found = errors(
            "name,kind,ods_code,parent,x\n\
             Someone,friend,,,\n\
             ,leader,,,\n\
             Kelmsford,peer_organisation,R!,,\n\
             Pat Twin,staff,,,\n\
             Nurse Lee,staff,,Nobody,lee smith\n\
             A,own_service,,B,\n\
             B,own_service,,A,\n\
             Kelmsford,peer_organisation,,,\n\
             \"Broken,staff\n",
        );
        let expected = [
            "line 2, kind: unknown directory kind `friend`",
            "line 3, name: is empty",
            "line 4, ods_code: `R!` is not an ODS code",
            "line 5, name: 2 entries in the directory are named `Pat Twin`",
            "line 6, x: `lee smith` has a space in it",
            "line 6, parent: no entry named `Nobody`",
            "line 7, parent: the parents lead back to this entry",
            "line 8, parent: the parents lead back to this entry",
            "line 9, name: the same entry as line 4",
            "line 10, kind: is missing",
        ];
        for (want, got) in expected.iter().zip(&found) {
            assert!(
                got.starts_with(want),
                "expected `{want}`, got `{got}`\nall: {found:#?}"
            );
        }
        assert_eq!(found.len(), expected.len(), "{found:#?}");
        assert!(errors("name,kind\n")[0].contains("no entries"));
        assert!(errors("name\nx\n")[0].contains("no `kind` column"));
        assert!(
            read(b"name,kind\n\xff\xfe,staff\n", &stored()).unwrap_err()[0]
                .to_string()
                .starts_with("line 2: the file is not UTF-8")
        );
    }

    #[test]
    fn an_export_reads_back_to_the_same_entries() {
        let mut bluesky = Handle::new(Network::Bluesky, "northgatevalley.nhs.uk");
        bluesky.account_id = Some("did:plc:abc".into());
        let directory = Directory::new(vec![
            DirectoryEntry {
                id: 1,
                ods_code: Some("RNV".into()),
                notes: Some("Watched 9 to 5, \"comms\" team".into()),
                handles: vec![
                    Handle::new(Network::X, "NorthgateNHS"),
                    Handle::new(Network::X, "NorthgateJobs"),
                    bluesky,
                ],
                ..DirectoryEntry::new(
                    "Northgate Valley NHS Foundation Trust",
                    EntryKind::OwnOrganisation,
                )
            },
            DirectoryEntry {
                id: 2,
                parent: Some(1),
                title: Some("Chief executive, since 2021".into()),
                handles: vec![Handle::new(Network::Mastodon, "cath@nhs.social")],
                ..DirectoryEntry::new("Dr Catherine Ellwood", EntryKind::Leader)
            },
        ]);
        let text = write(&directory);
        assert!(text.starts_with(
            "name,kind,ods_code,parent,title,notes,x,mastodon,bluesky,facebook,news\n"
        ));
        let rows = read(text.as_bytes(), &Directory::default()).unwrap();
        assert_eq!(rows.len(), 2);
        for (row, original) in rows.iter().zip(directory.entries()) {
            let mut entry = row.entry.clone();
            entry.id = original.id;
            entry.parent = row.parent_row.map(|at| directory.entries()[at].id);
            assert_eq!(&entry, original);
        }
    }
}
