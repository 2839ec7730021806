//! `esds`: the MPEG-4 elementary stream descriptor carrying the AAC AudioSpecificConfig
//! (ISO/IEC 14496-14 §5.6, descriptors from ISO/IEC 14496-1 §7.2.6).

use bytes::{BufMut, BytesMut};

use crate::error::{Result, decode_error, unsupported};
use crate::limits;
use crate::reader::Reader;
use crate::writer::write_full_box;

/// ES_DescrTag, DecoderConfigDescrTag, DecSpecificInfoTag, SLConfigDescrTag (§7.2.2.1).
const ES_DESCR_TAG: u8 = 0x03;
const DECODER_CONFIG_DESCR_TAG: u8 = 0x04;
const DEC_SPECIFIC_INFO_TAG: u8 = 0x05;
const SL_CONFIG_DESCR_TAG: u8 = 0x06;

/// objectTypeIndication values for AAC: MPEG-4 Audio and the three MPEG-2 AAC profiles
/// (§7.2.6.6.2, Table 5).
const OTI_MPEG4_AUDIO: u8 = 0x40;
const OTI_MPEG2_AAC: [u8; 3] = [0x66, 0x67, 0x68];

/// What reelay needs from an `esds`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Esds<'a> {
    pub object_type_indication: u8,
    pub decoder_specific_info: &'a [u8],
}

impl Esds<'_> {
    pub(crate) fn is_aac(&self) -> bool {
        self.object_type_indication == OTI_MPEG4_AUDIO
            || OTI_MPEG2_AAC.contains(&self.object_type_indication)
    }
}

/// Reads one descriptor: a tag, then a size coded on 1-4 bytes of 7 bits each, the high bit
/// saying another byte follows (§8.3.3, expandable classes).
fn read_descriptor<'a>(r: &mut Reader<'a>) -> Result<(u8, &'a [u8])> {
    let tag = r.u8()?;
    let mut size = 0usize;
    for i in 0.. {
        if i == 4 {
            return decode_error("esds: descriptor size longer than four bytes");
        }
        let b = r.u8()?;
        size = (size << 7) | usize::from(b & 0x7f);
        if b & 0x80 == 0 {
            break;
        }
    }
    let body = r.bytes(size)?;
    Ok((tag, body))
}

/// Finds the first descriptor with `tag` among the descriptors packed in `r`.
fn find_descriptor<'a>(r: &mut Reader<'a>, tag: u8) -> Result<Option<&'a [u8]>> {
    while r.remaining() > 0 {
        let (t, body) = read_descriptor(r)?;
        if t == tag {
            return Ok(Some(body));
        }
    }
    Ok(None)
}

pub(crate) fn parse(payload: &[u8]) -> Result<Esds<'_>> {
    let mut r = Reader::new(payload, "esds: truncated");
    r.full_box()?;
    let Some(es) = find_descriptor(&mut r, ES_DESCR_TAG)? else {
        return decode_error("esds: no ES_Descriptor");
    };
    let mut r = Reader::new(es, "esds: truncated ES_Descriptor");
    r.skip(2)?; // ES_ID
    let flags = r.u8()?;
    if flags & 0x80 != 0 {
        r.skip(2)?; // dependsOn_ES_ID
    }
    if flags & 0x40 != 0 {
        let url_len = r.u8()?;
        r.skip(usize::from(url_len))?;
    }
    if flags & 0x20 != 0 {
        r.skip(2)?; // OCR_ES_Id
    }
    let Some(dc) = find_descriptor(&mut r, DECODER_CONFIG_DESCR_TAG)? else {
        return decode_error("esds: no DecoderConfigDescriptor");
    };
    let mut r = Reader::new(dc, "esds: truncated DecoderConfigDescriptor");
    let object_type_indication = r.u8()?;
    // streamType/upStream/reserved, bufferSizeDB, maxBitrate, avgBitrate.
    r.skip(1 + 3 + 4 + 4)?;
    let Some(dsi) = find_descriptor(&mut r, DEC_SPECIFIC_INFO_TAG)? else {
        return unsupported("esds: no DecoderSpecificInfo");
    };
    if dsi.len() > limits::MAX_CODEC_CONFIG_SIZE {
        return crate::error::limit_error("esds: DecoderSpecificInfo too large");
    }
    Ok(Esds {
        object_type_indication,
        decoder_specific_info: dsi,
    })
}

/// Appends a descriptor header with the shortest size encoding.
fn put_descriptor_header(buf: &mut BytesMut, tag: u8, size: usize) {
    buf.put_u8(tag);
    let mut groups = 1;
    while groups < 4 && size >> (7 * groups) != 0 {
        groups += 1;
    }
    for i in (0..groups).rev() {
        let more = if i == 0 { 0 } else { 0x80 };
        // Masked to 7 bits, so the cast keeps every set bit.
        buf.put_u8(((size >> (7 * i)) & 0x7f) as u8 | more);
    }
}

/// Writes an `esds` for AAC with `asc` as DecoderSpecificInfo.
///
/// The caller bounds `asc` by [`limits::MAX_CODEC_CONFIG_SIZE`], far below the 2^28 bytes a
/// four-byte descriptor size can express.
pub(crate) fn write(buf: &mut BytesMut, es_id: u16, asc: &[u8]) {
    let dsi_len = asc.len();
    let dsi_header = descriptor_header_len(dsi_len);
    let dc_len = 13 + dsi_header + dsi_len;
    let dc_header = descriptor_header_len(dc_len);
    let sl_len = 1;
    let es_len = 3 + dc_header + dc_len + 2 + sl_len;
    write_full_box(buf, b"esds", 0, 0, |buf| {
        put_descriptor_header(buf, ES_DESCR_TAG, es_len);
        buf.put_u16(es_id);
        buf.put_u8(0); // no dependency, URL or OCR stream
        put_descriptor_header(buf, DECODER_CONFIG_DESCR_TAG, dc_len);
        buf.put_u8(OTI_MPEG4_AUDIO);
        buf.put_u8((0x05 << 2) | 1); // streamType AudioStream, upStream 0, reserved 1
        buf.put_uint(0, 3); // bufferSizeDB: unknown
        buf.put_u32(0); // maxBitrate: unknown
        buf.put_u32(0); // avgBitrate: unknown
        put_descriptor_header(buf, DEC_SPECIFIC_INFO_TAG, dsi_len);
        buf.put_slice(asc);
        put_descriptor_header(buf, SL_CONFIG_DESCR_TAG, sl_len);
        buf.put_u8(0x02); // predefined: reserved for use in MP4 files (§7.3.2.3)
    });
}

fn descriptor_header_len(size: usize) -> usize {
    let mut groups = 1;
    while groups < 4 && size >> (7 * groups) != 0 {
        groups += 1;
    }
    1 + groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut buf = BytesMut::new();
        write(&mut buf, 1, &[0x11, 0x90]);
        let parsed = parse(&buf[8..]).unwrap();
        assert!(parsed.is_aac());
        assert_eq!(parsed.decoder_specific_info, &[0x11, 0x90]);
    }

    #[test]
    fn long_descriptor_sizes() {
        let asc = vec![0xaa; 300];
        let mut buf = BytesMut::new();
        write(&mut buf, 1, &asc);
        assert_eq!(parse(&buf[8..]).unwrap().decoder_specific_info, &asc[..]);
        let mut five = BytesMut::new();
        five.put_slice(&[0, 0, 0, 0, ES_DESCR_TAG, 0x80, 0x80, 0x80, 0x80, 0x01]);
        assert!(parse(&five).is_err());
    }
}
