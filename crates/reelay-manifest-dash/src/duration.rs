//! `xs:duration` values (XML Schema Part 2 §3.2.6) as the MPD uses them for
//! `@mediaPresentationDuration` and `@minBufferTime` (ISO/IEC 23009-1 §5.3.1.2).

use std::fmt::Write as _;
use std::time::Duration;

/// How the seconds of an `xs:duration` are written. Both forms are truncated to milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum DurationStyle {
    /// Always three decimals of seconds: `PT6.000S`, `PT1M2.500S`, `PT1H0M0.000S` is written
    /// `PT1H0.000S`.
    Milliseconds,
    /// The fewest digits: `PT6S`, `PT1M2.5S`, `PT0S`.
    Shortest,
}

/// Formats `d` as an `xs:duration` using only the hour, minute and second fields: hours are not
/// folded into days, so that readers never have to know the length of a day.
pub fn xs_duration(d: Duration, style: DurationStyle) -> String {
    let ms = d.as_millis();
    let (hours, minutes) = (ms / 3_600_000, (ms / 60_000) % 60);
    let (seconds, millis) = ((ms / 1000) % 60, ms % 1000);
    let mut out = String::from("PT");
    // Writing to a String cannot fail.
    if hours > 0 {
        let _ = write!(out, "{hours}H");
    }
    if minutes > 0 {
        let _ = write!(out, "{minutes}M");
    }
    match style {
        DurationStyle::Milliseconds => {
            let _ = write!(out, "{seconds}.{millis:03}S");
        }
        DurationStyle::Shortest => {
            if millis > 0 {
                let frac = format!("{millis:03}");
                let _ = write!(out, "{seconds}.{}S", frac.trim_end_matches('0'));
            } else if seconds > 0 || (hours == 0 && minutes == 0) {
                let _ = write!(out, "{seconds}S");
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn check(ms: u64, style: DurationStyle, expect: &str) {
        assert_eq!(xs_duration(Duration::from_millis(ms), style), expect);
    }

    #[test]
    fn formats() {
        use DurationStyle::{Milliseconds as Ms, Shortest as Sh};
        check(6000, Ms, "PT6.000S");
        check(62_500, Sh, "PT1M2.5S");
        check(62_500, Ms, "PT1M2.500S");
        check(0, Sh, "PT0S");
        check(0, Ms, "PT0.000S");
        check(60_000, Sh, "PT1M");
        check(3_600_000, Sh, "PT1H");
        check(3_600_000, Ms, "PT1H0.000S");
        check(3_723_040, Sh, "PT1H2M3.04S");
        check(90_000_000, Sh, "PT25H");
        check(1, Sh, "PT0.001S");
        // Sub-millisecond parts are truncated.
        assert_eq!(
            xs_duration(Duration::from_micros(1_999), DurationStyle::Shortest),
            "PT0.001S"
        );
        assert_eq!(
            xs_duration(Duration::MAX, DurationStyle::Shortest),
            "PT5124095576030431H15.999S"
        );
    }
}
