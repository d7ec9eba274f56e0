-- Schema version 1 (PostgreSQL). Integers are 64-bit; timestamps are integer microseconds
-- since the Unix epoch; JSON and entities are text; keys sort bytewise (COLLATE "C"), as
-- on SQLite.

CREATE TABLE meta (
    key   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE identities (
    id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE resources (
    id   TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    body TEXT NOT NULL
);

CREATE TABLE scim_records (
    kind     TEXT NOT NULL CHECK (kind IN ('User', 'Group')),
    id       TEXT COLLATE "C" NOT NULL,
    body     TEXT NOT NULL,
    version  BIGINT NOT NULL CHECK (version >= 0),
    created  BIGINT NOT NULL,
    modified BIGINT NOT NULL,
    PRIMARY KEY (kind, id)
);

-- The last journal sequence number handed out; one row.
CREATE TABLE journal_head (
    id  BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL CHECK (seq >= 0)
);
INSERT INTO journal_head (id, seq) VALUES (1, 0);

CREATE TABLE journal (
    seq            BIGINT NOT NULL PRIMARY KEY CHECK (seq > 0),
    at             BIGINT NOT NULL,
    source         TEXT NOT NULL,
    event          TEXT NOT NULL,
    identity       TEXT,
    resource       TEXT,
    change         TEXT NOT NULL,
    gained         TEXT NOT NULL,
    lost           TEXT NOT NULL,
    policy_version BIGINT,
    policy_hash    TEXT,
    mapping_hash   TEXT,
    CHECK ((policy_version IS NULL) = (policy_hash IS NULL))
);
CREATE INDEX journal_by_identity ON journal (identity, seq);
CREATE INDEX journal_by_resource ON journal (resource, seq);

-- The last scheduled-event id handed out; one row, so ids are never reused.
CREATE TABLE schedule_head (
    id      BIGINT NOT NULL PRIMARY KEY CHECK (id = 1),
    last_id BIGINT NOT NULL CHECK (last_id >= 0)
);
INSERT INTO schedule_head (id, last_id) VALUES (1, 0);

CREATE TABLE schedule (
    id      BIGINT NOT NULL PRIMARY KEY CHECK (id > 0),
    at      BIGINT NOT NULL,
    source  TEXT NOT NULL,
    event   TEXT NOT NULL,
    created BIGINT NOT NULL
);
CREATE INDEX schedule_by_due ON schedule (at, id);

CREATE TABLE policies (
    version    BIGINT NOT NULL PRIMARY KEY CHECK (version > 0),
    hash       TEXT NOT NULL UNIQUE,
    registered BIGINT NOT NULL
);
