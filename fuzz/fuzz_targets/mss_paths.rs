//! Smooth Streaming fragment paths come from request URLs and `CodecPrivateData` from a
//! source's `avcC`: both parsers must refuse garbage without panicking, and a parsed path must
//! be the canonical spelling of what it names.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_manifest_mss::{URL_TEMPLATE, avc_codec_private_data, fragment_url, parse_fragment_path};

fuzz_target!(|data: &[u8]| {
    let _ = avc_codec_private_data(data);
    if let Ok(path) = std::str::from_utf8(data)
        && let Some((bitrate, name, start)) = parse_fragment_path(path)
    {
        let again = fragment_url(URL_TEMPLATE, name, bitrate, start);
        assert_eq!(again, path);
    }
});
