//! A log-linear latency histogram with bounded memory, in the spirit of HdrHistogram: values
//! below 256 are exact, larger ones keep their top 8 significant bits (under 0.8 % error).

/// Values below this are counted exactly.
const LINEAR: u64 = 256;
/// Sub-buckets per power of two above [`LINEAR`] (the 7 bits below the leading one).
const SUB_BUCKETS: usize = 128;
/// Enough buckets for every `u64`: 256 exact ones plus 128 per power of two from 2^8 to 2^63.
const N_BUCKETS: usize = LINEAR as usize + SUB_BUCKETS * 56;

/// Latency samples in microseconds.
#[derive(Clone, Debug)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
    sum: u128,
    max: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Self {
            counts: vec![0; N_BUCKETS],
            total: 0,
            sum: 0,
            max: 0,
        }
    }
}

fn bucket_of(value: u64) -> usize {
    if value < LINEAR {
        return value as usize;
    }
    // `value >= 256`, so the leading one is at bit 8 or above and `shift >= 1`.
    let shift = 63 - value.leading_zeros() - 7;
    let mantissa = (value >> shift) as usize - SUB_BUCKETS;
    LINEAR as usize + (shift as usize - 1) * SUB_BUCKETS + mantissa
}

/// The highest value that falls into bucket `idx`.
fn bucket_high(idx: usize) -> u64 {
    if idx < LINEAR as usize {
        return idx as u64;
    }
    let rel = idx - LINEAR as usize;
    let shift = (rel / SUB_BUCKETS + 1) as u32;
    let mantissa = (rel % SUB_BUCKETS + SUB_BUCKETS) as u64;
    // The bucket spans `mantissa << shift` to the same with every lower bit set; written this
    // way so the top bucket does not overflow.
    (mantissa << shift) | ((1u64 << shift) - 1)
}

impl Histogram {
    /// Counts one sample.
    pub fn record(&mut self, value: u64) {
        self.counts[bucket_of(value)] += 1;
        self.total += 1;
        self.sum += u128::from(value);
        self.max = self.max.max(value);
    }

    /// Adds every sample of `other`.
    pub fn merge(&mut self, other: &Histogram) {
        for (mine, theirs) in self.counts.iter_mut().zip(&other.counts) {
            *mine += theirs;
        }
        self.total += other.total;
        self.sum += other.sum;
        self.max = self.max.max(other.max);
    }

    /// Number of samples.
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether no sample was recorded.
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The largest sample, exact.
    pub fn max(&self) -> u64 {
        self.max
    }

    /// The mean, rounded down; 0 when empty.
    pub fn mean(&self) -> u64 {
        if self.total == 0 {
            0
        } else {
            u64::try_from(self.sum / u128::from(self.total)).unwrap_or(u64::MAX)
        }
    }

    /// The value at percentile `p` (0 to 100): the upper edge of the bucket holding the sample of
    /// that rank, capped at the exact maximum so that `p50 <= p99 <= max` always holds.
    pub fn percentile(&self, p: f64) -> u64 {
        if self.total == 0 {
            return 0;
        }
        let rank = ((p.clamp(0.0, 100.0) / 100.0) * self.total as f64)
            .ceil()
            .max(1.0) as u64;
        let mut seen = 0;
        for (idx, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= rank {
                return bucket_high(idx).min(self.max);
            }
        }
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_cover_their_values() {
        for value in (0..5000).chain([u64::MAX / 3, u64::MAX - 1, u64::MAX]) {
            let idx = bucket_of(value);
            assert!(idx < N_BUCKETS);
            assert!(bucket_high(idx) >= value, "{value}");
            if idx > 0 {
                assert!(bucket_high(idx - 1) < value, "{value}");
            }
        }
        assert_eq!(bucket_high(N_BUCKETS - 1), u64::MAX);
    }

    #[test]
    fn percentiles_of_a_uniform_range() {
        let mut h = Histogram::default();
        for v in 1..=10_000 {
            h.record(v);
        }
        assert_eq!(h.len(), 10_000);
        assert_eq!(h.max(), 10_000);
        assert_eq!(h.mean(), 5000);
        for (p, exact) in [(50.0, 5000.0), (90.0, 9000.0), (99.0, 9900.0)] {
            let got = h.percentile(p) as f64;
            assert!((got - exact).abs() / exact < 0.01, "p{p}: {got}");
        }
        assert_eq!(h.percentile(100.0), 10_000);
        assert_eq!(h.percentile(0.0), 1);
    }

    #[test]
    fn small_values_are_exact_and_merge_adds() {
        let mut a = Histogram::default();
        let mut b = Histogram::default();
        assert_eq!(a.percentile(50.0), 0);
        a.record(7);
        b.record(9);
        b.record(1_000_000);
        a.merge(&b);
        assert_eq!(
            (a.len(), a.percentile(0.0), a.percentile(50.0), a.max()),
            (3, 7, 9, 1_000_000)
        );
        assert!(a.percentile(99.0) <= a.max());
    }
}
