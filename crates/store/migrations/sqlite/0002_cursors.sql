-- Resume positions of live sources.
CREATE TABLE cursors (
    source     TEXT PRIMARY KEY,
    value      TEXT NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
