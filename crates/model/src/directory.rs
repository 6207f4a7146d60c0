//! Who is speaking: the one directory of organisations, people and accounts.
//!
//! The directory lists our organisation and its services, its leaders, staff and social squad,
//! peer NHS organisations (linked to their ODS codes) and news outlets, each with its handles per
//! network. It is the single place this is known from: the analysis reads it to tell an author's
//! kind ([`crate::analysis::AuthorKind`]), monitors follow its entries, leaders' publishing
//! accounts and the presence audit are kept on it. It is plain data here; the store keeps it and
//! the web application edits it.
//!
//! Handles are compared case-insensitively without a leading `@`. A Mastodon handle without an
//! instance (`trust`) matches only an author whose handle is also written without one; write the
//! full `name@instance` to be sure. An entry may also name the network's stable account id
//! (X user id, Bluesky DID, Mastodon account URL), which wins over the handle when both are known.

use std::{collections::HashMap, fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::{Author, Network};

/// What an entry of the directory is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Our own organisation (the trust, ICB or practice running Switchboard).
    OwnOrganisation,
    /// One of our hospitals, services, wards or teams with accounts of its own.
    OwnService,
    /// One of our leaders: chief executive, chair, directors.
    Leader,
    /// A member of our staff.
    Staff,
    /// A member of our social squad (staff who volunteered to reply).
    SocialSquad,
    /// Another NHS organisation (a peer trust, an ICB, NHS England), usually with an ODS code.
    PeerOrganisation,
    /// A news outlet or a journalist's publication.
    NewsOutlet,
}

impl EntryKind {
    /// Every kind, in display order. The one list menus and help texts derive from.
    pub const ALL: [EntryKind; 7] = [
        EntryKind::OwnOrganisation,
        EntryKind::OwnService,
        EntryKind::Leader,
        EntryKind::Staff,
        EntryKind::SocialSquad,
        EntryKind::PeerOrganisation,
        EntryKind::NewsOutlet,
    ];

    /// The stable name in the database, CSV files and the API.
    pub const fn as_str(self) -> &'static str {
        match self {
            EntryKind::OwnOrganisation => "own_organisation",
            EntryKind::OwnService => "own_service",
            EntryKind::Leader => "leader",
            EntryKind::Staff => "staff",
            EntryKind::SocialSquad => "social_squad",
            EntryKind::PeerOrganisation => "peer_organisation",
            EntryKind::NewsOutlet => "news_outlet",
        }
    }

    /// The name people read on screens.
    pub const fn label(self) -> &'static str {
        match self {
            EntryKind::OwnOrganisation => "Our organisation",
            EntryKind::OwnService => "Our service",
            EntryKind::Leader => "Our leader",
            EntryKind::Staff => "Our staff",
            EntryKind::SocialSquad => "Social squad",
            EntryKind::PeerOrganisation => "Peer NHS organisation",
            EntryKind::NewsOutlet => "News outlet",
        }
    }

    /// Whether the entry is an organisation (its accounts speak for a body, not a person).
    pub const fn is_organisation(self) -> bool {
        matches!(
            self,
            EntryKind::OwnOrganisation
                | EntryKind::OwnService
                | EntryKind::PeerOrganisation
                | EntryKind::NewsOutlet
        )
    }

    /// The author kind a post from one of this entry's accounts has.
    pub const fn author_kind(self) -> crate::analysis::AuthorKind {
        use crate::analysis::AuthorKind;
        match self {
            EntryKind::OwnOrganisation | EntryKind::OwnService => AuthorKind::OwnOrganisation,
            EntryKind::Leader => AuthorKind::Leader,
            EntryKind::Staff | EntryKind::SocialSquad => AuthorKind::Staff,
            EntryKind::PeerOrganisation => AuthorKind::PeerOrganisation,
            EntryKind::NewsOutlet => AuthorKind::NewsOutlet,
        }
    }
}

impl fmt::Display for EntryKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A directory entry kind that Switchboard does not know.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown directory kind `{0}`: use own_organisation, own_service, leader, staff, social_squad, peer_organisation or news_outlet"
)]
pub struct UnknownEntryKind(pub String);

impl FromStr for EntryKind {
    type Err = UnknownEntryKind;

    fn from_str(value: &str) -> Result<EntryKind, UnknownEntryKind> {
        let wanted = value.trim().replace([' ', '-'], "_");
        EntryKind::ALL
            .into_iter()
            .find(|kind| kind.as_str().eq_ignore_ascii_case(&wanted))
            .ok_or_else(|| UnknownEntryKind(value.to_owned()))
    }
}

/// One account of an entry on one network.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Handle {
    /// The network.
    pub network: Network,
    /// The handle as people write it, without a leading `@` (`NorthgateNHS`,
    /// `northgate@nhs.social`, `northgate.bsky.social`).
    pub handle: String,
    /// The network's stable account id, when known (X user id, Bluesky DID).
    pub account_id: Option<String>,
}

impl Handle {
    /// A handle with no account id; a leading `@` and surrounding spaces are removed.
    pub fn new(network: Network, handle: &str) -> Handle {
        Handle {
            network,
            handle: handle.trim().trim_start_matches('@').to_owned(),
            account_id: None,
        }
    }
}

/// One organisation or person of the directory, with their accounts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DirectoryEntry {
    /// The store's id (0 for an entry not yet stored).
    pub id: i64,
    /// The name people read (`Northgate Valley NHS Foundation Trust`, `Dr Asha Patel`).
    pub name: String,
    /// What the entry is.
    pub kind: EntryKind,
    /// The NHS ODS code of an organisation (`RXX`), when it has one.
    pub ods_code: Option<String>,
    /// The entry this one belongs to: a service's or a person's organisation.
    pub parent: Option<i64>,
    /// A person's job title or a service's description.
    pub title: Option<String>,
    /// What the team wants to remember about the entry (who runs the account, when it is
    /// watched, the tone a leader writes in).
    #[serde(default)]
    pub notes: Option<String>,
    /// The accounts, any number per network.
    pub handles: Vec<Handle>,
}

impl DirectoryEntry {
    /// An entry not yet stored, with a name and a kind and nothing else; add the rest with
    /// struct update syntax (`DirectoryEntry { handles, ..DirectoryEntry::new(name, kind) }`).
    pub fn new(name: &str, kind: EntryKind) -> DirectoryEntry {
        DirectoryEntry {
            id: 0,
            name: name.trim().to_owned(),
            kind,
            ods_code: None,
            parent: None,
            title: None,
            notes: None,
            handles: Vec::new(),
        }
    }
}

/// The whole directory, indexed for the analysis's look-up of every post's author.
#[derive(Debug, Clone, Default)]
pub struct Directory {
    entries: Vec<DirectoryEntry>,
    by_handle: HashMap<(Network, String), usize>,
    by_account: HashMap<(Network, String), usize>,
}

impl Directory {
    /// A directory of these entries. When two entries claim one handle, the first wins.
    pub fn new(entries: Vec<DirectoryEntry>) -> Directory {
        let mut by_handle = HashMap::new();
        let mut by_account = HashMap::new();
        for (index, entry) in entries.iter().enumerate() {
            for handle in &entry.handles {
                by_handle
                    .entry((handle.network, handle_key(&handle.handle)))
                    .or_insert(index);
                if let Some(account) = &handle.account_id {
                    by_account
                        .entry((handle.network, account.clone()))
                        .or_insert(index);
                }
            }
        }
        Directory {
            entries,
            by_handle,
            by_account,
        }
    }

    /// The entries, in the order given.
    pub fn entries(&self) -> &[DirectoryEntry] {
        &self.entries
    }

    /// Whether the directory has no entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The entry with this id.
    pub fn get(&self, id: i64) -> Option<&DirectoryEntry> {
        self.entries.iter().find(|entry| entry.id == id)
    }

    /// The entry whose account wrote a post by `author` on `network`: by the network's stable
    /// account id first, then by handle.
    pub fn find(&self, network: Network, author: &Author) -> Option<&DirectoryEntry> {
        let by_id = (!author.id.is_empty())
            .then(|| self.by_account.get(&(network, author.id.clone())))
            .flatten();
        by_id
            .or_else(|| self.by_handle.get(&(network, handle_key(&author.handle))))
            .and_then(|&index| self.entries.get(index))
    }

    /// The entry holding this handle on `network` (a mention, a reply target).
    pub fn find_handle(&self, network: Network, handle: &str) -> Option<&DirectoryEntry> {
        self.by_handle
            .get(&(network, handle_key(handle)))
            .and_then(|&index| self.entries.get(index))
    }
}

/// A handle as compared: lower case, without a leading `@` (two spellings of one account give
/// the same key; the store keeps each key on one entry only).
pub fn handle_key(handle: &str) -> String {
    handle.trim().trim_start_matches('@').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::AuthorKind;

    fn entry(id: i64, kind: EntryKind, handles: Vec<Handle>) -> DirectoryEntry {
        DirectoryEntry {
            id,
            handles,
            ..DirectoryEntry::new(&format!("entry {id}"), kind)
        }
    }

    #[test]
    fn authors_are_found_by_account_id_then_handle_ignoring_case_and_at() {
        let mut bluesky = Handle::new(Network::Bluesky, "northgate.bsky.social");
        bluesky.account_id = Some("did:plc:abc".to_owned());
        let directory = Directory::new(vec![
            entry(
                1,
                EntryKind::OwnOrganisation,
                vec![Handle::new(Network::X, "@NorthgateNHS"), bluesky],
            ),
            entry(
                2,
                EntryKind::PeerOrganisation,
                vec![Handle::new(Network::X, "SouthdaleNHS")],
            ),
        ]);
        let author = |id: &str, handle: &str| Author {
            id: id.to_owned(),
            handle: handle.to_owned(),
            ..Author::default()
        };
        let found = directory.find(Network::X, &author("9", "northgatenhs"));
        assert_eq!(found.map(|e| e.id), Some(1));
        let by_did = directory.find(Network::Bluesky, &author("did:plc:abc", "renamed.example"));
        assert_eq!(by_did.map(|e| e.id), Some(1));
        assert!(
            directory
                .find(Network::Mastodon, &author("", "NorthgateNHS"))
                .is_none()
        );
        assert_eq!(
            directory
                .find_handle(Network::X, "@southdalenhs")
                .map(|e| e.kind),
            Some(EntryKind::PeerOrganisation)
        );
    }

    #[test]
    fn kinds_parse_from_their_names_and_map_to_author_kinds() {
        for kind in EntryKind::ALL {
            assert_eq!(kind.as_str().parse::<EntryKind>(), Ok(kind));
        }
        assert_eq!(
            "Peer organisation".parse::<EntryKind>(),
            Ok(EntryKind::PeerOrganisation)
        );
        assert!("friend".parse::<EntryKind>().is_err());
        assert_eq!(EntryKind::SocialSquad.author_kind(), AuthorKind::Staff);
        assert_eq!(
            EntryKind::OwnService.author_kind(),
            AuthorKind::OwnOrganisation
        );
    }
}
