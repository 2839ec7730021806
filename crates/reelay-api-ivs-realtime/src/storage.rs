//! Storage configurations: an S3 bucket on reelay's own S3 endpoint that compositions and
//! individual participant recording write to.

use crate::limits;
use crate::records::{self, v1};
use crate::util::{self, Call};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery};
use std::collections::BTreeMap;

async fn view(
    call: &Call<'_>,
    arn: &str,
    body: v1::StorageConfiguration,
) -> Result<t::StorageConfiguration, ApiError> {
    Ok(t::StorageConfiguration {
        arn: arn.to_string(),
        name: Some(body.name),
        s3: Some(t::S3StorageConfiguration {
            bucket_name: body.bucket_name,
        }),
        tags: Some(call.tags(arn).await?),
    })
}

pub(crate) async fn create(
    call: &Call<'_>,
    req: t::CreateStorageConfigurationRequest,
) -> Result<t::CreateStorageConfigurationResponse, ApiError> {
    let bucket = req.s3.bucket_name;
    // AWS checks that IVS can write to the bucket; reelay checks that it exists on its S3
    // endpoint (the bucket name pattern was checked by the model). A missing bucket is a
    // missing resource, which this operation models.
    if call.deps.blob.head_bucket(&bucket).await.is_err() {
        return Err(util::not_found("S3 bucket", &bucket));
    }
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("storage-configuration", &id);
    let body = v1::StorageConfiguration {
        schema_version: v1::SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        bucket_name: bucket,
    };
    let rec = util::new_record(
        records::KIND_STORAGE_CONFIGURATION,
        &id,
        arn.clone(),
        None,
        BTreeMap::new(),
        &body,
        req.tags.unwrap_or_default(),
    )?;
    call.deps
        .store
        .insert(&call.scope, rec)
        .await
        .map_err(|e| util::store_err(e, "storage configuration"))?;
    Ok(t::CreateStorageConfigurationResponse {
        storage_configuration: Some(view(call, &arn, body).await?),
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetStorageConfigurationRequest,
) -> Result<t::GetStorageConfigurationResponse, ApiError> {
    let (_, body) = call
        .fetch(
            records::KIND_STORAGE_CONFIGURATION,
            &req.arn,
            "storage configuration",
        )
        .await?;
    Ok(t::GetStorageConfigurationResponse {
        storage_configuration: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListStorageConfigurationsRequest,
) -> Result<t::ListStorageConfigurationsResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_STORAGE_CONFIGURATION.into(),
                parent: None,
                filters: vec![],
                limit: util::page_size(req.max_results, 100, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "storage configuration"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let body: v1::StorageConfiguration = util::decode(&r)?;
        out.push(t::StorageConfigurationSummary {
            name: Some(body.name),
            s3: Some(t::S3StorageConfiguration {
                bucket_name: body.bucket_name,
            }),
            tags: Some(call.tags(&r.arn).await?),
            arn: r.arn,
        });
    }
    Ok(t::ListStorageConfigurationsResponse {
        storage_configurations: out,
        next_token: page.next_token,
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: t::DeleteStorageConfigurationRequest,
) -> Result<t::DeleteStorageConfigurationResponse, ApiError> {
    let (rec, _) = call
        .fetch::<v1::StorageConfiguration>(
            records::KIND_STORAGE_CONFIGURATION,
            &req.arn,
            "storage configuration",
        )
        .await?;
    // "If you try to delete a storage configuration that is used by a Composition, you will
    // get an error (409 ConflictException)." reelay also refuses while a stage records to it.
    if crate::composition::in_use(call, &format!("sc:{}", req.arn)).await? {
        return Err(util::conflict(format!(
            "storage configuration {} is used by a composition; stop the composition first",
            req.arn
        )));
    }
    let stages = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_STAGE.into(),
                parent: None,
                filters: vec![Filter::Eq {
                    key: "sc".into(),
                    value: req.arn.clone(),
                }],
                limit: 1,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "stage"))?;
    if let Some(stage) = stages.items.first() {
        return Err(util::conflict(format!(
            "storage configuration {} is used for participant recording by stage {}",
            req.arn, stage.arn
        )));
    }
    call.deps
        .store
        .delete(
            &call.scope,
            records::KIND_STORAGE_CONFIGURATION,
            &rec.id,
            Some(rec.version),
        )
        .await
        .map_err(|e| util::store_err(e, "storage configuration"))?;
    Ok(t::DeleteStorageConfigurationResponse {})
}
