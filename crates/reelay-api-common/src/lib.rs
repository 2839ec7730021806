//! What every `reelay-api-*` handler crate shares.
//!
//! The server builds one [`Deps`] and hands it to each service's `service(&Deps)`
//! constructor. Handlers keep resources in `deps.store` (scoped per account and region with
//! [`scope`]), check buckets and objects in `deps.blob`, read time from `deps.clock` (never from
//! the system clock directly, so tests can move time), and build URLs from `deps.endpoints`.

pub mod jwt;
pub mod keys;

use rand::Rng as _;
use reelay_aws::{ApiError, ErrorCode, RequestContext, ServiceId};
use reelay_store::{MetaStore, Scope, StoreError};
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use time::OffsetDateTime;

/// Where reelay's own listeners are, as clients should reach them.
#[derive(Debug, Clone)]
pub struct Endpoints {
    /// Base URL of the HTTP listener (APIs, S3, egress, playback), no trailing slash.
    pub public_url: String,
    /// RTMP ingest base, e.g. `rtmp://127.0.0.1:1935` (the live issue binds it).
    pub rtmp: String,
    /// RTMPS ingest base when a certificate is configured.
    pub rtmps: Option<String>,
    /// SRT ingest, e.g. `srt://127.0.0.1:9000`.
    pub srt: String,
    /// STUN/TURN server URIs handed to WebRTC clients (`--ice-server`).
    pub ice_servers: Vec<String>,
}

impl Endpoints {
    /// The host:port of the public URL (what `domainName`-style members carry).
    pub fn public_host(&self) -> &str {
        let s = self
            .public_url
            .split("://")
            .nth(1)
            .unwrap_or(&self.public_url);
        s.split('/').next().unwrap_or(s)
    }
}

/// Wall-clock time with an adjustable offset.
///
/// Production reads the system clock; tests move time forward through
/// `POST /_reelay/clock` (served only where the reset endpoints are) instead of sleeping,
/// e.g. to see an IVS Real-Time composition stop after its idle timeout.
#[derive(Debug, Default)]
pub struct Clock {
    offset_ms: AtomicI64,
}

impl Clock {
    /// The current time.
    pub fn now(&self) -> OffsetDateTime {
        OffsetDateTime::now_utc()
            + time::Duration::milliseconds(self.offset_ms.load(Ordering::Relaxed))
    }

    /// Move time forward (or back) by `ms` milliseconds.
    pub fn advance_ms(&self, ms: i64) {
        self.offset_ms.fetch_add(ms, Ordering::Relaxed);
    }

    /// Forget any offset.
    pub fn reset(&self) {
        self.offset_ms.store(0, Ordering::Relaxed);
    }
}

/// Everything a service's handlers need.
#[derive(Clone)]
pub struct Deps {
    /// Metadata store.
    pub store: Arc<dyn MetaStore>,
    /// Object store (the S3 endpoint's buckets).
    pub blob: Arc<reelay_blob::BlobStore>,
    /// Time.
    pub clock: Arc<Clock>,
    /// reelay's listeners.
    pub endpoints: Endpoints,
}

/// The store scope of a request: its account and region.
pub fn scope(ctx: &RequestContext) -> Scope {
    Scope::new(ctx.account.clone(), ctx.region.clone())
}

/// A random identifier from a CSPRNG over `[a-zA-Z0-9]`.
pub fn random_id(len: usize) -> String {
    const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    let mut rng = rand::rngs::OsRng;
    (0..len)
        .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
        .collect()
}

/// A random lowercase hex string of `n_bytes` bytes.
pub fn random_hex(n_bytes: usize) -> String {
    let mut rng = rand::rngs::OsRng;
    (0..n_bytes)
        .map(|_| format!("{:02x}", rng.r#gen::<u8>()))
        .collect()
}

/// `arn:aws:<service>:<region>:<account>:<resource>`.
pub fn arn(service: &str, ctx: &RequestContext, resource: &str) -> String {
    format!(
        "arn:aws:{service}:{}:{}:{resource}",
        ctx.region, ctx.account
    )
}

/// The parts of an ARN.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArnParts<'a> {
    /// Service, e.g. `ivs`.
    pub service: &'a str,
    /// Region.
    pub region: &'a str,
    /// Account.
    pub account: &'a str,
    /// Resource type (before the first `/`).
    pub resource_type: &'a str,
    /// Resource id (after the first `/`).
    pub resource_id: &'a str,
}

/// Split an ARN of the `type/id` form.
pub fn parse_arn(arn: &str) -> Option<ArnParts<'_>> {
    let mut it = arn.splitn(6, ':');
    (it.next()? == "arn").then_some(())?;
    let _partition = it.next()?;
    let service = it.next()?;
    let region = it.next()?;
    let account = it.next()?;
    let (resource_type, resource_id) = it.next()?.split_once('/')?;
    Some(ArnParts {
        service,
        region,
        account,
        resource_type,
        resource_id,
    })
}

/// How a service names the store's failures.
#[derive(Debug, Clone, Copy)]
pub struct StoreErrors {
    /// The service.
    pub service: ServiceId,
    /// Unknown resource.
    pub not_found: ErrorCode,
    /// Concurrent modification or precondition failure.
    pub conflict: ErrorCode,
    /// Too many tags.
    pub too_many_tags: Option<ErrorCode>,
}

impl StoreErrors {
    /// Map a store error to the service's wire error.
    pub fn map(&self, e: StoreError, what: &str) -> ApiError {
        match e {
            StoreError::NotFound => ApiError::new(self.not_found, format!("{what} not found")),
            StoreError::AlreadyExists => {
                ApiError::new(self.conflict, format!("{what} already exists"))
            }
            StoreError::VersionMismatch { expected, actual } => ApiError::new(
                self.conflict,
                format!(
                    "{what} was modified concurrently (expected version {expected}, found {actual})"
                ),
            ),
            StoreError::InvalidPageToken => {
                ApiError::validation(self.service, "the pagination token is invalid")
            }
            StoreError::TooManyTags { limit } => match self.too_many_tags {
                Some(code) => {
                    ApiError::new(code, format!("a resource can have at most {limit} tags"))
                }
                None => ApiError::validation(
                    self.service,
                    format!("a resource can have at most {limit} tags"),
                ),
            },
            StoreError::InvalidTag(m) | StoreError::InvalidInput(m) => {
                ApiError::validation(self.service, m)
            }
            StoreError::ConditionFailed { reason, .. } => ApiError::new(self.conflict, reason),
            other => ApiError::internal(self.service, format!("storage failure: {other}")),
        }
    }
}

/// Clamp a requested page size to `1..=max`, with `default` when absent.
pub fn page_size(requested: Option<i64>, default: usize, max: usize) -> usize {
    match requested {
        Some(n) if n >= 1 => usize::try_from(n).unwrap_or(max).min(max),
        _ => default,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_round_trip_and_ids() {
        let p = parse_arn("arn:aws:ivs:us-west-2:123456789012:channel/AbCd").unwrap();
        assert_eq!(
            (p.service, p.resource_type, p.resource_id),
            ("ivs", "channel", "AbCd")
        );
        assert!(parse_arn("nope").is_none());
        let id = random_id(12);
        assert_eq!(id.len(), 12);
        assert!(id.chars().all(|c| c.is_ascii_alphanumeric()));
        assert_ne!(random_id(12), id);
        assert_eq!(random_hex(4).len(), 8);
    }

    #[test]
    fn clock_moves() {
        let c = Clock::default();
        let a = c.now();
        c.advance_ms(60_000);
        assert!(c.now() - a >= time::Duration::seconds(60));
        c.reset();
        assert!(c.now() - a < time::Duration::seconds(60));
    }

    #[test]
    fn page_sizes() {
        assert_eq!(page_size(None, 10, 100), 10);
        assert_eq!(page_size(Some(0), 10, 100), 10);
        assert_eq!(page_size(Some(1000), 10, 100), 100);
        assert_eq!(page_size(Some(5), 10, 100), 5);
    }
}
