-- Sign-in: second factors (TOTP) with recovery codes, sign-ins waiting for their second step,
-- OpenID Connect sign-ins in progress and the provider identities linked to people, and the
-- instance-wide sign-in settings. Times are microseconds since the Unix epoch (UTC).

CREATE TABLE second_factors (
    user_id      INTEGER PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    -- Base32 TOTP secret.
    totp_secret  TEXT NOT NULL,
    -- NULL while the person has not yet typed a first code.
    confirmed_at INTEGER,
    -- The last 30-second step accepted: a code is accepted once.
    last_step    INTEGER
);

-- Only SHA-256 digests of the codes are kept.
CREATE TABLE recovery_codes (
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    digest  TEXT NOT NULL,
    used_at INTEGER,
    PRIMARY KEY (user_id, digest)
) WITHOUT ROWID;

-- A password accepted, the second step still to come; found by the hash of its cookie.
CREATE TABLE pending_logins (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    next       TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    attempts   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- OpenID Connect sign-ins sent to the provider, by state; data holds nonce and PKCE verifier.
CREATE TABLE oidc_logins (
    state      TEXT PRIMARY KEY,
    data       TEXT NOT NULL,
    next       TEXT NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE oidc_identities (
    issuer  TEXT NOT NULL,
    subject TEXT NOT NULL,
    user_id INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    PRIMARY KEY (issuer, subject)
) WITHOUT ROWID;
CREATE INDEX oidc_identities_user ON oidc_identities (user_id);

CREATE TABLE signin_settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
