//! The `kinesisvideo` service: streams, signaling channels and their configurations.

use crate::Quotas;
use crate::endpoints::websocket_url;
use crate::limits::*;
use crate::records::*;
use reelay_api_common::{Deps, StoreErrors, parse_arn, random_id, scope};
use reelay_aws::generated::kinesisvideo::types::*;
use reelay_aws::generated::kinesisvideo::{MODEL, Op, errors};
use reelay_aws::{
    ApiError, ErrorCode, Output, RequestContext, Service, ServiceId, ServiceModel, from_input,
};
use reelay_store::{Filter, ListQuery, NewRecord, Record, Scope, StoreError, TxOp, Update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

/// How the store's failures read in `kinesisvideo`.
pub(crate) const STORE_ERRORS: StoreErrors = StoreErrors {
    service: ServiceId::KinesisVideo,
    not_found: errors::RESOURCE_NOT_FOUND_EXCEPTION,
    conflict: errors::RESOURCE_IN_USE_EXCEPTION,
    too_many_tags: Some(errors::TAGS_PER_RESOURCE_EXCEEDED_LIMIT_EXCEPTION),
};

/// State shared by the three services of this crate.
pub(crate) struct Kvs {
    pub deps: Deps,
    pub quotas: Quotas,
}

/// A stored document type.
pub(crate) trait Doc: Serialize + DeserializeOwned + Send {
    /// Index attributes at `now_ms`.
    fn index(&self, now_ms: i64) -> BTreeMap<String, String>;
    /// The record parent.
    fn parent(&self) -> Option<String>;
}

impl Doc for StreamDoc {
    fn index(&self, now_ms: i64) -> BTreeMap<String, String> {
        StreamDoc::index(self, now_ms)
    }
    fn parent(&self) -> Option<String> {
        None
    }
}

impl Doc for ChannelDoc {
    fn index(&self, _now_ms: i64) -> BTreeMap<String, String> {
        BTreeMap::new()
    }
    fn parent(&self) -> Option<String> {
        ChannelDoc::parent(self)
    }
}

fn invalid(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::INVALID_ARGUMENT_EXCEPTION, msg)
}

fn internal(msg: impl Into<String>) -> ApiError {
    ApiError::internal(ServiceId::KinesisVideo, msg)
}

/// Decode a stored body; a body that does not decode is a server-side fault.
pub(crate) fn decode<D: DeserializeOwned>(rec: &Record) -> Result<D, ApiError> {
    serde_json::from_value(rec.body.clone()).map_err(|e| {
        internal(format!(
            "stored {} '{}' cannot be decoded: {e}",
            rec.kind, rec.id
        ))
    })
}

fn encode<D: Serialize>(doc: &D) -> Result<Value, ApiError> {
    serde_json::to_value(doc).map_err(|e| internal(format!("cannot encode record: {e}")))
}

/// A fresh KVS `Version` string.
fn new_version() -> String {
    random_id(VERSION_LEN)
}

/// `CurrentVersion` must name the version the resource has now.
fn check_version(current: &str, given: Option<&str>) -> Result<(), ApiError> {
    match given {
        Some(v) if v != current => Err(ApiError::new(
            errors::VERSION_MISMATCH_EXCEPTION,
            format!("CurrentVersion {v} does not match the current version {current}"),
        )),
        _ => Ok(()),
    }
}

/// The store's page tokens are base64url; KVS `NextToken` only allows `[a-zA-Z0-9+/=]`, so
/// the two alphabets are swapped at the edge (a bijection, so nothing is lost).
pub(crate) fn token_out(token: Option<String>) -> Option<String> {
    token.map(|t| t.replace('-', "+").replace('_', "/"))
}

/// The inverse of [`token_out`]; an empty token means "first page".
pub(crate) fn token_in(token: Option<String>) -> Option<String> {
    token
        .filter(|t| !t.is_empty())
        .map(|t| t.replace('+', "-").replace('/', "_"))
}

fn clamp_page(requested: Option<i32>, default: usize, max: usize) -> usize {
    reelay_api_common::page_size(requested.map(i64::from), default, max)
}

/// Tag keys beginning with `aws:` are reserved for AWS (the AWS tagging rules).
fn check_tag_keys<'a>(keys: impl IntoIterator<Item = &'a String>) -> Result<(), ApiError> {
    for k in keys {
        if k.to_ascii_lowercase().starts_with("aws:") {
            return Err(invalid(format!(
                "tag key '{k}' uses the reserved prefix 'aws:'"
            )));
        }
    }
    Ok(())
}

fn stream_not_found(what: &str) -> ApiError {
    ApiError::new(
        errors::RESOURCE_NOT_FOUND_EXCEPTION,
        format!("The stream {what} does not exist"),
    )
}

fn channel_not_found(what: &str) -> ApiError {
    ApiError::new(
        errors::RESOURCE_NOT_FOUND_EXCEPTION,
        format!("The signaling channel {what} does not exist"),
    )
}

impl Kvs {
    pub(crate) fn now_ms(&self) -> i64 {
        epoch_ms(self.deps.clock.now())
    }

    /// Refuse a create when the account already has `limit` resources of `kind` in the region.
    async fn check_quota(
        &self,
        ctx: &RequestContext,
        scope: &Scope,
        kind: &str,
        what: &str,
        limit: u64,
        code: ErrorCode,
    ) -> Result<(), ApiError> {
        let n = self
            .deps
            .store
            .count(scope, kind, None)
            .await
            .map_err(|e| STORE_ERRORS.map(e, what))?;
        if n >= limit {
            return Err(ApiError::new(
                code,
                format!(
                    "the account already has {n} {what} in {} (limit {limit})",
                    ctx.region
                ),
            ));
        }
        Ok(())
    }

    /// Find a stream by name or ARN. `bad_arn` is the error for an ARN that names something
    /// other than a stream (`InvalidResourceFormatException` for the stream tag operations).
    pub(crate) async fn stream(
        &self,
        scope: &Scope,
        name: Option<&str>,
        arn: Option<&str>,
        bad_arn: ErrorCode,
    ) -> Result<(Record, StreamDoc), ApiError> {
        let rec = match (name, arn) {
            // The request must name the stream one way or the other.
            (None, None) => {
                return Err(invalid("either StreamName or StreamARN must be specified"));
            }
            (_, Some(arn)) => {
                if parse_arn(arn)
                    .is_none_or(|p| p.service != "kinesisvideo" || p.resource_type != "stream")
                {
                    return Err(ApiError::new(
                        bad_arn,
                        format!("{arn} is not the ARN of a stream"),
                    ));
                }
                let rec = self
                    .deps
                    .store
                    .get_by_arn(scope, arn)
                    .await
                    .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
                match rec.filter(|r| r.kind == STREAM_KIND) {
                    Some(r) => {
                        if name.is_some_and(|n| n != r.id) {
                            return Err(invalid("StreamName and StreamARN name different streams"));
                        }
                        r
                    }
                    None => return Err(stream_not_found(arn)),
                }
            }
            (Some(name), None) => self
                .deps
                .store
                .get(scope, STREAM_KIND, name)
                .await
                .map_err(|e| STORE_ERRORS.map(e, "stream"))?
                .ok_or_else(|| stream_not_found(name))?,
        };
        let doc = decode(&rec)?;
        Ok((rec, doc))
    }

    /// Find a channel by name or ARN; `Ok(None)` when there is none (callers of the three
    /// services word the error differently).
    pub(crate) async fn find_channel(
        &self,
        scope: &Scope,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<Option<(Record, ChannelDoc)>, StoreError> {
        let rec = match (name, arn) {
            (_, Some(arn)) => self
                .deps
                .store
                .get_by_arn(scope, arn)
                .await?
                .filter(|r| r.kind == CHANNEL_KIND),
            (Some(name), None) => self.deps.store.get(scope, CHANNEL_KIND, name).await?,
            (None, None) => None,
        };
        let Some(rec) = rec else { return Ok(None) };
        if name.is_some_and(|n| n != rec.id) {
            return Ok(None);
        }
        let doc = serde_json::from_value(rec.body.clone()).map_err(StoreError::from)?;
        Ok(Some((rec, doc)))
    }

    async fn channel(
        &self,
        scope: &Scope,
        name: Option<&str>,
        arn: Option<&str>,
    ) -> Result<(Record, ChannelDoc), ApiError> {
        // The request must name the channel one way or the other.
        if name.is_none() && arn.is_none() {
            return Err(invalid(
                "either ChannelName or ChannelARN must be specified",
            ));
        }
        self.find_channel(scope, name, arn)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "signaling channel"))?
            .ok_or_else(|| channel_not_found(arn.or(name).unwrap_or_default()))
    }

    /// Read-modify-write of one record, retried when another writer got there first.
    ///
    /// `f` sees the current document (and the time) on every attempt, so checks such as
    /// `CurrentVersion` are made against the state the write replaces.
    pub(crate) async fn modify<D, F>(
        &self,
        scope: &Scope,
        mut rec: Record,
        mut f: F,
    ) -> Result<(Record, D), ApiError>
    where
        D: Doc,
        F: FnMut(&mut D, i64) -> Result<(), ApiError> + Send,
    {
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut doc: D = decode(&rec)?;
            let now = self.now_ms();
            f(&mut doc, now)?;
            let update = Update {
                body: encode(&doc)?,
                index: doc.index(now),
                parent: doc.parent(),
                schema_version: SCHEMA_VERSION,
            };
            match self
                .deps
                .store
                .update(scope, &rec.kind, &rec.id, Some(rec.version), update)
                .await
            {
                Ok(written) => return Ok((written, doc)),
                Err(StoreError::VersionMismatch { .. }) => {
                    rec = self
                        .deps
                        .store
                        .get(scope, &rec.kind, &rec.id)
                        .await
                        .map_err(|e| STORE_ERRORS.map(e, &rec.kind))?
                        .ok_or_else(|| {
                            ApiError::new(
                                errors::RESOURCE_NOT_FOUND_EXCEPTION,
                                "the resource was deleted",
                            )
                        })?;
                }
                Err(e) => return Err(STORE_ERRORS.map(e, "resource")),
            }
        }
        Err(ApiError::new(
            errors::CLIENT_LIMIT_EXCEEDED_EXCEPTION,
            "too many concurrent changes to this resource; retry",
        ))
    }

    // ---- Streams -------------------------------------------------------------------------

    async fn create_stream(
        &self,
        ctx: &RequestContext,
        req: CreateStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let retention = req.data_retention_in_hours.unwrap_or(0);
        if retention > MAX_DATA_RETENTION_HOURS {
            return Err(invalid(format!(
                "DataRetentionInHours must be at most {MAX_DATA_RETENTION_HOURS}"
            )));
        }
        let tags = req.tags.unwrap_or_default();
        check_tag_keys(tags.keys())?;
        self.check_quota(
            ctx,
            &scope,
            STREAM_KIND,
            "streams",
            self.quotas.max_streams,
            errors::ACCOUNT_STREAM_LIMIT_EXCEEDED_EXCEPTION,
        )
        .await?;
        let now = self.now_ms();
        let arn = reelay_api_common::arn(
            "kinesisvideo",
            ctx,
            &format!("stream/{}/{now}", req.stream_name),
        );
        let doc = StreamDoc {
            schema_version: SCHEMA_VERSION,
            name: req.stream_name.clone(),
            arn: arn.clone(),
            device_name: req.device_name,
            media_type: req.media_type,
            // Streams without a key are encrypted with the KVS-managed key.
            kms_key_id: req.kms_key_id.unwrap_or_else(|| {
                format!(
                    "arn:aws:kms:{}:{}:alias/aws/kinesisvideo",
                    ctx.region, ctx.account
                )
            }),
            data_retention_hours: retention,
            version: new_version(),
            created_ms: now,
            storage_tier: req
                .stream_storage_configuration
                .map(|s| s.default_storage_tier)
                .unwrap_or_default(),
            image_generation: None,
            notification: None,
            edge: None,
        };
        let rec = NewRecord {
            kind: STREAM_KIND.into(),
            id: req.stream_name.clone(),
            arn: arn.clone(),
            parent: None,
            index: doc.index(now),
            body: encode(&doc)?,
            schema_version: SCHEMA_VERSION,
            tags,
        };
        match self.deps.store.insert(&scope, rec).await {
            Ok(_) => Output::json(&CreateStreamOutput {
                stream_arn: Some(arn),
            }),
            Err(StoreError::AlreadyExists) => Err(ApiError::new(
                errors::RESOURCE_IN_USE_EXCEPTION,
                format!("The stream {} already exists", req.stream_name),
            )),
            Err(e) => Err(STORE_ERRORS.map(e, "stream")),
        }
    }

    async fn describe_stream(
        &self,
        ctx: &RequestContext,
        req: DescribeStreamInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .stream(
                &scope(ctx),
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        Output::json(&DescribeStreamOutput {
            stream_info: Some(doc.info(self.now_ms())),
        })
    }

    async fn list_streams(
        &self,
        ctx: &RequestContext,
        req: ListStreamsInput,
    ) -> Result<Output, ApiError> {
        let mut filters = Vec::new();
        if let Some(prefix) = req.stream_name_condition.and_then(|c| c.comparison_value) {
            filters.push(Filter::Prefix {
                key: "id".into(),
                prefix,
            });
        }
        let query = ListQuery {
            kind: STREAM_KIND.into(),
            parent: None,
            filters,
            limit: clamp_page(req.max_results, LIST_STREAMS_MAX, LIST_STREAMS_MAX),
            page_token: token_in(req.next_token),
        };
        let page = self
            .deps
            .store
            .list(&scope(ctx), &query)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
        let now = self.now_ms();
        let infos = page
            .items
            .iter()
            .map(|r| decode::<StreamDoc>(r).map(|d| d.info(now)))
            .collect::<Result<Vec<_>, _>>()?;
        Output::json(&ListStreamsOutput {
            next_token: token_out(page.next_token),
            stream_info_list: Some(infos),
        })
    }

    async fn update_stream(
        &self,
        ctx: &RequestContext,
        req: UpdateStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, _) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, _| {
            check_version(&doc.version, Some(&req.current_version))?;
            if let Some(d) = &req.device_name {
                doc.device_name = Some(d.clone());
            }
            if let Some(m) = &req.media_type {
                doc.media_type = Some(m.clone());
            }
            doc.version = new_version();
            Ok(())
        })
        .await?;
        Output::json(&UpdateStreamOutput {})
    }

    async fn update_data_retention(
        &self,
        ctx: &RequestContext,
        req: UpdateDataRetentionInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, _) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, _| {
            check_version(&doc.version, Some(&req.current_version))?;
            let change = i64::from(req.data_retention_change_in_hours);
            let current = i64::from(doc.data_retention_hours);
            let next = match req.operation {
                UpdateDataRetentionOperation::IncreaseDataRetention => current + change,
                UpdateDataRetentionOperation::DecreaseDataRetention => current - change,
            };
            if !(0..=i64::from(MAX_DATA_RETENTION_HOURS)).contains(&next) {
                return Err(invalid(format!(
                    "the data retention would become {next} hours; it must stay between 0 and {MAX_DATA_RETENTION_HOURS}"
                )));
            }
            // `next` is within 0..=87600, so it fits an i32.
            doc.data_retention_hours = i32::try_from(next).unwrap_or(MAX_DATA_RETENTION_HOURS);
            doc.version = new_version();
            Ok(())
        })
        .await?;
        Output::json(&UpdateDataRetentionOutput {})
    }

    async fn delete_stream(
        &self,
        ctx: &RequestContext,
        req: DeleteStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (mut rec, _) = self
            .stream(
                &scope,
                None,
                Some(&req.stream_arn),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let doc: StreamDoc = decode(&rec)?;
            check_version(&doc.version, req.current_version.as_deref())?;
            // The stream's own configurations (image generation, notification, edge, storage
            // tier) and tags live in its record and go with it; a channel that stores its media
            // here must be re-pointed first, so the transaction asserts there is none.
            let ops = vec![
                TxOp::AssertNoChildren {
                    kind: CHANNEL_KIND.into(),
                    parent: doc.arn.clone(),
                },
                TxOp::Delete {
                    kind: STREAM_KIND.into(),
                    id: rec.id.clone(),
                    expected_version: Some(rec.version),
                },
            ];
            match self.deps.store.transact(&scope, ops).await {
                Ok(_) => return Output::json(&DeleteStreamOutput {}),
                Err(StoreError::ConditionFailed { op_index: 0, .. }) => {
                    return Err(ApiError::new(
                        errors::RESOURCE_IN_USE_EXCEPTION,
                        format!(
                            "The stream {} is the media storage of a signaling channel; update that channel's media storage configuration first",
                            doc.name
                        ),
                    ));
                }
                Err(StoreError::VersionMismatch { .. }) => {
                    rec = self
                        .deps
                        .store
                        .get(&scope, STREAM_KIND, &rec.id)
                        .await
                        .map_err(|e| STORE_ERRORS.map(e, "stream"))?
                        .ok_or_else(|| stream_not_found(&req.stream_arn))?;
                }
                Err(StoreError::NotFound) => return Err(stream_not_found(&req.stream_arn)),
                Err(e) => return Err(STORE_ERRORS.map(e, "stream")),
            }
        }
        Err(ApiError::new(
            errors::CLIENT_LIMIT_EXCEEDED_EXCEPTION,
            "too many concurrent changes to this stream; retry",
        ))
    }

    async fn describe_stream_storage(
        &self,
        ctx: &RequestContext,
        req: DescribeStreamStorageConfigurationInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .stream(
                &scope(ctx),
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        Output::json(&DescribeStreamStorageConfigurationOutput {
            stream_arn: Some(doc.arn),
            stream_name: Some(doc.name),
            stream_storage_configuration: Some(StreamStorageConfiguration {
                default_storage_tier: doc.storage_tier,
            }),
        })
    }

    async fn update_stream_storage(
        &self,
        ctx: &RequestContext,
        req: UpdateStreamStorageConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, _) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, _| {
            check_version(&doc.version, Some(&req.current_version))?;
            doc.storage_tier = req.stream_storage_configuration.default_storage_tier;
            doc.version = new_version();
            Ok(())
        })
        .await?;
        Output::json(&UpdateStreamStorageConfigurationOutput {})
    }

    async fn get_data_endpoint(
        &self,
        ctx: &RequestContext,
        req: GetDataEndpointInput,
    ) -> Result<Output, ApiError> {
        self.stream(
            &scope(ctx),
            req.stream_name.as_deref(),
            req.stream_arn.as_deref(),
            errors::RESOURCE_NOT_FOUND_EXCEPTION,
        )
        .await?;
        // Every data-plane API is served on the same listener; like AWS, the endpoint comes
        // back without the API name (clients append the operation path themselves).
        Output::json(&GetDataEndpointOutput {
            data_endpoint: Some(self.deps.endpoints.public_url.clone()),
        })
    }

    // ---- Image generation and notifications ------------------------------------------------

    async fn update_image_generation(
        &self,
        ctx: &RequestContext,
        req: UpdateImageGenerationConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        if let Some(cfg) = &req.image_generation_configuration {
            validate_image_generation(cfg, &ctx.region)?;
            require_retention(&doc)?;
        }
        let cfg = req.image_generation_configuration;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, _| {
            if cfg.is_some() {
                require_retention(doc)?;
            }
            doc.image_generation = cfg.clone();
            Ok(())
        })
        .await?;
        Output::json(&UpdateImageGenerationConfigurationOutput {})
    }

    async fn describe_image_generation(
        &self,
        ctx: &RequestContext,
        req: DescribeImageGenerationConfigurationInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .stream(
                &scope(ctx),
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        Output::json(&DescribeImageGenerationConfigurationOutput {
            image_generation_configuration: doc.image_generation,
        })
    }

    async fn update_notification(
        &self,
        ctx: &RequestContext,
        req: UpdateNotificationConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        if req.notification_configuration.is_some() {
            require_retention(&doc)?;
        }
        let cfg = req.notification_configuration;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, _| {
            if cfg.is_some() {
                require_retention(doc)?;
            }
            doc.notification = cfg.clone();
            Ok(())
        })
        .await?;
        Output::json(&UpdateNotificationConfigurationOutput {})
    }

    async fn describe_notification(
        &self,
        ctx: &RequestContext,
        req: DescribeNotificationConfigurationInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .stream(
                &scope(ctx),
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        Output::json(&DescribeNotificationConfigurationOutput {
            notification_configuration: doc.notification,
        })
    }

    // ---- Edge configurations ------------------------------------------------------------------

    async fn start_edge_update(
        &self,
        ctx: &RequestContext,
        req: StartEdgeConfigurationUpdateInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        validate_edge_config(&req.edge_config)?;
        require_retention(&doc)?;
        let cfg = req.edge_config;
        let (_, doc) = self
            .modify::<StreamDoc, _>(&scope, rec, |doc, now| {
                require_retention(doc)?;
                let current = doc.edge.as_ref().and_then(|e| e.view(now));
                if let Some(v) = &current
                    && matches!(
                        v.status,
                        SyncStatus::Syncing
                            | SyncStatus::Acknowledged
                            | SyncStatus::Deleting
                            | SyncStatus::DeletingAcknowledged
                    )
                {
                    return Err(ApiError::new(
                        errors::RESOURCE_IN_USE_EXCEPTION,
                        format!(
                            "the edge configuration of stream {} is {}; wait for it to finish",
                            doc.name,
                            v.status.as_str()
                        ),
                    ));
                }
                doc.edge = Some(EdgeDoc {
                    config: cfg.clone(),
                    status: SyncStatus::Syncing,
                    created_ms: current.map_or(now, |v| v.created_ms),
                    updated_ms: now,
                    failed_details: None,
                });
                Ok(())
            })
            .await?;
        let view = doc
            .edge
            .as_ref()
            .and_then(|e| e.view(self.now_ms()))
            .ok_or_else(|| internal("edge configuration vanished"))?;
        Output::json(&StartEdgeConfigurationUpdateOutput {
            creation_time: Some(ts(view.created_ms)),
            edge_config: Some(view.config),
            failed_status_details: view.failed_details,
            last_updated_time: Some(ts(view.updated_ms)),
            stream_arn: Some(doc.arn),
            stream_name: Some(doc.name),
            sync_status: Some(view.status),
        })
    }

    async fn describe_edge(
        &self,
        ctx: &RequestContext,
        req: DescribeEdgeConfigurationInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .stream(
                &scope(ctx),
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        let view = doc
            .edge
            .as_ref()
            .and_then(|e| e.view(self.now_ms()))
            .ok_or_else(|| edge_not_found(&doc.name))?;
        Output::json(&DescribeEdgeConfigurationOutput {
            creation_time: Some(ts(view.created_ms)),
            // reelay has no edge agent, so there is no agent status to report.
            edge_agent_status: None,
            edge_config: Some(view.config),
            failed_status_details: view.failed_details,
            last_updated_time: Some(ts(view.updated_ms)),
            stream_arn: Some(doc.arn),
            stream_name: Some(doc.name),
            sync_status: Some(view.status),
        })
    }

    async fn delete_edge(
        &self,
        ctx: &RequestContext,
        req: DeleteEdgeConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, _) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        self.modify::<StreamDoc, _>(&scope, rec, |doc, now| {
            let Some(view) = doc.edge.as_ref().and_then(|e| e.view(now)) else {
                return Err(edge_not_found(&doc.name));
            };
            if !matches!(
                view.status,
                SyncStatus::Deleting | SyncStatus::DeletingAcknowledged
            ) {
                doc.edge = Some(EdgeDoc {
                    config: view.config,
                    status: SyncStatus::Deleting,
                    created_ms: view.created_ms,
                    updated_ms: now,
                    failed_details: None,
                });
            }
            Ok(())
        })
        .await?;
        Output::json(&DeleteEdgeConfigurationOutput {})
    }

    async fn list_edge(
        &self,
        ctx: &RequestContext,
        req: ListEdgeAgentConfigurationsInput,
    ) -> Result<Output, ApiError> {
        let query = ListQuery {
            kind: STREAM_KIND.into(),
            parent: None,
            filters: vec![Filter::Eq {
                key: INDEX_HUB.into(),
                value: req.hub_device_arn.clone(),
            }],
            limit: clamp_page(req.max_results, LIST_EDGE_MAX, LIST_EDGE_MAX),
            page_token: token_in(req.next_token),
        };
        let page = self
            .deps
            .store
            .list(&scope(ctx), &query)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
        let now = self.now_ms();
        let mut out = Vec::with_capacity(page.items.len());
        for rec in &page.items {
            let doc: StreamDoc = decode(rec)?;
            // The index is written with the record; a deletion that completed by time since
            // then is filtered here.
            let Some(view) = doc.edge.as_ref().and_then(|e| e.view(now)) else {
                continue;
            };
            if view.config.hub_device_arn != req.hub_device_arn {
                continue;
            }
            out.push(ListEdgeAgentConfigurationsEdgeConfig {
                creation_time: Some(ts(view.created_ms)),
                edge_config: Some(view.config),
                failed_status_details: view.failed_details,
                last_updated_time: Some(ts(view.updated_ms)),
                stream_arn: Some(doc.arn),
                stream_name: Some(doc.name),
                sync_status: Some(view.status),
            });
        }
        Output::json(&ListEdgeAgentConfigurationsOutput {
            edge_configs: Some(out),
            next_token: token_out(page.next_token),
        })
    }

    // ---- Signaling channels -----------------------------------------------------------------

    async fn create_channel(
        &self,
        ctx: &RequestContext,
        req: CreateSignalingChannelInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let mut tags = BTreeMap::new();
        for t in req.tags.unwrap_or_default() {
            if tags.insert(t.key.clone(), t.value).is_some() {
                return Err(invalid(format!("tag key '{}' is given twice", t.key)));
            }
        }
        check_tag_keys(tags.keys())?;
        self.check_quota(
            ctx,
            &scope,
            CHANNEL_KIND,
            "signaling channels",
            self.quotas.max_channels,
            errors::ACCOUNT_CHANNEL_LIMIT_EXCEEDED_EXCEPTION,
        )
        .await?;
        let now = self.now_ms();
        let arn = reelay_api_common::arn(
            "kinesisvideo",
            ctx,
            &format!("channel/{}/{now}", req.channel_name),
        );
        let doc = ChannelDoc {
            schema_version: SCHEMA_VERSION,
            name: req.channel_name.clone(),
            arn: arn.clone(),
            channel_type: req.channel_type.unwrap_or_default(),
            message_ttl_seconds: req
                .single_master_configuration
                .and_then(|c| c.message_ttl_seconds)
                .unwrap_or(DEFAULT_MESSAGE_TTL_SECONDS),
            version: new_version(),
            created_ms: now,
            media_storage: None,
        };
        let rec = NewRecord {
            kind: CHANNEL_KIND.into(),
            id: req.channel_name.clone(),
            arn: arn.clone(),
            parent: None,
            index: BTreeMap::new(),
            body: encode(&doc)?,
            schema_version: SCHEMA_VERSION,
            tags,
        };
        match self.deps.store.insert(&scope, rec).await {
            Ok(_) => Output::json(&CreateSignalingChannelOutput {
                channel_arn: Some(arn),
            }),
            Err(StoreError::AlreadyExists) => Err(ApiError::new(
                errors::RESOURCE_IN_USE_EXCEPTION,
                format!("The signaling channel {} already exists", req.channel_name),
            )),
            Err(e) => Err(STORE_ERRORS.map(e, "signaling channel")),
        }
    }

    async fn describe_channel(
        &self,
        ctx: &RequestContext,
        req: DescribeSignalingChannelInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .channel(
                &scope(ctx),
                req.channel_name.as_deref(),
                req.channel_arn.as_deref(),
            )
            .await?;
        Output::json(&DescribeSignalingChannelOutput {
            channel_info: Some(doc.info(self.now_ms())),
        })
    }

    async fn list_channels(
        &self,
        ctx: &RequestContext,
        req: ListSignalingChannelsInput,
    ) -> Result<Output, ApiError> {
        let mut filters = Vec::new();
        if let Some(prefix) = req.channel_name_condition.and_then(|c| c.comparison_value) {
            filters.push(Filter::Prefix {
                key: "id".into(),
                prefix,
            });
        }
        let query = ListQuery {
            kind: CHANNEL_KIND.into(),
            parent: None,
            filters,
            limit: clamp_page(req.max_results, LIST_CHANNELS_DEFAULT, LIST_CHANNELS_MAX),
            page_token: token_in(req.next_token),
        };
        let page = self
            .deps
            .store
            .list(&scope(ctx), &query)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "signaling channel"))?;
        let now = self.now_ms();
        let infos = page
            .items
            .iter()
            .map(|r| decode::<ChannelDoc>(r).map(|d| d.info(now)))
            .collect::<Result<Vec<_>, _>>()?;
        Output::json(&ListSignalingChannelsOutput {
            channel_info_list: Some(infos),
            next_token: token_out(page.next_token),
        })
    }

    async fn update_channel(
        &self,
        ctx: &RequestContext,
        req: UpdateSignalingChannelInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (rec, _) = self.channel(&scope, None, Some(&req.channel_arn)).await?;
        self.modify::<ChannelDoc, _>(&scope, rec, |doc, _| {
            check_version(&doc.version, Some(&req.current_version))?;
            if let Some(ttl) = req
                .single_master_configuration
                .as_ref()
                .and_then(|c| c.message_ttl_seconds)
            {
                doc.message_ttl_seconds = ttl;
            }
            doc.version = new_version();
            Ok(())
        })
        .await?;
        Output::json(&UpdateSignalingChannelOutput {})
    }

    async fn delete_channel(
        &self,
        ctx: &RequestContext,
        req: DeleteSignalingChannelInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (mut rec, _) = self.channel(&scope, None, Some(&req.channel_arn)).await?;
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let doc: ChannelDoc = decode(&rec)?;
            check_version(&doc.version, req.current_version.as_deref())?;
            match self
                .deps
                .store
                .delete(&scope, CHANNEL_KIND, &rec.id, Some(rec.version))
                .await
            {
                Ok(_) => return Output::json(&DeleteSignalingChannelOutput {}),
                Err(StoreError::VersionMismatch { .. }) => {
                    rec = self
                        .deps
                        .store
                        .get(&scope, CHANNEL_KIND, &rec.id)
                        .await
                        .map_err(|e| STORE_ERRORS.map(e, "signaling channel"))?
                        .ok_or_else(|| channel_not_found(&req.channel_arn))?;
                }
                Err(StoreError::NotFound) => return Err(channel_not_found(&req.channel_arn)),
                Err(e) => return Err(STORE_ERRORS.map(e, "signaling channel")),
            }
        }
        Err(ApiError::new(
            errors::CLIENT_LIMIT_EXCEEDED_EXCEPTION,
            "too many concurrent changes to this channel; retry",
        ))
    }

    async fn get_channel_endpoint(
        &self,
        ctx: &RequestContext,
        req: GetSignalingChannelEndpointInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .channel(&scope(ctx), None, Some(&req.channel_arn))
            .await?;
        let cfg = req
            .single_master_channel_endpoint_configuration
            .unwrap_or_default();
        let mut protocols = cfg
            .protocols
            .unwrap_or_else(|| vec![ChannelProtocol::Wss, ChannelProtocol::Https]);
        protocols.sort();
        protocols.dedup();
        let public = &self.deps.endpoints.public_url;
        let mut list = Vec::with_capacity(protocols.len());
        for p in protocols {
            let endpoint = match p {
                ChannelProtocol::Wss => websocket_url(public),
                ChannelProtocol::Https => public.clone(),
                ChannelProtocol::Webrtc => {
                    // The WebRTC (storage session) endpoint exists only for channels that
                    // ingest into a stream.
                    if !doc.storage_enabled() {
                        return Err(invalid(format!(
                            "the WEBRTC endpoint needs media storage; enable it on {} with UpdateMediaStorageConfiguration",
                            doc.name
                        )));
                    }
                    public.clone()
                }
            };
            list.push(ResourceEndpointListItem {
                protocol: Some(p),
                resource_endpoint: Some(endpoint),
            });
        }
        Output::json(&GetSignalingChannelEndpointOutput {
            resource_endpoint_list: Some(list),
        })
    }

    // ---- Media storage -------------------------------------------------------------------------

    async fn describe_media_storage(
        &self,
        ctx: &RequestContext,
        req: DescribeMediaStorageConfigurationInput,
    ) -> Result<Output, ApiError> {
        let (_, doc) = self
            .channel(
                &scope(ctx),
                req.channel_name.as_deref(),
                req.channel_arn.as_deref(),
            )
            .await?;
        let cfg = doc.media_storage.unwrap_or(MediaStorageConfiguration {
            status: MediaStorageConfigurationStatus::Disabled,
            stream_arn: None,
        });
        Output::json(&DescribeMediaStorageConfigurationOutput {
            media_storage_configuration: Some(cfg),
        })
    }

    async fn update_media_storage(
        &self,
        ctx: &RequestContext,
        req: UpdateMediaStorageConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let cfg = req.media_storage_configuration;
        let (mut rec, _) = self.channel(&scope, None, Some(&req.channel_arn)).await?;
        if cfg.status == MediaStorageConfigurationStatus::Enabled && cfg.stream_arn.is_none() {
            return Err(invalid(
                "MediaStorageConfiguration.StreamARN is required when Status is ENABLED",
            ));
        }
        let stream = match cfg.stream_arn.as_deref() {
            Some(arn) => {
                let (srec, sdoc) = self
                    .stream(
                        &scope,
                        None,
                        Some(arn),
                        errors::RESOURCE_NOT_FOUND_EXCEPTION,
                    )
                    .await?;
                if cfg.status == MediaStorageConfigurationStatus::Enabled {
                    require_retention(&sdoc)?;
                }
                Some(srec)
            }
            None => None,
        };
        for _ in 0..MAX_WRITE_ATTEMPTS {
            let mut doc: ChannelDoc = decode(&rec)?;
            let was = doc.parent();
            doc.media_storage = Some(cfg.clone());
            let mut ops = Vec::new();
            if let Some(srec) = &stream {
                // The stream must still exist, and no other channel may store its media there
                // (one channel per stream).
                ops.push(TxOp::AssertExists {
                    kind: STREAM_KIND.into(),
                    id: srec.id.clone(),
                });
                if was.as_deref() != Some(srec.arn.as_str()) {
                    ops.push(TxOp::AssertNoChildren {
                        kind: CHANNEL_KIND.into(),
                        parent: srec.arn.clone(),
                    });
                }
            }
            ops.push(TxOp::Update {
                kind: CHANNEL_KIND.into(),
                id: rec.id.clone(),
                expected_version: Some(rec.version),
                update: Update {
                    body: encode(&doc)?,
                    index: BTreeMap::new(),
                    parent: doc.parent(),
                    schema_version: SCHEMA_VERSION,
                },
            });
            match self.deps.store.transact(&scope, ops).await {
                Ok(_) => return Output::json(&UpdateMediaStorageConfigurationOutput {}),
                Err(StoreError::ConditionFailed { op_index: 0, .. }) => {
                    return Err(stream_not_found(
                        cfg.stream_arn.as_deref().unwrap_or_default(),
                    ));
                }
                Err(StoreError::ConditionFailed { .. }) => {
                    return Err(ApiError::new(
                        errors::RESOURCE_IN_USE_EXCEPTION,
                        "the stream is already the media storage of another signaling channel",
                    ));
                }
                Err(StoreError::VersionMismatch { .. }) => {
                    rec = self
                        .deps
                        .store
                        .get(&scope, CHANNEL_KIND, &rec.id)
                        .await
                        .map_err(|e| STORE_ERRORS.map(e, "signaling channel"))?
                        .ok_or_else(|| channel_not_found(&req.channel_arn))?;
                }
                Err(StoreError::NotFound) => return Err(channel_not_found(&req.channel_arn)),
                Err(e) => return Err(STORE_ERRORS.map(e, "signaling channel")),
            }
        }
        Err(ApiError::new(
            errors::CLIENT_LIMIT_EXCEEDED_EXCEPTION,
            "too many concurrent changes to this channel; retry",
        ))
    }

    async fn describe_mapped_resource(
        &self,
        ctx: &RequestContext,
        req: DescribeMappedResourceConfigurationInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (_, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::RESOURCE_NOT_FOUND_EXCEPTION,
            )
            .await?;
        let query = ListQuery {
            kind: CHANNEL_KIND.into(),
            parent: Some(doc.arn.clone()),
            filters: Vec::new(),
            limit: clamp_page(req.max_results, 1, 1),
            page_token: token_in(req.next_token),
        };
        let page = self
            .deps
            .store
            .list(&scope, &query)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "signaling channel"))?;
        let items = page
            .items
            .iter()
            .map(|r| MappedResourceConfigurationListItem {
                arn: Some(r.arn.clone()),
                r#type: Some(MAPPED_CHANNEL_TYPE.into()),
            })
            .collect();
        Output::json(&DescribeMappedResourceConfigurationOutput {
            mapped_resource_configuration_list: Some(items),
            next_token: token_out(page.next_token),
        })
    }

    // ---- Tags ----------------------------------------------------------------------------------

    async fn tag_stream(
        &self,
        ctx: &RequestContext,
        req: TagStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (_, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::INVALID_RESOURCE_FORMAT_EXCEPTION,
            )
            .await?;
        check_tag_keys(req.tags.keys())?;
        self.deps
            .store
            .tag(&scope, &doc.arn, req.tags)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
        Output::json(&TagStreamOutput {})
    }

    async fn untag_stream(
        &self,
        ctx: &RequestContext,
        req: UntagStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (_, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::INVALID_RESOURCE_FORMAT_EXCEPTION,
            )
            .await?;
        self.deps
            .store
            .untag(&scope, &doc.arn, &req.tag_key_list)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
        Output::json(&UntagStreamOutput {})
    }

    async fn list_tags_for_stream(
        &self,
        ctx: &RequestContext,
        req: ListTagsForStreamInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let (_, doc) = self
            .stream(
                &scope,
                req.stream_name.as_deref(),
                req.stream_arn.as_deref(),
                errors::INVALID_RESOURCE_FORMAT_EXCEPTION,
            )
            .await?;
        reject_tag_token(req.next_token.as_deref())?;
        let tags = self
            .deps
            .store
            .tags(&scope, &doc.arn)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "stream"))?;
        Output::json(&ListTagsForStreamOutput {
            next_token: None,
            tags: Some(tags),
        })
    }

    /// A stream or channel by ARN, for the generic tag operations.
    async fn taggable(&self, scope: &Scope, arn: &str) -> Result<Record, ApiError> {
        let rec = self
            .deps
            .store
            .get_by_arn(scope, arn)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "resource"))?;
        rec.filter(|r| r.kind == STREAM_KIND || r.kind == CHANNEL_KIND)
            .ok_or_else(|| {
                ApiError::new(
                    errors::RESOURCE_NOT_FOUND_EXCEPTION,
                    format!("The resource {arn} does not exist"),
                )
            })
    }

    async fn tag_resource(
        &self,
        ctx: &RequestContext,
        req: TagResourceInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let rec = self.taggable(&scope, &req.resource_arn).await?;
        let mut tags = BTreeMap::new();
        for t in req.tags {
            if tags.insert(t.key.clone(), t.value).is_some() {
                return Err(invalid(format!("tag key '{}' is given twice", t.key)));
            }
        }
        check_tag_keys(tags.keys())?;
        self.deps
            .store
            .tag(&scope, &rec.arn, tags)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "resource"))?;
        Output::json(&TagResourceOutput {})
    }

    async fn untag_resource(
        &self,
        ctx: &RequestContext,
        req: UntagResourceInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let rec = self.taggable(&scope, &req.resource_arn).await?;
        self.deps
            .store
            .untag(&scope, &rec.arn, &req.tag_key_list)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "resource"))?;
        Output::json(&UntagResourceOutput {})
    }

    async fn list_tags_for_resource(
        &self,
        ctx: &RequestContext,
        req: ListTagsForResourceInput,
    ) -> Result<Output, ApiError> {
        let scope = scope(ctx);
        let rec = self.taggable(&scope, &req.resource_arn).await?;
        reject_tag_token(req.next_token.as_deref())?;
        let tags = self
            .deps
            .store
            .tags(&scope, &rec.arn)
            .await
            .map_err(|e| STORE_ERRORS.map(e, "resource"))?;
        Output::json(&ListTagsForResourceOutput {
            next_token: None,
            tags: Some(tags),
        })
    }
}

/// The `Type` reelay reports for a channel in `DescribeMappedResourceConfiguration` (AWS does
/// not document the values).
pub(crate) const MAPPED_CHANNEL_TYPE: &str = "SIGNALING_CHANNEL";

/// Every tag list fits one page (at most 50 tags), so reelay never issues a tag token and any
/// non-empty token is one it cannot continue.
fn reject_tag_token(token: Option<&str>) -> Result<(), ApiError> {
    match token {
        Some(t) if !t.is_empty() => Err(invalid(
            "the NextToken is invalid: every tag list fits in one page",
        )),
        _ => Ok(()),
    }
}

fn edge_not_found(stream: &str) -> ApiError {
    ApiError::new(
        errors::STREAM_EDGE_CONFIGURATION_NOT_FOUND_EXCEPTION,
        format!("The stream {stream} has no edge configuration"),
    )
}

/// Image generation, notifications, edge recording and WebRTC ingestion all read stored media,
/// which a stream without retention does not keep.
fn require_retention(doc: &StreamDoc) -> Result<(), ApiError> {
    if doc.data_retention_hours == 0 {
        return Err(ApiError::new(
            errors::NO_DATA_RETENTION_EXCEPTION,
            format!("The stream {} has a data retention of 0 hours", doc.name),
        ));
    }
    Ok(())
}

/// The rules of `ImageGenerationConfiguration` beyond the model's own constraints.
pub(crate) fn validate_image_generation(
    cfg: &ImageGenerationConfiguration,
    region: &str,
) -> Result<(), ApiError> {
    if cfg.sampling_interval < MIN_SAMPLING_INTERVAL_MS {
        return Err(invalid(format!(
            "SamplingInterval must be at least {MIN_SAMPLING_INTERVAL_MS} ms (got {})",
            cfg.sampling_interval
        )));
    }
    if cfg.destination_config.destination_region != region {
        return Err(invalid(format!(
            "DestinationRegion {} must be the stream's region {region}",
            cfg.destination_config.destination_region
        )));
    }
    if let Some(fc) = &cfg.format_config {
        for (key, value) in fc {
            // The model restricts the key to JPEGQuality; its value is an integer 1-100.
            if key == FormatConfigKey::JPEGQuality.as_str() {
                if cfg.format != Format::Jpeg {
                    return Err(invalid(
                        "FormatConfig JPEGQuality applies to the JPEG format only",
                    ));
                }
                match value.parse::<i64>() {
                    Ok(q) if JPEG_QUALITY.contains(&q) => {}
                    _ => {
                        return Err(invalid(format!(
                            "JPEGQuality must be an integer from 1 to 100 (got '{value}')"
                        )));
                    }
                }
            }
        }
    }
    Ok(())
}

/// The rules of `EdgeConfig` beyond the model's own constraints.
fn validate_edge_config(cfg: &EdgeConfig) -> Result<(), ApiError> {
    let mut schedules = Vec::new();
    if let Some(s) = &cfg.recorder_config.schedule_config {
        schedules.push(("RecorderConfig", s));
    }
    if let Some(u) = &cfg.uploader_config {
        schedules.push(("UploaderConfig", &u.schedule_config));
    }
    for (what, s) in schedules {
        // ScheduleExpression is a Quartz cron expression: 6 or 7 space-separated fields.
        let n = s.schedule_expression.split_whitespace().count();
        if !(6..=7).contains(&n) {
            return Err(invalid(format!(
                "{what}.ScheduleConfig.ScheduleExpression must be a Quartz cron expression of 6 or 7 fields (got {n})"
            )));
        }
    }
    Ok(())
}

/// The `kinesisvideo` handler set.
pub(crate) struct KinesisVideoService(pub Arc<Kvs>);

fn parse<T: DeserializeOwned>(input: Value) -> Result<T, ApiError> {
    from_input(&MODEL, input)
}

#[async_trait::async_trait]
impl Service for KinesisVideoService {
    fn model(&self) -> &'static ServiceModel {
        &MODEL
    }

    fn implements(&self, op: usize) -> bool {
        Op::from_index(op).is_some()
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: usize,
        input: Value,
    ) -> Result<Output, ApiError> {
        let k = &self.0;
        let Some(op) = Op::from_index(op) else {
            let name = MODEL.operations.get(op).map_or("?", |o| o.name);
            return Err(ApiError::not_implemented(MODEL.botocore_name, name));
        };
        match op {
            Op::CreateStream => k.create_stream(ctx, parse(input)?).await,
            Op::DescribeStream => k.describe_stream(ctx, parse(input)?).await,
            Op::ListStreams => k.list_streams(ctx, parse(input)?).await,
            Op::UpdateStream => k.update_stream(ctx, parse(input)?).await,
            Op::UpdateDataRetention => k.update_data_retention(ctx, parse(input)?).await,
            Op::DeleteStream => k.delete_stream(ctx, parse(input)?).await,
            Op::DescribeStreamStorageConfiguration => {
                k.describe_stream_storage(ctx, parse(input)?).await
            }
            Op::UpdateStreamStorageConfiguration => {
                k.update_stream_storage(ctx, parse(input)?).await
            }
            Op::GetDataEndpoint => k.get_data_endpoint(ctx, parse(input)?).await,
            Op::UpdateImageGenerationConfiguration => {
                k.update_image_generation(ctx, parse(input)?).await
            }
            Op::DescribeImageGenerationConfiguration => {
                k.describe_image_generation(ctx, parse(input)?).await
            }
            Op::UpdateNotificationConfiguration => k.update_notification(ctx, parse(input)?).await,
            Op::DescribeNotificationConfiguration => {
                k.describe_notification(ctx, parse(input)?).await
            }
            Op::StartEdgeConfigurationUpdate => k.start_edge_update(ctx, parse(input)?).await,
            Op::DescribeEdgeConfiguration => k.describe_edge(ctx, parse(input)?).await,
            Op::DeleteEdgeConfiguration => k.delete_edge(ctx, parse(input)?).await,
            Op::ListEdgeAgentConfigurations => k.list_edge(ctx, parse(input)?).await,
            Op::CreateSignalingChannel => k.create_channel(ctx, parse(input)?).await,
            Op::DescribeSignalingChannel => k.describe_channel(ctx, parse(input)?).await,
            Op::ListSignalingChannels => k.list_channels(ctx, parse(input)?).await,
            Op::UpdateSignalingChannel => k.update_channel(ctx, parse(input)?).await,
            Op::DeleteSignalingChannel => k.delete_channel(ctx, parse(input)?).await,
            Op::GetSignalingChannelEndpoint => k.get_channel_endpoint(ctx, parse(input)?).await,
            Op::DescribeMediaStorageConfiguration => {
                k.describe_media_storage(ctx, parse(input)?).await
            }
            Op::UpdateMediaStorageConfiguration => k.update_media_storage(ctx, parse(input)?).await,
            Op::DescribeMappedResourceConfiguration => {
                k.describe_mapped_resource(ctx, parse(input)?).await
            }
            Op::TagStream => k.tag_stream(ctx, parse(input)?).await,
            Op::UntagStream => k.untag_stream(ctx, parse(input)?).await,
            Op::ListTagsForStream => k.list_tags_for_stream(ctx, parse(input)?).await,
            Op::TagResource => k.tag_resource(ctx, parse(input)?).await,
            Op::UntagResource => k.untag_resource(ctx, parse(input)?).await,
            Op::ListTagsForResource => k.list_tags_for_resource(ctx, parse(input)?).await,
        }
    }
}
