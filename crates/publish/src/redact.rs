//! Taking secrets out of what a network says before anyone stores or shows it.
//!
//! Error bodies are copied into error messages, which are stored on drafts and shown on pages.
//! A server may echo the request (an access token, an app password, a session token) back in
//! its error: [`redact_secrets`] replaces the client's own secrets wherever they appear, and
//! anything shaped like a credential even when the client does not know it (bearer tokens,
//! `access_token=…` and similar fields, JSON web tokens, Facebook `EAA…` tokens).

use std::sync::OnceLock;

use regex::Regex;

/// What replaces a secret.
const REDACTED: &str = "[redacted]";

/// Secrets shorter than this are not searched for: they would match ordinary words.
const MIN_SECRET_LEN: usize = 6;

/// `text` with every secret in `known` and every credential-shaped string replaced by
/// `[redacted]`.
pub fn redact_secrets(text: &str, known: &[&str]) -> String {
    let mut out = text.to_owned();
    for secret in known {
        let secret = secret.trim();
        if secret.len() >= MIN_SECRET_LEN && out.contains(secret) {
            out = out.replace(secret, REDACTED);
        }
    }
    for (pattern, replacement) in patterns() {
        if pattern.is_match(&out) {
            out = pattern.replace_all(&out, *replacement).into_owned();
        }
    }
    out
}

/// The credential shapes, with what each is replaced by (the field name is kept).
fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{3,}", "$1 [redacted]"),
            (
                r#"(?i)\b(access_?token|refresh_?token|access_?jwt|refresh_?jwt|client_secret|app_?password|password|api_?key|token)("?\s*[:=]\s*"?)[^"&\s,;}]+"#,
                "$1$2[redacted]",
            ),
            (
                r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*",
                REDACTED,
            ),
            (r"\bEAA[A-Za-z0-9]{10,}", REDACTED),
        ]
        .into_iter()
        .filter_map(|(pattern, replacement)| Some((Regex::new(pattern).ok()?, replacement)))
        .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_secrets_and_token_shapes_go() {
        assert_eq!(
            redact_secrets("token sk-live-123456 was refused", &["sk-live-123456"]),
            "token [redacted] was refused"
        );
        assert_eq!(
            redact_secrets(r#"{"accessJwt":"abc","ok":1}"#, &[]),
            r#"{"accessJwt":"[redacted]","ok":1}"#
        );
        assert_eq!(
            redact_secrets("Authorization: Bearer 0123abc", &[]),
            "Authorization: Bearer [redacted]"
        );
        // Ordinary words stay, and a short "secret" is not searched for.
        assert_eq!(
            redact_secrets("Text character limit exceeded", &["a"]),
            "Text character limit exceeded"
        );
    }
}
