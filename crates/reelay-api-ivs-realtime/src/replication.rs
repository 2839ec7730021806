//! Participant replication between stages: StartParticipantReplication,
//! StopParticipantReplication, ListParticipantReplicas. The replication is recorded here; the
//! media side forwards the participant's media while it publishes.

use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::ListQuery;
use std::collections::BTreeMap;

fn record_id(source: &str, participant: &str, destination: &str) -> String {
    format!(
        "{}/{participant}/{}",
        util::arn_id(source),
        util::arn_id(destination)
    )
}

fn parent_of(source_arn: &str, participant: &str) -> String {
    format!("{source_arn}/{participant}")
}

pub(crate) async fn start(
    call: &Call<'_>,
    req: t::StartParticipantReplicationRequest,
) -> Result<t::StartParticipantReplicationResponse, ApiError> {
    // Unknown stages first: a missing resource says more than a malformed pairing.
    call.fetch::<v1::Stage>(records::KIND_STAGE, &req.source_stage_arn, "stage")
        .await?;
    call.fetch::<v1::Stage>(records::KIND_STAGE, &req.destination_stage_arn, "stage")
        .await?;
    if req.source_stage_arn == req.destination_stage_arn {
        return Err(validation(
            "sourceStageArn and destinationStageArn must be different stages",
        ));
    }
    if req.participant_id.is_empty() {
        return Err(validation("participantId must not be empty"));
    }
    util::check_attributes(req.attributes.as_ref())?;
    let id = record_id(
        &req.source_stage_arn,
        &req.participant_id,
        &req.destination_stage_arn,
    );
    let body = v1::Replication {
        schema_version: v1::SCHEMA_VERSION,
        source_stage_arn: req.source_stage_arn.clone(),
        destination_stage_arn: req.destination_stage_arn.clone(),
        participant_id: req.participant_id.clone(),
        attributes: req.attributes.unwrap_or_default(),
        reconnect_window_seconds: req.reconnect_window_seconds.unwrap_or(0),
        state: t::ReplicationState::Active.as_str().into(),
        source_session_id: crate::stage::active_session(call, &req.source_stage_arn)
            .await?
            .unwrap_or_default(),
        destination_session_id: crate::stage::active_session(call, &req.destination_stage_arn)
            .await?
            .unwrap_or_default(),
        start_ms: call.now_ms(),
    };
    match call
        .get::<v1::Replication>(records::KIND_REPLICATION, &id)
        .await?
    {
        Some((_, existing)) if existing.state == t::ReplicationState::Active.as_str() => {
            return Err(util::conflict(format!(
                "participant {} is already replicated from {} to {}",
                req.participant_id, req.source_stage_arn, req.destination_stage_arn
            )));
        }
        Some((rec, _)) => {
            call.deps
                .store
                .update(
                    &call.scope,
                    records::KIND_REPLICATION,
                    &id,
                    Some(rec.version),
                    util::update_of(&rec, &body)?,
                )
                .await
                .map_err(|e| util::store_err(e, "participant replication"))?;
        }
        None => {
            let arn = format!(
                "arn:reelay:ivs-realtime:{}:{}:replication/{id}",
                call.scope.region, call.scope.account
            );
            let rec = util::new_record(
                records::KIND_REPLICATION,
                &id,
                arn,
                Some(parent_of(&req.source_stage_arn, &req.participant_id)),
                BTreeMap::new(),
                &body,
                BTreeMap::new(),
            )?;
            call.deps
                .store
                .insert(&call.scope, rec)
                .await
                .map_err(|e| util::store_err(e, "participant replication"))?;
        }
    }
    Ok(t::StartParticipantReplicationResponse::default())
}

pub(crate) async fn stop(
    call: &Call<'_>,
    req: t::StopParticipantReplicationRequest,
) -> Result<t::StopParticipantReplicationResponse, ApiError> {
    let id = record_id(
        &req.source_stage_arn,
        &req.participant_id,
        &req.destination_stage_arn,
    );
    let Some((rec, mut body)) = call
        .get::<v1::Replication>(records::KIND_REPLICATION, &id)
        .await?
    else {
        return Err(util::not_found(
            "participant replication of",
            &req.participant_id,
        ));
    };
    if body.state != t::ReplicationState::Active.as_str() {
        return Err(util::not_found(
            "active participant replication of",
            &req.participant_id,
        ));
    }
    body.state = t::ReplicationState::Stopped.as_str().into();
    call.deps
        .store
        .update(
            &call.scope,
            records::KIND_REPLICATION,
            &id,
            Some(rec.version),
            util::update_of(&rec, &body)?,
        )
        .await
        .map_err(|e| util::store_err(e, "participant replication"))?;
    Ok(t::StopParticipantReplicationResponse::default())
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListParticipantReplicasRequest,
) -> Result<t::ListParticipantReplicasResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_REPLICATION.into(),
                parent: Some(parent_of(&req.source_stage_arn, &req.participant_id)),
                filters: vec![],
                limit: util::page_size(req.max_results, 50, 50),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "participant replication"))?;
    let mut replicas = Vec::with_capacity(page.items.len());
    for r in page.items {
        let b: v1::Replication = util::decode(&r)?;
        replicas.push(t::ParticipantReplica {
            destination_session_id: b.destination_session_id,
            destination_stage_arn: b.destination_stage_arn,
            participant_id: b.participant_id,
            replication_state: t::ReplicationState::from_wire(&b.state)
                .unwrap_or(t::ReplicationState::Stopped),
            source_session_id: b.source_session_id,
            source_stage_arn: b.source_stage_arn,
        });
    }
    Ok(t::ListParticipantReplicasResponse {
        next_token: page.next_token,
        replicas,
    })
}
