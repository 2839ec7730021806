//! `mvex` / `trex`: movie extends, announcing movie fragments (ISO/IEC 14496-12 §8.8.1, §8.8.3).

use bytes::{BufMut, BytesMut};

use crate::writer::{write_box, write_full_box};

/// Writes `mvex` with one `trex` per track. The defaults are all zero because every `trun`
/// written by [`crate::media_segment`] carries explicit durations, sizes and flags.
pub(crate) fn write(buf: &mut BytesMut, track_ids: impl Iterator<Item = u32>) {
    write_box(buf, b"mvex", |buf| {
        for track_id in track_ids {
            write_full_box(buf, b"trex", 0, 0, |buf| {
                buf.put_u32(track_id);
                buf.put_u32(1); // default_sample_description_index
                buf.put_u32(0); // default_sample_duration
                buf.put_u32(0); // default_sample_size
                buf.put_u32(0); // default_sample_flags
            });
        }
    });
}
