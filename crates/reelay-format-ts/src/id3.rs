//! ID3v2.4 tags for HLS timed metadata (id3.org "ID3 tag version 2.4.0 - Main Structure" §3.1,
//! §4; "Native Frames" §4.2.6 `TXXX`), as IVS `PutMetadata` inserts them.

use crate::error::{Error, Result};

/// The largest value a 28-bit synchsafe integer holds (Main Structure §6.2).
const MAX_SYNCHSAFE: usize = (1 << 28) - 1;

fn synchsafe(value: usize) -> [u8; 4] {
    [
        (value >> 21) as u8 & 0x7F,
        (value >> 14) as u8 & 0x7F,
        (value >> 7) as u8 & 0x7F,
        value as u8 & 0x7F,
    ]
}

/// A complete ID3v2.4 tag with one `TXXX` (user-defined text) frame, UTF-8 encoded, ready to
/// be given to the muxer as a [`crate::Sample::metadata`].
pub fn id3_txxx_tag(description: &str, value: &str) -> Result<Vec<u8>> {
    // Encoding byte, description, its terminator, then the value.
    let frame_len = 1 + description.len() + 1 + value.len();
    let tag_len = 10 + frame_len;
    if tag_len > MAX_SYNCHSAFE {
        return Err(Error::Limit("id3: tag size"));
    }
    let mut tag = Vec::with_capacity(10 + tag_len);
    // Header: "ID3", version 4.0, no flags, synchsafe size of everything after the header.
    tag.extend_from_slice(b"ID3\x04\x00\x00");
    tag.extend_from_slice(&synchsafe(tag_len));
    tag.extend_from_slice(b"TXXX");
    tag.extend_from_slice(&synchsafe(frame_len));
    tag.extend_from_slice(&[0, 0]);
    // Text encoding 3 is UTF-8 (Main Structure §4).
    tag.push(3);
    tag.extend_from_slice(description.as_bytes());
    tag.push(0);
    tag.extend_from_slice(value.as_bytes());
    Ok(tag)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn txxx_layout() {
        let tag = id3_txxx_tag("k", "v").unwrap();
        assert_eq!(
            tag,
            [
                b'I', b'D', b'3', 4, 0, 0, 0, 0, 0, 14, b'T', b'X', b'X', b'X', 0, 0, 0, 4, 0, 0,
                3, b'k', 0, b'v'
            ]
        );
        assert_eq!(synchsafe(300), [0, 0, 2, 44]);
    }
}
