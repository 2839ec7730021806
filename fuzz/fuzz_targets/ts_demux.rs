//! MPEG-TS demuxing of arbitrary bytes must never panic and must release its buffers.
//!
//! The first byte picks the chunk size, so that the fuzzer also explores how packets, PES
//! packets and sections are split across `push` calls.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_format_ts::Demuxer;

fuzz_target!(|data: &[u8]| {
    let Some((&chunk, data)) = data.split_first() else {
        return;
    };
    let chunk = usize::from(chunk) * 7 + 1;
    let mut demuxer = Demuxer::new();
    for piece in data.chunks(chunk) {
        if demuxer.push(piece).is_err() {
            return;
        }
        while demuxer.poll().is_some() {}
    }
    demuxer.finish();
    while demuxer.poll().is_some() {}
    assert_eq!(demuxer.buffered_bytes(), 0);
});
