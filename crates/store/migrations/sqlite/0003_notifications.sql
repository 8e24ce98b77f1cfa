-- Notifications: the in-app inbox, outside channels (group robots, e-mail), the outbox with every delivery
-- attempt, the 7×24 duty roster, and the deadline warnings already sent.

CREATE TABLE inbox (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    title       TEXT NOT NULL,
    body        TEXT NOT NULL,
    link        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    read_at     TEXT
);
CREATE INDEX inbox_user ON inbox (user_id, created_at);

CREATE TABLE notification_channels (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    target        TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    active        BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TEXT NOT NULL
);

CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY,
    channel_id       INTEGER NOT NULL REFERENCES notification_channels(id),
    request_id       INTEGER REFERENCES service_requests(id),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    locked_until     TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_due ON outbox (status, next_attempt_at);

CREATE TABLE duty_roster (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    user_id       INTEGER NOT NULL REFERENCES users(id),
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    note          TEXT NOT NULL DEFAULT ''
);
CREATE INDEX duty_roster_time ON duty_roster (community_id, starts_at, ends_at);

CREATE TABLE request_alerts (
    request_id  INTEGER NOT NULL REFERENCES service_requests(id),
    kind        TEXT NOT NULL,
    sent_at     TEXT NOT NULL,
    PRIMARY KEY (request_id, kind)
);
