//! The error taxonomy shared by reelay's media crates: `Decode`, `Unsupported`, `Limit`.
//!
//! Each variant carries a `&'static str` naming the box and field at fault, so that errors cost
//! no allocation and can be matched on in tests.

/// Everything that can go wrong while demuxing or muxing ISO BMFF.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not well-formed ISO BMFF (truncated box, inconsistent tables, bad field).
    #[error("malformed MP4: {0}")]
    Decode(&'static str),
    /// The input is well-formed but uses a feature reelay does not handle (fragmented source,
    /// unknown codec, several sample descriptions, ...).
    #[error("unsupported MP4: {0}")]
    Unsupported(&'static str),
    /// A declared size or count exceeds one of the bounds in [`crate::limits`].
    #[error("MP4 limit exceeded: {0}")]
    Limit(&'static str),
}

/// Result alias for this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Shorthand for a [`Error::Decode`] result, to keep call sites on one line.
pub(crate) fn decode_error<T>(what: &'static str) -> Result<T> {
    Err(Error::Decode(what))
}

/// Shorthand for a [`Error::Unsupported`] result.
pub(crate) fn unsupported<T>(what: &'static str) -> Result<T> {
    Err(Error::Unsupported(what))
}

/// Shorthand for a [`Error::Limit`] result.
pub(crate) fn limit_error<T>(what: &'static str) -> Result<T> {
    Err(Error::Limit(what))
}
