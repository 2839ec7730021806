//! `moov` parsing: the movie and its tracks (ISO/IEC 14496-12 §8.2-§8.5).

use crate::boxes::elst::{self, EditList};
use crate::boxes::header::{Children, parse_header};
use crate::boxes::stbl::SampleTables;
use crate::boxes::stsd::{self, Protection};
use crate::boxes::{hdlr, mdhd, mvhd, tkhd};
use crate::codec::Codec;
use crate::error::{Error, Result, decode_error, limit_error};
use crate::fourcc::FourCc;
use crate::index::{self, SampleIndex};
use crate::limits;

/// The error for fragmented input (`mvex` in `moov`, or a `moof` box), which MediaPackage VOD
/// also refuses as a source.
pub const FRAGMENTED_SOURCE: Error = Error::Unsupported("fragmented MP4 is not a supported source");

/// The media type of a track, from its `hdlr` box (§8.4.3.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Handler {
    /// `vide`: a video track.
    Video,
    /// `soun`: an audio track.
    Audio,
    /// Any other handler (`text`, `subt`, `meta`, `hint`, ...).
    Other(FourCc),
}

impl Handler {
    fn from_fourcc(f: FourCc) -> Self {
        match f.as_bytes() {
            b"vide" => Handler::Video,
            b"soun" => Handler::Audio,
            _ => Handler::Other(f),
        }
    }
}

/// A parsed non-fragmented movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Movie {
    /// Movie timescale from `mvhd`, in which edit list durations are expressed.
    pub timescale: u32,
    /// Movie duration in the movie timescale.
    pub duration: u64,
    /// Tracks in file order.
    pub tracks: Vec<Track>,
}

impl Movie {
    /// The track with `track_id`.
    pub fn track(&self, track_id: u32) -> Option<&Track> {
        self.tracks.iter().find(|t| t.id == track_id)
    }

    /// Builds the sample index of the track with `track_id`.
    pub fn samples(&self, track_id: u32) -> Result<SampleIndex> {
        match self.track(track_id) {
            Some(track) => track.samples(),
            None => decode_error("moov: no track with the requested id"),
        }
    }
}

/// One track of a movie.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Track {
    /// `track_ID` from `tkhd`.
    pub id: u32,
    /// Media type from `hdlr`.
    pub handler: Handler,
    /// Media timescale from `mdhd`: the unit of every sample time of this track.
    pub timescale: u32,
    /// Media duration from `mdhd`, in `timescale` units.
    pub duration: u64,
    /// ISO 639-2/T language from `mdhd` (`und` when unspecified), `None` if not three letters.
    pub language: Option<[u8; 3]>,
    /// The codec and its configuration, from the single sample entry.
    pub codec: Codec,
    /// Presentation width in pixels from `tkhd` (0 for audio).
    pub width: u32,
    /// Presentation height in pixels from `tkhd` (0 for audio).
    pub height: u32,
    /// The edit list, when the track has one with a non-empty edit.
    pub edit_list: Option<EditList>,
    /// Set when the sample entry is `encv` / `enca` or carries `sinf`: the samples are
    /// encrypted and reelay cannot repackage them.
    pub protection: Option<Protection>,
    tables: SampleTables,
}

impl Track {
    /// Whether the track's samples are encrypted.
    pub fn is_encrypted(&self) -> bool {
        self.protection.is_some()
    }

    /// Builds the sample index from the track's sample tables.
    pub fn samples(&self) -> Result<SampleIndex> {
        index::build(&self.tables)
    }
}

/// Parses a complete `moov` box, header included, as located by [`crate::probe`].
///
/// Fragmented files (`mvex` present) are refused with [`FRAGMENTED_SOURCE`].
pub fn parse_moov(moov: &[u8]) -> Result<Movie> {
    parse_moov_inner(moov, false)
}

pub(crate) fn parse_moov_inner(moov: &[u8], allow_fragmented: bool) -> Result<Movie> {
    let Some(header) = parse_header(moov)? else {
        return decode_error("moov: truncated header");
    };
    if header.kind != FourCc::new(b"moov") {
        return decode_error("moov: buffer does not start with a moov box");
    }
    if header.size.is_some_and(|s| s != moov.len() as u64) {
        return decode_error("moov: buffer length differs from the box size");
    }
    let mut movie_header = None;
    let mut tracks: Vec<Track> = Vec::new();
    for child in Children::new(&moov[header.header_len..]) {
        let (kind, payload) = child?;
        match kind.as_bytes() {
            b"mvhd" => movie_header = Some(mvhd::parse(payload)?),
            b"trak" => {
                if tracks.len() >= limits::MAX_TRACKS {
                    return limit_error("moov: more than MAX_TRACKS tracks");
                }
                let track = parse_trak(payload)?;
                if tracks.iter().any(|t| t.id == track.id) {
                    return decode_error("moov: duplicate track_ID");
                }
                tracks.push(track);
            }
            // §8.8.1: mvex announces movie fragments.
            b"mvex" if !allow_fragmented => return Err(FRAGMENTED_SOURCE),
            _ => {}
        }
    }
    let Some(movie_header) = movie_header else {
        return decode_error("moov: no mvhd");
    };
    Ok(Movie {
        timescale: movie_header.timescale,
        duration: movie_header.duration,
        tracks,
    })
}

fn parse_trak(payload: &[u8]) -> Result<Track> {
    let mut track_header = None;
    let mut edit_list = None;
    let mut media = None;
    for child in Children::new(payload) {
        let (kind, body) = child?;
        match kind.as_bytes() {
            b"tkhd" => track_header = Some(tkhd::parse(body)?),
            b"edts" => {
                for edts_child in Children::new(body) {
                    let (kind, body) = edts_child?;
                    if kind.as_bytes() == b"elst" {
                        edit_list = elst::parse(body)?;
                    }
                }
            }
            b"mdia" => media = Some(parse_mdia(body)?),
            _ => {}
        }
    }
    let Some(track_header) = track_header else {
        return decode_error("trak: no tkhd");
    };
    let Some(media) = media else {
        return decode_error("trak: no mdia");
    };
    Ok(Track {
        id: track_header.track_id,
        handler: media.handler,
        timescale: media.header.timescale,
        duration: media.header.duration,
        language: media.header.language,
        codec: media.description.codec,
        width: track_header.width,
        height: track_header.height,
        edit_list,
        protection: media.description.protection,
        tables: media.tables,
    })
}

struct Media {
    header: mdhd::MediaHeader,
    handler: Handler,
    description: stsd::SampleDescription,
    tables: SampleTables,
}

fn parse_mdia(payload: &[u8]) -> Result<Media> {
    let mut header = None;
    let mut handler = None;
    let mut stbl = None;
    for child in Children::new(payload) {
        let (kind, body) = child?;
        match kind.as_bytes() {
            b"mdhd" => header = Some(mdhd::parse(body)?),
            b"hdlr" => handler = Some(Handler::from_fourcc(hdlr::parse(body)?)),
            b"minf" => {
                for minf_child in Children::new(body) {
                    let (kind, body) = minf_child?;
                    if kind.as_bytes() == b"stbl" {
                        stbl = Some(parse_stbl(body)?);
                    }
                }
            }
            _ => {}
        }
    }
    let (Some(header), Some(handler), Some((description, tables))) = (header, handler, stbl) else {
        return decode_error("mdia: missing mdhd, hdlr or minf/stbl");
    };
    Ok(Media {
        header,
        handler,
        description,
        tables,
    })
}

fn parse_stbl(payload: &[u8]) -> Result<(stsd::SampleDescription, SampleTables)> {
    let mut description = None;
    let mut tables = SampleTables::default();
    for child in Children::new(payload) {
        let (kind, body) = child?;
        if kind.as_bytes() == b"stsd" {
            if description.is_some() {
                return decode_error("stbl: duplicate stsd");
            }
            description = Some(stsd::parse(body)?);
        } else {
            tables.parse_child(kind.as_bytes(), body)?;
        }
    }
    let Some(description) = description else {
        return decode_error("stbl: no stsd");
    };
    Ok((description, tables))
}
