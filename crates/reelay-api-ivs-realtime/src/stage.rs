//! Stages: CreateStage, GetStage, ListStages, UpdateStage, DeleteStage, and
//! CreateParticipantToken.

use crate::limits;
use crate::records::{self, v1};
use crate::token::{self, TokenRequest};
use crate::util::{self, Call, validation};
use reelay_api_common::Endpoints;
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery};
use std::collections::BTreeMap;

/// Path of the WHIP endpoint of a stage on reelay's HTTP listener: `<WHIP_PATH>/<stageId>`.
pub const WHIP_PATH: &str = "/ivs-realtime/whip";
/// Path of the events endpoint on reelay's HTTP listener (WebSocket).
pub const EVENTS_PATH: &str = "/ivs-realtime/events";

/// The endpoints of a stage, pointing at reelay's own listeners in AWS's shapes: `events` a
/// WebSocket URL, `whip` an HTTP(S) URL, `rtmp` / `rtmps` ingest bases ending in `/app/`
/// (`rtmps` only when reelay has an RTMPS listener).
pub fn endpoints(e: &Endpoints, stage_id: &str) -> t::StageEndpoints {
    let base = e.public_url.trim_end_matches('/');
    let ws = if let Some(rest) = base.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = base.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        base.to_string()
    };
    t::StageEndpoints {
        events: Some(format!("{ws}{EVENTS_PATH}")),
        whip: Some(format!("{base}{WHIP_PATH}/{stage_id}")),
        rtmp: Some(format!("{}/app/", e.rtmp.trim_end_matches('/'))),
        rtmps: e
            .rtmps
            .as_ref()
            .map(|r| format!("{}/app/", r.trim_end_matches('/'))),
    }
}

/// Fill the documented defaults of an individual-participant-recording configuration and
/// check what the model cannot express. `None` gives the configuration of a stage without
/// recording (`storageConfigurationArn: ""`), which AWS also returns.
async fn normalize_recording(
    call: &Call<'_>,
    cfg: Option<t::AutoParticipantRecordingConfiguration>,
) -> Result<t::AutoParticipantRecordingConfiguration, ApiError> {
    let mut cfg = cfg.unwrap_or_default();
    if !cfg.storage_configuration_arn.is_empty() {
        let found = call
            .try_fetch::<v1::StorageConfiguration>(
                records::KIND_STORAGE_CONFIGURATION,
                &cfg.storage_configuration_arn,
            )
            .await?;
        if found.is_none() {
            return Err(validation(format!(
                "storage configuration {} does not exist",
                cfg.storage_configuration_arn
            )));
        }
    }
    let media = cfg
        .media_types
        .take()
        .filter(|m| !m.is_empty())
        .unwrap_or(vec![t::ParticipantRecordingMediaType::AudioVideo]);
    let mut thumb = cfg.thumbnail_configuration.take().unwrap_or_default();
    let mode = *thumb
        .recording_mode
        .get_or_insert(t::ThumbnailRecordingMode::Disabled);
    if thumb.target_interval_seconds.is_some() && mode == t::ThumbnailRecordingMode::Disabled {
        return Err(validation(
            "thumbnailConfiguration.targetIntervalSeconds can be set only when recordingMode is INTERVAL",
        ));
    }
    thumb
        .target_interval_seconds
        .get_or_insert(limits::DEFAULT_THUMBNAIL_INTERVAL_SECONDS);
    let storage = thumb
        .storage
        .take()
        .filter(|s| !s.is_empty())
        .unwrap_or(vec![t::ThumbnailStorageType::Sequential]);
    if storage.len() == 2 && storage[0] == storage[1] {
        return Err(validation(
            "thumbnailConfiguration.storage must not repeat a value",
        ));
    }
    thumb.storage = Some(storage);
    if media == [t::ParticipantRecordingMediaType::None]
        && mode == t::ThumbnailRecordingMode::Disabled
    {
        return Err(validation(
            "mediaTypes NONE records thumbnails only, so thumbnailConfiguration.recordingMode must be INTERVAL",
        ));
    }
    cfg.media_types = Some(media);
    cfg.thumbnail_configuration = Some(thumb);
    cfg.recording_reconnect_window_seconds.get_or_insert(0);
    cfg.record_participant_replicas.get_or_insert(true);
    let hls = cfg.hls_configuration.get_or_insert_with(Default::default);
    hls.target_segment_duration_seconds
        .get_or_insert(limits::DEFAULT_PARTICIPANT_SEGMENT_SECONDS);
    Ok(cfg)
}

/// The active session of a stage, if any.
pub(crate) async fn active_session(
    call: &Call<'_>,
    stage_arn: &str,
) -> Result<Option<String>, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_SESSION.into(),
                parent: Some(stage_arn.to_string()),
                filters: vec![Filter::Eq {
                    key: "active".into(),
                    value: "true".into(),
                }],
                limit: 1,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "stage session"))?;
    Ok(page.items.into_iter().next().map(|r| r.id))
}

/// Index of a stage record: `sc` = the storage configuration it records to, so that
/// DeleteStorageConfiguration can find its users.
fn index_of(body: &v1::Stage) -> BTreeMap<String, String> {
    let mut index = BTreeMap::new();
    if let Some(c) = &body.auto_participant_recording_configuration
        && !c.storage_configuration_arn.is_empty()
    {
        index.insert("sc".to_string(), c.storage_configuration_arn.clone());
    }
    index
}

async fn view(call: &Call<'_>, arn: &str, body: v1::Stage) -> Result<t::Stage, ApiError> {
    Ok(t::Stage {
        active_session_id: active_session(call, arn).await?,
        arn: arn.to_string(),
        auto_participant_recording_configuration: body.auto_participant_recording_configuration,
        endpoints: Some(endpoints(&call.deps.endpoints, util::arn_id(arn))),
        name: Some(body.name),
        tags: Some(call.tags(arn).await?),
    })
}

pub(crate) async fn create(
    call: &Call<'_>,
    req: t::CreateStageRequest,
) -> Result<t::CreateStageResponse, ApiError> {
    let tokens = req.participant_token_configurations.unwrap_or_default();
    let token_requests: Vec<TokenRequest> = tokens
        .into_iter()
        .map(|c| TokenRequest {
            duration_minutes: c.duration,
            user_id: c.user_id,
            attributes: c.attributes,
            capabilities: c.capabilities,
        })
        .collect();
    for r in &token_requests {
        r.validate()?;
    }
    let recording = normalize_recording(call, req.auto_participant_recording_configuration).await?;
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("stage", &id);
    let body = v1::Stage {
        schema_version: v1::SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        auto_participant_recording_configuration: Some(recording),
        created_ms: call.now_ms(),
    };
    let rec = util::new_record(
        records::KIND_STAGE,
        &id,
        arn.clone(),
        None,
        index_of(&body),
        &body,
        req.tags.unwrap_or_default(),
    )?;
    call.deps
        .store
        .insert(&call.scope, rec)
        .await
        .map_err(|e| util::store_err(e, "stage"))?;
    let mut participant_tokens = Vec::with_capacity(token_requests.len());
    if !token_requests.is_empty() {
        let key = token::signing_key(call).await?;
        for r in token_requests {
            participant_tokens.push(token::mint(call, &key, &arn, r).await?);
        }
    }
    Ok(t::CreateStageResponse {
        participant_tokens: Some(participant_tokens),
        stage: Some(view(call, &arn, body).await?),
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetStageRequest,
) -> Result<t::GetStageResponse, ApiError> {
    let (_, body) = call
        .fetch::<v1::Stage>(records::KIND_STAGE, &req.arn, "stage")
        .await?;
    Ok(t::GetStageResponse {
        stage: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListStagesRequest,
) -> Result<t::ListStagesResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_STAGE.into(),
                parent: None,
                filters: vec![],
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "stage"))?;
    let mut stages = Vec::with_capacity(page.items.len());
    for r in page.items {
        let body: v1::Stage = util::decode(&r)?;
        stages.push(t::StageSummary {
            active_session_id: active_session(call, &r.arn).await?,
            name: Some(body.name),
            tags: Some(call.tags(&r.arn).await?),
            arn: r.arn,
        });
    }
    Ok(t::ListStagesResponse {
        next_token: page.next_token,
        stages,
    })
}

pub(crate) async fn update(
    call: &Call<'_>,
    req: t::UpdateStageRequest,
) -> Result<t::UpdateStageResponse, ApiError> {
    let (rec, mut body) = call
        .fetch::<v1::Stage>(records::KIND_STAGE, &req.arn, "stage")
        .await?;
    if let Some(name) = req.name {
        body.name = name;
    }
    if let Some(cfg) = req.auto_participant_recording_configuration {
        let recording_on = body
            .auto_participant_recording_configuration
            .as_ref()
            .is_some_and(|c| !c.storage_configuration_arn.is_empty());
        // "Note that this cannot be updated while recording is active."
        if recording_on && active_session(call, &req.arn).await?.is_some() {
            return Err(util::conflict(
                "autoParticipantRecordingConfiguration cannot be updated while the stage has an active session being recorded",
            ));
        }
        body.auto_participant_recording_configuration =
            Some(normalize_recording(call, Some(cfg)).await?);
    }
    let mut update = util::update_of(&rec, &body)?;
    update.index = index_of(&body);
    call.deps
        .store
        .update(
            &call.scope,
            records::KIND_STAGE,
            &rec.id,
            Some(rec.version),
            update,
        )
        .await
        .map_err(|e| util::store_err(e, "stage"))?;
    Ok(t::UpdateStageResponse {
        stage: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: t::DeleteStageRequest,
) -> Result<t::DeleteStageResponse, ApiError> {
    let (rec, _) = call
        .fetch::<v1::Stage>(records::KIND_STAGE, &req.arn, "stage")
        .await?;
    call.deps
        .store
        .delete(&call.scope, records::KIND_STAGE, &rec.id, Some(rec.version))
        .await
        .map_err(|e| util::store_err(e, "stage"))?;
    // "Compositions stop ... when the stage is deleted"; ingest configurations lose the stage
    // ("This operation also removes the stageArn from the associated IngestConfiguration").
    crate::composition::stop_all_of_stage(call, &req.arn).await?;
    crate::ingest::detach_stage(call, &req.arn).await?;
    Ok(t::DeleteStageResponse {})
}

pub(crate) async fn create_participant_token(
    call: &Call<'_>,
    req: t::CreateParticipantTokenRequest,
) -> Result<t::CreateParticipantTokenResponse, ApiError> {
    let r = TokenRequest {
        duration_minutes: req.duration,
        user_id: req.user_id,
        attributes: req.attributes,
        capabilities: req.capabilities,
    };
    r.validate()?;
    call.fetch::<v1::Stage>(records::KIND_STAGE, &req.stage_arn, "stage")
        .await?;
    let key = token::signing_key(call).await?;
    Ok(t::CreateParticipantTokenResponse {
        participant_token: Some(token::mint(call, &key, &req.stage_arn, r).await?),
    })
}
