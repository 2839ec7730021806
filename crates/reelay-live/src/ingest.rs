//! RTMP ingest: one task per TCP connection drives the sans-IO `reelay_ingest_rtmp::Server`,
//! authorizes `publish` by stream key, feeds the stream's packager and keeps the store records
//! of the stream and its session.

use crate::packager::{Container, Packager, PackagerConfig, Timeline};
use crate::session::StreamRecords;
use crate::{Live, LiveStream, MediaInfo};
use rand::RngCore as _;
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
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// How often a live connection checks its stream record for `StopStream`.
const STOP_POLL: Duration = Duration::from_millis(300);
/// Read buffer per connection.
const READ_BUF: usize = 64 * 1024;

/// What a publishing connection holds.
struct Publishing {
    stream: Arc<LiveStream>,
    records: StreamRecords,
    timeline: Timeline,
    avc: Option<AvcDecoderConfig>,
    audio: Option<(u32, u8)>,
    started: bool,
}

/// Why the connection loop stopped.
enum End {
    Orderly,
    Error(&'static str),
}

/// Serves one RTMP connection to its end; never panics on input, and ends only this connection.
pub(crate) async fn serve(live: Arc<Live>, mut socket: TcpStream) {
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
                Output::Event(event) => {
                    on_event(&live, &mut server, &mut publishing, &mut metadata, event)
                        .await
                        .map_err(End::Error)
                }
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
                if let Some(p) = &publishing && p.records.stop_requested().await {
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
    p.stream.finish();
    live.release(&p.stream);
    p.records.end(code).await;
}

/// Handles one event; an `Err` closes the connection.
async fn on_event(
    live: &Arc<Live>,
    server: &mut Server,
    publishing: &mut Option<Publishing>,
    metadata: &mut Vec<(String, Amf0Value)>,
    event: Event,
) -> Result<(), &'static str> {
    match event {
        Event::Publish { stream_name, .. } => {
            if publishing.is_some() {
                let _ = server.reject("already publishing");
                return Ok(());
            }
            let key = match reelay_api_ivs::ingest::resolve_stream_key(
                live.deps.store.as_ref(),
                stream_name.expose(),
            )
            .await
            {
                Ok(Some(key)) => key,
                Ok(None) => {
                    let _ = server.reject("unknown stream key");
                    return Ok(());
                }
                Err(e) => {
                    tracing::warn!(error = %e, "stream key lookup failed");
                    let _ = server.reject("stream key lookup failed");
                    return Ok(());
                }
            };
            let Some(stream) = live.claim(&key) else {
                let _ = server.reject("channel is already live");
                return Ok(());
            };
            let records = match StreamRecords::begin(&live.deps, &key).await {
                Ok(r) => r,
                Err(e) => {
                    tracing::warn!(error = %e, "could not start the stream");
                    live.release(&stream);
                    let _ = server.reject("could not start the stream");
                    return Ok(());
                }
            };
            if server.accept().is_err() {
                stream.finish();
                live.release(&stream);
                records.end(Some("ConnectionClosed")).await;
                return Ok(());
            }
            tracing::info!(channel = %key.channel_arn, stream = %records.stream_id, "publishing");
            *publishing = Some(Publishing {
                stream,
                records,
                timeline: Timeline::default(),
                avc: None,
                audio: None,
                started: false,
            });
        }
        Event::Metadata { properties } => {
            *metadata = properties;
            if let Some(p) = publishing {
                let info = media_info(metadata);
                p.stream.set_info(info);
                if let (Some(w), Some(h)) = (info.width, info.height) {
                    let (w, h) = (u16::try_from(w).unwrap_or(0), u16::try_from(h).unwrap_or(0));
                    p.stream.lock().set_dimensions(w, h);
                }
            }
        }
        Event::Video { timestamp_ms, tag } => {
            let Some(p) = publishing else { return Ok(()) };
            // Enhanced RTMP multitrack is not packaged yet: only track 0 is kept.
            if tag.track_id != 0 {
                return Ok(());
            }
            if tag.codec != VideoCodec::Avc {
                return Err("unsupported video codec");
            }
            match tag.packet {
                VideoPacket::SequenceStart(record) => {
                    p.avc = AvcDecoderConfig::parse(&record).ok();
                    p.stream
                        .with_packager(|pk| pk.set_video_config(record))
                        .map_err(|_| "bad video configuration")?;
                }
                VideoPacket::CodedFrames {
                    composition_time_ms,
                    data,
                } => {
                    let dts = p.timeline.extend(timestamp_ms);
                    let key = matches!(tag.frame_type, FrameType::Key);
                    p.stream
                        .with_packager(|pk| pk.push_video(dts, composition_time_ms, key, &data))
                        .map_err(|_| "video packaging failed")?;
                    if !p.started && p.stream.has_segment() {
                        p.started = true;
                        let ic = ingest_configuration(metadata, p.avc.as_ref(), p.audio);
                        p.records.set_ingest_configuration(ic).await;
                        p.records.event("Stream Start", None).await;
                    }
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
                AudioPacket::AacSequenceHeader(asc) => {
                    p.audio = Some((asc.sample_rate, asc.channel_configuration));
                    p.stream
                        .with_packager(|pk| pk.set_audio_config(asc.raw.clone()))
                        .map_err(|_| "bad audio configuration")?;
                }
                AudioPacket::AacRaw(data) => {
                    let pts = p.timeline.extend(timestamp_ms);
                    p.stream
                        .with_packager(|pk| pk.push_audio(pts, &data))
                        .map_err(|_| "audio packaging failed")?;
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

fn media_info(props: &[(String, Amf0Value)]) -> MediaInfo {
    MediaInfo {
        width: number(props, "width").map(|v| v as u64),
        height: number(props, "height").map(|v| v as u64),
        frame_rate: number(props, "framerate"),
    }
}

/// kbps as `onMetaData` gives them, in the unit IVS reports (ivs.md §7: 9000 → 8789062, i.e.
/// kbps × 1,000,000 / 1024).
/// `None` for 0, which encoders such as ffmpeg's libx264 send when they set no target.
fn bitrate(kbps: f64) -> Option<i64> {
    let bps = (kbps * 1_000_000.0 / 1024.0) as i64;
    (bps > 0).then_some(bps)
}

/// The `ingestConfiguration` of a session, from `onMetaData` and the decoder configurations.
fn ingest_configuration(
    props: &[(String, Amf0Value)],
    avc: Option<&AvcDecoderConfig>,
    audio: Option<(u32, u8)>,
) -> IngestConfiguration {
    let encoder = props
        .iter()
        .find(|(k, _)| k == "encoder")
        .and_then(|(_, v)| v.as_str())
        .map(str::to_string);
    let profile = avc.map(|a| profile_name(a.profile_indication).to_string());
    let level = avc.map(|a| {
        let l = a.level_indication;
        format!("{}.{}", l / 10, l % 10)
    });
    let video = VideoConfiguration {
        avc_level: level.clone(),
        avc_profile: profile.clone(),
        codec: avc.map(AvcDecoderConfig::codec_string),
        encoder,
        level,
        profile,
        target_bitrate: number(props, "videodatarate").and_then(bitrate),
        target_framerate: number(props, "framerate").map(|v| v.round() as i64),
        track: Some("Track0".into()),
        video_height: number(props, "height").map(|v| v as i64),
        video_width: number(props, "width").map(|v| v as i64),
    };
    let audio = audio.map(|(rate, channels)| AudioConfiguration {
        channels: Some(i64::from(channels)),
        codec: Some("mp4a.40.2".into()),
        sample_rate: Some(i64::from(rate)),
        target_bitrate: number(props, "audiodatarate").and_then(bitrate),
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
