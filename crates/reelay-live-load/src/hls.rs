//! Reading live media playlists (RFC 8216 §4.3, LL-HLS tags of rfc8216bis §4.4.4.9 and
//! §4.4.5.1) and telling whether a stream dropped segments.
//!
//! [`Tracker`] is pure: it takes each playlist with the time it arrived and counts new
//! segments, gaps in the media sequence (a segment that left the window before any poll saw it,
//! or was never produced) and stalls (no new segment for three target durations).

use std::time::Duration;

/// Playlists larger than this are not ours; the poller counts them as errors.
pub const MAX_PLAYLIST: usize = 1024 * 1024;

/// What a poller needs from one media playlist.
#[derive(Debug, Default, PartialEq)]
pub struct Playlist {
    pub media_sequence: u64,
    pub target_duration: u64,
    /// Durations of the full segments, in order from `media_sequence`.
    pub segments: Vec<f64>,
    /// Index (into `segments`) of each segment that follows an `EXT-X-DISCONTINUITY`.
    pub discontinuities: Vec<usize>,
    /// Parts listed after the last full segment: parts of segment `media_sequence +
    /// segments.len()`, which is still being written.
    pub trailing_parts: usize,
    /// URI of the last `EXT-X-PART` listed.
    pub last_part_uri: Option<String>,
    pub ended: bool,
}

impl Playlist {
    pub fn parse(text: &str) -> Self {
        let mut p = Self::default();
        let mut pending_discontinuity = false;
        let mut parts_since_segment = 0;
        for line in text.lines() {
            let line = line.trim();
            if let Some(v) = line.strip_prefix("#EXT-X-MEDIA-SEQUENCE:") {
                p.media_sequence = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("#EXT-X-TARGETDURATION:") {
                p.target_duration = v.trim().parse().unwrap_or(0);
            } else if let Some(v) = line.strip_prefix("#EXTINF:") {
                let d = v.split(',').next().unwrap_or("").trim();
                if pending_discontinuity {
                    p.discontinuities.push(p.segments.len());
                    pending_discontinuity = false;
                }
                p.segments.push(d.parse().unwrap_or(0.0));
                parts_since_segment = 0;
            } else if let Some(attrs) = line.strip_prefix("#EXT-X-PART:") {
                parts_since_segment += 1;
                p.last_part_uri = attrs
                    .split_once("URI=\"")
                    .and_then(|(_, rest)| rest.split_once('"'))
                    .map(|(uri, _)| uri.to_string());
            } else if line == "#EXT-X-DISCONTINUITY" {
                pending_discontinuity = true;
            } else if line == "#EXT-X-ENDLIST" {
                p.ended = true;
            }
        }
        p.trailing_parts = parts_since_segment;
        p
    }

    /// The `_HLS_msn` / `_HLS_part` of the next part after this playlist (rfc8216bis §6.2.5.2).
    pub fn next_part(&self) -> (u64, usize) {
        (
            self.media_sequence + self.segments.len() as u64,
            self.trailing_parts,
        )
    }
}

/// Per-stream drop detection over successive playlists.
#[derive(Debug, Default)]
pub struct Tracker {
    /// Highest media sequence number seen.
    last: Option<u64>,
    /// When `last` last grew (or when tracking started).
    last_progress: Option<Duration>,
    in_stall: bool,
    pub segments: u64,
    pub media_seconds: f64,
    pub gaps: u64,
    pub stalls: u64,
    pub discontinuities: u64,
    /// Segments that were already in the first playlist seen (not counted as new).
    pub initial: u64,
    /// Largest target duration seen, for the stall limit.
    target: u64,
}

/// Without any playlist yet, a stream that shows no segment within this long is stalled.
const FIRST_SEGMENT_LIMIT: Duration = Duration::from_secs(12);

impl Tracker {
    /// Starts the stall clock at `now` (the publisher is streaming).
    pub fn start(&mut self, now: Duration) {
        self.last_progress = Some(now);
    }

    /// How long the newest segment may stay the newest before it counts as a stall.
    fn stall_limit(&self) -> Duration {
        if self.last.is_none() {
            return FIRST_SEGMENT_LIMIT;
        }
        Duration::from_secs(3 * self.target.max(1))
    }

    /// Accounts for a playlist received at `now`.
    pub fn observe(&mut self, p: &Playlist, now: Duration) {
        self.target = self.target.max(p.target_duration);
        let Some(newest) = (p.media_sequence + p.segments.len() as u64).checked_sub(1) else {
            self.check_stall(now);
            return;
        };
        if p.segments.is_empty() {
            self.check_stall(now);
            return;
        }
        match self.last {
            None => {
                // Segments before the first poll are history, not progress we witnessed.
                self.initial = p.segments.len() as u64;
                self.last = Some(newest);
                self.last_progress = Some(now);
            }
            Some(last) if newest > last => {
                // Everything between `last` and the window start left unseen.
                self.gaps += p.media_sequence.saturating_sub(last + 1);
                let first_new = (last + 1).max(p.media_sequence);
                for seq in first_new..=newest {
                    let idx = (seq - p.media_sequence) as usize;
                    self.segments += 1;
                    self.media_seconds += p.segments[idx];
                    if p.discontinuities.contains(&idx) {
                        self.discontinuities += 1;
                    }
                }
                self.last = Some(newest);
                self.last_progress = Some(now);
                self.in_stall = false;
            }
            Some(_) => self.check_stall(now),
        }
    }

    /// Accounts for a poll that got no playlist (error, 404) at `now`.
    pub fn check_stall(&mut self, now: Duration) {
        let Some(since) = self.last_progress else {
            return;
        };
        if !self.in_stall && now.saturating_sub(since) > self.stall_limit() {
            self.stalls += 1;
            self.in_stall = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LL: &str = "#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:7\n\
        #EXT-X-PART:DURATION=0.5,URI=\"s-7.0.ts\",INDEPENDENT=YES\n#EXTINF:2.000,\ns-7.ts\n\
        #EXT-X-DISCONTINUITY\n#EXTINF:2.5,\ns-8.ts\n\
        #EXT-X-PART:DURATION=0.5,URI=\"s-9.0.ts\"\n#EXT-X-PART:DURATION=0.5,URI=\"s-9.1.ts\"\n\
        #EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"s-9.2.ts\"\n";

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    fn playlist(first: u64, n: usize) -> Playlist {
        Playlist {
            media_sequence: first,
            target_duration: 2,
            segments: vec![2.0; n],
            ..Playlist::default()
        }
    }

    #[test]
    fn parses_segments_parts_and_discontinuities() {
        let p = Playlist::parse(LL);
        assert_eq!(p.media_sequence, 7);
        assert_eq!(p.target_duration, 2);
        assert_eq!(p.segments, [2.0, 2.5]);
        assert_eq!(p.discontinuities, [1]);
        assert_eq!(p.next_part(), (9, 2));
        assert_eq!(p.last_part_uri.as_deref(), Some("s-9.1.ts"));
        assert!(!p.ended);
        let plain =
            Playlist::parse("#EXTM3U\n#EXT-X-MEDIA-SEQUENCE:3\n#EXTINF:2,\na.ts\n#EXT-X-ENDLIST\n");
        assert_eq!(plain.next_part(), (4, 0));
        assert!(plain.ended);
        assert_eq!(Playlist::parse("garbage\n#EXTINF:x\n").segments, [0.0]);
    }

    #[test]
    fn counts_new_segments_and_gaps() {
        let mut t = Tracker::default();
        t.start(secs(0));
        t.observe(&playlist(0, 2), secs(3));
        assert_eq!((t.initial, t.segments), (2, 0));
        t.observe(&playlist(0, 3), secs(5));
        t.observe(&playlist(1, 3), secs(7));
        assert_eq!((t.segments, t.gaps), (2, 0));
        // Segments 4..=6 were never listed: 5 and 6 are seen, but 4 left unseen.
        t.observe(&playlist(5, 2), secs(9));
        assert_eq!((t.segments, t.gaps), (4, 1));
        assert_eq!(t.media_seconds, 8.0);
        assert_eq!(t.stalls, 0);
    }

    #[test]
    fn a_playlist_that_stops_growing_is_one_stall() {
        let mut t = Tracker::default();
        t.start(secs(0));
        t.observe(&playlist(0, 1), secs(2));
        t.observe(&playlist(0, 1), secs(7));
        assert_eq!(t.stalls, 0);
        t.observe(&playlist(0, 1), secs(9));
        t.check_stall(secs(11));
        assert_eq!(t.stalls, 1);
        t.observe(&playlist(0, 2), secs(12));
        t.observe(&playlist(0, 2), secs(19));
        assert_eq!(t.stalls, 2);
    }

    #[test]
    fn no_first_segment_is_a_stall() {
        let mut t = Tracker::default();
        t.start(secs(0));
        t.check_stall(secs(5));
        assert_eq!(t.stalls, 0);
        t.check_stall(secs(13));
        assert_eq!(t.stalls, 1);
    }
}
