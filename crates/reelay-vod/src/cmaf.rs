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

use crate::hls::{PackError, Plan, read_samples};
use crate::index::{TrackCodec, TrackIndex};
use bytes::Bytes;
use reelay_aws::generated::mediapackage_vod::types::{CmafPackage, HlsPackage};
use reelay_blob::BlobStore;
use reelay_format_mp4::{
    AudioConfig, Codec, FourCc, FragmentSample, SampleFlags, TrackConfig, TrackFragment,
    VideoConfig, init_segment, media_segment,
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
    ) -> Result<Bytes, PackError> {
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
        let data = read_samples(blob, self.index, tr, samples).await?;
        let fragment = track_fragment(tr, TRACK_ID, first.dts, samples, data);
        media_segment(sequence, &[fragment])
            .map_err(|e| PackError::Internal(format!("cmaf segment: {e}")))
    }
}

/// The `traf` of one track's samples and their bytes (fMP4 segments of CMAF and DASH).
pub(crate) fn track_fragment(
    tr: &TrackIndex,
    track_id: u32,
    base_media_decode_time: u64,
    samples: &[crate::index::IdxSample],
    data: Vec<Bytes>,
) -> TrackFragment {
    TrackFragment {
        track_id,
        base_media_decode_time,
        samples: samples
            .iter()
            .zip(data)
            .map(|(s, d)| FragmentSample {
                duration: s.duration,
                // Audio samples are all sync samples (ISO/IEC 23000-19 §9.2.1).
                flags: SampleFlags::from_sync(s.sync || tr.codec == TrackCodec::Aac),
                cts_offset: s.cts,
                data: d,
            })
            .collect(),
    }
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
            track_id: 2,
            codec: TrackCodec::Aac,
            fourcc: *b"mp4a",
            config: vec![0x11, 0x90],
            width: 0,
            height: 0,
            timescale: 48000,
            sample_rate: 48000,
            channels: 2,
            media_time: 1024,
            samples: (0..282u32)
                .map(|i| IdxSample {
                    offset: 5000 + u64::from(i) * 5,
                    size: 5,
                    dts: u64::from(i) * 1024,
                    cts: 0,
                    duration: 1024,
                    sync: true,
                })
                .collect(),
            ..video.clone()
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
