//! Test fixtures generated with ffmpeg at test time, and ffprobe dissections used as the oracle.
//!
//! Nothing here is committed media: each fixture is encoded into a temporary directory on first
//! use, read into memory with its ffprobe JSON, and the directory is removed.

// The crate's clippy.toml bans spawning processes in this sans-IO crate; the tests must run the
// reference tools.
#![allow(clippy::disallowed_methods)]
// Shared by the `it` and `hostile` test binaries, each of which uses a subset.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

/// One generated source file and ffprobe's view of it.
pub struct Fixture {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    /// `ffprobe -show_streams -show_packets -of json`.
    pub probe: Value,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Kind {
    /// H.264 (B-frames) + AAC, moov before mdat.
    H264AacFaststart,
    /// H.264 (B-frames) + AAC, moov after mdat.
    H264AacMoovAtEnd,
    /// H.265 (B-frames) + AAC in hvc1.
    HevcAac,
    /// H.264 only, no audio.
    H264VideoOnly,
    /// Fragmented MP4 (empty moov + moof), which must be refused.
    Fragmented,
}

pub const SOURCES: [Kind; 4] = [
    Kind::H264AacFaststart,
    Kind::H264AacMoovAtEnd,
    Kind::HevcAac,
    Kind::H264VideoOnly,
];

const VIDEO_IN: [&str; 4] = ["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"];
const AUDIO_IN: [&str; 4] = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"];
const H264: [&str; 10] = [
    "-c:v", "libx264", "-preset", "veryfast", "-g", "25", "-bf", "2", "-pix_fmt", "yuv420p",
];
const AAC: [&str; 4] = ["-c:a", "aac", "-ac", "2"];

fn args(kind: Kind) -> Vec<&'static str> {
    let mut a: Vec<&str> = Vec::new();
    a.extend(VIDEO_IN);
    if kind != Kind::H264VideoOnly {
        a.extend(AUDIO_IN);
    }
    a.extend(["-t", "2"]);
    match kind {
        Kind::HevcAac => a.extend([
            "-c:v",
            "libx265",
            "-preset",
            "ultrafast",
            "-x265-params",
            "log-level=error:bframes=2:keyint=25",
            "-tag:v",
            "hvc1",
            "-pix_fmt",
            "yuv420p",
        ]),
        _ => a.extend(H264),
    }
    if kind != Kind::H264VideoOnly {
        a.extend(AAC);
    }
    match kind {
        Kind::H264AacFaststart | Kind::HevcAac | Kind::H264VideoOnly => {
            a.extend(["-movflags", "+faststart"])
        }
        Kind::H264AacMoovAtEnd => {}
        Kind::Fragmented => a.extend(["-movflags", "frag_keyframe+empty_moov"]),
    }
    a
}

fn run(cmd: &mut Command, what: &str) -> Vec<u8> {
    let out = cmd.output().unwrap_or_else(|e| {
        panic!("{what}: cannot run it ({e}); install ffmpeg (which provides ffprobe) to run these tests")
    });
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Whether this ffmpeg build has an encoder (libx265 is optional in some distributions).
pub fn has_encoder(name: &str) -> bool {
    let out = run(
        Command::new("ffmpeg").args(["-hide_banner", "-encoders"]),
        "ffmpeg -encoders",
    );
    String::from_utf8_lossy(&out)
        .split_whitespace()
        .any(|w| w == name)
}

/// `ffprobe -show_streams -show_packets` on `path`, as JSON.
pub fn ffprobe(path: &Path) -> Value {
    let out = run(
        Command::new("ffprobe")
            .args([
                "-v",
                "error",
                "-show_streams",
                "-show_packets",
                "-of",
                "json",
            ])
            .arg(path),
        "ffprobe",
    );
    serde_json::from_slice(&out).expect("ffprobe prints JSON")
}

/// Decodes `path` fully with ffmpeg and returns its error output (empty when clean).
pub fn ffmpeg_decode_errors(path: &Path) -> String {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .expect("ffmpeg runs");
    let mut errors = String::from_utf8_lossy(&out.stderr).into_owned();
    if !out.status.success() {
        errors.push_str(&format!("exit status {}", out.status));
    }
    errors
}

fn generate(kind: Kind) -> Fixture {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("fixture.mp4");
    run(
        Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-nostdin", "-threads", "1"])
            .args(args(kind))
            .arg(&path),
        "ffmpeg (fixture encode)",
    );
    let bytes = std::fs::read(&path).expect("read fixture");
    let probe = ffprobe(&path);
    Fixture {
        name: match kind {
            Kind::H264AacFaststart => "h264_aac_faststart",
            Kind::H264AacMoovAtEnd => "h264_aac_moov_at_end",
            Kind::HevcAac => "hevc_aac",
            Kind::H264VideoOnly => "h264_video_only",
            Kind::Fragmented => "fragmented",
        },
        bytes,
        probe,
    }
}

/// The fixture of `kind`, generated once per test process. `None` only for H.265 when the
/// ffmpeg build lacks libx265 (the caller says so and skips that case).
pub fn get(kind: Kind) -> Option<&'static Fixture> {
    static CELLS: [OnceLock<Option<Fixture>>; 5] = [const { OnceLock::new() }; 5];
    let idx = kind as usize;
    CELLS[idx]
        .get_or_init(|| {
            if kind == Kind::HevcAac && !has_encoder("libx265") {
                // CI installs an ffmpeg with libx265, so there the H.265 path must be checked.
                assert!(
                    std::env::var_os("CI").is_none(),
                    "ffmpeg lacks libx265 in CI"
                );
                eprintln!("skipping the H.265 fixture: this ffmpeg has no libx265 encoder");
                return None;
            }
            Some(generate(kind))
        })
        .as_ref()
}

/// Follows [`reelay_format_mp4::Probe`] from a 4 KiB head, fetching ranges from `file` as
/// asked, like a reader of an object store; returns the moov bytes and the number of fetches.
pub fn locate_moov(file: &[u8]) -> (&[u8], usize) {
    use reelay_format_mp4::{Next, probe};
    let head = &file[..file.len().min(4096)];
    let mut p = probe(head).expect("probe");
    let mut fetches = 0;
    loop {
        match p.next() {
            Next::ParseMoov(range) => {
                return (range.slice(0, file).expect("moov inside the file"), fetches);
            }
            Next::Fetch { offset, min_len } => {
                fetches += 1;
                assert!(fetches < 16, "probe keeps asking for more");
                let start = (offset as usize).min(file.len());
                let end = (start + (min_len as usize).max(4096)).min(file.len());
                p.feed(offset, &file[start..end]).expect("probe feed");
            }
        }
    }
}

/// Packets of ffprobe stream `index`.
pub fn packets(probe: &Value, index: u64) -> Vec<&Value> {
    probe["packets"]
        .as_array()
        .expect("packets array")
        .iter()
        .filter(|p| p["stream_index"].as_u64() == Some(index))
        .collect()
}

/// A JSON field that ffprobe prints either as a number or as a string of digits.
pub fn int(v: &Value) -> i64 {
    match v {
        Value::Number(n) => n.as_i64().expect("integer"),
        Value::String(s) => s.parse().unwrap_or_else(|_| panic!("not an integer: {s}")),
        other => panic!("not an integer: {other}"),
    }
}
