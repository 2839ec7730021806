//! Secrets: stream keys and SRT passphrases.
//!
//! A stream key in a log is a hijacked channel, so secret values live in [`Secret`], whose
//! `Debug` never shows the value, whose memory is wiped on drop, and whose comparison takes the
//! same time whatever the input (the ingest side compares presented keys against stored ones).

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use subtle::ConstantTimeEq as _;
use zeroize::Zeroize as _;

/// A secret string (a stream key value or an SRT passphrase).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a value.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The value, for the one place that must send it (the API response that discloses it).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Constant-time comparison with a presented value (the length is not hidden).
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Drop for Secret {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted_and_comparison_works() {
        let s = Secret::new("sk_us-east-1_abc".into());
        let shown = format!("{s:?} {:?}", Some(&s));
        assert!(!shown.contains("abc"), "{shown}");
        assert!(shown.contains("redacted"));
        assert!(s.matches("sk_us-east-1_abc"));
        assert!(!s.matches("sk_us-east-1_abd"));
        assert!(!s.matches("sk_us-east-1_ab"));
        assert!(!s.matches(""));
    }

    #[test]
    fn serde_is_transparent() {
        let s = Secret::new("pass".into());
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v, serde_json::json!("pass"));
        let back: Secret = serde_json::from_value(v).unwrap();
        assert_eq!(back, s);
    }
}
