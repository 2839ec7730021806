//! AAC configuration and the ADTS transport syntax: ISO/IEC 14496-3 §1.6.2.1
//! (AudioSpecificConfig) and §1.A.2.2 (adts_frame, adts_fixed_header, adts_variable_header).

use bytes::BufMut;

use crate::error::{Error, Result, decode_error};
use crate::limits::MAX_ADTS_FRAME;

/// Sampling frequencies by `samplingFrequencyIndex` (ISO/IEC 14496-3 §1.6.3.4, Table 1.18).
const SAMPLE_RATES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Size of an ADTS header without CRC.
pub(crate) const HEADER_LEN: usize = 7;

/// AAC decoder configuration in the form ADTS can carry it: an audio object type of 1 to 4,
/// a sampling frequency index and a channel configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct AacConfig {
    /// `audioObjectType` (2 is AAC LC). ADTS `profile_ObjectType` is this minus one.
    pub object_type: u8,
    /// `samplingFrequencyIndex` (Table 1.18); 3 is 48 kHz, 4 is 44.1 kHz.
    pub sampling_frequency_index: u8,
    /// `channelConfiguration` (Table 1.19); 0 means a program_config_element defines channels.
    pub channel_configuration: u8,
}

impl AacConfig {
    /// Builds a configuration, checking that ADTS can express it.
    pub fn new(
        object_type: u8,
        sampling_frequency_index: u8,
        channel_configuration: u8,
    ) -> Result<Self> {
        if !(1..=4).contains(&object_type) {
            return Err(Error::Unsupported(
                "aac: ADTS carries object types 1 to 4 only",
            ));
        }
        if usize::from(sampling_frequency_index) >= SAMPLE_RATES.len() {
            return Err(Error::Unsupported("aac: samplingFrequencyIndex"));
        }
        if channel_configuration > 7 {
            return Err(Error::Unsupported("aac: channelConfiguration"));
        }
        Ok(Self {
            object_type,
            sampling_frequency_index,
            channel_configuration,
        })
    }

    /// Reads an `AudioSpecificConfig` (§1.6.2.1), as found in an MP4 `esds` box.
    ///
    /// HE-AAC with explicit SBR/PS signalling (object types 5 and 29) maps to its AAC core,
    /// which is how ADTS signals it implicitly. A configuration that relies on a
    /// program_config_element (channel configuration 0) is refused, because the muxer would have
    /// to place that element in the first raw data block.
    pub fn from_audio_specific_config(asc: &[u8]) -> Result<Self> {
        let mut bits = BitReader::new(asc);
        let mut object_type = read_object_type(&mut bits)?;
        let sampling_frequency_index = bits.read(4)? as u8;
        if sampling_frequency_index == 0xF {
            return Err(Error::Unsupported("aac: explicit samplingFrequency"));
        }
        let channel_configuration = bits.read(4)? as u8;
        if object_type == 5 || object_type == 29 {
            // extensionSamplingFrequencyIndex, then the core's audioObjectType.
            if bits.read(4)? == 0xF {
                bits.read(24)?;
            }
            object_type = read_object_type(&mut bits)?;
        }
        if channel_configuration == 0 {
            return Err(Error::Unsupported("aac: channelConfiguration 0 (PCE)"));
        }
        Self::new(object_type, sampling_frequency_index, channel_configuration)
    }

    /// The two-byte `AudioSpecificConfig` of this configuration.
    pub fn audio_specific_config(&self) -> [u8; 2] {
        let v = (u16::from(self.object_type) << 11)
            | (u16::from(self.sampling_frequency_index) << 7)
            | (u16::from(self.channel_configuration) << 3);
        v.to_be_bytes()
    }

    /// The sampling rate in Hz.
    pub fn sample_rate(&self) -> u32 {
        // `new` and `parse_header` only admit indices within the table.
        SAMPLE_RATES
            .get(usize::from(self.sampling_frequency_index))
            .copied()
            .unwrap_or(48000)
    }

    /// Samples per raw data block, which ADTS frames always carry one of here.
    pub fn samples_per_frame(&self) -> u32 {
        1024
    }
}

fn read_object_type(bits: &mut BitReader<'_>) -> Result<u8> {
    let object_type = bits.read(5)? as u8;
    if object_type == 31 {
        Ok(32 + bits.read(6)? as u8)
    } else {
        Ok(object_type)
    }
}

/// A minimal MSB-first bit reader for `AudioSpecificConfig`.
struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> BitReader<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { data, pos: 0 }
    }

    fn read(&mut self, n: usize) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let Some(byte) = self.data.get(self.pos / 8) else {
                return decode_error("aac: AudioSpecificConfig truncated");
            };
            v = (v << 1) | u32::from((byte >> (7 - self.pos % 8)) & 1);
            self.pos += 1;
        }
        Ok(v)
    }
}

/// The fields of an ADTS header that framing needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AdtsHeader {
    pub config: AacConfig,
    /// `aac_frame_length`: header, optional CRC and raw data.
    pub frame_length: usize,
    /// 7, or 9 when a CRC follows the header.
    pub header_length: usize,
    pub raw_data_blocks: u8,
}

/// Parses the ADTS header at the start of `data`; `Ok(None)` if fewer than 7 bytes are present.
pub(crate) fn parse_header(data: &[u8]) -> Result<Option<AdtsHeader>> {
    let Some(h) = data.get(..HEADER_LEN) else {
        return Ok(None);
    };
    // syncword 0xFFF, then layer '00' (§1.A.3.2.1).
    if h[0] != 0xFF || h[1] & 0xF6 != 0xF0 {
        return decode_error("adts: syncword");
    }
    let protection_absent = h[1] & 0x01 != 0;
    let object_type = (h[2] >> 6) + 1;
    let sampling_frequency_index = (h[2] >> 2) & 0x0F;
    if usize::from(sampling_frequency_index) >= SAMPLE_RATES.len() {
        return decode_error("adts: sampling_frequency_index");
    }
    let channel_configuration = ((h[2] & 0x01) << 2) | (h[3] >> 6);
    let frame_length =
        (usize::from(h[3] & 0x03) << 11) | (usize::from(h[4]) << 3) | usize::from(h[5] >> 5);
    let header_length = if protection_absent { 7 } else { 9 };
    if frame_length <= header_length {
        return decode_error("adts: aac_frame_length");
    }
    Ok(Some(AdtsHeader {
        config: AacConfig {
            object_type,
            sampling_frequency_index,
            channel_configuration,
        },
        frame_length,
        header_length,
        raw_data_blocks: h[6] & 0x03,
    }))
}

/// Appends an ADTS header (MPEG-4, no CRC, one raw data block) for a raw frame of
/// `payload_len` bytes.
pub(crate) fn write_header(
    out: &mut impl BufMut,
    config: &AacConfig,
    payload_len: usize,
) -> Result<()> {
    let frame_length = HEADER_LEN + payload_len;
    if frame_length > MAX_ADTS_FRAME {
        return Err(Error::Limit("adts: aac_frame_length"));
    }
    let profile = (config.object_type - 1) & 0x3;
    let chan = config.channel_configuration & 0x7;
    out.put_u8(0xFF);
    // syncword low bits, ID 0 (MPEG-4), layer 00, protection_absent 1.
    out.put_u8(0xF1);
    out.put_u8((profile << 6) | ((config.sampling_frequency_index & 0xF) << 2) | (chan >> 2));
    out.put_u8(((chan & 0x3) << 6) | ((frame_length >> 11) as u8 & 0x3));
    out.put_u8((frame_length >> 3) as u8);
    // adts_buffer_fullness 0x7FF signals a variable bit rate stream.
    out.put_u8((((frame_length & 0x7) as u8) << 5) | 0x1F);
    out.put_u8(0xFC);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::BytesMut;

    #[test]
    fn audio_specific_config() {
        // AAC LC, 48 kHz, stereo.
        let lc = AacConfig::from_audio_specific_config(&[0x11, 0x90]).unwrap();
        assert_eq!(lc, AacConfig::new(2, 3, 2).unwrap());
        assert_eq!(lc.audio_specific_config(), [0x11, 0x90]);
        assert_eq!(lc.sample_rate(), 48000);
        // HE-AAC v1 with explicit SBR: 24 kHz core, 48 kHz output, stereo, core AAC LC.
        let he = AacConfig::from_audio_specific_config(&[0x2B, 0x11, 0x88]).unwrap();
        assert_eq!(he, AacConfig::new(2, 6, 2).unwrap());
        assert!(AacConfig::from_audio_specific_config(&[0x12]).is_err());
        // Explicit frequency, PCE channel layout and AAC-ELD (39) are refused.
        assert!(AacConfig::from_audio_specific_config(&[0x17, 0x80, 0, 0, 0x10]).is_err());
        assert!(AacConfig::from_audio_specific_config(&[0x11, 0x80]).is_err());
        assert!(AacConfig::from_audio_specific_config(&[0xF8, 0xE6, 0x20]).is_err());
    }

    #[test]
    fn header_round_trip() {
        for (config, len) in [
            (AacConfig::new(2, 3, 2).unwrap(), 300),
            (AacConfig::new(1, 12, 7).unwrap(), 8184),
            (AacConfig::new(4, 0, 1).unwrap(), 1),
        ] {
            let mut out = BytesMut::new();
            write_header(&mut out, &config, len).unwrap();
            let header = parse_header(&out).unwrap().unwrap();
            assert_eq!(header.config, config);
            assert_eq!(header.frame_length, HEADER_LEN + len);
            assert_eq!(header.header_length, HEADER_LEN);
            assert_eq!(header.raw_data_blocks, 0);
        }
        let mut out = BytesMut::new();
        assert!(write_header(&mut out, &AacConfig::new(2, 3, 2).unwrap(), 8185).is_err());
        assert_eq!(parse_header(&[0xFF, 0xF1]), Ok(None));
        assert!(parse_header(&[0xFF, 0xF1, 0x50, 0x80, 0x00, 0x1F, 0xFC]).is_err());
        assert!(parse_header(&[0xFF, 0xE1, 0x50, 0x80, 0x20, 0x1F, 0xFC]).is_err());
    }
}
