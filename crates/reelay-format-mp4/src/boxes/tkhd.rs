//! `tkhd`: the track header (ISO/IEC 14496-12 §8.3.2).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::reader::Reader;
use crate::writer::{put_matrix, write_full_box};

/// Track id and presentation size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct TrackHeader {
    pub track_id: u32,
    /// Width and height in pixels: the integer part of the 16.16 fixed-point fields.
    pub width: u32,
    pub height: u32,
}

pub(crate) fn parse(payload: &[u8]) -> Result<TrackHeader> {
    let mut r = Reader::new(payload, "tkhd: truncated");
    let (version, _) = r.full_box()?;
    match version {
        0 => r.skip(8)?,
        1 => r.skip(16)?,
        _ => return decode_error("tkhd: unknown version"),
    }
    let track_id = r.u32()?;
    r.skip(4)?; // reserved
    r.skip(if version == 1 { 8 } else { 4 })?; // duration
    // reserved[2], layer, alternate_group, volume, reserved, matrix[9].
    r.skip(8 + 2 + 2 + 2 + 2 + 36)?;
    let width = r.u32()? >> 16;
    let height = r.u32()? >> 16;
    if track_id == 0 {
        return decode_error("tkhd: track_ID 0 is reserved");
    }
    Ok(TrackHeader {
        track_id,
        width,
        height,
    })
}

/// Writes a version-0 `tkhd`, flags enabled | in_movie (§8.3.2.3).
pub(crate) fn write(buf: &mut BytesMut, track_id: u32, audio: bool, width: u32, height: u32) {
    write_full_box(buf, b"tkhd", 0, 0x3, |buf| {
        buf.put_u32(0); // creation_time
        buf.put_u32(0); // modification_time
        buf.put_u32(track_id);
        buf.put_u32(0); // reserved
        buf.put_u32(0); // duration: unknown in a fragmented file
        buf.put_bytes(0, 8); // reserved
        buf.put_u16(0); // layer
        buf.put_u16(0); // alternate_group
        buf.put_u16(if audio { 0x0100 } else { 0 }); // volume
        buf.put_u16(0); // reserved
        put_matrix(buf);
        buf.put_u32(width << 16);
        buf.put_u32(height << 16);
    });
}
