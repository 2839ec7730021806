//! Integration tests of reelay-ingest-rtmp: the publish flow driven by a scripted client,
//! hostile input, and ffmpeg publishing over a real socket (ffmpeg and ffprobe must be on the
//! PATH; scripts/setup-test-env installs them).

// Helpers outside #[test] functions unwrap too: a failing unwrap is a failing test.
#![allow(clippy::unwrap_used, reason = "test code")]

mod common;
mod ffmpeg;
mod flow;
mod hostile;
