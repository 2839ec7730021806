//! Bounds applied to every size and count read from the input before anything is allocated.
//!
//! The values are generous for real VOD sources (hours of 60 fps video) and small enough that a
//! hostile header cannot make the process allocate gigabytes or loop for minutes.

/// Largest `moov` box [`crate::probe`] agrees to point a caller at. A two-hour feature with
/// several tracks has a `moov` of a few megabytes.
pub const MAX_MOOV_SIZE: u64 = 64 * 1024 * 1024;

/// Most top-level boxes [`crate::probe`] records before giving up; real files have a handful.
pub const MAX_TOP_LEVEL_BOXES: usize = 1024;

/// Most `trak` boxes in one `moov`.
pub const MAX_TRACKS: usize = 64;

/// Most samples in one track: about 19 hours of 60 fps video or 24 hours of 48 kHz AAC. The
/// sample index costs 24 bytes and one bit per sample, so this caps one index near 100 MiB.
pub const MAX_SAMPLES_PER_TRACK: u64 = 1 << 22;

/// Most entries preallocated for any table, whatever the declared count: larger tables grow as
/// their entries are actually decoded.
pub const MAX_TABLE_INITIAL_CAPACITY: usize = 1 << 16;

/// Largest codec configuration record (`avcC`, `hvcC`, AudioSpecificConfig) that is kept.
pub const MAX_CODEC_CONFIG_SIZE: usize = 64 * 1024;

/// Most entries in an `stsd` box. Only one sample description per track is supported; the bound
/// keeps the scan of a hostile table short.
pub const MAX_SAMPLE_DESCRIPTIONS: u32 = 16;

/// Most samples in one `trun` written by the muxer, and most track fragments in one segment.
pub const MAX_FRAGMENT_SAMPLES: usize = 1 << 20;
