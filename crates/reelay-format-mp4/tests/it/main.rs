//! Integration tests: reelay-format-mp4 against ffmpeg and ffprobe as the reference.
//!
//! The fixtures are encoded with ffmpeg at test time (see `fixtures.rs`); ffmpeg and ffprobe
//! must be on the PATH.

// Helpers outside #[test] functions unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used)]

mod demux;
mod fixtures;
mod mux;
