//! What happened in a stage: sessions, participants and their events (read back from what
//! the media side records), and the two operations that remove participants:
//! DisconnectParticipant and RevokeConnectionToken.

use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery, StoreError};
use std::collections::BTreeMap;

fn session_view(
    id: String,
    s: &v1::Session,
) -> (
    Option<String>,
    Option<reelay_aws::Timestamp>,
    Option<reelay_aws::Timestamp>,
) {
    (Some(id), Some(util::ts(s.start_ms)), s.end_ms.map(util::ts))
}

/// The session `session_id` of the stage, or ResourceNotFound naming what is missing.
async fn session_of(
    call: &Call<'_>,
    stage_arn: &str,
    session_id: &str,
) -> Result<v1::Session, ApiError> {
    call.fetch::<v1::Stage>(records::KIND_STAGE, stage_arn, "stage")
        .await?;
    match call
        .get::<v1::Session>(records::KIND_SESSION, session_id)
        .await?
    {
        Some((r, s)) if r.parent.as_deref() == Some(stage_arn) => Ok(s),
        _ => Err(util::not_found("stage session", session_id)),
    }
}

pub(crate) async fn get_stage_session(
    call: &Call<'_>,
    req: t::GetStageSessionRequest,
) -> Result<t::GetStageSessionResponse, ApiError> {
    let s = session_of(call, &req.stage_arn, &req.session_id).await?;
    let (session_id, start_time, end_time) = session_view(req.session_id, &s);
    Ok(t::GetStageSessionResponse {
        stage_session: Some(t::StageSession {
            end_time,
            session_id,
            start_time,
        }),
    })
}

pub(crate) async fn list_stage_sessions(
    call: &Call<'_>,
    req: t::ListStageSessionsRequest,
) -> Result<t::ListStageSessionsResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_SESSION.into(),
                parent: Some(req.stage_arn),
                filters: vec![],
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "stage session"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let s: v1::Session = util::decode(&r)?;
        let (session_id, start_time, end_time) = session_view(r.id, &s);
        out.push(t::StageSessionSummary {
            end_time,
            session_id,
            start_time,
        });
    }
    Ok(t::ListStageSessionsResponse {
        next_token: page.next_token,
        stage_sessions: out,
    })
}

pub(crate) async fn get_participant(
    call: &Call<'_>,
    req: t::GetParticipantRequest,
) -> Result<t::GetParticipantResponse, ApiError> {
    session_of(call, &req.stage_arn, &req.session_id).await?;
    let id = format!("{}/{}", req.session_id, req.participant_id);
    match call
        .get::<v1::Participant>(records::KIND_PARTICIPANT, &id)
        .await?
    {
        Some((_, p)) => Ok(t::GetParticipantResponse {
            participant: Some(p.participant),
        }),
        None => Err(util::not_found("participant", &req.participant_id)),
    }
}

pub(crate) async fn list_participants(
    call: &Call<'_>,
    req: t::ListParticipantsRequest,
) -> Result<t::ListParticipantsResponse, ApiError> {
    let mut filters = Vec::new();
    if let Some(u) = req.filter_by_user_id {
        filters.push(Filter::Eq {
            key: "user_id".into(),
            value: u,
        });
    }
    if let Some(p) = req.filter_by_published {
        filters.push(Filter::Eq {
            key: "published".into(),
            value: p.to_string(),
        });
    }
    if let Some(s) = req.filter_by_state {
        filters.push(Filter::Eq {
            key: "state".into(),
            value: s.as_str().into(),
        });
    }
    if let Some(s) = req.filter_by_recording_state {
        filters.push(Filter::Eq {
            key: "recording_state".into(),
            value: s.as_str().into(),
        });
    }
    if filters.len() > 1 {
        return Err(validation(
            "only one of filterByUserId, filterByPublished, filterByState or filterByRecordingState can be provided",
        ));
    }
    // A session of another stage lists nothing, like an unknown one.
    let session = call
        .get::<v1::Session>(records::KIND_SESSION, &req.session_id)
        .await?;
    if session.is_none_or(|(r, _)| r.parent.as_deref() != Some(req.stage_arn.as_str())) {
        return Ok(t::ListParticipantsResponse {
            next_token: None,
            participants: vec![],
        });
    }
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_PARTICIPANT.into(),
                parent: Some(req.session_id),
                filters,
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "participant"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let p: v1::Participant = util::decode(&r)?;
        let p = p.participant;
        out.push(t::ParticipantSummary {
            first_join_time: p.first_join_time,
            ingest_configuration_arn: p.ingest_configuration_arn,
            participant_id: p.participant_id,
            published: p.published,
            recording_state: p.recording_state,
            redundant_ingest: p.redundant_ingest,
            replication_state: p.replication_state,
            replication_type: p.replication_type,
            source_session_id: p.source_session_id,
            source_stage_arn: p.source_stage_arn,
            state: p.state,
            user_id: p.user_id,
        });
    }
    Ok(t::ListParticipantsResponse {
        next_token: page.next_token,
        participants: out,
    })
}

pub(crate) async fn list_participant_events(
    call: &Call<'_>,
    req: t::ListParticipantEventsRequest,
) -> Result<t::ListParticipantEventsResponse, ApiError> {
    let session = call
        .get::<v1::Session>(records::KIND_SESSION, &req.session_id)
        .await?;
    if session.is_none_or(|(r, _)| r.parent.as_deref() != Some(req.stage_arn.as_str())) {
        return Ok(t::ListParticipantEventsResponse {
            events: vec![],
            next_token: None,
        });
    }
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_PARTICIPANT_EVENT.into(),
                parent: Some(format!("{}/{}", req.session_id, req.participant_id)),
                filters: vec![],
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "participant event"))?;
    let mut events = Vec::with_capacity(page.items.len());
    for r in page.items {
        let e: v1::ParticipantEvent = util::decode(&r)?;
        events.push(e.event);
    }
    Ok(t::ListParticipantEventsResponse {
        events,
        next_token: page.next_token,
    })
}

pub(crate) async fn disconnect_participant(
    call: &Call<'_>,
    req: t::DisconnectParticipantRequest,
) -> Result<t::DisconnectParticipantResponse, ApiError> {
    let (stage, _) = call
        .fetch::<v1::Stage>(records::KIND_STAGE, &req.stage_arn, "stage")
        .await?;
    let id = format!("{}/{}", stage.id, req.participant_id);
    let body = v1::Disconnection {
        schema_version: v1::SCHEMA_VERSION,
        stage_arn: req.stage_arn.clone(),
        participant_id: req.participant_id.clone(),
        reason: req.reason.unwrap_or_default(),
        disconnected_ms: call.now_ms(),
    };
    let arn = format!(
        "arn:reelay:ivs-realtime:{}:{}:disconnection/{}/{}",
        call.scope.region, call.scope.account, stage.id, req.participant_id
    );
    let rec = util::new_record(
        records::KIND_DISCONNECTION,
        &id,
        arn,
        Some(req.stage_arn.clone()),
        BTreeMap::new(),
        &body,
        BTreeMap::new(),
    )?;
    match call.deps.store.insert(&call.scope, rec).await {
        // Disconnecting twice is the same as once.
        Ok(_) | Err(StoreError::AlreadyExists) => {}
        Err(e) => return Err(util::store_err(e, "participant")),
    }
    // "If the participant is publishing using an IngestConfiguration, DisconnectParticipant
    // also updates the stageArn in the IngestConfiguration to be an empty string."
    crate::ingest::detach_participant(call, &req.stage_arn, &req.participant_id).await?;
    Ok(t::DisconnectParticipantResponse {})
}

pub(crate) async fn revoke_connection_token(
    call: &Call<'_>,
    req: t::RevokeConnectionTokenRequest,
) -> Result<t::RevokeConnectionTokenResponse, ApiError> {
    let body = v1::RevokedToken {
        schema_version: v1::SCHEMA_VERSION,
        revoked_ms: call.now_ms(),
    };
    let arn = format!(
        "arn:reelay:ivs-realtime:{}:{}:revoked-token/{}",
        call.scope.region, call.scope.account, req.token_id
    );
    let rec = util::new_record(
        records::KIND_REVOKED_TOKEN,
        &req.token_id,
        arn,
        None,
        BTreeMap::new(),
        &body,
        BTreeMap::new(),
    )?;
    match call.deps.store.insert(&call.scope, rec).await {
        Ok(_) | Err(StoreError::AlreadyExists) => Ok(t::RevokeConnectionTokenResponse {}),
        Err(e) => Err(util::store_err(e, "connection token")),
    }
}
