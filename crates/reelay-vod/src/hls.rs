//! HLS with MPEG-TS segments, just in time (`HlsPackage`).
//!
//! Names below the endpoint directory (all relative URIs, so any prefix works):
//!
//! | File | What |
//! |---|---|
//! | `<manifest>.m3u8` | multivariant playlist of one `HlsManifest` |
//! | `<manifest>.v<t>.m3u8` | media playlist of video track `t` (muxed with audio unless `useAudioRenditionGroup`) |
//! | `<manifest>.a<t>.m3u8` | media playlist of audio track `t` (audio rendition group) |
//! | `<manifest>.v<t>.iframe.m3u8` | I-frame playlist, byte ranges into the `v<t>` segments |
//! | `v<t>.<n>.ts`, `a<t>.<n>.ts` | segment `n` (from 1) |
//!
//! A `CmafPackage` is planned by the same code (see [`crate::cmaf`]): its media playlists name
//! `v<t>.init.mp4` / `a<t>.init.mp4` in `EXT-X-MAP` and fMP4 segments `v<t>.<n>.mp4` /
//! `a<t>.<n>.mp4`; audio is always its own rendition group and there is no I-frame playlist.
//!
//! Manifest names are letters, digits, `_` and `-`, so the dots cannot be ambiguous.

use crate::index::{AssetIndex, IdxSample, TrackCodec, TrackIndex};
use crate::segment::{self, Segment};
use bytes::{Bytes, BytesMut};
use reelay_aws::generated::mediapackage_vod::types::{HlsManifest, HlsPackage};
use reelay_blob::BlobStore;
use reelay_format_ts::{AacConfig, Muxer, MuxerConfig, Sample, VideoCodec, VideoTrack};
use reelay_manifest_hls as hls;
use std::ops::Range;
use std::time::Duration;

/// Time added to every TS timestamp so that samples before the edit list's start (B-frame
/// reordering, AAC priming) keep positive timestamps: 10 s, in 90 kHz units.
const TS_OFFSET: i64 = 900_000;
/// Largest contiguous range read from a source for one segment; beyond it, reads are split.
const MAX_RUN_BYTES: u64 = 16 * 1024 * 1024;
/// A gap between samples up to this size is read through rather than split.
const MAX_GAP_BYTES: u64 = 256 * 1024;

/// A request under an HLS endpoint, parsed from the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsFile {
    /// `<manifest>.m3u8`
    Multivariant(String),
    /// `<manifest>.v<t>.m3u8` / `<manifest>.a<t>.m3u8` (`true` for audio)
    Media(String, bool, usize),
    /// `<manifest>.v<t>.iframe.m3u8`
    IFrames(String, usize),
    /// `v<t>.<n>.ts` / `a<t>.<n>.ts` (`true` for audio; `n` from 1)
    Segment(bool, usize, usize),
    /// `v<t>.init.mp4` / `a<t>.init.mp4`: CMAF init segment (`true` for audio)
    Init(bool, usize),
    /// `v<t>.<n>.mp4` / `a<t>.<n>.mp4`: CMAF media segment (`true` for audio; `n` from 1)
    Fragment(bool, usize, usize),
}

fn track_ref(s: &str) -> Option<(bool, usize)> {
    let (audio, digits) = match s.strip_prefix('v') {
        Some(d) => (false, d),
        None => (true, s.strip_prefix('a')?),
    };
    if digits.is_empty() || digits.len() > 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((audio, digits.parse().ok()?))
}

impl HlsFile {
    /// Parses a file name; `None` for anything else (answered 404).
    pub fn parse(name: &str) -> Option<HlsFile> {
        if let Some(stem) = name.strip_suffix(".mp4") {
            let (t, n) = stem.split_once('.')?;
            let (audio, t) = track_ref(t)?;
            if n == "init" {
                return Some(HlsFile::Init(audio, t));
            }
            if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: usize = n.parse().ok()?;
            return (n >= 1).then_some(HlsFile::Fragment(audio, t, n));
        }
        if let Some(stem) = name.strip_suffix(".ts") {
            let (t, n) = stem.split_once('.')?;
            if n.is_empty() || n.len() > 9 || !n.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let n: usize = n.parse().ok()?;
            let (audio, t) = track_ref(t)?;
            return (n >= 1).then_some(HlsFile::Segment(audio, t, n));
        }
        let stem = name.strip_suffix(".m3u8")?;
        let mut parts = stem.split('.');
        let manifest = parts.next()?.to_string();
        let second = parts.next();
        let third = parts.next();
        if parts.next().is_some() || manifest.is_empty() {
            return None;
        }
        match (second, third) {
            (None, None) => Some(HlsFile::Multivariant(manifest)),
            (Some(t), None) => {
                let (audio, t) = track_ref(t)?;
                Some(HlsFile::Media(manifest, audio, t))
            }
            (Some(t), Some("iframe")) => match track_ref(t)? {
                (false, t) => Some(HlsFile::IFrames(manifest, t)),
                (true, _) => None,
            },
            _ => None,
        }
    }
}

/// What a request can fail with.
#[derive(Debug)]
pub enum PackError {
    /// Nothing at that name (404).
    NotFound(String),
    /// Reading the source or muxing failed (500).
    Internal(String),
}

/// The packaging plan of one configuration for one asset: which tracks, where the cuts are.
pub struct Plan<'a> {
    pub(crate) index: &'a AssetIndex,
    package: &'a HlsPackage,
    /// Segments of the reference (first video) track, and the spans of every track, shared by
    /// every request for this index and segment duration.
    memo: std::sync::Arc<crate::index::PlanMemo>,
    /// fMP4 (CMAF) segments with separate audio instead of MPEG-TS.
    cmaf: bool,
}

impl<'a> Plan<'a> {
    /// Plans `package` over `index`.
    pub fn new(index: &'a AssetIndex, package: &'a HlsPackage) -> Result<Self, PackError> {
        let videos = index.video_tracks();
        let Some(&first) = videos.first() else {
            return Err(PackError::Internal("the asset has no video track".into()));
        };
        let target =
            u32::try_from(package.segment_duration_seconds.unwrap_or(6).clamp(1, 30)).unwrap_or(6);
        let memo = index.plan_memo(first, target);
        Ok(Plan {
            index,
            package,
            memo,
            cmaf: false,
        })
    }

    /// Plans a `CmafPackage`, given as its HLS view ([`crate::cmaf::hls_view`]).
    pub fn new_cmaf(index: &'a AssetIndex, package: &'a HlsPackage) -> Result<Self, PackError> {
        let mut plan = Self::new(index, package)?;
        plan.cmaf = true;
        Ok(plan)
    }

    /// Whether this plan packages CMAF (fMP4) rather than MPEG-TS.
    pub fn is_cmaf(&self) -> bool {
        self.cmaf
    }

    fn grouped_audio(&self) -> bool {
        // CMAF keeps each track in its own segments (ISO/IEC 23000-19 §7.3.1), so audio is
        // always a rendition group there.
        self.cmaf || self.package.use_audio_rendition_group.unwrap_or(false)
    }

    /// The audio track muxed into video track `v`'s segments, if any: one from the same source,
    /// else the first audio track.
    fn muxed_audio(&self, v: usize) -> Option<usize> {
        if self.grouped_audio() {
            return None;
        }
        let source = self.index.tracks[v].source;
        let audio = self.index.audio_tracks();
        self.index
            .tracks
            .iter()
            .enumerate()
            .find(|(_, t)| t.codec == TrackCodec::Aac && t.source == source)
            .map(|(i, _)| i)
            .or_else(|| audio.first().copied())
    }

    /// Segments of the reference (first video) track.
    pub(crate) fn reference(&self) -> &[Segment] {
        &self.memo.reference
    }

    /// Samples of track `t` in each segment.
    pub(crate) fn spans(&self, t: usize) -> Vec<Range<usize>> {
        self.memo.spans(self.index, t)
    }

    /// Presentation (start, end) of track `t`'s segments ([`crate::index::PlanMemo::bounds`]).
    pub(crate) fn bounds(&self, t: usize) -> Vec<(u64, u64)> {
        self.memo.bounds(self.index, t)
    }

    fn manifest(&self, name: &str) -> Result<&'a HlsManifest, PackError> {
        self.package
            .hls_manifests
            .iter()
            .find(|m| m.manifest_name.as_deref().unwrap_or("index") == name)
            .ok_or_else(|| PackError::NotFound(format!("no manifest named '{name}'")))
    }

    pub(crate) fn check_video(&self, t: usize) -> Result<(), PackError> {
        match self.index.tracks.get(t) {
            Some(tr) if tr.codec.is_video() => Ok(()),
            _ => Err(PackError::NotFound(format!("no video rendition v{t}"))),
        }
    }

    pub(crate) fn check_audio(&self, t: usize) -> Result<(), PackError> {
        if self.grouped_audio() && self.index.audio_tracks().contains(&t) {
            Ok(())
        } else {
            Err(PackError::NotFound(format!("no audio rendition a{t}")))
        }
    }

    /// Peak and average bits per second of a track's segments.
    fn bitrates(&self, t: usize) -> (u64, u64) {
        let track = &self.index.tracks[t];
        let mut peak = 0u64;
        let mut total_bytes = 0u64;
        for (seg, span) in self.reference().iter().zip(self.spans(t)) {
            let b = segment::bytes(&track.samples[span]);
            total_bytes += b;
            if seg.duration > 0.0 {
                peak = peak.max((b as f64 * 8.0 / seg.duration) as u64);
            }
        }
        let total: f64 = self.reference().iter().map(|s| s.duration).sum();
        let avg = if total > 0.0 {
            (total_bytes as f64 * 8.0 / total) as u64
        } else {
            0
        };
        (peak, avg)
    }

    fn codecs(&self, t: usize) -> Option<String> {
        let tr = &self.index.tracks[t];
        match tr.codec {
            TrackCodec::Avc => hls::codecs::avc(&tr.fourcc, &tr.config).ok(),
            TrackCodec::Hevc => hls::codecs::hevc(&tr.fourcc, &tr.config).ok(),
            TrackCodec::Aac => hls::codecs::aac(&tr.config).ok(),
        }
    }

    /// The video renditions of a manifest after its `streamSelection`, in its stream order.
    fn selected_videos(&self, m: &HlsManifest) -> Vec<usize> {
        let mut v = self.index.video_tracks();
        if let Some(sel) = &m.stream_selection {
            let min = sel.min_video_bits_per_second.unwrap_or(0).max(0) as u64;
            let max = sel
                .max_video_bits_per_second
                .map_or(u64::MAX, |x| x.max(0) as u64);
            v.retain(|&t| {
                let b = self.index.tracks[t].average_bitrate();
                b >= min && b <= max
            });
            let order = sel.stream_order.as_ref().map(|o| o.as_str().to_string());
            match order.as_deref() {
                Some("VIDEO_BITRATE_ASCENDING") => {
                    v.sort_by_key(|&t| self.index.tracks[t].average_bitrate());
                }
                Some("VIDEO_BITRATE_DESCENDING") => {
                    v.sort_by_key(|&t| std::cmp::Reverse(self.index.tracks[t].average_bitrate()));
                }
                _ => {}
            }
        }
        v
    }

    /// `<manifest>.m3u8`.
    pub fn multivariant(&self, name: &str) -> Result<String, PackError> {
        let m = self.manifest(name)?;
        let mut pl = hls::MultivariantPlaylist {
            independent_segments: true,
            ..Default::default()
        };
        let audio = if self.grouped_audio() {
            self.index.audio_tracks()
        } else {
            Vec::new()
        };
        let mut audio_peak = 0u64;
        let mut audio_avg = 0u64;
        let mut audio_codecs = None;
        for (n, &a) in audio.iter().enumerate() {
            let tr = &self.index.tracks[a];
            let (p, avg) = self.bitrates(a);
            audio_peak = audio_peak.max(p);
            audio_avg = audio_avg.max(avg);
            if audio_codecs.is_none() {
                audio_codecs = self.codecs(a);
            }
            let language = tr
                .language
                .and_then(|l| String::from_utf8(l.to_vec()).ok())
                .filter(|l| l != "und");
            pl.renditions.push(hls::Rendition {
                kind: hls::MediaType::Audio,
                group_id: "audio".into(),
                name: language
                    .clone()
                    .unwrap_or_else(|| format!("Audio {}", n + 1)),
                language,
                default: n == 0,
                autoselect: true,
                uri: Some(format!("{name}.a{a}.m3u8")),
                channels: Some(tr.channels.to_string()),
                instream_id: None,
            });
        }
        let videos = self.selected_videos(m);
        for &v in &videos {
            let tr = &self.index.tracks[v];
            let (mut peak, mut avg) = self.bitrates(v);
            let mut codecs = self.codecs(v);
            let mux = self.muxed_audio(v);
            let extra = match mux {
                Some(a) => {
                    let (p, av) = self.bitrates(a);
                    Some((p, av, self.codecs(a)))
                }
                None if !audio.is_empty() => Some((audio_peak, audio_avg, audio_codecs.clone())),
                None => None,
            };
            if let Some((p, av, c)) = extra {
                peak += p;
                avg += av;
                if let (Some(vc), Some(ac)) = (&codecs, c) {
                    codecs = Some(format!("{vc},{ac}"));
                }
            }
            let secs = tr.duration_secs();
            // MPEG-TS adds about 5-10 % of packet and PES overhead to the payload; fMP4 adds
            // a `moof` of about 16 bytes per sample, well under 5 %.
            let overhead = if self.cmaf { 20 } else { 10 };
            pl.variants.push(hls::VariantStream {
                uri: format!("{name}.v{v}.m3u8"),
                bandwidth: peak + peak / overhead,
                average_bandwidth: Some(avg + avg / overhead),
                codecs,
                resolution: Some(hls::Resolution {
                    width: u64::from(tr.width),
                    height: u64::from(tr.height),
                }),
                frame_rate: (secs > 0.0)
                    .then(|| (tr.samples.len() as f64 / secs * 1000.0).round() / 1000.0),
                audio: (!audio.is_empty()).then(|| "audio".to_string()),
                subtitles: None,
            });
        }
        // CMAF I-frame playlists would need byte ranges that include a `moof`; not offered.
        if !self.cmaf
            && m.include_iframe_only_stream.unwrap_or(false)
            && let Some(&first) = videos.first()
        {
            let tr = &self.index.tracks[first];
            let syncs = tr.samples.iter().filter(|s| s.sync).count().max(1);
            let bytes: u64 = tr
                .samples
                .iter()
                .filter(|s| s.sync)
                .map(|s| u64::from(s.size))
                .sum();
            let secs = tr.duration_secs().max(0.001);
            let _ = syncs;
            pl.i_frame_streams.push(hls::IFrameStream {
                uri: format!("{name}.v{first}.iframe.m3u8"),
                bandwidth: (bytes as f64 * 8.0 / secs * 1.1) as u64,
                average_bandwidth: None,
                codecs: self.codecs(first),
                resolution: Some(hls::Resolution {
                    width: u64::from(tr.width),
                    height: u64::from(tr.height),
                }),
            });
        }
        pl.write().map_err(|e| PackError::Internal(e.to_string()))
    }

    fn base_playlist(&self) -> hls::MediaPlaylist {
        hls::MediaPlaylist {
            playlist_type: Some(hls::PlaylistType::Vod),
            independent_segments: true,
            end_list: true,
            ..Default::default()
        }
    }

    fn apply_pdt(
        &self,
        m: &HlsManifest,
        pl: &mut hls::MediaPlaylist,
        start: Option<hls::DateTime>,
    ) {
        let interval = m.program_date_time_interval_seconds.unwrap_or(0);
        if interval > 0
            && let Some(start) = start
        {
            pl.apply_program_date_times(start, Duration::from_secs(interval as u64));
        }
    }

    /// `<manifest>.v<t>.m3u8` or `<manifest>.a<t>.m3u8`. `start` is the ingest time of the
    /// content, for `EXT-X-PROGRAM-DATE-TIME`.
    pub fn media(
        &self,
        name: &str,
        audio: bool,
        t: usize,
        start: Option<hls::DateTime>,
    ) -> Result<String, PackError> {
        let m = self.manifest(name)?;
        let prefix = if audio {
            self.check_audio(t)?;
            'a'
        } else {
            self.check_video(t)?;
            'v'
        };
        let mut pl = self.base_playlist();
        let ext = if self.cmaf { "mp4" } else { "ts" };
        for (n, seg) in self.reference().iter().enumerate() {
            pl.segments.push(hls::MediaSegment {
                uri: format!("{prefix}{t}.{}.{ext}", n + 1),
                duration: Duration::from_secs_f64(seg.duration),
                // RFC 8216 §4.3.2.5: the map applies to every following segment.
                map: (self.cmaf && n == 0).then(|| hls::Map {
                    uri: format!("{prefix}{t}.init.mp4"),
                    byte_range: None,
                }),
                ..Default::default()
            });
        }
        self.apply_pdt(m, &mut pl, start);
        pl.write().map_err(|e| PackError::Internal(e.to_string()))
    }

    /// `<manifest>.v<t>.iframe.m3u8`: one entry per sync sample, a byte range of the segment
    /// holding it. Needs the segments' layout, so every segment of the rendition is built
    /// (through `segment_of`, which caches them).
    pub async fn iframes<F, Fut>(
        &self,
        name: &str,
        t: usize,
        start: Option<hls::DateTime>,
        mut segment_of: F,
    ) -> Result<String, PackError>
    where
        F: FnMut(usize) -> Fut,
        Fut: std::future::Future<Output = Result<Built, PackError>>,
    {
        let m = self.manifest(name)?;
        if self.cmaf {
            return Err(PackError::NotFound("no I-frame playlist for CMAF".into()));
        }
        self.check_video(t)?;
        let tr = &self.index.tracks[t];
        let mut pl = self.base_playlist();
        pl.i_frames_only = true;
        let spans = self.spans(t);
        let end_time = self
            .reference()
            .last()
            .map_or(0.0, |s| s.start + s.duration);
        // Presentation times of every sync sample, to give each I-frame its duration.
        let mut times = Vec::new();
        for span in &spans {
            for s in &tr.samples[span.clone()] {
                if s.sync {
                    times.push(tr.pts_secs(s));
                }
            }
        }
        let mut k = 0usize;
        for (n, _) in spans.iter().enumerate() {
            let built = segment_of(n + 1).await?;
            for r in &built.keyframes {
                let this = times.get(k).copied().unwrap_or(end_time);
                let next = times.get(k + 1).copied().unwrap_or(end_time);
                k += 1;
                pl.segments.push(hls::MediaSegment {
                    uri: format!("v{t}.{}.ts", n + 1),
                    duration: Duration::from_secs_f64((next - this).max(0.0)),
                    byte_range: Some(hls::ByteRange {
                        length: r.end - r.start,
                        offset: Some(r.start),
                    }),
                    ..Default::default()
                });
            }
        }
        self.apply_pdt(m, &mut pl, start);
        pl.write().map_err(|e| PackError::Internal(e.to_string()))
    }

    /// Builds TS segment `n` (from 1) of `v<t>` / `a<t>`.
    pub async fn segment(
        &self,
        blob: &BlobStore,
        audio_only: bool,
        t: usize,
        n: usize,
    ) -> Result<Built, PackError> {
        if self.cmaf {
            return Err(PackError::NotFound("CMAF segments are .mp4".into()));
        }
        if audio_only {
            self.check_audio(t)?;
        } else {
            self.check_video(t)?;
        }
        let idx = n
            .checked_sub(1)
            .filter(|&i| i < self.reference().len())
            .ok_or_else(|| PackError::NotFound(format!("no segment {n}")))?;
        let mut parts: Vec<(usize, Range<usize>)> = Vec::new();
        if audio_only {
            parts.push((t, self.spans(t).swap_remove(idx)));
        } else {
            parts.push((t, self.spans(t).swap_remove(idx)));
            if let Some(a) = self.muxed_audio(t) {
                parts.push((a, self.spans(a).swap_remove(idx)));
            }
        }
        let mut config = MuxerConfig::default();
        let mut video_track = None;
        let mut audio_track = None;
        for (tr_i, _) in &parts {
            let tr = &self.index.tracks[*tr_i];
            match tr.codec {
                TrackCodec::Avc | TrackCodec::Hevc => {
                    let codec = if tr.codec == TrackCodec::Avc {
                        VideoCodec::H264
                    } else {
                        VideoCodec::H265
                    };
                    config = config.with_video(VideoTrack::LengthPrefixed {
                        codec,
                        record: Bytes::from(tr.config.clone()),
                    });
                    video_track = Some(*tr_i);
                }
                TrackCodec::Aac => {
                    let aac = AacConfig::from_audio_specific_config(&tr.config)
                        .map_err(|e| PackError::Internal(format!("audio config: {e}")))?;
                    config = config.with_audio(aac);
                    audio_track = Some(*tr_i);
                }
            }
        }
        // Every track's bytes in one pass over each source (video and its muxed audio are
        // interleaved in the same file, so their ranges merge into one read).
        let wanted: Vec<(&TrackIndex, &[IdxSample])> = parts
            .iter()
            .map(|(tr_i, span)| {
                let tr = &self.index.tracks[*tr_i];
                (tr, &tr.samples[span.clone()])
            })
            .collect();
        let sources = read_sources(blob, self.index, &wanted).await?;
        let mut items: Vec<(i64, usize, IdxSample)> = Vec::new();
        let mut es_bytes = 0usize;
        for (tr_i, span) in &parts {
            let tr = &self.index.tracks[*tr_i];
            for s in &tr.samples[span.clone()] {
                items.push((to_90k(tr, s.dts as i64), *tr_i, *s));
                es_bytes += s.size as usize;
            }
        }
        // Decode order across tracks, video first on ties (stable sort keeps per-track order).
        items.sort_by_key(|(dts, tr_i, _)| (*dts, Some(*tr_i) != video_track));
        let mut mux = Muxer::new(config).map_err(|e| PackError::Internal(format!("ts: {e}")))?;
        // Room for every packet, so the buffer is never moved: 184 payload bytes per 188, plus
        // per sample its PES / ADTS headers, delimiter, parameter sets, a PCR-only packet and
        // the last partial packet.
        let per_sample = 3 * 188 + self.index.tracks[parts[0].0].config.len();
        let mut out = BytesMut::with_capacity(
            2 * 188 + es_bytes.div_ceil(184) * 188 + items.len() * per_sample,
        );
        out.extend_from_slice(&mux.write_pat_pmt());
        let mut keyframes = Vec::new();
        for (dts90, tr_i, s) in &items {
            let tr = &self.index.tracks[*tr_i];
            let data = sources.sample(tr, s)?;
            let sample = if Some(*tr_i) == video_track {
                let pts90 = to_90k(tr, s.pts());
                Sample::video(clamp(pts90), clamp(*dts90), s.sync, &data)
            } else if Some(*tr_i) == audio_track {
                Sample::audio(clamp(*dts90), &data)
            } else {
                continue;
            };
            let at = out.len() as u64;
            mux.write_sample_into(&sample, &mut out)
                .map_err(|e| PackError::Internal(format!("ts: {e}")))?;
            if Some(*tr_i) == video_track && s.sync {
                // The first I-frame of a segment includes the PAT and PMT before it.
                let start = if keyframes.is_empty() { 0 } else { at };
                keyframes.push(start..out.len() as u64);
            }
        }
        Ok(Built {
            bytes: Payload::from(out.freeze()),
            keyframes,
        })
    }
}

/// A built segment and the byte ranges of its video keyframes.
#[derive(Debug, Clone)]
pub struct Built {
    /// The segment's bytes.
    pub bytes: Payload,
    /// Byte range of each keyframe's packets (the first from the segment start), for TS.
    pub keyframes: Vec<Range<u64>>,
}

impl Built {
    /// A copy of `bytes` to keep in a cache: one buffer of exactly its length, so the cache's
    /// weight is the memory it holds (slices of source reads would keep whole reads alive).
    pub(crate) fn kept(bytes: &Payload, keyframes: Vec<Range<u64>>) -> Built {
        Built {
            bytes: Payload::from(bytes.to_bytes()),
            keyframes,
        }
    }
}

/// A response body as a list of buffers sent one after the other: an fMP4 segment is its
/// `moof` + `mdat` header followed by slices of the buffers read from the source, so the
/// sample data is never copied in user space (the socket write is the only copy).
#[derive(Debug, Clone, Default)]
pub struct Payload {
    parts: Vec<Bytes>,
    len: usize,
}

impl From<Bytes> for Payload {
    fn from(b: Bytes) -> Self {
        Payload {
            len: b.len(),
            parts: if b.is_empty() { Vec::new() } else { vec![b] },
        }
    }
}

impl Payload {
    /// A payload of `parts` in order (empty ones are dropped).
    pub fn from_parts(parts: Vec<Bytes>) -> Self {
        let parts: Vec<Bytes> = parts.into_iter().filter(|b| !b.is_empty()).collect();
        Payload {
            len: parts.iter().map(Bytes::len).sum(),
            parts,
        }
    }

    /// Total length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The buffers, in order.
    pub fn parts(&self) -> &[Bytes] {
        &self.parts
    }

    /// Takes the buffers, in order.
    pub fn into_parts(self) -> Vec<Bytes> {
        self.parts
    }

    /// Bytes `range` (clamped to the length), still without copying.
    pub fn slice(&self, range: Range<usize>) -> Payload {
        let (start, end) = (range.start.min(self.len), range.end.min(self.len));
        let mut parts = Vec::new();
        let mut at = 0usize;
        for p in &self.parts {
            let (a, b) = (at, at + p.len());
            at = b;
            if b <= start || a >= end || start >= end {
                continue;
            }
            parts.push(p.slice(start.max(a) - a..end.min(b) - a));
        }
        Payload {
            len: end.saturating_sub(start),
            parts,
        }
    }

    /// The bytes in one buffer (a copy unless there is at most one part).
    pub fn to_bytes(&self) -> Bytes {
        match self.parts.as_slice() {
            [] => Bytes::new(),
            [one] => one.clone(),
            many => {
                let mut b = BytesMut::with_capacity(self.len);
                for p in many {
                    b.extend_from_slice(p);
                }
                b.freeze()
            }
        }
    }
}

fn to_90k(tr: &TrackIndex, t: i64) -> i64 {
    let rel = i128::from(t) - i128::from(tr.media_time);
    let v = rel * 90_000 / i128::from(tr.timescale.max(1));
    i64::try_from(v)
        .unwrap_or(i64::MAX)
        .saturating_add(TS_OFFSET)
}

fn clamp(v: i64) -> u64 {
    u64::try_from(v).unwrap_or(0)
}

/// Contiguous byte ranges covering `ranges` (start, length), in file order: ranges closer than
/// [`MAX_GAP_BYTES`] merge (the gap is read through, which costs less than another request),
/// and no run grows past [`MAX_RUN_BYTES`] unless a single range is that long.
pub(crate) fn plan_runs(mut ranges: Vec<(u64, u64)>) -> Vec<Range<u64>> {
    ranges.sort_unstable();
    let mut runs: Vec<Range<u64>> = Vec::new();
    for (offset, len) in ranges {
        let end = offset.saturating_add(len);
        match runs.last_mut() {
            Some(r)
                if offset <= r.end.saturating_add(MAX_GAP_BYTES)
                    && end.max(r.end) - r.start <= MAX_RUN_BYTES =>
            {
                r.end = r.end.max(end);
            }
            _ => runs.push(offset..end),
        }
    }
    runs
}

/// Byte ranges of one source file, held as the buffers the object store returned (no copy
/// into one contiguous buffer); sorted by offset and not overlapping.
#[derive(Debug, Default)]
pub(crate) struct SourceBytes {
    chunks: Vec<(u64, Bytes)>,
}

impl SourceBytes {
    /// Adds a buffer holding the file's bytes from `offset`.
    pub(crate) fn push(&mut self, offset: u64, b: Bytes) {
        if !b.is_empty() {
            self.chunks.push((offset, b));
        }
    }

    fn sort(&mut self) {
        self.chunks.sort_unstable_by_key(|(o, _)| *o);
    }

    /// Appends zero-copy slices covering `offset..offset + len` to `out`; `false` when some of
    /// those bytes were not read.
    pub(crate) fn pieces(&self, offset: u64, len: u64, out: &mut Vec<Bytes>) -> bool {
        let end = offset.saturating_add(len);
        let mut at = offset;
        // The last chunk starting at or before `offset`.
        let mut i = self.chunks.partition_point(|(o, _)| *o <= offset);
        if i == 0 {
            return len == 0;
        }
        i -= 1;
        while at < end {
            let Some((o, b)) = self.chunks.get(i) else {
                return false;
            };
            let b_end = o + b.len() as u64;
            if *o > at || b_end <= at {
                return false;
            }
            let stop = end.min(b_end);
            out.push(b.slice((at - o) as usize..(stop - o) as usize));
            at = stop;
            i += 1;
        }
        true
    }

    /// `offset..offset + len` as one buffer: a slice when it lies in one chunk, else a copy.
    pub(crate) fn contiguous(&self, offset: u64, len: u64) -> Option<Bytes> {
        let mut pieces = Vec::with_capacity(1);
        if !self.pieces(offset, len, &mut pieces) {
            return None;
        }
        Some(Payload::from_parts(pieces).to_bytes())
    }
}

/// The bytes of some samples of an asset's sources, by source number.
pub(crate) struct Sources {
    by_source: Vec<(u32, SourceBytes)>,
    keys: Vec<String>,
}

impl Sources {
    fn of(&self, tr: &TrackIndex) -> Result<&SourceBytes, PackError> {
        self.by_source
            .iter()
            .find(|(s, _)| *s == tr.source)
            .map(|(_, b)| b)
            .ok_or_else(|| PackError::Internal("track source was not read".into()))
    }

    fn short(&self, tr: &TrackIndex) -> PackError {
        let key = self
            .keys
            .get(tr.source as usize)
            .map_or("?", String::as_str);
        PackError::Internal(format!("source '{key}' is shorter than its index"))
    }

    /// One sample's bytes in one buffer (a slice of what was read, unless it straddles two of
    /// the store's buffers).
    pub(crate) fn sample(&self, tr: &TrackIndex, s: &IdxSample) -> Result<Bytes, PackError> {
        self.of(tr)?
            .contiguous(s.offset, u64::from(s.size))
            .ok_or_else(|| self.short(tr))
    }

    /// Zero-copy slices of `samples`' bytes in order, appended to `out`: samples that follow
    /// each other in the file become one slice.
    pub(crate) fn sample_data(
        &self,
        tr: &TrackIndex,
        samples: &[IdxSample],
        out: &mut Vec<Bytes>,
    ) -> Result<(), PackError> {
        let src = self.of(tr)?;
        let mut i = 0;
        while i < samples.len() {
            let start = samples[i].offset;
            let mut end = start + u64::from(samples[i].size);
            let mut j = i + 1;
            while j < samples.len() && samples[j].offset == end {
                end += u64::from(samples[j].size);
                j += 1;
            }
            if !src.pieces(start, end - start, out) {
                return Err(self.short(tr));
            }
            i = j;
        }
        Ok(())
    }
}

/// Reads the bytes of every sample in `wanted` (track, samples) from the sources, one range
/// read per run of nearby samples of a source across all the tracks (see [`plan_runs`]), and
/// keeps the store's buffers as they come.
pub(crate) async fn read_sources(
    blob: &BlobStore,
    index: &AssetIndex,
    wanted: &[(&TrackIndex, &[IdxSample])],
) -> Result<Sources, PackError> {
    let mut by_source: Vec<(u32, Vec<(u64, u64)>)> = Vec::new();
    for (tr, samples) in wanted {
        let k = match by_source.iter().position(|(s, _)| *s == tr.source) {
            Some(k) => k,
            None => {
                by_source.push((tr.source, Vec::new()));
                by_source.len() - 1
            }
        };
        by_source[k]
            .1
            .extend(samples.iter().map(|s| (s.offset, u64::from(s.size))));
    }
    let mut out = Sources {
        by_source: Vec::with_capacity(by_source.len()),
        keys: index.sources.clone(),
    };
    for (source, ranges) in by_source {
        let key = index
            .sources
            .get(source as usize)
            .ok_or_else(|| PackError::Internal("track source out of range".into()))?;
        let mut bytes = SourceBytes::default();
        for run in plan_runs(ranges) {
            if run.is_empty() {
                continue;
            }
            // Only a single sample can make a run longer than MAX_RUN_BYTES; the same bound
            // as the store's small-read limit keeps a hostile index from filling memory.
            if run.end - run.start > reelay_blob::limits::MAX_READ_RANGE {
                return Err(PackError::Internal(format!(
                    "source '{key}' has a sample larger than {} bytes",
                    reelay_blob::limits::MAX_READ_RANGE
                )));
            }
            let read_err =
                |e: reelay_blob::Error| PackError::Internal(format!("reading source '{key}': {e}"));
            let body = blob
                .get_object(
                    &index.bucket,
                    key,
                    Some(reelay_blob::ByteRange::FromTo(run.start, run.end - 1)),
                    &reelay_blob::Conditions::default(),
                )
                .await
                .map_err(read_err)?;
            let mut at = body.range.start;
            let mut stream = body.stream;
            while let Some(chunk) = futures::StreamExt::next(&mut stream).await {
                let chunk = chunk.map_err(read_err)?;
                let len = chunk.len() as u64;
                bytes.push(at, chunk);
                at += len;
            }
            if at < run.end {
                return Err(PackError::Internal(format!(
                    "source '{key}' is shorter than its index"
                )));
            }
        }
        bytes.sort();
        out.by_source.push((source, bytes));
    }
    Ok(out)
}

/// Reads the data of `samples` (in order) from the track's source, one buffer per sample.
pub async fn read_samples(
    blob: &BlobStore,
    index: &AssetIndex,
    tr: &TrackIndex,
    samples: &[IdxSample],
) -> Result<Vec<Bytes>, PackError> {
    let sources = read_sources(blob, index, &[(tr, samples)]).await?;
    samples.iter().map(|s| sources.sample(tr, s)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_merge_nearby_ranges_only() {
        assert_eq!(plan_runs(vec![]), Vec::<Range<u64>>::new());
        // Unsorted, overlapping, and a gap just within / just beyond MAX_GAP_BYTES.
        let runs = plan_runs(vec![
            (1000, 10),
            (0, 100),
            (50, 100),
            (150 + MAX_GAP_BYTES, 5),
            (1_000_000, 1),
        ]);
        assert_eq!(runs, vec![0..155 + MAX_GAP_BYTES, 1_000_000..1_000_001]);
        // A run stops growing at MAX_RUN_BYTES; one long range stays whole.
        let runs = plan_runs(vec![(0, MAX_RUN_BYTES), (MAX_RUN_BYTES, 1)]);
        assert_eq!(
            runs,
            vec![0..MAX_RUN_BYTES, MAX_RUN_BYTES..MAX_RUN_BYTES + 1]
        );
        assert_eq!(plan_runs(vec![(7, 3 * MAX_RUN_BYTES)]).len(), 1);
    }

    #[test]
    fn source_bytes_slice_across_buffers_without_copying_inside_one() {
        let data: Vec<u8> = (0..=255u8).cycle().take(3000).collect();
        let mut src = SourceBytes::default();
        // Buffers of 1000 bytes from offset 500, pushed out of order.
        for start in [1500usize, 500, 2500] {
            src.push(
                start as u64,
                Bytes::copy_from_slice(&data[start..(start + 1000).min(3000)]),
            );
        }
        src.sort();
        for (offset, len) in [
            (500u64, 10u64),
            (1490, 20),
            (600, 2300),
            (2999, 1),
            (500, 2500),
            (0, 0),
        ] {
            let mut out = Vec::new();
            assert!(src.pieces(offset, len, &mut out), "{offset}+{len}");
            let joined = Payload::from_parts(out.clone()).to_bytes();
            assert_eq!(&joined[..], &data[offset as usize..(offset + len) as usize]);
            // One piece per buffer touched.
            let touched = if len == 0 {
                0
            } else {
                ((offset + len - 1 - 500) / 1000 - (offset - 500) / 1000 + 1) as usize
            };
            assert_eq!(out.len(), touched, "{offset}+{len}");
            assert_eq!(src.contiguous(offset, len).unwrap(), joined);
        }
        // Bytes that were not read.
        let mut out = Vec::new();
        assert!(!src.pieces(499, 2, &mut out));
        assert!(!src.pieces(2999, 2, &mut out));
        assert!(!src.pieces(10_000, 1, &mut out));
        assert!(src.contiguous(400, 10).is_none());
        // A hole between two buffers.
        let mut holes = SourceBytes::default();
        holes.push(0, Bytes::from_static(b"abcd"));
        holes.push(10, Bytes::from_static(b"efgh"));
        assert!(!holes.pieces(2, 10, &mut out));
    }

    #[test]
    fn payload_slices_span_parts() {
        let p = Payload::from_parts(vec![
            Bytes::from_static(b"abc"),
            Bytes::new(),
            Bytes::from_static(b"defg"),
            Bytes::from_static(b"h"),
        ]);
        assert_eq!(p.len(), 8);
        assert_eq!(p.parts().len(), 3);
        assert_eq!(&p.to_bytes()[..], b"abcdefgh");
        for a in 0..=8 {
            for b in a..=10 {
                let s = p.slice(a..b);
                let want = &b"abcdefgh"[a.min(8)..b.min(8)];
                assert_eq!(&s.to_bytes()[..], want, "{a}..{b}");
                assert_eq!(s.len(), want.len());
                assert!(s.parts().iter().all(|x| !x.is_empty()));
            }
        }
        assert!(Payload::from(Bytes::new()).is_empty());
    }

    #[test]
    fn file_names() {
        assert_eq!(
            HlsFile::parse("index.m3u8"),
            Some(HlsFile::Multivariant("index".into()))
        );
        assert_eq!(
            HlsFile::parse("my_x-1.v0.m3u8"),
            Some(HlsFile::Media("my_x-1".into(), false, 0))
        );
        assert_eq!(
            HlsFile::parse("index.a3.m3u8"),
            Some(HlsFile::Media("index".into(), true, 3))
        );
        assert_eq!(
            HlsFile::parse("index.v2.iframe.m3u8"),
            Some(HlsFile::IFrames("index".into(), 2))
        );
        assert_eq!(
            HlsFile::parse("v0.12.ts"),
            Some(HlsFile::Segment(false, 0, 12))
        );
        assert_eq!(HlsFile::parse("v0.0.ts"), None);
        assert_eq!(HlsFile::parse("x0.1.ts"), None);
        assert_eq!(HlsFile::parse("index.a2.iframe.m3u8"), None);
        assert_eq!(HlsFile::parse("index.mpd"), None);
        assert_eq!(HlsFile::parse(".m3u8"), None);
        assert_eq!(HlsFile::parse("v99999.1.ts"), None);
        assert_eq!(HlsFile::parse("v1.init.mp4"), Some(HlsFile::Init(false, 1)));
        assert_eq!(HlsFile::parse("a2.init.mp4"), Some(HlsFile::Init(true, 2)));
        assert_eq!(
            HlsFile::parse("a2.7.mp4"),
            Some(HlsFile::Fragment(true, 2, 7))
        );
        assert_eq!(HlsFile::parse("v0.0.mp4"), None);
        assert_eq!(HlsFile::parse("v0.mp4"), None);
        assert_eq!(HlsFile::parse("v0.x.mp4"), None);
        assert_eq!(HlsFile::parse("index.mp4"), None);
    }
}
