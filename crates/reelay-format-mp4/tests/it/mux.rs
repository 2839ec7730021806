//! Mux oracle: demuxed source samples re-muxed into CMAF init + media segments must give
//! ffprobe the same packets as the source, and decode cleanly with ffmpeg.

use bytes::Bytes;
use reelay_format_mp4::{
    FragmentSample, Handler, Movie, SampleFlags, SampleIndex, SegmentReference, TrackConfig,
    TrackFragment, init_segment, media_segment, parse_moov, sidx,
};

use crate::fixtures::{self, Fixture, Kind, int, packets};

struct SourceTrack<'a> {
    config: TrackConfig,
    samples: SampleIndex,
    handler: Handler,
    fx: &'a Fixture,
}

impl SourceTrack<'_> {
    fn fragment(&self, range: std::ops::Range<usize>) -> TrackFragment {
        let samples = range
            .clone()
            .map(|i| {
                let s = self.samples.get(i).unwrap();
                let start = s.offset as usize;
                FragmentSample {
                    duration: s.duration,
                    flags: SampleFlags::from_sync(s.is_sync),
                    cts_offset: s.cts_offset,
                    data: Bytes::copy_from_slice(&self.fx.bytes[start..start + s.size as usize]),
                }
            })
            .collect();
        TrackFragment {
            track_id: self.config.track_id,
            base_media_decode_time: self.samples.get(range.start).map_or(0, |s| s.dts),
            samples,
        }
    }
}

struct Remuxed {
    init: Bytes,
    /// One media segment per video GOP, with the audio of the same time span.
    segments: Vec<Bytes>,
    /// Sample counts of the first track per segment.
    video_starts: Vec<usize>,
}

/// Splits the source at the video sync samples and writes one media segment per GOP.
///
/// The source's edit list (B-frame delay for video, encoder priming for AAC) is carried over
/// into the init segment, so presentation times match the source exactly. (Folding it into
/// negative composition offsets instead is also valid CMAF, but ffmpeg then shifts decode times
/// by its own rule, which would make the comparison inexact.)
fn remux(fx: &Fixture, movie: &Movie) -> Remuxed {
    let tracks: Vec<SourceTrack> = movie
        .tracks
        .iter()
        .map(|t| SourceTrack {
            config: TrackConfig {
                edit_media_time: t.edit_list.map(|e| u32::try_from(e.media_time).unwrap()),
                ..TrackConfig::from_track(t)
            },
            samples: t.samples().unwrap(),
            handler: t.handler,
            fx,
        })
        .collect();
    let init = init_segment(&tracks.iter().map(|t| t.config.clone()).collect::<Vec<_>>()).unwrap();
    let video = tracks.iter().find(|t| t.handler == Handler::Video).unwrap();
    let video_starts: Vec<usize> = video
        .samples
        .iter()
        .enumerate()
        .filter(|(_, s)| s.is_sync)
        .map(|(i, _)| i)
        .collect();
    // Segment boundaries as decode times in the video timescale; the last one is open.
    let boundaries: Vec<u64> = video_starts
        .iter()
        .map(|&i| video.samples.get(i).unwrap().dts)
        .collect();
    let mut cursors = vec![0usize; tracks.len()];
    let mut segments = Vec::new();
    for seg in 0..boundaries.len() {
        let end_time = boundaries.get(seg + 1).copied();
        let mut fragments = Vec::new();
        for (t, cursor) in tracks.iter().zip(cursors.iter_mut()) {
            let start = *cursor;
            let mut end = start;
            while end < t.samples.len() {
                let dts = t.samples.get(end).unwrap().dts;
                // Compare dts / t.timescale < end_time / video.timescale without rounding.
                let before_end = end_time.is_none_or(|e| {
                    u128::from(dts) * u128::from(video.config.timescale)
                        < u128::from(e) * u128::from(t.config.timescale)
                });
                if !before_end {
                    break;
                }
                end += 1;
            }
            *cursor = end;
            fragments.push(t.fragment(start..end));
        }
        segments.push(media_segment(seg as u32 + 1, &fragments).unwrap());
    }
    for (t, cursor) in tracks.iter().zip(&cursors) {
        assert_eq!(*cursor, t.samples.len(), "every sample placed in a segment");
    }
    Remuxed {
        init,
        segments,
        video_starts,
    }
}

/// (pts, dts, size, key) of every packet of each stream, in stream order.
fn packet_table(probe: &serde_json::Value, index: u64) -> Vec<(i64, i64, i64, bool)> {
    packets(probe, index)
        .into_iter()
        .map(|p| {
            (
                int(&p["pts"]),
                int(&p["dts"]),
                int(&p["size"]),
                p["flags"].as_str().unwrap().starts_with('K'),
            )
        })
        .collect()
}

/// Stream parameters that must survive the remux.
fn stream_params(probe: &serde_json::Value) -> Vec<String> {
    let keys = [
        "codec_name",
        "profile",
        "codec_tag_string",
        "width",
        "height",
        "pix_fmt",
        "level",
        "sample_rate",
        "channels",
        "extradata_size",
        "time_base",
    ];
    probe["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            keys.iter()
                .map(|k| format!("{k}={}", s[k]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn write_and_probe(name: &str, parts: &[&[u8]]) -> (serde_json::Value, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, parts.concat()).unwrap();
    (
        fixtures::ffprobe(&path),
        fixtures::ffmpeg_decode_errors(&path),
    )
}

fn check_remux(kind: Kind) {
    let Some(fx) = fixtures::get(kind) else {
        return;
    };
    let (moov, _) = fixtures::locate_moov(&fx.bytes);
    let movie = parse_moov(moov).unwrap();
    let out = remux(fx, &movie);
    assert_eq!(out.segments.len(), 2, "{}: one segment per GOP", fx.name);
    assert_eq!(out.video_starts, [0, 25]);
    let mut parts: Vec<&[u8]> = vec![&out.init];
    parts.extend(out.segments.iter().map(|s| &s[..]));
    let (probe, errors) = write_and_probe("remux.mp4", &parts);
    assert_eq!(errors, "", "{}: ffmpeg decode of the remux", fx.name);
    assert_eq!(
        stream_params(&probe),
        stream_params(&fx.probe),
        "{}: stream parameters",
        fx.name
    );
    let n_streams = fx.probe["streams"].as_array().unwrap().len() as u64;
    for index in 0..n_streams {
        assert_eq!(
            packet_table(&probe, index),
            packet_table(&fx.probe, index),
            "{}: packets of stream {index}",
            fx.name
        );
    }
}

#[test]
fn remux_h264_aac_matches_source_packets() {
    check_remux(Kind::H264AacFaststart);
}

#[test]
fn remux_hevc_aac_matches_source_packets() {
    check_remux(Kind::HevcAac);
}

#[test]
fn remux_video_only_with_sidx_matches_source_packets() {
    let fx = fixtures::get(Kind::H264VideoOnly).unwrap();
    let (moov, _) = fixtures::locate_moov(&fx.bytes);
    let movie = parse_moov(moov).unwrap();
    let track = &movie.tracks[0];
    let out = remux(fx, &movie);
    let samples = track.samples().unwrap();
    // DASH on-demand layout: init, sidx, then the segments it indexes.
    let mut refs = Vec::new();
    for (seg, &start) in out.segments.iter().zip(&out.video_starts) {
        let end = out
            .video_starts
            .iter()
            .find(|&&s| s > start)
            .copied()
            .unwrap_or(samples.len());
        let duration: u32 = (start..end).map(|i| samples.get(i).unwrap().duration).sum();
        refs.push(SegmentReference {
            size: seg.len() as u32,
            duration,
            starts_with_sap: true,
        });
    }
    let index = sidx(track.id, track.timescale, 0, 0, &refs).unwrap();
    let mut parts: Vec<&[u8]> = vec![&out.init, &index];
    parts.extend(out.segments.iter().map(|s| &s[..]));
    let (probe, errors) = write_and_probe("dash.mp4", &parts);
    assert_eq!(errors, "");
    assert_eq!(packet_table(&probe, 0), packet_table(&fx.probe, 0));
    assert_eq!(stream_params(&probe), stream_params(&fx.probe));
}
