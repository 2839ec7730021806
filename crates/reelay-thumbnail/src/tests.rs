//! Unit tests: keyframes made by ffmpeg at test time, ffmpeg as the oracle of the decoded
//! and scaled picture, and mutated input that must fail cleanly.

use super::*;
use std::path::Path;
use std::process::{Command, Stdio};

/// Runs ffmpeg with `args`, failing the test with its stderr when it fails.
#[allow(clippy::disallowed_methods)] // The ffmpeg oracle: tests only.
fn ffmpeg(args: &[&str]) -> Vec<u8> {
    let out = Command::new("ffmpeg")
        .args(["-hide_banner", "-loglevel", "error", "-y"])
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("ffmpeg runs");
    assert!(
        out.status.success(),
        "ffmpeg {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// One IDR access unit in Annex-B form (SPS, PPS, SEI, IDR) from x264 at `profile`.
fn keyframe(dir: &Path, size: &str, profile: &str) -> Vec<u8> {
    let path = dir.join(format!("key-{size}-{profile}.h264"));
    let p = path.to_str().unwrap();
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &format!("testsrc2=size={size}:rate=1"),
        "-frames:v",
        "1",
        "-c:v",
        "libx264",
        "-profile:v",
        profile,
        "-pix_fmt",
        "yuv420p",
        "-f",
        "h264",
        p,
    ]);
    std::fs::read(&path).unwrap()
}

/// The NAL units of an Annex-B stream (without start codes).
fn nal_units(annexb: &[u8]) -> Vec<&[u8]> {
    let mut starts = Vec::new();
    let mut i = 0;
    while i + 3 <= annexb.len() {
        if annexb[i..i + 3] == [0, 0, 1] {
            starts.push(i + 3);
            i += 3;
        } else {
            i += 1;
        }
    }
    let mut out = Vec::new();
    for (k, &s) in starts.iter().enumerate() {
        let mut end = starts.get(k + 1).map_or(annexb.len(), |n| n - 3);
        while end > s && annexb[end - 1] == 0 {
            end -= 1;
        }
        out.push(&annexb[s..end]);
    }
    out
}

/// The avcC record and the length-prefixed access unit of an Annex-B keyframe.
fn to_avcc(annexb: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let nals = nal_units(annexb);
    let sps = nals.iter().find(|n| n[0] & 0x1F == 7).unwrap();
    let pps = nals.iter().find(|n| n[0] & 0x1F == 8).unwrap();
    let mut config = vec![1, sps[1], sps[2], sps[3], 0xFF, 0xE1];
    config.extend_from_slice(&(sps.len() as u16).to_be_bytes());
    config.extend_from_slice(sps);
    config.push(1);
    config.extend_from_slice(&(pps.len() as u16).to_be_bytes());
    config.extend_from_slice(pps);
    let mut data = Vec::new();
    for nal in nals.iter().filter(|n| !matches!(n[0] & 0x1F, 7 | 8)) {
        data.extend_from_slice(&(nal.len() as u32).to_be_bytes());
        data.extend_from_slice(nal);
    }
    (config, data)
}

/// Width, height and codec of an image file, by ffprobe.
#[allow(clippy::disallowed_methods)] // The ffprobe oracle: tests only.
fn probe(path: &Path) -> (u32, u32, String) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-show_entries"])
        .args(["stream=width,height,codec_name", "-of", "csv=p=0"])
        .arg(path)
        .output()
        .expect("ffprobe runs");
    let text = String::from_utf8(out.stdout).unwrap();
    let f: Vec<&str> = text.trim().split(',').collect();
    assert_eq!(f.len(), 3, "{text}");
    (
        f[1].parse().unwrap(),
        f[2].parse().unwrap(),
        f[0].to_string(),
    )
}

/// Mean absolute difference of the luma of two images, both decoded by ffmpeg at `w`×`h`.
fn luma_distance(dir: &Path, ours: &Path, reference_args: &[&str], w: u32, h: u32) -> f64 {
    let raw = |input: &[&str]| -> Vec<u8> {
        let mut args: Vec<&str> = input.to_vec();
        let size = format!("{w}x{h}");
        let filter = format!("scale={size}:flags=area,format=gray");
        args.extend_from_slice(&["-frames:v", "1", "-vf", &filter, "-f", "rawvideo", "-"]);
        ffmpeg(&args)
    };
    let a = raw(&["-i", ours.to_str().unwrap()]);
    let b = raw(reference_args);
    assert_eq!(a.len(), (w * h) as usize);
    assert_eq!(a.len(), b.len());
    let _ = dir;
    let sum: u64 = a
        .iter()
        .zip(&b)
        .map(|(x, y)| u64::from(x.abs_diff(*y)))
        .sum();
    sum as f64 / a.len() as f64
}

#[test]
fn annex_b_keyframe_becomes_a_jpeg_at_source_size_that_matches_ffmpeg() {
    let dir = tempfile::tempdir().unwrap();
    let key = keyframe(dir.path(), "320x240", "high");
    let t = thumbnail(Keyframe::AnnexB(&key), Resolution::Source).unwrap();
    assert_eq!((t.width, t.height), (320, 240));
    assert_eq!(&t.jpeg[..3], &[0xFF, 0xD8, 0xFF], "JPEG SOI");
    let path = dir.path().join("t.jpg");
    std::fs::write(&path, &t.jpeg).unwrap();
    assert_eq!(probe(&path), (320, 240, "mjpeg".into()));
    let src = dir.path().join("key-320x240-high.h264");
    let d = luma_distance(dir.path(), &path, &["-i", src.to_str().unwrap()], 320, 240);
    assert!(d < 4.0, "luma differs from ffmpeg's decode by {d}");
}

#[test]
fn buckets_cap_the_height_and_keep_the_aspect_ratio() {
    let dir = tempfile::tempdir().unwrap();
    let key = keyframe(dir.path(), "1280x720", "main");
    let (config, data) = to_avcc(&key);
    let avcc = Keyframe::Avcc {
        config: &config,
        data: &data,
    };
    let sd = thumbnail(avcc, Resolution::Sd).unwrap();
    assert_eq!((sd.width, sd.height), (852, 480));
    let path = dir.path().join("sd.jpg");
    std::fs::write(&path, &sd.jpeg).unwrap();
    assert_eq!(probe(&path), (852, 480, "mjpeg".into()));
    let src = dir.path().join("key-1280x720-main.h264");
    let d = luma_distance(dir.path(), &path, &["-i", src.to_str().unwrap()], 852, 480);
    assert!(d < 4.0, "area-scaled luma differs from ffmpeg's by {d}");
    // A bucket above the source does not enlarge it.
    let full = thumbnail(avcc, Resolution::FullHd).unwrap();
    assert_eq!((full.width, full.height), (1280, 720));
    let hd = thumbnail(avcc, Resolution::Hd).unwrap();
    assert_eq!((hd.width, hd.height), (1280, 720));
}

#[test]
fn output_sizes() {
    assert_eq!(Resolution::Sd.output_size(1920, 1080), (852, 480));
    assert_eq!(Resolution::Hd.output_size(1920, 1080), (1280, 720));
    assert_eq!(Resolution::FullHd.output_size(3840, 2160), (1920, 1080));
    assert_eq!(Resolution::Sd.output_size(640, 360), (640, 360));
    assert_eq!(Resolution::Source.output_size(321, 241), (321, 241));
    assert_eq!(Resolution::Lowest.output_size(1280, 720), (1280, 720));
    assert_eq!(Resolution::Sd.output_size(4000, 1000), (1920, 480));
    assert_eq!(Resolution::from_api("FULL_HD"), Some(Resolution::FullHd));
    assert_eq!(Resolution::from_api("8K"), None);
}

#[test]
fn area_filter_averages_exact_coverage() {
    // 4 pixels into 3: each output covers 4/3 of a source pixel.
    let out = resample(&[0, 90, 180, 255], 4, 1, 3, 1);
    assert_eq!(out, vec![23, 135, 236]);
    // 2x2 into 1x1 is the mean.
    assert_eq!(resample(&[10, 20, 30, 40], 2, 2, 1, 1), vec![25]);
    // Enlarging is bilinear and keeps a flat field flat.
    assert_eq!(resample(&[7; 4], 2, 2, 5, 3), vec![7; 15]);
}

#[test]
fn hostile_input_fails_cleanly() {
    assert!(matches!(
        thumbnail(Keyframe::AnnexB(&[]), Resolution::Source),
        Err(Error::Decode(_))
    ));
    for config in [
        &[][..],
        &[1, 2, 3],
        &[0, 0x42, 0, 0x1E, 0xFF, 0xE1],
        &[1, 0x42, 0, 0x1E, 0xFE, 0xE1],
    ] {
        let r = thumbnail(
            Keyframe::Avcc {
                config,
                data: &[0, 0, 0, 1, 0x65],
            },
            Resolution::Sd,
        );
        assert!(r.is_err(), "{config:?}");
    }
    // A parameter set longer than the record.
    let bad = [1, 0x42, 0, 0x1E, 0xFF, 0xE1, 0x00, 0x40, 0x67];
    assert!(
        thumbnail(
            Keyframe::Avcc {
                config: &bad,
                data: &[]
            },
            Resolution::Sd
        )
        .is_err()
    );
    let dir = tempfile::tempdir().unwrap();
    let key = keyframe(dir.path(), "160x120", "baseline");
    let (config, data) = to_avcc(&key);
    // A NAL length past the end of the access unit.
    let mut long = data.clone();
    long[..4].copy_from_slice(&u32::MAX.to_be_bytes());
    assert!(matches!(
        thumbnail(
            Keyframe::Avcc {
                config: &config,
                data: &long
            },
            Resolution::Sd
        ),
        Err(Error::Decode(_))
    ));
    assert!(
        thumbnail(
            Keyframe::Avcc {
                config: &config,
                data: &data
            },
            Resolution::Sd
        )
        .is_ok()
    );
    // Deterministic mutations (xorshift): truncations and flipped bytes in both framings
    // never panic; whatever decodes is still a well-formed thumbnail.
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for round in 0..200 {
        let mut c = config.clone();
        let mut d = data.clone();
        let target: &mut Vec<u8> = if round % 3 == 0 { &mut c } else { &mut d };
        if target.is_empty() {
            continue;
        }
        if round % 5 == 0 {
            let cut = (next() as usize) % target.len();
            target.truncate(cut);
        } else {
            for _ in 0..1 + next() % 4 {
                let i = (next() as usize) % target.len();
                target[i] ^= 1 << (next() % 8);
            }
        }
        if let Ok(t) = thumbnail(
            Keyframe::Avcc {
                config: &c,
                data: &d,
            },
            Resolution::Sd,
        ) {
            assert!(t.width > 0 && t.height > 0 && t.jpeg.starts_with(&[0xFF, 0xD8]));
        }
    }
}
