-- Photos of requests, kept as content-addressed blobs outside the database.
CREATE TABLE request_photos (
    id           INTEGER PRIMARY KEY,
    request_id   INTEGER NOT NULL REFERENCES service_requests(id),
    blob         TEXT NOT NULL,
    media_type   TEXT NOT NULL,
    size         INTEGER NOT NULL,
    stage        TEXT NOT NULL,
    uploaded_by  INTEGER REFERENCES users(id),
    created_at   TEXT NOT NULL
);
CREATE INDEX request_photos_request ON request_photos (request_id);
CREATE INDEX request_photos_blob ON request_photos (blob);
