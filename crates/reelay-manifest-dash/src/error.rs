//! The crate's error type.

/// Everything that can go wrong while building or writing an MPD.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The structs given to the writer cannot be expressed as a valid MPD: a zero timescale, an
    /// overlapping timeline, a malformed template, a character XML 1.0 cannot carry, ...
    #[error("cannot write MPD: {0}")]
    Invalid(&'static str),
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
