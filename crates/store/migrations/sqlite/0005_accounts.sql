-- People, sessions, login attempts, monitors, saved searches, handled marks and monitor tags:
-- what the web application keeps. Times are INTEGER microseconds since 1970-01-01 UTC.

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    name          TEXT NOT NULL UNIQUE COLLATE NOCASE,
    role          TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at    INTEGER NOT NULL
);

-- A session is found by the SHA-256 of its cookie value: the cookie itself is never stored.
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE login_attempts (
    account TEXT NOT NULL COLLATE NOCASE,
    address TEXT NOT NULL,
    at      INTEGER NOT NULL,
    success INTEGER NOT NULL
);
CREATE INDEX login_attempts_account ON login_attempts (account, at);
CREATE INDEX login_attempts_address ON login_attempts (address, at);

-- Named listening queries. networks, languages and authors are JSON arrays (empty: any).
CREATE TABLE monitors (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    query      TEXT NOT NULL,
    networks   TEXT NOT NULL,
    languages  TEXT NOT NULL,
    authors    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Which posts each monitor matched; walked backwards by post key for "newest first".
CREATE TABLE post_monitors (
    monitor_id INTEGER NOT NULL REFERENCES monitors (id) ON DELETE CASCADE,
    post_key   INTEGER NOT NULL REFERENCES posts (key),
    PRIMARY KEY (monitor_id, post_key)
) WITHOUT ROWID;
CREATE INDEX post_monitors_post ON post_monitors (post_key);

CREATE TABLE saved_searches (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    query      TEXT NOT NULL,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);

CREATE TABLE handled (
    post_key INTEGER PRIMARY KEY REFERENCES posts (key),
    user_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    at       INTEGER NOT NULL
);

-- The post page shows the thread around a post: its replies and the posts of its thread.
CREATE INDEX posts_thread ON posts (network, thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX posts_reply ON posts (network, reply_to) WHERE reply_to IS NOT NULL;
