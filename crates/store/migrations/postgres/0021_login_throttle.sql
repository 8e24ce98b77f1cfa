-- Login throttling by client address, by account from one address, and by account overall (see
-- wujia_core::accounts::throttle). One row per subject, shared by every node; the old per-username list of
-- failures, which let anyone lock an account's owner out, goes.
DROP TABLE login_failures;

CREATE TABLE login_throttle (
    scope            TEXT NOT NULL CHECK (scope IN ('address', 'account_address', 'account')),
    subject          TEXT NOT NULL,
    failures         BIGINT NOT NULL CHECK (failures >= 0),
    last_failure_at  TIMESTAMPTZ NOT NULL,
    last_success_at  TIMESTAMPTZ,
    PRIMARY KEY (scope, subject)
);
CREATE INDEX login_throttle_last_failure_at ON login_throttle (last_failure_at);
