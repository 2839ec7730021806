//! The pure parts of recording: the prefix, the playlists and the thumbnail cadence.

use super::*;

fn state(segments: Vec<RecSegment>) -> RecState {
    RecState {
        rendition: Rendition {
            name: "240p25".into(),
            width: 320,
            height: 240,
            frame_rate: Some(25.0),
            codecs: Some("avc1.64000d,mp4a.40.2".into()),
        },
        segments,
        next_segment: 0,
        next_thumbnail: 0,
        n_inits: 0,
        current_map: None,
        discontinuity: false,
        bytes_total: 1_000_000,
        duration_total: Duration::from_secs(4),
        peak_bandwidth: 2_100_000,
        streams: 1,
        generation: 0,
        lingering: false,
        finished: false,
        listed: 0,
    }
}

fn seg(n: u64, discontinuity: bool, ranges: Vec<(u64, u64, Duration)>) -> RecSegment {
    RecSegment {
        uri: format!("{n}.ts"),
        duration: ranges.iter().map(|r| r.2).sum(),
        discontinuity,
        map: None,
        ranges,
    }
}

#[test]
fn prefix_is_utc_without_zero_padding() {
    let t = time::macros::datetime!(2020-06-03 04:05:06 +02:00);
    assert_eq!(
        prefix("123456789012", "AsXego4U6tnj", t, "j8Z9O91ndcVs"),
        "ivs/v1/123456789012/AsXego4U6tnj/2020/6/3/2/5/j8Z9O91ndcVs"
    );
}

#[test]
fn media_playlists_list_every_segment_and_byte_ranges_per_keyframe_interval() {
    let ms = Duration::from_millis;
    let st = state(vec![
        seg(0, false, vec![(0, 1000, ms(1000)), (1000, 500, ms(1000))]),
        seg(1, true, vec![(0, 800, ms(2000))]),
    ]);
    let live = media_playlist(&st, false, false);
    assert!(live.contains("#EXT-X-PLAYLIST-TYPE:EVENT"), "{live}");
    assert!(!live.contains("#EXT-X-ENDLIST"), "{live}");
    let ended = media_playlist(&st, true, false);
    assert!(ended.contains("#EXT-X-PLAYLIST-TYPE:VOD"), "{ended}");
    assert!(ended.ends_with("#EXT-X-ENDLIST\n"), "{ended}");
    assert_eq!(
        ended.matches("#EXT-X-DISCONTINUITY\n").count(),
        1,
        "{ended}"
    );
    assert!(
        ended.contains("0.ts\n") && ended.contains("1.ts\n"),
        "{ended}"
    );
    let br = media_playlist(&st, true, true);
    assert!(br.contains("#EXT-X-VERSION:4"), "{br}");
    assert!(br.contains("#EXT-X-BYTERANGE:1000@0\n"), "{br}");
    assert!(br.contains("#EXT-X-BYTERANGE:500@1000\n"), "{br}");
    assert!(br.contains("#EXT-X-BYTERANGE:800@0\n"), "{br}");
    assert_eq!(br.matches("#EXTINF").count(), 3, "{br}");
    assert!(br.contains("#EXT-X-TARGETDURATION:2"), "{br}");
    let master = multivariant(&st, true);
    assert!(
        master.contains("240p25/byte-range-variant.m3u8"),
        "{master}"
    );
    assert!(master.contains("RESOLUTION=320x240"), "{master}");
    assert!(master.contains("BANDWIDTH=2100000"), "{master}");
}

fn config(interval: i64, mode: RecordingMode) -> RecordingConfigurationV1 {
    serde_json::from_value(json!({
        "schemaVersion": 1,
        "name": "",
        "bucketName": "b",
        "recordingReconnectWindowSeconds": 0,
        "thumbnailConfiguration": {
            "recordingMode": mode.as_str(),
            "targetIntervalSeconds": interval,
            "storage": ["SEQUENTIAL", "LATEST"],
        },
        "renditionConfiguration": {},
    }))
    .unwrap()
}

#[test]
fn thumbnails_follow_the_interval_on_keyframes() {
    let mut c = ThumbnailClock::new(&config(2, RecordingMode::Interval));
    // Keyframes every second: one thumbnail every other keyframe; a keyframe seen twice once.
    let taken: Vec<bool> = (0..6).map(|n| c.due(n, n as i64 * 1000)).collect();
    assert_eq!(taken, vec![true, false, true, false, true, false]);
    assert!(!c.due(5, 5000));
    // Slightly early keyframes (rounded frame times) still count.
    assert!(c.due(6, 5995));
    let mut off = ThumbnailClock::new(&config(1, RecordingMode::Disabled));
    assert!(!off.due(0, 0));
}
