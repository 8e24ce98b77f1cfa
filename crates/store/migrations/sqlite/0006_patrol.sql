-- Patrols (吾家有治): checkpoints, plans and their rounds, check-ins, findings with photos, rectification cases
-- with every step, building baselines, and the tri-party joint meeting with its actions.

CREATE TABLE counters (
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    kind          TEXT NOT NULL,
    year          INTEGER NOT NULL,
    last          INTEGER NOT NULL,
    PRIMARY KEY (community_id, kind, year)
);

CREATE TABLE patrol_checkpoints (
    id           INTEGER PRIMARY KEY,
    zone_id      INTEGER NOT NULL REFERENCES zones(id),
    name         TEXT NOT NULL,
    code         TEXT NOT NULL UNIQUE,
    building_id  INTEGER REFERENCES buildings(id),
    position     INTEGER NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX patrol_checkpoints_zone ON patrol_checkpoints (zone_id, position);

CREATE TABLE patrol_plans (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    zone_id         INTEGER NOT NULL REFERENCES zones(id),
    name            TEXT NOT NULL,
    times           TEXT NOT NULL,
    weekdays        TEXT NOT NULL,
    window_minutes  INTEGER NOT NULL,
    checklist       TEXT NOT NULL,
    active          BOOLEAN NOT NULL DEFAULT TRUE,
    created_at      TEXT NOT NULL
);

CREATE TABLE patrol_rounds (
    id                 INTEGER PRIMARY KEY,
    community_id       INTEGER NOT NULL REFERENCES communities(id),
    plan_id            INTEGER NOT NULL REFERENCES patrol_plans(id),
    zone_id            INTEGER NOT NULL REFERENCES zones(id),
    date               TEXT NOT NULL,
    shift              TEXT NOT NULL,
    starts_at          TEXT NOT NULL,
    due_at             TEXT NOT NULL,
    completed_at       TEXT,
    completed_by       INTEGER REFERENCES users(id),
    missed_flagged_at  TEXT,
    UNIQUE (plan_id, starts_at)
);
CREATE INDEX patrol_rounds_zone_date ON patrol_rounds (zone_id, date);
CREATE INDEX patrol_rounds_community_date ON patrol_rounds (community_id, date);

CREATE TABLE patrol_checkins (
    id             INTEGER PRIMARY KEY,
    round_id       INTEGER NOT NULL REFERENCES patrol_rounds(id),
    checkpoint_id  INTEGER NOT NULL REFERENCES patrol_checkpoints(id),
    user_id        INTEGER NOT NULL REFERENCES users(id),
    at             TEXT NOT NULL,
    method         TEXT NOT NULL,
    checklist      TEXT NOT NULL,
    UNIQUE (round_id, checkpoint_id)
);

CREATE TABLE patrol_findings (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    zone_id        INTEGER REFERENCES zones(id),
    round_id       INTEGER REFERENCES patrol_rounds(id),
    kind           TEXT NOT NULL,
    place_kind     TEXT NOT NULL,
    place_key      TEXT NOT NULL,
    place_text     TEXT NOT NULL,
    building_id    INTEGER REFERENCES buildings(id),
    unit_id        INTEGER REFERENCES units(id),
    household_id   INTEGER REFERENCES households(id),
    note           TEXT NOT NULL,
    fixed_on_spot  BOOLEAN NOT NULL,
    recurrence     BOOLEAN NOT NULL,
    recorded_by    INTEGER NOT NULL REFERENCES users(id),
    recorded_at    TEXT NOT NULL,
    client_id      TEXT UNIQUE
);
CREATE INDEX patrol_findings_community_at ON patrol_findings (community_id, recorded_at);
CREATE INDEX patrol_findings_place ON patrol_findings (community_id, place_key, kind);

CREATE TABLE finding_photos (
    id          INTEGER PRIMARY KEY,
    finding_id  INTEGER NOT NULL REFERENCES patrol_findings(id),
    blob        TEXT NOT NULL,
    media_type  TEXT NOT NULL,
    size        INTEGER NOT NULL
);
CREATE INDEX finding_photos_finding ON finding_photos (finding_id);
CREATE INDEX finding_photos_blob ON finding_photos (blob);

CREATE TABLE rectification_cases (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities(id),
    number           TEXT NOT NULL UNIQUE,
    finding_id       INTEGER NOT NULL UNIQUE REFERENCES patrol_findings(id),
    kind             TEXT NOT NULL,
    place_key        TEXT NOT NULL,
    place_text       TEXT NOT NULL,
    building_id      INTEGER REFERENCES buildings(id),
    household_id     INTEGER REFERENCES households(id),
    status           TEXT NOT NULL,
    agreed_deadline  TEXT,
    handled_by       TEXT,
    request_id       INTEGER REFERENCES service_requests(id),
    recurrence       BOOLEAN NOT NULL,
    opened_at        TEXT NOT NULL,
    closed_at        TEXT,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX rectification_cases_community_status ON rectification_cases (community_id, status);

CREATE TABLE case_steps (
    id          INTEGER PRIMARY KEY,
    case_id     INTEGER NOT NULL REFERENCES rectification_cases(id),
    kind        TEXT NOT NULL,
    outcome     TEXT,
    note        TEXT NOT NULL,
    deadline    TEXT,
    photo_blob  TEXT,
    photo_type  TEXT,
    actor_id    INTEGER REFERENCES users(id),
    actor       TEXT NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX case_steps_case ON case_steps (case_id);
CREATE INDEX case_steps_blob ON case_steps (photo_blob);

CREATE TABLE building_baselines (
    id           INTEGER PRIMARY KEY,
    building_id  INTEGER NOT NULL REFERENCES buildings(id),
    note         TEXT NOT NULL,
    blob         TEXT,
    media_type   TEXT,
    recorded_by  INTEGER REFERENCES users(id),
    recorded_at  TEXT NOT NULL
);
CREATE INDEX building_baselines_building ON building_baselines (building_id);
CREATE INDEX building_baselines_blob ON building_baselines (blob);

CREATE TABLE joint_meetings (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    title         TEXT NOT NULL,
    starts_at     TEXT NOT NULL,
    place         TEXT NOT NULL,
    status        TEXT NOT NULL,
    attendance    TEXT NOT NULL,
    minutes       TEXT NOT NULL,
    agenda        TEXT,
    created_at    TEXT NOT NULL,
    held_at       TEXT
);
CREATE INDEX joint_meetings_community_starts ON joint_meetings (community_id, starts_at);

CREATE TABLE meeting_actions (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    meeting_id    INTEGER NOT NULL REFERENCES joint_meetings(id),
    title         TEXT NOT NULL,
    party         TEXT NOT NULL,
    owner         TEXT NOT NULL,
    due           TEXT NOT NULL,
    status        TEXT NOT NULL,
    progress      TEXT NOT NULL,
    case_id       INTEGER REFERENCES rectification_cases(id),
    created_at    TEXT NOT NULL,
    done_at       TEXT,
    version       INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX meeting_actions_community_status ON meeting_actions (community_id, status);

-- Calendar feeds are subscribed to with a token that opens nothing but the feeds.
ALTER TABLE api_tokens ADD COLUMN scope TEXT NOT NULL DEFAULT 'api';
