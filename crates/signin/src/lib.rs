//! Sign-in as NHS staff do: single sign-on through the organisation's OpenID Connect provider
//! (Microsoft Entra ID, which NHSmail uses) and, for local accounts, a second factor: TOTP codes
//! from an authenticator app (RFC 6238) with one-time recovery codes.
//!
//! This crate holds the protocol logic and its checks; the store keeps the state (secrets,
//! recovery code digests, pending sign-ins) and the server wires the pages. [`oidc`] fetches
//! the provider's discovery document and keys and exchanges the code over HTTP; [`totp`] and
//! [`recovery`] do no I/O beyond drawing random bytes.

pub mod oidc;
pub mod recovery;
#[cfg(feature = "test-provider")]
pub mod testing;
pub mod totp;

/// `n` random bytes from the operating system.
pub(crate) fn random_bytes<const N: usize>() -> Result<[u8; N], getrandom::Error> {
    let mut bytes = [0_u8; N];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}
