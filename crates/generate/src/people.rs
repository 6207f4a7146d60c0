//! The cast: the trust, its leaders, peers, press, staff, clinicians and the public.

use fastrand::Rng;

use crate::{Organisation, json};

/// What an account is, as ground truth for tests of author classification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// The organisation's own corporate account.
    Organisation,
    /// The organisation's chief executive, with her own account.
    ChiefExecutive,
    /// Another NHS trust nearby (for share of voice).
    PeerTrust,
    /// The integrated care board.
    Icb,
    /// A local news outlet.
    Press,
    /// A journalist or reporter.
    Journalist,
    /// A clinician (doctor, nurse, midwife, paramedic, pharmacist, GP): a healthcare professional.
    Clinician,
    /// Non-clinical NHS staff (porter, receptionist, administrator).
    Staff,
    /// Patients, relatives and the public.
    Public,
    /// An account that spreads health misinformation.
    Campaigner,
}

impl Role {
    /// Whether the account belongs to a healthcare professional.
    pub fn is_hcp(self) -> bool {
        matches!(self, Role::Clinician)
    }
}

/// One generated account, as ground truth.
#[derive(Debug, Clone)]
pub struct Account {
    /// The handle without `@` (X and Mastodon username).
    pub username: String,
    /// The display name.
    pub name: String,
    /// The profile description.
    pub bio: String,
    /// What the account is.
    pub role: Role,
    /// Follower count.
    pub followers: u32,
    /// Accounts followed.
    pub following: u32,
    /// Posts made over the account's life.
    pub statuses: u32,
    /// Account creation, Unix milliseconds.
    pub created_ms: i64,
    /// The Mastodon server of a remote account (`None` for local accounts).
    pub instance: Option<&'static str>,
    /// The Bluesky handle (`name.bsky.social` or a domain handle).
    pub bsky_handle: String,
    /// The Bluesky DID.
    pub did: String,
    /// X user id.
    pub x_id: u64,
    /// Mastodon account id.
    pub masto_id: u64,
    /// X verification type: `none`, `blue`, `business` or `government`.
    pub verified_type: &'static str,
}

pub(crate) const FIRST: &[&str] = &[
    "Sarah",
    "Emma",
    "Priya",
    "Aisha",
    "Chloe",
    "Megan",
    "Hannah",
    "Zainab",
    "Gemma",
    "Rachel",
    "Lauren",
    "Amy",
    "Kirsty",
    "Nadia",
    "Joanne",
    "Bethan",
    "Siobhan",
    "Agnieszka",
    "Fatima",
    "Leanne",
    "Paula",
    "Janet",
    "Margaret",
    "Olivia",
    "Ruby",
    "Isla",
    "Amara",
    "Carys",
    "Dawn",
    "Mark",
    "James",
    "Tom",
    "Danny",
    "Craig",
    "Imran",
    "Tariq",
    "Rhys",
    "Gareth",
    "Lee",
    "Wayne",
    "Steve",
    "Paul",
    "Kwame",
    "Tomasz",
    "Piotr",
    "Arjun",
    "Harvey",
    "Callum",
    "Owen",
    "Dev",
    "Graham",
    "Keith",
    "Bilal",
    "Josh",
    "Ryan",
    "Liam",
    "Connor",
    "Marcus",
    "Dylan",
    "Ade",
];

pub(crate) const LAST: &[&str] = &[
    "Hartley",
    "Pemberton",
    "Okonjo",
    "Riley",
    "Begum",
    "Hussain",
    "Kowalczyk",
    "Thackeray",
    "Marsden",
    "Oduya",
    "Pryce",
    "Ashdown",
    "Whitlock",
    "Ellery",
    "Nowak",
    "Fairbairn",
    "Chaudhry",
    "Mensah",
    "Lloyd-Evans",
    "Brannigan",
    "Holroyd",
    "Siddiqui",
    "Quayle",
    "Tennant",
    "Varma",
    "Gallacher",
    "Dunmore",
    "Abara",
    "Kendrick",
    "Moorcroft",
    "Rahman",
    "Wilkes",
    "Oyelaran",
    "Byrne",
    "Haworth",
    "Malik",
    "Penhaligon",
    "Stroud",
    "Iqbal",
    "Winstanley",
];

const PUBLIC_BIOS: &[&str] = &[
    "Mum of {n} 🌸 coffee addict",
    "{town} born and bred. Football, family, moaning about the bins",
    "Dad, husband, long-suffering {town} fan",
    "Carer for my mum. Tired. Tea helps",
    "Retired teacher. Gardening, grandchildren and the crossword",
    "Living with MS. Spoonie. Cat person 🐈",
    "Just here for the dogs",
    "Student at {town} College",
    "Nan to {n} gorgeous grandkids 💕",
    "Type 1 diabetic. Runner. Occasional grump",
    "Small business owner in {town}",
    "",
    "",
    "Opinions are mine. Probably wrong",
    "Cancer survivor. Grateful every day 💜",
    "Proud Welsh valleys girl living in {town}",
    "Taxi driver. Seen it all",
];

const CLINICIAN_BIOS: &[&str] = &[
    "Staff nurse, RGN. Views my own",
    "Consultant anaesthetist MRCP FRCA. Tweets are personal",
    "GP partner in {town}. Primary care is the NHS",
    "Paramedic. Coffee, night shifts and bad jokes",
    "FY1 doctor at {hosp}. Learning every day",
    "Midwife 💙 Catching babies since {year}",
    "Pharmacist. Medicines safety nerd",
    "ED registrar. #FOAMed. Views my own, not my employer's",
    "Ward sister on {ward}. NMC {pin}",
    "Consultant oncologist. Research, teaching, running",
    "Mental health nurse. Kindness is clinical",
    "Physiotherapist, MSK. GMC? No, HCPC!",
    "Junior doctor. GMC {gmc}. Tired but hopeful",
    "Advanced nurse practitioner, frailty. RN since {year}",
    "Health visitor and mum. Views mine",
    "Consultant geriatrician at {hosp}. Frailty, delirium, tea",
    "Community nurse in {town}. On the road all day",
];

const STAFF_BIOS: &[&str] = &[
    "Porter at {hosp}. Proud to be NHS",
    "Outpatients receptionist. Smile, it might never happen",
    "Ward clerk. The real boss of {ward}",
    "Healthcare assistant. Nights. Tea, toast, patients",
    "Domestic team at {hosp} 💙 clean hospitals save lives",
    "NHS admin and proud. Views my own",
    "Volunteer driver for the hospital charity",
];

const JOURNALIST_BIOS: &[&str] = &[
    "Health reporter at the {paper}. DMs open for tips",
    "Chief reporter, {paper}. Local news matters",
    "Freelance health and social care journalist",
    "Health and politics correspondent, {paper}",
];

const CAMPAIGNER_BIOS: &[&str] = &[
    "Do your own research. Wake up 👁",
    "Question everything. Not anti anything, just pro truth",
    "Natural health, freedom, family",
    "Independent thinker. Banned twice",
];

pub(crate) const INSTANCES: &[&str] = &[
    "social.northgate.example",
    "mastodon.example",
    "toot.valley.example",
    "med.example",
    "mstdn.example",
];

fn fill(rng: &mut Rng, tpl: &str, org: &Organisation) -> String {
    let mut out = String::with_capacity(tpl.len() + 16);
    let mut rest = tpl;
    while let Some(open) = rest.find('{') {
        out.push_str(rest.get(..open).unwrap_or_default());
        let after = rest.get(open + 1..).unwrap_or_default();
        let Some(close) = after.find('}') else { break };
        let slot = after.get(..close).unwrap_or_default();
        match slot {
            "n" => out.push_str(&rng.u32(2..6).to_string()),
            "town" => out.push_str(pick_s(rng, &org.towns)),
            "hosp" => out.push_str(pick_s(rng, &org.hospitals)),
            "ward" => out.push_str(pick_s(rng, &org.wards)),
            "year" => out.push_str(&rng.u32(1992..2021).to_string()),
            "pin" => out.push_str(&format!(
                "{:02}{}{:04}",
                rng.u32(0..99),
                char::from(rng.u8(b'A'..=b'Z')),
                rng.u32(0..9999)
            )),
            "gmc" => out.push_str(&rng.u32(6_000_000..7_999_999).to_string()),
            "paper" => out.push_str(org.press.first().map_or("local paper", |p| p.name.as_str())),
            _ => {}
        }
        rest = after.get(close + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// A number fixed by a name (FNV-1a), for account ids that do not depend on the seed.
fn stable_id(name: &str) -> u64 {
    name.bytes().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

pub(crate) fn pick<'a>(rng: &mut Rng, list: &'a [&'a str]) -> &'a str {
    list.get(rng.usize(..list.len().max(1)))
        .copied()
        .unwrap_or_default()
}

pub(crate) fn pick_s<'a>(rng: &mut Rng, list: &'a [String]) -> &'a str {
    list.get(rng.usize(..list.len().max(1)))
        .map_or("", String::as_str)
}

/// Index ranges of the cast, by role.
#[derive(Debug, Clone, Default)]
pub(crate) struct Cast {
    pub accounts: Vec<Account>,
    pub org: usize,
    pub ceo: usize,
    pub peers: Vec<usize>,
    pub press: Vec<usize>,
    pub journalists: Vec<usize>,
    pub clinicians: Vec<usize>,
    pub staff: Vec<usize>,
    pub public: Vec<usize>,
    pub campaigners: Vec<usize>,
}

impl Cast {
    pub(crate) fn new(rng: &mut Rng, org: &Organisation, start_ms: i64, size: usize) -> Cast {
        let mut cast = Cast::default();
        let add = |cast: &mut Cast,
                   rng: &mut Rng,
                   username: String,
                   name: String,
                   bio: String,
                   role: Role| {
            let i = cast.accounts.len();
            let (followers, verified_type) = match role {
                Role::Organisation => (rng.u32(18_000..40_000), "government"),
                Role::PeerTrust | Role::Icb => (rng.u32(6_000..30_000), "government"),
                Role::ChiefExecutive => (rng.u32(3_000..9_000), "blue"),
                Role::Press => (rng.u32(20_000..90_000), "business"),
                Role::Journalist => (
                    rng.u32(1_500..12_000),
                    if rng.bool() { "blue" } else { "none" },
                ),
                Role::Clinician | Role::Staff => (rng.u32(40..4_000), "none"),
                Role::Public | Role::Campaigner => (
                    rng.u32(3..2_500),
                    if rng.u8(..40) == 0 { "blue" } else { "none" },
                ),
            };
            let drawn = rng.u64(..);
            // The trust, its chief executive, peers and press keep their account ids whatever
            // the seed, as real organisations' accounts do (the directory lists them); everyone
            // else's come from the draw.
            let seed = match role {
                Role::Organisation
                | Role::ChiefExecutive
                | Role::PeerTrust
                | Role::Icb
                | Role::Press => stable_id(&username),
                _ => drawn,
            };
            let mut did = String::with_capacity(32);
            did.push_str("did:plc:");
            json::b32(&mut did, seed, 24);
            let bsky_handle = match role {
                Role::Organisation => org
                    .website
                    .trim_start_matches("https://")
                    .trim_start_matches("www.")
                    .to_string(),
                _ => format!("{}.bsky.social", username.to_lowercase().replace('_', "-")),
            };
            let instance = match role {
                Role::Organisation | Role::ChiefExecutive => None,
                _ if rng.u8(..3) == 0 => None,
                _ => Some(pick(rng, INSTANCES)),
            };
            cast.accounts.push(Account {
                username,
                name,
                bio,
                role,
                followers,
                following: rng.u32(20..1_500),
                statuses: rng.u32(10..40_000),
                created_ms: start_ms
                    - i64::from(rng.u32(30..5_000)) * 86_400_000
                    - i64::from(rng.u32(..86_400_000)),
                instance,
                bsky_handle,
                did,
                x_id: 10_000_000 + json::mix(seed) % 1_700_000_000_000_000_000,
                masto_id: 109_000_000_000_000_000 + json::mix(seed ^ 7) % 4_000_000_000_000_000,
                verified_type,
            });
            i
        };
        cast.org = add(
            &mut cast,
            rng,
            org.handle.clone(),
            org.name.clone(),
            format!(
                "Official account of {}. Monitored 9am to 5pm, Monday to Friday. In an emergency call 999. {}",
                org.name, org.website
            ),
            Role::Organisation,
        );
        cast.ceo = add(
            &mut cast,
            rng,
            org.chief_executive.handle.clone(),
            org.chief_executive.name.clone(),
            format!(
                "Chief Executive, {}. Proud of our staff. Views my own",
                org.name
            ),
            Role::ChiefExecutive,
        );
        for p in &org.peers {
            let role = if p.name.contains("ICB") || p.name.contains("Integrated Care") {
                Role::Icb
            } else {
                Role::PeerTrust
            };
            let i = add(
                &mut cast,
                rng,
                p.handle.clone(),
                p.name.clone(),
                format!("Official account of {}", p.name),
                role,
            );
            cast.peers.push(i);
        }
        for p in &org.press {
            let i = add(
                &mut cast,
                rng,
                p.handle.clone(),
                p.name.clone(),
                format!(
                    "News, sport and what's on from {}. Got a story? DM us",
                    p.name
                ),
                Role::Press,
            );
            cast.press.push(i);
        }
        let mut used = std::collections::BTreeSet::new();
        for i in 0..size {
            let role = match i % 100 {
                0..=2 => Role::Journalist,
                3..=16 => Role::Clinician,
                17..=21 => Role::Staff,
                22..=24 => Role::Campaigner,
                _ => Role::Public,
            };
            let first = pick(rng, FIRST);
            let last = pick(rng, LAST);
            let mut username = match rng.u8(..6) {
                0 => format!("{first}{last}"),
                1 => format!(
                    "{first}_{}{}",
                    last.get(..1).unwrap_or_default(),
                    rng.u32(1..99)
                ),
                2 => format!("{}{last}", first.get(..1).unwrap_or_default()),
                3 => format!("{}{}", first.to_lowercase(), rng.u32(70..2005)),
                4 => match role {
                    Role::Clinician => format!("Dr{first}{}", last.get(..1).unwrap_or_default()),
                    Role::Journalist => format!("{first}{last}News"),
                    _ => format!("{first}{last}{}", rng.u32(1..9)),
                },
                _ => format!(
                    "{}_{}",
                    first.to_lowercase(),
                    last.to_lowercase().replace('-', "")
                ),
            };
            username.retain(|c| c.is_ascii_alphanumeric() || c == '_');
            username.truncate(15);
            if !used.insert(username.clone()) {
                username.truncate(11);
                username.push_str(&i.to_string());
                username.truncate(15);
                if !used.insert(username.clone()) {
                    username = format!("u{i}");
                    used.insert(username.clone());
                }
            }
            let name = match (role, rng.u8(..5)) {
                (Role::Clinician, 0) => format!("Dr {first} {last}"),
                (Role::Clinician, 1) => format!("{first} {last} RN"),
                (Role::Public, 0) => format!("{first} 💙"),
                (Role::Public, 1) => first.to_string(),
                (Role::Campaigner, _) => format!("{first} 🇬🇧 Free Thinker"),
                _ => format!("{first} {last}"),
            };
            let bio_tpl = match role {
                Role::Journalist => pick(rng, JOURNALIST_BIOS),
                Role::Clinician => pick(rng, CLINICIAN_BIOS),
                Role::Staff => pick(rng, STAFF_BIOS),
                Role::Campaigner => pick(rng, CAMPAIGNER_BIOS),
                _ => pick(rng, PUBLIC_BIOS),
            };
            let bio = fill(rng, bio_tpl, org);
            let idx = add(&mut cast, rng, username, name, bio, role);
            match role {
                Role::Journalist => cast.journalists.push(idx),
                Role::Clinician => cast.clinicians.push(idx),
                Role::Staff => cast.staff.push(idx),
                Role::Campaigner => cast.campaigners.push(idx),
                _ => cast.public.push(idx),
            }
        }
        cast
    }
}
