//! The demuxer against ffprobe: same access units, timestamps, sizes and keyframes, whatever
//! the chunking of the input.

use std::path::Path;

use reelay_format_ts::{AccessUnit, Event, StreamType};

use crate::common::{demux_chunked, fixtures, probe_packets, probe_streams, units_of};

#[track_caller]
fn check_against_ffprobe(path: &Path, video_type: StreamType, video_codec: &str) {
    let data = std::fs::read(path).unwrap();
    let streams = probe_streams(path);
    let probed = probe_packets(path);
    let video_pid = streams.iter().find(|s| s.1 == video_codec).unwrap().0;
    let audio_pid = streams.iter().find(|s| s.1 == "aac").unwrap().0;

    // One byte at a time, typical network reads, and the whole file at once.
    for (seed, max_chunk) in [(1, 1), (2, 1500), (3, 64 * 1024), (4, data.len())] {
        let (events, stats) = demux_chunked(&data, seed, max_chunk);
        assert_eq!(stats.continuity_errors, 0);
        assert_eq!(stats.pes_dropped, 0);
        assert_eq!(stats.sync_bytes_skipped, 0);
        assert!(
            !events
                .iter()
                .any(|e| matches!(e, Event::Dropped { .. } | Event::Scrambled { .. })),
            "{events:?}"
        );
        let Some(Event::Program(program)) = events.first() else {
            panic!("the PMT comes first: {:?}", events.first());
        };
        let types: Vec<_> = program
            .streams
            .iter()
            .map(|s| (s.pid, s.stream_type, s.encrypted))
            .collect();
        assert_eq!(
            types,
            [
                (video_pid, video_type, false),
                (audio_pid, StreamType::AacAdts, false)
            ]
        );
        assert_eq!(program.pcr_pid, video_pid);

        for (pid, packets) in &probed {
            let units = units_of(&events, *pid);
            let four_byte_start = |idx: usize| {
                units
                    .get(idx)
                    .is_some_and(|u: &AccessUnit| u.data.starts_with(&[0, 0, 0, 1]))
            };
            assert_eq!(units.len(), packets.len(), "access units of PID {pid:#x}");
            for (idx, (au, p)) in units.iter().zip(packets).enumerate() {
                assert_eq!(au.pts, Some(p.pts as u64), "pts of {pid:#x} #{idx}");
                assert_eq!(au.dts, Some(p.dts as u64), "dts of {pid:#x} #{idx}");
                assert_eq!(au.keyframe, p.keyframe, "keyframe of {pid:#x} #{idx}");
                if *pid == audio_pid {
                    // ffprobe counts the 7-byte ADTS header, which the demuxer strips.
                    assert_eq!(au.data.len() + 7, p.size, "size of {pid:#x} #{idx}");
                    let aac = au.aac.unwrap();
                    assert_eq!(
                        (
                            aac.object_type,
                            aac.sample_rate(),
                            aac.channel_configuration
                        ),
                        (2, 48000, 1)
                    );
                } else if video_type == StreamType::H265 {
                    // ffmpeg's HEVC parser cuts access units before the `00 00 01` of the next
                    // one, so the zero_byte of a 4-byte start code (Annex B.1.1) lands at the
                    // end of the previous unit. The demuxer keeps PES boundaries, where
                    // §2.4.3.7 data alignment puts it.
                    let moved_in = usize::from(four_byte_start(idx + 1));
                    let moved_out = usize::from(idx > 0 && four_byte_start(idx));
                    assert_eq!(
                        au.data.len() + moved_in - moved_out,
                        p.size,
                        "size of {pid:#x} #{idx}"
                    );
                    assert_eq!(au.stream_type, video_type);
                } else {
                    assert_eq!(au.data.len(), p.size, "size of {pid:#x} #{idx}");
                    assert_eq!(au.stream_type, video_type);
                }
            }
        }
        // The fixture's GOP is 25 frames over 2 seconds: two keyframes.
        assert_eq!(
            units_of(&events, video_pid)
                .iter()
                .filter(|u| u.keyframe)
                .count(),
            2
        );
    }
}

#[test]
fn demux_h264_aac_matches_ffprobe() {
    check_against_ffprobe(&fixtures().h264, StreamType::H264, "h264");
}

#[test]
fn demux_h265_aac_matches_ffprobe() {
    if let Some(path) = &fixtures().h265 {
        check_against_ffprobe(path, StreamType::H265, "hevc");
    }
}
