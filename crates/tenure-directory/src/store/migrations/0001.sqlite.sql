-- Schema version 1 (SQLite). Integers are 64-bit; timestamps are integer microseconds
-- since the Unix epoch; JSON and entities are text. STRICT tables refuse values of the
-- wrong type.

CREATE TABLE meta (
    key   TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE identities (
    id   TEXT NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE resources (
    id   TEXT NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
) STRICT;

CREATE TABLE scim_records (
    kind     TEXT NOT NULL CHECK (kind IN ('User', 'Group')),
    id       TEXT NOT NULL,
    body     TEXT NOT NULL,
    version  INTEGER NOT NULL CHECK (version >= 0),
    created  INTEGER NOT NULL,
    modified INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) STRICT;

-- The last journal sequence number handed out; one row.
CREATE TABLE journal_head (
    id  INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL CHECK (seq >= 0)
) STRICT;
INSERT INTO journal_head (id, seq) VALUES (1, 0);

CREATE TABLE journal (
    seq            INTEGER NOT NULL PRIMARY KEY CHECK (seq > 0),
    at             INTEGER NOT NULL,
    source         TEXT NOT NULL,
    event          TEXT NOT NULL,
    identity       TEXT,
    resource       TEXT,
    change         TEXT NOT NULL,
    gained         TEXT NOT NULL,
    lost           TEXT NOT NULL,
    policy_version INTEGER,
    policy_hash    TEXT,
    mapping_hash   TEXT,
    CHECK ((policy_version IS NULL) = (policy_hash IS NULL))
) STRICT;
CREATE INDEX journal_by_identity ON journal (identity, seq);
CREATE INDEX journal_by_resource ON journal (resource, seq);

-- The last scheduled-event id handed out; one row, so ids are never reused.
CREATE TABLE schedule_head (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id = 1),
    last_id INTEGER NOT NULL CHECK (last_id >= 0)
) STRICT;
INSERT INTO schedule_head (id, last_id) VALUES (1, 0);

CREATE TABLE schedule (
    id      INTEGER NOT NULL PRIMARY KEY CHECK (id > 0),
    at      INTEGER NOT NULL,
    source  TEXT NOT NULL,
    event   TEXT NOT NULL,
    created INTEGER NOT NULL
) STRICT;
CREATE INDEX schedule_by_due ON schedule (at, id);

CREATE TABLE policies (
    version    INTEGER NOT NULL PRIMARY KEY CHECK (version > 0),
    hash       TEXT NOT NULL UNIQUE,
    registered INTEGER NOT NULL
) STRICT;
