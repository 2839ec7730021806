//! Sans-IO MPEG-2 transport stream (ISO/IEC 13818-1) muxer and demuxer, as HLS uses them.
//!
//! - [`Muxer`] turns H.264 / H.265 access units, raw AAC frames and ID3 tags into 188-byte
//!   packets: PAT and PMT at each segment start, PES packets with PTS/DTS, PCR on the video
//!   PID, `random_access_indicator` on keyframes, access unit delimiters and parameter sets
//!   before every IDR as Apple HLS expects, ADTS headers on AAC.
//! - [`Demuxer`] takes bytes in any chunking and yields [`Event`]s: programs with their stream
//!   types (including SAMPLE-AES and scrambled streams, so that callers can refuse encrypted
//!   sources), and access units with timestamps and keyframe flags, ADTS split into frames.
//!
//! Neither does I/O nor reads a clock; every length read from the input is checked against
//! [`limits`] before allocating, and no input makes them panic.

mod adts;
pub mod annexb;
mod crc32;
mod demux;
mod error;
mod id3;
pub mod limits;
mod mux;
mod packet;
mod pat;
mod pes;
mod pmt;
mod psi;
mod stream_type;
mod video;

pub use adts::AacConfig;
pub use crc32::crc32_mpeg2;
pub use demux::{AccessUnit, DemuxStats, Demuxer, Event};
pub use error::{Error, Result};
pub use id3::id3_txxx_tag;
pub use mux::{Muxer, MuxerConfig, Sample, Track, VideoTrack};
pub use packet::{PACKET_SIZE, PAT_PID, SYNC_BYTE};
pub use pmt::{Program, StreamInfo};
pub use stream_type::StreamType;
pub use video::VideoCodec;
