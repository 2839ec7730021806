//! Helpers for writing boxes into a `BytesMut` with their size patched in afterwards.

use bytes::{BufMut, BytesMut};

/// Writes a box of type `kind` whose body is produced by `body`, then patches its 32-bit size.
///
/// Callers bound their inputs (see [`crate::limits`]) so that no box other than `mdat`, which is
/// written separately, can reach 4 GiB.
pub(crate) fn write_box(buf: &mut BytesMut, kind: &[u8; 4], body: impl FnOnce(&mut BytesMut)) {
    let start = buf.len();
    buf.put_u32(0);
    buf.put_slice(kind);
    body(buf);
    let size = buf.len() - start;
    // Invariant: every caller bounds its body well under 4 GiB (see the doc comment above).
    let size = u32::try_from(size).expect("box body bounded by the caller's limits");
    buf[start..start + 4].copy_from_slice(&size.to_be_bytes());
}

/// Writes a FullBox (§4.2): a box whose body starts with a version byte and 24 bits of flags.
pub(crate) fn write_full_box(
    buf: &mut BytesMut,
    kind: &[u8; 4],
    version: u8,
    flags: u32,
    body: impl FnOnce(&mut BytesMut),
) {
    write_box(buf, kind, |buf| {
        buf.put_u32((u32::from(version) << 24) | (flags & 0x00ff_ffff));
        body(buf);
    });
}

/// The unity transformation matrix of `mvhd` and `tkhd` (ISO/IEC 14496-12 §8.2.2.3).
pub(crate) const UNITY_MATRIX: [u32; 9] = [0x0001_0000, 0, 0, 0, 0x0001_0000, 0, 0, 0, 0x4000_0000];

pub(crate) fn put_matrix(buf: &mut BytesMut) {
    for v in UNITY_MATRIX {
        buf.put_u32(v);
    }
}
