//! Handlers of the Kinesis Video Streams control plane.
//!
//! Three botocore services live here:
//! - `kinesisvideo`: all 32 operations (streams, signaling channels, image generation,
//!   notification, media storage, stream storage and edge configurations, tags, endpoints);
//! - `kinesis-video-signaling`: `GetIceServerConfig` and `SendAlexaOfferToMaster`;
//! - `kinesis-video-webrtc-storage`: `JoinStorageSession` and `JoinStorageSessionAsViewer`.
//!
//! `kinesis-video-media` and `kinesis-video-archived-media` (the media data plane) are served
//! elsewhere; `GetDataEndpoint` points their clients at reelay's own listener.
//!
//! All state is in the metadata store (streams and channels, named by their record ids), so
//! nothing needs clearing on reset and everything survives a restart. Time comes from
//! `deps.clock`; URLs from `deps.endpoints`.
//!
//! Behaviour where AWS is silent is written down in `docs/kinesisvideo.md`.

// Every handler returns the shared wire error `reelay_aws::ApiError`; its size is that
// crate's choice, and boxing it here would only add an allocation per error.
#![allow(clippy::result_large_err)]

mod endpoints;
mod kvs;
mod limits;
mod records;
mod signaling;
mod storage;

use reelay_api_common::Deps;
use reelay_aws::Service;
use std::sync::Arc;

pub use endpoints::{IceServerUri, TurnPassword, parse_ice_server};

/// Quotas that deployments (and tests) may lower or raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quotas {
    /// Streams per account and region (`AccountStreamLimitExceededException` beyond).
    pub max_streams: u64,
    /// Signaling channels per account and region (`AccountChannelLimitExceededException` beyond).
    pub max_channels: u64,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            max_streams: limits::DEFAULT_MAX_STREAMS,
            max_channels: limits::DEFAULT_MAX_CHANNELS,
        }
    }
}

impl Quotas {
    /// The defaults, overridden by `REELAY_KVS_MAX_STREAMS` / `REELAY_KVS_MAX_CHANNELS` when
    /// they hold a positive integer (the server has no dedicated flags for these quotas).
    pub fn from_env() -> Self {
        let read = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        let d = Quotas::default();
        Quotas {
            max_streams: read("REELAY_KVS_MAX_STREAMS", d.max_streams),
            max_channels: read("REELAY_KVS_MAX_CHANNELS", d.max_channels),
        }
    }
}

/// The handler sets this crate provides, one per botocore service model, with quotas from
/// the environment (see [`Quotas::from_env`]).
pub fn services(deps: &Deps) -> Vec<Arc<dyn Service>> {
    services_with_quotas(deps, Quotas::from_env())
}

/// Like [`services`], with explicit quotas.
pub fn services_with_quotas(deps: &Deps, quotas: Quotas) -> Vec<Arc<dyn Service>> {
    let core = Arc::new(kvs::Kvs {
        deps: deps.clone(),
        quotas,
    });
    vec![
        Arc::new(kvs::KinesisVideoService(core.clone())),
        Arc::new(signaling::SignalingService(core.clone())),
        Arc::new(storage::WebrtcStorageService(core)),
    ]
}

#[cfg(test)]
mod tests;
