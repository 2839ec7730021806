-- reelay-store schema, version 2 (PostgreSQL).
-- Shipped migrations are never edited: add a new numbered file instead.
--
-- The database now keeps the derived tables in step with `records` itself, in the same statement as the
-- write: the index rows of a record, the clean-up of tags by ARN, and a per-(scope, kind) record count.
-- A write of one record is then one SQL statement instead of four to ten, and counting the records of a
-- kind (the service quotas) reads one row instead of scanning every record of the account.
-- Since version 2, the store code no longer writes `record_index` rows or clears tags on delete: a
-- release that predates this file refuses the database (its schema is newer than it knows).
-- Writers of one scope already hold that scope's advisory lock, so the count row is not a new point
-- of contention between them.

CREATE TABLE record_counts (
    account TEXT COLLATE "C" NOT NULL,
    region  TEXT COLLATE "C" NOT NULL,
    kind    TEXT COLLATE "C" NOT NULL,
    n       BIGINT NOT NULL,
    PRIMARY KEY (account, region, kind)
);

INSERT INTO record_counts (account, region, kind, n)
    SELECT account, region, kind, COUNT(*) FROM records GROUP BY account, region, kind;

-- `idx` holds the index attributes as a JSON object of strings (written by the store from a map, so
-- keys are unique); each member becomes one `record_index` row.
CREATE FUNCTION reelay_records_after_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_index
        WHERE account = NEW.account AND region = NEW.region AND kind = NEW.kind AND id = NEW.id;
    INSERT INTO record_index (account, region, kind, id, key, value)
        SELECT NEW.account, NEW.region, NEW.kind, NEW.id, j.key, j.value
        FROM json_each_text(NEW.idx::json) AS j;
    -- Tags are keyed by ARN; a new record never inherits those of an earlier record with its ARN.
    DELETE FROM tags WHERE arn = NEW.arn;
    INSERT INTO record_counts (account, region, kind, n) VALUES (NEW.account, NEW.region, NEW.kind, 1)
        ON CONFLICT (account, region, kind) DO UPDATE SET n = record_counts.n + 1;
    RETURN NULL;
END
$$;

-- The store serializes the index map deterministically, so equal text means an equal index: a write
-- that keeps the index (most updates) leaves its rows alone.
CREATE FUNCTION reelay_records_after_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_index
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind AND id = OLD.id;
    INSERT INTO record_index (account, region, kind, id, key, value)
        SELECT NEW.account, NEW.region, NEW.kind, NEW.id, j.key, j.value
        FROM json_each_text(NEW.idx::json) AS j;
    RETURN NULL;
END
$$;

CREATE FUNCTION reelay_records_after_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM record_index
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind AND id = OLD.id;
    DELETE FROM tags WHERE arn = OLD.arn;
    UPDATE record_counts SET n = n - 1
        WHERE account = OLD.account AND region = OLD.region AND kind = OLD.kind;
    RETURN NULL;
END
$$;

CREATE TRIGGER records_after_insert AFTER INSERT ON records
    FOR EACH ROW EXECUTE FUNCTION reelay_records_after_insert();
CREATE TRIGGER records_after_update AFTER UPDATE ON records
    FOR EACH ROW
    WHEN (OLD.idx IS DISTINCT FROM NEW.idx OR OLD.account IS DISTINCT FROM NEW.account
        OR OLD.region IS DISTINCT FROM NEW.region OR OLD.kind IS DISTINCT FROM NEW.kind
        OR OLD.id IS DISTINCT FROM NEW.id)
    EXECUTE FUNCTION reelay_records_after_update();
CREATE TRIGGER records_after_delete AFTER DELETE ON records
    FOR EACH ROW EXECUTE FUNCTION reelay_records_after_delete();
