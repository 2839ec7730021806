//! `ftyp` and `styp`: file and segment type boxes (ISO/IEC 14496-12 §4.3, §8.16.2).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::fourcc::FourCc;
use crate::reader::Reader;
use crate::writer::write_box;

/// Most compatible brands kept from an `ftyp`; real files list a handful.
const MAX_BRANDS: usize = 64;

/// The content of an `ftyp` box.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileType {
    /// The best-use brand, e.g. `isom` or `mp42`.
    pub major_brand: FourCc,
    /// Version of the major brand.
    pub minor_version: u32,
    /// Brands the file conforms to.
    pub compatible_brands: Vec<FourCc>,
}

impl FileType {
    /// Whether `brand` is the major brand or one of the compatible brands.
    pub fn has_brand(&self, brand: FourCc) -> bool {
        self.major_brand == brand || self.compatible_brands.contains(&brand)
    }
}

pub(crate) fn parse(payload: &[u8]) -> Result<FileType> {
    let mut r = Reader::new(payload, "ftyp: truncated");
    let major_brand = r.fourcc()?;
    let minor_version = r.u32()?;
    if !r.remaining().is_multiple_of(4) {
        return decode_error("ftyp: brand list not a multiple of four bytes");
    }
    let mut compatible_brands = Vec::new();
    while r.remaining() >= 4 && compatible_brands.len() < MAX_BRANDS {
        compatible_brands.push(r.fourcc()?);
    }
    Ok(FileType {
        major_brand,
        minor_version,
        compatible_brands,
    })
}

/// Writes an `ftyp` (or, with `kind = b"styp"`, a segment type box of the same layout).
pub(crate) fn write(buf: &mut BytesMut, kind: &[u8; 4], ft: &FileType) {
    write_box(buf, kind, |buf| {
        buf.put_slice(ft.major_brand.as_bytes());
        buf.put_u32(ft.minor_version);
        for brand in &ft.compatible_brands {
            buf.put_slice(brand.as_bytes());
        }
    });
}
