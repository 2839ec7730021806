//! `mvhd`: the movie header (ISO/IEC 14496-12 §8.2.2).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::reader::Reader;
use crate::writer::{put_matrix, write_full_box};

/// Movie-wide timescale and duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct MovieHeader {
    pub timescale: u32,
    pub duration: u64,
}

pub(crate) fn parse(payload: &[u8]) -> Result<MovieHeader> {
    let mut r = Reader::new(payload, "mvhd: truncated");
    let (version, _) = r.full_box()?;
    let (timescale, duration) = match version {
        // creation_time and modification_time precede the timescale in both versions.
        0 => {
            r.skip(8)?;
            (r.u32()?, u64::from(r.u32()?))
        }
        1 => {
            r.skip(16)?;
            (r.u32()?, r.u64()?)
        }
        _ => return decode_error("mvhd: unknown version"),
    };
    if timescale == 0 {
        return decode_error("mvhd: zero timescale");
    }
    Ok(MovieHeader {
        timescale,
        duration,
    })
}

/// Writes a version-0 `mvhd` with zero times and duration, as a fragmented file's header has
/// no duration of its own (§8.8.1).
pub(crate) fn write(buf: &mut BytesMut, timescale: u32, next_track_id: u32) {
    write_full_box(buf, b"mvhd", 0, 0, |buf| {
        buf.put_u32(0); // creation_time
        buf.put_u32(0); // modification_time
        buf.put_u32(timescale);
        buf.put_u32(0); // duration
        buf.put_u32(0x0001_0000); // rate 1.0
        buf.put_u16(0x0100); // volume 1.0
        buf.put_bytes(0, 10); // reserved
        put_matrix(buf);
        buf.put_bytes(0, 24); // pre_defined
        buf.put_u32(next_track_id);
    });
}
