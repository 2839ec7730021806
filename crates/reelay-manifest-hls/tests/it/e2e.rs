//! End to end: an ffmpeg-encoded MP4 is demuxed with reelay-format-mp4, cut at keyframes into
//! ~2-second segments, muxed (a) into MPEG-TS with reelay-format-ts and (b) into CMAF init and
//! media segments with reelay-format-mp4, described by media and multivariant playlists from
//! this crate, and then played by ffmpeg from the multivariant playlist: ffprobe must see H.264
//! and AAC, and a full decode must produce as many frames as the source, without a complaint.

// The oracles are external programs; the library itself never spawns one (see clippy.toml).
#![allow(
    clippy::disallowed_methods,
    reason = "tests drive ffmpeg and ffprobe as oracles"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use reelay_format_mp4::{
    Codec, FragmentSample, Handler, Movie, Next, SampleFlags, SampleIndex, TrackConfig,
    TrackFragment, init_segment, media_segment, parse_moov, probe,
};
use reelay_format_ts::{AacConfig, Muxer, MuxerConfig, Sample, VideoCodec, VideoTrack};
use reelay_manifest_hls::{
    Map, MediaPlaylist, MediaSegment, MultivariantPlaylist, PlaylistType, Resolution,
    VariantStream, codecs, parse_media, parse_multivariant,
};

const SEGMENT_SECONDS: u64 = 2;
/// Start of the TS timeline, in 90 kHz ticks, so that B-frame and priming offsets stay positive.
const TS_OFFSET: u64 = 10 * 90_000;

struct Fixture {
    _dir: tempfile::TempDir,
    bytes: Vec<u8>,
    /// (video frames, audio frames) decoded by ffprobe from the source MP4.
    frames: (u64, u64),
    /// ffprobe's H.264 level_idc of the source, the oracle for the `CODECS` string.
    level: u8,
}

fn run(cmd: &mut Command, what: &str) -> std::process::Output {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run it ({e}); ffmpeg must be installed"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `ffprobe -count_frames`: the codec names of the streams and their decoded frame counts.
fn count_frames(path: &Path) -> Vec<(String, u64)> {
    let out = run(
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-show_entries"])
            .args(["stream=codec_name,nb_read_frames", "-of", "csv=p=0"])
            .arg(path),
        "ffprobe -count_frames",
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (codec, n) = l.split_once(',').unwrap();
            (codec.to_owned(), n.trim().parse().unwrap())
        })
        .collect()
}

fn frames_of(counts: &[(String, u64)], codec: &str) -> u64 {
    // ffprobe lists the streams of an HLS input twice, under the variant's program and in the
    // stream list; both listings must agree.
    let mut it = counts.iter().filter(|(c, _)| c == codec);
    let (_, n) = it
        .next()
        .unwrap_or_else(|| panic!("no {codec} stream in {counts:?}"));
    assert!(
        it.all(|(_, m)| m == n),
        "differing {codec} streams in {counts:?}"
    );
    *n
}

fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.mp4");
        // The brief's fixture: 4 s of 320x240 at 25 fps, a keyframe every second, B-frames.
        run(
            Command::new("ffmpeg")
                .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
                .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
                .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
                .args([
                    "-t", "4", "-c:v", "libx264", "-g", "25", "-bf", "2", "-c:a", "aac",
                ])
                .arg(&path),
            "ffmpeg (fixture)",
        );
        let counts = count_frames(&path);
        let frames = (frames_of(&counts, "h264"), frames_of(&counts, "aac"));
        assert_eq!(frames.0, 100, "4 s at 25 fps");
        let level = run(
            Command::new("ffprobe")
                .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
                .args(["stream=level", "-of", "csv=p=0"])
                .arg(&path),
            "ffprobe level",
        );
        let level = String::from_utf8(level.stdout)
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Fixture {
            level,
            bytes: std::fs::read(&path).unwrap(),
            _dir: dir,
            frames,
        }
    })
}

/// Locates and parses the `moov`, wherever it is in the file.
fn demux(bytes: &[u8]) -> Movie {
    let mut p = probe(bytes).unwrap();
    loop {
        match p.next() {
            Next::ParseMoov(range) => return parse_moov(range.slice(0, bytes).unwrap()).unwrap(),
            Next::Fetch { offset, .. } => {
                let start = usize::try_from(offset).unwrap().min(bytes.len());
                p.feed(offset, &bytes[start..]).unwrap();
            }
        }
    }
}

struct Source<'a> {
    bytes: &'a [u8],
    movie: Movie,
    video: usize,
    audio: usize,
    samples: Vec<SampleIndex>,
    /// Per segment and per track, the sample index range.
    cuts: Vec<Vec<std::ops::Range<usize>>>,
    /// Segment durations from the video track.
    durations: Vec<Duration>,
}

impl Source<'_> {
    fn data(&self, track: usize, i: usize) -> &[u8] {
        let s = self.samples[track].get(i).unwrap();
        &self.bytes[s.offset as usize..][..s.size as usize]
    }
}

/// Cuts the video at the first keyframe at least `SEGMENT_SECONDS` after the start of the
/// current segment, and the audio at the same instants.
fn cut(bytes: &[u8]) -> Source<'_> {
    let movie = demux(bytes);
    let video = movie
        .tracks
        .iter()
        .position(|t| t.handler == Handler::Video)
        .unwrap();
    let audio = movie
        .tracks
        .iter()
        .position(|t| t.handler == Handler::Audio)
        .unwrap();
    let samples: Vec<SampleIndex> = movie.tracks.iter().map(|t| t.samples().unwrap()).collect();
    let vts = u64::from(movie.tracks[video].timescale);
    let mut boundaries = vec![0u64];
    for s in samples[video].iter() {
        if s.is_sync && s.dts >= boundaries.last().unwrap() + SEGMENT_SECONDS * vts {
            boundaries.push(s.dts);
        }
    }
    let end = samples[video].duration();
    let durations = boundaries
        .iter()
        .zip(boundaries.iter().skip(1).chain([&end]))
        .map(|(a, b)| Duration::from_nanos((b - a) * 1_000_000_000 / vts))
        .collect();
    let mut cursors = vec![0usize; movie.tracks.len()];
    let mut cuts = Vec::new();
    for seg in 0..boundaries.len() {
        let limit = boundaries.get(seg + 1).copied();
        let mut ranges = Vec::new();
        for (t, cursor) in cursors.iter_mut().enumerate() {
            let ts = u64::from(movie.tracks[t].timescale);
            let start = *cursor;
            while *cursor < samples[t].len()
                && limit.is_none_or(|l| {
                    u128::from(samples[t].get(*cursor).unwrap().dts) * u128::from(vts)
                        < u128::from(l) * u128::from(ts)
                })
            {
                *cursor += 1;
            }
            ranges.push(start..*cursor);
        }
        cuts.push(ranges);
    }
    Source {
        bytes,
        movie,
        video,
        audio,
        samples,
        cuts,
        durations,
    }
}

fn codecs_of(src: &Source<'_>, fx: &Fixture) -> String {
    let Codec::Avc(v) = &src.movie.tracks[src.video].codec else {
        panic!("the fixture's video is H.264");
    };
    let Codec::Aac(a) = &src.movie.tracks[src.audio].codec else {
        panic!("the fixture's audio is AAC");
    };
    let avc = codecs::avc(v.fourcc.as_bytes(), &v.config).unwrap();
    // Without a pixel format option, testsrc's RGB makes x264 choose High 4:4:4 Predictive
    // (profile_idc 244); the level must be the one ffprobe reads from the SPS.
    assert_eq!(
        avc,
        format!("avc1.f400{:02x}", fx.level),
        "CODECS of the video"
    );
    format!("{avc},{}", codecs::aac(&a.config).unwrap())
}

/// Writes the segments, the media playlist and the multivariant playlist into `dir`, returning
/// the multivariant playlist's path.
fn write_hls(
    fx: &Fixture,
    dir: &Path,
    src: &Source<'_>,
    segments: Vec<(String, Vec<u8>)>,
    map: Option<(String, Bytes)>,
) -> PathBuf {
    let mut media = MediaPlaylist {
        playlist_type: Some(PlaylistType::Vod),
        independent_segments: true,
        end_list: true,
        ..MediaPlaylist::default()
    };
    let mut peak = 0u64;
    for ((name, data), duration) in segments.iter().zip(&src.durations) {
        std::fs::write(dir.join(name), data).unwrap();
        peak = peak.max(data.len() as u64 * 8 * 1000 / duration.as_millis() as u64);
        media.segments.push(MediaSegment {
            uri: name.clone(),
            duration: *duration,
            ..MediaSegment::default()
        });
    }
    if let Some((name, init)) = map {
        std::fs::write(dir.join(&name), &init).unwrap();
        media.segments[0].map = Some(Map {
            uri: name,
            byte_range: None,
        });
    }
    let media_text = media.write().unwrap();
    std::fs::write(dir.join("video.m3u8"), &media_text).unwrap();
    let track = &src.movie.tracks[src.video];
    let multivariant = MultivariantPlaylist {
        independent_segments: true,
        variants: vec![VariantStream {
            uri: "video.m3u8".to_owned(),
            bandwidth: peak,
            codecs: Some(codecs_of(src, fx)),
            resolution: Some(Resolution {
                width: u64::from(track.width),
                height: u64::from(track.height),
            }),
            frame_rate: Some(25.0),
            ..VariantStream::default()
        }],
        ..MultivariantPlaylist::default()
    };
    let master_text = multivariant.write().unwrap();
    let master = dir.join("master.m3u8");
    std::fs::write(&master, &master_text).unwrap();

    // Our own parser reads back what the writer wrote.
    let base = master.to_str().unwrap();
    let parsed = parse_multivariant(master_text.as_bytes(), Some(base)).unwrap();
    assert_eq!(
        parsed.variants[0].uri,
        dir.join("video.m3u8").to_str().unwrap()
    );
    let reparsed = parse_media(media_text.as_bytes(), None).unwrap();
    assert_eq!(reparsed.segments, media.segments);
    master
}

/// ffmpeg plays the multivariant playlist: H.264 and AAC, every source frame decoded, and an
/// empty error output.
fn assert_plays(master: &Path, fx: &Fixture, src: &Source<'_>, n_segments: usize) {
    let counts = count_frames(master);
    assert_eq!(
        frames_of(&counts, "h264"),
        fx.frames.0,
        "video frames: {counts:?}"
    );
    // Every AAC sample of the source decodes from HLS. Decoding the source MP4 itself hides the
    // encoder priming that its edit list skips, whole frames of 1024 samples.
    let aac_samples = src.samples[src.audio].len() as u64;
    assert_eq!(
        frames_of(&counts, "aac"),
        aac_samples,
        "audio frames: {counts:?}"
    );
    let priming = src.movie.tracks[src.audio]
        .edit_list
        .map_or(0, |e| u64::try_from(e.media_time).unwrap().div_ceil(1024));
    assert_eq!(fx.frames.1 + priming, aac_samples, "source audio frames");
    let total: Duration = src.durations.iter().sum();
    assert_eq!(
        total,
        Duration::from_secs(4),
        "EXTINF durations add up to the source's"
    );
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(master)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "ffmpeg failed on {}",
        master.display()
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "ffmpeg complained"
    );
    assert_eq!(n_segments, 2, "4 s cut into ~2 s segments");
}

#[test]
fn hls_ts_plays_in_ffmpeg() {
    let fx = fixture();
    let src = cut(&fx.bytes);
    let Codec::Avc(v) = &src.movie.tracks[src.video].codec else {
        panic!("H.264 expected");
    };
    let Codec::Aac(a) = &src.movie.tracks[src.audio].codec else {
        panic!("AAC expected");
    };
    let config = MuxerConfig::default()
        .with_video(VideoTrack::LengthPrefixed {
            codec: VideoCodec::H264,
            record: v.config.clone(),
        })
        .with_audio(AacConfig::from_audio_specific_config(&a.config).unwrap());
    let mut muxer = Muxer::new(config).unwrap();
    let to_90k = |track: usize, t: i64| -> u64 {
        let ts = i64::from(src.movie.tracks[track].timescale);
        TS_OFFSET.checked_add_signed(t * 90_000 / ts).unwrap()
    };
    let mut segments = Vec::new();
    for (i, ranges) in src.cuts.iter().enumerate() {
        let mut data = muxer.write_pat_pmt().to_vec();
        let (mut vi, mut ai) = (ranges[src.video].start, ranges[src.audio].start);
        let (vend, aend) = (ranges[src.video].end, ranges[src.audio].end);
        // Interleave the two tracks in decode-time order.
        while vi < vend || ai < aend {
            let vs = (vi < vend).then(|| src.samples[src.video].get(vi).unwrap());
            let as_ = (ai < aend).then(|| src.samples[src.audio].get(ai).unwrap());
            let video_first = match (vs, as_) {
                (Some(v), Some(a)) => {
                    to_90k(src.video, v.dts as i64) <= to_90k(src.audio, a.dts as i64)
                }
                (Some(_), None) => true,
                _ => false,
            };
            let packets = if video_first {
                let s = vs.unwrap();
                let dts = to_90k(src.video, s.dts as i64);
                let pts = to_90k(src.video, s.dts as i64 + i64::from(s.cts_offset));
                let data = src.data(src.video, vi);
                vi += 1;
                muxer
                    .write_sample(&Sample::video(pts, dts, s.is_sync, data))
                    .unwrap()
            } else {
                let s = as_.unwrap();
                let data = src.data(src.audio, ai);
                ai += 1;
                muxer
                    .write_sample(&Sample::audio(to_90k(src.audio, s.dts as i64), data))
                    .unwrap()
            };
            data.extend_from_slice(&packets);
        }
        segments.push((format!("seg{i}.ts"), data));
    }
    let dir = tempfile::tempdir().unwrap();
    let n_segments = segments.len();
    let master = write_hls(fx, dir.path(), &src, segments, None);
    let text = std::fs::read_to_string(dir.path().join("video.m3u8")).unwrap();
    assert!(
        text.starts_with("#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:2\n"),
        "{text}"
    );
    assert_plays(&master, fx, &src, n_segments);
}

#[test]
fn hls_fmp4_plays_in_ffmpeg() {
    let fx = fixture();
    let src = cut(&fx.bytes);
    // The source's edit lists (B-frame delay, AAC priming) carry over into the init segment, so
    // presentation starts where the source's does.
    let configs: Vec<TrackConfig> = src
        .movie
        .tracks
        .iter()
        .map(|t| TrackConfig {
            edit_media_time: t.edit_list.map(|e| u32::try_from(e.media_time).unwrap()),
            ..TrackConfig::from_track(t)
        })
        .collect();
    let init = init_segment(&configs).unwrap();
    let mut segments = Vec::new();
    for (i, ranges) in src.cuts.iter().enumerate() {
        let fragments: Vec<TrackFragment> = ranges
            .iter()
            .enumerate()
            .map(|(t, range)| TrackFragment {
                track_id: src.movie.tracks[t].id,
                base_media_decode_time: src.samples[t].get(range.start).unwrap().dts,
                samples: range
                    .clone()
                    .map(|j| {
                        let s = src.samples[t].get(j).unwrap();
                        FragmentSample {
                            duration: s.duration,
                            flags: SampleFlags::from_sync(s.is_sync),
                            cts_offset: s.cts_offset,
                            data: Bytes::copy_from_slice(src.data(t, j)),
                        }
                    })
                    .collect(),
            })
            .collect();
        let seg = media_segment(u32::try_from(i + 1).unwrap(), &fragments).unwrap();
        segments.push((format!("seg{i}.m4s"), seg.to_vec()));
    }
    let dir = tempfile::tempdir().unwrap();
    let n_segments = segments.len();
    let master = write_hls(
        fx,
        dir.path(),
        &src,
        segments,
        Some(("init.mp4".to_owned(), init)),
    );
    let text = std::fs::read_to_string(dir.path().join("video.m3u8")).unwrap();
    assert!(
        text.starts_with("#EXTM3U\n#EXT-X-VERSION:6\n#EXT-X-TARGETDURATION:2\n"),
        "{text}"
    );
    assert!(
        text.contains("#EXT-X-MAP:URI=\"init.mp4\"\n#EXTINF:2.000,\nseg0.m4s\n"),
        "{text}"
    );
    assert_plays(&master, fx, &src, n_segments);
}
