//! Event message boxes (`emsg`, ISO/IEC 23009-1 §5.10.3.3), version 1, as CMAF carries timed
//! metadata: AOM "Carriage of ID3 Timed Metadata in CMAF" places one `emsg` per ID3 tag before
//! the `moof` of the fragment it belongs to, with an absolute presentation time.

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Result, decode_error, limit_error};
use crate::writer::write_full_box;

/// `scheme_id_uri` of ID3 timed metadata in CMAF (AOM id3-emsg §3).
pub const ID3_SCHEME: &str = "https://aomedia.org/emsg/ID3";

/// Largest `message_data` written: far above the ID3 tags of timed metadata (IVS caps the
/// payload at 1 KiB), small enough that a box never approaches 4 GiB.
pub const MAX_EMSG_MESSAGE: usize = 1024 * 1024;

/// One event message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventMessage<'a> {
    /// Ticks per second of `presentation_time` and `event_duration`.
    pub timescale: u32,
    /// Media presentation time of the event, in `timescale` units.
    pub presentation_time: u64,
    /// Duration in `timescale` units; `0xFFFF_FFFF` means unknown.
    pub event_duration: u32,
    /// Identifies the instance of the event within the scheme.
    pub id: u32,
    /// The scheme, for example [`ID3_SCHEME`]; no NUL byte.
    pub scheme_id_uri: &'a str,
    /// Scheme-specific value (empty for ID3); no NUL byte.
    pub value: &'a str,
    /// The message, for ID3 a complete ID3v2 tag.
    pub message_data: &'a [u8],
}

/// Serializes an `emsg` box, version 1 (§5.10.3.3.3: timescale, 64-bit presentation time,
/// duration, id, then the two NUL-terminated strings and the message).
pub fn emsg(message: &EventMessage<'_>) -> Result<Bytes> {
    if message.scheme_id_uri.contains('\0') || message.value.contains('\0') {
        return decode_error("emsg: NUL inside scheme_id_uri or value");
    }
    if message.timescale == 0 {
        return decode_error("emsg: timescale 0");
    }
    if message.message_data.len() > MAX_EMSG_MESSAGE
        || message.scheme_id_uri.len() > MAX_EMSG_MESSAGE
        || message.value.len() > MAX_EMSG_MESSAGE
    {
        return limit_error("emsg: message larger than MAX_EMSG_MESSAGE");
    }
    let mut buf = BytesMut::with_capacity(
        34 + message.scheme_id_uri.len() + message.value.len() + message.message_data.len(),
    );
    write_full_box(&mut buf, b"emsg", 1, 0, |buf| {
        buf.put_u32(message.timescale);
        buf.put_u64(message.presentation_time);
        buf.put_u32(message.event_duration);
        buf.put_u32(message.id);
        buf.put_slice(message.scheme_id_uri.as_bytes());
        buf.put_u8(0);
        buf.put_slice(message.value.as_bytes());
        buf.put_u8(0);
        buf.put_slice(message.message_data);
    });
    Ok(buf.freeze())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_1_layout() {
        let b = emsg(&EventMessage {
            timescale: 90_000,
            presentation_time: 0x1_0000_0002,
            event_duration: 0xFFFF_FFFF,
            id: 7,
            scheme_id_uri: "s",
            value: "",
            message_data: b"ID3",
        })
        .unwrap();
        let mut want = vec![0, 0, 0, 38];
        want.extend_from_slice(b"emsg");
        want.extend_from_slice(&[1, 0, 0, 0]);
        want.extend_from_slice(&90_000u32.to_be_bytes());
        want.extend_from_slice(&0x1_0000_0002u64.to_be_bytes());
        want.extend_from_slice(&[0xFF; 4]);
        want.extend_from_slice(&7u32.to_be_bytes());
        want.extend_from_slice(b"s\0\0ID3");
        assert_eq!(&b[..], &want[..]);
    }

    #[test]
    fn refuses_what_cannot_be_written() {
        let base = EventMessage {
            timescale: 1000,
            presentation_time: 0,
            event_duration: 0,
            id: 0,
            scheme_id_uri: ID3_SCHEME,
            value: "",
            message_data: &[],
        };
        assert!(emsg(&base).is_ok());
        assert!(
            emsg(&EventMessage {
                value: "a\0b",
                ..base.clone()
            })
            .is_err()
        );
        assert!(
            emsg(&EventMessage {
                timescale: 0,
                ..base.clone()
            })
            .is_err()
        );
        let big = vec![0u8; MAX_EMSG_MESSAGE + 1];
        assert!(
            emsg(&EventMessage {
                message_data: &big,
                ..base
            })
            .is_err()
        );
    }
}
