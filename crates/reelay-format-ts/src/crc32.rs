//! CRC-32 of PSI sections: ISO/IEC 13818-1 Annex A (polynomial 0x04C11DB7, initial value
//! 0xFFFFFFFF, no reflection, no final XOR), table-driven.

/// One entry per byte value, computed at compile time.
const TABLE: [u32; 256] = build_table();

const fn build_table() -> [u32; 256] {
    let mut table = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = (i as u32) << 24;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04C1_1DB7
            } else {
                crc << 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The MPEG-2 CRC-32 of `data`.
///
/// Over a whole section including its trailing `CRC_32` field the result is zero, which is how
/// decoders check sections (Annex A: "gives a zero output of the registers in the decoder").
pub fn crc32_mpeg2(data: &[u8]) -> u32 {
    data.iter().fold(0xFFFF_FFFF, |crc, &b| {
        (crc << 8) ^ TABLE[usize::from(((crc >> 24) as u8) ^ b)]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn check_value() {
        // The catalogued check value of CRC-32/MPEG-2 over the ASCII digits 1..9.
        assert_eq!(crc32_mpeg2(b"123456789"), 0x0376_E6E7);
    }

    #[test]
    fn section_with_its_crc_sums_to_zero() {
        // A PAT section written by ffmpeg (program 1 on PMT PID 0x1000) with its CRC.
        let pat = [
            0x00, 0xB0, 0x0D, 0x00, 0x01, 0xC1, 0x00, 0x00, 0x00, 0x01, 0xF0, 0x00, 0x2A, 0xB1,
            0x04, 0xB2,
        ];
        assert_eq!(crc32_mpeg2(&pat[..12]), 0x2AB1_04B2);
        assert_eq!(crc32_mpeg2(&pat), 0);
    }
}
