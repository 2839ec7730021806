//! Channels and their stream keys.

use crate::common::*;
use crate::records::*;
use crate::secret::Secret;
use reelay_api_common::parse_arn;
use reelay_aws::generated::ivs::types::*;
use reelay_aws::{ApiError, Output};
use reelay_store::{Filter, NewRecord, StoreError, TxOp, Update};
use serde_json::Value;
use std::collections::BTreeMap;

/// Length of the random tail of an SRT passphrase (AWS's are about 68 alphanumerics).
const SRT_PASSPHRASE_LEN: usize = 64;

/// The `host[:port]` part of a URL such as `rtmp://127.0.0.1:1935`.
fn host_of(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or(rest)
}

fn is_advanced(t: ChannelType) -> bool {
    matches!(t, ChannelType::AdvancedSd | ChannelType::AdvancedHd)
}

/// The channel id of a channel ARN ("" when it has none).
pub(crate) fn channel_id(arn: &str) -> &str {
    parse_arn(arn).map_or("", |p| p.resource_id)
}

/// The playback URL of a channel, in AWS's path form on reelay's HTTP listener.
pub(crate) fn playback_url(call: &Call<'_>, channel_arn: &str) -> String {
    let id = channel_id(channel_arn);
    let base = call.svc.deps.endpoints.public_url.trim_end_matches('/');
    format!(
        "{base}/api/video/v1/{}.{}.channel.{id}.m3u8",
        call.ctx.region, call.ctx.account
    )
}

/// The wire form of a channel.
pub(crate) fn channel_json(call: &Call<'_>, arn: &str, ch: &ChannelV1) -> Result<Value, ApiError> {
    let ep = &call.svc.deps.endpoints;
    let channel = Channel {
        ad_configuration_arn: Some(ch.ad_configuration_arn.clone()),
        arn: Some(arn.to_string()),
        authorized: Some(ch.authorized),
        container_format: Some(ch.container_format),
        failover_slate_configuration_arn: Some(ch.failover_slate_configuration_arn.clone()),
        ingest_endpoint: Some(host_of(ep.rtmps.as_deref().unwrap_or(&ep.rtmp)).to_string()),
        insecure_ingest: Some(ch.insecure_ingest),
        latency_mode: Some(ch.latency_mode),
        multitrack_input_configuration: Some(ch.multitrack_input_configuration.clone()),
        name: Some(ch.name.clone()),
        playback_restriction_policy_arn: Some(ch.playback_restriction_policy_arn.clone()),
        playback_url: Some(playback_url(call, arn)),
        preset: ch.preset,
        recording_configuration_arn: Some(ch.recording_configuration_arn.clone()),
        srt: Some(Srt {
            endpoint: Some(host_of(&ep.srt).to_string()),
            // The passphrase exists only while insecure ingest is off (model doc of Srt).
            passphrase: (!ch.insecure_ingest).then(|| ch.srt_passphrase.expose().to_string()),
        }),
        tags: Some(ch.tags.clone()),
        r#type: Some(ch.channel_type),
    };
    let mut v = encode(&channel)?;
    empty_preset(&mut v, ch.preset);
    Ok(v)
}

/// AWS answers `preset: ""` on BASIC and STANDARD channels, which the enum cannot express.
fn empty_preset(v: &mut Value, preset: Option<TranscodePreset>) {
    if preset.is_none()
        && let Some(o) = v.as_object_mut()
    {
        o.insert("preset".into(), Value::String(String::new()));
    }
}

/// The summary of a listed channel; takes the record apart rather than copying its strings.
fn channel_summary_json(arn: String, ch: ChannelV1) -> Result<Value, ApiError> {
    let preset = ch.preset;
    let s = ChannelSummary {
        ad_configuration_arn: Some(ch.ad_configuration_arn),
        arn: Some(arn),
        authorized: Some(ch.authorized),
        failover_slate_configuration_arn: Some(ch.failover_slate_configuration_arn),
        insecure_ingest: Some(ch.insecure_ingest),
        latency_mode: Some(ch.latency_mode),
        name: Some(ch.name),
        playback_restriction_policy_arn: Some(ch.playback_restriction_policy_arn),
        preset,
        recording_configuration_arn: Some(ch.recording_configuration_arn),
        tags: Some(ch.tags),
        r#type: Some(ch.channel_type),
    };
    let mut v = encode(&s)?;
    empty_preset(&mut v, preset);
    Ok(v)
}

/// The index attributes that `ListChannels` filters and the in-use checks match.
fn channel_index(ch: &ChannelV1) -> BTreeMap<String, String> {
    let mut idx = BTreeMap::new();
    idx.insert(IDX_NAME.to_string(), ch.name.clone());
    for (key, value) in [
        (IDX_RECORDING_CONFIGURATION, &ch.recording_configuration_arn),
        (
            IDX_PLAYBACK_RESTRICTION_POLICY,
            &ch.playback_restriction_policy_arn,
        ),
        (IDX_AD_CONFIGURATION, &ch.ad_configuration_arn),
        (
            IDX_FAILOVER_SLATE_CONFIGURATION,
            &ch.failover_slate_configuration_arn,
        ),
    ] {
        if !value.is_empty() {
            idx.insert(key.to_string(), value.clone());
        }
    }
    idx
}

/// The multitrack configuration with AWS's defaults (`enabled: false`, `FULL_HD`, `ALLOW`).
///
/// 2024-11 model: "If true, then policy, maximumResolution, and containerFormat are required".
fn multitrack(
    given: Option<&MultitrackInputConfiguration>,
) -> Result<MultitrackInputConfiguration, ApiError> {
    let enabled = given.and_then(|m| m.enabled).unwrap_or(false);
    if enabled && given.is_some_and(|m| m.policy.is_none() || m.maximum_resolution.is_none()) {
        return Err(validation(
            "multitrackInputConfiguration: policy and maximumResolution are required when enabled is true",
        ));
    }
    Ok(MultitrackInputConfiguration {
        enabled: Some(enabled),
        maximum_resolution: Some(
            given
                .and_then(|m| m.maximum_resolution)
                .unwrap_or(MultitrackMaximumResolution::FullHd),
        ),
        policy: Some(
            given
                .and_then(|m| m.policy)
                .unwrap_or(MultitrackPolicy::Allow),
        ),
    })
}

/// The cross-member rules of the 2024-11 channel shape.
fn check_channel_rules(ch: &ChannelV1, preset_given: bool) -> Result<(), ApiError> {
    if preset_given && !is_advanced(ch.channel_type) {
        return Err(validation(format!(
            "preset can be set only on ADVANCED_SD and ADVANCED_HD channels, not on {}",
            ch.channel_type.as_str()
        )));
    }
    if ch.multitrack_input_configuration.enabled == Some(true) {
        if ch.channel_type != ChannelType::Standard {
            return Err(validation(format!(
                "multitrack input can be enabled only on STANDARD channels, not on {}",
                ch.channel_type.as_str()
            )));
        }
        if ch.container_format != ContainerFormat::FragmentedMp4 {
            return Err(validation(
                "containerFormat must be FRAGMENTED_MP4 when multitrack input is enabled",
            ));
        }
    }
    Ok(())
}

/// A fresh stream key for a channel: `sk_<region>_<12 alphanumerics>_<30 alphanumerics>`,
/// drawn from the OS CSPRNG.
fn new_stream_key(
    call: &Call<'_>,
    channel_arn: &str,
    tags: BTreeMap<String, String>,
) -> Result<(String, StreamKeyV1, NewRecord), ApiError> {
    let id = new_id();
    let arn = call.arn(Kind::StreamKey, &id);
    let value = Secret::new(format!(
        "sk_{}_{}_{}",
        call.ctx.region,
        random_alnum(12),
        random_alnum(30)
    ));
    let key = StreamKeyV1 {
        schema_version: SCHEMA_VERSION,
        channel_arn: channel_arn.to_string(),
        value,
        tags,
    };
    let rec = NewRecord {
        kind: KIND_STREAM_KEY.into(),
        id,
        arn: arn.clone(),
        parent: Some(channel_arn.to_string()),
        // No index attribute: nothing lists keys by value (ingest finds a key through its lookup
        // record), and each attribute costs two more B-tree entries per key.
        index: BTreeMap::new(),
        body: encode(&key)?,
        schema_version: SCHEMA_VERSION,
        tags: BTreeMap::new(),
    };
    Ok((arn, key, rec))
}

/// The insert of the ingest lookup of a key (see [`crate::ingest`]), for the transaction that
/// inserts the key.
fn register_lookup(
    call: &Call<'_>,
    key_rec: &NewRecord,
    key: &StreamKeyV1,
) -> Result<TxOp, ApiError> {
    let digest = crate::ingest::stream_key_digest(key.value.expose());
    crate::ingest::register_op(&call.scope, &key_rec.id, &digest)
        .map_err(|e| store_err(e, "stream key lookup"))
}

/// Removes the ingest lookup of a deleted key, found by the digest of its value.
async fn unregister_lookup(call: &Call<'_>, key: &reelay_store::Record) {
    if let Some(value) = key.body.get("value").and_then(Value::as_str) {
        crate::ingest::unregister(call.store(), &crate::ingest::stream_key_digest(value)).await;
    }
}

fn stream_key_json(arn: &str, key: &StreamKeyV1) -> StreamKey {
    StreamKey {
        arn: Some(arn.to_string()),
        channel_arn: Some(key.channel_arn.clone()),
        tags: Some(key.tags.clone()),
        value: Some(key.value.expose().to_string()),
    }
}

fn check_tag_count(
    call: &Call<'_>,
    tags: &Option<BTreeMap<String, String>>,
) -> Result<(), ApiError> {
    let limit = call.quotas().tags_per_resource;
    if tags.as_ref().is_some_and(|t| t.len() > limit) {
        return Err(validation(format!(
            "a resource can have at most {limit} tags"
        )));
    }
    Ok(())
}

/// Whether the live plane reports the channel live.
pub(crate) async fn is_live(call: &Call<'_>, channel_id: &str) -> Result<bool, ApiError> {
    Ok(call
        .get_raw::<StreamV1>(KIND_STREAM, channel_id)
        .await?
        .is_some())
}

/// Load the resources that the reference members of a channel name, for the write to touch.
async fn references(
    call: &Call<'_>,
    ch: &ChannelV1,
    only_changed_from: Option<&ChannelV1>,
) -> Result<Vec<TxOp>, ApiError> {
    let mut ops = Vec::new();
    let members = [
        (
            Kind::RecordingConfiguration,
            "recordingConfigurationArn",
            &ch.recording_configuration_arn,
            only_changed_from.map(|o| &o.recording_configuration_arn),
        ),
        (
            Kind::PlaybackRestrictionPolicy,
            "playbackRestrictionPolicyArn",
            &ch.playback_restriction_policy_arn,
            only_changed_from.map(|o| &o.playback_restriction_policy_arn),
        ),
        (
            Kind::AdConfiguration,
            "adConfigurationArn",
            &ch.ad_configuration_arn,
            only_changed_from.map(|o| &o.ad_configuration_arn),
        ),
        (
            Kind::FailoverSlateConfiguration,
            "failoverSlateConfigurationArn",
            &ch.failover_slate_configuration_arn,
            only_changed_from.map(|o| &o.failover_slate_configuration_arn),
        ),
    ];
    for (kind, member, arn, old) in members {
        // A reference the channel already holds is covered by the index the in-use check reads.
        if old == Some(arn) {
            continue;
        }
        if let Some(rec) = call.referenced(kind, member, arn).await? {
            ops.push(touch(&rec));
        }
    }
    Ok(ops)
}

/// Whether a failed transaction lost a race and should be tried again.
fn retryable(e: &StoreError) -> bool {
    matches!(
        e,
        StoreError::VersionMismatch { .. }
            | StoreError::NotFound
            | StoreError::AlreadyExists
            | StoreError::ConditionFailed { .. }
    )
}

fn raced(what: &str) -> ApiError {
    conflict(format!("the {what} was modified concurrently; try again"))
}

pub(crate) async fn create_channel(
    call: &Call<'_>,
    req: CreateChannelRequest,
) -> Result<Output, ApiError> {
    check_tag_count(call, &req.tags)?;
    let channel_type = req.r#type.unwrap_or(ChannelType::Standard);
    let ch = ChannelV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        latency_mode: req.latency_mode.unwrap_or(ChannelLatencyMode::Low),
        channel_type,
        authorized: req.authorized.unwrap_or(false),
        insecure_ingest: req.insecure_ingest.unwrap_or(false),
        container_format: req.container_format.unwrap_or(ContainerFormat::Ts),
        preset: req
            .preset
            .or(is_advanced(channel_type).then_some(TranscodePreset::HigherBandwidthDelivery)),
        recording_configuration_arn: req.recording_configuration_arn.unwrap_or_default(),
        playback_restriction_policy_arn: req.playback_restriction_policy_arn.unwrap_or_default(),
        ad_configuration_arn: req.ad_configuration_arn.unwrap_or_default(),
        failover_slate_configuration_arn: req.failover_slate_configuration_arn.unwrap_or_default(),
        multitrack_input_configuration: multitrack(req.multitrack_input_configuration.as_ref())?,
        srt_passphrase: Secret::new(random_alnum(SRT_PASSPHRASE_LEN)),
        tags: req.tags.unwrap_or_default(),
    };
    check_channel_rules(&ch, req.preset.is_some())?;
    call.check_quota(Kind::Channel, call.quotas().channels)
        .await?;
    for _ in 0..WRITE_ATTEMPTS {
        let mut ops = references(call, &ch, None).await?;
        let id = new_id();
        let arn = call.arn(Kind::Channel, &id);
        let (_, key, key_rec) = new_stream_key(call, &arn, BTreeMap::new())?;
        let key_arn = key_rec.arn.clone();
        let lookup = register_lookup(call, &key_rec, &key)?;
        ops.push(TxOp::Insert(NewRecord {
            kind: KIND_CHANNEL.into(),
            id,
            arn: arn.clone(),
            parent: None,
            index: channel_index(&ch),
            body: encode(&ch)?,
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        }));
        ops.push(TxOp::Insert(key_rec));
        // The key, its channel and its lookup commit together (one write, one group commit slot).
        ops.push(lookup);
        match call.store().transact(&call.scope, ops).await {
            Ok(_) => {
                let resp = serde_json::json!({
                    "channel": channel_json(call, &arn, &ch)?,
                    "streamKey": encode(&stream_key_json(&key_arn, &key))?,
                });
                return Ok(Output::Json(resp));
            }
            Err(e) if retryable(&e) => continue,
            Err(e) => return Err(store_err(e, "channel")),
        }
    }
    Err(raced("channel's references"))
}

pub(crate) async fn get_channel(
    call: &Call<'_>,
    req: GetChannelRequest,
) -> Result<Output, ApiError> {
    let ch = call.load::<ChannelV1>(Kind::Channel, &req.arn).await?;
    Ok(Output::Json(
        serde_json::json!({ "channel": channel_json(call, &ch.rec.arn, &ch.body)? }),
    ))
}

pub(crate) async fn batch_get_channel(
    call: &Call<'_>,
    req: BatchGetChannelRequest,
) -> Result<Output, ApiError> {
    let mut channels = Vec::new();
    let mut errors = Vec::new();
    for arn in &req.arns {
        match call.find::<ChannelV1>(Kind::Channel, arn).await? {
            Some(ch) => channels.push(channel_json(call, arn, &ch.body)?),
            None => errors.push(BatchError {
                arn: Some(arn.clone()),
                code: Some("ResourceNotFoundException".into()),
                message: Some(format!("channel not found: {arn}")),
            }),
        }
    }
    Ok(Output::Json(
        serde_json::json!({ "channels": channels, "errors": encode(&errors)? }),
    ))
}

pub(crate) async fn list_channels(
    call: &Call<'_>,
    req: ListChannelsRequest,
) -> Result<Output, ApiError> {
    let filters: Vec<Filter> = [
        (IDX_NAME, &req.filter_by_name),
        (
            IDX_RECORDING_CONFIGURATION,
            &req.filter_by_recording_configuration_arn,
        ),
        (
            IDX_PLAYBACK_RESTRICTION_POLICY,
            &req.filter_by_playback_restriction_policy_arn,
        ),
        (IDX_AD_CONFIGURATION, &req.filter_by_ad_configuration_arn),
        (
            IDX_FAILOVER_SLATE_CONFIGURATION,
            &req.filter_by_failover_slate_configuration_arn,
        ),
    ]
    .into_iter()
    .filter_map(|(key, value)| {
        value
            .as_ref()
            .filter(|v| !v.is_empty())
            .map(|v| Filter::Eq {
                key: key.to_string(),
                value: v.clone(),
            })
    })
    .collect();
    // ListChannels documentation: "Filters are mutually exclusive and cannot be used together.
    // If you try to use both filters, you will get an error (409 ConflictException)."
    if filters.len() > 1 {
        return Err(conflict(
            "ListChannels filters are mutually exclusive; use at most one",
        ));
    }
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list_bodies::<ChannelV1>(KIND_CHANNEL, filters, limit, req.next_token)
        .await?;
    let channels = items
        .into_iter()
        .map(|(arn, ch)| channel_summary_json(arn, ch))
        .collect::<Result<Vec<_>, _>>()?;
    let mut resp = serde_json::json!({ "channels": channels });
    if let Some(next) = next {
        resp["nextToken"] = Value::String(next);
    }
    Ok(Output::Json(resp))
}

pub(crate) async fn update_channel(
    call: &Call<'_>,
    req: UpdateChannelRequest,
) -> Result<Output, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let cur = call.load::<ChannelV1>(Kind::Channel, &req.arn).await?;
        if is_live(call, &cur.rec.id).await? {
            return Err(conflict(format!(
                "channel is live and cannot be updated: {}",
                req.arn
            )));
        }
        let old = &cur.body;
        let mut ch = old.clone();
        if let Some(v) = &req.name {
            ch.name = v.clone();
        }
        if let Some(v) = req.latency_mode {
            ch.latency_mode = v;
        }
        if let Some(v) = req.authorized {
            ch.authorized = v;
        }
        if let Some(v) = req.insecure_ingest {
            ch.insecure_ingest = v;
        }
        if let Some(v) = req.container_format {
            ch.container_format = v;
        }
        if let Some(v) = &req.recording_configuration_arn {
            ch.recording_configuration_arn = v.clone();
        }
        if let Some(v) = &req.playback_restriction_policy_arn {
            ch.playback_restriction_policy_arn = v.clone();
        }
        if let Some(v) = &req.ad_configuration_arn {
            ch.ad_configuration_arn = v.clone();
        }
        if let Some(v) = &req.failover_slate_configuration_arn {
            ch.failover_slate_configuration_arn = v.clone();
        }
        if let Some(m) = &req.multitrack_input_configuration {
            ch.multitrack_input_configuration = multitrack(Some(m))?;
        }
        ch.channel_type = req.r#type.unwrap_or(old.channel_type);
        // The preset follows the type: kept across ADVANCED types, defaulted when a channel
        // becomes ADVANCED, and dropped (answered as "") when it leaves them.
        ch.preset = match (req.preset, is_advanced(ch.channel_type)) {
            (Some(p), _) => Some(p),
            (None, true) => old
                .preset
                .or(Some(TranscodePreset::HigherBandwidthDelivery)),
            (None, false) => None,
        };
        check_channel_rules(&ch, req.preset.is_some())?;
        let mut ops = references(call, &ch, Some(old)).await?;
        ops.push(TxOp::Update {
            kind: KIND_CHANNEL.into(),
            id: cur.rec.id.clone(),
            expected_version: Some(cur.rec.version),
            update: Update {
                body: encode(&ch)?,
                index: channel_index(&ch),
                parent: None,
                schema_version: SCHEMA_VERSION,
            },
        });
        match call.store().transact(&call.scope, ops).await {
            Ok(_) => {
                return Ok(Output::Json(
                    serde_json::json!({ "channel": channel_json(call, &cur.rec.arn, &ch)? }),
                ));
            }
            Err(e) if retryable(&e) => continue,
            Err(e) => return Err(store_err(e, "channel")),
        }
    }
    Err(raced("channel"))
}

pub(crate) async fn delete_channel(
    call: &Call<'_>,
    req: DeleteChannelRequest,
) -> Result<Output, ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let cur = call.load::<ChannelV1>(Kind::Channel, &req.arn).await?;
        if is_live(call, &cur.rec.id).await? {
            return Err(conflict(format!(
                "channel is live and cannot be deleted: {}",
                req.arn
            )));
        }
        // One key per channel is the rule, so one page holds them all; the assertion at the end
        // catches a key created meanwhile.
        let (keys, _) = call
            .list::<Value>(
                KIND_STREAM_KEY,
                Some(cur.rec.arn.clone()),
                Vec::new(),
                50,
                None,
            )
            .await?;
        let mut ops = vec![TxOp::Delete {
            kind: KIND_CHANNEL.into(),
            id: cur.rec.id.clone(),
            expected_version: Some(cur.rec.version),
        }];
        for k in &keys {
            ops.push(TxOp::Delete {
                kind: KIND_STREAM_KEY.into(),
                id: k.rec.id.clone(),
                expected_version: None,
            });
        }
        ops.push(TxOp::AssertNoChildren {
            kind: KIND_STREAM_KEY.into(),
            parent: cur.rec.arn.clone(),
        });
        match call.store().transact(&call.scope, ops).await {
            Ok(_) => {
                for k in &keys {
                    unregister_lookup(call, &k.rec).await;
                }
                cleanup_children(call, &cur.rec.arn).await;
                return Ok(Output::empty());
            }
            Err(e) if retryable(&e) => continue,
            Err(e) => return Err(store_err(e, "channel")),
        }
    }
    Err(raced("channel"))
}

/// Remove what hangs off a deleted channel besides its keys (revocations, and metadata or ad
/// breaks the live plane never consumed). Best effort: a channel id is never reused, so a
/// leftover is unreachable, only wasted space.
async fn cleanup_children(call: &Call<'_>, channel_arn: &str) {
    for kind in [
        KIND_VIEWER_REVOCATION,
        KIND_TIMED_METADATA,
        KIND_AD_BREAK,
        KIND_STREAM_SESSION,
    ] {
        // Bounded: at most 10 pages of 100 per kind in one request.
        for _ in 0..10 {
            let Ok((items, next)) = call
                .list::<Value>(kind, Some(channel_arn.to_string()), Vec::new(), 100, None)
                .await
            else {
                break;
            };
            for it in &items {
                if let Err(e) = call
                    .store()
                    .delete(&call.scope, kind, &it.rec.id, None)
                    .await
                {
                    tracing::warn!(kind, id = %it.rec.id, error = %e, "could not delete a record of a deleted channel");
                }
            }
            if next.is_none() || items.is_empty() {
                break;
            }
        }
    }
}

pub(crate) async fn create_stream_key(
    call: &Call<'_>,
    req: CreateStreamKeyRequest,
) -> Result<Output, ApiError> {
    check_tag_count(call, &req.tags)?;
    let ch = call
        .load::<ChannelV1>(Kind::Channel, &req.channel_arn)
        .await?;
    let (arn, key, rec) = new_stream_key(call, &ch.rec.arn, req.tags.unwrap_or_default())?;
    let lookup = register_lookup(call, &rec, &key)?;
    let mut ops = vec![
        TxOp::AssertNoChildren {
            kind: KIND_STREAM_KEY.into(),
            parent: ch.rec.arn.clone(),
        },
        TxOp::AssertExists {
            kind: KIND_CHANNEL.into(),
            id: ch.rec.id.clone(),
        },
        TxOp::Insert(rec),
    ];
    ops.push(lookup);
    match call.store().transact(&call.scope, ops).await {
        Ok(_) => Ok(Output::Json(
            serde_json::json!({ "streamKey": encode(&stream_key_json(&arn, &key))? }),
        )),
        // CreateStreamKey documentation: "there is a limit of 1 stream key per channel".
        Err(StoreError::ConditionFailed { op_index: 0, .. }) => Err(quota_exceeded(format!(
            "channel already has a stream key (limit 1 per channel): {}",
            req.channel_arn
        ))),
        Err(StoreError::ConditionFailed { .. }) => Err(not_found(Kind::Channel, &req.channel_arn)),
        Err(e) => Err(store_err(e, "stream key")),
    }
}

pub(crate) async fn get_stream_key(
    call: &Call<'_>,
    req: GetStreamKeyRequest,
) -> Result<Output, ApiError> {
    let key = call.load::<StreamKeyV1>(Kind::StreamKey, &req.arn).await?;
    Ok(Output::Json(
        serde_json::json!({ "streamKey": encode(&stream_key_json(&key.rec.arn, &key.body))? }),
    ))
}

pub(crate) async fn batch_get_stream_key(
    call: &Call<'_>,
    req: BatchGetStreamKeyRequest,
) -> Result<Output, ApiError> {
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for arn in &req.arns {
        match call.find::<StreamKeyV1>(Kind::StreamKey, arn).await? {
            Some(k) => keys.push(stream_key_json(arn, &k.body)),
            None => errors.push(BatchError {
                arn: Some(arn.clone()),
                code: Some("ResourceNotFoundException".into()),
                message: Some(format!("stream key not found: {arn}")),
            }),
        }
    }
    Output::json(&BatchGetStreamKeyResponse {
        stream_keys: Some(keys),
        errors: Some(errors),
        ..Default::default()
    })
}

pub(crate) async fn list_stream_keys(
    call: &Call<'_>,
    req: ListStreamKeysRequest,
) -> Result<Output, ApiError> {
    let ch = call.load::<Value>(Kind::Channel, &req.channel_arn).await?;
    // ListStreamKeys documentation: "maxResults ... Default: 1."
    let limit = page_limit(req.max_results, 1, 50);
    let (items, next) = call
        .list::<StreamKeyV1>(
            KIND_STREAM_KEY,
            Some(ch.rec.arn.clone()),
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let stream_keys = items
        .iter()
        .map(|k| StreamKeySummary {
            arn: Some(k.rec.arn.clone()),
            channel_arn: Some(k.body.channel_arn.clone()),
            tags: Some(k.body.tags.clone()),
        })
        .collect();
    Output::json(&ListStreamKeysResponse {
        stream_keys,
        next_token: next,
    })
}

pub(crate) async fn delete_stream_key(
    call: &Call<'_>,
    req: DeleteStreamKeyRequest,
) -> Result<Output, ApiError> {
    let key = call.load::<Value>(Kind::StreamKey, &req.arn).await?;
    match call
        .store()
        .delete(&call.scope, KIND_STREAM_KEY, &key.rec.id, None)
        .await
    {
        Ok(_) => {
            unregister_lookup(call, &key.rec).await;
            Ok(Output::empty())
        }
        Err(StoreError::NotFound) => Err(not_found(Kind::StreamKey, &req.arn)),
        Err(e) => Err(store_err(e, "stream key")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_are_taken_from_urls() {
        assert_eq!(host_of("rtmp://127.0.0.1:1935"), "127.0.0.1:1935");
        assert_eq!(host_of("srt://[::1]:9000/x"), "[::1]:9000");
        assert_eq!(host_of("example.com"), "example.com");
    }

    #[test]
    fn multitrack_defaults_and_requirements() {
        let d = multitrack(None).unwrap();
        assert_eq!(d.enabled, Some(false));
        assert_eq!(
            d.maximum_resolution,
            Some(MultitrackMaximumResolution::FullHd)
        );
        assert_eq!(d.policy, Some(MultitrackPolicy::Allow));
        let half = MultitrackInputConfiguration {
            enabled: Some(true),
            policy: Some(MultitrackPolicy::Require),
            maximum_resolution: None,
        };
        assert_eq!(
            multitrack(Some(&half)).unwrap_err().code,
            "ValidationException"
        );
        let off = MultitrackInputConfiguration {
            enabled: Some(false),
            policy: None,
            maximum_resolution: Some(MultitrackMaximumResolution::Sd),
        };
        assert_eq!(
            multitrack(Some(&off)).unwrap().maximum_resolution,
            Some(MultitrackMaximumResolution::Sd)
        );
    }
}
