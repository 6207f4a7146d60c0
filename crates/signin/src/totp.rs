//! Time-based one-time passwords (RFC 6238): six digits from HMAC-SHA1 over 30-second steps,
//! as every authenticator app computes them.
//!
//! A code is accepted for the step before, the current and the step after (clock skew), and
//! each step only once: [`TotpSecret::verify`] takes the last step accepted for the account and
//! returns the step matched, which the caller stores, so a code seen over a shoulder or replayed
//! from a log does not work again.

use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Digits of a code.
pub const DIGITS: u8 = 6;
/// Seconds per step.
pub const STEP_SECONDS: u64 = 30;
/// Bytes of a new secret (160 bits, as RFC 4226 recommends).
pub const SECRET_BYTES: usize = 20;

/// Why a secret cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TotpError {
    /// The stored text is not a base32 secret of the right length.
    #[error("the two-factor secret is not valid base32 of at least 128 bits: {0}")]
    BadSecret(String),
    /// No random bytes.
    #[error("no random bytes for a new two-factor secret: {0}")]
    Random(String),
}

/// A person's TOTP secret (kept server-side; shown once, at enrolment).
#[derive(Clone, PartialEq, Eq)]
pub struct TotpSecret(Vec<u8>);

impl std::fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TotpSecret(..)")
    }
}

impl TotpSecret {
    /// A new random secret.
    pub fn generate() -> Result<TotpSecret, TotpError> {
        crate::random_bytes::<SECRET_BYTES>()
            .map(|bytes| TotpSecret(bytes.to_vec()))
            .map_err(|e| TotpError::Random(e.to_string()))
    }

    /// A secret from its base32 text (as stored, or as an app shows it).
    pub fn from_base32(text: &str) -> Result<TotpSecret, TotpError> {
        let secret = Secret::try_from_base32(text.trim().to_ascii_uppercase())
            .map_err(|e| TotpError::BadSecret(e.to_string()))?;
        let bytes = secret.as_ref().to_vec();
        if bytes.len() < 16 {
            return Err(TotpError::BadSecret(format!("{} bytes", bytes.len())));
        }
        Ok(TotpSecret(bytes))
    }

    /// The secret as base32 (what is stored, and what a person types into an app).
    pub fn to_base32(&self) -> String {
        Secret::from(self.0.clone()).to_base32()
    }

    fn totp(&self, algorithm: Algorithm, digits: u8) -> Result<Totp, TotpError> {
        Builder::new()
            .with_algorithm(algorithm)
            .with_digits(digits)
            .with_skew(1)
            .with_step_duration(STEP_SECONDS)
            .with_secret(self.0.clone())
            .with_account_name("switchboard")
            .build()
            .map_err(|e| TotpError::BadSecret(e.to_string()))
    }

    /// The code for the Unix time `time` (seconds).
    pub fn code_at(&self, time: u64) -> Result<String, TotpError> {
        Ok(self
            .totp(Algorithm::SHA1, DIGITS)?
            .generate(time)
            .to_string())
    }

    /// Checks `code` at Unix time `time`; returns the step it belongs to, or `None` when it is
    /// wrong, malformed, or of a step at or before `last_step` (already used).
    pub fn verify(&self, code: &str, time: u64, last_step: Option<u64>) -> Option<u64> {
        let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
        if code.len() != usize::from(DIGITS) || !code.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let step = self
            .totp(Algorithm::SHA1, DIGITS)
            .ok()?
            .check(&code, time)?;
        match last_step {
            Some(last) if step <= last => None,
            _ => Some(step),
        }
    }

    /// The `otpauth://` address an authenticator app reads (typed or from a QR code): names the
    /// service and the account, and carries the secret.
    pub fn otpauth_uri(&self, issuer: &str, account: &str) -> String {
        let encode = |text: &str| {
            text.bytes().fold(String::new(), |mut out, b| {
                if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                    out.push(char::from(b));
                } else {
                    out.push_str(&format!("%{b:02X}"));
                }
                out
            })
        };
        format!(
            "otpauth://totp/{}:{}?secret={}&issuer={}&algorithm=SHA1&digits={DIGITS}&period={STEP_SECONDS}",
            encode(issuer),
            encode(account),
            self.to_base32(),
            encode(issuer)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The test vectors of RFC 6238, appendix B: eight digits, the three hash functions, each
    /// with its own seed.
    #[test]
    fn rfc_6238_appendix_b_vectors() {
        let sha1 = b"12345678901234567890".to_vec();
        let sha256 = b"12345678901234567890123456789012".to_vec();
        let sha512 = b"1234567890123456789012345678901234567890123456789012345678901234".to_vec();
        let vectors: [(u64, &str, &str, &str); 6] = [
            (59, "94287082", "46119246", "90693936"),
            (1_111_111_109, "07081804", "68084774", "25091201"),
            (1_111_111_111, "14050471", "67062674", "99943326"),
            (1_234_567_890, "89005924", "91819424", "93441116"),
            (2_000_000_000, "69279037", "90698825", "38618901"),
            (20_000_000_000, "65353130", "77737706", "47863826"),
        ];
        for (time, want1, want256, want512) in vectors {
            for (seed, algorithm, want) in [
                (&sha1, Algorithm::SHA1, want1),
                (&sha256, Algorithm::SHA256, want256),
                (&sha512, Algorithm::SHA512, want512),
            ] {
                let got = TotpSecret(seed.clone())
                    .totp(algorithm, 8)
                    .unwrap()
                    .generate(time)
                    .to_string();
                assert_eq!(got, want, "{algorithm:?} at {time}");
            }
        }
        // Six digits are the last six of the eight (RFC 4226's truncation modulo 10^6).
        assert_eq!(TotpSecret(sha1).code_at(59).unwrap(), "287082");
    }

    #[test]
    fn codes_verify_once_within_one_step_of_skew() {
        let secret = TotpSecret::generate().unwrap();
        let now = 1_767_225_615;
        let code = secret.code_at(now).unwrap();
        let step = now / STEP_SECONDS;
        assert_eq!(secret.verify(&code, now, None), Some(step));
        assert_eq!(
            secret.verify(&code, now + 30, None),
            Some(step),
            "one step late"
        );
        assert_eq!(
            secret.verify(&code, now + 90, None),
            None,
            "three steps late"
        );
        assert_eq!(secret.verify(&code, now, Some(step)), None, "a replay");
        assert_eq!(secret.verify(&code, now, Some(step - 1)), Some(step));
        let spaced = format!("{} {}", &code[..3], &code[3..]);
        assert_eq!(secret.verify(&spaced, now, None), Some(step));
        assert_eq!(secret.verify("12345", now, None), None);
        assert_eq!(secret.verify("abcdef", now, None), None);
    }

    #[test]
    fn secrets_round_trip_as_base32_and_in_the_app_address() {
        let secret = TotpSecret::generate().unwrap();
        let text = secret.to_base32();
        assert_eq!(
            TotpSecret::from_base32(&text.to_lowercase()).unwrap(),
            secret
        );
        assert!(TotpSecret::from_base32("not base32!").is_err());
        assert!(TotpSecret::from_base32("GEZDGNBV").is_err(), "too short");
        let uri = secret.otpauth_uri("Switchboard (Trust)", "sam@nhs.net");
        assert!(uri.starts_with("otpauth://totp/Switchboard%20%28Trust%29:sam%40nhs.net?secret="));
        assert!(uri.contains(&text));
        assert!(!format!("{secret:?}").contains(&text));
    }
}
