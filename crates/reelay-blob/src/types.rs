//! Public value types: what a bucket, an object, an upload and a part look like to callers.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A bucket record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BucketInfo {
    /// Bucket name.
    pub name: String,
    /// Account id that owns it.
    pub owner: String,
    /// Region it was created in.
    pub region: String,
    /// Creation time.
    pub created: OffsetDateTime,
}

/// Caller-controlled object attributes: the standard representation headers and user metadata.
///
/// They are stored verbatim and returned on reads; the blob layer does not interpret them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ObjectAttrs {
    /// `Content-Type`.
    pub content_type: Option<String>,
    /// `Content-Encoding`.
    pub content_encoding: Option<String>,
    /// `Content-Disposition`.
    pub content_disposition: Option<String>,
    /// `Content-Language`.
    pub content_language: Option<String>,
    /// `Cache-Control`.
    pub cache_control: Option<String>,
    /// `Expires`, as the client sent it.
    pub expires: Option<String>,
    /// User metadata (`x-amz-meta-<name>`), names lowercased.
    pub user_metadata: BTreeMap<String, String>,
}

/// An additional integrity checksum the client supplied (or that was derived from part
/// checksums), stored so it can be returned on reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// Algorithm name as S3 spells it: `CRC32`, `CRC32C`, `CRC64NVME`, `SHA1`, `SHA256`.
    pub algorithm: String,
    /// The checksum value as sent on the wire (base64, with a `-N` suffix for composites).
    pub value: String,
    /// `true` for a checksum of the whole object, `false` for a composite of part checksums.
    pub full_object: bool,
}

/// What is known about a stored object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObjectInfo {
    /// The object key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Entity tag without quotes: hex MD5 of the content, or `<hex>-<parts>` after multipart.
    pub etag: String,
    /// Time the object was last written, millisecond precision.
    pub last_modified: OffsetDateTime,
    /// Representation headers and user metadata.
    pub attrs: ObjectAttrs,
    /// Stored additional checksum, if any.
    pub checksum: Option<Checksum>,
    /// Number of parts when the object was assembled by a multipart upload.
    pub parts_count: Option<u32>,
}

/// An in-progress multipart upload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadInfo {
    /// Upload id (32 lowercase hex digits).
    pub upload_id: String,
    /// The key the upload will create.
    pub key: String,
    /// Account that initiated it.
    pub owner: String,
    /// When it was created.
    pub initiated: OffsetDateTime,
    /// Attributes the final object will get.
    pub attrs: ObjectAttrs,
    /// Checksum algorithm requested at creation, if any.
    pub checksum_algorithm: Option<String>,
    /// Checksum type requested at creation (`COMPOSITE` or `FULL_OBJECT`), if any.
    pub checksum_type: Option<String>,
}

/// One uploaded part.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartInfo {
    /// Part number, 1 to [`crate::limits::MAX_PART_NUMBER`].
    pub part_number: u32,
    /// Hex MD5 of the part, without quotes.
    pub etag: String,
    /// Size in bytes.
    pub size: u64,
    /// Upload time.
    pub last_modified: OffsetDateTime,
    /// Checksum the client supplied for this part, if any.
    pub checksum: Option<Checksum>,
}

/// A part named in a completion request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletedPart {
    /// Part number.
    pub part_number: u32,
    /// ETag the client received for it, with or without quotes.
    pub etag: String,
}

/// Parameters of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListQuery<'a> {
    /// Only keys starting with this string.
    pub prefix: &'a str,
    /// Roll keys up to the first occurrence of this string after the prefix; empty means none.
    pub delimiter: Option<&'a str>,
    /// Only keys strictly greater than this one.
    pub start_after: Option<&'a str>,
    /// Resume after this entry (the `next_marker` of a previous page).
    pub marker: Option<&'a str>,
    /// At most this many entries (keys plus common prefixes); capped at
    /// [`crate::limits::MAX_LIST_KEYS`].
    pub max_keys: usize,
}

/// One page of a listing.
#[derive(Debug, Clone, Default)]
pub struct ListPage {
    /// Objects in UTF-8 binary key order.
    pub objects: Vec<ObjectInfo>,
    /// Rolled-up prefixes in binary order.
    pub common_prefixes: Vec<String>,
    /// Whether more entries follow.
    pub is_truncated: bool,
    /// The last entry of this page (key or common prefix) when truncated; pass it back as
    /// [`ListQuery::marker`].
    pub next_marker: Option<String>,
}
