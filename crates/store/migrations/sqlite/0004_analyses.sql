-- What Switchboard understood of each post: the whole analysis as JSON, plus the fields that
-- lists filter and order by. One row per post, for the version named by version_at.
CREATE TABLE analyses (
    key             INTEGER PRIMARY KEY REFERENCES posts (key),
    version_at      INTEGER NOT NULL,
    engine          TEXT NOT NULL,
    sentiment       REAL NOT NULL,
    sentiment_label TEXT NOT NULL,
    priority        INTEGER NOT NULL,
    -- Detected intents and themes as ' name name ' (spaces around each), for LIKE '% name %'.
    intents         TEXT NOT NULL,
    themes          TEXT NOT NULL,
    language        TEXT NOT NULL,
    professional    TEXT,
    personal_data   INTEGER NOT NULL,
    analysis        TEXT NOT NULL
);

-- "Needs attention": highest priority first, newest first among equals.
CREATE INDEX analyses_priority ON analyses (priority DESC, key DESC);
