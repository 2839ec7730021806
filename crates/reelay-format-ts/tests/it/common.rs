//! Fixture generation, ffprobe parsing and demux helpers shared by the tests.
// The oracle tests spawn ffmpeg; the library itself never does (see clippy.toml).
#![allow(
    clippy::disallowed_methods,
    reason = "tests drive ffmpeg and ffprobe as oracles"
)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use reelay_format_ts::{AccessUnit, DemuxStats, Demuxer, Event};
use serde_json::Value;

/// A deterministic xorshift generator, so that every run mutates and chunks the same way.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }
}

pub struct Fixtures {
    _dir: tempfile::TempDir,
    pub dir: PathBuf,
    /// The brief's 2-second H.264 + AAC stream.
    pub h264: PathBuf,
    /// The same content over 6 seconds, for segmenting.
    pub h264_long: PathBuf,
    /// H.265 + AAC, when ffmpeg has libx265.
    pub h265: Option<PathBuf>,
}

fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-y"])
        .args(args)
        .output()
        .expect("ffmpeg must be installed (scripts/setup-test-env)");
    assert!(
        out.status.success(),
        "ffmpeg {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn generate(path: &Path, seconds: &str, codec: &[&str]) {
    let mut args = vec![
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine=frequency=440:sample_rate=48000",
        "-t",
        seconds,
    ];
    args.extend_from_slice(codec);
    args.extend_from_slice(&["-g", "25", "-bf", "2", "-c:a", "aac", "-f", "mpegts"]);
    let path = path.to_str().expect("temp paths are UTF-8");
    args.push(path);
    ffmpeg(&args);
}

pub fn fixtures() -> &'static Fixtures {
    static FIXTURES: OnceLock<Fixtures> = OnceLock::new();
    FIXTURES.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().to_path_buf();
        let h264 = dir.join("in.ts");
        generate(&h264, "2", &["-c:v", "libx264"]);
        let h264_long = dir.join("long.ts");
        generate(&h264_long, "6", &["-c:v", "libx264"]);
        let encoders = Command::new("ffmpeg")
            .args(["-hide_banner", "-encoders"])
            .output()
            .unwrap();
        let h265 = String::from_utf8_lossy(&encoders.stdout)
            .contains("libx265")
            .then(|| {
                let path = dir.join("in265.ts");
                generate(
                    &path,
                    "2",
                    &["-c:v", "libx265", "-x265-params", "log-level=error"],
                );
                path
            });
        if h265.is_none() {
            // CI installs an ffmpeg with libx265, so there the H.265 path must be checked.
            assert!(
                std::env::var_os("CI").is_none(),
                "ffmpeg lacks libx265 in CI"
            );
            eprintln!("ffmpeg lacks libx265: the H.265 oracle tests only check the H.264 path");
        }
        Fixtures {
            _dir: tmp,
            dir,
            h264,
            h264_long,
            h265,
        }
    })
}

/// One packet as ffprobe reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbePacket {
    pub pts: i64,
    pub dts: i64,
    pub size: usize,
    pub keyframe: bool,
}

fn ffprobe_json(path: &Path, args: &[&str]) -> Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-of", "json"])
        .args(args)
        .arg(path)
        .output()
        .expect("ffprobe must be installed (scripts/setup-test-env)");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The streams of a file: (PID, codec_name, full JSON).
pub fn probe_streams(path: &Path) -> Vec<(u16, String, Value)> {
    let json = ffprobe_json(path, &["-show_streams"]);
    json["streams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let id = s["id"].as_str().unwrap();
            let pid = u16::from_str_radix(id.trim_start_matches("0x"), 16).unwrap();
            (
                pid,
                s["codec_name"].as_str().unwrap_or("").to_owned(),
                s.clone(),
            )
        })
        .collect()
}

/// The packets of each stream, keyed by PID, in file order.
pub fn probe_packets(path: &Path) -> Vec<(u16, Vec<ProbePacket>)> {
    let streams = probe_streams(path);
    let json = ffprobe_json(path, &["-show_packets"]);
    let mut out: Vec<(u16, Vec<ProbePacket>)> = streams
        .iter()
        .map(|(pid, _, _)| (*pid, Vec::new()))
        .collect();
    for p in json["packets"].as_array().unwrap() {
        let index = p["stream_index"].as_u64().unwrap() as usize;
        let num = |v: &Value| v.as_i64().expect("packet without timestamp");
        out[index].1.push(ProbePacket {
            pts: num(&p["pts"]),
            dts: num(&p["dts"]),
            size: p["size"].as_str().unwrap().parse().unwrap(),
            keyframe: p["flags"].as_str().unwrap().starts_with('K'),
        });
    }
    out
}

/// Whether ffmpeg decodes the file without a single complaint.
pub fn assert_decodes_cleanly(path: &Path) {
    let out = Command::new("ffmpeg")
        .args(["-nostdin", "-v", "error", "-i"])
        .arg(path)
        .args(["-f", "null", "-"])
        .output()
        .unwrap();
    assert!(out.status.success(), "ffmpeg failed on {}", path.display());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "ffmpeg reported errors decoding {}",
        path.display()
    );
}

/// Demuxes `data` pushed in random chunks of up to `max_chunk` bytes, draining after each.
pub fn demux_chunked(data: &[u8], seed: u64, max_chunk: usize) -> (Vec<Event>, DemuxStats) {
    let mut rng = Rng::new(seed);
    let mut demuxer = Demuxer::new();
    let mut events = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        let n = rng.range(1, max_chunk).min(rest.len());
        demuxer.push(&rest[..n]).unwrap();
        rest = &rest[n..];
        while let Some(event) = demuxer.poll() {
            events.push(event);
        }
    }
    demuxer.finish();
    while let Some(event) = demuxer.poll() {
        events.push(event);
    }
    (events, demuxer.stats())
}

/// The access units of one PID.
pub fn units_of(events: &[Event], pid: u16) -> Vec<AccessUnit> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::AccessUnit(au) if au.pid == pid => Some(au.clone()),
            _ => None,
        })
        .collect()
}
