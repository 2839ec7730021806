//! In-process tests of the handlers over an in-memory store, including the live-plane paths that
//! the API alone cannot reach (a stream record written as the live plane will write it).

use crate::records::*;
use crate::{IvsService, Quotas};
use reelay_api_common::{Clock, Deps, Endpoints};
use reelay_aws::generated::ivs::{MODEL, Op};
use reelay_aws::{ApiError, Output, RequestContext, Service};
use reelay_store::{NewRecord, StoreConfig};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Harness {
    svc: IvsService,
    deps: Deps,
    ctx: RequestContext,
}

async fn harness_with(quotas: Quotas) -> Harness {
    let store = reelay_store::open("sqlite::memory:", StoreConfig::default())
        .await
        .unwrap();
    let deps = Deps {
        store,
        blob: Arc::new(reelay_blob::BlobStore::in_memory()),
        clock: Arc::new(Clock::default()),
        endpoints: Endpoints {
            public_url: "http://127.0.0.1:4566".into(),
            rtmp: "rtmp://127.0.0.1:1935".into(),
            rtmps: None,
            srt: "srt://127.0.0.1:9000".into(),
            ice_servers: vec![],
        },
    };
    let ctx = RequestContext {
        account: "123456789012".into(),
        region: "us-west-2".into(),
        request_id: "req".into(),
        public_url: "http://127.0.0.1:4566".into(),
        now: time::OffsetDateTime::now_utc(),
    };
    Harness {
        svc: IvsService::new(deps.clone(), quotas),
        deps,
        ctx,
    }
}

async fn harness() -> Harness {
    harness_with(Quotas::default()).await
}

impl Harness {
    async fn call(&self, op: Op, input: Value) -> Result<Value, ApiError> {
        match self.svc.call(&self.ctx, op as usize, input).await? {
            Output::Json(v) => Ok(v),
            other => panic!("unexpected output {other:?}"),
        }
    }

    async fn ok(&self, op: Op, input: Value) -> Value {
        self.call(op, input)
            .await
            .unwrap_or_else(|e| panic!("{op:?}: {e}"))
    }

    async fn err(&self, op: Op, input: Value) -> ApiError {
        match self.call(op, input).await {
            Ok(v) => panic!("{op:?} succeeded: {v}"),
            Err(e) => e,
        }
    }

    /// Make a channel live the way the live plane will: an `ivs:stream` record.
    async fn go_live(&self, channel_arn: &str, health: &str) {
        let id = channel_arn.rsplit('/').next().unwrap();
        let body = json!({
            "schemaVersion": 1, "channelArn": channel_arn, "streamId": format!("st-{}", "a".repeat(23)),
            "startTime": "2024-01-02T03:04:05.000Z", "health": health, "viewerCount": 7,
        });
        let rec = NewRecord {
            kind: KIND_STREAM.into(),
            id: id.into(),
            arn: format!("{channel_arn}/stream"),
            parent: Some(channel_arn.into()),
            index: [(IDX_HEALTH.to_string(), health.to_string())].into(),
            body,
            schema_version: 1,
            tags: BTreeMap::new(),
        };
        self.deps
            .store
            .insert(&reelay_api_common::scope(&self.ctx), rec)
            .await
            .unwrap();
    }

    async fn add_session(&self, channel_arn: &str, stream_id: &str, start: &str) {
        let body = json!({
            "schemaVersion": 1, "channelArn": channel_arn, "streamId": stream_id, "startTime": start,
            "endTime": "2030-01-01T00:00:00.000Z", "hasErrorEvent": false,
            "ingestConfiguration": {"video": {"codec": "avc1.42C02A", "videoWidth": 1280}, "audio": {"codec": "mp4a.40.2"}},
        });
        let rec = NewRecord {
            kind: KIND_STREAM_SESSION.into(),
            id: stream_id.into(),
            arn: format!("{channel_arn}/session/{stream_id}"),
            parent: Some(channel_arn.into()),
            index: BTreeMap::new(),
            body,
            schema_version: 1,
            tags: BTreeMap::new(),
        };
        self.deps
            .store
            .insert(&reelay_api_common::scope(&self.ctx), rec)
            .await
            .unwrap();
    }
}

#[test]
fn every_operation_is_implemented() {
    let svc_ops = MODEL.operations.len();
    assert_eq!(svc_ops, 46);
    assert_eq!(Op::ALL.len(), 46);
}

#[tokio::test]
async fn create_channel_defaults_and_shapes() {
    let h = harness().await;
    let v = h.ok(Op::CreateChannel, json!({})).await;
    let ch = &v["channel"];
    let arn = ch["arn"].as_str().unwrap();
    let id = arn.rsplit('/').next().unwrap();
    assert!(arn.starts_with("arn:aws:ivs:us-west-2:123456789012:channel/"));
    assert_eq!(id.len(), 12);
    assert_eq!(ch["latencyMode"], "LOW");
    assert_eq!(ch["type"], "STANDARD");
    assert_eq!(ch["containerFormat"], "TS");
    assert_eq!(ch["preset"], "");
    assert_eq!(ch["authorized"], false);
    assert_eq!(ch["insecureIngest"], false);
    assert_eq!(ch["recordingConfigurationArn"], "");
    assert_eq!(ch["playbackRestrictionPolicyArn"], "");
    assert_eq!(ch["ingestEndpoint"], "127.0.0.1:1935");
    assert_eq!(ch["srt"]["endpoint"], "127.0.0.1:9000");
    assert_eq!(ch["srt"]["passphrase"].as_str().unwrap().len(), 64);
    assert_eq!(
        ch["playbackUrl"],
        format!("http://127.0.0.1:4566/api/video/v1/us-west-2.123456789012.channel.{id}.m3u8")
    );
    assert_eq!(
        ch["multitrackInputConfiguration"],
        json!({"enabled": false, "maximumResolution": "FULL_HD", "policy": "ALLOW"})
    );
    let key = &v["streamKey"];
    let value = key["value"].as_str().unwrap();
    let parts: Vec<&str> = value.split('_').collect();
    assert_eq!(parts.len(), 4, "{value}");
    assert_eq!(
        (parts[0], parts[1], parts[2].len(), parts[3].len()),
        ("sk", "us-west-2", 12, 30)
    );
    assert_eq!(key["channelArn"], arn);

    let insecure = h
        .ok(
            Op::CreateChannel,
            json!({"insecureIngest": true, "type": "ADVANCED_HD"}),
        )
        .await;
    assert!(insecure["channel"]["srt"].get("passphrase").is_none());
    assert_eq!(insecure["channel"]["preset"], "HIGHER_BANDWIDTH_DELIVERY");
}

#[tokio::test]
async fn stream_keys_are_secret_in_the_store_index() {
    let h = harness().await;
    let v = h.ok(Op::CreateChannel, json!({})).await;
    let key_arn = v["streamKey"]["arn"].as_str().unwrap();
    let value = v["streamKey"]["value"].as_str().unwrap();
    let rec = h
        .deps
        .store
        .get_by_arn(&reelay_api_common::scope(&h.ctx), key_arn)
        .await
        .unwrap()
        .unwrap();
    assert!(!rec.index.values().any(|x| x.contains(value)));
    let body: StreamKeyV1 = serde_json::from_value(rec.body).unwrap();
    assert!(body.value.matches(value));
    assert!(!format!("{body:?}").contains(value));
}

#[tokio::test]
async fn seed_rules_are_validation_errors() {
    let h = harness().await;
    for bad in [
        json!({"type": "STANDARD", "preset": "HIGHER_BANDWIDTH_DELIVERY"}),
        json!({"type": "BASIC", "preset": "CONSTRAINED_BANDWIDTH_DELIVERY"}),
        json!({"type": "BASIC", "containerFormat": "FRAGMENTED_MP4",
               "multitrackInputConfiguration": {"enabled": true, "policy": "ALLOW", "maximumResolution": "HD"}}),
        json!({"multitrackInputConfiguration": {"enabled": true, "policy": "ALLOW", "maximumResolution": "HD"}}),
        json!({"containerFormat": "FRAGMENTED_MP4", "multitrackInputConfiguration": {"enabled": true, "policy": "ALLOW"}}),
        json!({"containerFormat": "FRAGMENTED_MP4", "multitrackInputConfiguration": {"enabled": true, "maximumResolution": "SD"}}),
        json!({"recordingConfigurationArn": "arn:aws:ivs:us-west-2:123456789012:recording-configuration/nope"}),
        json!({"playbackRestrictionPolicyArn": "arn:aws:ivs:us-west-2:123456789012:playback-restriction-policy/nope"}),
    ] {
        let e = h.err(Op::CreateChannel, bad.clone()).await;
        assert_eq!(
            (e.code.as_str(), e.status),
            ("ValidationException", 400),
            "{bad}"
        );
    }
    let ok = h
        .ok(
            Op::CreateChannel,
            json!({"containerFormat": "FRAGMENTED_MP4",
                   "multitrackInputConfiguration": {"enabled": true, "policy": "REQUIRE", "maximumResolution": "SD"}}),
        )
        .await;
    assert_eq!(
        ok["channel"]["multitrackInputConfiguration"]["policy"],
        "REQUIRE"
    );
}

#[tokio::test]
async fn live_channels_cannot_be_updated_or_deleted_and_streams_show() {
    let h = harness().await;
    let v = h.ok(Op::CreateChannel, json!({"name": "live"})).await;
    let arn = v["channel"]["arn"].as_str().unwrap().to_string();
    // Idle: the live-only operations answer ChannelNotBroadcasting.
    for op in [Op::GetStream, Op::StopStream] {
        let e = h.err(op, json!({"channelArn": arn})).await;
        assert_eq!((e.code.as_str(), e.status), ("ChannelNotBroadcasting", 404));
    }
    let e = h
        .err(Op::PutMetadata, json!({"channelArn": arn, "metadata": "x"}))
        .await;
    assert_eq!(e.code, "ChannelNotBroadcasting");
    assert_eq!(h.ok(Op::ListStreams, json!({})).await["streams"], json!([]));

    h.go_live(&arn, "HEALTHY").await;
    let s = h.ok(Op::GetStream, json!({"channelArn": arn})).await;
    assert_eq!(s["stream"]["state"], "LIVE");
    assert_eq!(s["stream"]["viewerCount"], 7);
    assert_eq!(
        h.ok(Op::ListStreams, json!({"filterBy": {"health": "HEALTHY"}}))
            .await["streams"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        h.ok(Op::ListStreams, json!({"filterBy": {"health": "STARVING"}}))
            .await["streams"],
        json!([])
    );
    for (op, input) in [
        (Op::UpdateChannel, json!({"arn": arn, "name": "x"})),
        (Op::DeleteChannel, json!({"arn": arn})),
    ] {
        let e = h.err(op, input).await;
        assert_eq!((e.code.as_str(), e.status), ("ConflictException", 409));
    }
    h.ok(
        Op::PutMetadata,
        json!({"channelArn": arn, "metadata": "hello"}),
    )
    .await;
    let e = h
        .err(
            Op::PutMetadata,
            json!({"channelArn": arn, "metadata": "x".repeat(1025)}),
        )
        .await;
    assert_eq!(e.code, "ValidationException");
    h.ok(Op::StopStream, json!({"channelArn": arn})).await;
    let id = arn.rsplit('/').next().unwrap();
    let stream = h
        .deps
        .store
        .get(&reelay_api_common::scope(&h.ctx), KIND_STREAM, id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stream.body["stopRequested"], true);
    let queued = h
        .deps
        .store
        .count(
            &reelay_api_common::scope(&h.ctx),
            KIND_TIMED_METADATA,
            Some(&arn),
        )
        .await
        .unwrap();
    assert_eq!(queued, 1);
}

#[tokio::test]
async fn ad_breaks_need_an_ad_configuration_and_a_live_stream() {
    let h = harness().await;
    let ad = h
        .ok(
            Op::CreateAdConfiguration,
            json!({"mediaTailorPlaybackConfigurations": [{"playbackConfigurationArn": "arn:aws:mediatailor:us-west-2:123456789012:playbackConfiguration/pc1"}]}),
        )
        .await;
    let ad_arn = ad["adConfiguration"]["arn"].as_str().unwrap();
    assert_eq!(
        ad["adConfiguration"]["postRollConfiguration"],
        json!({"durationSeconds": 15, "enabled": false})
    );
    let plain = h.ok(Op::CreateChannel, json!({})).await["channel"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let e = h
        .err(
            Op::InsertAdBreak,
            json!({"channelArn": plain, "durationSeconds": 30}),
        )
        .await;
    assert_eq!(e.code, "ValidationException");
    let with_ads = h
        .ok(Op::CreateChannel, json!({"adConfigurationArn": ad_arn}))
        .await["channel"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let e = h
        .err(
            Op::InsertAdBreak,
            json!({"channelArn": with_ads, "durationSeconds": 30}),
        )
        .await;
    assert_eq!(e.code, "ChannelNotBroadcasting");
    h.go_live(&with_ads, "HEALTHY").await;
    let r = h
        .ok(
            Op::InsertAdBreak,
            json!({"channelArn": with_ads, "durationSeconds": 30, "adBreakId": "abcdef123456"}),
        )
        .await;
    assert_eq!(r["adBreakId"], "abcdef123456");
    assert!(r["targetStartAt"].is_number());
    let e = h
        .err(Op::DeleteAdConfiguration, json!({"arn": ad_arn}))
        .await;
    assert_eq!(e.code, "ConflictException");
}

#[tokio::test]
async fn stream_sessions_come_from_the_live_plane() {
    let h = harness().await;
    let arn = h.ok(Op::CreateChannel, json!({})).await["channel"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    let e = h
        .err(Op::GetStreamSession, json!({"channelArn": arn}))
        .await;
    assert_eq!(
        (e.code.as_str(), e.status),
        ("ResourceNotFoundException", 404)
    );
    assert_eq!(
        h.ok(Op::ListStreamSessions, json!({"channelArn": arn}))
            .await["streamSessions"],
        json!([])
    );
    let old = format!("st-{}", "b".repeat(23));
    let new = format!("st-{}", "a".repeat(23));
    h.add_session(&arn, &old, "2024-01-01T00:00:00.000Z").await;
    h.add_session(&arn, &new, "2024-02-01T00:00:00.000Z").await;
    let s = h.ok(Op::GetStreamSession, json!({"channelArn": arn})).await;
    assert_eq!(s["streamSession"]["streamId"], new);
    assert_eq!(s["streamSession"]["channel"]["arn"], arn);
    assert_eq!(
        s["streamSession"]["ingestConfigurations"]["videoConfigurations"][0]["videoWidth"],
        1280
    );
    let s = h
        .ok(
            Op::GetStreamSession,
            json!({"channelArn": arn, "streamId": old}),
        )
        .await;
    assert_eq!(s["streamSession"]["streamId"], old);
    let l = h
        .ok(
            Op::ListStreamSessions,
            json!({"channelArn": arn, "maxResults": 1}),
        )
        .await;
    assert_eq!(l["streamSessions"].as_array().unwrap().len(), 1);
    assert!(l["nextToken"].is_string());
}

#[tokio::test]
async fn quotas_are_402() {
    let h = harness_with(Quotas {
        channels: 2,
        ..Quotas::default()
    })
    .await;
    h.ok(Op::CreateChannel, json!({})).await;
    h.ok(Op::CreateChannel, json!({})).await;
    let e = h.err(Op::CreateChannel, json!({})).await;
    assert_eq!(
        (e.code.as_str(), e.status),
        ("ServiceQuotaExceededException", 402)
    );
}

#[tokio::test]
async fn revocations_are_recorded_and_never_narrowed() {
    let h = harness().await;
    let arn = h.ok(Op::CreateChannel, json!({"authorized": true})).await["channel"]["arn"]
        .as_str()
        .unwrap()
        .to_string();
    h.ok(
        Op::StartViewerSessionRevocation,
        json!({"channelArn": arn, "viewerId": "v1", "viewerSessionVersionsLessThanOrEqualTo": 5}),
    )
    .await;
    h.ok(
        Op::StartViewerSessionRevocation,
        json!({"channelArn": arn, "viewerId": "v1", "viewerSessionVersionsLessThanOrEqualTo": 2}),
    )
    .await;
    let id = format!("{}/v1", arn.rsplit('/').next().unwrap());
    let rec = h
        .deps
        .store
        .get(
            &reelay_api_common::scope(&h.ctx),
            KIND_VIEWER_REVOCATION,
            &id,
        )
        .await
        .unwrap()
        .unwrap();
    let body: ViewerRevocationV1 = serde_json::from_value(rec.body).unwrap();
    assert_eq!(body.versions_less_than_or_equal_to, 5);
    let missing = "arn:aws:ivs:us-west-2:123456789012:channel/missing";
    let r = h
        .ok(
            Op::BatchStartViewerSessionRevocation,
            json!({"viewerSessions": [{"channelArn": arn, "viewerId": "v2"}, {"channelArn": missing, "viewerId": "v3"}]}),
        )
        .await;
    assert_eq!(r["errors"].as_array().unwrap().len(), 1);
    assert_eq!(r["errors"][0]["code"], "404");
    // Deleting the channel removes its revocations.
    h.ok(Op::DeleteChannel, json!({"arn": arn})).await;
    let n = h
        .deps
        .store
        .count(
            &reelay_api_common::scope(&h.ctx),
            KIND_VIEWER_REVOCATION,
            Some(&arn),
        )
        .await
        .unwrap();
    assert_eq!(n, 0);
}

#[tokio::test]
async fn recording_configurations_check_the_bucket() {
    let h = harness().await;
    let e = h
        .err(
            Op::CreateRecordingConfiguration,
            json!({"destinationConfiguration": {"s3": {"bucketName": "nope"}}}),
        )
        .await;
    assert_eq!(e.code, "ValidationException");
    h.deps
        .blob
        .create_bucket("elsewhere", "123456789012", "eu-west-1")
        .await
        .unwrap();
    let e = h
        .err(
            Op::CreateRecordingConfiguration,
            json!({"destinationConfiguration": {"s3": {"bucketName": "elsewhere"}}}),
        )
        .await;
    assert_eq!(e.code, "ValidationException");
    h.deps
        .blob
        .create_bucket("rec-bucket", "123456789012", "us-west-2")
        .await
        .unwrap();
    let v = h
        .ok(
            Op::CreateRecordingConfiguration,
            json!({"destinationConfiguration": {"s3": {"bucketName": "rec-bucket"}}}),
        )
        .await;
    let rc = &v["recordingConfiguration"];
    assert_eq!(rc["state"], "CREATING");
    assert_eq!(rc["recordingReconnectWindowSeconds"], 0);
    assert_eq!(
        rc["thumbnailConfiguration"],
        json!({"recordingMode": "INTERVAL", "storage": ["SEQUENTIAL"], "targetIntervalSeconds": 60})
    );
    assert_eq!(
        rc["renditionConfiguration"],
        json!({"renditionSelection": "ALL", "renditions": []})
    );
    let arn = rc["arn"].as_str().unwrap();
    assert_eq!(
        h.ok(Op::GetRecordingConfiguration, json!({"arn": arn}))
            .await["recordingConfiguration"]["state"],
        "ACTIVE"
    );
    let ch = h
        .ok(Op::CreateChannel, json!({"recordingConfigurationArn": arn}))
        .await;
    let e = h
        .err(Op::DeleteRecordingConfiguration, json!({"arn": arn}))
        .await;
    assert_eq!((e.code.as_str(), e.status), ("ConflictException", 409));
    h.ok(
        Op::UpdateChannel,
        json!({"arn": ch["channel"]["arn"], "recordingConfigurationArn": ""}),
    )
    .await;
    h.ok(Op::DeleteRecordingConfiguration, json!({"arn": arn}))
        .await;
}
