//! Tags on every IVS low-latency resource type.
//!
//! The router sends `/tags/{resourceArn}` here for every `ivs` ARN whose resource type is not an
//! IVS Real-Time one. Tags live in the resource's own document, so a resource and its tags are
//! read in one lookup and written with one compare-and-set.

use crate::common::*;
use reelay_api_common::parse_arn;
use reelay_aws::generated::ivs::types::*;
use reelay_aws::{ApiError, Output};
use reelay_store::{StoreError, Update};
use serde_json::Value;
use std::collections::BTreeMap;

/// The kind of a taggable ARN, or `ResourceNotFoundException`.
fn kind_of(arn: &str) -> Result<Kind, ApiError> {
    parse_arn(arn)
        .and_then(|p| Kind::from_arn_type(p.resource_type))
        .ok_or_else(|| {
            ApiError::new(
                reelay_aws::generated::ivs::errors::RESOURCE_NOT_FOUND_EXCEPTION,
                format!("resource not found: {arn}"),
            )
        })
}

fn tags_of(body: &Value) -> BTreeMap<String, String> {
    body.get("tags")
        .and_then(|t| serde_json::from_value(t.clone()).ok())
        .unwrap_or_default()
}

/// Read-modify-write of a resource's tags with compare-and-set.
async fn edit_tags(
    call: &Call<'_>,
    arn: &str,
    mut f: impl FnMut(&mut BTreeMap<String, String>) -> Result<(), ApiError>,
) -> Result<(), ApiError> {
    let kind = kind_of(arn)?;
    for _ in 0..WRITE_ATTEMPTS {
        let cur = call.load::<Value>(kind, arn).await?;
        let mut tags = tags_of(&cur.body);
        f(&mut tags)?;
        let mut body = cur.body.clone();
        if let Some(o) = body.as_object_mut() {
            o.insert("tags".into(), encode(&tags)?);
        }
        let update = Update {
            body,
            index: cur.rec.index.clone(),
            parent: cur.rec.parent.clone(),
            schema_version: cur.rec.schema_version,
        };
        match call
            .store()
            .update(
                &call.scope,
                kind.store_kind(),
                &cur.rec.id,
                Some(cur.rec.version),
                update,
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::VersionMismatch { .. }) => continue,
            Err(StoreError::NotFound) => return Err(not_found(kind, arn)),
            Err(e) => return Err(store_err(e, kind.label())),
        }
    }
    Err(conflict(format!(
        "the tags of {arn} were modified concurrently; try again"
    )))
}

pub(crate) async fn tag_resource(
    call: &Call<'_>,
    req: TagResourceRequest,
) -> Result<Output, ApiError> {
    let limit = call.quotas().tags_per_resource;
    edit_tags(call, &req.resource_arn, |tags| {
        merge_tags(tags, req.tags.clone(), limit)
    })
    .await?;
    Output::json(&TagResourceResponse {})
}

pub(crate) async fn untag_resource(
    call: &Call<'_>,
    req: UntagResourceRequest,
) -> Result<Output, ApiError> {
    edit_tags(call, &req.resource_arn, |tags| {
        for k in &req.tag_keys {
            tags.remove(k);
        }
        Ok(())
    })
    .await?;
    Output::json(&UntagResourceResponse {})
}

pub(crate) async fn list_tags_for_resource(
    call: &Call<'_>,
    req: ListTagsForResourceRequest,
) -> Result<Output, ApiError> {
    let kind = kind_of(&req.resource_arn)?;
    let cur = call.load::<Value>(kind, &req.resource_arn).await?;
    Output::json(&ListTagsForResourceResponse {
        tags: tags_of(&cur.body),
    })
}
