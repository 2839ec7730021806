//! Quotas, defaults and timings of the KVS control plane, in one place.

/// Longest data retention AWS accepts: 87,600 hours (ten years), per `UpdateDataRetention`.
pub(crate) const MAX_DATA_RETENTION_HOURS: i32 = 87_600;
/// Default number of streams per account and region (`REELAY_KVS_MAX_STREAMS` overrides it).
pub(crate) const DEFAULT_MAX_STREAMS: u64 = 10_000;
/// Default number of signaling channels per account and region (`REELAY_KVS_MAX_CHANNELS`).
pub(crate) const DEFAULT_MAX_CHANNELS: u64 = 10_000;
/// A new stream or channel shows CREATING for this long, then ACTIVE.
pub(crate) const ACTIVE_AFTER_MS: i64 = 1_000;
/// AWS retries syncing an edge configuration for 15 minutes before SYNC_FAILED.
pub(crate) const EDGE_SYNC_TIMEOUT_MS: i64 = 15 * 60 * 1_000;
/// A deleted edge configuration shows DELETING for this long, then disappears.
pub(crate) const EDGE_DELETE_MS: i64 = 1_000;
/// `MessageTtlSeconds` when a channel is created without one (the AWS default).
pub(crate) const DEFAULT_MESSAGE_TTL_SECONDS: i32 = 60;
/// Smallest image sampling interval: a frame every 33 ms at 30 fps.
pub(crate) const MIN_SAMPLING_INTERVAL_MS: i32 = 33;
/// JPEG quality range of `FormatConfig.JPEGQuality`.
pub(crate) const JPEG_QUALITY: std::ops::RangeInclusive<i64> = 1..=100;
/// Default and largest page of `ListStreams` (the model's maximum `MaxResults`).
pub(crate) const LIST_STREAMS_MAX: usize = 10_000;
/// Default page of `ListSignalingChannels` (documented default 500).
pub(crate) const LIST_CHANNELS_DEFAULT: usize = 500;
/// Largest page of `ListSignalingChannels`.
pub(crate) const LIST_CHANNELS_MAX: usize = 10_000;
/// Default and largest page of `ListEdgeAgentConfigurations` (model range 1-10).
pub(crate) const LIST_EDGE_MAX: usize = 10;
/// Lifetime of the TURN credentials `GetIceServerConfig` hands out, in seconds.
pub(crate) const ICE_SERVER_TTL_SECONDS: i32 = 300;
/// How many reads and writes a read-modify-write makes before giving up under contention.
pub(crate) const MAX_WRITE_ATTEMPTS: usize = 5;
/// Length of the `Version` strings of streams and channels.
pub(crate) const VERSION_LEN: usize = 12;
