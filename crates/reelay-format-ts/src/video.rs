//! H.264 and H.265 specifics: NAL unit types (ISO/IEC 14496-10 §7.4.1, Table 7-1; ITU-T H.265
//! §7.4.2.2, Table 7-1), decoder configuration records (ISO/IEC 14496-15 §5.3.3.1 `avcC`,
//! §8.3.3.1 `hvcC`) and the access units Apple HLS expects in MPEG-TS: an access unit delimiter
//! first and the parameter sets before every random access picture.

#[cfg(test)]
use bytes::{BufMut, BytesMut};

use crate::annexb::{length_prefixed_nal_units, nal_units};
use crate::error::{Error, Result, decode_error};
use crate::limits::{MAX_NAL_UNITS_PER_ACCESS_UNIT, MAX_PARAMETER_SETS};
use crate::stream_type::StreamType;

/// A video codec the muxer can carry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum VideoCodec {
    /// H.264 / AVC, PMT `stream_type` 0x1B.
    H264,
    /// H.265 / HEVC, PMT `stream_type` 0x24.
    H265,
}

/// A NAL unit's role, as far as muxing is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum NalKind {
    AccessUnitDelimiter,
    /// A parameter set; the rank orders VPS before SPS before PPS.
    ParameterSet(u8),
    /// A slice of an IDR (H.264) or IRAP (H.265) picture.
    RandomAccessSlice,
    /// Any other slice.
    Slice,
    Other,
}

impl VideoCodec {
    /// The PMT `stream_type` of this codec.
    pub fn stream_type(self) -> StreamType {
        match self {
            Self::H264 => StreamType::H264,
            Self::H265 => StreamType::H265,
        }
    }

    fn kind(self, nal: &[u8]) -> NalKind {
        let Some(&first) = nal.first() else {
            return NalKind::Other;
        };
        match self {
            // nal_unit_type is the low five bits of the one-byte header.
            Self::H264 => match first & 0x1F {
                9 => NalKind::AccessUnitDelimiter,
                7 => NalKind::ParameterSet(1),
                8 => NalKind::ParameterSet(2),
                5 => NalKind::RandomAccessSlice,
                1..=4 => NalKind::Slice,
                _ => NalKind::Other,
            },
            // nal_unit_type is six bits after forbidden_zero_bit of the two-byte header.
            Self::H265 => match (first >> 1) & 0x3F {
                35 => NalKind::AccessUnitDelimiter,
                32 => NalKind::ParameterSet(0),
                33 => NalKind::ParameterSet(1),
                34 => NalKind::ParameterSet(2),
                16..=23 => NalKind::RandomAccessSlice,
                0..=15 | 24..=31 => NalKind::Slice,
                _ => NalKind::Other,
            },
        }
    }

    /// An access unit delimiter NAL unit that allows every slice type.
    fn access_unit_delimiter(self) -> &'static [u8] {
        match self {
            // nal_unit_type 9; primary_pic_type 7 ("any"), then rbsp_stop_one_bit.
            Self::H264 => &[0x09, 0xF0],
            // nal_unit_type 35, nuh_layer_id 0, nuh_temporal_id_plus1 1; pic_type 2, stop bit.
            Self::H265 => &[0x46, 0x01, 0x50],
        }
    }

    /// Whether an Annex B access unit contains an IDR (H.264) or IRAP (H.265) picture. Only
    /// NAL units up to the first slice are examined: the first slice decides.
    pub(crate) fn is_random_access(self, access_unit: &[u8]) -> bool {
        for nal in nal_units(access_unit) {
            match self.kind(nal) {
                NalKind::RandomAccessSlice => return true,
                NalKind::Slice => return false,
                _ => {}
            }
        }
        false
    }
}

/// Reads the NAL unit length size and the parameter sets of an `avcC` record.
pub(crate) fn parse_avcc(data: &[u8]) -> Result<(usize, Vec<Vec<u8>>)> {
    // configurationVersion 1, profile, compatibility, level, lengthSizeMinusOne.
    if data.len() < 6 || data[0] != 1 {
        return decode_error("avcC: header");
    }
    let length_size = usize::from(data[4] & 0x03) + 1;
    let mut sets = Vec::new();
    let mut rest = &data[5..];
    for count_mask in [0x1F, 0xFF] {
        let Some((&count, tail)) = rest.split_first() else {
            return decode_error("avcC: parameter set count");
        };
        rest = tail;
        for _ in 0..(count & count_mask) {
            let (set, tail) = read_u16_prefixed(rest, "avcC: parameter set length")?;
            push_set(&mut sets, set)?;
            rest = tail;
        }
    }
    Ok((length_size, sets))
}

/// Reads the NAL unit length size and the VPS, SPS and PPS of an `hvcC` record.
pub(crate) fn parse_hvcc(data: &[u8]) -> Result<(usize, Vec<Vec<u8>>)> {
    // 22 bytes of profile, tier, level and format fields precede numOfArrays.
    if data.len() < 23 || data[0] != 1 {
        return decode_error("hvcC: header");
    }
    let length_size = usize::from(data[21] & 0x03) + 1;
    let mut sets = Vec::new();
    let mut rest = &data[23..];
    for _ in 0..data[22] {
        let Some((&nal_type, tail)) = rest.split_first() else {
            return decode_error("hvcC: array header");
        };
        let Some((count, mut tail)) = tail.split_at_checked(2) else {
            return decode_error("hvcC: numNalus");
        };
        for _ in 0..u16::from_be_bytes([count[0], count[1]]) {
            let (nal, next) = read_u16_prefixed(tail, "hvcC: nalUnitLength")?;
            // Declarative SEI arrays may appear too; only parameter sets go before IRAPs.
            if matches!(nal_type & 0x3F, 32..=34) {
                push_set(&mut sets, nal)?;
            }
            tail = next;
        }
        rest = tail;
    }
    Ok((length_size, sets))
}

fn read_u16_prefixed<'a>(data: &'a [u8], what: &'static str) -> Result<(&'a [u8], &'a [u8])> {
    let Some((len, rest)) = data.split_at_checked(2) else {
        return decode_error(what);
    };
    let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
    match rest.split_at_checked(len) {
        Some(pair) => Ok(pair),
        None => decode_error(what),
    }
}

fn push_set(sets: &mut Vec<Vec<u8>>, set: &[u8]) -> Result<()> {
    if sets.len() >= MAX_PARAMETER_SETS {
        return Err(Error::Limit("video: parameter sets"));
    }
    if !set.is_empty() {
        sets.push(set.to_vec());
    }
    Ok(())
}

/// The muxer's per-track video state: how samples arrive and the parameter sets to repeat.
#[derive(Debug)]
pub(crate) struct VideoWriter {
    codec: VideoCodec,
    /// `None` for Annex B samples, otherwise the NAL unit length size of the samples.
    length_size: Option<usize>,
    /// Parameter sets in VPS, SPS, PPS order, from the configuration record or the latest ones
    /// seen in band.
    parameter_sets: Vec<Vec<u8>>,
}

impl VideoWriter {
    pub fn annex_b(codec: VideoCodec) -> Self {
        Self {
            codec,
            length_size: None,
            parameter_sets: Vec::new(),
        }
    }

    pub fn length_prefixed(codec: VideoCodec, record: &[u8]) -> Result<Self> {
        let (length_size, parameter_sets) = match codec {
            VideoCodec::H264 => parse_avcc(record)?,
            VideoCodec::H265 => parse_hvcc(record)?,
        };
        let mut writer = Self {
            codec,
            length_size: Some(length_size),
            parameter_sets: Vec::new(),
        };
        writer.remember(parameter_sets.iter().map(Vec::as_slice))?;
        Ok(writer)
    }

    pub fn codec(&self) -> VideoCodec {
        self.codec
    }

    /// Replaces the remembered parameter sets of each type present in `sets`.
    fn remember<'a>(&mut self, sets: impl Iterator<Item = &'a [u8]> + Clone) -> Result<()> {
        let codec = self.codec;
        let rank = |nal: &[u8]| match codec.kind(nal) {
            NalKind::ParameterSet(rank) => Some(rank),
            _ => None,
        };
        let ranks: Vec<u8> = sets.clone().filter_map(rank).collect();
        if ranks.is_empty() {
            return Ok(());
        }
        let mut kept: Vec<Vec<u8>> = std::mem::take(&mut self.parameter_sets)
            .into_iter()
            .filter(|set| rank(set).is_some_and(|r| !ranks.contains(&r)))
            .collect();
        for set in sets.filter(|set| rank(set).is_some()) {
            push_set(&mut kept, set)?;
        }
        kept.sort_by_key(|set| rank(set));
        self.parameter_sets = kept;
        Ok(())
    }

    /// [`Self::access_unit_parts`] copied into `out` (the tests' straightforward form).
    #[cfg(test)]
    pub fn write_access_unit(
        &mut self,
        sample: &[u8],
        keyframe: bool,
        out: &mut BytesMut,
    ) -> Result<bool> {
        let mut parts = Vec::new();
        let random_access = self.access_unit_parts(sample, keyframe, &mut parts)?;
        for part in parts {
            out.put_slice(part);
        }
        Ok(random_access)
    }

    /// The Annex B form of one access unit as a gather list, in order, borrowed from `sample` and
    /// the remembered parameter sets (so that the muxer copies each byte once, straight into
    /// transport packets): a fresh access unit delimiter, the parameter sets when the picture is
    /// a random access point that lacks them, then the sample's NAL units except its own
    /// delimiters. Returns whether the access unit is a random access point (the caller's flag,
    /// or an IDR / IRAP slice).
    pub fn access_unit_parts<'a>(
        &'a mut self,
        sample: &'a [u8],
        keyframe: bool,
        parts: &mut Vec<&'a [u8]>,
    ) -> Result<bool> {
        /// A 4-byte start code (`zero_byte` + `start_code_prefix_one_3bytes`, Annex B.1.1).
        const START_CODE: &[u8] = &[0, 0, 0, 1];
        let nals: Vec<&[u8]> = match self.length_size {
            Some(size) => length_prefixed_nal_units(sample, size)?,
            None => {
                let nals: Vec<&[u8]> = nal_units(sample)
                    .take(MAX_NAL_UNITS_PER_ACCESS_UNIT + 1)
                    .collect();
                if nals.len() > MAX_NAL_UNITS_PER_ACCESS_UNIT {
                    return Err(Error::Limit("nal: NAL units per access unit"));
                }
                nals
            }
        };
        let kinds: Vec<NalKind> = nals.iter().map(|nal| self.codec.kind(nal)).collect();
        if !kinds
            .iter()
            .any(|k| matches!(k, NalKind::Slice | NalKind::RandomAccessSlice))
        {
            return decode_error("video: access unit without a slice");
        }
        let random_access = keyframe || kinds.contains(&NalKind::RandomAccessSlice);
        let has_sps = kinds.contains(&NalKind::ParameterSet(1));
        self.remember(nals.iter().copied())?;
        let this: &'a Self = self;

        parts.reserve(2 + 2 * (nals.len() + this.parameter_sets.len()));
        parts.push(START_CODE);
        parts.push(this.codec.access_unit_delimiter());
        if random_access && !has_sps {
            for set in &this.parameter_sets {
                parts.push(START_CODE);
                parts.push(set);
            }
        }
        for (nal, kind) in nals.iter().zip(&kinds) {
            if *kind != NalKind::AccessUnitDelimiter {
                parts.push(START_CODE);
                parts.push(nal);
            }
        }
        Ok(random_access)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPS: &[u8] = &[0x67, 0x64, 0x00, 0x0D];
    const PPS: &[u8] = &[0x68, 0xEE, 0x3C, 0x80];
    const IDR: &[u8] = &[0x65, 0x88, 0x84];
    const NON_IDR: &[u8] = &[0x41, 0x9A, 0x02];

    fn avcc() -> Vec<u8> {
        let mut record = vec![1, 0x64, 0, 0x0D, 0xFF, 0xE1, 0, 4];
        record.extend_from_slice(SPS);
        record.extend_from_slice(&[1, 0, 4]);
        record.extend_from_slice(PPS);
        record
    }

    fn annexb(nals: &[&[u8]]) -> Vec<u8> {
        nals.iter()
            .flat_map(|nal| [&[0, 0, 0, 1][..], nal].concat())
            .collect()
    }

    #[test]
    fn length_prefixed_gets_aud_and_parameter_sets_before_idr() {
        let mut writer = VideoWriter::length_prefixed(VideoCodec::H264, &avcc()).unwrap();
        let mut sample = vec![0, 0, 0, 3];
        sample.extend_from_slice(IDR);
        let mut out = BytesMut::new();
        assert!(writer.write_access_unit(&sample, false, &mut out).unwrap());
        assert_eq!(&out[..], annexb(&[&[0x09, 0xF0], SPS, PPS, IDR]));

        let mut sample = vec![0, 0, 0, 3];
        sample.extend_from_slice(NON_IDR);
        out.clear();
        assert!(!writer.write_access_unit(&sample, false, &mut out).unwrap());
        assert_eq!(&out[..], annexb(&[&[0x09, 0xF0], NON_IDR]));
        assert!(
            writer
                .write_access_unit(&[0, 0, 0, 9, 1], false, &mut out)
                .is_err()
        );
    }

    #[test]
    fn annexb_caches_in_band_parameter_sets() {
        let mut writer = VideoWriter::annex_b(VideoCodec::H264);
        let mut out = BytesMut::new();
        let first = annexb(&[&[0x09, 0x10], SPS, PPS, IDR]);
        writer.write_access_unit(&first, true, &mut out).unwrap();
        assert_eq!(&out[..], annexb(&[&[0x09, 0xF0], SPS, PPS, IDR]));
        out.clear();
        writer
            .write_access_unit(&annexb(&[IDR]), false, &mut out)
            .unwrap();
        assert_eq!(&out[..], annexb(&[&[0x09, 0xF0], SPS, PPS, IDR]));
        assert!(
            writer
                .write_access_unit(&annexb(&[SPS]), false, &mut out)
                .is_err()
        );
        assert!(VideoCodec::H264.is_random_access(&annexb(&[&[0x09, 0xF0], SPS, IDR])));
        assert!(!VideoCodec::H264.is_random_access(&annexb(&[NON_IDR, IDR])));
    }

    #[test]
    fn hvcc_parameter_sets_in_order() {
        let vps = [0x40, 0x01, 0x0C];
        let sps = [0x42, 0x01, 0x01];
        let pps = [0x44, 0x01, 0xC1];
        let mut record = vec![1];
        record.extend_from_slice(&[0; 20]);
        record.push(0x0F); // lengthSizeMinusOne 3
        record.push(4);
        // Arrays out of order, plus a declarative SEI array that must not be repeated.
        for (nal_type, nal) in [
            (34u8, &pps),
            (33, &sps),
            (32, &vps),
            (39, &[0x4E, 0x01, 0x05]),
        ] {
            record.extend_from_slice(&[0x80 | nal_type, 0, 1, 0, 3]);
            record.extend_from_slice(nal);
        }
        let (length_size, sets) = parse_hvcc(&record).unwrap();
        assert_eq!(length_size, 4);
        assert_eq!(sets.len(), 3);
        let mut writer = VideoWriter::length_prefixed(VideoCodec::H265, &record).unwrap();
        let idr = [0x26, 0x01, 0xAF];
        let mut out = BytesMut::new();
        let sample = [&[0, 0, 0, 3][..], &idr].concat();
        assert!(writer.write_access_unit(&sample, false, &mut out).unwrap());
        assert_eq!(
            &out[..],
            annexb(&[&[0x46, 0x01, 0x50], &vps, &sps, &pps, &idr])
        );
        assert!(parse_hvcc(&record[..30]).is_err());
    }

    #[test]
    fn rejects_truncated_avcc() {
        let record = avcc();
        for len in 0..record.len() {
            assert!(parse_avcc(&record[..len]).is_err(), "{len}");
        }
    }
}
