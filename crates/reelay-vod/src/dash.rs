//! MPEG-DASH, just in time (`DashPackage`).
//!
//! Names below the endpoint directory (relative URIs, so any prefix works):
//!
//! | File | What |
//! |---|---|
//! | `<manifest>.mpd` | the MPD of one `DashManifest` |
//! | `v<t>.init.mp4`, `a<t>.init.mp4` | init segment of video / audio track `t` (Representation `v<t>` / `a<t>`) |
//! | `v<t>.<n>.mp4`, `a<t>.<n>.mp4` | media segment `n` (from 1): `NUMBER_WITH_TIMELINE`, `NUMBER_WITH_DURATION` |
//! | `v<t>.t<time>.mp4`, `a<t>.t<time>.mp4` | the media segment starting at `<time>` (`S@t`): `TIME_WITH_TIMELINE` |
//!
//! The segment plan is the CMAF one ([`crate::hls::Plan::new_cmaf`]): the first video track is
//! cut at sync samples to the nearest whole number of GOPs (`segmentDurationSeconds`) and every
//! other track follows its boundary times, so all Representations and audio stay aligned
//! (`segmentAlignment`, `startWithSAP` 1). Segments are single-track CMAF fragments
//! (ISO/IEC 23000-19 §7.3.1), the same bytes as `CmafPackage`'s unless
//! `includeEncoderConfigurationInSegments` asks for in-band parameter sets.
//!
//! Timeline values are presentation times in each track's media timescale; the source's
//! edit-list start becomes `@presentationTimeOffset` (ISO/IEC 23009-1 §5.3.9.2), so the
//! Period starts at the first presented frame, as in the HLS and CMAF outputs.

use crate::Engine;
use crate::cmaf::track_config;
use crate::hls::{Built, PackError, Payload, Plan, read_sources};
use crate::index::{AssetIndex, TrackCodec, TrackIndex};
use bytes::Bytes;
use reelay_aws::generated::mediapackage_vod::types::{
    DashManifest, DashPackage, HlsPackage, ManifestLayout, Profile, SegmentTemplateFormat,
    StreamSelection,
};
use reelay_blob::BlobStore;
use reelay_format_mp4::{Codec, FourCc, init_segment};
use reelay_manifest_dash as mpd;
use reelay_manifest_hls::codecs;
use std::time::Duration;

/// `minBufferTimeSeconds` when the manifest does not set one (BC `DashManifest`).
const DEFAULT_MIN_BUFFER_SECS: i32 = 30;
/// Bytes a `moof` adds per sample, about; the bandwidth announced covers it.
const OVERHEAD_DIVISOR: u64 = 20;

/// The HLS view of a DASH package: what [`Plan::new_cmaf`] plans (segment duration only).
pub fn hls_view(package: &DashPackage) -> HlsPackage {
    HlsPackage {
        segment_duration_seconds: package.segment_duration_seconds,
        use_audio_rendition_group: Some(true),
        ..Default::default()
    }
}

/// A request under a DASH endpoint, parsed from the file name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DashFile {
    /// `<manifest>.mpd`
    Mpd(String),
    /// `v<t>.init.mp4` / `a<t>.init.mp4` (`true` for audio)
    Init(bool, usize),
    /// `v<t>.<n>.mp4` / `a<t>.<n>.mp4` (`n` from 1)
    Number(bool, usize, usize),
    /// `v<t>.t<time>.mp4` / `a<t>.t<time>.mp4`
    Time(bool, usize, u64),
}

/// A canonical decimal (no sign, no leading zero), so each file has exactly one name.
fn digits<T: std::str::FromStr>(s: &str, max_len: usize) -> Option<T> {
    if s.is_empty()
        || s.len() > max_len
        || !s.bytes().all(|b| b.is_ascii_digit())
        || (s.len() > 1 && s.starts_with('0'))
    {
        return None;
    }
    s.parse().ok()
}

fn track_ref(s: &str) -> Option<(bool, usize)> {
    let (audio, d) = match s.strip_prefix('v') {
        Some(d) => (false, d),
        None => (true, s.strip_prefix('a')?),
    };
    Some((audio, digits(d, 4)?))
}

impl DashFile {
    /// Parses a file name; `None` for anything else (answered 404).
    pub fn parse(name: &str) -> Option<DashFile> {
        if let Some(m) = name.strip_suffix(".mpd") {
            let ok = !m.is_empty()
                && m.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            return ok.then(|| DashFile::Mpd(m.to_string()));
        }
        let stem = name.strip_suffix(".mp4")?;
        let (t, rest) = stem.split_once('.')?;
        let (audio, t) = track_ref(t)?;
        if rest == "init" {
            return Some(DashFile::Init(audio, t));
        }
        if let Some(time) = rest.strip_prefix('t') {
            return Some(DashFile::Time(audio, t, digits(time, 20)?));
        }
        let n: usize = digits(rest, 9)?;
        (n >= 1).then_some(DashFile::Number(audio, t, n))
    }
}

/// The video tracks a `streamSelection` keeps, in its stream order (BC `StreamSelection`:
/// bounds on the video bitrate, `ORIGINAL` or by ascending / descending video bitrate).
pub(crate) fn select_videos(index: &AssetIndex, sel: Option<&StreamSelection>) -> Vec<usize> {
    let mut v = index.video_tracks();
    if let Some(sel) = sel {
        let min = sel.min_video_bits_per_second.unwrap_or(0).max(0) as u64;
        let max = sel
            .max_video_bits_per_second
            .map_or(u64::MAX, |x| x.max(0) as u64);
        v.retain(|&t| {
            let b = index.tracks[t].average_bitrate();
            b >= min && b <= max
        });
        match sel.stream_order.as_ref().map(|o| o.as_str()) {
            Some("VIDEO_BITRATE_ASCENDING") => {
                v.sort_by_key(|&t| index.tracks[t].average_bitrate());
            }
            Some("VIDEO_BITRATE_DESCENDING") => {
                v.sort_by_key(|&t| std::cmp::Reverse(index.tracks[t].average_bitrate()));
            }
            _ => {}
        }
    }
    v
}

/// The parameter-set NAL units of an `avcC` (ISO/IEC 14496-15 §5.3.3.1) or `hvcC` (§8.3.3.1)
/// record, each prefixed with the record's NAL length size, ready to go in front of a sample.
fn parameter_sets(codec: TrackCodec, config: &[u8]) -> Option<Vec<u8>> {
    let mut nals: Vec<&[u8]> = Vec::new();
    let take = |pos: &mut usize| -> Option<&[u8]> {
        let len = usize::from(u16::from_be_bytes([
            *config.get(*pos)?,
            *config.get(*pos + 1)?,
        ]));
        let nal = config.get(*pos + 2..*pos + 2 + len)?;
        *pos += 2 + len;
        Some(nal)
    };
    let length_size = match codec {
        TrackCodec::Avc => {
            let mut pos = 5;
            for mask in [0x1f, 0xff] {
                let n = config.get(pos)? & mask;
                pos += 1;
                for _ in 0..n {
                    nals.push(take(&mut pos)?);
                }
            }
            usize::from(config.get(4)? & 3) + 1
        }
        TrackCodec::Hevc => {
            let arrays = *config.get(22)?;
            let mut pos = 23;
            for _ in 0..arrays {
                pos += 1; // array_completeness, reserved, NAL_unit_type
                let n = u16::from_be_bytes([*config.get(pos)?, *config.get(pos + 1)?]);
                pos += 2;
                for _ in 0..n {
                    nals.push(take(&mut pos)?);
                }
            }
            usize::from(config.get(21)? & 3) + 1
        }
        TrackCodec::Aac => return None,
    };
    let mut out = Vec::new();
    for nal in nals {
        let len = nal.len().to_be_bytes();
        out.extend_from_slice(&len[len.len() - length_size..]);
        out.extend_from_slice(nal);
    }
    Some(out)
}

/// The packaging of one `DashPackage` for one asset.
pub struct Dash<'a> {
    plan: Plan<'a>,
    package: &'a DashPackage,
}

impl<'a> Dash<'a> {
    /// Plans `package` over `index`; `view` is [`hls_view`] of the package.
    pub fn new(
        index: &'a AssetIndex,
        package: &'a DashPackage,
        view: &'a HlsPackage,
    ) -> Result<Self, PackError> {
        Ok(Dash {
            plan: Plan::new_cmaf(index, view)?,
            package,
        })
    }

    fn index(&self) -> &'a AssetIndex {
        self.plan.index
    }

    fn in_band(&self) -> bool {
        self.package
            .include_encoder_configuration_in_segments
            .unwrap_or(false)
    }

    fn check(&self, audio: bool, t: usize) -> Result<(), PackError> {
        if audio {
            self.plan.check_audio(t)
        } else {
            self.plan.check_video(t)
        }
    }

    /// The sample entry type written: with parameter sets in the segments, `avc3` / `hev1`
    /// (ISO/IEC 14496-15 §5.4.2.1, §8.4.1.1: parameter sets may then be in-band).
    fn fourcc(&self, tr: &TrackIndex) -> [u8; 4] {
        match (tr.codec, self.in_band()) {
            (TrackCodec::Avc, true) => *b"avc3",
            (TrackCodec::Hevc, true) => *b"hev1",
            _ => tr.fourcc,
        }
    }

    fn codecs(&self, t: usize) -> Result<String, PackError> {
        let tr = &self.index().tracks[t];
        let fourcc = self.fourcc(tr);
        match tr.codec {
            TrackCodec::Avc => codecs::avc(&fourcc, &tr.config),
            TrackCodec::Hevc => codecs::hevc(&fourcc, &tr.config),
            TrackCodec::Aac => codecs::aac(&tr.config),
        }
        .map_err(|e| PackError::Internal(format!("codec string: {e}")))
    }

    /// The segments of track `t`: (earliest presentation time, duration) in its timescale,
    /// for every segment of the plan up to the first without samples (a short audio track).
    pub fn timeline(&self, t: usize) -> Vec<mpd::Segment> {
        let bounds = self.plan.bounds(t);
        let mut out = Vec::with_capacity(bounds.len());
        for (k, &(start, end)) in bounds.iter().enumerate() {
            let next = bounds.get(k + 1).map_or(end, |b| b.0);
            out.push(mpd::Segment {
                start,
                duration: next.saturating_sub(start),
            });
        }
        out
    }

    /// Peak bits per second over the segments of track `t`, plus the `moof` overhead.
    fn bandwidth(&self, t: usize) -> u64 {
        let tr = &self.index().tracks[t];
        let ts = f64::from(tr.timescale.max(1));
        let mut peak = 0u64;
        for (span, seg) in self.plan.spans(t).into_iter().zip(self.timeline(t)) {
            let bytes = crate::segment::bytes(&tr.samples[span]);
            if seg.duration > 0 {
                peak = peak.max((bytes as f64 * 8.0 * ts / seg.duration as f64) as u64);
            }
        }
        let peak = peak.max(1);
        peak + peak / OVERHEAD_DIVISOR
    }

    fn manifest(&self, name: &str) -> Result<&'a DashManifest, PackError> {
        self.package
            .dash_manifests
            .iter()
            .find(|m| m.manifest_name.as_deref().unwrap_or("index") == name)
            .ok_or_else(|| PackError::NotFound(format!("no manifest named '{name}'")))
    }

    fn template(&self, t: usize) -> Result<mpd::SegmentTemplate, PackError> {
        let tr = &self.index().tracks[t];
        let format = match self.package.segment_template_format.unwrap_or_default() {
            SegmentTemplateFormat::NumberWithTimeline => {
                mpd::SegmentTemplateFormat::NumberWithTimeline
            }
            SegmentTemplateFormat::TimeWithTimeline => mpd::SegmentTemplateFormat::TimeWithTimeline,
            SegmentTemplateFormat::NumberWithDuration => {
                mpd::SegmentTemplateFormat::NumberWithDuration
            }
        };
        let media = if format == mpd::SegmentTemplateFormat::TimeWithTimeline {
            "$RepresentationID$.t$Time$.mp4"
        } else {
            "$RepresentationID$.$Number$.mp4"
        };
        let mut segments = self.timeline(t);
        if format == mpd::SegmentTemplateFormat::NumberWithDuration {
            // @duration is the nominal segment length: the first segment of the reference cut,
            // in this track's timescale (every segment but the last has it, within a sample).
            let nominal = self.plan.reference().first().map_or(0.0, |s| s.duration);
            if let Some(first) = segments.first_mut() {
                first.duration = (nominal * f64::from(tr.timescale)).round().max(1.0) as u64;
            }
        }
        let mut tpl = mpd::SegmentTemplate::for_format(
            format,
            tr.timescale,
            "$RepresentationID$.init.mp4",
            media,
            1,
            &segments,
        )
        .map_err(|e| PackError::Internal(e.to_string()))?;
        tpl.presentation_time_offset = u64::try_from(tr.media_time).unwrap_or(0);
        Ok(tpl)
    }

    fn representation(&self, audio: bool, t: usize) -> Result<mpd::Representation, PackError> {
        let tr = &self.index().tracks[t];
        let mut r = mpd::Representation {
            id: format!("{}{t}", if audio { 'a' } else { 'v' }),
            bandwidth: self.bandwidth(t),
            codecs: Some(self.codecs(t)?),
            width: None,
            height: None,
            frame_rate: None,
            audio_sampling_rate: None,
            audio_channel_configuration: None,
            segment_template: self.template(t)?,
        };
        if audio {
            r.audio_sampling_rate = Some(tr.sample_rate);
            r.audio_channel_configuration =
                Some(mpd::AudioChannelConfiguration::channels(tr.channels.max(1)));
        } else {
            r.width = Some(tr.width);
            r.height = Some(tr.height);
            r.frame_rate = frame_rate(tr);
        }
        Ok(r)
    }

    /// `<manifest>.mpd`.
    pub fn mpd(&self, name: &str) -> Result<String, PackError> {
        let m = self.manifest(name)?;
        let mut sets = Vec::new();
        let videos = select_videos(self.index(), m.stream_selection.as_ref());
        if !videos.is_empty() {
            sets.push(mpd::AdaptationSet {
                id: Some(1),
                content_type: mpd::ContentType::Video,
                mime_type: "video/mp4".into(),
                codecs: None,
                lang: None,
                // Every Representation is cut at the same times, each segment starting with an
                // IDR (closed GOP) picture: SAP type 1 (ISO/IEC 23009-1 §5.3.3.2, Annex I).
                segment_alignment: true,
                start_with_sap: Some(1),
                representations: videos
                    .iter()
                    .map(|&v| self.representation(false, v))
                    .collect::<Result<_, _>>()?,
            });
        }
        for (k, &a) in self.index().audio_tracks().iter().enumerate() {
            let lang = self.index().tracks[a]
                .language
                .and_then(|l| String::from_utf8(l.to_vec()).ok())
                .filter(|l| l != "und" && l.bytes().all(|b| b.is_ascii_lowercase()));
            sets.push(mpd::AdaptationSet {
                id: Some(2 + u32::try_from(k).unwrap_or(u32::MAX - 2)),
                content_type: mpd::ContentType::Audio,
                mime_type: "audio/mp4".into(),
                codecs: None,
                lang,
                segment_alignment: true,
                start_with_sap: Some(1),
                representations: vec![self.representation(true, a)?],
            });
        }
        let total: f64 = self.plan.reference().iter().map(|s| s.duration).sum();
        let doc = mpd::Mpd {
            profile: match m.profile.unwrap_or_default() {
                Profile::Hbbtv15 => mpd::Profile::HbbTv15,
                Profile::None => mpd::Profile::Live,
            },
            media_presentation_duration: Duration::from_secs_f64(total.max(0.0)),
            min_buffer_time: Duration::from_secs(
                u64::try_from(m.min_buffer_time_seconds.unwrap_or(DEFAULT_MIN_BUFFER_SECS))
                    .unwrap_or(0),
            ),
            layout: match m.manifest_layout.unwrap_or_default() {
                ManifestLayout::Full => mpd::ManifestLayout::Full,
                ManifestLayout::Compact => mpd::ManifestLayout::Compact,
            },
            // `periodTriggers` ADS splits Periods at SCTE-35 markers; MP4 sources carry none,
            // so there is always exactly one Period.
            period: mpd::Period {
                id: Some("0".into()),
                adaptation_sets: sets,
            },
        };
        doc.write().map_err(|e| PackError::Internal(e.to_string()))
    }

    /// The 0-based segment index a segment file name refers to.
    pub fn segment_index(&self, file: &DashFile) -> Result<(bool, usize, usize), PackError> {
        let nf = |m: String| PackError::NotFound(m);
        let format = self.package.segment_template_format.unwrap_or_default();
        let by_time = format == SegmentTemplateFormat::TimeWithTimeline;
        let (audio, t, idx) = match *file {
            DashFile::Number(audio, t, n) if !by_time => {
                self.check(audio, t)?;
                (audio, t, n - 1)
            }
            DashFile::Time(audio, t, time) if by_time => {
                self.check(audio, t)?;
                let idx = self
                    .timeline(t)
                    .iter()
                    .position(|s| s.start == time)
                    .ok_or_else(|| nf(format!("no segment at time {time}")))?;
                (audio, t, idx)
            }
            _ => return Err(nf("not a segment of this configuration".into())),
        };
        if idx >= self.timeline(t).len() {
            return Err(nf(format!("no segment {}", idx + 1)));
        }
        Ok((audio, t, idx))
    }

    /// `v<t>.init.mp4` / `a<t>.init.mp4`.
    pub fn init(&self, audio: bool, t: usize) -> Result<Bytes, PackError> {
        self.check(audio, t)?;
        let tr = &self.index().tracks[t];
        let mut config = track_config(tr)?;
        let fourcc = FourCc::new(&self.fourcc(tr));
        match &mut config.codec {
            Codec::Avc(v) | Codec::Hevc(v) => v.fourcc = fourcc,
            _ => {}
        }
        init_segment(&[config]).map_err(|e| PackError::Internal(format!("dash init: {e}")))
    }

    /// Media segment `idx` (from 0) of track `t`.
    pub async fn segment(
        &self,
        blob: &BlobStore,
        t: usize,
        idx: usize,
    ) -> Result<Payload, PackError> {
        let tr = &self.index().tracks[t];
        let span = self
            .plan
            .spans(t)
            .into_iter()
            .nth(idx)
            .ok_or_else(|| PackError::NotFound(format!("no segment {}", idx + 1)))?;
        let samples = &tr.samples[span];
        let Some(first) = samples.first() else {
            return Err(PackError::NotFound(format!("segment {} is empty", idx + 1)));
        };
        let sources = read_sources(blob, self.index(), &[(tr, samples)]).await?;
        // The segment starts with a sync sample; its parameter sets go in front of it.
        let prefix = if self.in_band() && tr.codec.is_video() {
            parameter_sets(tr.codec, &tr.config).map(Bytes::from)
        } else {
            None
        };
        let sequence = u32::try_from(idx + 1).unwrap_or(u32::MAX);
        crate::cmaf::fmp4_segment("dash", sequence, tr, first.dts, samples, &sources, prefix)
    }
}

/// `Content-Type` of an MPD (ISO/IEC 23009-1 Annex C).
pub const MPD_CONTENT_TYPE: &str = "application/dash+xml";

/// Serves one file of a `DashPackage` endpoint (`package` is the stored configuration),
/// through the engine's caches; returns the content type and the bytes.
pub(crate) async fn egress(
    engine: &Engine,
    index: &AssetIndex,
    package: &serde_json::Value,
    key_prefix: &str,
    file: &str,
) -> Result<(&'static str, Payload), PackError> {
    let parsed = DashFile::parse(file).ok_or_else(|| PackError::NotFound("not found".into()))?;
    let key = format!("{key_prefix}{file}");
    let media_type = |audio: bool| if audio { "audio/mp4" } else { "video/mp4" };
    let content_type = match parsed {
        DashFile::Mpd(_) => MPD_CONTENT_TYPE,
        DashFile::Init(audio, _) | DashFile::Number(audio, _, _) | DashFile::Time(audio, _, _) => {
            media_type(audio)
        }
    };
    if let Some(b) = engine.bytes.get(&key) {
        return Ok((content_type, Payload::from(b)));
    }
    if let Some(b) = engine.segments.get(&key) {
        return Ok((content_type, b.bytes));
    }
    let package: DashPackage = serde_json::from_value(package.clone())
        .map_err(|e| PackError::Internal(format!("stored package does not decode: {e}")))?;
    let view = hls_view(&package);
    let dash = Dash::new(index, &package, &view)?;
    match &parsed {
        DashFile::Mpd(name) => {
            let b = Bytes::from(dash.mpd(name)?);
            engine.bytes.put(key, b.clone(), b.len());
            Ok((content_type, Payload::from(b)))
        }
        DashFile::Init(audio, t) => {
            let b = dash.init(*audio, *t)?;
            engine.bytes.put(key, b.clone(), b.len());
            Ok((content_type, Payload::from(b)))
        }
        DashFile::Number(..) | DashFile::Time(..) => {
            let (_, t, idx) = dash.segment_index(&parsed)?;
            let b = dash.segment(&engine.deps.blob, t, idx).await?;
            engine
                .segments
                .put_with(key, b.len(), || Built::kept(&b, Vec::new()));
            Ok((content_type, b))
        }
    }
}

/// `@frameRate`: exact when every sample lasts the same, else rounded to 1/1000.
fn frame_rate(tr: &TrackIndex) -> Option<mpd::FrameRate> {
    let first = tr.samples.first()?.duration;
    if first > 0 && tr.samples.iter().all(|s| s.duration == first) {
        let g = gcd(tr.timescale, first);
        return Some(mpd::FrameRate {
            num: tr.timescale / g,
            den: first / g,
        });
    }
    let secs = tr.duration_secs();
    if secs <= 0.0 {
        return None;
    }
    let milli = (tr.samples.len() as f64 / secs * 1000.0).round() as u32;
    let g = gcd(milli, 1000);
    (milli > 0).then(|| mpd::FrameRate {
        num: milli / g,
        den: 1000 / g,
    })
}

fn gcd(mut a: u32, mut b: u32) -> u32 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index() -> AssetIndex {
        crate::index::fixtures::two_renditions(400, Some(*b"eng"))
    }

    fn package(format: SegmentTemplateFormat, layout: ManifestLayout) -> DashPackage {
        DashPackage {
            dash_manifests: vec![
                DashManifest {
                    manifest_layout: Some(layout),
                    min_buffer_time_seconds: Some(8),
                    ..Default::default()
                },
                DashManifest {
                    manifest_name: Some("hd".into()),
                    profile: Some(Profile::Hbbtv15),
                    stream_selection: Some(StreamSelection {
                        min_video_bits_per_second: Some(50_000),
                        ..Default::default()
                    }),
                    ..Default::default()
                },
            ],
            segment_duration_seconds: Some(4),
            segment_template_format: Some(format),
            ..Default::default()
        }
    }

    #[test]
    fn file_names() {
        assert_eq!(
            DashFile::parse("index.mpd"),
            Some(DashFile::Mpd("index".into()))
        );
        assert_eq!(
            DashFile::parse("v0.init.mp4"),
            Some(DashFile::Init(false, 0))
        );
        assert_eq!(
            DashFile::parse("a1.3.mp4"),
            Some(DashFile::Number(true, 1, 3))
        );
        assert_eq!(
            DashFile::parse("v2.t25600.mp4"),
            Some(DashFile::Time(false, 2, 25600))
        );
        for bad in [
            "v0.0.mp4",
            ".mpd",
            "a.b.mpd",
            "x0.1.mp4",
            "v0.t.mp4",
            "v0.mp4",
            "v0.1.m4s",
            "index.m3u8",
            "v0.t-1.mp4",
            "v01.1.mp4",
            "v0.01.mp4",
            "v0.t0512.mp4",
        ] {
            assert_eq!(DashFile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn mpd_for_every_format_and_layout() {
        let idx = index();
        for format in [
            SegmentTemplateFormat::NumberWithTimeline,
            SegmentTemplateFormat::TimeWithTimeline,
            SegmentTemplateFormat::NumberWithDuration,
        ] {
            for layout in [ManifestLayout::Full, ManifestLayout::Compact] {
                let pkg = package(format, layout);
                let view = hls_view(&pkg);
                let dash = Dash::new(&idx, &pkg, &view).unwrap();
                let text = dash.mpd("index").unwrap();
                assert!(
                    text.contains(r#"mediaPresentationDuration="PT10.000S""#),
                    "{text}"
                );
                assert!(text.contains(r#"minBufferTime="PT8S""#), "{text}");
                assert!(
                    text.contains("urn:mpeg:dash:profile:isoff-live:2011"),
                    "{text}"
                );
                assert!(
                    text.contains(r#"<Representation id="v0" bandwidth="#),
                    "{text}"
                );
                assert!(
                    text.contains(
                        r#"codecs="avc1.64001f" width="1280" height="720" frameRate="25""#
                    ),
                    "{text}"
                );
                assert!(
                    text.contains(r#"codecs="mp4a.40.2" audioSamplingRate="48000""#),
                    "{text}"
                );
                assert!(text.contains(r#"lang="eng""#), "{text}");
                assert!(text.contains(r#"presentationTimeOffset="1024""#), "{text}");
                let templates = text.matches("<SegmentTemplate").count();
                let expect = match layout {
                    ManifestLayout::Full => 3,
                    ManifestLayout::Compact => 2,
                };
                assert_eq!(templates, expect, "{text}");
                match format {
                    SegmentTemplateFormat::NumberWithTimeline => {
                        // 10 s of 2 s GOPs at 4 s: 4 + 4 + 2.
                        assert!(text.contains(r#"<S t="1024" d="51200" r="1"/>"#), "{text}");
                        assert!(text.contains(r#"<S d="25600"/>"#), "{text}");
                        assert!(text.contains(
                            r#"media="$RepresentationID$.$Number$.mp4" startNumber="1""#
                        ));
                    }
                    SegmentTemplateFormat::TimeWithTimeline => {
                        assert!(text.contains(r#"media="$RepresentationID$.t$Time$.mp4""#));
                        assert!(!text.contains("startNumber"));
                    }
                    SegmentTemplateFormat::NumberWithDuration => {
                        assert!(text.contains(r#"duration="51200""#), "{text}");
                        assert!(text.contains(r#"duration="192000""#), "{text}");
                        assert!(!text.contains("SegmentTimeline"));
                    }
                }
                let hd = dash.mpd("hd").unwrap();
                assert!(
                    hd.contains("urn:hbbtv:dash:profile:isoff-live:2012"),
                    "{hd}"
                );
                assert!(
                    hd.contains(r#"id="v2""#) && !hd.contains(r#"id="v0""#),
                    "{hd}"
                );
                assert!(hd.contains(r#"minBufferTime="PT30S""#), "{hd}");
                assert!(matches!(dash.mpd("nope"), Err(PackError::NotFound(_))));
            }
        }
    }

    #[test]
    fn audio_timeline_follows_video_and_segments_resolve() {
        let idx = index();
        let pkg = package(
            SegmentTemplateFormat::TimeWithTimeline,
            ManifestLayout::Full,
        );
        let view = hls_view(&pkg);
        let dash = Dash::new(&idx, &pkg, &view).unwrap();
        let v = dash.timeline(0);
        let a = dash.timeline(1);
        assert_eq!(v.len(), 3);
        assert_eq!(a.len(), 3);
        for (sv, sa) in v.iter().zip(&a) {
            let tv = (sv.start as f64 - 1024.0) / 12800.0;
            let ta = (sa.start as f64 - 1024.0) / 48000.0;
            assert!((tv - ta).abs() < 0.03, "{tv} {ta}");
        }
        assert_eq!(
            dash.segment_index(&DashFile::Time(true, 1, a[2].start))
                .unwrap(),
            (true, 1, 2)
        );
        assert!(dash.segment_index(&DashFile::Time(true, 1, 7)).is_err());
        // Numbers are not names of a $Time$ configuration; audio is not video.
        assert!(dash.segment_index(&DashFile::Number(false, 0, 1)).is_err());
        assert!(
            dash.segment_index(&DashFile::Time(false, 1, a[0].start))
                .is_err()
        );
        assert!(dash.init(true, 0).is_err());
        let init = dash.init(false, 2).unwrap();
        assert!(init.windows(4).any(|w| w == b"avc1"));
    }

    #[test]
    fn in_band_parameter_sets() {
        let idx = index();
        let mut pkg = package(
            SegmentTemplateFormat::NumberWithTimeline,
            ManifestLayout::Compact,
        );
        pkg.include_encoder_configuration_in_segments = Some(true);
        let view = hls_view(&pkg);
        let dash = Dash::new(&idx, &pkg, &view).unwrap();
        assert!(
            dash.mpd("index")
                .unwrap()
                .contains(r#"codecs="avc3.64001f""#)
        );
        let init = dash.init(false, 0).unwrap();
        assert!(init.windows(4).any(|w| w == b"avc3"));
        assert_eq!(
            parameter_sets(TrackCodec::Avc, &idx.tracks[0].config).unwrap(),
            vec![0, 0, 0, 4, 0x67, 0x64, 0, 0x1f, 0, 0, 0, 2, 0x68, 0xee]
        );
        // Truncated records yield nothing rather than panicking.
        let cfg = &idx.tracks[0].config;
        for n in 0..cfg.len() {
            assert_eq!(parameter_sets(TrackCodec::Avc, &cfg[..n]), None, "{n}");
        }
        assert_eq!(parameter_sets(TrackCodec::Hevc, &[1; 10]), None);
    }

    #[test]
    fn frame_rates() {
        let mut tr = index().tracks[0].clone();
        assert_eq!(frame_rate(&tr), Some(mpd::FrameRate { num: 25, den: 1 }));
        tr.timescale = 30000;
        for s in &mut tr.samples {
            s.duration = 1001;
        }
        assert_eq!(
            frame_rate(&tr),
            Some(mpd::FrameRate {
                num: 30000,
                den: 1001
            })
        );
    }
}
