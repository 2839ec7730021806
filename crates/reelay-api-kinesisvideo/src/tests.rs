//! In-process tests: the three services over an in-memory SQLite store, with canonical JSON
//! input as the wire layer hands it over.

use crate::kvs::{token_in, token_out, validate_image_generation};
use crate::{Quotas, services_with_quotas};
use reelay_api_common::{Clock, Deps, Endpoints};
use reelay_aws::generated::kinesisvideo::types::{
    ImageGenerationConfiguration, ImageGenerationDestinationConfig,
};
use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceId};
use serde_json::{Value, json};
use std::sync::Arc;

struct Harness {
    services: Vec<Arc<dyn Service>>,
    clock: Arc<Clock>,
    _dir: tempfile::TempDir,
}

async fn harness(quotas: Quotas) -> Harness {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = reelay_store::open("sqlite::memory:", reelay_store::StoreConfig::default())
        .await
        .expect("store");
    let blob = Arc::new(reelay_blob::BlobStore::open(dir.path(), None).expect("blob store"));
    let clock = Arc::new(Clock::default());
    let deps = Deps {
        store,
        blob,
        clock: clock.clone(),
        endpoints: Endpoints {
            public_url: "https://kvs.example.test".into(),
            rtmp: "rtmp://127.0.0.1:1935".into(),
            rtmps: None,
            srt: "srt://127.0.0.1:9000".into(),
            ice_servers: vec!["turn:u:p@turn.example.test:3478".into()],
        },
    };
    Harness {
        services: services_with_quotas(&deps, quotas),
        clock,
        _dir: dir,
    }
}

fn ctx(region: &str) -> RequestContext {
    RequestContext {
        account: "123456789012".into(),
        region: region.into(),
        request_id: "r".into(),
        public_url: "https://kvs.example.test".into(),
        now: time::OffsetDateTime::UNIX_EPOCH,
    }
}

impl Harness {
    async fn call_in(
        &self,
        service: ServiceId,
        region: &str,
        op: &str,
        input: Value,
    ) -> Result<Value, ApiError> {
        let svc = self
            .services
            .iter()
            .find(|s| s.model().id == service)
            .expect("service registered");
        let idx = svc
            .model()
            .operations
            .iter()
            .position(|o| o.name == op)
            .expect("operation exists");
        match svc.call(&ctx(region), idx, input).await? {
            Output::Json(v) => Ok(v),
            other => panic!("unexpected output {other:?}"),
        }
    }

    async fn kv(&self, op: &str, input: Value) -> Result<Value, ApiError> {
        self.call_in(ServiceId::KinesisVideo, "us-east-1", op, input)
            .await
    }
}

#[track_caller]
fn check_err(r: Result<Value, ApiError>, code: &str, status: u16) {
    let e = r.expect_err("an error");
    assert_eq!((e.code.as_str(), e.status), (code, status), "{e}");
}

#[tokio::test]
async fn every_operation_of_the_three_services_is_implemented() {
    let h = harness(Quotas::default()).await;
    let ids: Vec<ServiceId> = h.services.iter().map(|s| s.model().id).collect();
    assert_eq!(
        ids,
        [
            ServiceId::KinesisVideo,
            ServiceId::KinesisVideoSignaling,
            ServiceId::KinesisVideoWebrtcStorage
        ]
    );
    let counts: Vec<usize> = h
        .services
        .iter()
        .map(|s| s.model().operations.len())
        .collect();
    assert_eq!(counts, [32, 2, 2]);
    for s in &h.services {
        assert!((0..s.model().operations.len()).all(|i| s.implements(i)));
        assert!(!s.implements(s.model().operations.len()));
    }
}

#[tokio::test]
async fn stream_lifecycle_with_versions_and_status() {
    let h = harness(Quotas::default()).await;
    let out = h
        .kv(
            "CreateStream",
            json!({"StreamName": "s", "DataRetentionInHours": 2}),
        )
        .await
        .expect("create");
    let arn = out["StreamARN"].as_str().expect("arn").to_string();
    assert!(arn.starts_with("arn:aws:kinesisvideo:us-east-1:123456789012:stream/s/"));
    let info = h
        .kv("DescribeStream", json!({"StreamARN": arn}))
        .await
        .expect("describe")["StreamInfo"]
        .clone();
    assert_eq!(info["Status"], "CREATING");
    assert_eq!(
        info["KmsKeyId"],
        "arn:aws:kms:us-east-1:123456789012:alias/aws/kinesisvideo"
    );
    h.clock.advance_ms(1_000);
    let info = h
        .kv("DescribeStream", json!({"StreamName": "s"}))
        .await
        .expect("describe")["StreamInfo"]
        .clone();
    assert_eq!(info["Status"], "ACTIVE");
    let v1 = info["Version"].as_str().expect("version").to_string();

    check_err(
        h.kv("CreateStream", json!({"StreamName": "s"})).await,
        "ResourceInUseException",
        400,
    );
    h.kv(
        "UpdateStream",
        json!({"StreamName": "s", "CurrentVersion": v1, "DeviceName": "d"}),
    )
    .await
    .expect("update");
    check_err(
        h.kv(
            "UpdateStream",
            json!({"StreamName": "s", "CurrentVersion": v1}),
        )
        .await,
        "VersionMismatchException",
        400,
    );
    check_err(
        h.kv(
            "DeleteStream",
            json!({"StreamARN": arn, "CurrentVersion": v1}),
        )
        .await,
        "VersionMismatchException",
        400,
    );
    h.kv("DeleteStream", json!({"StreamARN": arn}))
        .await
        .expect("delete");
    check_err(
        h.kv("DescribeStream", json!({"StreamName": "s"})).await,
        "ResourceNotFoundException",
        404,
    );
}

#[tokio::test]
async fn regions_are_isolated_and_quotas_apply_per_region() {
    let h = harness(Quotas {
        max_streams: 1,
        max_channels: 1,
    })
    .await;
    h.kv("CreateStream", json!({"StreamName": "a"}))
        .await
        .expect("create");
    check_err(
        h.kv("CreateStream", json!({"StreamName": "b"})).await,
        "AccountStreamLimitExceededException",
        400,
    );
    h.kv("CreateSignalingChannel", json!({"ChannelName": "c"}))
        .await
        .expect("create");
    check_err(
        h.kv("CreateSignalingChannel", json!({"ChannelName": "d"}))
            .await,
        "AccountChannelLimitExceededException",
        400,
    );
    let west = h
        .call_in(
            ServiceId::KinesisVideo,
            "us-west-2",
            "DescribeStream",
            json!({"StreamName": "a"}),
        )
        .await;
    check_err(west, "ResourceNotFoundException", 404);
    h.call_in(
        ServiceId::KinesisVideo,
        "us-west-2",
        "CreateStream",
        json!({"StreamName": "a"}),
    )
    .await
    .expect("other region");
}

#[tokio::test]
async fn a_mapped_stream_cannot_be_deleted_and_endpoints_use_the_public_url() {
    let h = harness(Quotas::default()).await;
    let stream = h
        .kv(
            "CreateStream",
            json!({"StreamName": "s", "DataRetentionInHours": 1}),
        )
        .await
        .expect("stream")["StreamARN"]
        .clone();
    let chan = h
        .kv("CreateSignalingChannel", json!({"ChannelName": "c"}))
        .await
        .expect("channel")["ChannelARN"]
        .clone();
    h.kv(
        "UpdateMediaStorageConfiguration",
        json!({"ChannelARN": chan, "MediaStorageConfiguration": {"StreamARN": stream, "Status": "ENABLED"}}),
    )
    .await
    .expect("map");
    check_err(
        h.kv("DeleteStream", json!({"StreamARN": stream})).await,
        "ResourceInUseException",
        400,
    );
    let eps = h
        .kv(
            "GetSignalingChannelEndpoint",
            json!({"ChannelARN": chan, "SingleMasterChannelEndpointConfiguration": {"Protocols": ["WEBRTC", "WSS"]}}),
        )
        .await
        .expect("endpoints");
    assert_eq!(
        eps["ResourceEndpointList"],
        json!([
            {"Protocol": "WSS", "ResourceEndpoint": "wss://kvs.example.test"},
            {"Protocol": "WEBRTC", "ResourceEndpoint": "https://kvs.example.test"}
        ])
    );
    let data = h
        .kv(
            "GetDataEndpoint",
            json!({"StreamARN": stream, "APIName": "GET_CLIP"}),
        )
        .await
        .expect("endpoint");
    assert_eq!(data["DataEndpoint"], "https://kvs.example.test");
    let ice = h
        .call_in(
            ServiceId::KinesisVideoSignaling,
            "us-east-1",
            "GetIceServerConfig",
            json!({"ChannelARN": chan}),
        )
        .await
        .expect("ice");
    assert_eq!(
        ice["IceServerList"],
        json!([{"Password": "p", "Ttl": 300, "Uris": ["turn:turn.example.test:3478"], "Username": "u"}])
    );
    let joined = h
        .call_in(
            ServiceId::KinesisVideoWebrtcStorage,
            "us-east-1",
            "JoinStorageSession",
            json!({"channelArn": chan}),
        )
        .await;
    assert_eq!(joined.expect("join"), json!({}));
    let offer = h
        .call_in(
            ServiceId::KinesisVideoSignaling,
            "us-east-1",
            "SendAlexaOfferToMaster",
            json!({"ChannelARN": chan, "SenderClientId": "a", "MessagePayload": "b2ZmZXI="}),
        )
        .await;
    check_err(offer, "ResourceNotFoundException", 404);
}

#[test]
fn page_tokens_map_onto_the_kvs_alphabet_and_back() {
    let store_token = "AR0U-_abc-_".to_string();
    let wire = token_out(Some(store_token.clone())).expect("token");
    assert_eq!(wire, "AR0U+/abc+/");
    assert!(
        wire.chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
    );
    assert_eq!(token_in(Some(wire)), Some(store_token));
    assert_eq!(token_in(Some(String::new())), None);
    assert_eq!(token_out(None), None);
}

#[test]
fn image_generation_rules() {
    let ok = ImageGenerationConfiguration {
        destination_config: ImageGenerationDestinationConfig {
            destination_region: "us-east-1".into(),
            uri: "s3://b".into(),
        },
        sampling_interval: 33,
        format_config: Some([("JPEGQuality".to_string(), "80".to_string())].into()),
        ..Default::default()
    };
    assert!(validate_image_generation(&ok, "us-east-1").is_ok());
    let mut bad = ok.clone();
    bad.sampling_interval = 32;
    assert!(validate_image_generation(&bad, "us-east-1").is_err());
    assert!(validate_image_generation(&ok, "eu-west-1").is_err());
    for q in ["0", "101", "x", ""] {
        let mut bad = ok.clone();
        bad.format_config = Some([("JPEGQuality".to_string(), q.to_string())].into());
        assert!(validate_image_generation(&bad, "us-east-1").is_err(), "{q}");
    }
}
