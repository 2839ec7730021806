//! Encoder configurations: how a composition renders its output.

use crate::limits;
use crate::records::{self, v1};
use crate::util::{self, Call, validation};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::ListQuery;
use std::collections::BTreeMap;

fn video_of(body: &v1::EncoderConfiguration) -> t::Video {
    t::Video {
        bitrate: Some(body.bitrate),
        framerate: Some(body.framerate),
        height: Some(body.height),
        width: Some(body.width),
    }
}

async fn view(
    call: &Call<'_>,
    arn: &str,
    body: v1::EncoderConfiguration,
) -> Result<t::EncoderConfiguration, ApiError> {
    Ok(t::EncoderConfiguration {
        arn: arn.to_string(),
        video: Some(video_of(&body)),
        name: Some(body.name),
        tags: Some(call.tags(arn).await?),
    })
}

pub(crate) async fn create(
    call: &Call<'_>,
    req: t::CreateEncoderConfigurationRequest,
) -> Result<t::CreateEncoderConfigurationResponse, ApiError> {
    let video = req.video.unwrap_or_default();
    let width = video.width.unwrap_or(limits::DEFAULT_WIDTH);
    let height = video.height.unwrap_or(limits::DEFAULT_HEIGHT);
    let framerate = video.framerate.unwrap_or(limits::DEFAULT_FRAMERATE);
    let bitrate = video.bitrate.unwrap_or(limits::DEFAULT_BITRATE);
    // The model bounds each value (width/height 2-1920, framerate 1-60, bitrate 1-8,500,000);
    // the documentation adds evenness and the pixel budget.
    if width % 2 != 0 || height % 2 != 0 {
        return Err(validation(format!(
            "video width and height must be even numbers, got {width}x{height}"
        )));
    }
    if i64::from(width) * i64::from(height) > limits::MAX_PIXELS {
        return Err(validation(format!(
            "video width times height must be at most {} pixels (1920x1080 or 1080x1920), got {width}x{height}",
            limits::MAX_PIXELS
        )));
    }
    if !framerate.is_finite() || !(1.0..=60.0).contains(&framerate) {
        return Err(validation("video framerate must be between 1 and 60"));
    }
    let n = call
        .deps
        .store
        .count(&call.scope, records::KIND_ENCODER_CONFIGURATION, None)
        .await
        .map_err(|e| util::store_err(e, "encoder configuration"))?;
    if n >= limits::MAX_ENCODER_CONFIGURATIONS {
        return Err(util::quota(format!(
            "an account can have at most {} encoder configurations per region",
            limits::MAX_ENCODER_CONFIGURATIONS
        )));
    }
    let id = reelay_api_common::random_id(limits::ID_LEN);
    let arn = call.arn("encoder-configuration", &id);
    let body = v1::EncoderConfiguration {
        schema_version: v1::SCHEMA_VERSION,
        name: req.name.unwrap_or_default(),
        width,
        height,
        framerate,
        bitrate,
    };
    let rec = util::new_record(
        records::KIND_ENCODER_CONFIGURATION,
        &id,
        arn.clone(),
        None,
        BTreeMap::new(),
        &body,
        req.tags.unwrap_or_default(),
    )?;
    call.deps
        .store
        .insert(&call.scope, rec)
        .await
        .map_err(|e| util::store_err(e, "encoder configuration"))?;
    Ok(t::CreateEncoderConfigurationResponse {
        encoder_configuration: Some(view(call, &arn, body).await?),
    })
}

pub(crate) async fn get(
    call: &Call<'_>,
    req: t::GetEncoderConfigurationRequest,
) -> Result<t::GetEncoderConfigurationResponse, ApiError> {
    let (_, body) = call
        .fetch(
            records::KIND_ENCODER_CONFIGURATION,
            &req.arn,
            "encoder configuration",
        )
        .await?;
    Ok(t::GetEncoderConfigurationResponse {
        encoder_configuration: Some(view(call, &req.arn, body).await?),
    })
}

pub(crate) async fn list(
    call: &Call<'_>,
    req: t::ListEncoderConfigurationsRequest,
) -> Result<t::ListEncoderConfigurationsResponse, ApiError> {
    let page = call
        .deps
        .store
        .list(
            &call.scope,
            &ListQuery {
                kind: records::KIND_ENCODER_CONFIGURATION.into(),
                parent: None,
                filters: vec![],
                limit: util::page_size(req.max_results, 100, 100),
                page_token: util::page_token(req.next_token),
            },
        )
        .await
        .map_err(|e| util::store_err(e, "encoder configuration"))?;
    let mut out = Vec::with_capacity(page.items.len());
    for r in page.items {
        let body: v1::EncoderConfiguration = util::decode(&r)?;
        out.push(t::EncoderConfigurationSummary {
            name: Some(body.name),
            tags: Some(call.tags(&r.arn).await?),
            arn: r.arn,
        });
    }
    Ok(t::ListEncoderConfigurationsResponse {
        encoder_configurations: out,
        next_token: page.next_token,
    })
}

pub(crate) async fn delete(
    call: &Call<'_>,
    req: t::DeleteEncoderConfigurationRequest,
) -> Result<t::DeleteEncoderConfigurationResponse, ApiError> {
    let (rec, _) = call
        .fetch::<v1::EncoderConfiguration>(
            records::KIND_ENCODER_CONFIGURATION,
            &req.arn,
            "encoder configuration",
        )
        .await?;
    // "Ensures that no Compositions are using this template; otherwise, returns an error."
    if crate::composition::in_use(call, &format!("enc:{}", req.arn)).await? {
        return Err(util::conflict(format!(
            "encoder configuration {} is used by a composition",
            req.arn
        )));
    }
    // The version check makes a StartComposition that raced with us (it touches the record)
    // turn this delete into a conflict rather than leave a composition without its encoder.
    call.deps
        .store
        .delete(
            &call.scope,
            records::KIND_ENCODER_CONFIGURATION,
            &rec.id,
            Some(rec.version),
        )
        .await
        .map_err(|e| util::store_err(e, "encoder configuration"))?;
    Ok(t::DeleteEncoderConfigurationResponse {})
}
