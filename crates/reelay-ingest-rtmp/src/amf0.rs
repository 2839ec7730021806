//! AMF0 (Adobe Action Message Format 0 specification, December 2007) encoding and decoding of
//! the value types RTMP commands and metadata use.
//!
//! Decoding checks every declared length and count against the remaining input before
//! allocating, and nesting against [`limits::MAX_AMF_DEPTH`].

use bytes::{BufMut, BytesMut};

use crate::error::{Error, Result, decode_error};
use crate::limits;

// AMF0 §2.1 type markers.
const NUMBER: u8 = 0x00;
const BOOLEAN: u8 = 0x01;
const STRING: u8 = 0x02;
const OBJECT: u8 = 0x03;
const NULL: u8 = 0x05;
const UNDEFINED: u8 = 0x06;
const REFERENCE: u8 = 0x07;
const ECMA_ARRAY: u8 = 0x08;
const OBJECT_END: u8 = 0x09;
const STRICT_ARRAY: u8 = 0x0A;
const DATE: u8 = 0x0B;
const LONG_STRING: u8 = 0x0C;
const UNSUPPORTED: u8 = 0x0D;
const XML_DOCUMENT: u8 = 0x0F;
const TYPED_OBJECT: u8 = 0x10;

/// One AMF0 value.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Amf0Value {
    /// §2.2 number: an IEEE 754 double.
    Number(f64),
    /// §2.3 boolean.
    Boolean(bool),
    /// §2.4 string or §2.14 long string; the encoder picks the long form above 65535 bytes.
    String(String),
    /// §2.5 anonymous object: properties in wire order.
    Object(Vec<(String, Amf0Value)>),
    /// §2.7 null.
    Null,
    /// §2.8 undefined.
    Undefined,
    /// §2.10 ECMA array: an associative array, as `onMetaData` carries.
    EcmaArray(Vec<(String, Amf0Value)>),
    /// §2.12 strict array.
    StrictArray(Vec<Amf0Value>),
    /// §2.13 date: milliseconds since the Unix epoch and a time zone that the spec says to
    /// ignore but that round-trips.
    Date {
        /// Milliseconds since 1970-01-01T00:00:00Z (UTC).
        millis: f64,
        /// Reserved time-zone field, "should be set to 0x0000".
        timezone: i16,
    },
    /// §2.17 XML document, kept as its text.
    XmlDocument(String),
    /// §2.18 typed object: a class name and its properties.
    TypedObject {
        /// The registered class name.
        class: String,
        /// Properties in wire order.
        properties: Vec<(String, Amf0Value)>,
    },
    /// §2.16 unsupported marker.
    Unsupported,
}

impl Amf0Value {
    /// The string, if this is a string value.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Self::String(s) => Some(s),
            _ => None,
        }
    }

    /// The number, if this is a number value.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Number(n) => Some(*n),
            _ => None,
        }
    }

    /// The properties of an object, ECMA array or typed object.
    pub fn properties(&self) -> Option<&[(String, Amf0Value)]> {
        match self {
            Self::Object(p) | Self::EcmaArray(p) => Some(p),
            Self::TypedObject { properties, .. } => Some(properties),
            _ => None,
        }
    }

    /// The first property named `key` of an object, ECMA array or typed object.
    pub fn get(&self, key: &str) -> Option<&Amf0Value> {
        self.properties()?
            .iter()
            .find_map(|(k, v)| (k == key).then_some(v))
    }

    /// Appends the encoding of this value to `out`.
    pub fn encode(&self, out: &mut BytesMut) {
        match self {
            Self::Number(n) => {
                out.put_u8(NUMBER);
                out.put_f64(*n);
            }
            Self::Boolean(b) => {
                out.put_u8(BOOLEAN);
                out.put_u8(u8::from(*b));
            }
            Self::String(s) => match u16::try_from(s.len()) {
                Ok(len) => {
                    out.put_u8(STRING);
                    out.put_u16(len);
                    out.put_slice(s.as_bytes());
                }
                Err(_) => {
                    out.put_u8(LONG_STRING);
                    put_long_utf8(out, s);
                }
            },
            Self::Object(props) => {
                out.put_u8(OBJECT);
                put_properties(out, props);
            }
            Self::Null => out.put_u8(NULL),
            Self::Undefined => out.put_u8(UNDEFINED),
            Self::EcmaArray(props) => {
                out.put_u8(ECMA_ARRAY);
                // §2.10: the count is advisory; readers rely on the object-end marker.
                out.put_u32(u32::try_from(props.len()).unwrap_or(u32::MAX));
                put_properties(out, props);
            }
            Self::StrictArray(items) => {
                out.put_u8(STRICT_ARRAY);
                out.put_u32(u32::try_from(items.len()).unwrap_or(u32::MAX));
                for it in items {
                    it.encode(out);
                }
            }
            Self::Date { millis, timezone } => {
                out.put_u8(DATE);
                out.put_f64(*millis);
                out.put_i16(*timezone);
            }
            Self::XmlDocument(s) => {
                out.put_u8(XML_DOCUMENT);
                put_long_utf8(out, s);
            }
            Self::TypedObject { class, properties } => {
                out.put_u8(TYPED_OBJECT);
                put_utf8(out, class);
                put_properties(out, properties);
            }
            Self::Unsupported => out.put_u8(UNSUPPORTED),
        }
    }

    /// Decodes one value from the front of `input`, advancing it.
    pub fn decode(input: &mut &[u8]) -> Result<Self> {
        decode_value(input, 0)
    }
}

/// Decodes values until `input` is exhausted, as an RTMP command or data message body holds.
pub fn decode_all(mut input: &[u8]) -> Result<Vec<Amf0Value>> {
    if input.len() > limits::MAX_AMF_MESSAGE_SIZE {
        return Err(Error::Limit("amf0: message size"));
    }
    let mut values = Vec::new();
    while !input.is_empty() {
        values.push(Amf0Value::decode(&mut input)?);
    }
    Ok(values)
}

/// Encodes `values` one after the other.
pub fn encode_all(values: &[Amf0Value], out: &mut BytesMut) {
    for it in values {
        it.encode(out);
    }
}

/// A UTF-8 string without a type marker (§1.3 UTF-8), truncated at 65535 bytes on a char
/// boundary so that the length prefix never lies.
fn put_utf8(out: &mut BytesMut, s: &str) {
    let mut end = s.len().min(usize::from(u16::MAX));
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    // The loop above keeps `end` at most u16::MAX.
    out.put_u16(u16::try_from(end).unwrap_or(u16::MAX));
    out.put_slice(&s.as_bytes()[..end]);
}

fn put_long_utf8(out: &mut BytesMut, s: &str) {
    // Strings come from our own callers; 4 GiB ones cannot exist in an RTMP message (24-bit
    // length), so truncating the count would only ever affect a caller bug.
    out.put_u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
    out.put_slice(s.as_bytes());
}

fn put_properties(out: &mut BytesMut, props: &[(String, Amf0Value)]) {
    for (key, value) in props {
        put_utf8(out, key);
        value.encode(out);
    }
    // §2.5: an empty key followed by the object-end marker.
    out.put_u16(0);
    out.put_u8(OBJECT_END);
}

fn take<'a>(input: &mut &'a [u8], n: usize, what: &'static str) -> Result<&'a [u8]> {
    if input.len() < n {
        return decode_error(what);
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn take_u8(input: &mut &[u8], what: &'static str) -> Result<u8> {
    Ok(take(input, 1, what)?[0])
}

fn take_u16(input: &mut &[u8], what: &'static str) -> Result<u16> {
    let b = take(input, 2, what)?;
    Ok(u16::from_be_bytes([b[0], b[1]]))
}

fn take_u32(input: &mut &[u8], what: &'static str) -> Result<u32> {
    let b = take(input, 4, what)?;
    Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}

fn take_f64(input: &mut &[u8], what: &'static str) -> Result<f64> {
    let b = take(input, 8, what)?;
    let mut a = [0u8; 8];
    a.copy_from_slice(b);
    Ok(f64::from_be_bytes(a))
}

/// Strings from the wire are decoded lossily: a stray byte in an encoder name must not fail a
/// whole `connect`.
fn take_string(input: &mut &[u8], len: usize, what: &'static str) -> Result<String> {
    let bytes = take(input, len, what)?;
    Ok(String::from_utf8_lossy(bytes).into_owned())
}

fn decode_value(input: &mut &[u8], depth: usize) -> Result<Amf0Value> {
    let marker = take_u8(input, "amf0: type marker")?;
    Ok(match marker {
        NUMBER => Amf0Value::Number(take_f64(input, "amf0: number")?),
        BOOLEAN => Amf0Value::Boolean(take_u8(input, "amf0: boolean")? != 0),
        STRING => {
            let len = take_u16(input, "amf0: string length")?;
            Amf0Value::String(take_string(input, usize::from(len), "amf0: string")?)
        }
        LONG_STRING => {
            let len = take_u32(input, "amf0: long string length")?;
            let len = usize::try_from(len).map_err(|_| Error::Decode("amf0: long string"))?;
            Amf0Value::String(take_string(input, len, "amf0: long string")?)
        }
        XML_DOCUMENT => {
            let len = take_u32(input, "amf0: xml length")?;
            let len = usize::try_from(len).map_err(|_| Error::Decode("amf0: xml"))?;
            Amf0Value::XmlDocument(take_string(input, len, "amf0: xml")?)
        }
        OBJECT => Amf0Value::Object(decode_properties(input, depth + 1)?),
        TYPED_OBJECT => {
            let len = take_u16(input, "amf0: class name length")?;
            let class = take_string(input, usize::from(len), "amf0: class name")?;
            let properties = decode_properties(input, depth + 1)?;
            Amf0Value::TypedObject { class, properties }
        }
        ECMA_ARRAY => {
            // §2.10: the associative count is a hint only; some encoders write 0. The object-end
            // marker terminates the array.
            let _count = take_u32(input, "amf0: ecma array count")?;
            Amf0Value::EcmaArray(decode_properties(input, depth + 1)?)
        }
        STRICT_ARRAY => {
            if depth + 1 > limits::MAX_AMF_DEPTH {
                return Err(Error::Limit("amf0: nesting depth"));
            }
            let count = take_u32(input, "amf0: strict array count")?;
            let count = usize::try_from(count).map_err(|_| Error::Decode("amf0: array count"))?;
            // Every value takes at least its one-byte marker, so a count above the remaining
            // input is a lie; checking it first bounds the allocation.
            if count > input.len() {
                return decode_error("amf0: strict array count");
            }
            let mut items = Vec::with_capacity(count);
            for _ in 0..count {
                items.push(decode_value(input, depth + 1)?);
            }
            Amf0Value::StrictArray(items)
        }
        NULL => Amf0Value::Null,
        UNDEFINED => Amf0Value::Undefined,
        UNSUPPORTED => Amf0Value::Unsupported,
        DATE => {
            let millis = take_f64(input, "amf0: date")?;
            let tz = take_u16(input, "amf0: date time zone")?;
            Amf0Value::Date {
                millis,
                timezone: i16::from_be_bytes(tz.to_be_bytes()),
            }
        }
        REFERENCE => return Err(Error::Unsupported("amf0: reference")),
        OBJECT_END => return decode_error("amf0: object end outside an object"),
        _ => return Err(Error::Unsupported("amf0: type marker")),
    })
}

fn decode_properties(input: &mut &[u8], depth: usize) -> Result<Vec<(String, Amf0Value)>> {
    if depth > limits::MAX_AMF_DEPTH {
        return Err(Error::Limit("amf0: nesting depth"));
    }
    let mut props = Vec::new();
    loop {
        let len = take_u16(input, "amf0: property name length")?;
        if len == 0 && input.first() == Some(&OBJECT_END) {
            *input = &input[1..];
            return Ok(props);
        }
        let key = take_string(input, usize::from(len), "amf0: property name")?;
        let value = decode_value(input, depth)?;
        props.push((key, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[track_caller]
    fn round_trip(value: Amf0Value) {
        let mut out = BytesMut::new();
        value.encode(&mut out);
        let mut input = &out[..];
        let back = Amf0Value::decode(&mut input).unwrap();
        assert!(input.is_empty(), "trailing bytes after {value:?}");
        assert_eq!(back, value);
    }

    #[test]
    fn every_type_round_trips() {
        round_trip(Amf0Value::Number(1.5));
        round_trip(Amf0Value::Number(-0.0));
        round_trip(Amf0Value::Boolean(true));
        round_trip(Amf0Value::Boolean(false));
        round_trip(Amf0Value::String(String::new()));
        round_trip(Amf0Value::String("connect ünïcode".into()));
        round_trip(Amf0Value::String("x".repeat(70_000)));
        round_trip(Amf0Value::Null);
        round_trip(Amf0Value::Undefined);
        round_trip(Amf0Value::Unsupported);
        round_trip(Amf0Value::Date {
            millis: 1_700_000_000_000.0,
            timezone: -60,
        });
        round_trip(Amf0Value::XmlDocument("<a/>".into()));
        round_trip(Amf0Value::StrictArray(vec![
            Amf0Value::Number(1.0),
            Amf0Value::Null,
            Amf0Value::StrictArray(vec![]),
        ]));
        round_trip(Amf0Value::Object(vec![
            ("app".into(), Amf0Value::String("live".into())),
            ("nested".into(), Amf0Value::Object(vec![])),
        ]));
        round_trip(Amf0Value::EcmaArray(vec![
            ("width".into(), Amf0Value::Number(320.0)),
            ("stereo".into(), Amf0Value::Boolean(false)),
        ]));
        round_trip(Amf0Value::TypedObject {
            class: "flex.Foo".into(),
            properties: vec![("a".into(), Amf0Value::Undefined)],
        });
    }

    #[test]
    fn long_strings_use_the_long_marker() {
        let mut out = BytesMut::new();
        Amf0Value::String("y".repeat(65_536)).encode(&mut out);
        assert_eq!(out[0], LONG_STRING);
        assert_eq!(&out[1..5], &65_536u32.to_be_bytes());
    }

    #[test]
    fn connect_command_bytes_decode() {
        // "connect", 1.0, {app: "app"} as ffmpeg writes it.
        let mut bytes = vec![0x02, 0x00, 0x07];
        bytes.extend_from_slice(b"connect");
        bytes.push(0x00);
        bytes.extend_from_slice(&1.0f64.to_be_bytes());
        bytes.extend_from_slice(&[0x03, 0x00, 0x03]);
        bytes.extend_from_slice(b"app");
        bytes.extend_from_slice(&[0x02, 0x00, 0x03]);
        bytes.extend_from_slice(b"app");
        bytes.extend_from_slice(&[0x00, 0x00, 0x09]);
        let values = decode_all(&bytes).unwrap();
        assert_eq!(values.len(), 3);
        assert_eq!(values[0].as_str(), Some("connect"));
        assert_eq!(values[1].as_f64(), Some(1.0));
        assert_eq!(
            values[2].get("app").and_then(Amf0Value::as_str),
            Some("app")
        );
    }

    #[test]
    fn hostile_inputs_are_errors() {
        // Truncated number, string longer than input, array count larger than input.
        assert!(decode_all(&[NUMBER, 0, 0]).is_err());
        assert!(decode_all(&[STRING, 0xFF, 0xFF, b'a']).is_err());
        assert!(decode_all(&[STRICT_ARRAY, 0xFF, 0xFF, 0xFF, 0xFF, NULL]).is_err());
        assert!(decode_all(&[LONG_STRING, 0xFF, 0xFF, 0xFF, 0xFF]).is_err());
        assert!(decode_all(&[OBJECT_END]).is_err());
        assert_eq!(
            decode_all(&[REFERENCE, 0, 1]),
            Err(Error::Unsupported("amf0: reference"))
        );
        // An object that never ends.
        assert!(decode_all(&[OBJECT, 0, 1, b'k', NULL]).is_err());
    }

    #[test]
    fn nesting_is_bounded() {
        let mut deep = Vec::new();
        for _ in 0..10_000 {
            deep.extend_from_slice(&[OBJECT, 0, 1, b'k']);
        }
        deep.push(NULL);
        assert_eq!(
            decode_all(&deep[..limits::MAX_AMF_MESSAGE_SIZE.min(deep.len())]),
            Err(Error::Limit("amf0: nesting depth"))
        );
        let arrays = [STRICT_ARRAY, 0, 0, 0, 1].repeat(100);
        assert_eq!(
            decode_all(&arrays),
            Err(Error::Limit("amf0: nesting depth"))
        );
        // Exactly at the limit is fine.
        let mut ok = Vec::new();
        for _ in 0..limits::MAX_AMF_DEPTH {
            ok.extend_from_slice(&[STRICT_ARRAY, 0, 0, 0, 1]);
        }
        ok.push(NULL);
        assert!(decode_all(&ok).is_ok());
    }
}
