//! What this crate keeps in the metadata store: one record kind per resource, each body a
//! frozen, versioned serde structure.
//!
//! Bodies carry `schema_version` (and the store row carries it too) so a later release can
//! migrate them: a new layout becomes `mod v2` next to `v1`, never an edit of `v1`.
//! Configuration sub-structures that are echoed back verbatim (layouts, destination
//! configurations, recording settings) are kept in the generated model types, whose wire
//! names are AWS's API and therefore stable; unknown members are ignored on read.
//!
//! The kinds of stage sessions, participants and participant events are public so that the
//! media side of reelay (WHIP, RTMP into stages) records what happens in the same shape the
//! API handlers read back.

/// Kind of a stage record (id = stage id, parent none).
pub const KIND_STAGE: &str = "ivs-realtime:stage";
/// Kind of an encoder configuration.
pub const KIND_ENCODER_CONFIGURATION: &str = "ivs-realtime:encoder-configuration";
/// Kind of a storage configuration.
pub const KIND_STORAGE_CONFIGURATION: &str = "ivs-realtime:storage-configuration";
/// Kind of an imported public key.
pub const KIND_PUBLIC_KEY: &str = "ivs-realtime:public-key";
/// Kind of an ingest configuration (index `stage` = stage ARN or "", `state`).
pub const KIND_INGEST_CONFIGURATION: &str = "ivs-realtime:ingest-configuration";
/// Kind of a composition (parent = stage ARN; index `enc:<arn>` / `sc:<arn>` / `ch:<arn>` = "1").
pub const KIND_COMPOSITION: &str = "ivs-realtime:composition";
/// Kind of an idempotency-token reservation of StartComposition (id = token).
pub const KIND_COMPOSITION_TOKEN: &str = "ivs-realtime:composition-token";
/// Kind of reelay's own participant-token signing key (id = [`SIGNING_KEY_ID`]).
pub const KIND_SIGNING_KEY: &str = "ivs-realtime:signing-key";
/// The id of the one signing key per account and region.
pub const SIGNING_KEY_ID: &str = "participant-token";
/// Kind of a revoked connection token (id = token id, the token's `jti`).
pub const KIND_REVOKED_TOKEN: &str = "ivs-realtime:revoked-token";
/// Kind of a participant removed by DisconnectParticipant (id = `<stageId>/<participantId>`).
pub const KIND_DISCONNECTION: &str = "ivs-realtime:disconnection";
/// Kind of a stage session (id = session id `st-…`, parent = stage ARN).
pub const KIND_SESSION: &str = "ivs-realtime:session";
/// Kind of a participant of a session (id = `<sessionId>/<participantId>`, parent = session id;
/// index `user_id`, `published` ("true"/"false"), `state`, `recording_state`).
pub const KIND_PARTICIPANT: &str = "ivs-realtime:participant";
/// Kind of a participant event (id = `<sessionId>/<participantId>/<20-digit sequence>`,
/// parent = `<sessionId>/<participantId>`).
pub const KIND_PARTICIPANT_EVENT: &str = "ivs-realtime:participant-event";
/// Kind of a participant replication (id = `<sourceStageId>/<participantId>/<destinationStageId>`,
/// parent = `<sourceStageArn>/<participantId>`).
pub const KIND_REPLICATION: &str = "ivs-realtime:replication";

/// Version 1 of every record body.
pub mod v1 {
    use reelay_aws::generated::ivs_realtime::types as t;
    use serde::{Deserialize, Serialize};
    use std::collections::BTreeMap;

    /// The schema version of the bodies in this module.
    pub const SCHEMA_VERSION: u32 = 1;

    /// A stage.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Stage {
        /// Always 1.
        pub schema_version: u32,
        /// Stage name ("" when not given).
        pub name: String,
        /// Individual participant recording, with every default filled in.
        pub auto_participant_recording_configuration:
            Option<t::AutoParticipantRecordingConfiguration>,
        /// Creation time, Unix milliseconds.
        pub created_ms: i64,
    }

    /// An encoder configuration.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct EncoderConfiguration {
        /// Always 1.
        pub schema_version: u32,
        /// Name.
        pub name: String,
        /// Width in pixels.
        pub width: i32,
        /// Height in pixels.
        pub height: i32,
        /// Frames per second.
        pub framerate: f64,
        /// Bits per second.
        pub bitrate: i32,
    }

    /// A storage configuration.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct StorageConfiguration {
        /// Always 1.
        pub schema_version: u32,
        /// Name.
        pub name: String,
        /// The bucket on reelay's S3 endpoint.
        pub bucket_name: String,
    }

    /// An imported public key.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct PublicKey {
        /// Always 1.
        pub schema_version: u32,
        /// Name.
        pub name: String,
        /// The PEM as imported.
        pub public_key_material: String,
        /// See `reelay_api_common::keys::P384PublicKey::fingerprint`.
        pub fingerprint: String,
    }

    /// An ingest configuration. The stream key secret is stored as issued: reelay must hand it
    /// back on GetIngestConfiguration, as AWS does.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct IngestConfiguration {
        /// Always 1.
        pub schema_version: u32,
        /// Name.
        pub name: String,
        /// Stage ARN or "".
        pub stage_arn: String,
        /// `RTMP` or `RTMPS`.
        pub ingest_protocol: String,
        /// Whether RTMP (without TLS) is allowed.
        pub insecure_ingest: bool,
        /// Redundant ingest.
        pub redundant_ingest: bool,
        /// The participant id the publisher gets.
        pub participant_id: String,
        /// The full stream key (`rt_<account>_<region>_<id>_<secret>`).
        pub stream_key: String,
        /// Redundant-ingest credentials: (participant id, stream key).
        #[serde(default)]
        pub redundant_credentials: Vec<(String, String)>,
        /// Customer user id.
        pub user_id: String,
        /// Attributes.
        pub attributes: BTreeMap<String, String>,
        /// `ACTIVE` while a publisher streams with it (set by the media side).
        pub state: String,
    }

    /// One destination of a composition.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Destination {
        /// Destination id.
        pub id: String,
        /// The configuration as accepted, defaults filled in.
        pub configuration: t::DestinationConfiguration,
        /// S3 prefix of the recording (S3 destinations).
        pub recording_prefix: Option<String>,
    }

    /// A composition. Its state is not stored: it is derived from these timestamps and the
    /// clock at read time (see `composition::derive`).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Composition {
        /// Always 1.
        pub schema_version: u32,
        /// The stage composed.
        pub stage_arn: String,
        /// Layout, defaults filled in.
        pub layout: t::LayoutConfiguration,
        /// Destinations.
        pub destinations: Vec<Destination>,
        /// The idempotency token it was started with.
        pub idempotency_token: Option<String>,
        /// Hash of the request, to refuse a reused token with other parameters.
        pub request_digest: String,
        /// Start time, Unix milliseconds.
        pub start_ms: i64,
        /// Since when no participant has published (None while someone publishes).
        pub idle_since_ms: Option<i64>,
        /// When StopComposition (or the stage's deletion) asked it to stop.
        pub stop_requested_ms: Option<i64>,
        /// When it failed (a destination became unusable).
        pub failed_ms: Option<i64>,
        /// Ids of the destinations that failed.
        #[serde(default)]
        pub failed_destinations: Vec<String>,
    }

    /// An idempotency-token reservation.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct CompositionToken {
        /// Always 1.
        pub schema_version: u32,
        /// The composition started with this token.
        pub composition_id: String,
    }

    /// reelay's participant-token signing key: a secret (see `token::SigningSecret`).
    #[derive(Clone, PartialEq, Serialize, Deserialize)]
    pub struct SigningKey {
        /// Always 1.
        pub schema_version: u32,
        /// The P-384 private scalar, big-endian hex.
        pub secret_hex: String,
        /// Key id put in the JWT header.
        pub kid: String,
    }

    impl std::fmt::Debug for SigningKey {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("SigningKey")
                .field("kid", &self.kid)
                .field("secret_hex", &"<redacted>")
                .finish()
        }
    }

    /// A revoked connection token.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct RevokedToken {
        /// Always 1.
        pub schema_version: u32,
        /// When, Unix milliseconds.
        pub revoked_ms: i64,
    }

    /// A participant removed from a stage by DisconnectParticipant; its tokens no longer join.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Disconnection {
        /// Always 1.
        pub schema_version: u32,
        /// The stage.
        pub stage_arn: String,
        /// The participant.
        pub participant_id: String,
        /// The reason given.
        pub reason: String,
        /// When, Unix milliseconds.
        pub disconnected_ms: i64,
    }

    /// A stage session (written by the media side when the first participant joins).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Session {
        /// Always 1.
        pub schema_version: u32,
        /// Start, Unix milliseconds.
        pub start_ms: i64,
        /// End, Unix milliseconds; None while active.
        pub end_ms: Option<i64>,
    }

    /// A participant of a session (written by the media side).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Participant {
        /// Always 1.
        pub schema_version: u32,
        /// Everything GetParticipant returns.
        pub participant: t::Participant,
    }

    /// A participant event (written by the media side).
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct ParticipantEvent {
        /// Always 1.
        pub schema_version: u32,
        /// The event as ListParticipantEvents returns it.
        pub event: t::Event,
    }

    /// A participant replication between two stages.
    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    pub struct Replication {
        /// Always 1.
        pub schema_version: u32,
        /// Source stage ARN.
        pub source_stage_arn: String,
        /// Destination stage ARN.
        pub destination_stage_arn: String,
        /// The replicated participant.
        pub participant_id: String,
        /// Attributes of the replica.
        pub attributes: BTreeMap<String, String>,
        /// Reconnect window, seconds.
        pub reconnect_window_seconds: i32,
        /// `ACTIVE` or `STOPPED`.
        pub state: String,
        /// Source session id ("" until the source stage has a session).
        pub source_session_id: String,
        /// Destination session id ("" until the destination stage has a session).
        pub destination_session_id: String,
        /// Start, Unix milliseconds.
        pub start_ms: i64,
    }
}
