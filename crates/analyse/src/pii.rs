//! Personal data exposed in a post: NHS numbers (with a valid Modulus 11 check digit), UK phone
//! numbers, email addresses, postcodes and dates of birth, with byte spans into the original
//! text so that screens can hide them and a reply can warn the patient.

use model::analysis::{PersonalData, PersonalDataKind};
use regex::Regex;

use crate::Error;

/// Whether ten digits form a valid NHS number: the weighted sum of the first nine digits
/// (weights 10 down to 2) gives the tenth as `11 - sum mod 11` (11 becomes 0; 10 is invalid).
pub fn nhs_number_valid(digits: &str) -> bool {
    let d: Vec<u32> = digits.chars().filter_map(|c| c.to_digit(10)).collect();
    if d.len() != 10 || digits.chars().filter(char::is_ascii_digit).count() != 10 {
        return false;
    }
    if d.iter().all(|x| Some(x) == d.first()) {
        return false;
    }
    let sum: u32 = d
        .iter()
        .take(9)
        .zip((2..=10).rev())
        .map(|(x, w)| x * w)
        .sum();
    let check = match 11 - sum % 11 {
        11 => 0,
        10 => return false,
        c => c,
    };
    d.get(9) == Some(&check)
}

/// The personal-data finder.
#[derive(Debug)]
pub struct PiiFinder {
    nhs: Regex,
    phone: Regex,
    email: Regex,
    postcode: Regex,
    dob: Regex,
}

impl PiiFinder {
    /// Compiles the patterns.
    pub fn new() -> Result<Self, Error> {
        let re = |p: &str| Regex::new(p).map_err(|e| Error::Data(format!("pattern {p}: {e}")));
        Ok(PiiFinder {
            nhs: re(r"\b\d{3}[ -]?\d{3}[ -]?\d{4}\b")?,
            phone: re(
                r"(?:\+44\s?\(?0?\)?\s?|\b0)(?:7\d{3}\s?\d{3}\s?\d{3}|[1-3]\d{2,3}\s?\d{3}\s?\d{3,4}|[1-3]\d\s?\d{4}\s?\d{4}|800\s?\d{3}\s?\d{3,4}|8\d{2}\s?\d{3}\s?\d{4})\b",
            )?,
            email: re(r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}\b")?,
            postcode: re(
                r"\b(?:[A-PR-UWYZa-pr-uwyz][A-HK-Ya-hk-y]?\d[A-Za-z\d]?) ?\d[ABD-HJLNP-UW-Zabd-hjlnp-uw-z]{2}\b",
            )?,
            dob: re(
                r"(?i)\b(?:dob|d\.o\.b\.?|date of birth|born on|born|birthday is)\s*(?:is|was)?\s*[:\-]?\s*(\d{1,2}(?:st|nd|rd|th)?[ /.\-](?:\d{1,2}|jan\w*|feb\w*|mar\w*|apr\w*|may|jun\w*|jul\w*|aug\w*|sep\w*|oct\w*|nov\w*|dec\w*)[ /.\-,]+(?:19|20)?\d{2})\b",
            )?,
        })
    }

    /// Finds personal data in a text, in text order, without overlaps.
    pub fn find(&self, text: &str) -> Vec<PersonalData> {
        let mut out: Vec<PersonalData> = Vec::new();
        let overlaps =
            |out: &[PersonalData], s: usize, e: usize| out.iter().any(|p| s < p.end && p.start < e);
        let gates = Gates::of(text);
        let digits = gates.digits;
        if digits >= 10 {
            for m in self.nhs.find_iter(text) {
                if nhs_number_valid(m.as_str()) {
                    out.push(PersonalData {
                        kind: PersonalDataKind::NhsNumber,
                        start: m.start(),
                        end: m.end(),
                        reason: "10 digits with a valid NHS Modulus 11 check digit".into(),
                    });
                }
            }
        }
        if gates.at_sign {
            for m in self.email.find_iter(text) {
                out.push(PersonalData {
                    kind: PersonalDataKind::Email,
                    start: m.start(),
                    end: m.end(),
                    reason: "email address".into(),
                });
            }
        }
        if digits > 0 && names_a_birth_date(text) {
            for c in self.dob.captures_iter(text) {
                if let Some(m) = c.get(1)
                    && !overlaps(&out, m.start(), m.end())
                {
                    out.push(PersonalData {
                        kind: PersonalDataKind::DateOfBirth,
                        start: m.start(),
                        end: m.end(),
                        reason: "a date after \"date of birth\", \"DOB\" or \"born\"".into(),
                    });
                }
            }
        }
        if digits >= 10 {
            for m in self.phone.find_iter(text) {
                let digits = m.as_str().bytes().filter(u8::is_ascii_digit).count();
                if digits >= 10 && !overlaps(&out, m.start(), m.end()) {
                    out.push(PersonalData {
                        kind: PersonalDataKind::Phone,
                        start: m.start(),
                        end: m.end(),
                        reason: "UK telephone number".into(),
                    });
                }
            }
        }
        if gates.letter_then_digit {
            for m in self.postcode.find_iter(text) {
                let s = m.as_str();
                let upper = s.chars().all(|c| !c.is_lowercase());
                if (upper || s.contains(' ')) && !overlaps(&out, m.start(), m.end()) {
                    out.push(PersonalData {
                        kind: PersonalDataKind::Postcode,
                        start: m.start(),
                        end: m.end(),
                        reason: "UK postcode".into(),
                    });
                }
            }
        }
        out.sort_by_key(|p| p.start);
        out
    }
}

/// Whether the text has one of the words the date-of-birth pattern starts from (`dob`,
/// `d.o.b`, `birth`, `born`), in any case: the pattern is only run when it does.
fn names_a_birth_date(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, b)| match b | 0x20 {
        b'd' => {
            starts_with_ignore_case(bytes, i, b"dob") || starts_with_ignore_case(bytes, i, b"d.o.b")
        }
        b'b' => {
            starts_with_ignore_case(bytes, i, b"birth")
                || starts_with_ignore_case(bytes, i, b"born")
        }
        _ => false,
    })
}

/// Whether `bytes[at..]` starts with `needle` (ASCII, any case).
fn starts_with_ignore_case(bytes: &[u8], at: usize, needle: &[u8]) -> bool {
    bytes
        .get(at..at + needle.len())
        .is_some_and(|w| w.eq_ignore_ascii_case(needle))
}

/// What one pass over the bytes tells about which patterns can match at all.
struct Gates {
    /// ASCII digits in the text.
    digits: usize,
    /// The text has an `@` (every email address does).
    at_sign: bool,
    /// An ASCII letter is directly followed by a digit somewhere (every postcode's outward code
    /// has one).
    letter_then_digit: bool,
}

impl Gates {
    /// The digits counted and the `@` searched over the whole text (loops the compiler
    /// vectorises); a letter followed by a digit is only looked for when there is a digit.
    fn of(text: &str) -> Gates {
        let bytes = text.as_bytes();
        // 16-byte blocks summed in byte lanes (at most 16 a lane), then the remainder.
        let mut blocks = bytes.chunks_exact(16);
        let mut digits = 0usize;
        for block in &mut blocks {
            let mut n = 0u8;
            for b in block {
                n += u8::from(b.is_ascii_digit());
            }
            digits += usize::from(n);
        }
        digits += blocks
            .remainder()
            .iter()
            .map(|b| usize::from(b.is_ascii_digit()))
            .sum::<usize>();
        Gates {
            digits,
            at_sign: bytes.contains(&b'@'),
            letter_then_digit: digits > 0
                && bytes
                    .windows(2)
                    .any(|w| matches!(w, [a, d] if a.is_ascii_alphabetic() && d.is_ascii_digit())),
        }
    }

    /// [`Gates::of`] as one byte loop, for the tests.
    #[cfg(test)]
    fn of_bytes(text: &str) -> Gates {
        let mut gates = Gates {
            digits: 0,
            at_sign: false,
            letter_then_digit: false,
        };
        let mut after_letter = false;
        for &b in text.as_bytes() {
            if b.is_ascii_digit() {
                gates.digits += 1;
                gates.letter_then_digit |= after_letter;
            } else if b == b'@' {
                gates.at_sign = true;
            }
            after_letter = b.is_ascii_alphabetic();
        }
        gates
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gates_equal_the_byte_loop() {
        let texts = [
            "",
            "no digits here",
            "a1",
            "1a",
            "a 1",
            "mail me@x.com",
            "SW1A 1AA",
            "call 07700 900123 now",
            "é1 ß2 x",
            "12345678901234567890abc",
            "x@",
        ];
        for t in texts {
            let (a, b) = (Gates::of(t), Gates::of_bytes(t));
            assert_eq!(
                (a.digits, a.at_sign, a.letter_then_digit),
                (b.digits, b.at_sign, b.letter_then_digit),
                "{t}"
            );
        }
    }

    #[test]
    fn nhs_number_check_digit() {
        assert!(nhs_number_valid("9434765919"));
        assert!(nhs_number_valid("943 476 5919"));
        assert!(!nhs_number_valid("9434765918"));
        assert!(!nhs_number_valid("1111111111"));
        assert!(!nhs_number_valid("943476591"));
        assert!(nhs_number_valid("4010232137"));
    }

    fn kinds(text: &str) -> Vec<(PersonalDataKind, &str)> {
        let f = PiiFinder::new().unwrap();
        f.find(text)
            .into_iter()
            .map(|p| (p.kind, &text[p.start..p.end]))
            .collect()
    }

    #[test]
    fn spans_and_kinds() {
        let text = "My NHS number is 943 476 5919, call 07700 900123 or a.b@example.org, \
                    I live at LS1 4AP, DOB 12/03/1985";
        assert_eq!(
            kinds(text),
            vec![
                (PersonalDataKind::NhsNumber, "943 476 5919"),
                (PersonalDataKind::Phone, "07700 900123"),
                (PersonalDataKind::Email, "a.b@example.org"),
                (PersonalDataKind::Postcode, "LS1 4AP"),
                (PersonalDataKind::DateOfBirth, "12/03/1985"),
            ]
        );
    }

    #[test]
    fn invalid_numbers_and_plain_text_are_not_flagged() {
        assert!(kinds("ref 9434765918 and a quiet day").is_empty());
        assert!(kinds("waited 9 hours in A&E").is_empty());
        assert_eq!(
            kinds("ring 0113 243 3144 today")[0].0,
            PersonalDataKind::Phone
        );
        assert_eq!(
            kinds("born on 3rd March 1990")[0],
            (PersonalDataKind::DateOfBirth, "3rd March 1990")
        );
    }
}
