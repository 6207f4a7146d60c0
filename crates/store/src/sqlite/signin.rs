//! The SQLite side of [`SigninStore`].

use jiff::Timestamp;
use rusqlite::{OptionalExtension, params};

use super::{SqliteStore, accounts::user};
use crate::{
    StoreError, User,
    signin::{PendingLogin, SecondFactor, SigninStore},
};

const REQUIRE_TWO_FACTOR: &str = "require_two_factor";

impl SqliteStore {
    fn signin_write<T>(
        &self,
        f: impl FnOnce(&rusqlite::Connection) -> rusqlite::Result<T>,
    ) -> Result<T, StoreError> {
        let writer = self.writer();
        f(writer.conn()).map_err(|e| self.err(e))
    }
}

impl SigninStore for SqliteStore {
    fn second_factor(&self, user_id: i64) -> Result<Option<SecondFactor>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT totp_secret, confirmed_at IS NOT NULL, last_step, \
                 (SELECT count(*) FROM recovery_codes r WHERE r.user_id = s.user_id AND r.used_at IS NULL) \
                 FROM second_factors s WHERE user_id = ?1",
            )?
            .query_row([user_id], |r| {
                Ok(SecondFactor {
                    secret: r.get(0)?,
                    confirmed: r.get(1)?,
                    last_step: r.get::<_, Option<i64>>(2)?.map(|s| s.max(0) as u64),
                    recovery_codes_left: r.get::<_, i64>(3)?.max(0) as u64,
                })
            })
            .optional()
        })
    }

    fn begin_second_factor(&self, user_id: i64, secret: &str) -> Result<bool, StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "INSERT INTO second_factors (user_id, totp_secret) VALUES (?1, ?2) \
                 ON CONFLICT (user_id) DO UPDATE SET totp_secret = excluded.totp_secret, \
                 last_step = NULL WHERE confirmed_at IS NULL",
                params![user_id, secret],
            )
            .map(|n| n > 0)
        })
    }

    fn confirm_second_factor(
        &self,
        user_id: i64,
        step: u64,
        recovery_digests: &[String],
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            let confirmed = conn.execute(
                "UPDATE second_factors SET confirmed_at = ?2, last_step = ?3 \
                 WHERE user_id = ?1 AND confirmed_at IS NULL",
                params![user_id, now.as_microsecond(), step as i64],
            )?;
            if confirmed == 0 {
                return Ok(false);
            }
            conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
            for digest in recovery_digests {
                conn.execute(
                    "INSERT INTO recovery_codes (user_id, digest) VALUES (?1, ?2)",
                    params![user_id, digest],
                )?;
            }
            Ok(true)
        })
    }

    fn use_totp_step(&self, user_id: i64, step: u64) -> Result<bool, StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "UPDATE second_factors SET last_step = ?2 WHERE user_id = ?1 \
                 AND confirmed_at IS NOT NULL AND (last_step IS NULL OR last_step < ?2)",
                params![user_id, step as i64],
            )
            .map(|n| n > 0)
        })
    }

    fn use_recovery_code(
        &self,
        user_id: i64,
        digest: &str,
        now: Timestamp,
    ) -> Result<bool, StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "UPDATE recovery_codes SET used_at = ?3 \
                 WHERE user_id = ?1 AND digest = ?2 AND used_at IS NULL",
                params![user_id, digest, now.as_microsecond()],
            )
            .map(|n| n > 0)
        })
    }

    fn remove_second_factor(&self, user_id: i64) -> Result<bool, StoreError> {
        self.write_transaction(|conn| {
            conn.execute("DELETE FROM recovery_codes WHERE user_id = ?1", [user_id])?;
            conn.execute("DELETE FROM second_factors WHERE user_id = ?1", [user_id])
                .map(|n| n > 0)
        })
    }

    fn add_pending_login(
        &self,
        token_hash: &str,
        user_id: i64,
        next: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "DELETE FROM pending_logins WHERE expires_at < ?1",
                [Timestamp::now().as_microsecond()],
            )?;
            conn.execute(
                "INSERT INTO pending_logins (token_hash, user_id, next, expires_at) \
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user_id, next, expires_at.as_microsecond()],
            )
            .map(|_| ())
        })
    }

    fn pending_login(
        &self,
        token_hash: &str,
        now: Timestamp,
    ) -> Result<Option<PendingLogin>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_at, p.next, p.attempts \
                 FROM pending_logins p JOIN users u ON u.id = p.user_id \
                 WHERE p.token_hash = ?1 AND p.expires_at > ?2",
            )?
            .query_row(params![token_hash, now.as_microsecond()], |r| {
                Ok(PendingLogin {
                    user: user(r, 0)?,
                    next: r.get(5)?,
                    attempts: r.get::<_, i64>(6)?.clamp(0, i64::from(u32::MAX)) as u32,
                })
            })
            .optional()
        })
    }

    fn fail_pending_login(&self, token_hash: &str) -> Result<u32, StoreError> {
        self.signin_write(|conn| {
            conn.query_row(
                "UPDATE pending_logins SET attempts = attempts + 1 WHERE token_hash = ?1 \
                 RETURNING attempts",
                [token_hash],
                |r| r.get::<_, i64>(0),
            )
            .optional()
            .map(|n| {
                n.unwrap_or(i64::from(u32::MAX))
                    .clamp(0, i64::from(u32::MAX)) as u32
            })
        })
    }

    fn remove_pending_login(&self, token_hash: &str) -> Result<(), StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "DELETE FROM pending_logins WHERE token_hash = ?1",
                [token_hash],
            )
            .map(|_| ())
        })
    }

    fn add_oidc_login(
        &self,
        state: &str,
        data: &str,
        next: &str,
        expires_at: Timestamp,
    ) -> Result<(), StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "DELETE FROM oidc_logins WHERE expires_at < ?1",
                [Timestamp::now().as_microsecond()],
            )?;
            conn.execute(
                "INSERT INTO oidc_logins (state, data, next, expires_at) VALUES (?1, ?2, ?3, ?4)",
                params![state, data, next, expires_at.as_microsecond()],
            )
            .map(|_| ())
        })
    }

    fn take_oidc_login(
        &self,
        state: &str,
        now: Timestamp,
    ) -> Result<Option<(String, String)>, StoreError> {
        self.signin_write(|conn| {
            conn.query_row(
                "DELETE FROM oidc_logins WHERE state = ?1 RETURNING data, next, expires_at",
                [state],
                |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, i64>(2)?,
                    ))
                },
            )
            .optional()
            .map(|found| {
                found
                    .filter(|(_, _, expires)| *expires > now.as_microsecond())
                    .map(|(data, next, _)| (data, next))
            })
        })
    }

    fn user_for_identity(&self, issuer: &str, subject: &str) -> Result<Option<User>, StoreError> {
        self.read(|conn| {
            conn.prepare_cached(
                "SELECT u.id, u.name, u.role, u.password_hash, u.created_at \
                 FROM oidc_identities i JOIN users u ON u.id = i.user_id \
                 WHERE i.issuer = ?1 AND i.subject = ?2",
            )?
            .query_row(params![issuer, subject], |r| user(r, 0))
            .optional()
        })
    }

    fn link_identity(&self, issuer: &str, subject: &str, user_id: i64) -> Result<(), StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO oidc_identities (issuer, subject, user_id) VALUES (?1, ?2, ?3)",
                params![issuer, subject, user_id],
            )
            .map(|_| ())
        })
    }

    fn two_factor_required(&self) -> Result<bool, StoreError> {
        self.read(|conn| {
            conn.query_row(
                "SELECT value FROM signin_settings WHERE key = ?1",
                [REQUIRE_TWO_FACTOR],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|v| v.as_deref() == Some("1"))
        })
    }

    fn set_two_factor_required(&self, required: bool) -> Result<(), StoreError> {
        self.signin_write(|conn| {
            conn.execute(
                "INSERT OR REPLACE INTO signin_settings (key, value) VALUES (?1, ?2)",
                params![REQUIRE_TWO_FACTOR, if required { "1" } else { "0" }],
            )
            .map(|_| ())
        })
    }
}
