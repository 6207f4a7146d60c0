//! Who the author is: a healthcare professional (from the display name and the bio: job titles,
//! grades, post-nominal letters, GMC, NMC or HCPC registration numbers) or a journalist.
//!
//! Abbreviations (`RN`, `GP`, `FY1`, `MRCP`) are matched in capitals only, job titles in any
//! case. The role found and the words that showed it are returned as the reason.

use std::{cell::RefCell, collections::HashMap};

use model::Author;
use model::analysis::Role;
use regex::{Regex, RegexSet};

use crate::Error;

/// Authors remembered per thread by [`People::roles`] before the memory is emptied.
const REMEMBERED_AUTHORS: usize = 32_768;

/// The roles of an author seen recently, with the name and bio they were found in.
struct Remembered {
    name: String,
    bio: String,
    professional: Option<Role>,
    journalist: Option<Role>,
}

thread_local! {
    /// The roles of the authors this thread saw last, by a hash of name and bio: the same
    /// accounts post again and again, and the patterns cost more than the rest of a post.
    static ROLES: RefCell<HashMap<u64, Remembered>> = RefCell::new(HashMap::new());
}

/// Job titles and grades (matched in any case), with the role reported.
const HCP_WORDS: &[(&str, &str)] = &[
    (r"general practitioner|family doctor", "GP"),
    (
        r"consultant (?:\w+ )?(?:physician|surgeon|psychiatrist|anaesthetist|radiologist|paediatrician|obstetrician|geriatrician|cardiologist|oncologist|neurologist|in \w+)",
        "consultant",
    ),
    (r"consultant", "consultant"),
    (
        r"specialty registrar|speciality registrar|registrar|\bst[1-8]\b|\bct[1-3]\b",
        "registrar",
    ),
    (
        r"foundation (?:year )?doctor|junior doctor|resident doctor|house officer",
        "junior doctor",
    ),
    (
        r"advanced nurse practitioner|nurse practitioner|clinical nurse specialist",
        "nurse practitioner",
    ),
    (r"student nurse|nursing student", "student nurse"),
    (r"student midwife", "student midwife"),
    (r"midwi(?:fe|ves|fery)", "midwife"),
    (r"health visitor", "health visitor"),
    (
        r"district nurse|staff nurse|charge nurse|ward sister|matron|chief nurse|nurse|nursing",
        "nurse",
    ),
    (
        r"paramedic|ambulance technician|emergency medical technician",
        "paramedic",
    ),
    (r"pharmacist|pharmacy technician", "pharmacist"),
    (r"physiotherapist|physio\b", "physiotherapist"),
    (r"occupational therapist", "occupational therapist"),
    (
        r"speech (?:and language )?therapist",
        "speech and language therapist",
    ),
    (r"radiographer|sonographer", "radiographer"),
    (r"dietitian|dietician", "dietitian"),
    (r"psychiatrist", "psychiatrist"),
    (r"clinical psychologist", "clinical psychologist"),
    (r"anaesthetist|anesthesiologist", "anaesthetist"),
    (r"surgeon", "surgeon"),
    (r"physician", "physician"),
    (r"paediatrician|pediatrician", "paediatrician"),
    (r"obstetrician|gynaecologist", "obstetrician"),
    (r"\bdentist|dental surgeon", "dentist"),
    (
        r"healthcare assistant|health care assistant|nursing associate|care assistant",
        "healthcare assistant",
    ),
    (r"medical student|med student", "medical student"),
    (r"\bdoctor\b|\bmedic\b", "doctor"),
    (r"\bsalaried gp|gp partner|gp trainee|\bgp\b", "GP"),
];

/// Abbreviations and post-nominal letters (matched in capitals), with the role reported.
const HCP_ABBREVIATIONS: &[(&str, &str)] = &[
    (r"\bGPs?\b|\bGPwSI\b|\bGPST\d?\b", "GP"),
    (r"\bFY[12]\b|\bF[12] doctor\b", "foundation doctor"),
    (r"\bST[1-8]\b|\bCT[1-3]\b|\bSpR\b|\bStR\b", "registrar"),
    (
        r"\bRGN\b|\bRMN\b|\bRNLD\b|\bRSCN\b|\bRN\b|\bRNMH\b|\bRNA\b|\bANP\b|\bCNS\b",
        "nurse",
    ),
    (r"\bRM\b", "midwife"),
    (
        r"\bMRCP\b|\bFRCP\b|\bMRCGP\b|\bFRCGP\b|\bMRCS\b|\bFRCS\b|\bFRCA\b|\bFRCR\b|\bMRCPsych\b|\bMRCPCH\b|\bFRCPCH\b|\bMRCOG\b|\bFRCEM\b|\bMBBS\b|\bMBChB\b|\bMB ChB\b|\bBMBS\b|\bMBBCh\b",
        "doctor",
    ),
    (r"\bMRPharmS\b|\bFRPharmS\b", "pharmacist"),
    (r"\bMCSP\b|\bHCPC\b", "allied health professional"),
    (r"\bODP\b", "operating department practitioner"),
    (r"\bHCA\b", "healthcare assistant"),
];

/// Journalist titles (any case).
const JOURNALIST_WORDS: &str = r"(?i)\b(journalist|reporter|correspondent|news editor|health editor|political editor|editor at|editor of|sub-?editor|broadcaster|presenter|columnist|freelance writer|newsroom|NUJ)\b";

/// The author classifier.
#[derive(Debug)]
pub struct People {
    words: Vec<(Regex, &'static str)>,
    abbreviations: Vec<(Regex, &'static str)>,
    /// Every title and abbreviation pattern in one automaton: one scan tells whether any of
    /// them can match, before they are tried one by one in order.
    any_role: RegexSet,
    register: Regex,
    journalist: Regex,
    dr_title: Regex,
    not_hcp: Regex,
}

impl People {
    /// Compiles the patterns.
    pub fn new() -> Result<Self, Error> {
        let re = |p: &str| Regex::new(p).map_err(|e| Error::Data(format!("pattern {p}: {e}")));
        let mut words = Vec::new();
        for (p, role) in HCP_WORDS {
            words.push((re(&format!(r"(?i)\b(?:{p})"))?, *role));
        }
        let mut abbreviations = Vec::new();
        for (p, role) in HCP_ABBREVIATIONS {
            abbreviations.push((re(p)?, *role));
        }
        let any_role = RegexSet::new(
            abbreviations
                .iter()
                .chain(&words)
                .map(|(r, _): &(Regex, &str)| r.as_str()),
        )
        .map_err(|e| Error::Data(format!("role patterns: {e}")))?;
        Ok(People {
            words,
            abbreviations,
            any_role,
            register: re(
                r"(?i)\b(GMC|NMC|HCPC|GPhC)(?: (?:no\.?|number|pin|reg(?:istration)?\.?))?[:# ]*([0-9]{7}|[0-9]{2}[A-Z][0-9]{4}[A-Z]|[A-Z]{2}[0-9]{5,6})\b",
            )?,
            journalist: re(JOURNALIST_WORDS)?,
            dr_title: re(r"^(?:Dr\.?|Doctor) [A-Z]")?,
            not_hcp: re(
                r"(?i)\b(?:patient|carer of|wife of|husband of|mum of|daughter of|son of|married to|proud (?:mum|dad|wife|husband|daughter|son) of|not a (?:doctor|nurse)|fan of)\b",
            )?,
        })
    }

    /// [`People::professional`] and [`People::journalist`] together, remembered for the
    /// authors this thread saw last (the answer is the same as without the memory).
    pub fn roles(&self, author: &Author) -> (Option<Role>, Option<Role>) {
        let name = author.display_name.as_deref().unwrap_or("");
        let bio = author.bio.as_deref().unwrap_or("");
        if name.is_empty() && bio.is_empty() {
            return (None, None);
        }
        let key = crate::features::hash(b'n', name.as_bytes())
            ^ crate::features::hash(b'b', bio.as_bytes()).rotate_left(17);
        let known = ROLES.with_borrow(|roles| {
            roles
                .get(&key)
                .filter(|seen| seen.name == name && seen.bio == bio)
                .map(|seen| (seen.professional.clone(), seen.journalist.clone()))
        });
        if let Some(known) = known {
            return known;
        }
        let professional = self.professional(author);
        let journalist = self.journalist(author);
        ROLES.with_borrow_mut(|roles| {
            if roles.len() >= REMEMBERED_AUTHORS {
                roles.clear();
            }
            roles.insert(
                key,
                Remembered {
                    name: name.to_owned(),
                    bio: bio.to_owned(),
                    professional: professional.clone(),
                    journalist: journalist.clone(),
                },
            );
        });
        (professional, journalist)
    }

    /// Whether the author presents as a healthcare professional, with the role found.
    pub fn professional(&self, author: &Author) -> Option<Role> {
        let fields = [
            ("name", author.display_name.as_deref().unwrap_or("")),
            ("bio", author.bio.as_deref().unwrap_or("")),
        ];
        for (field, text) in fields {
            // `find` first: it needs no `Captures` allocation, and most texts have no match.
            if let Some(c) = self
                .register
                .find(text)
                .and_then(|_| self.register.captures(text))
                && let (Some(body), Some(all)) = (c.get(1), c.get(0))
            {
                let role = match body.as_str().to_ascii_uppercase().as_str() {
                    "GMC" => "doctor",
                    "NMC" => "nurse or midwife",
                    "GPHC" => "pharmacist",
                    _ => "allied health professional",
                };
                return Some(Role {
                    role: role.into(),
                    reason: format!("{field}: registration \"{}\"", all.as_str()),
                });
            }
        }
        for (field, text) in fields {
            if text.is_empty() || !self.any_role.is_match(text) {
                continue;
            }
            for (re, role) in &self.abbreviations {
                if let Some(m) = re.find(text) {
                    return Some(Role {
                        role: (*role).into(),
                        reason: format!("{field}: \"{}\"", m.as_str()),
                    });
                }
            }
            for (re, role) in &self.words {
                if let Some(m) = re.find(text) {
                    let before = text.get(..m.start()).unwrap_or("");
                    let window = before
                        .get(before.len().saturating_sub(25)..)
                        .unwrap_or(before);
                    if self.not_hcp.is_match(window) {
                        continue;
                    }
                    return Some(Role {
                        role: (*role).into(),
                        reason: format!("{field}: \"{}\"", m.as_str()),
                    });
                }
            }
        }
        if let Some(name) = author.display_name.as_deref()
            && let Some(m) = self.dr_title.find(name)
        {
            return Some(Role {
                role: "doctor".into(),
                reason: format!("name: title \"{}\"", m.as_str().trim_end()),
            });
        }
        None
    }

    /// Whether the author presents as a journalist, with the title found.
    pub fn journalist(&self, author: &Author) -> Option<Role> {
        let fields = [
            ("name", author.display_name.as_deref().unwrap_or("")),
            ("bio", author.bio.as_deref().unwrap_or("")),
        ];
        for (field, text) in fields {
            if let Some(m) = self.journalist.find(text) {
                return Some(Role {
                    role: "journalist".into(),
                    reason: format!("{field}: \"{}\"", m.as_str()),
                });
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn author(name: &str, bio: &str) -> Author {
        Author {
            display_name: Some(name.into()),
            bio: Some(bio.into()),
            ..Author::default()
        }
    }

    #[test]
    fn remembered_roles_are_the_roles_found_afresh() {
        let people = People::new().unwrap();
        let authors = [
            author("Dr Jane Smith", "Consultant physician. Views my own"),
            author("Sam", "Health reporter at the Gazette"),
            author("Sam", "Health reporter at the Gazette, RN"),
            author("Pat", "Proud mum of a nurse"),
            author("", ""),
        ];
        for _ in 0..2 {
            for author in &authors {
                let fresh = (people.professional(author), people.journalist(author));
                assert_eq!(people.roles(author), fresh, "{author:?}");
            }
        }
    }

    fn role(name: &str, bio: &str) -> Option<String> {
        People::new()
            .unwrap()
            .professional(&author(name, bio))
            .map(|r| r.role)
    }

    #[test]
    fn roles_from_bio_and_name() {
        assert_eq!(
            role("Jo", "Staff nurse on ward 4").as_deref(),
            Some("nurse")
        );
        assert_eq!(role("Jo Bloggs RGN", "").as_deref(), Some("nurse"));
        assert_eq!(
            role("Sam", "GP in Leeds. Views my own").as_deref(),
            Some("GP")
        );
        assert_eq!(
            role("Sam", "FY1 doctor, Manchester").as_deref(),
            Some("foundation doctor")
        );
        assert_eq!(
            role("Dr Ali Khan", "Dad, runner").as_deref(),
            Some("doctor")
        );
        assert_eq!(
            role("A", "MBChB MRCP, cardiology").as_deref(),
            Some("doctor")
        );
        assert_eq!(
            role("A", "Consultant anaesthetist").as_deref(),
            Some("consultant")
        );
        assert_eq!(role("A", "Community midwife").as_deref(), Some("midwife"));
        assert_eq!(role("A", "Paramedic @ NWAS").as_deref(), Some("paramedic"));
        assert_eq!(
            role("A", "NMC PIN 12A3456E").as_deref(),
            Some("nurse or midwife")
        );
        assert_eq!(role("A", "GMC 1234567").as_deref(), Some("doctor"));
        assert_eq!(
            role("A", "Senior physio, MSK").as_deref(),
            Some("physiotherapist")
        );
    }

    #[test]
    fn non_professionals() {
        assert_eq!(role("Jo", "Mum of two, loves gardening"), None);
        assert_eq!(role("Jo", "Proud wife of a nurse"), None);
        assert_eq!(role("Jo", "Rn to the shops"), None);
        let p = People::new().unwrap();
        assert!(
            p.journalist(&author("Jo", "Health correspondent, BBC"))
                .is_some()
        );
        assert!(p.journalist(&author("Jo", "Nurse")).is_none());
    }
}
