//! Thumbnails of a live stream: one H.264 keyframe in, a JPEG of a resolution bucket out.
//!
//! Sans-IO and stateless: the caller hands over the bytes of one IDR access unit (Annex-B, or
//! length-prefixed NAL units with their `AVCDecoderConfigurationRecord`), the picture is decoded
//! with OpenH264, scaled with an area filter (bilinear when enlarging is ever needed) and encoded
//! as a baseline JFIF JPEG. Only keyframes are decoded, so the cost is one intra picture per
//! thumbnail, not the whole stream.
//!
//! Input is hostile: lengths are checked against [`limits`] before anything is allocated, and
//! every failure is an [`Error`], never a panic.

use openh264::decoder::{DecodeOptions, Decoder, Flush};
use openh264::formats::YUVSource;

/// Limits on what one call accepts.
pub mod limits {
    /// Largest access unit (plus parameter sets) accepted, in bytes.
    pub const MAX_INPUT_BYTES: usize = 16 * 1024 * 1024;
    /// Largest decoded picture side, in pixels (H.264 level 6.2 tops out at 8192).
    pub const MAX_SIDE: usize = 8192;
    /// Largest number of NAL units in one access unit.
    pub const MAX_NAL_UNITS: usize = 4096;
}

/// Why no thumbnail came out.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is malformed (a length runs past the end, no picture in the data, ...).
    #[error("decode: {0}")]
    Decode(&'static str),
    /// The input or the picture exceeds a [`limits`] constant.
    #[error("limit: {0}")]
    Limit(&'static str),
    /// OpenH264 refused the bitstream.
    #[error("h264: {0}")]
    H264(String),
    /// The JPEG encoder failed.
    #[error("jpeg: {0}")]
    Jpeg(String),
}

/// The size bucket of a thumbnail, from the recording configuration's `thumbnailConfiguration
/// .resolution`. A bucket caps the height (width follows the aspect ratio); pictures smaller than
/// the bucket keep their size, since enlarging adds no detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Resolution {
    /// The source picture size (no resolution configured).
    #[default]
    Source,
    /// `SD`: at most 480 lines.
    Sd,
    /// `HD`: at most 720 lines.
    Hd,
    /// `FULL_HD`: at most 1080 lines.
    FullHd,
    /// `LOWEST_RESOLUTION`: the lowest rendition recorded. reelay records the source rendition
    /// only (no transcoding ladder), so this is the source size.
    Lowest,
}

impl Resolution {
    /// The bucket named by the API's `ThumbnailConfigurationResolution` value; `None` for an
    /// unknown name.
    pub fn from_api(name: &str) -> Option<Resolution> {
        Some(match name {
            "SD" => Resolution::Sd,
            "HD" => Resolution::Hd,
            "FULL_HD" => Resolution::FullHd,
            "LOWEST_RESOLUTION" => Resolution::Lowest,
            _ => return None,
        })
    }

    fn max_height(self) -> Option<usize> {
        match self {
            Resolution::Source | Resolution::Lowest => None,
            Resolution::Sd => Some(480),
            Resolution::Hd => Some(720),
            Resolution::FullHd => Some(1080),
        }
    }

    /// The output size for a `width`×`height` source: the height capped by the bucket, the width
    /// keeping the aspect ratio, both even and at least 2.
    pub fn output_size(self, width: usize, height: usize) -> (usize, usize) {
        let out_h = self.max_height().map_or(height, |cap| height.min(cap));
        if out_h == height || height == 0 {
            return (width, height);
        }
        let out_w = (width * out_h + height / 2) / height;
        (even(out_w), even(out_h))
    }
}

fn even(v: usize) -> usize {
    (v & !1).max(2)
}

/// How the keyframe's NAL units are framed.
#[derive(Debug, Clone, Copy)]
#[non_exhaustive]
pub enum Keyframe<'a> {
    /// Annex-B byte stream (start codes), carrying its SPS and PPS (as in an MPEG-TS segment).
    AnnexB(&'a [u8]),
    /// Length-prefixed NAL units (FLV, MP4) and the `AVCDecoderConfigurationRecord` that holds
    /// the parameter sets and the length size (ISO/IEC 14496-15 §5.3.3.1).
    Avcc {
        /// The decoder configuration record.
        config: &'a [u8],
        /// The access unit.
        data: &'a [u8],
    },
}

/// A JPEG thumbnail and its size.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Thumbnail {
    /// The JFIF bytes.
    pub jpeg: Vec<u8>,
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
}

/// JPEG quality used by [`thumbnail`]: what image tools default to, a fair size/detail balance.
pub const DEFAULT_QUALITY: u8 = 75;

/// Decodes `keyframe`, scales it into `resolution` and encodes it as JPEG.
pub fn thumbnail(keyframe: Keyframe<'_>, resolution: Resolution) -> Result<Thumbnail, Error> {
    thumbnail_with_quality(keyframe, resolution, DEFAULT_QUALITY)
}

/// [`thumbnail`] with an explicit JPEG quality (1–100).
pub fn thumbnail_with_quality(
    keyframe: Keyframe<'_>,
    resolution: Resolution,
    quality: u8,
) -> Result<Thumbnail, Error> {
    let annexb = to_annex_b(keyframe)?;
    let picture = decode(&annexb)?;
    let (w, h) = resolution.output_size(picture.width, picture.height);
    let scaled = if (w, h) == (picture.width, picture.height) {
        picture
    } else {
        picture.scale(w, h)
    };
    let ycbcr = scaled.to_jfif_ycbcr();
    let (w16, h16) = (
        u16::try_from(scaled.width).map_err(|_| Error::Limit("thumbnail width"))?,
        u16::try_from(scaled.height).map_err(|_| Error::Limit("thumbnail height"))?,
    );
    let mut jpeg = Vec::new();
    jpeg_encoder::Encoder::new(&mut jpeg, quality.clamp(1, 100))
        .encode(&ycbcr, w16, h16, jpeg_encoder::ColorType::Ycbcr)
        .map_err(|e| Error::Jpeg(e.to_string()))?;
    Ok(Thumbnail {
        jpeg,
        width: w16.into(),
        height: h16.into(),
    })
}

const START_CODE: [u8; 4] = [0, 0, 0, 1];

/// The Annex-B form of a keyframe (ITU-T H.264 Annex B), checked against the limits.
fn to_annex_b(keyframe: Keyframe<'_>) -> Result<Vec<u8>, Error> {
    match keyframe {
        Keyframe::AnnexB(data) => {
            if data.len() > limits::MAX_INPUT_BYTES {
                return Err(Error::Limit("input size"));
            }
            Ok(data.to_vec())
        }
        Keyframe::Avcc { config, data } => {
            if data.len().saturating_add(config.len()) > limits::MAX_INPUT_BYTES {
                return Err(Error::Limit("input size"));
            }
            let (length_size, sets) = parse_avcc(config)?;
            // Each NAL grows by at most the start-code length minus the smallest length size.
            let mut out = Vec::with_capacity(config.len() + data.len() * 2);
            for set in sets {
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(set);
            }
            let mut rest = data;
            let mut n = 0usize;
            while !rest.is_empty() {
                n += 1;
                if n > limits::MAX_NAL_UNITS {
                    return Err(Error::Limit("NAL units per access unit"));
                }
                if rest.len() < length_size {
                    return Err(Error::Decode("truncated NAL length"));
                }
                let len = rest[..length_size]
                    .iter()
                    .fold(0usize, |acc, b| (acc << 8) | usize::from(*b));
                rest = &rest[length_size..];
                if len > rest.len() {
                    return Err(Error::Decode("NAL length past the end"));
                }
                out.extend_from_slice(&START_CODE);
                out.extend_from_slice(&rest[..len]);
                rest = &rest[len..];
            }
            Ok(out)
        }
    }
}

/// The NAL length size and the SPS/PPS of an `AVCDecoderConfigurationRecord`
/// (ISO/IEC 14496-15 §5.3.3.1.2).
fn parse_avcc(config: &[u8]) -> Result<(usize, Vec<&[u8]>), Error> {
    let header = config
        .get(..6)
        .ok_or(Error::Decode("avcC shorter than its header"))?;
    if header[0] != 1 {
        return Err(Error::Decode("avcC version"));
    }
    let length_size = usize::from(header[4] & 0x03) + 1;
    if length_size == 3 {
        // §5.3.3.1.2: lengthSizeMinusOne is 0, 1 or 3.
        return Err(Error::Decode("avcC length size"));
    }
    let mut sets = Vec::new();
    let mut pos = 5usize;
    for count_mask in [0x1F_u8, 0xFF] {
        let count = usize::from(
            *config
                .get(pos)
                .ok_or(Error::Decode("avcC parameter set count"))?
                & count_mask,
        );
        pos += 1;
        for _ in 0..count {
            let len_bytes = config
                .get(pos..pos + 2)
                .ok_or(Error::Decode("avcC parameter set length"))?;
            let len = usize::from(u16::from_be_bytes([len_bytes[0], len_bytes[1]]));
            pos += 2;
            let set = config
                .get(pos..pos + len)
                .ok_or(Error::Decode("avcC parameter set past the end"))?;
            sets.push(set);
            pos += len;
        }
    }
    if sets.is_empty() {
        return Err(Error::Decode("avcC without parameter sets"));
    }
    Ok((length_size, sets))
}

/// A decoded 4:2:0 picture, tightly packed, in the stream's (limited) range.
#[derive(Debug, Clone)]
struct Picture {
    width: usize,
    height: usize,
    y: Vec<u8>,
    u: Vec<u8>,
    v: Vec<u8>,
}

fn decode(annexb: &[u8]) -> Result<Picture, Error> {
    if annexb.is_empty() {
        return Err(Error::Decode("empty access unit"));
    }
    let mut decoder = Decoder::new().map_err(|e| Error::H264(e.to_string()))?;
    let options = DecodeOptions::new().flush_after_decode(Flush::Flush);
    if let Some(yuv) = decoder
        .decode_with_options(annexb, options)
        .map_err(|e| Error::H264(e.to_string()))?
    {
        return copy_picture(&yuv);
    }
    let frames = decoder
        .flush_remaining()
        .map_err(|e| Error::H264(e.to_string()))?;
    match frames.first() {
        Some(yuv) => copy_picture(yuv),
        None => Err(Error::Decode("no picture in the access unit")),
    }
}

/// Copies the decoder's planes (which carry stride padding) into a packed picture, checking
/// every size against the buffers before slicing.
fn copy_picture(yuv: &impl YUVSource) -> Result<Picture, Error> {
    let (width, height) = yuv.dimensions();
    if width == 0 || height == 0 {
        return Err(Error::Decode("empty picture"));
    }
    if width > limits::MAX_SIDE || height > limits::MAX_SIDE {
        return Err(Error::Limit("picture size"));
    }
    let (sy, su, sv) = yuv.strides();
    let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
    let plane = |data: &[u8], stride: usize, w: usize, h: usize| -> Result<Vec<u8>, Error> {
        if stride < w || data.len() < stride * (h - 1) + w {
            return Err(Error::Decode("decoded plane smaller than the picture"));
        }
        let mut out = Vec::with_capacity(w * h);
        for row in 0..h {
            out.extend_from_slice(&data[row * stride..row * stride + w]);
        }
        Ok(out)
    };
    Ok(Picture {
        width,
        height,
        y: plane(yuv.y(), sy, width, height)?,
        u: plane(yuv.u(), su, cw, ch)?,
        v: plane(yuv.v(), sv, cw, ch)?,
    })
}

impl Picture {
    fn scale(&self, width: usize, height: usize) -> Picture {
        let (cw, ch) = (width.div_ceil(2), height.div_ceil(2));
        let (scw, sch) = (self.width.div_ceil(2), self.height.div_ceil(2));
        Picture {
            width,
            height,
            y: resample(&self.y, self.width, self.height, width, height),
            u: resample(&self.u, scw, sch, cw, ch),
            v: resample(&self.v, scw, sch, cw, ch),
        }
    }

    /// Interleaved full-range YCbCr (JFIF) from the limited-range planes of H.264 video
    /// (ITU-R BT.601/709 quantization: Y 16–235, Cb/Cr 16–240). The chroma is upsampled by
    /// pixel replication; the JPEG encoder subsamples it again.
    fn to_jfif_ycbcr(&self) -> Vec<u8> {
        let cw = self.width.div_ceil(2);
        let mut out = Vec::with_capacity(self.width * self.height * 3);
        for row in 0..self.height {
            for col in 0..self.width {
                let y = self.y[row * self.width + col];
                let c = (row / 2) * cw + col / 2;
                out.push(expand(y, 16, 219));
                out.push(expand_chroma(self.u[c]));
                out.push(expand_chroma(self.v[c]));
            }
        }
        out
    }
}

fn expand(v: u8, offset: i32, range: i32) -> u8 {
    let scaled = ((i32::from(v) - offset) * 255 + range / 2) / range;
    scaled.clamp(0, 255) as u8
}

fn expand_chroma(v: u8) -> u8 {
    let centred = (i32::from(v) - 128) * 255;
    let scaled = 128 + (centred + centred.signum() * 112) / 224;
    scaled.clamp(0, 255) as u8
}

/// Resamples one plane: an area (box) average when shrinking, which is exact for every source
/// pixel's coverage, and bilinear interpolation when enlarging.
fn resample(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    if dw >= sw && dh >= sh {
        return bilinear(src, sw, sh, dw, dh);
    }
    // Fixed point: coordinates in 1/dw (resp. 1/dh) of a source pixel, so that each destination
    // pixel covers exactly `sw` (`sh`) units of source and the weights are integers.
    let mut out = Vec::with_capacity(dw * dh);
    let mut col_spans = Vec::with_capacity(dw);
    for dx in 0..dw {
        col_spans.push(span(dx, sw, dw));
    }
    for dy in 0..dh {
        let rows = span(dy, sh, dh);
        for cols in &col_spans {
            let mut acc: u64 = 0;
            let mut weight: u64 = 0;
            for &(sy, wy) in &rows {
                for &(sx, wx) in cols {
                    let w = wy * wx;
                    acc += u64::from(src[sy * sw + sx]) * w;
                    weight += w;
                }
            }
            out.push(((acc + weight / 2) / weight.max(1)) as u8);
        }
    }
    out
}

/// The source pixels covered by destination pixel `d` (of `dn` over `sn` source pixels) and
/// their coverage weights, in units of 1/`dn` source pixel.
fn span(d: usize, sn: usize, dn: usize) -> Vec<(usize, u64)> {
    let start = d * sn;
    let end = start + sn;
    let mut out = Vec::new();
    let mut s = start / dn;
    while s * dn < end && s < sn {
        let lo = (s * dn).max(start);
        let hi = ((s + 1) * dn).min(end);
        if hi > lo {
            out.push((s, (hi - lo) as u64));
        }
        s += 1;
    }
    out
}

fn bilinear(src: &[u8], sw: usize, sh: usize, dw: usize, dh: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(dw * dh);
    // Pixel centres aligned (x_src = (x + 0.5) * sw / dw - 0.5), in 1/256 units.
    let coord = |d: usize, sn: usize, dn: usize| -> (usize, usize, u32) {
        let pos = ((2 * d + 1) * sn * 256 / (2 * dn)).saturating_sub(128);
        let i = (pos / 256).min(sn - 1);
        let j = (i + 1).min(sn - 1);
        (i, j, (pos % 256) as u32)
    };
    for dy in 0..dh {
        let (y0, y1, fy) = coord(dy, sh, dh);
        for dx in 0..dw {
            let (x0, x1, fx) = coord(dx, sw, dw);
            let p = |y: usize, x: usize| u32::from(src[y * sw + x]);
            let top = p(y0, x0) * (256 - fx) + p(y0, x1) * fx;
            let bottom = p(y1, x0) * (256 - fx) + p(y1, x1) * fx;
            let v = (top * (256 - fy) + bottom * fy + (1 << 15)) >> 16;
            out.push(v.min(255) as u8);
        }
    }
    out
}

#[cfg(test)]
mod tests;
