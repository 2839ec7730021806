//! RFC 6381 `CODECS` parameter values (§3.3) from decoder configuration records, as
//! `EXT-X-STREAM-INF:CODECS` needs them (RFC 8216 §4.3.4.2).

use std::fmt::Write as _;

use crate::error::{Error, Result};

fn sample_entry(entry: &[u8; 4]) -> Result<&str> {
    match std::str::from_utf8(entry) {
        Ok(s) if entry.iter().all(u8::is_ascii_alphanumeric) => Ok(s),
        _ => Err(Error::Codec(
            "sample entry type is not four alphanumeric characters",
        )),
    }
}

/// `avc1.PPCCLL` (RFC 6381 §3.3, ISO/IEC 14496-15 §5.4.1): the sample entry type, then the
/// profile_idc, constraint flags and level_idc bytes of the `avcC` record (its payload,
/// ISO/IEC 14496-15 §5.3.3.1) in hexadecimal. `entry` is `avc1` or `avc3`.
pub fn avc(entry: &[u8; 4], avcc: &[u8]) -> Result<String> {
    let entry = sample_entry(entry)?;
    match avcc {
        // configurationVersion is 1; the next three bytes mirror the SPS.
        [1, profile, compat, level, ..] => {
            Ok(format!("{entry}.{profile:02x}{compat:02x}{level:02x}"))
        }
        [_, _, _, _, ..] => Err(Error::Codec("avcC: configurationVersion is not 1")),
        _ => Err(Error::Codec("avcC: shorter than 4 bytes")),
    }
}

/// `hvc1.<profile>.<compat>.<tier><level>[.<constraints>]` (ISO/IEC 14496-15 Annex E.3) from
/// an `hvcC` record (its payload, §8.3.3.1.2). `entry` is `hvc1` or `hev1`.
///
/// The profile is general_profile_idc prefixed by A, B or C for a non-zero
/// general_profile_space; the compatibility flags are written bit-reversed in hexadecimal
/// without leading zeros; the tier is L or H before general_level_idc in decimal; the six
/// constraint bytes follow in hexadecimal, trailing zero bytes omitted.
pub fn hevc(entry: &[u8; 4], hvcc: &[u8]) -> Result<String> {
    let entry = sample_entry(entry)?;
    let Some(header) = hvcc.get(..13) else {
        return Err(Error::Codec("hvcC: shorter than 13 bytes"));
    };
    if header[0] != 1 {
        return Err(Error::Codec("hvcC: configurationVersion is not 1"));
    }
    let profile_space = header[1] >> 6;
    let tier_flag = (header[1] >> 5) & 1;
    let profile_idc = header[1] & 0x1f;
    let compat = u32::from_be_bytes([header[2], header[3], header[4], header[5]]);
    let constraints = &header[6..12];
    let level_idc = header[12];
    let space = ["", "A", "B", "C"][usize::from(profile_space)];
    let tier = if tier_flag == 1 { 'H' } else { 'L' };
    let mut out = format!(
        "{entry}.{space}{profile_idc}.{:X}.{tier}{level_idc}",
        compat.reverse_bits()
    );
    let used = constraints
        .iter()
        .rposition(|&b| b != 0)
        .map_or(0, |i| i + 1);
    for b in &constraints[..used] {
        // Writing to a String cannot fail.
        let _ = write!(out, ".{b:02X}");
    }
    Ok(out)
}

/// `mp4a.40.<audioObjectType>` (RFC 6381 §3.3: object type indication 0x40 is MPEG-4 Audio,
/// followed by the decimal audioObjectType of the AudioSpecificConfig, ISO/IEC 14496-3
/// §1.6.2.1), e.g. `mp4a.40.2` for AAC LC, `mp4a.40.5` for HE-AAC.
pub fn aac(audio_specific_config: &[u8]) -> Result<String> {
    let Some(&first) = audio_specific_config.first() else {
        return Err(Error::Codec("AudioSpecificConfig: empty"));
    };
    let mut object_type = first >> 3;
    if object_type == 31 {
        // audioObjectTypeExt: six more bits, the type is 32 plus their value.
        let Some(&second) = audio_specific_config.get(1) else {
            return Err(Error::Codec(
                "AudioSpecificConfig: truncated audioObjectTypeExt",
            ));
        };
        object_type = 32 + (((first & 0x07) << 3) | (second >> 5));
    }
    if object_type == 0 {
        return Err(Error::Codec(
            "AudioSpecificConfig: audioObjectType 0 is null",
        ));
    }
    Ok(format!("mp4a.40.{object_type}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn avc_strings() {
        // High profile, level 3.1, as x264 writes it.
        assert_eq!(
            avc(b"avc1", &[1, 0x64, 0x00, 0x1f, 0xff, 0xe1]).unwrap(),
            "avc1.64001f"
        );
        assert_eq!(avc(b"avc3", &[1, 0x42, 0xc0, 0x1e]).unwrap(), "avc3.42c01e");
        assert!(avc(b"avc1", &[1, 0x64, 0x00]).is_err());
        assert!(avc(b"avc1", &[0, 0x64, 0x00, 0x1f]).is_err());
        assert!(avc(b"av\n1", &[1, 0x64, 0x00, 0x1f]).is_err());
    }

    #[test]
    fn hevc_strings() {
        // Main profile, Main tier, level 3.1 (93), progressive_source_flag and
        // frame_only_constraint_flag set (0xB0): Annex E's own example "hev1.1.6.L93.B0".
        let mut hvcc = vec![1, 0x01, 0x60, 0, 0, 0, 0xb0, 0, 0, 0, 0, 0, 93, 0xf0];
        assert_eq!(hevc(b"hev1", &hvcc).unwrap(), "hev1.1.6.L93.B0");
        // Main 10, High tier, level 4 (120), profile space 1, two constraint bytes.
        hvcc[1] = 0x40 | 0x20 | 0x02;
        hvcc[2..6].copy_from_slice(&[0x20, 0, 0, 0]);
        hvcc[7] = 0x88;
        hvcc[12] = 120;
        assert_eq!(hevc(b"hvc1", &hvcc).unwrap(), "hvc1.A2.4.H120.B0.88");
        hvcc[6] = 0;
        hvcc[7] = 0;
        assert_eq!(hevc(b"hvc1", &hvcc).unwrap(), "hvc1.A2.4.H120");
        assert!(hevc(b"hvc1", &hvcc[..12]).is_err());
        hvcc[0] = 0;
        assert!(hevc(b"hvc1", &hvcc).is_err());
    }

    #[test]
    fn aac_strings() {
        assert_eq!(aac(&[0x11, 0x90]).unwrap(), "mp4a.40.2");
        assert_eq!(aac(&[0x2b, 0x92, 0x08, 0x00]).unwrap(), "mp4a.40.5");
        // audioObjectType 31 escape: 32 + 10 = 42 (USAC).
        assert_eq!(aac(&[0xf9, 0x40]).unwrap(), "mp4a.40.42");
        assert!(aac(&[]).is_err());
        assert!(aac(&[0xf8]).is_err());
        assert!(aac(&[0x00, 0x00]).is_err());
    }
}
