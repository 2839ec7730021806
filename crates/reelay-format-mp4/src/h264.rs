//! H.264 parameter sets, sans-IO: the fields of a sequence parameter set that ingest and
//! packaging need (ITU-T H.264 §7.3.2.1.1 and the VUI timing of §E.1.1), and the
//! `AVCDecoderConfigurationRecord` built from an SPS and a PPS found in a byte stream
//! (ISO/IEC 14496-15 §5.3.3.1). The SPS comes from publishers and sources: it is hostile input,
//! so every read is bounds-checked and every count limited before use.

use bytes::Bytes;

/// What a sequence parameter set states (ITU-T H.264 §7.3.2.1.1, §E.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SpsInfo {
    pub profile_idc: u8,
    pub width: u32,
    pub height: u32,
    /// `time_scale / (2 × num_units_in_tick)` when the VUI has timing information.
    pub frame_rate: Option<f64>,
    /// `chroma_format_idc` (1, 4:2:0, when the profile does not carry it).
    pub chroma_format_idc: u32,
    /// `bit_depth_luma_minus8`.
    pub bit_depth_luma_minus8: u32,
    /// `bit_depth_chroma_minus8`.
    pub bit_depth_chroma_minus8: u32,
}

/// Profiles whose SPS carries chroma format and bit depths (§7.3.2.1.1), and whose decoder
/// configuration record carries them too (ISO/IEC 14496-15 §5.3.3.1.2).
pub fn high_profile(idc: u8) -> bool {
    matches!(
        idc,
        100 | 110 | 122 | 244 | 44 | 83 | 86 | 118 | 128 | 138 | 139 | 134 | 135
    )
}

/// The `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3.1) of one SPS and one PPS.
pub fn avc_record(sps: &[u8], pps: &[u8], info: &SpsInfo) -> Option<Bytes> {
    let (sps_len, pps_len) = (
        u16::try_from(sps.len()).ok()?,
        u16::try_from(pps.len()).ok()?,
    );
    let mut r = Vec::with_capacity(sps.len() + pps.len() + 16);
    // configurationVersion, profile, compatibility, level, lengthSizeMinusOne = 3.
    let ptl = sps.get(1..4)?; // profile, compatibility, level
    r.extend_from_slice(&[1, ptl[0], ptl[1], ptl[2], 0xFF, 0xE1]);
    r.extend_from_slice(&sps_len.to_be_bytes());
    r.extend_from_slice(sps);
    r.push(1);
    r.extend_from_slice(&pps_len.to_be_bytes());
    r.extend_from_slice(pps);
    if high_profile(info.profile_idc) {
        // The values are 2 and 3 bits wide once parse_sps accepted them.
        r.push(0xFC | (info.chroma_format_idc & 0x03) as u8);
        r.push(0xF8 | (info.bit_depth_luma_minus8 & 0x07) as u8);
        r.push(0xF8 | (info.bit_depth_chroma_minus8 & 0x07) as u8);
        r.push(0);
    }
    Some(Bytes::from(r))
}

/// Parses the fields of an SPS NAL unit (header included) that ingest needs; `None` when it
/// is truncated or out of range.
pub fn parse_sps(nal: &[u8]) -> Option<SpsInfo> {
    if nal.len() < 4 || nal[0] & 0x1F != 7 {
        return None;
    }
    let rbsp = unescape(&nal[1..]);
    let mut r = Bits::new(&rbsp);
    let profile_idc = u8::try_from(r.bits(8)?).ok()?;
    r.bits(16)?; // constraint flags, level_idc
    r.ue()?; // seq_parameter_set_id
    let mut info = SpsInfo {
        profile_idc,
        chroma_format_idc: 1,
        ..SpsInfo::default()
    };
    let mut separate_planes = false;
    if high_profile(profile_idc) {
        info.chroma_format_idc = r.ue()?;
        if info.chroma_format_idc > 3 {
            return None;
        }
        if info.chroma_format_idc == 3 {
            separate_planes = r.bit()? == 1;
        }
        info.bit_depth_luma_minus8 = r.ue()?;
        info.bit_depth_chroma_minus8 = r.ue()?;
        if info.bit_depth_luma_minus8 > 6 || info.bit_depth_chroma_minus8 > 6 {
            return None;
        }
        r.bit()?; // qpprime_y_zero_transform_bypass_flag
        if r.bit()? == 1 {
            let lists = if info.chroma_format_idc == 3 { 12 } else { 8 };
            for i in 0..lists {
                if r.bit()? == 1 {
                    skip_scaling_list(&mut r, if i < 6 { 16 } else { 64 })?;
                }
            }
        }
    }
    r.ue()?; // log2_max_frame_num_minus4
    match r.ue()? {
        0 => {
            r.ue()?; // log2_max_pic_order_cnt_lsb_minus4
        }
        1 => {
            r.bit()?;
            r.se()?;
            r.se()?;
            let cycle = r.ue()?;
            if cycle > 255 {
                return None;
            }
            for _ in 0..cycle {
                r.se()?;
            }
        }
        _ => {}
    }
    r.ue()?; // max_num_ref_frames
    r.bit()?; // gaps_in_frame_num_value_allowed_flag
    let width_mbs = u64::from(r.ue()?) + 1;
    let height_map_units = u64::from(r.ue()?) + 1;
    let frame_mbs_only = u64::from(r.bit()?);
    if frame_mbs_only == 0 {
        r.bit()?; // mb_adaptive_frame_field_flag
    }
    r.bit()?; // direct_8x8_inference_flag
    let (mut left, mut right, mut top, mut bottom) = (0, 0, 0, 0);
    if r.bit()? == 1 {
        left = u64::from(r.ue()?);
        right = u64::from(r.ue()?);
        top = u64::from(r.ue()?);
        bottom = u64::from(r.ue()?);
    }
    // §7.4.2.1.1: crop units by ChromaArrayType.
    let chroma_array_type = if separate_planes {
        0
    } else {
        info.chroma_format_idc
    };
    let (crop_x, crop_y) = match chroma_array_type {
        0 => (1, 2 - frame_mbs_only),
        1 => (2, 2 * (2 - frame_mbs_only)),
        2 => (2, 2 - frame_mbs_only),
        _ => (1, 2 - frame_mbs_only),
    };
    let width = (width_mbs * 16).checked_sub(crop_x * (left + right))?;
    let height =
        ((2 - frame_mbs_only) * height_map_units * 16).checked_sub(crop_y * (top + bottom))?;
    info.width = u32::try_from(width).ok()?;
    info.height = u32::try_from(height).ok()?;
    info.frame_rate = vui_frame_rate(&mut r);
    Some(info)
}

/// The frame rate from the VUI timing information (§E.1.1), when present.
fn vui_frame_rate(r: &mut Bits) -> Option<f64> {
    if r.bit()? == 0 {
        return None;
    }
    if r.bit()? == 1 && r.bits(8)? == 255 {
        r.bits(32)?; // sar_width, sar_height
    }
    if r.bit()? == 1 {
        r.bit()?; // overscan_appropriate_flag
    }
    if r.bit()? == 1 {
        r.bits(4)?; // video_format, video_full_range_flag
        if r.bit()? == 1 {
            r.bits(24)?; // colour_primaries, transfer_characteristics, matrix_coefficients
        }
    }
    if r.bit()? == 1 {
        r.ue()?;
        r.ue()?;
    }
    if r.bit()? == 0 {
        return None;
    }
    let units = r.bits(32)?;
    let scale = r.bits(32)?;
    (units > 0 && scale > 0).then(|| f64::from(scale) / (2.0 * f64::from(units)))
}

fn skip_scaling_list(r: &mut Bits, size: usize) -> Option<()> {
    let (mut last, mut next) = (8i64, 8i64);
    for _ in 0..size {
        if next != 0 {
            next = (last + i64::from(r.se()?) + 256).rem_euclid(256);
        }
        if next != 0 {
            last = next;
        }
    }
    Some(())
}

/// Removes emulation prevention bytes (`00 00 03` → `00 00`, §7.4.1).
pub fn unescape(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut zeros = 0;
    for &b in data {
        if zeros >= 2 && b == 3 {
            zeros = 0;
            continue;
        }
        zeros = if b == 0 { zeros + 1 } else { 0 };
        out.push(b);
    }
    out
}

/// An MSB-first bit reader with Exp-Golomb codes (§9.1).
struct Bits<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Bits<'a> {
    fn new(data: &'a [u8]) -> Self {
        Bits { data, pos: 0 }
    }

    fn bit(&mut self) -> Option<u32> {
        let byte = *self.data.get(self.pos / 8)?;
        let bit = (byte >> (7 - self.pos % 8)) & 1;
        self.pos += 1;
        Some(u32::from(bit))
    }

    fn bits(&mut self, n: u32) -> Option<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            v = (v << 1) | self.bit()?;
        }
        Some(v)
    }

    fn ue(&mut self) -> Option<u32> {
        let mut zeros = 0;
        while self.bit()? == 0 {
            zeros += 1;
            if zeros > 31 {
                return None;
            }
        }
        let rest = self.bits(zeros)?;
        // zeros ≤ 31, so 2^zeros - 1 + rest ≤ 2^32 - 2.
        Some(((1u64 << zeros) - 1 + u64::from(rest)) as u32)
    }

    fn se(&mut self) -> Option<i32> {
        let k = i64::from(self.ue()?);
        let v = if k % 2 == 1 { (k + 1) / 2 } else { -(k / 2) };
        i32::try_from(v).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // 320x240 High profile SPS, 25 fps, as libx264 writes it (with an emulation prevention
    // byte in its VUI).
    const SPS: &[u8] = &[
        0x67, 0x64, 0x00, 0x0d, 0xac, 0xd9, 0x41, 0x41, 0xfb, 0x01, 0x10, 0x00, 0x00, 0x03, 0x00,
        0x10, 0x00, 0x00, 0x03, 0x03, 0x20, 0xf1, 0x42, 0x99, 0x60,
    ];
    const PPS: &[u8] = &[0x68, 0xeb, 0xe3, 0xcb, 0x22, 0xc0];

    #[test]
    fn size_rate_and_record() {
        let info = parse_sps(SPS).unwrap_or_default();
        assert_eq!((info.profile_idc, info.width, info.height), (100, 320, 240));
        assert_eq!(info.frame_rate, Some(25.0));
        let record = avc_record(SPS, PPS, &info).unwrap_or_default();
        // configurationVersion 1, then profile, compatibility and level from the SPS.
        assert_eq!(&record[..4], &[1, 0x64, 0x00, 0x0d]);
        // High profile: the record ends with the chroma format and bit depth bytes.
        assert_eq!(record.len(), 6 + 2 + SPS.len() + 1 + 2 + PPS.len() + 4);
    }

    #[test]
    fn hostile_parameter_sets_never_panic() {
        assert_eq!(parse_sps(&[]), None);
        assert_eq!(avc_record(&[0x67], PPS, &SpsInfo::default()), None);
        assert_eq!(parse_sps(&[0x68, 0, 0, 0]), None, "a PPS is not an SPS");
        for n in 0..SPS.len() {
            let _ = parse_sps(&SPS[..n]);
        }
        // Deterministic single-byte mutations at every position.
        let mut seed = 0x2545_f491_u32;
        for i in 0..SPS.len() * 16 {
            seed ^= seed << 13;
            seed ^= seed >> 17;
            seed ^= seed << 5;
            let mut m = SPS.to_vec();
            m[i % SPS.len()] = (seed & 0xff) as u8;
            if let Some(info) = parse_sps(&m) {
                let _ = avc_record(&m, PPS, &info);
            }
        }
    }
}
