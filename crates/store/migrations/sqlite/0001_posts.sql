-- Posts, authors, history, pending deletions and the full-text index.
-- All times are INTEGER microseconds since 1970-01-01 UTC.

CREATE TABLE authors (
    key          INTEGER PRIMARY KEY,
    network      TEXT NOT NULL,
    -- 'id:' || the network's account id, or 'handle:' || lower(handle) when there is no id.
    identity     TEXT NOT NULL,
    author_id    TEXT NOT NULL,
    handle       TEXT NOT NULL,
    display_name TEXT,
    bio          TEXT,
    followers    INTEGER,
    verified     INTEGER NOT NULL,
    url          TEXT,
    -- Version time of the post that brought the profile kept here (the newest seen).
    profile_at   INTEGER NOT NULL,
    profile_hash INTEGER NOT NULL,
    UNIQUE (network, identity)
);

-- The key follows creation time (microseconds, moved up to the next free value within the same
-- second on a collision) so that "newest first" walks the primary key backwards.
CREATE TABLE posts (
    key             INTEGER PRIMARY KEY,
    network         TEXT NOT NULL,
    id              TEXT NOT NULL,
    author_key      INTEGER NOT NULL REFERENCES authors (key),
    url             TEXT,
    text            TEXT NOT NULL,
    title           TEXT,
    lang            TEXT,
    created_at      INTEGER NOT NULL,
    edited_at       INTEGER,
    version_at      INTEGER NOT NULL,
    reply_to        TEXT,
    thread_id       TEXT,
    relation_kind   TEXT,
    relation_target TEXT,
    likes           INTEGER,
    replies         INTEGER,
    reposts         INTEGER,
    quotes          INTEGER,
    hashtags        TEXT,
    mentions        TEXT,
    links           TEXT,
    media_count     INTEGER NOT NULL,
    rating          TEXT,
    service         TEXT,
    is_feedback     INTEGER NOT NULL,
    -- Hash of everything but the words, the author and the payload, to tell a refresh.
    meta_hash       INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    deleted_at      INTEGER,
    first_seen      INTEGER NOT NULL,
    -- When the store learnt of the current version.
    version_seen    INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    versions        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (network, id)
);

-- Index on network: SQLite appends the key, so it serves "newest of these networks".
CREATE INDEX posts_network ON posts (network);
-- No index on author_key yet: nothing reads posts by author, and each index slows imports.

-- The payload of the current version, apart so that scans of posts stay small.
CREATE TABLE post_raw (
    key INTEGER PRIMARY KEY REFERENCES posts (key),
    raw TEXT NOT NULL
);

-- Versions other than the current one.
CREATE TABLE post_versions (
    post_key   INTEGER NOT NULL REFERENCES posts (key),
    version_at INTEGER NOT NULL,
    edited_at  INTEGER,
    text       TEXT NOT NULL,
    title      TEXT,
    raw        TEXT NOT NULL,
    seen_at    INTEGER NOT NULL
);
CREATE INDEX post_versions_post ON post_versions (post_key, version_at);

-- Deletions of posts not seen yet.
CREATE TABLE tombstones (
    network    TEXT NOT NULL,
    id         TEXT NOT NULL,
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (network, id)
) WITHOUT ROWID;

-- Full-text index over the current version; rowid = posts.key. Kept in sync by the store.
CREATE VIRTUAL TABLE posts_fts USING fts5 (
    text, title, handle, name,
    content = '',
    contentless_delete = 1,
    tokenize = 'unicode61 remove_diacritics 2'
);
