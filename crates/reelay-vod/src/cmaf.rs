//! CMAF with HLS manifests, just in time (`CmafPackage`).
//!
//! A `CmafPackage` is planned like an `HlsPackage` with an audio rendition group (its
//! `HlsManifests`, `segmentDurationSeconds` and `streamSelection` mean the same), so the
//! playlists come from [`crate::hls::Plan`]; this module adds the fMP4 bytes. Each track is its
//! own CMAF track (ISO/IEC 23000-19 §7.3.1): one init segment per rendition (`track_ID` 1) and
//! one `moof` + `mdat` per segment, cut at the same sync samples as the HLS/TS segments.
//!
//! `includeEncoderConfigurationInSegments` is accepted and ignored: the parameter sets stay in
//! the init segment's `avcC` / `hvcC` only, which every HLS fMP4 player reads.

use crate::hls::{PackError, Payload, Plan, Sources, read_sources};
use crate::index::{IdxSample, TrackCodec, TrackIndex};
use bytes::Bytes;
use reelay_aws::generated::mediapackage_vod::types::{CmafPackage, HlsPackage};
use reelay_blob::BlobStore;
use reelay_format_mp4::{
    AudioConfig, Codec, FourCc, FragmentLayout, SampleFlags, SampleLayout, TrackConfig,
    VideoConfig, init_segment, media_segment_header,
};

/// `track_ID` of the single track of every CMAF init and media segment reelay writes.
const TRACK_ID: u32 = 1;

/// The HLS view of a CMAF package: what [`Plan::new_cmaf`] plans.
pub fn hls_view(package: &CmafPackage) -> HlsPackage {
    HlsPackage {
        hls_manifests: package.hls_manifests.clone(),
        segment_duration_seconds: package.segment_duration_seconds,
        use_audio_rendition_group: Some(true),
        ..Default::default()
    }
}

/// The `audioObjectType` of an AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1), with the
/// escape value 31 followed by 6 more bits.
fn audio_object_type(asc: &[u8]) -> Option<u8> {
    let first = *asc.first()? >> 3;
    if first != 31 {
        return Some(first);
    }
    let b0 = *asc.first()?;
    let b1 = *asc.get(1)?;
    Some(32 + (((b0 & 0x07) << 3) | (b1 >> 5)))
}

/// The init-segment description of an indexed track.
pub fn track_config(tr: &TrackIndex) -> Result<TrackConfig, PackError> {
    let codec = match tr.codec {
        TrackCodec::Avc | TrackCodec::Hevc => {
            let dim = |v: u32| {
                u16::try_from(v)
                    .map_err(|_| PackError::Internal("video dimensions exceed 65535".into()))
            };
            let v = VideoConfig {
                fourcc: FourCc::new(&tr.fourcc),
                width: dim(tr.width)?,
                height: dim(tr.height)?,
                config: Bytes::from(tr.config.clone()),
            };
            if tr.codec == TrackCodec::Avc {
                Codec::Avc(v)
            } else {
                Codec::Hevc(v)
            }
        }
        TrackCodec::Aac => Codec::Aac(AudioConfig {
            fourcc: FourCc::new(&tr.fourcc),
            sample_rate: tr.sample_rate,
            channels: tr.channels,
            object_type: audio_object_type(&tr.config)
                .ok_or_else(|| PackError::Internal("empty AudioSpecificConfig".into()))?,
            config: Bytes::from(tr.config.clone()),
        }),
    };
    Ok(TrackConfig {
        track_id: TRACK_ID,
        timescale: tr.timescale,
        language: tr.language,
        codec,
        // No edit list: timing is carried by `tfdt` alone, the same decode times as the
        // source, and the playlists' EXTINF durations come from the same cuts.
        edit_media_time: None,
    })
}

impl Plan<'_> {
    fn check_track(&self, audio: bool, t: usize) -> Result<(), PackError> {
        if !self.is_cmaf() {
            return Err(PackError::NotFound("not a CMAF configuration".into()));
        }
        if audio {
            self.check_audio(t)
        } else {
            self.check_video(t)
        }
    }

    /// `v<t>.init.mp4` / `a<t>.init.mp4`.
    pub fn init(&self, audio: bool, t: usize) -> Result<Bytes, PackError> {
        self.check_track(audio, t)?;
        let config = track_config(&self.index.tracks[t])?;
        init_segment(&[config]).map_err(|e| PackError::Internal(format!("cmaf init: {e}")))
    }

    /// `v<t>.<n>.mp4` / `a<t>.<n>.mp4` (`n` from 1).
    pub async fn fragment(
        &self,
        blob: &BlobStore,
        audio: bool,
        t: usize,
        n: usize,
    ) -> Result<Payload, PackError> {
        self.check_track(audio, t)?;
        let idx = n
            .checked_sub(1)
            .filter(|&i| i < self.reference().len())
            .ok_or_else(|| PackError::NotFound(format!("no segment {n}")))?;
        let sequence =
            u32::try_from(n).map_err(|_| PackError::NotFound(format!("no segment {n}")))?;
        let tr = &self.index.tracks[t];
        let span = self.spans(t).swap_remove(idx);
        let samples = &tr.samples[span];
        let Some(first) = samples.first() else {
            // A track that ends before the reference (short audio) has empty last segments;
            // a `trun` needs at least one sample, so such a segment does not exist.
            return Err(PackError::NotFound(format!("segment {n} has no samples")));
        };
        let sources = read_sources(blob, self.index, &[(tr, samples)]).await?;
        fmp4_segment("cmaf", sequence, tr, first.dts, samples, &sources, None)
    }
}

/// One track's fMP4 media segment (CMAF and DASH): a `moof` with one `traf` (`track_ID` 1,
/// decode times from `base_media_decode_time`) and an `mdat` of the samples' bytes, as slices
/// of the buffers read from the source (the response body merges them when there are too many,
/// see `http::frames`). `prefix` goes in front of the first sample's
/// bytes (in-band parameter sets) and counts in its size. `what` names the package type in
/// errors.
pub(crate) fn fmp4_segment(
    what: &str,
    sequence: u32,
    tr: &TrackIndex,
    base_media_decode_time: u64,
    samples: &[IdxSample],
    sources: &Sources,
    prefix: Option<Bytes>,
) -> Result<Payload, PackError> {
    let fail = |e: String| PackError::Internal(format!("{what} segment: {e}"));
    let extra = prefix.as_ref().map_or(0, Bytes::len);
    let layout = FragmentLayout {
        track_id: TRACK_ID,
        base_media_decode_time,
        samples: samples
            .iter()
            .enumerate()
            .map(|(k, s)| {
                let size = if k == 0 {
                    u32::try_from(s.size as usize + extra)
                        .map_err(|_| fail("sample larger than 4 GiB".into()))?
                } else {
                    s.size
                };
                Ok(SampleLayout {
                    duration: s.duration,
                    // Audio samples are all sync samples (ISO/IEC 23000-19 §9.2.1).
                    flags: SampleFlags::from_sync(s.sync || tr.codec == TrackCodec::Aac),
                    cts_offset: s.cts,
                    size,
                })
            })
            .collect::<Result<_, PackError>>()?,
    };
    let header = media_segment_header(sequence, &[layout]).map_err(|e| fail(e.to_string()))?;
    let mut parts = Vec::with_capacity(16);
    parts.push(header);
    parts.extend(prefix);
    sources.sample_data(tr, samples, &mut parts)?;
    Ok(Payload::from_parts(parts))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::{AssetIndex, IdxSample};
    use reelay_aws::generated::mediapackage_vod::types::HlsManifest;

    fn index() -> AssetIndex {
        let video = TrackIndex {
            source: 0,
            track_id: 1,
            codec: TrackCodec::Avc,
            fourcc: *b"avc1",
            config: vec![1, 0x64, 0, 0x1f, 0xff, 0xe0, 0],
            width: 320,
            height: 240,
            timescale: 12800,
            sample_rate: 0,
            channels: 0,
            language: None,
            media_time: 1024,
            samples: (0..150u32)
                .map(|i| IdxSample {
                    offset: u64::from(i) * 10,
                    size: 10,
                    dts: u64::from(i) * 512,
                    cts: 1024,
                    duration: 512,
                    sync: i % 50 == 0,
                })
                .collect(),
        };
        let audio = TrackIndex {
            media_time: 1024,
            ..crate::index::fixtures::aac_track(282, 5000)
        };
        AssetIndex {
            memo: Default::default(),
            bucket: "b".into(),
            sources: vec!["x.mp4".into()],
            tracks: vec![video, audio],
        }
    }

    fn package() -> HlsPackage {
        hls_view(&CmafPackage {
            hls_manifests: vec![HlsManifest {
                manifest_name: Some("index".into()),
                include_iframe_only_stream: Some(true),
                ..Default::default()
            }],
            segment_duration_seconds: Some(2),
            ..Default::default()
        })
    }

    #[test]
    fn playlists_map_init_segments_and_group_audio() {
        let idx = index();
        let pkg = package();
        let plan = Plan::new_cmaf(&idx, &pkg).unwrap();
        let mv = plan.multivariant("index").unwrap();
        assert!(
            mv.contains(r#"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio""#),
            "{mv}"
        );
        assert!(mv.contains(r#"URI="index.a1.m3u8""#), "{mv}");
        assert!(mv.contains(r#"AUDIO="audio""#), "{mv}");
        assert!(!mv.contains("I-FRAME"), "{mv}");
        let v = plan.media("index", false, 0, None).unwrap();
        assert_eq!(
            v.matches("#EXT-X-MAP:URI=\"v0.init.mp4\"").count(),
            1,
            "{v}"
        );
        assert_eq!(v.matches(".mp4\n").count(), 3, "{v}");
        assert!(v.contains("v0.3.mp4") && !v.contains(".ts"), "{v}");
        let a = plan.media("index", true, 1, None).unwrap();
        assert!(a.contains("#EXT-X-MAP:URI=\"a1.init.mp4\""), "{a}");
        // Video is not an audio rendition and vice versa; TS names are not served.
        assert!(plan.media("index", true, 0, None).is_err());
        assert!(plan.init(false, 1).is_err());
        assert!(plan.init(true, 7).is_err());
        // The TS plan of the same package has no EXT-X-MAP and refuses CMAF files.
        let ts = Plan::new(&idx, &pkg).unwrap();
        assert!(!ts.media("index", false, 0, None).unwrap().contains("MAP"));
        assert!(ts.init(false, 0).is_err());
    }

    #[test]
    fn init_segments_declare_one_track() {
        let idx = index();
        let pkg = package();
        let plan = Plan::new_cmaf(&idx, &pkg).unwrap();
        for (audio, t, handler) in [(false, 0, b"vide"), (true, 1, b"soun")] {
            let init = plan.init(audio, t).unwrap();
            assert_eq!(&init[4..8], b"ftyp");
            assert!(init.windows(4).any(|w| w == handler));
            assert_eq!(init.windows(4).filter(|w| w == b"trak").count(), 1);
            assert!(init.windows(4).any(|w| w == b"mvex"));
        }
    }

    #[test]
    fn audio_object_types() {
        assert_eq!(audio_object_type(&[0x11, 0x90]), Some(2));
        assert_eq!(audio_object_type(&[0xf8, 0x20]), Some(33));
        assert_eq!(audio_object_type(&[0xf8]), None);
        assert_eq!(audio_object_type(&[]), None);
        let mut tr = index().tracks[1].clone();
        tr.config.clear();
        assert!(track_config(&tr).is_err());
        let mut big = index().tracks[0].clone();
        big.width = 70_000;
        assert!(track_config(&big).is_err());
    }
}

/// Byte-identity of every packaged segment: hashes of the TS, CMAF, DASH and Smooth outputs of
/// a synthetic interleaved source, recorded before the zero-copy rewrite of the segment paths
/// (see `docs/benchmarks.md`, issue 5), so any change of output fails here.
#[cfg(test)]
pub(crate) mod golden {
    use crate::index::{AssetIndex, IdxSample, TrackCodec, TrackIndex};
    use reelay_blob::{BlobStore, ObjectAttrs};

    /// xorshift64*, so the media is reproducible.
    pub(crate) struct Rng(u64);

    impl Rng {
        pub(crate) fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn bytes(&mut self, n: usize) -> Vec<u8> {
            (0..n).map(|_| (self.next() >> 56) as u8).collect()
        }
    }

    /// FNV-1a over every output in order, with its length.
    #[derive(Default)]
    pub(crate) struct Digest {
        pub(crate) hash: u64,
        pub(crate) bytes: u64,
        pub(crate) count: u64,
    }

    impl Digest {
        pub(crate) fn add(&mut self, data: &[u8]) {
            if self.hash == 0 {
                self.hash = 0xcbf2_9ce4_8422_2325;
            }
            for &b in (data.len() as u64).to_be_bytes().iter().chain(data) {
                self.hash ^= u64::from(b);
                self.hash = self.hash.wrapping_mul(0x0000_0100_0000_01b3);
            }
            self.bytes += data.len() as u64;
            self.count += 1;
        }

        pub(crate) fn value(&self) -> (u64, u64, u64) {
            (self.hash, self.bytes, self.count)
        }
    }

    /// Two MP4-like sources of 20 s, each an H.264 track (25 fps, a sync sample every 2 s,
    /// B-frame composition offsets, some samples of two NAL units, keyframes above 64 KiB in
    /// the second) and an AAC track, interleaved in half-second chunks as muxers write them.
    ///
    /// The files are put in two stores: in memory (one buffer per read) and on local disk
    /// (reads arrive in 1 MiB buffers, so samples and runs straddle buffer boundaries).
    pub(crate) async fn source() -> (AssetIndex, Vec<BlobStore>, TempDir) {
        let dir = TempDir(std::env::temp_dir().join(format!(
            "reelay-vod-golden-{}-{}",
            std::process::id(),
            GOLDEN_DIRS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
        )));
        let stores = vec![
            BlobStore::in_memory(),
            BlobStore::open(&dir.0, None).unwrap(),
        ];
        for blob in &stores {
            blob.create_bucket("src", "owner", "us-east-1")
                .await
                .unwrap();
        }
        let mut rng = Rng(0x5eed);
        let mut tracks = Vec::new();
        let mut keys = Vec::new();
        for source in 0..2u32 {
            let mut file = rng.bytes(4096); // ftyp / moov stand-in
            let mut video = Vec::new();
            let mut audio = Vec::new();
            let (mut v, mut a) = (0u32, 0u32);
            while v < 500 || a < 938 {
                for _ in 0..12 {
                    if v >= 500 {
                        break;
                    }
                    let sync = v % 50 == 0;
                    let size = if sync {
                        if source == 1 {
                            60_000 + rng.below(30_000)
                        } else {
                            8_000 + rng.below(4_000)
                        }
                    } else {
                        200 + rng.below(3_000)
                    } as usize;
                    let offset = file.len() as u64;
                    if v % 7 == 3 {
                        // An SEI NAL unit before the slice.
                        file.extend_from_slice(&9u32.to_be_bytes());
                        file.push(0x06);
                        file.extend_from_slice(&rng.bytes(8));
                    }
                    file.extend_from_slice(&(size as u32 + 1).to_be_bytes());
                    file.push(if sync { 0x65 } else { 0x41 });
                    file.extend_from_slice(&rng.bytes(size));
                    video.push(IdxSample {
                        offset,
                        size: (file.len() as u64 - offset) as u32,
                        dts: u64::from(v) * 512,
                        cts: [1024, 2560, 512, 1024][v as usize % 4],
                        duration: 512,
                        sync,
                    });
                    v += 1;
                }
                for _ in 0..24 {
                    if a >= 938 {
                        break;
                    }
                    let size = 150 + rng.below(300) as usize;
                    audio.push(IdxSample {
                        offset: file.len() as u64,
                        size: size as u32,
                        dts: u64::from(a) * 1024,
                        cts: 0,
                        duration: 1024,
                        sync: true,
                    });
                    file.extend_from_slice(&rng.bytes(size));
                    a += 1;
                }
            }
            let key = format!("s{source}.mp4");
            let body = bytes::Bytes::from(file);
            for blob in &stores {
                blob.put_object(
                    "src",
                    &key,
                    futures::stream::iter([Ok::<_, std::io::Error>(body.clone())]),
                    ObjectAttrs::default(),
                )
                .await
                .unwrap();
            }
            keys.push(key);
            let v_track = TrackIndex {
                source,
                track_id: 1,
                codec: TrackCodec::Avc,
                fourcc: *b"avc1",
                config: vec![
                    1, 0x64, 0, 0x1f, 0xff, 0xe1, 0, 4, 0x67, 0x64, 0, 0x1f, 1, 0, 2, 0x68, 0xee,
                ],
                width: 640 * (source + 1),
                height: 360 * (source + 1),
                timescale: 12800,
                sample_rate: 0,
                channels: 0,
                language: None,
                media_time: 1024,
                samples: video,
            };
            let a_track = TrackIndex {
                source,
                language: Some(*b"eng"),
                samples: audio,
                ..crate::index::fixtures::aac_track(0, 0)
            };
            tracks.push(v_track);
            tracks.push(a_track);
        }
        let index = AssetIndex {
            memo: Default::default(),
            bucket: "src".into(),
            sources: keys,
            tracks,
        };
        (index, stores, dir)
    }

    /// A directory removed when the test ends.
    pub(crate) struct TempDir(std::path::PathBuf);

    impl Drop for TempDir {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    /// Distinct directories for tests running at once.
    static GOLDEN_DIRS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn hls(group: bool, seconds: i32) -> super::HlsPackage {
        super::HlsPackage {
            hls_manifests: vec![Default::default()],
            segment_duration_seconds: Some(seconds),
            use_audio_rendition_group: Some(group),
            ..Default::default()
        }
    }

    #[tokio::test]
    async fn ts_segments_are_unchanged() {
        let (index, stores, _dir) = source().await;
        for blob in &stores {
            ts_digest(&index, blob, (13597765753922879714, 6923740, 60)).await;
        }
    }

    async fn ts_digest(index: &AssetIndex, blob: &BlobStore, want: (u64, u64, u64)) {
        let index = index.clone();
        let mut d = Digest::default();
        for group in [false, true] {
            let pkg = hls(group, 4);
            let plan = super::Plan::new(&index, &pkg).unwrap();
            let n = plan.reference().len();
            for (audio, t) in [(false, 0), (false, 2), (true, 1), (true, 3)] {
                if audio && !group {
                    continue;
                }
                for k in 1..=n {
                    let built = plan.segment(blob, audio, t, k).await.unwrap();
                    d.add(&built.bytes.to_bytes());
                    let ranges: Vec<u8> = built
                        .keyframes
                        .iter()
                        .flat_map(|r| [r.start.to_be_bytes(), r.end.to_be_bytes()].concat())
                        .collect();
                    d.add(&ranges);
                }
            }
        }
        assert_eq!(d.value(), want);
    }

    #[tokio::test]
    async fn cmaf_segments_are_unchanged() {
        let (index, stores, _dir) = source().await;
        for blob in &stores {
            let mut d = Digest::default();
            let pkg = hls(true, 4);
            let plan = super::Plan::new_cmaf(&index, &pkg).unwrap();
            for (audio, t) in [(false, 0), (false, 2), (true, 1), (true, 3)] {
                for k in 1..=plan.reference().len() {
                    match plan.fragment(blob, audio, t, k).await {
                        Ok(b) => d.add(&b.to_bytes()),
                        Err(crate::hls::PackError::NotFound(_)) => d.add(b"none"),
                        Err(e) => panic!("{e:?}"),
                    }
                }
            }
            assert_eq!(d.value(), (15489343271450440091, 3060597, 20));
        }
    }

    #[tokio::test]
    async fn dash_segments_are_unchanged() {
        use reelay_aws::generated::mediapackage_vod::types::{
            DashManifest, DashPackage, SegmentTemplateFormat,
        };
        let (index, stores, _dir) = source().await;
        for blob in &stores {
            let mut d = Digest::default();
            for in_band in [false, true] {
                let pkg = DashPackage {
                    dash_manifests: vec![DashManifest::default()],
                    segment_duration_seconds: Some(4),
                    segment_template_format: Some(SegmentTemplateFormat::NumberWithTimeline),
                    include_encoder_configuration_in_segments: Some(in_band),
                    ..Default::default()
                };
                let view = crate::dash::hls_view(&pkg);
                let dash = crate::dash::Dash::new(&index, &pkg, &view).unwrap();
                for t in 0..4 {
                    for idx in 0..dash.timeline(t).len() {
                        d.add(&dash.segment(blob, t, idx).await.unwrap().to_bytes());
                    }
                }
            }
            assert_eq!(d.value(), (1602945339760427982, 6121334, 40));
        }
    }
}
