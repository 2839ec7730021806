//! The crate's error taxonomy, shared with the other media crates: `Decode`, `Unsupported`,
//! `Limit`, plus `State` for an API used out of order and `Closed` for a finished session.

/// Everything that can go wrong while speaking RTMP or parsing what it carries.
///
/// The context is a `&'static str` naming the structure and field, for example
/// `"chunk: message length"`, so that errors are cheap to build on hostile input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The bytes do not follow the specification.
    #[error("malformed input: {0}")]
    Decode(&'static str),
    /// The bytes are valid but use a feature this crate does not implement.
    #[error("unsupported: {0}")]
    Unsupported(&'static str),
    /// A length, count or depth exceeds a limit of [`crate::limits`].
    #[error("limit exceeded: {0}")]
    Limit(&'static str),
    /// The host called the API at a point where it makes no sense, such as `accept()` without
    /// a pending publish.
    #[error("invalid state: {0}")]
    State(&'static str),
    /// The session has ended; no further input is processed.
    #[error("session closed")]
    Closed,
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn decode_error<T>(what: &'static str) -> Result<T> {
    Err(Error::Decode(what))
}
