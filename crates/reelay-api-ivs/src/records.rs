//! The documents this crate keeps in the metadata store, schema version 1.
//!
//! Each body carries `schema_version: 1`; a later release that changes a body adds a `v2` and a
//! store migration instead of editing these. The `ivs:stream`, `ivs:stream-session`,
//! `ivs:viewer-session-revocation`, `ivs:timed-metadata` and `ivs:ad-break` kinds are the
//! contract with the live data plane: it writes streams and sessions, and reads revocations,
//! timed metadata and ad breaks (see `docs/ivs.md`).

use crate::secret::Secret;
use reelay_aws::generated::ivs::types::{
    ChannelLatencyMode, ChannelType, ContainerFormat, IngestConfiguration,
    MultitrackInputConfiguration, RenditionConfiguration, StreamEvent, StreamHealth,
    ThumbnailConfiguration, TranscodePreset,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The schema version of every body in this module.
pub const SCHEMA_VERSION: u32 = 1;

/// Store kind of channels.
pub const KIND_CHANNEL: &str = "ivs:channel";
/// Store kind of stream keys (parent: the channel ARN).
pub const KIND_STREAM_KEY: &str = "ivs:stream-key";
/// Store kind of playback key pairs.
pub const KIND_PLAYBACK_KEY: &str = "ivs:playback-key";
/// Store kind of the uniqueness markers of playback key fingerprints (id: the fingerprint).
pub const KIND_PLAYBACK_KEY_FINGERPRINT: &str = "ivs:playback-key-fingerprint";
/// Store kind of recording configurations.
pub const KIND_RECORDING_CONFIGURATION: &str = "ivs:recording-configuration";
/// Store kind of playback restriction policies.
pub const KIND_PLAYBACK_RESTRICTION_POLICY: &str = "ivs:playback-restriction-policy";
/// Store kind of ad configurations.
pub const KIND_AD_CONFIGURATION: &str = "ivs:ad-configuration";
/// Store kind of failover slate configurations.
pub const KIND_FAILOVER_SLATE_CONFIGURATION: &str = "ivs:failover-slate-configuration";
/// Store kind of live streams (id: the channel id; present only while the channel is live).
pub const KIND_STREAM: &str = "ivs:stream";
/// Store kind of stream sessions (id: the stream id; parent: the channel ARN).
pub const KIND_STREAM_SESSION: &str = "ivs:stream-session";
/// Store kind of viewer-session revocations (id: `<channel id>/<viewer id>`; parent: the channel ARN).
pub const KIND_VIEWER_REVOCATION: &str = "ivs:viewer-session-revocation";
/// Store kind of timed metadata waiting to be inserted into a live stream (parent: the channel ARN).
pub const KIND_TIMED_METADATA: &str = "ivs:timed-metadata";
/// Store kind of ad breaks waiting to be inserted into a live stream (parent: the channel ARN).
pub const KIND_AD_BREAK: &str = "ivs:ad-break";

/// Index attribute: a channel's name.
pub const IDX_NAME: &str = "name";
/// Index attribute: a channel's recording configuration ARN (absent when none).
pub const IDX_RECORDING_CONFIGURATION: &str = "recordingConfigurationArn";
/// Index attribute: a channel's playback restriction policy ARN (absent when none).
pub const IDX_PLAYBACK_RESTRICTION_POLICY: &str = "playbackRestrictionPolicyArn";
/// Index attribute: a channel's ad configuration ARN (absent when none).
pub const IDX_AD_CONFIGURATION: &str = "adConfigurationArn";
/// Index attribute: a channel's failover slate configuration ARN (absent when none).
pub const IDX_FAILOVER_SLATE_CONFIGURATION: &str = "failoverSlateConfigurationArn";
/// Index attribute: a live stream's health (`HEALTHY`, `STARVING`, `UNKNOWN`).
pub const IDX_HEALTH: &str = "health";

/// A channel.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChannelV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Channel name ("" when not given).
    pub name: String,
    /// Latency mode.
    pub latency_mode: ChannelLatencyMode,
    /// Channel type.
    #[serde(rename = "type")]
    pub channel_type: ChannelType,
    /// Private channel (playback needs a token).
    pub authorized: bool,
    /// Plain RTMP and unencrypted SRT allowed.
    pub insecure_ingest: bool,
    /// Packaging format.
    pub container_format: ContainerFormat,
    /// Transcode preset, only on ADVANCED_* types.
    pub preset: Option<TranscodePreset>,
    /// Recording configuration ARN or "".
    pub recording_configuration_arn: String,
    /// Playback restriction policy ARN or "".
    pub playback_restriction_policy_arn: String,
    /// Ad configuration ARN or "".
    pub ad_configuration_arn: String,
    /// Failover slate configuration ARN or "".
    pub failover_slate_configuration_arn: String,
    /// Multitrack input configuration, with defaults filled in.
    pub multitrack_input_configuration: MultitrackInputConfiguration,
    /// SRT passphrase (disclosed only while `insecure_ingest` is off).
    pub srt_passphrase: Secret,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A stream key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamKeyV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel it streams to.
    pub channel_arn: String,
    /// The key.
    pub value: Secret,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A playback key pair (its public half).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackKeyV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name ("" when not given).
    pub name: String,
    /// Fingerprint (see `docs/ivs.md`).
    pub fingerprint: String,
    /// The public key, canonical PEM.
    pub public_key_pem: String,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A recording configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RecordingConfigurationV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name ("" when not given).
    pub name: String,
    /// Destination bucket on reelay's S3 endpoint.
    pub bucket_name: String,
    /// Reconnect window in seconds.
    pub recording_reconnect_window_seconds: i32,
    /// Thumbnail settings with defaults filled in.
    pub thumbnail_configuration: ThumbnailConfiguration,
    /// Rendition settings with defaults filled in.
    pub rendition_configuration: RenditionConfiguration,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A playback restriction policy.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PlaybackRestrictionPolicyV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name ("" when not given).
    pub name: String,
    /// ISO 3166-1 alpha-2 codes; empty means every country.
    pub allowed_countries: Vec<String>,
    /// Origins; empty means every origin.
    pub allowed_origins: Vec<String>,
    /// Whether every playback request must carry an allowed `Origin`.
    pub enable_strict_origin_enforcement: bool,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// An ad configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdConfigurationV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name ("" when not given).
    pub name: String,
    /// MediaTailor playback configuration ARNs (1–3), the first being the default.
    pub media_tailor_playback_configuration_arns: Vec<String>,
    /// Post-roll enabled.
    pub post_roll_enabled: bool,
    /// Post-roll duration.
    pub post_roll_duration_seconds: i32,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A failover slate configuration.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailoverSlateConfigurationV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// Name ("" when not given).
    pub name: String,
    /// Seconds of ingest interruption before the slate shows.
    pub activation_threshold_seconds: i32,
    /// Minimum display time.
    pub min_slate_display_seconds: i32,
    /// Maximum display time.
    pub max_slate_display_seconds: i32,
    /// Tags.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
}

/// A live stream, written by the live data plane while a channel is live.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel.
    pub channel_arn: String,
    /// `st-` + 23 alphanumerics.
    pub stream_id: String,
    /// When it went live, RFC 3339.
    pub start_time: String,
    /// Health.
    pub health: StreamHealth,
    /// Viewers, or -1 when the count timed out.
    pub viewer_count: i64,
    /// Set by `StopStream`; the live plane disconnects the publisher when it sees it.
    #[serde(default)]
    pub stop_requested: bool,
}

/// A stream session, written by the live data plane.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StreamSessionV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel.
    pub channel_arn: String,
    /// The stream id.
    pub stream_id: String,
    /// Start, RFC 3339.
    pub start_time: String,
    /// End, RFC 3339; `None` while live.
    #[serde(default)]
    pub end_time: Option<String>,
    /// Whether an error event occurred.
    #[serde(default)]
    pub has_error_event: bool,
    /// Encoder-reported input configuration.
    #[serde(default)]
    pub ingest_configuration: Option<IngestConfiguration>,
    /// Events, newest first, at most 500.
    #[serde(default)]
    pub truncated_events: Vec<StreamEvent>,
}

/// A viewer-session revocation: sessions of `viewer_id` whose version is at most
/// `versions_less_than_or_equal_to` are refused by playback.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ViewerRevocationV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel.
    pub channel_arn: String,
    /// The viewer.
    pub viewer_id: String,
    /// Highest revoked `aws:viewer-session-version`.
    pub versions_less_than_or_equal_to: i32,
    /// When the latest revocation was requested, RFC 3339.
    pub revoked_at: String,
}

/// Timed metadata accepted by `PutMetadata`, for the live plane to insert.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TimedMetadataV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel.
    pub channel_arn: String,
    /// The stream it was accepted for.
    pub stream_id: String,
    /// The payload (at most 1 KiB).
    pub metadata: String,
    /// When it was accepted, RFC 3339.
    pub inserted_at: String,
}

/// An ad break accepted by `InsertAdBreak`, for the live plane to insert.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdBreakV1 {
    /// Always [`SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The channel.
    pub channel_arn: String,
    /// The stream it was accepted for.
    pub stream_id: String,
    /// Ad break id.
    pub ad_break_id: String,
    /// Duration.
    pub duration_seconds: i32,
    /// Target start, RFC 3339.
    pub target_start_at: String,
}
