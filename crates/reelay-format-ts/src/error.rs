//! The crate's error taxonomy, shared with the other media crates: `Decode`, `Unsupported`,
//! `Limit`, plus `Config` for a muxer set up with impossible parameters.

/// Everything that can go wrong while muxing or demuxing.
///
/// The context is a `&'static str` naming the structure and field, for example
/// `"pmt: section_length"`, so that errors are cheap to build on hostile input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the specification.
    #[error("malformed input: {0}")]
    Decode(&'static str),
    /// The bytes are valid but use a feature this crate does not implement.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// A length or count exceeds a limit of [`crate::limits`].
    #[error("limit exceeded: {0}")]
    Limit(&'static str),
    /// The muxer or demuxer is used inconsistently: two tracks on one PID, a sample for a
    /// track that was not configured, input pushed after the end of the input.
    #[error("invalid configuration: {0}")]
    Config(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn decode_error<T>(what: &'static str) -> Result<T> {
    Err(Error::Decode(what))
}
