-- The fingerprint of the secret key that seals this database's personal data (ID numbers). One row, written on
-- the first start under a key; a start under any other key is refused naming the key the data needs, instead of
-- answering every later ID reveal and export with an error. A backup carries it with the data.
CREATE TABLE key_fingerprint (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    fingerprint TEXT NOT NULL
);
