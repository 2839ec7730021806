//! Integration tests of reelay-store: one conformance suite, run against every backend.
//!
//! SQLite always runs. PostgreSQL runs when `REELAY_TEST_POSTGRES_URL` names a server (each test creates and
//! drops its own database); without it the PostgreSQL tests print a note and pass, unless `CI` is set, in which
//! case they fail so that CI cannot skip them silently.

mod conformance;
mod harness;

use harness::Backend;

/// One test per case and backend: a failure names both.
macro_rules! conformance_tests {
    (store: [$($store_case:ident),* $(,)?], ctx: [$($ctx_case:ident),* $(,)?] $(,)?) => {
        conformance_tests!(@backend sqlite, Backend::Sqlite, [$($store_case),*], [$($ctx_case),*]);
        conformance_tests!(@backend postgres, Backend::Postgres, [$($store_case),*], [$($ctx_case),*]);
    };
    (@backend $module:ident, $backend:expr, [$($store_case:ident),*], [$($ctx_case:ident),*]) => {
        mod $module {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $store_case() {
                    harness::run($backend, false, |ctx| conformance::$store_case(ctx.store.clone())).await;
                }
            )*
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $ctx_case() {
                    harness::run($backend, true, conformance::$ctx_case).await;
                }
            )*
        }
    };
}

conformance_tests!(
    store: [
        crud,
        versions,
        isolation,
        get_by_arn,
        list_filters,
        pagination_walk_under_concurrent_writes,
        page_tokens_tampered_or_foreign,
        transactions,
        tags,
        reset,
        concurrent_writes_under_load,
        concurrent_failures_stay_isolated,
        invalid_input,
        derived_tables,
        insert_in_other_scope,
        concurrent_inserts_across_scopes,
    ],
    ctx: [reopen_persistence, record_migration_hook, concurrent_open],
);

/// The whole suite on one in-memory SQLite store, through the single `suite` entry point.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_memory_full_suite() {
    let store = reelay_store::open("sqlite::memory:", reelay_store::StoreConfig::default())
        .await
        .expect("open");
    assert_eq!(store.backend_name(), "sqlite");
    conformance::suite(store).await;
}

#[tokio::test]
async fn unsupported_url_is_rejected() {
    let err = reelay_store::open(
        "mysql://user:secret@host/db",
        reelay_store::StoreConfig::default(),
    )
    .await
    .err()
    .expect("mysql is not a backend");
    assert!(matches!(err, reelay_store::StoreError::InvalidInput(_)));
    // The URL (and its password) must not leak into errors.
    assert!(!err.to_string().contains("secret"));
}

/// The migration bookkeeping: each step recorded once, however often the database is opened, and a database
/// written by a newer release refused rather than misread.
#[tokio::test]
async fn sqlite_schema_migrations_are_recorded_once_and_newer_schemas_refused() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    for _ in 0..2 {
        let store = reelay_store::open(&url, reelay_store::StoreConfig::default())
            .await
            .expect("open");
        store.close().await;
    }
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    let versions: Vec<i64> = sqlx::query_scalar("SELECT version FROM schema_migrations")
        .fetch_all(&mut conn)
        .await
        .expect("select");
    assert_eq!(versions, [1, 2, 3]);
    let mode: String = sqlx::query_scalar("PRAGMA journal_mode")
        .fetch_one(&mut conn)
        .await
        .expect("pragma");
    assert_eq!(mode, "wal");
    sqlx::query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 0)",
    )
    .execute(&mut conn)
    .await
    .expect("insert");
    conn.close().await.expect("close");
    let err = reelay_store::open(&url, reelay_store::StoreConfig::default())
        .await
        .err()
        .expect("newer schema");
    assert!(matches!(err, reelay_store::StoreError::Backend(_)), "{err}");
}

/// A database written by schema version 1 (which kept `record_index` rows and tags in code) upgrades to
/// version 2 in place: the per-kind counts start from the existing rows, and the triggers take over the
/// index rows and tags of records written before the upgrade.
#[tokio::test]
async fn sqlite_schema_v1_database_upgrades_to_triggers_and_counts() {
    use sqlx::Connection;

    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v1.db").display());
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("connect");
    sqlx::raw_sql(
        "CREATE TABLE schema_migrations (version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, \
         applied_at BIGINT NOT NULL)",
    )
    .execute(&mut conn)
    .await
    .expect("bookkeeping");
    sqlx::raw_sql(include_str!("../../migrations/sqlite/0001_init.sql"))
        .execute(&mut conn)
        .await
        .expect("schema v1");
    // Two records as version 1 wrote them: the row, its index rows, its tags.
    sqlx::raw_sql(
        "INSERT INTO schema_migrations VALUES (1, 'init', 0);
         INSERT INTO records VALUES ('111', 'eu-west-1', 'test:old', 'a', 'arn:x:a', NULL, '{\"name\":\"one\"}',
             '{\"id\":\"a\"}', 1, 1, 0, 0);
         INSERT INTO records VALUES ('111', 'eu-west-1', 'test:old', 'b', 'arn:x:b', NULL, '{\"name\":\"two\"}',
             '{\"id\":\"b\"}', 1, 1, 0, 0);
         INSERT INTO record_index VALUES ('111', 'eu-west-1', 'test:old', 'a', 'name', 'one');
         INSERT INTO record_index VALUES ('111', 'eu-west-1', 'test:old', 'b', 'name', 'two');
         INSERT INTO tags VALUES ('arn:x:a', 'k', 'v');",
    )
    .execute(&mut conn)
    .await
    .expect("v1 rows");
    conn.close().await.expect("close");

    let store = reelay_store::open(&url, reelay_store::StoreConfig::default())
        .await
        .expect("open upgrades");
    let s = reelay_store::Scope::new("111", "eu-west-1");
    assert_eq!(store.count(&s, "test:old", None).await.expect("count"), 2);
    let by_name = |name: &str| reelay_store::ListQuery {
        kind: "test:old".into(),
        parent: None,
        filters: vec![reelay_store::Filter::Eq {
            key: "name".into(),
            value: name.into(),
        }],
        limit: 10,
        page_token: None,
    };
    let page = store.list(&s, &by_name("one")).await.expect("list");
    assert_eq!(page.items.len(), 1);
    assert_eq!(page.items[0].id, "a");
    // Deleting an old record removes its index rows and tags through the trigger and lowers the count.
    store
        .delete(&s, "test:old", "a", None)
        .await
        .expect("delete");
    assert!(
        store
            .list(&s, &by_name("one"))
            .await
            .expect("list")
            .items
            .is_empty()
    );
    assert_eq!(store.count(&s, "test:old", None).await.expect("count"), 1);
    store.close().await;
    let mut conn = sqlx::SqliteConnection::connect(&url)
        .await
        .expect("reconnect");
    let n_tags: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM tags WHERE arn = 'arn:x:a'")
        .fetch_one(&mut conn)
        .await
        .expect("tags");
    assert_eq!(n_tags, 0);
    let n_index: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM record_index WHERE id = 'a'")
        .fetch_one(&mut conn)
        .await
        .expect("index");
    assert_eq!(n_index, 0);
    conn.close().await.expect("close");
}
