//! The error taxonomy of the blob layer.
//!
//! Variants are granular on purpose: the S3 handler maps each one to exactly one S3 error code
//! and status, and media code can match on `NoSuchKey` or `InvalidRange` without string checks.

use std::io;

use crate::ObjectInfo;

/// Convenience alias for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in [`crate::BlobStore`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bucket does not exist.
    #[error("the specified bucket does not exist: {bucket}")]
    NoSuchBucket {
        /// The bucket name that was asked for.
        bucket: String,
    },
    /// The bucket exists and belongs to another account.
    #[error("the requested bucket name is not available: {bucket}")]
    BucketAlreadyExists {
        /// The bucket name.
        bucket: String,
    },
    /// The bucket exists and belongs to the calling account.
    #[error("the bucket already exists and is owned by you: {bucket}")]
    BucketAlreadyOwnedByYou {
        /// The bucket name.
        bucket: String,
    },
    /// The bucket still holds objects.
    #[error("the bucket is not empty: {bucket}")]
    BucketNotEmpty {
        /// The bucket name.
        bucket: String,
    },
    /// The bucket name breaks the S3 naming rules.
    #[error("invalid bucket name: {reason}")]
    InvalidBucketName {
        /// Which rule was broken.
        reason: &'static str,
    },
    /// The key does not exist.
    #[error("the specified key does not exist")]
    NoSuchKey,
    /// The key is longer than [`crate::limits::MAX_KEY_LEN`] bytes.
    #[error("the key is {len} bytes long, more than the allowed 1024")]
    KeyTooLong {
        /// The length in bytes.
        len: usize,
    },
    /// The key is empty or otherwise unusable.
    #[error("invalid key: {reason}")]
    InvalidKey {
        /// Why it was refused.
        reason: &'static str,
    },
    /// The multipart upload does not exist (never did, completed or aborted).
    #[error("the specified multipart upload does not exist")]
    NoSuchUpload,
    /// A part listed in a completion request is missing or does not match.
    #[error("invalid part {part_number}: {reason}")]
    InvalidPart {
        /// The part number.
        part_number: u32,
        /// Why it does not match.
        reason: String,
    },
    /// The completion request does not list parts in ascending order.
    #[error("the list of parts was not in ascending order")]
    InvalidPartOrder,
    /// A part other than the last is smaller than [`crate::limits::MIN_PART_SIZE`].
    #[error("part {part_number} is {size} bytes, smaller than the minimum allowed")]
    EntityTooSmall {
        /// The offending part.
        part_number: u32,
        /// Its size.
        size: u64,
    },
    /// The body is larger than the operation allows.
    #[error("the body exceeds the maximum allowed size of {max} bytes")]
    EntityTooLarge {
        /// The limit that applied.
        max: u64,
    },
    /// The requested byte range cannot be satisfied.
    #[error("the requested range is not satisfiable for an object of {size} bytes")]
    InvalidRange {
        /// The object size.
        size: u64,
    },
    /// A precondition (`If-Match`, `If-Unmodified-Since`, `If-None-Match` on write) failed.
    #[error("at least one of the preconditions did not hold")]
    PreconditionFailed,
    /// A read precondition (`If-None-Match`, `If-Modified-Since`) says the client copy is current.
    #[error("not modified")]
    NotModified {
        /// The current object, whose validators go into the 304 response.
        info: Box<ObjectInfo>,
    },
    /// An argument is outside its allowed domain.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// Reading the caller's body failed; the inner error may carry the caller's own error type.
    #[error("reading the request body failed: {0}")]
    Body(#[source] io::Error),
    /// Local file I/O failed while streaming.
    #[error("i/o error: {0}")]
    Io(#[source] io::Error),
    /// The store could not be opened with the given configuration.
    #[error("invalid blob store configuration: {0}")]
    Config(String),
    /// A persisted record could not be decoded.
    #[error("corrupt record at {path}: {reason}")]
    Corrupt {
        /// The storage path.
        path: String,
        /// What was wrong.
        reason: String,
    },
    /// The storage backend failed.
    #[error("storage backend error: {0}")]
    Storage(#[from] object_store::Error),
}

impl Error {
    /// Whether the backend reported that a path does not exist.
    pub(crate) fn is_backend_not_found(&self) -> bool {
        matches!(self, Error::Storage(object_store::Error::NotFound { .. }))
    }
}
