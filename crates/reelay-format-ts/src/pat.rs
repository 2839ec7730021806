//! Program association table: ISO/IEC 13818-1 §2.4.4.3 and §2.4.4.4.

use crate::error::{Result, decode_error};
use crate::psi::{Section, write_section};

/// `table_id` of a PAT section (Table 2-31).
pub(crate) const TABLE_ID: u8 = 0x00;

/// One `program_number` → `program_map_PID` entry; program 0 (the network PID) is skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PatEntry {
    pub program_number: u16,
    pub pmt_pid: u16,
}

/// Reads the entries of a checked PAT section.
pub(crate) fn parse(section: &Section<'_>) -> Result<Vec<PatEntry>> {
    if section.table_id != TABLE_ID {
        return decode_error("pat: table_id");
    }
    if !section.body.len().is_multiple_of(4) {
        return decode_error("pat: program loop length");
    }
    Ok(section
        .body
        .chunks_exact(4)
        .map(|entry| PatEntry {
            program_number: u16::from_be_bytes([entry[0], entry[1]]),
            pmt_pid: u16::from_be_bytes([entry[2] & 0x1F, entry[3]]),
        })
        .filter(|entry| entry.program_number != 0)
        .collect())
}

/// Appends a PAT section announcing one program.
pub(crate) fn write(out: &mut Vec<u8>, transport_stream_id: u16, entry: PatEntry) {
    let mut body = [0u8; 4];
    body[..2].copy_from_slice(&entry.program_number.to_be_bytes());
    // Three reserved bits before program_map_PID.
    body[2..].copy_from_slice(&(0xE000 | entry.pmt_pid).to_be_bytes());
    write_section(out, TABLE_ID, transport_stream_id, 0, &body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psi::parse_section;

    #[test]
    fn matches_ffmpeg_pat() {
        let entry = PatEntry {
            program_number: 1,
            pmt_pid: 0x1000,
        };
        let mut out = Vec::new();
        write(&mut out, 1, entry);
        // The section ffmpeg writes for the same program (see crc32 tests).
        assert_eq!(
            out,
            [
                0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
                0x04, 0xB2
            ]
        );
        let section = parse_section(&out).unwrap();
        assert_eq!(parse(&section).unwrap(), vec![entry]);
    }
}
