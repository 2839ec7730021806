//! The plain handshake (RTMP 1.0 §5.2): C0/C1 → S0/S1/S2, then C2.

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};
use crate::limits::HANDSHAKE_RANDOM_SIZE;

/// RTMP version byte of C0/S0 (§5.2.2).
pub const RTMP_VERSION: u8 = 3;

/// Size of C1, S1, C2 and S2 (§5.2.3).
pub const HANDSHAKE_SIZE: usize = 1536;

/// Builds S0, S1 and S2 for a received C1.
///
/// S1 carries time 0 (allowed by §5.2.3, "may be 0") and the host-supplied random bytes; S2
/// echoes C1's time and random field with our read time, also 0 (§5.2.4). Clients that use the
/// digest handshake of Flash Player 9 accept a plain S1 whose version field (bytes 4..8) is
/// zero, which is why those bytes stay zero.
pub(crate) fn server_response(
    c0: u8,
    c1: &[u8],
    random: &[u8; HANDSHAKE_RANDOM_SIZE],
    out: &mut BytesMut,
) -> Result<()> {
    // §5.2.2: values 32 and above would be mistaken for text protocols; 0..=31 are answered
    // with version 3. Version 6 (RTMPE) is rejected: encryption is not supported.
    if c0 >= 32 || c0 == 6 {
        return decode_error("handshake: C0 version");
    }
    if c1.len() != HANDSHAKE_SIZE {
        return decode_error("handshake: C1 size");
    }
    out.reserve(1 + 2 * HANDSHAKE_SIZE);
    out.put_u8(RTMP_VERSION);
    out.put_u32(0);
    out.put_u32(0);
    out.put_slice(random);
    out.put_slice(&c1[0..4]);
    out.put_u32(0);
    out.put_slice(&c1[8..]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn s0_s1_s2_layout() {
        let mut c1 = vec![0u8; HANDSHAKE_SIZE];
        c1[..4].copy_from_slice(&[0, 0, 0x12, 0x34]);
        c1[4..8].copy_from_slice(&[9, 0, 124, 2]);
        for (i, b) in c1[8..].iter_mut().enumerate() {
            *b = i as u8;
        }
        let random = [0xA5; HANDSHAKE_RANDOM_SIZE];
        let mut out = BytesMut::new();
        server_response(3, &c1, &random, &mut out).unwrap();
        assert_eq!(out.len(), 1 + 2 * HANDSHAKE_SIZE);
        assert_eq!(out[0], 3);
        // S1: time 0, zero field, our random bytes.
        assert_eq!(&out[1..9], &[0; 8]);
        assert_eq!(&out[9..1 + HANDSHAKE_SIZE], &random[..]);
        // S2: C1's time, our read time (0), C1's random echo.
        let s2 = &out[1 + HANDSHAKE_SIZE..];
        assert_eq!(&s2[..4], &[0, 0, 0x12, 0x34]);
        assert_eq!(&s2[4..8], &[0; 4]);
        assert_eq!(&s2[8..], &c1[8..]);
        assert!(server_response(6, &c1, &random, &mut out).is_err());
        assert!(server_response(b'G', &c1, &random, &mut out).is_err());
        assert!(server_response(3, &c1[1..], &random, &mut out).is_err());
    }
}
