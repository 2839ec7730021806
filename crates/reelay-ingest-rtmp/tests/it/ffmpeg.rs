//! ffmpeg publishes over a real socket to the state machine, driven by a small tokio host.
//! ffprobe then reads the received tags, written back as FLV, as an independent oracle that
//! parsing preserved the payloads.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use reelay_ingest_rtmp::{
    AudioPacket, AudioTag, AvcDecoderConfig, Event, FrameType, Output, Server, ServerConfig,
    VideoCodec, VideoPacket, VideoTag,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::process::Command;

use crate::common::Rng;
use crate::hostile::{feed, mutate};

const KEY: &str = "sk_us-west-2_abcDEF123";

struct Session {
    events: Vec<Event>,
    /// Every byte ffmpeg sent, for the hostile-input replay.
    recorded: Vec<u8>,
    port: u16,
    success: bool,
    stderr: String,
}

/// Runs the brief's ffmpeg command against one connection, accepting or rejecting the key.
async fn publish(accept: bool) -> Session {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let url = format!("rtmp://127.0.0.1:{port}/app/{KEY}");
    let child = Command::new("ffmpeg")
        .args(["-nostdin", "-hide_banner", "-v", "error", "-re"])
        .args(["-f", "lavfi", "-i", "testsrc=size=320x240:rate=25"])
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args(["-t", "3", "-c:v", "libx264", "-g", "50", "-c:a", "aac"])
        .args(["-f", "flv", &url])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("ffmpeg must be installed (scripts/setup-test-env)");
    let (mut sock, _) = listener.accept().await.unwrap();
    let mut server = Server::new(ServerConfig::default(), &Rng::new(42).random_block());
    let mut events = Vec::new();
    let mut recorded = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    while !server.is_closed() {
        let n = sock.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            server.handle_eof();
        } else {
            recorded.extend_from_slice(&buf[..n]);
            // An error is also reported as Event::Closed, which the assertions look at.
            let _ = server.handle_input(&buf[..n]);
        }
        while let Some(out) = server.poll_output() {
            match out {
                Output::Transmit(bytes) => {
                    // ffmpeg may already be gone after a rejection.
                    let _ = sock.write_all(&bytes).await;
                }
                Output::Event(event) => {
                    if let Event::Publish { stream_name, .. } = &event {
                        if accept && stream_name.ct_eq(KEY) {
                            server.accept().unwrap();
                        } else {
                            server.reject("unknown stream key").unwrap();
                        }
                    }
                    events.push(event);
                }
                other => panic!("unexpected output {other:?}"),
            }
        }
    }
    let _ = sock.shutdown().await;
    drop(sock);
    let out = child.wait_with_output().await.unwrap();
    Session {
        events,
        recorded,
        port,
        success: out.status.success(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

fn with_timeout<F: std::future::Future>(f: F) -> F::Output {
    runtime().block_on(async {
        tokio::time::timeout(Duration::from_secs(60), f)
            .await
            .expect("ffmpeg session timed out")
    })
}

#[test]
fn ffmpeg_publish_is_parsed_end_to_end() {
    let session = with_timeout(publish(true));
    assert!(session.success, "ffmpeg failed: {}", session.stderr);
    let ev = &session.events;
    assert_eq!(
        ev[0],
        Event::Connect {
            app: "app".into(),
            tc_url: Some(format!("rtmp://127.0.0.1:{}/app", session.port)),
        }
    );
    let Event::Publish {
        app, stream_name, ..
    } = &ev[1]
    else {
        panic!("{:?}", ev[1]);
    };
    assert_eq!(app, "app");
    assert_eq!(stream_name.expose(), KEY);
    let metadata = ev
        .iter()
        .find_map(|e| match e {
            Event::Metadata { properties } => Some(properties),
            _ => None,
        })
        .expect("onMetaData");
    let prop = |k: &str| metadata.iter().find(|(key, _)| key == k).map(|(_, v)| v);
    assert_eq!(prop("width").and_then(|v| v.as_f64()), Some(320.0));
    assert_eq!(prop("height").and_then(|v| v.as_f64()), Some(240.0));
    assert!(
        prop("encoder")
            .and_then(|v| v.as_str())
            .is_some_and(|e| e.starts_with("Lavf"))
    );

    let video: Vec<(u32, &VideoTag)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Video { timestamp_ms, tag } => Some((*timestamp_ms, tag)),
            _ => None,
        })
        .collect();
    let audio: Vec<(u32, &AudioTag)> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Audio { timestamp_ms, tag } => Some((*timestamp_ms, tag)),
            _ => None,
        })
        .collect();

    // The AVC sequence header comes first and its avcC agrees with its own SPS.
    let (_, first) = video[0];
    assert_eq!(first.codec, VideoCodec::Avc);
    let VideoPacket::SequenceStart(avcc) = &first.packet else {
        panic!("first video tag: {first:?}");
    };
    let config = AvcDecoderConfig::parse(avcc).unwrap();
    assert_eq!(config.nal_length_size, 4);
    assert_eq!(config.sps.len(), 1);
    assert_eq!(config.pps.len(), 1);
    let sps = &config.sps[0];
    assert_eq!(sps[0] & 0x1F, 7, "SPS NAL type");
    assert_eq!(
        (sps[1], sps[3]),
        (config.profile_indication, config.level_indication)
    );
    assert!(config.codec_string().starts_with("avc1."));

    // 3 s at 25 fps: 75 frames, key frames at frames 0 and 50 (-g 50), 2 s apart.
    let frames: Vec<(u32, &VideoTag)> = video
        .iter()
        .copied()
        .filter(|(_, t)| matches!(t.packet, VideoPacket::CodedFrames { .. }))
        .collect();
    assert_eq!(frames.len(), 75);
    let keys: Vec<usize> = frames
        .iter()
        .enumerate()
        .filter(|(_, (_, t))| t.frame_type == FrameType::Key)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(keys, [0, 50]);
    let key_gap = frames[50].0 - frames[0].0;
    assert!(
        (1960..=2040).contains(&key_gap),
        "key frames {key_gap} ms apart"
    );
    assert!(
        frames.windows(2).all(|w| w[0].0 < w[1].0),
        "video timestamps not increasing"
    );
    let span = frames[74].0 - frames[0].0;
    assert!((2900..=3000).contains(&span), "video spans {span} ms");
    // x264 uses B-frames by default, so some frames carry a composition offset.
    assert!(frames.iter().any(|(_, t)| matches!(
        t.packet,
        VideoPacket::CodedFrames { composition_time_ms, .. } if composition_time_ms > 0
    )));

    let (_, first) = audio[0];
    let AudioPacket::AacSequenceHeader(asc) = &first.packet else {
        panic!("first audio tag: {first:?}");
    };
    assert_eq!(
        (asc.object_type, asc.sample_rate, asc.channel_configuration),
        (2, 48_000, 1)
    );
    // 3 s of 1024-sample AAC frames at 48 kHz is about 141.
    let n_aac = audio
        .iter()
        .filter(|(_, t)| matches!(t.packet, AudioPacket::AacRaw(_)))
        .count();
    assert!((135..=145).contains(&n_aac), "{n_aac} AAC frames");
    assert!(audio.windows(2).all(|w| w[0].0 <= w[1].0));

    assert!(ev.contains(&Event::Unpublish));
    assert_eq!(ev.last(), Some(&Event::Closed { error: None }));

    ffprobe_oracle(&video, &audio);

    // The recorded client stream, mutated, never panics the state machine.
    let mut rng = Rng::new(0xF0F0);
    let clean = feed(&session.recorded, &mut rng);
    assert_eq!(clean.errors, 0);
    for _ in 0..30 {
        feed(&mutate(&session.recorded, &mut rng), &mut rng);
    }
}

#[test]
fn ffmpeg_exits_with_an_error_when_the_key_is_rejected() {
    let session = with_timeout(publish(false));
    assert!(
        !session.success,
        "ffmpeg succeeded although its key was rejected"
    );
    assert!(matches!(session.events[1], Event::Publish { .. }));
    assert_eq!(session.events[2], Event::Closed { error: None });
    assert!(
        !session
            .events
            .iter()
            .any(|e| matches!(e, Event::Video { .. }))
    );
}

/// Writes the parsed tags back as legacy FLV (FLV spec v10.1 §E.2–E.4) and checks that
/// ffprobe decodes every frame at the expected size and rate.
fn ffprobe_oracle(video: &[(u32, &VideoTag)], audio: &[(u32, &AudioTag)]) {
    let mut tags: Vec<(u32, u8, Vec<u8>)> = Vec::new();
    for (ts, tag) in video {
        let mut body = vec![(tag.frame_type.to_bits() << 4) | 7];
        match &tag.packet {
            VideoPacket::SequenceStart(data) => {
                body.extend_from_slice(&[0, 0, 0, 0]);
                body.extend_from_slice(data);
            }
            VideoPacket::CodedFrames {
                composition_time_ms,
                data,
            } => {
                body.push(1);
                body.extend_from_slice(&composition_time_ms.to_be_bytes()[1..]);
                body.extend_from_slice(data);
            }
            VideoPacket::SequenceEnd => body.extend_from_slice(&[2, 0, 0, 0]),
            other => panic!("unexpected video packet {other:?}"),
        }
        tags.push((*ts, 9, body));
    }
    for (ts, tag) in audio {
        let mut body = vec![tag.header_byte()];
        match &tag.packet {
            AudioPacket::AacSequenceHeader(asc) => {
                body.push(0);
                body.extend_from_slice(&asc.raw);
            }
            AudioPacket::AacRaw(data) => {
                body.push(1);
                body.extend_from_slice(data);
            }
            other => panic!("unexpected audio packet {other:?}"),
        }
        tags.push((*ts, 8, body));
    }
    // Stable sort: sequence headers stay before frames of the same timestamp.
    tags.sort_by_key(|(ts, _, _)| *ts);
    let mut flv = b"FLV\x01\x05\x00\x00\x00\x09\x00\x00\x00\x00".to_vec();
    for (ts, kind, body) in &tags {
        flv.push(*kind);
        flv.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        flv.extend_from_slice(&ts.to_be_bytes()[1..]);
        flv.push((ts >> 24) as u8);
        flv.extend_from_slice(&[0, 0, 0]);
        flv.extend_from_slice(body);
        flv.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("received.flv");
    std::fs::write(&path, &flv).unwrap();
    let report = ffprobe(&path);
    assert!(report.contains("codec_name=h264"), "{report}");
    assert!(
        report.contains("width=320") && report.contains("height=240"),
        "{report}"
    );
    assert!(report.contains("nb_read_frames=75"), "{report}");
    assert!(report.contains("codec_name=aac"), "{report}");
    assert!(report.contains("sample_rate=48000"), "{report}");
}

fn ffprobe(path: &Path) -> String {
    let out = runtime().block_on(async {
        Command::new("ffprobe")
            .args(["-v", "error", "-count_frames", "-show_entries"])
            .arg("stream=codec_name,width,height,sample_rate,nb_read_frames")
            .args(["-of", "default=noprint_wrappers=1"])
            .arg(path)
            .output()
            .await
    });
    let out = out.expect("ffprobe must be installed (scripts/setup-test-env)");
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}
