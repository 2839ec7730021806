//! The writer: typed playlists to text. Tags are written in the order the specification lists
//! them, attribute values with the type it assigns them (RFC 8216 §4.2), and `EXT-X-VERSION`
//! is the lowest version whose features the playlist uses (RFC 8216 §7).

use std::fmt::Write as _;

use crate::attr::{Writer, check_quoted, format_byte_range, format_duration};
use crate::error::{Error, Result};
use crate::types::{
    Key, KeyMethod, MediaPlaylist, MediaSegment, MediaType, MultivariantPlaylist, Part,
    PlaylistType, PreloadHintType,
};

/// Appends one line; writing to a `String` cannot fail, so the `fmt::Result` is dropped.
macro_rules! line {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}

/// A URI line or URI attribute: non-empty, one line, and (for a URI line) not mistakable for a
/// tag or comment (§4.1).
fn check_uri(uri: &str) -> Result<()> {
    if uri.is_empty() || uri.starts_with('#') || uri.trim() != uri {
        return Err(Error::Invalid(
            "URI is empty, starts with '#' or has surrounding whitespace",
        ));
    }
    check_quoted(uri)
}

fn write_key(out: &mut String, key: &Key) -> Result<()> {
    out.push_str("#EXT-X-KEY:");
    let mut w = Writer::new(out);
    let method = match key.method {
        KeyMethod::None => "NONE",
        KeyMethod::Aes128 => "AES-128",
        KeyMethod::SampleAes => "SAMPLE-AES",
    };
    w.enumerated("METHOD", method);
    match (&key.uri, key.method) {
        // §4.3.2.4: with METHOD=NONE, URI, IV, KEYFORMAT and KEYFORMATVERSIONS MUST NOT appear.
        (None, KeyMethod::None) => {
            if key.iv.is_some() || key.key_format.is_some() || key.key_format_versions.is_some() {
                return Err(Error::Invalid(
                    "EXT-X-KEY: METHOD=NONE with other attributes",
                ));
            }
        }
        (Some(_), KeyMethod::None) => {
            return Err(Error::Invalid("EXT-X-KEY: METHOD=NONE with a URI"));
        }
        (None, _) => return Err(Error::Invalid("EXT-X-KEY: encryption method without URI")),
        (Some(uri), _) => {
            check_uri(uri)?;
            w.quoted("URI", uri)?;
        }
    }
    if let Some(iv) = &key.iv {
        w.hex("IV", iv);
    }
    w.opt_quoted("KEYFORMAT", key.key_format.as_deref())?;
    w.opt_quoted("KEYFORMATVERSIONS", key.key_format_versions.as_deref())?;
    out.push('\n');
    Ok(())
}

fn write_part(out: &mut String, part: &Part) -> Result<()> {
    check_uri(&part.uri)?;
    out.push_str("#EXT-X-PART:");
    let mut w = Writer::new(out);
    w.duration("DURATION", part.duration);
    w.quoted("URI", &part.uri)?;
    if part.independent {
        w.enumerated("INDEPENDENT", "YES");
    }
    if let Some(range) = part.byte_range {
        w.quoted("BYTERANGE", &format_byte_range(range))?;
    }
    out.push('\n');
    Ok(())
}

fn write_segment(out: &mut String, segment: &MediaSegment) -> Result<()> {
    check_uri(&segment.uri)?;
    if segment.discontinuity {
        line!(out, "#EXT-X-DISCONTINUITY");
    }
    for key in &segment.keys {
        write_key(out, key)?;
    }
    if let Some(map) = &segment.map {
        check_uri(&map.uri)?;
        out.push_str("#EXT-X-MAP:");
        let mut w = Writer::new(out);
        w.quoted("URI", &map.uri)?;
        if let Some(range) = map.byte_range {
            // §4.3.2.5: the BYTERANGE of EXT-X-MAP must carry an offset.
            if range.offset.is_none() {
                return Err(Error::Invalid("EXT-X-MAP: BYTERANGE without offset"));
            }
            w.quoted("BYTERANGE", &format_byte_range(range))?;
        }
        out.push('\n');
    }
    if let Some(pdt) = segment.program_date_time {
        line!(out, "#EXT-X-PROGRAM-DATE-TIME:{pdt}");
    }
    for part in &segment.parts {
        write_part(out, part)?;
    }
    // §4.3.2.1: the title after the comma is optional; the comma is not.
    line!(out, "#EXTINF:{},", format_duration(segment.duration));
    if let Some(range) = segment.byte_range {
        line!(out, "#EXT-X-BYTERANGE:{}", format_byte_range(range));
    }
    line!(out, "{}", segment.uri);
    Ok(())
}

impl MediaPlaylist {
    /// The compatibility version this playlist requires (RFC 8216 §7). Always at least 3,
    /// because `EXTINF` durations are written as decimal-floating-point.
    pub fn version(&self) -> u8 {
        let mut version = 3;
        let keys = self.segments.iter().flat_map(|s| &s.keys);
        for key in keys {
            if key.method == KeyMethod::SampleAes
                || key.key_format.is_some()
                || key.key_format_versions.is_some()
            {
                version = version.max(5);
            }
            // IV needs version 2, below the floor of 3.
        }
        if self.i_frames_only || self.segments.iter().any(|s| s.byte_range.is_some()) {
            version = version.max(4);
        }
        if self.segments.iter().any(|s| s.map.is_some()) {
            version = version.max(if self.i_frames_only { 5 } else { 6 });
        }
        version
    }

    /// Writes the playlist (RFC 8216 §4.3.3-§4.3.5, rfc8216bis §4.4.3.7-§4.4.5.4).
    pub fn write(&self) -> Result<String> {
        let has_parts =
            !self.trailing_parts.is_empty() || self.segments.iter().any(|s| !s.parts.is_empty());
        let hints_part = self
            .preload_hints
            .iter()
            .any(|h| h.kind == PreloadHintType::Part);
        if (has_parts || hints_part) && self.part_target.is_none() {
            // rfc8216bis §4.4.3.7: EXT-X-PART-INF is REQUIRED if the playlist has EXT-X-PART.
            return Err(Error::Invalid(
                "parts or a PART preload hint without part_target",
            ));
        }
        let mut out = String::new();
        line!(out, "#EXTM3U");
        line!(out, "#EXT-X-VERSION:{}", self.version());
        line!(
            out,
            "#EXT-X-TARGETDURATION:{}",
            self.computed_target_duration()
        );
        if let Some(sc) = &self.server_control {
            out.push_str("#EXT-X-SERVER-CONTROL:");
            let mut w = Writer::new(&mut out);
            if sc.can_block_reload {
                w.enumerated("CAN-BLOCK-RELOAD", "YES");
            }
            if let Some(d) = sc.hold_back {
                w.duration("HOLD-BACK", d);
            }
            if let Some(d) = sc.part_hold_back {
                w.duration("PART-HOLD-BACK", d);
            }
            out.push('\n');
        }
        if let Some(target) = self.part_target {
            line!(
                out,
                "#EXT-X-PART-INF:PART-TARGET={}",
                format_duration(target)
            );
        }
        line!(out, "#EXT-X-MEDIA-SEQUENCE:{}", self.media_sequence);
        if self.discontinuity_sequence != 0 {
            line!(
                out,
                "#EXT-X-DISCONTINUITY-SEQUENCE:{}",
                self.discontinuity_sequence
            );
        }
        match self.playlist_type {
            Some(PlaylistType::Vod) => line!(out, "#EXT-X-PLAYLIST-TYPE:VOD"),
            Some(PlaylistType::Event) => line!(out, "#EXT-X-PLAYLIST-TYPE:EVENT"),
            None => {}
        }
        if self.i_frames_only {
            line!(out, "#EXT-X-I-FRAMES-ONLY");
        }
        if self.independent_segments {
            line!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
        }
        for segment in &self.segments {
            write_segment(&mut out, segment)?;
        }
        for part in &self.trailing_parts {
            write_part(&mut out, part)?;
        }
        for hint in &self.preload_hints {
            check_uri(&hint.uri)?;
            out.push_str("#EXT-X-PRELOAD-HINT:");
            let mut w = Writer::new(&mut out);
            let kind = match hint.kind {
                PreloadHintType::Part => "PART",
                PreloadHintType::Map => "MAP",
            };
            w.enumerated("TYPE", kind);
            w.quoted("URI", &hint.uri)?;
            w.opt_integer("BYTERANGE-START", hint.byte_range_start);
            w.opt_integer("BYTERANGE-LENGTH", hint.byte_range_length);
            out.push('\n');
        }
        for uri in &self.prefetch {
            check_uri(uri)?;
            line!(out, "#EXT-X-PREFETCH:{uri}");
        }
        for report in &self.rendition_reports {
            check_uri(&report.uri)?;
            out.push_str("#EXT-X-RENDITION-REPORT:");
            let mut w = Writer::new(&mut out);
            w.quoted("URI", &report.uri)?;
            w.opt_integer("LAST-MSN", report.last_msn);
            w.opt_integer("LAST-PART", report.last_part);
            out.push('\n');
        }
        if self.end_list {
            line!(out, "#EXT-X-ENDLIST");
        }
        Ok(out)
    }
}

impl MultivariantPlaylist {
    /// The compatibility version this playlist requires (RFC 8216 §7): 7 when an
    /// `INSTREAM-ID` names a `SERVICE`, else 1 (and then `EXT-X-VERSION` is omitted).
    pub fn version(&self) -> u8 {
        let service = self.renditions.iter().any(|r| {
            r.instream_id
                .as_deref()
                .is_some_and(|id| id.starts_with("SERVICE"))
        });
        if service { 7 } else { 1 }
    }

    /// Writes the playlist (RFC 8216 §4.3.4, §4.3.5).
    pub fn write(&self) -> Result<String> {
        let mut out = String::new();
        line!(out, "#EXTM3U");
        let version = self.version();
        if version > 1 {
            line!(out, "#EXT-X-VERSION:{version}");
        }
        if self.independent_segments {
            line!(out, "#EXT-X-INDEPENDENT-SEGMENTS");
        }
        for r in &self.renditions {
            out.push_str("#EXT-X-MEDIA:");
            let mut w = Writer::new(&mut out);
            let kind = match r.kind {
                MediaType::Audio => "AUDIO",
                MediaType::Video => "VIDEO",
                MediaType::Subtitles => "SUBTITLES",
                MediaType::ClosedCaptions => "CLOSED-CAPTIONS",
            };
            w.enumerated("TYPE", kind);
            w.quoted("GROUP-ID", &r.group_id)?;
            w.quoted("NAME", &r.name)?;
            w.opt_quoted("LANGUAGE", r.language.as_deref())?;
            // §4.3.4.1: absent DEFAULT and AUTOSELECT mean NO; writing both keeps the
            // playlist explicit, as packagers do. AUTOSELECT MUST be YES when DEFAULT is.
            if r.default && !r.autoselect {
                return Err(Error::Invalid(
                    "EXT-X-MEDIA: DEFAULT=YES requires AUTOSELECT=YES",
                ));
            }
            w.enumerated("DEFAULT", if r.default { "YES" } else { "NO" });
            w.enumerated("AUTOSELECT", if r.autoselect { "YES" } else { "NO" });
            match (r.kind, &r.uri, &r.instream_id) {
                (MediaType::ClosedCaptions, Some(_), _) => {
                    return Err(Error::Invalid("EXT-X-MEDIA: CLOSED-CAPTIONS with a URI"));
                }
                (MediaType::ClosedCaptions, None, None) => {
                    return Err(Error::Invalid(
                        "EXT-X-MEDIA: CLOSED-CAPTIONS without INSTREAM-ID",
                    ));
                }
                (MediaType::Subtitles, None, _) => {
                    return Err(Error::Invalid("EXT-X-MEDIA: SUBTITLES without a URI"));
                }
                (_, Some(uri), _) => {
                    check_uri(uri)?;
                    w.quoted("URI", uri)?;
                }
                _ => {}
            }
            w.opt_quoted("INSTREAM-ID", r.instream_id.as_deref())?;
            w.opt_quoted("CHANNELS", r.channels.as_deref())?;
            out.push('\n');
        }
        for v in &self.variants {
            check_uri(&v.uri)?;
            let groups = [
                (MediaType::Audio, &v.audio),
                (MediaType::Subtitles, &v.subtitles),
            ];
            for (kind, group) in groups {
                let Some(group) = group else { continue };
                // §4.3.4.2: the group named by AUDIO / SUBTITLES MUST exist with that TYPE.
                if !self
                    .renditions
                    .iter()
                    .any(|r| r.kind == kind && &r.group_id == group)
                {
                    return Err(Error::Invalid(
                        "EXT-X-STREAM-INF names a missing rendition group",
                    ));
                }
            }
            out.push_str("#EXT-X-STREAM-INF:");
            let mut w = Writer::new(&mut out);
            w.integer("BANDWIDTH", v.bandwidth);
            w.opt_integer("AVERAGE-BANDWIDTH", v.average_bandwidth);
            w.opt_quoted("CODECS", v.codecs.as_deref())?;
            if let Some(r) = v.resolution {
                w.resolution("RESOLUTION", r);
            }
            if let Some(rate) = v.frame_rate {
                w.float3("FRAME-RATE", rate)?;
            }
            w.opt_quoted("AUDIO", v.audio.as_deref())?;
            w.opt_quoted("SUBTITLES", v.subtitles.as_deref())?;
            out.push('\n');
            line!(out, "{}", v.uri);
        }
        for s in &self.i_frame_streams {
            check_uri(&s.uri)?;
            out.push_str("#EXT-X-I-FRAME-STREAM-INF:");
            let mut w = Writer::new(&mut out);
            w.integer("BANDWIDTH", s.bandwidth);
            w.opt_integer("AVERAGE-BANDWIDTH", s.average_bandwidth);
            w.opt_quoted("CODECS", s.codecs.as_deref())?;
            if let Some(r) = s.resolution {
                w.resolution("RESOLUTION", r);
            }
            w.quoted("URI", &s.uri)?;
            out.push('\n');
        }
        Ok(out)
    }
}
