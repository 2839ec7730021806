//! Recording to S3 (ivs.md §8): a channel with a recording configuration has each session
//! written to the configuration's bucket on reelay's own S3 endpoint, in IVS's layout:
//!
//! ```text
//! ivs/v1/<account>/<channel id>/<y>/<m>/<d>/<h>/<mi>/<recording id>/
//!   events/recording-started.json, events/recording-ended.json
//!   media/hls/master.m3u8, media/hls/byte-range-multivariant.m3u8
//!   media/hls/<rendition>/playlist.m3u8, byte-range-variant.m3u8, <n>.ts (or init<k>.mp4 + <n>.mp4)
//!   media/thumbnails/<rendition>/thumb<n>.jpg        (SEQUENTIAL)
//!   media/latest_thumbnail/<rendition>/thumb.jpg     (LATEST, overwritten)
//! ```
//!
//! Nothing here runs on the packaging path: a collector task per session wakes on the
//! stream's progress notifications, copies (reference-counts) completed segments out of the
//! packager, and hands object writes to the recording's writer task through a bounded queue.
//! A slow object store therefore only delays the collector; thumbnails are dropped first
//! (they are queued only while the queue is at most half full), and a segment that cannot be
//! written (it left the packager's window before the collector got it, or its PUT failed)
//! turns the recording's status into `RECORDING_ENDED_WITH_FAILURE`.
//!
//! Reconnect window (`recordingReconnectWindowSeconds`): when a session ends, its recording
//! lingers for the window; a new session on the same channel whose video has the same codecs
//! and size joins it (after an `EXT-X-DISCONTINUITY`) instead of starting a new prefix. The
//! recording ends, and `recording-ended.json` is written, once the window passes without one.
//!
//! Events (ivs.md §7, detail-type `IVS Recording State Change`): `Recording Start` once
//! `recording-started.json` is written (`Recording Start Failure` when it, or the recording
//! configuration, cannot be), `Recording End` once `recording-ended.json` is (`Recording End
//! Failure` when the recording ended with failure). Each goes to the event log and to the
//! `truncatedEvents` of the session concerned: the first session for the start, the last one
//! for the end, which has usually ended by then ([`StreamRecords::recording_event`]).

use crate::LiveStream;
use crate::session::StreamRecords;
use bytes::Bytes;
use reelay_api_common::Deps;
use reelay_api_ivs::ingest::ResolvedKey;
use reelay_api_ivs::records::RecordingConfigurationV1;
use reelay_aws::generated::ivs::types::{
    RecordingMode, ThumbnailConfigurationResolution, ThumbnailConfigurationStorage,
};
use reelay_blob::ObjectAttrs;
use reelay_manifest_hls::{
    ByteRange, Map, MediaPlaylist, MediaSegment, MultivariantPlaylist, PlaylistType, VariantStream,
};
use reelay_store::Scope;
use reelay_thumbnail::{Keyframe, Resolution};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

/// Object writes waiting for the writer task.
const QUEUE: usize = 32;
/// IVS merges at most this many streams into one recording (ivs.md §8).
const MAX_MERGED_STREAMS: u32 = 20;
/// A merged recording gets a new prefix after this long (ivs.md §8).
const MAX_MERGED_AGE: time::Duration = time::Duration::hours(48);
/// The collector re-checks the packager at least this often, in case a wake-up was missed.
const POLL: Duration = Duration::from_millis(500);
/// Length of a recording id (`j8Z9O91ndcVs` in the documentation's example).
const RECORDING_ID_LEN: usize = 12;

/// The recordings of this process by channel ARN: live ones and those lingering in their
/// reconnect window.
#[derive(Default)]
pub(crate) struct Recordings {
    by_channel: Mutex<HashMap<String, Arc<Recording>>>,
}

impl Recordings {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<Recording>>> {
        self.by_channel.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Starts recording `stream` when its channel (as at go-live) names a recording configuration.
pub(crate) fn attach(
    recordings: &Arc<Recordings>,
    deps: &Deps,
    key: &ResolvedKey,
    stream: &Arc<LiveStream>,
    records: &StreamRecords,
) {
    let arn = key.channel.recording_configuration_arn.clone();
    if arn.is_empty() {
        return;
    }
    let channel = ChannelRef {
        scope: key.scope.clone(),
        channel_id: key.channel_id.clone(),
        channel_arn: key.channel_arn.clone(),
    };
    tokio::spawn(collect(
        recordings.clone(),
        deps.clone(),
        channel,
        arn,
        stream.clone(),
        records.clone(),
    ));
}

#[derive(Debug, Clone)]
struct ChannelRef {
    scope: Scope,
    channel_id: String,
    channel_arn: String,
}

/// What the packager had that the collector has not taken yet.
struct Taken {
    segments: Vec<crate::packager::Segment>,
    /// Sequence numbers that left the packager before the collector saw them.
    lost: u64,
    keyframe: Option<(u64, i64, Bytes, Bytes)>,
    init: Option<Bytes>,
    codecs: Option<String>,
    ended: bool,
}

/// One session's collector: from the first segment to the end of the stream.
async fn collect(
    recordings: Arc<Recordings>,
    deps: Deps,
    channel: ChannelRef,
    config_arn: String,
    stream: Arc<LiveStream>,
    records: StreamRecords,
) {
    let config = match deps.store.get_by_arn(&channel.scope, &config_arn).await {
        Ok(Some(rec)) => match serde_json::from_value::<RecordingConfigurationV1>(rec.body) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "unreadable recording configuration");
                None
            }
        },
        Ok(None) => {
            tracing::warn!(arn = %config_arn, "recording configuration not found; not recording");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, "could not read the recording configuration");
            None
        }
    };
    let Some(config) = config else {
        let mut detail = serde_json::Map::new();
        detail.insert(
            "recording_status_reason".into(),
            json!("the recording configuration could not be read"),
        );
        records
            .recording_event("Recording Start Failure", &detail)
            .await;
        return;
    };
    // Keyframes serve thumbnails and, without encoder metadata, the picture size.
    stream.lock().set_keep_keyframes(true);
    let mut next_seq: u64 = 0;
    let mut recording: Option<Arc<Recording>> = None;
    let mut thumbs = ThumbnailClock::new(&config);
    loop {
        let notified = stream.changed.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let taken = take(&stream, &mut next_seq);
        if recording.is_none() && !taken.segments.is_empty() {
            let rendition = rendition(&stream, &taken).await;
            recording = Some(join_or_create(
                &recordings,
                &deps,
                &channel,
                &config,
                rendition,
                &records,
            ));
        }
        if let Some(rec) = &recording {
            if taken.lost > 0 {
                rec.fail(format!(
                    "{} segment(s) left the live window before they could be recorded",
                    taken.lost
                ));
            }
            if let Some(init) = &taken.init {
                rec.session_init(init).await;
            }
            for seg in &taken.segments {
                rec.add_segment(seg).await;
            }
            if let Some((n, ms, data, avcc)) = taken.keyframe
                && thumbs.due(n, ms)
            {
                rec.thumbnail(avcc, data);
            }
        }
        if taken.ended {
            if let Some(rec) = recording.take() {
                rec.session_ended(&recordings).await;
            }
            return;
        }
        let _ = tokio::time::timeout(POLL, notified).await;
    }
}

fn take(stream: &LiveStream, next_seq: &mut u64) -> Taken {
    let pk = stream.lock();
    let mut segments = Vec::new();
    let mut lost = 0;
    if let Some(last) = pk.last_sequence() {
        while *next_seq <= last {
            match pk.segment(*next_seq) {
                Some(seg) => segments.push(seg.clone()),
                None => lost += 1,
            }
            *next_seq += 1;
        }
    }
    Taken {
        segments,
        lost,
        keyframe: pk.latest_keyframe(),
        init: pk.init_segment(),
        codecs: pk.codecs(),
        ended: pk.is_ended(),
    }
}

/// Decides which keyframes become thumbnails: one per `targetIntervalSeconds` of media.
struct ThumbnailClock {
    interval_ms: Option<i64>,
    last_keyframe: Option<u64>,
    last_ms: Option<i64>,
}

impl ThumbnailClock {
    fn new(config: &RecordingConfigurationV1) -> ThumbnailClock {
        let t = &config.thumbnail_configuration;
        let enabled = t.recording_mode != Some(RecordingMode::Disabled)
            && t.storage.as_ref().is_some_and(|s| !s.is_empty());
        let secs = t.target_interval_seconds.unwrap_or(60).clamp(1, 60);
        ThumbnailClock {
            interval_ms: enabled.then_some(secs * 1000),
            last_keyframe: None,
            last_ms: None,
        }
    }

    fn due(&mut self, n: u64, ms: i64) -> bool {
        let Some(interval) = self.interval_ms else {
            return false;
        };
        if self.last_keyframe == Some(n) {
            return false;
        }
        self.last_keyframe = Some(n);
        // A keyframe up to 10 ms early still counts: encoders round frame times.
        if self.last_ms.is_some_and(|last| ms - last < interval - 10) {
            return false;
        }
        self.last_ms = Some(ms);
        true
    }
}

/// The one rendition reelay records (the source: there is no transcoding ladder).
#[derive(Debug, Clone, PartialEq)]
struct Rendition {
    name: String,
    width: u64,
    height: u64,
    frame_rate: Option<f64>,
    codecs: Option<String>,
}

async fn rendition(stream: &LiveStream, taken: &Taken) -> Rendition {
    let info = stream.info();
    let (mut width, mut height) = (info.width.unwrap_or(0), info.height.unwrap_or(0));
    if (width == 0 || height == 0)
        && let Some((_, _, data, avcc)) = taken.keyframe.clone()
    {
        // No encoder metadata (e.g. SRT): the decoded keyframe gives the size.
        let decoded = tokio::task::spawn_blocking(move || {
            reelay_thumbnail::thumbnail(
                Keyframe::Avcc {
                    config: &avcc,
                    data: &data,
                },
                Resolution::Source,
            )
        })
        .await;
        if let Ok(Ok(t)) = decoded {
            (width, height) = (u64::from(t.width), u64::from(t.height));
        }
    }
    let name = match (height, info.frame_rate) {
        (0, _) => "source".to_string(),
        (h, Some(fps)) if fps > 0.0 => format!("{h}p{}", fps.round() as u64),
        (h, _) => format!("{h}p"),
    };
    Rendition {
        name,
        width,
        height,
        frame_rate: info.frame_rate,
        codecs: taken.codecs.clone(),
    }
}

/// The S3 prefix of a recording (ivs.md §8): UTC, no zero padding.
fn prefix(account: &str, channel_id: &str, at: OffsetDateTime, recording_id: &str) -> String {
    let t = at.to_offset(time::UtcOffset::UTC);
    format!(
        "ivs/v1/{account}/{channel_id}/{}/{}/{}/{}/{}/{recording_id}",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute()
    )
}

fn rfc3339(t: OffsetDateTime) -> String {
    reelay_aws::Timestamp(t).to_rfc3339()
}

fn join_or_create(
    recordings: &Arc<Recordings>,
    deps: &Deps,
    channel: &ChannelRef,
    config: &RecordingConfigurationV1,
    rendition: Rendition,
    records: &StreamRecords,
) -> Arc<Recording> {
    let now = deps.clock.now();
    let mut map = recordings.map();
    if let Some(rec) = map.get(&channel.channel_arn) {
        let mut st = rec.state();
        let compatible = st.rendition.codecs == rendition.codecs
            && st.rendition.width == rendition.width
            && st.rendition.height == rendition.height;
        if st.lingering
            && !st.finished
            && compatible
            && st.streams < MAX_MERGED_STREAMS
            && now - rec.started_at < MAX_MERGED_AGE
        {
            st.lingering = false;
            st.generation += 1;
            st.streams += 1;
            st.discontinuity = true;
            drop(st);
            rec.sessions().push(records.clone());
            tracing::info!(prefix = %rec.prefix, "session joins the recording (reconnect window)");
            return rec.clone();
        }
    }
    // A lingering recording that cannot take this session ends now.
    if let Some(old) = map.remove(&channel.channel_arn) {
        tokio::spawn(async move { old.finish().await });
    }
    let rec = Recording::start(deps, channel, config, rendition, now, records);
    map.insert(channel.channel_arn.clone(), rec.clone());
    rec
}

/// One object write.
enum Job {
    Put {
        key: String,
        body: Bytes,
        content_type: &'static str,
        /// A failure makes the recording fail (segments, playlists, JSON); thumbnails do not.
        essential: bool,
    },
    Thumbnail {
        avcc: Bytes,
        data: Bytes,
        resolution: Resolution,
        keys: Vec<String>,
    },
    /// `recording-started.json`, then `Recording Start` (or `Recording Start Failure`) in
    /// `records`' session.
    Started {
        key: String,
        body: Bytes,
        records: StreamRecords,
        detail: serde_json::Map<String, Value>,
    },
    /// `recording-ended.json`, completed with the failure state the writer knows, then
    /// `Recording End` (or `Recording End Failure`) in `records`' session.
    Ended {
        key: String,
        value: Value,
        records: StreamRecords,
        detail: serde_json::Map<String, Value>,
    },
    Flush(oneshot::Sender<()>),
}

/// One segment as the recorded playlists list it.
#[derive(Debug, Clone)]
struct RecSegment {
    uri: String,
    duration: Duration,
    discontinuity: bool,
    map: Option<String>,
    /// Byte ranges, each starting at a keyframe: (offset, length, duration).
    ranges: Vec<(u64, u64, Duration)>,
}

#[derive(Debug)]
struct RecState {
    rendition: Rendition,
    segments: Vec<RecSegment>,
    next_segment: u64,
    next_thumbnail: u64,
    n_inits: u32,
    current_map: Option<String>,
    discontinuity: bool,
    bytes_total: u64,
    duration_total: Duration,
    peak_bandwidth: u64,
    streams: u32,
    generation: u64,
    lingering: bool,
    finished: bool,
    /// Segments listed in the last playlists written.
    listed: usize,
}

struct Recording {
    deps: Deps,
    channel: ChannelRef,
    config: RecordingConfigurationV1,
    prefix: String,
    recording_id: String,
    started_at: OffsetDateTime,
    thumbnail_resolution: Resolution,
    tx: mpsc::Sender<Job>,
    failure: Arc<Mutex<Option<String>>>,
    state: Mutex<RecState>,
    /// The sessions recorded, oldest first (at most [`MAX_MERGED_STREAMS`]).
    sessions: Mutex<Vec<StreamRecords>>,
}

fn content_type(uri: &str) -> &'static str {
    if uri.ends_with(".ts") {
        "video/MP2T"
    } else if uri.ends_with(".m3u8") {
        "application/x-mpegURL"
    } else if uri.ends_with(".json") {
        "application/json"
    } else if uri.ends_with(".jpg") {
        "image/jpeg"
    } else {
        "video/mp4"
    }
}

impl Recording {
    fn start(
        deps: &Deps,
        channel: &ChannelRef,
        config: &RecordingConfigurationV1,
        rendition: Rendition,
        now: OffsetDateTime,
        records: &StreamRecords,
    ) -> Arc<Recording> {
        let recording_id = reelay_api_common::random_id(RECORDING_ID_LEN);
        let prefix = prefix(
            &channel.scope.account,
            &channel.channel_id,
            now,
            &recording_id,
        );
        let (tx, rx) = mpsc::channel(QUEUE);
        let failure = Arc::new(Mutex::new(None));
        let thumbnail_resolution = match config.thumbnail_configuration.resolution {
            None => Resolution::Source,
            Some(ThumbnailConfigurationResolution::Sd) => Resolution::Sd,
            Some(ThumbnailConfigurationResolution::Hd) => Resolution::Hd,
            Some(ThumbnailConfigurationResolution::FullHd) => Resolution::FullHd,
            Some(ThumbnailConfigurationResolution::LowestResolution) => Resolution::Lowest,
        };
        tokio::spawn(write_objects(
            deps.clone(),
            config.bucket_name.clone(),
            prefix.clone(),
            rx,
            failure.clone(),
        ));
        let rec = Arc::new(Recording {
            deps: deps.clone(),
            channel: channel.clone(),
            config: config.clone(),
            prefix,
            recording_id,
            started_at: now,
            thumbnail_resolution,
            tx,
            failure,
            state: Mutex::new(RecState {
                rendition,
                segments: Vec::new(),
                next_segment: 0,
                next_thumbnail: 0,
                n_inits: 0,
                current_map: None,
                discontinuity: false,
                bytes_total: 0,
                duration_total: Duration::ZERO,
                peak_bandwidth: 0,
                streams: 1,
                generation: 0,
                lingering: false,
                finished: false,
                listed: 0,
            }),
            sessions: Mutex::new(vec![records.clone()]),
        });
        tracing::info!(bucket = %config.bucket_name, prefix = %rec.prefix, "recording started");
        let started = rec.metadata("RECORDING_STARTED", None);
        let key = "events/recording-started.json".to_string();
        // The queue is empty: a fresh recording's first write always fits.
        let _ = rec.tx.try_send(Job::Started {
            body: json_bytes(&started),
            key,
            records: records.clone(),
            detail: rec.event_detail(false),
        });
        rec
    }

    /// The `recording_*` detail fields of a recording event (ivs.md §7); the duration and the
    /// merged sessions' stream ids at the end.
    fn event_detail(&self, end: bool) -> serde_json::Map<String, Value> {
        let mut d = serde_json::Map::new();
        d.insert("recording_status_reason".into(), json!(""));
        d.insert(
            "recording_s3_bucket_name".into(),
            json!(self.config.bucket_name),
        );
        d.insert("recording_s3_key_prefix".into(), json!(self.prefix));
        d.insert("recording_session_id".into(), json!(self.recording_id));
        if end {
            let st = self.state();
            d.insert(
                "recording_duration_ms".into(),
                json!(st.duration_total.as_millis() as u64),
            );
            let sessions = self.sessions();
            let ids: Vec<&str> = sessions.iter().map(|r| r.stream_id.as_str()).collect();
            d.insert("recording_session_stream_ids".into(), json!(ids));
        }
        d
    }

    fn state(&self) -> MutexGuard<'_, RecState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn sessions(&self) -> MutexGuard<'_, Vec<StreamRecords>> {
        self.sessions.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn fail(&self, message: String) {
        let mut f = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        tracing::warn!(prefix = %self.prefix, %message, "recording failure");
        f.get_or_insert(message);
    }

    async fn send(&self, job: Job) {
        if self.tx.send(job).await.is_err() {
            self.fail("the recording writer stopped".into());
        }
    }

    /// fMP4: each session's init section gets its own object, named by the segments after it.
    async fn session_init(&self, init: &Bytes) {
        let (uri, dir) = {
            let mut st = self.state();
            if st.current_map.is_some() && !st.discontinuity {
                return;
            }
            let uri = format!("init{}.mp4", st.n_inits);
            st.n_inits += 1;
            st.current_map = Some(uri.clone());
            (uri, format!("media/hls/{}", st.rendition.name))
        };
        self.send(Job::Put {
            key: format!("{dir}/{uri}"),
            body: init.clone(),
            content_type: content_type(&uri),
            essential: true,
        })
        .await;
    }

    async fn add_segment(&self, seg: &crate::packager::Segment) {
        let (key, playlists) = {
            let mut st = self.state();
            let ext = if st.current_map.is_some() {
                "mp4"
            } else {
                "ts"
            };
            let uri = format!("{}.{ext}", st.next_segment);
            st.next_segment += 1;
            let mut ranges: Vec<(u64, u64, Duration)> = Vec::new();
            let mut offset = 0u64;
            for part in &seg.parts {
                let len = part.data.len() as u64;
                match ranges.last_mut() {
                    Some(last) if !part.independent => {
                        last.1 += len;
                        last.2 += part.duration;
                    }
                    _ => ranges.push((offset, len, part.duration)),
                }
                offset += len;
            }
            if ranges.is_empty() {
                ranges.push((0, seg.data.len() as u64, seg.duration));
            }
            let discontinuity = std::mem::take(&mut st.discontinuity);
            let map = if discontinuity || st.segments.is_empty() {
                st.current_map.clone()
            } else {
                None
            };
            let first = st.segments.is_empty();
            st.segments.push(RecSegment {
                uri: uri.clone(),
                duration: seg.duration,
                discontinuity: discontinuity && !first,
                map,
                ranges,
            });
            st.bytes_total += seg.data.len() as u64;
            st.duration_total += seg.duration;
            if !seg.duration.is_zero() {
                let bw = (seg.data.len() as f64 * 8.0 / seg.duration.as_secs_f64()) as u64;
                st.peak_bandwidth = st.peak_bandwidth.max(bw);
            }
            // Playlists are rewritten after every segment at first, then less often as they
            // grow (every n/50 segments), so the bytes written stay linear in the length.
            let n = st.segments.len();
            let due = n - st.listed >= (n / 50).max(1);
            let playlists = due.then(|| {
                st.listed = n;
                self.playlists(&st, false)
            });
            (format!("media/hls/{}/{uri}", st.rendition.name), playlists)
        };
        self.send(Job::Put {
            content_type: content_type(&key),
            key,
            body: seg.data.clone(),
            essential: true,
        })
        .await;
        for job in playlists.into_iter().flatten() {
            self.send(job).await;
        }
    }

    /// The four playlists (multivariant and media, each plain and byte-range) as writes.
    fn playlists(&self, st: &RecState, ended: bool) -> Vec<Job> {
        let dir = format!("media/hls/{}", st.rendition.name);
        let files = [
            ("media/hls/master.m3u8".to_string(), multivariant(st, false)),
            (
                "media/hls/byte-range-multivariant.m3u8".to_string(),
                multivariant(st, true),
            ),
            (
                format!("{dir}/playlist.m3u8"),
                media_playlist(st, ended, false),
            ),
            (
                format!("{dir}/byte-range-variant.m3u8"),
                media_playlist(st, ended, true),
            ),
        ];
        files
            .into_iter()
            .map(|(key, text)| Job::Put {
                content_type: content_type(&key),
                key,
                body: Bytes::from(text),
                essential: true,
            })
            .collect()
    }

    /// Queues a thumbnail unless the queue is more than half full (thumbnails go first).
    fn thumbnail(&self, avcc: Bytes, data: Bytes) {
        if self.tx.capacity() < QUEUE / 2 {
            tracing::debug!(prefix = %self.prefix, "thumbnail dropped: object store behind");
            return;
        }
        let storage = self
            .config
            .thumbnail_configuration
            .storage
            .clone()
            .unwrap_or_default();
        let rendition = self.state().rendition.name.clone();
        let mut keys = Vec::new();
        if storage.contains(&ThumbnailConfigurationStorage::Sequential) {
            let mut st = self.state();
            keys.push(format!(
                "media/thumbnails/{rendition}/thumb{}.jpg",
                st.next_thumbnail
            ));
            st.next_thumbnail += 1;
        }
        if storage.contains(&ThumbnailConfigurationStorage::Latest) {
            keys.push(format!("media/latest_thumbnail/{rendition}/thumb.jpg"));
        }
        if keys.is_empty() {
            return;
        }
        let _ = self.tx.try_send(Job::Thumbnail {
            avcc,
            data,
            resolution: self.thumbnail_resolution,
            keys,
        });
    }

    /// The session's stream ended: the recording lingers for the reconnect window, then ends.
    async fn session_ended(self: Arc<Self>, recordings: &Arc<Recordings>) {
        let generation = {
            let mut st = self.state();
            st.lingering = true;
            st.listed = st.segments.len();
            st.generation
        };
        // Everything recorded so far is listed while the window is open.
        let jobs = {
            let st = self.state();
            self.playlists(&st, false)
        };
        for job in jobs {
            self.send(job).await;
        }
        let window = u64::try_from(self.config.recording_reconnect_window_seconds).unwrap_or(0);
        let recordings = recordings.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(window)).await;
            {
                let mut map = recordings.map();
                let st = self.state();
                if !st.lingering || st.generation != generation || st.finished {
                    return;
                }
                drop(st);
                if map
                    .get(&self.channel.channel_arn)
                    .is_some_and(|r| Arc::ptr_eq(r, &self))
                {
                    map.remove(&self.channel.channel_arn);
                }
            }
            self.finish().await;
        });
    }

    /// Writes the final playlists and `recording-ended.json`, and waits for every write.
    async fn finish(&self) {
        let jobs = {
            let mut st = self.state();
            if st.finished {
                return;
            }
            st.finished = true;
            self.playlists(&st, true)
        };
        for job in jobs {
            self.send(job).await;
        }
        let ended_at = self.deps.clock.now();
        let value = self.metadata("RECORDING_ENDED", Some(ended_at));
        let records = self.sessions().last().cloned();
        if let Some(records) = records {
            self.send(Job::Ended {
                key: "events/recording-ended.json".into(),
                value,
                records,
                detail: self.event_detail(true),
            })
            .await;
        }
        let (done, wait) = oneshot::channel();
        self.send(Job::Flush(done)).await;
        let _ = wait.await;
        tracing::info!(prefix = %self.prefix, "recording ended");
    }

    /// The `recording-started.json` / `recording-ended.json` document (ivs.md §8).
    fn metadata(&self, status: &str, ended_at: Option<OffsetDateTime>) -> Value {
        let st = self.state();
        let r = &st.rendition;
        let (tw, th) = self
            .thumbnail_resolution
            .output_size(r.width as usize, r.height as usize);
        let mut hls = json!({
            "path": "media/hls",
            "playlist": "master.m3u8",
            "byte_range_playlist": "byte-range-multivariant.m3u8",
            "renditions": [{
                "path": r.name,
                "playlist": "playlist.m3u8",
                "byte_range_playlist": "byte-range-variant.m3u8",
                "resolution_width": r.width,
                "resolution_height": r.height,
            }],
        });
        if ended_at.is_some() {
            hls["duration_ms"] = json!(st.duration_total.as_millis() as u64);
        }
        let mut media = json!({ "hls": hls });
        let t = &self.config.thumbnail_configuration;
        let storage = t.storage.clone().unwrap_or_default();
        if t.recording_mode != Some(RecordingMode::Disabled) {
            let thumbs = |path: &str| {
                json!({
                    "path": path,
                    "renditions": [{
                        "path": r.name,
                        "resolution_width": tw,
                        "resolution_height": th,
                    }],
                    "resolution_width": tw,
                    "resolution_height": th,
                })
            };
            if storage.contains(&ThumbnailConfigurationStorage::Sequential) {
                media["thumbnails"] = thumbs("media/thumbnails");
            }
            if storage.contains(&ThumbnailConfigurationStorage::Latest) {
                media["latest_thumbnail"] = thumbs("media/latest_thumbnail");
            }
        }
        let mut doc = json!({
            "version": "v1",
            "channel_arn": self.channel.channel_arn,
            "recording_id": self.recording_id,
            "recording_started_at": rfc3339(self.started_at),
            "recording_status": status,
            "recording_status_message": "",
            "media": media,
        });
        if let Some(at) = ended_at {
            doc["recording_ended_at"] = json!(rfc3339(at));
        }
        doc
    }
}

fn json_bytes(v: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec_pretty(v).unwrap_or_default())
}

fn multivariant(st: &RecState, byte_range: bool) -> String {
    let r = &st.rendition;
    let secs = st.duration_total.as_secs_f64();
    let average = (secs > 0.0).then(|| (st.bytes_total as f64 * 8.0 / secs) as u64);
    let file = if byte_range {
        "byte-range-variant.m3u8"
    } else {
        "playlist.m3u8"
    };
    let playlist = MultivariantPlaylist {
        independent_segments: true,
        variants: vec![VariantStream {
            uri: format!("{}/{file}", r.name),
            bandwidth: if st.peak_bandwidth > 0 {
                st.peak_bandwidth
            } else {
                average.unwrap_or(2_500_000)
            },
            average_bandwidth: average,
            codecs: r.codecs.clone(),
            resolution: (r.width > 0 && r.height > 0).then_some(reelay_manifest_hls::Resolution {
                width: r.width,
                height: r.height,
            }),
            frame_rate: r.frame_rate,
            ..Default::default()
        }],
        ..Default::default()
    };
    playlist.write().unwrap_or_default()
}

/// The recorded media playlist: every segment, `EVENT` while recording and `VOD` with
/// `EXT-X-ENDLIST` at the end; the byte-range form lists one entry per keyframe interval of
/// each segment file (RFC 8216 §4.3.2.2 `EXT-X-BYTERANGE`, which needs version 4).
fn media_playlist(st: &RecState, ended: bool, byte_range: bool) -> String {
    let mut segments = Vec::new();
    let mut longest = Duration::ZERO;
    for s in &st.segments {
        let map = s.map.as_ref().map(|uri| Map {
            uri: uri.clone(),
            byte_range: None,
        });
        if byte_range {
            for (i, (offset, length, duration)) in s.ranges.iter().enumerate() {
                longest = longest.max(*duration);
                segments.push(MediaSegment {
                    uri: s.uri.clone(),
                    duration: *duration,
                    byte_range: Some(ByteRange {
                        length: *length,
                        offset: Some(*offset),
                    }),
                    discontinuity: s.discontinuity && i == 0,
                    map: if i == 0 { map.clone() } else { None },
                    ..Default::default()
                });
            }
        } else {
            longest = longest.max(s.duration);
            segments.push(MediaSegment {
                uri: s.uri.clone(),
                duration: s.duration,
                discontinuity: s.discontinuity,
                map,
                ..Default::default()
            });
        }
    }
    let playlist = MediaPlaylist {
        target_duration: (longest.as_secs() + u64::from(longest.subsec_nanos() > 0)).max(1),
        media_sequence: 0,
        playlist_type: Some(if ended {
            PlaylistType::Vod
        } else {
            PlaylistType::Event
        }),
        independent_segments: true,
        segments,
        end_list: ended,
        ..Default::default()
    };
    playlist.write().unwrap_or_default()
}

/// The writer task of one recording: object writes in queue order.
async fn write_objects(
    deps: Deps,
    bucket: String,
    prefix: String,
    mut rx: mpsc::Receiver<Job>,
    failure: Arc<Mutex<Option<String>>>,
) {
    let put = |key: String, body: Bytes, content_type: &'static str| {
        let deps = deps.clone();
        let bucket = bucket.clone();
        let full = format!("{prefix}/{key}");
        async move {
            let attrs = ObjectAttrs {
                content_type: Some(content_type.to_string()),
                ..ObjectAttrs::default()
            };
            let body = futures::stream::once(async move { Ok::<_, std::io::Error>(body) });
            deps.blob.put_object(&bucket, &full, body, attrs).await
        }
    };
    let set_failure = |message: String| {
        let mut f = failure.lock().unwrap_or_else(|p| p.into_inner());
        tracing::warn!(%message, "recording write failed");
        f.get_or_insert(message);
    };
    // A recording whose start failed reports that, not an end (no `Recording End` follows a
    // `Recording Start Failure`).
    let mut start_failed = false;
    while let Some(job) = rx.recv().await {
        match job {
            Job::Started {
                key,
                body,
                records,
                mut detail,
            } => match put(key.clone(), body, content_type(&key)).await {
                Ok(_) => records.recording_event("Recording Start", &detail).await,
                Err(e) => {
                    let message = format!("could not write {key}: {e}");
                    set_failure(message.clone());
                    start_failed = true;
                    detail.insert("recording_status_reason".into(), json!(message));
                    records
                        .recording_event("Recording Start Failure", &detail)
                        .await;
                }
            },
            Job::Put {
                key,
                body,
                content_type,
                essential,
            } => {
                if let Err(e) = put(key.clone(), body, content_type).await
                    && essential
                {
                    set_failure(format!("could not write {key}: {e}"));
                }
            }
            Job::Thumbnail {
                avcc,
                data,
                resolution,
                keys,
            } => {
                let made = tokio::task::spawn_blocking(move || {
                    reelay_thumbnail::thumbnail(
                        Keyframe::Avcc {
                            config: &avcc,
                            data: &data,
                        },
                        resolution,
                    )
                })
                .await;
                match made {
                    Ok(Ok(t)) => {
                        let jpeg = Bytes::from(t.jpeg);
                        for key in keys {
                            if let Err(e) = put(key.clone(), jpeg.clone(), "image/jpeg").await {
                                tracing::warn!(error = %e, %key, "thumbnail write failed");
                            }
                        }
                    }
                    Ok(Err(e)) => tracing::debug!(error = %e, "no thumbnail from this keyframe"),
                    Err(e) => tracing::warn!(error = %e, "thumbnail task failed"),
                }
            }
            Job::Ended {
                key,
                mut value,
                records,
                mut detail,
            } => {
                let mut failed = failure.lock().unwrap_or_else(|p| p.into_inner()).clone();
                if let Some(message) = &failed {
                    value["recording_status"] = json!("RECORDING_ENDED_WITH_FAILURE");
                    value["recording_status_message"] = json!(message);
                }
                if let Err(e) = put(key, json_bytes(&value), "application/json").await {
                    tracing::warn!(error = %e, "could not write recording-ended.json");
                    failed.get_or_insert(format!("could not write recording-ended.json: {e}"));
                }
                if !start_failed {
                    let name = match failed {
                        Some(message) => {
                            detail.insert("recording_status_reason".into(), json!(message));
                            "Recording End Failure"
                        }
                        None => "Recording End",
                    };
                    records.recording_event(name, &detail).await;
                }
            }
            Job::Flush(done) => {
                let _ = done.send(());
            }
        }
    }
}

#[cfg(test)]
mod tests;
