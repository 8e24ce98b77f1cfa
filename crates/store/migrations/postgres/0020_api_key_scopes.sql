-- API keys get a scope (open311, read or admin), an expiry and a last-used time; calendar-feed tokens keep theirs.
-- Keys issued before scopes existed were admin tokens without an end: they keep working as `admin` keys for 90
-- days from this migration, so the systems using them have time to move to a narrower key before they stop.
ALTER TABLE api_tokens ADD COLUMN expires_at TIMESTAMPTZ;
ALTER TABLE api_tokens ADD COLUMN last_used_at TIMESTAMPTZ;
UPDATE api_tokens SET scope = 'admin', expires_at = now() + INTERVAL '90 days' WHERE scope = 'api';
-- Every key names its scope when issued.
ALTER TABLE api_tokens ALTER COLUMN scope DROP DEFAULT;
