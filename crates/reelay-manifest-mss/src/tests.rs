use super::*;

fn avcc() -> Vec<u8> {
    // version, profile 100, compat 0, level 31, length size 4, 1 SPS, 1 PPS.
    let mut v = vec![
        1, 0x64, 0x00, 0x1f, 0xff, 0xe1, 0x00, 0x04, 0x67, 0x64, 0x00, 0x1f,
    ];
    v.extend_from_slice(&[0x01, 0x00, 0x03, 0x68, 0xeb, 0xe3]);
    v
}

fn media() -> SmoothStreamingMedia {
    SmoothStreamingMedia {
        timescale: DEFAULT_TIMESCALE,
        duration: 60_000_000,
        streams: vec![
            StreamIndex {
                kind: StreamType::Video,
                name: "video".into(),
                language: None,
                url: URL_TEMPLATE.replace("{type}", "video"),
                display: Some((1280, 720)),
                quality_levels: vec![
                    QualityLevel {
                        bitrate: 3_000_000,
                        fourcc: "H264".into(),
                        codec_private_data: avc_codec_private_data(&avcc()).unwrap(),
                        size: Some((1280, 720)),
                        audio: None,
                    },
                    QualityLevel {
                        bitrate: 1_000_000,
                        fourcc: "H264".into(),
                        codec_private_data: "00000001AB".into(),
                        size: Some((640, 360)),
                        audio: None,
                    },
                ],
                chunks: vec![
                    Chunk {
                        t: 0,
                        d: 20_000_000,
                    },
                    Chunk {
                        t: 20_000_000,
                        d: 40_000_000,
                    },
                ],
            },
            StreamIndex {
                kind: StreamType::Audio,
                name: "audio".into(),
                language: Some("e\"n&g".into()),
                url: URL_TEMPLATE.replace("{type}", "audio"),
                display: None,
                quality_levels: vec![QualityLevel {
                    bitrate: 128_000,
                    fourcc: "AACL".into(),
                    codec_private_data: hex_upper(&[0x11, 0x90]),
                    size: None,
                    audio: Some(AudioAttributes::aac(48000, 2)),
                }],
                chunks: vec![Chunk {
                    t: 10,
                    d: 59_999_990,
                }],
            },
        ],
    }
}

#[test]
fn writes_a_manifest() {
    let xml = media().write().unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<SmoothStreamingMedia MajorVersion=\"2\" MinorVersion=\"2\" TimeScale=\"10000000\" Duration=\"60000000\">\n"), "{xml}");
    assert!(xml.contains(r#"<StreamIndex Type="video" Name="video" Chunks="2" QualityLevels="2" Url="QualityLevels({bitrate})/Fragments(video={start time})" MaxWidth="1280" MaxHeight="720" DisplayWidth="1280" DisplayHeight="720">"#), "{xml}");
    assert!(xml.contains(r#"<QualityLevel Index="0" Bitrate="3000000" FourCC="H264" MaxWidth="1280" MaxHeight="720" CodecPrivateData="000000016764001F0000000168EBE3"/>"#), "{xml}");
    assert!(
        xml.contains(r#"<c n="1" t="20000000" d="40000000"/>"#),
        "{xml}"
    );
    assert!(xml.contains(r#"Language="e&quot;n&amp;g""#), "{xml}");
    assert!(xml.contains(r#"FourCC="AACL" SamplingRate="48000" Channels="2" BitsPerSample="16" PacketSize="4" AudioTag="255" CodecPrivateData="1190"/>"#), "{xml}");
    assert!(
        xml.ends_with("  </StreamIndex>\n</SmoothStreamingMedia>\n"),
        "{xml}"
    );
}

#[test]
fn refuses_invalid_models() {
    let check = |f: &dyn Fn(&mut SmoothStreamingMedia), msg: &'static str| {
        let mut m = media();
        f(&mut m);
        assert_eq!(m.write(), Err(Error::Invalid(msg)));
    };
    check(&|m| m.timescale = 0, "zero TimeScale");
    check(&|m| m.streams.clear(), "no StreamIndex");
    check(
        &|m| m.streams[1].name = "video".into(),
        "duplicate StreamIndex@Name",
    );
    check(
        &|m| m.streams[0].quality_levels.clear(),
        "StreamIndex without QualityLevel",
    );
    check(
        &|m| m.streams[0].chunks.clear(),
        "StreamIndex without chunks",
    );
    check(
        &|m| m.streams[0].quality_levels[1].bitrate = 3_000_000,
        "duplicate QualityLevel@Bitrate in a stream",
    );
    check(&|m| m.streams[0].chunks[1].d = 0, "zero chunk duration");
    check(&|m| m.streams[0].chunks[1].t = 1, "overlapping chunks");
    check(
        &|m| m.streams[1].language = Some("\u{1}".into()),
        "character not allowed in XML 1.0",
    );
    check(
        &|m| m.streams[1].quality_levels[0].bitrate = 0,
        "zero QualityLevel@Bitrate",
    );
}

#[test]
fn codec_private_data() {
    assert_eq!(
        avc_codec_private_data(&avcc()).unwrap(),
        "000000016764001F0000000168EBE3"
    );
    // Every truncation fails, never panics.
    let full = avcc();
    for n in 0..full.len() {
        assert!(avc_codec_private_data(&full[..n]).is_err(), "{n}");
    }
    // No PPS.
    let mut no_pps = full[..12].to_vec();
    no_pps.push(0);
    assert!(avc_codec_private_data(&no_pps).is_err());
    assert_eq!(hex_upper(&[0x0a, 0xff]), "0AFF");
}

#[test]
fn fragment_urls_round_trip() {
    let url = fragment_url(URL_TEMPLATE, "video", 3_000_000, 20_000_000);
    assert_eq!(url, "QualityLevels(3000000)/Fragments(video=20000000)");
    assert_eq!(
        parse_fragment_path(&url),
        Some((3_000_000, "video", 20_000_000))
    );
    for bad in [
        "QualityLevels(3)/Fragments(video=)",
        "QualityLevels()/Fragments(video=1)",
        "QualityLevels(3)/Fragments(=1)",
        "QualityLevels(3)/Fragments(vi/deo=1)",
        "QualityLevels(3)/Fragment(video=1)",
        "QualityLevels(-3)/Fragments(video=1)",
        "QualityLevels(03)/Fragments(video=1)",
        "QualityLevels(3)/Fragments(video=01)",
        "QualityLevels(3)/Fragments(video=999999999999999999999)",
        "Manifest",
    ] {
        assert_eq!(parse_fragment_path(bad), None, "{bad}");
    }
}

/// Deterministic mutation test of the two parsers of hostile input (request paths and `avcC`
/// records): every single-byte mutation, truncation and extension of valid inputs returns
/// without panicking, and what parses re-expands to the same path.
#[test]
fn mutated_inputs_never_panic() {
    let path = fragment_url(URL_TEMPLATE, "audio_2", 128_000, 20_853_333);
    let bytes = path.as_bytes();
    let alphabet = b"()=/0123456789QualityLevelsFragmentsvideo_ \xff";
    for i in 0..bytes.len() {
        for &b in alphabet {
            let mut m = bytes.to_vec();
            m[i] = b;
            if let Ok(s) = std::str::from_utf8(&m)
                && let Some((rate, name, start)) = parse_fragment_path(s)
            {
                assert_eq!(fragment_url(URL_TEMPLATE, name, rate, start), s);
            }
        }
        let _ = parse_fragment_path(&path[..i]);
    }
    let record = avcc();
    let mut seed = 0x9e37_79b9_u32;
    for _ in 0..5000 {
        // xorshift: a fixed pseudo-random sequence, so failures reproduce.
        seed ^= seed << 13;
        seed ^= seed >> 17;
        seed ^= seed << 5;
        let mut m = record.clone();
        let at = seed as usize % m.len();
        m[at] = (seed >> 8) as u8;
        if seed & 1 == 0 {
            m.extend_from_slice(&[(seed >> 16) as u8; 3]);
        }
        let _ = avc_codec_private_data(&m);
    }
}
