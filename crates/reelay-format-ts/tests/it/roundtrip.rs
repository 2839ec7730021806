//! Muxer → demuxer round trips on synthetic streams, and the demuxer's handling of scrambled,
//! encrypted, damaged and unusually framed input.

use reelay_format_ts::{
    AacConfig, Error, Event, Muxer, MuxerConfig, Sample, StreamType, VideoCodec, VideoTrack,
    crc32_mpeg2,
};

use crate::common::{Rng, demux_chunked, units_of};

const VIDEO_PID: u16 = 0x100;
const AUDIO_PID: u16 = 0x101;

fn aac() -> AacConfig {
    AacConfig::new(2, 3, 2).unwrap()
}

/// A fake H.264 access unit: parameter sets and an IDR slice, or a non-IDR slice, with a
/// payload free of start codes.
fn h264_unit(idx: usize, keyframe: bool) -> Vec<u8> {
    let mut au = Vec::new();
    if keyframe {
        au.extend_from_slice(&[0, 0, 0, 1, 0x67, 0x64, 0x00, 0x0D, 0xAC]);
        au.extend_from_slice(&[0, 0, 0, 1, 0x68, 0xEE, 0x3C, 0x80]);
    }
    au.extend_from_slice(&[0, 0, 1, if keyframe { 0x65 } else { 0x41 }]);
    au.extend((0..(idx * 97) % 1500 + 10).map(|i| (i % 200) as u8 + 2));
    au
}

struct Muxed {
    data: Vec<u8>,
    video: Vec<(u64, u64, bool, Vec<u8>)>,
    audio: Vec<(u64, Vec<u8>)>,
}

/// Ten video frames at 25 fps (keyframes at 0 and 5) interleaved with AAC frames at 48 kHz.
fn muxed(config: MuxerConfig) -> Muxed {
    let with_video = config.video.is_some();
    let mut muxer = Muxer::new(config).unwrap();
    let mut data = muxer.write_pat_pmt().to_vec();
    let mut video = Vec::new();
    let mut audio = Vec::new();
    let mut next_audio = 0u64;
    for idx in 0..10usize {
        let dts = 90_000 + idx as u64 * 3600;
        let pts = dts + 3600;
        while next_audio <= dts {
            let frame: Vec<u8> = (0..(next_audio as usize % 700) + 1)
                .map(|i| i as u8)
                .collect();
            let apts = 90_000 + next_audio;
            data.extend_from_slice(&muxer.write_sample(&Sample::audio(apts, &frame)).unwrap());
            audio.push((apts, frame));
            next_audio += 1920;
        }
        if with_video {
            let keyframe = idx % 5 == 0;
            let au = h264_unit(idx, keyframe);
            let sample = Sample::video(pts, dts, keyframe, &au);
            data.extend_from_slice(&muxer.write_sample(&sample).unwrap());
            video.push((pts, dts, keyframe, au));
        }
    }
    Muxed { data, video, audio }
}

fn av_config() -> MuxerConfig {
    MuxerConfig::default()
        .with_video(VideoTrack::AnnexB(VideoCodec::H264))
        .with_audio(aac())
}

#[test]
fn mux_demux_round_trip() {
    let muxed = muxed(av_config());
    let (events, stats) = demux_chunked(&muxed.data, 1, 700);
    assert_eq!(
        stats.continuity_errors + stats.pes_dropped + stats.section_errors,
        0
    );
    let video = units_of(&events, VIDEO_PID);
    assert_eq!(video.len(), muxed.video.len());
    for (got, (pts, dts, keyframe, au)) in video.iter().zip(&muxed.video) {
        assert_eq!(
            (got.pts, got.dts, got.keyframe),
            (Some(*pts), Some(*dts), *keyframe)
        );
        assert_eq!(got.stream_type, StreamType::H264);
        // The muxer adds an access unit delimiter and normalises start codes.
        let nals: Vec<&[u8]> = reelay_format_ts::annexb::nal_units(&got.data).collect();
        let want: Vec<&[u8]> = reelay_format_ts::annexb::nal_units(au).collect();
        assert_eq!(nals[0], [0x09, 0xF0]);
        assert_eq!(nals[1..], want[..]);
    }
    let audio = units_of(&events, AUDIO_PID);
    assert_eq!(audio.len(), muxed.audio.len());
    for (got, (pts, frame)) in audio.iter().zip(&muxed.audio) {
        assert_eq!(
            (got.pts, &got.data[..], got.aac),
            (Some(*pts), &frame[..], Some(aac()))
        );
    }
}

#[test]
fn audio_only_stream_carries_its_own_clock() {
    let muxed = muxed(MuxerConfig::default().with_audio(aac()));
    let (events, _) = demux_chunked(&muxed.data, 2, 188);
    let Event::Program(program) = &events[0] else {
        panic!("{:?}", events[0]);
    };
    assert_eq!(program.pcr_pid, AUDIO_PID);
    assert_eq!(units_of(&events, AUDIO_PID).len(), muxed.audio.len());
    // The first audio packet has a PCR and random_access_indicator.
    let first = &muxed.data[2 * 188..3 * 188];
    assert_eq!(first[3] & 0x20, 0x20);
    assert_eq!(first[5] & 0x50, 0x50);
}

#[test]
fn muxer_rejects_bad_configuration_and_samples() {
    assert_eq!(
        Muxer::new(MuxerConfig::default()).unwrap_err(),
        Error::Config("muxer: needs a video or an audio track")
    );
    let mut config = av_config();
    config.audio_pid = VIDEO_PID;
    assert!(matches!(Muxer::new(config).unwrap_err(), Error::Config(_)));
    let mut config = av_config();
    config.pmt_pid = 0x1FFF;
    assert!(matches!(Muxer::new(config).unwrap_err(), Error::Config(_)));
    let bad_avcc = MuxerConfig::default().with_video(VideoTrack::LengthPrefixed {
        codec: VideoCodec::H264,
        record: vec![1, 2, 3].into(),
    });
    assert!(matches!(
        Muxer::new(bad_avcc).unwrap_err(),
        Error::Decode(_)
    ));

    let mut muxer = Muxer::new(MuxerConfig::default().with_audio(aac())).unwrap();
    let au = h264_unit(0, true);
    assert!(muxer.write_sample(&Sample::video(0, 0, true, &au)).is_err());
    assert!(muxer.write_sample(&Sample::metadata(0, b"ID3")).is_err());
    assert_eq!(
        muxer
            .write_sample(&Sample::audio(0, &[0; 8185]))
            .unwrap_err(),
        Error::Limit("adts: aac_frame_length")
    );
    let mut muxer = Muxer::new(av_config()).unwrap();
    // A video sample with no start code holds no NAL unit.
    assert!(
        muxer
            .write_sample(&Sample::video(0, 0, false, &[1, 2, 3]))
            .is_err()
    );
}

#[test]
fn scrambled_packets_are_reported_not_demuxed() {
    let mut data = muxed(av_config()).data;
    for pkt in data.chunks_mut(188) {
        let pid = u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
        if pid == VIDEO_PID {
            // transport_scrambling_control '10': scrambled with the even key.
            pkt[3] |= 0x80;
        }
    }
    let (events, stats) = demux_chunked(&data, 3, 4000);
    let scrambled: Vec<_> = events
        .iter()
        .filter(|e| matches!(e, Event::Scrambled { .. }))
        .collect();
    assert_eq!(scrambled, [&Event::Scrambled { pid: VIDEO_PID }]);
    assert!(stats.scrambled_packets > 10);
    assert!(units_of(&events, VIDEO_PID).is_empty());
    assert!(!units_of(&events, AUDIO_PID).is_empty());
}

/// Builds a one-packet PSI section stream for hand-made PMTs.
fn psi_packet(pid: u16, cc: u8, section_body: &[u8], table_id: u8, extension: u16) -> Vec<u8> {
    let mut section = vec![table_id, 0xB0, 0, 0, 0, 0xC1, 0, 0];
    section[3..5].copy_from_slice(&extension.to_be_bytes());
    section.extend_from_slice(section_body);
    let len = section.len() - 3 + 4;
    section[1] |= (len >> 8) as u8;
    section[2] = len as u8;
    let crc = crc32_mpeg2(&section);
    section.extend_from_slice(&crc.to_be_bytes());
    let mut pkt = vec![0x47, 0x40 | (pid >> 8) as u8, pid as u8, 0x10 | cc, 0];
    pkt.extend_from_slice(&section);
    pkt.resize(188, 0xFF);
    pkt
}

#[test]
fn sample_aes_streams_are_flagged_encrypted() {
    let mut data = psi_packet(0, 0, &[0, 1, 0xF0, 0x00], 0x00, 1);
    // PMT: SAMPLE-AES H.264 (0xDB), SAMPLE-AES AAC (0xCF), and a plain-typed AAC stream whose
    // private_data_indicator_descriptor says "aacd".
    let pmt = [
        0xE1, 0x00, 0xF0, 0x00, //
        0xDB, 0xE1, 0x00, 0xF0, 0x00, //
        0xCF, 0xE1, 0x01, 0xF0, 0x00, //
        0x0F, 0xE1, 0x02, 0xF0, 0x06, 0x0F, 0x04, b'a', b'a', b'c', b'd',
    ];
    data.extend_from_slice(&psi_packet(0x1000, 0, &pmt, 0x02, 1));
    let (events, _) = demux_chunked(&data, 4, 100);
    let [Event::Program(program)] = &events[..] else {
        panic!("{events:?}");
    };
    let flags: Vec<_> = program
        .streams
        .iter()
        .map(|s| (s.stream_type, s.encrypted))
        .collect();
    assert_eq!(
        flags,
        [
            (StreamType::SampleAesH264, true),
            (StreamType::SampleAesAac, true),
            (StreamType::AacAdts, true),
        ]
    );
}

#[test]
fn continuity_gap_drops_only_the_damaged_pes() {
    let muxed = muxed(av_config());
    // Remove the second packet of the first multi-packet video PES.
    let packets: Vec<&[u8]> = muxed.data.chunks(188).collect();
    let pid_of = |pkt: &[u8]| u16::from_be_bytes([pkt[1] & 0x1F, pkt[2]]);
    let victim = 1 + packets
        .windows(2)
        .position(|w| {
            pid_of(w[0]) == VIDEO_PID
                && w[0][1] & 0x40 != 0
                && pid_of(w[1]) == VIDEO_PID
                && w[1][1] & 0x40 == 0
        })
        .unwrap();
    let data: Vec<u8> = packets
        .iter()
        .enumerate()
        .filter(|(idx, _)| *idx != victim)
        .flat_map(|(_, p)| p.to_vec())
        .collect();
    let (events, stats) = demux_chunked(&data, 5, 1000);
    assert_eq!(stats.continuity_errors, 1);
    assert_eq!(stats.pes_dropped, 1);
    assert!(events.contains(&Event::Dropped {
        pid: Some(VIDEO_PID),
        error: Error::Decode("pes: continuity counter gap"),
    }));
    let video = units_of(&events, VIDEO_PID);
    assert_eq!(video.len(), muxed.video.len() - 1);
    // The damaged one is the first access unit spanning two packets: frame 2, of 204 bytes.
    let mut want: Vec<Option<u64>> = muxed.video.iter().map(|v| Some(v.0)).collect();
    want.remove(2);
    assert_eq!(video.iter().map(|v| v.pts).collect::<Vec<_>>(), want);
    assert_eq!(units_of(&events, AUDIO_PID).len(), muxed.audio.len());
}

#[test]
fn resynchronises_after_garbage() {
    let muxed = muxed(av_config());
    let mut rng = Rng::new(9);
    // Garbage between two packets, free of sync bytes so that the count is exact.
    let cut = 188 * 7;
    let garbage: Vec<u8> = (0..1000).map(|_| (rng.next() as u8) & 0x3F).collect();
    let mut data = muxed.data[..cut].to_vec();
    data.extend_from_slice(&garbage);
    data.extend_from_slice(&muxed.data[cut..]);
    let (events, stats) = demux_chunked(&data, 6, 333);
    assert_eq!(stats.sync_bytes_skipped, 1000);
    assert_eq!(units_of(&events, VIDEO_PID).len(), muxed.video.len());
    assert_eq!(units_of(&events, AUDIO_PID).len(), muxed.audio.len());
}

/// ADTS frames packed several per PES packet and split across PES boundaries, with the PES
/// timestamp belonging to the first frame that starts in it (ISO/IEC 13818-1 §2.4.3.7).
#[test]
fn adts_frames_across_pes_boundaries() {
    let mut muxer = Muxer::new(MuxerConfig::default().with_audio(aac())).unwrap();
    let mut data = muxer.write_pat_pmt().to_vec();
    let frames: Vec<Vec<u8>> = (0..6).map(|i| vec![i as u8 + 1; 100 + i * 10]).collect();
    let mut adts = Vec::new();
    let mut starts = Vec::new();
    for frame in &frames {
        starts.push(adts.len());
        let len = frame.len() + 7;
        adts.extend_from_slice(&[
            0xFF,
            0xF1,
            0x4C,
            0x80 | (len >> 11) as u8,
            (len >> 3) as u8,
            ((len & 7) << 5) as u8 | 0x1F,
            0xFC,
        ]);
        adts.extend_from_slice(frame);
    }
    // PES 1: frames 0, 1 and half of 2 (PTS 1000). PES 2: the rest of 2, then 3..6 (its PTS
    // belongs to frame 3).
    let cut = starts[2] + 50;
    let pes = |pts: u64, payload: &[u8]| {
        let mut pes = vec![0, 0, 1, 0xC0, 0, 0, 0x80, 0x80, 5];
        let len = 8 + payload.len();
        pes[4..6].copy_from_slice(&(len as u16).to_be_bytes());
        pes.extend_from_slice(&[
            0x21 | ((pts >> 29) as u8 & 0x0E),
            (pts >> 22) as u8,
            (pts >> 14) as u8 | 1,
            (pts >> 7) as u8,
            (pts << 1) as u8 | 1,
        ]);
        pes.extend_from_slice(payload);
        pes
    };
    let third = 1000 + 3 * 1920;
    let mut cc = 0u8;
    for pes in [pes(1000, &adts[..cut]), pes(third, &adts[cut..])] {
        for (idx, chunk) in pes.chunks(184).enumerate() {
            let mut pkt = vec![0x47, if idx == 0 { 0x41 } else { 0x01 }, 0x01];
            if chunk.len() == 184 {
                pkt.push(0x10 | cc);
            } else {
                let stuffing = 184 - chunk.len();
                pkt.push(0x30 | cc);
                pkt.push(stuffing as u8 - 1);
                if stuffing > 1 {
                    pkt.push(0);
                    pkt.resize(4 + stuffing, 0xFF);
                }
            }
            pkt.extend_from_slice(chunk);
            assert_eq!(pkt.len(), 188);
            data.extend_from_slice(&pkt);
            cc = (cc + 1) & 0x0F;
        }
    }
    let (events, stats) = demux_chunked(&data, 8, 50);
    assert_eq!(stats.adts_bytes_skipped, 0);
    let audio = units_of(&events, AUDIO_PID);
    let got: Vec<(Option<u64>, &[u8])> = audio.iter().map(|a| (a.pts, &a.data[..])).collect();
    let want: Vec<(Option<u64>, &[u8])> = frames
        .iter()
        .enumerate()
        .map(|(i, f)| (Some(1000 + i as u64 * 1920), &f[..]))
        .collect();
    assert_eq!(got, want);
}
