//! Recording configurations, playback restriction policies, ad configurations and failover
//! slate configurations: the resources a channel references.

use crate::common::*;
use crate::records::*;
use reelay_aws::generated::ivs::types::*;
use reelay_aws::{ApiError, Output};
use reelay_store::{NewRecord, StoreError, Update};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::collections::BTreeMap;

/// AWS's default thumbnail interval (model doc of `targetIntervalSeconds`).
const DEFAULT_THUMBNAIL_INTERVAL_SECONDS: i64 = 60;
/// AWS's default post-roll duration (model doc of `postRollConfiguration`).
const DEFAULT_POST_ROLL_SECONDS: i32 = 15;
/// Failover slate defaults (model docs): activation after 3 s, shown 3 to 60 s.
const DEFAULT_ACTIVATION_THRESHOLD_SECONDS: i32 = 3;
const DEFAULT_MIN_SLATE_SECONDS: i32 = 3;
const DEFAULT_MAX_SLATE_SECONDS: i32 = 60;

fn check_tags(call: &Call<'_>, tags: &Option<BTreeMap<String, String>>) -> Result<(), ApiError> {
    let limit = call.quotas().tags_per_resource;
    if tags.as_ref().is_some_and(|t| t.len() > limit) {
        return Err(validation(format!(
            "a resource can have at most {limit} tags"
        )));
    }
    Ok(())
}

/// Insert a new resource of `kind` after the quota check; returns its ARN.
async fn insert<T: Serialize>(
    call: &Call<'_>,
    kind: Kind,
    quota: u64,
    body: &T,
) -> Result<String, ApiError> {
    call.check_quota(kind, quota).await?;
    for _ in 0..WRITE_ATTEMPTS {
        let id = new_id();
        let arn = call.arn(kind, &id);
        let rec = NewRecord {
            kind: kind.store_kind().into(),
            id,
            arn: arn.clone(),
            parent: None,
            index: BTreeMap::new(),
            body: encode(body)?,
            schema_version: SCHEMA_VERSION,
            tags: BTreeMap::new(),
        };
        match call.store().insert(&call.scope, rec).await {
            Ok(_) => return Ok(arn),
            // A 62^12 id space makes a collision a curiosity, but a retry costs nothing.
            Err(StoreError::AlreadyExists) => continue,
            Err(e) => return Err(store_err(e, kind.label())),
        }
    }
    Err(internal("could not allocate a resource id"))
}

/// Read-modify-write of a resource with compare-and-set, retried when another writer won.
async fn modify<T, F>(call: &Call<'_>, kind: Kind, arn: &str, mut f: F) -> Result<T, ApiError>
where
    T: Serialize + DeserializeOwned,
    F: FnMut(&mut T) -> Result<(), ApiError>,
{
    for _ in 0..WRITE_ATTEMPTS {
        let cur = call.load::<T>(kind, arn).await?;
        let mut body = cur.body;
        f(&mut body)?;
        let update = Update {
            body: encode(&body)?,
            index: cur.rec.index.clone(),
            parent: cur.rec.parent.clone(),
            schema_version: SCHEMA_VERSION,
        };
        match call
            .store()
            .update(
                &call.scope,
                kind.store_kind(),
                &cur.rec.id,
                Some(cur.rec.version),
                update,
            )
            .await
        {
            Ok(_) => return Ok(body),
            Err(StoreError::VersionMismatch { .. }) => continue,
            Err(StoreError::NotFound) => return Err(not_found(kind, arn)),
            Err(e) => return Err(store_err(e, kind.label())),
        }
    }
    Err(conflict(format!(
        "the {} was modified concurrently; try again",
        kind.label()
    )))
}

/// Delete a resource that channels may reference through the index attribute `idx`:
/// `ConflictException` while one does.
async fn delete_unreferenced(
    call: &Call<'_>,
    kind: Kind,
    idx: &str,
    arn: &str,
) -> Result<(), ApiError> {
    for _ in 0..WRITE_ATTEMPTS {
        let cur = call.load::<Value>(kind, arn).await?;
        if call.is_referenced_by_channel(idx, &cur.rec.arn).await? {
            return Err(conflict(format!(
                "the {} is in use by a channel: {arn}",
                kind.label()
            )));
        }
        // The version guards against a channel that started referencing it after the check:
        // channel writes bump the version of what they reference.
        match call
            .store()
            .delete(
                &call.scope,
                kind.store_kind(),
                &cur.rec.id,
                Some(cur.rec.version),
            )
            .await
        {
            Ok(_) => return Ok(()),
            Err(StoreError::VersionMismatch { .. }) => continue,
            Err(StoreError::NotFound) => return Err(not_found(kind, arn)),
            Err(e) => return Err(store_err(e, kind.label())),
        }
    }
    Err(conflict(format!(
        "the {} was modified concurrently; try again",
        kind.label()
    )))
}

// --- Recording configurations ---------------------------------------------------------------

/// Thumbnail settings with AWS's defaults: INTERVAL every 60 s, SEQUENTIAL storage, source
/// resolution.
fn thumbnail_configuration(
    given: Option<ThumbnailConfiguration>,
) -> Result<ThumbnailConfiguration, ApiError> {
    let given = given.unwrap_or_default();
    let mode = given.recording_mode.unwrap_or(RecordingMode::Interval);
    // Model doc: targetIntervalSeconds "is configurable (and required) only if recordingMode is INTERVAL".
    if mode == RecordingMode::Disabled && given.target_interval_seconds.is_some() {
        return Err(validation(
            "thumbnailConfiguration.targetIntervalSeconds can be set only when recordingMode is INTERVAL",
        ));
    }
    let mut storage = given
        .storage
        .unwrap_or_else(|| vec![ThumbnailConfigurationStorage::Sequential]);
    if storage.is_empty() {
        return Err(validation(
            "thumbnailConfiguration.storage must name SEQUENTIAL, LATEST or both",
        ));
    }
    storage.sort();
    storage.dedup();
    Ok(ThumbnailConfiguration {
        recording_mode: Some(mode),
        resolution: given.resolution,
        storage: Some(storage),
        target_interval_seconds: (mode == RecordingMode::Interval).then(|| {
            given
                .target_interval_seconds
                .unwrap_or(DEFAULT_THUMBNAIL_INTERVAL_SECONDS)
        }),
    })
}

/// Rendition settings with AWS's default (ALL); CUSTOM needs at least one rendition.
fn rendition_configuration(
    given: Option<RenditionConfiguration>,
) -> Result<RenditionConfiguration, ApiError> {
    let given = given.unwrap_or_default();
    let selection = given
        .rendition_selection
        .unwrap_or(RenditionConfigurationRenditionSelection::All);
    let mut renditions = given.renditions.unwrap_or_default();
    if selection == RenditionConfigurationRenditionSelection::Custom && renditions.is_empty() {
        return Err(validation(
            "renditionConfiguration.renditions must not be empty when renditionSelection is CUSTOM",
        ));
    }
    renditions.sort();
    renditions.dedup();
    Ok(RenditionConfiguration {
        rendition_selection: Some(selection),
        renditions: Some(renditions),
    })
}

fn recording_configuration_json(
    arn: &str,
    rc: &RecordingConfigurationV1,
    state: RecordingConfigurationState,
) -> RecordingConfiguration {
    RecordingConfiguration {
        arn: arn.to_string(),
        destination_configuration: DestinationConfiguration {
            s3: Some(S3DestinationConfiguration {
                bucket_name: rc.bucket_name.clone(),
            }),
        },
        name: Some(rc.name.clone()),
        recording_reconnect_window_seconds: Some(rc.recording_reconnect_window_seconds),
        rendition_configuration: Some(rc.rendition_configuration.clone()),
        state,
        tags: Some(rc.tags.clone()),
        thumbnail_configuration: Some(rc.thumbnail_configuration.clone()),
    }
}

/// The wire form of a stored recording configuration. The bucket was checked at create time,
/// so once stored a configuration is ACTIVE.
pub(crate) fn stored_recording_configuration(
    arn: &str,
    rc: &RecordingConfigurationV1,
) -> RecordingConfiguration {
    recording_configuration_json(arn, rc, RecordingConfigurationState::Active)
}

pub(crate) async fn create_recording_configuration(
    call: &Call<'_>,
    req: CreateRecordingConfigurationRequest,
) -> Result<Output, ApiError> {
    check_tags(call, &req.tags)?;
    let Some(s3) = req.destination_configuration.s3 else {
        return Err(validation("destinationConfiguration.s3 is required"));
    };
    // The destination must be a bucket of reelay's own S3 endpoint, in the same region (AWS:
    // "Ensure that your S3 bucket is in the same region as the recording configuration").
    match call.svc.deps.blob.head_bucket(&s3.bucket_name).await {
        Ok(info) if info.region != call.ctx.region => {
            return Err(validation(format!(
                "destination bucket {} is in region {}, not {}",
                s3.bucket_name, info.region, call.ctx.region
            )));
        }
        Ok(_) => {}
        Err(
            reelay_blob::Error::NoSuchBucket { .. } | reelay_blob::Error::InvalidBucketName { .. },
        ) => {
            return Err(validation(format!(
                "destination bucket does not exist: {}",
                s3.bucket_name
            )));
        }
        Err(e) => {
            return Err(internal(format!(
                "cannot check the destination bucket: {e}"
            )));
        }
    }
    let body = RecordingConfigurationV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        bucket_name: s3.bucket_name,
        recording_reconnect_window_seconds: req.recording_reconnect_window_seconds.unwrap_or(0),
        thumbnail_configuration: thumbnail_configuration(req.thumbnail_configuration)?,
        rendition_configuration: rendition_configuration(req.rendition_configuration)?,
        tags: req.tags.unwrap_or_default(),
    };
    let arn = insert(
        call,
        Kind::RecordingConfiguration,
        call.quotas().recording_configurations,
        &body,
    )
    .await?;
    // AWS answers CREATING and the configuration turns ACTIVE shortly after (awscli example).
    let rc = recording_configuration_json(&arn, &body, RecordingConfigurationState::Creating);
    Output::json(&CreateRecordingConfigurationResponse {
        recording_configuration: Some(rc),
    })
}

pub(crate) async fn get_recording_configuration(
    call: &Call<'_>,
    req: GetRecordingConfigurationRequest,
) -> Result<Output, ApiError> {
    let rc = call
        .load::<RecordingConfigurationV1>(Kind::RecordingConfiguration, &req.arn)
        .await?;
    Output::json(&GetRecordingConfigurationResponse {
        recording_configuration: Some(stored_recording_configuration(&rc.rec.arn, &rc.body)),
    })
}

pub(crate) async fn list_recording_configurations(
    call: &Call<'_>,
    req: ListRecordingConfigurationsRequest,
) -> Result<Output, ApiError> {
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<RecordingConfigurationV1>(
            KIND_RECORDING_CONFIGURATION,
            None,
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let recording_configurations = items
        .iter()
        .map(|rc| RecordingConfigurationSummary {
            arn: rc.rec.arn.clone(),
            destination_configuration: DestinationConfiguration {
                s3: Some(S3DestinationConfiguration {
                    bucket_name: rc.body.bucket_name.clone(),
                }),
            },
            name: Some(rc.body.name.clone()),
            state: RecordingConfigurationState::Active,
            tags: Some(rc.body.tags.clone()),
        })
        .collect();
    Output::json(&ListRecordingConfigurationsResponse {
        recording_configurations,
        next_token: next,
    })
}

pub(crate) async fn delete_recording_configuration(
    call: &Call<'_>,
    req: DeleteRecordingConfigurationRequest,
) -> Result<Output, ApiError> {
    delete_unreferenced(
        call,
        Kind::RecordingConfiguration,
        IDX_RECORDING_CONFIGURATION,
        &req.arn,
    )
    .await?;
    Ok(Output::empty())
}

// --- Playback restriction policies ----------------------------------------------------------

/// ISO 3166-1 alpha-2 codes are two uppercase ASCII letters.
fn check_countries(countries: &[String]) -> Result<(), ApiError> {
    for c in countries {
        if c.len() != 2 || !c.bytes().all(|b| b.is_ascii_uppercase()) {
            return Err(validation(format!(
                "allowedCountries: {c:?} is not an ISO 3166-1 alpha-2 code"
            )));
        }
    }
    Ok(())
}

/// Origins as the `Origin` header carries them: `<scheme>://<host>[:<port>]`, with `*` allowed
/// as a host-prefix wildcard.
fn check_origins(origins: &[String]) -> Result<(), ApiError> {
    for o in origins {
        let ok = o.split_once("://").is_some_and(|(scheme, host)| {
            !scheme.is_empty()
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'-' || b == b'.')
                && !host.is_empty()
                && !host
                    .bytes()
                    .any(|b| b == b'/' || b == b'?' || b == b'#' || b.is_ascii_whitespace())
        });
        if !ok {
            return Err(validation(format!(
                "allowedOrigins: {o:?} is not an origin (scheme://host[:port])"
            )));
        }
    }
    Ok(())
}

fn policy_json(arn: &str, p: &PlaybackRestrictionPolicyV1) -> PlaybackRestrictionPolicy {
    PlaybackRestrictionPolicy {
        allowed_countries: p.allowed_countries.clone(),
        allowed_origins: p.allowed_origins.clone(),
        arn: arn.to_string(),
        enable_strict_origin_enforcement: Some(p.enable_strict_origin_enforcement),
        name: Some(p.name.clone()),
        tags: Some(p.tags.clone()),
    }
}

pub(crate) async fn create_playback_restriction_policy(
    call: &Call<'_>,
    req: CreatePlaybackRestrictionPolicyRequest,
) -> Result<Output, ApiError> {
    check_tags(call, &req.tags)?;
    let body = PlaybackRestrictionPolicyV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        allowed_countries: req.allowed_countries.unwrap_or_default(),
        allowed_origins: req.allowed_origins.unwrap_or_default(),
        enable_strict_origin_enforcement: req.enable_strict_origin_enforcement.unwrap_or(false),
        tags: req.tags.unwrap_or_default(),
    };
    check_countries(&body.allowed_countries)?;
    check_origins(&body.allowed_origins)?;
    let arn = insert(
        call,
        Kind::PlaybackRestrictionPolicy,
        call.quotas().playback_restriction_policies,
        &body,
    )
    .await?;
    Output::json(&CreatePlaybackRestrictionPolicyResponse {
        playback_restriction_policy: Some(policy_json(&arn, &body)),
    })
}

pub(crate) async fn get_playback_restriction_policy(
    call: &Call<'_>,
    req: GetPlaybackRestrictionPolicyRequest,
) -> Result<Output, ApiError> {
    let p = call
        .load::<PlaybackRestrictionPolicyV1>(Kind::PlaybackRestrictionPolicy, &req.arn)
        .await?;
    Output::json(&GetPlaybackRestrictionPolicyResponse {
        playback_restriction_policy: Some(policy_json(&p.rec.arn, &p.body)),
    })
}

pub(crate) async fn list_playback_restriction_policies(
    call: &Call<'_>,
    req: ListPlaybackRestrictionPoliciesRequest,
) -> Result<Output, ApiError> {
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<PlaybackRestrictionPolicyV1>(
            KIND_PLAYBACK_RESTRICTION_POLICY,
            None,
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let playback_restriction_policies = items
        .iter()
        .map(|p| PlaybackRestrictionPolicySummary {
            allowed_countries: p.body.allowed_countries.clone(),
            allowed_origins: p.body.allowed_origins.clone(),
            arn: p.rec.arn.clone(),
            enable_strict_origin_enforcement: Some(p.body.enable_strict_origin_enforcement),
            name: Some(p.body.name.clone()),
            tags: Some(p.body.tags.clone()),
        })
        .collect();
    Output::json(&ListPlaybackRestrictionPoliciesResponse {
        playback_restriction_policies,
        next_token: next,
    })
}

pub(crate) async fn update_playback_restriction_policy(
    call: &Call<'_>,
    req: UpdatePlaybackRestrictionPolicyRequest,
) -> Result<Output, ApiError> {
    if let Some(c) = &req.allowed_countries {
        check_countries(c)?;
    }
    if let Some(o) = &req.allowed_origins {
        check_origins(o)?;
    }
    let body = modify::<PlaybackRestrictionPolicyV1, _>(
        call,
        Kind::PlaybackRestrictionPolicy,
        &req.arn,
        |p| {
            if let Some(v) = &req.allowed_countries {
                p.allowed_countries = v.clone();
            }
            if let Some(v) = &req.allowed_origins {
                p.allowed_origins = v.clone();
            }
            if let Some(v) = req.enable_strict_origin_enforcement {
                p.enable_strict_origin_enforcement = v;
            }
            if let Some(v) = &req.name {
                p.name = v.clone();
            }
            Ok(())
        },
    )
    .await?;
    Output::json(&UpdatePlaybackRestrictionPolicyResponse {
        playback_restriction_policy: Some(policy_json(&req.arn, &body)),
    })
}

pub(crate) async fn delete_playback_restriction_policy(
    call: &Call<'_>,
    req: DeletePlaybackRestrictionPolicyRequest,
) -> Result<Output, ApiError> {
    delete_unreferenced(
        call,
        Kind::PlaybackRestrictionPolicy,
        IDX_PLAYBACK_RESTRICTION_POLICY,
        &req.arn,
    )
    .await?;
    Ok(Output::empty())
}

// --- Ad configurations ----------------------------------------------------------------------

fn media_tailor_arns(
    configs: &[MediaTailorPlaybackConfiguration],
) -> Result<Vec<String>, ApiError> {
    configs
        .iter()
        .map(|c| match &c.playback_configuration_arn {
            Some(a) if !a.is_empty() => Ok(a.clone()),
            _ => Err(validation(
                "mediaTailorPlaybackConfigurations: every item needs a playbackConfigurationArn",
            )),
        })
        .collect()
}

fn ad_configuration_json(arn: &str, a: &AdConfigurationV1) -> AdConfiguration {
    AdConfiguration {
        arn: arn.to_string(),
        media_tailor_playback_configurations: a
            .media_tailor_playback_configuration_arns
            .iter()
            .map(|x| MediaTailorPlaybackConfiguration {
                playback_configuration_arn: Some(x.clone()),
            })
            .collect(),
        name: Some(a.name.clone()),
        post_roll_configuration: Some(PostRollConfiguration {
            duration_seconds: a.post_roll_duration_seconds,
            enabled: a.post_roll_enabled,
        }),
        tags: Some(a.tags.clone()),
    }
}

pub(crate) async fn create_ad_configuration(
    call: &Call<'_>,
    req: CreateAdConfigurationRequest,
) -> Result<Output, ApiError> {
    check_tags(call, &req.tags)?;
    let post_roll = req.post_roll_configuration;
    let body = AdConfigurationV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        media_tailor_playback_configuration_arns: media_tailor_arns(
            &req.media_tailor_playback_configurations,
        )?,
        post_roll_enabled: post_roll.as_ref().is_some_and(|p| p.enabled),
        post_roll_duration_seconds: post_roll
            .as_ref()
            .map_or(DEFAULT_POST_ROLL_SECONDS, |p| p.duration_seconds),
        tags: req.tags.unwrap_or_default(),
    };
    let arn = insert(
        call,
        Kind::AdConfiguration,
        call.quotas().ad_configurations,
        &body,
    )
    .await?;
    Output::json(&CreateAdConfigurationResponse {
        ad_configuration: ad_configuration_json(&arn, &body),
    })
}

pub(crate) async fn get_ad_configuration(
    call: &Call<'_>,
    req: GetAdConfigurationRequest,
) -> Result<Output, ApiError> {
    let a = call
        .load::<AdConfigurationV1>(Kind::AdConfiguration, &req.arn)
        .await?;
    Output::json(&GetAdConfigurationResponse {
        ad_configuration: Some(ad_configuration_json(&a.rec.arn, &a.body)),
    })
}

pub(crate) async fn list_ad_configurations(
    call: &Call<'_>,
    req: ListAdConfigurationsRequest,
) -> Result<Output, ApiError> {
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<AdConfigurationV1>(
            KIND_AD_CONFIGURATION,
            None,
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let ad_configurations = items
        .iter()
        .map(|a| {
            let full = ad_configuration_json(&a.rec.arn, &a.body);
            AdConfigurationSummary {
                arn: full.arn,
                media_tailor_playback_configurations: full.media_tailor_playback_configurations,
                name: full.name,
                post_roll_configuration: full.post_roll_configuration,
                tags: full.tags,
            }
        })
        .collect();
    Output::json(&ListAdConfigurationsResponse {
        ad_configurations,
        next_token: next,
    })
}

pub(crate) async fn update_ad_configuration(
    call: &Call<'_>,
    req: UpdateAdConfigurationRequest,
) -> Result<Output, ApiError> {
    let arns = req
        .media_tailor_playback_configurations
        .as_deref()
        .map(media_tailor_arns)
        .transpose()?;
    let body = modify::<AdConfigurationV1, _>(call, Kind::AdConfiguration, &req.arn, |a| {
        if let Some(v) = &arns {
            a.media_tailor_playback_configuration_arns = v.clone();
        }
        if let Some(v) = &req.name {
            a.name = v.clone();
        }
        if let Some(p) = &req.post_roll_configuration {
            a.post_roll_enabled = p.enabled;
            a.post_roll_duration_seconds = p.duration_seconds;
        }
        Ok(())
    })
    .await?;
    Output::json(&UpdateAdConfigurationResponse {
        ad_configuration: ad_configuration_json(&req.arn, &body),
    })
}

pub(crate) async fn delete_ad_configuration(
    call: &Call<'_>,
    req: DeleteAdConfigurationRequest,
) -> Result<Output, ApiError> {
    delete_unreferenced(call, Kind::AdConfiguration, IDX_AD_CONFIGURATION, &req.arn).await?;
    Ok(Output::empty())
}

// --- Failover slate configurations ----------------------------------------------------------

fn failover_json(
    arn: &str,
    f: &FailoverSlateConfigurationV1,
    state: FailoverSlateConfigurationState,
) -> FailoverSlateConfiguration {
    FailoverSlateConfiguration {
        activation_threshold_seconds: Some(f.activation_threshold_seconds),
        arn: arn.to_string(),
        max_slate_display_seconds: Some(f.max_slate_display_seconds),
        min_slate_display_seconds: Some(f.min_slate_display_seconds),
        name: Some(f.name.clone()),
        state,
        tags: Some(f.tags.clone()),
    }
}

/// The model's ranges (min 3–10, max 60–180) cannot cross, but the rule is the point.
fn check_slate_times(f: &FailoverSlateConfigurationV1) -> Result<(), ApiError> {
    if f.min_slate_display_seconds > f.max_slate_display_seconds {
        return Err(validation(
            "minSlateDisplaySeconds must not exceed maxSlateDisplaySeconds",
        ));
    }
    Ok(())
}

pub(crate) async fn create_failover_slate_configuration(
    call: &Call<'_>,
    req: CreateFailoverSlateConfigurationRequest,
) -> Result<Output, ApiError> {
    check_tags(call, &req.tags)?;
    let body = FailoverSlateConfigurationV1 {
        schema_version: SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        activation_threshold_seconds: req
            .activation_threshold_seconds
            .unwrap_or(DEFAULT_ACTIVATION_THRESHOLD_SECONDS),
        min_slate_display_seconds: req
            .min_slate_display_seconds
            .unwrap_or(DEFAULT_MIN_SLATE_SECONDS),
        max_slate_display_seconds: req
            .max_slate_display_seconds
            .unwrap_or(DEFAULT_MAX_SLATE_SECONDS),
        tags: req.tags.unwrap_or_default(),
    };
    check_slate_times(&body)?;
    let arn = insert(
        call,
        Kind::FailoverSlateConfiguration,
        call.quotas().failover_slate_configurations,
        &body,
    )
    .await?;
    // Like recording configurations, the slate answers CREATING first and CREATED once stored.
    Output::json(&CreateFailoverSlateConfigurationResponse {
        failover_slate_configuration: failover_json(
            &arn,
            &body,
            FailoverSlateConfigurationState::Creating,
        ),
    })
}

/// The wire form of a stored failover slate configuration.
pub(crate) fn stored_failover_slate(
    arn: &str,
    f: &FailoverSlateConfigurationV1,
) -> FailoverSlateConfiguration {
    failover_json(arn, f, FailoverSlateConfigurationState::Created)
}

pub(crate) async fn get_failover_slate_configuration(
    call: &Call<'_>,
    req: GetFailoverSlateConfigurationRequest,
) -> Result<Output, ApiError> {
    let f = call
        .load::<FailoverSlateConfigurationV1>(Kind::FailoverSlateConfiguration, &req.arn)
        .await?;
    Output::json(&GetFailoverSlateConfigurationResponse {
        failover_slate_configuration: stored_failover_slate(&f.rec.arn, &f.body),
    })
}

pub(crate) async fn list_failover_slate_configurations(
    call: &Call<'_>,
    req: ListFailoverSlateConfigurationsRequest,
) -> Result<Output, ApiError> {
    let limit = page_limit(req.max_results, 100, 100);
    let (items, next) = call
        .list::<FailoverSlateConfigurationV1>(
            KIND_FAILOVER_SLATE_CONFIGURATION,
            None,
            Vec::new(),
            limit,
            req.next_token,
        )
        .await?;
    let failover_slate_configurations = items
        .iter()
        .map(|f| {
            let full = stored_failover_slate(&f.rec.arn, &f.body);
            FailoverSlateConfigurationSummary {
                activation_threshold_seconds: full.activation_threshold_seconds,
                arn: full.arn,
                max_slate_display_seconds: full.max_slate_display_seconds,
                min_slate_display_seconds: full.min_slate_display_seconds,
                name: full.name,
                state: full.state,
                tags: full.tags,
            }
        })
        .collect();
    Output::json(&ListFailoverSlateConfigurationsResponse {
        failover_slate_configurations,
        next_token: next,
    })
}

pub(crate) async fn update_failover_slate_configuration(
    call: &Call<'_>,
    req: UpdateFailoverSlateConfigurationRequest,
) -> Result<Output, ApiError> {
    let body = modify::<FailoverSlateConfigurationV1, _>(
        call,
        Kind::FailoverSlateConfiguration,
        &req.arn,
        |f| {
            if let Some(v) = req.activation_threshold_seconds {
                f.activation_threshold_seconds = v;
            }
            if let Some(v) = req.min_slate_display_seconds {
                f.min_slate_display_seconds = v;
            }
            if let Some(v) = req.max_slate_display_seconds {
                f.max_slate_display_seconds = v;
            }
            if let Some(v) = &req.name {
                f.name = v.clone();
            }
            check_slate_times(f)
        },
    )
    .await?;
    Output::json(&UpdateFailoverSlateConfigurationResponse {
        failover_slate_configuration: failover_json(
            &req.arn,
            &body,
            FailoverSlateConfigurationState::Updating,
        ),
    })
}

pub(crate) async fn delete_failover_slate_configuration(
    call: &Call<'_>,
    req: DeleteFailoverSlateConfigurationRequest,
) -> Result<Output, ApiError> {
    delete_unreferenced(
        call,
        Kind::FailoverSlateConfiguration,
        IDX_FAILOVER_SLATE_CONFIGURATION,
        &req.arn,
    )
    .await?;
    Ok(Output::empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thumbnail_defaults_and_rules() {
        let d = thumbnail_configuration(None).unwrap();
        assert_eq!(d.recording_mode, Some(RecordingMode::Interval));
        assert_eq!(d.target_interval_seconds, Some(60));
        assert_eq!(
            d.storage,
            Some(vec![ThumbnailConfigurationStorage::Sequential])
        );
        assert_eq!(d.resolution, None);
        let bad = ThumbnailConfiguration {
            recording_mode: Some(RecordingMode::Disabled),
            target_interval_seconds: Some(5),
            ..Default::default()
        };
        assert!(thumbnail_configuration(Some(bad)).is_err());
        let off = ThumbnailConfiguration {
            recording_mode: Some(RecordingMode::Disabled),
            ..Default::default()
        };
        assert_eq!(
            thumbnail_configuration(Some(off))
                .unwrap()
                .target_interval_seconds,
            None
        );
        let empty = ThumbnailConfiguration {
            storage: Some(vec![]),
            ..Default::default()
        };
        assert!(thumbnail_configuration(Some(empty)).is_err());
    }

    #[test]
    fn rendition_rules() {
        let d = rendition_configuration(None).unwrap();
        assert_eq!(
            d.rendition_selection,
            Some(RenditionConfigurationRenditionSelection::All)
        );
        let custom = RenditionConfiguration {
            rendition_selection: Some(RenditionConfigurationRenditionSelection::Custom),
            renditions: None,
        };
        assert!(rendition_configuration(Some(custom)).is_err());
    }

    #[test]
    fn countries_and_origins() {
        assert!(check_countries(&["US".into(), "MX".into()]).is_ok());
        assert!(check_countries(&["us".into()]).is_err());
        assert!(check_countries(&["U1".into()]).is_err());
        assert!(
            check_origins(&[
                "https://www.example.com".into(),
                "http://localhost:8080".into()
            ])
            .is_ok()
        );
        assert!(check_origins(&["https://*.example.com".into()]).is_ok());
        assert!(check_origins(&["example.com".into()]).is_err());
        assert!(check_origins(&["https://example.com/path".into()]).is_err());
        assert!(check_origins(&["https://".into()]).is_err());
    }
}
