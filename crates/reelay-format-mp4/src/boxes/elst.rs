//! `elst`: the edit list (ISO/IEC 14496-12 §8.6.6).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::reader::Reader;
use crate::writer::{write_box, write_full_box};

/// The part of a track's edit list that matters for packaging: where presentation starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EditList {
    /// Total duration of leading empty edits (`media_time == -1`), in the movie timescale: the
    /// presentation of the track is delayed by this much.
    pub empty_duration: u64,
    /// Media time (in the track's timescale) at which presentation starts: the `media_time` of
    /// the first non-empty edit. Samples before it (encoder delay, B-frame reordering) are not
    /// presented.
    pub media_time: i64,
    /// Duration of that first non-empty edit in the movie timescale (0 means "the rest").
    pub segment_duration: u64,
    /// Number of entries in the list; more than one non-empty edit is not applied by reelay.
    pub entry_count: u32,
}

pub(crate) fn parse(payload: &[u8]) -> Result<Option<EditList>> {
    let mut r = Reader::new(payload, "elst: truncated");
    let (version, _) = r.full_box()?;
    let entry_count = r.u32()?;
    let entry_len: usize = match version {
        0 => 12,
        1 => 20,
        _ => return decode_error("elst: unknown version"),
    };
    // Check the declared count against the bytes present before walking it.
    if (entry_count as usize).saturating_mul(entry_len) > r.remaining() {
        return decode_error("elst: entry_count exceeds the box");
    }
    let mut empty_duration = 0u64;
    for _ in 0..entry_count {
        let (segment_duration, media_time) = if version == 1 {
            (r.u64()?, r.i64()?)
        } else {
            (u64::from(r.u32()?), i64::from(r.i32()?))
        };
        r.skip(4)?; // media_rate_integer, media_rate_fraction
        if media_time == -1 {
            empty_duration = empty_duration
                .checked_add(segment_duration)
                .ok_or(crate::Error::Decode("elst: empty edit duration overflows"))?;
            continue;
        }
        if media_time < 0 {
            return decode_error("elst: negative media_time");
        }
        return Ok(Some(EditList {
            empty_duration,
            media_time,
            segment_duration,
            entry_count,
        }));
    }
    Ok(None)
}

/// Writes `edts` with one edit that starts presentation at `media_time` and lasts for the whole
/// fragmented track: a segment_duration of 0 stands for "the sum of all fragments"
/// (ISO/IEC 14496-12 §8.6.6.1; ISO/IEC 23000-19 §7.5.13).
pub(crate) fn write(buf: &mut BytesMut, media_time: u32) {
    write_box(buf, b"edts", |buf| {
        write_full_box(buf, b"elst", 0, 0, |buf| {
            buf.put_u32(1); // entry_count
            buf.put_u32(0); // segment_duration
            buf.put_u32(media_time);
            buf.put_u16(1); // media_rate_integer
            buf.put_u16(0); // media_rate_fraction
        });
    });
}
