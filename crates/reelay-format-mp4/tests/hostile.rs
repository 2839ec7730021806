//! Hostile input: deterministic mutations of real `moov` boxes and file heads must yield errors
//! or consistent results, never a panic, and never allocate beyond a fixed bound.
//!
//! This is its own test binary because it installs a counting global allocator; its tests take
//! one lock so that each measurement sees only its own allocations.

// Helpers outside #[test] functions unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used)]

use std::alloc::System;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;

use reelay_format_mp4::{Error, Next, TrackConfig, init_segment, limits, parse_moov, probe};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[path = "it/fixtures.rs"]
mod fixtures;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Serializes the tests of this binary so allocation counts are not mixed.
static SERIAL: Mutex<()> = Mutex::new(());

/// Most bytes one parse of a few-KiB input may allocate in total (not just at peak): the real
/// moovs need well under 100 KiB.
const ALLOCATION_BOUND: usize = 4 * 1024 * 1024;

/// xorshift64*: a fixed-seed generator, so every run tries the same inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Box types whose size and count fields are worth aiming at.
const TARGETS: [&[u8; 4]; 16] = [
    b"trak", b"mdia", b"minf", b"stbl", b"stsd", b"stts", b"ctts", b"stsc", b"stsz", b"stco",
    b"stss", b"avcC", b"hvcC", b"esds", b"elst", b"mp4a",
];

const EXTREMES: [u32; 8] = [
    0,
    1,
    7,
    8,
    0x7fff_ffff,
    0x8000_0000,
    0xffff_ffff,
    0x00ff_ffff,
];

fn put_u32(v: &mut [u8], at: usize, x: u32) {
    if at + 4 <= v.len() {
        v[at..at + 4].copy_from_slice(&x.to_be_bytes());
    }
}

fn mutate(rng: &mut Rng, input: &mut Vec<u8>) {
    let len = input.len();
    match rng.below(8) {
        0 => input.truncate(rng.below(len)),
        1 => {
            for _ in 0..1 + rng.below(8) {
                let at = rng.below(len);
                input[at] ^= 1 + rng.below(255) as u8;
            }
        }
        2 => put_u32(input, rng.below(len), EXTREMES[rng.below(EXTREMES.len())]),
        3 => {
            // Aim at a box: its size field, or one of the first words of its body (version,
            // entry counts, sample sizes).
            let target = TARGETS[rng.below(TARGETS.len())];
            let hits: Vec<usize> = input
                .windows(4)
                .enumerate()
                .filter(|(_, w)| w == target)
                .map(|(i, _)| i)
                .collect();
            if hits.is_empty() {
                return;
            }
            let at = hits[rng.below(hits.len())];
            let field = if rng.below(3) == 0 {
                at.wrapping_sub(4)
            } else {
                at + 4 + 4 * rng.below(4)
            };
            put_u32(input, field, EXTREMES[rng.below(EXTREMES.len())]);
        }
        4 => {
            // A size of 1 announces a 64-bit largesize that is really the next 8 bytes.
            let target = TARGETS[rng.below(TARGETS.len())];
            if let Some(at) = input.windows(4).position(|w| w == target) {
                put_u32(input, at.wrapping_sub(4), 1);
            }
        }
        5 => {
            // Duplicate a random region somewhere else (repeated boxes, shifted fields).
            let a = rng.below(len);
            let b = (a + rng.below(256)).min(len);
            let piece = input[a..b].to_vec();
            let at = rng.below(len);
            input.splice(at..at, piece);
        }
        6 => {
            // Deep nesting: a moov made of thousands of nested containers.
            let depth = 1 + rng.below(20_000);
            let kinds = [b"trak", b"mdia", b"minf", b"stbl", b"edts", b"udta"];
            let mut nested = Vec::with_capacity(8 * depth + 8);
            for i in 0..depth {
                let size = 8 * (depth - i) as u32 + 8;
                nested.extend_from_slice(&size.to_be_bytes());
                nested.extend_from_slice(kinds[rng.below(kinds.len())]);
            }
            nested.extend_from_slice(&[0, 0, 0, 8, b'f', b'r', b'e', b'e']);
            let mut moov = ((nested.len() + 8) as u32).to_be_bytes().to_vec();
            moov.extend_from_slice(b"moov");
            moov.extend_from_slice(&nested);
            *input = moov;
        }
        _ => {
            // Zero sizes: "extends to the end of the parent".
            let target = TARGETS[rng.below(TARGETS.len())];
            if let Some(at) = input.windows(4).position(|w| w == target) {
                put_u32(input, at.wrapping_sub(4), 0);
            }
        }
    }
}

/// Everything a caller would do with a moov: parse, index every track, build an init segment.
fn exercise_moov(moov: &[u8]) -> usize {
    let Ok(movie) = parse_moov(moov) else {
        return 0;
    };
    let mut n = 0;
    for track in &movie.tracks {
        if let Ok(index) = track.samples() {
            assert!(index.len() as u64 <= limits::MAX_SAMPLES_PER_TRACK);
            for s in index.iter() {
                // Offsets and decode times were computed with checked arithmetic.
                assert!(s.offset.checked_add(u64::from(s.size)).is_some());
                n += 1;
            }
        }
        let _ = init_segment(&[TrackConfig::from_track(track)]);
    }
    n
}

/// Follows the probe over a mutated file held in memory.
fn exercise_probe(file: &[u8]) {
    let Ok(mut p) = probe(&file[..file.len().min(1024)]) else {
        return;
    };
    for _ in 0..64 {
        match p.next() {
            Next::ParseMoov(range) => {
                if let Some(moov) = range.slice(0, file) {
                    exercise_moov(moov);
                }
                return;
            }
            Next::Fetch { offset, min_len } => {
                let start = usize::try_from(offset)
                    .unwrap_or(usize::MAX)
                    .min(file.len());
                let end = start
                    .saturating_add(usize::try_from(min_len).unwrap_or(usize::MAX).max(512))
                    .min(file.len());
                if p.feed(offset, &file[start..end]).is_err() {
                    return;
                }
            }
        }
    }
}

#[track_caller]
fn measured<T>(what: &str, f: impl FnOnce() -> T) -> T {
    let region = Region::new(GLOBAL);
    let out = catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|_| panic!("{what}: panicked"));
    let allocated = region.change().bytes_allocated;
    assert!(
        allocated <= ALLOCATION_BOUND,
        "{what}: allocated {allocated} bytes"
    );
    out
}

#[test]
fn mutated_moovs_and_heads_never_panic_or_overallocate() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let mut n_ok = 0;
    let mut n_err = 0;
    for kind in fixtures::SOURCES {
        let Some(fx) = fixtures::get(kind) else {
            continue;
        };
        let (moov, _) = fixtures::locate_moov(&fx.bytes);
        // The unmutated moov parses: the loop below starts from valid input.
        assert!(measured(fx.name, || exercise_moov(moov)) > 0);
        for i in 0..2500 {
            let mut input = moov.to_vec();
            for _ in 0..1 + rng.below(3) {
                mutate(&mut rng, &mut input);
            }
            let what = format!("{} moov mutation {i}", fx.name);
            if measured(&what, || parse_moov(&input).is_ok()) {
                n_ok += 1;
            } else {
                n_err += 1;
            }
            measured(&what, || exercise_moov(&input));
        }
        let head_len = fx.bytes.len().min(8192);
        for i in 0..500 {
            let mut file = fx.bytes.clone();
            let mut head = file[..head_len].to_vec();
            mutate(&mut rng, &mut head);
            file.splice(..head_len, head);
            measured(&format!("{} head mutation {i}", fx.name), || {
                exercise_probe(&file)
            });
        }
    }
    eprintln!("mutated moovs: {n_ok} accepted, {n_err} refused");
    // The mutations must reach both outcomes, or the loop proves little.
    assert!(n_err > 1000, "errors: {n_err}");
    assert!(n_ok > 100, "accepted: {n_ok}");
}

/// Overwrites the first `stsz` body of `moov` with (sample_size, sample_count).
fn patch_stsz(moov: &[u8], sample_size: u32, sample_count: u32) -> Vec<u8> {
    let mut out = moov.to_vec();
    let at = out.windows(4).position(|w| w == b"stsz").unwrap();
    put_u32(&mut out, at + 8, sample_size);
    put_u32(&mut out, at + 12, sample_count);
    out
}

#[test]
fn declared_counts_beyond_limits_are_refused_cheaply() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let fx = fixtures::get(fixtures::Kind::H264AacFaststart).unwrap();
    let (moov, _) = fixtures::locate_moov(&fx.bytes);

    // 2^32 - 1 samples of one byte: the table is valid on the wire (a constant size needs no
    // entries) and refused by MAX_SAMPLES_PER_TRACK before anything is allocated.
    let moov_huge = patch_stsz(moov, 1, u32::MAX);
    let res = measured("constant stsz", || {
        parse_moov(&moov_huge).unwrap().tracks[0].samples()
    });
    assert_eq!(
        res,
        Err(Error::Limit(
            "stsz: sample_count above MAX_SAMPLES_PER_TRACK"
        ))
    );

    // The same count with per-sample sizes claims 16 GiB of entries the box does not hold.
    let moov_table = patch_stsz(moov, 0, u32::MAX);
    let res = measured("stsz table", || parse_moov(&moov_table));
    assert_eq!(
        res,
        Err(Error::Decode("stsz: sample_count exceeds the box"))
    );

    // An stts entry_count of 2^32 - 1.
    let mut moov_stts = moov.to_vec();
    let at = moov_stts.windows(4).position(|w| w == b"stts").unwrap();
    put_u32(&mut moov_stts, at + 8, u32::MAX);
    let res = measured("stts", || parse_moov(&moov_stts));
    assert_eq!(res, Err(Error::Decode("stts: entry_count exceeds the box")));

    // A moov larger than MAX_MOOV_SIZE is refused before the caller fetches it.
    let mut head = fx.bytes[..64].to_vec();
    let moov_at = head.windows(4).position(|w| w == b"moov").unwrap() - 4;
    head.truncate(moov_at + 8);
    put_u32(&mut head, moov_at, (limits::MAX_MOOV_SIZE + 1) as u32);
    assert_eq!(
        probe(&head),
        Err(Error::Limit("probe: moov larger than MAX_MOOV_SIZE"))
    );
}
