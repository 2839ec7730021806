//! Attribute lists (RFC 8216 §4.2) and the value types they carry, in both directions.

use std::fmt::Write as _;
use std::time::Duration;

use crate::error::{Error, Result};
use crate::limits;
use crate::types::{ByteRange, Resolution};

/// One attribute value as it appears in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Value<'a> {
    /// A quoted-string, without its quotes.
    Quoted(&'a str),
    /// Any unquoted value: decimal-integer, hexadecimal-sequence, decimal-floating-point,
    /// enumerated-string, decimal-resolution.
    Unquoted(&'a str),
}

/// A parsed attribute list, in text order, with unique names.
#[derive(Debug)]
pub(crate) struct Attributes<'a> {
    pub(crate) line: usize,
    items: Vec<(&'a str, Value<'a>)>,
}

fn decode<T>(line: usize, what: &'static str) -> Result<T> {
    Err(Error::Decode { line, what })
}

/// Parses `NAME=VALUE,NAME="VALUE",...` (§4.2).
pub(crate) fn parse(text: &str, line: usize) -> Result<Attributes<'_>> {
    let mut items: Vec<(&str, Value<'_>)> = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        if items.len() >= limits::MAX_ATTRIBUTES {
            return Err(Error::Limit {
                line,
                what: "attribute list: more than MAX_ATTRIBUTES attributes",
            });
        }
        let Some(eq) = rest.find('=') else {
            return decode(line, "attribute list: attribute without '='");
        };
        let name = &rest[..eq];
        // AttributeName is [A-Z0-9-]+ (§4.2).
        if name.is_empty()
            || !name
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-')
        {
            return decode(line, "attribute list: invalid attribute name");
        }
        rest = &rest[eq + 1..];
        let value;
        if let Some(quoted) = rest.strip_prefix('"') {
            let Some(end) = quoted.find('"') else {
                return decode(line, "attribute list: unterminated quoted-string");
            };
            value = Value::Quoted(&quoted[..end]);
            rest = &quoted[end + 1..];
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            let v = &rest[..end];
            if v.is_empty() || v.contains('"') {
                return decode(line, "attribute list: invalid unquoted value");
            }
            value = Value::Unquoted(v);
            rest = &rest[end..];
        }
        if items.iter().any(|(n, _)| *n == name) {
            // §4.2: "A given AttributeName MUST NOT appear more than once"; clients SHOULD
            // refuse such playlists.
            return decode(line, "attribute list: duplicate attribute name");
        }
        items.push((name, value));
        match rest.strip_prefix(',') {
            Some("") => return decode(line, "attribute list: trailing comma"),
            Some(after) => rest = after,
            None if rest.is_empty() => {}
            None => return decode(line, "attribute list: expected ',' after a value"),
        }
    }
    Ok(Attributes { line, items })
}

impl<'a> Attributes<'a> {
    fn get(&self, name: &str) -> Option<Value<'a>> {
        self.items.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    fn err<T>(&self, what: &'static str) -> Result<T> {
        decode(self.line, what)
    }

    /// A quoted-string attribute; an unquoted value is an error (§4.2: the type of each
    /// attribute is fixed by its tag).
    pub(crate) fn quoted(&self, name: &str, what: &'static str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Quoted(s)) => Ok(Some(s)),
            Some(Value::Unquoted(_)) => self.err(what),
        }
    }

    /// An unquoted attribute (any unquoted type).
    pub(crate) fn unquoted(&self, name: &str, what: &'static str) -> Result<Option<&'a str>> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::Unquoted(s)) => Ok(Some(s)),
            Some(Value::Quoted(_)) => self.err(what),
        }
    }

    pub(crate) fn required_quoted(&self, name: &str, what: &'static str) -> Result<&'a str> {
        match self.quoted(name, what)? {
            Some(s) => Ok(s),
            None => self.err(what),
        }
    }

    pub(crate) fn required_unquoted(&self, name: &str, what: &'static str) -> Result<&'a str> {
        match self.unquoted(name, what)? {
            Some(s) => Ok(s),
            None => self.err(what),
        }
    }

    pub(crate) fn integer(&self, name: &str, what: &'static str) -> Result<Option<u64>> {
        match self.unquoted(name, what)? {
            None => Ok(None),
            Some(s) => parse_integer(s).map(Some).ok_or(Error::Decode {
                line: self.line,
                what,
            }),
        }
    }

    pub(crate) fn duration(&self, name: &str, what: &'static str) -> Result<Option<Duration>> {
        match self.unquoted(name, what)? {
            None => Ok(None),
            Some(s) => parse_duration(s).map(Some).ok_or(Error::Decode {
                line: self.line,
                what,
            }),
        }
    }

    /// An enumerated-string that must be `YES` or `NO`; absent is `NO`.
    pub(crate) fn yes_no(&self, name: &str, what: &'static str) -> Result<bool> {
        match self.unquoted(name, what)? {
            None | Some("NO") => Ok(false),
            Some("YES") => Ok(true),
            Some(_) => self.err(what),
        }
    }
}

/// decimal-integer (§4.2): digits only, up to 2^64-1.
pub(crate) fn parse_integer(s: &str) -> Option<u64> {
    if s.is_empty()
        || s.len() > limits::MAX_INTEGER_DIGITS + 1
        || !s.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    s.parse().ok()
}

/// Non-negative decimal-floating-point (§4.2) as a [`Duration`]: digits, optionally '.' and
/// digits. Fraction digits beyond nanoseconds are dropped.
pub(crate) fn parse_duration(s: &str) -> Option<Duration> {
    let (int, frac) = match s.split_once('.') {
        Some((i, f)) => (i, f),
        None => (s, ""),
    };
    if int.is_empty()
        || int.len() > limits::MAX_INTEGER_DIGITS
        || !int.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    if s.contains('.') && frac.is_empty() || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = int.parse().ok()?;
    let mut nanos = 0u32;
    for i in 0..9 {
        let digit = frac.as_bytes().get(i).map_or(0, |d| u32::from(d - b'0'));
        nanos = nanos * 10 + digit;
    }
    Some(Duration::new(secs, nanos))
}

/// decimal-floating-point as `f64`, for `FRAME-RATE`.
pub(crate) fn parse_float(s: &str) -> Option<f64> {
    let d = parse_duration(s)?;
    Some(d.as_secs_f64())
}

/// `<n>[@<o>]` (§4.3.2.2).
pub(crate) fn parse_byte_range(s: &str) -> Option<ByteRange> {
    let (length, offset) = match s.split_once('@') {
        Some((l, o)) => (l, Some(parse_integer(o)?)),
        None => (s, None),
    };
    Some(ByteRange {
        length: parse_integer(length)?,
        offset,
    })
}

/// decimal-resolution (§4.2): `<width>x<height>`.
pub(crate) fn parse_resolution(s: &str) -> Option<Resolution> {
    let (w, h) = s.split_once('x')?;
    Some(Resolution {
        width: parse_integer(w)?,
        height: parse_integer(h)?,
    })
}

/// hexadecimal-sequence (§4.2) of exactly 16 bytes, as `IV` needs (§4.3.2.4).
pub(crate) fn parse_iv(s: &str) -> Option<[u8; 16]> {
    let hex = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X"))?;
    // from_str_radix would accept a '+' sign, so check the digits first.
    if hex.len() != 32 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut iv = [0u8; 16];
    for (i, byte) in iv.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    Some(iv)
}

/// Formats a duration as decimal-floating-point with at least three decimals and at most
/// nine, trailing zeros beyond the third removed: `2.000`, `2.002667`.
pub(crate) fn format_duration(d: Duration) -> String {
    let mut frac = format!("{:09}", d.subsec_nanos());
    while frac.len() > 3 && frac.ends_with('0') {
        frac.pop();
    }
    format!("{}.{frac}", d.as_secs())
}

/// Builds an attribute list, checking values that the syntax cannot carry.
pub(crate) struct Writer<'a> {
    out: &'a mut String,
    first: bool,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut String) -> Self {
        Self { out, first: true }
    }

    fn name(&mut self, name: &str) {
        if !self.first {
            self.out.push(',');
        }
        self.first = false;
        self.out.push_str(name);
        self.out.push('=');
    }

    /// quoted-string: no double quote, CR or LF inside (§4.2).
    pub(crate) fn quoted(&mut self, name: &str, value: &str) -> Result<()> {
        check_quoted(value)?;
        self.name(name);
        self.out.push('"');
        self.out.push_str(value);
        self.out.push('"');
        Ok(())
    }

    pub(crate) fn opt_quoted(&mut self, name: &str, value: Option<&str>) -> Result<()> {
        match value {
            Some(v) => self.quoted(name, v),
            None => Ok(()),
        }
    }

    /// enumerated-string, from a fixed set chosen by the writer.
    pub(crate) fn enumerated(&mut self, name: &str, value: &str) {
        self.name(name);
        self.out.push_str(value);
    }

    pub(crate) fn integer(&mut self, name: &str, value: u64) {
        self.name(name);
        // Writing to a String cannot fail.
        let _ = write!(self.out, "{value}");
    }

    pub(crate) fn opt_integer(&mut self, name: &str, value: Option<u64>) {
        if let Some(v) = value {
            self.integer(name, v);
        }
    }

    pub(crate) fn duration(&mut self, name: &str, value: Duration) {
        self.name(name);
        self.out.push_str(&format_duration(value));
    }

    pub(crate) fn resolution(&mut self, name: &str, value: Resolution) {
        self.name(name);
        let _ = write!(self.out, "{}x{}", value.width, value.height);
    }

    pub(crate) fn float3(&mut self, name: &str, value: f64) -> Result<()> {
        if !value.is_finite() || value < 0.0 {
            return Err(Error::Invalid(
                "decimal-floating-point must be finite and non-negative",
            ));
        }
        self.name(name);
        let _ = write!(self.out, "{value:.3}");
        Ok(())
    }

    pub(crate) fn hex(&mut self, name: &str, value: &[u8]) {
        self.name(name);
        self.out.push_str("0x");
        for b in value {
            let _ = write!(self.out, "{b:02X}");
        }
    }
}

pub(crate) fn check_quoted(value: &str) -> Result<()> {
    if value.contains(['"', '\r', '\n']) {
        return Err(Error::Invalid(
            "quoted-string holds a double quote or a line break",
        ));
    }
    Ok(())
}

pub(crate) fn format_byte_range(r: ByteRange) -> String {
    match r.offset {
        Some(o) => format!("{}@{o}", r.length),
        None => r.length.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_lists() {
        let a = parse(
            r#"BANDWIDTH=1280000,CODECS="avc1.64001f,mp4a.40.2",RESOLUTION=320x240"#,
            3,
        )
        .unwrap();
        assert_eq!(a.integer("BANDWIDTH", "b").unwrap(), Some(1_280_000));
        assert_eq!(
            a.quoted("CODECS", "c").unwrap(),
            Some("avc1.64001f,mp4a.40.2")
        );
        assert_eq!(a.unquoted("RESOLUTION", "r").unwrap(), Some("320x240"));
        assert_eq!(
            a.quoted("RESOLUTION", "r"),
            Err(Error::Decode { line: 3, what: "r" })
        );
        assert_eq!(a.quoted("URI", "u").unwrap(), None);
        for bad in [
            "A", "A=", "a=1", "A=1,", "A=\"x", "A=\"x\"y", "A=1,A=2", "A=x\"y", "=1",
        ] {
            assert!(parse(bad, 1).is_err(), "{bad}");
        }
        let many: Vec<String> = (0..=limits::MAX_ATTRIBUTES)
            .map(|i| format!("A{i}=1"))
            .collect();
        let many = many.join(",");
        assert!(matches!(parse(&many, 1), Err(Error::Limit { .. })));
    }

    #[test]
    fn values() {
        assert_eq!(
            parse_duration("2.002667"),
            Some(Duration::new(2, 2_667_000))
        );
        assert_eq!(parse_duration("10"), Some(Duration::from_secs(10)));
        assert_eq!(
            parse_duration("0.1234567891"),
            Some(Duration::new(0, 123_456_789))
        );
        for bad in ["", ".5", "5.", "-1", "1e3", "1.2.3", "99999999999999999999"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
        assert_eq!(format_duration(Duration::from_secs(2)), "2.000");
        assert_eq!(format_duration(Duration::new(2, 2_667_000)), "2.002667");
        assert_eq!(parse_integer("18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_integer("18446744073709551616"), None);
        assert_eq!(parse_integer("+1"), None);
        assert_eq!(
            parse_byte_range("100@20"),
            Some(ByteRange {
                length: 100,
                offset: Some(20)
            })
        );
        assert_eq!(parse_byte_range("100@"), None);
        assert_eq!(
            parse_resolution("1920x1080"),
            Some(Resolution {
                width: 1920,
                height: 1080
            })
        );
        assert_eq!(parse_resolution("1920X1080"), None);
        assert_eq!(
            parse_iv("0x000102030405060708090A0B0C0D0E0F").map(|iv| iv[15]),
            Some(15)
        );
        assert_eq!(parse_iv("0x0001"), None);
        assert_eq!(parse_iv("0x000102030405060708090A0B0C0D0E0G"), None);
        assert_eq!(parse_iv("0x0001020304050607080é0A0B0C0D0E0"), None);
        assert_eq!(parse_iv(&format!("0x+F{}", "0".repeat(30))), None);
    }
}
