-- reelay-store schema, version 3 (PostgreSQL).
-- Shipped migrations are never edited: add a new numbered file instead.
--
-- `records_by_parent` now holds only records that have a parent. Every query that reads it asks for
-- one parent value (`parent = $n`, which implies NOT NULL, so the partial index still serves it), and
-- most records (channels, configurations, lookups) have none: each of their inserts used to add an
-- entry at a random place of this index, one more page for every write transaction to log.
DROP INDEX records_by_parent;
CREATE INDEX records_by_parent ON records (account, region, kind, parent, id) WHERE parent IS NOT NULL;
