-- Activities (吾家有乐): the events, registrations with their waiting list and check-in codes, and photos.

CREATE TABLE activities (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    title              TEXT NOT NULL,
    theme              TEXT NOT NULL,
    series             TEXT NOT NULL,
    organiser          TEXT NOT NULL,
    partners           TEXT NOT NULL,
    place              TEXT NOT NULL,
    starts_at          TEXT NOT NULL,
    ends_at            TEXT NOT NULL,
    capacity           INTEGER NOT NULL,
    target_tags        TEXT NOT NULL,
    min_age            INTEGER,
    max_age            INTEGER,
    volunteers_needed  INTEGER NOT NULL,
    summary            TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    version            INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX activities_community_starts ON activities (community_id, starts_at);

CREATE TABLE activity_registrations (
    id             INTEGER PRIMARY KEY,
    activity_id    INTEGER NOT NULL REFERENCES activities(id),
    resident_id    INTEGER NOT NULL REFERENCES residents(id),
    household_id   INTEGER NOT NULL REFERENCES households(id),
    status         TEXT NOT NULL,
    note           TEXT NOT NULL,
    code           TEXT NOT NULL UNIQUE,
    registered_by  INTEGER REFERENCES users(id),
    created_at     TEXT NOT NULL,
    offered_until  TEXT,
    checked_in_at  TEXT,
    stars          INTEGER,
    comment        TEXT,
    UNIQUE (activity_id, resident_id)
);
CREATE INDEX activity_registrations_activity ON activity_registrations (activity_id, status, id);
CREATE INDEX activity_registrations_household ON activity_registrations (household_id);

CREATE TABLE activity_photos (
    id           INTEGER PRIMARY KEY,
    activity_id  INTEGER NOT NULL REFERENCES activities(id),
    blob         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX activity_photos_activity ON activity_photos (activity_id);
CREATE INDEX activity_photos_blob ON activity_photos (blob);
