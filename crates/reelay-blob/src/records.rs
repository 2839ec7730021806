//! Persisted records. Shipped schemas are frozen: a change adds `mod v2` and a migration, it never
//! edits `v1`. Every record carries its version in the `v` field.

pub(crate) mod v1 {
    use serde::{Deserialize, Serialize};

    use crate::types::{Checksum, ObjectAttrs};

    /// Schema version written by this module.
    pub(crate) const VERSION: u32 = 1;

    /// `buckets/<name>`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(crate) struct BucketRecord {
        pub v: u32,
        pub name: String,
        pub owner: String,
        pub region: String,
        pub created_ms: i64,
    }

    /// `b/<bucket>/<encoded key>`: the commit point of an object; names its data blob.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(crate) struct ObjectRecord {
        pub v: u32,
        pub key: String,
        pub data: String,
        pub size: u64,
        pub etag: String,
        pub last_modified_ms: i64,
        pub attrs: ObjectAttrs,
        pub checksum: Option<Checksum>,
        pub parts_count: Option<u32>,
    }

    /// `u/<bucket>/<upload id>/upload`.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(crate) struct UploadRecord {
        pub v: u32,
        pub upload_id: String,
        pub key: String,
        pub owner: String,
        pub initiated_ms: i64,
        pub attrs: ObjectAttrs,
        pub checksum_algorithm: Option<String>,
        pub checksum_type: Option<String>,
    }

    /// `u/<bucket>/<upload id>/part/<00001>`: names the part's data blob.
    #[derive(Debug, Clone, Serialize, Deserialize)]
    pub(crate) struct PartRecord {
        pub v: u32,
        pub part_number: u32,
        pub data: String,
        pub size: u64,
        pub etag: String,
        pub last_modified_ms: i64,
        pub checksum: Option<Checksum>,
    }
}
