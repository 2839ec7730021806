//! Object storage for reelay: buckets, objects and multipart uploads on top of the
//! `object_store` crate (local disk by default, any S3-compatible store, or memory).
//!
//! It serves the S3-compatible endpoint (`reelay-s3`) and media pipelines that read VOD sources
//! or write recordings and thumbnails. Everything streams: writes take a
//! `Stream<Item = io::Result<Bytes>>`, reads return a stream of bounded chunks.
//!
//! - [`keys`] explains how arbitrary (hostile) S3 keys become safe, order-preserving paths.
//! - [`BlobStore`] documents the storage layout and why objects appear atomically.
//! - [`limits`] holds every size and count that is enforced.
//!
//! **Architecture Invariant:** no user-supplied string is ever used as a storage path: bucket
//! names are validated against the S3 rules, keys are hex encoded, upload ids must have the
//! exact shape we generate.

mod bucket_name;
mod conditions;
mod error;
pub mod keys;
pub mod limits;
mod multipart;
mod range;
mod records;
mod store;
mod types;

pub use bucket_name::validate_bucket_name;
pub use conditions::{Conditions, WriteConditions, normalize_etag};
pub use error::{Error, Result};
pub use keys::validate_key;
pub use range::ByteRange;
pub use store::{BlobStore, ByteStream, ObjectBody, StagedData};
pub use types::{
    BucketInfo, Checksum, CompletedPart, ListPage, ListQuery, ObjectAttrs, ObjectInfo, PartInfo,
    UploadInfo,
};
