//! `moof` and its children: `mfhd`, `traf`, `tfhd`, `tfdt`, `trun` (ISO/IEC 14496-12 §8.8.4-
//! §8.8.12), as written by the muxer.

use bytes::{BufMut, BytesMut};

use crate::writer::{write_box, write_full_box};

/// tfhd flag default-base-is-moof (§8.8.7.1): data offsets are relative to the `moof` start,
/// as CMAF requires (ISO/IEC 23000-19 §7.5.16).
pub(crate) const TFHD_DEFAULT_BASE_IS_MOOF: u32 = 0x02_0000;

/// trun flags (§8.8.8.1): data-offset, then per-sample duration, size, flags and composition
/// time offset.
pub(crate) const TRUN_DATA_OFFSET: u32 = 0x000001;
pub(crate) const TRUN_SAMPLE_DURATION: u32 = 0x000100;
pub(crate) const TRUN_SAMPLE_SIZE: u32 = 0x000200;
pub(crate) const TRUN_SAMPLE_FLAGS: u32 = 0x000400;
pub(crate) const TRUN_SAMPLE_CTS: u32 = 0x000800;

/// One sample's row in a `trun`.
pub(crate) struct TrunRow {
    pub duration: u32,
    pub size: u32,
    pub flags: u32,
    pub cts_offset: i32,
}

pub(crate) fn write_mfhd(buf: &mut BytesMut, sequence_number: u32) {
    write_full_box(buf, b"mfhd", 0, 0, |buf| buf.put_u32(sequence_number));
}

/// Writes a `traf` and returns the position in `buf` of its `trun` data_offset field, to be
/// patched once the `moof` size is known.
pub(crate) fn write_traf(
    buf: &mut BytesMut,
    track_id: u32,
    base_media_decode_time: u64,
    rows: impl ExactSizeIterator<Item = TrunRow>,
) -> usize {
    let mut data_offset_pos = 0;
    write_box(buf, b"traf", |buf| {
        write_full_box(buf, b"tfhd", 0, TFHD_DEFAULT_BASE_IS_MOOF, |buf| {
            buf.put_u32(track_id);
        });
        // Version 1: a 64-bit baseMediaDecodeTime (§8.8.12), so long streams never wrap.
        write_full_box(buf, b"tfdt", 1, 0, |buf| {
            buf.put_u64(base_media_decode_time)
        });
        // Version 1: signed composition offsets (§8.8.8.2), so B-frame reordering needs no edit
        // list (ISO/IEC 23000-19 §7.5.17).
        let flags = TRUN_DATA_OFFSET
            | TRUN_SAMPLE_DURATION
            | TRUN_SAMPLE_SIZE
            | TRUN_SAMPLE_FLAGS
            | TRUN_SAMPLE_CTS;
        write_full_box(buf, b"trun", 1, flags, |buf| {
            // The caller bounds the row count by MAX_FRAGMENT_SAMPLES.
            buf.put_u32(u32::try_from(rows.len()).unwrap_or(u32::MAX));
            data_offset_pos = buf.len();
            buf.put_i32(0);
            for row in rows {
                buf.put_u32(row.duration);
                buf.put_u32(row.size);
                buf.put_u32(row.flags);
                buf.put_i32(row.cts_offset);
            }
        });
    });
    data_offset_pos
}
