//! FLV tag bodies as RTMP audio (type 8) and video (type 9) messages carry them: the legacy
//! headers of FLV spec v10.1 §E.4.2 / §E.4.3 and the Enhanced RTMP (veovera, v2) extended
//! video header with FourCC codecs and multitrack.

use bytes::Bytes;

use crate::amf0::{self, Amf0Value};
use crate::error::{Error, Result, decode_error};
use crate::limits;

/// Video frame type (FLV §E.4.3.1 `FrameType`, shared by the Enhanced RTMP header).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FrameType {
    /// 1: a key frame (a seekable frame; an IDR for AVC).
    Key,
    /// 2: an inter frame.
    Inter,
    /// 3: a disposable inter frame (H.263 only).
    DisposableInter,
    /// 4: a generated key frame (server use).
    GeneratedKey,
    /// 5: a video info / command frame.
    Command,
    /// Any other value of the 3- or 4-bit field.
    Reserved(u8),
}

impl FrameType {
    fn from_bits(v: u8) -> Self {
        match v {
            1 => Self::Key,
            2 => Self::Inter,
            3 => Self::DisposableInter,
            4 => Self::GeneratedKey,
            5 => Self::Command,
            other => Self::Reserved(other),
        }
    }

    /// The FLV field value.
    pub fn to_bits(self) -> u8 {
        match self {
            Self::Key => 1,
            Self::Inter => 2,
            Self::DisposableInter => 3,
            Self::GeneratedKey => 4,
            Self::Command => 5,
            Self::Reserved(v) => v,
        }
    }
}

/// A video codec, from the legacy CodecID or an Enhanced RTMP FourCC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum VideoCodec {
    /// H.264: legacy CodecID 7 or FourCC `avc1`.
    Avc,
    /// H.265: FourCC `hvc1`.
    Hevc,
    /// AV1: FourCC `av01`.
    Av1,
    /// VP9: FourCC `vp09`.
    Vp9,
    /// Another FourCC.
    FourCc([u8; 4]),
    /// Another legacy CodecID (FLV §E.4.3.1), whose body is passed through raw.
    Legacy(u8),
}

impl VideoCodec {
    fn from_fourcc(cc: [u8; 4]) -> Self {
        match &cc {
            b"avc1" => Self::Avc,
            b"hvc1" => Self::Hevc,
            b"av01" => Self::Av1,
            b"vp09" => Self::Vp9,
            _ => Self::FourCc(cc),
        }
    }

    /// Whether coded frames carry a composition time offset: only the ISO/IEC 14496-15 codecs
    /// (Enhanced RTMP, "CodedFrames" for `avc1` and `hvc1`).
    fn has_composition_time(self) -> bool {
        matches!(self, Self::Avc | Self::Hevc)
    }
}

/// What a video tag carries for one track.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum VideoPacket {
    /// The decoder configuration record: `AVCDecoderConfigurationRecord` (legacy AVC sequence
    /// header), `HEVCDecoderConfigurationRecord`, `AV1CodecConfigurationRecord` or
    /// `VPCodecConfigurationRecord`. See [`AvcDecoderConfig::parse`].
    SequenceStart(Bytes),
    /// One access unit: length-prefixed NAL units for AVC/HEVC, OBUs for AV1.
    CodedFrames {
        /// Presentation minus decoding time in milliseconds (SI24 on the wire).
        composition_time_ms: i32,
        /// The access unit.
        data: Bytes,
    },
    /// End of sequence.
    SequenceEnd,
    /// Enhanced RTMP video metadata (for example `colorInfo`), as AMF0 values.
    Metadata(Vec<Amf0Value>),
    /// Enhanced RTMP video command (frame type 5): 0 start seek, 1 end seek.
    Command(u8),
    /// The body of a legacy codec other than AVC, after the first byte.
    Raw(Bytes),
}

/// One video tag body for one track.
#[derive(Debug, Clone, PartialEq)]
pub struct VideoTag {
    /// Frame type.
    pub frame_type: FrameType,
    /// Codec.
    pub codec: VideoCodec,
    /// Track id: 0 unless the tag is Enhanced RTMP multitrack.
    pub track_id: u8,
    /// Whether the tag used the Enhanced RTMP extended header.
    pub enhanced: bool,
    /// Payload.
    pub packet: VideoPacket,
}

// Enhanced RTMP VideoPacketType.
const PKT_SEQUENCE_START: u8 = 0;
const PKT_CODED_FRAMES: u8 = 1;
const PKT_SEQUENCE_END: u8 = 2;
const PKT_CODED_FRAMES_X: u8 = 3;
const PKT_METADATA: u8 = 4;
const PKT_MPEG2TS_SEQUENCE_START: u8 = 5;
const PKT_MULTITRACK: u8 = 6;
const PKT_MOD_EX: u8 = 7;

// Enhanced RTMP AvMultitrackType.
const MULTITRACK_ONE_TRACK: u8 = 0;
const MULTITRACK_MANY_TRACKS: u8 = 1;
const MULTITRACK_MANY_TRACKS_MANY_CODECS: u8 = 2;

/// Legacy FLV CodecID of AVC (FLV §E.4.3.1).
const CODEC_ID_AVC: u8 = 7;

struct Reader {
    data: Bytes,
}

impl Reader {
    fn u8(&mut self, what: &'static str) -> Result<u8> {
        let Some(&b) = self.data.first() else {
            return decode_error(what);
        };
        self.data = self.data.slice(1..);
        Ok(b)
    }

    fn bytes(&mut self, n: usize, what: &'static str) -> Result<Bytes> {
        if self.data.len() < n {
            return decode_error(what);
        }
        Ok(self.data.split_to(n))
    }

    fn u24(&mut self, what: &'static str) -> Result<u32> {
        let b = self.bytes(3, what)?;
        Ok(u32::from_be_bytes([0, b[0], b[1], b[2]]))
    }

    fn si24(&mut self, what: &'static str) -> Result<i32> {
        let v = self.u24(what)?;
        // Sign-extend the 24-bit two's complement value.
        Ok(((v << 8) as i32) >> 8)
    }

    fn fourcc(&mut self) -> Result<[u8; 4]> {
        let b = self.bytes(4, "enhanced video: fourcc")?;
        Ok([b[0], b[1], b[2], b[3]])
    }

    fn rest(&mut self) -> Bytes {
        std::mem::take(&mut self.data)
    }
}

/// Parses the body of a video message. A multitrack tag yields one [`VideoTag`] per track;
/// any other tag yields exactly one.
pub fn parse_video_tag(body: Bytes) -> Result<Vec<VideoTag>> {
    let mut r = Reader { data: body };
    let first = r.u8("video: header")?;
    if first & 0x80 == 0 {
        return parse_legacy_video(first, r).map(|tag| vec![tag]);
    }
    // Enhanced RTMP: IsExHeader(1) FrameType(3) PacketType(4).
    let frame_type = FrameType::from_bits((first >> 4) & 0x07);
    let mut packet_type = first & 0x0F;
    // Enhanced RTMP v2 ModEx: modifier extensions precede the real packet type. The only one
    // defined, TimestampOffsetNano, refines the millisecond timestamp below what RTMP carries
    // onward, so the modifiers are skipped. Each round consumes at least two bytes, which
    // bounds the loop by the body size.
    while packet_type == PKT_MOD_EX {
        let mut size = usize::from(r.u8("enhanced video: modEx size")?) + 1;
        if size == 256 {
            let b = r.bytes(2, "enhanced video: modEx size")?;
            size = usize::from(u16::from_be_bytes([b[0], b[1]])) + 1;
        }
        let _mod_ex_data = r.bytes(size, "enhanced video: modEx data")?;
        packet_type = r.u8("enhanced video: modEx type")? & 0x0F;
    }
    if packet_type != PKT_METADATA && frame_type == FrameType::Command {
        // A command frame has no FourCC and no body beyond the command byte.
        let command = r.u8("enhanced video: command")?;
        return Ok(vec![VideoTag {
            frame_type,
            codec: VideoCodec::FourCc([0; 4]),
            track_id: 0,
            enhanced: true,
            packet: VideoPacket::Command(command),
        }]);
    }
    let mut multitrack = None;
    let mut fourcc = None;
    if packet_type == PKT_MULTITRACK {
        let b = r.u8("enhanced video: multitrack type")?;
        let kind = b >> 4;
        packet_type = b & 0x0F;
        if packet_type == PKT_MULTITRACK {
            return decode_error("enhanced video: nested multitrack");
        }
        if !matches!(
            kind,
            MULTITRACK_ONE_TRACK | MULTITRACK_MANY_TRACKS | MULTITRACK_MANY_TRACKS_MANY_CODECS
        ) {
            return Err(Error::Unsupported("enhanced video: multitrack type"));
        }
        if kind != MULTITRACK_MANY_TRACKS_MANY_CODECS {
            fourcc = Some(r.fourcc()?);
        }
        multitrack = Some(kind);
    } else {
        fourcc = Some(r.fourcc()?);
    }
    let mut tags = Vec::new();
    loop {
        let (cc, track_id, mut body) = match multitrack {
            None => (fourcc, 0, Reader { data: r.rest() }),
            Some(kind) => {
                if tags.len() >= limits::MAX_TRACKS_PER_TAG {
                    return Err(Error::Limit("enhanced video: tracks per tag"));
                }
                let cc = match fourcc {
                    Some(cc) => cc,
                    None => r.fourcc()?,
                };
                let track_id = r.u8("enhanced video: track id")?;
                let body = if kind == MULTITRACK_ONE_TRACK {
                    r.rest()
                } else {
                    let size = r.u24("enhanced video: track size")? as usize;
                    r.bytes(size, "enhanced video: track body")?
                };
                (Some(cc), track_id, Reader { data: body })
            }
        };
        // Both branches above set the FourCC: a single-track tag reads it up front, a
        // multitrack tag reads it either up front or per track.
        let codec = VideoCodec::from_fourcc(cc.unwrap_or([0; 4]));
        let packet = match packet_type {
            PKT_SEQUENCE_START => VideoPacket::SequenceStart(body.rest()),
            PKT_CODED_FRAMES => {
                let composition_time_ms = if codec.has_composition_time() {
                    body.si24("enhanced video: composition time")?
                } else {
                    0
                };
                VideoPacket::CodedFrames {
                    composition_time_ms,
                    data: body.rest(),
                }
            }
            PKT_CODED_FRAMES_X => VideoPacket::CodedFrames {
                composition_time_ms: 0,
                data: body.rest(),
            },
            PKT_SEQUENCE_END => VideoPacket::SequenceEnd,
            PKT_METADATA => VideoPacket::Metadata(amf0::decode_all(&body.rest())?),
            PKT_MPEG2TS_SEQUENCE_START => {
                return Err(Error::Unsupported("enhanced video: MPEG2TSSequenceStart"));
            }
            _ => return Err(Error::Unsupported("enhanced video: packet type")),
        };
        tags.push(VideoTag {
            frame_type,
            codec,
            track_id,
            enhanced: true,
            packet,
        });
        match multitrack {
            Some(kind) if kind != MULTITRACK_ONE_TRACK && !r.data.is_empty() => continue,
            _ => return Ok(tags),
        }
    }
}

fn parse_legacy_video(first: u8, mut r: Reader) -> Result<VideoTag> {
    let frame_type = FrameType::from_bits(first >> 4);
    let codec_id = first & 0x0F;
    if codec_id != CODEC_ID_AVC {
        return Ok(VideoTag {
            frame_type,
            codec: VideoCodec::Legacy(codec_id),
            track_id: 0,
            enhanced: false,
            packet: VideoPacket::Raw(r.rest()),
        });
    }
    // FLV §E.4.3.1 AVCVIDEOPACKET: AVCPacketType, CompositionTime (SI24), data.
    let packet_type = r.u8("avc: packet type")?;
    let composition_time_ms = r.si24("avc: composition time")?;
    let packet = match packet_type {
        0 => VideoPacket::SequenceStart(r.rest()),
        1 => VideoPacket::CodedFrames {
            composition_time_ms,
            data: r.rest(),
        },
        2 => VideoPacket::SequenceEnd,
        _ => return decode_error("avc: packet type"),
    };
    Ok(VideoTag {
        frame_type,
        codec: VideoCodec::Avc,
        track_id: 0,
        enhanced: false,
        packet,
    })
}

/// An `AVCDecoderConfigurationRecord` (ISO/IEC 14496-15 §5.3.3.1), the AVC sequence header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvcDecoderConfig {
    /// `AVCProfileIndication` (`profile_idc` of the SPS).
    pub profile_indication: u8,
    /// `profile_compatibility` (the SPS constraint flags).
    pub profile_compatibility: u8,
    /// `AVCLevelIndication` (`level_idc`).
    pub level_indication: u8,
    /// Bytes of the NAL unit length prefix in coded frames: 1, 2 or 4.
    pub nal_length_size: u8,
    /// Sequence parameter sets.
    pub sps: Vec<Bytes>,
    /// Picture parameter sets.
    pub pps: Vec<Bytes>,
}

impl AvcDecoderConfig {
    /// Parses the record; trailing high-profile extension fields are ignored.
    pub fn parse(data: &Bytes) -> Result<Self> {
        let mut r = Reader { data: data.clone() };
        if r.u8("avcC: configurationVersion")? != 1 {
            return decode_error("avcC: configurationVersion");
        }
        let profile_indication = r.u8("avcC: profile")?;
        let profile_compatibility = r.u8("avcC: compatibility")?;
        let level_indication = r.u8("avcC: level")?;
        let nal_length_size = (r.u8("avcC: lengthSizeMinusOne")? & 0x03) + 1;
        if nal_length_size == 3 {
            return decode_error("avcC: lengthSizeMinusOne");
        }
        let n_sps = usize::from(r.u8("avcC: numOfSequenceParameterSets")? & 0x1F);
        let sps = read_parameter_sets(&mut r, n_sps)?;
        let n_pps = usize::from(r.u8("avcC: numOfPictureParameterSets")?);
        let pps = read_parameter_sets(&mut r, n_pps)?;
        Ok(Self {
            profile_indication,
            profile_compatibility,
            level_indication,
            nal_length_size,
            sps,
            pps,
        })
    }

    /// The RFC 6381 codec string, `avc1.PPCCLL`, as HLS playlists and IVS stream sessions
    /// show it.
    pub fn codec_string(&self) -> String {
        format!(
            "avc1.{:02X}{:02X}{:02X}",
            self.profile_indication, self.profile_compatibility, self.level_indication
        )
    }
}

fn read_parameter_sets(r: &mut Reader, n: usize) -> Result<Vec<Bytes>> {
    if n > limits::MAX_PARAMETER_SETS {
        return Err(Error::Limit("avcC: parameter set count"));
    }
    let mut sets = Vec::with_capacity(n);
    for _ in 0..n {
        let len = r.bytes(2, "avcC: parameter set length")?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        sets.push(r.bytes(len, "avcC: parameter set")?);
    }
    Ok(sets)
}

/// Legacy FLV SoundFormat of AAC (FLV §E.4.2.1).
pub const SOUND_FORMAT_AAC: u8 = 10;

/// What an audio tag carries.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AudioPacket {
    /// AAC sequence header: the `AudioSpecificConfig`.
    AacSequenceHeader(AudioSpecificConfig),
    /// One raw AAC frame (no ADTS header).
    AacRaw(Bytes),
    /// The body of another sound format, after the first byte.
    Raw(Bytes),
}

/// One audio tag body (FLV §E.4.2.1 AUDIODATA).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioTag {
    /// SoundFormat: 10 is AAC, 2 MP3, 9 the Enhanced RTMP extended audio header (passed raw).
    pub sound_format: u8,
    /// SoundRate field (0 = 5.5 kHz … 3 = 44 kHz); AAC always writes 3 whatever the real rate.
    pub sound_rate: u8,
    /// SoundSize: true for 16-bit samples.
    pub sound_size_16bit: bool,
    /// SoundType: true for stereo.
    pub stereo: bool,
    /// Payload.
    pub packet: AudioPacket,
}

impl AudioTag {
    /// The first byte of the FLV audio tag body that describes this tag.
    pub fn header_byte(&self) -> u8 {
        (self.sound_format << 4)
            | ((self.sound_rate & 0x03) << 2)
            | (u8::from(self.sound_size_16bit) << 1)
            | u8::from(self.stereo)
    }
}

/// Parses the body of an audio message.
pub fn parse_audio_tag(body: Bytes) -> Result<AudioTag> {
    let mut r = Reader { data: body };
    let first = r.u8("audio: header")?;
    let sound_format = first >> 4;
    let packet = if sound_format == SOUND_FORMAT_AAC {
        // FLV §E.4.2.2 AACAUDIODATA: AACPacketType then data.
        match r.u8("aac: packet type")? {
            0 => AudioPacket::AacSequenceHeader(AudioSpecificConfig::parse(&r.rest())?),
            1 => AudioPacket::AacRaw(r.rest()),
            _ => return decode_error("aac: packet type"),
        }
    } else {
        AudioPacket::Raw(r.rest())
    };
    Ok(AudioTag {
        sound_format,
        sound_rate: (first >> 2) & 0x03,
        sound_size_16bit: first & 0x02 != 0,
        stereo: first & 0x01 != 0,
        packet,
    })
}

/// The leading fields of an MPEG-4 `AudioSpecificConfig` (ISO/IEC 14496-3 §1.6.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioSpecificConfig {
    /// `audioObjectType` (2 = AAC LC, 5 = SBR, 29 = PS).
    pub object_type: u8,
    /// `samplingFrequencyIndex`, 15 when the rate is explicit.
    pub sampling_frequency_index: u8,
    /// The sampling frequency in Hz.
    pub sample_rate: u32,
    /// `channelConfiguration` (1 = mono, 2 = stereo, 0 = in the program config element).
    pub channel_configuration: u8,
    /// The whole record, for muxers that copy it into `esds` or ADTS headers.
    pub raw: Bytes,
}

/// ISO/IEC 14496-3 §1.6.3.4 Table 1.18.
const SAMPLING_FREQUENCIES: [u32; 13] = [
    96_000, 88_200, 64_000, 48_000, 44_100, 32_000, 24_000, 22_050, 16_000, 12_000, 11_025, 8_000,
    7_350,
];

impl AudioSpecificConfig {
    /// Parses the leading fields.
    pub fn parse(data: &Bytes) -> Result<Self> {
        let mut bits = BitReader { data, pos: 0 };
        let mut object_type = bits.read(5)?;
        if object_type == 31 {
            object_type = 32 + bits.read(6)?;
        }
        let sampling_frequency_index = bits.read(4)?;
        let sample_rate = if sampling_frequency_index == 15 {
            bits.read(24)?
        } else {
            *SAMPLING_FREQUENCIES
                .get(sampling_frequency_index as usize)
                .ok_or(Error::Decode("aac: samplingFrequencyIndex"))?
        };
        let channel_configuration = bits.read(4)?;
        Ok(Self {
            object_type: u8::try_from(object_type).map_err(|_| Error::Decode("aac: object"))?,
            sampling_frequency_index: sampling_frequency_index as u8,
            sample_rate,
            channel_configuration: channel_configuration as u8,
            raw: data.clone(),
        })
    }
}

struct BitReader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl BitReader<'_> {
    fn read(&mut self, n: u32) -> Result<u32> {
        let mut v = 0u32;
        for _ in 0..n {
            let byte = *self
                .data
                .get(self.pos / 8)
                .ok_or(Error::Decode("aac: AudioSpecificConfig truncated"))?;
            let bit = (byte >> (7 - self.pos % 8)) & 1;
            v = (v << 1) | u32::from(bit);
            self.pos += 1;
        }
        Ok(v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(v: &[u8]) -> Bytes {
        Bytes::copy_from_slice(v)
    }

    /// An avcC for High profile level 3.0 with one SPS and one PPS, as x264 writes it.
    fn avcc() -> Vec<u8> {
        let mut v = vec![1, 0x64, 0x00, 0x1E, 0xFF, 0xE1, 0x00, 0x04];
        v.extend_from_slice(&[0x67, 0x64, 0x00, 0x1E]);
        v.extend_from_slice(&[0x01, 0x00, 0x02, 0x68, 0xEB]);
        v
    }

    #[test]
    fn legacy_avc_sequence_header_and_frames() {
        let mut body = vec![0x17, 0x00, 0, 0, 0];
        body.extend_from_slice(&avcc());
        let tags = parse_video_tag(b(&body)).unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].frame_type, FrameType::Key);
        assert_eq!(tags[0].codec, VideoCodec::Avc);
        let VideoPacket::SequenceStart(config) = &tags[0].packet else {
            panic!("expected a sequence header: {tags:?}");
        };
        let config = AvcDecoderConfig::parse(config).unwrap();
        assert_eq!(config.codec_string(), "avc1.64001E");
        assert_eq!(config.nal_length_size, 4);
        assert_eq!(config.sps, [b(&[0x67, 0x64, 0x00, 0x1E])]);
        assert_eq!(config.pps, [b(&[0x68, 0xEB])]);

        // Inter frame with a negative composition time of -40 ms.
        let tags = parse_video_tag(b(&[0x27, 0x01, 0xFF, 0xFF, 0xD8, 0, 0, 0, 1, 0x41])).unwrap();
        assert_eq!(
            tags[0],
            VideoTag {
                frame_type: FrameType::Inter,
                codec: VideoCodec::Avc,
                track_id: 0,
                enhanced: false,
                packet: VideoPacket::CodedFrames {
                    composition_time_ms: -40,
                    data: b(&[0, 0, 0, 1, 0x41]),
                },
            }
        );
        let tags = parse_video_tag(b(&[0x17, 0x02, 0, 0, 0])).unwrap();
        assert_eq!(tags[0].packet, VideoPacket::SequenceEnd);
        // A legacy non-AVC codec (VP6 = 4) passes through raw.
        let tags = parse_video_tag(b(&[0x24, 9, 9])).unwrap();
        assert_eq!(tags[0].codec, VideoCodec::Legacy(4));
        assert_eq!(tags[0].packet, VideoPacket::Raw(b(&[9, 9])));
    }

    #[test]
    fn malformed_video_is_an_error() {
        assert!(parse_video_tag(b(&[])).is_err());
        assert!(parse_video_tag(b(&[0x17, 0x01, 0])).is_err());
        assert!(parse_video_tag(b(&[0x17, 0x07, 0, 0, 0])).is_err());
        assert!(AvcDecoderConfig::parse(&b(&[1, 0x64, 0, 0x1E, 0xFF, 0xE1, 0, 9, 1])).is_err());
        assert!(AvcDecoderConfig::parse(&b(&[0])).is_err());
    }

    #[test]
    fn enhanced_hevc_and_av1() {
        // IsExHeader | Key | SequenceStart, 'hvc1', record.
        let tags = parse_video_tag(b(b"\x90hvc1\x01\x02")).unwrap();
        assert_eq!(tags[0].codec, VideoCodec::Hevc);
        assert!(tags[0].enhanced);
        assert_eq!(tags[0].packet, VideoPacket::SequenceStart(b(&[1, 2])));
        // CodedFrames for hvc1 carry a composition time.
        let tags = parse_video_tag(b(b"\xA1hvc1\x00\x00\x21\xAA")).unwrap();
        assert_eq!(tags[0].frame_type, FrameType::Inter);
        assert_eq!(
            tags[0].packet,
            VideoPacket::CodedFrames {
                composition_time_ms: 33,
                data: b(&[0xAA])
            }
        );
        // CodedFrames for av01 do not; CodedFramesX never does.
        let tags = parse_video_tag(b(b"\x91av01\x12\x00")).unwrap();
        assert_eq!(tags[0].codec, VideoCodec::Av1);
        assert_eq!(
            tags[0].packet,
            VideoPacket::CodedFrames {
                composition_time_ms: 0,
                data: b(&[0x12, 0x00])
            }
        );
        let tags = parse_video_tag(b(b"\x93avc1\x00\x00\x00\x01\x65")).unwrap();
        assert_eq!(tags[0].codec, VideoCodec::Avc);
        assert_eq!(
            tags[0].packet,
            VideoPacket::CodedFrames {
                composition_time_ms: 0,
                data: b(&[0, 0, 0, 1, 0x65])
            }
        );
        let tags = parse_video_tag(b(b"\x92vp09")).unwrap();
        assert_eq!(tags[0].packet, VideoPacket::SequenceEnd);
        // Metadata: AMF0 "colorInfo", {}.
        let mut body = b"\x94avc1".to_vec();
        body.extend_from_slice(&[0x02, 0, 9]);
        body.extend_from_slice(b"colorInfo");
        body.extend_from_slice(&[0x03, 0, 0, 0x09]);
        let tags = parse_video_tag(b(&body)).unwrap();
        assert_eq!(
            tags[0].packet,
            VideoPacket::Metadata(vec![
                Amf0Value::String("colorInfo".into()),
                Amf0Value::Object(vec![])
            ])
        );
        // Command frame: frame type 5, no FourCC.
        let tags = parse_video_tag(b(&[0xD1, 0x01])).unwrap();
        assert_eq!(tags[0].packet, VideoPacket::Command(1));
        // ModEx with a 3-byte TimestampOffsetNano (type 0), then CodedFramesX.
        let tags = parse_video_tag(b(b"\x97\x02\x00\x01\x02\x03avc1\x09")).unwrap();
        assert_eq!(
            tags[0].packet,
            VideoPacket::CodedFrames {
                composition_time_ms: 0,
                data: b(&[9])
            }
        );
        assert!(parse_video_tag(b(b"\x97\x05\x00")).is_err());
        assert!(parse_video_tag(b(b"\x91av0")).is_err());
    }

    #[test]
    fn enhanced_multitrack() {
        // ManyTracks, one codec (avc1), CodedFramesX: track 0 (2 bytes) and track 1 (1 byte).
        let mut body = vec![0x96, (MULTITRACK_MANY_TRACKS << 4) | PKT_CODED_FRAMES_X];
        body.extend_from_slice(b"avc1");
        body.extend_from_slice(&[0, 0, 0, 2, 0xA, 0xB]);
        body.extend_from_slice(&[1, 0, 0, 1, 0xC]);
        let tags = parse_video_tag(b(&body)).unwrap();
        assert_eq!(tags.len(), 2);
        assert_eq!((tags[0].track_id, tags[1].track_id), (0, 1));
        assert_eq!(tags[0].frame_type, FrameType::Key);
        assert_eq!(
            tags[1].packet,
            VideoPacket::CodedFrames {
                composition_time_ms: 0,
                data: b(&[0xC])
            }
        );
        // ManyTracksManyCodecs, SequenceStart: hvc1 on track 2, av01 on track 5.
        let mut body = vec![
            0x96,
            (MULTITRACK_MANY_TRACKS_MANY_CODECS << 4) | PKT_SEQUENCE_START,
        ];
        body.extend_from_slice(b"hvc1\x02\x00\x00\x01\x11");
        body.extend_from_slice(b"av01\x05\x00\x00\x02\x22\x33");
        let tags = parse_video_tag(b(&body)).unwrap();
        assert_eq!(
            tags.iter()
                .map(|t| (t.track_id, t.codec))
                .collect::<Vec<_>>(),
            [(2, VideoCodec::Hevc), (5, VideoCodec::Av1)]
        );
        assert_eq!(tags[1].packet, VideoPacket::SequenceStart(b(&[0x22, 0x33])));
        // OneTrack: no size field, the body runs to the end.
        let mut body = vec![0x96, (MULTITRACK_ONE_TRACK << 4) | PKT_CODED_FRAMES];
        body.extend_from_slice(b"avc1\x03\x00\x00\x00\x77\x88");
        let tags = parse_video_tag(b(&body)).unwrap();
        assert_eq!(tags.len(), 1);
        assert_eq!(tags[0].track_id, 3);
        // A track size beyond the body is an error, as is nesting.
        let mut body = vec![0x96, (MULTITRACK_MANY_TRACKS << 4) | PKT_CODED_FRAMES_X];
        body.extend_from_slice(b"avc1\x00\x00\x00\x09\x01");
        assert!(parse_video_tag(b(&body)).is_err());
        assert!(parse_video_tag(b(&[0x96, 0x16])).is_err());
        // Track count limit.
        let mut body = vec![0x96, (MULTITRACK_MANY_TRACKS << 4) | PKT_CODED_FRAMES_X];
        body.extend_from_slice(b"avc1");
        for id in 0..=limits::MAX_TRACKS_PER_TAG as u8 {
            body.extend_from_slice(&[id, 0, 0, 0]);
        }
        assert_eq!(
            parse_video_tag(b(&body)),
            Err(Error::Limit("enhanced video: tracks per tag"))
        );
    }

    #[test]
    fn aac_sequence_header_and_raw_frames() {
        // AAC, 44 kHz flag, 16-bit, stereo; AAC LC, 48 kHz (index 3), stereo: 0x11 0x90.
        let tag = parse_audio_tag(b(&[0xAF, 0x00, 0x11, 0x90])).unwrap();
        assert_eq!(tag.header_byte(), 0xAF);
        let AudioPacket::AacSequenceHeader(asc) = &tag.packet else {
            panic!("expected a sequence header: {tag:?}");
        };
        assert_eq!(
            (asc.object_type, asc.sample_rate, asc.channel_configuration),
            (2, 48_000, 2)
        );
        // AAC LC, explicit 48000 Hz (index 15), mono.
        let asc = AudioSpecificConfig::parse(&b(&[0x17, 0x80, 0x5D, 0xC0, 0x08])).unwrap();
        assert_eq!(
            (asc.sampling_frequency_index, asc.sample_rate),
            (15, 48_000)
        );
        assert_eq!(asc.channel_configuration, 1);
        // Escaped object type 31 + 6 bits: 32 + 10 = 42.
        let asc = AudioSpecificConfig::parse(&b(&[0xF9, 0x46, 0x20])).unwrap();
        assert_eq!(asc.object_type, 42);
        let tag = parse_audio_tag(b(&[0xAF, 0x01, 0x21, 0x10])).unwrap();
        assert_eq!(tag.packet, AudioPacket::AacRaw(b(&[0x21, 0x10])));
        let tag = parse_audio_tag(b(&[0x2E, 0xFF])).unwrap();
        assert_eq!(tag.sound_format, 2);
        assert_eq!(tag.packet, AudioPacket::Raw(b(&[0xFF])));
        assert!(parse_audio_tag(b(&[0xAF, 0x00, 0x11])).is_err());
        assert!(parse_audio_tag(b(&[0xAF, 0x02])).is_err());
        assert!(parse_audio_tag(b(&[])).is_err());
        // Frequency index 13 is reserved.
        assert!(AudioSpecificConfig::parse(&b(&[0x16, 0x90])).is_err());
    }
}
