//! Program map table: ISO/IEC 13818-1 §2.4.4.8 and §2.4.4.9.

use crate::error::{Result, decode_error};
use crate::psi::{Section, descriptors, write_section};
use crate::stream_type::StreamType;

/// `table_id` of a PMT section (Table 2-31).
pub(crate) const TABLE_ID: u8 = 0x02;

/// `private_data_indicator_descriptor` tag (§2.6.29), which Apple's SAMPLE-AES format uses to
/// flag encrypted streams.
const PRIVATE_DATA_INDICATOR_TAG: u8 = 0x0F;
/// `private_data_indicator` values of Apple's SAMPLE-AES format for H.264, AAC, AC-3 and
/// Enhanced AC-3.
const SAMPLE_AES_INDICATORS: [&[u8; 4]; 4] = [b"zavc", b"aacd", b"zac3", b"zec3"];

/// A program as described by its PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Program {
    /// `program_number` from the PAT and PMT.
    pub program_number: u16,
    /// PID carrying the PMT.
    pub pmt_pid: u16,
    /// PID whose adaptation fields carry the program clock reference.
    pub pcr_pid: u16,
    /// `version_number` of the PMT.
    pub version: u8,
    /// The elementary streams, in PMT order.
    pub streams: Vec<StreamInfo>,
}

/// One elementary stream of a PMT.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct StreamInfo {
    /// `elementary_PID`.
    pub pid: u16,
    /// `stream_type`.
    pub stream_type: StreamType,
    /// Whether the PMT says the stream is encrypted: a SAMPLE-AES `stream_type` or a SAMPLE-AES
    /// `private_data_indicator_descriptor`.
    pub encrypted: bool,
}

/// Reads a checked PMT section; the caller fills in `pmt_pid`.
pub(crate) fn parse(section: &Section<'_>, pmt_pid: u16) -> Result<Program> {
    if section.table_id != TABLE_ID {
        return decode_error("pmt: table_id");
    }
    let body = section.body;
    if body.len() < 4 {
        return decode_error("pmt: too short");
    }
    let pcr_pid = u16::from_be_bytes([body[0] & 0x1F, body[1]]);
    let program_info_length = usize::from(u16::from_be_bytes([body[2] & 0x0F, body[3]]));
    let Some(mut rest) = body.get(4 + program_info_length..) else {
        return decode_error("pmt: program_info_length");
    };
    let mut streams = Vec::new();
    while !rest.is_empty() {
        if rest.len() < 5 {
            return decode_error("pmt: elementary stream entry");
        }
        let stream_type = StreamType::from_u8(rest[0]);
        let pid = u16::from_be_bytes([rest[1] & 0x1F, rest[2]]);
        let es_info_length = usize::from(u16::from_be_bytes([rest[3] & 0x0F, rest[4]]));
        let Some(es_info) = rest.get(5..5 + es_info_length) else {
            return decode_error("pmt: ES_info_length");
        };
        let flagged = descriptors(es_info).any(|(tag, data)| {
            tag == PRIVATE_DATA_INDICATOR_TAG && SAMPLE_AES_INDICATORS.iter().any(|i| data == *i)
        });
        streams.push(StreamInfo {
            pid,
            stream_type,
            encrypted: stream_type.is_sample_aes() || flagged,
        });
        rest = &rest[5 + es_info_length..];
    }
    Ok(Program {
        program_number: section.table_id_extension,
        pmt_pid,
        pcr_pid,
        version: section.version,
        streams,
    })
}

/// An elementary stream entry for [`write`].
pub(crate) struct EsEntry<'a> {
    pub stream_type: StreamType,
    pub pid: u16,
    pub descriptors: &'a [u8],
}

/// Appends a PMT section with `version_number` 0.
#[cfg(test)]
pub(crate) fn write(
    out: &mut Vec<u8>,
    program_number: u16,
    pcr_pid: u16,
    program_info: &[u8],
    streams: &[EsEntry<'_>],
) {
    write_version(out, program_number, pcr_pid, program_info, streams, 0);
}

/// Appends a PMT section with the given `version_number` (five bits, §2.4.4.9: incremented
/// whenever the definition of the program changes).
pub(crate) fn write_version(
    out: &mut Vec<u8>,
    program_number: u16,
    pcr_pid: u16,
    program_info: &[u8],
    streams: &[EsEntry<'_>],
    version: u8,
) {
    let mut body = Vec::with_capacity(4 + program_info.len() + streams.len() * 5);
    // Reserved bits are set to one before PCR_PID and the 12-bit lengths.
    body.extend_from_slice(&(0xE000 | pcr_pid).to_be_bytes());
    body.extend_from_slice(&(0xF000 | program_info.len() as u16).to_be_bytes());
    body.extend_from_slice(program_info);
    for es in streams {
        body.push(es.stream_type.to_u8());
        body.extend_from_slice(&(0xE000 | es.pid).to_be_bytes());
        body.extend_from_slice(&(0xF000 | es.descriptors.len() as u16).to_be_bytes());
        body.extend_from_slice(es.descriptors);
    }
    write_section(out, TABLE_ID, program_number, version & 0x1F, &body);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::psi::parse_section;

    #[test]
    fn write_then_parse() {
        let mut out = Vec::new();
        let indicator = [PRIVATE_DATA_INDICATOR_TAG, 4, b'z', b'a', b'v', b'c'];
        write(
            &mut out,
            1,
            0x100,
            &[],
            &[
                EsEntry {
                    stream_type: StreamType::H264,
                    pid: 0x100,
                    descriptors: &[],
                },
                EsEntry {
                    stream_type: StreamType::AacAdts,
                    pid: 0x101,
                    descriptors: &[0x0A, 4, b'e', b'n', b'g', 0],
                },
                EsEntry {
                    stream_type: StreamType::Other(0x1B),
                    pid: 0x102,
                    descriptors: &indicator,
                },
            ],
        );
        let program = parse(&parse_section(&out).unwrap(), 0x1000).unwrap();
        assert_eq!(program.program_number, 1);
        assert_eq!(program.pcr_pid, 0x100);
        assert_eq!(program.pmt_pid, 0x1000);
        let summary: Vec<_> = program
            .streams
            .iter()
            .map(|s| (s.pid, s.stream_type, s.encrypted))
            .collect();
        assert_eq!(
            summary,
            [
                (0x100, StreamType::H264, false),
                (0x101, StreamType::AacAdts, false),
                (0x102, StreamType::H264, true),
            ]
        );
    }

    #[test]
    fn rejects_overrunning_lengths() {
        for body in [
            &[0xE1, 0x00, 0xF0, 0x09][..],
            &[0xE1, 0x00, 0xF0, 0x00, 0x1B, 0xE1, 0x00, 0xF0, 0x02],
        ] {
            let mut out = Vec::new();
            write_section(&mut out, TABLE_ID, 1, 0, body);
            assert!(parse(&parse_section(&out).unwrap(), 0x1000).is_err());
        }
    }
}
