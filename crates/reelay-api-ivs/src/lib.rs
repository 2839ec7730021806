//! Handlers of the `ivs` API (Amazon IVS low-latency streaming, API version 2020-07-14).
//!
//! Every one of the 46 operations of the botocore 1.44.5 model is implemented over the metadata
//! store: channels with their stream keys, playback key pairs, recording configurations,
//! playback restriction policies, ad and failover slate configurations, viewer-session
//! revocations and tags. The live data plane (ingest, playback) is a separate component; the
//! stream operations read what it writes (see [`records`]) and answer as AWS does when nothing
//! is live. Behaviour notes, defaults and quotas are in `docs/ivs.md`.

mod channels;
mod common;
mod configs;
pub mod ingest;
mod keypairs;
pub mod live_signal;
pub mod records;
pub mod secret;
mod streams;
mod tags;

use common::Call;
use reelay_api_common::Deps;
use reelay_aws::generated::ivs::{self, Op};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceModel, from_input};
use serde_json::Value;
use std::sync::Arc;

/// Resource-count quotas, answered with `ServiceQuotaExceededException` (402) when reached.
///
/// The defaults follow the IVS service-quota page where it names a figure (channels, playback
/// key pairs, recording configurations); the others are reelay's choice. Each can be overridden
/// with an environment variable read by [`services`] (see [`Quotas::from_env`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quotas {
    /// Channels per account and region (`REELAY_IVS_QUOTA_CHANNELS`, default 5000).
    pub channels: u64,
    /// Playback key pairs (`REELAY_IVS_QUOTA_PLAYBACK_KEY_PAIRS`, default 3).
    pub playback_key_pairs: u64,
    /// Recording configurations (`REELAY_IVS_QUOTA_RECORDING_CONFIGURATIONS`, default 20).
    pub recording_configurations: u64,
    /// Playback restriction policies (`REELAY_IVS_QUOTA_PLAYBACK_RESTRICTION_POLICIES`, default 20).
    pub playback_restriction_policies: u64,
    /// Ad configurations (`REELAY_IVS_QUOTA_AD_CONFIGURATIONS`, default 20).
    pub ad_configurations: u64,
    /// Failover slate configurations (`REELAY_IVS_QUOTA_FAILOVER_SLATE_CONFIGURATIONS`, default 20).
    pub failover_slate_configurations: u64,
    /// Tags per resource (`REELAY_IVS_QUOTA_TAGS_PER_RESOURCE`, default 50, the AWS limit).
    pub tags_per_resource: usize,
}

impl Default for Quotas {
    fn default() -> Self {
        Quotas {
            channels: 5000,
            playback_key_pairs: 3,
            recording_configurations: 20,
            playback_restriction_policies: 20,
            ad_configurations: 20,
            failover_slate_configurations: 20,
            tags_per_resource: 50,
        }
    }
}

impl Quotas {
    /// The defaults, overridden by any `REELAY_IVS_QUOTA_*` variable that parses as a number.
    pub fn from_env() -> Quotas {
        Quotas::from_lookup(|name| std::env::var(name).ok())
    }

    /// The defaults, overridden by whatever `lookup` returns for the variable names.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Quotas {
        let d = Quotas::default();
        let get = |name: &str, default: u64| {
            lookup(name)
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(default)
        };
        Quotas {
            channels: get("REELAY_IVS_QUOTA_CHANNELS", d.channels),
            playback_key_pairs: get("REELAY_IVS_QUOTA_PLAYBACK_KEY_PAIRS", d.playback_key_pairs),
            recording_configurations: get(
                "REELAY_IVS_QUOTA_RECORDING_CONFIGURATIONS",
                d.recording_configurations,
            ),
            playback_restriction_policies: get(
                "REELAY_IVS_QUOTA_PLAYBACK_RESTRICTION_POLICIES",
                d.playback_restriction_policies,
            ),
            ad_configurations: get("REELAY_IVS_QUOTA_AD_CONFIGURATIONS", d.ad_configurations),
            failover_slate_configurations: get(
                "REELAY_IVS_QUOTA_FAILOVER_SLATE_CONFIGURATIONS",
                d.failover_slate_configurations,
            ),
            // The wire model caps one request at 50 tags; a larger quota only matters across requests.
            tags_per_resource: usize::try_from(get("REELAY_IVS_QUOTA_TAGS_PER_RESOURCE", 50))
                .unwrap_or(50),
        }
    }
}

/// The handler sets this crate provides: one, for the `ivs` model, with quotas from the
/// environment.
pub fn services(deps: &Deps) -> Vec<Arc<dyn Service>> {
    vec![Arc::new(IvsService::new(deps.clone(), Quotas::from_env()))]
}

/// The `ivs` handlers.
pub struct IvsService {
    deps: Deps,
    quotas: Quotas,
}

impl IvsService {
    /// A service over `deps` with these quotas.
    pub fn new(deps: Deps, quotas: Quotas) -> IvsService {
        IvsService { deps, quotas }
    }
}

/// Decode a request structure and run a handler on it.
macro_rules! op {
    ($call:expr, $input:expr, $handler:path) => {{
        let req = from_input(&ivs::MODEL, $input)?;
        $handler(&$call, req).await
    }};
}

#[async_trait::async_trait]
impl Service for IvsService {
    fn model(&self) -> &'static ServiceModel {
        &ivs::MODEL
    }

    fn implements(&self, op: usize) -> bool {
        Op::from_index(op).is_some()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: usize,
        input: Value,
    ) -> Result<Output, ApiError> {
        let call = Call::new(self, ctx);
        let Some(op) = Op::from_index(op) else {
            let name = ivs::MODEL.operations.get(op).map_or("?", |o| o.name);
            return Err(ApiError::not_implemented(ivs::MODEL.botocore_name, name));
        };
        match op {
            Op::CreateChannel => op!(call, input, channels::create_channel),
            Op::GetChannel => op!(call, input, channels::get_channel),
            Op::BatchGetChannel => op!(call, input, channels::batch_get_channel),
            Op::ListChannels => op!(call, input, channels::list_channels),
            Op::UpdateChannel => op!(call, input, channels::update_channel),
            Op::DeleteChannel => op!(call, input, channels::delete_channel),
            Op::CreateStreamKey => op!(call, input, channels::create_stream_key),
            Op::GetStreamKey => op!(call, input, channels::get_stream_key),
            Op::BatchGetStreamKey => op!(call, input, channels::batch_get_stream_key),
            Op::ListStreamKeys => op!(call, input, channels::list_stream_keys),
            Op::DeleteStreamKey => op!(call, input, channels::delete_stream_key),
            Op::ImportPlaybackKeyPair => op!(call, input, keypairs::import),
            Op::GetPlaybackKeyPair => op!(call, input, keypairs::get),
            Op::ListPlaybackKeyPairs => op!(call, input, keypairs::list),
            Op::DeletePlaybackKeyPair => op!(call, input, keypairs::delete),
            Op::CreateRecordingConfiguration => {
                op!(call, input, configs::create_recording_configuration)
            }
            Op::GetRecordingConfiguration => op!(call, input, configs::get_recording_configuration),
            Op::ListRecordingConfigurations => {
                op!(call, input, configs::list_recording_configurations)
            }
            Op::DeleteRecordingConfiguration => {
                op!(call, input, configs::delete_recording_configuration)
            }
            Op::CreatePlaybackRestrictionPolicy => {
                op!(call, input, configs::create_playback_restriction_policy)
            }
            Op::GetPlaybackRestrictionPolicy => {
                op!(call, input, configs::get_playback_restriction_policy)
            }
            Op::ListPlaybackRestrictionPolicies => {
                op!(call, input, configs::list_playback_restriction_policies)
            }
            Op::UpdatePlaybackRestrictionPolicy => {
                op!(call, input, configs::update_playback_restriction_policy)
            }
            Op::DeletePlaybackRestrictionPolicy => {
                op!(call, input, configs::delete_playback_restriction_policy)
            }
            Op::CreateAdConfiguration => op!(call, input, configs::create_ad_configuration),
            Op::GetAdConfiguration => op!(call, input, configs::get_ad_configuration),
            Op::ListAdConfigurations => op!(call, input, configs::list_ad_configurations),
            Op::UpdateAdConfiguration => op!(call, input, configs::update_ad_configuration),
            Op::DeleteAdConfiguration => op!(call, input, configs::delete_ad_configuration),
            Op::CreateFailoverSlateConfiguration => {
                op!(call, input, configs::create_failover_slate_configuration)
            }
            Op::GetFailoverSlateConfiguration => {
                op!(call, input, configs::get_failover_slate_configuration)
            }
            Op::ListFailoverSlateConfigurations => {
                op!(call, input, configs::list_failover_slate_configurations)
            }
            Op::UpdateFailoverSlateConfiguration => {
                op!(call, input, configs::update_failover_slate_configuration)
            }
            Op::DeleteFailoverSlateConfiguration => {
                op!(call, input, configs::delete_failover_slate_configuration)
            }
            Op::StartViewerSessionRevocation => {
                op!(call, input, streams::start_viewer_session_revocation)
            }
            Op::BatchStartViewerSessionRevocation => {
                op!(call, input, streams::batch_start_viewer_session_revocation)
            }
            Op::GetStream => op!(call, input, streams::get_stream),
            Op::ListStreams => op!(call, input, streams::list_streams),
            Op::StopStream => op!(call, input, streams::stop_stream),
            Op::PutMetadata => op!(call, input, streams::put_metadata),
            Op::InsertAdBreak => op!(call, input, streams::insert_ad_break),
            Op::GetStreamSession => op!(call, input, streams::get_stream_session),
            Op::ListStreamSessions => op!(call, input, streams::list_stream_sessions),
            Op::TagResource => op!(call, input, tags::tag_resource),
            Op::UntagResource => op!(call, input, tags::untag_resource),
            Op::ListTagsForResource => op!(call, input, tags::list_tags_for_resource),
        }
    }
}

#[cfg(test)]
mod tests;
