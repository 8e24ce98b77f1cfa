-- Whether a community answers Open311 reads (GET requests, requests/{id}, tokens/{id}) from anyone, as
-- GeoReport v2 does, or only from clients holding one of its keys. On unless an admin turns it off.
ALTER TABLE communities ADD COLUMN open311_public_reads BOOLEAN NOT NULL DEFAULT TRUE;
