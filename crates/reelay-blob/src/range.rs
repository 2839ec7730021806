//! Byte ranges as HTTP expresses them (RFC 9110 §14.1.2), resolved against an object size.

use std::ops::Range;

/// A single byte range request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ByteRange {
    /// `first-last`, both inclusive.
    FromTo(u64, u64),
    /// `first-`: from an offset to the end.
    From(u64),
    /// `-n`: the last `n` bytes.
    Suffix(u64),
}

impl ByteRange {
    /// The half-open range this selects in an object of `size` bytes, or `None` when it is not
    /// satisfiable (RFC 9110 §14.1.2: a first position at or past the end, or an empty suffix).
    pub fn resolve(&self, size: u64) -> Option<Range<u64>> {
        match *self {
            ByteRange::FromTo(first, last) => {
                if first > last || first >= size {
                    return None;
                }
                Some(first..last.saturating_add(1).min(size))
            }
            ByteRange::From(first) => (first < size).then_some(first..size),
            ByteRange::Suffix(n) => (n > 0 && size > 0).then(|| size.saturating_sub(n)..size),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_like_rfc_9110() {
        assert_eq!(ByteRange::FromTo(0, 9).resolve(100), Some(0..10));
        assert_eq!(ByteRange::FromTo(90, 200).resolve(100), Some(90..100));
        assert_eq!(ByteRange::FromTo(0, u64::MAX).resolve(100), Some(0..100));
        assert_eq!(ByteRange::FromTo(100, 101).resolve(100), None);
        assert_eq!(ByteRange::FromTo(5, 4).resolve(100), None);
        assert_eq!(ByteRange::From(99).resolve(100), Some(99..100));
        assert_eq!(ByteRange::From(100).resolve(100), None);
        assert_eq!(ByteRange::Suffix(10).resolve(100), Some(90..100));
        assert_eq!(ByteRange::Suffix(1000).resolve(100), Some(0..100));
        assert_eq!(ByteRange::Suffix(0).resolve(100), None);
        assert_eq!(ByteRange::Suffix(5).resolve(0), None);
        assert_eq!(ByteRange::From(0).resolve(0), None);
    }
}
