//! Server-side compositions: StartComposition, StopComposition, GetComposition,
//! ListCompositions.
//!
//! A composition's state is derived at read time from its stored timestamps and the clock
//! (IVS Real-Time User Guide, "Server-Side Composition", lifecycle): STARTING for a moment,
//! ACTIVE until it is asked to stop, has had no publisher for 60 s, or reaches its 24-hour
//! maximum life, then STOPPING and STOPPED; FAILED when a destination became unusable.
//! A STOPPED or FAILED composition disappears from Get and List 5 minutes later. No
//! background task is needed, and moving the injectable clock moves the whole lifecycle.

use crate::limits;
use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{Filter, ListQuery, Record, StoreError, TxOp};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// The state of a composition at one instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Derived {
    pub state: t::CompositionState,
    /// When it reached ACTIVE (if it did by now).
    pub active_ms: Option<i64>,
    /// When it ended (STOPPED or FAILED).
    pub end_ms: Option<i64>,
    /// Past its retention: no longer visible.
    pub gone: bool,
}

/// Derive the state of `c` at `now` (Unix ms).
pub(crate) fn derive(c: &v1::Composition, now: i64) -> Derived {
    let idle_stop = c
        .idle_since_ms
        .map(|i| i.saturating_add(limits::COMPOSITION_IDLE_TIMEOUT_MS));
    let stop_at = [
        c.stop_requested_ms,
        idle_stop,
        Some(c.start_ms.saturating_add(limits::COMPOSITION_MAX_LIFE_MS)),
    ]
    .into_iter()
    .flatten()
    .min()
    .unwrap_or(i64::MAX);
    let active_at = c.start_ms.saturating_add(limits::COMPOSITION_STARTING_MS);
    let reached_active = |end: i64| (active_at < end && now >= active_at).then_some(active_at);
    if let Some(failed) = c.failed_ms.filter(|f| *f <= stop_at)
        && now >= failed
    {
        return Derived {
            state: t::CompositionState::Failed,
            active_ms: reached_active(failed),
            end_ms: Some(failed),
            gone: now >= failed.saturating_add(limits::COMPOSITION_RETENTION_MS),
        };
    }
    if now < stop_at {
        let state = if now < active_at {
            t::CompositionState::Starting
        } else {
            t::CompositionState::Active
        };
        return Derived {
            state,
            active_ms: reached_active(stop_at),
            end_ms: None,
            gone: false,
        };
    }
    let end = stop_at.saturating_add(limits::COMPOSITION_STOPPING_MS);
    if now < end {
        return Derived {
            state: t::CompositionState::Stopping,
            active_ms: reached_active(stop_at),
            end_ms: None,
            gone: false,
        };
    }
    Derived {
        state: t::CompositionState::Stopped,
        active_ms: reached_active(stop_at),
        end_ms: Some(end),
        gone: now >= end.saturating_add(limits::COMPOSITION_RETENTION_MS),
    }
}

fn running(d: &Derived) -> bool {
    !matches!(
        d.state,
        t::CompositionState::Stopped | t::CompositionState::Failed
    )
}

fn destination_state(d: &Derived, failed: bool) -> t::DestinationState {
    match d.state {
        _ if failed => t::DestinationState::Failed,
        t::CompositionState::Starting => t::DestinationState::Starting,
        t::CompositionState::Active => t::DestinationState::Active,
        t::CompositionState::Stopping => t::DestinationState::Stopping,
        t::CompositionState::Stopped | t::CompositionState::Failed => t::DestinationState::Stopped,
    }
}

async fn view(
    call: &Call<'_>,
    arn: &str,
    c: v1::Composition,
    d: &Derived,
) -> Result<t::Composition, ApiError> {
    let destinations = c
        .destinations
        .into_iter()
        .map(|dst| {
            let failed = c.failed_destinations.contains(&dst.id);
            t::Destination {
                detail: dst.recording_prefix.map(|p| t::DestinationDetail {
                    s3: Some(t::S3Detail {
                        recording_prefix: p,
                    }),
                }),
                end_time: d.end_ms.map(util::ts),
                start_time: d.active_ms.map(util::ts),
                state: destination_state(d, failed),
                id: dst.id,
                configuration: dst.configuration,
            }
        })
        .collect();
    Ok(t::Composition {
        arn: arn.to_string(),
        destinations,
        end_time: d.end_ms.map(util::ts),
        layout: c.layout,
        stage_arn: c.stage_arn,
        start_time: Some(util::ts(c.start_ms)),
        state: d.state,
        tags: Some(call.tags(arn).await?),
    })
}

async fn summary(
    call: &Call<'_>,
    arn: &str,
    c: v1::Composition,
    d: &Derived,
) -> Result<t::CompositionSummary, ApiError> {
    let destinations = c
        .destinations
        .iter()
        .map(|dst| t::DestinationSummary {
            end_time: d.end_ms.map(util::ts),
            id: dst.id.clone(),
            start_time: d.active_ms.map(util::ts),
            state: destination_state(d, c.failed_destinations.contains(&dst.id)),
        })
        .collect();
    Ok(t::CompositionSummary {
        arn: arn.to_string(),
        destinations,
        end_time: d.end_ms.map(util::ts),
        stage_arn: c.stage_arn,
        start_time: Some(util::ts(c.start_ms)),
        state: d.state,
        tags: Some(call.tags(arn).await?),
    })
}

/// Check, for a running composition, that its destinations are still usable: the bucket of
/// an S3 destination must exist, and the channel of a channel destination too. A destination
/// that is not fails the composition, which is recorded so the failure time stays fixed.
async fn refresh(
    call: &Call<'_>,
    rec: &Record,
    mut c: v1::Composition,
) -> Result<v1::Composition, ApiError> {
    let now = call.now_ms();
    if !running(&derive(&c, now)) {
        return Ok(c);
    }
    let mut failed = Vec::new();
    for dst in &c.destinations {
        if let Some(s3) = &dst.configuration.s3 {
            let sc = call
                .try_fetch::<v1::StorageConfiguration>(
                    records::KIND_STORAGE_CONFIGURATION,
                    &s3.storage_configuration_arn,
                )
                .await?;
            let ok = match sc {
                Some((_, body)) => call.deps.blob.head_bucket(&body.bucket_name).await.is_ok(),
                None => false,
            };
            if !ok {
                failed.push(dst.id.clone());
            }
        }
        if let Some(ch) = &dst.configuration.channel {
            let found = call
                .deps
                .store
                .get_by_arn(&call.scope, &ch.channel_arn)
                .await
                .map_err(|e| util::store_err(e, "channel"))?;
            if found.is_none_or(|c| c.kind != IVS_KIND_CHANNEL) {
                failed.push(dst.id.clone());
            }
        }
    }
    if failed.is_empty() {
        return Ok(c);
    }
    c.failed_ms = Some(now);
    c.failed_destinations = failed;
    match call
        .deps
        .store
        .update(
            &call.scope,
            records::KIND_COMPOSITION,
            &rec.id,
            Some(rec.version),
            util::update_of(rec, &c)?,
        )
        .await
    {
        Ok(_) => Ok(c),
        // Someone else changed it meanwhile (a stop, or the same failure seen first): read theirs.
        Err(StoreError::VersionMismatch { .. }) => match call
            .get::<v1::Composition>(records::KIND_COMPOSITION, &rec.id)
            .await?
        {
            Some((_, theirs)) => Ok(theirs),
            None => Ok(c),
        },
        Err(e) => Err(util::store_err(e, "composition")),
    }
}

/// Forget a composition past its retention (and its idempotency token).
async fn collect(call: &Call<'_>, rec: &Record, c: &v1::Composition) {
    // Best effort: a failure only leaves an invisible record behind for the next reader.
    let _ = call
        .deps
        .store
        .delete(
            &call.scope,
            records::KIND_COMPOSITION,
            &rec.id,
            Some(rec.version),
        )
        .await;
    if let Some(token) = &c.idempotency_token
        && let Ok(Some((tr, tb))) = call
            .get::<v1::CompositionToken>(records::KIND_COMPOSITION_TOKEN, token)
            .await
        && tb.composition_id == rec.id
    {
        let _ = call
            .deps
            .store
            .delete(
                &call.scope,
                records::KIND_COMPOSITION_TOKEN,
                token,
                Some(tr.version),
            )
            .await;
    }
}

/// A visible composition by ARN, refreshed, with its state now.
async fn load(call: &Call<'_>, arn: &str) -> Result<(Record, v1::Composition, Derived), ApiError> {
    let (rec, c) = call
        .fetch::<v1::Composition>(records::KIND_COMPOSITION, arn, "composition")
        .await?;
    let c = refresh(call, &rec, c).await?;
    let d = derive(&c, call.now_ms());
    if d.gone {
        collect(call, &rec, &c).await;
        return Err(util::not_found("composition", arn));
    }
    Ok((rec, c, d))
}

/// Whether a running composition carries index attribute `key` (`enc:<arn>`, `sc:<arn>`,
/// `ch:<arn>`).
pub(crate) async fn in_use(call: &Call<'_>, key: &str) -> Result<bool, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_COMPOSITION.into(),
                parent: None,
                filters: vec![Filter::Eq {
                    key: key.to_string(),
                    value: "1".into(),
                }],
                limit: limits::MAX_REFERENCE_SCAN,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "composition"))?;
    let now = call.now_ms();
    for r in page.items {
        let c: v1::Composition = util::decode(&r)?;
        if running(&derive(&c, now)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Ask every running composition of a stage to stop (the stage is being deleted).
pub(crate) async fn stop_all_of_stage(call: &Call<'_>, stage_arn: &str) -> Result<(), ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_COMPOSITION.into(),
                parent: Some(stage_arn.to_string()),
                filters: vec![],
                limit: limits::MAX_REFERENCE_SCAN,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "composition"))?;
    let now = call.now_ms();
    for r in page.items {
        let mut c: v1::Composition = util::decode(&r)?;
        if running(&derive(&c, now)) && c.stop_requested_ms.is_none() {
            c.stop_requested_ms = Some(now);
            // A concurrent writer already changed it; its stop (or failure) stands.
            let _ = call
                .deps
                .store
                .update(
                    &call.scope,
                    records::KIND_COMPOSITION,
                    &r.id,
                    Some(r.version),
                    util::update_of(&r, &c)?,
                )
                .await;
        }
    }
    Ok(())
}

/// Fill the layout defaults (grid when none is given) and check the layout.
fn normalize_layout(
    layout: Option<t::LayoutConfiguration>,
) -> Result<t::LayoutConfiguration, ApiError> {
    let layout = layout.unwrap_or_default();
    match (layout.grid, layout.pip) {
        (Some(_), Some(_)) => Err(validation("layout must be either grid or pip, not both")),
        (grid, None) => {
            let mut g = grid.unwrap_or_default();
            g.featured_participant_attribute
                .get_or_insert_with(String::new);
            g.omit_stopped_video.get_or_insert(false);
            g.video_aspect_ratio
                .get_or_insert(t::VideoAspectRatio::Video);
            g.grid_gap.get_or_insert(limits::DEFAULT_GRID_GAP);
            // videoFillMode stays unset when not given: "COVER for participants in the grid
            // and CONTAIN for featured participants".
            Ok(t::LayoutConfiguration {
                grid: Some(g),
                pip: None,
            })
        }
        (None, Some(mut p)) => {
            let featured = p
                .featured_participant_attribute
                .get_or_insert_with(String::new)
                .clone();
            let pip_attr = p
                .pip_participant_attribute
                .get_or_insert_with(String::new)
                .clone();
            if !featured.is_empty() && featured == pip_attr {
                return Err(validation(
                    "pip.featuredParticipantAttribute and pip.pipParticipantAttribute must differ",
                ));
            }
            p.omit_stopped_video.get_or_insert(false);
            p.video_fill_mode.get_or_insert(t::VideoFillMode::Cover);
            p.grid_gap.get_or_insert(0);
            p.pip_behavior.get_or_insert(t::PipBehavior::Static);
            p.pip_offset.get_or_insert(0);
            p.pip_position.get_or_insert(t::PipPosition::BottomRight);
            Ok(t::LayoutConfiguration {
                grid: None,
                pip: Some(p),
            })
        }
    }
}

/// Everything a StartComposition refers to, read and checked.
struct Refs {
    /// Records to touch in the start transaction (so a racing delete conflicts).
    touched: Vec<Record>,
    /// Index attributes of the composition.
    index: BTreeMap<String, String>,
}

async fn check_encoder(call: &Call<'_>, arn: &str, refs: &mut Refs) -> Result<(), ApiError> {
    let (rec, _) = call
        .fetch::<v1::EncoderConfiguration>(
            records::KIND_ENCODER_CONFIGURATION,
            arn,
            "encoder configuration",
        )
        .await?;
    refs.index.insert(format!("enc:{arn}"), "1".into());
    if !refs.touched.iter().any(|r| r.arn == rec.arn) {
        refs.touched.push(rec);
    }
    Ok(())
}

/// Check the destinations and fill their defaults.
async fn normalize_destinations(
    call: &Call<'_>,
    destinations: Vec<t::DestinationConfiguration>,
) -> Result<(Vec<t::DestinationConfiguration>, Refs), ApiError> {
    // The shape first, so a malformed request is a validation error whatever it refers to:
    // "either one destination (channel or s3) or two (one channel and one s3)".
    let (mut n_channel, mut n_s3) = (0, 0);
    for dst in &destinations {
        match (&dst.channel, &dst.s3) {
            (Some(_), None) => n_channel += 1,
            (None, Some(_)) => n_s3 += 1,
            _ => {
                return Err(validation(
                    "each destination must have exactly one of channel or s3",
                ));
            }
        }
    }
    if n_channel > 1 {
        return Err(validation(
            "a composition can have at most one channel destination",
        ));
    }
    if n_s3 > 1 {
        return Err(validation(
            "a composition can have at most one s3 destination",
        ));
    }
    let mut refs = Refs {
        touched: Vec::new(),
        index: BTreeMap::new(),
    };
    let mut out = Vec::with_capacity(destinations.len());
    for mut dst in destinations {
        match (&mut dst.channel, &mut dst.s3) {
            (Some(_), Some(_)) | (None, None) => {
                return Err(validation(
                    "each destination must have exactly one of channel or s3",
                ));
            }
            (Some(ch), None) => {
                // Channels belong to the IVS low-latency API, in the same account and region.
                let channel = call
                    .deps
                    .store
                    .get_by_arn(&call.scope, &ch.channel_arn)
                    .await
                    .map_err(|e| util::store_err(e, "channel"))?;
                let Some(channel) = channel.filter(|c| c.kind == IVS_KIND_CHANNEL) else {
                    return Err(util::not_found("channel", &ch.channel_arn));
                };
                // "The channel must be offline (not broadcasting)."
                if channel_is_live(call, &channel).await? {
                    return Err(util::conflict(format!(
                        "channel {} is live; it must be offline",
                        ch.channel_arn
                    )));
                }
                if in_use(call, &format!("ch:{}", ch.channel_arn)).await? {
                    return Err(util::conflict(format!(
                        "channel {} is used by another composition",
                        ch.channel_arn
                    )));
                }
                refs.index
                    .insert(format!("ch:{}", ch.channel_arn), "1".into());
                if let Some(enc) = &ch.encoder_configuration_arn {
                    check_encoder(call, enc, &mut refs).await?;
                }
            }
            (None, Some(s3)) => {
                let (sc, body) = call
                    .fetch::<v1::StorageConfiguration>(
                        records::KIND_STORAGE_CONFIGURATION,
                        &s3.storage_configuration_arn,
                        "storage configuration",
                    )
                    .await?;
                if call.deps.blob.head_bucket(&body.bucket_name).await.is_err() {
                    return Err(util::not_found("S3 bucket", &body.bucket_name));
                }
                refs.index
                    .insert(format!("sc:{}", s3.storage_configuration_arn), "1".into());
                refs.touched.push(sc);
                // The model allows exactly one encoder configuration per S3 destination.
                if s3.encoder_configuration_arns.len() != 1 {
                    return Err(validation(
                        "an s3 destination takes exactly one encoder configuration",
                    ));
                }
                for enc in &s3.encoder_configuration_arns {
                    check_encoder(call, enc, &mut refs).await?;
                }
                let rc = s3
                    .recording_configuration
                    .get_or_insert_with(Default::default);
                rc.format
                    .get_or_insert(t::RecordingConfigurationFormat::Hls);
                rc.hls_configuration
                    .get_or_insert_with(Default::default)
                    .target_segment_duration_seconds
                    .get_or_insert(limits::DEFAULT_COMPOSITION_SEGMENT_SECONDS);
                if let Some(thumbs) = &mut s3.thumbnail_configurations {
                    for th in thumbs {
                        th.target_interval_seconds
                            .get_or_insert(limits::DEFAULT_THUMBNAIL_INTERVAL_SECONDS);
                        let storage = th
                            .storage
                            .take()
                            .filter(|s| !s.is_empty())
                            .unwrap_or(vec![t::ThumbnailStorageType::Sequential]);
                        if storage.len() == 2 && storage[0] == storage[1] {
                            return Err(validation(
                                "thumbnailConfigurations.storage must not repeat a value",
                            ));
                        }
                        th.storage = Some(storage);
                    }
                }
            }
        }
        out.push(dst);
    }
    Ok((out, refs))
}

/// The record kinds of the IVS low-latency handlers (crate `reelay-api-ivs`, `records.rs`):
/// a channel, and the stream record the live plane writes (id = channel id) while the channel
/// is broadcasting. Named here rather than imported so API crates stay independent.
const IVS_KIND_CHANNEL: &str = "ivs:channel";
/// See [`IVS_KIND_CHANNEL`].
const IVS_KIND_STREAM: &str = "ivs:stream";

/// Whether an IVS channel is broadcasting now.
async fn channel_is_live(call: &Call<'_>, channel: &Record) -> Result<bool, ApiError> {
    let stream = call
        .deps
        .store
        .get(&call.scope, IVS_KIND_STREAM, &channel.id)
        .await
        .map_err(|e| util::store_err(e, "stream"))?;
    Ok(stream.is_some())
}

/// Whether someone publishes in the stage now (a connected participant of the active session
/// that published). Until media exists, nobody does.
async fn stage_has_publishers(call: &Call<'_>, stage_arn: &str) -> Result<bool, ApiError> {
    let Some(session) = crate::stage::active_session(call, stage_arn).await? else {
        return Ok(false);
    };
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_PARTICIPANT.into(),
                parent: Some(session),
                filters: vec![
                    Filter::Eq {
                        key: "state".into(),
                        value: "CONNECTED".into(),
                    },
                    Filter::Eq {
                        key: "published".into(),
                        value: "true".into(),
                    },
                ],
                limit: 1,
                page_token: None,
            },
        )
        .await
        .map_err(|e| util::store_err(e, "participant"))?;
    Ok(!page.items.is_empty())
}

fn digest(req: &t::StartCompositionRequest) -> String {
    let canonical = serde_json::json!({
        "stageArn": req.stage_arn,
        "layout": req.layout,
        "destinations": req.destinations,
        "tags": req.tags,
    });
    Sha256::digest(canonical.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The composition an idempotency token already started, if still visible.
async fn by_token(
    call: &Call<'_>,
    token: &str,
    request_digest: &str,
) -> Result<Option<t::StartCompositionResponse>, ApiError> {
    let Some((tr, tb)) = call
        .get::<v1::CompositionToken>(records::KIND_COMPOSITION_TOKEN, token)
        .await?
    else {
        return Ok(None);
    };
    let arn = call.arn("composition", &tb.composition_id);
    match load(call, &arn).await {
        Ok((_, c, d)) => {
            if c.request_digest != request_digest {
                return Err(util::conflict(
                    "idempotencyToken was already used with different parameters",
                ));
            }
            Ok(Some(t::StartCompositionResponse {
                composition: Some(view(call, &arn, c, &d).await?),
            }))
        }
        Err(e) if e.status == 404 => {
            // The composition is gone: the token is free again.
            let _ = call
                .deps
                .store
                .delete(
                    &call.scope,
                    records::KIND_COMPOSITION_TOKEN,
                    token,
                    Some(tr.version),
                )
                .await;
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

pub(crate) async fn start(
    call: &Call<'_>,
    req: t::StartCompositionRequest,
) -> Result<t::StartCompositionResponse, ApiError> {
    let request_digest = digest(&req);
    let token = req.idempotency_token.clone().filter(|s| !s.is_empty());
    if let Some(token) = &token
        && let Some(resp) = by_token(call, token, &request_digest).await?
    {
        return Ok(resp);
    }
    let (stage, _) = call
        .fetch::<v1::Stage>(records::KIND_STAGE, &req.stage_arn, "stage")
        .await?;
    let layout = normalize_layout(req.layout)?;
    let (destinations, refs) = normalize_destinations(call, req.destinations).await?;
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("composition", &id);
    let now = call.now_ms();
    let destinations: Vec<v1::Destination> = destinations
        .into_iter()
        .map(|configuration| {
            let dst_id = reelay_api_common::random_id(limits::ID_LEN);
            let recording_prefix = configuration
                .s3
                .as_ref()
                .map(|_| format!("{}/{id}/{dst_id}", stage.id));
            v1::Destination {
                id: dst_id,
                configuration,
                recording_prefix,
            }
        })
        .collect();
    let body = v1::Composition {
        schema_version: v1::SCHEMA_VERSION,
        stage_arn: req.stage_arn.clone(),
        layout,
        destinations,
        idempotency_token: token.clone(),
        request_digest: request_digest.clone(),
        start_ms: now,
        // "After a 1-minute timeout, if there are no participants in the stage when
        // StartComposition is called."
        idle_since_ms: if stage_has_publishers(call, &req.stage_arn).await? {
            None
        } else {
            Some(now)
        },
        stop_requested_ms: None,
        failed_ms: None,
        failed_destinations: Vec::new(),
    };
    let mut ops = Vec::new();
    if let Some(token) = &token {
        let tb = v1::CompositionToken {
            schema_version: v1::SCHEMA_VERSION,
            composition_id: id.clone(),
        };
        let token_arn = format!(
            "arn:reelay:ivs-realtime:{}:{}:composition-token/{token}",
            call.scope.region, call.scope.account
        );
        ops.push(TxOp::Insert(util::new_record(
            records::KIND_COMPOSITION_TOKEN,
            token,
            token_arn,
            None,
            BTreeMap::new(),
            &tb,
            BTreeMap::new(),
        )?));
    }
    ops.push(TxOp::AssertExists {
        kind: records::KIND_STAGE.into(),
        id: stage.id.clone(),
    });
    for r in &refs.touched {
        ops.push(TxOp::Update {
            kind: r.kind.clone(),
            id: r.id.clone(),
            expected_version: Some(r.version),
            update: util::update_of(r, &r.body)?,
        });
    }
    ops.push(TxOp::Insert(util::new_record(
        records::KIND_COMPOSITION,
        &id,
        arn.clone(),
        Some(req.stage_arn.clone()),
        refs.index,
        &body,
        req.tags.unwrap_or_default(),
    )?));
    match call.deps.store.transact(&call.scope, ops).await {
        Ok(_) => {}
        Err(StoreError::AlreadyExists) if token.is_some() => {
            // The same token won a race with us: answer what it started.
            if let Some(token) = &token
                && let Some(resp) = by_token(call, token, &request_digest).await?
            {
                return Ok(resp);
            }
            return Err(util::conflict(
                "a concurrent StartComposition used the same idempotencyToken",
            ));
        }
        Err(StoreError::ConditionFailed { .. }) => {
            return Err(util::not_found("stage", &req.stage_arn));
        }
        Err(StoreError::VersionMismatch { .. } | StoreError::NotFound) => {
            return Err(util::conflict(
                "a configuration used by this composition changed or was deleted meanwhile",
            ));
        }
        Err(e) => return Err(util::store_err(e, "composition")),
    }
    let d = derive(&body, now);
    Ok(t::StartCompositionResponse {
        composition: Some(view(call, &arn, body, &d).await?),
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetCompositionRequest,
) -> Result<t::GetCompositionResponse, ApiError> {
    let (_, c, d) = load(call, &req.arn).await?;
    Ok(t::GetCompositionResponse {
        composition: Some(view(call, &req.arn, c, &d).await?),
    })
}

pub(crate) async fn stop(
    call: &Call<'_>,
    req: t::StopCompositionRequest,
) -> Result<t::StopCompositionResponse, ApiError> {
    let (rec, mut c, d) = load(call, &req.arn).await?;
    // Stopping a composition that is already stopping or over changes nothing.
    if matches!(
        d.state,
        t::CompositionState::Starting | t::CompositionState::Active
    ) {
        c.stop_requested_ms = Some(call.now_ms());
        call.deps
            .store
            .update(
                &call.scope,
                records::KIND_COMPOSITION,
                &rec.id,
                Some(rec.version),
                util::update_of(&rec, &c)?,
            )
            .await
            .map_err(|e| util::store_err(e, "composition"))?;
    }
    Ok(t::StopCompositionResponse {})
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListCompositionsRequest,
) -> Result<t::ListCompositionsResponse, ApiError> {
    let mut filters = Vec::new();
    if let Some(enc) = &req.filter_by_encoder_configuration_arn {
        filters.push(Filter::Eq {
            key: format!("enc:{enc}"),
            value: "1".into(),
        });
    }
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_COMPOSITION.into(),
                parent: req.filter_by_stage_arn.clone(),
                filters,
                limit: util::page_size(req.max_results, 100, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "composition"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let c: v1::Composition = util::decode(&r)?;
        let c = refresh(call, &r, c).await?;
        let d = derive(&c, call.now_ms());
        if d.gone {
            collect(call, &r, &c).await;
            continue;
        }
        out.push(summary(call, &r.arn, c, &d).await?);
    }
    Ok(t::ListCompositionsResponse {
        compositions: out,
        next_token: page.next_token,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A failed unwrap is a failed test.
mod tests {
    use super::*;

    fn comp(start: i64) -> v1::Composition {
        v1::Composition {
            schema_version: 1,
            stage_arn: "arn:aws:ivs:us-east-1:1:stage/s".into(),
            layout: t::LayoutConfiguration::default(),
            destinations: vec![],
            idempotency_token: None,
            request_digest: String::new(),
            start_ms: start,
            idle_since_ms: Some(start),
            stop_requested_ms: None,
            failed_ms: None,
            failed_destinations: vec![],
        }
    }

    #[track_caller]
    fn check(c: &v1::Composition, at: i64, state: t::CompositionState, gone: bool) {
        let d = derive(c, at);
        assert_eq!((d.state, d.gone), (state, gone), "at {at}");
    }

    #[test]
    fn idle_composition_stops_after_a_minute_and_vanishes_five_minutes_later() {
        let c = comp(1_000_000);
        check(&c, 1_000_000, t::CompositionState::Starting, false);
        check(&c, 1_002_000, t::CompositionState::Active, false);
        check(&c, 1_059_999, t::CompositionState::Active, false);
        check(&c, 1_060_000, t::CompositionState::Stopping, false);
        check(&c, 1_062_000, t::CompositionState::Stopped, false);
        assert_eq!(derive(&c, 1_062_000).end_ms, Some(1_062_000));
        check(&c, 1_361_999, t::CompositionState::Stopped, false);
        check(&c, 1_362_000, t::CompositionState::Stopped, true);
    }

    #[test]
    fn publishers_keep_it_alive_until_stop_or_max_life() {
        let mut c = comp(0);
        c.idle_since_ms = None;
        check(&c, 3_600_000, t::CompositionState::Active, false);
        check(
            &c,
            limits::COMPOSITION_MAX_LIFE_MS,
            t::CompositionState::Stopping,
            false,
        );
        c.stop_requested_ms = Some(10_000);
        check(&c, 10_000, t::CompositionState::Stopping, false);
        check(&c, 12_000, t::CompositionState::Stopped, false);
    }

    #[test]
    fn failure_ends_it_at_once_and_stop_before_failure_wins() {
        let mut c = comp(0);
        c.failed_ms = Some(5_000);
        check(&c, 4_999, t::CompositionState::Active, false);
        check(&c, 5_000, t::CompositionState::Failed, false);
        check(
            &c,
            5_000 + limits::COMPOSITION_RETENTION_MS,
            t::CompositionState::Failed,
            true,
        );
        c.stop_requested_ms = Some(3_000);
        check(&c, 5_000, t::CompositionState::Stopped, false);
    }

    #[test]
    fn layouts_get_their_defaults_and_exclusive_choice() {
        let g = normalize_layout(None).unwrap().grid.unwrap();
        assert_eq!(g.grid_gap, Some(2));
        assert_eq!(g.video_aspect_ratio, Some(t::VideoAspectRatio::Video));
        assert_eq!(g.video_fill_mode, None);
        let p = normalize_layout(Some(t::LayoutConfiguration {
            grid: None,
            pip: Some(Default::default()),
        }))
        .unwrap()
        .pip
        .unwrap();
        assert_eq!(
            (p.grid_gap, p.pip_offset, p.pip_position),
            (Some(0), Some(0), Some(t::PipPosition::BottomRight))
        );
        assert_eq!(p.video_fill_mode, Some(t::VideoFillMode::Cover));
        let both = t::LayoutConfiguration {
            grid: Some(Default::default()),
            pip: Some(Default::default()),
        };
        assert_eq!(normalize_layout(Some(both)).unwrap_err().status, 400);
    }
}
