-- reelay-store schema, version 1 (SQLite).
-- Shipped migrations are never edited: add a new numbered file instead.

-- One row per resource. Text comparisons use SQLite's default BINARY collation,
-- which orders UTF-8 strings by bytes, the order that list pages follow.
CREATE TABLE records (
    account        TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    kind           TEXT    NOT NULL,
    id             TEXT    NOT NULL,
    arn            TEXT    NOT NULL,
    parent         TEXT,
    idx            TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    version        INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind, id),
    UNIQUE (arn)
);

CREATE INDEX records_by_parent ON records (account, region, kind, parent, id);

-- The index attributes of each record, one row per attribute, so list filters are plain SQL.
CREATE TABLE record_index (
    account TEXT NOT NULL,
    region  TEXT NOT NULL,
    kind    TEXT NOT NULL,
    id      TEXT NOT NULL,
    key     TEXT NOT NULL,
    value   TEXT NOT NULL,
    PRIMARY KEY (account, region, kind, id, key)
);

CREATE INDEX record_index_by_value ON record_index (account, region, kind, key, value);

-- Tags by ARN; ARNs are globally unique, so the ARN alone identifies the resource.
CREATE TABLE tags (
    arn   TEXT NOT NULL,
    key   TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (arn, key)
);

-- Store-wide settings, such as the page-token key.
CREATE TABLE store_meta (
    name  TEXT NOT NULL PRIMARY KEY,
    value TEXT NOT NULL
);
