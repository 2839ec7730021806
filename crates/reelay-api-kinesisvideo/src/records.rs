//! The documents reelay stores for KVS resources, and how they render on the wire.
//!
//! Bodies are schema version 1 (`schema_version` is stored in the body and in the record).
//! Nested configurations reuse the generated model structures: they carry AWS member names,
//! and AWS only ever adds optional members to them, so old bodies keep decoding.

use crate::limits::ACTIVE_AFTER_MS;
use reelay_aws::Timestamp;
use reelay_aws::generated::kinesisvideo::types::{
    ChannelInfo, ChannelType, DefaultStorageTier, EdgeConfig, ImageGenerationConfiguration,
    MediaStorageConfiguration, NotificationConfiguration, SingleMasterConfiguration, Status,
    StreamInfo, SyncStatus,
};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Store kind of streams (record id = stream name).
pub(crate) const STREAM_KIND: &str = "kinesisvideo:stream";
/// Store kind of signaling channels (record id = channel name).
pub(crate) const CHANNEL_KIND: &str = "kinesisvideo:channel";
/// The body schema version written by this release.
pub(crate) const SCHEMA_VERSION: u32 = 1;
/// Index attribute of a stream that carries its edge configuration's hub device ARN.
pub(crate) const INDEX_HUB: &str = "hub";

/// Milliseconds since the epoch.
pub(crate) fn epoch_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// A wire timestamp from milliseconds since the epoch.
pub(crate) fn ts(ms: i64) -> Timestamp {
    Timestamp(
        OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH),
    )
}

/// Status of a resource created at `created_ms`: AWS creates asynchronously, reelay shows
/// CREATING for [`ACTIVE_AFTER_MS`] and ACTIVE afterwards.
pub(crate) fn status_at(created_ms: i64, now_ms: i64) -> Status {
    if now_ms.saturating_sub(created_ms) < ACTIVE_AFTER_MS {
        Status::Creating
    } else {
        Status::Active
    }
}

/// A stream (kind [`STREAM_KIND`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StreamDoc {
    pub schema_version: u32,
    pub name: String,
    pub arn: String,
    #[serde(default)]
    pub device_name: Option<String>,
    #[serde(default)]
    pub media_type: Option<String>,
    pub kms_key_id: String,
    pub data_retention_hours: i32,
    /// KVS `Version`: a random id regenerated on every change of the stream's own settings.
    pub version: String,
    pub created_ms: i64,
    pub storage_tier: DefaultStorageTier,
    #[serde(default)]
    pub image_generation: Option<ImageGenerationConfiguration>,
    #[serde(default)]
    pub notification: Option<NotificationConfiguration>,
    #[serde(default)]
    pub edge: Option<EdgeDoc>,
}

/// A stream's edge configuration and where its sync state machine stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct EdgeDoc {
    pub config: EdgeConfig,
    pub status: SyncStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
    #[serde(default)]
    pub failed_details: Option<String>,
}

/// An edge configuration as seen at one instant (the state machine advanced by time).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EdgeView {
    pub config: EdgeConfig,
    pub status: SyncStatus,
    pub created_ms: i64,
    pub updated_ms: i64,
    pub failed_details: Option<String>,
}

impl EdgeDoc {
    /// The state at `now_ms`; `None` once a deletion has completed.
    ///
    /// reelay has no edge agent, so nothing ever acknowledges a configuration: SYNCING turns
    /// into SYNC_FAILED after the 15 minutes AWS retries for, and DELETING completes after
    /// [`crate::limits::EDGE_DELETE_MS`] because no agent holds state that must be wiped first.
    pub fn view(&self, now_ms: i64) -> Option<EdgeView> {
        let mut v = EdgeView {
            config: self.config.clone(),
            status: self.status,
            created_ms: self.created_ms,
            updated_ms: self.updated_ms,
            failed_details: self.failed_details.clone(),
        };
        match self.status {
            SyncStatus::Syncing
                if now_ms.saturating_sub(self.updated_ms)
                    >= crate::limits::EDGE_SYNC_TIMEOUT_MS =>
            {
                v.status = SyncStatus::SyncFailed;
                v.updated_ms = self
                    .updated_ms
                    .saturating_add(crate::limits::EDGE_SYNC_TIMEOUT_MS);
                v.failed_details = Some(
                    "no edge agent acknowledged the configuration within 15 minutes (reelay has no edge agent)".into(),
                );
                Some(v)
            }
            SyncStatus::Deleting
                if now_ms.saturating_sub(self.updated_ms) >= crate::limits::EDGE_DELETE_MS =>
            {
                None
            }
            _ => Some(v),
        }
    }
}

impl StreamDoc {
    /// The `StreamInfo` of this stream at `now_ms`.
    pub fn info(&self, now_ms: i64) -> StreamInfo {
        StreamInfo {
            creation_time: Some(ts(self.created_ms)),
            data_retention_in_hours: Some(self.data_retention_hours),
            device_name: self.device_name.clone(),
            kms_key_id: Some(self.kms_key_id.clone()),
            media_type: self.media_type.clone(),
            status: Some(status_at(self.created_ms, now_ms)),
            stream_arn: Some(self.arn.clone()),
            stream_name: Some(self.name.clone()),
            version: Some(self.version.clone()),
        }
    }

    /// Index attributes: the hub device of a live edge configuration, for
    /// `ListEdgeAgentConfigurations`.
    pub fn index(&self, now_ms: i64) -> BTreeMap<String, String> {
        let mut idx = BTreeMap::new();
        if let Some(e) = self.edge.as_ref().and_then(|e| e.view(now_ms)) {
            idx.insert(INDEX_HUB.to_string(), e.config.hub_device_arn);
        }
        idx
    }
}

/// A signaling channel (kind [`CHANNEL_KIND`]). Its record's parent is the ARN of the stream
/// its media storage configuration names, so a stream can find (and protect) its channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct ChannelDoc {
    pub schema_version: u32,
    pub name: String,
    pub arn: String,
    pub channel_type: ChannelType,
    pub message_ttl_seconds: i32,
    pub version: String,
    pub created_ms: i64,
    #[serde(default)]
    pub media_storage: Option<MediaStorageConfiguration>,
}

impl ChannelDoc {
    /// The `ChannelInfo` of this channel at `now_ms`.
    pub fn info(&self, now_ms: i64) -> ChannelInfo {
        ChannelInfo {
            channel_arn: Some(self.arn.clone()),
            channel_name: Some(self.name.clone()),
            channel_status: Some(status_at(self.created_ms, now_ms)),
            channel_type: Some(self.channel_type),
            creation_time: Some(ts(self.created_ms)),
            single_master_configuration: Some(SingleMasterConfiguration {
                message_ttl_seconds: Some(self.message_ttl_seconds),
            }),
            version: Some(self.version.clone()),
        }
    }

    /// The record parent: the mapped stream's ARN.
    pub fn parent(&self) -> Option<String> {
        self.media_storage
            .as_ref()
            .and_then(|m| m.stream_arn.clone())
    }

    /// Whether WebRTC ingestion into a stream is switched on.
    pub fn storage_enabled(&self) -> bool {
        self.media_storage.as_ref().is_some_and(|m| {
            m.status == reelay_aws::generated::kinesisvideo::types::MediaStorageConfigurationStatus::Enabled
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_aws::generated::kinesisvideo::types::{MediaSourceConfig, RecorderConfig};

    fn edge(status: SyncStatus, updated_ms: i64) -> EdgeDoc {
        EdgeDoc {
            config: EdgeConfig {
                hub_device_arn: "arn:aws:iot:us-east-1:1:thing/t".into(),
                recorder_config: RecorderConfig {
                    media_source_config: MediaSourceConfig::default(),
                    schedule_config: None,
                },
                ..Default::default()
            },
            status,
            created_ms: 0,
            updated_ms,
            failed_details: None,
        }
    }

    #[test]
    fn edge_state_machine_advances_with_time() {
        let e = edge(SyncStatus::Syncing, 1000);
        assert_eq!(e.view(1000).map(|v| v.status), Some(SyncStatus::Syncing));
        let failed = e.view(1000 + 15 * 60 * 1000).expect("still present");
        assert_eq!(failed.status, SyncStatus::SyncFailed);
        assert_eq!(failed.updated_ms, 1000 + 15 * 60 * 1000);
        assert!(failed.failed_details.is_some());
        let d = edge(SyncStatus::Deleting, 1000);
        assert_eq!(d.view(1500).map(|v| v.status), Some(SyncStatus::Deleting));
        assert_eq!(d.view(2000), None);
    }

    #[test]
    fn status_turns_active_after_a_second() {
        assert_eq!(status_at(0, 999), Status::Creating);
        assert_eq!(status_at(0, 1000), Status::Active);
    }

    #[test]
    fn timestamps_keep_milliseconds() {
        assert_eq!(ts(1_700_000_000_123).epoch_seconds(), 1_700_000_000.123);
        assert_eq!(epoch_ms(ts(42).0), 42);
    }
}
