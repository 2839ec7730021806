//! The parser on hostile input: deterministic random mutations of real playlists must never
//! panic, every result must stay within the limits, and whatever parses and can be written
//! again must parse back to the same structs.

use std::time::Duration;

use reelay_manifest_hls::{
    DateTime, Key, KeyMethod, KeyPlacement, Map, MediaPlaylist, MediaSegment, Playlist, limits,
    parse, parse_media, parse_multivariant,
};

/// A deterministic xorshift generator, so that every run mutates the same way.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Fragments that steer mutations towards the grammar: tag names, attribute syntax, numbers at
/// the edges of their types.
const TOKENS: &[&str] = &[
    "#EXTINF:",
    "#EXT-X-KEY:",
    "#EXT-X-MAP:",
    "#EXT-X-PART:",
    "#EXT-X-STREAM-INF:",
    "#EXT-X-MEDIA:",
    "#EXT-X-BYTERANGE:",
    "#EXT-X-PROGRAM-DATE-TIME:",
    "#EXT-X-PRELOAD-HINT:",
    "#EXT-X-TARGETDURATION:",
    "#EXTM3U",
    "URI=\"",
    "\"",
    ",",
    "=",
    "@",
    "\n",
    "\r\n",
    "x",
    "18446744073709551616",
    "99999999999999999999.9999999999",
    "0x",
    "YES",
    "METHOD=NONE",
    "-1",
    ".",
    "\u{feff}",
    "\u{0}",
    "é",
    "2024-02-30T25:61:61Z",
    "..",
    "/",
    "?#",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut out = input.to_vec();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(out.len() + 1);
        match rng.below(6) {
            0 => {
                if let Some(b) = out.get_mut(at) {
                    *b ^= 1 << rng.below(8);
                }
            }
            1 => {
                let end = (at + rng.below(32)).min(out.len());
                out.drain(at..end);
            }
            2 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                out.splice(at..at, token.iter().copied());
            }
            3 => out.truncate(at),
            4 => {
                // Duplicate a slice somewhere else: repeated tags and attributes.
                let end = (at + rng.below(64)).min(out.len());
                let copy = out[at..end].to_vec();
                let to = rng.below(out.len() + 1);
                out.splice(to..to, copy);
            }
            _ => out.insert(at.min(out.len()), rng.next() as u8),
        }
    }
    out
}

fn seeds() -> Vec<Vec<u8>> {
    let mut vod = MediaPlaylist {
        independent_segments: true,
        end_list: true,
        ..MediaPlaylist::default()
    };
    for i in 0..6 {
        vod.segments.push(MediaSegment {
            uri: format!("seg{i}.m4s"),
            duration: Duration::from_millis(2002),
            ..MediaSegment::default()
        });
    }
    vod.segments[0].map = Some(Map {
        uri: "init.mp4".to_owned(),
        byte_range: None,
    });
    let mut key = Key::new(KeyMethod::SampleAes, "skd://key");
    key.iv = Some([7; 16]);
    key.key_format = Some("com.apple.streamingkeydelivery".to_owned());
    vod.apply_keys(&[key], KeyPlacement::EverySegment);
    vod.apply_program_date_times(
        DateTime::from_unix_millis(0).unwrap(),
        Duration::from_secs(4),
    );
    let multivariant = "#EXTM3U
#EXT-X-INDEPENDENT-SEGMENTS
#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"aac\",NAME=\"English\",LANGUAGE=\"en\",DEFAULT=YES,AUTOSELECT=YES,URI=\"audio.m3u8\"
#EXT-X-MEDIA:TYPE=CLOSED-CAPTIONS,GROUP-ID=\"cc\",NAME=\"CC\",INSTREAM-ID=\"CC1\"
#EXT-X-STREAM-INF:BANDWIDTH=3000000,AVERAGE-BANDWIDTH=2500000,CODECS=\"avc1.64001f,mp4a.40.2\",RESOLUTION=1280x720,FRAME-RATE=29.970,AUDIO=\"aac\",CLOSED-CAPTIONS=\"cc\"
720p.m3u8
#EXT-X-I-FRAME-STREAM-INF:BANDWIDTH=300000,CODECS=\"avc1.64001f\",RESOLUTION=1280x720,URI=\"iframes.m3u8\"
";
    let live = "#EXTM3U
#EXT-X-VERSION:6
#EXT-X-TARGETDURATION:2
#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,HOLD-BACK=6.000,PART-HOLD-BACK=3.000
#EXT-X-PART-INF:PART-TARGET=1.000
#EXT-X-MEDIA-SEQUENCE:100
#EXT-X-DISCONTINUITY-SEQUENCE:3
#EXT-X-MAP:URI=\"init.mp4\",BYTERANGE=\"720@0\"
#EXT-X-DISCONTINUITY
#EXT-X-PROGRAM-DATE-TIME:2023-11-14T22:13:20.000+01:00
#EXT-X-PART:DURATION=1.000,URI=\"seg100.0.m4s\",INDEPENDENT=YES,BYTERANGE=\"100@0\"
#EXTINF:2.000,title
#EXT-X-BYTERANGE:1000@0
seg100.m4s
#EXT-X-PART:DURATION=1.000,URI=\"seg101.0.m4s\",INDEPENDENT=YES
#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"seg101.1.m4s\",BYTERANGE-START=0,BYTERANGE-LENGTH=10
#EXT-X-PREFETCH:seg101.m4s
#EXT-X-RENDITION-REPORT:URI=\"../1M/index.m3u8\",LAST-MSN=101,LAST-PART=0
";
    vec![
        vod.write().unwrap().into_bytes(),
        multivariant.as_bytes().to_vec(),
        live.as_bytes().to_vec(),
    ]
}

/// Whatever parses must be within the limits, and a media playlist that can be written again
/// must parse back to the same structs.
fn check(input: &[u8]) {
    let base = Some("https://cdn.example/a/b/index.m3u8");
    let _ = parse_multivariant(input, base);
    if let Ok(mv) = parse_multivariant(input, None) {
        assert!(mv.variants.len() + mv.i_frame_streams.len() <= limits::MAX_VARIANTS);
        assert!(mv.renditions.len() <= limits::MAX_RENDITIONS);
        let _ = mv.write();
    }
    if let Ok(pl) = parse_media(input, base) {
        assert!(pl.segments.len() <= limits::MAX_SEGMENTS);
        assert!(
            pl.segments
                .iter()
                .all(|s| s.keys.len() <= limits::MAX_KEYS_PER_SEGMENT)
        );
        if let Ok(text) = pl.write() {
            let mut want = pl.clone();
            want.target_duration = pl.computed_target_duration();
            let again = parse_media(text.as_bytes(), base)
                .unwrap_or_else(|e| panic!("rewritten playlist does not parse ({e}):\n{text}"));
            assert_eq!(again, want, "round trip of\n{text}");
        }
    }
    match parse(input, None) {
        Ok(Playlist::Media(_) | Playlist::Multivariant(_)) | Err(_) => {}
        Ok(_) => unreachable!("no other playlist kind exists"),
    }
}

#[test]
fn mutated_playlists_never_panic() {
    let seeds = seeds();
    for seed in &seeds {
        assert!(
            parse(seed, None).is_ok(),
            "seed parses: {}",
            String::from_utf8_lossy(seed)
        );
    }
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut n_ok = 0;
    for i in 0..6000 {
        let seed = &seeds[i % seeds.len()];
        let input = mutate(&mut rng, seed);
        check(&input);
        n_ok += usize::from(parse(&input, None).is_ok());
    }
    // The mutations must exercise both outcomes, or this test proves little.
    assert!(
        n_ok > 500 && n_ok < 5500,
        "{n_ok} of 6000 mutated playlists parsed"
    );
}

#[test]
fn pathological_inputs() {
    let cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"#EXTM3U".to_vec(),
        b"#EXTM3U\n".repeat(10),
        b"\n\n\n#EXTM3U\n".to_vec(),
        [b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n".as_slice(), &b"#EXT-X-PART:DURATION=1,URI=\"p\"\n".repeat(limits::MAX_PARTS + 1)].concat(),
        [b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n".as_slice(), &b"#EXT-X-PREFETCH:p\n".repeat(limits::MAX_HINTS + 1)].concat(),
        [b"#EXTM3U\n".as_slice(), &b"#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID=\"a\",NAME=\"a\"\n".repeat(limits::MAX_RENDITIONS + 1)].concat(),
        format!("#EXTM3U\n#EXT-X-STREAM-INF:{}\nv\n", "A=\"\",".repeat(100)).into_bytes(),
        b"#EXTM3U\n#EXT-X-TARGETDURATION:1\n#EXTINF:1,\n\xf0\x9f\x92\n".to_vec(),
        b"#EXTM3U\n#EXT-X-TARGETDURATION:18446744073709551615\n#EXTINF:9999999999999999999.999999999,\na\n".to_vec(),
    ];
    for (i, case) in cases.iter().enumerate() {
        check(case);
        if i >= 4 && i != 9 {
            assert!(parse(case, None).is_err(), "case {i} must be refused");
        }
    }
    // The largest EXTINF still rounds up to a target duration without overflow.
    let Ok(Playlist::Media(pl)) = parse(&cases[9], None) else {
        panic!("case 9 parses");
    };
    assert_eq!(pl.computed_target_duration(), u64::MAX);
}
