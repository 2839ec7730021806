//! Egress access logs (UG:access-logging): when a packaging group has `egressAccessLogs`, every
//! egress request of its assets produces one JSON record.
//!
//! reelay has no CloudWatch Logs; records go to its own S3 endpoint, where any S3 client can
//! read them:
//!
//! - bucket `reelay-mediapackage-vod-logs-<account>` (created on first use, owned by the
//!   account);
//! - key `<log group name>/<yyyy-mm-dd>/<yyyymmddThhmmss.mmmZ>-<16 hex>.jsonl`: the log group
//!   name without its leading `/` (other characters than letters, digits, `/`, `.`, `_`, `-`
//!   become `_`), the UTC date, then one object per batch of JSON lines, so listing a day's
//!   prefix returns the batches in time order.
//!
//! Serving never waits for logging: records go through a bounded channel to one writer task,
//! which writes a batch when [`MAX_BATCH`] records are waiting or [`FLUSH_EVERY`] after the
//! first one. When the channel is full the record is dropped and counted in the server log.

use reelay_blob::{BlobStore, ObjectAttrs};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// Records waiting for the writer; beyond this, records are dropped (serving never blocks).
const QUEUE: usize = 8192;
/// Most records in one object.
pub const MAX_BATCH: usize = 1000;
/// Longest a record waits before its batch is written.
pub const FLUSH_EVERY: Duration = Duration::from_millis(500);
/// `userAgent` is cut at this many bytes (UG:access-logging).
const MAX_USER_AGENT: usize = 8 * 1024;

/// One request to log.
#[derive(Debug, Clone)]
pub struct Entry {
    /// Account and region of the packaging group.
    pub account: String,
    /// See `account`.
    pub region: String,
    /// The group's log group name.
    pub log_group: String,
    /// The record (see [`record`]).
    pub record: Value,
    /// When the request was received (reelay's clock), for the object key.
    pub time: time::OffsetDateTime,
}

/// The sending side, held by the egress handlers.
#[derive(Debug, Clone)]
pub struct AccessLog {
    tx: Option<mpsc::Sender<Entry>>,
    dropped: Arc<AtomicU64>,
}

impl AccessLog {
    /// Starts the writer task (when a runtime is running; without one, records are dropped).
    pub fn start(blob: Arc<BlobStore>) -> Self {
        let dropped = Arc::new(AtomicU64::new(0));
        if tokio::runtime::Handle::try_current().is_err() {
            return Self { tx: None, dropped };
        }
        let (tx, rx) = mpsc::channel(QUEUE);
        tokio::spawn(writer(blob, rx));
        Self {
            tx: Some(tx),
            dropped,
        }
    }

    /// Queues a record without waiting.
    pub fn log(&self, entry: Entry) {
        let Some(tx) = &self.tx else { return };
        if tx.try_send(entry).is_err() {
            let n = self.dropped.fetch_add(1, Ordering::Relaxed) + 1;
            if n.is_power_of_two() {
                tracing::warn!(dropped = n, "egress access log queue full: records dropped");
            }
        }
    }
}

/// The fields of a request and its answer.
#[derive(Debug, Clone, Default)]
pub struct Request<'a> {
    /// Client address, or `-`.
    pub client_ip: String,
    /// Seconds from the request to the response head.
    pub processing_time: f64,
    /// HTTP status.
    pub status: u16,
    /// Request bytes (headers and body, as received).
    pub received_bytes: u64,
    /// Response body bytes.
    pub sent_bytes: u64,
    /// `GET`, `HEAD`, ...
    pub method: &'a str,
    /// The full request URL, with its query.
    pub request: String,
    /// `HTTP/1.1`, ...
    pub protocol: &'a str,
    /// `User-Agent`, or `-`.
    pub user_agent: &'a str,
    /// The `Host` header, or `-`.
    pub domain_name: &'a str,
    /// A unique id of the request.
    pub request_id: String,
}

/// The ids of what the request reached (VOD's counterpart of live's channel and endpoint ids).
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// Packaging group id and ARN.
    pub group: Option<(String, String)>,
    /// Asset id and ARN.
    pub asset: Option<(String, String)>,
    /// Packaging configuration id and ARN.
    pub config: Option<(String, String)>,
}

/// One log record, with the fields of UG:access-logging plus the VOD resource ids.
pub fn record(time: time::OffsetDateTime, account: &str, r: &Request<'_>, t: &Target) -> Value {
    let mut ua = r.user_agent;
    if ua.len() > MAX_USER_AGENT {
        let mut cut = MAX_USER_AGENT;
        while !ua.is_char_boundary(cut) {
            cut -= 1;
        }
        ua = &ua[..cut];
    }
    let mut v = json!({
        "timestamp": timestamp(time),
        "clientIp": r.client_ip,
        "processingTime": (r.processing_time * 1e6).round() / 1e6,
        "statusCode": r.status.to_string(),
        "receivedBytes": r.received_bytes,
        "sentBytes": r.sent_bytes,
        "method": r.method,
        "request": r.request,
        "protocol": r.protocol,
        "userAgent": ua,
        "account": account,
        "domainName": r.domain_name,
        "requestId": r.request_id,
    });
    let pairs = [
        ("packagingGroupId", "packagingGroupArn", &t.group),
        ("assetId", "assetArn", &t.asset),
        ("packagingConfigId", "packagingConfigArn", &t.config),
    ];
    for (id_key, arn_key, val) in pairs {
        if let Some((id, arn)) = val {
            v[id_key] = json!(id);
            v[arn_key] = json!(arn);
        }
    }
    v
}

/// ISO 8601 with microseconds, UTC.
fn timestamp(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// The bucket of an account's logs.
pub fn bucket(account: &str) -> String {
    let safe: String = account
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(20)
        .collect::<String>()
        .to_ascii_lowercase();
    format!("reelay-mediapackage-vod-logs-{safe}")
}

/// The key prefix of a log group: its name without the leading `/`, unsafe characters as `_`,
/// no empty or dot segments.
pub fn group_prefix(name: &str) -> String {
    let parts: Vec<String> = name
        .split('/')
        .filter(|p| !p.is_empty() && *p != "." && *p != "..")
        .map(|p| {
            p.chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                        c
                    } else {
                        '_'
                    }
                })
                .collect()
        })
        .collect();
    if parts.is_empty() {
        "_".into()
    } else {
        parts.join("/")
    }
}

/// The object key of a batch written at `t`.
pub fn object_key(log_group: &str, t: time::OffsetDateTime, id: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{}/{:04}-{:02}-{:02}/{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{id}.jsonl",
        group_prefix(log_group),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// What the egress handler learns while resolving a request, for authorization and logging.
#[derive(Debug, Default)]
pub struct EgressContext {
    /// The `X-MediaPackage-CDNIdentifier` header, if any.
    pub cdn_header: Option<Vec<u8>>,
    /// What the request reached.
    pub target: Target,
    /// The group's log group, when access logging is on.
    pub log_group: Option<String>,
}

/// Logs one answered egress request, when its group has access logging on.
#[allow(clippy::too_many_arguments)] // the request's parts, as axum hands them out
pub(crate) fn after(
    engine: &crate::Engine,
    ctx: &EgressContext,
    region: &str,
    account: &str,
    method: &axum::http::Method,
    headers: &axum::http::HeaderMap,
    uri: &axum::http::Uri,
    version: axum::http::Version,
    started: std::time::Instant,
    response: &axum::response::Response,
) {
    let Some(log_group) = &ctx.log_group else {
        return;
    };
    let header = |name: axum::http::header::HeaderName| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("-")
    };
    let client_ip = headers
        .get("x-forwarded-for")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "-".into());
    let host = header(axum::http::header::HOST);
    let received: u64 = headers
        .iter()
        .map(|(k, v)| (k.as_str().len() + v.len() + 4) as u64)
        .sum::<u64>()
        + uri.to_string().len() as u64
        + method.as_str().len() as u64;
    let sent = response
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok())
        .filter(|_| method != axum::http::Method::HEAD)
        .unwrap_or(0);
    let request = if host == "-" {
        uri.to_string()
    } else {
        format!("http://{host}{uri}")
    };
    let now = engine.deps.clock.now();
    let r = Request {
        client_ip,
        processing_time: started.elapsed().as_secs_f64(),
        status: response.status().as_u16(),
        received_bytes: received,
        sent_bytes: sent,
        method: method.as_str(),
        request,
        protocol: match version {
            axum::http::Version::HTTP_10 => "HTTP/1.0",
            axum::http::Version::HTTP_2 => "HTTP/2.0",
            _ => "HTTP/1.1",
        },
        user_agent: header(axum::http::header::USER_AGENT),
        domain_name: host,
        request_id: reelay_api_common::random_hex(16),
    };
    engine.access_log.log(Entry {
        account: account.to_string(),
        region: region.to_string(),
        log_group: log_group.clone(),
        record: record(now, account, &r, &ctx.target),
        time: now,
    });
}

async fn writer(blob: Arc<BlobStore>, mut rx: mpsc::Receiver<Entry>) {
    while let Some(first) = rx.recv().await {
        let mut batch = vec![first];
        let deadline = tokio::time::Instant::now() + FLUSH_EVERY;
        while batch.len() < MAX_BATCH {
            match tokio::time::timeout_at(deadline, rx.recv()).await {
                Ok(Some(e)) => batch.push(e),
                Ok(None) | Err(_) => break,
            }
        }
        // One object per (account, region, log group) in the batch.
        let mut groups: BTreeMap<(String, String, String), Vec<Entry>> = BTreeMap::new();
        for e in batch {
            groups
                .entry((e.account.clone(), e.region.clone(), e.log_group.clone()))
                .or_default()
                .push(e);
        }
        for ((account, region, log_group), entries) in groups {
            if let Err(e) = write(&blob, &account, &region, &log_group, &entries).await {
                tracing::warn!(error = %e, log_group = %log_group, "could not write egress access logs");
            }
        }
    }
}

async fn write(
    blob: &BlobStore,
    account: &str,
    region: &str,
    log_group: &str,
    entries: &[Entry],
) -> Result<(), String> {
    let Some(first) = entries.first() else {
        return Ok(());
    };
    let bucket = bucket(account);
    match blob.create_bucket(&bucket, account, region).await {
        Ok(_) | Err(reelay_blob::Error::BucketAlreadyOwnedByYou { .. }) => {}
        Err(reelay_blob::Error::BucketAlreadyExists { .. }) => {
            return Err(format!("bucket '{bucket}' belongs to another account"));
        }
        Err(e) => return Err(e.to_string()),
    }
    let mut body = Vec::new();
    for e in entries {
        body.extend_from_slice(e.record.to_string().as_bytes());
        body.push(b'\n');
    }
    let key = object_key(log_group, first.time, &reelay_api_common::random_hex(8));
    let stream = futures::stream::iter([Ok::<_, std::io::Error>(bytes::Bytes::from(body))]);
    blob.put_object(&bucket, &key, stream, ObjectAttrs::default())
        .await
        .map(|_| ())
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_keys() {
        let t = time::macros::datetime!(2026-11-21 10:20:30.123456 UTC);
        let r = Request {
            client_ip: "127.0.0.1".into(),
            processing_time: 0.0012345678,
            status: 403,
            method: "GET",
            request: "http://h/x/index.m3u8?a=1".into(),
            protocol: "HTTP/1.1",
            user_agent: &"u".repeat(9000),
            domain_name: "h",
            request_id: "id".into(),
            ..Default::default()
        };
        let target = Target {
            asset: Some(("a".into(), "arn:a".into())),
            ..Default::default()
        };
        let v = record(t, "000000000000", &r, &target);
        assert_eq!(v["timestamp"], "2026-11-21T10:20:30.123456Z");
        assert_eq!(v["statusCode"], "403");
        assert_eq!(v["processingTime"], 0.001235);
        assert_eq!(v["userAgent"].as_str().unwrap().len(), 8192);
        assert_eq!(v["assetArn"], "arn:a");
        assert!(v.get("packagingConfigId").is_none());
        assert_eq!(
            object_key("/aws/MediaPackage/Egress Logs/../x", t, "ab"),
            "aws/MediaPackage/Egress_Logs/x/2026-11-21/20261121T102030.123Z-ab.jsonl"
        );
        assert_eq!(group_prefix("//"), "_");
        assert_eq!(
            bucket("000000000000"),
            "reelay-mediapackage-vod-logs-000000000000"
        );
    }
}
