//! `mdhd`: the media header (ISO/IEC 14496-12 §8.4.2).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::reader::Reader;
use crate::writer::write_full_box;

/// Media timescale, duration and language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MediaHeader {
    pub timescale: u32,
    pub duration: u64,
    /// ISO 639-2/T code, or `None` when the packed field is not three lowercase letters.
    pub language: Option<[u8; 3]>,
}

pub(crate) fn parse(payload: &[u8]) -> Result<MediaHeader> {
    let mut r = Reader::new(payload, "mdhd: truncated");
    let (version, _) = r.full_box()?;
    let (timescale, duration) = match version {
        0 => {
            r.skip(8)?;
            (r.u32()?, u64::from(r.u32()?))
        }
        1 => {
            r.skip(16)?;
            (r.u32()?, r.u64()?)
        }
        _ => return decode_error("mdhd: unknown version"),
    };
    if timescale == 0 {
        return decode_error("mdhd: zero timescale");
    }
    let language = unpack_language(r.u16()?);
    Ok(MediaHeader {
        timescale,
        duration,
        language,
    })
}

/// The language is three 5-bit letters, each stored as `letter - 0x60` (§8.4.2.3).
fn unpack_language(packed: u16) -> Option<[u8; 3]> {
    let letter = |shift: u16| 0x60 + ((packed >> shift) & 0x1f) as u8;
    let code = [letter(10), letter(5), letter(0)];
    code.iter().all(u8::is_ascii_lowercase).then_some(code)
}

fn pack_language(code: [u8; 3]) -> u16 {
    code.iter().fold(0u16, |acc, &c| {
        (acc << 5) | u16::from(c.wrapping_sub(0x60) & 0x1f)
    })
}

/// Writes a version-0 `mdhd` with zero duration; `language` defaults to `und`.
pub(crate) fn write(buf: &mut BytesMut, timescale: u32, language: Option<[u8; 3]>) {
    let language = language
        .filter(|c| c.iter().all(u8::is_ascii_lowercase))
        .unwrap_or(*b"und");
    write_full_box(buf, b"mdhd", 0, 0, |buf| {
        buf.put_u32(0); // creation_time
        buf.put_u32(0); // modification_time
        buf.put_u32(timescale);
        buf.put_u32(0); // duration
        buf.put_u16(pack_language(language));
        buf.put_u16(0); // pre_defined
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn language_round_trip() {
        assert_eq!(pack_language(*b"und"), 0x55c4);
        assert_eq!(unpack_language(0x55c4), Some(*b"und"));
        assert_eq!(unpack_language(pack_language(*b"fra")), Some(*b"fra"));
        assert_eq!(unpack_language(0), None);
    }
}
