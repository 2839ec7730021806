//! Streams, stream sessions, timed metadata, ad breaks and viewer-session revocation.
//!
//! Streams and sessions are written by the live data plane (records `ivs:stream` and
//! `ivs:stream-session`); until a channel is live these operations answer as AWS does for an
//! idle channel: `ChannelNotBroadcasting` for the live-only operations, an empty list or
//! `ResourceNotFoundException` for sessions.

use crate::channels::{channel_json, playback_url};
use crate::common::*;
use crate::configs::{stored_failover_slate, stored_recording_configuration};
use crate::records::*;
use reelay_aws::generated::ivs::types::*;
use reelay_aws::{ApiError, Output, Timestamp};
use reelay_store::{Filter, NewRecord, StoreError, Update};
use serde_json::Value;
use std::collections::BTreeMap;

/// PutMetadata documentation: "Maximum: 1 KB per request".
const MAX_METADATA_BYTES: usize = 1024;
/// How many session pages `GetStreamSession` scans for the latest session of an idle channel.
const MAX_SESSION_SCAN_PAGES: usize = 10;

fn ts(s: &str) -> Option<Timestamp> {
    Timestamp::parse_rfc3339(s)
}

// --- Viewer-session revocation --------------------------------------------------------------

/// Record that sessions of `viewer_id` on the channel with versions up to `version` are revoked.
/// A later call with a lower version never narrows an earlier revocation.
async fn revoke(
    call: &Call<'_>,
    channel_arn: &str,
    viewer_id: &str,
    version: i32,
) -> Result<(), ApiError> {
    let ch = call.load::<Value>(Kind::Channel, channel_arn).await?;
    let id = format!("{}/{viewer_id}", ch.rec.id);
    for _ in 0..WRITE_ATTEMPTS {
        let now = call.now_rfc3339();
        let res = match call
            .get_raw::<ViewerRevocationV1>(KIND_VIEWER_REVOCATION, &id)
            .await?
        {
            Some(cur) => {
                let body = ViewerRevocationV1 {
                    versions_less_than_or_equal_to: cur
                        .body
                        .versions_less_than_or_equal_to
                        .max(version),
                    revoked_at: now,
                    ..cur.body
                };
                let update = Update {
                    body: encode(&body)?,
                    index: BTreeMap::new(),
                    parent: Some(ch.rec.arn.clone()),
                    schema_version: SCHEMA_VERSION,
                };
                call.store()
                    .update(
                        &call.scope,
                        KIND_VIEWER_REVOCATION,
                        &id,
                        Some(cur.rec.version),
                        update,
                    )
                    .await
                    .map(|_| ())
            }
            None => {
                let body = ViewerRevocationV1 {
                    schema_version: SCHEMA_VERSION,
                    channel_arn: ch.rec.arn.clone(),
                    viewer_id: viewer_id.to_string(),
                    versions_less_than_or_equal_to: version,
                    revoked_at: now,
                };
                let rec = NewRecord {
                    kind: KIND_VIEWER_REVOCATION.into(),
                    id: id.clone(),
                    arn: reelay_api_common::arn(
                        "ivs",
                        call.ctx,
                        &format!("viewer-session-revocation/{id}"),
                    ),
                    parent: Some(ch.rec.arn.clone()),
                    index: BTreeMap::new(),
                    body: encode(&body)?,
                    schema_version: SCHEMA_VERSION,
                    tags: BTreeMap::new(),
                };
                call.store().insert(&call.scope, rec).await.map(|_| ())
            }
        };
        match res {
            Ok(()) => return Ok(()),
            Err(
                StoreError::AlreadyExists
                | StoreError::VersionMismatch { .. }
                | StoreError::NotFound,
            ) => continue,
            Err(e) => return Err(store_err(e, "viewer session revocation")),
        }
    }
    Err(conflict(
        "the viewer session revocation was modified concurrently; try again",
    ))
}

pub(crate) async fn start_viewer_session_revocation(
    call: &Call<'_>,
    req: StartViewerSessionRevocationRequest,
) -> Result<Output, ApiError> {
    // Model doc: viewerSessionVersionsLessThanOrEqualTo "Default: 0".
    let version = req
        .viewer_session_versions_less_than_or_equal_to
        .unwrap_or(0);
    revoke(call, &req.channel_arn, &req.viewer_id, version).await?;
    Output::json(&StartViewerSessionRevocationResponse {})
}

pub(crate) async fn batch_start_viewer_session_revocation(
    call: &Call<'_>,
    req: BatchStartViewerSessionRevocationRequest,
) -> Result<Output, ApiError> {
    let mut errors = Vec::new();
    for s in &req.viewer_sessions {
        let version = s.viewer_session_versions_less_than_or_equal_to.unwrap_or(0);
        match revoke(call, &s.channel_arn, &s.viewer_id, version).await {
            Ok(()) => {}
            // Per-item failures are reported with the HTTP status as the code, as the awscli
            // example shows ("code": "403"); server faults fail the whole call.
            Err(e) if e.status < 500 => errors.push(BatchStartViewerSessionRevocationError {
                channel_arn: s.channel_arn.clone(),
                code: Some(e.status.to_string()),
                message: Some(e.message),
                viewer_id: s.viewer_id.clone(),
            }),
            Err(e) => return Err(e),
        }
    }
    Output::json(&BatchStartViewerSessionRevocationResponse {
        errors: Some(errors),
        ..Default::default()
    })
}

// --- Streams --------------------------------------------------------------------------------

async fn live_stream(
    call: &Call<'_>,
    channel_arn: &str,
) -> Result<(String, Loaded<StreamV1>), ApiError> {
    let ch = call.load::<Value>(Kind::Channel, channel_arn).await?;
    match call.get_raw::<StreamV1>(KIND_STREAM, &ch.rec.id).await? {
        Some(s) => Ok((ch.rec.id, s)),
        None => Err(not_broadcasting(channel_arn)),
    }
}

pub(crate) async fn get_stream(call: &Call<'_>, req: GetStreamRequest) -> Result<Output, ApiError> {
    let (_, s) = live_stream(call, &req.channel_arn).await?;
    let stream = Stream {
        channel_arn: Some(s.body.channel_arn.clone()),
        health: Some(s.body.health),
        playback_url: Some(playback_url(call, &s.body.channel_arn)),
        start_time: ts(&s.body.start_time),
        state: Some(StreamState::Live),
        stream_id: Some(s.body.stream_id.clone()),
        viewer_count: Some(s.body.viewer_count),
    };
    Output::json(&GetStreamResponse {
        stream: Some(stream),
    })
}

pub(crate) async fn list_streams(
    call: &Call<'_>,
    req: ListStreamsRequest,
) -> Result<Output, ApiError> {
    let filters = req
        .filter_by
        .and_then(|f| f.health)
        .map(|h| {
            vec![Filter::Eq {
                key: IDX_HEALTH.into(),
                value: h.as_str().into(),
            }]
        })
        .unwrap_or_default();
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<StreamV1>(KIND_STREAM, None, filters, limit, req.next_token)
        .await?;
    let streams = items
        .iter()
        .map(|s| StreamSummary {
            channel_arn: Some(s.body.channel_arn.clone()),
            health: Some(s.body.health),
            start_time: ts(&s.body.start_time),
            state: Some(StreamState::Live),
            stream_id: Some(s.body.stream_id.clone()),
            viewer_count: Some(s.body.viewer_count),
        })
        .collect();
    Output::json(&ListStreamsResponse {
        streams,
        next_token: next,
    })
}

pub(crate) async fn stop_stream(
    call: &Call<'_>,
    req: StopStreamRequest,
) -> Result<Output, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let (id, s) = live_stream(call, &req.channel_arn).await?;
        if s.body.stop_requested {
            crate::live_signal::stop_requested(&s.body.stream_id);
            return Output::json(&StopStreamResponse {});
        }
        // The live plane owns the connection: it disconnects the publisher when it sees the flag
        // (the in-process hint below at once; the record at its slow store poll otherwise).
        let stream_id = s.body.stream_id.clone();
        let body = StreamV1 {
            stop_requested: true,
            ..s.body
        };
        let update = Update {
            body: encode(&body)?,
            index: s.rec.index.clone(),
            parent: s.rec.parent.clone(),
            schema_version: SCHEMA_VERSION,
        };
        match call
            .store()
            .update(&call.scope, KIND_STREAM, &id, Some(s.rec.version), update)
            .await
        {
            Ok(_) => {
                crate::live_signal::stop_requested(&stream_id);
                return Output::json(&StopStreamResponse {});
            }
            Err(StoreError::VersionMismatch { .. }) => continue,
            // The stream ended between the read and the write.
            Err(StoreError::NotFound) => return Err(not_broadcasting(&req.channel_arn)),
            Err(e) => return Err(store_err(e, "stream")),
        }
    }
    Err(ApiError::new(
        reelay_aws::generated::ivs::errors::STREAM_UNAVAILABLE,
        "the stream is changing state; try again",
    ))
}

/// Insert a record for the live plane to consume, keyed under the channel by time.
async fn queue_for_live_plane<T: serde::Serialize>(
    call: &Call<'_>,
    kind: &str,
    channel_id: &str,
    channel_arn: &str,
    body: &T,
) -> Result<(), ApiError> {
    let millis = call.now().unix_timestamp_nanos() / 1_000_000;
    let id = format!("{channel_id}/{millis:015}-{}", new_id());
    let rec = NewRecord {
        kind: kind.into(),
        id: id.clone(),
        arn: reelay_api_common::arn(
            "ivs",
            call.ctx,
            &format!("{}/{id}", kind.trim_start_matches("ivs:")),
        ),
        parent: Some(channel_arn.to_string()),
        index: BTreeMap::new(),
        body: encode(body)?,
        schema_version: SCHEMA_VERSION,
        tags: BTreeMap::new(),
    };
    call.store()
        .insert(&call.scope, rec)
        .await
        .map_err(|e| store_err(e, kind))?;
    Ok(())
}

pub(crate) async fn put_metadata(
    call: &Call<'_>,
    req: PutMetadataRequest,
) -> Result<Output, ApiError> {
    if req.metadata.len() > MAX_METADATA_BYTES {
        return Err(validation(format!(
            "metadata must be at most {MAX_METADATA_BYTES} bytes"
        )));
    }
    let (id, s) = live_stream(call, &req.channel_arn).await?;
    // ivs.md §2: 5 TPS per channel, answered 429 beyond.
    let now_ms = call.now().unix_timestamp_nanos() / 1_000_000;
    if !crate::live_signal::admit_metadata_call(&s.body.channel_arn, now_ms) {
        return Err(ApiError::new(
            reelay_aws::generated::ivs::errors::THROTTLING_EXCEPTION,
            format!(
                "at most {} PutMetadata calls per second per channel",
                crate::live_signal::METADATA_CALLS_PER_SECOND
            ),
        ));
    }
    let body = TimedMetadataV1 {
        schema_version: SCHEMA_VERSION,
        channel_arn: s.body.channel_arn.clone(),
        stream_id: s.body.stream_id.clone(),
        metadata: req.metadata,
        inserted_at: call.now_rfc3339(),
    };
    queue_for_live_plane(call, KIND_TIMED_METADATA, &id, &s.body.channel_arn, &body).await?;
    crate::live_signal::metadata_queued(&s.body.channel_arn);
    Ok(Output::empty())
}

pub(crate) async fn insert_ad_break(
    call: &Call<'_>,
    req: InsertAdBreakRequest,
) -> Result<Output, ApiError> {
    let ch = call
        .load::<ChannelV1>(Kind::Channel, &req.channel_arn)
        .await?;
    if ch.body.ad_configuration_arn.is_empty() {
        return Err(validation(format!(
            "channel has no ad configuration: {}",
            req.channel_arn
        )));
    }
    let Some(s) = call.get_raw::<StreamV1>(KIND_STREAM, &ch.rec.id).await? else {
        return Err(not_broadcasting(&req.channel_arn));
    };
    let ad_break_id = req.ad_break_id.unwrap_or_else(new_id);
    let target = req.target_start_at.unwrap_or(Timestamp(call.now()));
    let body = AdBreakV1 {
        schema_version: SCHEMA_VERSION,
        channel_arn: ch.rec.arn.clone(),
        stream_id: s.body.stream_id.clone(),
        ad_break_id: ad_break_id.clone(),
        duration_seconds: req.duration_seconds,
        target_start_at: target.to_rfc3339(),
    };
    queue_for_live_plane(call, KIND_AD_BREAK, &ch.rec.id, &ch.rec.arn, &body).await?;
    Output::json(&InsertAdBreakResponse {
        ad_break_id: Some(ad_break_id),
        target_start_at: Some(target),
    })
}

// --- Stream sessions ------------------------------------------------------------------------

/// The latest session of a channel: the live one, else the one that started last.
async fn latest_session(
    call: &Call<'_>,
    channel_id: &str,
    channel_arn: &str,
) -> Result<Option<Loaded<StreamSessionV1>>, ApiError> {
    if let Some(s) = call.get_raw::<StreamV1>(KIND_STREAM, channel_id).await?
        && let Some(sess) = call
            .get_raw::<StreamSessionV1>(KIND_STREAM_SESSION, &s.body.stream_id)
            .await?
    {
        return Ok(Some(sess));
    }
    let mut best: Option<Loaded<StreamSessionV1>> = None;
    let mut page_token = None;
    for _ in 0..MAX_SESSION_SCAN_PAGES {
        let (items, next) = call
            .list::<StreamSessionV1>(
                KIND_STREAM_SESSION,
                Some(channel_arn.to_string()),
                Vec::new(),
                100,
                page_token,
            )
            .await?;
        for it in items {
            if best
                .as_ref()
                .is_none_or(|b| ts(&it.body.start_time) > ts(&b.body.start_time))
            {
                best = Some(it);
            }
        }
        match next {
            Some(n) => page_token = Some(n),
            None => break,
        }
    }
    Ok(best)
}

pub(crate) async fn get_stream_session(
    call: &Call<'_>,
    req: GetStreamSessionRequest,
) -> Result<Output, ApiError> {
    let ch = call
        .load::<ChannelV1>(Kind::Channel, &req.channel_arn)
        .await?;
    let session = match &req.stream_id {
        Some(id) => call
            .get_raw::<StreamSessionV1>(KIND_STREAM_SESSION, id)
            .await?
            .filter(|s| s.rec.parent.as_deref() == Some(ch.rec.arn.as_str())),
        None => latest_session(call, &ch.rec.id, &ch.rec.arn).await?,
    };
    let Some(s) = session else {
        return Err(ApiError::new(
            reelay_aws::generated::ivs::errors::RESOURCE_NOT_FOUND_EXCEPTION,
            format!("no stream session found for channel {}", req.channel_arn),
        ));
    };
    let recording_configuration = match ch.body.recording_configuration_arn.as_str() {
        "" => None,
        arn => call
            .find::<RecordingConfigurationV1>(Kind::RecordingConfiguration, arn)
            .await?
            .map(|rc| stored_recording_configuration(&rc.rec.arn, &rc.body)),
    };
    let failover_slate_configuration = match ch.body.failover_slate_configuration_arn.as_str() {
        "" => None,
        arn => call
            .find::<FailoverSlateConfigurationV1>(Kind::FailoverSlateConfiguration, arn)
            .await?
            .map(|f| stored_failover_slate(&f.rec.arn, &f.body)),
    };
    // Without multitrack input both members carry the same single track (model doc).
    let ingest_configurations =
        s.body
            .ingest_configuration
            .as_ref()
            .map(|ic| IngestConfigurations {
                audio_configurations: ic.audio.clone().into_iter().collect(),
                video_configurations: ic.video.clone().into_iter().collect(),
            });
    let session = StreamSession {
        channel: None,
        end_time: s.body.end_time.as_deref().and_then(ts),
        failover_slate_configuration,
        ingest_configuration: s.body.ingest_configuration.clone(),
        ingest_configurations,
        recording_configuration,
        start_time: ts(&s.body.start_time),
        stream_id: Some(s.body.stream_id.clone()),
        truncated_events: Some(s.body.truncated_events.clone()),
    };
    let mut v = encode(&session)?;
    v["channel"] = channel_json(call, &ch.rec.arn, &ch.body)?;
    Ok(Output::Json(serde_json::json!({ "streamSession": v })))
}

pub(crate) async fn list_stream_sessions(
    call: &Call<'_>,
    req: ListStreamSessionsRequest,
) -> Result<Output, ApiError> {
    let ch = call.load::<Value>(Kind::Channel, &req.channel_arn).await?;
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<StreamSessionV1>(
            KIND_STREAM_SESSION,
            Some(ch.rec.arn.clone()),
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let stream_sessions = items
        .iter()
        .map(|s| StreamSessionSummary {
            end_time: s.body.end_time.as_deref().and_then(ts),
            has_error_event: Some(s.body.has_error_event),
            start_time: ts(&s.body.start_time),
            stream_id: Some(s.body.stream_id.clone()),
        })
        .collect();
    Output::json(&ListStreamSessionsResponse {
        stream_sessions,
        next_token: next,
    })
}
