-- The community's WeChat Official Account: followers bound to a household, the one-time codes staff give for
-- binding, the messages already answered (WeChat retries a message it got no answer to), and the enquiries of
-- followers not yet bound.
CREATE TABLE wechat_bindings (
    openid        TEXT PRIMARY KEY,
    user_id       INTEGER NOT NULL UNIQUE REFERENCES users(id),
    household_id  INTEGER NOT NULL REFERENCES households(id),
    bound_at      TEXT NOT NULL
);

CREATE TABLE wechat_binding_codes (
    id            INTEGER PRIMARY KEY,
    code_hash     TEXT NOT NULL,
    household_id  INTEGER NOT NULL REFERENCES households(id),
    issued_by     INTEGER NOT NULL REFERENCES users(id),
    created_at    TEXT NOT NULL,
    expires_at    TEXT NOT NULL,
    used_at       TEXT
);
CREATE UNIQUE INDEX wechat_binding_codes_open ON wechat_binding_codes (code_hash) WHERE used_at IS NULL;

CREATE TABLE wechat_bind_failures (
    openid  TEXT NOT NULL,
    at      TEXT NOT NULL
);
CREATE INDEX wechat_bind_failures_openid ON wechat_bind_failures (openid, at);

CREATE TABLE wechat_messages (
    dedupe_key   TEXT PRIMARY KEY,
    received_at  TEXT NOT NULL,
    reply        TEXT
);

CREATE TABLE wechat_enquiries (
    id            INTEGER PRIMARY KEY,
    openid        TEXT NOT NULL,
    kind          TEXT NOT NULL,
    content       TEXT NOT NULL,
    received_at   TEXT NOT NULL,
    household_id  INTEGER REFERENCES households(id),
    request_id    INTEGER REFERENCES service_requests(id),
    attached_by   INTEGER REFERENCES users(id),
    attached_at   TEXT
);
CREATE INDEX wechat_enquiries_open ON wechat_enquiries (attached_at, id);
