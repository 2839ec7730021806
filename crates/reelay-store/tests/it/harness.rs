//! Test databases: a temporary SQLite file, or a fresh PostgreSQL database per test.

use std::future::Future;
use std::sync::Arc;

use reelay_store::{MetaStore, StoreConfig};
use sqlx::Connection;

/// Server URL of the PostgreSQL tests, e.g. `postgres://postgres@127.0.0.1:5432/postgres`.
pub const POSTGRES_URL_ENV: &str = "REELAY_TEST_POSTGRES_URL";

#[derive(Clone, Copy, Debug)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What a conformance case gets: an open store, its URL (to reopen it), and, when asked for, the URL of a
/// second database that nobody has opened yet.
#[derive(Clone)]
pub struct Ctx {
    pub store: Arc<dyn MetaStore>,
    pub url: String,
    pub fresh_url: Option<String>,
}

/// Runs `case` on a new database of `backend` (plus an unopened one if `fresh`), then removes the databases,
/// even if the case panicked.
pub async fn run<F, Fut>(backend: Backend, fresh: bool, case: F)
where
    F: FnOnce(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    match backend {
        Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("tempdir");
            let url = format!("sqlite://{}", dir.path().join("store.db").display());
            let fresh_url =
                fresh.then(|| format!("sqlite://{}", dir.path().join("fresh.db").display()));
            let store = reelay_store::open(&url, StoreConfig::default())
                .await
                .expect("open sqlite");
            assert_eq!(store.backend_name(), "sqlite");
            let outcome = tokio::spawn(case(Ctx {
                store: store.clone(),
                url,
                fresh_url,
            }))
            .await;
            store.close().await;
            drop(dir);
            if let Err(err) = outcome {
                std::panic::resume_unwind(err.into_panic());
            }
        }
        Backend::Postgres => {
            let Some(server) = postgres_server_url() else {
                return;
            };
            let main_db = create_database(&server).await;
            // Creating and dropping a database costs a checkpoint or two: only make the second one when needed.
            let fresh_db = if fresh {
                Some(create_database(&server).await)
            } else {
                None
            };
            let url = with_database(&server, &main_db);
            let fresh_url = fresh_db.as_deref().map(|db| with_database(&server, db));
            let store = reelay_store::open(&url, StoreConfig::default())
                .await
                .expect("open postgres");
            assert_eq!(store.backend_name(), "postgres");
            let outcome = tokio::spawn(case(Ctx {
                store: store.clone(),
                url,
                fresh_url,
            }))
            .await;
            store.close().await;
            drop_database(&server, &main_db).await;
            if let Some(fresh_db) = &fresh_db {
                drop_database(&server, fresh_db).await;
            }
            if let Err(err) = outcome {
                std::panic::resume_unwind(err.into_panic());
            }
        }
    }
}

fn postgres_server_url() -> Option<String> {
    match std::env::var(POSTGRES_URL_ENV) {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            if std::env::var_os("CI").is_some() {
                panic!(
                    "{POSTGRES_URL_ENV} is not set: CI must run the PostgreSQL conformance tests"
                );
            }
            eprintln!("note: {POSTGRES_URL_ENV} is not set; skipping this PostgreSQL test");
            None
        }
    }
}

/// Replaces the database name in a PostgreSQL URL, keeping credentials, host and query parameters.
fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_start = base.find("://").map_or(0, |idx| idx + 3);
    let path_start = base[authority_start..]
        .find('/')
        .map_or(base.len(), |idx| authority_start + idx);
    let mut out = format!("{}/{database}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

async fn create_database(server: &str) -> String {
    let name = format!("reelay_t_{:016x}", rand::random::<u64>());
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the PostgreSQL test server");
    // An ICU English collation orders "a" before "B", unlike bytes: the store must not depend on the database
    // default collation. Servers built without ICU get the default one.
    let icu = format!(
        "CREATE DATABASE {name} TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE 'en-US' LOCALE 'C'"
    );
    if sqlx::raw_sql(&icu).execute(&mut conn).await.is_err() {
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create database");
    }
    conn.close().await.expect("close");
    name
}

async fn drop_database(server: &str, name: &str) {
    let mut conn = sqlx::PgConnection::connect(server)
        .await
        .expect("connect to the PostgreSQL test server");
    sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .expect("drop database");
    conn.close().await.expect("close");
}

#[test]
fn database_is_replaced_in_urls() {
    assert_eq!(
        with_database("postgres://u:p@h:5432/postgres", "x"),
        "postgres://u:p@h:5432/x"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
    assert_eq!(
        with_database("postgresql://h/db?sslmode=disable", "x"),
        "postgresql://h/x?sslmode=disable"
    );
}
