//! Packaging groups.

use crate::records::{self, v1};
use crate::validate;
use crate::{
    KIND_ASSET, KIND_CONFIG, KIND_GROUP, MediaPackageVod, egress, events, not_found, store_error,
    unprocessable,
};
use reelay_api_common::scope;
use reelay_aws::generated::mediapackage_vod::types::{
    Authorization, ConfigureLogsRequest, CreatePackagingGroupRequest, DeletePackagingGroupRequest,
    DescribePackagingGroupRequest, EgressAccessLogs, ListPackagingGroupsRequest, PackagingGroup,
    UpdatePackagingGroupRequest,
};
use reelay_aws::{ApiError, Output, RequestContext};
use reelay_store::{ListQuery, NewRecord, Record, Scope, StoreError, TxOp, Update};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// The ARN of a packaging group.
pub(crate) fn arn(ctx: &RequestContext, id: &str) -> String {
    reelay_api_common::arn("mediapackage-vod", ctx, &format!("packaging-groups/{id}"))
}

/// Load a group; `None` when it does not exist.
pub(crate) async fn load(
    svc: &MediaPackageVod,
    scope: &Scope,
    id: &str,
) -> Result<Option<(Record, v1::Group)>, ApiError> {
    let rec = svc
        .deps
        .store
        .get(scope, KIND_GROUP, id)
        .await
        .map_err(|e| store_error(e, "PackagingGroup"))?;
    match rec {
        Some(rec) => {
            let body = records::decode(&rec)?;
            Ok(Some((rec, body)))
        }
        None => Ok(None),
    }
}

async fn load_existing(
    svc: &MediaPackageVod,
    scope: &Scope,
    id: &str,
) -> Result<(Record, v1::Group), ApiError> {
    load(svc, scope, id)
        .await?
        .ok_or_else(|| not_found(format!("PackagingGroup '{id}' does not exist")))
}

/// The group's `domainName`.
pub(crate) fn domain_name(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    group: &v1::Group,
) -> String {
    egress::domain_name(
        &svc.deps.endpoints.public_url,
        &ctx.region,
        &ctx.account,
        &group.egress_id,
    )
}

async fn asset_count(svc: &MediaPackageVod, scope: &Scope, id: &str) -> Result<i32, ApiError> {
    let n = svc
        .deps
        .store
        .count(scope, KIND_ASSET, Some(id))
        .await
        .map_err(|e| store_error(e, "Asset"))?;
    Ok(i32::try_from(n).unwrap_or(i32::MAX))
}

/// The API view of a group.
async fn view(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    rec: &Record,
    group: &v1::Group,
    with_count: bool,
) -> Result<PackagingGroup, ApiError> {
    let scope = scope(ctx);
    let tags = svc
        .deps
        .store
        .tags(&scope, &rec.arn)
        .await
        .map_err(|e| store_error(e, "PackagingGroup"))?;
    let approximate_asset_count = if with_count {
        Some(asset_count(svc, &scope, &group.id).await?)
    } else {
        None
    };
    Ok(PackagingGroup {
        approximate_asset_count,
        arn: Some(rec.arn.clone()),
        authorization: group.authorization.as_ref().map(|a| Authorization {
            cdn_identifier_secret: a.cdn_identifier_secret.clone(),
            secrets_role_arn: a.secrets_role_arn.clone(),
        }),
        created_at: Some(group.created_at.clone()),
        domain_name: Some(domain_name(svc, ctx, group)),
        egress_access_logs: group
            .egress_log_group_name
            .as_ref()
            .map(|n| EgressAccessLogs {
                log_group_name: Some(n.clone()),
            }),
        id: Some(group.id.clone()),
        tags: Some(tags),
    })
}

fn authorization(a: Option<Authorization>) -> Result<Option<v1::Authorization>, ApiError> {
    let Some(a) = a else { return Ok(None) };
    validate::authorization(&a).map_err(unprocessable)?;
    Ok(Some(v1::Authorization {
        cdn_identifier_secret: a.cdn_identifier_secret,
        secrets_role_arn: a.secrets_role_arn,
    }))
}

fn logs(l: Option<EgressAccessLogs>) -> Result<Option<String>, ApiError> {
    match l {
        None => Ok(None),
        Some(l) => validate::log_group_name(l.log_group_name.as_deref())
            .map(Some)
            .map_err(unprocessable),
    }
}

fn output(v: &PackagingGroup) -> Result<Output, ApiError> {
    Output::json(v)
}

pub(crate) async fn create(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: CreatePackagingGroupRequest,
) -> Result<Output, ApiError> {
    validate::resource_id("id", &req.id).map_err(unprocessable)?;
    let auth = authorization(req.authorization)?;
    let log_group = logs(req.egress_access_logs)?;
    let scope = scope(ctx);
    let n = svc
        .deps
        .store
        .count(&scope, KIND_GROUP, None)
        .await
        .map_err(|e| store_error(e, "PackagingGroup"))?;
    if !crate::quotas::has_room(n, svc.quotas.max_packaging_groups) {
        return Err(crate::quota_exceeded());
    }
    let now = svc.deps.clock.now();
    let group = v1::Group {
        schema_version: v1::VERSION,
        id: req.id.clone(),
        created_at: crate::iso8601(now),
        egress_id: reelay_api_common::random_hex(egress::EGRESS_ID_BYTES),
        authorization: auth,
        egress_log_group_name: log_group,
    };
    let arn = arn(ctx, &req.id);
    let rec = svc
        .deps
        .store
        .insert(
            &scope,
            NewRecord {
                kind: KIND_GROUP.into(),
                id: req.id.clone(),
                arn: arn.clone(),
                parent: None,
                index: BTreeMap::from([(
                    egress::INDEX_EGRESS.to_string(),
                    group.egress_id.clone(),
                )]),
                body: records::encode(&group)?,
                schema_version: v1::VERSION,
                tags: req.tags.unwrap_or_default(),
            },
        )
        .await
        .map_err(|e| match e {
            StoreError::AlreadyExists => {
                unprocessable(format!("PackagingGroup '{}' already exists", req.id))
            }
            e => store_error(e, "PackagingGroup"),
        })?;
    let mut v = view(svc, ctx, &rec, &group, false).await?;
    v.approximate_asset_count = None;
    record_event(
        svc,
        ctx,
        "CreatePackagingGroup",
        &rec.arn,
        json!({"id": group.id}),
        &v,
    )
    .await;
    output(&v)
}

pub(crate) async fn describe(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DescribePackagingGroupRequest,
) -> Result<Output, ApiError> {
    let (rec, group) = load_existing(svc, &scope(ctx), &req.id).await?;
    output(&view(svc, ctx, &rec, &group, true).await?)
}

pub(crate) async fn list(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: ListPackagingGroupsRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let query = ListQuery {
        kind: KIND_GROUP.into(),
        parent: None,
        filters: Vec::new(),
        limit: crate::page_size(req.max_results),
        page_token: req.next_token,
    };
    let page = svc
        .deps
        .store
        .list(&scope, &query)
        .await
        .map_err(|e| store_error(e, "PackagingGroup"))?;
    let mut items = Vec::with_capacity(page.items.len());
    for rec in &page.items {
        let group: v1::Group = records::decode(rec)?;
        items.push(
            serde_json::to_value(view(svc, ctx, rec, &group, true).await?).unwrap_or(Value::Null),
        );
    }
    let mut out = serde_json::Map::new();
    out.insert("PackagingGroups".into(), Value::Array(items));
    if let Some(t) = page.next_token {
        out.insert("NextToken".into(), Value::String(t));
    }
    Ok(Output::Json(Value::Object(out)))
}

/// Replace a group's body, re-reading on a concurrent change.
async fn modify(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    id: &str,
    change: impl Fn(&mut v1::Group),
) -> Result<(Record, v1::Group), ApiError> {
    let scope = scope(ctx);
    // A few attempts cover concurrent writers; each attempt is a compare-and-set on the version.
    let mut last = None;
    for _ in 0..3 {
        let (rec, mut group) = load_existing(svc, &scope, id).await?;
        change(&mut group);
        let update = Update {
            body: records::encode(&group)?,
            index: rec.index.clone(),
            parent: None,
            schema_version: v1::VERSION,
        };
        match svc
            .deps
            .store
            .update(&scope, KIND_GROUP, id, Some(rec.version), update)
            .await
        {
            Ok(rec) => return Ok((rec, group)),
            Err(e @ StoreError::VersionMismatch { .. }) => last = Some(e),
            Err(e) => return Err(store_error(e, "PackagingGroup")),
        }
    }
    Err(store_error(
        last.unwrap_or(StoreError::NotFound),
        "PackagingGroup",
    ))
}

pub(crate) async fn update(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: UpdatePackagingGroupRequest,
) -> Result<Output, ApiError> {
    // PUT replaces the group's authorization: without one, CDN authorization is turned off.
    let auth = authorization(req.authorization)?;
    let (rec, group) = modify(svc, ctx, &req.id, |g| g.authorization = auth.clone()).await?;
    let v = view(svc, ctx, &rec, &group, true).await?;
    record_event(
        svc,
        ctx,
        "UpdatePackagingGroup",
        &rec.arn,
        json!({"id": group.id}),
        &v,
    )
    .await;
    output(&v)
}

pub(crate) async fn configure_logs(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: ConfigureLogsRequest,
) -> Result<Output, ApiError> {
    // Without egressAccessLogs, logging is turned off (UG:access-logging).
    let log_group = logs(req.egress_access_logs)?;
    let (rec, group) = modify(svc, ctx, &req.id, |g| {
        g.egress_log_group_name = log_group.clone()
    })
    .await?;
    let mut v = view(svc, ctx, &rec, &group, false).await?;
    v.approximate_asset_count = None;
    record_event(
        svc,
        ctx,
        "ConfigureLogs",
        &rec.arn,
        json!({"id": group.id}),
        &v,
    )
    .await;
    output(&v)
}

pub(crate) async fn delete(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    req: DeletePackagingGroupRequest,
) -> Result<Output, ApiError> {
    let scope = scope(ctx);
    let ops = vec![
        TxOp::AssertNoChildren {
            kind: KIND_CONFIG.into(),
            parent: req.id.clone(),
        },
        TxOp::AssertNoChildren {
            kind: KIND_ASSET.into(),
            parent: req.id.clone(),
        },
        TxOp::Delete {
            kind: KIND_GROUP.into(),
            id: req.id.clone(),
            expected_version: None,
        },
    ];
    match svc.deps.store.transact(&scope, ops).await {
        Ok(done) => {
            let arn = done
                .into_iter()
                .flatten()
                .next()
                .map_or_else(|| arn(ctx, &req.id), |r| r.arn);
            record_api_call(
                svc,
                ctx,
                "DeletePackagingGroup",
                vec![arn],
                json!({"id": req.id}),
                Value::Null,
            )
            .await;
            Ok(Output::empty())
        }
        Err(StoreError::NotFound) => Err(not_found(format!(
            "PackagingGroup '{}' does not exist",
            req.id
        ))),
        Err(StoreError::ConditionFailed { op_index, .. }) => {
            let (kind, what) = if op_index == 0 {
                (KIND_CONFIG, "packaging configuration")
            } else {
                (KIND_ASSET, "asset")
            };
            let n = svc
                .deps
                .store
                .count(&scope, kind, Some(&req.id))
                .await
                .unwrap_or(0);
            Err(unprocessable(format!(
                "PackagingGroup '{}' cannot be deleted: it still has {n} {what}(s); delete them first",
                req.id
            )))
        }
        Err(e) => Err(store_error(e, "PackagingGroup")),
    }
}

/// Append the API-call event of a group operation.
async fn record_event(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    name: &str,
    arn: &str,
    params: Value,
    response: &PackagingGroup,
) {
    record_api_call(
        svc,
        ctx,
        name,
        vec![arn.to_string()],
        params,
        wire(response),
    )
    .await;
}

/// Append an `AWS API Call via CloudTrail` event for a successful state-changing call.
pub(crate) async fn record_api_call(
    svc: &MediaPackageVod,
    ctx: &RequestContext,
    name: &str,
    resources: Vec<String>,
    request_parameters: Value,
    response_elements: Value,
) {
    let now = svc.deps.clock.now();
    let event = events::api_call_event(events::ApiCall {
        ctx,
        time: now,
        event_name: name,
        resources,
        request_parameters,
        response_elements,
    });
    svc.events
        .record(&ctx.account, &ctx.region, now, &event)
        .await;
}

/// A group in wire (camelCase) form for event payloads, which carry what the API returned.
fn wire(g: &PackagingGroup) -> Value {
    json!({
        "arn": g.arn,
        "id": g.id,
        "domainName": g.domain_name,
        "createdAt": g.created_at,
        "egressAccessLogs": g.egress_access_logs.as_ref().map(|l| json!({"logGroupName": l.log_group_name})),
        "authorization": g.authorization.as_ref().map(|a| json!({
            "cdnIdentifierSecret": a.cdn_identifier_secret,
            "secretsRoleArn": a.secrets_role_arn,
        })),
    })
}
