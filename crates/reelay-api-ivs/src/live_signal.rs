//! In-process hand-offs between the API handlers and the live data plane, which run in the
//! same process: a hint that timed metadata was queued for a channel (so the live plane picks
//! it up at once instead of at its next store poll), a hint that `StopStream` was called for a
//! stream (so its connection ends without reading the store record on every check), and the
//! per-channel `PutMetadata` rate limit. The store records stay the contract; these only make
//! it prompt and cheap.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::sync::{LazyLock, Mutex, MutexGuard};

/// `PutMetadata` calls allowed per channel in any one-second window (ivs.md §2: 5 TPS).
pub const METADATA_CALLS_PER_SECOND: usize = 5;
/// Channels tracked at once by each map below; past this the map is cleared rather than
/// growing (a cleared hint only delays pickup until the live plane's next poll; a cleared rate
/// window admits at most one extra burst).
const MAX_CHANNELS: usize = 10_000;

static QUEUED: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(Mutex::default);
static STOPS: LazyLock<Mutex<BTreeSet<String>>> = LazyLock::new(Mutex::default);
static CALLS: LazyLock<Mutex<HashMap<String, VecDeque<i128>>>> = LazyLock::new(Mutex::default);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Says that timed metadata was queued for `channel_arn`.
pub fn metadata_queued(channel_arn: &str) {
    let mut set = lock(&QUEUED);
    if set.len() >= MAX_CHANNELS {
        set.clear();
    }
    set.insert(channel_arn.to_string());
}

/// Whether metadata was queued for `channel_arn` since the last call (and forgets it).
pub fn take_metadata_queued(channel_arn: &str) -> bool {
    lock(&QUEUED).remove(channel_arn)
}

/// Says that `StopStream` was accepted for the stream `stream_id` (stream ids are unique, so
/// a hint left over from an ended stream never stops a later one).
pub fn stop_requested(stream_id: &str) {
    let mut set = lock(&STOPS);
    if set.len() >= MAX_CHANNELS {
        // Entries of streams that ended before seeing their hint; a live stream whose hint is
        // dropped here still sees `stopRequested` at its slow store poll.
        set.clear();
    }
    set.insert(stream_id.to_string());
}

/// Whether `StopStream` was signalled for `stream_id` (and forgets it).
pub fn take_stop_requested(stream_id: &str) -> bool {
    let mut set = lock(&STOPS);
    // The common answer is no: checked without allocating.
    !set.is_empty() && set.remove(stream_id)
}

/// Admits one `PutMetadata` call on `channel_arn` at `now_ms` (the service clock, in
/// milliseconds), or refuses it when [`METADATA_CALLS_PER_SECOND`] calls were admitted in the
/// preceding second.
pub fn admit_metadata_call(channel_arn: &str, now_ms: i128) -> bool {
    let mut calls = lock(&CALLS);
    if calls.len() >= MAX_CHANNELS && !calls.contains_key(channel_arn) {
        calls.retain(|_, q| q.back().is_some_and(|t| now_ms - t < 1000));
        if calls.len() >= MAX_CHANNELS {
            calls.clear();
        }
    }
    let q = calls.entry(channel_arn.to_string()).or_default();
    while q.front().is_some_and(|t| now_ms - t >= 1000 || *t > now_ms) {
        q.pop_front();
    }
    if q.len() >= METADATA_CALLS_PER_SECOND {
        return false;
    }
    q.push_back(now_ms);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_calls_per_second_per_channel() {
        let ch = "arn:test:rate";
        for i in 0..5 {
            assert!(admit_metadata_call(ch, 1_000 + i * 10));
        }
        assert!(!admit_metadata_call(ch, 1_100));
        assert!(admit_metadata_call("arn:test:other", 1_100));
        // The first call leaves the window one second after it was made.
        assert!(!admit_metadata_call(ch, 1_999));
        assert!(admit_metadata_call(ch, 2_000));
    }

    #[test]
    fn queued_hint_is_taken_once() {
        metadata_queued("arn:test:hint");
        assert!(take_metadata_queued("arn:test:hint"));
        assert!(!take_metadata_queued("arn:test:hint"));
    }

    #[test]
    fn stop_hint_is_per_stream_and_taken_once() {
        stop_requested("st-test-a");
        assert!(!take_stop_requested("st-test-b"));
        assert!(take_stop_requested("st-test-a"));
        assert!(!take_stop_requested("st-test-a"));
    }
}
