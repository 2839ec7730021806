//! The stream monitor: one task per live stream, beside its ingest connection, that
//!
//! - inserts timed metadata queued by `PutMetadata` (`ivs:timed-metadata` records) into the
//!   packaging, promptly on the in-process hint of `reelay_api_ivs::live_signal` and otherwise
//!   at a slow store poll (a record written by another process);
//! - watches for starvation: no audio or video sample for [`StateConfig::starvation_after`]
//!   while connected gives health `STARVING` and a `Starvation Start` event, the next sample
//!   `Starvation End` and `HEALTHY` again;
//! - writes health and `viewerCount` (viewers.rs) to the `ivs:stream` record, only when they
//!   change and at most once per [`VIEWER_UPDATE`] for counts;
//! - reads the channel's playback restriction policy at go-live.

use crate::session::StreamRecords;
use crate::viewers::Viewers;
use crate::{Live, LiveStream};
use bytes::Bytes;
use reelay_api_ivs::records::{
    KIND_PLAYBACK_RESTRICTION_POLICY, KIND_TIMED_METADATA, PlaybackRestrictionPolicyV1,
    TimedMetadataV1,
};
use reelay_aws::generated::ivs::types::StreamHealth;
use reelay_store::{ListQuery, StoreError};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

/// How often the monitor wakes up.
const TICK: Duration = Duration::from_millis(200);
/// Store poll for metadata without an in-process hint: every this many ticks.
const METADATA_POLL_TICKS: u64 = 10;
/// Queued metadata records read per pickup.
const METADATA_BATCH: usize = 50;
/// Shortest interval between two viewer-count writes of one stream.
pub(crate) const VIEWER_UPDATE: Duration = Duration::from_secs(1);
/// Default sliding window of viewer counting.
const DEFAULT_VIEWER_WINDOW_MS: u64 = 60_000;
/// Default silence before a connected stream is starving: a 2 s keyframe interval plus margin;
/// encoders send audio every ~20 ms, so any real stall shows quickly.
const DEFAULT_STARVATION_MS: u64 = 3_000;

/// Monotonic milliseconds since the process's first use of the live plane: the time base of
/// viewer counting.
pub(crate) fn now_ms() -> u64 {
    static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);
    u64::try_from(EPOCH.elapsed().as_millis()).unwrap_or(u64::MAX)
}

/// Settings of viewer counting and starvation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct StateConfig {
    /// `REELAY_LIVE_VIEWER_WINDOW_MS` (default 60 s).
    pub(crate) viewer_window_ms: u64,
    /// `REELAY_LIVE_STARVATION_MS` (default 3 s).
    pub(crate) starvation_after: Duration,
}

impl StateConfig {
    pub(crate) fn from_env() -> StateConfig {
        StateConfig::from_lookup(|n| std::env::var(n).ok())
    }

    fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> StateConfig {
        let ms = |name: &str, default: u64| {
            lookup(name)
                .and_then(|v| v.trim().parse::<u64>().ok())
                .filter(|v| *v > 0)
                .unwrap_or(default)
        };
        StateConfig {
            viewer_window_ms: ms("REELAY_LIVE_VIEWER_WINDOW_MS", DEFAULT_VIEWER_WINDOW_MS),
            starvation_after: Duration::from_millis(ms(
                "REELAY_LIVE_STARVATION_MS",
                DEFAULT_STARVATION_MS,
            )),
        }
    }
}

/// A playback restriction policy as the stream enforces it.
#[derive(Debug, Clone)]
pub(crate) struct Restriction {
    pub(crate) allowed_countries: Vec<String>,
    pub(crate) allowed_origins: Vec<String>,
    pub(crate) strict_origin: bool,
}

/// The stream's restriction policy, read once per stream.
pub(crate) async fn restriction<'a>(
    live: &Live,
    stream: &'a LiveStream,
) -> Result<Option<&'a Restriction>, StoreError> {
    let loaded = stream
        .restriction
        .get_or_try_init(|| async {
            if stream.restriction_policy_arn.is_empty() {
                return Ok::<_, StoreError>(None);
            }
            let id = stream
                .restriction_policy_arn
                .rsplit('/')
                .next()
                .unwrap_or_default();
            let rec = live
                .deps
                .store
                .get(&stream.scope, KIND_PLAYBACK_RESTRICTION_POLICY, id)
                .await?;
            // A policy deleted since (the API refuses while a channel uses it) restricts nothing.
            Ok(rec
                .and_then(|r| serde_json::from_value::<PlaybackRestrictionPolicyV1>(r.body).ok())
                .map(|p| Restriction {
                    allowed_countries: p.allowed_countries,
                    allowed_origins: p.allowed_origins,
                    strict_origin: p.enable_strict_origin_enforcement,
                }))
        })
        .await?;
    Ok(loaded.as_ref())
}

/// Starts the monitor of a stream that was just accepted.
pub(crate) fn spawn(live: Arc<Live>, stream: Arc<LiveStream>, records: StreamRecords) {
    tokio::spawn(run(live, stream, records));
}

async fn run(live: Arc<Live>, stream: Arc<LiveStream>, mut records: StreamRecords) {
    if let Err(e) = restriction(&live, &stream).await {
        tracing::warn!(error = %e, "could not read the playback restriction policy");
    }
    let cfg = live.state;
    let mut tick = tokio::time::interval(TICK);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut ticks = 0u64;
    let mut last_samples = stream.lock().samples_in();
    let mut last_media = Instant::now();
    let mut starving = false;
    let mut written = (StreamHealth::Healthy, 0i64);
    let mut last_write = Instant::now();
    loop {
        tick.tick().await;
        ticks += 1;
        if !stream.is_publishing() {
            break;
        }
        if reelay_api_ivs::live_signal::take_metadata_queued(&stream.channel_arn)
            || ticks.is_multiple_of(METADATA_POLL_TICKS)
        {
            insert_metadata(&live, &stream, &records).await;
        }
        let now = Instant::now();
        let samples = stream.lock().samples_in();
        if samples != last_samples {
            last_samples = samples;
            last_media = now;
            if starving {
                starving = false;
                records.event("Starvation End", None).await;
            }
        } else if !starving && now.duration_since(last_media) >= cfg.starvation_after {
            starving = true;
            records.event("Starvation Start", None).await;
        }
        let health = if starving {
            StreamHealth::Starving
        } else {
            StreamHealth::Healthy
        };
        let viewers = viewer_count(&stream.viewers, now_ms());
        let state = (health, viewers);
        if state != written
            && (health != written.0 || now.duration_since(last_write) >= VIEWER_UPDATE)
        {
            records.update_stream(health, viewers).await;
            written = state;
            last_write = now;
        }
    }
}

fn viewer_count(viewers: &std::sync::Mutex<Viewers>, now: u64) -> i64 {
    let n = viewers.lock().unwrap_or_else(|p| p.into_inner()).count(now);
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// Moves the queued metadata of the channel into the packaging (oldest first) and removes the
/// records; records queued for an earlier stream of the channel are removed unused.
async fn insert_metadata(live: &Live, stream: &LiveStream, records: &StreamRecords) {
    let store = live.deps.store.as_ref();
    let page = match store
        .list(
            &stream.scope,
            &ListQuery {
                kind: KIND_TIMED_METADATA.into(),
                parent: Some(stream.channel_arn.clone()),
                filters: Vec::new(),
                limit: METADATA_BATCH,
                page_token: None,
            },
        )
        .await
    {
        Ok(p) => p,
        Err(e) => {
            tracing::warn!(error = %e, "could not read queued timed metadata");
            return;
        }
    };
    let mut inserted = false;
    for rec in page.items {
        if let Ok(m) = serde_json::from_value::<TimedMetadataV1>(rec.body)
            && m.stream_id == records.stream_id
        {
            match reelay_format_ts::id3_txxx_tag("", &m.metadata) {
                Ok(tag) => {
                    if let Err(e) = stream.lock().push_timed_metadata(Bytes::from(tag)) {
                        tracing::warn!(error = %e, "timed metadata not inserted");
                    }
                    inserted = true;
                }
                Err(e) => tracing::warn!(error = %e, "timed metadata not encodable"),
            }
        }
        match store
            .delete(&stream.scope, KIND_TIMED_METADATA, &rec.id, None)
            .await
        {
            Ok(_) | Err(StoreError::NotFound) => {}
            Err(e) => tracing::warn!(error = %e, "could not remove queued timed metadata"),
        }
    }
    if inserted {
        stream.notify();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_come_from_the_environment() {
        let d = StateConfig::from_lookup(|_| None);
        assert_eq!(d.viewer_window_ms, DEFAULT_VIEWER_WINDOW_MS);
        assert_eq!(
            d.starvation_after,
            Duration::from_millis(DEFAULT_STARVATION_MS)
        );
        let c = StateConfig::from_lookup(|n| match n {
            "REELAY_LIVE_VIEWER_WINDOW_MS" => Some("2500".into()),
            "REELAY_LIVE_STARVATION_MS" => Some("0".into()),
            _ => None,
        });
        assert_eq!(c.viewer_window_ms, 2500);
        assert_eq!(
            c.starvation_after,
            Duration::from_millis(DEFAULT_STARVATION_MS)
        );
    }
}
