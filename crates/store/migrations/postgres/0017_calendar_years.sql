-- The years whose holiday arrangement is recorded. A year without a row is counted by the weekend rule alone, and
-- the server warns about it. 'shipped' years were seeded from the State Council notices the binary ships and are
-- never seeded again; 'admin' years were recorded by an admin and are forgotten when their last entry is removed.
CREATE TABLE calendar_years (
    year    INTEGER PRIMARY KEY,
    source  TEXT NOT NULL CHECK (source IN ('shipped', 'admin'))
);

-- The years an existing database already holds were seeded (2024 and 2025) or entered by hand: keep them as they are.
INSERT INTO calendar_years (year, source)
SELECT DISTINCT CAST(EXTRACT(YEAR FROM day) AS INTEGER), 'shipped' FROM calendar_days;
