-- The preview kept beside each photo (both content-addressed blobs), shown in lists and timelines. Photos kept
-- before previews existed have no row here and are shown at their own size.
CREATE TABLE photo_previews (
    photo    TEXT PRIMARY KEY,
    preview  TEXT NOT NULL
);
