//! Locating the top-level boxes of a file read by byte range (ISO/IEC 14496-12 §4.2, §6.2).
//!
//! A source sits in an object store; the caller fetches the head of the file, and [`probe`]
//! says where `moov` is or which range to fetch next, so that only box headers and the `moov`
//! are ever read, whether `moov` comes before `mdat` ("faststart") or after it.

use crate::boxes::ftyp::{self, FileType};
use crate::boxes::header::parse_header;
use crate::error::{Result, decode_error, limit_error, unsupported};
use crate::fourcc::FourCc;
use crate::limits;
use crate::movie::FRAGMENTED_SOURCE;

/// Largest `ftyp` accepted; real ones hold a few brands.
const MAX_FTYP_SIZE: u64 = 4096;

/// Bytes to fetch for a box header: room for a 64-bit size and a `uuid` extended type.
const HEADER_FETCH: u64 = 32;

/// A half-open byte range `[start, end)` of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// First byte.
    pub start: u64,
    /// One past the last byte.
    pub end: u64,
}

impl ByteRange {
    /// Number of bytes in the range.
    pub fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range is empty.
    pub fn is_empty(&self) -> bool {
        self.end == self.start
    }

    /// The part of `buf` (which starts at file offset `buf_offset`) covering this range, if
    /// `buf` holds all of it.
    pub fn slice<'a>(&self, buf_offset: u64, buf: &'a [u8]) -> Option<&'a [u8]> {
        let start = usize::try_from(self.start.checked_sub(buf_offset)?).ok()?;
        let end = usize::try_from(self.end.checked_sub(buf_offset)?).ok()?;
        buf.get(start..end)
    }
}

/// A top-level box seen by the probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopLevelBox {
    /// Box type.
    pub kind: FourCc,
    /// File offset of the box header.
    pub offset: u64,
    /// Total size including the header; `None` when the box runs to the end of the file.
    pub size: Option<u64>,
}

/// What the caller should do next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// The `moov` box is at this range: fetch it (unless already held) and pass it to
    /// [`crate::parse_moov`].
    ParseMoov(ByteRange),
    /// Fetch at least `min_len` bytes starting at `offset` (or up to the end of the file) and
    /// pass them to [`Probe::feed`]; pass an empty buffer if `offset` is the end of the file.
    Fetch {
        /// File offset to read from.
        offset: u64,
        /// Minimum number of bytes needed to make progress.
        min_len: u64,
    },
}

/// The top-level layout of a file, as far as it has been scanned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Probe {
    /// The `ftyp` box, if the file has one (QuickTime files may not).
    pub file_type: Option<FileType>,
    /// Every top-level box seen, in file order.
    pub boxes: Vec<TopLevelBox>,
    /// Where `moov` is, once found.
    pub moov: Option<ByteRange>,
    /// The payload ranges (headers excluded) of the `mdat` boxes seen.
    pub mdat: Vec<ByteRange>,
    next_offset: u64,
    min_len: u64,
    at_end: bool,
}

/// Scans `head`, the first bytes of a file (a few KiB is typical), for top-level boxes.
pub fn probe(head: &[u8]) -> Result<Probe> {
    let mut p = Probe {
        min_len: HEADER_FETCH,
        ..Probe::default()
    };
    p.feed(0, head)?;
    Ok(p)
}

impl Probe {
    /// What to fetch or parse next.
    pub fn next(&self) -> Next {
        match self.moov {
            Some(range) => Next::ParseMoov(range),
            None => Next::Fetch {
                offset: self.next_offset,
                min_len: self.min_len,
            },
        }
    }

    /// Continues the scan with `buf`, the bytes of the file starting at `offset`, as asked by
    /// [`Probe::next`]. An empty `buf` at the requested offset means end of file.
    pub fn feed(&mut self, offset: u64, buf: &[u8]) -> Result<()> {
        if self.at_end {
            return Ok(());
        }
        let Some(skip) = self.next_offset.checked_sub(offset) else {
            return decode_error("probe: bytes fed past the requested offset");
        };
        let Some(mut rest) = usize::try_from(skip).ok().and_then(|s| buf.get(s..)) else {
            return decode_error("probe: bytes fed end before the requested offset");
        };
        if rest.is_empty() {
            // End of file.
            self.at_end = true;
            if self.moov.is_none() {
                return decode_error("probe: no moov box in the file");
            }
            return Ok(());
        }
        while let Some(header) = parse_header(rest)? {
            let start = self.next_offset;
            if !header
                .kind
                .as_bytes()
                .iter()
                .all(|b| b.is_ascii_graphic() || *b == b' ')
            {
                return decode_error("probe: not an ISO BMFF file (box type is not printable)");
            }
            if self.boxes.len() >= limits::MAX_TOP_LEVEL_BOXES {
                return limit_error("probe: more than MAX_TOP_LEVEL_BOXES top-level boxes");
            }
            match header.kind.as_bytes() {
                // §8.8.4: movie fragments; styp / sidx only appear in segmented files.
                b"moof" | b"mfra" => return Err(FRAGMENTED_SOURCE),
                b"ftyp" => {
                    let Some(size) = header.size.filter(|&s| s <= MAX_FTYP_SIZE) else {
                        return decode_error("probe: ftyp size");
                    };
                    // Invariant: size <= MAX_FTYP_SIZE fits a usize.
                    let size = size as usize;
                    let Some(body) = rest.get(header.header_len..size) else {
                        // Wait for the whole ftyp.
                        self.min_len = size as u64;
                        return Ok(());
                    };
                    if self.file_type.is_none() {
                        self.file_type = Some(ftyp::parse(body)?);
                    }
                }
                _ => {}
            }
            self.boxes.push(TopLevelBox {
                kind: header.kind,
                offset: start,
                size: header.size,
            });
            let Some(size) = header.size else {
                // The box runs to the end of the file: nothing can follow it.
                self.at_end = true;
                return match header.kind.as_bytes() {
                    b"moov" => unsupported("probe: moov box with size 0"),
                    _ if self.moov.is_none() => decode_error(
                        "probe: no moov box before a box that runs to the end of the file",
                    ),
                    _ => Ok(()),
                };
            };
            let Some(end) = start.checked_add(size) else {
                return decode_error("probe: box end overflows");
            };
            match header.kind.as_bytes() {
                b"moov" => {
                    if self.moov.is_some() {
                        return decode_error("probe: two moov boxes");
                    }
                    if size > limits::MAX_MOOV_SIZE {
                        return limit_error("probe: moov larger than MAX_MOOV_SIZE");
                    }
                    self.moov = Some(ByteRange { start, end });
                }
                b"mdat" => self.mdat.push(ByteRange {
                    start: start + header.header_len as u64,
                    end,
                }),
                _ => {}
            }
            self.next_offset = end;
            self.min_len = HEADER_FETCH;
            match usize::try_from(size).ok().and_then(|s| rest.get(s..)) {
                Some(after) => rest = after,
                None => return Ok(()),
            }
            if rest.is_empty() {
                return Ok(());
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boxed(kind: &[u8; 4], body: &[u8]) -> Vec<u8> {
        let mut out = ((body.len() + 8) as u32).to_be_bytes().to_vec();
        out.extend_from_slice(kind);
        out.extend_from_slice(body);
        out
    }

    fn file(moov_last: bool) -> Vec<u8> {
        let ftyp = boxed(b"ftyp", b"isom\0\0\x02\0isomiso2");
        let mdat = boxed(b"mdat", &[7; 100]);
        let moov = boxed(b"moov", &boxed(b"free", &[]));
        if moov_last {
            [ftyp, mdat, moov].concat()
        } else {
            [ftyp, moov, mdat].concat()
        }
    }

    #[test]
    fn moov_in_head() {
        let f = file(false);
        let p = probe(&f).unwrap();
        assert_eq!(p.next(), Next::ParseMoov(ByteRange { start: 24, end: 40 }));
        assert_eq!(
            p.mdat,
            [ByteRange {
                start: 48,
                end: 148
            }]
        );
        let ft = p.file_type.unwrap();
        assert!(ft.has_brand(FourCc::new(b"iso2")));
        assert_eq!(ft.minor_version, 0x200);
    }

    #[test]
    fn moov_after_mdat_byte_by_byte() {
        let f = file(true);
        // Feed the smallest pieces the probe asks for, one byte more each time it stalls.
        let mut p = probe(&f[..5]).unwrap();
        let mut fetched = 5;
        while let Next::Fetch { offset, .. } = p.next() {
            let offset = offset as usize;
            fetched = fetched.max(offset) + 1;
            assert!(fetched <= f.len());
            p.feed(offset as u64, &f[offset..fetched]).unwrap();
        }
        assert_eq!(
            p.moov,
            Some(ByteRange {
                start: 132,
                end: 148
            })
        );
        assert_eq!(p.boxes.len(), 3);
    }

    #[test]
    fn end_of_file_without_moov() {
        let f = boxed(b"ftyp", b"isom\0\0\0\0");
        let mut p = probe(&f).unwrap();
        assert_eq!(
            p.next(),
            Next::Fetch {
                offset: 16,
                min_len: HEADER_FETCH
            }
        );
        assert_eq!(
            p.feed(16, &[]),
            Err(crate::Error::Decode("probe: no moov box in the file"))
        );
        // An mdat that runs to the end of the file leaves no room for a moov.
        let mut f = boxed(b"ftyp", b"isom\0\0\0\0");
        f.extend_from_slice(b"\0\0\0\0mdat");
        assert!(probe(&f).is_err());
    }

    #[test]
    fn garbage_and_misuse() {
        assert!(
            probe(b"\x47\x40\x11\x10\x00\x42\xf0\x25").is_err(),
            "an MPEG-TS packet"
        );
        let f = file(true);
        let mut p = probe(&f[..30]).unwrap();
        assert_eq!(
            p.next(),
            Next::Fetch {
                offset: 24,
                min_len: HEADER_FETCH
            }
        );
        assert!(
            p.feed(1000, &f[..4]).is_err(),
            "bytes past the requested offset"
        );
        assert!(
            p.feed(0, &f[..10]).is_err(),
            "bytes ending before the requested offset"
        );
        let huge = [b"\0\0\0\x01mdat".as_slice(), &(u64::MAX - 8).to_be_bytes()].concat();
        assert_eq!(
            probe(&[boxed(b"ftyp", b"isom\0\0\0\0"), huge].concat()),
            Err(crate::Error::Decode("probe: box end overflows"))
        );
    }

    #[test]
    fn byte_range_slice() {
        let r = ByteRange { start: 10, end: 14 };
        assert_eq!(r.slice(8, b"0123456789"), Some(&b"2345"[..]));
        assert_eq!(r.slice(12, b"0123456789"), None);
        assert_eq!(r.slice(8, b"01234"), None);
        assert_eq!(r.len(), 4);
    }
}
