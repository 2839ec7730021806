//! `stsd`: sample descriptions, with the visual and audio sample entries reelay packages
//! (ISO/IEC 14496-12 §8.5.2, §12.1.3, §12.2.3; ISO/IEC 14496-15 §5.4, §8.4) and the protection
//! scheme boxes of encrypted entries (§8.12).

use bytes::{BufMut, Bytes, BytesMut};

use super::esds;
use super::header::Children;
use crate::codec::{AudioConfig, Codec, VideoConfig, parse_audio_specific_config};
use crate::error::{Error, Result, decode_error, limit_error, unsupported};
use crate::fourcc::FourCc;
use crate::limits;
use crate::reader::Reader;
use crate::writer::write_box;

const AVC1: FourCc = FourCc::new(b"avc1");
const AVC3: FourCc = FourCc::new(b"avc3");
const HVC1: FourCc = FourCc::new(b"hvc1");
const HEV1: FourCc = FourCc::new(b"hev1");
const MP4A: FourCc = FourCc::new(b"mp4a");
const ENCV: FourCc = FourCc::new(b"encv");
const ENCA: FourCc = FourCc::new(b"enca");

/// Protection of a track whose sample entry is `encv` / `enca` or carries a `sinf` (§8.12).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protection {
    /// The scheme from `schm`, e.g. `cenc` or `cbcs`; `None` when the box is absent.
    pub scheme_type: Option<FourCc>,
}

/// The single sample description of a track.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SampleDescription {
    pub codec: Codec,
    pub protection: Option<Protection>,
}

pub(crate) fn parse(payload: &[u8]) -> Result<SampleDescription> {
    let mut r = Reader::new(payload, "stsd: truncated");
    r.full_box()?;
    let entry_count = r.u32()?;
    if entry_count == 0 {
        return decode_error("stsd: no sample entry");
    }
    if entry_count > limits::MAX_SAMPLE_DESCRIPTIONS {
        return limit_error("stsd: entry_count");
    }
    if entry_count > 1 {
        // Switching sample descriptions mid-track would need one init segment per description.
        return unsupported("stsd: several sample descriptions in one track");
    }
    let Some(first) = Children::new(r.rest()).next() else {
        return decode_error("stsd: no sample entry");
    };
    let (kind, body) = first?;
    if [AVC1, AVC3, HVC1, HEV1, ENCV].contains(&kind) {
        parse_visual(kind, body)
    } else if [MP4A, ENCA].contains(&kind) {
        parse_audio(kind, body)
    } else {
        Ok(SampleDescription {
            codec: Codec::Other(kind),
            protection: None,
        })
    }
}

/// Parses `sinf` (§8.12.1): the original format from `frma` and the scheme from `schm`.
fn parse_sinf(payload: &[u8]) -> Result<(Option<FourCc>, Protection)> {
    let mut original = None;
    let mut scheme_type = None;
    for child in Children::new(payload) {
        let (kind, body) = child?;
        match kind.as_bytes() {
            b"frma" => original = Some(Reader::new(body, "frma: truncated").fourcc()?),
            b"schm" => {
                let mut r = Reader::new(body, "schm: truncated");
                r.full_box()?;
                scheme_type = Some(r.fourcc()?);
            }
            _ => {}
        }
    }
    Ok((original, Protection { scheme_type }))
}

/// Resolves the codec type of a possibly protected entry: `encv` / `enca` name the real format
/// in `sinf/frma` (§8.12.2).
fn effective_kind(kind: FourCc, original: Option<FourCc>) -> Result<FourCc> {
    if kind == ENCV || kind == ENCA {
        original.ok_or(Error::Decode("sinf: protected sample entry without frma"))
    } else {
        Ok(kind)
    }
}

fn config_bytes(config: Option<&[u8]>, missing: &'static str) -> Result<Bytes> {
    let Some(config) = config else {
        return decode_error(missing);
    };
    if config.len() > limits::MAX_CODEC_CONFIG_SIZE {
        return limit_error("codec configuration record too large");
    }
    Ok(Bytes::copy_from_slice(config))
}

fn parse_visual(kind: FourCc, body: &[u8]) -> Result<SampleDescription> {
    let mut r = Reader::new(body, "visual sample entry: truncated");
    r.skip(8)?; // SampleEntry: reserved[6], data_reference_index (§8.5.2.2)
    r.skip(16)?; // pre_defined, reserved, pre_defined[3]
    let width = r.u16()?;
    let height = r.u16()?;
    // horizresolution, vertresolution, reserved, frame_count, compressorname, depth,
    // pre_defined (§12.1.3.2).
    r.skip(4 + 4 + 4 + 2 + 32 + 2 + 2)?;
    let mut avcc = None;
    let mut hvcc = None;
    let mut sinf = None;
    for child in Children::new(r.rest()) {
        let (child_kind, child_body) = child?;
        match child_kind.as_bytes() {
            b"avcC" => avcc = Some(child_body),
            b"hvcC" => hvcc = Some(child_body),
            b"sinf" => sinf = Some(parse_sinf(child_body)?),
            _ => {}
        }
    }
    let (original, protection) = match sinf {
        Some((original, protection)) => (original, Some(protection)),
        None if kind == ENCV => (None, Some(Protection { scheme_type: None })),
        None => (None, None),
    };
    let real = effective_kind(kind, original)?;
    let codec = if real == AVC1 || real == AVC3 {
        Codec::Avc(VideoConfig {
            fourcc: real,
            width,
            height,
            config: config_bytes(avcc, "avc1: no avcC box")?,
        })
    } else if real == HVC1 || real == HEV1 {
        Codec::Hevc(VideoConfig {
            fourcc: real,
            width,
            height,
            config: config_bytes(hvcc, "hvc1: no hvcC box")?,
        })
    } else {
        Codec::Other(real)
    };
    Ok(SampleDescription { codec, protection })
}

fn parse_audio(kind: FourCc, body: &[u8]) -> Result<SampleDescription> {
    let mut r = Reader::new(body, "audio sample entry: truncated");
    r.skip(8)?; // SampleEntry: reserved[6], data_reference_index
    // ISO/IEC 14496-12 §12.2.3.2 reserves these 8 bytes; QuickTime stores a sound description
    // version in the first two, and versions 1 and 2 append fields after the sample rate.
    let qt_version = r.u16()?;
    r.skip(6)?;
    let entry_channels = r.u16()?;
    r.skip(2 + 2 + 2)?; // samplesize, pre_defined, reserved
    let entry_rate = r.u32()? >> 16;
    match qt_version {
        0 => {}
        1 => r.skip(16)?,
        2 => r.skip(36)?,
        _ => return unsupported("audio sample entry: unknown sound description version"),
    }
    let mut esds_body = None;
    let mut sinf = None;
    for child in Children::new(r.rest()) {
        let (child_kind, child_body) = child?;
        match child_kind.as_bytes() {
            b"esds" => esds_body = Some(child_body),
            b"sinf" => sinf = Some(parse_sinf(child_body)?),
            _ => {}
        }
    }
    let (original, protection) = match sinf {
        Some((original, protection)) => (original, Some(protection)),
        None if kind == ENCA => (None, Some(Protection { scheme_type: None })),
        None => (None, None),
    };
    let real = effective_kind(kind, original)?;
    if real != MP4A {
        return Ok(SampleDescription {
            codec: Codec::Other(real),
            protection,
        });
    }
    let Some(esds_body) = esds_body else {
        return decode_error("mp4a: no esds box");
    };
    let esds = esds::parse(esds_body)?;
    if !esds.is_aac() {
        // MP3 and other MPEG audio also live in mp4a entries; reelay only packages AAC.
        return Ok(SampleDescription {
            codec: Codec::Other(real),
            protection,
        });
    }
    let asc = parse_audio_specific_config(esds.decoder_specific_info)?;
    // channelConfiguration 1-6 is that many channels, 7 is 7.1 (§1.6.3.5, Table 1.19); other
    // values defer to the sample entry or a program_config_element.
    let channels = match asc.channel_configuration {
        n @ 1..=6 => u16::from(n),
        7 => 8,
        _ => entry_channels,
    };
    let sample_rate = if asc.sample_rate != 0 {
        asc.sample_rate
    } else {
        entry_rate
    };
    Ok(SampleDescription {
        codec: Codec::Aac(AudioConfig {
            fourcc: real,
            sample_rate,
            channels,
            object_type: asc.object_type,
            config: Bytes::copy_from_slice(esds.decoder_specific_info),
        }),
        protection,
    })
}

/// Checks that `codec` can be written into an init segment.
pub(crate) fn validate_for_write(codec: &Codec) -> Result<()> {
    let (config, ok_kind) = match codec {
        Codec::Avc(v) => (&v.config, v.fourcc == AVC1 || v.fourcc == AVC3),
        Codec::Hevc(v) => (&v.config, v.fourcc == HVC1 || v.fourcc == HEV1),
        Codec::Aac(a) => (&a.config, a.fourcc == MP4A),
        Codec::Other(_) => return unsupported("mux: codec has no CMAF sample entry"),
    };
    if !ok_kind {
        return unsupported("mux: sample entry type does not match the codec");
    }
    if config.is_empty() {
        return decode_error("mux: empty codec configuration");
    }
    if config.len() > limits::MAX_CODEC_CONFIG_SIZE {
        return limit_error("mux: codec configuration too large");
    }
    Ok(())
}

/// Writes the `stsd` box with one sample entry for `codec`, which must have passed
/// [`validate_for_write`].
pub(crate) fn write(buf: &mut BytesMut, codec: &Codec) {
    crate::writer::write_full_box(buf, b"stsd", 0, 0, |buf| {
        buf.put_u32(1); // entry_count
        match codec {
            Codec::Avc(v) => write_visual(buf, v, b"avcC"),
            Codec::Hevc(v) => write_visual(buf, v, b"hvcC"),
            Codec::Aac(a) => write_audio(buf, a),
            // Rejected by validate_for_write; nothing sensible to write.
            Codec::Other(_) => {}
        }
    });
}

fn write_visual(buf: &mut BytesMut, v: &VideoConfig, config_kind: &[u8; 4]) {
    write_box(buf, v.fourcc.as_bytes(), |buf| {
        buf.put_bytes(0, 6); // reserved
        buf.put_u16(1); // data_reference_index
        buf.put_bytes(0, 16); // pre_defined, reserved, pre_defined[3]
        buf.put_u16(v.width);
        buf.put_u16(v.height);
        buf.put_u32(0x0048_0000); // horizresolution 72 dpi
        buf.put_u32(0x0048_0000); // vertresolution 72 dpi
        buf.put_u32(0); // reserved
        buf.put_u16(1); // frame_count
        buf.put_bytes(0, 32); // compressorname
        buf.put_u16(0x0018); // depth: colour, no alpha
        buf.put_i16(-1); // pre_defined
        write_box(buf, config_kind, |buf| buf.put_slice(&v.config));
    });
}

fn write_audio(buf: &mut BytesMut, a: &AudioConfig) {
    write_box(buf, b"mp4a", |buf| {
        buf.put_bytes(0, 6); // reserved
        buf.put_u16(1); // data_reference_index
        buf.put_bytes(0, 8); // reserved
        buf.put_u16(a.channels);
        buf.put_u16(16); // samplesize
        buf.put_u16(0); // pre_defined
        buf.put_u16(0); // reserved
        // 16.16 fixed point; rates above 65535 Hz do not fit and are left to the
        // AudioSpecificConfig, as §12.2.3.2 allows.
        let rate = if a.sample_rate <= 0xffff {
            a.sample_rate << 16
        } else {
            0
        };
        buf.put_u32(rate);
        // ES_ID is not used inside MP4 files (ISO/IEC 14496-14 §3.1.2): write 0.
        esds::write(buf, 0, &a.config);
    });
}
