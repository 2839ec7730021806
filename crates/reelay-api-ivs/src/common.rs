//! What every handler shares: the per-request view of the service, resource kinds, errors,
//! typed record access, pagination and tag merging.

use crate::IvsService;
use crate::records::*;
use rand::RngCore as _;
use reelay_api_common::{StoreErrors, parse_arn, scope};
use reelay_aws::generated::ivs::errors;
use reelay_aws::{ApiError, RequestContext, ServiceId, Timestamp};
use reelay_store::{Filter, ListQuery, MetaStore, Record, Scope, StoreError, TxOp, Update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// How often a read-check-write sequence is retried when another writer got in between.
pub(crate) const WRITE_ATTEMPTS: usize = 5;

/// How store failures read on the IVS wire.
pub(crate) const STORE_ERRORS: StoreErrors = StoreErrors {
    service: ServiceId::Ivs,
    not_found: errors::RESOURCE_NOT_FOUND_EXCEPTION,
    conflict: errors::CONFLICT_EXCEPTION,
    too_many_tags: None,
};

/// The IVS resource types that have ARNs (and tags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Channel,
    StreamKey,
    PlaybackKey,
    RecordingConfiguration,
    PlaybackRestrictionPolicy,
    AdConfiguration,
    FailoverSlateConfiguration,
}

impl Kind {
    pub(crate) const ALL: [Kind; 7] = [
        Kind::Channel,
        Kind::StreamKey,
        Kind::PlaybackKey,
        Kind::RecordingConfiguration,
        Kind::PlaybackRestrictionPolicy,
        Kind::AdConfiguration,
        Kind::FailoverSlateConfiguration,
    ];

    /// The store kind.
    pub(crate) fn store_kind(self) -> &'static str {
        match self {
            Kind::Channel => KIND_CHANNEL,
            Kind::StreamKey => KIND_STREAM_KEY,
            Kind::PlaybackKey => KIND_PLAYBACK_KEY,
            Kind::RecordingConfiguration => KIND_RECORDING_CONFIGURATION,
            Kind::PlaybackRestrictionPolicy => KIND_PLAYBACK_RESTRICTION_POLICY,
            Kind::AdConfiguration => KIND_AD_CONFIGURATION,
            Kind::FailoverSlateConfiguration => KIND_FAILOVER_SLATE_CONFIGURATION,
        }
    }

    /// The resource type in ARNs (`arn:aws:ivs:<region>:<account>:<type>/<id>`).
    pub(crate) fn arn_type(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::StreamKey => "stream-key",
            Kind::PlaybackKey => "playback-key",
            Kind::RecordingConfiguration => "recording-configuration",
            Kind::PlaybackRestrictionPolicy => "playback-restriction-policy",
            Kind::AdConfiguration => "ad-configuration",
            Kind::FailoverSlateConfiguration => "failover-slate-configuration",
        }
    }

    /// How messages name it.
    pub(crate) fn label(self) -> &'static str {
        match self {
            Kind::Channel => "channel",
            Kind::StreamKey => "stream key",
            Kind::PlaybackKey => "playback key pair",
            Kind::RecordingConfiguration => "recording configuration",
            Kind::PlaybackRestrictionPolicy => "playback restriction policy",
            Kind::AdConfiguration => "ad configuration",
            Kind::FailoverSlateConfiguration => "failover slate configuration",
        }
    }

    /// The kind of an ARN's resource type.
    pub(crate) fn from_arn_type(t: &str) -> Option<Kind> {
        Kind::ALL.into_iter().find(|k| k.arn_type() == t)
    }
}

/// `ValidationException` (400).
pub(crate) fn validation(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::VALIDATION_EXCEPTION, msg)
}

/// `ResourceNotFoundException` (404) for an ARN of a kind.
pub(crate) fn not_found(kind: Kind, arn: &str) -> ApiError {
    ApiError::new(
        errors::RESOURCE_NOT_FOUND_EXCEPTION,
        format!("{} not found: {arn}", kind.label()),
    )
}

/// `ConflictException` (409).
pub(crate) fn conflict(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::CONFLICT_EXCEPTION, msg)
}

/// `ServiceQuotaExceededException` (402).
pub(crate) fn quota_exceeded(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::SERVICE_QUOTA_EXCEEDED_EXCEPTION, msg)
}

/// `ChannelNotBroadcasting` (404).
pub(crate) fn not_broadcasting(channel_arn: &str) -> ApiError {
    ApiError::new(
        errors::CHANNEL_NOT_BROADCASTING,
        format!("channel is not broadcasting: {channel_arn}"),
    )
}

/// `InternalServerException` (500) for a failure that is reelay's, not the caller's.
pub(crate) fn internal(msg: impl Into<String>) -> ApiError {
    ApiError::new(errors::INTERNAL_SERVER_EXCEPTION, msg)
}

/// A store failure, named after the resource it concerned.
pub(crate) fn store_err(e: StoreError, what: &str) -> ApiError {
    STORE_ERRORS.map(e, what)
}

/// A record and its decoded body.
#[derive(Debug, Clone)]
pub(crate) struct Loaded<T> {
    pub(crate) rec: Record,
    pub(crate) body: T,
}

/// Decode a stored body (borrowing it: no deep copy); a body that does not decode is corrupt
/// data, reelay's fault.
pub(crate) fn decode<T: DeserializeOwned>(rec: &Record) -> Result<T, ApiError> {
    T::deserialize(&rec.body).map_err(|e| {
        internal(format!(
            "stored {} {} does not decode: {e}",
            rec.kind, rec.id
        ))
    })
}

/// Encode a body for the store.
pub(crate) fn encode<T: Serialize>(body: &T) -> Result<serde_json::Value, ApiError> {
    serde_json::to_value(body).map_err(|e| internal(format!("cannot encode a record: {e}")))
}

/// An update that rewrites a record unchanged, so its version moves: transactions that
/// reference a resource include it, and deleting the resource with the version it read
/// fails if a reference was added meanwhile.
pub(crate) fn touch(rec: &Record) -> TxOp {
    TxOp::Update {
        kind: rec.kind.clone(),
        id: rec.id.clone(),
        expected_version: Some(rec.version),
        update: Update {
            body: rec.body.clone(),
            index: rec.index.clone(),
            parent: rec.parent.clone(),
            schema_version: rec.schema_version,
        },
    }
}

/// A page size from the request, within `1..=cap`.
pub(crate) fn page_limit(requested: Option<i32>, default: usize, cap: usize) -> usize {
    reelay_api_common::page_size(requested.map(i64::from), default, cap)
}

/// An empty `nextToken` means "first page", as SDKs sometimes send one.
pub(crate) fn token(t: Option<String>) -> Option<String> {
    t.filter(|t| !t.is_empty())
}

/// Merge tags, refusing to go over the per-resource limit.
pub(crate) fn merge_tags(
    existing: &mut BTreeMap<String, String>,
    add: BTreeMap<String, String>,
    limit: usize,
) -> Result<(), ApiError> {
    let n_new = add.keys().filter(|k| !existing.contains_key(*k)).count();
    if existing.len() + n_new > limit {
        return Err(validation(format!(
            "a resource can have at most {limit} tags"
        )));
    }
    existing.extend(add);
    Ok(())
}

/// The per-request view of the service.
pub(crate) struct Call<'a> {
    pub(crate) svc: &'a IvsService,
    pub(crate) ctx: &'a RequestContext,
    pub(crate) scope: Scope,
}

impl<'a> Call<'a> {
    pub(crate) fn new(svc: &'a IvsService, ctx: &'a RequestContext) -> Call<'a> {
        Call {
            svc,
            ctx,
            scope: scope(ctx),
        }
    }

    pub(crate) fn store(&self) -> &dyn MetaStore {
        self.svc.deps.store.as_ref()
    }

    pub(crate) fn quotas(&self) -> &crate::Quotas {
        &self.svc.quotas
    }

    /// The current time, from the service clock.
    pub(crate) fn now(&self) -> OffsetDateTime {
        self.svc.deps.clock.now()
    }

    /// The current time as RFC 3339.
    pub(crate) fn now_rfc3339(&self) -> String {
        Timestamp(self.now()).to_rfc3339()
    }

    /// The ARN of a new resource of `kind` with `id` in the caller's account and region.
    pub(crate) fn arn(&self, kind: Kind, id: &str) -> String {
        reelay_api_common::arn("ivs", self.ctx, &format!("{}/{id}", kind.arn_type()))
    }

    /// Load the resource of `kind` with this ARN, if it exists in the caller's scope.
    pub(crate) async fn find<T: DeserializeOwned>(
        &self,
        kind: Kind,
        arn: &str,
    ) -> Result<Option<Loaded<T>>, ApiError> {
        // An ARN of another type can never name a resource of this kind; answering without a
        // lookup also keeps other kinds' records (and their ids) out of reach.
        match parse_arn(arn) {
            Some(p) if p.resource_type == kind.arn_type() => {}
            _ => return Ok(None),
        }
        let rec = self
            .store()
            .get_by_arn(&self.scope, arn)
            .await
            .map_err(|e| store_err(e, kind.label()))?;
        match rec {
            Some(rec) if rec.kind == kind.store_kind() => {
                let body = decode(&rec)?;
                Ok(Some(Loaded { rec, body }))
            }
            _ => Ok(None),
        }
    }

    /// Load the resource of `kind` with this ARN, or `ResourceNotFoundException`.
    pub(crate) async fn load<T: DeserializeOwned>(
        &self,
        kind: Kind,
        arn: &str,
    ) -> Result<Loaded<T>, ApiError> {
        self.find(kind, arn)
            .await?
            .ok_or_else(|| not_found(kind, arn))
    }

    /// Load a record by store kind and id.
    pub(crate) async fn get_raw<T: DeserializeOwned>(
        &self,
        kind: &str,
        id: &str,
    ) -> Result<Option<Loaded<T>>, ApiError> {
        let rec = self
            .store()
            .get(&self.scope, kind, id)
            .await
            .map_err(|e| store_err(e, kind))?;
        match rec {
            Some(rec) => {
                let body = decode(&rec)?;
                Ok(Some(Loaded { rec, body }))
            }
            None => Ok(None),
        }
    }

    /// One page of records of a store kind.
    pub(crate) async fn list<T: DeserializeOwned>(
        &self,
        kind: &str,
        parent: Option<String>,
        filters: Vec<Filter>,
        limit: usize,
        page_token: Option<String>,
    ) -> Result<(Vec<Loaded<T>>, Option<String>), ApiError> {
        let query = ListQuery {
            kind: kind.to_string(),
            parent,
            filters,
            limit,
            page_token: token(page_token),
        };
        let page = self
            .store()
            .list(&self.scope, &query)
            .await
            .map_err(|e| store_err(e, kind))?;
        let items = page
            .items
            .into_iter()
            .map(|rec| decode(&rec).map(|body| Loaded { rec, body }))
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, page.next_token))
    }

    /// One page of a store kind as `(arn, body)` pairs, each body deserialized straight from its
    /// stored JSON text (no intermediate `Value`): the list path of large pages.
    pub(crate) async fn list_bodies<T: DeserializeOwned>(
        &self,
        kind: &str,
        filters: Vec<Filter>,
        limit: usize,
        page_token: Option<String>,
    ) -> Result<(Vec<(String, T)>, Option<String>), ApiError> {
        let query = ListQuery {
            kind: kind.to_string(),
            parent: None,
            filters,
            limit,
            page_token: token(page_token),
        };
        let page = self
            .store()
            .list_lazy(&self.scope, &query)
            .await
            .map_err(|e| store_err(e, kind))?;
        let items = page
            .items
            .into_iter()
            .map(|rec| match rec.decode_body::<T>() {
                Ok(body) => Ok((rec.arn, body)),
                Err(e) => Err(internal(format!(
                    "stored {} {} does not decode: {e}",
                    rec.kind, rec.id
                ))),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok((items, page.next_token))
    }

    /// Refuse a create when `kind` already has `limit` resources in the caller's scope.
    pub(crate) async fn check_quota(&self, kind: Kind, limit: u64) -> Result<(), ApiError> {
        let n = self
            .store()
            .count(&self.scope, kind.store_kind(), None)
            .await
            .map_err(|e| store_err(e, kind.label()))?;
        if n >= limit {
            return Err(quota_exceeded(format!(
                "the quota of {limit} {}s per account and region is reached",
                kind.label()
            )));
        }
        Ok(())
    }

    /// The resource that a channel member references must exist; returns its record so the
    /// write can include [`touch`] of it.
    pub(crate) async fn referenced(
        &self,
        kind: Kind,
        member: &str,
        arn: &str,
    ) -> Result<Option<Record>, ApiError> {
        if arn.is_empty() {
            return Ok(None);
        }
        match self.find::<serde_json::Value>(kind, arn).await? {
            Some(l) => Ok(Some(l.rec)),
            None => Err(validation(format!(
                "{member}: {} does not exist: {arn}",
                kind.label()
            ))),
        }
    }

    /// Whether any channel references `arn` through the index attribute `idx`.
    pub(crate) async fn is_referenced_by_channel(
        &self,
        idx: &str,
        arn: &str,
    ) -> Result<bool, ApiError> {
        let query = ListQuery {
            kind: KIND_CHANNEL.to_string(),
            parent: None,
            filters: vec![Filter::Eq {
                key: idx.to_string(),
                value: arn.to_string(),
            }],
            limit: 1,
            page_token: None,
        };
        let page = self
            .store()
            .list(&self.scope, &query)
            .await
            .map_err(|e| store_err(e, "channel"))?;
        Ok(!page.items.is_empty())
    }
}

/// A resource id as AWS makes them: 12 characters of `[a-zA-Z0-9]` from the OS CSPRNG.
pub(crate) fn new_id() -> String {
    random_alnum(12)
}

/// `len` characters of `[a-zA-Z0-9]` from the OS CSPRNG, uniformly distributed.
///
/// One `getrandom` call per batch of bytes (not per character); bytes of 248 and above are
/// rejected so that `byte % 62` carries no modulo bias (248 = 4 * 62).
pub(crate) fn random_alnum(len: usize) -> String {
    const ALPHABET: &[u8; 62] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut out = String::with_capacity(len);
    let mut buf = [0u8; 64];
    while out.len() < len {
        rand::rngs::OsRng.fill_bytes(&mut buf);
        for b in buf {
            if out.len() == len {
                break;
            }
            if b < 248 {
                out.push(char::from(ALPHABET[usize::from(b % 62)]));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip_through_arn_types() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_arn_type(k.arn_type()), Some(k));
        }
        assert_eq!(Kind::from_arn_type("stage"), None);
    }

    #[test]
    fn random_ids_are_alphanumeric_and_distinct() {
        let a = random_alnum(64);
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_alphanumeric()));
        assert_ne!(random_alnum(30), random_alnum(30));
        assert_eq!(random_alnum(0), "");
        assert_eq!(new_id().len(), 12);
        // Every symbol shows up over enough draws (a lost symbol would mean a biased mapping).
        let many = random_alnum(20_000);
        let distinct: std::collections::BTreeSet<u8> = many.bytes().collect();
        assert_eq!(distinct.len(), 62);
    }

    #[test]
    fn merging_tags_respects_the_limit() {
        let mut t: BTreeMap<String, String> =
            (0..49).map(|i| (format!("k{i}"), "v".into())).collect();
        // Overwriting an existing key does not count.
        merge_tags(&mut t, [("k0".into(), "w".into())].into(), 50).unwrap();
        assert_eq!(t["k0"], "w");
        merge_tags(&mut t, [("new".into(), "v".into())].into(), 50).unwrap();
        let e = merge_tags(&mut t, [("more".into(), "v".into())].into(), 50).unwrap_err();
        assert_eq!((e.code.as_str(), e.status), ("ValidationException", 400));
        assert_eq!(t.len(), 50);
    }
}
