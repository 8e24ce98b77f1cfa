-- Reception days (吾家有应) with bookings, visits and demands; the volunteer team with shifts and hours.

CREATE TABLE reception_sessions (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    title          TEXT NOT NULL,
    kind           TEXT NOT NULL,
    theme          TEXT NOT NULL,
    place          TEXT NOT NULL,
    parties        TEXT NOT NULL,
    starts_at      TEXT NOT NULL,
    ends_at        TEXT NOT NULL,
    slot_minutes   INTEGER NOT NULL,
    slot_capacity  INTEGER NOT NULL,
    created_at     TEXT NOT NULL
);
CREATE INDEX reception_sessions_community_starts ON reception_sessions (community_id, starts_at);

CREATE TABLE reception_bookings (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES reception_sessions(id),
    household_id  INTEGER NOT NULL REFERENCES households(id),
    name          TEXT NOT NULL,
    slot_start    TEXT NOT NULL,
    topic         TEXT NOT NULL,
    booked_by     INTEGER REFERENCES users(id),
    created_at    TEXT NOT NULL,
    UNIQUE (session_id, household_id)
);
CREATE INDEX reception_bookings_slot ON reception_bookings (session_id, slot_start);

CREATE TABLE reception_visits (
    id            INTEGER PRIMARY KEY,
    session_id    INTEGER NOT NULL REFERENCES reception_sessions(id),
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    household_id  INTEGER REFERENCES households(id),
    name          TEXT NOT NULL,
    booking_id    INTEGER REFERENCES reception_bookings(id),
    queue_no      INTEGER NOT NULL,
    arrived_at    TEXT NOT NULL,
    recorded_by   INTEGER REFERENCES users(id),
    UNIQUE (session_id, queue_no)
);
CREATE INDEX reception_visits_household ON reception_visits (household_id);

CREATE TABLE reception_demands (
    id            INTEGER PRIMARY KEY,
    visit_id      INTEGER NOT NULL REFERENCES reception_visits(id),
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    text          TEXT NOT NULL,
    party         TEXT NOT NULL,
    answer        TEXT,
    answered_at   TEXT,
    request_id    INTEGER REFERENCES service_requests(id),
    raised_at     TEXT NOT NULL,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX reception_demands_visit ON reception_demands (visit_id);
CREATE INDEX reception_demands_community ON reception_demands (community_id, raised_at);

CREATE TABLE volunteers (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    resident_id   INTEGER NOT NULL UNIQUE REFERENCES residents(id),
    user_id       INTEGER REFERENCES users(id),
    status        TEXT NOT NULL,
    team          TEXT NOT NULL,
    skills        TEXT NOT NULL,
    availability  TEXT NOT NULL,
    core          BOOLEAN NOT NULL DEFAULT FALSE,
    applied_at    TEXT NOT NULL,
    decided_at    TEXT,
    decided_by    INTEGER REFERENCES users(id),
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX volunteers_community_status ON volunteers (community_id, status);

CREATE TABLE volunteer_shifts (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    title         TEXT NOT NULL,
    kind          TEXT NOT NULL,
    team          TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    ends_at       TEXT NOT NULL,
    capacity      INTEGER NOT NULL,
    created_at    TEXT NOT NULL
);
CREATE INDEX volunteer_shifts_community_starts ON volunteer_shifts (community_id, starts_at);

CREATE TABLE shift_signups (
    id              INTEGER PRIMARY KEY,
    shift_id        INTEGER NOT NULL REFERENCES volunteer_shifts(id),
    volunteer_id    INTEGER NOT NULL REFERENCES volunteers(id),
    signed_up_at    TEXT NOT NULL,
    reminded_at     TEXT,
    checked_in_at   TEXT,
    checked_out_at  TEXT,
    minutes         INTEGER,
    minutes_status  TEXT,
    no_show         BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (shift_id, volunteer_id)
);
CREATE INDEX shift_signups_volunteer ON shift_signups (volunteer_id);
