//! Tags on packaging groups, packaging configurations and assets.

use crate::groups::record_api_call;
use crate::{MediaPackageVod, not_found, store_error, unprocessable};
use reelay_api_common::{parse_arn, scope};
use reelay_aws::generated::mediapackage_vod::types::{
    ListTagsForResourceRequest, ListTagsForResourceResponse, TagResourceRequest,
    UntagResourceRequest,
};
use reelay_aws::{ApiError, Output, RequestContext};
use reelay_store::StoreError;
use serde_json::json;

/// Resource types that carry tags.
const TAGGABLE: [&str; 3] = ["packaging-groups", "packaging-configurations", "assets"];

/// Refuse ARNs that cannot name a resource of this service in the caller's account and region.
///
/// An ARN that is not a MediaPackage VOD resource ARN at all is malformed input (422, the only
/// error the model's tagging operations can answer with); a well-formed ARN of a resource that
/// does not exist in the caller's account and region is 404.
fn check_arn(ctx: &RequestContext, arn: &str) -> Result<(), ApiError> {
    let parsed = parse_arn(arn).filter(|p| {
        p.service == "mediapackage-vod"
            && TAGGABLE.contains(&p.resource_type)
            && !p.resource_id.is_empty()
    });
    match parsed {
        None => Err(unprocessable(format!(
            "'{arn}' is not a MediaPackage VOD resource ARN (arn:aws:mediapackage-vod:<region>:<account>:<packaging-groups|packaging-configurations|assets>/<id>)"
        ))),
        Some(p) if p.region != ctx.region || p.account != ctx.account => Err(unknown(arn)),
        Some(_) => Ok(()),
    }
}

fn unknown(arn: &str) -> ApiError {
    not_found(format!("resource '{arn}' does not exist"))
}

fn map(e: StoreError, arn: &str) -> ApiError {
    match e {
        StoreError::NotFound => unknown(arn),
        e => store_error(e, "resource"),
    }
}

pub(crate) async fn list(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: ListTagsForResourceRequest,
) -> Result<Output, ApiError> {
    check_arn(ctx, &req.resource_arn)?;
    let tags = svc
        .deps
        .store
        .tags(&scope(ctx), &req.resource_arn)
        .await
        .map_err(|e| map(e, &req.resource_arn))?;
    Output::json(&ListTagsForResourceResponse { tags: Some(tags) })
}

pub(crate) async fn tag(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: TagResourceRequest,
) -> Result<Output, ApiError> {
    check_arn(ctx, &req.resource_arn)?;
    let keys: Vec<String> = req.tags.keys().cloned().collect();
    svc.deps
        .store
        .tag(&scope(ctx), &req.resource_arn, req.tags)
        .await
        .map_err(|e| map(e, &req.resource_arn))?;
    record_api_call(
        svc,
        ctx,
        "TagResource",
        vec![req.resource_arn.clone()],
        json!({"resourceArn": req.resource_arn, "tagKeys": keys}),
        serde_json::Value::Null,
    )
    .await;
    Ok(Output::empty())
}

pub(crate) async fn untag(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: UntagResourceRequest,
) -> Result<Output, ApiError> {
    check_arn(ctx, &req.resource_arn)?;
    let scope = scope(ctx);
    // The store ignores keys that are not set; an unknown resource must still be a 404.
    svc.deps
        .store
        .tags(&scope, &req.resource_arn)
        .await
        .map_err(|e| map(e, &req.resource_arn))?;
    svc.deps
        .store
        .untag(&scope, &req.resource_arn, &req.tag_keys)
        .await
        .map_err(|e| map(e, &req.resource_arn))?;
    record_api_call(
        svc,
        ctx,
        "UntagResource",
        vec![req.resource_arn.clone()],
        json!({"resourceArn": req.resource_arn, "tagKeys": req.tag_keys}),
        serde_json::Value::Null,
    )
    .await;
    Ok(Output::empty())
}
