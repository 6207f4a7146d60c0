//! Who is speaking: the kind of a post's author ([`AuthorKind`]), read before the intents.
//!
//! The directory of organisations, people and accounts ([`Directory`]) is the first source: an
//! account it lists has the kind of its entry. Everyone else is inferred from the payload and
//! the profile, in this order:
//!
//! 1. the network itself: an RSS or Atom item is a news outlet's, a feedback export's entry is
//!    a member of the public's;
//! 2. an NHS organisation's name (`… NHS Foundation Trust`, `NHS … ICB`, `… Ambulance Service
//!    NHS Trust`, `NHS England`) in the display name, or a bio saying it is the official
//!    account of one: a peer NHS organisation (our own accounts are only known from the
//!    directory);
//! 3. a news outlet's name (`… News`, `… Gazette`, `… FM`) or bio (`breaking news`, `got a
//!    story?`) without a person's marks (`views my own`, pronouns, a family role);
//! 4. a journalist's title in the name or bio ([`crate::people`]);
//! 5. a healthcare professional ([`crate::people`]): a clinician;
//! 6. someone who says they work for the NHS without a clinical title (porter, receptionist,
//!    ward clerk, `NHS worker`): staff;
//! 7. an organisation's marks (`official account`, `registered charity`, `council`, `Ltd`,
//!    `we are …`): another organisation;
//! 8. anyone else: the public.
//!
//! The patterns are the ways real accounts present themselves (the recorded X payloads in
//! `shared/data/api-samples`, the NHS organisation names of the ODS lists); the reason names the
//! field and the words that decided.

use std::{cell::RefCell, collections::HashMap};

use model::analysis::{AuthorFinding, AuthorKind, AuthorKindSource, Role};
use model::directory::Directory;
use model::{Author, Network, Post};
use regex::Regex;

use crate::Error;

/// Authors whose inferred kind a thread remembers before the memory is emptied.
const REMEMBERED_AUTHORS: usize = 32_768;

thread_local! {
    /// The inferred kinds of the authors this thread saw last, by a hash of name, bio and roles.
    static KINDS: RefCell<HashMap<u64, (String, String, AuthorFinding)>> =
        RefCell::new(HashMap::new());
}

/// An NHS organisation's name: `NHS` with an organisation word on either side.
const NHS_ORGANISATION: &str = r"(?i)\bNHS\b.{0,60}\b(?:foundation trust|trust|ICB|integrated care board|integrated care system|ICS|health board|CCG|clinical commissioning group|ambulance service|hospitals?|england|improvement|digital|direct|111|blood and transplant|confederation|providers|employers|resolution|property services|business services authority|supply chain|professionals)\b|(?i)\b(?:foundation trust|hospitals? trust|healthcare trust|partnership trust|ambulance service|integrated care board|health board|ICB)\b.{0,20}\bNHS\b";

/// A bio that says the account speaks for an NHS organisation.
const NHS_OFFICIAL: &str =
    r"(?i)\b(?:official|corporate)\b.{0,25}\b(?:account|page|feed|channel)\b.{0,60}\bNHS\b";

/// A news outlet's display name.
const OUTLET_NAME: &str = r"(?i)\b(?:news|newspaper|gazette|echo|herald|chronicle|courier|advertiser|argus|mercury|telegraph|evening post|evening standard|express and star|radio|fm|tv|television|broadcasting|press agency|newsroom)\b";

/// A news outlet's bio.
const OUTLET_BIO: &str = r"(?i)\b(?:breaking news|latest news|local news|news,? sport|news and sport|news and views|news from|news for|news website|news service|news channel|daily newspaper|weekly newspaper|newspaper for|got a story|send us your stor(?:y|ies)|tell us your story|radio station|news agency|news outlet)\b";

/// Marks of a person, which rule out an outlet or another organisation.
const PERSON: &str = r"(?i)\b(?:views (?:are )?(?:my )?own|my own views|opinions (?:are )?(?:my )?own|my opinions|personal account|tweets? my own|he/him|she/her|they/them|mum|mom|dad|husband|wife|grandma|grandad|grandpa|nan|mother|father|retired|i am|i'm|im a)\b";

/// Someone who says they work for the NHS without a clinical title.
const STAFF: &str = r"(?i)\b(?:porter|receptionist|ward clerk|medical secretary|clinical coder|domestic assistant|housekeeper|healthcare support worker|support worker|estates (?:team|officer|worker)|catering (?:team|assistant)|NHS (?:worker|staff|employee|admin(?:istrator)?|manager|secretary)|(?:work|working|works) (?:at|for|in) (?:the |an? )?(?:\w+ ){0,5}(?:NHS|hospital|trust|ward|A&E)|proud to work (?:at|for|in) (?:the |an? )?(?:\w+ ){0,5}(?:NHS|hospital|trust)|(?:administrator|admin|manager|secretary|porter|cleaner) (?:at|for|in) (?:the |an? )?(?:\w+ ){0,5}(?:NHS|hospital|trust)|(?:domestic|estates|catering|portering|facilities|housekeeping|reception|admin|ward|switchboard) (?:team|staff) (?:at|for|in|on))\b";

/// An organisation's marks in the name or bio (not the NHS, not news).
const ORGANISATION: &str = r"(?i)\b(?:official account|official page|official twitter|official feed|the official|registered charity|charity (?:no|number)|a charity|charity for|council|borough|county council|city council|ltd|limited|plc|cic|llp|community interest company|we are (?:a|an|the)|we're (?:a|an|the)|we support|we provide|we help|we campaign|campaigning (?:for|to)|follow us|contact us|our team|our services|our members)\b";

/// The author classifier.
#[derive(Debug)]
pub struct Authors {
    nhs_organisation: Regex,
    nhs_official: Regex,
    outlet_name: Regex,
    outlet_bio: Regex,
    person: Regex,
    staff: Regex,
    organisation: Regex,
}

impl Authors {
    /// Compiles the patterns.
    pub fn new() -> Result<Self, Error> {
        let re = |p: &str| Regex::new(p).map_err(|e| Error::Data(format!("pattern {p}: {e}")));
        Ok(Authors {
            nhs_organisation: re(NHS_ORGANISATION)?,
            nhs_official: re(NHS_OFFICIAL)?,
            outlet_name: re(OUTLET_NAME)?,
            outlet_bio: re(OUTLET_BIO)?,
            person: re(PERSON)?,
            staff: re(STAFF)?,
            organisation: re(ORGANISATION)?,
        })
    }

    /// The kind of the author of `post`: from the directory when it lists the account, else
    /// inferred ([`Authors::infer`]). `professional` and `journalist` are the roles
    /// [`crate::people::People::roles`] found.
    pub fn finding(
        &self,
        post: &Post,
        directory: &Directory,
        professional: Option<&Role>,
        journalist: Option<&Role>,
    ) -> AuthorFinding {
        if !directory.is_empty()
            && let Some(entry) = directory.find(post.network, &post.author)
        {
            let mut reason = String::with_capacity(entry.name.len() + 32);
            reason.push_str("directory: ");
            reason.push_str(&entry.name);
            reason.push_str(" (");
            reason.push_str(entry.kind.label());
            reason.push(')');
            return AuthorFinding {
                kind: entry.kind.author_kind(),
                source: AuthorKindSource::Directory,
                entry: Some(entry.id),
                reason,
            };
        }
        self.infer(post.network, &post.author, professional, journalist)
    }

    /// The kind of an author not in the directory, from the network, the name and the bio
    /// (see the module documentation for the order), remembered per thread for the authors
    /// seen last (the answer is the same as without the memory).
    pub fn infer(
        &self,
        network: Network,
        author: &Author,
        professional: Option<&Role>,
        journalist: Option<&Role>,
    ) -> AuthorFinding {
        match network {
            Network::News => return inferred(AuthorKind::NewsOutlet, "network: a news feed item"),
            Network::Feedback => {
                return inferred(AuthorKind::Public, "network: a patient feedback entry");
            }
            _ => {}
        }
        let name = author.display_name.as_deref().unwrap_or("");
        let bio = author.bio.as_deref().unwrap_or("");
        if name.is_empty() && bio.is_empty() && professional.is_none() && journalist.is_none() {
            return inferred(AuthorKind::Public, "no name or bio");
        }
        let key = crate::features::hash(b'n', name.as_bytes())
            ^ crate::features::hash(b'b', bio.as_bytes()).rotate_left(17)
            ^ u64::from(professional.is_some())
            ^ (u64::from(journalist.is_some()) << 1);
        let known = KINDS.with_borrow(|kinds| {
            kinds
                .get(&key)
                .filter(|(n, b, _)| n == name && b == bio)
                .map(|(_, _, finding)| finding.clone())
        });
        if let Some(known) = known {
            return known;
        }
        let finding = self.infer_afresh(name, bio, professional, journalist);
        KINDS.with_borrow_mut(|kinds| {
            if kinds.len() >= REMEMBERED_AUTHORS {
                kinds.clear();
            }
            kinds.insert(key, (name.to_owned(), bio.to_owned(), finding.clone()));
        });
        finding
    }

    /// [`Authors::infer`] without the memory, for a name and bio.
    fn infer_afresh(
        &self,
        name: &str,
        bio: &str,
        professional: Option<&Role>,
        journalist: Option<&Role>,
    ) -> AuthorFinding {
        if let Some(m) = self.nhs_organisation.find(name) {
            return quoted(AuthorKind::PeerOrganisation, "name", m.as_str());
        }
        if let Some(m) = self.nhs_official.find(bio) {
            return quoted(AuthorKind::PeerOrganisation, "bio", m.as_str());
        }
        let person = self
            .person
            .find(bio)
            .or_else(|| self.person.find(name))
            .is_some();
        if !person && journalist.is_none() {
            if let Some(m) = self.outlet_name.find(name) {
                return quoted(AuthorKind::NewsOutlet, "name", m.as_str());
            }
            if let Some(m) = self.outlet_bio.find(bio) {
                return quoted(AuthorKind::NewsOutlet, "bio", m.as_str());
            }
        }
        if let Some(role) = journalist {
            return role_finding(AuthorKind::Journalist, role);
        }
        if let Some(role) = professional {
            return role_finding(AuthorKind::Clinician, role);
        }
        if let Some(m) = self.staff.find(bio) {
            return quoted(AuthorKind::Staff, "bio", m.as_str());
        }
        if !person {
            if let Some(m) = self.organisation.find(name) {
                return quoted(AuthorKind::OtherOrganisation, "name", m.as_str());
            }
            if let Some(m) = self.organisation.find(bio) {
                return quoted(AuthorKind::OtherOrganisation, "bio", m.as_str());
            }
        }
        inferred(
            AuthorKind::Public,
            "no sign of an organisation, the press, a professional or staff in the name or bio",
        )
    }
}

/// An inferred finding with this reason.
fn inferred(kind: AuthorKind, reason: &str) -> AuthorFinding {
    AuthorFinding {
        kind,
        source: AuthorKindSource::Inferred,
        entry: None,
        reason: reason.to_owned(),
    }
}

/// An inferred finding whose reason quotes the words found in a field.
fn quoted(kind: AuthorKind, field: &str, words: &str) -> AuthorFinding {
    let mut reason = String::with_capacity(field.len() + words.len() + 4);
    reason.push_str(field);
    reason.push_str(": \"");
    reason.push_str(words.trim());
    reason.push('"');
    inferred(kind, &reason)
}

/// An inferred finding from a role found by [`crate::people`].
fn role_finding(kind: AuthorKind, role: &Role) -> AuthorFinding {
    let mut reason = String::with_capacity(role.role.len() + role.reason.len() + 3);
    reason.push_str(&role.role);
    reason.push_str(", ");
    reason.push_str(&role.reason);
    inferred(kind, &reason)
}

#[cfg(test)]
mod tests {
    use super::*;
    use model::directory::{DirectoryEntry, EntryKind, Handle};

    fn author(name: &str, bio: &str) -> Author {
        Author {
            handle: "someone".into(),
            display_name: Some(name.into()),
            bio: Some(bio.into()),
            ..Author::default()
        }
    }

    fn kind(name: &str, bio: &str) -> AuthorKind {
        let authors = Authors::new().unwrap();
        let people = crate::people::People::new().unwrap();
        let a = author(name, bio);
        let (professional, journalist) = people.roles(&a);
        authors
            .infer(Network::X, &a, professional.as_ref(), journalist.as_ref())
            .kind
    }

    #[test]
    fn nhs_organisations_by_name_or_official_bio() {
        assert_eq!(
            kind("Leeds Teaching Hospitals NHS Trust", "News and updates"),
            AuthorKind::PeerOrganisation
        );
        assert_eq!(
            kind("NHS West Yorkshire ICB", ""),
            AuthorKind::PeerOrganisation
        );
        assert_eq!(kind("NHS England", ""), AuthorKind::PeerOrganisation);
        assert_eq!(
            kind(
                "Yorkshire Ambulance Service NHS Trust",
                "In an emergency call 999"
            ),
            AuthorKind::PeerOrganisation
        );
        assert_eq!(
            kind(
                "Mental Health Team",
                "The official account of an NHS service"
            ),
            AuthorKind::PeerOrganisation
        );
        // A person who mentions the NHS is not an NHS organisation.
        assert_eq!(kind("Gary #nhsHeroes #FBPE", "Hiking"), AuthorKind::Public);
        assert_eq!(
            kind(
                "Sam",
                "Proud to work for Leeds Teaching Hospitals NHS Trust, porter"
            ),
            AuthorKind::Staff
        );
    }

    #[test]
    fn outlets_journalists_clinicians_staff_and_the_public() {
        assert_eq!(kind("BBC News (UK)", ""), AuthorKind::NewsOutlet);
        assert_eq!(kind("Manchester Evening News", ""), AuthorKind::NewsOutlet);
        assert_eq!(
            kind("The Courier", "Breaking news, sport and what's on"),
            AuthorKind::NewsOutlet
        );
        assert_eq!(
            kind(
                "Georg von Harrach",
                "Reporting the EU for broadcasters. Health correspondent"
            ),
            AuthorKind::Journalist
        );
        assert_eq!(
            kind("Sky News fan", "Mum of two, views my own"),
            AuthorKind::Public
        );
        assert_eq!(
            kind("Georgina Hicks", "Mental Health Nurse"),
            AuthorKind::Clinician
        );
        assert_eq!(
            kind("Pat", "Ward clerk on the acute medical unit"),
            AuthorKind::Staff
        );
        assert_eq!(
            kind(
                "Pat",
                "Domestic team at the General. Clean hospitals save lives"
            ),
            AuthorKind::Staff
        );
        assert_eq!(
            kind(
                "Green Liberal Democrats",
                "We are the environmental conscience of the party"
            ),
            AuthorKind::OtherOrganisation
        );
        assert_eq!(
            kind(
                "Bromley Carers",
                "Registered charity 123456. Supporting carers"
            ),
            AuthorKind::OtherOrganisation
        );
        assert_eq!(
            kind(
                "Ang at home",
                "Yakking on about footie and four legged friends"
            ),
            AuthorKind::Public
        );
        assert_eq!(kind("", ""), AuthorKind::Public);
    }

    #[test]
    fn the_network_decides_for_news_feeds_and_feedback() {
        let authors = Authors::new().unwrap();
        let a = author("Anyone", "");
        assert_eq!(
            authors.infer(Network::News, &a, None, None).kind,
            AuthorKind::NewsOutlet
        );
        assert_eq!(
            authors.infer(Network::Feedback, &a, None, None).kind,
            AuthorKind::Public
        );
    }

    #[test]
    fn the_directory_wins_over_inference() {
        let authors = Authors::new().unwrap();
        let mut entry = DirectoryEntry::new("Northgate Valley NHS FT", EntryKind::OwnOrganisation);
        entry.id = 7;
        entry.handles.push(Handle::new(Network::X, "@NorthgateNHS"));
        let directory = Directory::new(vec![entry]);
        let mut post = Post::new(
            Network::X,
            "1",
            Author {
                handle: "northgatenhs".into(),
                display_name: Some("Northgate Valley NHS Foundation Trust".into()),
                ..Author::default()
            },
            "Our backup generators are running",
            jiff::Timestamp::UNIX_EPOCH,
        );
        let found = authors.finding(&post, &directory, None, None);
        assert_eq!(found.kind, AuthorKind::OwnOrganisation);
        assert_eq!(found.source, AuthorKindSource::Directory);
        assert_eq!(found.entry, Some(7));
        assert!(
            found.reason.contains("Northgate Valley NHS FT"),
            "{}",
            found.reason
        );
        post.author.handle = "someone_else".into();
        let found = authors.finding(&post, &directory, None, None);
        assert_eq!(found.kind, AuthorKind::PeerOrganisation);
        assert_eq!(found.source, AuthorKindSource::Inferred);
    }

    #[test]
    fn remembered_kinds_are_the_kinds_found_afresh() {
        let authors = Authors::new().unwrap();
        let list = [
            author("BBC News (UK)", ""),
            author("Sam", "Porter at St James's hospital"),
            author("Sam", "Porter at St James's hospital, views my own"),
            author("Leeds Teaching Hospitals NHS Trust", ""),
        ];
        for _ in 0..2 {
            for a in &list {
                let name = a.display_name.as_deref().unwrap_or("");
                let bio = a.bio.as_deref().unwrap_or("");
                assert_eq!(
                    authors.infer(Network::X, a, None, None),
                    authors.infer_afresh(name, bio, None, None),
                    "{a:?}"
                );
            }
        }
    }
}
