//! Ingest configurations: RTMP(S) stream keys that publish into a stage as a participant.

use crate::limits;
use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_api_common::Deps;
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery, Scope};
use std::collections::BTreeMap;
use subtle::ConstantTimeEq as _;

/// An ingest stream key: a secret, so `Debug` is redacted, comparison is constant-time and
/// the text is wiped on drop.
pub struct StreamKey(zeroize::Zeroizing<String>);

impl StreamKey {
    /// Wrap a stream key.
    pub fn new(s: impl Into<String>) -> Self {
        StreamKey(zeroize::Zeroizing::new(s.into()))
    }

    /// The key text (to hand to the owner only).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StreamKey(<redacted>)")
    }
}

impl PartialEq for StreamKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for StreamKey {}

/// `rt_<account>_<region>_<ingestConfigurationId>_<secret>`, the shape of the model's
/// `StreamKey` pattern and of AWS's examples.
fn new_stream_key(scope: &Scope, id: &str) -> String {
    format!(
        "rt_{}_{}_{}_{}",
        scope.account,
        scope.region,
        id,
        reelay_api_common::random_id(limits::STREAM_KEY_SECRET_LEN)
    )
}

/// The ingest configuration an RTMP(S) publisher presents `key` for, if any: what the RTMP
/// listener calls before letting a publisher into a stage. Returns its ARN, stage ARN (may
/// be "") and participant id.
pub async fn find_by_stream_key(deps: &Deps, key: &StreamKey) -> Option<(String, String, String)> {
    let text = key.expose().strip_prefix("rt_")?;
    let (account, rest) = text.split_once('_')?;
    // Region names contain '-' but never '_'; ids are alphanumeric.
    let (region, rest) = rest.split_once('_')?;
    let (id, _secret) = rest.split_once('_')?;
    let scope = Scope::new(account, region);
    let rec = deps
        .store
        .get(&scope, records::KIND_INGEST_CONFIGURATION, id)
        .await
        .ok()??;
    let body: v1::IngestConfiguration = serde_json::from_value(rec.body).ok()?;
    let primary = StreamKey::new(body.stream_key.clone());
    let matches = primary == *key
        || body
            .redundant_credentials
            .iter()
            .any(|(_, k)| StreamKey::new(k.clone()) == *key);
    matches.then_some((rec.arn, body.stage_arn, body.participant_id))
}

fn index_of(body: &v1::IngestConfiguration) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("stage".to_string(), body.stage_arn.clone()),
        ("state".to_string(), body.state.clone()),
    ])
}

fn credentials(scope: &Scope, id: &str, on: bool) -> Vec<(String, String)> {
    if on {
        vec![(
            reelay_api_common::random_id(limits::ID_LEN),
            new_stream_key(scope, id),
        )]
    } else {
        Vec::new()
    }
}

async fn view(
    call: &Call<'_>,
    arn: &str,
    body: v1::IngestConfiguration,
) -> Result<t::IngestConfiguration, ApiError> {
    Ok(t::IngestConfiguration {
        arn: arn.to_string(),
        attributes: Some(body.attributes),
        ingest_protocol: t::IngestProtocol::from_wire(&body.ingest_protocol).unwrap_or_default(),
        name: Some(body.name),
        participant_id: body.participant_id,
        redundant_ingest: Some(body.redundant_ingest),
        redundant_ingest_credentials: body.redundant_ingest.then(|| {
            body.redundant_credentials
                .into_iter()
                .map(|(p, k)| t::RedundantIngestCredential {
                    participant_id: Some(p),
                    stream_key: Some(k),
                })
                .collect()
        }),
        stage_arn: body.stage_arn,
        state: t::IngestConfigurationState::from_wire(&body.state)
            .unwrap_or(t::IngestConfigurationState::Inactive),
        stream_key: body.stream_key,
        tags: Some(call.tags(arn).await?),
        user_id: Some(body.user_id),
    })
}

async fn stage_exists(call: &Call<'_>, arn: &str) -> Result<bool, ApiError> {
    Ok(call
        .try_fetch::<v1::Stage>(records::KIND_STAGE, arn)
        .await?
        .is_some())
}

pub(crate) async fn create(
    call: &Call<'_>,
    req: t::CreateIngestConfigurationRequest,
) -> Result<t::CreateIngestConfigurationResponse, ApiError> {
    let insecure = req.insecure_ingest.unwrap_or(false);
    if req.ingest_protocol == t::IngestProtocol::Rtmp && !insecure {
        return Err(validation(
            "insecureIngest must be true when ingestProtocol is RTMP",
        ));
    }
    util::check_attributes(req.attributes.as_ref())?;
    let stage_arn = req.stage_arn.unwrap_or_default();
    if !stage_arn.is_empty() && !stage_exists(call, &stage_arn).await? {
        return Err(validation(format!("stage {stage_arn} does not exist")));
    }
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("ingest-configuration", &id);
    let redundant = req.redundant_ingest.unwrap_or(false);
    let body = v1::IngestConfiguration {
        schema_version: v1::SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        stage_arn,
        ingest_protocol: req.ingest_protocol.as_str().to_string(),
        insecure_ingest: insecure,
        redundant_ingest: redundant,
        participant_id: reelay_api_common::random_id(limits::ID_LEN),
        stream_key: new_stream_key(&call.scope, &id),
        redundant_credentials: credentials(&call.scope, &id, redundant),
        user_id: req.user_id.unwrap_or_default(),
        attributes: req.attributes.unwrap_or_default(),
        state: t::IngestConfigurationState::Inactive.as_str().to_string(),
    };
    let rec = util::new_record(
        records::KIND_INGEST_CONFIGURATION,
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
        .map_err(|e| util::store_err(e, "ingest configuration"))?;
    Ok(t::CreateIngestConfigurationResponse {
        ingest_configuration: Some(view(call, &arn, body).await?),
        ..Default::default()
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetIngestConfigurationRequest,
) -> Result<t::GetIngestConfigurationResponse, ApiError> {
    let (_, body) = call
        .fetch(
            records::KIND_INGEST_CONFIGURATION,
            &req.arn,
            "ingest configuration",
        )
        .await?;
    Ok(t::GetIngestConfigurationResponse {
        ingest_configuration: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListIngestConfigurationsRequest,
) -> Result<t::ListIngestConfigurationsResponse, ApiError> {
    let mut filters = Vec::new();
    if let Some(s) = req.filter_by_stage_arn {
        filters.push(Filter::Eq {
            key: "stage".into(),
            value: s,
        });
    }
    if let Some(s) = req.filter_by_state {
        filters.push(Filter::Eq {
            key: "state".into(),
            value: s.as_str().into(),
        });
    }
    if filters.len() > 1 {
        return Err(validation(
            "only one filter (by stage ARN or by state) can be used at a time",
        ));
    }
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_INGEST_CONFIGURATION.into(),
                parent: None,
                filters,
                limit: util::page_size(req.max_results, 50, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "ingest configuration"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let body: v1::IngestConfiguration = util::decode(&r)?;
        out.push(t::IngestConfigurationSummary {
            arn: r.arn,
            ingest_protocol: t::IngestProtocol::from_wire(&body.ingest_protocol)
                .unwrap_or_default(),
            name: Some(body.name),
            participant_id: body.participant_id,
            redundant_ingest: Some(body.redundant_ingest),
            stage_arn: body.stage_arn,
            state: t::IngestConfigurationState::from_wire(&body.state)
                .unwrap_or(t::IngestConfigurationState::Inactive),
            user_id: Some(body.user_id),
        });
    }
    Ok(t::ListIngestConfigurationsResponse {
        ingest_configurations: out,
        next_token: page.next_token,
    })
}

pub(crate) async fn update(
    call: &Call<'_>,
    req: t::UpdateIngestConfigurationRequest,
) -> Result<t::UpdateIngestConfigurationResponse, ApiError> {
    let (rec, mut body) = call
        .fetch::<v1::IngestConfiguration>(
            records::KIND_INGEST_CONFIGURATION,
            &req.arn,
            "ingest configuration",
        )
        .await?;
    // "An IngestConfiguration that is active cannot be updated."
    if body.state == t::IngestConfigurationState::Active.as_str() {
        return Err(util::conflict(format!(
            "ingest configuration {} is active and cannot be updated",
            req.arn
        )));
    }
    if let Some(stage_arn) = req.stage_arn {
        if !stage_arn.is_empty() && !stage_exists(call, &stage_arn).await? {
            return Err(util::not_found("stage", &stage_arn));
        }
        body.stage_arn = stage_arn;
    }
    if let Some(redundant) = req.redundant_ingest
        && redundant != body.redundant_ingest
    {
        body.redundant_ingest = redundant;
        body.redundant_credentials = credentials(&call.scope, &rec.id, redundant);
    }
    let mut update = util::update_of(&rec, &body)?;
    update.index = index_of(&body);
    call.deps
        .store
        .update(
            &call.scope,
            records::KIND_INGEST_CONFIGURATION,
            &rec.id,
            Some(rec.version),
            update,
        )
        .await
        .map_err(|e| util::store_err(e, "ingest configuration"))?;
    Ok(t::UpdateIngestConfigurationResponse {
        ingest_configuration: Some(view(call, &req.arn, body).await?),
        ..Default::default()
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: t::DeleteIngestConfigurationRequest,
) -> Result<t::DeleteIngestConfigurationResponse, ApiError> {
    let (rec, body) = call
        .fetch::<v1::IngestConfiguration>(
            records::KIND_INGEST_CONFIGURATION,
            &req.arn,
            "ingest configuration",
        )
        .await?;
    // "An IngestConfiguration cannot be deleted if the publisher is actively streaming to a
    // stage, unless force is set to true."
    if body.state == t::IngestConfigurationState::Active.as_str() && !req.force.unwrap_or(false) {
        return Err(util::conflict(format!(
            "ingest configuration {} is in use by a publisher; set force to delete it anyway",
            req.arn
        )));
    }
    call.deps
        .store
        .delete(
            &call.scope,
            records::KIND_INGEST_CONFIGURATION,
            &rec.id,
            Some(rec.version),
        )
        .await
        .map_err(|e| util::store_err(e, "ingest configuration"))?;
    Ok(t::DeleteIngestConfigurationResponse {})
}

/// Set `stageArn` to "" on the ingest configurations attached to a stage (DeleteStage), or
/// on the one whose participant is `participant_id` (DisconnectParticipant).
async fn detach(
    call: &Call<'_>,
    stage_arn: &str,
    participant_id: Option<&str>,
) -> Result<(), ApiError> {
    let mut token = None;
    loop {
        let page = call
            .deps
            .store
            .list(
                &call.scope,
                &ListQuery {
                    kind: records::KIND_INGEST_CONFIGURATION.into(),
                    parent: None,
                    filters: vec![Filter::Eq {
                        key: "stage".into(),
                        value: stage_arn.to_string(),
                    }],
                    limit: 100,
                    page_token: token,
                },
            )
            .await
            .map_err(|e| util::store_err(e, "ingest configuration"))?;
        for r in page.items {
            let mut body: v1::IngestConfiguration = util::decode(&r)?;
            if participant_id.is_some_and(|p| p != body.participant_id) {
                continue;
            }
            body.stage_arn.clear();
            let mut update = util::update_of(&r, &body)?;
            update.index = index_of(&body);
            // A concurrent update wins; the configuration then says where it points itself.
            let _ = call
                .deps
                .store
                .update(
                    &call.scope,
                    records::KIND_INGEST_CONFIGURATION,
                    &r.id,
                    Some(r.version),
                    update,
                )
                .await;
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(()),
        }
    }
}

pub(crate) async fn detach_stage(call: &Call<'_>, stage_arn: &str) -> Result<(), ApiError> {
    detach(call, stage_arn, None).await
}

pub(crate) async fn detach_participant(
    call: &Call<'_>,
    stage_arn: &str,
    participant_id: &str,
) -> Result<(), ApiError> {
    detach(call, stage_arn, Some(participant_id)).await
}
