//! The typed playlist model shared by the writer and the parser.
//!
//! Tags that apply to "every following segment" in the text (`EXT-X-KEY`, `EXT-X-MAP`) are
//! stored on the segment they precede, exactly where they appear, so that writing and parsing
//! are inverse of each other. [`MediaPlaylist::apply_keys`] and
//! [`MediaPlaylist::apply_program_date_times`] fill them in for the usual packaging choices.

use std::time::Duration;

use crate::time::DateTime;

/// A media playlist (RFC 8216 §4.3.3, §4.3.4; LL-HLS tags from draft-pantos-hls-rfc8216bis
/// §4.4.3.7-§4.4.3.8 and §4.4.5).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaPlaylist {
    /// Lower bound for `EXT-X-TARGETDURATION`, in seconds. The writer emits the larger of this
    /// and the ceiling of the longest segment duration (§4.3.3.1), so 0 means "computed".
    pub target_duration: u64,
    /// `EXT-X-MEDIA-SEQUENCE` (§4.3.3.2): media sequence number of the first segment.
    pub media_sequence: u64,
    /// `EXT-X-DISCONTINUITY-SEQUENCE` (§4.3.3.3); written when non-zero.
    pub discontinuity_sequence: u64,
    /// `EXT-X-PLAYLIST-TYPE` (§4.3.3.5).
    pub playlist_type: Option<PlaylistType>,
    /// `EXT-X-INDEPENDENT-SEGMENTS` (§4.3.5.1).
    pub independent_segments: bool,
    /// `EXT-X-I-FRAMES-ONLY` (§4.3.3.6): each segment is one I-frame.
    pub i_frames_only: bool,
    /// `EXT-X-SERVER-CONTROL` (rfc8216bis §4.4.3.8).
    pub server_control: Option<ServerControl>,
    /// `EXT-X-PART-INF:PART-TARGET` (rfc8216bis §4.4.3.7); required when parts are present.
    pub part_target: Option<Duration>,
    /// The media segments, in order.
    pub segments: Vec<MediaSegment>,
    /// Partial segments of the segment still being produced, after the last complete one.
    pub trailing_parts: Vec<Part>,
    /// `EXT-X-PRELOAD-HINT` tags (rfc8216bis §4.4.5.3).
    pub preload_hints: Vec<PreloadHint>,
    /// `#EXT-X-PREFETCH:<uri>` lines: segments announced before they are complete, the
    /// low-latency form some players (IVS's among them) read instead of LL-HLS parts.
    pub prefetch: Vec<String>,
    /// `EXT-X-RENDITION-REPORT` tags (rfc8216bis §4.4.5.4).
    pub rendition_reports: Vec<RenditionReport>,
    /// `EXT-X-ENDLIST` (§4.3.3.4): no more segments will be added.
    pub end_list: bool,
}

/// `EXT-X-PLAYLIST-TYPE` values (§4.3.3.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PlaylistType {
    /// `VOD`: the playlist cannot change.
    Vod,
    /// `EVENT`: segments can only be appended.
    Event,
}

/// One media segment (§3) with the tags that precede its URI line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MediaSegment {
    /// The segment URI line.
    pub uri: String,
    /// `EXTINF` duration (§4.3.2.1).
    pub duration: Duration,
    /// `EXT-X-BYTERANGE` (§4.3.2.2).
    pub byte_range: Option<ByteRange>,
    /// `EXT-X-DISCONTINUITY` before this segment (§4.3.2.3).
    pub discontinuity: bool,
    /// `EXT-X-KEY` tags before this segment (§4.3.2.4); they apply until the next ones.
    pub keys: Vec<Key>,
    /// `EXT-X-MAP` before this segment (§4.3.2.5); it applies until the next one.
    pub map: Option<Map>,
    /// `EXT-X-PROGRAM-DATE-TIME` of this segment's first sample (§4.3.2.6).
    pub program_date_time: Option<DateTime>,
    /// `EXT-X-PART` tags making up this segment (rfc8216bis §4.4.4.9).
    pub parts: Vec<Part>,
}

/// A byte range: `<length>[@<offset>]` (§4.3.2.2). Without an offset, the range starts right
/// after the previous range of the same resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ByteRange {
    /// Length in bytes.
    pub length: u64,
    /// Offset of the first byte.
    pub offset: Option<u64>,
}

/// `EXT-X-KEY` (§4.3.2.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    /// `METHOD`.
    pub method: KeyMethod,
    /// `URI` of the key; required unless the method is `NONE`.
    pub uri: Option<String>,
    /// `IV`: 128-bit initialization vector; without it the media sequence number is used.
    pub iv: Option<[u8; 16]>,
    /// `KEYFORMAT`; absent means `identity`.
    pub key_format: Option<String>,
    /// `KEYFORMATVERSIONS`, e.g. `1` or `1/2/5`.
    pub key_format_versions: Option<String>,
}

impl Key {
    /// An identity-format key of `method` at `uri`, with no explicit IV.
    pub fn new(method: KeyMethod, uri: impl Into<String>) -> Self {
        Self {
            method,
            uri: Some(uri.into()),
            iv: None,
            key_format: None,
            key_format_versions: None,
        }
    }
}

/// `EXT-X-KEY` `METHOD` values (§4.3.2.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyMethod {
    /// `NONE`: the following segments are not encrypted.
    None,
    /// `AES-128`: whole segments encrypted with AES-128 CBC and PKCS7 padding.
    Aes128,
    /// `SAMPLE-AES`: media samples encrypted inside the container.
    SampleAes,
}

/// `EXT-X-MAP` (§4.3.2.5): the media initialization section.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Map {
    /// `URI` of the initialization section.
    pub uri: String,
    /// `BYTERANGE` within that resource; the offset is required here.
    pub byte_range: Option<ByteRange>,
}

/// `EXT-X-SERVER-CONTROL` (rfc8216bis §4.4.3.8).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ServerControl {
    /// `CAN-BLOCK-RELOAD=YES`: the server supports blocking playlist reload.
    pub can_block_reload: bool,
    /// `HOLD-BACK`: server-recommended minimum distance from the live edge.
    pub hold_back: Option<Duration>,
    /// `PART-HOLD-BACK`: the same, for low-latency playback.
    pub part_hold_back: Option<Duration>,
}

/// `EXT-X-PART` (rfc8216bis §4.4.4.9): a partial segment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Part {
    /// `URI` of the partial segment.
    pub uri: String,
    /// `DURATION`.
    pub duration: Duration,
    /// `INDEPENDENT=YES`: the part starts with an independent frame.
    pub independent: bool,
    /// `BYTERANGE` within the resource.
    pub byte_range: Option<ByteRange>,
}

/// `EXT-X-PRELOAD-HINT` (rfc8216bis §4.4.5.3).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct PreloadHint {
    /// `TYPE`.
    pub kind: PreloadHintType,
    /// `URI` of the resource.
    pub uri: String,
    /// `BYTERANGE-START`.
    pub byte_range_start: Option<u64>,
    /// `BYTERANGE-LENGTH`.
    pub byte_range_length: Option<u64>,
}

/// `EXT-X-PRELOAD-HINT` `TYPE` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PreloadHintType {
    /// `PART`: the next partial segment.
    Part,
    /// `MAP`: the next media initialization section.
    Map,
}

/// `EXT-X-RENDITION-REPORT` (rfc8216bis §4.4.5.4).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RenditionReport {
    /// `URI` of the other rendition's media playlist.
    pub uri: String,
    /// `LAST-MSN`: its last media sequence number.
    pub last_msn: Option<u64>,
    /// `LAST-PART`: its last part index.
    pub last_part: Option<u64>,
}

/// How [`MediaPlaylist::apply_keys`] places `EXT-X-KEY` tags (MediaPackage's
/// `repeatExtXKey`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KeyPlacement {
    /// Once, before the first segment; the keys apply to every segment (§4.3.2.4).
    Once,
    /// Repeated before every segment.
    EverySegment,
}

impl MediaPlaylist {
    /// Sets the `EXT-X-KEY` tags of every segment: before the first only, or before each.
    pub fn apply_keys(&mut self, keys: &[Key], placement: KeyPlacement) {
        for (i, segment) in self.segments.iter_mut().enumerate() {
            segment.keys = match placement {
                KeyPlacement::EverySegment => keys.to_vec(),
                KeyPlacement::Once if i == 0 => keys.to_vec(),
                KeyPlacement::Once => Vec::new(),
            };
        }
    }

    /// Sets `EXT-X-PROGRAM-DATE-TIME` on the first segment (at `start`) and then on the first
    /// segment starting at least `interval` after the last one that carries it, each with its
    /// exact start time (`start` plus the preceding segments' durations). A zero `interval`
    /// tags every segment.
    pub fn apply_program_date_times(&mut self, start: DateTime, interval: Duration) {
        let mut elapsed = Duration::ZERO;
        let mut last_tagged: Option<Duration> = None;
        for segment in &mut self.segments {
            let due = last_tagged.is_none_or(|last| elapsed.saturating_sub(last) >= interval);
            segment.program_date_time = if due {
                last_tagged = Some(elapsed);
                Some(start.add(elapsed))
            } else {
                None
            };
            elapsed = elapsed.saturating_add(segment.duration);
        }
    }

    /// The `EXT-X-TARGETDURATION` the writer emits: the larger of
    /// [`MediaPlaylist::target_duration`] and the longest segment duration rounded up to whole
    /// seconds (§4.3.3.1 requires every `EXTINF`, rounded to the nearest integer, to be at most
    /// the target; rounding up is the conservative reading).
    pub fn computed_target_duration(&self) -> u64 {
        let longest = self
            .segments
            .iter()
            .map(|s| s.duration)
            .max()
            .unwrap_or(Duration::ZERO);
        let ceil = longest
            .as_secs()
            .saturating_add(u64::from(longest.subsec_nanos() > 0));
        ceil.max(self.target_duration)
    }
}

/// A multivariant playlist (RFC 8216 §4.3.4; "master playlist" in RFC 8216).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MultivariantPlaylist {
    /// `EXT-X-INDEPENDENT-SEGMENTS` (§4.3.5.1).
    pub independent_segments: bool,
    /// `EXT-X-MEDIA` renditions (§4.3.4.1).
    pub renditions: Vec<Rendition>,
    /// `EXT-X-STREAM-INF` variant streams (§4.3.4.2).
    pub variants: Vec<VariantStream>,
    /// `EXT-X-I-FRAME-STREAM-INF` streams (§4.3.4.3).
    pub i_frame_streams: Vec<IFrameStream>,
}

/// `EXT-X-MEDIA` (§4.3.4.1): an alternative rendition.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rendition {
    /// `TYPE`.
    pub kind: MediaType,
    /// `GROUP-ID`.
    pub group_id: String,
    /// `NAME`: human-readable description.
    pub name: String,
    /// `LANGUAGE`: RFC 5646 tag.
    pub language: Option<String>,
    /// `DEFAULT=YES`.
    pub default: bool,
    /// `AUTOSELECT=YES`.
    pub autoselect: bool,
    /// `URI` of the rendition's media playlist; absent when the rendition is muxed into the
    /// variant (and always for closed captions).
    pub uri: Option<String>,
    /// `CHANNELS`, e.g. `2` (audio only).
    pub channels: Option<String>,
    /// `INSTREAM-ID`, e.g. `CC1` (closed captions only).
    pub instream_id: Option<String>,
}

/// `EXT-X-MEDIA` `TYPE` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum MediaType {
    /// `AUDIO`.
    Audio,
    /// `VIDEO`.
    Video,
    /// `SUBTITLES`.
    Subtitles,
    /// `CLOSED-CAPTIONS`.
    ClosedCaptions,
}

/// `EXT-X-STREAM-INF` (§4.3.4.2) and the URI line that follows it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VariantStream {
    /// URI of the variant's media playlist.
    pub uri: String,
    /// `BANDWIDTH`: peak bit rate in bits per second.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`.
    pub average_bandwidth: Option<u64>,
    /// `CODECS`: RFC 6381 codec list, see [`crate::codecs`].
    pub codecs: Option<String>,
    /// `RESOLUTION`.
    pub resolution: Option<Resolution>,
    /// `FRAME-RATE`, written with three decimals.
    pub frame_rate: Option<f64>,
    /// `AUDIO`: the `GROUP-ID` of the audio renditions to combine with this variant.
    pub audio: Option<String>,
    /// `SUBTITLES`: the `GROUP-ID` of the subtitle renditions.
    pub subtitles: Option<String>,
}

/// `EXT-X-I-FRAME-STREAM-INF` (§4.3.4.3).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct IFrameStream {
    /// `URI` of the I-frame media playlist.
    pub uri: String,
    /// `BANDWIDTH`.
    pub bandwidth: u64,
    /// `AVERAGE-BANDWIDTH`.
    pub average_bandwidth: Option<u64>,
    /// `CODECS`.
    pub codecs: Option<String>,
    /// `RESOLUTION`.
    pub resolution: Option<Resolution>,
}

/// A `decimal-resolution` (§4.2): `<width>x<height>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Resolution {
    /// Width in pixels.
    pub width: u64,
    /// Height in pixels.
    pub height: u64,
}

/// A parsed playlist of either kind.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Playlist {
    /// A multivariant playlist.
    Multivariant(MultivariantPlaylist),
    /// A media playlist.
    Media(MediaPlaylist),
}
