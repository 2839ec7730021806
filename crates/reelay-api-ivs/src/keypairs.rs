//! Playback key pairs: the public halves of the ECDSA P-384 keys that sign private-channel
//! playback tokens.

use crate::common::*;
use crate::records::*;
use reelay_api_common::keys::P384PublicKey;
use reelay_aws::generated::ivs::types::*;
use reelay_aws::{ApiError, Output};
use reelay_store::{NewRecord, StoreError, TxOp};
use std::collections::BTreeMap;

fn key_pair_json(arn: &str, k: &PlaybackKeyV1) -> PlaybackKeyPair {
    PlaybackKeyPair {
        arn: Some(arn.to_string()),
        fingerprint: Some(k.fingerprint.clone()),
        name: Some(k.name.clone()),
        tags: Some(k.tags.clone()),
    }
}

/// The ARN of the marker that makes a fingerprint unique within an account and region.
fn marker_arn(call: &Call<'_>, fingerprint: &str) -> String {
    reelay_api_common::arn(
        "ivs",
        call.ctx,
        &format!("playback-key-fingerprint/{fingerprint}"),
    )
}

pub(crate) async fn import(
    call: &Call<'_>,
    req: ImportPlaybackKeyPairRequest,
) -> Result<Output, ApiError> {
    let limit = call.quotas().tags_per_resource;
    if req.tags.as_ref().is_some_and(|t| t.len() > limit) {
        return Err(validation(format!(
            "a resource can have at most {limit} tags"
        )));
    }
    // Only an ECDSA P-384 SubjectPublicKeyInfo in PEM is accepted: the tokens are ES384.
    let key = P384PublicKey::from_pem(&req.public_key_material).map_err(validation)?;
    let fingerprint = key.fingerprint();
    call.check_quota(Kind::PlaybackKey, call.quotas().playback_key_pairs)
        .await?;
    let body = PlaybackKeyV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        fingerprint: fingerprint.clone(),
        public_key_pem: key.to_pem(),
        tags: req.tags.unwrap_or_default(),
    };
    let id = new_id();
    let arn = call.arn(Kind::PlaybackKey, &id);
    let ops = vec![
        // The marker is keyed by fingerprint, so a second import of the same key fails
        // atomically, whatever runs concurrently.
        TxOp::Insert(NewRecord {
            kind: KIND_PLAYBACK_KEY_FINGERPRINT.into(),
            id: fingerprint.clone(),
            arn: marker_arn(call, &fingerprint),
            parent: Some(arn.clone()),
            index: BTreeMap::new(),
            body: serde_json::json!({ "schemaVersion": SCHEMA_VERSION, "keyPairArn": arn }),
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        }),
        TxOp::Insert(NewRecord {
            kind: KIND_PLAYBACK_KEY.into(),
            id,
            arn: arn.clone(),
            parent: None,
            index: BTreeMap::new(),
            body: encode(&body)?,
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        }),
    ];
    match call.store().transact(&call.scope, ops).await {
        Ok(_) => Output::json(&ImportPlaybackKeyPairResponse {
            key_pair: Some(key_pair_json(&arn, &body)),
        }),
        Err(StoreError::AlreadyExists) => Err(conflict(format!(
            "a playback key pair with fingerprint {fingerprint} is already imported"
        ))),
        Err(e) => Err(store_err(e, "playback key pair")),
    }
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: GetPlaybackKeyPairRequest,
) -> Result<Output, ApiError> {
    let k = call
        .load::<PlaybackKeyV1>(Kind::PlaybackKey, &req.arn)
        .await?;
    Output::json(&GetPlaybackKeyPairResponse {
        key_pair: Some(key_pair_json(&k.rec.arn, &k.body)),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: ListPlaybackKeyPairsRequest,
) -> Result<Output, ApiError> {
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<PlaybackKeyV1>(KIND_PLAYBACK_KEY, None, Vec::new(), limit, req.next_token)
        .await?;
    let key_pairs = items
        .iter()
        .map(|k| PlaybackKeyPairSummary {
            arn: Some(k.rec.arn.clone()),
            name: Some(k.body.name.clone()),
            tags: Some(k.body.tags.clone()),
        })
        .collect();
    Output::json(&ListPlaybackKeyPairsResponse {
        key_pairs,
        next_token: next,
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: DeletePlaybackKeyPairRequest,
) -> Result<Output, ApiError> {
    let k = call
        .load::<PlaybackKeyV1>(Kind::PlaybackKey, &req.arn)
        .await?;
    let ops = vec![
        TxOp::Delete {
            kind: KIND_PLAYBACK_KEY.into(),
            id: k.rec.id.clone(),
            expected_version: None,
        },
        TxOp::Delete {
            kind: KIND_PLAYBACK_KEY_FINGERPRINT.into(),
            id: k.body.fingerprint.clone(),
            expected_version: None,
        },
    ];
    match call.store().transact(&call.scope, ops).await {
        // DeletePlaybackKeyPair answers 200 with an empty structure (not 204).
        Ok(_) => Output::json(&DeletePlaybackKeyPairResponse {}),
        Err(StoreError::NotFound) => Err(not_found(Kind::PlaybackKey, &req.arn)),
        Err(e) => Err(store_err(e, "playback key pair")),
    }
}
