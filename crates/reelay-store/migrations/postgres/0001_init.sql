-- reelay-store schema, version 1 (PostgreSQL).
-- Shipped migrations are never edited: add a new numbered file instead.

-- One row per resource. Key columns use the "C" collation, which orders UTF-8 strings by bytes,
-- the order that list pages follow (and the order SQLite uses), whatever the database locale.
CREATE TABLE records (
    account        TEXT COLLATE "C" NOT NULL,
    region         TEXT COLLATE "C" NOT NULL,
    kind           TEXT COLLATE "C" NOT NULL,
    id             TEXT COLLATE "C" NOT NULL,
    arn            TEXT COLLATE "C" NOT NULL,
    parent         TEXT COLLATE "C",
    idx            TEXT    NOT NULL,
    body           TEXT    NOT NULL,
    schema_version BIGINT  NOT NULL,
    version        BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    updated_at     BIGINT  NOT NULL,
    PRIMARY KEY (account, region, kind, id),
    UNIQUE (arn)
);

CREATE INDEX records_by_parent ON records (account, region, kind, parent, id);

-- The index attributes of each record, one row per attribute, so list filters are plain SQL.
CREATE TABLE record_index (
    account TEXT COLLATE "C" NOT NULL,
    region  TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    id      TEXT COLLATE "C" NOT NULL,
    key     TEXT COLLATE "C" NOT NULL,
    value   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (account, region, kind, id, key)
);

CREATE INDEX record_index_by_value ON record_index (account, region, kind, key, value);

-- Tags by ARN; ARNs are globally unique, so the ARN alone identifies the resource.
CREATE TABLE tags (
    arn   TEXT COLLATE "C" NOT NULL,
    key   TEXT COLLATE "C" NOT NULL,
    value TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (arn, key)
);

-- Store-wide settings, such as the page-token key.
CREATE TABLE store_meta (
    name  TEXT COLLATE "C" NOT NULL PRIMARY KEY,
    value TEXT COLLATE "C" NOT NULL
);
