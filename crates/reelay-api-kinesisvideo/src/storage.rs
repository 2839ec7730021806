//! The `kinesis-video-webrtc-storage` service: joining a channel's storage session.

use crate::kvs::Kvs;
use crate::records::{ChannelDoc, STREAM_KIND};
use reelay_api_common::scope;
use reelay_aws::generated::kinesis_video_webrtc_storage::types::*;
use reelay_aws::generated::kinesis_video_webrtc_storage::{MODEL, Op, errors};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceId, ServiceModel, from_input};
use serde_json::Value;
use std::sync::Arc;

/// The `kinesis-video-webrtc-storage` handler set.
pub(crate) struct WebrtcStorageService(pub Arc<Kvs>);

fn storage_failure(e: impl std::fmt::Display) -> ApiError {
    ApiError::internal(
        ServiceId::KinesisVideoWebrtcStorage,
        format!("storage failure: {e}"),
    )
}

impl WebrtcStorageService {
    /// The channel must exist, have media storage ENABLED, and its stream must exist.
    async fn storage_channel(
        &self,
        ctx: &RequestContext,
        arn: &str,
    ) -> Result<ChannelDoc, ApiError> {
        let scope = scope(ctx);
        let (_, doc) = self
            .0
            .find_channel(&scope, None, Some(arn))
            .await
            .map_err(storage_failure)?
            .ok_or_else(|| {
                ApiError::new(
                    errors::RESOURCE_NOT_FOUND_EXCEPTION,
                    format!("The signaling channel {arn} does not exist"),
                )
            })?;
        let stream_arn = match &doc.media_storage {
            Some(m) if doc.storage_enabled() => m.stream_arn.clone(),
            _ => None,
        };
        let Some(stream_arn) = stream_arn else {
            return Err(ApiError::new(
                errors::INVALID_ARGUMENT_EXCEPTION,
                format!(
                    "The signaling channel {} has no ENABLED media storage configuration",
                    doc.name
                ),
            ));
        };
        let stream = self
            .0
            .deps
            .store
            .get_by_arn(&scope, &stream_arn)
            .await
            .map_err(storage_failure)?;
        if stream.is_none_or(|r| r.kind != STREAM_KIND) {
            return Err(ApiError::new(
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
                format!(
                    "The stream {stream_arn} that stores the media of {} does not exist",
                    doc.name
                ),
            ));
        }
        Ok(doc)
    }
}

#[async_trait::async_trait]
impl Service for WebrtcStorageService {
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
        // Both operations only validate today: the storage session itself (the SDP offer sent
        // to the master over the signaling WebSocket, and WebRTC ingest) belongs to the
        // WebRTC issue. AWS answers 200 with no body once the session is requested.
        match Op::from_index(op) {
            Some(Op::JoinStorageSession) => {
                let req: JoinStorageSessionInput = from_input(&MODEL, input)?;
                self.storage_channel(ctx, &req.channel_arn).await?;
                Ok(Output::empty())
            }
            Some(Op::JoinStorageSessionAsViewer) => {
                let req: JoinStorageSessionAsViewerInput = from_input(&MODEL, input)?;
                self.storage_channel(ctx, &req.channel_arn).await?;
                Ok(Output::empty())
            }
            None => Err(ApiError::not_implemented(MODEL.botocore_name, "?")),
        }
    }
}
