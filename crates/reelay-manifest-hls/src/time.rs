//! `EXT-X-PROGRAM-DATE-TIME` values (RFC 8216 §4.3.2.6): ISO 8601 / RFC 3339 date-times with
//! millisecond precision. The crate never reads a clock; callers pass times in.

use std::fmt;
use std::time::Duration;

/// Milliseconds of 0000-01-01T00:00:00Z relative to the Unix epoch.
const MIN_MILLIS: i64 = -62_167_219_200_000;
/// Milliseconds of 9999-12-31T23:59:59.999Z relative to the Unix epoch.
const MAX_MILLIS: i64 = 253_402_300_799_999;
const MILLIS_PER_DAY: i64 = 86_400_000;

/// An absolute time in milliseconds since the Unix epoch, between years 0000 and 9999 (the
/// range of the four-digit year of RFC 3339 §5.6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DateTime(i64);

impl DateTime {
    /// The time `millis` milliseconds after 1970-01-01T00:00:00Z, if its year is 0000-9999.
    pub fn from_unix_millis(millis: i64) -> Option<Self> {
        (MIN_MILLIS..=MAX_MILLIS)
            .contains(&millis)
            .then_some(Self(millis))
    }

    /// Milliseconds since 1970-01-01T00:00:00Z.
    pub fn unix_millis(self) -> i64 {
        self.0
    }

    /// This time plus `d` (truncated to milliseconds), clamped to the end of year 9999.
    pub fn saturating_add(self, d: Duration) -> Self {
        let add = i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(add).min(MAX_MILLIS))
    }

    pub(crate) fn add(self, d: Duration) -> Self {
        self.saturating_add(d)
    }

    /// Parses an RFC 3339 `date-time` as HLS uses it: `YYYY-MM-DDThh:mm:ss[.fraction]` followed
    /// by `Z` or a `±hh:mm` offset (also accepted: `±hhmm`, `±hh`). Digits of the fraction
    /// beyond milliseconds are dropped.
    pub fn parse(s: &str) -> Option<Self> {
        let b = s.as_bytes();
        let num = |range: std::ops::Range<usize>| -> Option<i64> {
            let digits = b.get(range)?;
            if digits.is_empty() || !digits.iter().all(u8::is_ascii_digit) {
                return None;
            }
            Some(
                digits
                    .iter()
                    .fold(0i64, |acc, d| acc * 10 + i64::from(d - b'0')),
            )
        };
        if b.len() < 19 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't') {
            return None;
        }
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let (hour, minute, second) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
            return None;
        }
        // RFC 3339 §5.6 allows a leap second (60); it is folded into the next second.
        if hour > 23 || minute > 59 || second > 60 {
            return None;
        }
        let mut i = 19;
        let mut millis = 0i64;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                if i - start < 3 {
                    millis = millis * 10 + i64::from(b[i] - b'0');
                }
                i += 1;
            }
            if i == start {
                return None;
            }
            for _ in (i - start)..3 {
                millis *= 10;
            }
        }
        let offset_minutes = match b.get(i..)? {
            [b'Z' | b'z'] => 0,
            [sign @ (b'+' | b'-'), rest @ ..] => {
                let (h, m) = match rest {
                    [h1, h2] => (two(*h1, *h2)?, 0),
                    [h1, h2, b':', m1, m2] | [h1, h2, m1, m2] => (two(*h1, *h2)?, two(*m1, *m2)?),
                    _ => return None,
                };
                if h > 23 || m > 59 {
                    return None;
                }
                if *sign == b'-' {
                    -(h * 60 + m)
                } else {
                    h * 60 + m
                }
            }
            _ => return None,
        };
        let days = days_from_civil(year, month, day);
        let seconds = hour * 3600 + minute * 60 + second - offset_minutes * 60;
        Self::from_unix_millis(days * MILLIS_PER_DAY + seconds * 1000 + millis)
    }
}

fn two(a: u8, b: u8) -> Option<i64> {
    (a.is_ascii_digit() && b.is_ascii_digit())
        .then(|| i64::from(a - b'0') * 10 + i64::from(b - b'0'))
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (the well-known era-based algorithm:
/// 400-year eras of 146097 days, years starting in March so that the leap day comes last).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

impl fmt::Display for DateTime {
    /// `YYYY-MM-DDThh:mm:ss.sssZ`, the form Apple's and AWS's packagers write.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let days = self.0.div_euclid(MILLIS_PER_DAY);
        let ms_of_day = self.0.rem_euclid(MILLIS_PER_DAY);
        let (year, month, day) = civil_from_days(days);
        let secs = ms_of_day / 1000;
        write!(
            f,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z",
            secs / 3600,
            secs / 60 % 60,
            secs % 60,
            ms_of_day % 1000
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_and_parse() {
        let t = DateTime::from_unix_millis(1_700_000_000_123).unwrap();
        assert_eq!(t.to_string(), "2023-11-14T22:13:20.123Z");
        assert_eq!(DateTime::parse("2023-11-14T22:13:20.123Z"), Some(t));
        assert_eq!(DateTime::parse("2023-11-14T23:13:20.1234+01:00"), Some(t));
        assert_eq!(DateTime::parse("2023-11-14T21:13:20.123-0100"), Some(t));
        assert_eq!(
            DateTime::parse("1970-01-01T00:00:00Z"),
            DateTime::from_unix_millis(0)
        );
        let min = DateTime::from_unix_millis(MIN_MILLIS).unwrap();
        assert_eq!(min.to_string(), "0000-01-01T00:00:00.000Z");
        let max = DateTime::from_unix_millis(MAX_MILLIS).unwrap();
        assert_eq!(max.to_string(), "9999-12-31T23:59:59.999Z");
        assert_eq!(DateTime::parse(&max.to_string()), Some(max));
        assert_eq!(
            DateTime::parse("2024-02-29T00:00:00Z")
                .map(|t| t.to_string())
                .as_deref(),
            Some("2024-02-29T00:00:00.000Z")
        );
        assert_eq!(max.saturating_add(Duration::from_secs(5)), max);
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "2023-11-14",
            "2023-11-14T22:13:20",
            "2023-02-29T00:00:00Z",
            "2023-13-01T00:00:00Z",
            "2023-11-14T24:00:00Z",
            "2023-11-14T22:13:20.Z",
            "2023-11-14T22:13:20+1:00",
            "2023-11-14T22:13:20ZZ",
            "+023-11-14T22:13:20Z",
            "0000-01-01T00:00:00+01:00",
            "2023-11-14T22:13:2é",
        ] {
            assert_eq!(DateTime::parse(bad), None, "{bad}");
        }
    }
}
