//! Ingest, whatever the protocol. [`Publisher`] is the one path every publisher takes:
//! [`authorize`] (stream key) → [`Publisher::go_live`] (claim the channel, open the stream
//! records) → decoder configurations and samples → [`Publisher::end`]. RTMP and RTMPS
//! connections (this module's [`serve`], driving the sans-IO `reelay_ingest_rtmp::Server`) and
//! SRT callers (`crate::srt`) only translate their protocol into these calls.

use crate::packager::{Container, Packager, PackagerConfig, Timeline};
use crate::session::StreamRecords;
use crate::{Live, LiveStream, MediaInfo};
use bytes::Bytes;
use rand::RngCore as _;
use reelay_api_ivs::ingest::ResolvedKey;
use reelay_aws::generated::ivs::types::{
    AudioConfiguration, ContainerFormat, IngestConfiguration, VideoConfiguration,
};
use reelay_ingest_rtmp::flv::SOUND_FORMAT_AAC;
use reelay_ingest_rtmp::limits::HANDSHAKE_RANDOM_SIZE;
use reelay_ingest_rtmp::{
    Amf0Value, AudioPacket, AvcDecoderConfig, Event, FrameType, Output, Server, ServerConfig,
    VideoCodec, VideoPacket,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _};

/// How often a live connection checks for `StopStream`: the in-process hint of
/// `reelay_api_ivs::live_signal` (a set lookup), so this is cheap.
pub(crate) const STOP_POLL: Duration = Duration::from_millis(300);
/// How often a live connection also reads its stream record, for a `StopStream` written by
/// another process or a reset that removed the record. Reading it at every [`STOP_POLL`] was
/// about 15 % of the server's CPU at 200 streams (docs/benchmarks/live.md).
const STOP_STORE_POLL: Duration = Duration::from_secs(3);
/// Read buffer per connection.
const READ_BUF: usize = 64 * 1024;

/// Why a publisher was refused before going live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    /// No existing key has this value (unknown, deleted, or its channel deleted).
    UnknownKey,
    /// A publisher is already live on the channel.
    AlreadyLive,
    /// Plain RTMP to a channel without `insecureIngest` while RTMPS is served.
    SecureIngestRequired,
    /// The store failed; the publisher may retry.
    Unavailable,
}

impl Refusal {
    /// What the publisher is told (RTMP status description; SRT logs it).
    pub(crate) fn message(self) -> &'static str {
        match self {
            Refusal::UnknownKey => "unknown stream key",
            Refusal::AlreadyLive => "channel is already live",
            Refusal::SecureIngestRequired => {
                "this channel takes RTMPS or SRT only (insecureIngest is off)"
            }
            Refusal::Unavailable => "could not start the stream",
        }
    }
}

/// Finds the channel of a presented stream key.
pub(crate) async fn authorize(live: &Live, presented: &str) -> Result<ResolvedKey, Refusal> {
    match reelay_api_ivs::ingest::resolve_stream_key(live.deps.store.as_ref(), presented).await {
        Ok(Some(key)) => Ok(key),
        Ok(None) => Err(Refusal::UnknownKey),
        Err(e) => {
            tracing::warn!(error = %e, "stream key lookup failed");
            Err(Refusal::Unavailable)
        }
    }
}

/// What the encoder states about its stream beside the decoder configurations: RTMP's
/// `onMetaData`; SRT carries none, so only the SPS dimensions are known there.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct EncoderInfo {
    /// `encoder` (e.g. `Lavf59.27.100`).
    pub(crate) encoder: Option<String>,
    pub(crate) width: Option<u64>,
    pub(crate) height: Option<u64>,
    pub(crate) frame_rate: Option<f64>,
    /// `videodatarate`, kbps.
    pub(crate) video_kbps: Option<f64>,
    /// `audiodatarate`, kbps.
    pub(crate) audio_kbps: Option<f64>,
}

/// A publisher that is live on a channel, whatever its protocol.
pub(crate) struct Publisher {
    pub(crate) stream: Arc<LiveStream>,
    pub(crate) records: StreamRecords,
    avc: Option<AvcDecoderConfig>,
    /// Sample rate and channel configuration of the AAC track.
    audio: Option<(u32, u8)>,
    info: EncoderInfo,
    started: bool,
    /// When the stream record was last read for `StopStream`.
    stop_checked: tokio::time::Instant,
}

impl Publisher {
    /// Takes the channel for this publisher and opens its stream records (`Session Created`).
    pub(crate) async fn go_live(live: &Arc<Live>, key: &ResolvedKey) -> Result<Self, Refusal> {
        let Some(stream) = live.claim(key) else {
            return Err(Refusal::AlreadyLive);
        };
        let records = match StreamRecords::begin(&live.deps, key).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "could not start the stream");
                live.release(&stream);
                return Err(Refusal::Unavailable);
            }
        };
        tracing::info!(channel = %key.channel_arn, stream = %records.stream_id, "publishing");
        // Metadata insertion, starvation, health and viewer counts (monitor.rs).
        crate::monitor::spawn(live.clone(), stream.clone(), records.clone());
        // Recording runs beside packaging and never blocks it; its events go to this session
        // (recording.rs).
        crate::recording::attach(&live.recordings, &live.deps, key, &stream, &records);
        Ok(Publisher {
            stream,
            records,
            avc: None,
            audio: None,
            info: EncoderInfo::default(),
            started: false,
            stop_checked: tokio::time::Instant::now(),
        })
    }

    /// What the encoder said about its stream (replaces what it said before).
    pub(crate) fn set_encoder_info(&mut self, info: EncoderInfo) {
        self.stream.set_info(MediaInfo {
            width: info.width,
            height: info.height,
            frame_rate: info.frame_rate,
        });
        if let (Some(w), Some(h)) = (info.width, info.height) {
            let (w, h) = (u16::try_from(w).unwrap_or(0), u16::try_from(h).unwrap_or(0));
            self.stream.lock().set_dimensions(w, h);
        }
        self.info = info;
    }

    /// The AVC decoder configuration record (ISO/IEC 14496-15 §5.3.3.1).
    pub(crate) fn set_video_config(&mut self, record: Bytes) -> Result<(), &'static str> {
        self.avc = AvcDecoderConfig::parse(&record).ok();
        self.stream
            .with_packager(|pk| pk.set_video_config(record))
            .map_err(|_| "bad video configuration")
    }

    /// The AAC `AudioSpecificConfig`, with the sample rate and channel configuration it states.
    pub(crate) fn set_audio_config(
        &mut self,
        asc: Bytes,
        sample_rate: u32,
        channels: u8,
    ) -> Result<(), &'static str> {
        self.audio = Some((sample_rate, channels));
        self.stream
            .with_packager(|pk| pk.set_audio_config(asc))
            .map_err(|_| "bad audio configuration")
    }

    /// One AVC access unit (length-prefixed NAL units). The first playable segment records
    /// the ingest configuration and `Stream Start`.
    pub(crate) async fn push_video(
        &mut self,
        dts_ms: i64,
        cts_ms: i32,
        keyframe: bool,
        data: &[u8],
    ) -> Result<(), &'static str> {
        self.stream
            .with_packager(|pk| pk.push_video(dts_ms, cts_ms, keyframe, data))
            .map_err(|_| "video packaging failed")?;
        if !self.started && self.stream.has_segment() {
            self.started = true;
            let ic = ingest_configuration(&self.info, self.avc.as_ref(), self.audio);
            self.records.set_ingest_configuration(ic).await;
            self.records.event("Stream Start", None).await;
        }
        Ok(())
    }

    /// One raw AAC frame.
    pub(crate) fn push_audio(&mut self, pts_ms: i64, data: &[u8]) -> Result<(), &'static str> {
        self.stream
            .with_packager(|pk| pk.push_audio(pts_ms, data))
            .map_err(|_| "audio packaging failed")
    }

    /// Whether `StopStream` (or a reset) asked this publisher to go: the in-process hint at
    /// every call, the stream record once per [`STOP_STORE_POLL`].
    pub(crate) async fn stop_requested(&mut self) -> bool {
        if reelay_api_ivs::live_signal::take_stop_requested(&self.records.stream_id) {
            return true;
        }
        let now = tokio::time::Instant::now();
        if now.duration_since(self.stop_checked) < STOP_STORE_POLL {
            return false;
        }
        self.stop_checked = now;
        self.records.stop_requested().await
    }

    /// The publisher is gone: the stream ends (`EXT-X-ENDLIST`), the channel is free again and
    /// the session records its end (`code` when it ended abnormally).
    pub(crate) async fn end(self, live: &Arc<Live>, code: Option<&str>) {
        // A hint that arrived after the last check (or for a publisher that left on its own).
        reelay_api_ivs::live_signal::take_stop_requested(&self.records.stream_id);
        self.stream.finish();
        live.release(&self.stream);
        self.records.end(code).await;
    }
}

/// What an RTMP publishing connection holds.
struct Publishing {
    publisher: Publisher,
    timeline: Timeline,
}

/// Why the connection loop stopped.
enum End {
    Orderly,
    Error(&'static str),
}

/// Serves one RTMP connection to its end (plain TCP, or TLS when `secure`); never panics on
/// input, and ends only this connection.
pub(crate) async fn serve<S>(live: Arc<Live>, mut socket: S, secure: bool)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let mut random = [0u8; HANDSHAKE_RANDOM_SIZE];
    rand::rngs::OsRng.fill_bytes(&mut random);
    let mut server = Server::new(ServerConfig::default(), &random);
    let mut buf = vec![0u8; READ_BUF];
    let mut publishing: Option<Publishing> = None;
    let mut metadata: Vec<(String, Amf0Value)> = Vec::new();
    let mut stop_check = tokio::time::interval(STOP_POLL);
    stop_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let end = 'conn: loop {
        while let Some(out) = server.poll_output() {
            let step = match out {
                Output::Transmit(bytes) => socket.write_all(&bytes).await.map_err(|_| End::Orderly),
                Output::Event(event) => on_event(
                    &live,
                    &mut server,
                    &mut publishing,
                    &mut metadata,
                    secure,
                    event,
                )
                .await
                .map_err(End::Error),
                _ => Ok(()),
            };
            if let Err(end) = step {
                break 'conn end;
            }
        }
        if server.is_closed() {
            break End::Orderly;
        }
        tokio::select! {
            read = tokio::time::timeout(live.idle_timeout, socket.read(&mut buf)) => match read {
                Err(_) => break End::Error("idle"),
                Ok(Ok(0)) | Ok(Err(_)) => server.handle_eof(),
                Ok(Ok(n)) => {
                    // An error closes the session; Event::Closed reports it.
                    let _ = server.handle_input(&buf[..n]);
                }
            },
            _ = stop_check.tick(), if publishing.is_some() => {
                if let Some(p) = &mut publishing && p.publisher.stop_requested().await {
                    break End::Orderly;
                }
            }
        }
    };
    if let Some(p) = publishing.take() {
        let code = match end {
            End::Orderly => None,
            End::Error(reason) => Some(reason),
        };
        finish(&live, p, code).await;
    }
    let _ = socket.shutdown().await;
}

async fn finish(live: &Arc<Live>, p: Publishing, code: Option<&str>) {
    p.publisher.end(live, code).await;
}

/// Handles one event; an `Err` closes the connection.
async fn on_event(
    live: &Arc<Live>,
    server: &mut Server,
    publishing: &mut Option<Publishing>,
    metadata: &mut Vec<(String, Amf0Value)>,
    secure: bool,
    event: Event,
) -> Result<(), &'static str> {
    match event {
        Event::Publish { stream_name, .. } => {
            if publishing.is_some() {
                let _ = server.reject("already publishing");
                return Ok(());
            }
            let key = match authorize(live, stream_name.expose()).await {
                Ok(key) => key,
                Err(refusal) => {
                    let _ = server.reject(refusal.message());
                    return Ok(());
                }
            };
            // With RTMPS served, plain RTMP needs `insecureIngest` (docs/ivs.md, "Ingest").
            if !secure && live.rtmps && !key.channel.insecure_ingest {
                let _ = server.reject(Refusal::SecureIngestRequired.message());
                return Ok(());
            }
            let mut publisher = match Publisher::go_live(live, &key).await {
                Ok(p) => p,
                Err(refusal) => {
                    let _ = server.reject(refusal.message());
                    return Ok(());
                }
            };
            if server.accept().is_err() {
                publisher.end(live, Some("ConnectionClosed")).await;
                return Ok(());
            }
            if !metadata.is_empty() {
                publisher.set_encoder_info(encoder_info(metadata));
            }
            *publishing = Some(Publishing {
                publisher,
                timeline: Timeline::default(),
            });
        }
        Event::Metadata { properties } => {
            *metadata = properties;
            if let Some(p) = publishing {
                p.publisher.set_encoder_info(encoder_info(metadata));
            }
        }
        Event::Video { timestamp_ms, tag } => {
            let Some(p) = publishing else { return Ok(()) };
            // The channel's multitrack policy (multitrack.rs); only track 0 is packaged.
            let admitted = p
                .publisher
                .stream
                .admit_video(&crate::multitrack::VideoTag {
                    track_id: tag.track_id,
                    avc: tag.codec == VideoCodec::Avc,
                    sequence_start: match &tag.packet {
                        VideoPacket::SequenceStart(record) => Some(record),
                        _ => None,
                    },
                    coded_frame: matches!(tag.packet, VideoPacket::CodedFrames { .. }),
                });
            match admitted {
                crate::multitrack::Admit::Package => {}
                crate::multitrack::Admit::Skip => return Ok(()),
                crate::multitrack::Admit::Refuse(code) => return Err(code),
            }
            if tag.codec != VideoCodec::Avc {
                return Err("unsupported video codec");
            }
            match tag.packet {
                VideoPacket::SequenceStart(record) => p.publisher.set_video_config(record)?,
                VideoPacket::CodedFrames {
                    composition_time_ms,
                    data,
                } => {
                    let dts = p.timeline.extend(timestamp_ms);
                    let key = matches!(tag.frame_type, FrameType::Key);
                    p.publisher
                        .push_video(dts, composition_time_ms, key, &data)
                        .await?;
                }
                _ => {}
            }
        }
        Event::Audio { timestamp_ms, tag } => {
            let Some(p) = publishing else { return Ok(()) };
            if tag.sound_format != SOUND_FORMAT_AAC {
                // IVS takes AAC only; other audio is dropped rather than failing the video.
                return Ok(());
            }
            match tag.packet {
                AudioPacket::AacSequenceHeader(asc) => p.publisher.set_audio_config(
                    asc.raw.clone(),
                    asc.sample_rate,
                    asc.channel_configuration,
                )?,
                AudioPacket::AacRaw(data) => {
                    let pts = p.timeline.extend(timestamp_ms);
                    p.publisher.push_audio(pts, &data)?;
                }
                _ => {}
            }
        }
        Event::Unpublish => {
            if let Some(p) = publishing.take() {
                finish(live, p, None).await;
            }
        }
        Event::Closed { error: Some(e) } => {
            tracing::debug!(error = %e, "rtmp connection closed");
        }
        _ => {}
    }
    Ok(())
}

fn number(props: &[(String, Amf0Value)], name: &str) -> Option<f64> {
    props
        .iter()
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| v.as_f64())
        .filter(|v| v.is_finite() && *v >= 0.0)
}

/// What `onMetaData` states.
fn encoder_info(props: &[(String, Amf0Value)]) -> EncoderInfo {
    EncoderInfo {
        encoder: props
            .iter()
            .find(|(k, _)| k == "encoder")
            .and_then(|(_, v)| v.as_str())
            .map(str::to_string),
        width: number(props, "width").map(|v| v as u64),
        height: number(props, "height").map(|v| v as u64),
        frame_rate: number(props, "framerate"),
        video_kbps: number(props, "videodatarate"),
        audio_kbps: number(props, "audiodatarate"),
    }
}

/// kbps as `onMetaData` gives them, in the unit IVS reports (ivs.md §7: 9000 → 8789062, i.e.
/// kbps × 1,000,000 / 1024).
/// `None` for 0, which encoders such as ffmpeg's libx264 send when they set no target.
fn bitrate(kbps: f64) -> Option<i64> {
    let bps = (kbps * 1_000_000.0 / 1024.0) as i64;
    (bps > 0).then_some(bps)
}

/// The `ingestConfiguration` of a session, from the encoder's statements and the decoder
/// configurations.
fn ingest_configuration(
    info: &EncoderInfo,
    avc: Option<&AvcDecoderConfig>,
    audio: Option<(u32, u8)>,
) -> IngestConfiguration {
    let profile = avc.map(|a| profile_name(a.profile_indication).to_string());
    let level = avc.map(|a| {
        let l = a.level_indication;
        format!("{}.{}", l / 10, l % 10)
    });
    let video = VideoConfiguration {
        avc_level: level.clone(),
        avc_profile: profile.clone(),
        codec: avc.map(AvcDecoderConfig::codec_string),
        encoder: info.encoder.clone(),
        level,
        profile,
        target_bitrate: info.video_kbps.and_then(bitrate),
        target_framerate: info.frame_rate.map(|v| v.round() as i64),
        track: Some("Track0".into()),
        video_height: info.height.and_then(|v| i64::try_from(v).ok()),
        video_width: info.width.and_then(|v| i64::try_from(v).ok()),
    };
    let audio = audio.map(|(rate, channels)| AudioConfiguration {
        channels: Some(i64::from(channels)),
        codec: Some("mp4a.40.2".into()),
        sample_rate: Some(i64::from(rate)),
        target_bitrate: info.audio_kbps.and_then(bitrate),
        track: Some("Track0".into()),
    });
    IngestConfiguration {
        audio,
        video: Some(video),
    }
}

/// H.264 `profile_idc` names (ITU-T H.264 Annex A).
fn profile_name(idc: u8) -> &'static str {
    match idc {
        66 => "Baseline",
        77 => "Main",
        88 => "Extended",
        100 => "High",
        110 => "High 10",
        122 => "High 4:2:2",
        244 => "High 4:4:4",
        _ => "Unknown",
    }
}

impl LiveStream {
    fn with_packager<T>(
        &self,
        f: impl FnOnce(&mut Packager) -> Result<T, crate::packager::PackagerError>,
    ) -> Result<T, crate::packager::PackagerError> {
        let (res, changed) = {
            let mut pk = self.lock();
            let before = pk.progress();
            let res = f(&mut pk);
            (res, pk.progress() != before)
        };
        // Waiters care about completed parts and segments, not about every sample.
        if changed {
            self.notify();
        }
        res
    }
}

/// A fresh packager for a new stream in the channel's container.
pub(crate) fn new_packager(format: ContainerFormat) -> Packager {
    let container = match format {
        ContainerFormat::FragmentedMp4 => Container::Fmp4,
        _ => Container::Ts,
    };
    Packager::new(PackagerConfig {
        container,
        ..PackagerConfig::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ingest_configuration_without_metadata_keeps_decoder_facts() {
        let avc = AvcDecoderConfig {
            profile_indication: 100,
            profile_compatibility: 0,
            level_indication: 31,
            nal_length_size: 4,
            sps: Vec::new(),
            pps: Vec::new(),
        };
        let info = EncoderInfo {
            width: Some(320),
            height: Some(240),
            ..EncoderInfo::default()
        };
        let ic = ingest_configuration(&info, Some(&avc), Some((48_000, 2)));
        let v = ic.video.unwrap_or_default();
        assert_eq!(v.codec.as_deref(), Some("avc1.64001F"));
        assert_eq!(v.avc_profile.as_deref(), Some("High"));
        assert_eq!(v.avc_level.as_deref(), Some("3.1"));
        assert_eq!((v.video_width, v.video_height), (Some(320), Some(240)));
        assert_eq!(
            (v.encoder, v.target_bitrate, v.target_framerate),
            (None, None, None)
        );
        let a = ic.audio.unwrap_or_default();
        assert_eq!((a.sample_rate, a.channels), (Some(48_000), Some(2)));
    }

    #[test]
    fn metadata_bitrates_follow_ivs_units() {
        assert_eq!(bitrate(9000.0), Some(8_789_062));
        assert_eq!(bitrate(48.0), Some(46_875));
        assert_eq!(bitrate(0.0), None);
    }
}
