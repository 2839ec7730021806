//! Live HLS packaging of one stream: FLV-style access units in, MPEG-TS or fragmented MP4
//! segments cut at keyframes (each made of LL-HLS parts) and a sliding-window media playlist
//! (RFC 8216 §6.2.2) out.
//!
//! Sans-IO: timestamps are the publisher's (RTMP milliseconds, which wrap at 2^32); the
//! packager reads no clock, so the tests drive it with simulated time.

use bytes::{Bytes, BytesMut};
use reelay_format_mp4::{
    AudioConfig, Codec, EventMessage, FourCc, FragmentSample, SampleFlags, TrackConfig,
    TrackFragment,
};
use reelay_format_ts::{AacConfig, Muxer, MuxerConfig, Sample, VideoCodec, VideoTrack};
use reelay_manifest_hls::{
    Map, MediaPlaylist, MediaSegment, MultivariantPlaylist, Part, PreloadHint, PreloadHintType,
    ServerControl, VariantStream,
};
use std::collections::VecDeque;
use std::time::Duration;

/// Limits on what one publisher can make the packager hold.
pub mod limits {
    /// Largest segment, in bytes: a publisher that sends no keyframe keeps one segment growing,
    /// so the stream is ended past this (about 100 s at 2.5 Mbps).
    pub const MAX_SEGMENT_BYTES: usize = 32 * 1024 * 1024;
    /// Timed-metadata tags waiting for their segment; older ones are dropped past this (the
    /// API admits 5 per second and channel, and tags wait at most one segment).
    pub const MAX_PENDING_METADATA: usize = 64;
}

/// 90 kHz MPEG clock ticks per millisecond.
const TICKS_PER_MS: i64 = 90;
/// Offset added to every timestamp so that audio slightly ahead of the first keyframe, and
/// B-frame presentation times, never go below zero on the MPEG timeline.
const TIMELINE_OFFSET_MS: i64 = 10_000;

/// The container of the segments (the channel's `containerFormat`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum Container {
    /// MPEG-TS segments, each starting with PAT and PMT.
    #[default]
    Ts,
    /// Fragmented MP4: an init segment (`EXT-X-MAP`), then one `moof`+`mdat` per part.
    Fmp4,
}

/// Track ids of the fMP4 init segment.
const FMP4_VIDEO_TRACK: u32 = 1;
const FMP4_AUDIO_TRACK: u32 = 2;
/// The video timescale of fMP4: the MPEG 90 kHz clock, as for TS.
const FMP4_VIDEO_TIMESCALE: u32 = 90_000;

/// Packaging settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackagerConfig {
    /// Segment container.
    pub container: Container,
    /// Shortest segment: the segment is cut at the first keyframe after this much media. IVS asks
    /// publishers for a keyframe at most every 2 s, which gives ~2 s segments.
    pub target_segment: Duration,
    /// Fewest segments listed in the live playlist. More are listed when needed for the listed
    /// duration to reach three target durations (RFC 8216 §6.2.2), e.g. after a long segment.
    pub playlist_window: usize,
    /// Segments kept in memory beyond the listed ones: they stay fetchable for a while after
    /// they leave the playlist, for players that loaded it just before.
    pub retained: usize,
    /// Longest partial segment for low-latency HLS (rfc8216bis §4.4.3.7 `PART-TARGET`): a part
    /// is cut at the first video frame that would make it longer.
    pub part_target: Duration,
}

impl Default for PackagerConfig {
    fn default() -> Self {
        PackagerConfig {
            container: Container::Ts,
            target_segment: Duration::from_secs(2),
            // Three 2 s segments (6 s) plus one retained: the media held per stream is about
            // 4.5 segments (the open one half full on average), 2.9 MB at 2.56 Mbps.
            playlist_window: 3,
            retained: 1,
            // Short parts set the latency of LL-HLS players: they hold back PART-HOLD-BACK =
            // 3 part targets behind the edge, and a part is announced only once complete.
            part_target: Duration::from_millis(200),
        }
    }
}

/// Why packaging failed; the stream is ended.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PackagerError {
    /// The decoder configuration or a sample could not be used.
    Media(String),
    /// A segment grew past [`limits::MAX_SEGMENT_BYTES`].
    Limit(&'static str),
}

impl std::fmt::Display for PackagerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PackagerError::Media(m) => write!(f, "media: {m}"),
            PackagerError::Limit(m) => write!(f, "limit: {m}"),
        }
    }
}

impl std::error::Error for PackagerError {}

fn media_err(e: impl std::fmt::Display) -> PackagerError {
    PackagerError::Media(e.to_string())
}

/// Turns RTMP's 32-bit millisecond timestamps into a monotonic-enough 64-bit timeline: each
/// new value is taken as the nearest one to the previous, modulo 2^32.
#[derive(Debug, Default, Clone)]
pub struct Timeline {
    last: Option<(u32, i64)>,
}

impl Timeline {
    /// The extended value of `ts`.
    pub fn extend(&mut self, ts: u32) -> i64 {
        let ext = match self.last {
            None => i64::from(ts),
            // Reinterpreting the wrapped difference as signed picks the nearest candidate.
            Some((prev, prev_ext)) => prev_ext + i64::from(ts.wrapping_sub(prev) as i32),
        };
        self.last = Some((ts, ext));
        ext
    }
}

/// One partial segment (LL-HLS): a run of whole TS packets of its segment.
#[derive(Debug, Clone)]
pub struct PartInfo {
    /// Duration.
    pub duration: Duration,
    /// Whether it starts with a keyframe (`INDEPENDENT=YES`).
    pub independent: bool,
    /// The bytes.
    pub data: Bytes,
}

/// One finished segment.
#[derive(Debug, Clone)]
pub struct Segment {
    /// Media sequence number.
    pub sequence: u64,
    /// Duration.
    pub duration: Duration,
    /// The MPEG-TS bytes, shared by every viewer.
    pub data: Bytes,
    /// Its partial segments, whose bytes concatenate to `data`.
    pub parts: Vec<PartInfo>,
}

#[derive(Debug)]
struct OpenSegment {
    sequence: u64,
    start_ms: i64,
    parts: Vec<PartInfo>,
    part_start_ms: i64,
    part_independent: bool,
    /// Bytes of the part being written.
    current: BytesMut,
    size: usize,
}

impl OpenSegment {
    fn cut_part(&mut self, end_ms: i64) {
        if self.current.is_empty() {
            return;
        }
        let ms = u64::try_from(end_ms - self.part_start_ms)
            .unwrap_or(0)
            .max(1);
        self.parts.push(PartInfo {
            duration: Duration::from_millis(ms),
            independent: self.part_independent,
            data: self.current.split().freeze(),
        });
        self.part_start_ms = end_ms;
        self.part_independent = false;
    }
}

/// Fragmented-MP4 state: samples of the part being written, serialized when it is cut.
#[derive(Debug)]
struct Fmp4 {
    init: Bytes,
    /// Audio sampling rate (the audio timescale) and samples per AAC frame, with audio.
    audio: Option<(u32, u32)>,
    /// The last video sample, whose duration is known only when the next one arrives:
    /// (dts ticks, composition offset ticks, keyframe, data).
    pending_video: Option<(u64, i32, bool, Bytes)>,
    video: Vec<FragmentSample>,
    video_base: Option<u64>,
    audio_samples: Vec<FragmentSample>,
    audio_base: Option<u64>,
    fragment_sequence: u32,
    /// `emsg` boxes written before the next `moof` (timed metadata).
    events: Vec<Bytes>,
    /// `id` of the next `emsg`.
    next_event_id: u32,
}

impl Fmp4 {
    fn finish_pending(&mut self, end_ticks: u64) {
        if let Some((dts, cts, key, data)) = self.pending_video.take() {
            let duration = u32::try_from(end_ticks.saturating_sub(dts)).unwrap_or(u32::MAX);
            self.video_base.get_or_insert(dts);
            self.video.push(FragmentSample {
                duration: duration.max(1),
                flags: SampleFlags::from_sync(key),
                cts_offset: cts,
                data,
            });
        }
    }

    /// The `moof`+`mdat` of everything since the last flush (video up to `end_ticks`).
    fn flush(&mut self, end_ticks: u64) -> Result<Bytes, PackagerError> {
        self.finish_pending(end_ticks);
        let mut fragments = Vec::with_capacity(2);
        if let Some(base) = self.video_base.take() {
            fragments.push(TrackFragment {
                track_id: FMP4_VIDEO_TRACK,
                base_media_decode_time: base,
                samples: std::mem::take(&mut self.video),
            });
        }
        if let Some(base) = self.audio_base.take() {
            fragments.push(TrackFragment {
                track_id: FMP4_AUDIO_TRACK,
                base_media_decode_time: base,
                samples: std::mem::take(&mut self.audio_samples),
            });
        }
        if fragments.is_empty() {
            // Event messages wait for a fragment to precede.
            return Ok(Bytes::new());
        }
        self.fragment_sequence = self.fragment_sequence.wrapping_add(1);
        let fragment = reelay_format_mp4::media_segment(self.fragment_sequence, &fragments)
            .map_err(media_err)?;
        if self.events.is_empty() {
            return Ok(fragment);
        }
        // AOM id3-emsg: the `emsg` boxes of a fragment come before its `moof`.
        let mut out = BytesMut::new();
        for e in self.events.drain(..) {
            out.extend_from_slice(&e);
        }
        out.extend_from_slice(&fragment);
        Ok(out.freeze())
    }
}

/// The live packager of one stream.
#[derive(Debug)]
pub struct Packager {
    config: PackagerConfig,
    avcc: Option<Bytes>,
    aac: Option<(AacConfig, Bytes)>,
    muxer: Option<Muxer>,
    fmp4: Option<Fmp4>,
    dimensions: Option<(u16, u16)>,
    base_ms: Option<i64>,
    open: Option<OpenSegment>,
    last_video_ms: Option<i64>,
    last_video_delta_ms: i64,
    /// The video frame interval before `last_video_delta_ms`: with millisecond timestamps a
    /// 30 fps stream alternates 33 and 34 ms, and the smaller of the two predicts the next
    /// frame without cutting a part one frame early.
    prev_video_delta_ms: i64,
    segments: VecDeque<Segment>,
    next_sequence: u64,
    longest: Duration,
    ended: bool,
    bytes_total: u64,
    duration_total: Duration,
    /// ID3 tags waiting for the next segment (TS, before the ID3 stream is declared) or for
    /// video to start.
    pending_metadata: VecDeque<Bytes>,
    /// Samples pushed so far, media or not: what starvation detection watches.
    samples_in: u64,
    /// Recording's thumbnails: whether keyframes are kept, and the newest one (count of
    /// keyframes so far, decoding time in ms from the first keyframe, access unit).
    keep_keyframes: bool,
    last_keyframe: Option<(u64, i64, Bytes)>,
}

impl Packager {
    /// An idle packager.
    pub fn new(config: PackagerConfig) -> Packager {
        Packager {
            config,
            avcc: None,
            aac: None,
            muxer: None,
            fmp4: None,
            dimensions: None,
            base_ms: None,
            open: None,
            last_video_ms: None,
            last_video_delta_ms: 40,
            prev_video_delta_ms: 40,
            segments: VecDeque::new(),
            next_sequence: 0,
            longest: Duration::ZERO,
            ended: false,
            bytes_total: 0,
            duration_total: Duration::ZERO,
            pending_metadata: VecDeque::new(),
            samples_in: 0,
            keep_keyframes: false,
            last_keyframe: None,
        }
    }

    /// How many audio and video samples were pushed: a value that stops changing while the
    /// publisher sends no media (starvation).
    pub fn samples_in(&self) -> u64 {
        self.samples_in
    }

    /// A complete ID3v2 tag of timed metadata (`PutMetadata`), timed at the newest media.
    ///
    /// MPEG-TS: a PES on the ID3 stream (`stream_type` 0x15) with PTS = that time, written at
    /// once when the PMT already declares the stream; otherwise the stream is declared from the
    /// next segment on (so that each segment's first PMT lists every stream it carries) and the
    /// tag opens that segment. fMP4: an `emsg` (version 1, AOM ID3 scheme, 90 kHz) before the
    /// next `moof`. Tags given before video starts wait for the first segment.
    pub fn push_timed_metadata(&mut self, id3: Bytes) -> Result<(), PackagerError> {
        if self.ended {
            return Ok(());
        }
        if id3.len() > reelay_format_mp4::MAX_EMSG_MESSAGE {
            return Err(PackagerError::Limit("timed metadata size"));
        }
        let declared = self
            .muxer
            .as_ref()
            .is_some_and(|m| m.config().timed_metadata);
        let now = self.last_video_ms.map(|ms| self.ticks(ms));
        match now {
            Some(pts) if declared && self.open.is_some() => self.write(Sample::metadata(pts, &id3)),
            Some(pts) if self.fmp4.is_some() && self.open.is_some() => self.push_event(pts, &id3),
            _ => {
                if self.pending_metadata.len() >= limits::MAX_PENDING_METADATA {
                    self.pending_metadata.pop_front();
                }
                self.pending_metadata.push_back(id3);
                Ok(())
            }
        }
    }

    fn push_event(&mut self, pts: u64, id3: &[u8]) -> Result<(), PackagerError> {
        let Some(f) = &mut self.fmp4 else {
            return Ok(());
        };
        let id = f.next_event_id;
        f.next_event_id = f.next_event_id.wrapping_add(1);
        let boxed = reelay_format_mp4::emsg(&EventMessage {
            timescale: FMP4_VIDEO_TIMESCALE,
            presentation_time: pts,
            event_duration: 0,
            id,
            scheme_id_uri: reelay_format_mp4::ID3_SCHEME,
            value: "",
            message_data: id3,
        })
        .map_err(media_err)?;
        f.events.push(boxed.clone());
        self.account(boxed.len())
    }

    /// The AVC decoder configuration record (the FLV sequence header). A change after the first
    /// keyframe is refused: switching parameters mid-stream needs a discontinuity, which this
    /// packager does not write.
    pub fn set_video_config(&mut self, avcc: Bytes) -> Result<(), PackagerError> {
        if self.started() {
            if self.avcc.as_ref() == Some(&avcc) {
                return Ok(());
            }
            return Err(media_err("video configuration changed mid-stream"));
        }
        self.avcc = Some(avcc);
        Ok(())
    }

    /// The AAC `AudioSpecificConfig` (the FLV sequence header).
    pub fn set_audio_config(&mut self, asc: Bytes) -> Result<(), PackagerError> {
        let cfg = AacConfig::from_audio_specific_config(&asc).map_err(media_err)?;
        if self.started() {
            if self.aac.as_ref().map(|(_, raw)| raw) == Some(&asc) {
                return Ok(());
            }
            return Err(media_err("audio configuration changed mid-stream"));
        }
        self.aac = Some((cfg, asc));
        Ok(())
    }

    /// One AVC access unit (length-prefixed NAL units) at decoding time `dts_ms` with
    /// composition offset `cts_ms`.
    pub fn push_video(
        &mut self,
        dts_ms: i64,
        cts_ms: i32,
        keyframe: bool,
        data: &[u8],
    ) -> Result<(), PackagerError> {
        self.samples_in += 1;
        if self.ended {
            return Ok(());
        }
        if !self.started() {
            // Playback starts at the first keyframe once the decoder configuration is known.
            if !keyframe {
                return Ok(());
            }
            let Some(avcc) = self.avcc.clone() else {
                return Ok(());
            };
            match self.config.container {
                Container::Ts => {
                    let mut cfg = MuxerConfig::default().with_video(VideoTrack::LengthPrefixed {
                        codec: VideoCodec::H264,
                        record: avcc,
                    });
                    if let Some((aac, _)) = &self.aac {
                        cfg = cfg.with_audio(*aac);
                    }
                    self.muxer = Some(Muxer::new(cfg).map_err(media_err)?);
                }
                Container::Fmp4 => self.fmp4 = Some(self.new_fmp4(avcc)?),
            }
            self.base_ms = Some(dts_ms);
        }
        if let Some(prev) = self.last_video_ms
            && dts_ms > prev
        {
            self.prev_video_delta_ms = self.last_video_delta_ms;
            self.last_video_delta_ms = dts_ms - prev;
        }
        self.last_video_ms = Some(dts_ms);
        let cut = match &self.open {
            None => true,
            Some(open) => {
                keyframe
                    && u128::try_from(dts_ms - open.start_ms).unwrap_or(0)
                        >= self.config.target_segment.as_millis()
            }
        };
        if cut {
            self.close_open(dts_ms)?;
            self.open_segment(dts_ms, keyframe);
        } else if let Some(open) = &self.open {
            // The part would end at the next frame: cut before this one if that is past the
            // target (so parts stay within PART-TARGET, rfc8216bis §4.4.4.9, but for a millisecond
            // of timestamp rounding when the next interval turns out longer).
            let frame_ms = self.last_video_delta_ms.min(self.prev_video_delta_ms);
            let part_ms = dts_ms - open.part_start_ms + frame_ms;
            if u128::try_from(part_ms).unwrap_or(0) > self.config.part_target.as_millis() {
                self.cut_part(dts_ms)?;
                if let Some(open) = &mut self.open {
                    open.part_independent = keyframe;
                }
                if keyframe {
                    self.write_psi()?;
                }
            }
        }
        if keyframe && self.keep_keyframes {
            let n = self.last_keyframe.as_ref().map_or(0, |(n, _, _)| n + 1);
            let rel = dts_ms - self.base_ms.unwrap_or(dts_ms);
            self.last_keyframe = Some((n, rel, Bytes::copy_from_slice(data)));
        }
        let dts = self.ticks(dts_ms);
        let pts = self.ticks(dts_ms + i64::from(cts_ms));
        if let Some(f) = &mut self.fmp4 {
            if self.open.is_none() {
                return Ok(());
            }
            f.finish_pending(dts);
            let cts = i32::try_from(pts.saturating_sub(dts)).unwrap_or(0);
            f.pending_video = Some((dts, cts, keyframe, Bytes::copy_from_slice(data)));
            return self.account(data.len());
        }
        self.write(Sample::video(pts, dts, keyframe, data))
    }

    /// Video dimensions for the fMP4 init segment (from the encoder's metadata; the TS
    /// container needs none).
    pub fn set_dimensions(&mut self, width: u16, height: u16) {
        if !self.started() {
            self.dimensions = Some((width, height));
        }
    }

    /// The fMP4 initialization section (`EXT-X-MAP`), once video has started.
    pub fn init_segment(&self) -> Option<Bytes> {
        self.fmp4.as_ref().map(|f| f.init.clone())
    }

    /// Keep the newest keyframe for [`Packager::latest_keyframe`] (recording thumbnails); off
    /// by default, since it copies every keyframe.
    pub fn set_keep_keyframes(&mut self, keep: bool) {
        self.keep_keyframes = keep;
        if !keep {
            self.last_keyframe = None;
        }
    }

    /// The newest keyframe (with [`Packager::set_keep_keyframes`]): its number, its decoding
    /// time in milliseconds from the first keyframe, the access unit (length-prefixed NAL
    /// units) and the AVC decoder configuration record it decodes with.
    pub fn latest_keyframe(&self) -> Option<(u64, i64, Bytes, Bytes)> {
        let (n, ms, data) = self.last_keyframe.as_ref()?;
        Some((*n, *ms, data.clone(), self.avcc.clone()?))
    }

    /// The segment container.
    pub fn container(&self) -> Container {
        self.config.container
    }

    fn started(&self) -> bool {
        self.muxer.is_some() || self.fmp4.is_some()
    }

    fn has_audio(&self) -> bool {
        match (&self.muxer, &self.fmp4) {
            (Some(m), _) => m.config().audio.is_some(),
            (_, Some(f)) => f.audio.is_some(),
            _ => false,
        }
    }

    fn new_fmp4(&self, avcc: Bytes) -> Result<Fmp4, PackagerError> {
        let (width, height) = self.dimensions.unwrap_or((0, 0));
        let mut tracks = vec![TrackConfig {
            track_id: FMP4_VIDEO_TRACK,
            timescale: FMP4_VIDEO_TIMESCALE,
            language: None,
            codec: Codec::Avc(reelay_format_mp4::VideoConfig {
                fourcc: FourCc::new(b"avc1"),
                width,
                height,
                config: avcc,
            }),
            edit_media_time: None,
        }];
        let mut audio = None;
        if let Some((aac, asc)) = &self.aac {
            let rate = aac.sample_rate();
            audio = Some((rate, aac.samples_per_frame()));
            tracks.push(TrackConfig {
                track_id: FMP4_AUDIO_TRACK,
                timescale: rate,
                language: None,
                codec: Codec::Aac(AudioConfig {
                    fourcc: FourCc::new(b"mp4a"),
                    sample_rate: rate,
                    channels: u16::from(aac.channel_configuration.max(1)),
                    object_type: aac.object_type,
                    config: asc.clone(),
                }),
                edit_media_time: None,
            });
        }
        Ok(Fmp4 {
            init: reelay_format_mp4::init_segment(&tracks).map_err(media_err)?,
            audio,
            pending_video: None,
            video: Vec::new(),
            video_base: None,
            audio_samples: Vec::new(),
            audio_base: None,
            fragment_sequence: 0,
            events: Vec::new(),
            next_event_id: 0,
        })
    }

    /// Counts bytes held for the open segment against [`limits::MAX_SEGMENT_BYTES`].
    fn account(&mut self, n: usize) -> Result<(), PackagerError> {
        let Some(open) = &mut self.open else {
            return Ok(());
        };
        if open.size + n > limits::MAX_SEGMENT_BYTES {
            return Err(PackagerError::Limit("segment size (no keyframe)"));
        }
        open.size += n;
        Ok(())
    }

    /// Ends the current part at `end_ms` (fMP4: serializes its samples first).
    fn cut_part(&mut self, end_ms: i64) -> Result<(), PackagerError> {
        let end = self.ticks(end_ms);
        if let (Some(f), Some(open)) = (&mut self.fmp4, &mut self.open) {
            let bytes = f.flush(end)?;
            open.current.extend_from_slice(&bytes);
        }
        if let Some(open) = &mut self.open {
            open.cut_part(end_ms);
        }
        Ok(())
    }

    /// One raw AAC frame at `pts_ms`. Audio before the first keyframe, or without a
    /// configuration known when video started, is dropped.
    pub fn push_audio(&mut self, pts_ms: i64, data: &[u8]) -> Result<(), PackagerError> {
        self.samples_in += 1;
        if self.ended || self.open.is_none() {
            return Ok(());
        }
        if !self.has_audio() {
            return Ok(());
        }
        if let Some(f) = &mut self.fmp4 {
            let Some((rate, frame)) = f.audio else {
                return Ok(());
            };
            if f.audio_base.is_none() {
                let rel = (pts_ms - self.base_ms.unwrap_or(pts_ms) + TIMELINE_OFFSET_MS).max(0);
                f.audio_base = Some(u64::try_from(rel).unwrap_or(0) * u64::from(rate) / 1000);
            }
            f.audio_samples.push(FragmentSample {
                duration: frame,
                flags: SampleFlags::SYNC,
                cts_offset: 0,
                data: Bytes::copy_from_slice(data),
            });
            return self.account(data.len());
        }
        let pts = self.ticks(pts_ms);
        self.write(Sample::audio(pts, data))
    }

    /// The publisher stopped: the open segment is completed and the playlist gets
    /// `EXT-X-ENDLIST`.
    pub fn finish(&mut self) {
        if self.ended {
            return;
        }
        if let Some(last) = self.last_video_ms {
            // Serializing buffered fMP4 samples can only fail on limits the per-sample checks
            // already enforce; the stream ends either way.
            let _ = self.close_open(last + self.last_video_delta_ms);
        }
        self.ended = true;
    }

    /// Whether [`Packager::finish`] was called.
    pub fn is_ended(&self) -> bool {
        self.ended
    }

    /// The sequence number of the newest complete segment.
    pub fn last_sequence(&self) -> Option<u64> {
        self.segments.back().map(|s| s.sequence)
    }

    /// A retained segment.
    pub fn segment(&self, sequence: u64) -> Option<&Segment> {
        self.segments.iter().find(|s| s.sequence == sequence)
    }

    /// A value that changes whenever a part or segment is completed or the stream ends: what
    /// blocked playlist and part requests wait for.
    pub fn progress(&self) -> (Option<u64>, Option<(u64, usize)>, bool) {
        (
            self.last_sequence(),
            self.open.as_ref().map(|o| (o.sequence, o.parts.len())),
            self.ended,
        )
    }

    /// The sequence number of the segment being written.
    pub fn open_sequence(&self) -> Option<u64> {
        self.open.as_ref().map(|o| o.sequence)
    }

    /// Part `index` of segment `sequence`, complete or still open.
    pub fn part(&self, sequence: u64, index: usize) -> Option<Bytes> {
        if let Some(open) = self.open.as_ref().filter(|o| o.sequence == sequence) {
            return open.parts.get(index).map(|p| p.data.clone());
        }
        self.segment(sequence)?
            .parts
            .get(index)
            .map(|p| p.data.clone())
    }

    /// Whether a playlist holding part `part` of segment `msn` (or the whole segment when
    /// `part` is `None`) can be served, for blocking playlist reload (rfc8216bis §6.2.5.2).
    ///
    /// A part index past the last part of a segment that has since closed is, as §6.2.5.2
    /// asks, part 0 of the next segment: a client that asked for the next part of the open
    /// segment just before it closed is answered as soon as the first part of the next one
    /// exists, not when the next segment completes (which starved hls.js's buffer).
    pub fn has(&self, msn: u64, part: Option<usize>) -> bool {
        if self.ended || self.last_sequence().is_some_and(|last| last > msn) {
            return true;
        }
        if let Some(seg) = self.segment(msn) {
            return match part {
                Some(p) if p >= seg.parts.len() => self.has(msn + 1, Some(0)),
                _ => true,
            };
        }
        match (&self.open, part) {
            (Some(open), Some(p)) => open.sequence == msn && p < open.parts.len(),
            _ => false,
        }
    }

    /// Whether a request for part `index` of segment `sequence` can be answered now: the part
    /// exists, or it never will (its segment closed with fewer parts, expired or the stream
    /// ended). A preload-hinted part is requested before it exists and waits for this.
    pub fn part_settled(&self, sequence: u64, index: usize) -> bool {
        if self.ended || self.part(sequence, index).is_some() {
            return true;
        }
        match &self.open {
            Some(open) => sequence < open.sequence,
            None => self.last_sequence().is_some_and(|last| sequence <= last),
        }
    }

    /// The bytes of segment `sequence` from `offset`, and whether the segment is complete: the
    /// open segment can be read while it grows (the `EXT-X-PREFETCH` form of low latency).
    pub fn segment_bytes_from(&self, sequence: u64, offset: usize) -> Option<(Bytes, bool)> {
        if let Some(seg) = self.segment(sequence) {
            let from = offset.min(seg.data.len());
            return Some((seg.data.slice(from..), true));
        }
        let open = self.open.as_ref().filter(|o| o.sequence == sequence)?;
        // Only whole parts are handed out, so every chunk ends on a TS packet boundary.
        let mut out = BytesMut::new();
        let mut pos = 0usize;
        for part in &open.parts {
            let end = pos + part.data.len();
            if end > offset {
                let from = offset.saturating_sub(pos);
                out.extend_from_slice(&part.data[from..]);
            }
            pos = end;
        }
        Some((out.freeze(), false))
    }

    /// The RFC 6381 codecs of the stream, once video has started.
    pub fn codecs(&self) -> Option<String> {
        let avcc = self.avcc.as_ref()?;
        let mut codecs = reelay_manifest_hls::codecs::avc(b"avc1", avcc).ok()?;
        if self.has_audio()
            && let Some((_, asc)) = &self.aac
            && let Ok(a) = reelay_manifest_hls::codecs::aac(asc)
        {
            codecs.push(',');
            codecs.push_str(&a);
        }
        Some(codecs)
    }

    /// Average bit rate of the segments packaged so far, in bits per second.
    pub fn average_bandwidth(&self) -> Option<u64> {
        let secs = self.duration_total.as_secs_f64();
        (secs > 0.0).then(|| (self.bytes_total as f64 * 8.0 / secs) as u64)
    }

    /// Peak bit rate over the retained segments, in bits per second.
    pub fn peak_bandwidth(&self) -> Option<u64> {
        self.segments
            .iter()
            .filter(|s| !s.duration.is_zero())
            .map(|s| (s.data.len() as f64 * 8.0 / s.duration.as_secs_f64()) as u64)
            .max()
    }

    /// The live media playlist: the newest `playlist_window` segments, with `EXT-X-ENDLIST`
    /// once the stream ended. `segment_uri` names a segment by its sequence number; `init_uri`
    /// is the `EXT-X-MAP` of fMP4 (unused for TS).
    pub fn media_playlist(&self, segment_uri: impl Fn(u64) -> String, init_uri: &str) -> String {
        let listed = self.listed();
        let mut playlist = MediaPlaylist {
            target_duration: self.target_duration(),
            media_sequence: listed.first().map_or(self.next_sequence, |s| s.sequence),
            independent_segments: true,
            segments: listed
                .iter()
                .map(|s| MediaSegment {
                    uri: segment_uri(s.sequence),
                    duration: s.duration,
                    ..Default::default()
                })
                .collect(),
            end_list: self.ended,
            ..Default::default()
        };
        self.apply_map(&mut playlist, init_uri);
        // The writer fails only on values that cannot be written (e.g. control characters in
        // a URI); ours are generated, so an empty playlist is only a fallback.
        playlist.write().unwrap_or_default()
    }

    /// The low-latency media playlist: [`Packager::media_playlist`] plus partial segments,
    /// a preload hint for the next part, blocking reload (rfc8216bis §4.4.3.7-8, §4.4.4.9,
    /// §4.4.5.3) and an `EXT-X-PREFETCH` line for the segment being written.
    pub fn low_latency_playlist(
        &self,
        segment_uri: impl Fn(u64) -> String,
        part_uri: impl Fn(u64, usize) -> String,
        init_uri: &str,
    ) -> String {
        let listed = self.listed();
        let parts_of = |seq: u64, parts: &[PartInfo]| -> Vec<Part> {
            parts
                .iter()
                .enumerate()
                .map(|(i, p)| Part {
                    uri: part_uri(seq, i),
                    duration: p.duration,
                    independent: p.independent,
                    byte_range: None,
                })
                .collect()
        };
        let mut playlist = MediaPlaylist {
            target_duration: self.target_duration(),
            media_sequence: listed.first().map_or(self.next_sequence, |s| s.sequence),
            independent_segments: true,
            server_control: Some(ServerControl {
                can_block_reload: true,
                hold_back: None,
                // rfc8216bis §4.4.3.8: at least twice the part target; three is the advice.
                part_hold_back: Some(self.config.part_target * 3),
            }),
            part_target: Some(self.config.part_target),
            segments: listed
                .iter()
                .map(|s| MediaSegment {
                    uri: segment_uri(s.sequence),
                    duration: s.duration,
                    parts: parts_of(s.sequence, &s.parts),
                    ..Default::default()
                })
                .collect(),
            end_list: self.ended,
            ..Default::default()
        };
        if !self.ended
            && let Some(open) = &self.open
        {
            playlist.trailing_parts = parts_of(open.sequence, &open.parts);
            playlist.preload_hints = vec![PreloadHint {
                kind: PreloadHintType::Part,
                uri: part_uri(open.sequence, open.parts.len()),
                byte_range_start: None,
                byte_range_length: None,
            }];
            playlist.prefetch = vec![segment_uri(open.sequence)];
        }
        self.apply_map(&mut playlist, init_uri);
        playlist.write().unwrap_or_default()
    }

    /// `EXT-X-TARGETDURATION`, in seconds. §4.3.3.1: the target may not change, so it is the
    /// longest segment ever cut.
    fn target_duration(&self) -> u64 {
        let target_secs = self.config.target_segment.as_secs_f64().ceil() as u64;
        let longest = self.longest.as_secs() + u64::from(self.longest.subsec_nanos() > 0);
        target_secs.max(longest)
    }

    /// How many of the newest segments the playlist lists: at least `playlist_window`, and
    /// enough to span three target durations (RFC 8216 §6.2.2) when the segments retained allow.
    fn listed_count(&self) -> usize {
        let min = Duration::from_secs(self.target_duration() * 3);
        let mut total = Duration::ZERO;
        let mut n = 0;
        for s in self.segments.iter().rev() {
            if n >= self.config.playlist_window && total >= min {
                break;
            }
            total += s.duration;
            n += 1;
        }
        n
    }

    fn listed(&self) -> Vec<&Segment> {
        let skip = self.segments.len() - self.listed_count();
        self.segments.iter().skip(skip).collect()
    }

    /// The multivariant playlist with one variant at `media_uri`, once codecs are known.
    pub fn multivariant_playlist(
        &self,
        media_uri: &str,
        resolution: Option<(u64, u64)>,
        frame_rate: Option<f64>,
    ) -> Option<String> {
        let codecs = self.codecs()?;
        let average = self.average_bandwidth();
        let bandwidth = self.peak_bandwidth().or(average).unwrap_or(2_500_000);
        let playlist = MultivariantPlaylist {
            independent_segments: true,
            variants: vec![VariantStream {
                uri: media_uri.to_string(),
                bandwidth,
                average_bandwidth: average,
                codecs: Some(codecs),
                resolution: resolution
                    .map(|(width, height)| reelay_manifest_hls::Resolution { width, height }),
                frame_rate,
                ..Default::default()
            }],
            ..Default::default()
        };
        playlist.write().ok()
    }

    /// fMP4: the init section applies to every following segment (§4.3.2.5), so one
    /// `EXT-X-MAP` before the first listed segment suffices.
    fn apply_map(&self, playlist: &mut MediaPlaylist, init_uri: &str) {
        if self.config.container != Container::Fmp4 || self.fmp4.is_none() {
            return;
        }
        let map = Some(Map {
            uri: init_uri.to_string(),
            byte_range: None,
        });
        match playlist.segments.first_mut() {
            Some(first) => first.map = map,
            // The model carries EXT-X-MAP on segments only: until the first segment completes,
            // the fMP4 playlist lists no parts rather than parts without their init section.
            None => {
                playlist.trailing_parts.clear();
                playlist.preload_hints.clear();
                playlist.prefetch.clear();
            }
        }
    }

    fn ticks(&self, ms: i64) -> u64 {
        let rel = ms - self.base_ms.unwrap_or(ms) + TIMELINE_OFFSET_MS;
        u64::try_from(rel.max(0) * TICKS_PER_MS).unwrap_or(0)
    }

    fn write(&mut self, sample: Sample<'_>) -> Result<(), PackagerError> {
        let (Some(muxer), Some(open)) = (&mut self.muxer, &mut self.open) else {
            return Ok(());
        };
        let bytes = muxer.write_sample(&sample).map_err(media_err)?;
        if open.size + bytes.len() > limits::MAX_SEGMENT_BYTES {
            return Err(PackagerError::Limit("segment size (no keyframe)"));
        }
        open.size += bytes.len();
        open.current.extend_from_slice(&bytes);
        Ok(())
    }

    /// TS: PAT and PMT at the start of an `INDEPENDENT=YES` part inside a segment. A player
    /// joining the stream starts at such a part (hls.js does) and cannot find the elementary
    /// streams without them: hls.js then took the part for MPEG audio, found no media and
    /// stalled. Segments open with them anyway (`open_segment`).
    fn write_psi(&mut self) -> Result<(), PackagerError> {
        let (Some(muxer), Some(open)) = (&mut self.muxer, &mut self.open) else {
            return Ok(());
        };
        let psi = muxer.write_pat_pmt();
        if open.size + psi.len() > limits::MAX_SEGMENT_BYTES {
            return Err(PackagerError::Limit("segment size (no keyframe)"));
        }
        open.size += psi.len();
        open.current.extend_from_slice(&psi);
        Ok(())
    }

    fn open_segment(&mut self, start_ms: i64, keyframe: bool) {
        if !self.started() {
            return;
        }
        let mut current = BytesMut::new();
        if !self.pending_metadata.is_empty()
            && let Some(muxer) = &mut self.muxer
            && muxer.enable_timed_metadata().is_err()
        {
            // The muxer's PIDs are fixed by this packager and never collide.
            self.pending_metadata.clear();
        }
        // Every TS segment starts with PAT and PMT so that it decodes on its own.
        if let Some(muxer) = &mut self.muxer {
            current.extend_from_slice(&muxer.write_pat_pmt());
        }
        self.open = Some(OpenSegment {
            sequence: self.next_sequence,
            start_ms,
            parts: Vec::new(),
            part_start_ms: start_ms,
            part_independent: keyframe,
            size: current.len(),
            current,
        });
        self.next_sequence += 1;
        // Metadata that waited for this segment opens it, timed at its start.
        let pts = self.ticks(start_ms);
        while let Some(tag) = self.pending_metadata.pop_front() {
            let res = if self.fmp4.is_some() {
                self.push_event(pts, &tag)
            } else {
                self.write(Sample::metadata(pts, &tag))
            };
            if let Err(e) = res {
                tracing::debug!(error = %e, "timed metadata dropped");
            }
        }
    }

    fn close_open(&mut self, end_ms: i64) -> Result<(), PackagerError> {
        if self.open.is_none() {
            return Ok(());
        }
        self.cut_part(end_ms)?;
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let mut data = BytesMut::with_capacity(open.size);
        for part in &open.parts {
            data.extend_from_slice(&part.data);
        }
        let data = data.freeze();
        // The parts become views of the segment's bytes, so a retained segment holds its
        // media once rather than twice (the part buffers are freed once no viewer holds them).
        // `data` is the parts' concatenation in order, so every range below is in bounds.
        let mut parts = open.parts;
        let mut offset = 0;
        for part in &mut parts {
            let len = part.data.len();
            part.data = data.slice(offset..offset + len);
            offset += len;
        }
        let duration =
            Duration::from_millis(u64::try_from(end_ms - open.start_ms).unwrap_or(0).max(1));
        self.longest = self.longest.max(duration);
        self.bytes_total += data.len() as u64;
        self.duration_total += duration;
        self.segments.push_back(Segment {
            sequence: open.sequence,
            duration,
            data,
            parts,
        });
        let keep = self.listed_count() + self.config.retained;
        while self.segments.len() > keep {
            self.segments.pop_front();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal Baseline avcC with one SPS and one PPS (enough for the muxer, which only
    /// copies the parameter sets).
    fn avcc() -> Bytes {
        let sps = [0x67, 0x42, 0xC0, 0x1E, 0xDA, 0x02, 0x80, 0xBF, 0xE5];
        let pps = [0x68, 0xCE, 0x3C, 0x80];
        let mut v = vec![1, 0x42, 0xC0, 0x1E, 0xFF, 0xE1];
        v.extend_from_slice(&(sps.len() as u16).to_be_bytes());
        v.extend_from_slice(&sps);
        v.push(1);
        v.extend_from_slice(&(pps.len() as u16).to_be_bytes());
        v.extend_from_slice(&pps);
        Bytes::from(v)
    }

    /// One length-prefixed NAL unit: IDR slice for keyframes, non-IDR otherwise.
    fn frame(key: bool) -> Vec<u8> {
        let nal: &[u8] = if key {
            &[0x65, 0x88, 0x84, 0x00, 0x33]
        } else {
            &[0x41, 0x9A, 0x02, 0x03]
        };
        let mut v = (nal.len() as u32).to_be_bytes().to_vec();
        v.extend_from_slice(nal);
        v
    }

    fn packager() -> Packager {
        let mut p = Packager::new(PackagerConfig::default());
        p.set_video_config(avcc()).unwrap();
        // AAC LC, 48 kHz, stereo.
        p.set_audio_config(Bytes::from_static(&[0x11, 0x90]))
            .unwrap();
        p
    }

    /// Feeds `seconds` of 25 fps video with a keyframe every `gop` frames and AAC every ~21 ms.
    fn feed(p: &mut Packager, start_ms: i64, seconds: i64, gop: i64) {
        let frames = seconds * 25;
        for i in 0..frames {
            let t = start_ms + i * 40;
            p.push_video(t, 0, i % gop == 0, &frame(i % gop == 0))
                .unwrap();
            p.push_audio(t, &[0x21, 0x10, 0x05]).unwrap();
            p.push_audio(t + 21, &[0x21, 0x10, 0x05]).unwrap();
        }
    }

    #[test]
    fn segments_are_cut_at_keyframes_after_the_target() {
        let mut p = packager();
        feed(&mut p, 0, 9, 50);
        // Keyframes every 2 s: segments [0,2) [2,4) [4,6) [6,8) complete, [8,..) open.
        assert_eq!(p.last_sequence(), Some(3));
        let s = p.segment(1).unwrap();
        assert_eq!(s.duration, Duration::from_secs(2));
        assert_eq!(s.data.len() % 188, 0);
        assert_eq!(s.data[0], 0x47);
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.contains("#EXT-X-TARGETDURATION:2"), "{text}");
        // Three 2 s segments span three target durations (RFC 8216 §6.2.2).
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:1"), "{text}");
        assert_eq!(text.matches("#EXTINF:2.000").count(), 3, "{text}");
        assert!(!text.contains("#EXT-X-ENDLIST"), "{text}");
        p.finish();
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.ends_with("#EXT-X-ENDLIST\n"), "{text}");
        assert!(text.contains("s4.ts"), "{text}");
        assert_eq!(p.segment(4).unwrap().duration, Duration::from_secs(1));
    }

    #[test]
    fn keyframes_closer_than_the_target_do_not_cut() {
        let mut p = packager();
        // A keyframe every 0.4 s still gives 2 s segments.
        feed(&mut p, 0, 7, 10);
        assert_eq!(p.last_sequence(), Some(2));
        assert_eq!(p.segment(0).unwrap().duration, Duration::from_secs(2));
    }

    #[test]
    fn long_gops_make_long_segments_and_raise_the_target() {
        let mut p = packager();
        feed(&mut p, 0, 13, 125);
        assert_eq!(p.segment(0).unwrap().duration, Duration::from_secs(5));
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.contains("#EXT-X-TARGETDURATION:5"), "{text}");
    }

    #[test]
    fn the_window_slides_and_old_segments_expire() {
        let mut p = packager();
        feed(&mut p, 0, 41, 50);
        // 20 complete segments; 3 listed and one more retained.
        assert_eq!(p.last_sequence(), Some(19));
        assert!(p.segment(15).is_none());
        assert!(p.segment(16).is_some());
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:17"), "{text}");
        assert_eq!(text.matches("#EXTINF").count(), 3, "{text}");
        assert!(!text.contains("s16.ts"));
    }

    #[test]
    fn the_window_spans_three_target_durations_after_a_long_segment() {
        let mut p = packager();
        feed(&mut p, 0, 8, 50);
        // One 5 s GOP raises the target duration to 5 s.
        feed(&mut p, 8000, 5, 125);
        feed(&mut p, 13000, 3, 50);
        let durations: Vec<u64> = (0..6)
            .map(|n| p.segment(n).unwrap().duration.as_secs())
            .collect();
        assert_eq!(durations, [2, 2, 2, 2, 5, 2]);
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.contains("#EXT-X-TARGETDURATION:5"), "{text}");
        // 15 s are needed: the newest six segments (2+5+2+2+2+2 s).
        assert!(text.contains("#EXT-X-MEDIA-SEQUENCE:0"), "{text}");
        assert_eq!(text.matches("#EXTINF").count(), 6, "{text}");
    }

    #[test]
    fn media_before_the_first_keyframe_or_config_is_dropped() {
        let mut p = Packager::new(PackagerConfig::default());
        p.push_video(0, 0, true, &frame(true)).unwrap();
        p.push_audio(0, &[1, 2]).unwrap();
        assert!(p.codecs().is_none());
        p.set_video_config(avcc()).unwrap();
        p.push_video(40, 0, false, &frame(false)).unwrap();
        p.finish();
        assert_eq!(p.last_sequence(), None);
        let text = p.media_playlist(|n| format!("s{n}.ts"), "init.mp4");
        assert!(text.contains("#EXT-X-ENDLIST"), "{text}");
    }

    #[test]
    fn timestamps_across_the_32_bit_wrap_stay_monotonic() {
        let mut t = Timeline::default();
        assert_eq!(t.extend(u32::MAX - 10), i64::from(u32::MAX - 10));
        assert_eq!(t.extend(5), i64::from(u32::MAX) + 6);
        assert_eq!(t.extend(3), i64::from(u32::MAX) + 4);
        let mut p = packager();
        let base = i64::from(u32::MAX) - 1000;
        feed(&mut p, base, 5, 50);
        assert_eq!(p.last_sequence(), Some(1));
    }

    #[test]
    fn codecs_and_multivariant() {
        let mut p = packager();
        feed(&mut p, 0, 3, 50);
        assert_eq!(p.codecs().as_deref(), Some("avc1.42c01e,mp4a.40.2"));
        let text = p
            .multivariant_playlist("x/source.m3u8", Some((320, 240)), Some(25.0))
            .unwrap();
        assert!(text.contains("CODECS=\"avc1.42c01e,mp4a.40.2\""), "{text}");
        assert!(text.contains("RESOLUTION=320x240"), "{text}");
        assert!(text.contains("x/source.m3u8"), "{text}");
    }

    #[test]
    fn parts_are_cut_within_the_part_target_and_rebuild_the_segment() {
        let mut p = packager();
        feed(&mut p, 0, 5, 50);
        let seg = p.segment(0).unwrap();
        // 40 ms frames, 200 ms target: ten parts of 200 ms up to the 2 s keyframe.
        let durations: Vec<u128> = seg.parts.iter().map(|x| x.duration.as_millis()).collect();
        assert_eq!(durations, vec![200; 10]);
        assert!(seg.parts[0].independent && !seg.parts[1].independent);
        let joined: Vec<u8> = seg.parts.iter().flat_map(|x| x.data.to_vec()).collect();
        assert_eq!(joined, seg.data.to_vec());
        assert!(seg.parts.iter().all(|x| x.data.len() % 188 == 0));
        // The open segment (4 s..5 s) has four parts so far.
        assert_eq!(p.open_sequence(), Some(2));
        assert!(p.part(2, 3).is_some() && p.part(2, 4).is_none());
        assert!(p.has(2, Some(3)) && !p.has(2, Some(4)) && !p.has(2, None) && p.has(1, None));
        assert!(!p.has(3, Some(0)));
        let (bytes, complete) = p.segment_bytes_from(2, 0).unwrap();
        assert!(!complete);
        assert_eq!(
            bytes.len(),
            (0..4).map(|i| p.part(2, i).unwrap().len()).sum::<usize>()
        );
        let (rest, complete) = p.segment_bytes_from(1, 188).unwrap();
        assert!(complete);
        assert_eq!(rest.len(), p.segment(1).unwrap().data.len() - 188);
    }

    #[test]
    fn thirty_fps_millisecond_timestamps_make_even_parts() {
        let mut p = packager();
        // ffmpeg's FLV timestamps: 30 fps rounded to the millisecond (0, 33, 67, 100, ...),
        // a keyframe every second.
        for i in 0..150i64 {
            let t = (i * 1000 + 15) / 30;
            p.push_video(t, 0, i % 30 == 0, &frame(i % 30 == 0))
                .unwrap();
        }
        let seg = p.segment(0).unwrap();
        assert_eq!(seg.duration, Duration::from_secs(2));
        let durations: Vec<u128> = seg.parts.iter().map(|x| x.duration.as_millis()).collect();
        // No part cut a frame early, so no one-frame part closes the segment.
        assert_eq!(durations, vec![200; 10]);
        // The keyframe at 1 s starts part 5, which carries its own PAT and PMT.
        let independent: Vec<bool> = seg.parts.iter().map(|x| x.independent).collect();
        assert_eq!(
            independent,
            [
                true, false, false, false, false, true, false, false, false, false
            ]
        );
        for (i, part) in seg.parts.iter().enumerate() {
            let (_, versions) = id3_units(&part.data);
            let pat = part.data[1] & 0x40 != 0 && part.data[1] & 0x1F == 0 && part.data[2] == 0;
            assert_eq!(pat, part.independent, "part {i}");
            assert_eq!(versions.len(), usize::from(part.independent), "part {i}");
        }
    }

    #[test]
    fn a_part_past_the_end_of_a_closed_segment_is_part_zero_of_the_next() {
        let mut p = packager();
        feed(&mut p, 0, 2, 50);
        // The keyframe at 2 s closes segment 0 with 10 parts; segment 1 has none yet.
        p.push_video(2000, 0, true, &frame(true)).unwrap();
        assert_eq!(p.segment(0).unwrap().parts.len(), 10);
        assert!(p.has(0, Some(9)) && p.has(0, None));
        // A client that asked for the next part of segment 0 waits for part 1.0, not for the
        // end of segment 1.
        assert!(!p.has(0, Some(10)) && !p.has(1, Some(0)));
        // The hinted part 0.10 will never exist: it is answered (404) at once.
        assert!(p.part_settled(0, 10) && p.part(0, 10).is_none());
        assert!(!p.part_settled(1, 0) && !p.part_settled(5, 0));
        for i in 1..6 {
            p.push_video(2000 + i * 40, 0, false, &frame(false))
                .unwrap();
        }
        assert!(p.has(0, Some(10)) && p.has(1, Some(0)) && !p.has(1, Some(1)));
        assert!(p.part_settled(1, 0));
        p.finish();
        assert!(p.part_settled(5, 0));
    }

    #[test]
    fn low_latency_playlist_has_parts_hints_and_prefetch() {
        let mut p = packager();
        feed(&mut p, 0, 5, 50);
        let text = p.low_latency_playlist(
            |n| format!("s{n}.ts"),
            |n, i| format!("s{n}.{i}.ts"),
            "init.mp4",
        );
        assert!(
            text.contains("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=0.600"),
            "{text}"
        );
        assert!(text.contains("#EXT-X-PART-INF:PART-TARGET=0.200"), "{text}");
        assert!(
            text.contains("#EXT-X-PART:DURATION=0.200,URI=\"s0.0.ts\",INDEPENDENT=YES"),
            "{text}"
        );
        assert!(text.contains("URI=\"s2.3.ts\""), "{text}");
        assert!(
            text.contains("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s2.4.ts\""),
            "{text}"
        );
        assert!(text.contains("#EXT-X-PREFETCH:s2.ts"), "{text}");
        p.finish();
        let text = p.low_latency_playlist(
            |n| format!("s{n}.ts"),
            |n, i| format!("s{n}.{i}.ts"),
            "init.mp4",
        );
        assert!(
            !text.contains("PRELOAD-HINT") && !text.contains("PREFETCH"),
            "{text}"
        );
        assert!(text.ends_with("#EXT-X-ENDLIST\n"), "{text}");
        assert!(p.has(99, Some(0)), "an ended stream never blocks");
    }

    /// The ID3 access units (PTS, payload) of a TS byte string, and the PMT versions seen.
    fn id3_units(ts: &[u8]) -> (Vec<(Option<u64>, Bytes)>, Vec<u8>) {
        let mut d = reelay_format_ts::Demuxer::new();
        d.push(ts).unwrap();
        d.finish();
        let (mut units, mut versions) = (Vec::new(), Vec::new());
        while let Some(e) = d.poll() {
            match e {
                reelay_format_ts::Event::Program(p) => versions.push(p.version),
                reelay_format_ts::Event::AccessUnit(au)
                    if au.stream_type == reelay_format_ts::StreamType::Id3 =>
                {
                    units.push((au.pts, au.data));
                }
                _ => {}
            }
        }
        (units, versions)
    }

    #[test]
    fn timed_metadata_in_ts_opens_the_next_segment_then_goes_in_at_once() {
        let mut p = packager();
        let tag = Bytes::from(reelay_format_ts::id3_txxx_tag("", "first").unwrap());
        // Before video: waits for the first segment.
        p.push_timed_metadata(tag.clone()).unwrap();
        feed(&mut p, 0, 3, 50);
        let (units, versions) = id3_units(&p.segment(0).unwrap().data);
        assert_eq!(units, [(Some(10_000 * 90), tag.clone())]);
        assert_eq!(versions, [1]);
        // Declared now: the next tag goes into the open segment, timed at the newest video.
        let second = Bytes::from(reelay_format_ts::id3_txxx_tag("", "second").unwrap());
        p.push_timed_metadata(second.clone()).unwrap();
        feed(&mut p, 3000, 3, 50);
        let (units, _) = id3_units(&p.segment(1).unwrap().data);
        assert_eq!(units, [(Some((10_000 + 2960) * 90), second)]);
        // Untouched streams keep a PMT without the ID3 stream.
        let mut plain = packager();
        feed(&mut plain, 0, 3, 50);
        let (units, versions) = id3_units(&plain.segment(0).unwrap().data);
        assert!(units.is_empty());
        assert_eq!(versions, [0]);
    }

    #[test]
    fn timed_metadata_in_fmp4_is_an_emsg_before_the_next_moof() {
        let mut p = Packager::new(PackagerConfig {
            container: Container::Fmp4,
            ..PackagerConfig::default()
        });
        p.set_video_config(avcc()).unwrap();
        feed(&mut p, 0, 1, 50);
        let tag = reelay_format_ts::id3_txxx_tag("", "hello").unwrap();
        p.push_timed_metadata(Bytes::from(tag.clone())).unwrap();
        feed(&mut p, 1000, 3, 50);
        let seg = p.segment(0).unwrap();
        let part = seg
            .parts
            .iter()
            .find(|x| &x.data[4..8] == b"emsg")
            .expect("a part opens with the emsg");
        let size = u32::from_be_bytes([part.data[0], part.data[1], part.data[2], part.data[3]]);
        let emsg = &part.data[..size as usize];
        assert_eq!(emsg[8], 1, "version 1");
        assert_eq!(&emsg[12..16], &90_000u32.to_be_bytes());
        let pts = u64::from_be_bytes(emsg[16..24].try_into().unwrap());
        assert_eq!(pts, (10_000 + 960) * 90);
        let scheme = b"https://aomedia.org/emsg/ID3\0\0";
        assert_eq!(&emsg[32..32 + scheme.len()], scheme);
        assert_eq!(&emsg[32 + scheme.len()..], &tag[..]);
        assert_eq!(&part.data[size as usize + 4..size as usize + 8], b"moof");
    }

    #[test]
    fn fragmented_mp4_segments_are_moof_mdat_parts_with_an_init_section() {
        let mut p = Packager::new(PackagerConfig {
            container: Container::Fmp4,
            ..PackagerConfig::default()
        });
        p.set_video_config(avcc()).unwrap();
        p.set_audio_config(Bytes::from_static(&[0x11, 0x90]))
            .unwrap();
        p.set_dimensions(320, 240);
        feed(&mut p, 0, 5, 50);
        let init = p.init_segment().unwrap();
        assert_eq!(&init[4..8], b"ftyp");
        let seg = p.segment(0).unwrap();
        assert_eq!(seg.duration, Duration::from_secs(2));
        assert_eq!(seg.parts.len(), 10);
        for part in &seg.parts {
            assert_eq!(&part.data[4..8], b"moof", "every part is a moof+mdat");
        }
        let joined: Vec<u8> = seg.parts.iter().flat_map(|x| x.data.to_vec()).collect();
        assert_eq!(joined, seg.data.to_vec());
        let text = p.media_playlist(|n| format!("s{n}.m4s"), "init.mp4");
        assert!(text.contains("#EXT-X-MAP:URI=\"init.mp4\""), "{text}");
        let text = p.low_latency_playlist(
            |n| format!("s{n}.m4s"),
            |n, i| format!("s{n}.{i}.m4s"),
            "init.mp4",
        );
        assert_eq!(text.matches("#EXT-X-MAP").count(), 1, "{text}");
        assert!(text.contains("URI=\"s2.0.m4s\",INDEPENDENT=YES"), "{text}");
        // A TS packager has no init section and never writes EXT-X-MAP.
        let mut ts = packager();
        feed(&mut ts, 0, 3, 50);
        assert!(ts.init_segment().is_none());
        assert!(
            !ts.media_playlist(|n| format!("s{n}.ts"), "init.mp4")
                .contains("EXT-X-MAP")
        );
    }

    #[test]
    fn fragmented_mp4_lists_no_parts_before_its_first_segment() {
        let mut p = Packager::new(PackagerConfig {
            container: Container::Fmp4,
            ..PackagerConfig::default()
        });
        p.set_video_config(avcc()).unwrap();
        feed(&mut p, 0, 1, 50);
        let text = p.low_latency_playlist(
            |n| format!("s{n}.m4s"),
            |n, i| format!("s{n}.{i}.m4s"),
            "init.mp4",
        );
        assert!(
            !text.contains("EXT-X-PART:") && !text.contains("PRELOAD-HINT"),
            "{text}"
        );
    }

    #[test]
    fn config_changes_after_start_are_refused() {
        let mut p = packager();
        feed(&mut p, 0, 1, 50);
        assert!(p.set_video_config(avcc()).is_ok());
        assert!(p.set_video_config(Bytes::from_static(&[1, 2, 3])).is_err());
        assert!(
            p.set_audio_config(Bytes::from_static(&[0x12, 0x10]))
                .is_err()
        );
    }
}
