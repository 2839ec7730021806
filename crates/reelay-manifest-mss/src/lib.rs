//! Sans-IO Microsoft Smooth Streaming client manifest writer (MS-SSTR §2.2.2), the manifest of
//! MediaPackage VOD's `MssPackage`.
//!
//! Build a [`SmoothStreamingMedia`] with one [`StreamIndex`] per track type, their
//! [`QualityLevel`]s and [`Chunk`]s, and call [`SmoothStreamingMedia::write`].
//! [`avc_codec_private_data`] turns an `avcC` record into the `CodecPrivateData` Smooth clients
//! expect, and [`fragment_url`] expands a `StreamIndex@Url` template into the path a client
//! requests, so that a server names fragments exactly as the manifest announces them.
//!
//! **Architecture Invariant:** nothing here performs I/O, reads a clock or spawns a process;
//! writing never panics, and a model that cannot be a valid manifest is refused with an
//! [`Error`].
//!
//! Section numbers refer to MS-SSTR (Smooth Streaming Protocol) unless another standard is
//! named.

#[cfg(test)]
mod tests;
use reelay_manifest_dash::xml::XmlWriter;

use std::fmt::Write as _;

/// The default `SmoothStreamingMedia@TimeScale` (§2.2.2.1): 100 ns units.
pub const DEFAULT_TIMESCALE: u64 = 10_000_000;

/// The `Url` template reelay writes: the bitrate and the fragment's start time identify a
/// fragment (§2.2.2.3 `UrlPattern`, §2.2.3 `FragmentRequest`).
pub const URL_TEMPLATE: &str = "QualityLevels({bitrate})/Fragments({type}={start time})";

/// Everything that can go wrong while writing a manifest.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The model cannot be written as a valid manifest.
    #[error("cannot write Smooth Streaming manifest: {0}")]
    Invalid(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<reelay_manifest_dash::Error> for Error {
    fn from(e: reelay_manifest_dash::Error) -> Self {
        match e {
            reelay_manifest_dash::Error::Invalid(m) => Error::Invalid(m),
            // The XML writer only refuses characters; any later variant is a write failure too.
            _ => Error::Invalid("the XML writer refused the manifest"),
        }
    }
}

/// `StreamIndex@Type` (§2.2.2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StreamType {
    /// `video`
    Video,
    /// `audio`
    Audio,
}

impl StreamType {
    /// The attribute value, also used as the stream name in fragment URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            StreamType::Video => "video",
            StreamType::Audio => "audio",
        }
    }
}

/// The root element of a VOD presentation (`IsLive` false).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmoothStreamingMedia {
    /// `@TimeScale`: the unit of `@Duration` and of every chunk time; usually
    /// [`DEFAULT_TIMESCALE`].
    pub timescale: u64,
    /// `@Duration` of the presentation, in `timescale` units.
    pub duration: u64,
    /// The streams, at least one.
    pub streams: Vec<StreamIndex>,
}

/// A `StreamIndex` (§2.2.2.3): one track type, its quality levels and fragment timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamIndex {
    /// `@Type`.
    pub kind: StreamType,
    /// `@Name`: unique in the manifest; the name used in fragment URLs.
    pub name: String,
    /// `@Language` (ISO 639-2), if known.
    pub language: Option<String>,
    /// `@Url`: the fragment URL template, with `{bitrate}` and `{start time}`.
    pub url: String,
    /// `@MaxWidth` / `@MaxHeight` and `@DisplayWidth` / `@DisplayHeight` (video).
    pub display: Option<(u32, u32)>,
    /// The quality levels, at least one, with distinct bitrates.
    pub quality_levels: Vec<QualityLevel>,
    /// The fragments, in order, at least one.
    pub chunks: Vec<Chunk>,
}

/// A `QualityLevel` (§2.2.2.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QualityLevel {
    /// `@Bitrate` in bits per second; identifies the level in fragment URLs.
    pub bitrate: u64,
    /// `@FourCC`: `H264`, `AACL`, ...
    pub fourcc: String,
    /// `@CodecPrivateData` as uppercase hex.
    pub codec_private_data: String,
    /// Video: `@MaxWidth`, `@MaxHeight`.
    pub size: Option<(u32, u32)>,
    /// Audio: the `WaveFormatEx`-derived attributes.
    pub audio: Option<AudioAttributes>,
}

/// The audio attributes of a `QualityLevel` (§2.2.2.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioAttributes {
    /// `@SamplingRate` in Hz.
    pub sampling_rate: u32,
    /// `@Channels`.
    pub channels: u16,
    /// `@BitsPerSample`.
    pub bits_per_sample: u16,
    /// `@PacketSize` (block alignment).
    pub packet_size: u32,
    /// `@AudioTag`: the WAVE format tag (255 for raw AAC).
    pub audio_tag: u32,
}

impl AudioAttributes {
    /// AAC (`AACL`): 16 bits, packet size 4, tag 255 — what Smooth encoders write.
    pub fn aac(sampling_rate: u32, channels: u16) -> Self {
        Self {
            sampling_rate,
            channels,
            bits_per_sample: 16,
            packet_size: 4,
            audio_tag: 255,
        }
    }
}

/// A `c` element (§2.2.2.6): one fragment, `@t` its start (decode) time, `@d` its duration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Chunk {
    /// `@t`, in timescale units.
    pub t: u64,
    /// `@d`, in timescale units; never zero.
    pub d: u64,
}

/// Uppercase hexadecimal of `bytes`.
pub fn hex_upper(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        // Writing to a String cannot fail.
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// `CodecPrivateData` of an H.264 `QualityLevel` (§2.2.2.5: the SPS and PPS in Annex B byte
/// stream form, each after a `00000001` start code), from an `avcC` record
/// (ISO/IEC 14496-15 §5.3.3.1). Fails on a truncated record or one without SPS or PPS.
pub fn avc_codec_private_data(avcc: &[u8]) -> Result<String> {
    let bad = Error::Invalid("avcC record truncated or without SPS/PPS");
    let mut pos = 5usize;
    let mut out = String::new();
    for mask in [0x1f, 0xff] {
        let count = avcc.get(pos).ok_or(bad.clone())? & mask;
        pos += 1;
        if count == 0 {
            return Err(bad);
        }
        for _ in 0..count {
            let len = usize::from(u16::from_be_bytes([
                *avcc.get(pos).ok_or(bad.clone())?,
                *avcc.get(pos + 1).ok_or(bad.clone())?,
            ]));
            let nal = avcc.get(pos + 2..pos + 2 + len).ok_or(bad.clone())?;
            if nal.is_empty() {
                return Err(bad);
            }
            out.push_str("00000001");
            out.push_str(&hex_upper(nal));
            pos += 2 + len;
        }
    }
    Ok(out)
}

/// Expands a `StreamIndex@Url` template for one fragment (§2.2.3).
pub fn fragment_url(template: &str, stream_name: &str, bitrate: u64, start: u64) -> String {
    template
        .replace("{bitrate}", &bitrate.to_string())
        .replace("{Bitrate}", &bitrate.to_string())
        .replace("{start time}", &start.to_string())
        .replace("{start_time}", &start.to_string())
        .replace("{type}", stream_name)
}

/// Parses the fragment path reelay's [`URL_TEMPLATE`] produces,
/// `QualityLevels(<bitrate>)/Fragments(<name>=<start>)`, into (bitrate, name, start); numbers
/// must be canonical decimals.
pub fn parse_fragment_path(path: &str) -> Option<(u64, &str, u64)> {
    let (ql, frag) = path.split_once('/')?;
    let bitrate = ql.strip_prefix("QualityLevels(")?.strip_suffix(')')?;
    let inner = frag.strip_prefix("Fragments(")?.strip_suffix(')')?;
    let (name, start) = inner.split_once('=')?;
    let number = |s: &str| -> Option<u64> {
        // Canonical decimal only (no leading zero), so each fragment has exactly one name.
        if s.is_empty()
            || s.len() > 20
            || !s.bytes().all(|b| b.is_ascii_digit())
            || (s.len() > 1 && s.starts_with('0'))
        {
            return None;
        }
        s.parse().ok()
    };
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return None;
    }
    Some((number(bitrate)?, name, number(start)?))
}

impl SmoothStreamingMedia {
    /// Writes the manifest as UTF-8 XML. Fails when the model is not a valid manifest: no
    /// stream, a stream without quality levels or chunks, duplicate stream names or bitrates,
    /// a zero timescale or chunk duration, overlapping chunks, or a character XML cannot carry.
    pub fn write(&self) -> Result<String> {
        if self.timescale == 0 {
            return Err(Error::Invalid("zero TimeScale"));
        }
        if self.streams.is_empty() {
            return Err(Error::Invalid("no StreamIndex"));
        }
        for (i, s) in self.streams.iter().enumerate() {
            if self.streams[..i].iter().any(|o| o.name == s.name) {
                return Err(Error::Invalid("duplicate StreamIndex@Name"));
            }
        }
        let mut w = XmlWriter::new();
        // §2.2.2.1.
        w.start("SmoothStreamingMedia");
        w.attr("MajorVersion", "2")?;
        w.attr("MinorVersion", "2")?;
        w.attr("TimeScale", &self.timescale.to_string())?;
        w.attr("Duration", &self.duration.to_string())?;
        for s in &self.streams {
            s.write(&mut w)?;
        }
        Ok(w.finish())
    }
}

impl StreamIndex {
    fn write(&self, w: &mut XmlWriter) -> Result<()> {
        if self.quality_levels.is_empty() {
            return Err(Error::Invalid("StreamIndex without QualityLevel"));
        }
        if self.chunks.is_empty() {
            return Err(Error::Invalid("StreamIndex without chunks"));
        }
        for (i, q) in self.quality_levels.iter().enumerate() {
            // The bitrate is what names a level in fragment URLs (§2.2.3).
            if self.quality_levels[..i]
                .iter()
                .any(|o| o.bitrate == q.bitrate)
            {
                return Err(Error::Invalid("duplicate QualityLevel@Bitrate in a stream"));
            }
            if q.bitrate == 0 {
                return Err(Error::Invalid("zero QualityLevel@Bitrate"));
            }
        }
        let mut end: Option<u64> = None;
        for c in &self.chunks {
            if c.d == 0 {
                return Err(Error::Invalid("zero chunk duration"));
            }
            if end.is_some_and(|e| c.t < e) {
                return Err(Error::Invalid("overlapping chunks"));
            }
            end = Some(
                c.t.checked_add(c.d)
                    .ok_or(Error::Invalid("chunk end overflows"))?,
            );
        }
        // §2.2.2.3.
        w.start("StreamIndex");
        w.attr("Type", self.kind.as_str())?;
        w.attr("Name", &self.name)?;
        if let Some(lang) = &self.language {
            w.attr("Language", lang)?;
        }
        w.attr("Chunks", &self.chunks.len().to_string())?;
        w.attr("QualityLevels", &self.quality_levels.len().to_string())?;
        w.attr("Url", &self.url)?;
        if let Some((width, height)) = self.display {
            w.attr("MaxWidth", &width.to_string())?;
            w.attr("MaxHeight", &height.to_string())?;
            w.attr("DisplayWidth", &width.to_string())?;
            w.attr("DisplayHeight", &height.to_string())?;
        }
        for (i, q) in self.quality_levels.iter().enumerate() {
            // §2.2.2.5.
            w.start("QualityLevel");
            w.attr("Index", &i.to_string())?;
            w.attr("Bitrate", &q.bitrate.to_string())?;
            w.attr("FourCC", &q.fourcc)?;
            if let Some((width, height)) = q.size {
                w.attr("MaxWidth", &width.to_string())?;
                w.attr("MaxHeight", &height.to_string())?;
            }
            if let Some(a) = q.audio {
                w.attr("SamplingRate", &a.sampling_rate.to_string())?;
                w.attr("Channels", &a.channels.to_string())?;
                w.attr("BitsPerSample", &a.bits_per_sample.to_string())?;
                w.attr("PacketSize", &a.packet_size.to_string())?;
                w.attr("AudioTag", &a.audio_tag.to_string())?;
            }
            w.attr("CodecPrivateData", &q.codec_private_data)?;
            w.end();
        }
        for (n, c) in self.chunks.iter().enumerate() {
            // §2.2.2.6: `n` is the chunk's ordinal; `t` is written on every chunk so that
            // readers need not accumulate durations.
            w.start("c");
            w.attr("n", &n.to_string())?;
            w.attr("t", &c.t.to_string())?;
            w.attr("d", &c.d.to_string())?;
            w.end();
        }
        w.end();
        Ok(())
    }
}
