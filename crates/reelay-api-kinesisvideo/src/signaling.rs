//! The `kinesis-video-signaling` service: ICE servers and the Alexa offer relay.

use crate::endpoints::parse_ice_server;
use crate::kvs::Kvs;
use crate::limits::ICE_SERVER_TTL_SECONDS;
use reelay_api_common::scope;
use reelay_aws::generated::kinesis_video_signaling::types::*;
use reelay_aws::generated::kinesis_video_signaling::{MODEL, Op, errors};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceId, ServiceModel, from_input};
use serde_json::Value;
use std::sync::Arc;

/// The `kinesis-video-signaling` handler set.
pub(crate) struct SignalingService(pub Arc<Kvs>);

impl SignalingService {
    async fn channel(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<crate::records::ChannelDoc, ApiError> {
        self.0
            .find_channel(&scope(ctx), None, Some(arn))
            .await
            .map_err(|e| {
                ApiError::internal(
                    ServiceId::KinesisVideoSignaling,
                    format!("storage failure: {e}"),
                )
            })?
            .map(|(_, doc)| doc)
            .ok_or_else(|| {
                ApiError::new(
                    errors::RESOURCE_NOT_FOUND_EXCEPTION,
                    format!("The signaling channel {arn} does not exist"),
                )
            })
    }

    async fn get_ice_server_config(
        &self,
        ctx: &RequestContext,
        req: GetIceServerConfigRequest,
    ) -> Result<Output, ApiError> {
        self.channel(ctx, &req.channel_arn).await?;
        // The servers come from the `--ice-server` flag; reelay runs no TURN server itself, so
        // the credentials are the static ones configured there (see docs/kinesisvideo.md).
        let list = self
            .0
            .deps
            .endpoints
            .ice_servers
            .iter()
            .map(|flag| {
                let s = parse_ice_server(flag);
                let has_credentials = s.username.is_some() || s.password.is_some();
                IceServer {
                    password: s.password.map(|p| p.expose().to_string()),
                    ttl: has_credentials.then_some(ICE_SERVER_TTL_SECONDS),
                    uris: Some(vec![s.uri]),
                    username: s.username,
                }
            })
            .collect();
        Output::json(&GetIceServerConfigResponse {
            ice_server_list: Some(list),
        })
    }

    async fn send_alexa_offer(
        &self,
        ctx: &RequestContext,
        req: SendAlexaOfferToMasterRequest,
    ) -> Result<Output, ApiError> {
        let doc = self.channel(ctx, &req.channel_arn).await?;
        // An offer is relayed to the master connected to the channel's signaling WebSocket.
        // reelay does not serve that WebSocket yet, so no master can be connected, and AWS
        // answers a channel without a master with ResourceNotFound.
        Err(ApiError::new(
            errors::RESOURCE_NOT_FOUND_EXCEPTION,
            format!(
                "No master is connected to the signaling channel {}",
                doc.name
            ),
        ))
    }
}

#[async_trait::async_trait]
impl Service for SignalingService {
    fn model(&self) -> &'static ServiceModel {
        &MODEL
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
        match Op::from_index(op) {
            Some(Op::GetIceServerConfig) => {
                self.get_ice_server_config(ctx, from_input(&MODEL, input)?)
                    .await
            }
            Some(Op::SendAlexaOfferToMaster) => {
                self.send_alexa_offer(ctx, from_input(&MODEL, input)?).await
            }
            None => Err(ApiError::not_implemented(MODEL.botocore_name, "?")),
        }
    }
}
