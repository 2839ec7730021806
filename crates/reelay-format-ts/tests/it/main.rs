//! Integration tests of reelay-format-ts. The oracles are ffmpeg and ffprobe, which must be on
//! the PATH (scripts/setup-test-env installs them); fixtures are generated into a temporary
//! directory at test time, so no media is committed.

// Helpers outside #[test] functions unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, reason = "test code")]

mod common;
mod demux_oracle;
mod hostile;
mod mux_oracle;
mod roundtrip;
