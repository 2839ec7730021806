//! The SQL backends. SQLite and PostgreSQL share every query; they differ only in the schema files, in how a
//! write transaction starts, and in how concurrent writers are serialized.
//!
//! * SQLite: one writer connection (in-process writers queue on the pool) whose transactions start with
//!   `BEGIN IMMEDIATE` (writers in other processes wait on the busy timeout instead of failing with
//!   `SQLITE_BUSY` on a lock upgrade), plus a pool of readers. WAL mode with `synchronous=NORMAL`: a commit is
//!   in the WAL before it is acknowledged, so it survives a killed process; only a power loss or OS crash can
//!   lose the most recent commits. `insert` and `transact` go through a group commit: writes queued while a
//!   transaction runs share the next one, each acknowledged only after that transaction commits (see
//!   [`group_commit`]).
//! * PostgreSQL: every write transaction first takes a transaction-scoped advisory lock for its scope, so
//!   transactions with assertions (e.g. "no children" then "delete parent") cannot interleave with other writes
//!   of the same scope on any node. Version checks are also compare-and-set inside the `UPDATE` / `DELETE`.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::Value;
use sha2::{Digest, Sha256};
use sqlx::pool::PoolConnection;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Postgres, Row, Sqlite, Transaction};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use zeroize::Zeroizing;

use crate::config::StoreConfig;
use crate::error::StoreError;
use crate::limits::{MAX_BODY_BYTES, MAX_TX_OPS, MAX_UNTAG_KEYS};
use crate::migrate::{MIGRATION_LOCK_KEY, MIGRATIONS};
use crate::model::{
    Filter, LazyPage, LazyRecord, ListQuery, NewRecord, Page, Record, Scope, TxOp, Update,
};
use crate::token::{self, TokenKey};
use crate::{MetaStore, validate};

/// The columns every record query returns, in the order [`raw_from_row`] reads them.
const COLS: &str =
    "kind, id, arn, parent, idx, body, schema_version, version, created_at, updated_at";

/// Rows sqlx's SQLite worker may queue before the reader takes them; above the largest page callers ask for.
const SQLITE_ROW_BUFFER: usize = 256;
/// `PRAGMA mmap_size`: how much of the database file SQLite reads through a shared memory map.
const SQLITE_MMAP_BYTES: u64 = 256 * 1024 * 1024;
/// `PRAGMA wal_autocheckpoint` of the writer: the WAL size, in pages, at which a COMMIT runs a checkpoint
/// (SQLite's default is 1,000). With [`checkpoint_behind`] copying frames in the background, that
/// checkpoint mostly finds its work done; what it still costs on the request path is two `fsync`s,
/// so it runs a quarter as often, for a WAL of at most about 16 MiB.
const SQLITE_WRITER_CHECKPOINT_PAGES: u32 = 4000;
/// `PRAGMA cache_size` per connection; negative means KiB rather than pages.
const SQLITE_CACHE_KIB: i64 = -8 * 1024;

/// A bind argument; both engines accept `$N` placeholders.
#[derive(Clone, Copy)]
enum Arg<'a> {
    Text(&'a str),
    OptText(Option<&'a str>),
    Int(i64),
}
use Arg::{Int, OptText, Text};

macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match *arg {
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Int(v) => query.bind(v),
            };
        }
        query
    }};
}

/// Runs the same expression on either connection type.
macro_rules! on_conn {
    ($conn:expr, $c:ident => $body:expr) => {
        match $conn {
            Conn::Sqlite($c) => $body,
            Conn::Pg($c) => $body,
        }
    };
}

/// A row of `records` as stored, before JSON decoding and migration.
struct RawRecord {
    kind: String,
    id: String,
    arn: String,
    parent: Option<String>,
    idx: String,
    body: String,
    schema_version: i64,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

macro_rules! raw_from_row {
    ($row:expr) => {{
        let row = $row;
        Ok::<RawRecord, sqlx::Error>(RawRecord {
            kind: row.try_get(0)?,
            id: row.try_get(1)?,
            arn: row.try_get(2)?,
            parent: row.try_get(3)?,
            idx: row.try_get(4)?,
            body: row.try_get(5)?,
            schema_version: row.try_get(6)?,
            version: row.try_get(7)?,
            created_at: row.try_get(8)?,
            updated_at: row.try_get(9)?,
        })
    }};
}

/// A connection of either engine, inside or outside a transaction.
enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Pg(&'c mut PgConnection),
}

impl Conn<'_> {
    async fn execute(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<u64, StoreError> {
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query(sql), args).execute(&mut **c).await?.rows_affected()),
        )
    }

    /// Runs a script of several statements (migrations only; no arguments).
    async fn script(&mut self, sql: &str) -> Result<(), StoreError> {
        // A bare `&str` has no arguments, so PostgreSQL runs it with the simple query protocol, which accepts
        // several statements; SQLite steps through them in turn.
        on_conn!(self, c => { sqlx::Executor::execute(&mut **c, sql).await?; });
        Ok(())
    }

    async fn fetch_records(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<RawRecord>, StoreError> {
        Ok(on_conn!(self, c => {
            let rows = bind_args!(sqlx::query(sql), args).fetch_all(&mut **c).await?;
            rows.iter().map(|row| raw_from_row!(row)).collect::<Result<Vec<_>, _>>()?
        }))
    }

    async fn fetch_i64s(&mut self, sql: &str, args: &[Arg<'_>]) -> Result<Vec<i64>, StoreError> {
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query_scalar::<_, i64>(sql), args).fetch_all(&mut **c).await?),
        )
    }

    async fn fetch_opt_i64(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Option<i64>, StoreError> {
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query_scalar::<_, i64>(sql), args).fetch_optional(&mut **c).await?),
        )
    }

    async fn fetch_strings(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<String>, StoreError> {
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query_scalar::<_, String>(sql), args).fetch_all(&mut **c).await?),
        )
    }

    async fn fetch_pairs(
        &mut self,
        sql: &str,
        args: &[Arg<'_>],
    ) -> Result<Vec<(String, String)>, StoreError> {
        Ok(
            on_conn!(self, c => bind_args!(sqlx::query_as::<_, (String, String)>(sql), args).fetch_all(&mut **c).await?),
        )
    }
}

enum Db {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
        /// Queue of the group commit (see [`group_commit`]).
        commits: mpsc::Sender<WriteJob>,
        /// The connection of [`checkpoint_behind`] (none for an in-memory database, which has no WAL).
        checkpointer: Option<SqlitePool>,
    },
    Pg(PgPool),
}

enum WriteTx {
    Sqlite(Transaction<'static, Sqlite>),
    Pg(Transaction<'static, Postgres>),
}

impl WriteTx {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            WriteTx::Sqlite(tx) => Conn::Sqlite(tx),
            WriteTx::Pg(tx) => Conn::Pg(tx),
        }
    }

    /// Commits on success, rolls back on error; the result is acknowledged only once committed.
    async fn finish<T>(self, res: Result<T, StoreError>) -> Result<T, StoreError> {
        match res {
            Ok(value) => {
                match self {
                    WriteTx::Sqlite(tx) => tx.commit().await?,
                    WriteTx::Pg(tx) => tx.commit().await?,
                }
                Ok(value)
            }
            Err(err) => {
                // A failed rollback leaves nothing committed either; the caller needs the original error.
                let _ = match self {
                    WriteTx::Sqlite(tx) => tx.rollback().await,
                    WriteTx::Pg(tx) => tx.rollback().await,
                };
                Err(err)
            }
        }
    }
}

enum ReadConn {
    Sqlite(PoolConnection<Sqlite>),
    Pg(PoolConnection<Postgres>),
}

impl ReadConn {
    fn conn(&mut self) -> Conn<'_> {
        match self {
            ReadConn::Sqlite(c) => Conn::Sqlite(c),
            ReadConn::Pg(c) => Conn::Pg(c),
        }
    }
}

/// The store for both engines.
pub(crate) struct SqlStore {
    db: Db,
    key: TokenKey,
    config: StoreConfig,
}

fn is_sqlite_memory(url: &str) -> bool {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    rest.starts_with(":memory:") || url.contains("mode=memory")
}

impl SqlStore {
    pub(crate) async fn open(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        // Errors never echo the URL: it may carry a password.
        if url.starts_with("sqlite:") {
            Self::open_sqlite(url, config).await
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Self::open_pg(url, config).await
        } else {
            Err(StoreError::InvalidInput(
                "store URL must start with sqlite:, postgres:// or postgresql://".into(),
            ))
        }
    }

    async fn open_sqlite(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        /// Connecting switches a new database file to WAL, which takes an exclusive lock; when
        /// several processes (or pools) open the same new file at once, SQLite can answer
        /// SQLITE_BUSY for that without consulting the busy handler. Opening therefore retries,
        /// for a bounded time, while the error is "database is locked".
        async fn retry_locked<T, F, Fut>(mut connect: F) -> Result<T, sqlx::Error>
        where
            F: FnMut() -> Fut,
            Fut: std::future::Future<Output = Result<T, sqlx::Error>>,
        {
            let mut attempt = 0u32;
            loop {
                match connect().await {
                    Err(sqlx::Error::Database(e))
                        if e.code().as_deref() == Some("5") && attempt < 100 =>
                    {
                        attempt += 1;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                    }
                    res => return res,
                }
            }
        }

        let memory = is_sqlite_memory(url);
        let mut options = SqliteConnectOptions::from_str(url)?
            .busy_timeout(config.busy_timeout)
            // A list page (at most a few hundred rows) crosses from sqlx's worker thread in one go instead of
            // stalling the worker every 50 rows.
            .row_buffer_size(SQLITE_ROW_BUFFER);
        if !memory {
            options = options
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL in WAL mode: a commit is in the WAL (written, not yet synced) before it is
                // acknowledged, so it survives a killed process. Never lower than NORMAL.
                .synchronous(SqliteSynchronous::Normal)
                // Readers map the file instead of copying every page through read(2) into a private cache.
                .pragma("mmap_size", SQLITE_MMAP_BYTES.to_string())
                .pragma("cache_size", SQLITE_CACHE_KIB.to_string())
                // Statement journals (one per statement that may fail halfway inside a transaction, such as
                // an insert whose triggers write other tables) stay in memory instead of spilling to a
                // temporary file past 64 KiB; a multi-row insert of a group commit touches more than that.
                .pragma("temp_store", "memory");
        }
        // sqlx pings a connection before every acquire by default, which for SQLite is one more round trip
        // to the connection's worker thread on every read and write. A local database file cannot hang up
        // the way a network peer can, so the test only costs time.
        let mut writer_options = SqlitePoolOptions::new()
            .max_connections(1)
            .test_before_acquire(false)
            .acquire_timeout(Duration::from_secs(60));
        if memory {
            // An in-memory database lives as long as its one connection: never let the pool close it.
            writer_options = writer_options
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None);
        }
        let writer_connect = if memory {
            options.clone()
        } else {
            options.clone().pragma(
                "wal_autocheckpoint",
                SQLITE_WRITER_CHECKPOINT_PAGES.to_string(),
            )
        };
        let writer =
            retry_locked(|| writer_options.clone().connect_with(writer_connect.clone())).await?;
        let key = {
            let mut tx = WriteTx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?);
            let res = migrate(&mut tx.conn(), false).await;
            tx.finish(res).await?
        };
        let (reader, checkpointer) = if memory {
            (writer.clone(), None)
        } else {
            let reader_options = SqlitePoolOptions::new()
                .max_connections(config.max_connections.max(1))
                .test_before_acquire(false);
            let reader =
                retry_locked(|| reader_options.clone().connect_with(options.clone())).await?;
            let checkpointer_options = SqlitePoolOptions::new()
                .max_connections(1)
                .test_before_acquire(false);
            let checkpointer =
                retry_locked(|| checkpointer_options.clone().connect_with(options.clone())).await?;
            (reader, Some(checkpointer))
        };
        Ok(SqlStore {
            db: Db::Sqlite {
                commits: spawn_group_commit(writer.clone(), checkpointer.clone()),
                writer,
                reader,
                checkpointer,
            },
            key,
            config,
        })
    }

    async fn open_pg(url: &str, config: StoreConfig) -> Result<Self, StoreError> {
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections.max(2))
            .connect(url)
            .await?;
        let key = {
            let mut tx = WriteTx::Pg(pool.begin().await?);
            let res = migrate(&mut tx.conn(), true).await;
            tx.finish(res).await?
        };
        Ok(SqlStore {
            db: Db::Pg(pool),
            key,
            config,
        })
    }

    async fn read(&self) -> Result<ReadConn, StoreError> {
        Ok(match &self.db {
            Db::Sqlite { reader, .. } => ReadConn::Sqlite(reader.acquire().await?),
            Db::Pg(pool) => ReadConn::Pg(pool.acquire().await?),
        })
    }

    /// Starts a write transaction; with a scope, PostgreSQL also serializes it with the scope's other writers.
    async fn begin_write(&self, scope: Option<&Scope>) -> Result<WriteTx, StoreError> {
        match &self.db {
            Db::Sqlite { writer, .. } => {
                Ok(WriteTx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?))
            }
            Db::Pg(pool) => {
                let mut tx = WriteTx::Pg(pool.begin().await?);
                if let Some(scope) = scope {
                    let locked = tx
                        .conn()
                        .execute(
                            "SELECT pg_advisory_xact_lock($1)",
                            &[Int(scope_lock_key(scope))],
                        )
                        .await;
                    if let Err(err) = locked {
                        return tx.finish(Err(err)).await;
                    }
                }
                Ok(tx)
            }
        }
    }

    /// Decodes a stored row and applies the configured record migration of its kind.
    fn finish_record(&self, raw: RawRecord) -> Result<Record, StoreError> {
        let index: BTreeMap<String, String> = serde_json::from_str(&raw.idx)?;
        let body: Value = serde_json::from_str(&raw.body)?;
        let (schema_version, body) =
            self.upgrade(&raw.kind, stored_schema_version(raw.schema_version)?, body)?;
        Ok(Record {
            kind: raw.kind,
            id: raw.id,
            arn: raw.arn,
            parent: raw.parent,
            index,
            body,
            schema_version,
            version: raw.version,
            created_at: time_from_ms(raw.created_at)?,
            updated_at: time_from_ms(raw.updated_at)?,
        })
    }

    /// Like [`Self::finish_record`], keeping the body as text: it is parsed (and re-encoded) only when the
    /// kind has a migration that this record needs.
    fn finish_lazy_record(&self, raw: RawRecord) -> Result<LazyRecord, StoreError> {
        let index: BTreeMap<String, String> = serde_json::from_str(&raw.idx)?;
        let stored_version = stored_schema_version(raw.schema_version)?;
        let (schema_version, body_json) = match self.config.migrations.get(&raw.kind) {
            Some(migration) if stored_version < migration.current => {
                let body: Value = serde_json::from_str(&raw.body)?;
                let (version, body) = self.upgrade(&raw.kind, stored_version, body)?;
                (version, serde_json::to_string(&body)?)
            }
            _ => (stored_version, raw.body),
        };
        Ok(LazyRecord {
            kind: raw.kind,
            id: raw.id,
            arn: raw.arn,
            parent: raw.parent,
            index,
            body_json,
            schema_version,
            version: raw.version,
            created_at: time_from_ms(raw.created_at)?,
            updated_at: time_from_ms(raw.updated_at)?,
        })
    }

    /// Applies the configured record migration of `kind` until the body is at its current schema version.
    fn upgrade(
        &self,
        kind: &str,
        mut schema_version: u32,
        mut body: Value,
    ) -> Result<(u32, Value), StoreError> {
        if let Some(migration) = self.config.migrations.get(kind) {
            while schema_version < migration.current {
                let (next_version, next_body) = (migration.upgrade)(schema_version, body);
                if next_version <= schema_version {
                    return Err(StoreError::Backend(format!(
                        "migration of {kind} did not advance past schema version {schema_version}"
                    )));
                }
                schema_version = next_version;
                body = next_body;
            }
        }
        Ok((schema_version, body))
    }

    /// Reads one page of rows, and the token of the next page; shared by [`MetaStore::list`] and
    /// [`MetaStore::list_lazy`].
    async fn list_rows(
        &self,
        scope: &Scope,
        query: &ListQuery,
    ) -> Result<(Vec<RawRecord>, Option<String>), StoreError> {
        validate::scope(scope)?;
        validate::list_query(query)?;
        let context = token::context(scope, query);
        let after = match &query.page_token {
            Some(page_token) => Some(token::decode(&self.key, &context, page_token)?),
            None => None,
        };
        let limit = query.limit.max(1);

        // Filter bounds must outlive the argument list that borrows them.
        let bounds: Vec<Option<String>> = query
            .filters
            .iter()
            .map(|filter| match filter {
                Filter::Prefix { prefix, .. } => prefix_upper_bound(prefix),
                Filter::Eq { .. } => None,
            })
            .collect();
        let mut params = Params { args: Vec::new() };
        let mut sql = format!(
            "SELECT {COLS} FROM records r WHERE r.account = {} AND r.region = {} AND r.kind = {}",
            params.push(Text(&scope.account)),
            params.push(Text(&scope.region)),
            params.push(Text(&query.kind)),
        );
        if let Some(parent) = &query.parent {
            sql.push_str(&format!(" AND r.parent = {}", params.push(Text(parent))));
        }
        if let Some(after) = &after {
            // Keyset pagination: strictly after the last id returned, so no item comes twice and items
            // that exist for the whole walk are never skipped, whatever is inserted or deleted meanwhile.
            sql.push_str(&format!(" AND r.id > {}", params.push(Text(after))));
        }
        for (filter, upper) in query.filters.iter().zip(&bounds) {
            let key = match filter {
                Filter::Eq { key, .. } | Filter::Prefix { key, .. } => key.as_str(),
            };
            let on_id = key == "id";
            let column = if on_id { "r.id" } else { "i.value" };
            // Prefixes become a byte-order range, which both engines can serve from an index and which needs
            // no LIKE escaping.
            let condition = match filter {
                Filter::Eq { value, .. } => format!("{column} = {}", params.push(Text(value))),
                Filter::Prefix { prefix, .. } => {
                    let mut condition = format!("{column} >= {}", params.push(Text(prefix)));
                    if let Some(upper) = upper {
                        condition
                            .push_str(&format!(" AND {column} < {}", params.push(Text(upper))));
                    }
                    condition
                }
            };
            if on_id {
                sql.push_str(&format!(" AND {condition}"));
            } else {
                sql.push_str(&format!(
                    " AND EXISTS (SELECT 1 FROM record_index i WHERE i.account = r.account AND \
                     i.region = r.region AND i.kind = r.kind AND i.id = r.id AND i.key = {} AND {condition})",
                    params.push(Text(key))
                ));
            }
        }
        // One row more than the page tells whether another page follows.
        let fetch = i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1);
        sql.push_str(&format!(" ORDER BY r.id LIMIT {}", params.push(Int(fetch))));

        let mut conn = self.read().await?;
        let mut raws = conn.conn().fetch_records(&sql, &params.args).await?;
        drop(conn);
        let next_token = if raws.len() > limit {
            raws.truncate(limit);
            match raws.last() {
                Some(last) => Some(token::encode(&self.key, &context, &last.id)?),
                None => None,
            }
        } else {
            None
        };
        Ok((raws, next_token))
    }

    fn finish_records(&self, raws: Vec<RawRecord>) -> Result<Vec<Record>, StoreError> {
        raws.into_iter()
            .map(|raw| self.finish_record(raw))
            .collect()
    }
}

fn stored_schema_version(stored: i64) -> Result<u32, StoreError> {
    u32::try_from(stored)
        .map_err(|_| StoreError::Backend(format!("stored schema_version {stored} out of range")))
}

fn scope_lock_key(scope: &Scope) -> i64 {
    let mut hasher = Sha256::new();
    hasher.update(b"reelay-store scope lock\0");
    hasher.update((scope.account.len() as u64).to_be_bytes());
    hasher.update(scope.account.as_bytes());
    hasher.update(scope.region.as_bytes());
    let digest = hasher.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

fn now_ms() -> i64 {
    let millis = OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000;
    // Out of range only some 292 million years from now; saturate rather than fail.
    i64::try_from(millis).unwrap_or(i64::MAX)
}

fn time_from_ms(ms: i64) -> Result<OffsetDateTime, StoreError> {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map_err(|_| StoreError::Backend(format!("stored timestamp {ms} out of range")))
}

fn body_text(body: &Value) -> Result<String, StoreError> {
    let text = serde_json::to_string(body)?;
    if text.len() > MAX_BODY_BYTES {
        return Err(StoreError::InvalidInput(format!(
            "body larger than {MAX_BODY_BYTES} bytes"
        )));
    }
    Ok(text)
}

/// The smallest string greater than every string that starts with `prefix`, in byte (= code point) order,
/// or `None` when no such bound exists (empty prefix, or only `char::MAX`).
fn prefix_upper_bound(prefix: &str) -> Option<String> {
    let mut chars: Vec<char> = prefix.chars().collect();
    while let Some(last) = chars.pop() {
        let mut next = u32::from(last) + 1;
        if (0xD800..0xE000).contains(&next) {
            // Skip the surrogate range, which no `char` (and no UTF-8 string) contains.
            next = 0xE000;
        }
        if let Some(next) = char::from_u32(next) {
            chars.push(next);
            return Some(chars.into_iter().collect());
        }
    }
    None
}

/// Placeholder numbering for dynamically built queries.
struct Params<'a> {
    args: Vec<Arg<'a>>,
}

impl<'a> Params<'a> {
    fn push(&mut self, arg: Arg<'a>) -> String {
        self.args.push(arg);
        format!("${}", self.args.len())
    }
}

async fn migrate(conn: &mut Conn<'_>, postgres: bool) -> Result<TokenKey, StoreError> {
    if postgres {
        // Serializes concurrent openers (several nodes starting at once); released at commit.
        conn.execute(
            "SELECT pg_advisory_xact_lock($1)",
            &[Int(MIGRATION_LOCK_KEY)],
        )
        .await?;
    }
    conn.execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version BIGINT NOT NULL PRIMARY KEY, name TEXT NOT NULL, \
         applied_at BIGINT NOT NULL)",
        &[],
    )
    .await?;
    let applied: BTreeSet<i64> = conn
        .fetch_i64s("SELECT version FROM schema_migrations", &[])
        .await?
        .into_iter()
        .collect();
    let newest_known = MIGRATIONS.last().map_or(0, |m| m.version);
    if let Some(newest) = applied.iter().next_back().filter(|v| **v > newest_known) {
        return Err(StoreError::Backend(format!(
            "database schema version {newest} is newer than this release supports ({newest_known})"
        )));
    }
    for migration in MIGRATIONS.iter().filter(|m| !applied.contains(&m.version)) {
        conn.script(if postgres {
            migration.postgres
        } else {
            migration.sqlite
        })
        .await?;
        conn.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
            &[Int(migration.version), Text(migration.name), Int(now_ms())],
        )
        .await?;
    }
    let fresh_key = TokenKey::generate().to_hex();
    conn.execute(
        "INSERT INTO store_meta (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        &[Text("page_token_key"), Text(&fresh_key)],
    )
    .await?;
    let stored = conn
        .fetch_strings(
            "SELECT value FROM store_meta WHERE name = $1",
            &[Text("page_token_key")],
        )
        .await?;
    let stored = Zeroizing::new(
        stored
            .into_iter()
            .next()
            .ok_or_else(|| StoreError::Backend("page-token key missing".into()))?,
    );
    TokenKey::from_hex(&stored)
}

async fn current_version(
    conn: &mut Conn<'_>,
    scope: &Scope,
    kind: &str,
    id: &str,
) -> Result<Option<i64>, StoreError> {
    conn.fetch_opt_i64(
        "SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
        &[
            Text(&scope.account),
            Text(&scope.region),
            Text(kind),
            Text(id),
        ],
    )
    .await
}

/// Explains why a compare-and-set statement touched no row.
async fn cas_failure(
    conn: &mut Conn<'_>,
    scope: &Scope,
    kind: &str,
    id: &str,
    expected: Option<i64>,
) -> StoreError {
    match current_version(conn, scope, kind, id).await {
        Err(err) => err,
        Ok(None) => StoreError::NotFound,
        Ok(Some(actual)) => match expected {
            Some(expected) => StoreError::VersionMismatch { expected, actual },
            // Unreachable under the write lock: the unconditional statement would have matched the row.
            None => StoreError::Backend("record changed during the write".into()),
        },
    }
}

async fn insert_in(
    conn: &mut Conn<'_>,
    scope: &Scope,
    rec: &NewRecord,
    now: i64,
) -> Result<RawRecord, StoreError> {
    let raw = insert_records(conn, &[(scope, rec, now)])
        .await?
        .pop()
        .ok_or(StoreError::AlreadyExists)?;
    // The insert trigger (schema version 2) wrote the index rows and cleared any tags left under this ARN.
    upsert_tags(conn, &rec.arn, &rec.tags).await?;
    Ok(raw)
}

/// Records written per statement by [`insert_records`]: 10 arguments each, far below both engines' limits.
const RECORDS_PER_STATEMENT: usize = 100;

/// Inserts records (version 1), a hundred per multi-row statement, and returns them in the order of
/// `rows`; if any conflicts (its key, or its ARN in any scope), [`StoreError::AlreadyExists`], and the
/// caller rolls the transaction back. Tags are not written here: see [`upsert_tag_rows`].
async fn insert_records(
    conn: &mut Conn<'_>,
    rows: &[(&Scope, &NewRecord, i64)],
) -> Result<Vec<RawRecord>, StoreError> {
    let texts = rows
        .iter()
        .map(|(_, rec, _)| Ok((serde_json::to_string(&rec.index)?, body_text(&rec.body)?)))
        .collect::<Result<Vec<_>, StoreError>>()?;
    let mut out = Vec::with_capacity(rows.len());
    for (chunk, texts) in rows
        .chunks(RECORDS_PER_STATEMENT)
        .zip(texts.chunks(RECORDS_PER_STATEMENT))
    {
        let mut params = Params {
            args: Vec::with_capacity(10 * chunk.len()),
        };
        let mut sql = String::from(
            "INSERT INTO records (account, region, kind, id, arn, parent, idx, body, schema_version, \
             version, created_at, updated_at) VALUES ",
        );
        for (n, ((scope, rec, now), (idx, body))) in chunk.iter().zip(texts).enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            let account = params.push(Text(&scope.account));
            let region = params.push(Text(&scope.region));
            let kind = params.push(Text(&rec.kind));
            let id = params.push(Text(&rec.id));
            let arn = params.push(Text(&rec.arn));
            let parent = params.push(OptText(rec.parent.as_deref()));
            let idx = params.push(Text(idx));
            let body = params.push(Text(body));
            let schema = params.push(Int(i64::from(rec.schema_version)));
            let now = params.push(Int(*now));
            sql.push_str(&format!(
                "({account}, {region}, {kind}, {id}, {arn}, {parent}, {idx}, {body}, {schema}, 1, {now}, {now})"
            ));
        }
        // ON CONFLICT without a target covers both the primary key and the global ARN uniqueness; a
        // conflicting row is skipped, so fewer rows come back.
        sql.push_str(" ON CONFLICT DO NOTHING RETURNING ");
        sql.push_str(COLS);
        let raws = conn.fetch_records(&sql, &params.args).await?;
        if raws.len() != chunk.len() {
            return Err(StoreError::AlreadyExists);
        }
        // ARNs are unique across the table, so they tell which row each returned record is (the order
        // of RETURNING rows is unspecified).
        let mut by_arn: HashMap<String, RawRecord> =
            raws.into_iter().map(|r| (r.arn.clone(), r)).collect();
        for (_, rec, _) in chunk {
            out.push(
                by_arn
                    .remove(&rec.arn)
                    .ok_or_else(|| StoreError::Backend("an insert returned another row".into()))?,
            );
        }
    }
    Ok(out)
}

async fn update_in(
    conn: &mut Conn<'_>,
    scope: &Scope,
    kind: &str,
    id: &str,
    expected: Option<i64>,
    update: &Update,
    now: i64,
) -> Result<RawRecord, StoreError> {
    let idx = serde_json::to_string(&update.index)?;
    let body = body_text(&update.body)?;
    let mut sql = String::from(
        "UPDATE records SET body = $1, idx = $2, parent = $3, schema_version = $4, version = version + 1, \
         updated_at = $5 WHERE account = $6 AND region = $7 AND kind = $8 AND id = $9",
    );
    let mut args = vec![
        Text(&body),
        Text(&idx),
        OptText(update.parent.as_deref()),
        Int(i64::from(update.schema_version)),
        Int(now),
        Text(&scope.account),
        Text(&scope.region),
        Text(kind),
        Text(id),
    ];
    if let Some(expected) = expected {
        // Compare-and-set in the statement itself: atomic on both engines.
        sql.push_str(" AND version = $10");
        args.push(Int(expected));
    }
    sql.push_str(" RETURNING ");
    sql.push_str(COLS);
    let Some(raw) = conn.fetch_records(&sql, &args).await?.into_iter().next() else {
        return Err(cas_failure(conn, scope, kind, id, expected).await);
    };
    // The update trigger rewrote the index rows if the index changed.
    Ok(raw)
}

async fn delete_in(
    conn: &mut Conn<'_>,
    scope: &Scope,
    kind: &str,
    id: &str,
    expected: Option<i64>,
) -> Result<RawRecord, StoreError> {
    let mut sql = String::from(
        "DELETE FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4",
    );
    let mut args = vec![
        Text(&scope.account),
        Text(&scope.region),
        Text(kind),
        Text(id),
    ];
    if let Some(expected) = expected {
        sql.push_str(" AND version = $5");
        args.push(Int(expected));
    }
    sql.push_str(" RETURNING ");
    sql.push_str(COLS);
    let Some(raw) = conn.fetch_records(&sql, &args).await?.into_iter().next() else {
        return Err(cas_failure(conn, scope, kind, id, expected).await);
    };
    // The delete trigger removed the index rows and the tags.
    Ok(raw)
}

/// Tags written per statement: 3 arguments each keeps a statement far below both engines' argument limits.
const TAGS_PER_STATEMENT: usize = 100;
/// Tag keys removed per statement.
const KEYS_PER_STATEMENT: usize = 500;

/// Sets tags on `arn` (inserting or overwriting), a hundred per statement rather than one statement per tag.
async fn upsert_tags(
    conn: &mut Conn<'_>,
    arn: &str,
    tags: &BTreeMap<String, String>,
) -> Result<(), StoreError> {
    let rows: Vec<(&str, &str, &str)> = tags
        .iter()
        .map(|(key, value)| (arn, key.as_str(), value.as_str()))
        .collect();
    upsert_tag_rows(conn, &rows).await
}

/// Sets `(arn, key, value)` tags, inserting or overwriting, a hundred per statement.
async fn upsert_tag_rows(
    conn: &mut Conn<'_>,
    rows: &[(&str, &str, &str)],
) -> Result<(), StoreError> {
    for chunk in rows.chunks(TAGS_PER_STATEMENT) {
        let mut params = Params {
            args: Vec::with_capacity(3 * chunk.len()),
        };
        let mut sql = String::from("INSERT INTO tags (arn, key, value) VALUES ");
        for (n, (arn, key, value)) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            let arn = params.push(Text(arn));
            let key = params.push(Text(key));
            let value = params.push(Text(value));
            sql.push_str(&format!("({arn}, {key}, {value})"));
        }
        sql.push_str(" ON CONFLICT (arn, key) DO UPDATE SET value = excluded.value");
        conn.execute(&sql, &params.args).await?;
    }
    Ok(())
}

/// Removes the given tag keys of `arn`, several hundred per statement.
async fn delete_tags(conn: &mut Conn<'_>, arn: &str, keys: &[String]) -> Result<(), StoreError> {
    for chunk in keys.chunks(KEYS_PER_STATEMENT) {
        let mut params = Params {
            args: Vec::with_capacity(1 + chunk.len()),
        };
        let mut sql = format!(
            "DELETE FROM tags WHERE arn = {} AND key IN (",
            params.push(Text(arn))
        );
        for (n, key) in chunk.iter().enumerate() {
            if n > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&params.push(Text(key)));
        }
        sql.push(')');
        conn.execute(&sql, &params.args).await?;
    }
    Ok(())
}

async fn has_children(
    conn: &mut Conn<'_>,
    scope: &Scope,
    kind: &str,
    parent: &str,
) -> Result<bool, StoreError> {
    let found = conn
        .fetch_opt_i64(
            "SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND parent = $4 LIMIT 1",
            &[Text(&scope.account), Text(&scope.region), Text(kind), Text(parent)],
        )
        .await?;
    Ok(found.is_some())
}

/// NotFound unless a record with this ARN exists in `scope`.
async fn require_arn(conn: &mut Conn<'_>, scope: &Scope, arn: &str) -> Result<(), StoreError> {
    let found = conn
        .fetch_opt_i64(
            "SELECT version FROM records WHERE account = $1 AND region = $2 AND arn = $3",
            &[Text(&scope.account), Text(&scope.region), Text(arn)],
        )
        .await?;
    found.map(|_| ()).ok_or(StoreError::NotFound)
}

/// Most writes one group commit runs in a single SQLite transaction.
const GROUP_COMMIT_MAX: usize = 64;
/// Writes that may wait for the group commit before writers wait for room in the queue.
const GROUP_COMMIT_QUEUE: usize = 1024;

/// One `insert` / `transact` waiting for the SQLite group commit.
struct WriteJob {
    scope: Scope,
    ops: Vec<TxOp>,
    now: i64,
    reply: oneshot::Sender<Result<Vec<Option<RawRecord>>, StoreError>>,
}

type Results = Vec<Option<RawRecord>>;

/// Starts the task that runs queued SQLite writes (see [`group_commit`]), and with a checkpointer
/// connection the task of [`checkpoint_behind`]; both end when the store is dropped.
fn spawn_group_commit(
    writer: SqlitePool,
    checkpointer: Option<SqlitePool>,
) -> mpsc::Sender<WriteJob> {
    let (tx, rx) = mpsc::channel(GROUP_COMMIT_QUEUE);
    let wrote = checkpointer.map(|pool| {
        let (wrote, written) = mpsc::channel(1);
        tokio::spawn(checkpoint_behind(pool, written));
        wrote
    });
    tokio::spawn(group_commit(writer, rx, wrote));
    tx
}

/// Shortest time between two background checkpoints.
const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(20);

/// Copies committed WAL frames into the database file from its own connection, at most every
/// [`CHECKPOINT_INTERVAL`] while writes arrive, so that the copy and the `fsync` of the database file
/// (the bulk of a checkpoint) run beside the writer instead of inside one of its COMMITs.
///
/// The writer keeps SQLite's automatic checkpoint (at [`SQLITE_WRITER_CHECKPOINT_PAGES`]): that bounds
/// the WAL, and it is what lets the WAL restart from its beginning (only a checkpoint that reaches the
/// last frame with no write in between allows that, which under steady writes only the writer's own
/// checkpoint, run right after its COMMIT, can do). Because this task has already copied all but the
/// last few frames, the writer's checkpoint has little left to copy and sync. A checkpoint never
/// waits for or blocks a writer (`PASSIVE`); when both would run at once, the writer's is skipped and
/// happens after a later COMMIT. Durability does not depend on checkpoints: a commit is in the WAL.
async fn checkpoint_behind(pool: SqlitePool, mut written: mpsc::Receiver<()>) {
    while written.recv().await.is_some() {
        // A failure (the pool closing, an I/O error) leaves the frames to the writer's own checkpoint.
        let _ = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
            .fetch_all(&pool)
            .await;
        tokio::time::sleep(CHECKPOINT_INTERVAL).await;
    }
}

/// Hands a write to the group commit and waits until it is committed (or has failed).
async fn group_write(
    commits: &mpsc::Sender<WriteJob>,
    scope: &Scope,
    ops: Vec<TxOp>,
) -> Result<Results, StoreError> {
    let closed = || StoreError::Backend("the SQLite writer has stopped".into());
    let (reply, answer) = oneshot::channel();
    let job = WriteJob {
        scope: scope.clone(),
        ops,
        now: now_ms(),
        reply,
    };
    commits.send(job).await.map_err(|_| closed())?;
    answer.await.map_err(|_| closed())?
}

/// Group commit: SQLite has one writer, and with `synchronous=NORMAL` most of a small write's cost is fixed
/// per transaction (BEGIN and COMMIT round trips to the connection's worker thread, the WAL frames of the
/// touched pages, the checkpoint they lead to). Writes that queue up while a transaction runs therefore
/// run together, in order, in the next single transaction, and each is acknowledged only after that
/// transaction has committed. If any of them fails (a condition, a conflict, a commit error), the whole
/// transaction rolls back and each write of the group runs again in its own transaction, so one write's
/// failure never affects another's outcome; the results are those of running the writes one by one in
/// queue order. Writes other than `insert` and `transact` take the writer connection directly and
/// interleave between groups.
async fn group_commit(
    writer: SqlitePool,
    mut queue: mpsc::Receiver<WriteJob>,
    wrote: Option<mpsc::Sender<()>>,
) {
    let mut jobs = Vec::with_capacity(GROUP_COMMIT_MAX);
    while queue.recv_many(&mut jobs, GROUP_COMMIT_MAX).await > 0 {
        if let Some(wrote) = &wrote {
            // Full means a checkpoint is already due; the signal needs no more than one slot.
            let _ = wrote.try_send(());
        }
        if jobs.len() > 1
            && let Ok(results) = write_group(&writer, &jobs).await
        {
            for (job, res) in jobs.drain(..).zip(results) {
                // The caller may have gone away; its write is committed all the same.
                let _ = job.reply.send(Ok(res));
            }
            continue;
        }
        for job in jobs.drain(..) {
            let res = write_group(&writer, std::slice::from_ref(&job))
                .await
                .map(|mut results| results.pop().unwrap_or_default());
            let _ = job.reply.send(res);
        }
    }
}

/// Runs the writes in one transaction; all of them commit or none does.
async fn write_group(writer: &SqlitePool, jobs: &[WriteJob]) -> Result<Vec<Results>, StoreError> {
    let mut tx = WriteTx::Sqlite(writer.begin_with("BEGIN IMMEDIATE").await?);
    let res = async {
        if inserts_only(jobs) {
            return insert_batch(&mut tx.conn(), jobs).await;
        }
        let mut out = Vec::with_capacity(jobs.len());
        for job in jobs {
            out.push(transact_in(&mut tx.conn(), &job.scope, &job.ops, job.now).await?);
        }
        Ok(out)
    }
    .await;
    tx.finish(res).await
}

/// Whether every op of the group is an insert (into any scope), so [`insert_batch`] can run it.
fn inserts_only(jobs: &[WriteJob]) -> bool {
    jobs.iter().all(|job| {
        job.ops
            .iter()
            .all(|op| matches!(op, TxOp::Insert(_) | TxOp::InsertIn { .. }))
    })
}

/// The inserts of a whole group as multi-row statements ([`insert_records`], then
/// [`upsert_tag_rows`]). Each statement is one round trip to the connection's worker thread, where
/// inserting one by one costs one per record and one per record with tags; on a group of creates this
/// is most of the writer's time.
///
/// The outcome equals that of [`transact_in`] over the jobs in order: inserts either all succeed (the
/// same rows, index rows, counts and tags) or one conflicts, which one by one fails with
/// [`StoreError::AlreadyExists`] and here too. The caller rolls the transaction back on any error.
async fn insert_batch(conn: &mut Conn<'_>, jobs: &[WriteJob]) -> Result<Vec<Results>, StoreError> {
    let mut rows = Vec::new();
    for job in jobs {
        for op in &job.ops {
            match op {
                TxOp::Insert(rec) => rows.push((&job.scope, rec, job.now)),
                TxOp::InsertIn { scope, record } => rows.push((scope, record, job.now)),
                _ => {
                    return Err(StoreError::Backend(
                        "a batched insert was given another op".into(),
                    ));
                }
            }
        }
    }
    let mut written = insert_records(conn, &rows).await?.into_iter();
    // After the records: their insert trigger clears any tags left under their ARNs.
    let tags: Vec<(&str, &str, &str)> = rows
        .iter()
        .flat_map(|(_, rec, _)| {
            rec.tags
                .iter()
                .map(|(key, value)| (rec.arn.as_str(), key.as_str(), value.as_str()))
        })
        .collect();
    upsert_tag_rows(conn, &tags).await?;
    Ok(jobs
        .iter()
        .map(|job| written.by_ref().take(job.ops.len()).map(Some).collect())
        .collect())
}

async fn transact_in(
    conn: &mut Conn<'_>,
    scope: &Scope,
    ops: &[TxOp],
    now: i64,
) -> Result<Vec<Option<RawRecord>>, StoreError> {
    let mut results = Vec::with_capacity(ops.len());
    for (op_index, op) in ops.iter().enumerate() {
        let result = match op {
            TxOp::Insert(rec) => Some(insert_in(conn, scope, rec, now).await?),
            TxOp::InsertIn {
                scope: other,
                record,
            } => Some(insert_in(conn, other, record, now).await?),
            TxOp::Update {
                kind,
                id,
                expected_version,
                update,
            } => Some(update_in(conn, scope, kind, id, *expected_version, update, now).await?),
            TxOp::Delete {
                kind,
                id,
                expected_version,
            } => Some(delete_in(conn, scope, kind, id, *expected_version).await?),
            TxOp::AssertExists { kind, id } => {
                if current_version(conn, scope, kind, id).await?.is_none() {
                    return Err(StoreError::ConditionFailed {
                        op_index,
                        reason: format!("{kind} {id} does not exist"),
                    });
                }
                None
            }
            TxOp::AssertAbsent { kind, id } => {
                if current_version(conn, scope, kind, id).await?.is_some() {
                    return Err(StoreError::ConditionFailed {
                        op_index,
                        reason: format!("{kind} {id} exists"),
                    });
                }
                None
            }
            TxOp::AssertNoChildren { kind, parent } => {
                if has_children(conn, scope, kind, parent).await? {
                    return Err(StoreError::ConditionFailed {
                        op_index,
                        reason: format!("{parent} has {kind} children"),
                    });
                }
                None
            }
        };
        results.push(result);
    }
    Ok(results)
}

fn validate_op(op: &TxOp, max_tags: usize) -> Result<(), StoreError> {
    match op {
        TxOp::Insert(rec) => validate::new_record(rec, max_tags),
        TxOp::InsertIn { scope, record } => {
            validate::scope(scope)?;
            validate::new_record(record, max_tags)
        }
        TxOp::Update {
            kind, id, update, ..
        } => {
            validate::name("kind", kind)?;
            validate::name("id", id)?;
            validate::update(update)
        }
        TxOp::Delete { kind, id, .. }
        | TxOp::AssertExists { kind, id }
        | TxOp::AssertAbsent { kind, id } => {
            validate::name("kind", kind)?;
            validate::name("id", id)
        }
        TxOp::AssertNoChildren { kind, parent } => {
            validate::name("kind", kind)?;
            validate::name("parent", parent)
        }
    }
}

#[async_trait]
impl MetaStore for SqlStore {
    async fn insert(&self, scope: &Scope, rec: NewRecord) -> Result<Record, StoreError> {
        validate::scope(scope)?;
        validate::new_record(&rec, self.config.max_tags)?;
        if let Db::Sqlite { commits, .. } = &self.db {
            let raw = group_write(commits, scope, vec![TxOp::Insert(rec)])
                .await?
                .into_iter()
                .next()
                .flatten()
                // transact_in answers one result per op, and an Insert's is always Some.
                .ok_or_else(|| StoreError::Backend("insert returned no row".into()))?;
            return self.finish_record(raw);
        }
        let mut tx = self.begin_write(Some(scope)).await?;
        let res = insert_in(&mut tx.conn(), scope, &rec, now_ms()).await;
        self.finish_record(tx.finish(res).await?)
    }

    async fn get(&self, scope: &Scope, kind: &str, id: &str) -> Result<Option<Record>, StoreError> {
        validate::scope(scope)?;
        validate::name("kind", kind)?;
        validate::name("id", id)?;
        let sql = format!(
            "SELECT {COLS} FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND id = $4"
        );
        let mut conn = self.read().await?;
        let rows = conn
            .conn()
            .fetch_records(
                &sql,
                &[
                    Text(&scope.account),
                    Text(&scope.region),
                    Text(kind),
                    Text(id),
                ],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|raw| self.finish_record(raw))
            .transpose()
    }

    async fn get_by_arn(&self, scope: &Scope, arn: &str) -> Result<Option<Record>, StoreError> {
        validate::scope(scope)?;
        validate::name("arn", arn)?;
        let sql =
            format!("SELECT {COLS} FROM records WHERE account = $1 AND region = $2 AND arn = $3");
        let mut conn = self.read().await?;
        let rows = conn
            .conn()
            .fetch_records(
                &sql,
                &[Text(&scope.account), Text(&scope.region), Text(arn)],
            )
            .await?;
        rows.into_iter()
            .next()
            .map(|raw| self.finish_record(raw))
            .transpose()
    }

    async fn update(
        &self,
        scope: &Scope,
        kind: &str,
        id: &str,
        expected_version: Option<i64>,
        update: Update,
    ) -> Result<Record, StoreError> {
        validate::scope(scope)?;
        validate::name("kind", kind)?;
        validate::name("id", id)?;
        validate::update(&update)?;
        let mut tx = self.begin_write(Some(scope)).await?;
        let res = update_in(
            &mut tx.conn(),
            scope,
            kind,
            id,
            expected_version,
            &update,
            now_ms(),
        )
        .await;
        self.finish_record(tx.finish(res).await?)
    }

    async fn delete(
        &self,
        scope: &Scope,
        kind: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<Record, StoreError> {
        validate::scope(scope)?;
        validate::name("kind", kind)?;
        validate::name("id", id)?;
        let mut tx = self.begin_write(Some(scope)).await?;
        let res = delete_in(&mut tx.conn(), scope, kind, id, expected_version).await;
        self.finish_record(tx.finish(res).await?)
    }

    async fn list(&self, scope: &Scope, query: &ListQuery) -> Result<Page, StoreError> {
        let (raws, next_token) = self.list_rows(scope, query).await?;
        Ok(Page {
            items: self.finish_records(raws)?,
            next_token,
        })
    }

    async fn list_lazy(&self, scope: &Scope, query: &ListQuery) -> Result<LazyPage, StoreError> {
        let (raws, next_token) = self.list_rows(scope, query).await?;
        let items = raws
            .into_iter()
            .map(|raw| self.finish_lazy_record(raw))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(LazyPage { items, next_token })
    }

    async fn count(
        &self,
        scope: &Scope,
        kind: &str,
        parent: Option<&str>,
    ) -> Result<u64, StoreError> {
        validate::scope(scope)?;
        validate::name("kind", kind)?;
        validate::parent(parent)?;
        let mut args = vec![Text(&scope.account), Text(&scope.region), Text(kind)];
        let sql = match parent {
            // The count of a whole kind is kept by the triggers in the same transaction as every write
            // (schema version 2), so the quota check of a create reads one row however large the table.
            None => "SELECT n FROM record_counts WHERE account = $1 AND region = $2 AND kind = $3",
            Some(parent) => {
                args.push(Text(parent));
                "SELECT COUNT(*) FROM records WHERE account = $1 AND region = $2 AND kind = $3 \
                 AND parent = $4"
            }
        };
        let mut conn = self.read().await?;
        // No row yet means no record of this kind was ever written in the scope.
        let n = conn.conn().fetch_opt_i64(sql, &args).await?.unwrap_or(0);
        u64::try_from(n).map_err(|_| StoreError::Backend(format!("negative count {n}")))
    }

    async fn transact(
        &self,
        scope: &Scope,
        ops: Vec<TxOp>,
    ) -> Result<Vec<Option<Record>>, StoreError> {
        validate::scope(scope)?;
        if ops.len() > MAX_TX_OPS {
            return Err(StoreError::InvalidInput(format!(
                "more than {MAX_TX_OPS} ops in one transaction"
            )));
        }
        for op in &ops {
            validate_op(op, self.config.max_tags)?;
        }
        let raws = if let Db::Sqlite { commits, .. } = &self.db {
            group_write(commits, scope, ops).await?
        } else {
            // Every scope the transaction writes is locked, in one global order (by key) so that two
            // transactions writing the same two scopes cannot wait on each other.
            let mut tx = self.begin_write(None).await?;
            let keys: BTreeSet<i64> = std::iter::once(scope)
                .chain(ops.iter().filter_map(|op| match op {
                    TxOp::InsertIn { scope, .. } => Some(scope),
                    _ => None,
                }))
                .map(scope_lock_key)
                .collect();
            let res = async {
                let mut conn = tx.conn();
                for key in keys {
                    conn.execute("SELECT pg_advisory_xact_lock($1)", &[Int(key)])
                        .await?;
                }
                transact_in(&mut conn, scope, &ops, now_ms()).await
            }
            .await;
            tx.finish(res).await?
        };
        raws.into_iter()
            .map(|raw| raw.map(|raw| self.finish_record(raw)).transpose())
            .collect()
    }

    async fn tags(&self, scope: &Scope, arn: &str) -> Result<BTreeMap<String, String>, StoreError> {
        validate::scope(scope)?;
        validate::name("arn", arn)?;
        let mut conn = self.read().await?;
        let mut conn = conn.conn();
        require_arn(&mut conn, scope, arn).await?;
        let pairs = conn
            .fetch_pairs("SELECT key, value FROM tags WHERE arn = $1", &[Text(arn)])
            .await?;
        Ok(pairs.into_iter().collect())
    }

    async fn tag(
        &self,
        scope: &Scope,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), StoreError> {
        validate::scope(scope)?;
        validate::name("arn", arn)?;
        validate::tags(&tags, self.config.max_tags)?;
        let max_tags = self.config.max_tags;
        let mut tx = self.begin_write(Some(scope)).await?;
        let res = async {
            let mut conn = tx.conn();
            require_arn(&mut conn, scope, arn).await?;
            let existing: BTreeSet<String> = conn
                .fetch_strings("SELECT key FROM tags WHERE arn = $1", &[Text(arn)])
                .await?
                .into_iter()
                .collect();
            let n_added = tags.keys().filter(|key| !existing.contains(*key)).count();
            if existing.len() + n_added > max_tags {
                return Err(StoreError::TooManyTags { limit: max_tags });
            }
            upsert_tags(&mut conn, arn, &tags).await
        }
        .await;
        tx.finish(res).await
    }

    async fn untag(&self, scope: &Scope, arn: &str, keys: &[String]) -> Result<(), StoreError> {
        validate::scope(scope)?;
        validate::name("arn", arn)?;
        if keys.len() > MAX_UNTAG_KEYS {
            return Err(StoreError::InvalidInput(format!(
                "more than {MAX_UNTAG_KEYS} tag keys"
            )));
        }
        for key in keys {
            validate::tag_key(key)?;
        }
        let mut tx = self.begin_write(Some(scope)).await?;
        let res = async {
            let mut conn = tx.conn();
            require_arn(&mut conn, scope, arn).await?;
            delete_tags(&mut conn, arn, keys).await
        }
        .await;
        tx.finish(res).await
    }

    async fn reset(&self) -> Result<(), StoreError> {
        let mut tx = self.begin_write(None).await?;
        let res = async {
            let mut conn = tx.conn();
            conn.execute("DELETE FROM tags", &[]).await?;
            conn.execute("DELETE FROM record_index", &[]).await?;
            conn.execute("DELETE FROM records", &[]).await?;
            conn.execute("DELETE FROM record_counts", &[]).await?;
            Ok(())
        }
        .await;
        tx.finish(res).await
    }

    async fn close(&self) {
        match &self.db {
            Db::Sqlite {
                writer,
                reader,
                checkpointer,
                ..
            } => {
                if let Some(checkpointer) = checkpointer {
                    checkpointer.close().await;
                }
                reader.close().await;
                writer.close().await;
            }
            Db::Pg(pool) => pool.close().await,
        }
    }

    fn backend_name(&self) -> &'static str {
        match self.db {
            Db::Sqlite { .. } => "sqlite",
            Db::Pg(_) => "postgres",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_upper_bound_is_the_next_string_in_byte_order() {
        assert_eq!(prefix_upper_bound(""), None);
        assert_eq!(prefix_upper_bound("ab").as_deref(), Some("ac"));
        assert_eq!(
            prefix_upper_bound("a\u{D7FF}").as_deref(),
            Some("a\u{E000}")
        );
        assert_eq!(prefix_upper_bound("a\u{10FFFF}").as_deref(), Some("b"));
        assert_eq!(prefix_upper_bound("\u{10FFFF}"), None);
        // Every string with the prefix sorts below the bound, byte for byte.
        let upper = prefix_upper_bound("ab\u{7F}").expect("bound");
        for tail in ["", "\u{10FFFF}", "zzz", "\u{80}"] {
            assert!(format!("ab\u{7F}{tail}").as_bytes() < upper.as_bytes());
        }
    }

    #[test]
    fn memory_urls_are_detected() {
        assert!(is_sqlite_memory("sqlite::memory:"));
        assert!(is_sqlite_memory("sqlite://:memory:"));
        assert!(is_sqlite_memory("sqlite://x?mode=memory"));
        assert!(!is_sqlite_memory("sqlite://data/reelay.db"));
    }

    fn job(scope: &Scope, ops: Vec<TxOp>, now: i64) -> WriteJob {
        // The reply is never read: these tests call the group functions directly.
        let (reply, _) = oneshot::channel();
        WriteJob {
            scope: scope.clone(),
            ops,
            now,
            reply,
        }
    }

    fn rec(scope: &Scope, kind: &str, id: &str, tags: &[(&str, &str)]) -> NewRecord {
        NewRecord {
            kind: kind.into(),
            id: id.into(),
            arn: format!("arn:test:{}:{}:{kind}/{id}", scope.region, scope.account),
            parent: (id.len() > 2).then(|| "parent".to_string()),
            index: [("name".to_string(), format!("n-{id}"))].into(),
            body: serde_json::json!({ "id": id, "q": "\" é" }),
            schema_version: 3,
            tags: tags
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    async fn writer_of(store: &SqlStore) -> SqlitePool {
        match &store.db {
            Db::Sqlite { writer, .. } => writer.clone(),
            Db::Pg(_) => panic!("an in-memory store is SQLite"),
        }
    }

    /// Every row of every table a write touches, as text, in a fixed order.
    async fn dump(pool: &SqlitePool) -> Vec<String> {
        let mut c = pool.acquire().await.expect("acquire");
        let mut conn = Conn::Sqlite(&mut c);
        let mut out = Vec::new();
        for sql in [
            "SELECT json_array(account, region, kind, id, arn, parent, idx, body, schema_version, version, \
             created_at, updated_at) AS r FROM records ORDER BY r",
            "SELECT json_array(account, region, kind, id, key, value) AS r FROM record_index ORDER BY r",
            "SELECT json_array(arn, key, value) AS r FROM tags ORDER BY r",
            "SELECT json_array(account, region, kind, n) AS r FROM record_counts ORDER BY r",
        ] {
            out.extend(conn.fetch_strings(sql, &[]).await.expect("dump"));
        }
        out
    }

    /// What a caller sees of a written record: ARN, body, index, version, creation time.
    type Seen = Option<(String, String, String, i64, i64)>;

    fn summary(results: &[Results]) -> Vec<Vec<Seen>> {
        results
            .iter()
            .map(|job| {
                job.iter()
                    .map(|raw| {
                        raw.as_ref().map(|r| {
                            (
                                r.arn.clone(),
                                r.body.clone(),
                                r.idx.clone(),
                                r.version,
                                r.created_at,
                            )
                        })
                    })
                    .collect()
            })
            .collect()
    }

    /// The batched insert of a group leaves the same rows and returns the same records as running the
    /// group's transactions one op at a time, and fails where that fails.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn batched_inserts_match_one_by_one() {
        let a = Scope::new("111", "eu-west-1");
        let b = Scope::new("222", "us-east-1");
        let jobs = || {
            let mut jobs = Vec::new();
            for i in 0..150 {
                let id = format!("r{i:03}");
                let mut ops = vec![TxOp::Insert(rec(
                    &a,
                    "k:one",
                    &id,
                    &[("t", "v"), ("n", &id)],
                ))];
                if i % 2 == 0 {
                    ops.push(TxOp::InsertIn {
                        scope: b.clone(),
                        record: rec(&b, "k:two", &id, &[]),
                    });
                }
                jobs.push(job(&a, ops, 1_700_000_000_000 + i));
            }
            jobs
        };
        let batched = SqlStore::open("sqlite::memory:", StoreConfig::default())
            .await
            .expect("open");
        let single = SqlStore::open("sqlite::memory:", StoreConfig::default())
            .await
            .expect("open");
        let (batched_pool, single_pool) = (writer_of(&batched).await, writer_of(&single).await);

        let jobs = jobs();
        assert!(inserts_only(&jobs));
        let got = write_group(&batched_pool, &jobs).await.expect("batched");
        let mut tx = WriteTx::Sqlite(single_pool.begin().await.expect("begin"));
        let mut want = Vec::new();
        for job in &jobs {
            want.push(
                transact_in(&mut tx.conn(), &job.scope, &job.ops, job.now)
                    .await
                    .expect("one by one"),
            );
        }
        tx.finish(Ok(())).await.expect("commit");
        assert_eq!(summary(&got), summary(&want));
        let rows = dump(&batched_pool).await;
        assert_eq!(rows, dump(&single_pool).await);
        assert!(rows.len() > 150 * 4, "{} rows", rows.len());

        // A group where a later insert collides with an earlier one of the same group, or with a stored
        // record: both ways fail with AlreadyExists and leave nothing behind.
        for colliding in [
            vec![
                job(&a, vec![TxOp::Insert(rec(&a, "k:new", "x1", &[]))], 1),
                job(&a, vec![TxOp::Insert(rec(&a, "k:new", "x1", &[]))], 2),
            ],
            vec![
                job(&a, vec![TxOp::Insert(rec(&a, "k:new", "x2", &[]))], 1),
                job(&b, vec![TxOp::Insert(rec(&b, "k:two", "r004", &[]))], 2),
            ],
        ] {
            let before = dump(&batched_pool).await;
            let got = write_group(&batched_pool, &colliding).await;
            assert!(
                matches!(got, Err(StoreError::AlreadyExists)),
                "{:?}",
                got.map(|r| summary(&r))
            );
            assert_eq!(dump(&batched_pool).await, before);
            let mut tx = WriteTx::Sqlite(single_pool.begin().await.expect("begin"));
            let mut res = Ok(());
            for job in &colliding {
                if let Err(e) = transact_in(&mut tx.conn(), &job.scope, &job.ops, job.now).await {
                    res = Err(e);
                    break;
                }
            }
            assert!(matches!(res, Err(StoreError::AlreadyExists)));
            let _ = tx.finish(res).await;
        }
    }

    /// The parent index is partial (schema version 3); the queries by parent must still use it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn parent_queries_use_the_partial_index() {
        let store = SqlStore::open("sqlite::memory:", StoreConfig::default())
            .await
            .expect("open");
        let pool = writer_of(&store).await;
        let mut c = pool.acquire().await.expect("acquire");
        for sql in [
            "SELECT version FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND parent = $4 LIMIT 1",
            "SELECT COUNT(*) FROM records WHERE account = $1 AND region = $2 AND kind = $3 AND parent = $4",
            "SELECT id FROM records r WHERE r.account = $1 AND r.region = $2 AND r.kind = $3 AND r.parent = $4 \
             AND r.id > $5 ORDER BY r.id LIMIT $6",
        ] {
            let rows = sqlx::query(&format!("EXPLAIN QUERY PLAN {sql}"))
                .bind("a")
                .bind("r")
                .bind("k")
                .bind("p")
                .bind("i")
                .bind(10_i64)
                .fetch_all(&mut *c)
                .await
                .expect("plan");
            let plan = rows
                .iter()
                .map(|row| row.try_get::<String, _>("detail").expect("detail"))
                .collect::<Vec<_>>()
                .join(" | ");
            assert!(plan.contains("records_by_parent"), "{sql}: {plan}");
        }
    }

    #[test]
    fn scope_lock_keys_differ_per_scope() {
        assert_ne!(
            scope_lock_key(&Scope::new("a", "bc")),
            scope_lock_key(&Scope::new("ab", "c"))
        );
        assert_eq!(
            scope_lock_key(&Scope::new("a", "b")),
            scope_lock_key(&Scope::new("a", "b"))
        );
    }
}
