//! The parser: playlist text to typed structs (RFC 8216 §4), line by line, tolerant of CRLF
//! line ends, a byte order mark, comments, blank lines and unknown tags (§4.1: clients MUST
//! ignore unrecognized tags), strict about everything it does interpret. Every count is checked
//! against [`crate::limits`] before it grows, and no input makes it panic.

use std::time::Duration;

use crate::attr::{self, Attributes, parse_byte_range, parse_duration, parse_integer};
use crate::error::{Error, Result};
use crate::limits;
use crate::time::DateTime;
use crate::types::{
    IFrameStream, Key, KeyMethod, Map, MediaPlaylist, MediaSegment, MediaType,
    MultivariantPlaylist, Part, Playlist, PlaylistType, PreloadHint, PreloadHintType, Rendition,
    RenditionReport, ServerControl, VariantStream,
};
use crate::uri::resolve;

fn decode<T>(line: usize, what: &'static str) -> Result<T> {
    Err(Error::Decode { line, what })
}

fn limit<T>(line: usize, what: &'static str) -> Result<T> {
    Err(Error::Limit { line, what })
}

/// One meaningful line.
#[derive(Debug, Clone, Copy)]
enum Line<'a> {
    /// `#EXT<name>[:<value>]`.
    Tag {
        name: &'a str,
        value: Option<&'a str>,
    },
    /// A URI line (§4.1), trimmed of surrounding whitespace.
    Uri(&'a str),
}

/// Checks the size and the encoding, and returns the text without a byte order mark.
fn prepare(input: &[u8]) -> Result<&str> {
    if input.len() > limits::MAX_PLAYLIST_SIZE {
        return limit(0, "playlist larger than MAX_PLAYLIST_SIZE");
    }
    let Ok(text) = std::str::from_utf8(input) else {
        return decode(0, "playlist is not UTF-8 (§4.1)");
    };
    // §4.1 forbids a byte order mark, but some encoders write one; it carries no meaning.
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// Iterates over the tag and URI lines, skipping blank lines and comments, with 1-based line
/// numbers. The first line must be `#EXTM3U` (§4.3.1.1).
fn lines(text: &str) -> impl Iterator<Item = Result<(usize, Line<'_>)>> {
    text.split('\n').enumerate().filter_map(|(i, raw)| {
        let n = i + 1;
        let raw = raw.strip_suffix('\r').unwrap_or(raw);
        if raw.len() > limits::MAX_LINE_LEN {
            return Some(limit(n, "line longer than MAX_LINE_LEN"));
        }
        // §4.1: no control characters other than CR and LF; a tab is tolerated as blank.
        if raw.chars().any(|c| c.is_control() && c != '\t') {
            return Some(decode(n, "control character in a line (§4.1)"));
        }
        let line = raw.trim();
        if n == 1 {
            return match line {
                "#EXTM3U" => None,
                _ => Some(decode(n, "first line is not #EXTM3U (§4.3.1.1)")),
            };
        }
        if line.is_empty() {
            return None;
        }
        if let Some(tag) = line.strip_prefix("#EXT") {
            let (name, value) = match tag.split_once(':') {
                Some((name, value)) => (name, Some(value)),
                None => (tag, None),
            };
            return Some(Ok((n, Line::Tag { name, value })));
        }
        if line.starts_with('#') {
            return None;
        }
        Some(Ok((n, Line::Uri(line))))
    })
}

fn value<'a>(line: usize, value: Option<&'a str>, what: &'static str) -> Result<&'a str> {
    match value {
        Some(v) => Ok(v),
        None => decode(line, what),
    }
}

fn integer(line: usize, v: Option<&str>, what: &'static str) -> Result<u64> {
    parse_integer(value(line, v, what)?).ok_or(Error::Decode { line, what })
}

fn attributes<'a>(line: usize, v: Option<&'a str>, what: &'static str) -> Result<Attributes<'a>> {
    attr::parse(value(line, v, what)?, line)
}

/// Resolves a URI against the playlist's URI when one is given.
fn uri(base: Option<&str>, reference: &str) -> String {
    match base {
        Some(b) => resolve(b, reference),
        None => reference.to_owned(),
    }
}

const MULTIVARIANT_TAGS: [&str; 3] = ["-X-STREAM-INF", "-X-MEDIA", "-X-I-FRAME-STREAM-INF"];
const MEDIA_TAGS: [&str; 2] = ["INF", "-X-TARGETDURATION"];

/// Parses a playlist of either kind (§4.1: a playlist is a media playlist if it has
/// segment tags, a multivariant playlist if it has variant tags, never both). URIs are
/// resolved against `base`, the URI (or object key) of the playlist, when given.
pub fn parse(input: &[u8], base: Option<&str>) -> Result<Playlist> {
    let text = prepare(input)?;
    let (mut media, mut multivariant) = (false, false);
    for item in lines(text) {
        if let (_, Line::Tag { name, .. }) = item? {
            media |= MEDIA_TAGS.contains(&name);
            multivariant |= MULTIVARIANT_TAGS.contains(&name);
        }
    }
    match (media, multivariant) {
        (true, false) => parse_media(input, base).map(Playlist::Media),
        (false, true) => parse_multivariant(input, base).map(Playlist::Multivariant),
        (true, true) => decode(0, "playlist has both media and multivariant tags (§4.1)"),
        (false, false) => decode(0, "playlist has neither media nor multivariant tags"),
    }
}

fn key(a: &Attributes<'_>, base: Option<&str>) -> Result<Key> {
    let method = match a.required_unquoted("METHOD", "EXT-X-KEY: METHOD")? {
        "NONE" => KeyMethod::None,
        "AES-128" => KeyMethod::Aes128,
        "SAMPLE-AES" => KeyMethod::SampleAes,
        _ => return decode(a.line, "EXT-X-KEY: unknown METHOD"),
    };
    let key_uri = a.quoted("URI", "EXT-X-KEY: URI")?;
    if (method == KeyMethod::None) != key_uri.is_none() {
        return decode(
            a.line,
            "EXT-X-KEY: URI present with NONE or absent otherwise (§4.3.2.4)",
        );
    }
    let iv = match a.unquoted("IV", "EXT-X-KEY: IV")? {
        None => None,
        Some(s) => Some(attr::parse_iv(s).ok_or(Error::Decode {
            line: a.line,
            what: "EXT-X-KEY: IV is not a 128-bit hexadecimal-sequence",
        })?),
    };
    Ok(Key {
        method,
        uri: key_uri.map(|u| uri(base, u)),
        iv,
        key_format: a
            .quoted("KEYFORMAT", "EXT-X-KEY: KEYFORMAT")?
            .map(str::to_owned),
        key_format_versions: a
            .quoted("KEYFORMATVERSIONS", "EXT-X-KEY: KEYFORMATVERSIONS")?
            .map(str::to_owned),
    })
}

fn quoted_byte_range(
    a: &Attributes<'_>,
    name: &str,
    what: &'static str,
) -> Result<Option<crate::ByteRange>> {
    match a.quoted(name, what)? {
        None => Ok(None),
        Some(s) => parse_byte_range(s)
            .map(Some)
            .ok_or(Error::Decode { line: a.line, what }),
    }
}

fn part(a: &Attributes<'_>, base: Option<&str>) -> Result<Part> {
    let Some(duration) = a.duration("DURATION", "EXT-X-PART: DURATION")? else {
        return decode(a.line, "EXT-X-PART: DURATION missing");
    };
    Ok(Part {
        uri: uri(base, a.required_quoted("URI", "EXT-X-PART: URI")?),
        duration,
        independent: a.yes_no("INDEPENDENT", "EXT-X-PART: INDEPENDENT")?,
        byte_range: quoted_byte_range(a, "BYTERANGE", "EXT-X-PART: BYTERANGE")?,
    })
}

/// Parses a media playlist (§4.3.2, §4.3.3; rfc8216bis §4.4.3.7-§4.4.5.4).
pub fn parse_media(input: &[u8], base: Option<&str>) -> Result<MediaPlaylist> {
    let text = prepare(input)?;
    let mut pl = MediaPlaylist::default();
    let mut target_seen = false;
    let mut pending = MediaSegment::default();
    let mut extinf: Option<(usize, Duration)> = None;
    let mut n_parts = 0usize;
    let mut n_hints = 0usize;
    for item in lines(text) {
        let (n, line) = item?;
        let (name, v) = match line {
            Line::Uri(u) => {
                let Some((_, duration)) = extinf.take() else {
                    return decode(n, "URI line without EXTINF (§4.3.2.1)");
                };
                if pl.segments.len() >= limits::MAX_SEGMENTS {
                    return limit(n, "more than MAX_SEGMENTS segments");
                }
                let mut segment = std::mem::take(&mut pending);
                segment.uri = uri(base, u);
                segment.duration = duration;
                pl.segments.push(segment);
                continue;
            }
            Line::Tag { name, value } => (name, value),
        };
        match name {
            "M3U" => return decode(n, "#EXTM3U repeated"),
            "-X-VERSION" => {
                integer(n, v, "EXT-X-VERSION")?;
            }
            "-X-TARGETDURATION" => {
                pl.target_duration = integer(n, v, "EXT-X-TARGETDURATION")?;
                target_seen = true;
            }
            "-X-MEDIA-SEQUENCE" => pl.media_sequence = integer(n, v, "EXT-X-MEDIA-SEQUENCE")?,
            "-X-DISCONTINUITY-SEQUENCE" => {
                pl.discontinuity_sequence = integer(n, v, "EXT-X-DISCONTINUITY-SEQUENCE")?;
            }
            "-X-PLAYLIST-TYPE" => {
                pl.playlist_type = Some(match value(n, v, "EXT-X-PLAYLIST-TYPE")? {
                    "VOD" => PlaylistType::Vod,
                    "EVENT" => PlaylistType::Event,
                    _ => return decode(n, "EXT-X-PLAYLIST-TYPE: not VOD or EVENT"),
                });
            }
            "-X-I-FRAMES-ONLY" => pl.i_frames_only = true,
            "-X-INDEPENDENT-SEGMENTS" => pl.independent_segments = true,
            "-X-ENDLIST" => pl.end_list = true,
            "-X-SERVER-CONTROL" => {
                let a = attributes(n, v, "EXT-X-SERVER-CONTROL")?;
                pl.server_control = Some(ServerControl {
                    can_block_reload: a
                        .yes_no("CAN-BLOCK-RELOAD", "EXT-X-SERVER-CONTROL: CAN-BLOCK-RELOAD")?,
                    hold_back: a.duration("HOLD-BACK", "EXT-X-SERVER-CONTROL: HOLD-BACK")?,
                    part_hold_back: a
                        .duration("PART-HOLD-BACK", "EXT-X-SERVER-CONTROL: PART-HOLD-BACK")?,
                });
            }
            "-X-PART-INF" => {
                let a = attributes(n, v, "EXT-X-PART-INF")?;
                pl.part_target = a.duration("PART-TARGET", "EXT-X-PART-INF: PART-TARGET")?;
                if pl.part_target.is_none() {
                    return decode(n, "EXT-X-PART-INF: PART-TARGET missing");
                }
            }
            "INF" => {
                if extinf.is_some() {
                    return decode(n, "EXTINF twice before a URI line");
                }
                let v = value(n, v, "EXTINF: duration")?;
                // §4.3.2.1: `<duration>,[<title>]`; the title is not kept.
                let duration = v.split_once(',').map_or(v, |(d, _)| d).trim();
                let Some(duration) = parse_duration(duration) else {
                    return decode(n, "EXTINF: duration is not a non-negative decimal");
                };
                extinf = Some((n, duration));
            }
            "-X-BYTERANGE" => {
                let v = value(n, v, "EXT-X-BYTERANGE")?;
                pending.byte_range = Some(parse_byte_range(v).ok_or(Error::Decode {
                    line: n,
                    what: "EXT-X-BYTERANGE",
                })?);
            }
            "-X-DISCONTINUITY" => pending.discontinuity = true,
            "-X-KEY" => {
                if pending.keys.len() >= limits::MAX_KEYS_PER_SEGMENT {
                    return limit(n, "more than MAX_KEYS_PER_SEGMENT EXT-X-KEY tags");
                }
                let a = attributes(n, v, "EXT-X-KEY")?;
                pending.keys.push(key(&a, base)?);
            }
            "-X-MAP" => {
                let a = attributes(n, v, "EXT-X-MAP")?;
                pending.map = Some(Map {
                    uri: uri(base, a.required_quoted("URI", "EXT-X-MAP: URI")?),
                    byte_range: quoted_byte_range(&a, "BYTERANGE", "EXT-X-MAP: BYTERANGE")?,
                });
            }
            "-X-PROGRAM-DATE-TIME" => {
                let v = value(n, v, "EXT-X-PROGRAM-DATE-TIME")?;
                pending.program_date_time = Some(DateTime::parse(v).ok_or(Error::Decode {
                    line: n,
                    what: "EXT-X-PROGRAM-DATE-TIME: not an ISO 8601 date-time",
                })?);
            }
            "-X-PART" => {
                if n_parts >= limits::MAX_PARTS {
                    return limit(n, "more than MAX_PARTS EXT-X-PART tags");
                }
                n_parts += 1;
                let a = attributes(n, v, "EXT-X-PART")?;
                pending.parts.push(part(&a, base)?);
            }
            "-X-PRELOAD-HINT" | "-X-RENDITION-REPORT" | "-X-PREFETCH" => {
                if n_hints >= limits::MAX_HINTS {
                    return limit(n, "more than MAX_HINTS hint and report tags");
                }
                n_hints += 1;
                match name {
                    "-X-PREFETCH" => {
                        let target = value(n, v, "EXT-X-PREFETCH: URI")?.trim();
                        if target.is_empty() {
                            return decode(n, "EXT-X-PREFETCH: empty URI");
                        }
                        pl.prefetch.push(uri(base, target));
                    }
                    "-X-PRELOAD-HINT" => {
                        let a = attributes(n, v, "EXT-X-PRELOAD-HINT")?;
                        let kind = match a.required_unquoted("TYPE", "EXT-X-PRELOAD-HINT: TYPE")? {
                            "PART" => PreloadHintType::Part,
                            "MAP" => PreloadHintType::Map,
                            _ => return decode(n, "EXT-X-PRELOAD-HINT: unknown TYPE"),
                        };
                        pl.preload_hints.push(PreloadHint {
                            kind,
                            uri: uri(base, a.required_quoted("URI", "EXT-X-PRELOAD-HINT: URI")?),
                            byte_range_start: a.integer(
                                "BYTERANGE-START",
                                "EXT-X-PRELOAD-HINT: BYTERANGE-START",
                            )?,
                            byte_range_length: a.integer(
                                "BYTERANGE-LENGTH",
                                "EXT-X-PRELOAD-HINT: BYTERANGE-LENGTH",
                            )?,
                        });
                    }
                    _ => {
                        let a = attributes(n, v, "EXT-X-RENDITION-REPORT")?;
                        pl.rendition_reports.push(RenditionReport {
                            uri: uri(
                                base,
                                a.required_quoted("URI", "EXT-X-RENDITION-REPORT: URI")?,
                            ),
                            last_msn: a.integer("LAST-MSN", "EXT-X-RENDITION-REPORT: LAST-MSN")?,
                            last_part: a
                                .integer("LAST-PART", "EXT-X-RENDITION-REPORT: LAST-PART")?,
                        });
                    }
                }
            }
            _ if MULTIVARIANT_TAGS.contains(&name) => {
                return decode(n, "multivariant tag in a media playlist (§4.1)");
            }
            // §4.1: unknown tags are ignored.
            _ => {}
        }
    }
    if let Some((n, _)) = extinf {
        return decode(n, "EXTINF without a following URI line");
    }
    if !target_seen {
        return decode(0, "EXT-X-TARGETDURATION missing (§4.3.3.1)");
    }
    // Parts after the last segment belong to the segment still being produced; other tags
    // left pending have no segment to apply to and are dropped.
    pl.trailing_parts = pending.parts;
    Ok(pl)
}

fn resolution(a: &Attributes<'_>, what: &'static str) -> Result<Option<crate::Resolution>> {
    match a.unquoted("RESOLUTION", what)? {
        None => Ok(None),
        Some(s) => attr::parse_resolution(s)
            .map(Some)
            .ok_or(Error::Decode { line: a.line, what }),
    }
}

/// Parses a multivariant playlist (§4.3.4).
pub fn parse_multivariant(input: &[u8], base: Option<&str>) -> Result<MultivariantPlaylist> {
    let text = prepare(input)?;
    let mut pl = MultivariantPlaylist::default();
    let mut pending: Option<(usize, VariantStream)> = None;
    for item in lines(text) {
        let (n, line) = item?;
        let (name, v) = match line {
            Line::Uri(u) => {
                let Some((_, mut variant)) = pending.take() else {
                    return decode(n, "URI line without EXT-X-STREAM-INF");
                };
                variant.uri = uri(base, u);
                pl.variants.push(variant);
                continue;
            }
            Line::Tag { name, value } => (name, value),
        };
        if pending.is_some() {
            // §4.3.4.2: the URI line MUST follow EXT-X-STREAM-INF; only comments and blank
            // lines are let through in between.
            return decode(n, "tag between EXT-X-STREAM-INF and its URI line");
        }
        match name {
            "M3U" => return decode(n, "#EXTM3U repeated"),
            "-X-VERSION" => {
                integer(n, v, "EXT-X-VERSION")?;
            }
            "-X-INDEPENDENT-SEGMENTS" => pl.independent_segments = true,
            "-X-MEDIA" => {
                if pl.renditions.len() >= limits::MAX_RENDITIONS {
                    return limit(n, "more than MAX_RENDITIONS EXT-X-MEDIA tags");
                }
                let a = attributes(n, v, "EXT-X-MEDIA")?;
                let kind = match a.required_unquoted("TYPE", "EXT-X-MEDIA: TYPE")? {
                    "AUDIO" => MediaType::Audio,
                    "VIDEO" => MediaType::Video,
                    "SUBTITLES" => MediaType::Subtitles,
                    "CLOSED-CAPTIONS" => MediaType::ClosedCaptions,
                    _ => return decode(n, "EXT-X-MEDIA: unknown TYPE"),
                };
                let owned = |s: Option<&str>| s.map(str::to_owned);
                pl.renditions.push(Rendition {
                    kind,
                    group_id: a
                        .required_quoted("GROUP-ID", "EXT-X-MEDIA: GROUP-ID")?
                        .to_owned(),
                    name: a.required_quoted("NAME", "EXT-X-MEDIA: NAME")?.to_owned(),
                    language: owned(a.quoted("LANGUAGE", "EXT-X-MEDIA: LANGUAGE")?),
                    default: a.yes_no("DEFAULT", "EXT-X-MEDIA: DEFAULT")?,
                    autoselect: a.yes_no("AUTOSELECT", "EXT-X-MEDIA: AUTOSELECT")?,
                    uri: a.quoted("URI", "EXT-X-MEDIA: URI")?.map(|u| uri(base, u)),
                    channels: owned(a.quoted("CHANNELS", "EXT-X-MEDIA: CHANNELS")?),
                    instream_id: owned(a.quoted("INSTREAM-ID", "EXT-X-MEDIA: INSTREAM-ID")?),
                });
            }
            "-X-STREAM-INF" | "-X-I-FRAME-STREAM-INF" => {
                if pl.variants.len() + pl.i_frame_streams.len() >= limits::MAX_VARIANTS {
                    return limit(n, "more than MAX_VARIANTS variant streams");
                }
                let a = attributes(n, v, "EXT-X-STREAM-INF")?;
                let Some(bandwidth) = a.integer("BANDWIDTH", "EXT-X-STREAM-INF: BANDWIDTH")? else {
                    return decode(n, "EXT-X-STREAM-INF: BANDWIDTH missing (§4.3.4.2)");
                };
                let average_bandwidth =
                    a.integer("AVERAGE-BANDWIDTH", "EXT-X-STREAM-INF: AVERAGE-BANDWIDTH")?;
                let codecs = a
                    .quoted("CODECS", "EXT-X-STREAM-INF: CODECS")?
                    .map(str::to_owned);
                let resolution = resolution(&a, "EXT-X-STREAM-INF: RESOLUTION")?;
                if name == "-X-I-FRAME-STREAM-INF" {
                    pl.i_frame_streams.push(IFrameStream {
                        uri: uri(
                            base,
                            a.required_quoted("URI", "EXT-X-I-FRAME-STREAM-INF: URI")?,
                        ),
                        bandwidth,
                        average_bandwidth,
                        codecs,
                        resolution,
                    });
                    continue;
                }
                let frame_rate = match a.unquoted("FRAME-RATE", "EXT-X-STREAM-INF: FRAME-RATE")? {
                    None => None,
                    Some(s) => Some(attr::parse_float(s).ok_or(Error::Decode {
                        line: n,
                        what: "EXT-X-STREAM-INF: FRAME-RATE",
                    })?),
                };
                let owned = |s: Option<&str>| s.map(str::to_owned);
                pending = Some((
                    n,
                    VariantStream {
                        uri: String::new(),
                        bandwidth,
                        average_bandwidth,
                        codecs,
                        resolution,
                        frame_rate,
                        audio: owned(a.quoted("AUDIO", "EXT-X-STREAM-INF: AUDIO")?),
                        subtitles: owned(a.quoted("SUBTITLES", "EXT-X-STREAM-INF: SUBTITLES")?),
                    },
                ));
            }
            _ if MEDIA_TAGS.contains(&name) => {
                return decode(n, "media segment tag in a multivariant playlist (§4.1)");
            }
            // §4.1: unknown tags are ignored.
            _ => {}
        }
    }
    if let Some((n, _)) = pending {
        return decode(n, "EXT-X-STREAM-INF without a following URI line");
    }
    Ok(pl)
}
