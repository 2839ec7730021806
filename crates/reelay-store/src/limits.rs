//! Named limits, checked before anything is allocated or sent to the database.

/// Default maximum number of tags per resource (the AWS limit for these services).
pub const DEFAULT_MAX_TAGS: usize = 50;
/// Maximum tag key length, in characters.
pub const TAG_KEY_MAX_CHARS: usize = 128;
/// Maximum tag value length, in characters.
pub const TAG_VALUE_MAX_CHARS: usize = 256;
/// Maximum length in bytes of a kind, id, ARN, parent or index key.
pub const MAX_NAME_BYTES: usize = 1024;
/// Maximum length in bytes of an index value or filter value.
pub const MAX_INDEX_VALUE_BYTES: usize = 2048;
/// Maximum number of index attributes per record.
pub const MAX_INDEX_ENTRIES: usize = 32;
/// Maximum number of filters in one list query.
pub const MAX_FILTERS: usize = 16;
/// Maximum number of ops in one transaction.
pub const MAX_TX_OPS: usize = 100;
/// Maximum size of a serialized body, in bytes.
pub const MAX_BODY_BYTES: usize = 4 * 1024 * 1024;
/// Maximum length of a page token, in bytes; longer tokens are rejected before decoding.
pub const MAX_PAGE_TOKEN_BYTES: usize = 4096;
/// Maximum number of keys in one untag call.
pub const MAX_UNTAG_KEYS: usize = 1000;
