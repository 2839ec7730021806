//! Box headers and iteration over the children of a container (ISO/IEC 14496-12 §4.2).

use crate::error::{Result, decode_error};
use crate::fourcc::FourCc;

/// The `uuid` box type, whose header carries a 16-byte extended type (§4.2).
const UUID: FourCc = FourCc::new(b"uuid");

/// A parsed box header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BoxHeader {
    /// The box type.
    pub kind: FourCc,
    /// Bytes taken by the header: 8, 16 with a 64-bit `largesize`, plus 16 for `uuid`.
    pub header_len: usize,
    /// Total size including the header; `None` when `size == 0`, which means "to the end of the
    /// file" at top level and "to the end of the parent" inside a container (§4.2).
    pub size: Option<u64>,
}

/// Parses the header at the start of `buf`; `Ok(None)` when `buf` is too short to hold it, so
/// that the caller can fetch more bytes and retry without losing anything.
pub(crate) fn parse_header(buf: &[u8]) -> Result<Option<BoxHeader>> {
    let Some(first) = buf.get(..8) else {
        return Ok(None);
    };
    let size32 = u32::from_be_bytes([first[0], first[1], first[2], first[3]]);
    let kind = FourCc([first[4], first[5], first[6], first[7]]);
    let (mut header_len, size) = match size32 {
        0 => (8, None),
        1 => {
            let Some(large) = buf.get(8..16) else {
                return Ok(None);
            };
            let mut raw = [0u8; 8];
            raw.copy_from_slice(large);
            let large = u64::from_be_bytes(raw);
            if large < 16 {
                return decode_error("box: largesize smaller than its header");
            }
            (16, Some(large))
        }
        2..=7 => return decode_error("box: size smaller than its header"),
        n => (8, Some(u64::from(n))),
    };
    if kind == UUID {
        header_len += 16;
        if buf.len() < header_len {
            return Ok(None);
        }
    }
    if size.is_some_and(|s| s < header_len as u64) {
        return decode_error("box: size smaller than its header");
    }
    Ok(Some(BoxHeader {
        kind,
        header_len,
        size,
    }))
}

/// Iterates over the boxes packed in a container's payload, yielding each type and payload.
///
/// A box that runs past its parent is an error; iteration then stops.
pub(crate) struct Children<'a> {
    buf: &'a [u8],
}

impl<'a> Children<'a> {
    pub(crate) fn new(payload: &'a [u8]) -> Self {
        Self { buf: payload }
    }
}

impl<'a> Iterator for Children<'a> {
    type Item = Result<(FourCc, &'a [u8])>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.buf.is_empty() {
            return None;
        }
        // QuickTime writers may end a container with a 32-bit zero terminator (QTFF "User data
        // atoms"); tolerate up to 7 zero bytes, reject any other short tail.
        if self.buf.len() < 8 && self.buf.iter().all(|&b| b == 0) {
            self.buf = &[];
            return None;
        }
        let res = match parse_header(self.buf) {
            Ok(Some(header)) => {
                let total = match header.size {
                    None => Some(self.buf.len()),
                    Some(s) => usize::try_from(s).ok().filter(|&s| s <= self.buf.len()),
                };
                match total {
                    Some(total) => {
                        let payload = &self.buf[header.header_len..total];
                        self.buf = &self.buf[total..];
                        return Some(Ok((header.kind, payload)));
                    }
                    None => decode_error("box: extends past its parent"),
                }
            }
            Ok(None) => decode_error("box: truncated header"),
            Err(e) => Err(e),
        };
        self.buf = &[];
        Some(res)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_forms() {
        let h = parse_header(b"\0\0\0\x10moovrest").unwrap().unwrap();
        assert_eq!(
            (h.kind, h.header_len, h.size),
            (FourCc::new(b"moov"), 8, Some(16))
        );
        let h = parse_header(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x20")
            .unwrap()
            .unwrap();
        assert_eq!((h.header_len, h.size), (16, Some(32)));
        let h = parse_header(b"\0\0\0\0mdat").unwrap().unwrap();
        assert_eq!(h.size, None);
        assert_eq!(parse_header(b"\0\0\0\x01mdat\0\0").unwrap(), None);
        assert_eq!(parse_header(b"\0\0\0").unwrap(), None);
        assert!(parse_header(b"\0\0\0\x04free").is_err());
        assert!(parse_header(b"\0\0\0\x01mdat\0\0\0\0\0\0\0\x08").is_err());
        assert!(parse_header(b"\0\0\0\x10uuid0123456789abcdef").is_err());
    }

    #[test]
    fn children_stop_at_overrun() {
        let buf = b"\0\0\0\x09abcdX\0\0\0\x20efgh";
        let mut it = Children::new(buf);
        let (kind, payload) = it.next().unwrap().unwrap();
        assert_eq!((kind, payload), (FourCc::new(b"abcd"), &b"X"[..]));
        assert!(it.next().unwrap().is_err());
        assert!(it.next().is_none());
    }
}
