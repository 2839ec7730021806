//! Codec descriptions shared by the demuxer (what a source track holds) and the muxer (what an
//! init segment declares).

use bytes::Bytes;

use crate::error::{Result, decode_error};
use crate::fourcc::FourCc;

/// The codec of a track, from its sample entry (ISO/IEC 14496-12 §8.5.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Codec {
    /// H.264 / AVC in an `avc1` or `avc3` sample entry (ISO/IEC 14496-15 §5.4).
    Avc(VideoConfig),
    /// H.265 / HEVC in an `hvc1` or `hev1` sample entry (ISO/IEC 14496-15 §8.4).
    Hevc(VideoConfig),
    /// MPEG-4 AAC in an `mp4a` sample entry (ISO/IEC 14496-14 §5.6).
    Aac(AudioConfig),
    /// Any other sample entry, named by its type; reelay cannot package it.
    Other(FourCc),
}

impl Codec {
    /// The sample entry type: `avc1`, `hvc1`, `mp4a`, ...
    pub fn fourcc(&self) -> FourCc {
        match self {
            Codec::Avc(v) | Codec::Hevc(v) => v.fourcc,
            Codec::Aac(a) => a.fourcc,
            Codec::Other(f) => *f,
        }
    }
}

/// A video sample entry and its decoder configuration record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoConfig {
    /// `avc1` / `avc3` for AVC, `hvc1` / `hev1` for HEVC.
    pub fourcc: FourCc,
    /// Coded width in pixels, from the sample entry.
    pub width: u16,
    /// Coded height in pixels, from the sample entry.
    pub height: u16,
    /// The payload of the `avcC` (AVCDecoderConfigurationRecord, ISO/IEC 14496-15 §5.3.3) or
    /// `hvcC` (HEVCDecoderConfigurationRecord, §8.3.3) box, without the box header.
    pub config: Bytes,
}

/// An AAC sample entry and its AudioSpecificConfig.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    /// Always `mp4a` for AAC.
    pub fourcc: FourCc,
    /// Sampling rate in Hz, from the AudioSpecificConfig (the sample entry's 16.16 field cannot
    /// hold rates above 65535 Hz).
    pub sample_rate: u32,
    /// Channel count; from the AudioSpecificConfig's channelConfiguration when that is 1-7,
    /// else from the sample entry.
    pub channels: u16,
    /// The MPEG-4 audioObjectType (2 = AAC LC, 5 = SBR, 29 = PS).
    pub object_type: u8,
    /// The raw AudioSpecificConfig (ISO/IEC 14496-3 §1.6.2.1) from the `esds`
    /// DecoderSpecificInfo.
    pub config: Bytes,
}

/// Fields decoded from the start of an AudioSpecificConfig.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct AscSummary {
    pub object_type: u8,
    pub sample_rate: u32,
    pub channel_configuration: u8,
}

/// samplingFrequencyIndex table (ISO/IEC 14496-3 §1.6.3.4, Table 1.18).
const SAMPLING_FREQUENCIES: [u32; 13] = [
    96000, 88200, 64000, 48000, 44100, 32000, 24000, 22050, 16000, 12000, 11025, 8000, 7350,
];

/// Reads audioObjectType, the sampling frequency and channelConfiguration
/// (ISO/IEC 14496-3 §1.6.2.1).
pub(crate) fn parse_audio_specific_config(asc: &[u8]) -> Result<AscSummary> {
    let mut bits = BitReader { buf: asc, pos: 0 };
    let mut object_type = bits.read(5)?;
    if object_type == 31 {
        object_type = 32 + bits.read(6)?;
    }
    let index = bits.read(4)?;
    let sample_rate = if index == 0xf {
        bits.read(24)?
    } else {
        match SAMPLING_FREQUENCIES.get(index as usize) {
            Some(&f) => f,
            None => return decode_error("AudioSpecificConfig: reserved samplingFrequencyIndex"),
        }
    };
    let channel_configuration = bits.read(4)?;
    Ok(AscSummary {
        // Invariant: at most 32 + 63, which fits a byte.
        object_type: u8::try_from(object_type).unwrap_or(u8::MAX),
        sample_rate,
        // Invariant: a 4-bit read.
        channel_configuration: u8::try_from(channel_configuration).unwrap_or(0),
    })
}

struct BitReader<'a> {
    buf: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn read(&mut self, n: u32) -> Result<u32> {
        let mut out = 0u32;
        for _ in 0..n {
            let Some(&byte) = self.buf.get(self.pos / 8) else {
                return decode_error("AudioSpecificConfig: truncated");
            };
            let bit = (byte >> (7 - (self.pos % 8))) & 1;
            out = (out << 1) | u32::from(bit);
            self.pos += 1;
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asc_lc_48k_stereo() {
        // AAC LC (2), index 3 (48 kHz), channelConfiguration 2.
        let asc = parse_audio_specific_config(&[0x11, 0x90]).unwrap();
        assert_eq!(
            asc,
            AscSummary {
                object_type: 2,
                sample_rate: 48000,
                channel_configuration: 2
            }
        );
        // Escaped frequency: index 15 then 24 bits of 32000 Hz, mono.
        let asc = parse_audio_specific_config(&[0x17, 0x80, 0x3e, 0x80, 0x08]).unwrap();
        assert_eq!((asc.sample_rate, asc.channel_configuration), (32000, 1));
        assert!(parse_audio_specific_config(&[0x16]).is_err());
        assert!(parse_audio_specific_config(&[0x16, 0x80]).is_err());
    }
}
