//! `stream_type` values of the PMT (ISO/IEC 13818-1 §2.4.4.9, Table 2-34) that HLS uses, plus
//! the SAMPLE-AES types of Apple's "MPEG-2 Stream Encryption Format for HTTP Live Streaming".

/// The type of an elementary stream as announced in the PMT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamType {
    /// 0x1B: H.264 / AVC video (ITU-T H.264 | ISO/IEC 14496-10), Annex B byte stream.
    H264,
    /// 0x24: H.265 / HEVC video (ITU-T H.265 | ISO/IEC 23008-2), Annex B byte stream.
    H265,
    /// 0x0F: AAC audio with the ADTS transport syntax (ISO/IEC 13818-7 / 14496-3).
    AacAdts,
    /// 0x15: metadata carried in PES packets; HLS timed metadata puts ID3v2 tags here.
    Id3,
    /// 0xDB: SAMPLE-AES encrypted H.264.
    SampleAesH264,
    /// 0xCF: SAMPLE-AES encrypted AAC (ADTS).
    SampleAesAac,
    /// 0xC1: SAMPLE-AES encrypted AC-3.
    SampleAesAc3,
    /// 0xC2: SAMPLE-AES encrypted Enhanced AC-3.
    SampleAesEac3,
    /// Any other value, kept as read.
    Other(u8),
}

impl StreamType {
    /// Maps a PMT `stream_type` byte.
    pub fn from_u8(value: u8) -> Self {
        match value {
            0x1B => Self::H264,
            0x24 => Self::H265,
            0x0F => Self::AacAdts,
            0x15 => Self::Id3,
            0xDB => Self::SampleAesH264,
            0xCF => Self::SampleAesAac,
            0xC1 => Self::SampleAesAc3,
            0xC2 => Self::SampleAesEac3,
            other => Self::Other(other),
        }
    }

    /// The PMT `stream_type` byte.
    pub fn to_u8(self) -> u8 {
        match self {
            Self::H264 => 0x1B,
            Self::H265 => 0x24,
            Self::AacAdts => 0x0F,
            Self::Id3 => 0x15,
            Self::SampleAesH264 => 0xDB,
            Self::SampleAesAac => 0xCF,
            Self::SampleAesAc3 => 0xC1,
            Self::SampleAesEac3 => 0xC2,
            Self::Other(value) => value,
        }
    }

    /// Whether the type announces SAMPLE-AES encrypted content.
    pub fn is_sample_aes(self) -> bool {
        matches!(
            self,
            Self::SampleAesH264 | Self::SampleAesAac | Self::SampleAesAc3 | Self::SampleAesEac3
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_byte() {
        for value in 0..=255u8 {
            assert_eq!(StreamType::from_u8(value).to_u8(), value);
        }
        assert!(StreamType::from_u8(0xDB).is_sample_aes());
        assert!(!StreamType::from_u8(0x1B).is_sample_aes());
    }
}
