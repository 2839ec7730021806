//! Microsoft Smooth Streaming, just in time (`MssPackage`).
//!
//! Names below the endpoint directory (MS-SSTR §2.2.1, §2.2.3):
//!
//! | Path | What |
//! |---|---|
//! | `<manifest>.ism/Manifest` | the client manifest of one `MssManifest` |
//! | `<manifest>.ism/QualityLevels(<bitrate>)/Fragments(<stream>=<start>)` | one fragment |
//!
//! The segment plan is the CMAF one ([`crate::hls::Plan::new_cmaf`]): fragments are cut at the
//! same sync samples, to the nearest whole number of GOPs, and audio follows the video's
//! boundary times. Each fragment is a `moof` with the `tfxd` box and an `mdat`
//! ([`reelay_format_mp4::smooth_fragment`]).
//!
//! Smooth has no edit list and one timescale (10 MHz) for every track, so times are mapped as
//! `T(x) = (x - media_time) / timescale + shift`: every track's presentation starts at the
//! same `shift`, the smallest that keeps every decode time non-negative (B-frame reordering,
//! AAC priming). Durations come from differences of mapped times, so rounding never drifts.
//!
//! A quality level is named by its bitrate in fragment URLs, so each track gets a bitrate
//! unique within the asset (its average bitrate, bumped by 1 b/s on a collision).

use crate::Engine;
use crate::dash::select_videos;
use crate::hls::{Built, PackError, Payload, Plan, read_samples};
use crate::index::{AssetIndex, IdxSample, TrackCodec, TrackIndex};
use bytes::Bytes;
use reelay_aws::generated::mediapackage_vod::types::{HlsPackage, MssManifest, MssPackage};
use reelay_blob::BlobStore;
use reelay_format_mp4::{FragmentSample, SampleFlags, SmoothFragment, smooth_fragment};
use reelay_manifest_mss as sstr;
use std::ops::Range;

/// The manifest timescale: 100 ns units (MS-SSTR §2.2.2.1 default).
const TIMESCALE: u64 = sstr::DEFAULT_TIMESCALE;

/// The HLS view of an MSS package: what [`Plan::new_cmaf`] plans (segment duration only).
pub fn hls_view(package: &MssPackage) -> HlsPackage {
    HlsPackage {
        segment_duration_seconds: package.segment_duration_seconds,
        use_audio_rendition_group: Some(true),
        ..Default::default()
    }
}

/// A request under a Smooth Streaming endpoint (the path after the endpoint directory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MssFile {
    /// `<manifest>.ism/Manifest`
    Manifest(String),
    /// `<manifest>.ism/QualityLevels(<bitrate>)/Fragments(<stream>=<start>)`
    Fragment {
        /// The manifest name.
        manifest: String,
        /// `QualityLevel@Bitrate`.
        bitrate: u64,
        /// `StreamIndex@Name`.
        stream: String,
        /// `c@t`.
        start: u64,
    },
}

impl MssFile {
    /// Parses a path below the endpoint directory; `None` for anything else (404).
    pub fn parse(path: &str) -> Option<MssFile> {
        let (dir, rest) = path.split_once('/')?;
        let manifest = dir.strip_suffix(".ism")?;
        if manifest.is_empty()
            || !manifest
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
        {
            return None;
        }
        if rest == "Manifest" {
            return Some(MssFile::Manifest(manifest.to_string()));
        }
        let (bitrate, stream, start) = sstr::parse_fragment_path(rest)?;
        Some(MssFile::Fragment {
            manifest: manifest.to_string(),
            bitrate,
            stream: stream.to_string(),
            start,
        })
    }
}

/// One fragment of one track: its samples and its `c@t` / `c@d`.
struct Chunk {
    samples: Range<usize>,
    t: u64,
    d: u64,
}

/// The packaging of one `MssPackage` for one asset.
pub struct Mss<'a> {
    plan: Plan<'a>,
    package: &'a MssPackage,
    /// `shift` of the module documentation, in [`TIMESCALE`] units.
    shift: i128,
    /// (track, bitrate) of every video and audio track.
    bitrates: Vec<(usize, u64)>,
}

fn scaled(x: i128, timescale: u32) -> i128 {
    let ts = i128::from(timescale.max(1));
    // Rounded to nearest.
    (x * i128::from(TIMESCALE) + ts / 2).div_euclid(ts)
}

impl<'a> Mss<'a> {
    /// Plans `package` over `index`; `view` is [`hls_view`] of the package.
    pub fn new(
        index: &'a AssetIndex,
        package: &'a MssPackage,
        view: &'a HlsPackage,
    ) -> Result<Self, PackError> {
        let plan = Plan::new_cmaf(index, view)?;
        let mut tracks = index.video_tracks();
        tracks.extend(index.audio_tracks());
        let mut shift = 0i128;
        let mut bitrates: Vec<(usize, u64)> = Vec::new();
        for &t in &tracks {
            let tr = &index.tracks[t];
            if let Some(first) = tr.samples.first() {
                let lead = i128::from(tr.media_time) - i128::from(first.dts);
                shift = shift.max(scaled(lead, tr.timescale));
            }
            let mut b = tr.average_bitrate().max(1);
            while bitrates.iter().any(|&(_, o)| o == b) {
                b += 1;
            }
            bitrates.push((t, b));
        }
        Ok(Mss {
            plan,
            package,
            shift,
            bitrates,
        })
    }

    fn index(&self) -> &'a AssetIndex {
        self.plan.index
    }

    /// `T(x)` of the module documentation for a media time of track `tr`.
    fn time(&self, tr: &TrackIndex, x: i128) -> u64 {
        let v = scaled(x - i128::from(tr.media_time), tr.timescale) + self.shift;
        u64::try_from(v.max(0)).unwrap_or(u64::MAX)
    }

    fn end_of(&self, tr: &TrackIndex, s: &IdxSample) -> u64 {
        self.time(tr, i128::from(s.dts) + i128::from(s.duration))
    }

    /// The fragments of track `t`, up to the first segment without samples.
    fn chunks(&self, t: usize) -> Vec<Chunk> {
        let tr = &self.index().tracks[t];
        let spans: Vec<Range<usize>> = self
            .plan
            .spans(t)
            .into_iter()
            .take_while(|s| !s.is_empty())
            .collect();
        let starts: Vec<u64> = spans
            .iter()
            .map(|s| self.time(tr, i128::from(tr.samples[s.start].dts)))
            .collect();
        spans
            .into_iter()
            .enumerate()
            .map(|(k, span)| {
                let end = match starts.get(k + 1) {
                    Some(&next) => next,
                    None => self.end_of(tr, &tr.samples[span.end - 1]),
                };
                Chunk {
                    t: starts[k],
                    d: end.saturating_sub(starts[k]),
                    samples: span,
                }
            })
            .collect()
    }

    fn bitrate(&self, t: usize) -> u64 {
        self.bitrates
            .iter()
            .find(|&&(tt, _)| tt == t)
            .map_or(1, |&(_, b)| b)
    }

    fn manifest(&self, name: &str) -> Result<&'a MssManifest, PackError> {
        self.package
            .mss_manifests
            .iter()
            .find(|m| m.manifest_name.as_deref().unwrap_or("index") == name)
            .ok_or_else(|| PackError::NotFound(format!("no manifest named '{name}'")))
    }

    /// (stream name, track) of every stream of a manifest: `video` holds the selected video
    /// tracks; each audio track is its own stream, `audio`, `audio_2`, ...
    fn streams(&self, m: &MssManifest) -> Vec<(String, Vec<usize>)> {
        let mut out = Vec::new();
        let videos = select_videos(self.index(), m.stream_selection.as_ref());
        if !videos.is_empty() {
            out.push(("video".to_string(), videos));
        }
        for (k, a) in self.index().audio_tracks().into_iter().enumerate() {
            let name = if k == 0 {
                "audio".to_string()
            } else {
                format!("audio_{}", k + 1)
            };
            out.push((name, vec![a]));
        }
        out
    }

    fn quality_level(&self, t: usize) -> Result<sstr::QualityLevel, PackError> {
        let tr = &self.index().tracks[t];
        match tr.codec {
            TrackCodec::Avc => Ok(sstr::QualityLevel {
                bitrate: self.bitrate(t),
                fourcc: "H264".into(),
                codec_private_data: sstr::avc_codec_private_data(&tr.config)
                    .map_err(|e| PackError::Internal(e.to_string()))?,
                size: Some((tr.width, tr.height)),
                audio: None,
            }),
            TrackCodec::Aac => Ok(sstr::QualityLevel {
                bitrate: self.bitrate(t),
                fourcc: "AACL".into(),
                codec_private_data: sstr::hex_upper(&tr.config),
                size: None,
                audio: Some(sstr::AudioAttributes::aac(tr.sample_rate, tr.channels)),
            }),
            TrackCodec::Hevc => Err(PackError::Internal(
                "Smooth Streaming output of H.265 sources is not supported".into(),
            )),
        }
    }

    /// `<manifest>.ism/Manifest`.
    pub fn manifest_xml(&self, name: &str) -> Result<String, PackError> {
        let m = self.manifest(name)?;
        let mut streams = Vec::new();
        let mut duration = 0u64;
        for (stream, tracks) in self.streams(m) {
            let Some(&first) = tracks.first() else {
                continue;
            };
            let tr = &self.index().tracks[first];
            let video = tr.codec.is_video();
            let chunks: Vec<sstr::Chunk> = self
                .chunks(first)
                .iter()
                .map(|c| sstr::Chunk { t: c.t, d: c.d })
                .collect();
            if video && let (Some(a), Some(b)) = (chunks.first(), chunks.last()) {
                duration = duration.max(b.t + b.d - a.t);
            }
            let display = tracks.iter().fold(None, |acc: Option<(u32, u32)>, &t| {
                let tr = &self.index().tracks[t];
                Some(acc.map_or((tr.width, tr.height), |(w, h)| {
                    (w.max(tr.width), h.max(tr.height))
                }))
            });
            streams.push(sstr::StreamIndex {
                kind: if video {
                    sstr::StreamType::Video
                } else {
                    sstr::StreamType::Audio
                },
                url: sstr::URL_TEMPLATE.replace("{type}", &stream),
                name: stream,
                language: tr
                    .language
                    .and_then(|l| String::from_utf8(l.to_vec()).ok())
                    .filter(|l| l != "und"),
                display: if video { display } else { None },
                quality_levels: tracks
                    .iter()
                    .map(|&t| self.quality_level(t))
                    .collect::<Result<_, _>>()?,
                chunks,
            });
        }
        let doc = sstr::SmoothStreamingMedia {
            timescale: TIMESCALE,
            duration,
            streams,
        };
        doc.write().map_err(|e| PackError::Internal(e.to_string()))
    }

    /// `<manifest>.ism/QualityLevels(<bitrate>)/Fragments(<stream>=<start>)`.
    pub async fn fragment(
        &self,
        blob: &BlobStore,
        manifest: &str,
        bitrate: u64,
        stream: &str,
        start: u64,
    ) -> Result<Bytes, PackError> {
        let nf = |m: &str| PackError::NotFound(m.to_string());
        let m = self.manifest(manifest)?;
        let (_, tracks) = self
            .streams(m)
            .into_iter()
            .find(|(n, _)| n == stream)
            .ok_or_else(|| nf("no such stream"))?;
        let t = tracks
            .into_iter()
            .find(|&t| self.bitrate(t) == bitrate)
            .ok_or_else(|| nf("no such quality level"))?;
        let chunks = self.chunks(t);
        let (k, chunk) = chunks
            .iter()
            .enumerate()
            .find(|(_, c)| c.t == start)
            .ok_or_else(|| nf("no fragment at that time"))?;
        let tr = &self.index().tracks[t];
        let samples = &tr.samples[chunk.samples.clone()];
        let data = read_samples(blob, self.index(), tr, samples).await?;
        let mut out = Vec::with_capacity(samples.len());
        for (s, d) in samples.iter().zip(data) {
            let dts = self.time(tr, i128::from(s.dts));
            let pts = self.time(tr, i128::from(s.dts) + i128::from(s.cts));
            let duration = u32::try_from(self.end_of(tr, s).saturating_sub(dts))
                .map_err(|_| PackError::Internal("sample duration beyond 32 bits".into()))?;
            let cts = i128::from(pts) - i128::from(dts);
            out.push(FragmentSample {
                duration,
                // Audio samples are all sync samples.
                flags: SampleFlags::from_sync(s.sync || tr.codec == TrackCodec::Aac),
                cts_offset: i32::try_from(cts)
                    .map_err(|_| PackError::Internal("composition offset too large".into()))?,
                data: d,
            });
        }
        smooth_fragment(&SmoothFragment {
            sequence_number: u32::try_from(k + 1).unwrap_or(u32::MAX),
            track_id: 1,
            absolute_time: chunk.t,
            duration: chunk.d,
            samples: out,
        })
        .map_err(|e| PackError::Internal(format!("smooth fragment: {e}")))
    }
}

/// `Content-Type` of a Smooth Streaming client manifest.
pub const MANIFEST_CONTENT_TYPE: &str = "application/vnd.ms-sstr+xml";

/// Serves one path of an `MssPackage` endpoint (`package` is the stored configuration),
/// through the engine's caches; returns the content type and the bytes.
pub(crate) async fn egress(
    engine: &Engine,
    index: &AssetIndex,
    package: &serde_json::Value,
    key_prefix: &str,
    path: &str,
) -> Result<(&'static str, Payload), PackError> {
    let parsed = MssFile::parse(path).ok_or_else(|| PackError::NotFound("not found".into()))?;
    let key = format!("{key_prefix}{path}");
    let content_type = match &parsed {
        MssFile::Manifest(_) => MANIFEST_CONTENT_TYPE,
        MssFile::Fragment { stream, .. } if stream.starts_with("audio") => "audio/mp4",
        MssFile::Fragment { .. } => "video/mp4",
    };
    if let Some(b) = engine.bytes.get(&key) {
        return Ok((content_type, Payload::from(b)));
    }
    if let Some(b) = engine.segments.get(&key) {
        return Ok((content_type, b.bytes));
    }
    let package: MssPackage = serde_json::from_value(package.clone())
        .map_err(|e| PackError::Internal(format!("stored package does not decode: {e}")))?;
    let view = hls_view(&package);
    let mss = Mss::new(index, &package, &view)?;
    match parsed {
        MssFile::Manifest(name) => {
            let b = Bytes::from(mss.manifest_xml(&name)?);
            engine.bytes.put(key, b.clone(), b.len());
            Ok((content_type, Payload::from(b)))
        }
        MssFile::Fragment {
            manifest,
            bitrate,
            stream,
            start,
        } => {
            let b = mss
                .fragment(&engine.deps.blob, &manifest, bitrate, &stream, start)
                .await?;
            let b = Payload::from(b);
            engine
                .segments
                .put_with(key, b.len(), || Built::kept(&b, Vec::new()));
            Ok((content_type, b))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_aws::generated::mediapackage_vod::types::StreamSelection;

    fn index() -> AssetIndex {
        crate::index::fixtures::two_renditions(100, None)
    }

    fn package() -> MssPackage {
        MssPackage {
            mss_manifests: vec![
                MssManifest::default(),
                MssManifest {
                    manifest_name: Some("one".into()),
                    stream_selection: Some(StreamSelection {
                        max_video_bits_per_second: Some(1),
                        ..Default::default()
                    }),
                },
            ],
            segment_duration_seconds: Some(2),
            ..Default::default()
        }
    }

    #[test]
    fn paths() {
        assert_eq!(
            MssFile::parse("index.ism/Manifest"),
            Some(MssFile::Manifest("index".into()))
        );
        assert_eq!(
            MssFile::parse("a-b.ism/QualityLevels(800)/Fragments(audio_2=0)"),
            Some(MssFile::Fragment {
                manifest: "a-b".into(),
                bitrate: 800,
                stream: "audio_2".into(),
                start: 0
            })
        );
        for bad in [
            "index.ism",
            "index/Manifest",
            ".ism/Manifest",
            "index.ism/manifest",
            "in.dex.ism/Manifest",
            "index.ism/QualityLevels(1)/Fragments(video=x)",
        ] {
            assert_eq!(MssFile::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn manifest_aligns_tracks_and_names_unique_bitrates() {
        let idx = index();
        let pkg = package();
        let view = hls_view(&pkg);
        let mss = Mss::new(&idx, &pkg, &view).unwrap();
        // Video starts presenting at 1024/12800 = 80 ms after its first decode time, audio at
        // 1024/48000: the shift is the larger lead, 80 ms.
        assert_eq!(mss.shift, 800_000);
        // Same average bitrate for both videos: the second is bumped.
        let (b0, b2) = (mss.bitrate(0), mss.bitrate(2));
        assert_eq!(b2, b0 + 1);
        let xml = mss.manifest_xml("index").unwrap();
        assert!(
            xml.contains(r#"TimeScale="10000000" Duration="100000000""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<StreamIndex Type="video" Name="video" Chunks="5" QualityLevels="2" Url="QualityLevels({bitrate})/Fragments(video={start time})" MaxWidth="1280" MaxHeight="720""#), "{xml}");
        assert!(
            xml.contains(r#"CodecPrivateData="000000016764001F0000000168EE""#),
            "{xml}"
        );
        assert!(xml.contains(r#"<c n="0" t="0" d="20000000"/>"#), "{xml}");
        // Audio presents its first sample (after 1024 priming samples) at the same 80 ms.
        let audio_first = 800_000 - 213_333;
        assert!(
            xml.contains(&format!(r#"<c n="0" t="{audio_first}" "#)),
            "{xml}"
        );
        assert!(
            xml.contains(r#"FourCC="AACL" SamplingRate="48000" Channels="2""#),
            "{xml}"
        );
        let one = mss.manifest_xml("one").unwrap();
        assert!(!one.contains("Type=\"video\""), "{one}");
        assert!(mss.manifest_xml("two").is_err());
    }

    #[test]
    fn chunk_durations_are_exact_sums() {
        let idx = index();
        let pkg = package();
        let view = hls_view(&pkg);
        let mss = Mss::new(&idx, &pkg, &view).unwrap();
        for t in [0, 1] {
            let chunks = mss.chunks(t);
            for w in chunks.windows(2) {
                assert_eq!(w[0].t + w[0].d, w[1].t);
            }
            let tr = &idx.tracks[t];
            let last = chunks.last().unwrap();
            assert_eq!(last.t + last.d, mss.end_of(tr, tr.samples.last().unwrap()));
        }
    }

    /// Byte-identity of every fragment (see `crate::cmaf::golden`).
    #[tokio::test]
    async fn fragments_are_unchanged() {
        let (index, stores, _dir) = crate::cmaf::golden::source().await;
        for blob in &stores {
            let pkg = MssPackage {
                mss_manifests: vec![MssManifest::default()],
                segment_duration_seconds: Some(2),
                ..Default::default()
            };
            let view = hls_view(&pkg);
            let mss = Mss::new(&index, &pkg, &view).unwrap();
            let mut d = crate::cmaf::golden::Digest::default();
            let m = mss.manifest("index").unwrap();
            for (stream, tracks) in mss.streams(m) {
                for t in tracks {
                    for c in mss.chunks(t) {
                        let b = mss
                            .fragment(blob, "index", mss.bitrate(t), &stream, c.t)
                            .await
                            .unwrap();
                        d.add(&b);
                    }
                }
            }
            assert_eq!(d.value(), (5719568701984964198, 3063477, 40));
        }
    }
}
