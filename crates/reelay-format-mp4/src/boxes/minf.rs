//! Writers for the media information boxes of an init segment: `vmhd`, `smhd`, `dinf` and an
//! `stbl` whose sample tables are empty because the samples live in fragments
//! (ISO/IEC 14496-12 §8.4.5, §8.7.1-§8.7.2, §8.8.1).

use bytes::{BufMut, BytesMut};

use super::stsd;
use crate::codec::Codec;
use crate::writer::{write_box, write_full_box};

/// Writes `minf` for a track with `codec`.
pub(crate) fn write(buf: &mut BytesMut, codec: &Codec, audio: bool) {
    write_box(buf, b"minf", |buf| {
        if audio {
            // §12.2.2: balance 0 (centre), reserved.
            write_full_box(buf, b"smhd", 0, 0, |buf| buf.put_u32(0));
        } else {
            // §12.1.2: flags must be 1; graphicsmode copy, opcolor 0.
            write_full_box(buf, b"vmhd", 0, 1, |buf| buf.put_bytes(0, 8));
        }
        write_box(buf, b"dinf", |buf| {
            write_full_box(buf, b"dref", 0, 0, |buf| {
                buf.put_u32(1); // entry_count
                // Flag 1: the media data is in the same file (§8.7.2.2).
                write_full_box(buf, b"url ", 0, 1, |_| {});
            });
        });
        write_box(buf, b"stbl", |buf| {
            stsd::write(buf, codec);
            for kind in [b"stts", b"stsc", b"stco"] {
                write_full_box(buf, kind, 0, 0, |buf| buf.put_u32(0));
            }
            write_full_box(buf, b"stsz", 0, 0, |buf| {
                buf.put_u32(0); // sample_size
                buf.put_u32(0); // sample_count
            });
        });
    });
}
