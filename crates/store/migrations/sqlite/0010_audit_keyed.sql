-- The audit log keyed with a secret kept outside the database (HMAC-SHA256), chaining a digest
-- of each entry's detail so that the detail can be erased while the chain still verifies.
-- The old SHA-256 chain is kept aside as audit_log_sha256 until the store, holding the key,
-- checks it and moves its entries onto the keyed chain (then drops it).
DROP TRIGGER audit_log_no_update;
DROP TRIGGER audit_log_no_delete;
ALTER TABLE audit_log RENAME TO audit_log_sha256;

CREATE TABLE audit_log (
    seq           INTEGER PRIMARY KEY,
    at            INTEGER NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    subject       TEXT NOT NULL,
    -- Empty once erased (erased = 1); the digest stays.
    detail        TEXT NOT NULL,
    detail_digest TEXT NOT NULL,
    erased        INTEGER NOT NULL DEFAULT 0,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX audit_log_subject ON audit_log (subject);
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
-- The one change allowed: erasing an entry's detail (empty text, erased = 1), all else equal.
CREATE TRIGGER audit_log_only_erasure BEFORE UPDATE ON audit_log
WHEN NOT (NEW.seq = OLD.seq AND NEW.at = OLD.at AND NEW.actor = OLD.actor
          AND NEW.action = OLD.action AND NEW.subject = OLD.subject
          AND NEW.detail_digest = OLD.detail_digest AND NEW.prev_hash = OLD.prev_hash
          AND NEW.hash = OLD.hash AND NEW.detail = '' AND NEW.erased = 1)
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: only an entry''s detail may be erased');
END;

-- Which key chains this log (its public id, never the key).
CREATE TABLE audit_seal (
    id         INTEGER PRIMARY KEY CHECK (id = 1),
    key_id     TEXT NOT NULL,
    sealed_at  INTEGER NOT NULL
);
