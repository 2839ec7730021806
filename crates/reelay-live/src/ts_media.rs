//! Sans-IO: an MPEG-TS byte stream (what SRT publishers send) in, what `ingest::Publisher`
//! takes out. The `reelay_format_ts` demuxer gives Annex B H.264 access units and raw AAC
//! frames with their ADTS configuration; this module turns them into the FLV-shaped inputs the
//! packager already takes from RTMP: an AVC decoder configuration record built from the
//! in-band SPS/PPS, length-prefixed access units, and millisecond timestamps on one timeline
//! for both tracks (33-bit 90 kHz PTS/DTS unwrapped, ISO/IEC 13818-1 §2.4.3.7).

use bytes::Bytes;
use reelay_format_ts::annexb::nal_units;
use reelay_format_ts::{AacConfig, Demuxer, Event, StreamType};
use std::collections::VecDeque;

/// What the publisher is given, in stream order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Media {
    /// A new AVC decoder configuration record, with what the SPS states.
    VideoConfig { record: Bytes, sps: SpsInfo },
    /// One access unit of length-prefixed NAL units (4-byte lengths).
    Video {
        dts_ms: i64,
        cts_ms: i32,
        keyframe: bool,
        data: Bytes,
    },
    /// A new AAC configuration.
    AudioConfig {
        asc: Bytes,
        sample_rate: u32,
        channels: u8,
    },
    /// One raw AAC frame.
    Audio { pts_ms: i64, data: Bytes },
}

/// Why the stream cannot be taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum MediaError {
    /// H.265 or SAMPLE-AES video: IVS low-latency channels take H.264.
    UnsupportedVideo,
    /// More input than the demuxer may hold (the caller drains `poll` after each push).
    Backlog,
}

impl MediaError {
    pub(crate) fn code(self) -> &'static str {
        match self {
            MediaError::UnsupportedVideo => "unsupported video codec",
            MediaError::Backlog => "ingest backlog",
        }
    }
}

/// How long video is held back waiting for the first AAC frame of a program that declares
/// one: muxers write audio in PES packets of several frames, so the first keyframe usually
/// comes first, and a packager started without the audio configuration would leave audio out.
const AUDIO_WAIT_MS: i64 = 3000;
/// Video items held at most meanwhile (about 5 s at 60 fps).
const MAX_HELD: usize = 300;

/// The TS side of an SRT publisher.
#[derive(Debug, Default)]
pub(crate) struct TsMedia {
    demux: Demuxer,
    clock: Unwrap33,
    avcc: Option<Bytes>,
    aac: Option<AacConfig>,
    /// The PMT declares an AAC stream.
    expect_audio: bool,
    /// Video waiting for the audio configuration, with the DTS of the first held frame.
    held: VecDeque<Media>,
    held_since: Option<i64>,
    out: VecDeque<Media>,
}

impl TsMedia {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Takes bytes in any chunking; drain [`TsMedia::poll`] afterwards.
    pub(crate) fn push(&mut self, data: &[u8]) -> Result<(), MediaError> {
        self.demux.push(data).map_err(|_| MediaError::Backlog)?;
        while let Some(event) = self.demux.poll() {
            if let Event::Program(program) = &event {
                self.expect_audio = program
                    .streams
                    .iter()
                    .any(|s| s.stream_type == StreamType::AacAdts);
                if !self.expect_audio {
                    self.release();
                }
            }
            if let Event::AccessUnit(au) = event {
                match au.stream_type {
                    StreamType::H264 => {
                        let Some(dts) = au.dts.or(au.pts) else {
                            continue;
                        };
                        let pts = au.pts.unwrap_or(dts);
                        self.video(dts, pts, au.keyframe, &au.data);
                    }
                    StreamType::AacAdts => {
                        let (Some(pts), Some(cfg)) = (au.pts, au.aac) else {
                            continue;
                        };
                        self.audio(pts, cfg, au.data);
                    }
                    StreamType::H265 | StreamType::SampleAesH264 => {
                        return Err(MediaError::UnsupportedVideo);
                    }
                    // Timed metadata, other audio: IVS takes H.264 + AAC only.
                    _ => {}
                }
            }
        }
        Ok(())
    }

    /// Video goes out at once, unless the audio configuration is still awaited.
    fn push_video(&mut self, item: Media, dts_ms: Option<i64>) {
        if !self.expect_audio || self.aac.is_some() {
            self.out.push_back(item);
            return;
        }
        self.held.push_back(item);
        if let Some(dts) = dts_ms {
            let since = *self.held_since.get_or_insert(dts);
            if dts - since > AUDIO_WAIT_MS || self.held.len() > MAX_HELD {
                // No audio after all: the stream goes on as video only.
                self.expect_audio = false;
                self.release();
            }
        }
    }

    fn release(&mut self) {
        self.out.extend(self.held.drain(..));
        self.held_since = None;
    }

    /// The next input for the publisher.
    pub(crate) fn poll(&mut self) -> Option<Media> {
        self.out.pop_front()
    }

    fn video(&mut self, dts: u64, pts: u64, keyframe: bool, annex_b: &[u8]) {
        let (mut sps, mut pps) = (None, None);
        let mut data = Vec::with_capacity(annex_b.len() + 16);
        for nal in nal_units(annex_b) {
            match nal[0] & 0x1F {
                7 => sps = sps.or(Some(nal)),
                8 => pps = pps.or(Some(nal)),
                // Access unit delimiters: the packager writes its own framing.
                9 => {}
                _ => {
                    // A NAL unit inside one PES is far below 4 GiB (MAX_PES_SIZE).
                    let len = u32::try_from(nal.len()).unwrap_or(u32::MAX);
                    data.extend_from_slice(&len.to_be_bytes());
                    data.extend_from_slice(nal);
                }
            }
        }
        if let (Some(sps), Some(pps)) = (sps, pps)
            && let Some(info) = parse_sps(sps)
            && let Some(record) = avc_record(sps, pps, &info)
            && self.avcc.as_ref() != Some(&record)
        {
            self.avcc = Some(record.clone());
            self.push_video(Media::VideoConfig { record, sps: info }, None);
        }
        // Nothing is decodable before the first parameter sets.
        if self.avcc.is_none() || data.is_empty() {
            return;
        }
        let dts = self.clock.extend(dts);
        let pts = self.clock.extend(pts);
        let cts = (pts - dts).div_euclid(90);
        let dts_ms = dts.div_euclid(90);
        let item = Media::Video {
            dts_ms,
            cts_ms: i32::try_from(cts).unwrap_or(0),
            keyframe,
            data: Bytes::from(data),
        };
        self.push_video(item, Some(dts_ms));
    }

    fn audio(&mut self, pts: u64, cfg: AacConfig, data: Bytes) {
        if self.aac != Some(cfg) {
            self.aac = Some(cfg);
            self.out.push_back(Media::AudioConfig {
                asc: Bytes::copy_from_slice(&cfg.audio_specific_config()),
                sample_rate: cfg.sample_rate(),
                channels: cfg.channel_configuration,
            });
            // The configuration first, then the video that waited for it.
            self.release();
        }
        let pts = self.clock.extend(pts);
        self.out.push_back(Media::Audio {
            pts_ms: pts.div_euclid(90),
            data,
        });
    }
}

/// Unwraps 33-bit 90 kHz timestamps: each value is taken as the one nearest to the previous.
#[derive(Debug, Default, Clone)]
struct Unwrap33 {
    last: Option<(u64, i64)>,
}

const WRAP: u64 = 1 << 33;

impl Unwrap33 {
    fn extend(&mut self, ts: u64) -> i64 {
        let ts = ts % WRAP;
        let ext = match self.last {
            // ts < 2^33, so it fits an i64.
            None => ts as i64,
            Some((prev, prev_ext)) => {
                let diff = ts.wrapping_sub(prev) % WRAP;
                let diff = if diff >= WRAP / 2 {
                    diff as i64 - WRAP as i64
                } else {
                    diff as i64
                };
                prev_ext.saturating_add(diff)
            }
        };
        self.last = Some((ts, ext));
        ext
    }
}

pub(crate) use reelay_format_mp4::h264::{SpsInfo, avc_record, parse_sps};

#[cfg(test)]
mod tests {
    use super::*;
    use reelay_format_ts::{Muxer, MuxerConfig, Sample, VideoTrack};

    /// x264, High profile 320x240 at 25 fps (ffmpeg `testsrc`, yuv420p).
    const SPS_320X240: &[u8] = &[
        0x67, 0x64, 0x00, 0x0D, 0xAC, 0xD9, 0x41, 0x41, 0xFB, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xF1, 0x42, 0x99, 0x60,
    ];
    const PPS: &[u8] = &[0x68, 0xEB, 0xE3, 0xCB, 0x22, 0xC0];
    /// Baseline 318x238 at 30 fps: frame cropping.
    const SPS_BASELINE_CROPPED: &[u8] = &[
        0x67, 0x42, 0xC0, 0x0D, 0xD9, 0x01, 0x41, 0xFE, 0xAB, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0xC0, 0xF1, 0x42, 0xA4, 0x80,
    ];
    /// High 4:4:4 Predictive 320x240 (chroma_format_idc 3).
    const SPS_444: &[u8] = &[
        0x67, 0xF4, 0x00, 0x0D, 0x91, 0x9B, 0x28, 0x28, 0x3F, 0x60, 0x22, 0x00, 0x00, 0x03, 0x00,
        0x02, 0x00, 0x00, 0x03, 0x00, 0x64, 0x1E, 0x28, 0x53, 0x2C,
    ];

    #[test]
    fn sps_dimensions_and_frame_rate() {
        let info = parse_sps(SPS_320X240).unwrap_or_default();
        assert_eq!((info.width, info.height), (320, 240));
        assert_eq!(info.profile_idc, 100);
        assert_eq!(info.frame_rate, Some(25.0));
        let cropped = parse_sps(SPS_BASELINE_CROPPED).unwrap_or_default();
        assert_eq!(
            (cropped.width, cropped.height, cropped.profile_idc),
            (318, 238, 66)
        );
        assert_eq!(cropped.frame_rate, Some(30.0));
        let full = parse_sps(SPS_444).unwrap_or_default();
        assert_eq!(
            (full.width, full.height, full.chroma_format_idc),
            (320, 240, 3)
        );
        let record = avc_record(SPS_444, PPS, &full).unwrap_or_default();
        assert_eq!(&record[record.len() - 4..], &[0xFF, 0xF8, 0xF8, 0]);
    }

    #[test]
    fn hostile_sps_never_panics() {
        for len in 0..SPS_320X240.len() {
            let _ = parse_sps(&SPS_320X240[..len]);
        }
        let mut seed = 0x1234_5678u32;
        for _ in 0..2000 {
            let mut sps = SPS_320X240.to_vec();
            for b in sps.iter_mut().skip(1) {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                if seed >> 28 == 0 {
                    *b = (seed >> 16) as u8;
                }
            }
            let _ = parse_sps(&sps);
        }
        assert_eq!(parse_sps(&[0x67, 0x64, 0x00]), None);
        // 32 leading zero bits: an Exp-Golomb code out of range.
        assert_eq!(parse_sps(&[0x67, 0x42, 0, 0x1E, 0, 0, 0, 0, 0x80]), None);
    }

    #[test]
    fn record_carries_high_profile_extension() {
        let info = parse_sps(SPS_320X240).unwrap_or_default();
        let record = avc_record(SPS_320X240, PPS, &info).unwrap_or_default();
        assert_eq!(&record[..6], &[1, 0x64, 0x00, 0x0D, 0xFF, 0xE1]);
        assert_eq!(&record[record.len() - 4..], &[0xFD, 0xF8, 0xF8, 0]);
    }

    #[test]
    fn timestamps_unwrap_across_the_33_bit_boundary() {
        let mut u = Unwrap33::default();
        assert_eq!(u.extend(WRAP - 90), (WRAP - 90) as i64);
        assert_eq!(u.extend(0), WRAP as i64);
        assert_eq!(u.extend(WRAP - 180), (WRAP - 180) as i64);
    }

    fn annex_b(nals: &[&[u8]]) -> Vec<u8> {
        let mut v = Vec::new();
        for n in nals {
            v.extend_from_slice(&[0, 0, 0, 1]);
            v.extend_from_slice(n);
        }
        v
    }

    #[test]
    fn demuxed_stream_becomes_publisher_input() {
        let cfg = AacConfig::new(2, 3, 2).unwrap_or_else(|_| unreachable!("valid AAC LC"));
        let mut config = MuxerConfig::default();
        config.video = Some(VideoTrack::AnnexB(reelay_format_ts::VideoCodec::H264));
        config.audio = Some(cfg);
        let mut mux =
            Muxer::new(config).unwrap_or_else(|e| unreachable!("valid muxer configuration: {e}"));
        let mut ts = mux.write_pat_pmt().to_vec();
        let idr = annex_b(&[&[9, 0xF0], SPS_320X240, PPS, &[0x65, 0x88, 0x84, 0x21]]);
        let p = annex_b(&[&[9, 0x30], &[0x41, 0x9A, 0x02]]);
        let p2 = annex_b(&[&[9, 0x30], &[0x41, 0x9A, 0x04]]);
        // The presentation time of the first picture already wraps past 2^33.
        let base = WRAP - 1800;
        for (i, au) in [&idr, &p, &p2].into_iter().enumerate() {
            let dts = (base + i as u64 * 3600) % WRAP;
            let pts = (dts + 3600) % WRAP;
            for sample in [
                Sample::video(pts, dts, i == 0, au),
                Sample::audio(dts, &[0x21, 0x10, 0x04]),
            ] {
                ts.extend_from_slice(&mux.write_sample(&sample).unwrap_or_default());
            }
        }
        let mut media = TsMedia::new();
        for chunk in ts.chunks(1316) {
            assert_eq!(media.push(chunk), Ok(()));
        }
        let out: Vec<Media> = std::iter::from_fn(|| media.poll()).collect();
        let video: Vec<_> = out
            .iter()
            .filter_map(|m| match m {
                Media::Video {
                    dts_ms,
                    cts_ms,
                    keyframe,
                    data,
                } => Some((*dts_ms, *cts_ms, *keyframe, data.clone())),
                _ => None,
            })
            .collect();
        // The video waited for the audio configuration, which comes first.
        assert!(matches!(
            &out[..],
            [Media::AudioConfig { sample_rate: 48_000, channels: 2, .. }, Media::VideoConfig { sps, .. }, ..]
                if sps.width == 320
        ));
        assert!(!video.is_empty());
        let (dts0, cts0, key0, data0) = &video[0];
        assert_eq!((*dts0, *cts0, *key0), (((base) / 90) as i64, 40, true));
        // Parameter sets and delimiters went to the record; the slice stays, length-prefixed.
        assert_eq!(&data0[..], &[0, 0, 0, 4, 0x65, 0x88, 0x84, 0x21]);
        if let Some((dts1, _, key1, _)) = video.get(1) {
            assert_eq!(*dts1 - *dts0, 40);
            assert!(!key1);
        }
    }

    #[test]
    fn video_only_program_is_not_held() {
        let mut config = MuxerConfig::default();
        config.video = Some(VideoTrack::AnnexB(reelay_format_ts::VideoCodec::H264));
        let mut mux =
            Muxer::new(config).unwrap_or_else(|e| unreachable!("valid muxer configuration: {e}"));
        let mut ts = mux.write_pat_pmt().to_vec();
        for i in 0..3u64 {
            let au = annex_b(&[SPS_320X240, PPS, &[0x65, 0x88, 0x84, 0x21 + i as u8]]);
            let sample = Sample::video(i * 3600, i * 3600, true, &au);
            ts.extend_from_slice(&mux.write_sample(&sample).unwrap_or_default());
        }
        let mut media = TsMedia::new();
        assert_eq!(media.push(&ts), Ok(()));
        let out: Vec<Media> = std::iter::from_fn(|| media.poll()).collect();
        assert!(matches!(
            &out[..],
            [Media::VideoConfig { .. }, Media::Video { .. }, ..]
        ));
    }
}
