//! Demuxing arbitrary bytes must never panic or allocate without bound: the input is probed as
//! the head of a file and, separately, parsed as a `moov`, and every track's sample index and
//! an init segment are built from what parses.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_format_mp4::{Next, TrackConfig, init_segment, parse_moov, probe};

fn demux(moov: &[u8]) {
    let Ok(movie) = parse_moov(moov) else {
        return;
    };
    for track in &movie.tracks {
        if let Ok(index) = track.samples() {
            for sample in index.iter() {
                std::hint::black_box(sample);
            }
        }
        let _ = init_segment(&[TrackConfig::from_track(track)]);
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = probe(data)
        && let Next::ParseMoov(range) = p.next()
        && let Some(moov) = range.slice(0, data)
    {
        demux(moov);
    }
    demux(data);
});
