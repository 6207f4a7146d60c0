//! What makes a directory entry valid, and handles read the way people paste them.
//!
//! The settings page, the CSV import and the ODS import all go through [`check_entry`], so an
//! entry is held to the same rules wherever it comes from: bounded lengths, a known kind, an ODS
//! code only on organisations, handles without spaces (profile links are turned into handles),
//! and a parent that exists and is not the entry itself or one of its own descendants.

use std::collections::{HashMap, HashSet};

use model::{
    Network,
    directory::{Directory, DirectoryEntry, Handle, handle_key},
};

/// The longest name, in characters.
pub const MAX_NAME: usize = 200;
/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest notes, in characters.
pub const MAX_NOTES: usize = 2_000;
/// The longest handle or account id, in characters.
pub const MAX_HANDLE: usize = 320;
/// The most handles one entry may have.
pub const MAX_HANDLES: usize = 50;

/// One field of an entry that is wrong, with what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as the form and the CSV header name it (`name`, `ods_code`, `x`, ...).
    pub field: String,
    /// What is wrong and what to do.
    pub message: String,
}

impl FieldError {
    /// An error in `field`.
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            message: message.into(),
        }
    }
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// The networks whose accounts the directory keeps: every network whose authors are accounts
/// (patient feedback entries have no accounts).
pub fn networks() -> impl Iterator<Item = Network> {
    Network::ALL
        .into_iter()
        .filter(|network| *network != Network::Feedback)
}

/// The field name of a network's handles (`x`, `mastodon`, ...).
pub fn network_field(network: Network) -> &'static str {
    network.as_str()
}

/// A handle as written in a form or a file, on `network`: a leading `@` and spaces are dropped,
/// and a profile link is turned into the handle it shows (`https://x.com/NorthgateNHS` →
/// `NorthgateNHS`, `https://mastodon.example/@trust` → `trust@mastodon.example`,
/// `https://bsky.app/profile/trust.bsky.social` → `trust.bsky.social`, a Facebook page link →
/// its page name, a news site link → its host).
pub fn read_handle(network: Network, text: &str) -> Result<String, String> {
    let text = text.trim();
    let handle = match text
        .strip_prefix("https://")
        .or_else(|| text.strip_prefix("http://"))
    {
        Some(link) => from_link(network, link)?,
        None => text.trim_start_matches('@').to_owned(),
    };
    if handle.is_empty() {
        return Err("the handle is empty: write it as people see it, e.g. NorthgateNHS".into());
    }
    if handle.chars().count() > MAX_HANDLE {
        return Err(format!(
            "the handle is longer than {MAX_HANDLE} characters: check what was pasted"
        ));
    }
    if handle.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!(
            "`{handle}` has a space in it: separate several handles with `;`"
        ));
    }
    Ok(handle)
}

/// The handle a profile link (without its scheme) shows.
fn from_link(network: Network, link: &str) -> Result<String, String> {
    let (host, path) = link.split_once('/').unwrap_or((link, ""));
    let host = host.trim_start_matches("www.").to_lowercase();
    let first = path
        .split(['/', '?', '#'])
        .find(|part| !part.is_empty())
        .unwrap_or_default();
    let unknown = || {
        format!(
            "`https://{link}` is not a {} profile link: write the handle itself",
            network.label()
        )
    };
    match network {
        Network::X
            if matches!(
                host.as_str(),
                "x.com" | "twitter.com" | "mobile.twitter.com"
            ) =>
        {
            Ok(first.trim_start_matches('@').to_owned())
        }
        Network::Bluesky if host == "bsky.app" => path
            .strip_prefix("profile/")
            .map(|rest| rest.split('/').next().unwrap_or_default().to_owned())
            .ok_or_else(unknown),
        Network::Mastodon => match first.strip_prefix('@') {
            Some(user) if user.contains('@') => Ok(user.to_owned()),
            Some(user) => Ok(format!("{user}@{host}")),
            None => Err(unknown()),
        },
        Network::Facebook if matches!(host.as_str(), "facebook.com" | "m.facebook.com") => {
            Ok(first.to_owned())
        }
        Network::News => Ok(host),
        _ => Err(unknown()),
    }
}

/// Reads a cell of handles: several separated by `;`, each written `handle` or
/// `handle (account id)`. Returns the handles, or the error of the first bad one.
pub fn read_handles(network: Network, cell: &str) -> Result<Vec<Handle>, String> {
    let mut handles = Vec::new();
    for piece in cell.split(';') {
        let piece = piece.trim();
        if piece.is_empty() {
            continue;
        }
        let (handle, account) = match piece.strip_suffix(')').and_then(|p| p.rsplit_once(" (")) {
            Some((handle, account)) => (handle, Some(account.trim())),
            None => (piece, None),
        };
        let mut read = Handle::new(network, &read_handle(network, handle)?);
        if let Some(account) = account {
            if account.is_empty() || account.chars().count() > MAX_HANDLE {
                return Err(format!(
                    "the account id of {handle} is empty or too long: write `handle (id)` or \
                     leave the id out"
                ));
            }
            read.account_id = Some(account.to_owned());
        }
        handles.push(read);
    }
    Ok(handles)
}

/// Writes handles as [`read_handles`] reads them.
pub fn write_handles<'a>(handles: impl IntoIterator<Item = &'a Handle>) -> String {
    handles
        .into_iter()
        .map(|handle| match &handle.account_id {
            Some(account) => format!("{} ({account})", handle.handle),
            None => handle.handle.clone(),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An ODS code as stored: upper case, letters and digits, 3 to 6 of them.
pub fn read_ods_code(text: &str) -> Result<String, String> {
    let code = text.trim().to_uppercase();
    if (3..=6).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphanumeric()) {
        Ok(code)
    } else {
        Err(format!(
            "`{}` is not an ODS code: ODS codes are 3 to 6 letters and digits, like RXX or QYG",
            text.trim()
        ))
    }
}

fn too_long(field: &str, value: &str, max: usize, errors: &mut Vec<FieldError>) {
    if value.chars().count() > max {
        errors.push(FieldError::new(
            field,
            format!("is longer than {max} characters: shorten it"),
        ));
    }
}

/// Checks an entry as it would be stored (its id 0 when new), against the directory it joins:
/// every problem found, each naming its field. Trims the text fields, upper-cases the ODS code,
/// turns empty optional fields into `None` and drops repeated handles.
pub fn check_entry(
    entry: &mut DirectoryEntry,
    directory: &Directory,
) -> Result<(), Vec<FieldError>> {
    let mut errors = Vec::new();
    entry.name = entry.name.trim().to_owned();
    if entry.name.is_empty() {
        errors.push(FieldError::new(
            "name",
            "is empty: give the organisation's or person's name",
        ));
    }
    too_long("name", &entry.name, MAX_NAME, &mut errors);
    if entry.name.chars().any(char::is_control) {
        errors.push(FieldError::new(
            "name",
            "has a line break or a control character: check the quotes around it",
        ));
    }
    for (field, value, max) in [
        ("title", &mut entry.title, MAX_TITLE),
        ("notes", &mut entry.notes, MAX_NOTES),
    ] {
        *value = value
            .take()
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty());
        if let Some(v) = value {
            too_long(field, v, max, &mut errors);
        }
    }
    entry.ods_code = entry
        .ods_code
        .take()
        .map(|code| code.trim().to_owned())
        .filter(|code| !code.is_empty());
    if let Some(code) = &entry.ods_code {
        match read_ods_code(code) {
            Ok(code) if entry.kind.is_organisation() => entry.ods_code = Some(code),
            Ok(_) => errors.push(FieldError::new(
                "ods_code",
                format!(
                    "only organisations have ODS codes, and this entry is `{}`: leave it empty",
                    entry.kind.label()
                ),
            )),
            Err(message) => errors.push(FieldError::new("ods_code", message)),
        }
    }
    let mut seen = HashSet::new();
    entry
        .handles
        .retain(|h| seen.insert((h.network, handle_key(&h.handle))));
    if entry.handles.len() > MAX_HANDLES {
        errors.push(FieldError::new(
            "handles",
            format!("has more than {MAX_HANDLES} handles: split the entry"),
        ));
    }
    for handle in &entry.handles {
        let field = network_field(handle.network);
        if handle.network == Network::Feedback {
            errors.push(FieldError::new(
                field,
                "patient feedback has no accounts: remove this handle",
            ));
        } else if let Err(message) = read_handle(handle.network, &handle.handle) {
            errors.push(FieldError::new(field, message));
        }
    }
    if let Some(parent) = entry.parent {
        if parent == entry.id && entry.id != 0 {
            errors.push(FieldError::new(
                "parent",
                "an entry cannot belong to itself: choose another parent or none",
            ));
        } else if directory.get(parent).is_none() {
            errors.push(FieldError::new(
                "parent",
                format!("entry {parent} is not in the directory: choose another parent or none"),
            ));
        } else if entry.id != 0 && descends_from(directory, parent, entry.id) {
            errors.push(FieldError::new(
                "parent",
                "the parent chosen belongs to this entry itself: choose another parent or none",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}

/// Whether `id` is `ancestor` or one of its descendants in `directory`.
fn descends_from(directory: &Directory, id: i64, ancestor: i64) -> bool {
    let parents: HashMap<i64, Option<i64>> = directory
        .entries()
        .iter()
        .map(|e| (e.id, e.parent))
        .collect();
    let mut at = Some(id);
    let mut steps = 0;
    while let Some(current) = at {
        if current == ancestor {
            return true;
        }
        steps += 1;
        if steps > parents.len() {
            return false;
        }
        at = parents.get(&current).copied().flatten();
    }
    false
}

#[cfg(test)]
mod tests {
    use model::directory::EntryKind;

    use super::*;

    #[test]
    fn profile_links_and_at_signs_become_handles() {
        let read = |network, text| read_handle(network, text);
        assert_eq!(read(Network::X, "@NorthgateNHS"), Ok("NorthgateNHS".into()));
        assert_eq!(
            read(Network::X, "https://x.com/NorthgateNHS?lang=en"),
            Ok("NorthgateNHS".into())
        );
        assert_eq!(
            read(Network::X, "https://twitter.com/NorthgateNHS/"),
            Ok("NorthgateNHS".into())
        );
        assert_eq!(
            read(Network::Mastodon, "https://social.northgate.example/@trust"),
            Ok("trust@social.northgate.example".into())
        );
        assert_eq!(
            read(Network::Mastodon, "@trust@nhs.social"),
            Ok("trust@nhs.social".into())
        );
        assert_eq!(
            read(
                Network::Bluesky,
                "https://bsky.app/profile/northgatevalley.nhs.uk"
            ),
            Ok("northgatevalley.nhs.uk".into())
        );
        assert_eq!(
            read(
                Network::Facebook,
                "https://www.facebook.com/NorthgateValleyNHS"
            ),
            Ok("NorthgateValleyNHS".into())
        );
        assert_eq!(
            read(Network::News, "https://www.Northgate-Gazette.example/news"),
            Ok("northgate-gazette.example".into())
        );
        assert!(
            read(Network::X, "https://bsky.app/profile/a")
                .unwrap_err()
                .contains("not a X profile link")
        );
        assert!(
            read(Network::X, "Northgate NHS")
                .unwrap_err()
                .contains("`;`")
        );
        assert!(read(Network::X, " @ ").unwrap_err().contains("empty"));
    }

    #[test]
    fn cells_hold_several_handles_with_optional_account_ids() {
        let handles = read_handles(
            Network::Bluesky,
            "northgatevalley.nhs.uk (did:plc:abc); @other.bsky.social;",
        )
        .unwrap();
        assert_eq!(handles.len(), 2);
        assert_eq!(handles[0].account_id.as_deref(), Some("did:plc:abc"));
        assert_eq!(handles[1].handle, "other.bsky.social");
        assert_eq!(
            write_handles(&handles),
            "northgatevalley.nhs.uk (did:plc:abc); other.bsky.social"
        );
        assert!(read_handles(Network::X, "a; b c").is_err());
    }

    #[test]
    fn entries_are_checked_field_by_field() {
        let trust = DirectoryEntry {
            id: 1,
            ..DirectoryEntry::new("Trust", EntryKind::OwnOrganisation)
        };
        let ward = DirectoryEntry {
            id: 2,
            parent: Some(1),
            ..DirectoryEntry::new("Ward", EntryKind::OwnService)
        };
        let directory = Directory::new(vec![trust.clone(), ward]);

        let mut person = DirectoryEntry {
            ods_code: Some("rxx".into()),
            title: Some("  ".into()),
            parent: Some(9),
            handles: vec![
                Handle::new(Network::X, "Pat"),
                Handle::new(Network::X, "@pat"),
                Handle::new(Network::Feedback, "pat"),
            ],
            ..DirectoryEntry::new(&"n".repeat(MAX_NAME + 1), EntryKind::Staff)
        };
        let errors = check_entry(&mut person, &directory).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            vec!["name", "ods_code", "feedback", "parent"],
            "{errors:?}"
        );
        assert_eq!(person.title, None);
        assert_eq!(person.handles.len(), 2, "the repeated handle is dropped");

        let mut trust = DirectoryEntry {
            ods_code: Some(" rnv ".into()),
            parent: Some(2),
            ..trust
        };
        let errors = check_entry(&mut trust, &directory).unwrap_err();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].message.contains("belongs to this entry itself"));
        assert_eq!(trust.ods_code.as_deref(), Some("RNV"));
        trust.parent = None;
        assert_eq!(check_entry(&mut trust, &directory), Ok(()));
    }
}
