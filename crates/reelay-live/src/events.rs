//! The IVS event log: the stream-session events (`truncatedEvents`) also delivered in the shape
//! EventBridge gives them (ivs.md §7: `source` `aws.ivs`, `resources` = the channel ARN,
//! `detail.{event_name, channel_name, stream_id}`, plus `code` on `Session Ended`; recording
//! events, detail-type `IVS Recording State Change`, carry `recording_status` and the
//! `recording_*` fields instead of `event_name`), one JSON object per event, as objects of
//! reelay's own S3 endpoint so that any S3 client can read them.
//!
//! Where: bucket `reelay-ivs-events-<account>`, key `<region>/<yyyymmddThhmmss.mmmZ>-<id>.json`,
//! so that a prefix listing of a region returns the events in time order (the layout of the
//! MediaPackage VOD event log). The bucket is created on the first event, owned by the account.

use bytes::Bytes;
use reelay_api_common::Deps;
use reelay_aws::generated::ivs::types::StreamEvent;
use reelay_blob::ObjectAttrs;
use reelay_store::Scope;
use serde_json::{Value, json};
use time::OffsetDateTime;

/// Prefix of the per-account event bucket.
pub const BUCKET_PREFIX: &str = "reelay-ivs-events-";

/// The bucket holding an account's events.
pub(crate) fn bucket_name(account: &str) -> String {
    // Accounts are 12 digits; anything else is reduced to characters a bucket name accepts.
    let safe: String = account
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .take(20)
        .collect();
    if safe.is_empty() {
        format!("{BUCKET_PREFIX}000000000000")
    } else {
        format!("{BUCKET_PREFIX}{safe}")
    }
}

/// The object key of an event.
pub(crate) fn object_key(region: &str, t: OffsetDateTime, id: &str) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{region}/{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{id}.json",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.millisecond()
    )
}

/// One session event to log.
pub(crate) struct StreamEventLog<'a> {
    pub(crate) channel_arn: &'a str,
    pub(crate) channel_name: &'a str,
    pub(crate) stream_id: &'a str,
    pub(crate) event: &'a StreamEvent,
    /// Further `detail` fields (the `recording_*` fields of recording events).
    pub(crate) detail: Option<&'a serde_json::Map<String, Value>>,
}

/// An id shaped like EventBridge's (a random UUID v4).
static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// The next event sequence number of this process (see [`record`]).
pub(crate) fn next_seq() -> u64 {
    SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

fn event_id() -> String {
    let h = reelay_api_common::random_hex(16);
    let variant = ["8", "9", "a", "b"][usize::from(h.as_bytes()[16] % 4)];
    format!(
        "{}-{}-4{}-{variant}{}-{}",
        &h[0..8],
        &h[8..12],
        &h[13..16],
        &h[17..20],
        &h[20..32]
    )
}

/// The EventBridge envelope of a session event.
pub(crate) fn envelope(
    scope: &Scope,
    at: OffsetDateTime,
    id: &str,
    e: &StreamEventLog<'_>,
) -> Value {
    let name = e.event.name.as_deref().unwrap_or_default();
    let detail_type = crate::session::event_type(name);
    let mut detail = json!({
        "channel_name": e.channel_name,
        "stream_id": e.stream_id,
    });
    // Recording events name themselves in `recording_status` (ivs.md §7).
    if detail_type == crate::session::RECORDING_CHANGE {
        detail["recording_status"] = json!(name);
    } else {
        detail["event_name"] = json!(name);
    }
    if let Some(code) = &e.event.code {
        detail["code"] = json!(code);
    }
    for (k, v) in e.detail.into_iter().flatten() {
        detail[k.as_str()] = v.clone();
    }
    let t = at.to_offset(time::UtcOffset::UTC);
    json!({
        "version": "0",
        "id": id,
        "detail-type": detail_type,
        "source": "aws.ivs",
        "account": scope.account,
        "time": format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
            t.year(), u8::from(t.month()), t.day(), t.hour(), t.minute(), t.second()
        ),
        "region": scope.region,
        "resources": [e.channel_arn],
        "detail": detail,
    })
}

/// Appends one event, logging instead of failing: the stream goes on whatever happens to its
/// event delivery, as with EventBridge.
///
/// `seq` comes from [`next_seq`], taken where the event was ordered (under the session's
/// lock): it orders events of the same millisecond in the listing, whatever order their
/// writes complete in.
pub(crate) async fn record(deps: &Deps, scope: &Scope, e: &StreamEventLog<'_>, seq: u64) {
    let at = e.event.event_time.map_or_else(|| deps.clock.now(), |t| t.0);
    let id = event_id();
    let value = envelope(scope, at, &id, e);
    let mut body = serde_json::to_vec(&value).unwrap_or_default();
    body.push(b'\n');
    let bucket = bucket_name(&scope.account);
    let key = object_key(&scope.region, at, &format!("{seq:016x}-{id}"));
    let attrs = ObjectAttrs {
        content_type: Some("application/json".into()),
        ..ObjectAttrs::default()
    };
    let put = |body: Bytes, attrs: ObjectAttrs| {
        let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
        deps.blob.put_object(&bucket, &key, stream, attrs)
    };
    let body = Bytes::from(body);
    let res = match put(body.clone(), attrs.clone()).await {
        Err(reelay_blob::Error::NoSuchBucket { .. }) => {
            match deps
                .blob
                .create_bucket(&bucket, &scope.account, &scope.region)
                .await
            {
                Ok(_)
                | Err(reelay_blob::Error::BucketAlreadyOwnedByYou { .. })
                | Err(reelay_blob::Error::BucketAlreadyExists { .. }) => put(body, attrs).await,
                Err(e) => Err(e),
            }
        }
        other => other,
    };
    if let Err(err) = res {
        tracing::warn!(error = %err, "could not append to the ivs event log");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_aws::Timestamp;

    #[test]
    fn names_keys_and_envelope() {
        assert_eq!(
            bucket_name("123456789012"),
            "reelay-ivs-events-123456789012"
        );
        assert_eq!(bucket_name("../"), "reelay-ivs-events-000000000000");
        reelay_blob::validate_bucket_name(&bucket_name("123456789012")).unwrap();
        let t = time::macros::datetime!(2024-01-02 03:04:05.006 UTC);
        assert_eq!(
            object_key("us-east-1", t, "e"),
            "us-east-1/20240102T030405.006Z-e.json"
        );
        let ev = StreamEvent {
            code: Some("MultitrackInputNotAllowed".into()),
            event_time: Some(Timestamp(t)),
            name: Some("Session Ended".into()),
            r#type: None,
        };
        let scope = Scope::new("123456789012", "us-east-1");
        let v = envelope(
            &scope,
            t,
            "id",
            &StreamEventLog {
                channel_arn: "arn:aws:ivs:us-east-1:123456789012:channel/abc",
                channel_name: "n",
                stream_id: "st-1",
                event: &ev,
                detail: None,
            },
        );
        assert_eq!(v["detail-type"], "IVS Stream State Change");
        assert_eq!(v["source"], "aws.ivs");
        assert_eq!(v["time"], "2024-01-02T03:04:05Z");
        assert_eq!(
            v["resources"][0],
            "arn:aws:ivs:us-east-1:123456789012:channel/abc"
        );
        assert_eq!(v["detail"]["event_name"], "Session Ended");
        assert_eq!(v["detail"]["code"], "MultitrackInputNotAllowed");
        assert_eq!(v["detail"]["stream_id"], "st-1");
        assert!(v["detail"].get("recording_status").is_none());
        let rec = StreamEvent {
            code: None,
            event_time: Some(Timestamp(t)),
            name: Some("Recording End".into()),
            r#type: None,
        };
        let mut extra = serde_json::Map::new();
        extra.insert("recording_duration_ms".into(), json!(4000));
        extra.insert("recording_session_stream_ids".into(), json!(["st-1"]));
        let v = envelope(
            &scope,
            t,
            "id",
            &StreamEventLog {
                channel_arn: "arn:aws:ivs:us-east-1:123456789012:channel/abc",
                channel_name: "n",
                stream_id: "st-1",
                event: &rec,
                detail: Some(&extra),
            },
        );
        assert_eq!(v["detail-type"], "IVS Recording State Change");
        assert_eq!(v["detail"]["recording_status"], "Recording End");
        assert!(v["detail"].get("event_name").is_none());
        assert_eq!(v["detail"]["recording_duration_ms"], 4000);
        assert_eq!(v["detail"]["recording_session_stream_ids"][0], "st-1");
        assert_eq!(v["detail"]["channel_name"], "n");
        let id = event_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
    }
}
