//! The muxer against ffmpeg: demux the ffmpeg fixture, re-mux it, and check with ffprobe and a
//! full decode that the output carries the same access units with the same timing, that every
//! 2-second segment decodes on its own, and that the structure follows ISO/IEC 13818-1.

use std::path::{Path, PathBuf};

use bytes::BytesMut;
use reelay_format_ts::{
    AacConfig, AccessUnit, Event, Muxer, MuxerConfig, Sample, StreamType, VideoCodec, VideoTrack,
    annexb, id3_txxx_tag,
};

use crate::common::{
    assert_decodes_cleanly, demux_chunked, fixtures, probe_packets, probe_streams, units_of,
};

const VIDEO_PID: u16 = 0x100;
const AUDIO_PID: u16 = 0x101;
const PMT_PID: u16 = 0x1000;
const SEGMENT: u64 = 2 * 90_000;

struct Source {
    video: Vec<AccessUnit>,
    audio: Vec<AccessUnit>,
    aac: AacConfig,
}

fn demux_file(path: &Path) -> Source {
    let data = std::fs::read(path).unwrap();
    let (events, stats) = demux_chunked(&data, 7, 4096);
    assert_eq!(stats.continuity_errors, 0);
    let video = units_of(&events, VIDEO_PID);
    let audio = units_of(&events, AUDIO_PID);
    let aac = audio[0].aac.unwrap();
    Source { video, audio, aac }
}

fn nal_type(codec: VideoCodec, nal: &[u8]) -> u8 {
    match codec {
        VideoCodec::H265 => (nal[0] >> 1) & 0x3F,
        _ => nal[0] & 0x1F,
    }
}

fn is_parameter_set_or_aud(codec: VideoCodec, nal: &[u8]) -> bool {
    let t = nal_type(codec, nal);
    match codec {
        VideoCodec::H265 => matches!(t, 32..=35),
        _ => matches!(t, 7..=9),
    }
}

fn annexb_of(nals: &[&[u8]]) -> Vec<u8> {
    nals.iter()
        .flat_map(|nal| [&[0, 0, 0, 1][..], nal].concat())
        .collect()
}

/// Muxes the source in decoding order, cutting a segment (PAT + PMT first) at the first
/// keyframe at least `SEGMENT` after the start of the current one.
fn mux(
    source: &Source,
    config: MuxerConfig,
    video_sample: impl Fn(usize, &AccessUnit) -> Vec<u8>,
    metadata_every: Option<u64>,
) -> Vec<Vec<u8>> {
    let mut muxer = Muxer::new(config).unwrap();
    let mut segments: Vec<BytesMut> = Vec::new();
    let mut segment_start = None;
    let mut next_metadata = source.video[0].pts.unwrap();
    let (mut v, mut a) = (0, 0);
    while v < source.video.len() || a < source.audio.len() {
        let video_next = match (source.video.get(v), source.audio.get(a)) {
            (Some(video), Some(audio)) => video.dts <= audio.pts,
            (Some(_), None) => true,
            _ => false,
        };
        if video_next {
            let au = &source.video[v];
            let pts = au.pts.unwrap();
            if au.keyframe && segment_start.is_none_or(|start| pts >= start + SEGMENT) {
                segment_start = Some(pts);
                segments.push(BytesMut::from(&muxer.write_pat_pmt()[..]));
            }
            let data = video_sample(v, au);
            let sample = Sample::video(pts, au.dts.unwrap(), au.keyframe, &data);
            segments
                .last_mut()
                .unwrap()
                .extend_from_slice(&muxer.write_sample(&sample).unwrap());
            if let Some(every) = metadata_every
                && pts >= next_metadata
            {
                let tag = id3_txxx_tag("reelay", &format!("at {pts}")).unwrap();
                let packets = muxer.write_sample(&Sample::metadata(pts, &tag)).unwrap();
                segments.last_mut().unwrap().extend_from_slice(&packets);
                next_metadata = pts + every;
            }
            v += 1;
        } else {
            let au = &source.audio[a];
            let sample = Sample::audio(au.pts.unwrap(), &au.data);
            segments
                .last_mut()
                .unwrap()
                .extend_from_slice(&muxer.write_sample(&sample).unwrap());
            a += 1;
        }
    }
    segments.into_iter().map(|s| s.to_vec()).collect()
}

fn write(name: &str, data: &[u8]) -> PathBuf {
    let path = fixtures().dir.join(name);
    std::fs::write(&path, data).unwrap();
    path
}

type Timing = Vec<(i64, i64, bool)>;

fn timing(path: &Path) -> Vec<(u16, Timing)> {
    probe_packets(path)
        .into_iter()
        .map(|(pid, packets)| {
            (
                pid,
                packets.iter().map(|p| (p.pts, p.dts, p.keyframe)).collect(),
            )
        })
        .collect()
}

/// Checks the structure of muxer output packet by packet: sync bytes, continuity counters, a
/// PCR on the video PID at least every 100 ms, `random_access_indicator` on keyframe PES starts.
fn check_packets(data: &[u8], keyframe_pts: &[u64]) {
    assert_eq!(data.len() % 188, 0);
    let mut last_pcr = None;
    let mut counters = std::collections::HashMap::new();
    let mut random_access_starts = Vec::new();
    for pkt in data.chunks(188) {
        assert_eq!(pkt[0], 0x47);
        let pid = u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
        let has_af = pkt[3] & 0x20 != 0;
        let has_payload = pkt[3] & 0x10 != 0;
        let cc = pkt[3] & 0x0F;
        if let Some(prev) = counters.insert(pid, cc) {
            let want = if has_payload { (prev + 1) & 0x0F } else { prev };
            assert_eq!(cc, want, "continuity_counter on PID {pid:#x}");
        }
        let mut payload = 4;
        let mut random_access = false;
        if has_af {
            let len = usize::from(pkt[4]);
            payload = 5 + len;
            if len > 0 {
                random_access = pkt[5] & 0x40 != 0;
                if pkt[5] & 0x10 != 0 {
                    assert_eq!(pid, VIDEO_PID, "PCR only on the PCR PID");
                    let b = &pkt[6..11];
                    let base = (u64::from(b[0]) << 25)
                        | (u64::from(b[1]) << 17)
                        | (u64::from(b[2]) << 9)
                        | (u64::from(b[3]) << 1)
                        | (u64::from(b[4]) >> 7);
                    if let Some(last) = last_pcr {
                        assert!(base >= last, "PCR went backwards");
                        assert!(base - last <= 9000, "PCR gap of {} ticks", base - last);
                    }
                    last_pcr = Some(base);
                }
            }
        }
        if random_access {
            assert!(pkt[1] & 0x40 != 0, "random_access_indicator on a PES start");
            assert_eq!(pid, VIDEO_PID);
            // PTS of the PES starting here (§2.4.3.7).
            let pes = &pkt[payload..];
            let b = &pes[9..14];
            let pts = (u64::from(b[0] >> 1) & 7) << 30
                | u64::from(b[1]) << 22
                | u64::from(b[2] >> 1) << 15
                | u64::from(b[3]) << 7
                | u64::from(b[4] >> 1);
            random_access_starts.push(pts);
        }
    }
    assert!(last_pcr.is_some());
    assert_eq!(random_access_starts, keyframe_pts);
}

fn keyframe_pts(source: &Source) -> Vec<u64> {
    source
        .video
        .iter()
        .filter(|u| u.keyframe)
        .map(|u| u.pts.unwrap())
        .collect()
}

/// The checks every re-muxed file goes through; returns the demuxed output.
fn check_output(
    name: &str,
    source_path: &Path,
    source: &Source,
    segments: &[Vec<u8>],
    codec: &str,
) -> Source {
    let out = segments.concat();
    let path = write(&format!("{name}.ts"), &out);
    check_packets(&out, &keyframe_pts(source));

    // Same access units with the same timing as ffprobe saw in the source.
    let want = timing(source_path);
    let got = timing(&path);
    assert_eq!(got.len(), 2);
    for ((want_pid, want), (got_pid, got)) in want.iter().zip(&got) {
        assert_eq!(want_pid, got_pid);
        assert_eq!(want, got, "timing of PID {got_pid:#x}");
    }
    let streams = probe_streams(&path);
    let video = &streams.iter().find(|s| s.0 == VIDEO_PID).unwrap();
    assert_eq!(video.1, codec);
    assert_eq!(
        (video.2["width"].as_i64(), video.2["height"].as_i64()),
        (Some(320), Some(240))
    );
    let audio = &streams.iter().find(|s| s.0 == AUDIO_PID).unwrap();
    assert_eq!(audio.1, "aac");
    assert_eq!(audio.2["sample_rate"].as_str(), Some("48000"));
    assert_decodes_cleanly(&path);

    // HLS: every segment starts with PAT then PMT and decodes on its own, from a keyframe. A
    // single segment is the whole file, checked above.
    for (idx, segment) in segments.iter().enumerate().filter(|_| segments.len() > 1) {
        assert_eq!(u16::from_be_bytes([segment[1] & 0x1F, segment[2]]), 0);
        assert_eq!(
            u16::from_be_bytes([segment[189] & 0x1F, segment[190]]),
            PMT_PID
        );
        let path = write(&format!("{name}-{idx}.ts"), segment);
        assert_decodes_cleanly(&path);
        let packets = probe_packets(&path);
        let video = &packets.iter().find(|p| p.0 == VIDEO_PID).unwrap().1;
        assert!(video[0].keyframe, "segment {idx} starts with a keyframe");
    }

    // Our own demuxer reads it back with no repair needed.
    let (events, stats) = demux_chunked(&out, 11, 3000);
    assert_eq!(stats.continuity_errors, 0);
    assert!(!events.iter().any(|e| matches!(e, Event::Dropped { .. })));
    let video = units_of(&events, VIDEO_PID);
    let audio = units_of(&events, AUDIO_PID);
    assert_eq!(video.len(), source.video.len());
    for (got, want) in audio.iter().zip(&source.audio) {
        assert_eq!(
            (got.pts, &got.data, got.aac),
            (want.pts, &want.data, want.aac)
        );
    }
    assert_eq!(audio.len(), source.audio.len());
    Source {
        aac: source.aac,
        video,
        audio,
    }
}

#[test]
fn remux_h264_annexb_in_two_second_segments() {
    let fixtures = fixtures();
    let source = demux_file(&fixtures.h264_long);
    let config = MuxerConfig::default()
        .with_video(VideoTrack::AnnexB(VideoCodec::H264))
        .with_audio(source.aac);
    let segments = mux(&source, config, |_, au| au.data.to_vec(), None);
    assert_eq!(segments.len(), 3, "6 seconds in 2-second segments");
    let output = check_output(
        "h264-annexb",
        &fixtures.h264_long,
        &source,
        &segments,
        "h264",
    );
    // The output holds the source's NAL units behind one fresh access unit delimiter.
    for (got, src) in output.video.iter().zip(&source.video) {
        let mut want: Vec<&[u8]> = annexb::nal_units(&src.data)
            .filter(|nal| nal_type(VideoCodec::H264, nal) != 9)
            .collect();
        want.insert(0, &[0x09, 0xF0]);
        assert_eq!(annexb::nal_units(&got.data).collect::<Vec<_>>(), want);
        assert_eq!(
            (got.pts, got.dts, got.keyframe),
            (src.pts, src.dts, src.keyframe)
        );
    }
}

/// MP4-style input: length-prefixed NAL units without parameter sets or delimiters, plus an
/// `avcC` record. The muxer must produce Annex B with AUD first and SPS/PPS before each IDR.
#[test]
fn remux_h264_length_prefixed_with_avcc() {
    let fixtures = fixtures();
    let source = demux_file(&fixtures.h264);
    let codec = VideoCodec::H264;
    let first = annexb::nal_units(&source.video[0].data).collect::<Vec<_>>();
    let sps = first.iter().find(|n| nal_type(codec, n) == 7).unwrap();
    let pps = first.iter().find(|n| nal_type(codec, n) == 8).unwrap();
    // ISO/IEC 14496-15 §5.3.3.1: version, profile, compatibility, level, 4-byte lengths.
    let mut avcc = vec![1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
    avcc.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(sps);
    avcc.push(1);
    avcc.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    avcc.extend_from_slice(pps);
    let config = MuxerConfig::default()
        .with_video(VideoTrack::LengthPrefixed {
            codec,
            record: avcc.into(),
        })
        .with_audio(
            AacConfig::from_audio_specific_config(&source.aac.audio_specific_config()).unwrap(),
        );
    let segments = mux(
        &source,
        config,
        |_, au| {
            let nals: Vec<&[u8]> = annexb::nal_units(&au.data)
                .filter(|nal| !is_parameter_set_or_aud(codec, nal))
                .collect();
            annexb::to_length_prefixed(&annexb_of(&nals))
        },
        None,
    );
    let output = check_output("h264-avcc", &fixtures.h264, &source, &segments, "h264");
    for (got, src) in output.video.iter().zip(&source.video) {
        let types: Vec<u8> = annexb::nal_units(&got.data)
            .map(|n| nal_type(codec, n))
            .collect();
        if src.keyframe {
            assert_eq!(types[..3], [9, 7, 8], "AUD, SPS, PPS before the IDR");
            assert!(types.contains(&5));
        } else {
            assert_eq!(types[0], 9);
            assert!(!types.contains(&7));
        }
    }
}

/// H.265 Annex B input whose later IRAP pictures lost their VPS/SPS/PPS: the muxer repeats the
/// ones it saw in band.
#[test]
fn remux_h265_annexb_repeats_parameter_sets() {
    let fixtures = fixtures();
    let Some(path) = &fixtures.h265 else {
        return;
    };
    let source = demux_file(path);
    let codec = VideoCodec::H265;
    let config = MuxerConfig::default()
        .with_video(VideoTrack::AnnexB(codec))
        .with_audio(source.aac);
    let segments = mux(
        &source,
        config,
        |idx, au| {
            if idx == 0 {
                return au.data.to_vec();
            }
            let nals: Vec<&[u8]> = annexb::nal_units(&au.data)
                .filter(|nal| !is_parameter_set_or_aud(codec, nal))
                .collect();
            annexb_of(&nals)
        },
        None,
    );
    let output = check_output("h265-annexb", path, &source, &segments, "hevc");
    for au in output.video.iter().filter(|au| au.keyframe) {
        let types: Vec<u8> = annexb::nal_units(&au.data)
            .map(|n| nal_type(codec, n))
            .collect();
        assert_eq!(types[..4], [35, 32, 33, 34], "AUD, VPS, SPS, PPS");
        assert_eq!(au.stream_type, StreamType::H265);
    }
}

/// ID3 timed metadata (stream_type 0x15) next to audio and video, as IVS PutMetadata needs.
#[test]
fn timed_id3_metadata_is_seen_by_ffprobe() {
    let fixtures = fixtures();
    let source = demux_file(&fixtures.h264);
    let config = MuxerConfig::default()
        .with_video(VideoTrack::AnnexB(VideoCodec::H264))
        .with_audio(source.aac)
        .with_timed_metadata();
    let segments = mux(&source, config, |_, au| au.data.to_vec(), Some(90_000));
    let out = segments.concat();
    let path = write("id3.ts", &out);
    let streams = probe_streams(&path);
    let id3 = streams
        .iter()
        .find(|s| s.0 == 0x102)
        .expect("the ID3 stream");
    assert_eq!(id3.1, "timed_id3");
    let packets = probe_packets(&path);
    let id3_packets = &packets.iter().find(|p| p.0 == 0x102).unwrap().1;
    let first = source.video[0].pts.unwrap() as i64;
    let pts: Vec<i64> = id3_packets.iter().map(|p| p.pts).collect();
    assert_eq!(pts.len(), 2);
    assert_eq!(pts[0], first);
    assert!(pts[1] >= first + 90_000);
    assert_decodes_cleanly(&path);

    let (events, _) = demux_chunked(&out, 5, 500);
    let program = events
        .iter()
        .find_map(|e| match e {
            Event::Program(p) => Some(p),
            _ => None,
        })
        .unwrap();
    assert_eq!(program.streams[2].stream_type, StreamType::Id3);
    let tags = units_of(&events, 0x102);
    assert_eq!(tags.len(), 2);
    assert_eq!(
        &tags[0].data[..],
        id3_txxx_tag("reelay", &format!("at {first}")).unwrap()
    );
    assert_eq!(tags[0].pts, Some(first as u64));
}
