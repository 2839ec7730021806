//! The crate's errors. Parse errors carry the 1-based line number (0 when the problem concerns
//! the whole input) and a `&'static str` naming the tag and field, so that they are cheap to
//! build on hostile input.

/// Everything that can go wrong while parsing or writing a playlist.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text does not follow RFC 8216 / draft-pantos-hls-rfc8216bis.
    #[error("line {line}: malformed playlist: {what}")]
    Decode {
        /// 1-based line number, 0 for the whole input.
        line: usize,
        /// The tag or field at fault.
        what: &'static str,
    },
    /// A size or count exceeds a limit of [`crate::limits`].
    #[error("line {line}: limit exceeded: {what}")]
    Limit {
        /// 1-based line number, 0 for the whole input.
        line: usize,
        /// The limit that was hit.
        what: &'static str,
    },
    /// The structs given to the writer cannot be expressed as a valid playlist: a quoted string
    /// holding a double quote or a line break, a key without URI, parts without a part target.
    #[error("cannot write playlist: {0}")]
    Invalid(&'static str),
    /// A decoder configuration record (`avcC`, `hvcC`, AudioSpecificConfig) given to a
    /// [`crate::codecs`] helper is malformed.
    #[error("malformed codec configuration: {0}")]
    Codec(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
