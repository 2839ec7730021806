//! The H.264 / H.265 byte stream format: ITU-T H.264 | ISO/IEC 14496-10 Annex B (the same
//! syntax is Annex B of H.265), and the length-prefixed form of ISO/IEC 14496-15 §5.3.2.

use crate::error::{Error, Result, decode_error};
use crate::limits::MAX_NAL_UNITS_PER_ACCESS_UNIT;

/// Position of the next `start_code_prefix_one_3bytes` (0x000001) at or after `from`.
fn find_start_code(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i + 3 <= data.len() {
        // If the third byte is above 1, no start code can begin at i, i + 1 or i + 2.
        if data[i + 2] > 1 {
            i += 3;
        } else if data[i] == 0 && data[i + 1] == 0 && data[i + 2] == 1 {
            return Some(i);
        } else {
            i += 1;
        }
    }
    None
}

/// Iterates over the NAL units of an Annex B byte stream, without start codes.
///
/// Bytes before the first start code are skipped (`leading_zero_8bits`), and zero bytes before a
/// start code are dropped (`trailing_zero_8bits`, and the `zero_byte` of 4-byte start codes):
/// B.2 guarantees that a NAL unit never ends with 0x00.
pub fn nal_units(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut next = find_start_code(data, 0);
    std::iter::from_fn(move || {
        loop {
            let start = next? + 3;
            next = find_start_code(data, start);
            let end = next.unwrap_or(data.len());
            let mut nal = &data[start..end];
            while let [rest @ .., 0] = nal {
                nal = rest;
            }
            if !nal.is_empty() {
                return Some(nal);
            }
        }
    })
}

/// Converts an Annex B access unit to NAL units prefixed with 4-byte big-endian lengths, the
/// form MP4 samples use (ISO/IEC 14496-15 §5.3.2, `lengthSizeMinusOne` 3).
pub fn to_length_prefixed(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 16);
    for nal in nal_units(data) {
        // A NAL unit inside a slice is far below 4 GiB; the conversion only fails beyond that.
        let len = u32::try_from(nal.len()).unwrap_or(u32::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(nal);
    }
    out
}

/// Splits a sample of NAL units prefixed with `length_size`-byte lengths (1, 2 or 4).
pub(crate) fn length_prefixed_nal_units(data: &[u8], length_size: usize) -> Result<Vec<&[u8]>> {
    if !matches!(length_size, 1 | 2 | 4) {
        return Err(Error::Unsupported("nal: NAL unit length size"));
    }
    let mut nals = Vec::new();
    let mut rest = data;
    while !rest.is_empty() {
        if nals.len() >= MAX_NAL_UNITS_PER_ACCESS_UNIT {
            return Err(Error::Limit("nal: NAL units per access unit"));
        }
        let Some((len, tail)) = rest.split_at_checked(length_size) else {
            return decode_error("nal: truncated NAL unit length");
        };
        let len = len
            .iter()
            .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
        let Some((nal, tail)) = tail.split_at_checked(len) else {
            return decode_error("nal: NAL unit length overruns the sample");
        };
        if !nal.is_empty() {
            nals.push(nal);
        }
        rest = tail;
    }
    Ok(nals)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn split(data: &[u8]) -> Vec<&[u8]> {
        nal_units(data).collect()
    }

    #[test]
    fn splits_three_and_four_byte_start_codes() {
        let data = [
            0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x67, 0x42, 0, 0, 0, 0, 1, 0x65, 0x88, 0x84, 0,
        ];
        assert_eq!(
            split(&data),
            [&[0x09, 0xF0][..], &[0x67, 0x42], &[0x65, 0x88, 0x84]]
        );
        assert!(split(&[]).is_empty());
        assert!(split(&[1, 2, 3]).is_empty());
        assert!(split(&[0, 0, 1, 0, 0, 1]).is_empty());
        // Leading garbage before the first start code is skipped.
        assert_eq!(split(&[7, 7, 0, 0, 1, 0x41]), [&[0x41][..]]);
        // Emulation prevention (00 00 03) is not a start code.
        assert_eq!(
            split(&[0, 0, 1, 0x41, 0, 0, 3, 1]),
            [&[0x41, 0, 0, 3, 1][..]]
        );
    }

    #[test]
    fn length_prefixed_round_trip() {
        let annexb = [0, 0, 0, 1, 0x09, 0xF0, 0, 0, 1, 0x65, 0x88];
        let lp = to_length_prefixed(&annexb);
        assert_eq!(lp, [0, 0, 0, 2, 0x09, 0xF0, 0, 0, 0, 2, 0x65, 0x88]);
        assert_eq!(
            length_prefixed_nal_units(&lp, 4).unwrap(),
            [&[0x09, 0xF0][..], &[0x65, 0x88]]
        );
        assert_eq!(
            length_prefixed_nal_units(&[1, 0x41, 2, 0x41, 0x42], 1)
                .unwrap()
                .len(),
            2
        );
        assert!(length_prefixed_nal_units(&[0, 0, 0, 9, 1], 4).is_err());
        assert!(length_prefixed_nal_units(&[0, 0, 0], 4).is_err());
        assert!(length_prefixed_nal_units(&[0, 1, 0], 3).is_err());
    }
}
