-- The directory of organisations, people and accounts: who is speaking. Our organisation and its
-- services, its leaders, staff and social squad, peer NHS organisations (by ODS code) and news
-- outlets, each with any number of handles per network. Times are microseconds since the Unix
-- epoch (UTC).

CREATE TABLE directory_entries (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    -- model::directory::EntryKind::as_str
    kind       TEXT NOT NULL,
    -- Upper case; one entry per code.
    ods_code   TEXT,
    parent_id  INTEGER REFERENCES directory_entries (id) ON DELETE SET NULL,
    title      TEXT,
    notes      TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX directory_entries_ods ON directory_entries (ods_code)
    WHERE ods_code IS NOT NULL;
CREATE INDEX directory_entries_parent ON directory_entries (parent_id)
    WHERE parent_id IS NOT NULL;

-- One account of an entry on one network. `handle_key` is the handle as compared (lower case,
-- no leading @): an account belongs to one entry only. Its own id lets later tables (publishing
-- credentials, presence figures) hang off one account.
CREATE TABLE directory_handles (
    id         INTEGER PRIMARY KEY,
    entry_id   INTEGER NOT NULL REFERENCES directory_entries (id) ON DELETE CASCADE,
    network    TEXT NOT NULL,
    handle     TEXT NOT NULL,
    handle_key TEXT NOT NULL,
    account_id TEXT,
    UNIQUE (network, handle_key)
);
CREATE INDEX directory_handles_entry ON directory_handles (entry_id);
CREATE UNIQUE INDEX directory_handles_account ON directory_handles (network, account_id)
    WHERE account_id IS NOT NULL;
