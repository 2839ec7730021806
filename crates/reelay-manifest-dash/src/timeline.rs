//! `SegmentTimeline` (ISO/IEC 23009-1 §5.3.9.6): run-length compressed segment times.

use crate::error::{Error, Result};

/// One media segment on the template's timeline, in timescale units.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Segment {
    /// Earliest presentation time (`S@t` when written).
    pub start: u64,
    /// Duration (`S@d`); never zero.
    pub duration: u64,
}

/// One `S` element: `r + 1` consecutive segments of duration `d`, the first starting at `t`
/// (or where the previous `S` ends when `t` is absent, §5.3.9.6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct S {
    /// `@t`, written only where the timeline starts or jumps.
    pub t: Option<u64>,
    /// `@d`.
    pub d: u64,
    /// `@r`: repeat count (0 = a single segment). `@r` is an `xs:int` in the schema, so runs
    /// longer than `i32::MAX + 1` segments are split; negative values are never written.
    pub r: u32,
}

/// A `SegmentTimeline`: its `S` entries in order.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct SegmentTimeline {
    /// The `S` elements.
    pub entries: Vec<S>,
}

/// Largest `@r` written (`xs:int`).
const MAX_R: u32 = i32::MAX as u32;

impl SegmentTimeline {
    /// Compresses a list of segments: consecutive segments of equal duration that follow each
    /// other without a gap collapse into one `S` with `@r`; a different duration starts a new
    /// `S` without `@t`, and a gap starts a new `S` with `@t`. The first `S` always carries `@t`.
    ///
    /// Fails on an empty list, a zero duration, a segment starting before the previous one
    /// ends (overlap), or an end time beyond `u64`.
    pub fn from_segments(segments: &[Segment]) -> Result<Self> {
        if segments.is_empty() {
            return Err(Error::Invalid("timeline: no segments"));
        }
        let mut entries: Vec<S> = Vec::new();
        let mut end: Option<u64> = None;
        for seg in segments {
            if seg.duration == 0 {
                return Err(Error::Invalid("timeline: zero segment duration"));
            }
            let seg_end = seg
                .start
                .checked_add(seg.duration)
                .ok_or(Error::Invalid("timeline: segment end overflows"))?;
            match (end, entries.last_mut()) {
                (Some(e), _) if seg.start < e => {
                    return Err(Error::Invalid("timeline: overlapping segments"));
                }
                (Some(e), Some(last)) if seg.start == e => {
                    if last.d == seg.duration && last.r < MAX_R {
                        last.r += 1;
                    } else {
                        entries.push(S {
                            t: None,
                            d: seg.duration,
                            r: 0,
                        });
                    }
                }
                _ => entries.push(S {
                    t: Some(seg.start),
                    d: seg.duration,
                    r: 0,
                }),
            }
            end = Some(seg_end);
        }
        Ok(Self { entries })
    }

    /// The segments the timeline describes, in order (the inverse of
    /// [`Self::from_segments`]). Stops early if a time would overflow `u64`.
    pub fn segments(&self) -> impl Iterator<Item = Segment> + '_ {
        let mut now = 0u64;
        self.entries.iter().flat_map(move |s| {
            if let Some(t) = s.t {
                now = t;
            }
            let first = now;
            now = now.saturating_add(s.d.saturating_mul(u64::from(s.r) + 1));
            (0..=u64::from(s.r)).map_while(move |i| {
                let start = first.checked_add(s.d.checked_mul(i)?)?;
                Some(Segment {
                    start,
                    duration: s.d,
                })
            })
        })
    }

    /// Number of segments, `sum(r + 1)`.
    pub fn len(&self) -> u64 {
        self.entries.iter().map(|s| u64::from(s.r) + 1).sum()
    }

    /// Whether the timeline has no `S` entry.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(list: &[(u64, u64)]) -> Vec<Segment> {
        list.iter()
            .map(|&(start, duration)| Segment { start, duration })
            .collect()
    }

    #[track_caller]
    fn check(list: &[(u64, u64)], expect: &[(Option<u64>, u64, u32)]) {
        let input = segs(list);
        let tl = SegmentTimeline::from_segments(&input).unwrap();
        let got: Vec<_> = tl.entries.iter().map(|s| (s.t, s.d, s.r)).collect();
        assert_eq!(got, expect);
        // Round trip.
        assert_eq!(tl.segments().collect::<Vec<_>>(), input);
        assert_eq!(tl.len(), input.len() as u64);
    }

    #[test]
    fn equal_durations_collapse() {
        check(
            &[(0, 100), (100, 100), (200, 100), (300, 100)],
            &[(Some(0), 100, 3)],
        );
        check(&[(5, 7)], &[(Some(5), 7, 0)]);
    }

    #[test]
    fn different_duration_breaks_the_run_without_t() {
        check(
            &[(0, 100), (100, 100), (200, 50), (250, 100), (350, 100)],
            &[(Some(0), 100, 1), (None, 50, 0), (None, 100, 1)],
        );
    }

    #[test]
    fn gap_breaks_the_run_with_t() {
        check(
            &[(0, 100), (100, 100), (250, 100), (350, 100)],
            &[(Some(0), 100, 1), (Some(250), 100, 1)],
        );
    }

    #[test]
    fn rejects_bad_input() {
        let e = |l: &[(u64, u64)]| SegmentTimeline::from_segments(&segs(l)).unwrap_err();
        assert_eq!(e(&[]), Error::Invalid("timeline: no segments"));
        assert_eq!(
            e(&[(0, 0)]),
            Error::Invalid("timeline: zero segment duration")
        );
        assert_eq!(
            e(&[(0, 100), (99, 100)]),
            Error::Invalid("timeline: overlapping segments")
        );
        assert_eq!(
            e(&[(u64::MAX, 1)]),
            Error::Invalid("timeline: segment end overflows")
        );
    }

    #[test]
    fn huge_runs_do_not_overflow() {
        let tl = SegmentTimeline {
            entries: vec![S {
                t: Some(u64::MAX - 10),
                d: 4,
                r: u32::MAX,
            }],
        };
        // Only the segments whose start fits are produced.
        assert_eq!(tl.segments().count(), 3);
    }
}
