//! Every size and count the blob layer enforces, in one place.
//!
//! The S3 numbers come from the Amazon S3 User Guide, "Amazon S3 multipart upload limits" and
//! "Naming Amazon S3 objects".

/// Longest object key, in UTF-8 bytes.
pub const MAX_KEY_LEN: usize = 1024;
/// Smallest size of every part of a multipart upload except the last.
pub const MIN_PART_SIZE: u64 = 5 * 1024 * 1024;
/// Largest part size.
pub const MAX_PART_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Highest part number; part numbers start at 1.
pub const MAX_PART_NUMBER: u32 = 10_000;
/// Largest object a single PUT may create.
pub const MAX_PUT_SIZE: u64 = 5 * 1024 * 1024 * 1024;
/// Largest object overall (what a multipart upload may assemble).
pub const MAX_OBJECT_SIZE: u64 = 5 * 1024 * 1024 * 1024 * 1024;
/// Most entries one list call returns.
pub const MAX_LIST_KEYS: usize = 1000;
/// Largest read [`crate::BlobStore::read_range`] will buffer in memory.
pub const MAX_READ_RANGE: u64 = 64 * 1024 * 1024;
/// Largest persisted JSON record we are willing to load; S3 user metadata is capped at 2 KiB, so
/// anything near this is corruption or tampering.
pub const MAX_RECORD_SIZE: u64 = 1024 * 1024;

/// Size of the parts the backend multipart writer ships; also the threshold under which a body
/// is sent with one plain `put` instead of a multipart upload.
pub(crate) const WRITE_CHUNK: usize = 5 * 1024 * 1024;
/// How many backend part uploads may be in flight per writer, bounding memory to
/// about `(WRITE_IN_FLIGHT + 1) * WRITE_CHUNK` per upload.
pub(crate) const WRITE_IN_FLIGHT: usize = 2;
/// Size of the chunks read from local files (object_store's own default is 8 KiB, which costs a
/// blocking-pool round trip per 8 KiB).
pub(crate) const READ_CHUNK: u64 = 1024 * 1024;
/// Largest resolved range a read of the local backend serves from memory, read whole in the same
/// blocking-pool trip that resolves the object's records and opens its data (see
/// `BlobStore::get_object`); larger reads stream in [`READ_CHUNK`] pieces. 4 MiB covers a 6 s
/// media segment up to about 5 Mbit/s (VOD segment reads are typically 50 KiB to 1.5 MiB), while
/// bounding what one request holds before its first byte is sent to twice the streaming path's
/// two chunks in flight.
pub(crate) const SMALL_READ: u64 = 4 * 1024 * 1024;
/// Number of lock stripes serialising record updates per key or upload.
pub(crate) const LOCK_STRIPES: usize = 64;
