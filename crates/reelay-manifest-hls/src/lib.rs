//! Sans-IO HLS playlists for reelay: a writer and a parser for multivariant and media
//! playlists (RFC 8216), including the low-latency additions of its successor draft,
//! draft-pantos-hls-rfc8216bis ("rfc8216bis" in comments).
//!
//! - **Write**: build a [`MultivariantPlaylist`] or [`MediaPlaylist`] and call `write()`.
//!   `EXT-X-TARGETDURATION` and `EXT-X-VERSION` are computed from the content;
//!   [`MediaPlaylist::apply_keys`] and [`MediaPlaylist::apply_program_date_times`] place
//!   `EXT-X-KEY` and `EXT-X-PROGRAM-DATE-TIME` the way MediaPackage's `repeatExtXKey` and
//!   `programDateTimeIntervalSeconds` do. [`codecs`] builds RFC 6381 `CODECS` strings from
//!   decoder configuration records.
//! - **Parse**: [`parse`], [`parse_media`] and [`parse_multivariant`] read source playlists
//!   (VOD ingest of `.m3u8` with TS renditions) into the same structs, resolving relative URIs
//!   against the playlist's own URI ([`resolve_uri`]).
//!
//! **Architecture Invariant:** nothing here performs I/O or reads a clock (times such as
//! `EXT-X-PROGRAM-DATE-TIME` are passed in as [`DateTime`] values); every size and count read
//! from the input is checked against [`limits`] before it grows, and no input makes the parser
//! panic.
//!
//! Section numbers in comments refer to RFC 8216 unless "rfc8216bis" is named.

mod attr;
pub mod codecs;
mod error;
pub mod limits;
mod parse;
mod time;
mod types;
mod uri;
mod write;

pub use error::{Error, Result};
pub use parse::{parse, parse_media, parse_multivariant};
pub use time::DateTime;
pub use types::{
    ByteRange, IFrameStream, Key, KeyMethod, KeyPlacement, Map, MediaPlaylist, MediaSegment,
    MediaType, MultivariantPlaylist, Part, Playlist, PlaylistType, PreloadHint, PreloadHintType,
    Rendition, RenditionReport, Resolution, ServerControl, VariantStream,
};
pub use uri::resolve as resolve_uri;

#[cfg(test)]
mod tests;
