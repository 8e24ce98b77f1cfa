-- Deliberation (协商议事): topics with their support, discussion, a vote with ballots, the public notice and the
-- progress that follows.

ALTER TABLE communities ADD COLUMN topic_threshold INTEGER NOT NULL DEFAULT 10;

CREATE TABLE topics (
    id               INTEGER PRIMARY KEY,
    community_id     INTEGER NOT NULL REFERENCES communities(id),
    title            TEXT NOT NULL,
    body             TEXT NOT NULL,
    status           TEXT NOT NULL,
    proposed_by      INTEGER REFERENCES users(id),
    household_id     INTEGER REFERENCES households(id),
    by_staff         BOOLEAN NOT NULL,
    created_at       TEXT NOT NULL,
    tabled_at        TEXT,
    meeting_at       TEXT,
    minutes          TEXT,
    vote_mode        TEXT,
    vote_options     TEXT,
    quorum           INTEGER,
    secret           BOOLEAN NOT NULL DEFAULT FALSE,
    vote_closes_at   TEXT,
    result           TEXT,
    objection_until  TEXT,
    version          INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX topics_community ON topics (community_id, created_at);

CREATE TABLE topic_supports (
    topic_id      INTEGER NOT NULL REFERENCES topics(id),
    household_id  INTEGER NOT NULL REFERENCES households(id),
    user_id       INTEGER REFERENCES users(id),
    at            TEXT NOT NULL,
    PRIMARY KEY (topic_id, household_id)
);

CREATE TABLE topic_comments (
    id        INTEGER PRIMARY KEY,
    topic_id  INTEGER NOT NULL REFERENCES topics(id),
    user_id   INTEGER REFERENCES users(id),
    author    TEXT NOT NULL,
    text      TEXT NOT NULL,
    hidden    BOOLEAN NOT NULL DEFAULT FALSE,
    at        TEXT NOT NULL
);
CREATE INDEX topic_comments_topic ON topic_comments (topic_id);

CREATE TABLE ballots (
    id            INTEGER PRIMARY KEY,
    topic_id      INTEGER NOT NULL REFERENCES topics(id),
    voter_key     TEXT NOT NULL,
    household_id  INTEGER NOT NULL REFERENCES households(id),
    resident_id   INTEGER REFERENCES residents(id),
    choice        TEXT NOT NULL,
    channel       TEXT NOT NULL,
    entered_by    INTEGER REFERENCES users(id),
    cast_at       TEXT NOT NULL,
    UNIQUE (topic_id, voter_key)
);

CREATE TABLE topic_updates (
    id        INTEGER PRIMARY KEY,
    topic_id  INTEGER NOT NULL REFERENCES topics(id),
    kind      TEXT NOT NULL,
    text      TEXT NOT NULL,
    author    TEXT NOT NULL,
    at        TEXT NOT NULL
);
CREATE INDEX topic_updates_topic ON topic_updates (topic_id);
