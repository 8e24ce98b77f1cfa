-- Acting before the complaint (未诉先办): what the detector found, proposed to staff as a proactive task or a
-- topic of the month, with the decision and the outcome.

CREATE TABLE proposals (
    id             INTEGER PRIMARY KEY,
    community_id   INTEGER NOT NULL REFERENCES communities(id),
    pattern        TEXT NOT NULL,
    subject        TEXT NOT NULL,
    building_id    INTEGER REFERENCES buildings(id),
    household_id   INTEGER REFERENCES households(id),
    category_code  TEXT NOT NULL,
    dedupe         TEXT NOT NULL,
    kind           TEXT NOT NULL,
    title          TEXT NOT NULL,
    evidence       TEXT NOT NULL,
    detected_at    TEXT NOT NULL,
    status         TEXT NOT NULL,
    note           TEXT NOT NULL DEFAULT '',
    owner_id       INTEGER REFERENCES users(id),
    due            TEXT,
    decided_by     INTEGER REFERENCES users(id),
    decided_at     TEXT,
    outcome        TEXT NOT NULL DEFAULT '',
    done_at        TEXT,
    version        INTEGER NOT NULL DEFAULT 1,
    UNIQUE (community_id, dedupe)
);
CREATE INDEX proposals_status ON proposals (community_id, status, detected_at);

-- When each community's records were last run through the detector, so that one node claims each run.
ALTER TABLE communities ADD COLUMN proposals_scanned_at TEXT;
