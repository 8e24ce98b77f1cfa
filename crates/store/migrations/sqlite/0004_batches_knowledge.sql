-- Merged requests (one matter, many households, one published answer) and the knowledge base of answers.

CREATE TABLE knowledge (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    category_id   INTEGER REFERENCES request_categories(id),
    title         TEXT NOT NULL,
    answer        TEXT NOT NULL,
    published     BOOLEAN NOT NULL DEFAULT TRUE,
    created_by    INTEGER REFERENCES users(id),
    created_at    TEXT NOT NULL
);
CREATE INDEX knowledge_community ON knowledge (community_id, category_id);

CREATE TABLE request_batches (
    id            INTEGER PRIMARY KEY,
    community_id  INTEGER NOT NULL REFERENCES communities(id),
    title         TEXT NOT NULL,
    answer        TEXT,
    knowledge_id  INTEGER REFERENCES knowledge(id),
    created_by    INTEGER REFERENCES users(id),
    created_at    TEXT NOT NULL,
    answered_at   TEXT
);

ALTER TABLE service_requests ADD COLUMN batch_id INTEGER REFERENCES request_batches(id);
CREATE INDEX service_requests_batch ON service_requests (batch_id);
