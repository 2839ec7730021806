//! Limits applied while parsing a playlist, checked before the corresponding allocation
//! (see STYLE.md, "Limits live in a named module").

/// Largest playlist accepted, in bytes. A 24-hour VOD rendition cut in 2-second segments with
/// long signed URIs stays well below this.
pub const MAX_PLAYLIST_SIZE: usize = 16 * 1024 * 1024;

/// Longest line, in bytes (after removing the line terminator). Signed CDN URIs reach a few
/// kilobytes; nothing legitimate comes close to this.
pub const MAX_LINE_LEN: usize = 16 * 1024;

/// Largest number of attributes in one attribute list (RFC 8216 §4.2). The richest tag,
/// `EXT-X-STREAM-INF`, defines about a dozen.
pub const MAX_ATTRIBUTES: usize = 32;

/// Largest number of media segments in a media playlist.
pub const MAX_SEGMENTS: usize = 100_000;

/// Largest number of partial segments (`EXT-X-PART`) in a media playlist, all segments together.
pub const MAX_PARTS: usize = 10_000;

/// Largest number of `EXT-X-KEY` tags applying to one segment (one per `KEYFORMAT` in
/// practice: identity, FairPlay, Widevine, PlayReady).
pub const MAX_KEYS_PER_SEGMENT: usize = 8;

/// Largest number of variant streams plus I-frame streams in a multivariant playlist.
pub const MAX_VARIANTS: usize = 1_000;

/// Largest number of `EXT-X-MEDIA` renditions in a multivariant playlist.
pub const MAX_RENDITIONS: usize = 1_000;

/// Largest number of `EXT-X-PRELOAD-HINT`, `EXT-X-RENDITION-REPORT` and `EXT-X-PREFETCH` lines,
/// together, in a media playlist.
pub const MAX_HINTS: usize = 1_000;

/// Most digits accepted in the integer part of a decimal-integer or decimal-floating-point
/// value; `u64` holds 19 full decimal digits.
pub const MAX_INTEGER_DIGITS: usize = 19;
