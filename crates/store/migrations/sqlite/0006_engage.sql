-- Triage and respond: matrix versions, cases, notes, drafts, reviews, and the audit log.
-- Times are microseconds since the Unix epoch (UTC).

-- Every version of the response matrix; the newest is active.
CREATE TABLE matrix_versions (
    version INTEGER PRIMARY KEY,
    author  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    text    TEXT NOT NULL,
    diff    TEXT NOT NULL
);

-- One case per conversation thread (id = 'network:root post id'); `data` is the whole case.
CREATE TABLE cases (
    id        TEXT PRIMARY KEY,
    state     TEXT NOT NULL,
    assignee  TEXT,
    rule      TEXT NOT NULL,
    due_at    INTEGER,
    first_response_at INTEGER,
    opened_at INTEGER NOT NULL,
    data      TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX cases_state_due ON cases (state, due_at);
CREATE INDEX cases_assignee ON cases (assignee, state);

-- Internal notes on cases.
CREATE TABLE case_notes (
    id      INTEGER PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES cases (id),
    author  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    text    TEXT NOT NULL
);
CREATE INDEX case_notes_case ON case_notes (case_id, at);

-- Drafts (replies and new posts); `data` is the whole draft.
CREATE TABLE drafts (
    id           TEXT PRIMARY KEY,
    case_id      TEXT,
    status       TEXT NOT NULL,
    author       TEXT NOT NULL,
    scheduled_at INTEGER,
    updated_at   INTEGER NOT NULL,
    data         TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX drafts_status ON drafts (status, scheduled_at);
CREATE INDEX drafts_case ON drafts (case_id);

-- Approval decisions on drafts.
CREATE TABLE draft_reviews (
    id       INTEGER PRIMARY KEY,
    draft_id TEXT NOT NULL REFERENCES drafts (id),
    reviewer TEXT NOT NULL,
    decision TEXT NOT NULL,
    comment  TEXT NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX draft_reviews_draft ON draft_reviews (draft_id, at);

-- The audit log: append-only, each row chained to the previous one by SHA-256.
CREATE TABLE audit_log (
    seq       INTEGER PRIMARY KEY,
    at        INTEGER NOT NULL,
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    subject   TEXT NOT NULL,
    detail    TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only');
END;
