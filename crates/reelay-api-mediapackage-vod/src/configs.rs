//! Packaging configurations.

use crate::groups::record_api_call;
use crate::records::{self, v1};
use crate::validate::{self, Package};
use crate::{
    KIND_CONFIG, KIND_GROUP, MediaPackageVod, egress, not_found, store_error, unprocessable,
};
use reelay_api_common::scope;
use reelay_aws::generated::mediapackage_vod::types::{
    CreatePackagingConfigurationRequest, DeletePackagingConfigurationRequest,
    DescribePackagingConfigurationRequest, ListPackagingConfigurationsRequest,
};
use reelay_aws::{ApiError, Output, RequestContext};
use reelay_store::{ListQuery, NewRecord, Record, Scope, StoreError, TxOp};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// The ARN of a packaging configuration.
pub(crate) fn arn(ctx: &RequestContext, id: &str) -> String {
    reelay_api_common::arn(
        "mediapackage-vod",
        ctx,
        &format!("packaging-configurations/{id}"),
    )
}

/// The API view of a configuration (canonical member names).
async fn view(
    svc: &MediaPackageVod,
    scope: &Scope,
    rec: &Record,
    cfg: &v1::Config,
) -> Result<Value, ApiError> {
    let tags = svc
        .deps
        .store
        .tags(scope, &rec.arn)
        .await
        .map_err(|e| store_error(e, "PackagingConfiguration"))?;
    let mut out = Map::new();
    out.insert("Arn".into(), Value::String(rec.arn.clone()));
    out.insert(cfg.package_type.clone(), cfg.package.clone());
    out.insert("CreatedAt".into(), Value::String(cfg.created_at.clone()));
    out.insert("Id".into(), Value::String(cfg.id.clone()));
    out.insert(
        "PackagingGroupId".into(),
        Value::String(cfg.packaging_group_id.clone()),
    );
    out.insert(
        "Tags".into(),
        serde_json::to_value(tags).unwrap_or_else(|_| json!({})),
    );
    Ok(Value::Object(out))
}

/// Every configuration of a group, in id order.
pub(crate) async fn all_in_group(
    svc: &MediaPackageVod,
    scope: &Scope,
    group_id: &str,
) -> Result<Vec<v1::Config>, ApiError> {
    let mut out = Vec::new();
    let mut token = None;
    loop {
        let query = ListQuery {
            kind: KIND_CONFIG.into(),
            parent: Some(group_id.to_string()),
            filters: Vec::new(),
            limit: 100,
            page_token: token,
        };
        let page = svc
            .deps
            .store
            .list(scope, &query)
            .await
            .map_err(|e| store_error(e, "PackagingConfiguration"))?;
        for rec in &page.items {
            out.push(records::decode(rec)?);
        }
        match page.next_token {
            Some(t) => token = Some(t),
            None => return Ok(out),
        }
    }
}

pub(crate) async fn create(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: CreatePackagingConfigurationRequest,
) -> Result<Output, ApiError> {
    validate::resource_id("id", &req.id).map_err(unprocessable)?;
    let mut package = Package::from_request(
        req.hls_package,
        req.dash_package,
        req.cmaf_package,
        req.mss_package,
    )
    .map_err(unprocessable)?;
    package.validate_and_default().map_err(unprocessable)?;
    let scope = scope(ctx);
    let unknown_group = || {
        unprocessable(format!(
            "PackagingGroup '{}' does not exist",
            req.packaging_group_id
        ))
    };
    if svc
        .deps
        .store
        .get(&scope, KIND_GROUP, &req.packaging_group_id)
        .await
        .map_err(|e| store_error(e, "PackagingGroup"))?
        .is_none()
    {
        return Err(unknown_group());
    }
    let n = svc
        .deps
        .store
        .count(&scope, KIND_CONFIG, Some(&req.packaging_group_id))
        .await
        .map_err(|e| store_error(e, "PackagingConfiguration"))?;
    if !crate::quotas::has_room(n, svc.quotas.max_configurations_per_group) {
        return Err(crate::quota_exceeded());
    }
    let package_value = package.to_value().map_err(|e| {
        ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            format!("cannot encode package: {e}"),
        )
    })?;
    let cfg = v1::Config {
        schema_version: v1::VERSION,
        id: req.id.clone(),
        packaging_group_id: req.packaging_group_id.clone(),
        created_at: crate::iso8601(svc.deps.clock.now()),
        egress_ids: [
            reelay_api_common::random_hex(egress::EGRESS_ID_BYTES),
            reelay_api_common::random_hex(egress::EGRESS_ID_BYTES),
        ],
        package_type: package.type_name().to_string(),
        package: package_value,
    };
    let arn = arn(ctx, &req.id);
    let insert = NewRecord {
        kind: KIND_CONFIG.into(),
        id: req.id.clone(),
        arn: arn.clone(),
        parent: Some(req.packaging_group_id.clone()),
        index: BTreeMap::from([(egress::INDEX_EGRESS.to_string(), cfg.egress_ids.join("/"))]),
        body: records::encode(&cfg)?,
        schema_version: v1::VERSION,
        tags: req.tags.unwrap_or_default(),
    };
    // The group must still exist when the configuration is written (it may be deleted meanwhile).
    let ops = vec![
        TxOp::AssertExists {
            kind: KIND_GROUP.into(),
            id: req.packaging_group_id.clone(),
        },
        TxOp::Insert(insert),
    ];
    let rec = match svc.deps.store.transact(&scope, ops).await {
        Ok(mut done) => done.pop().flatten(),
        Err(StoreError::ConditionFailed { .. }) => return Err(unknown_group()),
        Err(StoreError::AlreadyExists) => {
            return Err(unprocessable(format!(
                "PackagingConfiguration '{}' already exists",
                req.id
            )));
        }
        Err(e) => return Err(store_error(e, "PackagingConfiguration")),
    };
    let rec = rec.ok_or_else(|| {
        ApiError::internal(
            reelay_aws::ServiceId::MediaPackageVod,
            "insert returned no record",
        )
    })?;
    let v = view(svc, &scope, &rec, &cfg).await?;
    record_api_call(
        svc,
        ctx,
        "CreatePackagingConfiguration",
        vec![rec.arn.clone()],
        json!({"id": cfg.id, "packagingGroupId": cfg.packaging_group_id, "packageType": cfg.package_type}),
        json!({"arn": rec.arn, "id": cfg.id, "packagingGroupId": cfg.packaging_group_id, "createdAt": cfg.created_at}),
    )
    .await;
    Ok(Output::Json(v))
}

async fn load_existing(
    svc: &MediaPackageVod,
    scope: &Scope,
    id: &str,
) -> Result<(Record, v1::Config), ApiError> {
    let rec = svc
        .deps
        .store
        .get(scope, KIND_CONFIG, id)
        .await
        .map_err(|e| store_error(e, "PackagingConfiguration"))?
        .ok_or_else(|| not_found(format!("PackagingConfiguration '{id}' does not exist")))?;
    let cfg = records::decode(&rec)?;
    Ok((rec, cfg))
}

pub(crate) async fn describe(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DescribePackagingConfigurationRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let (rec, cfg) = load_existing(svc, &scope, &req.id).await?;
    Ok(Output::Json(view(svc, &scope, &rec, &cfg).await?))
}

pub(crate) async fn list(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: ListPackagingConfigurationsRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let query = ListQuery {
        kind: KIND_CONFIG.into(),
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
        .map_err(|e| store_error(e, "PackagingConfiguration"))?;
    let mut items = Vec::with_capacity(page.items.len());
    for rec in &page.items {
        let cfg: v1::Config = records::decode(rec)?;
        items.push(view(svc, &scope, rec, &cfg).await?);
    }
    let mut out = Map::new();
    out.insert("PackagingConfigurations".into(), Value::Array(items));
    if let Some(t) = page.next_token {
        out.insert("NextToken".into(), Value::String(t));
    }
    Ok(Output::Json(Value::Object(out)))
}

pub(crate) async fn delete(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DeletePackagingConfigurationRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    // Assets keep existing; they simply lose the egress endpoint of this configuration.
    let rec = svc
        .deps
        .store
        .delete(&scope, KIND_CONFIG, &req.id, None)
        .await
        .map_err(|e| match e {
            StoreError::NotFound => not_found(format!(
                "PackagingConfiguration '{}' does not exist",
                req.id
            )),
            e => store_error(e, "PackagingConfiguration"),
        })?;
    record_api_call(
        svc,
        ctx,
        "DeletePackagingConfiguration",
        vec![rec.arn],
        json!({"id": req.id}),
        Value::Null,
    )
    .await;
    Ok(Output::empty())
}
