//! Snapshot tests of written playlists (the exact expected text is in each test), round trips
//! through the parser, and the parser's tolerance and strictness.

use std::time::Duration;

use crate::*;

fn ms(millis: u64) -> Duration {
    Duration::from_millis(millis)
}

fn segment(uri: &str, duration: Duration) -> MediaSegment {
    MediaSegment {
        uri: uri.to_owned(),
        duration,
        ..MediaSegment::default()
    }
}

/// Writes `pl`, compares with `expected`, and checks that parsing the text gives `pl` back
/// (with the computed target duration, which the text states explicitly).
#[track_caller]
fn check_media(pl: &MediaPlaylist, expected: &str) {
    let text = pl.write().unwrap();
    assert_eq!(text, expected, "written playlist:\n{text}");
    let parsed = parse_media(text.as_bytes(), None).unwrap();
    let mut want = pl.clone();
    want.target_duration = pl.computed_target_duration();
    assert_eq!(parsed, want, "round trip");
    assert_eq!(parsed.write().unwrap(), text, "rewrite");
    assert_eq!(parse(text.as_bytes(), None).unwrap(), Playlist::Media(want));
}

#[track_caller]
fn check_multivariant(pl: &MultivariantPlaylist, expected: &str) {
    let text = pl.write().unwrap();
    assert_eq!(text, expected, "written playlist:\n{text}");
    let parsed = parse_multivariant(text.as_bytes(), None).unwrap();
    assert_eq!(&parsed, pl, "round trip");
    assert_eq!(
        parse(text.as_bytes(), None).unwrap(),
        Playlist::Multivariant(pl.clone())
    );
}

fn vod(segments: Vec<MediaSegment>) -> MediaPlaylist {
    MediaPlaylist {
        playlist_type: Some(PlaylistType::Vod),
        independent_segments: true,
        segments,
        end_list: true,
        ..MediaPlaylist::default()
    }
}

#[test]
fn vod_ts() {
    let pl = vod(vec![
        segment("seg0.ts", ms(2000)),
        segment("seg1.ts", Duration::new(2, 2_667_000)),
        segment("seg2.ts", ms(1500)),
    ]);
    // TARGETDURATION is the ceiling of 2.002667; float EXTINF needs version 3.
    check_media(
        &pl,
        "#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:3
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXTINF:2.000,
seg0.ts
#EXTINF:2.002667,
seg1.ts
#EXTINF:1.500,
seg2.ts
#EXT-X-ENDLIST
",
    );
}

#[test]
fn vod_fmp4_with_map() {
    let mut pl = vod(vec![
        segment("seg1.m4s", ms(2000)),
        segment("seg2.m4s", ms(2000)),
    ]);
    pl.segments[0].map = Some(Map {
        uri: "init.mp4".to_owned(),
        byte_range: None,
    });
    pl.media_sequence = 1;
    check_media(
        &pl,
        "#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:1
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI=\"init.mp4\"
#EXTINF:2.000,
seg1.m4s
#EXTINF:2.000,
seg2.m4s
#EXT-X-ENDLIST
",
    );
}

#[test]
fn i_frames_only_with_byte_ranges() {
    let mut pl = vod(vec![
        MediaSegment {
            byte_range: Some(ByteRange {
                length: 9024,
                offset: Some(376),
            }),
            ..segment("main.mp4", ms(1000))
        },
        MediaSegment {
            byte_range: Some(ByteRange {
                length: 8460,
                offset: None,
            }),
            ..segment("main.mp4", ms(1000))
        },
    ]);
    pl.i_frames_only = true;
    pl.independent_segments = false;
    pl.segments[0].map = Some(Map {
        uri: "main.mp4".to_owned(),
        byte_range: Some(ByteRange {
            length: 720,
            offset: Some(0),
        }),
    });
    // EXT-X-MAP in an I-frames-only playlist needs version 5, not 6 (RFC 8216 §7).
    check_media(
        &pl,
        "#EXTM3U
#EXT-X-VERSION:5
#EXT-X-TARGETDURATION:1
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-I-FRAMES-ONLY
#EXT-X-MAP:URI=\"main.mp4\",BYTERANGE=\"720@0\"
#EXTINF:1.000,
#EXT-X-BYTERANGE:9024@376
main.mp4
#EXTINF:1.000,
#EXT-X-BYTERANGE:8460
main.mp4
#EXT-X-ENDLIST
",
    );
    pl.segments[0].map = None;
    assert_eq!(pl.version(), 4);
    pl.segments[0].duration = Duration::MAX;
    assert_eq!(pl.computed_target_duration(), u64::MAX, "saturates");
}

fn multivariant() -> MultivariantPlaylist {
    let audio = |lang: &str, name: &str, default: bool| Rendition {
        kind: MediaType::Audio,
        group_id: "aac".to_owned(),
        name: name.to_owned(),
        language: Some(lang.to_owned()),
        default,
        autoselect: true,
        uri: Some(format!("audio_{lang}.m3u8")),
        channels: Some("2".to_owned()),
        instream_id: None,
    };
    MultivariantPlaylist {
        independent_segments: true,
        renditions: vec![audio("en", "English", true), audio("fr", "Français", false)],
        variants: vec![
            VariantStream {
                uri: "720p.m3u8".to_owned(),
                bandwidth: 3_000_000,
                average_bandwidth: Some(2_500_000),
                codecs: Some("avc1.64001f,mp4a.40.2".to_owned()),
                resolution: Some(Resolution {
                    width: 1280,
                    height: 720,
                }),
                frame_rate: Some(29.97),
                audio: Some("aac".to_owned()),
                subtitles: None,
            },
            VariantStream {
                uri: "240p.m3u8".to_owned(),
                bandwidth: 400_000,
                codecs: Some("avc1.42c00d,mp4a.40.2".to_owned()),
                resolution: Some(Resolution {
                    width: 320,
                    height: 240,
                }),
                frame_rate: Some(25.0),
                audio: Some("aac".to_owned()),
                ..VariantStream::default()
            },
        ],
        i_frame_streams: vec![IFrameStream {
            uri: "720p_iframes.m3u8".to_owned(),
            bandwidth: 300_000,
            average_bandwidth: None,
            codecs: Some("avc1.64001f".to_owned()),
            resolution: Some(Resolution {
                width: 1280,
                height: 720,
            }),
        }],
    }
}

#[test]
fn multivariant_with_audio_group_and_i_frames() {
    check_multivariant(
        &multivariant(),
        "#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio_en.m3u8\",CHANNELS=\"2\"
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"Français\",LANGUAGE=\"fr\",DEFAULT=NO,AUTOSELECT=YES,URI=\"audio_fr.m3u8\",CHANNELS=\"2\"
#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO=\"aac\"
720p.m3u8
#EXT-X-STREAM-INF:BANDWIDTH=400000,CODECS=\"avc1.42c00d,mp4a.40.2\",RESOLUTION=320x240,FRAME-RATE=25.000,AUDIO=\"aac\"
240p.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,CODECS=\"avc1.64001f\",RESOLUTION=1280x720,URI=\"720p_iframes.m3u8\"
",
    );
}

fn encrypted(placement: KeyPlacement) -> MediaPlaylist {
    let mut pl = vod(vec![
        segment("seg0.ts", ms(2000)),
        segment("seg1.ts", ms(2000)),
        segment("seg2.ts", ms(2000)),
    ]);
    let mut key = Key::new(KeyMethod::Aes128, "https://keys.example/k1");
    key.iv = Some(*b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f");
    key.key_format = Some("identity".to_owned());
    key.key_format_versions = Some("1".to_owned());
    pl.apply_keys(&[key], placement);
    pl
}

#[test]
fn encryption_once() {
    // KEYFORMAT and KEYFORMATVERSIONS need version 5 (RFC 8216 §7).
    check_media(
        &encrypted(KeyPlacement::Once),
        "#EXTM3U
#EXT-X-VERSION:5
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k1\",IV=0x000102030405060708090A0B0C0D0E0F,KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\"
#EXTINF:2.000,
seg0.ts
#EXTINF:2.000,
seg1.ts
#EXTINF:2.000,
seg2.ts
#EXT-X-ENDLIST
",
    );
}

#[test]
fn encryption_repeated() {
    let key = "#EXT-X-KEY:METHOD=AES-128,URI=\"https://keys.example/k1\",IV=0x000102030405060708090A0B0C0D0E0F,KEYFORMAT=\"identity\",KEYFORMATVERSIONS=\"1\"";
    check_media(
        &encrypted(KeyPlacement::EverySegment),
        &format!(
            "#EXTM3U
#EXT-X-VERSION:5
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
{key}
#EXTINF:2.000,
seg0.ts
{key}
#EXTINF:2.000,
seg1.ts
{key}
#EXTINF:2.000,
seg2.ts
#EXT-X-ENDLIST
"
        ),
    );
    // SAMPLE-AES alone also needs version 5; an identity AES-128 key without IV or KEYFORMAT
    // stays at 3.
    let mut pl = vod(vec![segment("a.ts", ms(1000))]);
    pl.apply_keys(&[Key::new(KeyMethod::Aes128, "k")], KeyPlacement::Once);
    assert_eq!(pl.version(), 3);
    pl.apply_keys(
        &[Key::new(KeyMethod::SampleAes, "skd://k")],
        KeyPlacement::Once,
    );
    assert_eq!(pl.version(), 5);
}

#[test]
fn program_date_time_interval() {
    let mut pl = vod((0..5)
        .map(|i| segment(&format!("s{i}.ts"), ms(2000)))
        .collect());
    let start = DateTime::from_unix_millis(1_700_000_000_000).unwrap();
    // Every 4 seconds with 2-second segments: segments 0, 2 and 4.
    pl.apply_program_date_times(start, Duration::from_secs(4));
    check_media(
        &pl,
        "#EXTM3U
#EXT-X-VERSION:3
#EXT-X-TARGETDURATION:2
#EXT-X-MEDIA-SEQUENCE:0
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2.000,
s0.ts
#EXTINF:2.000,
s1.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:24.000Z
#EXTINF:2.000,
s2.ts
#EXTINF:2.000,
s3.ts
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:28.000Z
#EXTINF:2.000,
s4.ts
#EXT-X-ENDLIST
",
    );
    // A 5-second interval tags the first segment starting 5 s or more after the last tag.
    pl.apply_program_date_times(start, Duration::from_secs(5));
    let tagged: Vec<usize> = (0..5)
        .filter(|&i| pl.segments[i].program_date_time.is_some())
        .collect();
    assert_eq!(tagged, [0, 3]);
    assert_eq!(
        pl.segments[3].program_date_time,
        Some(start.saturating_add(ms(6000)))
    );
    pl.apply_program_date_times(start, Duration::ZERO);
    assert!(pl.segments.iter().all(|s| s.program_date_time.is_some()));
}

fn part(uri: &str, millis: u64, independent: bool) -> Part {
    Part {
        uri: uri.to_owned(),
        duration: ms(millis),
        independent,
        byte_range: None,
    }
}

fn low_latency() -> MediaPlaylist {
    let mut segments = vec![
        segment("seg100.m4s", ms(2000)),
        segment("seg101.m4s", ms(2000)),
    ];
    segments[0].map = Some(Map {
        uri: "init.mp4".to_owned(),
        byte_range: None,
    });
    segments[0].program_date_time = DateTime::from_unix_millis(1_700_000_000_000);
    segments[1].parts = vec![
        part("seg101.0.m4s", 1000, true),
        part("seg101.1.m4s", 1000, false),
    ];
    MediaPlaylist {
        media_sequence: 100,
        independent_segments: true,
        server_control: Some(ServerControl {
            can_block_reload: true,
            hold_back: Some(ms(6000)),
            part_hold_back: Some(ms(3000)),
        }),
        part_target: Some(ms(1000)),
        segments,
        trailing_parts: vec![part("seg102.0.m4s", 1000, true)],
        preload_hints: vec![PreloadHint {
            kind: PreloadHintType::Part,
            uri: "seg102.1.m4s".to_owned(),
            byte_range_start: None,
            byte_range_length: None,
        }],
        prefetch: vec!["seg102.m4s".to_owned()],
        rendition_reports: vec![RenditionReport {
            uri: "../1M/index.m3u8".to_owned(),
            last_msn: Some(102),
            last_part: Some(0),
        }],
        ..MediaPlaylist::default()
    }
}

#[test]
fn low_latency_live() {
    check_media(
        &low_latency(),
        "#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=6.000,PART-HOLD-BACK=3.000
#EXT-X-PART-INF:PART-TARGET=1.000
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MAP:URI=\"init.mp4\"
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000Z
#EXTINF:2.000,
seg100.m4s
#EXT-X-PART:DURATION=1.000,URI=\"seg101.0.m4s\",INDEPENDENT=YES
#EXT-X-PART:DURATION=1.000,URI=\"seg101.1.m4s\"
#EXTINF:2.000,
seg101.m4s
#EXT-X-PART:DURATION=1.000,URI=\"seg102.0.m4s\",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg102.1.m4s\"
#EXT-X-PREFETCH:seg102.m4s
#EXT-X-RENDITION-REPORT:URI=\"../1M/index.m3u8\",LAST-MSN=102,LAST-PART=0
",
    );
}

#[test]
fn writer_refuses_what_the_syntax_cannot_carry() {
    let mut pl = low_latency();
    pl.part_target = None;
    assert_eq!(
        pl.write(),
        Err(Error::Invalid(
            "parts or a PART preload hint without part_target"
        ))
    );
    let mut pl = vod(vec![segment("a\nb.ts", ms(1000))]);
    assert!(pl.write().is_err(), "line break in a URI line");
    pl.segments[0].uri = "#a.ts".to_owned();
    assert!(pl.write().is_err(), "URI line read as a comment");
    pl.segments[0].uri = "a.ts".to_owned();
    pl.segments[0].keys = vec![Key {
        method: KeyMethod::None,
        uri: Some("k".to_owned()),
        iv: None,
        key_format: None,
        key_format_versions: None,
    }];
    assert!(pl.write().is_err(), "METHOD=NONE with a URI");
    pl.segments[0].keys[0].method = KeyMethod::Aes128;
    pl.segments[0].keys[0].uri = None;
    assert!(pl.write().is_err(), "AES-128 without a URI");
    pl.segments[0].keys[0].uri = Some("k\"".to_owned());
    assert!(pl.write().is_err(), "double quote in a quoted-string");
    pl.segments[0].keys.clear();
    pl.segments[0].map = Some(Map {
        uri: "i.mp4".to_owned(),
        byte_range: Some(ByteRange {
            length: 10,
            offset: None,
        }),
    });
    assert!(pl.write().is_err(), "EXT-X-MAP BYTERANGE without offset");

    let mut mv = multivariant();
    mv.variants[0].audio = Some("missing".to_owned());
    assert!(mv.write().is_err(), "AUDIO names a missing group");
    let mut mv = multivariant();
    mv.renditions[0].autoselect = false;
    assert!(mv.write().is_err(), "DEFAULT=YES without AUTOSELECT=YES");
    let mut mv = multivariant();
    mv.variants[0].frame_rate = Some(f64::NAN);
    assert!(mv.write().is_err(), "NaN frame rate");
}

#[test]
fn closed_captions_service_needs_version_7() {
    let mut mv = multivariant();
    mv.renditions.push(Rendition {
        kind: MediaType::ClosedCaptions,
        group_id: "cc".to_owned(),
        name: "CC".to_owned(),
        language: None,
        default: false,
        autoselect: false,
        uri: None,
        channels: None,
        instream_id: Some("SERVICE1".to_owned()),
    });
    assert_eq!(mv.version(), 7);
    let text = mv.write().unwrap();
    assert!(text.starts_with("#EXTM3U\n#EXT-X-VERSION:7\n"), "{text}");
    assert!(text.contains(
        "#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC\",DEFAULT=NO,AUTOSELECT=NO,INSTREAM-ID=\"SERVICE1\"\n"
    ));
    assert_eq!(parse_multivariant(text.as_bytes(), None).unwrap(), mv);
}

/// A source playlist as encoders write them: CRLF, a byte order mark, comments, blank lines,
/// titles after EXTINF, integer durations and tags this crate does not know.
const SOURCE_MEDIA: &str = "\u{feff}#EXTM3U\r\n#EXT-X-VERSION:3\r\n#EXT-X-TARGETDURATION:10\r\n\r\n# a comment\r\n#EXT-X-ALLOW-CACHE:YES\r\n#EXTINF:10,first segment\r\nsegment0.ts\r\n#EXT-X-DATERANGE:ID=\"x\",START-DATE=\"2020-01-01T00:00:00Z\"\r\n#EXTINF:9.5,\r\n  ../other/segment1.ts  \r\n#EXT-X-ENDLIST\r\n";

#[test]
fn parser_tolerates_real_world_noise_and_resolves_uris() {
    let pl = parse_media(
        SOURCE_MEDIA.as_bytes(),
        Some("https://cdn.example/show/720p/index.m3u8"),
    )
    .unwrap();
    assert_eq!(pl.target_duration, 10);
    assert!(pl.end_list);
    assert_eq!(
        pl.segments,
        [
            segment("https://cdn.example/show/720p/segment0.ts", ms(10_000)),
            segment("https://cdn.example/show/other/segment1.ts", ms(9_500)),
        ]
    );
    let mv = "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1000,UNKNOWN-ATTR=\"x\",CLOSED-CAPTIONS=NONE\n# comment\n\nlow/index.m3u8\n#EXT-X-SESSION-DATA:DATA-ID=\"a\",VALUE=\"b\"\n";
    let Playlist::Multivariant(mv) = parse(mv.as_bytes(), Some("bucket/show/index.m3u8")).unwrap()
    else {
        panic!("not a multivariant playlist");
    };
    assert_eq!(mv.variants.len(), 1);
    assert_eq!(mv.variants[0].uri, "bucket/show/low/index.m3u8");
    assert_eq!(mv.variants[0].bandwidth, 1000);
}

#[test]
fn parser_errors_name_the_line() {
    let cases: &[(&str, Error)] = &[
        (
            "",
            Error::Decode {
                line: 1,
                what: "first line is not #EXTM3U (§4.3.1.1)",
            },
        ),
        (
            "#EXTM3U\n#EXTINF:1,\n",
            Error::Decode {
                line: 2,
                what: "EXTINF without a following URI line",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:1\na.ts\n",
            Error::Decode {
                line: 3,
                what: "URI line without EXTINF (§4.3.2.1)",
            },
        ),
        (
            "#EXTM3U\n#EXTINF:1,\na.ts\n",
            Error::Decode {
                line: 0,
                what: "EXT-X-TARGETDURATION missing (§4.3.3.1)",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:x\n",
            Error::Decode {
                line: 2,
                what: "EXT-X-TARGETDURATION",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:-1,\na.ts\n",
            Error::Decode {
                line: 3,
                what: "EXTINF: duration is not a non-negative decimal",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-KEY:METHOD=AES-128\n",
            Error::Decode {
                line: 3,
                what: "EXT-X-KEY: URI present with NONE or absent otherwise (§4.3.2.4)",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-STREAM-INF:BANDWIDTH=1\nx\n",
            Error::Decode {
                line: 0,
                what: "playlist has both media and multivariant tags (§4.1)",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"a\"\nx\n",
            Error::Decode {
                line: 3,
                what: "tag between EXT-X-STREAM-INF and its URI line",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-STREAM-INF:CODECS=\"avc1\"\nx\n",
            Error::Decode {
                line: 2,
                what: "EXT-X-STREAM-INF: BANDWIDTH missing (§4.3.4.2)",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-STREAM-INF:BANDWIDTH=1\n",
            Error::Decode {
                line: 2,
                what: "EXT-X-STREAM-INF without a following URI line",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-VERSION:3\n",
            Error::Decode {
                line: 0,
                what: "playlist has neither media nor multivariant tags",
            },
        ),
        (
            "#EXTM3U\n#EXT-X-TARGETDURATION:2\u{1}\n",
            Error::Decode {
                line: 2,
                what: "control character in a line (§4.1)",
            },
        ),
    ];
    for (text, err) in cases {
        assert_eq!(
            parse(text.as_bytes(), None).as_ref().err(),
            Some(err),
            "{text:?}"
        );
    }
    assert!(matches!(
        parse(b"#EXTM3U\n\xff\n", None),
        Err(Error::Decode { line: 0, .. })
    ));
}

#[test]
fn parser_limits() {
    let long = format!(
        "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:1,\n{}\n",
        "a".repeat(limits::MAX_LINE_LEN + 1)
    );
    assert!(matches!(
        parse_media(long.as_bytes(), None),
        Err(Error::Limit { line: 4, .. })
    ));
    let mut many = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:1\n");
    for _ in 0..=limits::MAX_SEGMENTS {
        many.push_str("#EXTINF:1,\na\n");
    }
    assert!(matches!(
        parse_media(many.as_bytes(), None),
        Err(Error::Limit { .. })
    ));
    let mut keys = String::from("#EXTM3U\n#EXT-X-TARGETDURATION:1\n");
    for _ in 0..=limits::MAX_KEYS_PER_SEGMENT {
        keys.push_str("#EXT-X-KEY:METHOD=NONE\n");
    }
    assert!(matches!(
        parse_media(keys.as_bytes(), None),
        Err(Error::Limit { .. })
    ));
    let mut variants = String::from("#EXTM3U\n");
    for _ in 0..=limits::MAX_VARIANTS {
        variants.push_str("#EXT-X-STREAM-INF:BANDWIDTH=1\nv.m3u8\n");
    }
    assert!(matches!(
        parse_multivariant(variants.as_bytes(), None),
        Err(Error::Limit { .. })
    ));
    let huge = vec![b'#'; limits::MAX_PLAYLIST_SIZE + 1];
    assert!(matches!(
        parse(&huge, None),
        Err(Error::Limit { line: 0, .. })
    ));
}
