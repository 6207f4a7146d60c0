-- Alerts a person dismissed from their banner, with the severity they saw: the alert shows
-- again for them when it escalates past it.
CREATE TABLE alert_dismissals (
    user_id  INTEGER NOT NULL,
    alert_id INTEGER NOT NULL REFERENCES alerts (id),
    severity TEXT    NOT NULL,
    at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, alert_id)
) WITHOUT ROWID;
