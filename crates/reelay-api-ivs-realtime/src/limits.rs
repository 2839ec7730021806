//! Named limits and defaults of the IVS Real-Time API (botocore model 2020-07-14 and the
//! IVS Real-Time User Guide, "Service Quotas").

/// Participant attributes: "The maximum length of this field is 1 KB total."
pub const MAX_ATTRIBUTES_BYTES: usize = 1024;
/// Default participant token duration, minutes (12 hours).
pub const DEFAULT_TOKEN_DURATION_MINUTES: i32 = 720;
/// Longest participant token lifetime, minutes (14 days); also the limit on `exp - iat` of a
/// self-signed token.
pub const MAX_TOKEN_DURATION_MINUTES: i32 = 20_160;
/// "EncoderConfigurations: 20 per account" (adjustable in AWS, fixed here).
pub const MAX_ENCODER_CONFIGURATIONS: u64 = 20;
/// Encoder defaults: 1280x720, 30 fps, 2,500,000 bps.
pub const DEFAULT_WIDTH: i32 = 1280;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_HEIGHT: i32 = 720;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_FRAMERATE: f64 = 30.0;
/// See [`DEFAULT_WIDTH`].
pub const DEFAULT_BITRATE: i32 = 2_500_000;
/// Largest encoder frame, in pixels (1920x1080 or 1080x1920).
pub const MAX_PIXELS: i64 = 2_073_600;
/// A composition stops when no participant has published for this long.
pub const COMPOSITION_IDLE_TIMEOUT_MS: i64 = 60_000;
/// A stopped or failed composition disappears from Get and List after this long.
pub const COMPOSITION_RETENTION_MS: i64 = 5 * 60_000;
/// Maximum life of a composition (24 hours).
pub const COMPOSITION_MAX_LIFE_MS: i64 = 24 * 3_600_000;
/// How long a composition reports STARTING before ACTIVE (reelay's choice: AWS says "a few
/// seconds").
pub const COMPOSITION_STARTING_MS: i64 = 2_000;
/// How long a composition reports STOPPING before STOPPED (reelay's choice).
pub const COMPOSITION_STOPPING_MS: i64 = 2_000;
/// Default thumbnail interval, seconds.
pub const DEFAULT_THUMBNAIL_INTERVAL_SECONDS: i32 = 60;
/// Default participant-recording HLS segment duration, seconds.
pub const DEFAULT_PARTICIPANT_SEGMENT_SECONDS: i32 = 6;
/// Default composite-recording HLS segment duration, seconds.
pub const DEFAULT_COMPOSITION_SEGMENT_SECONDS: i32 = 2;
/// Grid layout default gap, pixels.
pub const DEFAULT_GRID_GAP: i32 = 2;
/// Length of generated resource ids.
pub const ID_LEN: usize = 12;
/// Length of the random secret part of an ingest stream key.
pub const STREAM_KEY_SECRET_LEN: usize = 32;
/// Most records read when scanning for references (compositions using a configuration).
pub const MAX_REFERENCE_SCAN: usize = 1000;
