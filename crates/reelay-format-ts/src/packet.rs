//! Transport stream packets: ISO/IEC 13818-1 §2.4.3.2 (header), §2.4.3.4 and §2.4.3.5
//! (adaptation field, PCR).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error};

/// Size of every transport stream packet (§2.4.3.2).
pub const PACKET_SIZE: usize = 188;
/// The `sync_byte` opening every packet.
pub const SYNC_BYTE: u8 = 0x47;
/// Bytes after the 4-byte header, shared by the adaptation field and the payload.
pub(crate) const BODY_SIZE: usize = PACKET_SIZE - 4;
/// The PID of the program association table (§2.4.4.3, Table 2-3).
pub const PAT_PID: u16 = 0x0000;
/// The null packet PID (Table 2-3).
pub(crate) const NULL_PID: u16 = 0x1FFF;

/// The fields of a packet header and adaptation field that the demuxer uses.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Packet<'a> {
    pub transport_error: bool,
    pub payload_unit_start: bool,
    pub pid: u16,
    pub scrambling_control: u8,
    pub continuity_counter: u8,
    pub has_payload: bool,
    pub discontinuity: bool,
    pub random_access: bool,
    /// PCR in 27 MHz units.
    pub pcr: Option<u64>,
    pub payload: &'a [u8],
}

/// Parses one 188-byte packet.
pub(crate) fn parse(pkt: &[u8; PACKET_SIZE]) -> Result<Packet<'_>> {
    if pkt[0] != SYNC_BYTE {
        return decode_error("ts: sync_byte");
    }
    let pid = (u16::from(pkt[1] & 0x1F) << 8) | u16::from(pkt[2]);
    let adaptation_field_control = (pkt[3] >> 4) & 0x3;
    let mut out = Packet {
        transport_error: pkt[1] & 0x80 != 0,
        payload_unit_start: pkt[1] & 0x40 != 0,
        pid,
        scrambling_control: pkt[3] >> 6,
        continuity_counter: pkt[3] & 0x0F,
        has_payload: adaptation_field_control & 0x1 != 0,
        discontinuity: false,
        random_access: false,
        pcr: None,
        payload: &[],
    };
    // §2.4.3.3: '00' is reserved and decoders shall discard such packets.
    if adaptation_field_control == 0 {
        return decode_error("ts: adaptation_field_control 00");
    }
    let mut payload_start = 4;
    if adaptation_field_control & 0x2 != 0 {
        let af_len = usize::from(pkt[4]);
        // §2.4.3.5: 0..=182 when a payload follows, 183 when the packet has no payload.
        let max = if out.has_payload { 182 } else { 183 };
        if af_len > max {
            return decode_error("ts: adaptation_field_length");
        }
        if af_len > 0 {
            let flags = pkt[5];
            out.discontinuity = flags & 0x80 != 0;
            out.random_access = flags & 0x40 != 0;
            if flags & 0x10 != 0 {
                if af_len < 7 {
                    return decode_error("ts: adaptation field too short for PCR");
                }
                out.pcr = Some(read_pcr(&pkt[6..12]));
            }
        }
        payload_start = 5 + af_len;
    }
    if out.has_payload {
        out.payload = &pkt[payload_start..];
    }
    Ok(out)
}

/// Reads `program_clock_reference_base` (33 bits, 90 kHz) and `_extension` (9 bits, 27 MHz)
/// into one 27 MHz value (§2.4.3.5, equation 2-1).
fn read_pcr(b: &[u8]) -> u64 {
    let base = (u64::from(b[0]) << 25)
        | (u64::from(b[1]) << 17)
        | (u64::from(b[2]) << 9)
        | (u64::from(b[3]) << 1)
        | (u64::from(b[4]) >> 7);
    let ext = (u64::from(b[4] & 0x01) << 8) | u64::from(b[5]);
    base * 300 + ext
}

fn write_pcr(out: &mut BytesMut, pcr_base: u64) {
    let base = pcr_base & ((1 << 33) - 1);
    // The 6 reserved bits are ones; the extension is zero because timestamps are 90 kHz.
    out.put_u8((base >> 25) as u8);
    out.put_u8((base >> 17) as u8);
    out.put_u8((base >> 9) as u8);
    out.put_u8((base >> 1) as u8);
    out.put_u8((((base & 1) as u8) << 7) | 0x7E);
    out.put_u8(0);
}

/// What the muxer puts into the adaptation field of a packet, besides stuffing.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct AdaptationFlags {
    pub random_access: bool,
    /// PCR base in 90 kHz units.
    pub pcr: Option<u64>,
}

impl AdaptationFlags {
    fn is_empty(&self) -> bool {
        !self.random_access && self.pcr.is_none()
    }

    /// Size of the adaptation field without stuffing, including its length byte.
    fn min_len(&self) -> usize {
        if self.is_empty() {
            0
        } else {
            2 + if self.pcr.is_some() { 6 } else { 0 }
        }
    }
}

/// Writes one packet carrying as much of `payload` as fits and returns how much that was.
/// A short payload is padded with adaptation-field stuffing (§2.4.3.5), never with bytes in
/// the payload, so PES data stays contiguous.
pub(crate) fn write_packet(
    out: &mut BytesMut,
    pid: u16,
    payload_unit_start: bool,
    continuity_counter: u8,
    flags: AdaptationFlags,
    payload: &[u8],
) -> usize {
    let n = write_packet_header(
        out,
        pid,
        payload_unit_start,
        continuity_counter,
        flags,
        payload.len(),
    );
    out.put_slice(&payload[..n]);
    n
}

/// Writes the header and adaptation field of a packet that will carry as much of a payload of
/// `available` bytes as fits, and returns that amount: the caller appends exactly that many
/// payload bytes to complete the 188-byte packet (see [`write_packet`]).
pub(crate) fn write_packet_header(
    out: &mut BytesMut,
    pid: u16,
    payload_unit_start: bool,
    continuity_counter: u8,
    flags: AdaptationFlags,
    available: usize,
) -> usize {
    let n = available.min(BODY_SIZE - flags.min_len());
    let af_total = BODY_SIZE - n;
    let adaptation_field_control: u8 = match (af_total > 0, n > 0) {
        (true, true) => 0b11,
        (true, false) => 0b10,
        _ => 0b01,
    };
    out.reserve(PACKET_SIZE);
    out.put_u8(SYNC_BYTE);
    out.put_u8((u8::from(payload_unit_start) << 6) | ((pid >> 8) as u8 & 0x1F));
    out.put_u8(pid as u8);
    out.put_u8((adaptation_field_control << 4) | (continuity_counter & 0x0F));
    if af_total > 0 {
        // adaptation_field_length counts the bytes after itself.
        out.put_u8((af_total - 1) as u8);
        if af_total > 1 {
            let mut bits = 0u8;
            if flags.random_access {
                bits |= 0x40;
            }
            if flags.pcr.is_some() {
                bits |= 0x10;
            }
            out.put_u8(bits);
            let mut used = 2;
            if let Some(pcr) = flags.pcr {
                write_pcr(out, pcr);
                used += 6;
            }
            out.put_bytes(0xFF, af_total - used);
        }
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(pid: u16, flags: AdaptationFlags, payload: &[u8]) -> (BytesMut, usize) {
        let mut out = BytesMut::new();
        let n = write_packet(&mut out, pid, true, 5, flags, payload);
        assert_eq!(out.len(), PACKET_SIZE);
        (out, n)
    }

    #[test]
    fn every_payload_size_round_trips() {
        for len in 0..=200 {
            for flags in [
                AdaptationFlags::default(),
                AdaptationFlags {
                    random_access: true,
                    pcr: Some(0x1_2345_6789),
                },
            ] {
                let data: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let (out, n) = packet(0x100, flags, &data);
                let pkt: &[u8; PACKET_SIZE] = out[..].try_into().unwrap();
                let parsed = parse(pkt).unwrap();
                assert_eq!(parsed.pid, 0x100);
                assert_eq!(parsed.continuity_counter, 5);
                assert_eq!(parsed.random_access, flags.random_access);
                assert_eq!(parsed.pcr, flags.pcr.map(|b| b * 300));
                assert_eq!(parsed.payload, &data[..n]);
                assert_eq!(parsed.has_payload, n > 0);
                assert_eq!(n, len.min(BODY_SIZE - flags.min_len()));
            }
        }
    }

    #[test]
    fn rejects_bad_headers() {
        let mut pkt = [0xFFu8; PACKET_SIZE];
        assert!(parse(&pkt).is_err());
        pkt[0] = SYNC_BYTE;
        pkt[3] = 0x00; // adaptation_field_control 00
        assert!(parse(&pkt).is_err());
        pkt[3] = 0x30;
        pkt[4] = 183; // too long when a payload follows
        assert!(parse(&pkt).is_err());
        pkt[4] = 1;
        pkt[5] = 0x10; // PCR flag in a one-byte field
        assert!(parse(&pkt).is_err());
    }
}
