//! Assets.

use crate::groups::record_api_call;
use crate::records::{self, v1};
use crate::{
    KIND_ASSET, KIND_GROUP, MediaPackageVod, configs, egress, groups, not_found, store_error,
    unprocessable,
};
use crate::{ingest, validate};
use reelay_api_common::scope;
use reelay_aws::generated::mediapackage_vod::types::{
    AssetShallow, CreateAssetRequest, DeleteAssetRequest, DescribeAssetRequest,
    DescribeAssetResponse, EgressEndpoint, ListAssetsRequest,
};
use reelay_aws::{ApiError, Output, RequestContext};
use reelay_store::{ListQuery, NewRecord, Record, Scope, StoreError, TxOp};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The ARN of an asset.
pub(crate) fn arn(ctx: &RequestContext, id: &str) -> String {
    reelay_api_common::arn("mediapackage-vod", ctx, &format!("assets/{id}"))
}

/// One egress endpoint per configuration of the asset's group, as the group is now.
///
/// `known_state` is the ingest state when the caller holds it (`CreateAsset` just wrote it),
/// else it is read from the store.
async fn endpoints(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    asset: &v1::Asset,
    known_state: Option<ingest::IngestState>,
) -> Result<Vec<EgressEndpoint>, ApiError> {
    let scope = scope(ctx);
    // The group outlives its assets (deleting a group with assets is refused), so a missing
    // group can only be a concurrent delete racing this read: the asset then has no endpoints.
    let Some((_, group)) = groups::load(svc, &scope, &asset.packaging_group_id).await? else {
        return Ok(Vec::new());
    };
    let domain = groups::domain_name(svc, ctx, &group);
    let configs = configs::all_in_group(svc, &scope, &asset.packaging_group_id).await?;
    let state = match known_state {
        Some(s) => Some(s),
        None => ingest_state(svc, &scope, asset).await?,
    };
    Ok(configs
        .iter()
        .map(|c| {
            let manifest = egress::manifest_file(
                &c.package_type,
                &validate::first_manifest_name(&c.package, &c.package_type),
            );
            EgressEndpoint {
                packaging_configuration_id: Some(c.id.clone()),
                status: Some(ingest::endpoint_status(
                    state.as_ref(),
                    &c.package_type,
                    &c.package,
                )),
                url: Some(egress::endpoint_url(
                    &domain,
                    &asset.egress_id,
                    &c.egress_ids,
                    &manifest,
                )),
            }
        })
        .collect())
}

/// The asset's ingest state, if the engine's record belongs to this asset.
async fn ingest_state(
    svc: &MediaPackageVod,
    scope: &Scope,
    asset: &v1::Asset,
) -> Result<Option<ingest::IngestState>, ApiError> {
    let Some(rec) = svc
        .deps
        .store
        .get(scope, ingest::KIND_INGEST, &asset.id)
        .await
        .map_err(|e| store_error(e, "Asset"))?
    else {
        return Ok(None);
    };
    let state: ingest::IngestState = records::decode(&rec)?;
    Ok((state.asset_egress_id == asset.egress_id).then_some(state))
}

async fn full_view(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    rec: &Record,
    asset: &v1::Asset,
    known_state: Option<ingest::IngestState>,
) -> Result<DescribeAssetResponse, ApiError> {
    let tags = svc
        .deps
        .store
        .tags(&scope(ctx), &rec.arn)
        .await
        .map_err(|e| store_error(e, "Asset"))?;
    Ok(DescribeAssetResponse {
        arn: Some(rec.arn.clone()),
        created_at: Some(asset.created_at.clone()),
        egress_endpoints: Some(endpoints(svc, ctx, asset, known_state).await?),
        id: Some(asset.id.clone()),
        packaging_group_id: Some(asset.packaging_group_id.clone()),
        resource_id: Some(asset.resource_id.clone()),
        source_arn: Some(asset.source_arn.clone()),
        source_role_arn: Some(asset.source_role_arn.clone()),
        tags: Some(tags),
    })
}

/// Check that reelay's S3 endpoint can read the source object.
async fn check_source(svc: &MediaPackageVod, source_arn: &str) -> Result<(), ApiError> {
    let (bucket, key) = validate::s3_object_arn(source_arn).map_err(unprocessable)?;
    match svc.deps.blob.head_object(bucket, key).await {
        Ok(_) => Ok(()),
        Err(reelay_blob::Error::NoSuchBucket { .. }) => Err(unprocessable(format!(
            "sourceArn '{source_arn}': bucket '{bucket}' does not exist"
        ))),
        Err(reelay_blob::Error::NoSuchKey) => Err(unprocessable(format!(
            "sourceArn '{source_arn}': object '{key}' does not exist in bucket '{bucket}'"
        ))),
        Err(
            reelay_blob::Error::InvalidKey { .. }
            | reelay_blob::Error::KeyTooLong { .. }
            | reelay_blob::Error::InvalidBucketName { .. },
        ) => Err(unprocessable(format!(
            "sourceArn '{source_arn}' does not name a readable S3 object"
        ))),
        Err(e) => Err(ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            format!("cannot read the source object: {e}"),
        )),
    }
}

pub(crate) async fn create(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: CreateAssetRequest,
) -> Result<Output, ApiError> {
    validate::resource_id("id", &req.id).map_err(unprocessable)?;
    validate::role_arn("sourceRoleArn", &req.source_role_arn).map_err(unprocessable)?;
    if let Some(r) = &req.resource_id
        && (r.is_empty() || r.chars().count() > 256)
    {
        return Err(unprocessable("resourceId must be 1 to 256 characters long"));
    }
    let scope = scope(ctx);
    let unknown_group = || {
        unprocessable(format!(
            "PackagingGroup '{}' does not exist",
            req.packaging_group_id
        ))
    };
    if groups::load(svc, &scope, &req.packaging_group_id)
        .await?
        .is_none()
    {
        return Err(unknown_group());
    }
    let n = svc
        .deps
        .store
        .count(&scope, KIND_ASSET, Some(&req.packaging_group_id))
        .await
        .map_err(|e| store_error(e, "Asset"))?;
    if !crate::quotas::has_room(n, svc.quotas.max_assets_per_group) {
        return Err(crate::quota_exceeded());
    }
    check_source(svc, &req.source_arn).await?;
    let asset = v1::Asset {
        schema_version: v1::VERSION,
        id: req.id.clone(),
        packaging_group_id: req.packaging_group_id.clone(),
        created_at: crate::iso8601(svc.deps.clock.now()),
        egress_id: reelay_api_common::random_hex(egress::EGRESS_ID_BYTES),
        // Without one, the SPEKE content id is the asset id.
        resource_id: req.resource_id.clone().unwrap_or_else(|| req.id.clone()),
        source_arn: req.source_arn.clone(),
        source_role_arn: req.source_role_arn.clone(),
    };
    let insert = NewRecord {
        kind: KIND_ASSET.into(),
        id: req.id.clone(),
        arn: arn(ctx, &req.id),
        parent: Some(req.packaging_group_id.clone()),
        index: BTreeMap::from([(egress::INDEX_EGRESS.to_string(), asset.egress_id.clone())]),
        body: records::encode(&asset)?,
        schema_version: v1::VERSION,
        tags: req.tags.unwrap_or_default(),
    };
    // The job goes first, in the engine's scope: if the asset transaction below fails or the
    // process dies in between, the engine finds a job without its asset and drops it; the
    // reverse order could leave an asset that nothing ever ingests.
    let job = ingest::Job {
        schema_version: ingest::VERSION,
        account: ctx.account.clone(),
        region: ctx.region.clone(),
        asset_id: asset.id.clone(),
        asset_egress_id: asset.egress_id.clone(),
    };
    svc.deps
        .store
        .insert(
            &ingest::engine_scope(),
            NewRecord {
                kind: ingest::KIND_JOB.into(),
                id: job.record_id(),
                arn: job.record_arn(),
                parent: None,
                index: BTreeMap::new(),
                body: records::encode(&job)?,
                schema_version: ingest::VERSION,
                tags: BTreeMap::new(),
            },
        )
        .await
        .map_err(|e| store_error(e, "Asset"))?;
    let state = NewRecord {
        kind: ingest::KIND_INGEST.into(),
        id: req.id.clone(),
        arn: format!("{}#ingest", arn(ctx, &req.id)),
        parent: Some(req.packaging_group_id.clone()),
        index: BTreeMap::new(),
        body: records::encode(&ingest::IngestState::queued(&asset.egress_id))?,
        schema_version: ingest::VERSION,
        tags: BTreeMap::new(),
    };
    let ops = vec![
        TxOp::AssertExists {
            kind: KIND_GROUP.into(),
            id: req.packaging_group_id.clone(),
        },
        TxOp::Insert(insert),
        TxOp::Insert(state),
    ];
    let rec = match svc.deps.store.transact(&scope, ops).await {
        Ok(done) => done.into_iter().nth(1).flatten(),
        Err(StoreError::ConditionFailed { .. }) => return Err(unknown_group()),
        Err(StoreError::AlreadyExists) => {
            return Err(unprocessable(format!("Asset '{}' already exists", req.id)));
        }
        Err(e) => return Err(store_error(e, "Asset")),
    };
    let rec = rec.ok_or_else(|| {
        ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            "insert returned no record",
        )
    })?;
    // The response shows the state as committed (QUEUED), whatever the engine does next.
    let v = full_view(
        svc,
        ctx,
        &rec,
        &asset,
        Some(ingest::IngestState::queued(&asset.egress_id)),
    )
    .await?;
    ingest::wake_engine();
    record_api_call(
        svc,
        ctx,
        "CreateAsset",
        vec![rec.arn.clone()],
        json!({
            "id": asset.id,
            "packagingGroupId": asset.packaging_group_id,
            "sourceArn": asset.source_arn,
            "sourceRoleArn": asset.source_role_arn,
            "resourceId": req.resource_id,
        }),
        json!({
            "arn": rec.arn,
            "id": asset.id,
            "createdAt": asset.created_at,
            "resourceId": asset.resource_id,
            "egressEndpoints": v.egress_endpoints.iter().flatten().map(|e| json!({
                "packagingConfigurationId": e.packaging_configuration_id,
                "status": e.status,
                "url": e.url,
            })).collect::<Vec<_>>(),
        }),
    )
    .await;
    Output::json(&v)
}

pub(crate) async fn describe(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DescribeAssetRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let rec = load(svc, &scope, &req.id).await?;
    let asset: v1::Asset = records::decode(&rec)?;
    Output::json(&full_view(svc, ctx, &rec, &asset, None).await?)
}

async fn load(svc: &MediaPackageVod, scope: &Scope, id: &str) -> Result<Record, ApiError> {
    svc.deps
        .store
        .get(scope, KIND_ASSET, id)
        .await
        .map_err(|e| store_error(e, "Asset"))?
        .ok_or_else(|| not_found(format!("Asset '{id}' does not exist")))
}

pub(crate) async fn list(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: ListAssetsRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let query = ListQuery {
        kind: KIND_ASSET.into(),
        parent: req.packaging_group_id,
        filters: Vec::new(),
        limit: crate::page_size(req.max_results),
        page_token: req.next_token,
    };
    let page = svc
        .deps
        .store
        .list(&scope, &query)
        .await
        .map_err(|e| store_error(e, "Asset"))?;
    let mut items = Vec::with_capacity(page.items.len());
    for rec in &page.items {
        let asset: v1::Asset = records::decode(rec)?;
        let tags = svc
            .deps
            .store
            .tags(&scope, &rec.arn)
            .await
            .map_err(|e| store_error(e, "Asset"))?;
        let shallow = AssetShallow {
            arn: Some(rec.arn.clone()),
            created_at: Some(asset.created_at),
            id: Some(asset.id),
            packaging_group_id: Some(asset.packaging_group_id),
            resource_id: Some(asset.resource_id),
            source_arn: Some(asset.source_arn),
            source_role_arn: Some(asset.source_role_arn),
            tags: Some(tags),
        };
        items.push(serde_json::to_value(shallow).unwrap_or(Value::Null));
    }
    let mut out = Map::new();
    out.insert("Assets".into(), Value::Array(items));
    if let Some(t) = page.next_token {
        out.insert("NextToken".into(), Value::String(t));
    }
    Ok(Output::Json(Value::Object(out)))
}

pub(crate) async fn delete(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DeleteAssetRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let rec = svc
        .deps
        .store
        .delete(&scope, KIND_ASSET, &req.id, None)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(format!("Asset '{}' does not exist", req.id)),
            e => store_error(e, "Asset"),
        })?;
    forget_ingest(svc, &scope, &rec).await;
    record_api_call(
        svc,
        ctx,
        "DeleteAsset",
        vec![rec.arn],
        json!({"id": req.id}),
        Value::Null,
    )
    .await;
    Ok(Output::empty())
}

/// Remove what the engine kept for a deleted asset: its ingest state and index chunks.
/// Best effort: the asset is already gone, and leftovers are unreachable (keyed by the asset's
/// random egress id) and cleared by the next `CreateAsset` of the same id.
async fn forget_ingest(svc: &MediaPackageVod, scope: &Scope, rec: &Record) {
    let Ok(asset) = records::decode::<v1::Asset>(rec) else {
        return;
    };
    if let Err(e) = svc
        .deps
        .store
        .delete(scope, ingest::KIND_INGEST, &asset.id, None)
        .await
        && !matches!(e, StoreError::NotFound)
    {
        tracing::warn!(error = %e, "could not delete an asset's ingest state");
    }
    let query = ListQuery {
        kind: ingest::KIND_INDEX_CHUNK.into(),
        parent: Some(asset.egress_id.clone()),
        filters: Vec::new(),
        limit: 100,
        page_token: None,
    };
    loop {
        let page = match svc.deps.store.list(scope, &query).await {
            Ok(p) => p,
            Err(e) => {
                tracing::warn!(error = %e, "could not list an asset's index chunks");
                return;
            }
        };
        if page.items.is_empty() {
            break;
        }
        for chunk in page.items {
            if let Err(e) = svc
                .deps
                .store
                .delete(scope, ingest::KIND_INDEX_CHUNK, &chunk.id, None)
                .await
                && !matches!(e, StoreError::NotFound)
            {
                tracing::warn!(error = %e, "could not delete an index chunk");
                return;
            }
        }
    }
    forget_samples(svc, scope, &asset.egress_id).await;
}

/// Remove the remuxed samples of an `.m3u8` source (see `ingest::sample_objects_location`).
async fn forget_samples(svc: &MediaPackageVod, scope: &Scope, egress_id: &str) {
    let (bucket, prefix) =
        ingest::sample_objects_location(&scope.account, &scope.region, egress_id);
    loop {
        let query = reelay_blob::ListQuery {
            prefix: &prefix,
            delimiter: None,
            start_after: None,
            marker: None,
            max_keys: 1000,
        };
        let page = match svc.deps.blob.list_objects(&bucket, &query).await {
            Ok(p) => p,
            // No bucket: the account never ingested an `.m3u8` source.
            Err(reelay_blob::Error::NoSuchBucket { .. }) => return,
            Err(e) => {
                tracing::warn!(error = %e, "could not list an asset's sample objects");
                return;
            }
        };
        if page.objects.is_empty() {
            return;
        }
        for o in &page.objects {
            if let Err(e) = svc.deps.blob.delete_object(&bucket, &o.key).await {
                tracing::warn!(error = %e, "could not delete an asset's sample object");
                return;
            }
        }
    }
}
