//! Hostile input: deterministic random mutations of a client byte stream, random chunking and
//! plain garbage must produce events or errors, never a panic.

use reelay_ingest_rtmp::{Event, Server, ServerConfig};

use crate::common::{Client, Rng, Run, drain};

/// Applies one to eight random edits: byte flips, insertions, deletions, truncation and
/// repeats of a slice.
pub fn mutate(data: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..rng.range(1, 8) {
        if out.is_empty() {
            break;
        }
        let at = rng.range(0, out.len() - 1);
        match rng.range(0, 5) {
            0 | 1 => out[at] = rng.next() as u8,
            2 => out.insert(at, rng.next() as u8),
            3 => {
                out.remove(at);
            }
            4 => out.truncate(at),
            _ => {
                let end = (at + rng.range(1, 64)).min(out.len());
                let piece = out[at..end].to_vec();
                out.splice(at..at, piece);
            }
        }
    }
    out
}

/// Feeds `data` in random pieces, accepting any publish, and checks the session's contract:
/// errors close it and `Closed` is the last event, reported once.
pub fn feed(data: &[u8], rng: &mut Rng) -> Run {
    let mut server = Server::new(ServerConfig::default(), &rng.random_block());
    let mut run = Run::default();
    let mut rest = data;
    while !rest.is_empty() {
        let k = rng.range(1, 3000).min(rest.len());
        if server.handle_input(&rest[..k]).is_err() {
            run.errors += 1;
            assert!(server.is_closed());
        }
        rest = &rest[k..];
        drain(&mut server, &mut run, false);
    }
    server.handle_eof();
    drain(&mut server, &mut run, false);
    let closed = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .count();
    assert_eq!(closed, 1);
    assert!(matches!(run.events.last(), Some(Event::Closed { .. })));
    run
}

#[test]
fn mutated_client_streams_never_panic() {
    let mut client = Client::new();
    client.connect_and_publish("sk_us-west-2_abcDEF123");
    client.media_and_unpublish("sk_us-west-2_abcDEF123");
    let clean = client.take();
    let mut rng = Rng::new(0x5EED);
    let baseline = feed(&clean, &mut rng);
    assert_eq!(baseline.errors, 0);
    let mut n_errors = 0;
    for _ in 0..2000 {
        let input = mutate(&clean, &mut rng);
        n_errors += usize::from(feed(&input, &mut rng).errors > 0);
    }
    // Most mutations hit media payloads and pass; a fair share must hit structure and fail.
    assert!(
        n_errors > 100,
        "only {n_errors} mutated streams were refused"
    );
}

#[test]
fn garbage_after_the_handshake_never_panics() {
    let mut rng = Rng::new(7);
    for _ in 0..300 {
        let mut input = Client::new().take();
        let len = rng.range(0, 4000);
        input.extend((0..len).map(|_| rng.next() as u8));
        feed(&input, &mut rng);
    }
}
