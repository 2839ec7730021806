//! Value types that the generated structures use for timestamps and blobs.

use base64::Engine as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use time::OffsetDateTime;

/// A point in time. In the canonical JSON form handlers exchange with the codec it is a number
/// of seconds since the Unix epoch (with a fraction); the codec converts it to each service's
/// wire format (ISO 8601 for IVS, epoch seconds for KVS).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub OffsetDateTime);

impl Default for Timestamp {
    fn default() -> Self {
        Timestamp(OffsetDateTime::UNIX_EPOCH)
    }
}

impl Timestamp {
    /// From seconds since the epoch (fraction kept to the millisecond).
    pub fn from_epoch_seconds(secs: f64) -> Option<Self> {
        if !secs.is_finite() || secs.abs() > 253_402_300_799.0 {
            return None;
        }
        let millis = (secs * 1000.0).round() as i128;
        OffsetDateTime::from_unix_timestamp_nanos(millis * 1_000_000)
            .ok()
            .map(Timestamp)
    }

    /// Seconds since the epoch with millisecond precision.
    pub fn epoch_seconds(&self) -> f64 {
        let millis = self.0.unix_timestamp_nanos() / 1_000_000;
        millis as f64 / 1000.0
    }

    /// RFC 3339 in UTC with milliseconds, e.g. `2024-01-02T03:04:05.678Z`.
    pub fn to_rfc3339(&self) -> String {
        let t = self.0.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }

    /// Parse RFC 3339 / ISO 8601.
    pub fn parse_rfc3339(s: &str) -> Option<Self> {
        OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339)
            .ok()
            .map(Timestamp)
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_f64(self.epoch_seconds())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let secs = f64::deserialize(d)?;
        Timestamp::from_epoch_seconds(secs)
            .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
    }
}

/// Binary data; base64 in JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Blob(pub Vec<u8>);

impl Serialize for Blob {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(&self.0))
    }
}

impl<'de> Deserialize<'de> for Blob {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        base64::engine::general_purpose::STANDARD
            .decode(s)
            .map(Blob)
            .map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamp_round_trips() {
        let t = Timestamp::from_epoch_seconds(1_700_000_000.123).unwrap();
        assert_eq!(t.to_rfc3339(), "2023-11-14T22:13:20.123Z");
        assert_eq!(
            Timestamp::parse_rfc3339("2023-11-14T22:13:20.123Z"),
            Some(t)
        );
        assert_eq!(t.epoch_seconds(), 1_700_000_000.123);
        assert!(Timestamp::from_epoch_seconds(f64::NAN).is_none());
        assert!(Timestamp::from_epoch_seconds(1e300).is_none());
    }
}
