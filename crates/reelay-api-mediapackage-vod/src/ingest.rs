//! What the API handlers and the packaging engine (`reelay-vod`) share about ingest.
//!
//! The engine depends on this crate, never the reverse, so the contract between them lives here:
//!
//! - every asset has an **ingest state** record ([`KIND_INGEST`], id = asset id, same scope),
//!   inserted `QUEUED` in the `CreateAsset` transaction and moved by the engine to `PROCESSING`,
//!   then `PLAYABLE` or `FAILED` with a reason;
//! - every asset also gets an **ingest job** ([`KIND_JOB`]) in the engine's own scope
//!   ([`engine_scope`]), written *before* the asset. The store has no cross-scope listing, so this
//!   is how the engine finds work after a crash; a job whose asset does not exist (a failed or
//!   undone `CreateAsset`, a deleted asset) is dropped by the engine;
//! - the **sample index** of an ingested asset is kept in the store as chunks
//!   ([`KIND_INDEX_CHUNK`], parent = the asset's egress id), so a restart never re-parses a source;
//! - [`wake_engine`] tells a running engine that a job is waiting (the engine also rescans
//!   periodically, so a lost wake-up only delays work).
//!
//! Per-endpoint status is computed, not stored: it is the asset's ingest status, except that a
//! configuration the engine cannot package yet ([`unsupported_reason`]) is `FAILED`.

use reelay_store::Scope;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::OnceLock;
use tokio::sync::Notify;

/// Store kind of an asset's ingest state (id: the asset id).
pub const KIND_INGEST: &str = "mediapackage-vod:ingest";
/// Store kind of the engine's work queue, in [`engine_scope`].
pub const KIND_JOB: &str = "mediapackage-vod:ingest-job";
/// Store kind of a chunk of an asset's persisted sample index (parent: the asset's egress id).
pub const KIND_INDEX_CHUNK: &str = "mediapackage-vod:asset-index";

/// `EgressEndpoint.status` values (BC `EgressEndpoint.Status`).
pub mod status {
    /// Waiting for the engine.
    pub const QUEUED: &str = "QUEUED";
    /// Being ingested.
    pub const PROCESSING: &str = "PROCESSING";
    /// Ingested; the egress URL plays.
    pub const PLAYABLE: &str = "PLAYABLE";
    /// Ingest failed, or the configuration cannot be packaged.
    pub const FAILED: &str = "FAILED";
}

/// Schema version of [`IngestState`] and [`Job`] bodies.
pub const VERSION: u32 = 1;

/// Where the engine keeps the remuxed samples of an asset ingested from an `.m3u8` source:
/// `(bucket, key prefix)` = `reelay-mediapackage-vod-ingest-<account>`,
/// `<region>/<asset egress id>/`. Shared here so that `DeleteAsset` can remove them; the
/// egress id is never reused, so a re-created asset never reads stale samples.
pub fn sample_objects_location(
    account: &str,
    region: &str,
    asset_egress_id: &str,
) -> (String, String) {
    // Bucket names allow lowercase alphanumerics; account ids are digits already.
    let safe: String = account
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    (
        format!("reelay-mediapackage-vod-ingest-{safe}"),
        format!("{region}/{asset_egress_id}/"),
    )
}

/// The engine's private scope. No AWS account is `reelay`, so no API call can reach it.
pub fn engine_scope() -> Scope {
    Scope::new("reelay", "mediapackage-vod-engine")
}

/// The ingest state of an asset (schema version 1, frozen).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IngestState {
    /// Always [`VERSION`].
    pub schema_version: u32,
    /// The asset's egress id: tells this asset from an earlier one with the same id.
    pub asset_egress_id: String,
    /// One of [`status`].
    pub status: String,
    /// Why ingest failed (`FAILED` only).
    pub reason: Option<String>,
    /// Number of index chunks written ([`KIND_INDEX_CHUNK`]).
    pub index_chunks: u32,
    /// How many times the engine parsed the source (1 after a normal ingest).
    pub ingest_count: u32,
}

impl IngestState {
    /// The state of a newly created asset.
    pub fn queued(asset_egress_id: &str) -> Self {
        IngestState {
            schema_version: VERSION,
            asset_egress_id: asset_egress_id.to_string(),
            status: status::QUEUED.to_string(),
            reason: None,
            index_chunks: 0,
            ingest_count: 0,
        }
    }
}

/// One unit of engine work: ingest the asset `asset_id` of `account` in `region`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Always [`VERSION`].
    pub schema_version: u32,
    /// Account of the asset.
    pub account: String,
    /// Region of the asset.
    pub region: String,
    /// Asset id.
    pub asset_id: String,
    /// The asset's egress id (an asset re-created with the same id is another job).
    pub asset_egress_id: String,
}

impl Job {
    /// The job's record id in [`engine_scope`].
    pub fn record_id(&self) -> String {
        format!(
            "{}/{}/{}/{}",
            self.account, self.region, self.asset_id, self.asset_egress_id
        )
    }

    /// The job's (unique) ARN, which the store requires; never shown to users.
    pub fn record_arn(&self) -> String {
        format!(
            "arn:reelay:mediapackage-vod-engine:::job/{}",
            self.record_id()
        )
    }
}

fn notify() -> &'static Notify {
    static WAKE: OnceLock<Notify> = OnceLock::new();
    WAKE.get_or_init(Notify::new)
}

/// Wake every running engine: a job was queued.
pub fn wake_engine() {
    notify().notify_waiters();
}

/// What engines wait on; see [`wake_engine`].
pub fn engine_wakeups() -> &'static Notify {
    notify()
}

/// Why the engine cannot package this configuration yet, or `None` if it can.
///
/// Every package type (HLS over MPEG-TS, CMAF, DASH, Smooth Streaming) is packaged in the
/// clear; encrypted packages are later work, and their endpoints answer an explicit error
/// instead of content.
pub fn unsupported_reason(package_type: &str, package: &Value) -> Option<String> {
    match package_type {
        "HlsPackage" | "CmafPackage" | "DashPackage" | "MssPackage" => {
            if package.get("Encryption").is_some_and(|e| !e.is_null()) {
                Some(format!(
                    "encrypted {package_type} packaging is not implemented in this reelay release"
                ))
            } else {
                None
            }
        }
        other => Some(format!(
            "{other} packaging is not implemented in this reelay release"
        )),
    }
}

/// The status of an asset's egress endpoint for a configuration.
pub fn endpoint_status(state: Option<&IngestState>, package_type: &str, package: &Value) -> String {
    let Some(state) = state else {
        return status::QUEUED.to_string();
    };
    if state.status == status::PLAYABLE && unsupported_reason(package_type, package).is_some() {
        return status::FAILED.to_string();
    }
    state.status.clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn statuses() {
        let mut s = IngestState::queued("e");
        assert_eq!(
            endpoint_status(Some(&s), "HlsPackage", &json!({})),
            "QUEUED"
        );
        s.status = status::PLAYABLE.into();
        assert_eq!(
            endpoint_status(Some(&s), "HlsPackage", &json!({})),
            "PLAYABLE"
        );
        assert_eq!(
            endpoint_status(Some(&s), "DashPackage", &json!({})),
            "PLAYABLE"
        );
        assert_eq!(
            endpoint_status(Some(&s), "MssPackage", &json!({"Encryption": {}})),
            "FAILED"
        );
        assert_eq!(
            endpoint_status(Some(&s), "CmafPackage", &json!({})),
            "PLAYABLE"
        );
        assert_eq!(
            endpoint_status(Some(&s), "CmafPackage", &json!({"Encryption": {}})),
            "FAILED"
        );
        assert_eq!(
            endpoint_status(Some(&s), "HlsPackage", &json!({"Encryption": {}})),
            "FAILED"
        );
        assert_eq!(endpoint_status(None, "HlsPackage", &json!({})), "QUEUED");
        let j = Job {
            schema_version: VERSION,
            account: "1".into(),
            region: "r".into(),
            asset_id: "a".into(),
            asset_egress_id: "e".into(),
        };
        assert_eq!(j.record_id(), "1/r/a/e");
    }
}
