//! SPS NAL units come from publishers (RTMP, SRT) and sources (.m3u8 renditions): parsing any
//! bytes, and building a decoder configuration record from what parsed, must never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_format_mp4::h264::{avc_record, parse_sps};

fuzz_target!(|data: &[u8]| {
    if let Some(info) = parse_sps(data) {
        let _ = avc_record(data, &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0], &info);
    }
    let _ = avc_record(data, data, &Default::default());
});
