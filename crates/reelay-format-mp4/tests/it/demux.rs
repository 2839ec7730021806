//! Demux oracle: our tracks and sample index against `ffprobe -show_streams -show_packets`.

use reelay_format_mp4::{Codec, FRAGMENTED_SOURCE, Handler, Movie, Next, parse_moov, probe};

use crate::fixtures::{self, Fixture, Kind, int, packets};

/// Parses a fixture through the byte-range probe and returns the movie.
fn demux(fx: &Fixture) -> Movie {
    let (moov, _) = fixtures::locate_moov(&fx.bytes);
    parse_moov(moov).unwrap_or_else(|e| panic!("{}: parse_moov: {e}", fx.name))
}

/// ffprobe stream of our track: ffprobe's `id` is the track_ID in hex.
fn stream_of(fx: &Fixture, track_id: u32) -> &serde_json::Value {
    fx.probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"].as_str() == Some(&format!("{track_id:#x}")))
        .unwrap_or_else(|| panic!("{}: ffprobe has no stream for track {track_id}", fx.name))
}

#[track_caller]
fn check_tracks(fx: &Fixture, movie: &Movie) {
    let streams = fx.probe["streams"].as_array().unwrap();
    assert_eq!(
        movie.tracks.len(),
        streams.len(),
        "{}: track count",
        fx.name
    );
    for track in &movie.tracks {
        let s = stream_of(fx, track.id);
        let ctx = format!("{} track {}", fx.name, track.id);
        assert!(!track.is_encrypted(), "{ctx}");
        assert_eq!(
            s["time_base"].as_str(),
            Some(&*format!("1/{}", track.timescale)),
            "{ctx}"
        );
        assert_eq!(
            s["codec_tag_string"].as_str(),
            Some(&*track.codec.fourcc().to_string()),
            "{ctx}"
        );
        let language = track
            .language
            .map(|l| String::from_utf8(l.to_vec()).unwrap());
        assert_eq!(s["tags"]["language"].as_str(), language.as_deref(), "{ctx}");
        let n_samples = track.samples().unwrap().len() as i64;
        assert_eq!(int(&s["nb_frames"]), n_samples, "{ctx}: nb_frames");
        // ffprobe reports the duration of the edit, converted to the track timescale.
        let edit = track.edit_list.expect("ffmpeg writes an edit list");
        let edit_duration =
            edit.segment_duration * u64::from(track.timescale) / u64::from(movie.timescale);
        assert_eq!(
            int(&s["duration_ts"]),
            edit_duration as i64,
            "{ctx}: duration_ts"
        );
        match &track.codec {
            Codec::Avc(v) | Codec::Hevc(v) => {
                assert_eq!(track.handler, Handler::Video, "{ctx}");
                let name = if matches!(track.codec, Codec::Avc(_)) {
                    "h264"
                } else {
                    "hevc"
                };
                assert_eq!(s["codec_name"].as_str(), Some(name), "{ctx}");
                assert_eq!(int(&s["width"]), i64::from(v.width), "{ctx}");
                assert_eq!(int(&s["height"]), i64::from(v.height), "{ctx}");
                assert_eq!((track.width, track.height), (320, 240), "{ctx}: tkhd size");
                assert_eq!(int(&s["extradata_size"]), v.config.len() as i64, "{ctx}");
            }
            Codec::Aac(a) => {
                assert_eq!(track.handler, Handler::Audio, "{ctx}");
                assert_eq!(s["codec_name"].as_str(), Some("aac"), "{ctx}");
                assert_eq!(s["profile"].as_str(), Some("LC"), "{ctx}");
                assert_eq!(a.object_type, 2, "{ctx}");
                assert_eq!(int(&s["sample_rate"]), i64::from(a.sample_rate), "{ctx}");
                assert_eq!(int(&s["channels"]), i64::from(a.channels), "{ctx}");
                assert_eq!(int(&s["extradata_size"]), a.config.len() as i64, "{ctx}");
            }
            other => panic!("{ctx}: unexpected codec {other:?}"),
        }
    }
}

/// Sample by sample: ffprobe applies the first edit's media_time as a shift of both pts and
/// dts (`pts = dts + cts_offset - media_time`), and reports file offset, size and key flag.
#[track_caller]
fn check_packets(fx: &Fixture, movie: &Movie) {
    for track in &movie.tracks {
        let ctx = format!("{} track {}", fx.name, track.id);
        let index = int(&stream_of(fx, track.id)["index"]) as u64;
        let expected = packets(&fx.probe, index);
        let samples = track.samples().unwrap();
        assert_eq!(samples.len(), expected.len(), "{ctx}: packet count");
        assert!(!samples.is_empty(), "{ctx}");
        let shift = track.edit_list.map_or(0, |e| e.media_time);
        let mut n_sync = 0;
        for (i, (sample, packet)) in samples.iter().zip(&expected).enumerate() {
            let dts = sample.dts as i64 - shift;
            let pts = sample.dts as i64 + i64::from(sample.cts_offset) - shift;
            let flags = packet["flags"].as_str().unwrap();
            let got = (
                pts,
                dts,
                i64::from(sample.size),
                sample.offset as i64,
                sample.is_sync,
            );
            let want = (
                int(&packet["pts"]),
                int(&packet["dts"]),
                int(&packet["size"]),
                int(&packet["pos"]),
                flags.starts_with('K'),
            );
            assert_eq!(got, want, "{ctx}: sample {i} (pts, dts, size, pos, key)");
            n_sync += usize::from(sample.is_sync);
        }
        if track.handler == Handler::Video {
            // 50 frames with a GOP of 25: exactly two IDR frames, and B-frames reordered.
            assert_eq!(n_sync, 2, "{ctx}: sync samples");
            assert!(
                samples
                    .iter()
                    .any(|s| s.cts_offset != samples.get(0).unwrap().cts_offset),
                "{ctx}: ctts"
            );
        }
        assert_eq!(
            samples.duration(),
            track.duration,
            "{ctx}: sum of durations = mdhd duration"
        );
    }
}

fn check_source(kind: Kind) {
    let Some(fx) = fixtures::get(kind) else {
        return;
    };
    let movie = demux(fx);
    check_tracks(fx, &movie);
    check_packets(fx, &movie);
}

#[test]
fn demux_h264_aac_faststart_matches_ffprobe() {
    check_source(Kind::H264AacFaststart);
    // Faststart: the moov is inside the 4 KiB head, no further fetch.
    let fx = fixtures::get(Kind::H264AacFaststart).unwrap();
    assert_eq!(fixtures::locate_moov(&fx.bytes).1, 0);
}

#[test]
fn demux_h264_aac_moov_at_end_matches_ffprobe() {
    check_source(Kind::H264AacMoovAtEnd);
    let fx = fixtures::get(Kind::H264AacMoovAtEnd).unwrap();
    // moov after mdat: the probe skips the mdat by its header and asks for the range after it.
    let p = probe(&fx.bytes[..4096]).unwrap();
    let Next::Fetch { offset, .. } = p.next() else {
        panic!("moov cannot be in the head of this file");
    };
    assert_eq!(p.mdat.len(), 1);
    assert_eq!(offset, p.mdat[0].end);
    assert_eq!(fixtures::locate_moov(&fx.bytes).1, 1);
    assert_eq!(
        p.file_type.as_ref().unwrap().major_brand.to_string(),
        "isom"
    );
}

#[test]
fn demux_hevc_aac_matches_ffprobe() {
    check_source(Kind::HevcAac);
}

#[test]
fn demux_video_only_matches_ffprobe() {
    check_source(Kind::H264VideoOnly);
    let fx = fixtures::get(Kind::H264VideoOnly).unwrap();
    assert_eq!(demux(fx).tracks.len(), 1);
}

#[test]
fn fragmented_source_is_refused() {
    let fx = fixtures::get(Kind::Fragmented).unwrap();
    // Scanning the file meets a moof right after the (empty) moov: refused by the probe.
    assert_eq!(probe(&fx.bytes), Err(FRAGMENTED_SOURCE));
    // A head that ends with the moov: the probe points at it, and its mvex is refused.
    let size_at = |at: usize| u32::from_be_bytes(fx.bytes[at..at + 4].try_into().unwrap()) as usize;
    let moov_start = size_at(0);
    let moov_end = moov_start + size_at(moov_start);
    assert_eq!(&fx.bytes[moov_start + 4..moov_start + 8], b"moov");
    let p = probe(&fx.bytes[..moov_end]).unwrap();
    let Next::ParseMoov(range) = p.next() else {
        panic!("the moov of an empty_moov file is at the start");
    };
    assert_eq!(
        parse_moov(range.slice(0, &fx.bytes).unwrap()),
        Err(FRAGMENTED_SOURCE)
    );
}
