-- The registry, accounts, sessions and the event log. Times are UTC (RFC 3339 text), dates ISO text.

CREATE TABLE communities (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    code        TEXT NOT NULL UNIQUE,
    street      TEXT NOT NULL,
    district    TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

CREATE TABLE origin_communities (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    name          TEXT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE zones (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    name          TEXT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE users (
    id                    INTEGER PRIMARY KEY,
    username              TEXT NOT NULL UNIQUE,
    display_name          TEXT NOT NULL,
    password_hash         TEXT NOT NULL,
    role                  TEXT NOT NULL,
    organization          TEXT,
    household_id          INTEGER,
    active                BOOLEAN NOT NULL DEFAULT TRUE,
    must_change_password  BOOLEAN NOT NULL DEFAULT FALSE,
    created_at            TEXT NOT NULL,
    version               INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE compounds (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    number        INTEGER NOT NULL,
    name          TEXT NOT NULL,
    UNIQUE (community_id, name)
);

CREATE TABLE buildings (
    id                INTEGER PRIMARY KEY,
    community_id      INTEGER NOT NULL REFERENCES communities(id),
    compound_id       INTEGER NOT NULL REFERENCES compounds(id),
    number            INTEGER NOT NULL,
    floors            INTEGER NOT NULL,
    zone_id           INTEGER REFERENCES zones(id),
    social_worker_id  INTEGER REFERENCES users(id),
    UNIQUE (compound_id, number)
);

CREATE TABLE units (
    id           INTEGER PRIMARY KEY,
    building_id  INTEGER NOT NULL REFERENCES buildings(id),
    number       INTEGER NOT NULL,
    UNIQUE (building_id, number)
);

CREATE TABLE households (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    building_id   INTEGER NOT NULL REFERENCES buildings(id),
    unit_id       INTEGER NOT NULL REFERENCES units(id),
    room          TEXT NOT NULL,
    address       TEXT NOT NULL,
    origin_id     INTEGER REFERENCES origin_communities(id),
    move_in_date  TEXT,
    version       INTEGER NOT NULL DEFAULT 1,
    created_at    TEXT NOT NULL,
    CONSTRAINT households_unit_room UNIQUE (unit_id, room)
);
CREATE INDEX households_community_address ON households (community_id, address);

CREATE TABLE residents (
    id              INTEGER PRIMARY KEY,
    community_id    INTEGER NOT NULL REFERENCES communities(id),
    household_id    INTEGER NOT NULL REFERENCES households(id),
    name            TEXT NOT NULL,
    gender          TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    id_card_enc     TEXT,
    id_card_index   TEXT,
    id_card_masked  TEXT,
    phone           TEXT,
    phone_tail      TEXT,
    origin_id       INTEGER REFERENCES origin_communities(id),
    move_in_date    TEXT,
    relation        TEXT NOT NULL,
    wedding_date    TEXT,
    version         INTEGER NOT NULL DEFAULT 1,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CONSTRAINT residents_id_card UNIQUE (id_card_index)
);
CREATE INDEX residents_household ON residents (household_id);
CREATE INDEX residents_community_name ON residents (community_id, name);
CREATE INDEX residents_community_phone_tail ON residents (community_id, phone_tail);
CREATE INDEX residents_community_birth ON residents (community_id, birth_date);

CREATE TABLE tags (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    code          TEXT NOT NULL,
    name_zh       TEXT NOT NULL,
    name_en       TEXT NOT NULL,
    CONSTRAINT tags_community_code UNIQUE (community_id, code),
    CONSTRAINT tags_community_name UNIQUE (community_id, name_zh)
);

CREATE TABLE resident_tags (
    resident_id  INTEGER NOT NULL REFERENCES residents(id),
    tag_id       INTEGER NOT NULL REFERENCES tags(id),
    PRIMARY KEY (resident_id, tag_id)
);
CREATE INDEX resident_tags_tag ON resident_tags (tag_id);

CREATE TABLE user_communities (
    user_id       INTEGER NOT NULL REFERENCES users(id),
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    PRIMARY KEY (user_id, community_id)
);

CREATE TABLE zone_members (
    zone_id  INTEGER NOT NULL REFERENCES zones(id),
    user_id  INTEGER NOT NULL REFERENCES users(id),
    leader   BOOLEAN NOT NULL DEFAULT FALSE,
    PRIMARY KEY (zone_id, user_id)
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    csrf_token  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    expires_at  TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL,
    token_hash  TEXT NOT NULL UNIQUE,
    user_id     INTEGER NOT NULL REFERENCES users(id),
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
);

CREATE TABLE login_failures (
    id        INTEGER PRIMARY KEY,
    username  TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);

CREATE TABLE signup_codes (
    id            INTEGER PRIMARY KEY,
    code_hash     TEXT NOT NULL UNIQUE,
    household_id  INTEGER NOT NULL REFERENCES households(id),
    issued_by     INTEGER NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT,
    used_by       INTEGER REFERENCES users(id)
);

CREATE TABLE events (
    seq           INTEGER PRIMARY KEY,
    at            TEXT NOT NULL,
    actor_id      INTEGER,
    actor         TEXT NOT NULL,
    community_id  INTEGER,
    action        TEXT NOT NULL,
    entity        TEXT NOT NULL,
    entity_id     TEXT NOT NULL,
    before        TEXT NOT NULL,
    after         TEXT NOT NULL,
    prev_hash     TEXT NOT NULL,
    hash          TEXT NOT NULL
);
CREATE INDEX events_entity ON events (entity, entity_id);
CREATE INDEX events_community_at ON events (community_id, at);
