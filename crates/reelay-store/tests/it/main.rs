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
        invalid_input,
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
    assert_eq!(versions, [1]);
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
