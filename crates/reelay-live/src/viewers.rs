//! Viewer counting for `GetStream` / `ListStreams` `viewerCount`.
//!
//! The rule: a viewer is a distinct (client address, `User-Agent`, playback token) triple that
//! requested a playlist of the stream (multivariant or media) within the last window (60 s by
//! default, `REELAY_LIVE_VIEWER_WINDOW_MS`). Players reload the media playlist every target
//! duration, so a watching player stays counted, and one that stops leaves within the window
//! (IVS: a view appears within about 15 s and leaves within about a minute, ivs.md §7). The
//! stream monitor writes the count to the `ivs:stream` record at a bounded rate.
//!
//! Sans-IO: time is passed in as milliseconds of a monotonic clock.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};

/// Distinct viewers tracked per stream; past this, new viewers are not counted until older
/// ones leave the window (the count saturates rather than memory growing).
pub const MAX_TRACKED_VIEWERS: usize = 100_000;

/// Recently seen viewers of one stream.
#[derive(Debug)]
pub struct Viewers {
    window_ms: u64,
    /// Viewer key (a keyed hash of the identity) → last request, in ms.
    seen: HashMap<u64, u64>,
    hasher: std::collections::hash_map::RandomState,
}

impl Viewers {
    /// An empty tracker with a sliding window of `window_ms`.
    pub fn new(window_ms: u64) -> Viewers {
        Viewers {
            window_ms: window_ms.max(1),
            seen: HashMap::new(),
            hasher: std::collections::hash_map::RandomState::new(),
        }
    }

    /// Records a playlist request by `identity` at `now_ms`.
    pub fn saw(&mut self, identity: &[&str], now_ms: u64) {
        let mut h = self.hasher.build_hasher();
        for part in identity {
            h.write(part.as_bytes());
            h.write_u8(0xFF);
        }
        let key = h.finish();
        if !self.seen.contains_key(&key) && self.seen.len() >= MAX_TRACKED_VIEWERS {
            self.expire(now_ms);
            if self.seen.len() >= MAX_TRACKED_VIEWERS {
                return;
            }
        }
        self.seen.insert(key, now_ms);
    }

    /// The number of viewers seen within the window before `now_ms`.
    pub fn count(&mut self, now_ms: u64) -> usize {
        self.expire(now_ms);
        self.seen.len()
    }

    fn expire(&mut self, now_ms: u64) {
        let window = self.window_ms;
        self.seen
            .retain(|_, last| now_ms.saturating_sub(*last) < window);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distinct_viewers_in_a_sliding_window() {
        let mut v = Viewers::new(1000);
        assert_eq!(v.count(0), 0);
        v.saw(&["127.0.0.1", "a", ""], 0);
        v.saw(&["127.0.0.1", "a", ""], 100);
        v.saw(&["127.0.0.1", "b", ""], 200);
        // Parts are delimited: ("ab", "") is not ("a", "b").
        v.saw(&["127.0.0.1", "ab", ""], 200);
        v.saw(&["127.0.0.1", "a", "b"], 200);
        assert_eq!(v.count(300), 4);
        assert_eq!(v.count(1150), 3);
        assert_eq!(v.count(1250), 0);
    }
}
