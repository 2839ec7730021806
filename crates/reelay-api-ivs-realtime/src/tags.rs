//! TagResource, UntagResource, ListTagsForResource on every IVS Real-Time resource type (the
//! router sends only ARNs of those types here; IVS low-latency ARNs go to the IVS handlers).

use crate::records;
use crate::util::{self, Call, validation};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;

const TAGGABLE: &[&str] = &[
    records::KIND_STAGE,
    records::KIND_COMPOSITION,
    records::KIND_ENCODER_CONFIGURATION,
    records::KIND_STORAGE_CONFIGURATION,
    records::KIND_PUBLIC_KEY,
    records::KIND_INGEST_CONFIGURATION,
];

/// Check that `arn` names a visible resource of this service in the caller's scope.
async fn resolve(call: &Call<'_>, arn: &str) -> Result<(), ApiError> {
    let rec = call
        .deps
        .store
        .get_by_arn(&call.scope, arn)
        .await
        .map_err(|e| util::store_err(e, "resource"))?;
    let Some(rec) = rec.filter(|r| TAGGABLE.contains(&r.kind.as_str())) else {
        return Err(util::not_found("resource", arn));
    };
    if rec.kind == records::KIND_COMPOSITION {
        let c: records::v1::Composition = util::decode(&rec)?;
        if crate::composition::derive(&c, call.now_ms()).gone {
            return Err(util::not_found("resource", arn));
        }
    }
    Ok(())
}

pub(crate) async fn tag(
    call: &Call<'_>,
    req: t::TagResourceRequest,
) -> Result<t::TagResourceResponse, ApiError> {
    check_reserved(req.tags.keys())?;
    resolve(call, &req.resource_arn).await?;
    call.deps
        .store
        .tag(&call.scope, &req.resource_arn, req.tags)
        .await
        .map_err(|e| util::store_err(e, "resource"))?;
    Ok(t::TagResourceResponse {})
}

pub(crate) async fn untag(
    call: &Call<'_>,
    req: t::UntagResourceRequest,
) -> Result<t::UntagResourceResponse, ApiError> {
    resolve(call, &req.resource_arn).await?;
    call.deps
        .store
        .untag(&call.scope, &req.resource_arn, &req.tag_keys)
        .await
        .map_err(|e| util::store_err(e, "resource"))?;
    Ok(t::UntagResourceResponse {})
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListTagsForResourceRequest,
) -> Result<t::ListTagsForResourceResponse, ApiError> {
    resolve(call, &req.resource_arn).await?;
    Ok(t::ListTagsForResourceResponse {
        tags: call.tags(&req.resource_arn).await?,
    })
}

/// Tag keys starting with `aws:` are reserved for AWS ("Tag naming limits and requirements").
pub(crate) fn check_reserved<'a>(
    mut keys: impl Iterator<Item = &'a String>,
) -> Result<(), ApiError> {
    match keys.find(|k| k.get(..4).is_some_and(|p| p.eq_ignore_ascii_case("aws:"))) {
        Some(k) => Err(validation(format!(
            "tag keys starting with aws: are reserved ({k})"
        ))),
        None => Ok(()),
    }
}
