-- reelay-store schema, version 2 (SQLite).
-- Shipped migrations are never edited: add a new numbered file instead.
--
-- The database now keeps the derived tables in step with `records` itself, in the same statement as the
-- write: the index rows of a record, the clean-up of tags by ARN, and a per-(scope, kind) record count.
-- A write of one record is then one SQL statement instead of four to ten, and counting the records of a
-- kind (the service quotas) reads one row instead of scanning every record of the account.
-- Since version 2, the store code no longer writes `record_index` rows or clears tags on delete: a
-- release that predates this file refuses the database (its schema is newer than it knows).

CREATE TABLE record_counts (
    account TEXT    NOT NULL,
    region  TEXT    NOT NULL,
    kind    TEXT    NOT NULL,
    n       INTEGER NOT NULL,
    PRIMARY KEY (account, region, kind)
);

INSERT INTO record_counts (account, region, kind, n)
    SELECT account, region, kind, COUNT(*) FROM records GROUP BY account, region, kind;

-- `idx` holds the index attributes as a JSON object of strings (written by the store from a map, so
-- keys are unique); each member becomes one `record_index` row.
CREATE TRIGGER records_after_insert AFTER INSERT ON records
BEGIN
    DELETE FROM record_index
        WHERE account = NEW.account AND region = NEW.region AND kind = NEW.kind AND id = NEW.id;
    INSERT INTO record_index (account, region, kind, id, key, value)
        SELECT NEW.account, NEW.region, NEW.kind, NEW.id, j.key, j.value FROM json_each(NEW.idx) AS j;
    -- Tags are keyed by ARN; a new record never inherits those of an earlier record with its ARN.
    DELETE FROM tags WHERE arn = NEW.arn;
    INSERT INTO record_counts (account, region, kind, n) VALUES (NEW.account, NEW.region, NEW.kind, 1)
        ON CONFLICT (account, region, kind) DO UPDATE SET n = n + 1;
END;

-- The store serializes the index map deterministically, so equal text means an equal index: a write
-- that keeps the index (most updates) leaves its rows alone.
CREATE TRIGGER records_after_update AFTER UPDATE ON records
    WHEN OLD.idx IS NOT NEW.idx OR OLD.account IS NOT NEW.account OR OLD.region IS NOT NEW.region
        OR OLD.kind IS NOT NEW.kind OR OLD.id IS NOT NEW.id
BEGIN
    DELETE FROM record_index
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind AND id = OLD.id;
    INSERT INTO record_index (account, region, kind, id, key, value)
        SELECT NEW.account, NEW.region, NEW.kind, NEW.id, j.key, j.value FROM json_each(NEW.idx) AS j;
END;

CREATE TRIGGER records_after_delete AFTER DELETE ON records
BEGIN
    DELETE FROM record_index
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind AND id = OLD.id;
    DELETE FROM tags WHERE arn = OLD.arn;
    UPDATE record_counts SET n = n - 1
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind;
END;
