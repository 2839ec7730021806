//! Helpers every handler uses: the call context, error constructors, record I/O.

use crate::limits;
use reelay_api_common::{Deps, StoreErrors};
use reelay_aws::generated::ivs_realtime::errors;
use reelay_aws::{ApiError, RequestContext, ServiceId, Timestamp};
use reelay_store::{NewRecord, Record, Scope, StoreError, Update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How the store's failures read on this service's wire.
pub(crate) const STORE_ERRORS: StoreErrors = StoreErrors {
    service: ServiceId::IvsRealtime,
    not_found: errors::RESOURCE_NOT_FOUND_EXCEPTION,
    conflict: errors::CONFLICT_EXCEPTION,
    // IVS answers an over-limit tag set with a ValidationException.
    too_many_tags: None,
};

/// One API call: dependencies, caller and scope.
pub(crate) struct Call<'a> {
    pub deps: &'a Deps,
    pub ctx: &'a RequestContext,
    pub scope: Scope,
}

impl<'a> Call<'a> {
    pub fn new(deps: &'a Deps, ctx: &'a RequestContext) -> Self {
        Call {
            deps,
            ctx,
            scope: reelay_api_common::scope(ctx),
        }
    }

    /// Now, from the injectable clock.
    pub fn now(&self) -> OffsetDateTime {
        self.deps.clock.now()
    }

    /// Now in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        to_ms(self.now())
    }

    /// The ARN of a resource of this service in the caller's account and region.
    pub fn arn(&self, resource_type: &str, id: &str) -> String {
        reelay_api_common::arn("ivs", self.ctx, &format!("{resource_type}/{id}"))
    }

    /// Read the record with this ARN, which must be of `kind`; a missing record (or one of
    /// another kind) is `ResourceNotFoundException` naming `what`.
    pub async fn fetch<T: DeserializeOwned>(
        &self,
        kind: &str,
        arn: &str,
        what: &str,
    ) -> Result<(Record, T), ApiError> {
        match self.try_fetch(kind, arn).await? {
            Some(found) => Ok(found),
            None => Err(not_found(what, arn)),
        }
    }

    /// Like [`Call::fetch`], `None` when absent.
    pub async fn try_fetch<T: DeserializeOwned>(
        &self,
        kind: &str,
        arn: &str,
    ) -> Result<Option<(Record, T)>, ApiError> {
        let rec = self
            .deps
            .store
            .get_by_arn(&self.scope, arn)
            .await
            .map_err(|e| store_err(e, "resource"))?;
        match rec {
            Some(r) if r.kind == kind => {
                let body = decode(&r)?;
                Ok(Some((r, body)))
            }
            _ => Ok(None),
        }
    }

    /// Read a record by kind and id.
    pub async fn get<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<(Record, T)>, ApiError> {
        let rec = self
            .deps
            .store
            .get(&self.scope, kind, id)
            .await
            .map_err(|e| store_err(e, "resource"))?;
        match rec {
            Some(r) => {
                let body = decode(&r)?;
                Ok(Some((r, body)))
            }
            None => Ok(None),
        }
    }

    /// The tags of a resource.
    pub async fn tags(&self, arn: &str) -> Result<BTreeMap<String, String>, ApiError> {
        self.deps
            .store
            .tags(&self.scope, arn)
            .await
            .map_err(|e| store_err(e, "resource"))
    }
}

/// Decode a record body.
pub(crate) fn decode<T: DeserializeOwned>(r: &Record) -> Result<T, ApiError> {
    serde_json::from_value(r.body.clone()).map_err(|e| {
        ApiError::internal(
            ServiceId::IvsRealtime,
            format!("stored {} {} cannot be read: {e}", r.kind, r.id),
        )
    })
}

/// Encode a record body.
pub(crate) fn encode<T: Serialize>(body: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(|e| {
        ApiError::internal(
            ServiceId::IvsRealtime,
            format!("cannot encode a record: {e}"),
        )
    })
}

/// A new record of schema version 1.
pub(crate) fn new_record<T: Serialize>(
    kind: &str,
    id: &str,
    arn: String,
    parent: Option<String>,
    index: BTreeMap<String, String>,
    body: &T,
    tags: BTreeMap<String, String>,
) -> Result<NewRecord, ApiError> {
    Ok(NewRecord {
        kind: kind.to_string(),
        id: id.to_string(),
        arn,
        parent,
        index,
        body: encode(body)?,
        schema_version: crate::records::v1::SCHEMA_VERSION,
        tags,
    })
}

/// The new content of an existing record, keeping its parent and index.
pub(crate) fn update_of<T: Serialize>(r: &Record, body: &T) -> Result<Update, ApiError> {
    Ok(Update {
        body: encode(body)?,
        index: r.index.clone(),
        parent: r.parent.clone(),
        schema_version: crate::records::v1::SCHEMA_VERSION,
    })
}

/// A store failure on the wire.
pub(crate) fn store_err(e: StoreError, what: &str) -> ApiError {
    STORE_ERRORS.map(e, what)
}

/// `ValidationException`.
pub(crate) fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::VALIDATION_EXCEPTION, msg)
}

/// `ResourceNotFoundException`.
pub(crate) fn not_found(what: &str, arn: &str) -> ApiError {
    ApiError::new(
        errors::RESOURCE_NOT_FOUND_EXCEPTION,
        format!("{what} {arn} not found"),
    )
}

/// `ConflictException`.
pub(crate) fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::CONFLICT_EXCEPTION, msg)
}

/// `ServiceQuotaExceededException` (402).
pub(crate) fn quota(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::SERVICE_QUOTA_EXCEEDED_EXCEPTION, msg)
}

/// Unix milliseconds of a time.
pub(crate) fn to_ms(t: OffsetDateTime) -> i64 {
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// The timestamp of Unix milliseconds.
pub(crate) fn ts(ms: i64) -> Timestamp {
    OffsetDateTime::from_unix_timestamp_nanos(i128::from(ms) * 1_000_000)
        .map(Timestamp)
        .unwrap_or_default()
}

/// The id part of an ARN (`…:<type>/<id>`).
pub(crate) fn arn_id(arn: &str) -> &str {
    arn.rsplit_once('/').map_or(arn, |(_, id)| id)
}

/// Check the 1 KB total of participant attributes (keys and values, UTF-8 bytes).
pub(crate) fn check_attributes(attrs: Option<&BTreeMap<String, String>>) -> Result<(), ApiError> {
    let Some(attrs) = attrs else { return Ok(()) };
    let total: usize = attrs.iter().map(|(k, v)| k.len() + v.len()).sum();
    if total > limits::MAX_ATTRIBUTES_BYTES {
        return Err(validation(format!(
            "attributes must be at most {} bytes in total (keys and values), got {total}",
            limits::MAX_ATTRIBUTES_BYTES
        )));
    }
    Ok(())
}

/// The page size of a list request.
pub(crate) fn page_size(requested: Option<i32>, default: usize, max: usize) -> usize {
    reelay_api_common::page_size(requested.map(i64::from), default, max)
}

/// The page token of a request: the store's opaque token, passed through; "" means none.
pub(crate) fn page_token(t: Option<String>) -> Option<String> {
    t.filter(|s| !s.is_empty())
}
