-- Alerts raised by the detectors, one row per situation, and every update of each.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY,
    scope      TEXT    NOT NULL,
    kind       TEXT    NOT NULL,
    detail     TEXT    NOT NULL,
    first_seen INTEGER NOT NULL,
    last_seen  INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    severity   TEXT    NOT NULL,
    data       TEXT    NOT NULL,
    UNIQUE (scope, kind, detail, first_seen)
);
CREATE INDEX alerts_by_state ON alerts (state, last_seen DESC);

CREATE TABLE alert_updates (
    seq      INTEGER PRIMARY KEY,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    at       INTEGER NOT NULL,
    kind     TEXT    NOT NULL,
    severity TEXT    NOT NULL,
    count    INTEGER NOT NULL,
    peak     REAL    NOT NULL
);
CREATE INDEX alert_updates_by_alert ON alert_updates (alert_id, seq);

-- The last known health of each live connector, for the status page after a restart.
CREATE TABLE connector_health (
    source     TEXT PRIMARY KEY,
    data       TEXT    NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
