//! An RTMP server fed arbitrary bytes must never panic: handshake, chunk streams, AMF0
//! commands and FLV tags all read from the input. Any publish is accepted so that media
//! parsing is reached too.
//!
//! The first byte picks the piece size, so that the fuzzer also explores how chunk headers
//! and payloads are split across `handle_input` calls.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_ingest_rtmp::{Event, Output, Server, ServerConfig};

fuzz_target!(|data: &[u8]| {
    let Some((&piece, data)) = data.split_first() else {
        return;
    };
    let piece = usize::from(piece) * 13 + 1;
    let mut server = Server::new(ServerConfig::default(), &[0x5A; 1528]);
    for chunk in data.chunks(piece) {
        let failed = server.handle_input(chunk).is_err();
        while let Some(out) = server.poll_output() {
            if let Output::Event(Event::Publish { .. }) = out {
                let _ = server.accept();
            }
        }
        if failed {
            assert!(server.is_closed());
            return;
        }
    }
    server.handle_eof();
    while server.poll_output().is_some() {}
});
