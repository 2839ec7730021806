//! Parsing arbitrary bytes as an HLS playlist must never panic, and a media playlist that
//! parses and can be written again must parse back to the same structs.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_manifest_hls::{parse, parse_media};

fuzz_target!(|data: &[u8]| {
    let _ = parse(data, Some("https://cdn.example/a/index.m3u8"));
    if let Ok(pl) = parse_media(data, None)
        && let Ok(text) = pl.write()
    {
        let mut want = pl.clone();
        want.target_duration = pl.computed_target_duration();
        assert_eq!(parse_media(text.as_bytes(), None).ok(), Some(want));
    }
});
