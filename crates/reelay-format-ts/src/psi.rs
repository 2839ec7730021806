//! Program-specific information sections: the long section syntax shared by PAT and PMT
//! (ISO/IEC 13818-1 §2.4.4) and their reassembly from packet payloads (§2.4.4.1, §2.4.4.2).

use crate::crc32::crc32_mpeg2;
use crate::error::{Result, decode_error};
use crate::limits::MAX_SECTION_SIZE;

/// Largest `section_length` of a PAT or PMT: its first two bits shall be '00' and it shall not
/// exceed 0x3FD (§2.4.4.3, §2.4.4.8).
const MAX_SECTION_LENGTH: usize = 0x3FD;

/// A section with the long syntax whose length and CRC were checked.
#[derive(Debug)]
pub(crate) struct Section<'a> {
    pub table_id: u8,
    pub table_id_extension: u16,
    pub version: u8,
    pub current_next: bool,
    pub section_number: u8,
    /// Bytes between `last_section_number` and `CRC_32`.
    pub body: &'a [u8],
}

/// Parses a complete section: `data` is exactly `3 + section_length` bytes.
pub(crate) fn parse_section(data: &[u8]) -> Result<Section<'_>> {
    // 8 header bytes and 4 CRC bytes.
    if data.len() < 12 {
        return decode_error("psi: section too short");
    }
    let section_length = (usize::from(data[1] & 0x0F) << 8) | usize::from(data[2]);
    if section_length + 3 != data.len() {
        return decode_error("psi: section_length");
    }
    if data[1] & 0x80 == 0 {
        return decode_error("psi: section_syntax_indicator");
    }
    if crc32_mpeg2(data) != 0 {
        return decode_error("psi: CRC_32");
    }
    Ok(Section {
        table_id: data[0],
        table_id_extension: u16::from_be_bytes([data[3], data[4]]),
        version: (data[5] >> 1) & 0x1F,
        current_next: data[5] & 0x01 != 0,
        section_number: data[6],
        body: &data[8..data.len() - 4],
    })
}

/// Appends a single section (`section_number` and `last_section_number` 0) with its CRC.
pub(crate) fn write_section(
    out: &mut Vec<u8>,
    table_id: u8,
    table_id_extension: u16,
    version: u8,
    body: &[u8],
) {
    let start = out.len();
    // 5 bytes after section_length up to last_section_number, the body, and the CRC.
    let section_length = 5 + body.len() + 4;
    debug_assert!(section_length <= MAX_SECTION_LENGTH);
    // section_syntax_indicator 1, '0', two reserved bits set.
    out.push(table_id);
    out.push(0xB0 | ((section_length >> 8) as u8 & 0x0F));
    out.push(section_length as u8);
    out.extend_from_slice(&table_id_extension.to_be_bytes());
    // Two reserved bits, version_number, current_next_indicator 1.
    out.push(0xC1 | ((version & 0x1F) << 1));
    out.push(0); // section_number
    out.push(0); // last_section_number
    out.extend_from_slice(body);
    let crc = crc32_mpeg2(&out[start..]);
    out.extend_from_slice(&crc.to_be_bytes());
}

/// Reassembles sections of one PID from packet payloads.
#[derive(Debug, Default)]
pub(crate) struct SectionAssembler {
    buf: Vec<u8>,
    /// Whether `buf` holds the start of a section whose end is still to come.
    active: bool,
}

impl SectionAssembler {
    pub fn reset(&mut self) {
        self.buf.clear();
        self.active = false;
    }

    /// Feeds one packet payload and appends every completed section to `sections`.
    pub fn push(
        &mut self,
        payload_unit_start: bool,
        payload: &[u8],
        sections: &mut Vec<Vec<u8>>,
    ) -> Result<()> {
        if payload_unit_start {
            // §2.4.4.2: pointer_field gives the number of bytes before the first new section;
            // those bytes end the section in progress.
            let Some((&pointer, rest)) = payload.split_first() else {
                self.reset();
                return decode_error("psi: missing pointer_field");
            };
            let pointer = usize::from(pointer);
            if pointer > rest.len() {
                self.reset();
                return decode_error("psi: pointer_field");
            }
            let mut res = Ok(());
            if self.active {
                self.buf.extend_from_slice(&rest[..pointer]);
                res = self.drain(sections);
            }
            self.buf.clear();
            self.buf.extend_from_slice(&rest[pointer..]);
            self.active = true;
            let next = self.drain(sections);
            res.and(next)
        } else if self.active {
            self.buf.extend_from_slice(payload);
            self.drain(sections)
        } else {
            Ok(())
        }
    }

    fn drain(&mut self, sections: &mut Vec<Vec<u8>>) -> Result<()> {
        loop {
            match self.buf.first() {
                // §2.4.4.1: after the last section of a packet, the rest is 0xFF stuffing, and a
                // new section may only start in a packet with payload_unit_start_indicator set.
                None | Some(0xFF) => {
                    self.reset();
                    return Ok(());
                }
                Some(_) => {}
            }
            if self.buf.len() < 3 {
                return Ok(());
            }
            let section_length = (usize::from(self.buf[1] & 0x0F) << 8) | usize::from(self.buf[2]);
            let total = 3 + section_length;
            if section_length > MAX_SECTION_LENGTH || total > MAX_SECTION_SIZE {
                self.reset();
                return decode_error("psi: section_length");
            }
            if self.buf.len() < total {
                return Ok(());
            }
            sections.push(self.buf[..total].to_vec());
            self.buf.drain(..total);
        }
    }
}

/// Iterates over `(descriptor_tag, descriptor body)` pairs (§2.6.1), stopping at the first
/// descriptor that overruns the loop.
pub(crate) fn descriptors(mut data: &[u8]) -> impl Iterator<Item = (u8, &[u8])> {
    std::iter::from_fn(move || {
        let (&tag, rest) = data.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = usize::from(len);
        if len > rest.len() {
            data = &[];
            return None;
        }
        let (body, rest) = rest.split_at(len);
        data = rest;
        Some((tag, body))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse() {
        let mut out = Vec::new();
        write_section(&mut out, 0x02, 7, 3, &[1, 2, 3]);
        let section = parse_section(&out).unwrap();
        assert_eq!(section.table_id, 0x02);
        assert_eq!(section.table_id_extension, 7);
        assert_eq!(section.version, 3);
        assert!(section.current_next);
        assert_eq!(section.section_number, 0);
        assert_eq!(section.body, &[1, 2, 3]);
        out[9] ^= 1;
        assert_eq!(
            parse_section(&out).unwrap_err(),
            crate::Error::Decode("psi: CRC_32")
        );
    }

    #[test]
    fn reassembles_across_packets_and_packed_sections() {
        let mut a = Vec::new();
        write_section(&mut a, 0x02, 1, 0, &[0x55; 300]);
        let mut b = Vec::new();
        write_section(&mut b, 0x02, 2, 0, &[0x66; 10]);
        let mut stream = a.clone();
        stream.extend_from_slice(&b);
        let mut asm = SectionAssembler::default();
        let mut sections = Vec::new();
        // First packet: pointer 0 then 183 bytes; the rest follows without a pointer_field.
        let mut first = vec![0u8];
        first.extend_from_slice(&stream[..183]);
        asm.push(true, &first, &mut sections).unwrap();
        assert!(sections.is_empty());
        asm.push(false, &stream[183..], &mut sections).unwrap();
        assert_eq!(sections, vec![a.clone(), b.clone()]);

        // A section ending in a packet that also starts a new one, found via pointer_field.
        sections.clear();
        let mut p1 = vec![0u8];
        p1.extend_from_slice(&a[..100]);
        asm.push(true, &p1, &mut sections).unwrap();
        let mut p2 = vec![(a.len() - 100) as u8];
        p2.extend_from_slice(&a[100..]);
        p2.extend_from_slice(&b);
        p2.extend_from_slice(&[0xFF; 8]);
        asm.push(true, &p2, &mut sections).unwrap();
        assert_eq!(sections, vec![a, b]);
    }

    #[test]
    fn rejects_bad_pointer_and_length() {
        let mut asm = SectionAssembler::default();
        let mut sections = Vec::new();
        assert!(asm.push(true, &[5, 1, 2], &mut sections).is_err());
        assert!(asm.push(true, &[], &mut sections).is_err());
        assert!(
            asm.push(true, &[0, 0x02, 0xBF, 0xFF], &mut sections)
                .is_err()
        );
        assert!(sections.is_empty());
    }
}
