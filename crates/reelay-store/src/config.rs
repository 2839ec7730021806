//! Store configuration, including the per-kind record migration hook.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::Value;

use crate::limits::DEFAULT_MAX_TAGS;

/// Upgrades a stored body by at least one schema version: `(stored_version, body) -> (newer_version, new_body)`.
pub type MigrateFn = fn(u32, Value) -> (u32, Value);

/// How records of one kind are brought to the current schema version.
#[derive(Debug, Clone, Copy)]
pub struct KindMigration {
    /// The schema version that readers of this kind expect.
    pub current: u32,
    /// Called repeatedly while the record's schema version is below `current`; each call must return a
    /// strictly greater version, or the read fails with [`crate::StoreError::Backend`].
    pub upgrade: MigrateFn,
}

/// Options for [`crate::open`].
///
/// ## Record migrations
///
/// Each record carries the `schema_version` of its body. When a record of a kind listed in `migrations` is read
/// (by any method that returns a [`crate::Record`]) and its stored version is older than
/// [`KindMigration::current`], the upgrade function is applied step by step until it is current.
/// The upgrade happens on read only; the stored row keeps its old body until the service next updates it
/// (the service writes the upgraded body back with the new `schema_version`).
#[derive(Debug, Clone)]
pub struct StoreConfig {
    /// Maximum tags per resource after merging (default 50).
    pub max_tags: usize,
    /// Per-kind record upgrades, keyed by kind.
    pub migrations: BTreeMap<String, KindMigration>,
    /// How long a SQLite connection waits for a lock held by another process before failing.
    pub busy_timeout: Duration,
    /// Maximum pooled connections (SQLite: read connections, next to the single writer; PostgreSQL: all).
    pub max_connections: u32,
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            max_tags: DEFAULT_MAX_TAGS,
            migrations: BTreeMap::new(),
            busy_timeout: Duration::from_secs(10),
            max_connections: 8,
        }
    }
}

impl StoreConfig {
    /// Registers the upgrade function of `kind`, whose current schema version is `current`.
    #[must_use]
    pub fn with_migration(
        mut self,
        kind: impl Into<String>,
        current: u32,
        upgrade: MigrateFn,
    ) -> Self {
        self.migrations
            .insert(kind.into(), KindMigration { current, upgrade });
        self
    }
}
