//! The store's error taxonomy; services map these to their own wire errors.

/// Why a store operation failed.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreError {
    /// The record (or the ARN, for tag operations) does not exist in this scope.
    #[error("record not found")]
    NotFound,
    /// A record with the same (scope, kind, id), or the same ARN, already exists.
    #[error("record already exists")]
    AlreadyExists,
    /// The stored version is not the one the caller expected.
    #[error("version mismatch: expected {expected}, found {actual}")]
    VersionMismatch {
        /// The version the caller expected.
        expected: i64,
        /// The version stored now.
        actual: i64,
    },
    /// The page token is malformed, tampered with, or belongs to another query.
    #[error("invalid page token")]
    InvalidPageToken,
    /// The resource would carry more than `limit` tags.
    #[error("too many tags (limit {limit})")]
    TooManyTags {
        /// The configured maximum number of tags per resource.
        limit: usize,
    },
    /// A tag key or value breaks the length rules.
    #[error("invalid tag: {0}")]
    InvalidTag(String),
    /// A transaction assertion did not hold; nothing was written.
    #[error("transaction condition {op_index} failed: {reason}")]
    ConditionFailed {
        /// Index of the failed op in the transaction.
        op_index: usize,
        /// What did not hold.
        reason: String,
    },
    /// An argument breaks a store limit (see [`crate::limits`]), or contains a NUL character.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The database failed, or stored data could not be decoded.
    #[error("storage backend error: {0}")]
    Backend(String),
}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
        StoreError::Backend(err.to_string())
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(err: serde_json::Error) -> Self {
        StoreError::Backend(format!("json: {err}"))
    }
}
