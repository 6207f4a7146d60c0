//! What sign-in keeps ([`SigninStore`]): second factors and recovery codes, sign-ins waiting for
//! their second step, OpenID Connect sign-ins in progress, the provider identities linked to
//! people, and whether every local account must use a second factor.
//!
//! Secrets that let someone in are kept only as hashes (pending sign-ins by the SHA-256 of their
//! cookie, recovery codes by their SHA-256); a TOTP secret must be kept as it is, since the
//! server computes codes from it.

use jiff::Timestamp;

use crate::{StoreError, User};

/// A person's TOTP second factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecondFactor {
    /// The base32 secret.
    pub secret: String,
    /// Whether the person confirmed it with a first code (until then it does not count).
    pub confirmed: bool,
    /// The last step accepted.
    pub last_step: Option<u64>,
    /// Recovery codes not used yet.
    pub recovery_codes_left: u64,
}

/// A sign-in whose password was accepted, waiting for its second step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingLogin {
    /// Who.
    pub user: User,
    /// Where to go after.
    pub next: String,
    /// Wrong codes typed so far.
    pub attempts: u32,
}

/// Sign-in state.
pub trait SigninStore: Send + Sync {
    /// A person's second factor, if they have one (confirmed or being set up).
    fn second_factor(&self, user_id: i64) -> Result<Option<SecondFactor>, StoreError>;

    /// Starts setting up a second factor with `secret` (replacing one not yet confirmed; a
    /// confirmed one is left alone and `false` returned).
    fn begin_second_factor(&self, user_id: i64, secret: &str) -> Result<bool, StoreError>;

    /// Confirms the second factor being set up, with the step of the first code and the
    /// digests of new recovery codes (replacing any earlier ones).
    fn confirm_second_factor(
        &self,
        user_id: i64,
        step: u64,
        recovery_digests: &[String],
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Records `step` as used if it is later than the last step used; false when it is not
    /// (a replayed code), so two requests with one code cannot both pass.
    fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool, StoreError>;

    /// Uses a recovery code by its digest; false when unknown or already used.
    fn use_recovery_code(
        &self,
        user_id: i64,
        digest: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError>;

    /// Removes a person's second factor and recovery codes.
    fn remove_second_factor(&self, user_id: i64) -> Result<bool, StoreError>;

    /// Keeps a pending sign-in under the hash of its cookie secret.
    fn add_pending_login(
        &self,
        token_hash: &str,
        user_id: i64,
        next: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// A pending sign-in that has not expired.
    fn pending_login(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PendingLogin>, StoreError>;

    /// Counts a wrong code; returns the attempts so far.
    fn fail_pending_login(&self, token_hash: &str) -> Result<u32, StoreError>;

    /// Ends a pending sign-in (done, or too many wrong codes).
    fn remove_pending_login(&self, token_hash: &str) -> Result<(), StoreError>;

    /// Keeps an OpenID Connect sign-in sent to the provider, by its state.
    fn add_oidc_login(
        &self,
        state: &str,
        data: &str,
        next: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError>;

    /// Takes (and removes) the sign-in with this state, unless expired: `(data, next)`.
    fn take_oidc_login(
        &self,
        state: &str,
        now: Timestamp,
    ) -> Result<Option<(String, String)>, StoreError>;

    /// The person linked to a provider identity.
    fn user_for_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>, StoreError>;

    /// Links a provider identity to a person.
    fn link_identity(&self, issuer: &str, subject: &str, user_id: i64) -> Result<(), StoreError>;

    /// Whether every local account must use a second factor.
    fn two_factor_required(&self) -> Result<bool, StoreError>;

    /// Sets whether every local account must use a second factor.
    fn set_two_factor_required(&self, required: bool) -> Result<(), StoreError>;
}
