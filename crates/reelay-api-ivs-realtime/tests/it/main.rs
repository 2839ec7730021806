//! In-process tests of the IVS Real-Time handlers over an in-memory store: the participant
//! token verifier, the stream-key lookup, and the read paths of sessions, participants and
//! events that only the media side writes (records are written here as it will write them).

// A failed unwrap is a failed test, which is what it should be here.
#![allow(clippy::unwrap_used)]

use p384::ecdsa::SigningKey;
use p384::pkcs8::EncodePublicKey;
use reelay_api_common::{Clock, Deps, Endpoints, jwt};
use reelay_api_ivs_realtime::records::{self, v1};
use reelay_api_ivs_realtime::{IvsRealtimeService, StreamKey, TokenRejection};
use reelay_aws::generated::ivs_realtime::{Op, types as t};
use reelay_aws::{ApiError, Output, RequestContext, Service};
use reelay_store::{NewRecord, Scope};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

struct Harness {
    deps: Deps,
    svc: IvsRealtimeService,
    ctx: RequestContext,
}

impl Harness {
    async fn new() -> Harness {
        let store = reelay_store::open("sqlite::memory:", reelay_store::StoreConfig::default())
            .await
            .unwrap();
        let deps = Deps {
            store,
            blob: Arc::new(reelay_blob::BlobStore::in_memory()),
            clock: Arc::new(Clock::default()),
            endpoints: Endpoints {
                public_url: "https://reelay.example:8443".into(),
                rtmp: "rtmp://reelay.example:1935".into(),
                rtmps: Some("rtmps://reelay.example:443".into()),
                srt: "srt://reelay.example:9000".into(),
                ice_servers: vec![],
            },
        };
        let ctx = RequestContext {
            account: "123456789012".into(),
            region: "eu-west-1".into(),
            request_id: "r".into(),
            public_url: "https://reelay.example:8443".into(),
            now: time::OffsetDateTime::now_utc(),
        };
        Harness {
            svc: IvsRealtimeService::new(deps.clone()),
            deps,
            ctx,
        }
    }

    fn scope(&self) -> Scope {
        Scope::new(self.ctx.account.clone(), self.ctx.region.clone())
    }

    async fn call(&self, op: Op, input: Value) -> Result<Value, ApiError> {
        match self.svc.call(&self.ctx, op as usize, input).await? {
            Output::Json(v) => Ok(v),
            other => panic!("unexpected output {other:?}"),
        }
    }

    async fn ok(&self, op: Op, input: Value) -> Value {
        self.call(op, input)
            .await
            .unwrap_or_else(|e| panic!("{op:?} failed: {e}"))
    }

    async fn stage(&self) -> (String, String) {
        let v = self.ok(Op::CreateStage, json!({"name": "s"})).await;
        let arn = v["stage"]["arn"].as_str().unwrap().to_string();
        let id = arn.rsplit('/').next().unwrap().to_string();
        (arn, id)
    }

    async fn insert(
        &self,
        kind: &str,
        id: &str,
        parent: Option<&str>,
        index: &[(&str, &str)],
        body: Value,
    ) {
        let rec = NewRecord {
            kind: kind.into(),
            id: id.into(),
            arn: format!("arn:test:{kind}/{id}"),
            parent: parent.map(str::to_string),
            index: index
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body,
            schema_version: 1,
            tags: BTreeMap::new(),
        };
        self.deps.store.insert(&self.scope(), rec).await.unwrap();
    }
}

fn self_signed(key: &SigningKey, kid: &str, claims: Value) -> String {
    let Value::Object(m) = claims else { panic!() };
    jwt::sign(key, Some(kid), &m)
}

fn claims(stage_arn: &str, stage_id: &str, jti: &str, iat: i64, exp: i64) -> Value {
    json!({
        "exp": exp, "iat": iat, "jti": jti, "resource": stage_arn, "topic": stage_id,
        "events_url": "wss://x", "whip_url": "https://x", "version": "1.0",
        "capabilities": {"allow_publish": true, "allow_subscribe": true},
    })
}

#[tokio::test]
async fn endpoints_point_at_reelay_in_aws_shapes() {
    let h = Harness::new().await;
    let v = h.ok(Op::CreateStage, json!({})).await;
    let id = v["stage"]["arn"]
        .as_str()
        .unwrap()
        .rsplit('/')
        .next()
        .unwrap()
        .to_string();
    assert_eq!(
        v["stage"]["endpoints"],
        json!({
            "events": "wss://reelay.example:8443/ivs-realtime/events",
            "whip": format!("https://reelay.example:8443/ivs-realtime/whip/{id}"),
            "rtmp": "rtmp://reelay.example:1935/app/",
            "rtmps": "rtmps://reelay.example:443/app/",
        })
    );
    assert!(
        v["stage"]["arn"]
            .as_str()
            .unwrap()
            .starts_with("arn:aws:ivs:eu-west-1:123456789012:stage/")
    );
}

#[tokio::test]
async fn reelay_tokens_verify_until_they_expire_on_the_injected_clock() {
    let h = Harness::new().await;
    let (arn, id) = h.stage().await;
    let v = h
        .ok(
            Op::CreateParticipantToken,
            json!({"stageArn": arn, "duration": 1, "userId": "u"}),
        )
        .await;
    let token = v["participantToken"]["token"].as_str().unwrap();
    let c = reelay_api_ivs_realtime::verify_participant_token(&h.deps, token)
        .await
        .unwrap();
    assert_eq!(
        (
            c.stage_arn.as_str(),
            c.stage_id.as_str(),
            c.user_id.as_deref()
        ),
        (arn.as_str(), id.as_str(), Some("u"))
    );
    assert_eq!(
        c.participant_id,
        v["participantToken"]["participantId"].as_str().unwrap()
    );
    assert!(c.capabilities.allow_publish && c.capabilities.allow_subscribe);
    assert_eq!(c.public_key_arn, None);
    h.deps.clock.advance_ms(61_000);
    assert_eq!(
        reelay_api_ivs_realtime::verify_participant_token(&h.deps, token).await,
        Err(TokenRejection::Expired)
    );
    // The stage's deletion refuses its tokens too.
    let v = h
        .ok(Op::CreateParticipantToken, json!({"stageArn": arn}))
        .await;
    h.ok(Op::DeleteStage, json!({"arn": arn})).await;
    let token = v["participantToken"]["token"].as_str().unwrap();
    assert_eq!(
        reelay_api_ivs_realtime::verify_participant_token(&h.deps, token).await,
        Err(TokenRejection::UnknownStage)
    );
}

#[tokio::test]
async fn self_signed_tokens_need_an_imported_key_and_sound_claims() {
    let h = Harness::new().await;
    let (arn, id) = h.stage().await;
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let pem = key
        .verifying_key()
        .to_public_key_pem(p384::pkcs8::LineEnding::LF)
        .unwrap();
    let pk = h
        .ok(Op::ImportPublicKey, json!({"publicKeyMaterial": pem}))
        .await;
    let kid = pk["publicKey"]["arn"].as_str().unwrap().to_string();
    let now = h.deps.clock.now().unix_timestamp();
    let verify = |tok: String| {
        let deps = h.deps.clone();
        async move { reelay_api_ivs_realtime::verify_participant_token(&deps, &tok).await }
    };
    let good = verify(self_signed(
        &key,
        &kid,
        claims(&arn, &id, "p-1", now, now + 600),
    ))
    .await
    .unwrap();
    assert_eq!(good.public_key_arn.as_deref(), Some(kid.as_str()));
    assert_eq!(good.participant_id, "p-1");
    let cases: Vec<(Value, TokenRejection)> = vec![
        (
            claims(&arn, &id, "p", now - 7200, now - 1),
            TokenRejection::Expired,
        ),
        (
            claims(&arn, &id, "p", now, now + 15 * 86_400),
            TokenRejection::LifetimeTooLong,
        ),
        (
            claims(&arn, &id, "p", now + 3600, now + 7200),
            TokenRejection::NotYetValid,
        ),
        (
            claims(&format!("{arn}x"), &id, "p", now, now + 60),
            TokenRejection::UnknownStage,
        ),
    ];
    for (c, want) in cases {
        assert_eq!(verify(self_signed(&key, &kid, c)).await.unwrap_err(), want);
    }
    for bad in [
        claims(&arn, "other", "p", now, now + 60),
        claims(&arn, &id, "", now, now + 60),
        claims(&arn, &id, &"x".repeat(65), now, now + 60),
        json!({"exp": now + 60, "jti": "p", "resource": arn}),
        json!({"exp": "soon", "iat": now, "jti": "p", "resource": arn}),
        json!({"iat": now, "jti": "p", "resource": arn, "topic": id, "version": "1.0"}),
    ] {
        assert!(matches!(
            verify(self_signed(&key, &kid, bad)).await,
            Err(TokenRejection::Malformed(_))
        ));
    }
    let stranger = SigningKey::random(&mut rand::rngs::OsRng);
    let forged = self_signed(&stranger, &kid, claims(&arn, &id, "p", now, now + 60));
    assert_eq!(
        verify(forged).await.unwrap_err(),
        TokenRejection::BadSignature
    );
    let unknown = self_signed(
        &key,
        &format!("{kid}0"),
        claims(&arn, &id, "p", now, now + 60),
    );
    assert_eq!(
        verify(unknown).await.unwrap_err(),
        TokenRejection::UnknownKey
    );
    // No kid: only reelay's own key could have signed it, and this one did not.
    let Value::Object(m) = claims(&arn, &id, "p", now, now + 60) else {
        panic!()
    };
    let no_kid = jwt::sign(&key, None, &m);
    assert_eq!(
        verify(no_kid).await.unwrap_err(),
        TokenRejection::UnknownKey
    );
    h.ok(Op::RevokeConnectionToken, json!({"tokenId": "p-1"}))
        .await;
    let again = verify(self_signed(
        &key,
        &kid,
        claims(&arn, &id, "p-1", now, now + 600),
    ))
    .await;
    assert_eq!(again.unwrap_err(), TokenRejection::Revoked);
    h.ok(
        Op::DisconnectParticipant,
        json!({"stageArn": arn, "participantId": "p-2"}),
    )
    .await;
    let gone = verify(self_signed(
        &key,
        &kid,
        claims(&arn, &id, "p-2", now, now + 600),
    ))
    .await;
    assert_eq!(gone.unwrap_err(), TokenRejection::Disconnected);
    for junk in ["", "a.b", "a.b.c", &"x".repeat(20_000)] {
        assert!(matches!(
            verify(junk.to_string()).await,
            Err(TokenRejection::Malformed(_))
        ));
    }
}

#[tokio::test]
async fn stream_keys_find_their_ingest_configuration_and_stay_secret() {
    let h = Harness::new().await;
    let (arn, _) = h.stage().await;
    let v = h
        .ok(
            Op::CreateIngestConfiguration,
            json!({"ingestProtocol": "RTMPS", "stageArn": arn, "redundantIngest": true}),
        )
        .await;
    let ic = &v["ingestConfiguration"];
    let key = StreamKey::new(ic["streamKey"].as_str().unwrap());
    assert_eq!(format!("{key:?}"), "StreamKey(<redacted>)");
    let found = reelay_api_ivs_realtime::find_ingest_configuration_by_stream_key(&h.deps, &key)
        .await
        .unwrap();
    assert_eq!(
        found,
        (
            ic["arn"].as_str().unwrap().to_string(),
            arn.clone(),
            ic["participantId"].as_str().unwrap().to_string()
        )
    );
    let backup = StreamKey::new(
        ic["redundantIngestCredentials"][0]["streamKey"]
            .as_str()
            .unwrap(),
    );
    assert!(
        reelay_api_ivs_realtime::find_ingest_configuration_by_stream_key(&h.deps, &backup)
            .await
            .is_some()
    );
    let mut wrong = key.expose().to_string();
    wrong.push('x');
    assert!(
        reelay_api_ivs_realtime::find_ingest_configuration_by_stream_key(
            &h.deps,
            &StreamKey::new(wrong)
        )
        .await
        .is_none()
    );
    for junk in ["", "rt_", "rt_1_2", "sk_us-west-2_abc"] {
        assert!(
            reelay_api_ivs_realtime::find_ingest_configuration_by_stream_key(
                &h.deps,
                &StreamKey::new(junk)
            )
            .await
            .is_none()
        );
    }
}

#[tokio::test]
async fn sessions_participants_and_events_read_back_what_media_records() {
    let h = Harness::new().await;
    let (arn, _) = h.stage().await;
    let session = "st-AbCdEfGhIjKlM";
    let s = v1::Session {
        schema_version: 1,
        start_ms: 1_700_000_000_000,
        end_ms: None,
    };
    h.insert(
        records::KIND_SESSION,
        session,
        Some(&arn),
        &[("active", "true")],
        serde_json::to_value(&s).unwrap(),
    )
    .await;
    for (pid, user, published, state) in [
        ("p1", "alice", "true", "CONNECTED"),
        ("p2", "bob", "false", "DISCONNECTED"),
    ] {
        let p = v1::Participant {
            schema_version: 1,
            participant: t::Participant {
                participant_id: Some(pid.into()),
                user_id: Some(user.into()),
                published: Some(published == "true"),
                state: t::ParticipantState::from_wire(state),
                protocol: Some(t::ParticipantProtocol::Whip),
                recording_state: Some(t::ParticipantRecordingState::Disabled),
                ..Default::default()
            },
        };
        let id = format!("{session}/{pid}");
        let index = [
            ("user_id", user),
            ("published", published),
            ("state", state),
            ("recording_state", "DISABLED"),
        ];
        h.insert(
            records::KIND_PARTICIPANT,
            &id,
            Some(session),
            &index,
            serde_json::to_value(&p).unwrap(),
        )
        .await;
    }
    for (i, name) in ["JOINED", "PUBLISH_STARTED"].iter().enumerate() {
        let e = v1::ParticipantEvent {
            schema_version: 1,
            event: t::Event {
                name: t::EventName::from_wire(name),
                participant_id: Some("p1".into()),
                event_time: reelay_aws::Timestamp::from_epoch_seconds(1_700_000_000.0 + i as f64),
                ..Default::default()
            },
        };
        let id = format!("{session}/p1/{i:020}");
        h.insert(
            records::KIND_PARTICIPANT_EVENT,
            &id,
            Some(&format!("{session}/p1")),
            &[],
            serde_json::to_value(&e).unwrap(),
        )
        .await;
    }
    let got = h.ok(Op::GetStage, json!({"arn": arn})).await;
    assert_eq!(got["stage"]["activeSessionId"], session);
    let ss = h
        .ok(
            Op::GetStageSession,
            json!({"stageArn": arn, "sessionId": session}),
        )
        .await;
    assert_eq!(ss["stageSession"]["sessionId"], session);
    assert!(ss["stageSession"].get("endTime").is_none());
    let list = h.ok(Op::ListStageSessions, json!({"stageArn": arn})).await;
    assert_eq!(list["stageSessions"].as_array().unwrap().len(), 1);
    let ids = |v: &Value| -> Vec<String> {
        v["participants"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["participantId"].as_str().unwrap().to_string())
            .collect()
    };
    let base = json!({"stageArn": arn, "sessionId": session});
    let with = |k: &str, v: Value| {
        let mut m = base.clone();
        m[k] = v;
        m
    };
    assert_eq!(
        ids(&h.ok(Op::ListParticipants, base.clone()).await),
        ["p1", "p2"]
    );
    assert_eq!(
        ids(&h
            .ok(Op::ListParticipants, with("filterByUserId", json!("bob")))
            .await),
        ["p2"]
    );
    assert_eq!(
        ids(&h
            .ok(Op::ListParticipants, with("filterByPublished", json!(true)))
            .await),
        ["p1"]
    );
    assert_eq!(
        ids(&h
            .ok(
                Op::ListParticipants,
                with("filterByState", json!("DISCONNECTED"))
            )
            .await),
        ["p2"]
    );
    assert_eq!(
        ids(&h
            .ok(
                Op::ListParticipants,
                with("filterByRecordingState", json!("ACTIVE"))
            )
            .await),
        Vec::<String>::new()
    );
    let page = h
        .ok(Op::ListParticipants, with("maxResults", json!(1)))
        .await;
    assert_eq!(ids(&page), ["p1"]);
    let next = h
        .ok(
            Op::ListParticipants,
            with("nextToken", page["nextToken"].clone()),
        )
        .await;
    assert_eq!(ids(&next), ["p2"]);
    let p = h
        .ok(
            Op::GetParticipant,
            json!({"stageArn": arn, "sessionId": session, "participantId": "p1"}),
        )
        .await;
    assert_eq!(p["participant"]["protocol"], "WHIP");
    let ev = h
        .ok(
            Op::ListParticipantEvents,
            json!({"stageArn": arn, "sessionId": session, "participantId": "p1"}),
        )
        .await;
    let names: Vec<&str> = ev["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["JOINED", "PUBLISH_STARTED"]);
    // While the session is active and recorded, the recording configuration is frozen.
    h.deps
        .blob
        .create_bucket("rec", "123456789012", "eu-west-1")
        .await
        .unwrap();
    let sc = h
        .ok(
            Op::CreateStorageConfiguration,
            json!({"s3": {"bucketName": "rec"}}),
        )
        .await;
    let sc_arn = sc["storageConfiguration"]["arn"].clone();
    h.ok(Op::UpdateStage, json!({"arn": arn, "autoParticipantRecordingConfiguration": {"storageConfigurationArn": sc_arn}}))
        .await;
    let e = h
        .call(Op::UpdateStage, json!({"arn": arn, "autoParticipantRecordingConfiguration": {"storageConfigurationArn": ""}}))
        .await
        .unwrap_err();
    assert_eq!(e.status, 409);
    // A publisher keeps a new composition from idling out.
    let enc = h.ok(Op::CreateEncoderConfiguration, json!({})).await;
    let comp = h
        .ok(
            Op::StartComposition,
            json!({"stageArn": arn, "destinations": [{"s3": {"storageConfigurationArn": sc_arn,
                "encoderConfigurationArns": [enc["encoderConfiguration"]["arn"]]}}]}),
        )
        .await;
    h.deps.clock.advance_ms(120_000);
    let c = h
        .ok(
            Op::GetComposition,
            json!({"arn": comp["composition"]["arn"]}),
        )
        .await;
    assert_eq!(c["composition"]["state"], "ACTIVE");
}

#[tokio::test]
async fn secrets_are_redacted_in_debug_output() {
    let k = v1::SigningKey {
        schema_version: 1,
        secret_hex: "00112233".into(),
        kid: "k".into(),
    };
    assert!(!format!("{k:?}").contains("00112233"));
}
