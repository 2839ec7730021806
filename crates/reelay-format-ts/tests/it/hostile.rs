//! Hostile input: mutated real transport streams, unbounded PES packets and plain garbage must
//! produce events or errors, never a panic, and must keep the demuxer's memory bounded.

use reelay_format_ts::{Demuxer, Error, Event, limits};

use crate::common::{Rng, fixtures};

/// The most the demuxer may hold: the input backlog, every PES being reassembled, one ADTS
/// carry per stream and the payload being split.
const MEMORY_BOUND: usize = limits::MAX_INPUT_BACKLOG
    + limits::MAX_TOTAL_PES_BUFFER
    + limits::MAX_ES_PIDS * limits::MAX_ADTS_FRAME
    + limits::MAX_PES_SIZE;

/// What came out of one input.
#[derive(Default)]
struct Tally {
    events: usize,
    access_units: usize,
    dropped: usize,
}

/// Feeds `data` in random chunks and counts the events, checking the memory bound after every
/// call.
fn feed(data: &[u8], rng: &mut Rng) -> Tally {
    let mut demuxer = Demuxer::new();
    let mut tally = Tally::default();
    let mut rest = data;
    while !rest.is_empty() {
        let n = rng.range(1, 20_000).min(rest.len());
        demuxer.push(&rest[..n]).unwrap();
        rest = &rest[n..];
        while let Some(event) = demuxer.poll() {
            assert!(demuxer.buffered_bytes() <= MEMORY_BOUND);
            tally.count(&event);
        }
    }
    demuxer.finish();
    while let Some(event) = demuxer.poll() {
        tally.count(&event);
    }
    assert_eq!(
        demuxer.buffered_bytes(),
        0,
        "everything is released at the end"
    );
    tally
}

impl Tally {
    fn count(&mut self, event: &Event) {
        self.events += 1;
        match event {
            Event::AccessUnit(_) => self.access_units += 1,
            Event::Dropped { .. } => self.dropped += 1,
            _ => {}
        }
    }
}

fn mutate(base: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut data = base.to_vec();
    for _ in 0..rng.range(1, 4) {
        match rng.range(0, 7) {
            // Flip random bytes.
            0 => {
                for _ in 0..rng.range(1, 64) {
                    let at = rng.range(0, data.len() - 1);
                    data[at] ^= 1 << rng.range(0, 7);
                }
            }
            // Truncate.
            1 => data.truncate(rng.range(0, data.len())),
            // Insert a run of garbage.
            2 => {
                let at = rng.range(0, data.len());
                let garbage: Vec<u8> = (0..rng.range(1, 3000)).map(|_| rng.next() as u8).collect();
                data.splice(at..at, garbage);
            }
            // Huge or zero PES_packet_length on PES starts.
            3 => {
                for at in 0..data.len().saturating_sub(6) {
                    if data[at..at + 3] == [0, 0, 1] && rng.range(0, 3) == 0 {
                        let len: [u8; 2] = if rng.range(0, 1) == 0 {
                            [0xFF, 0xFF]
                        } else {
                            [0, 0]
                        };
                        data[at + 4..at + 6].copy_from_slice(&len);
                    }
                }
            }
            // Random section_length / pointer_field / adaptation_field_length in packet headers.
            4 => {
                for pkt in data.chunks_mut(188).filter(|p| p.len() > 8) {
                    if rng.range(0, 10) == 0 {
                        let field = rng.range(4, 7);
                        pkt[field] = rng.next() as u8;
                    }
                }
            }
            // Duplicate or drop whole packets.
            5 => {
                let packets = data.len() / 188;
                if packets > 2 {
                    let at = rng.range(0, packets - 1) * 188;
                    if rng.range(0, 1) == 0 {
                        let copy = data[at..at + 188].to_vec();
                        data.splice(at..at, copy);
                    } else {
                        data.drain(at..at + 188);
                    }
                }
            }
            // Scramble or error-flag packets.
            _ => {
                for pkt in data.chunks_mut(188).filter(|p| p.len() > 4) {
                    if rng.range(0, 20) == 0 {
                        pkt[1] ^= 0x80;
                        pkt[3] ^= 0xC0;
                    }
                }
            }
        }
        if data.is_empty() {
            break;
        }
    }
    data
}

#[test]
fn mutated_real_streams_never_panic() {
    let base = std::fs::read(&fixtures().h264).unwrap();
    let mut rng = Rng::new(42);
    let mut total = Tally::default();
    for _ in 0..150 {
        let data = mutate(&base, &mut rng);
        let tally = feed(&data, &mut rng);
        // An event needs at least a few bytes of input: no amplification.
        assert!(tally.events <= data.len() / 7 + 16);
        total.access_units += tally.access_units;
        total.dropped += tally.dropped;
    }
    // The mutations damage the streams without reducing them to noise: both the happy path
    // and the error paths ran.
    assert!(total.access_units > 150 * 50, "{}", total.access_units);
    assert!(total.dropped > 150, "{}", total.dropped);
}

#[test]
fn random_bytes_never_panic() {
    let mut rng = Rng::new(7);
    for round in 0..4 {
        let mut data: Vec<u8> = (0..256 * 1024).map(|_| rng.next() as u8).collect();
        if round % 2 == 1 {
            // Plant sync bytes every 188 bytes so that packets get parsed.
            for at in (0..data.len()).step_by(188) {
                data[at] = 0x47;
            }
        }
        feed(&data, &mut rng);
    }
}

/// A video PES with `PES_packet_length` 0 that never ends: it is dropped at the limit with a
/// `Limit` event, and demuxing goes on.
#[test]
fn unbounded_pes_is_capped() {
    use reelay_format_ts::{Muxer, MuxerConfig, VideoCodec, VideoTrack};
    let mut muxer =
        Muxer::new(MuxerConfig::default().with_video(VideoTrack::AnnexB(VideoCodec::H264)))
            .unwrap();
    let mut data = muxer.write_pat_pmt().to_vec();
    let packets = limits::MAX_PES_SIZE / 184 + 10;
    for idx in 0..packets {
        let mut pkt = vec![
            0x47,
            if idx == 0 { 0x41 } else { 0x01 },
            0x00,
            0x10 | (idx % 16) as u8,
        ];
        if idx == 0 {
            pkt.extend_from_slice(&[0, 0, 1, 0xE0, 0, 0, 0x80, 0x00, 0]);
        }
        pkt.resize(188, 0x55);
        data.extend_from_slice(&pkt);
    }
    let mut demuxer = Demuxer::new();
    let mut limit_hit = false;
    for chunk in data.chunks(1 << 20) {
        demuxer.push(chunk).unwrap();
        while let Some(event) = demuxer.poll() {
            if let Event::Dropped {
                error: Error::Limit(_),
                pid,
            } = event
            {
                assert_eq!(pid, Some(0x100));
                limit_hit = true;
            }
        }
        assert!(demuxer.buffered_bytes() <= limits::MAX_PES_SIZE + (1 << 20));
    }
    assert!(limit_hit);
    assert_eq!(demuxer.stats().pes_dropped, 1);
}

#[test]
fn backlog_is_refused_until_drained() {
    let mut demuxer = Demuxer::new();
    let chunk = vec![0u8; limits::MAX_INPUT_BACKLOG];
    demuxer.push(&chunk).unwrap();
    assert!(matches!(demuxer.push(&[0]), Err(Error::Limit(_))));
    assert_eq!(demuxer.poll(), None);
    demuxer.push(&[0]).unwrap();
    demuxer.finish();
    assert!(matches!(demuxer.push(&[0]), Err(Error::Config(_))));
    assert_eq!(demuxer.poll(), None);
    assert_eq!(
        demuxer.stats().sync_bytes_skipped,
        limits::MAX_INPUT_BACKLOG as u64 + 1
    );
}
