//! The handlers in process: SQLite in memory, objects in memory, calls through `Service::call`
//! with the canonical input the wire layer would hand over.

use reelay_api_common::{Clock, Deps, Endpoints};
use reelay_api_mediapackage_vod::{MediaPackageVod, Quotas};
use reelay_aws::generated::mediapackage_vod::{MODEL, Op};
use reelay_aws::{ApiError, Output, RequestContext, Service};
use serde_json::{Value, json};
use std::sync::Arc;

struct Harness {
    svc: MediaPackageVod,
    blob: Arc<reelay_blob::BlobStore>,
    ctx: RequestContext,
}

async fn harness(quotas: Quotas) -> Harness {
    let store = reelay_store::open("sqlite::memory:", reelay_store::StoreConfig::default())
        .await
        .expect("in-memory store");
    let blob = Arc::new(reelay_blob::BlobStore::in_memory());
    let deps = Deps {
        store,
        blob: blob.clone(),
        clock: Arc::new(Clock::default()),
        endpoints: Endpoints {
            public_url: "http://reelay.test:4599".into(),
            rtmp: "rtmp://reelay.test:1935".into(),
            rtmps: None,
            srt: "srt://reelay.test:9000".into(),
            ice_servers: Vec::new(),
        },
    };
    let ctx = RequestContext {
        account: "111122223333".into(),
        region: "eu-west-1".into(),
        request_id: "req-1".into(),
        public_url: "http://reelay.test:4599".into(),
        now: time::OffsetDateTime::now_utc(),
    };
    Harness {
        svc: MediaPackageVod::new(deps, quotas),
        blob,
        ctx,
    }
}

impl Harness {
    async fn call(&self, op: Op, input: Value) -> Result<Value, ApiError> {
        let idx = Op::ALL.iter().position(|o| *o == op).expect("op in model");
        match self.svc.call(&self.ctx, idx, input).await? {
            Output::Json(v) => Ok(v),
            other => panic!("unexpected output {other:?}"),
        }
    }

    async fn put_source(&self) -> String {
        self.blob
            .create_bucket("src", "111122223333", "eu-west-1")
            .await
            .expect("bucket");
        let body = futures::stream::once(async {
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"<smil/>"))
        });
        self.blob
            .put_object("src", "a/master.smil", body, Default::default())
            .await
            .expect("object");
        "arn:aws:s3:::src/a/master.smil".into()
    }
}

#[track_caller]
fn assert_error(res: Result<Value, ApiError>, code: &str, status: u16, needle: &str) {
    let e = res.expect_err("expected an error");
    assert_eq!((e.code.as_str(), e.status), (code, status), "{e}");
    assert!(
        e.message.contains(needle),
        "{:?} does not contain {needle:?}",
        e.message
    );
}

#[tokio::test]
async fn group_configuration_asset_lifecycle() {
    let h = harness(Quotas::default()).await;
    assert!((0..MODEL.operations.len()).all(|i| h.svc.implements(i)));
    let g = h
        .call(
            Op::CreatePackagingGroup,
            json!({"Id": "pg", "Tags": {"a": "b"}}),
        )
        .await
        .unwrap();
    assert_eq!(
        g["Arn"],
        "arn:aws:mediapackage-vod:eu-west-1:111122223333:packaging-groups/pg"
    );
    let domain = g["DomainName"].as_str().unwrap().to_string();
    assert!(
        domain
            .starts_with("http://reelay.test:4599/mediapackage-vod/egress/eu-west-1/111122223333/"),
        "{domain}"
    );
    h.call(
        Op::CreatePackagingConfiguration,
        json!({"Id": "hls", "PackagingGroupId": "pg", "HlsPackage": {"HlsManifests": [{}]}}),
    )
    .await
    .unwrap();
    let source = h.put_source().await;
    let role = "arn:aws:iam::111122223333:role/r";
    let a = h
        .call(Op::CreateAsset, json!({"Id": "a", "PackagingGroupId": "pg", "SourceArn": source, "SourceRoleArn": role}))
        .await
        .unwrap();
    assert_eq!(a["ResourceId"], "a");
    let ep = &a["EgressEndpoints"][0];
    assert_eq!(ep["Status"], "QUEUED");
    assert_eq!(ep["PackagingConfigurationId"], "hls");
    let url = ep["Url"].as_str().unwrap();
    assert!(
        url.starts_with(&format!("{domain}/out/v1/")) && url.ends_with("/index.m3u8"),
        "{url}"
    );
    assert_eq!(
        h.call(Op::DescribeAsset, json!({"Id": "a"})).await.unwrap(),
        a
    );
    let described = h
        .call(Op::DescribePackagingGroup, json!({"Id": "pg"}))
        .await
        .unwrap();
    assert_eq!(described["ApproximateAssetCount"], 1);
    assert_error(
        h.call(Op::DeletePackagingGroup, json!({"Id": "pg"})).await,
        "UnprocessableEntityException",
        422,
        "packaging configuration",
    );
    h.call(Op::DeletePackagingConfiguration, json!({"Id": "hls"}))
        .await
        .unwrap();
    assert_error(
        h.call(Op::DeletePackagingGroup, json!({"Id": "pg"})).await,
        "UnprocessableEntityException",
        422,
        "1 asset",
    );
    h.call(Op::DeleteAsset, json!({"Id": "a"})).await.unwrap();
    h.call(Op::DeletePackagingGroup, json!({"Id": "pg"}))
        .await
        .unwrap();
    assert_error(
        h.call(Op::DescribePackagingGroup, json!({"Id": "pg"}))
            .await,
        "NotFoundException",
        404,
        "pg",
    );
    // Every state change left one event behind.
    let events = h.blob.list_buckets().await.unwrap();
    assert_eq!(events.len(), 2, "the source bucket and the event bucket");
}

#[tokio::test]
async fn sources_and_quotas() {
    let quotas = Quotas {
        max_packaging_groups: Some(1),
        max_configurations_per_group: Some(0),
        max_assets_per_group: Some(1),
    };
    let h = harness(quotas).await;
    h.call(Op::CreatePackagingGroup, json!({"Id": "pg"}))
        .await
        .unwrap();
    assert_error(
        h.call(Op::CreatePackagingGroup, json!({"Id": "pg2"})).await,
        "TooManyRequestsException",
        429,
        "Resource limit exceeded",
    );
    assert_error(
        h.call(
            Op::CreatePackagingConfiguration,
            json!({"Id": "c", "PackagingGroupId": "pg", "MssPackage": {"MssManifests": [{}]}}),
        )
        .await,
        "TooManyRequestsException",
        429,
        "Resource limit exceeded",
    );
    let role = "arn:aws:iam::111122223333:role/r";
    let create = |src: &str| json!({"Id": "a", "PackagingGroupId": "pg", "SourceArn": src, "SourceRoleArn": role});
    assert_error(
        h.call(Op::CreateAsset, create("arn:aws:s3:::src/a/master.smil"))
            .await,
        "UnprocessableEntityException",
        422,
        "bucket 'src'",
    );
    let source = h.put_source().await;
    assert_error(
        h.call(Op::CreateAsset, create("arn:aws:s3:::src/nope.smil"))
            .await,
        "UnprocessableEntityException",
        422,
        "object 'nope.smil'",
    );
    h.call(Op::CreateAsset, create(&source)).await.unwrap();
    let mut second = create(&source);
    second["Id"] = json!("b");
    assert_error(
        h.call(Op::CreateAsset, second).await,
        "TooManyRequestsException",
        429,
        "Resource limit exceeded",
    );
    assert_error(
        h.call(Op::CreateAsset, create(&source)).await,
        "TooManyRequestsException",
        429,
        "Resource limit exceeded",
    );
}
