//! The stream key a publisher presents as its `publish` stream name.

use std::fmt;

/// A stream key: a secret that lets its holder broadcast on a channel.
///
/// `Debug` never shows it and equality is constant-time in the content, so that neither logs
/// nor timing leak it. The crate cannot zeroize on drop without `unsafe` or an extra
/// dependency; the host should keep keys short-lived in memory.
#[derive(Clone)]
pub struct StreamKey(String);

impl StreamKey {
    /// Wraps a key.
    pub fn new(key: impl Into<String>) -> Self {
        Self(key.into())
    }

    /// The key itself, for the lookup that authorizes it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Compares with `other` in time that depends only on the lengths.
    pub fn ct_eq(&self, other: &str) -> bool {
        let (a, b) = (self.0.as_bytes(), other.as_bytes());
        if a.len() != b.len() {
            return false;
        }
        let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
        // black_box keeps the optimizer from turning the fold into an early-exit comparison.
        std::hint::black_box(diff) == 0
    }
}

impl PartialEq for StreamKey {
    fn eq(&self, other: &Self) -> bool {
        self.ct_eq(&other.0)
    }
}

impl Eq for StreamKey {}

impl fmt::Debug for StreamKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("StreamKey(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_comparison_works() {
        let key = StreamKey::new("sk_us-west-2_abcDEF123");
        let shown = format!("{key:?} {:?}", Some(key.clone()));
        assert!(!shown.contains("abcDEF"), "{shown}");
        assert!(key.ct_eq("sk_us-west-2_abcDEF123"));
        assert!(!key.ct_eq("sk_us-west-2_abcDEF124"));
        assert!(!key.ct_eq("sk_us-west-2_abcDEF12"));
        assert_eq!(key, StreamKey::new("sk_us-west-2_abcDEF123"));
        assert_eq!(key.expose(), "sk_us-west-2_abcDEF123");
    }
}
