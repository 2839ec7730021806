//! Handlers of the `mediapackage-vod` API (AWS Elemental MediaPackage VOD, API version 2018-11-07).
//!
//! Three resources live in the metadata store, scoped per account and region: packaging groups,
//! packaging configurations (children of a group) and assets (children of a group). Every record
//! body is a frozen, versioned schema from [`records`]. Egress URLs follow the scheme of
//! [`egress`]; API calls that change state are appended to the event log of [`events`].
//!
//! The packaging engine (ingest, just-in-time packaging, egress serving) lives in `reelay-vod`,
//! which depends on this crate: `CreateAsset` queues an ingest job and wakes the engine, and
//! `DescribeAsset` reports the state the engine records ([`ingest`]). The engine reads the
//! records through [`view`].
//!
//! **Architecture Invariant:** handlers keep no state outside the metadata store and the object
//! store, so `POST /_reelay/reset` and restarts need nothing from this crate.

mod assets;
mod configs;
pub mod egress;
pub mod events;
mod groups;
pub mod ingest;
mod quotas;
mod records;
mod tags;
mod validate;
pub mod view;

pub use quotas::Quotas;

use async_trait::async_trait;
use reelay_api_common::{Deps, StoreErrors};
use reelay_aws::generated::mediapackage_vod::{MODEL, Op, errors};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceId, ServiceModel, from_input};
use reelay_store::StoreError;
use serde_json::Value;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

/// Store kind of packaging groups.
pub const KIND_GROUP: &str = "mediapackage-vod:packaging-group";
/// Store kind of packaging configurations (parent: the group id).
pub const KIND_CONFIG: &str = "mediapackage-vod:packaging-configuration";
/// Store kind of assets (parent: the group id).
pub const KIND_ASSET: &str = "mediapackage-vod:asset";

/// Page size of list operations when `maxResults` is absent (AWS does not document one).
const DEFAULT_PAGE_SIZE: usize = 50;
/// Largest `maxResults` the model allows.
const MAX_PAGE_SIZE: usize = 1000;

/// The handler sets this crate provides, one per botocore service model.
///
/// Quotas come from the `REELAY_MPV_*` environment variables (see [`Quotas::from_env`]).
pub fn services(deps: &Deps) -> Vec<Arc<dyn Service>> {
    let quotas = Quotas::from_env(|name| std::env::var(name).ok());
    vec![Arc::new(MediaPackageVod::new(deps.clone(), quotas))]
}

/// The `mediapackage-vod` handlers.
pub struct MediaPackageVod {
    deps: Deps,
    quotas: Quotas,
    events: events::EventLog,
}

impl MediaPackageVod {
    /// Handlers over `deps` with these quotas.
    pub fn new(deps: Deps, quotas: Quotas) -> Self {
        let events = events::EventLog::new(deps.blob.clone());
        MediaPackageVod {
            deps,
            quotas,
            events,
        }
    }
}

#[async_trait]
impl Service for MediaPackageVod {
    fn model(&self) -> &'static ServiceModel {
        &MODEL
    }

    fn implements(&self, op: usize) -> bool {
        // Every operation of the model has a real handler.
        Op::from_index(op).is_some()
    }

    async fn reset(&self) {
        changed();
    }

    async fn call(
        &self,
        ctx: &RequestContext,
        op: usize,
        input: Value,
    ) -> Result<Output, ApiError> {
        let Some(op) = Op::from_index(op) else {
            let name = MODEL.operations.get(op).map_or("?", |o| o.name);
            return Err(ApiError::not_implemented(MODEL.botocore_name, name));
        };
        // Reads leave egress as it was; anything else may change what an egress URL resolves
        // to, so the engine's resolution cache is invalidated after it, whatever the outcome.
        let mutates = !matches!(
            op,
            Op::DescribePackagingGroup
                | Op::ListPackagingGroups
                | Op::DescribePackagingConfiguration
                | Op::ListPackagingConfigurations
                | Op::DescribeAsset
                | Op::ListAssets
                | Op::ListTagsForResource
        );
        let out = self.dispatch(ctx, op, input).await;
        if mutates {
            changed();
        }
        out
    }
}

impl MediaPackageVod {
    async fn dispatch(
        &self,
        ctx: &RequestContext,
        op: Op,
        input: Value,
    ) -> Result<Output, ApiError> {
        match op {
            Op::CreatePackagingGroup => groups::create(self, ctx, from_input(&MODEL, input)?).await,
            Op::DescribePackagingGroup => {
                groups::describe(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::ListPackagingGroups => groups::list(self, ctx, from_input(&MODEL, input)?).await,
            Op::UpdatePackagingGroup => groups::update(self, ctx, from_input(&MODEL, input)?).await,
            Op::ConfigureLogs => {
                groups::configure_logs(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::DeletePackagingGroup => groups::delete(self, ctx, from_input(&MODEL, input)?).await,
            Op::CreatePackagingConfiguration => {
                configs::create(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::DescribePackagingConfiguration => {
                configs::describe(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::ListPackagingConfigurations => {
                configs::list(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::DeletePackagingConfiguration => {
                configs::delete(self, ctx, from_input(&MODEL, input)?).await
            }
            Op::CreateAsset => assets::create(self, ctx, from_input(&MODEL, input)?).await,
            Op::DescribeAsset => assets::describe(self, ctx, from_input(&MODEL, input)?).await,
            Op::ListAssets => assets::list(self, ctx, from_input(&MODEL, input)?).await,
            Op::DeleteAsset => assets::delete(self, ctx, from_input(&MODEL, input)?).await,
            Op::ListTagsForResource => tags::list(self, ctx, from_input(&MODEL, input)?).await,
            Op::TagResource => tags::tag(self, ctx, from_input(&MODEL, input)?).await,
            Op::UntagResource => tags::untag(self, ctx, from_input(&MODEL, input)?).await,
        }
    }
}

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// A counter that moves after every call of this process that may change what an egress URL
/// resolves to (creates, deletes, updates, log configuration, reset). The engine caches egress
/// resolutions and drops them when it moves.
pub fn generation() -> u64 {
    GENERATION.load(Ordering::Acquire)
}

fn changed() {
    GENERATION.fetch_add(1, Ordering::AcqRel);
}

/// 422 `UnprocessableEntityException`, the service's answer to semantically invalid input.
pub(crate) fn unprocessable(message: impl Into<String>) -> ApiError {
    ApiError::new(errors::UNPROCESSABLE_ENTITY_EXCEPTION, message)
}

/// 404 `NotFoundException`.
pub(crate) fn not_found(message: impl Into<String>) -> ApiError {
    ApiError::new(errors::NOT_FOUND_EXCEPTION, message)
}

/// 429 `TooManyRequestsException` for an exceeded quota, in the console's wording
/// (UG:pkg-group-create); the API reference describes 429 as rate *or* quota exceeded.
pub(crate) fn quota_exceeded() -> ApiError {
    ApiError::new(
        errors::TOO_MANY_REQUESTS_EXCEPTION,
        "Too many requests, please try again. Resource limit exceeded",
    )
}

/// Map a store failure onto this service's errors.
pub(crate) fn store_error(e: StoreError, what: &str) -> ApiError {
    StoreErrors {
        service: ServiceId::MediaPackageVod,
        not_found: errors::NOT_FOUND_EXCEPTION,
        // MediaPackage VOD has no conflict error: a duplicate or a lost race is unprocessable.
        conflict: errors::UNPROCESSABLE_ENTITY_EXCEPTION,
        too_many_tags: None,
    }
    .map(e, what)
}

/// `createdAt`: ISO 8601 in UTC with milliseconds, e.g. `2024-05-01T12:00:00.000Z`.
pub(crate) fn iso8601(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// The page size of a list request.
pub(crate) fn page_size(max_results: Option<i32>) -> usize {
    reelay_api_common::page_size(max_results.map(i64::from), DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso8601_has_millis_and_z() {
        let t = time::macros::datetime!(2024-05-01 12:03:04.5 UTC);
        assert_eq!(iso8601(t), "2024-05-01T12:03:04.500Z");
        let t = time::macros::datetime!(2024-05-01 14:03:04 +02:00);
        assert_eq!(iso8601(t), "2024-05-01T12:03:04.000Z");
    }

    #[test]
    fn every_operation_is_implemented() {
        assert_eq!(MODEL.operations.len(), 17);
        for (i, op) in MODEL.operations.iter().enumerate() {
            assert_eq!(Op::from_index(i).map(Op::name), Some(op.name));
        }
    }
}
