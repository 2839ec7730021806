//! The event log: EventBridge-shaped events, one JSON object per event, kept as objects of
//! reelay's own S3 endpoint so that any S3 client can read them.
//!
//! Where: bucket `reelay-mediapackage-vod-events-<account>`, key
//! `<region>/<yyyymmddThhmmss.mmmZ>-<event id>.json`, so a prefix listing of a region returns the
//! events in time order. The bucket is created on the first event (owned by the account), is
//! wiped by `POST /_reelay/reset` like every object, and survives restarts.
//!
//! What: today, one `AWS API Call via CloudTrail` event per successful state-changing API call
//! (the form EventBridge delivers CloudTrail management events in). The ingest events AWS emits
//! (`MediaPackage Input Notification` with `IngestStart`, `IngestComplete`, `IngestError`, and
//! `VodAssetPlayable` per configuration; UG:cloudwatch-events-example) belong to the packaging
//! engine, which appends them here with [`EventLog::append`] when ingest really happens.

use bytes::Bytes;
use reelay_blob::{BlobStore, ObjectAttrs};
use serde_json::{Value, json};
use std::sync::Arc;
use time::OffsetDateTime;

/// Prefix of the per-account event bucket.
pub const BUCKET_PREFIX: &str = "reelay-mediapackage-vod-events-";

/// The event log.
#[derive(Clone)]
pub struct EventLog {
    blob: Arc<BlobStore>,
}

impl std::fmt::Debug for EventLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EventLog").finish_non_exhaustive()
    }
}

/// The bucket holding an account's events.
pub fn bucket_name(account: &str) -> String {
    // Accounts are 12 digits; anything else is reduced to characters a bucket name accepts.
    let safe: String = account
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    let safe = if safe.is_empty() {
        "000000000000".to_string()
    } else {
        safe
    };
    format!("{BUCKET_PREFIX}{safe}")
}

static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The next event sequence number of this process.
fn next_seq() -> u64 {
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

/// The object key of an event.
pub fn object_key(region: &str, time: OffsetDateTime, event_id: &str) -> String {
    let t = time.to_offset(time::UtcOffset::UTC);
    format!(
        "{region}/{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{event_id}.json",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// An EventBridge envelope (`version` 0).
pub fn envelope(
    detail_type: &str,
    source: &str,
    account: &str,
    region: &str,
    time: OffsetDateTime,
    resources: Vec<String>,
    detail: Value,
) -> Value {
    json!({
        "version": "0",
        "id": uuid::Uuid::new_v4().to_string(),
        "detail-type": detail_type,
        "source": source,
        "account": account,
        "time": seconds(time),
        "region": region,
        "resources": resources,
        "detail": detail,
    })
}

/// What a state-changing API call left behind, for [`api_call_event`].
pub(crate) struct ApiCall<'a> {
    pub(crate) ctx: &'a reelay_aws::RequestContext,
    pub(crate) time: OffsetDateTime,
    pub(crate) event_name: &'a str,
    pub(crate) resources: Vec<String>,
    pub(crate) request_parameters: Value,
    pub(crate) response_elements: Value,
}

/// An `AWS API Call via CloudTrail` event, as EventBridge delivers CloudTrail management events.
pub(crate) fn api_call_event(call: ApiCall<'_>) -> Value {
    let ctx = call.ctx;
    let detail = json!({
        "eventVersion": "1.08",
        "eventTime": seconds(call.time),
        "eventSource": "mediapackage-vod.amazonaws.com",
        "eventName": call.event_name,
        "awsRegion": ctx.region,
        "requestID": ctx.request_id,
        "eventID": uuid::Uuid::new_v4().to_string(),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": ctx.account,
        "requestParameters": call.request_parameters,
        "responseElements": call.response_elements,
    });
    envelope(
        "AWS API Call via CloudTrail",
        "aws.mediapackage-vod",
        &ctx.account,
        &ctx.region,
        call.time,
        call.resources,
        detail,
    )
}

/// EventBridge `time`: whole seconds, UTC, `Z`.
fn seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

impl EventLog {
    /// A log writing into `blob`.
    pub fn new(blob: Arc<BlobStore>) -> Self {
        EventLog { blob }
    }

    /// Append one event (an [`envelope`]) for `account` in `region` at `time`.
    pub async fn append(
        &self,
        account: &str,
        region: &str,
        time: OffsetDateTime,
        event: &Value,
    ) -> Result<(), reelay_blob::Error> {
        let bucket = bucket_name(account);
        let id = event
            .get("id")
            .and_then(Value::as_str)
            .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_string);
        // Events of the same millisecond (IngestComplete and VodAssetPlayable, say) list in the
        // order they were appended: the sequence sorts before the id.
        let key = object_key(region, time, &format!("{:016x}-{id}", next_seq()));
        let mut body = serde_json::to_vec(event).unwrap_or_default();
        body.push(b'\n');
        let body = Bytes::from(body);
        let attrs = ObjectAttrs {
            content_type: Some("application/json".into()),
            ..ObjectAttrs::default()
        };
        match self.put(&bucket, &key, body.clone(), attrs.clone()).await {
            Err(reelay_blob::Error::NoSuchBucket { .. }) => {
                match self.blob.create_bucket(&bucket, account, region).await {
                    Ok(_)
                    | Err(reelay_blob::Error::BucketAlreadyOwnedByYou { .. })
                    | Err(reelay_blob::Error::BucketAlreadyExists { .. }) => {}
                    Err(e) => return Err(e),
                }
                self.put(&bucket, &key, body, attrs).await
            }
            other => other,
        }
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Bytes,
        attrs: ObjectAttrs,
    ) -> Result<(), reelay_blob::Error> {
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        self.blob
            .put_object(bucket, key, stream, attrs)
            .await
            .map(|_| ())
    }

    /// Append, logging instead of failing: the API call that caused the event has already
    /// committed, and EventBridge delivery is likewise decoupled from the call's outcome.
    pub(crate) async fn record(
        &self,
        account: &str,
        region: &str,
        time: OffsetDateTime,
        event: &Value,
    ) {
        if let Err(e) = self.append(account, region, time, event).await {
            tracing::warn!(error = %e, "could not append to the mediapackage-vod event log");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert_eq!(
            bucket_name("123456789012"),
            "reelay-mediapackage-vod-events-123456789012"
        );
        assert_eq!(
            bucket_name("../"),
            "reelay-mediapackage-vod-events-000000000000"
        );
        let t = time::macros::datetime!(2024-01-02 03:04:05.006 UTC);
        assert_eq!(
            object_key("us-east-1", t, "e"),
            "us-east-1/20240102T030405.006Z-e.json"
        );
        reelay_blob::validate_bucket_name(&bucket_name("123456789012")).unwrap();
    }

    #[tokio::test]
    async fn append_creates_the_bucket_and_writes_json_lines() {
        let blob = Arc::new(BlobStore::in_memory());
        let log = EventLog::new(blob.clone());
        let t = time::macros::datetime!(2024-01-02 03:04:05 UTC);
        let ev = envelope(
            "T",
            "aws.x",
            "111122223333",
            "eu-west-1",
            t,
            vec!["arn".into()],
            json!({"k": 1}),
        );
        let mut second = ev.clone();
        second["id"] = json!("second");
        log.append("111122223333", "eu-west-1", t, &second)
            .await
            .unwrap();
        log.append("111122223333", "eu-west-1", t, &ev)
            .await
            .unwrap();
        let bucket = blob
            .head_bucket(&bucket_name("111122223333"))
            .await
            .unwrap();
        assert_eq!(bucket.owner, "111122223333");
        // Same time: listed in the order appended, whatever their ids.
        let id = ev["id"].as_str().unwrap();
        let query = reelay_blob::ListQuery {
            prefix: "eu-west-1/",
            delimiter: None,
            start_after: None,
            marker: None,
            max_keys: 10,
        };
        let keys: Vec<String> = blob
            .list_objects(&bucket.name, &query)
            .await
            .unwrap()
            .objects
            .into_iter()
            .map(|o| o.key)
            .collect();
        assert_eq!(keys.len(), 2);
        assert!(keys[0].ends_with("-second.json"), "{keys:?}");
        assert!(keys[1].ends_with(&format!("-{id}.json")), "{keys:?}");
        let info = blob.head_object(&bucket.name, &keys[1]).await.unwrap();
        assert!(info.size > 10);
        assert_eq!(ev["time"], "2024-01-02T03:04:05Z");
    }
}
