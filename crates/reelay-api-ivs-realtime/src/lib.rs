//! Handlers of the `ivs-realtime` API (Amazon IVS Real-Time streaming, API version
//! 2020-07-14): stages and participant tokens, public keys, encoder / storage / ingest
//! configurations, server-side compositions, participant replication, sessions, participants
//! and their events, and tags.
//!
//! Everything lives in the metadata store (see [`records`]); time comes from the injectable
//! clock, and composition lifecycles are derived from stored timestamps at read time, so the
//! service keeps no in-memory state. The media side of reelay (WHIP, RTMP into stages)
//! builds on the public items here: [`verify_participant_token`] to admit a participant,
//! [`find_ingest_configuration_by_stream_key`] to admit an RTMP publisher,
//! [`stage_endpoints`] for the URLs stages advertise, and the record kinds to report
//! sessions, participants and events.

mod composition;
mod encoder;
mod ingest;
pub mod limits;
mod public_key;
pub mod records;
mod replication;
mod session;
mod stage;
mod storage;
mod tags;
mod token;
mod util;

pub use ingest::{StreamKey, find_by_stream_key as find_ingest_configuration_by_stream_key};
pub use stage::{EVENTS_PATH, WHIP_PATH, endpoints as stage_endpoints};
pub use token::{
    Capabilities, ParticipantClaims, TokenRejection, unverified_claims, verify_participant_token,
};

use reelay_api_common::Deps;
use reelay_aws::generated::ivs_realtime::{MODEL, Op};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceModel, from_input};
use serde_json::Value;
use std::sync::Arc;
use util::Call;

/// The handler sets this crate provides, one per botocore service model.
pub fn services(deps: &Deps) -> Vec<Arc<dyn Service>> {
    vec![Arc::new(IvsRealtimeService { deps: deps.clone() })]
}

/// The `ivs-realtime` handlers.
pub struct IvsRealtimeService {
    deps: Deps,
}

impl IvsRealtimeService {
    /// A service over these dependencies.
    pub fn new(deps: Deps) -> Self {
        IvsRealtimeService { deps }
    }
}

/// Decode the input, run the handler, encode its answer.
macro_rules! handle {
    ($input:expr, $call:expr, $f:path) => {{
        let req = from_input(&MODEL, $input)?;
        Output::json(&$f($call, req).await?)
    }};
}

#[async_trait::async_trait]
impl Service for IvsRealtimeService {
    fn model(&self) -> &'static ServiceModel {
        &MODEL
    }

    fn implements(&self, op: usize) -> bool {
        // Every operation of the model has a handler.
        Op::from_index(op).is_some()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: usize,
        input: Value,
    ) -> Result<Output, ApiError> {
        let call = &Call::new(&self.deps, ctx);
        let Some(op) = Op::from_index(op) else {
            let name = MODEL.operations.get(op).map_or("?", |o| o.name);
            return Err(ApiError::not_implemented(MODEL.botocore_name, name));
        };
        // Tags given at create time follow the same rules as TagResource.
        if let Some(Value::Object(tags)) = input.get("tags") {
            tags::check_reserved(tags.keys())?;
        }
        match op {
            Op::CreateStage => handle!(input, call, stage::create),
            Op::GetStage => handle!(input, call, stage::get),
            Op::ListStages => handle!(input, call, stage::list),
            Op::UpdateStage => handle!(input, call, stage::update),
            Op::DeleteStage => handle!(input, call, stage::delete),
            Op::CreateParticipantToken => handle!(input, call, stage::create_participant_token),
            Op::CreateEncoderConfiguration => handle!(input, call, encoder::create),
            Op::GetEncoderConfiguration => handle!(input, call, encoder::get),
            Op::ListEncoderConfigurations => handle!(input, call, encoder::list),
            Op::DeleteEncoderConfiguration => handle!(input, call, encoder::delete),
            Op::CreateStorageConfiguration => handle!(input, call, storage::create),
            Op::GetStorageConfiguration => handle!(input, call, storage::get),
            Op::ListStorageConfigurations => handle!(input, call, storage::list),
            Op::DeleteStorageConfiguration => handle!(input, call, storage::delete),
            Op::ImportPublicKey => handle!(input, call, public_key::import),
            Op::GetPublicKey => handle!(input, call, public_key::get),
            Op::ListPublicKeys => handle!(input, call, public_key::list),
            Op::DeletePublicKey => handle!(input, call, public_key::delete),
            Op::CreateIngestConfiguration => handle!(input, call, ingest::create),
            Op::GetIngestConfiguration => handle!(input, call, ingest::get),
            Op::ListIngestConfigurations => handle!(input, call, ingest::list),
            Op::UpdateIngestConfiguration => handle!(input, call, ingest::update),
            Op::DeleteIngestConfiguration => handle!(input, call, ingest::delete),
            Op::StartComposition => handle!(input, call, composition::start),
            Op::GetComposition => handle!(input, call, composition::get),
            Op::ListCompositions => handle!(input, call, composition::list),
            Op::StopComposition => handle!(input, call, composition::stop),
            Op::GetStageSession => handle!(input, call, session::get_stage_session),
            Op::ListStageSessions => handle!(input, call, session::list_stage_sessions),
            Op::GetParticipant => handle!(input, call, session::get_participant),
            Op::ListParticipants => handle!(input, call, session::list_participants),
            Op::ListParticipantEvents => handle!(input, call, session::list_participant_events),
            Op::DisconnectParticipant => handle!(input, call, session::disconnect_participant),
            Op::RevokeConnectionToken => handle!(input, call, session::revoke_connection_token),
            Op::StartParticipantReplication => handle!(input, call, replication::start),
            Op::StopParticipantReplication => handle!(input, call, replication::stop),
            Op::ListParticipantReplicas => handle!(input, call, replication::list),
            Op::TagResource => handle!(input, call, tags::tag),
            Op::UntagResource => handle!(input, call, tags::untag),
            Op::ListTagsForResource => handle!(input, call, tags::list),
        }
    }
}
