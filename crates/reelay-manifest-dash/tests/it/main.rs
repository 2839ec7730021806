//! Integration tests of reelay-manifest-dash: the end-to-end proof with ffmpeg as the
//! player-grade DASH client. ffmpeg and ffprobe must be on the PATH; the fixture is generated
//! into a temporary directory at test time, so no media is committed.

// Helpers outside #[test] functions unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, reason = "test code")]

mod e2e;
