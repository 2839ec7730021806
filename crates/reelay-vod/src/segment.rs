//! Cutting a track into segments (pure functions over the index).
//!
//! MediaPackage rounds `segmentDurationSeconds` "to the nearest multiple of the source fragment
//! duration" (BC `HlsPackage.SegmentDurationSeconds`). For a non-fragmented MP4 the unit that
//! can start a segment is a sync sample, so reelay cuts the reference video track at the sync
//! sample whose presentation time is nearest to "segment start + target" (ties go to the later
//! one, and every segment holds at least one GOP). Other tracks (audio, other renditions with
//! the same GOP structure) follow the reference's boundary times, so renditions stay aligned.

use crate::index::{IdxSample, TrackIndex};
use std::ops::Range;

/// One segment of the reference track.
#[derive(Debug, Clone, PartialEq)]
pub struct Segment {
    /// Samples of the reference track.
    pub samples: Range<usize>,
    /// Presentation start in seconds (after the edit list).
    pub start: f64,
    /// Duration in seconds.
    pub duration: f64,
}

/// Cuts a video track into segments of about `target_secs`, each starting on a sync sample.
///
/// One pass over the samples (to find the sync samples and the total duration), then one over
/// the sync samples: each candidate is looked at by at most two segments, the one it may end
/// and the one it then starts.
pub fn cut(track: &TrackIndex, target_secs: u32) -> Vec<Segment> {
    let samples = &track.samples;
    if samples.is_empty() {
        return Vec::new();
    }
    let ts = f64::from(track.timescale.max(1));
    let mut syncs: Vec<usize> = Vec::new();
    let mut total = 0u64;
    for (i, s) in samples.iter().enumerate() {
        if i == 0 || s.sync {
            syncs.push(i);
        }
        total += u64::from(s.duration);
    }
    // Presentation time of every candidate, computed once.
    let times: Vec<f64> = syncs.iter().map(|&i| track.pts_secs(&samples[i])).collect();
    let end_time = times[0] + total as f64 / ts;
    let target = f64::from(target_secs.max(1));
    let mut out = Vec::new();
    let mut k = 0usize; // index into `syncs` of the current segment's first sample
    while k < syncs.len() {
        let wanted = times[k] + target;
        // The candidate cut nearest to `wanted`, at least one GOP later; on a tie the later
        // one. Candidates are scanned up to the first at or after `wanted`.
        let mut best: Option<usize> = None;
        for (j, &t) in times.iter().enumerate().skip(k + 1) {
            if best.is_none_or(|b| (t - wanted).abs() <= (times[b] - wanted).abs()) {
                best = Some(j);
            }
            if t >= wanted {
                break;
            }
        }
        // Ending exactly at the end of the track counts as a candidate too.
        let next = best.filter(|&j| (end_time - wanted).abs() >= (times[j] - wanted).abs());
        let (end_sample, end_t) = match next {
            Some(j) => (syncs[j], times[j]),
            None => (samples.len(), end_time),
        };
        out.push(Segment {
            samples: syncs[k]..end_sample,
            start: times[k],
            duration: (end_t - times[k]).max(0.0),
        });
        k = next.unwrap_or(syncs.len());
    }
    out
}

/// The samples of `track` whose presentation times fall in each segment of `reference`
/// (`[start, next start)`, the last one open-ended). The first segment also takes samples
/// before its start (encoder delay), so no sample is lost.
pub fn follow(track: &TrackIndex, reference: &[Segment]) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(reference.len());
    let mut i = 0usize;
    for (n, seg) in reference.iter().enumerate() {
        let begin = i;
        let limit = reference.get(n + 1).map(|s| s.start);
        while i < track.samples.len() {
            let t = track.pts_secs(&track.samples[i]);
            if limit.is_some_and(|l| t >= l - 1e-9) {
                break;
            }
            i += 1;
        }
        let _ = seg;
        out.push(begin..i);
    }
    out
}

/// Total payload bytes of some samples.
pub fn bytes(samples: &[IdxSample]) -> u64 {
    samples.iter().map(|s| u64::from(s.size)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::TrackCodec;

    /// A 25 fps video track of `n` frames with a sync sample every `gop` frames.
    fn video(n: u32, gop: u32) -> TrackIndex {
        TrackIndex {
            source: 0,
            track_id: 1,
            codec: TrackCodec::Avc,
            fourcc: *b"avc1",
            config: Vec::new(),
            width: 320,
            height: 240,
            timescale: 12800,
            sample_rate: 0,
            channels: 0,
            language: None,
            media_time: 1024,
            samples: (0..n)
                .map(|i| IdxSample {
                    offset: u64::from(i) * 10,
                    size: 10,
                    dts: u64::from(i) * 512,
                    cts: 1024,
                    duration: 512,
                    sync: i % gop == 0,
                })
                .collect(),
        }
    }

    fn durations(segs: &[Segment]) -> Vec<f64> {
        segs.iter()
            .map(|s| (s.duration * 1000.0).round() / 1000.0)
            .collect()
    }

    #[test]
    fn cuts_at_sync_samples_to_the_nearest_multiple_of_the_gop() {
        // 6 s, 2 s GOPs: target 2 -> three segments, target 6 -> one, target 4 -> 4 + 2.
        let v = video(150, 50);
        assert_eq!(durations(&cut(&v, 2)), vec![2.0, 2.0, 2.0]);
        assert_eq!(durations(&cut(&v, 6)), vec![6.0]);
        assert_eq!(durations(&cut(&v, 4)), vec![4.0, 2.0]);
        // Target 3 with 2 s GOPs: 3 is as near to 2 as to 4, ties go to the later cut.
        assert_eq!(durations(&cut(&v, 3)), vec![4.0, 2.0]);
        for s in cut(&v, 2) {
            assert!(v.samples[s.samples.start].sync);
        }
        let segs = cut(&v, 2);
        assert_eq!(segs[0].samples, 0..50);
        assert_eq!(segs[2].samples, 100..150);
        assert_eq!(segs[0].start, 0.0);
    }

    #[test]
    fn a_target_below_the_gop_still_takes_one_gop_and_every_sample_is_covered() {
        let v = video(100, 30); // 1.2 s GOPs, 4 s
        let segs = cut(&v, 1);
        assert_eq!(segs.len(), 4);
        let covered: usize = segs.iter().map(|s| s.samples.len()).sum();
        assert_eq!(covered, 100);
        assert!((segs.iter().map(|s| s.duration).sum::<f64>() - 4.0).abs() < 1e-9);
        // Only one sync sample: one segment.
        assert_eq!(cut(&video(10, 100), 1).len(), 1);
        assert!(cut(&video(0, 1), 6).is_empty());
    }

    /// The cut as first written (sync times recomputed at every look), kept as the oracle of
    /// the one above.
    fn cut_reference(track: &TrackIndex, target_secs: u32) -> Vec<Segment> {
        let samples = &track.samples;
        if samples.is_empty() {
            return Vec::new();
        }
        let ts = f64::from(track.timescale.max(1));
        let syncs: Vec<usize> = (0..samples.len())
            .filter(|&i| i == 0 || samples[i].sync)
            .collect();
        let time = |i: usize| track.pts_secs(&samples[i]);
        let total: u64 = samples.iter().map(|s| u64::from(s.duration)).sum();
        let end_time = time(0) + total as f64 / ts;
        let target = f64::from(target_secs.max(1));
        let mut out = Vec::new();
        let mut k = 0usize;
        while k < syncs.len() {
            let start = syncs[k];
            let wanted = time(start) + target;
            let mut best: Option<usize> = None;
            for (j, &cand) in syncs.iter().enumerate().skip(k + 1) {
                let t = time(cand);
                match best {
                    None => best = Some(j),
                    Some(b) => {
                        let bt = time(syncs[b]);
                        if (t - wanted).abs() <= (bt - wanted).abs() {
                            best = Some(j);
                        }
                    }
                }
                if t >= wanted {
                    break;
                }
            }
            let next = match best {
                Some(j) if (end_time - wanted).abs() >= (time(syncs[j]) - wanted).abs() => Some(j),
                _ => None,
            };
            let (end_sample, end_t) = match next {
                Some(j) => (syncs[j], time(syncs[j])),
                None => (samples.len(), end_time),
            };
            out.push(Segment {
                samples: start..end_sample,
                start: time(start),
                duration: (end_t - time(start)).max(0.0),
            });
            k = match next {
                Some(j) => j,
                None => syncs.len(),
            };
        }
        out
    }

    #[test]
    fn the_cut_equals_the_reference_on_odd_gop_patterns() {
        use crate::index::fixtures::{odd_audio, odd_index, odd_video};
        let mut tracks: Vec<TrackIndex> = (0..60)
            .map(|seed| {
                odd_video(
                    seed,
                    200 + (seed as u32 * 37) % 900,
                    1 + (seed as u32 % 120),
                )
            })
            .collect();
        tracks.extend((0..10).map(|seed| odd_index(seed).tracks[0].clone()));
        // All-sync tracks (audio-like, or all-intra video) and a single frame.
        tracks.push(odd_audio(1, 0, 30));
        tracks.push(video(1, 1));
        tracks.push(video(500, 1));
        tracks.push(video(0, 1));
        for (n, tr) in tracks.iter().enumerate() {
            for target in 0..=31 {
                let (got, want) = (cut(tr, target), cut_reference(tr, target));
                assert_eq!(got, want, "track {n}, target {target}");
                // Every sample is in exactly one segment, in order.
                let mut next = 0;
                for s in &got {
                    assert_eq!(s.samples.start, next);
                    next = s.samples.end;
                }
                assert_eq!(next, tr.samples.len());
            }
        }
    }

    #[test]
    fn audio_follows_the_video_boundaries() {
        let v = video(150, 50);
        let segs = cut(&v, 2);
        let audio = TrackIndex {
            codec: TrackCodec::Aac,
            timescale: 48000,
            media_time: 1024,
            samples: (0..282u32)
                .map(|i| IdxSample {
                    offset: 0,
                    size: 5,
                    dts: u64::from(i) * 1024,
                    cts: 0,
                    duration: 1024,
                    sync: true,
                })
                .collect(),
            ..v.clone()
        };
        let spans = follow(&audio, &segs);
        assert_eq!(spans.len(), 3);
        assert_eq!(spans[0].start, 0);
        assert_eq!(spans[2].end, 282);
        for (n, r) in spans.iter().enumerate().skip(1) {
            let first = audio.pts_secs(&audio.samples[r.start]);
            assert!(first >= segs[n].start && first < segs[n].start + 0.0214);
        }
    }
}
