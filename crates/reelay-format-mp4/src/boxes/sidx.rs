//! `sidx`: the segment index used by DASH on-demand profiles (ISO/IEC 14496-12 §8.16.3).

use bytes::{BufMut, BytesMut};

use crate::writer::write_full_box;

/// Writes a version-1 `sidx` (64-bit earliest_presentation_time and first_offset). The caller
/// has checked every reference against the field widths.
pub(crate) fn write(
    buf: &mut BytesMut,
    reference_id: u32,
    timescale: u32,
    earliest_presentation_time: u64,
    first_offset: u64,
    refs: &[(u32, u32, bool)],
) {
    write_full_box(buf, b"sidx", 1, 0, |buf| {
        buf.put_u32(reference_id);
        buf.put_u32(timescale);
        buf.put_u64(earliest_presentation_time);
        buf.put_u64(first_offset);
        buf.put_u16(0); // reserved
        // The caller bounds the count by u16::MAX.
        buf.put_u16(u16::try_from(refs.len()).unwrap_or(u16::MAX));
        for &(size, duration, starts_with_sap) in refs {
            // reference_type 0: the reference points at media (a moof+mdat), not another sidx.
            buf.put_u32(size & 0x7fff_ffff);
            buf.put_u32(duration);
            // starts_with_SAP, SAP_type 1 (closed GOP IDR) when set, SAP_delta_time 0.
            buf.put_u32(if starts_with_sap { 0x9000_0000 } else { 0 });
        }
    });
}
