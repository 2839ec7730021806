//! The records and queries the store works with.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::Value;
use time::OffsetDateTime;

/// The isolation unit: records of one account and region never see those of another.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    /// AWS account id.
    pub account: String,
    /// AWS region name.
    pub region: String,
}

impl Scope {
    /// Builds a scope.
    pub fn new(account: impl Into<String>, region: impl Into<String>) -> Self {
        Scope {
            account: account.into(),
            region: region.into(),
        }
    }
}

/// A record to insert.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRecord {
    /// Resource kind, e.g. `"ivs:channel"`.
    pub kind: String,
    /// Unique within (scope, kind); lists are ordered by id bytes.
    pub id: String,
    /// Globally unique ARN.
    pub arn: String,
    /// Owner of this record, e.g. the channel ARN of a stream key.
    pub parent: Option<String>,
    /// Attributes that list filters can match.
    pub index: BTreeMap<String, String>,
    /// The service's document.
    pub body: Value,
    /// Version of the body's schema.
    pub schema_version: u32,
    /// Tags given at create time.
    pub tags: BTreeMap<String, String>,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Resource kind.
    pub kind: String,
    /// Id within (scope, kind).
    pub id: String,
    /// Globally unique ARN.
    pub arn: String,
    /// Owner of this record.
    pub parent: Option<String>,
    /// Attributes that list filters can match.
    pub index: BTreeMap<String, String>,
    /// The service's document (after any configured migration).
    pub body: Value,
    /// Version of the body's schema (after any configured migration).
    pub schema_version: u32,
    /// 1 on insert, +1 per update.
    pub version: i64,
    /// Insert time, millisecond precision.
    pub created_at: OffsetDateTime,
    /// Last update time, millisecond precision.
    pub updated_at: OffsetDateTime,
}

/// A stored record whose body is still the JSON text it is stored as (see [`crate::MetaStore::list_lazy`]).
///
/// Callers that turn each body into their own type deserialize it from the text once, instead of the store
/// building a [`Value`] tree that the caller then walks and copies.
#[derive(Debug, Clone, PartialEq)]
pub struct LazyRecord {
    /// Resource kind.
    pub kind: String,
    /// Id within (scope, kind).
    pub id: String,
    /// Globally unique ARN.
    pub arn: String,
    /// Owner of this record.
    pub parent: Option<String>,
    /// Attributes that list filters can match.
    pub index: BTreeMap<String, String>,
    /// The service's document as JSON text (after any configured migration).
    pub body_json: String,
    /// Version of the body's schema (after any configured migration).
    pub schema_version: u32,
    /// 1 on insert, +1 per update.
    pub version: i64,
    /// Insert time, millisecond precision.
    pub created_at: OffsetDateTime,
    /// Last update time, millisecond precision.
    pub updated_at: OffsetDateTime,
}

impl LazyRecord {
    /// Deserializes the body into `T`.
    pub fn decode_body<T: DeserializeOwned>(&self) -> Result<T, serde_json::Error> {
        serde_json::from_str(&self.body_json)
    }

    /// The same record with its body parsed, as [`crate::MetaStore::list`] returns it.
    pub fn into_record(self) -> Result<Record, serde_json::Error> {
        Ok(Record {
            body: serde_json::from_str(&self.body_json)?,
            kind: self.kind,
            id: self.id,
            arn: self.arn,
            parent: self.parent,
            index: self.index,
            schema_version: self.schema_version,
            version: self.version,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

impl From<Record> for LazyRecord {
    fn from(rec: Record) -> Self {
        LazyRecord {
            // A `Value` always serializes (its map keys are strings).
            body_json: rec.body.to_string(),
            kind: rec.kind,
            id: rec.id,
            arn: rec.arn,
            parent: rec.parent,
            index: rec.index,
            schema_version: rec.schema_version,
            version: rec.version,
            created_at: rec.created_at,
            updated_at: rec.updated_at,
        }
    }
}

/// One page of a [`crate::MetaStore::list_lazy`].
#[derive(Debug, Clone, PartialEq)]
pub struct LazyPage {
    /// Records in id order.
    pub items: Vec<LazyRecord>,
    /// Token for the next page, `None` on the last page.
    pub next_token: Option<String>,
}

impl From<Page> for LazyPage {
    fn from(page: Page) -> Self {
        LazyPage {
            items: page.items.into_iter().map(LazyRecord::from).collect(),
            next_token: page.next_token,
        }
    }
}

/// The new content of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Update {
    /// New document.
    pub body: Value,
    /// New index attributes (replace the old ones).
    pub index: BTreeMap<String, String>,
    /// New parent.
    pub parent: Option<String>,
    /// Schema version of the new document.
    pub schema_version: u32,
}

/// One page request of a list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Kind to list.
    pub kind: String,
    /// Only records with this parent; `None` means any parent.
    pub parent: Option<String>,
    /// All must match.
    pub filters: Vec<Filter>,
    /// Page size; 0 is treated as 1.
    pub limit: usize,
    /// The `next_token` of the previous page, for the same kind, parent, filters and scope.
    pub page_token: Option<String>,
}

/// A list filter. Key `"id"` matches the record id; other keys match index attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Filter {
    /// The attribute equals `value`.
    Eq {
        /// Attribute name, or `"id"`.
        key: String,
        /// Exact value.
        value: String,
    },
    /// The attribute starts with `prefix`.
    Prefix {
        /// Attribute name, or `"id"`.
        key: String,
        /// Prefix to match.
        prefix: String,
    },
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Records in id order.
    pub items: Vec<Record>,
    /// Token for the next page, `None` on the last page.
    pub next_token: Option<String>,
}

/// One step of a [`crate::MetaStore::transact`].
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum TxOp {
    /// Insert a record.
    Insert(NewRecord),
    /// Insert a record into another scope than the transaction's, in the same transaction: for
    /// records that a service keeps outside any account, such as a lookup from a secret to the
    /// scope that owns it, written together with the resource they point to.
    InsertIn {
        /// Scope of the record.
        scope: Scope,
        /// The record.
        record: NewRecord,
    },
    /// Update a record.
    Update {
        /// Kind of the record.
        kind: String,
        /// Id of the record.
        id: String,
        /// Compare-and-set version.
        expected_version: Option<i64>,
        /// New content.
        update: Update,
    },
    /// Delete a record and its tags.
    Delete {
        /// Kind of the record.
        kind: String,
        /// Id of the record.
        id: String,
        /// Compare-and-set version.
        expected_version: Option<i64>,
    },
    /// Fail unless the record exists.
    AssertExists {
        /// Kind of the record.
        kind: String,
        /// Id of the record.
        id: String,
    },
    /// Fail if the record exists.
    AssertAbsent {
        /// Kind of the record.
        kind: String,
        /// Id of the record.
        id: String,
    },
    /// Fail if any record of `kind` in scope has this parent.
    AssertNoChildren {
        /// Kind of the children.
        kind: String,
        /// The parent value to look for.
        parent: String,
    },
}
