//! Packetized elementary stream headers: ISO/IEC 13818-1 §2.4.3.6 and §2.4.3.7.

use bytes::BufMut;

use crate::error::{Error, Result, decode_error};

/// `stream_id` of the first video stream (Table 2-22, `1110 xxxx`).
pub(crate) const STREAM_ID_VIDEO: u8 = 0xE0;
/// `stream_id` of the first audio stream (`110x xxxx`).
pub(crate) const STREAM_ID_AUDIO: u8 = 0xC0;
/// `private_stream_1`, which HLS timed metadata uses for ID3 PES packets.
pub(crate) const STREAM_ID_PRIVATE_1: u8 = 0xBD;

/// The longest header [`write_header`] writes: 9 fixed bytes, then PTS and DTS (§2.4.3.7).
pub(crate) const MAX_HEADER_LEN: usize = 19;

/// Timestamps are 33-bit counters of a 90 kHz clock (§2.4.3.7).
pub(crate) const TIMESTAMP_MASK: u64 = (1 << 33) - 1;

/// The fields of a PES header the demuxer uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PesHeader {
    pub stream_id: u8,
    /// `PES_packet_length`; 0 means unbounded (video only, §2.4.3.7).
    pub packet_length: u16,
    pub scrambling_control: u8,
    pub pts: Option<u64>,
    pub dts: Option<u64>,
    /// Offset of the first payload byte from the start of the PES packet.
    pub payload_offset: usize,
}

/// Whether `stream_id` is one of those whose PES packets have no optional header: the payload
/// follows `PES_packet_length` directly (§2.4.3.6, the `if` around the optional fields).
fn has_no_optional_header(stream_id: u8) -> bool {
    matches!(
        stream_id,
        0xBC | 0xBE | 0xBF | 0xF0 | 0xF1 | 0xF2 | 0xF8 | 0xFF
    )
}

/// Parses the header at the start of a complete PES packet.
pub(crate) fn parse_header(data: &[u8]) -> Result<PesHeader> {
    if data.len() < 6 {
        return decode_error("pes: header too short");
    }
    if data[..3] != [0, 0, 1] {
        return decode_error("pes: packet_start_code_prefix");
    }
    let stream_id = data[3];
    let packet_length = u16::from_be_bytes([data[4], data[5]]);
    let mut header = PesHeader {
        stream_id,
        packet_length,
        scrambling_control: 0,
        pts: None,
        dts: None,
        payload_offset: 6,
    };
    if has_no_optional_header(stream_id) {
        return Ok(header);
    }
    if data.len() < 9 {
        return decode_error("pes: optional header too short");
    }
    if data[6] & 0xC0 != 0x80 {
        return decode_error("pes: '10' marker");
    }
    header.scrambling_control = (data[6] >> 4) & 0x3;
    let header_data_length = usize::from(data[8]);
    header.payload_offset = 9 + header_data_length;
    let Some(fields) = data.get(9..header.payload_offset) else {
        return decode_error("pes: PES_header_data_length");
    };
    match data[7] >> 6 {
        0b00 => {}
        0b10 => header.pts = Some(read_timestamp(fields.get(..5))?),
        0b11 => {
            header.pts = Some(read_timestamp(fields.get(..5))?);
            header.dts = Some(read_timestamp(fields.get(5..10))?);
        }
        _ => return decode_error("pes: PTS_DTS_flags '01' is forbidden"),
    }
    Ok(header)
}

/// Reads a 33-bit timestamp spread over 5 bytes with marker bits (§2.4.3.7). Marker bits are
/// not checked: encoders in the field get them wrong and the value is still meaningful.
fn read_timestamp(b: Option<&[u8]>) -> Result<u64> {
    let Some(b) = b else {
        return decode_error("pes: timestamp overruns PES_header_data_length");
    };
    Ok((u64::from(b[0] >> 1) & 0x7) << 30
        | u64::from(b[1]) << 22
        | u64::from(b[2] >> 1) << 15
        | u64::from(b[3]) << 7
        | u64::from(b[4] >> 1))
}

fn write_timestamp(out: &mut impl BufMut, prefix: u8, ts: u64) {
    let ts = ts & TIMESTAMP_MASK;
    out.put_u8((prefix << 4) | (((ts >> 30) as u8 & 0x7) << 1) | 1);
    out.put_u8((ts >> 22) as u8);
    out.put_u8((((ts >> 15) as u8) << 1) | 1);
    out.put_u8((ts >> 7) as u8);
    out.put_u8(((ts as u8) << 1) | 1);
}

/// Appends a PES header for `payload_len` payload bytes. A DTS equal to the PTS is omitted, as
/// §2.4.3.7 requires. `unbounded_allowed` permits `PES_packet_length` 0 when the packet is too
/// long for 16 bits, which §2.4.3.7 only allows for video in transport streams.
pub(crate) fn write_header(
    out: &mut impl BufMut,
    stream_id: u8,
    pts: u64,
    dts: u64,
    payload_len: usize,
    unbounded_allowed: bool,
) -> Result<()> {
    let with_dts = (dts & TIMESTAMP_MASK) != (pts & TIMESTAMP_MASK);
    let header_data_length: u8 = if with_dts { 10 } else { 5 };
    // PES_packet_length counts the bytes after itself.
    let packet_length = 3 + usize::from(header_data_length) + payload_len;
    let packet_length = match u16::try_from(packet_length) {
        Ok(len) => len,
        Err(_) if unbounded_allowed => 0,
        Err(_) => return Err(Error::Limit("pes: PES_packet_length")),
    };
    out.put_slice(&[0, 0, 1, stream_id]);
    out.put_u16(packet_length);
    // '10', not scrambled, not priority, data_alignment_indicator 1: every PES starts with an
    // access unit (Apple HLS requires one access unit per video PES).
    out.put_u8(0x84);
    out.put_u8(if with_dts { 0xC0 } else { 0x80 });
    out.put_u8(header_data_length);
    if with_dts {
        write_timestamp(out, 0b0011, pts);
        write_timestamp(out, 0b0001, dts);
    } else {
        write_timestamp(out, 0b0010, pts);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn write_then_parse() {
        for (pts, dts) in [
            (0, 0),
            (133_200, 126_000),
            (TIMESTAMP_MASK, 1),
            (1 << 40, 1 << 40),
        ] {
            let mut out = BytesMut::new();
            write_header(&mut out, STREAM_ID_VIDEO, pts, dts, 100, true).unwrap();
            let header = parse_header(&out).unwrap();
            assert_eq!(header.stream_id, STREAM_ID_VIDEO);
            assert_eq!(header.pts, Some(pts & TIMESTAMP_MASK));
            let want_dts =
                (dts & TIMESTAMP_MASK != pts & TIMESTAMP_MASK).then_some(dts & TIMESTAMP_MASK);
            assert_eq!(header.dts, want_dts);
            assert_eq!(header.payload_offset, out.len());
            assert_eq!(usize::from(header.packet_length), out.len() - 6 + 100);
        }
    }

    #[test]
    fn long_packets() {
        let mut out = BytesMut::new();
        write_header(&mut out, STREAM_ID_VIDEO, 1, 1, 70_000, true).unwrap();
        assert_eq!(parse_header(&out).unwrap().packet_length, 0);
        assert_eq!(
            write_header(&mut out, STREAM_ID_AUDIO, 1, 1, 70_000, false),
            Err(Error::Limit("pes: PES_packet_length"))
        );
    }

    #[test]
    fn rejects_malformed() {
        assert!(parse_header(&[0, 0, 1, 0xE0, 0, 0, 0x80, 0x80]).is_err());
        assert!(parse_header(&[0, 0, 2, 0xE0, 0, 0, 0x80, 0x80, 0]).is_err());
        // PTS flag set but PES_header_data_length too short for it.
        assert!(parse_header(&[0, 0, 1, 0xE0, 0, 0, 0x80, 0x80, 2, 0x21, 0]).is_err());
        assert!(parse_header(&[0, 0, 1, 0xE0, 0, 0, 0x80, 0x40, 0]).is_err());
        // Padding streams have no optional header.
        assert_eq!(
            parse_header(&[0, 0, 1, 0xBE, 0, 0]).unwrap().payload_offset,
            6
        );
    }
}
