//! The reelay metadata store.
//!
//! Every service keeps its resources here as JSON documents ([`Record`]), isolated per account and region
//! ([`Scope`]), behind one dyn-compatible trait ([`MetaStore`]) with two backends: SQLite (the default, a single
//! file or memory) and PostgreSQL (for several nodes sharing one database).
//! [`open`] picks the backend from the URL, applies the numbered schema migrations and returns the store.
//!
//! **Architecture Invariant:** both backends run the same SQL through the same code path
//! (only the schema files and the way a write transaction starts differ), and one conformance suite
//! (`tests/it/conformance.rs`) runs against both.

mod config;
mod error;
pub mod limits;
mod migrate;
mod model;
mod sql;
mod token;
mod validate;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

pub use config::{KindMigration, MigrateFn, StoreConfig};
pub use error::StoreError;
pub use model::{
    Filter, LazyPage, LazyRecord, ListQuery, NewRecord, Page, Record, Scope, TxOp, Update,
};

/// A metadata store: resources as versioned JSON documents, with tags, filtered keyset pagination and
/// all-or-nothing transactions.
///
/// Every method is scoped to one account and region; a record in another scope is invisible.
/// Writes return only once committed.
#[async_trait]
pub trait MetaStore: Send + Sync + 'static {
    /// Inserts a new record (version 1) with its create-time tags.
    ///
    /// Fails with [`StoreError::AlreadyExists`] when `(scope, kind, id)` or the ARN (in any scope) exists.
    async fn insert(&self, scope: &Scope, rec: NewRecord) -> Result<Record, StoreError>;

    /// Reads one record by kind and id.
    async fn get(&self, scope: &Scope, kind: &str, id: &str) -> Result<Option<Record>, StoreError>;

    /// Reads one record by ARN.
    async fn get_by_arn(&self, scope: &Scope, arn: &str) -> Result<Option<Record>, StoreError>;

    /// Replaces the body, index, parent and schema version of a record and bumps its version.
    ///
    /// With `expected_version`, the write happens only if the stored version equals it
    /// (else [`StoreError::VersionMismatch`]); the check and the write are one atomic statement.
    async fn update(
        &self,
        scope: &Scope,
        kind: &str,
        id: &str,
        expected_version: Option<i64>,
        update: Update,
    ) -> Result<Record, StoreError>;

    /// Deletes a record and its tags, returning the record as it was.
    async fn delete(
        &self,
        scope: &Scope,
        kind: &str,
        id: &str,
        expected_version: Option<i64>,
    ) -> Result<Record, StoreError>;

    /// Lists records of one kind in id (byte) order, one page at a time.
    ///
    /// `parent: None` means "any parent". A `limit` of 0 is treated as 1; callers clamp large limits.
    async fn list(&self, scope: &Scope, query: &ListQuery) -> Result<Page, StoreError>;

    /// [`MetaStore::list`] with each body left as JSON text, for callers that deserialize bodies into their
    /// own types: the same records, order, filters and page tokens, without building a `Value` per body.
    ///
    /// The default implementation converts the result of [`MetaStore::list`].
    async fn list_lazy(&self, scope: &Scope, query: &ListQuery) -> Result<LazyPage, StoreError> {
        Ok(self.list(scope, query).await?.into())
    }

    /// Counts records of one kind, optionally only those with the given parent.
    async fn count(
        &self,
        scope: &Scope,
        kind: &str,
        parent: Option<&str>,
    ) -> Result<u64, StoreError>;

    /// Applies `ops` in order in one transaction: all of them or none.
    ///
    /// Later ops see the effects of earlier ones. Result `i` is the record written (insert, update) or removed
    /// (delete) by op `i`, and `None` for assertions. A failed assertion is [`StoreError::ConditionFailed`]
    /// naming the op; a failed write returns the same error as the single-record method.
    async fn transact(
        &self,
        scope: &Scope,
        ops: Vec<TxOp>,
    ) -> Result<Vec<Option<Record>>, StoreError>;

    /// Returns the tags of the record with this ARN ([`StoreError::NotFound`] if none in scope).
    async fn tags(&self, scope: &Scope, arn: &str) -> Result<BTreeMap<String, String>, StoreError>;

    /// Merges tags into the record's tags; over the limit is [`StoreError::TooManyTags`] and nothing is written.
    async fn tag(
        &self,
        scope: &Scope,
        arn: &str,
        tags: BTreeMap<String, String>,
    ) -> Result<(), StoreError>;

    /// Removes the given tag keys; keys that are not set are ignored.
    async fn untag(&self, scope: &Scope, arn: &str, keys: &[String]) -> Result<(), StoreError>;

    /// Wipes every record and tag in every scope, keeping the schema and the page-token key.
    async fn reset(&self) -> Result<(), StoreError>;

    /// Closes the connection pools; later calls fail with [`StoreError::Backend`].
    async fn close(&self);

    /// `"sqlite"` or `"postgres"`.
    fn backend_name(&self) -> &'static str;
}

/// Opens (creating if needed) the store at `url` and applies pending schema migrations.
///
/// Accepted URLs: `sqlite://<path>` (the file is created if missing), `sqlite::memory:` (one connection, gone when
/// the store is dropped), `postgres://...` and `postgresql://...`. Opening the same database concurrently from
/// several processes is safe: migrations run in a transaction under a lock.
pub async fn open(url: &str, config: StoreConfig) -> Result<Arc<dyn MetaStore>, StoreError> {
    let store = sql::SqlStore::open(url, config).await?;
    Ok(Arc::new(store))
}

#[cfg(test)]
mod tests {
    /// Services spawn `open` on multi-threaded runtimes, so its future must stay `Send`.
    #[test]
    fn open_future_is_send() {
        fn assert_send<T: Send>(_: &T) {}
        let opening = super::open("sqlite::memory:", super::StoreConfig::default());
        assert_send(&opening);
    }
}
