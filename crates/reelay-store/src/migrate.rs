//! Numbered schema migrations, one SQL file per engine and version.
//!
//! Shipped files are never edited; a schema change is a new entry at the end of [`MIGRATIONS`].
//! [`crate::sql`] applies the pending ones at open, in one transaction under a lock, and records each in the
//! `schema_migrations` table.

/// One schema step.
pub(crate) struct Migration {
    /// Strictly increasing, starting at 1.
    pub(crate) version: i64,
    /// Short description, stored next to the version.
    pub(crate) name: &'static str,
    pub(crate) sqlite: &'static str,
    pub(crate) postgres: &'static str,
}

pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "init",
        sqlite: include_str!("../migrations/sqlite/0001_init.sql"),
        postgres: include_str!("../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: 2,
        name: "write_triggers",
        sqlite: include_str!("../migrations/sqlite/0002_write_triggers.sql"),
        postgres: include_str!("../migrations/postgres/0002_write_triggers.sql"),
    },
    Migration {
        version: 3,
        name: "partial_parent_index",
        sqlite: include_str!("../migrations/sqlite/0003_partial_parent_index.sql"),
        postgres: include_str!("../migrations/postgres/0003_partial_parent_index.sql"),
    },
];

/// Key of the PostgreSQL advisory lock that serializes concurrent openers ("reelay" then 0x0001).
pub(crate) const MIGRATION_LOCK_KEY: i64 = 0x7265_656c_6179_0001;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_consecutive_from_one() {
        for (idx, migration) in MIGRATIONS.iter().enumerate() {
            assert_eq!(migration.version, idx as i64 + 1, "{}", migration.name);
            assert!(!migration.sqlite.trim().is_empty());
            assert!(!migration.postgres.trim().is_empty());
        }
    }
}
