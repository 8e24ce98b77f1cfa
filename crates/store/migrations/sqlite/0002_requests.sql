-- Resident requests (接诉即办): the category catalogue, the working calendar, and the requests themselves.
-- A request's timeline is its events in the event log (entity = 'request').

CREATE TABLE request_categories (
    id             INTEGER PRIMARY KEY,
    parent_id      INTEGER REFERENCES request_categories(id),
    code           TEXT NOT NULL UNIQUE,
    name_zh        TEXT NOT NULL,
    name_en        TEXT NOT NULL,
    handler        TEXT NOT NULL,
    urgency        TEXT NOT NULL,
    respond_unit   TEXT NOT NULL,
    respond_value  INTEGER NOT NULL,
    resolve_unit   TEXT NOT NULL,
    resolve_value  INTEGER NOT NULL,
    questions      TEXT NOT NULL DEFAULT '[]',
    active         BOOLEAN NOT NULL DEFAULT TRUE
);

CREATE TABLE calendar_days (
    day   TEXT PRIMARY KEY,
    kind  TEXT NOT NULL,
    name  TEXT NOT NULL
);

CREATE TABLE request_counters (
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    year          INTEGER NOT NULL,
    last          INTEGER NOT NULL,
    PRIMARY KEY (community_id, year)
);

CREATE TABLE service_requests (
    id                     INTEGER PRIMARY KEY,
    community_id           INTEGER NOT NULL REFERENCES communities(id),
    number                 TEXT NOT NULL UNIQUE,
    category_id            INTEGER NOT NULL REFERENCES request_categories(id),
    channel                TEXT NOT NULL,
    status                 TEXT NOT NULL,
    description            TEXT NOT NULL,
    household_id           INTEGER REFERENCES households(id),
    building_id            INTEGER REFERENCES buildings(id),
    location               TEXT NOT NULL,
    contact_name           TEXT NOT NULL,
    contact_phone          TEXT,
    answers                TEXT NOT NULL DEFAULT '{}',
    external_no            TEXT,
    submitted_by           INTEGER REFERENCES users(id),
    lead_id                INTEGER REFERENCES users(id),
    co_handlers            TEXT NOT NULL DEFAULT '[]',
    paused_reason          TEXT,
    paused_at              TEXT,
    received_at            TEXT NOT NULL,
    respond_due            TEXT NOT NULL,
    resolve_due            TEXT NOT NULL,
    responded_at           TEXT,
    resolved_at            TEXT,
    resolution             TEXT,
    followup_solved        TEXT,
    followup_satisfaction  TEXT,
    followed_up_at         TEXT,
    closed_at              TEXT,
    reopen_count           INTEGER NOT NULL DEFAULT 0,
    version                INTEGER NOT NULL DEFAULT 1,
    updated_at             TEXT NOT NULL
);
CREATE INDEX service_requests_queue ON service_requests (community_id, status, resolve_due);
CREATE INDEX service_requests_received ON service_requests (community_id, received_at);
CREATE INDEX service_requests_lead ON service_requests (lead_id, status);
CREATE INDEX service_requests_household ON service_requests (household_id, received_at);
