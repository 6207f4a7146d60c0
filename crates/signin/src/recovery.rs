//! One-time recovery codes for a person who lost their authenticator.
//!
//! Ten codes of 80 random bits each, shown once as `xxxx-xxxx-xxxx-xxxx` (base32 without the
//! letters people confuse); the store keeps only their SHA-256 (80 bits are far beyond guessing,
//! so a slow hash adds nothing) and marks each used code, which then never works again.

use sha2::{Digest, Sha256};

/// How many codes a person gets.
pub const COUNT: usize = 10;

/// The letters of a code: base32 (RFC 4648) in lower case.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// New recovery codes (shown to the person once).
pub fn generate() -> Result<Vec<String>, getrandom::Error> {
    (0..COUNT)
        .map(|_| {
            let bytes = crate::random_bytes::<10>()?;
            let mut bits: u128 = 0;
            for b in bytes {
                bits = (bits << 8) | u128::from(b);
            }
            let mut code = String::with_capacity(19);
            for i in 0..16 {
                if i > 0 && i % 4 == 0 {
                    code.push('-');
                }
                let index = ((bits >> (75 - 5 * i)) & 31) as usize;
                code.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'a')));
            }
            Ok(code)
        })
        .collect()
}

/// The form a code is compared in: lower case, without spaces or dashes.
pub fn normalise(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// The digest stored for a code (hex SHA-256 of its normalised form).
pub fn digest(code: &str) -> String {
    Sha256::digest(normalise(code).as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_long_and_typed_loosely() {
        let codes = generate().unwrap();
        assert_eq!(codes.len(), COUNT);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), COUNT);
        for code in &codes {
            assert_eq!(code.len(), 19);
            assert_eq!(normalise(code).len(), 16);
        }
        let code = &codes[0];
        assert_eq!(digest(code), digest(&code.to_uppercase().replace('-', " ")));
        assert_ne!(digest(code), digest(&codes[1]));
        assert_eq!(digest(code).len(), 64);
    }
}
