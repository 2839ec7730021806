//! Sans-IO ISO base media file format (MP4) for reelay.
//!
//! - **Demux** of non-fragmented MP4 sources read by byte range: [`probe`] locates `moov` from
//!   the head of the file (or says which range to fetch next), [`parse_moov`] yields the
//!   [`Movie`] and its [`Track`]s, and [`Track::samples`] builds a compact [`SampleIndex`] with
//!   each sample's file offset, size, decode time, composition offset and sync flag.
//! - **Mux** of fragmented MP4 / CMAF: [`init_segment`], [`media_segment`] and [`sidx`];
//!   Smooth Streaming fragments (`tfxd`): [`smooth_fragment`].
//!
//! **Architecture Invariant:** nothing here performs I/O, reads a clock or spawns a thread; all
//! functions take and return buffers. Every size and count read from the input is checked
//! against [`limits`] before allocating, and no input makes the parser panic.
//!
//! Section numbers in comments refer to ISO/IEC 14496-12:2022 unless another standard is named.

mod boxes;
mod codec;
mod emsg;
mod error;
mod fourcc;
pub mod h264;
mod index;
pub mod limits;
mod movie;
mod mux;
mod probe;
mod reader;
mod smooth;
mod writer;

pub use boxes::elst::EditList;
pub use boxes::ftyp::FileType;
pub use boxes::stsd::Protection;
pub use codec::{AudioConfig, Codec, VideoConfig};
pub use emsg::{EventMessage, ID3_SCHEME, MAX_EMSG_MESSAGE, emsg};
pub use error::{Error, Result};
pub use fourcc::FourCc;
pub use index::{Sample, SampleIndex};
pub use movie::{FRAGMENTED_SOURCE, Handler, Movie, Track, parse_moov};
pub use mux::{
    FragmentLayout, FragmentSample, SampleFlags, SampleLayout, SegmentReference, TrackConfig,
    TrackFragment, init_segment, media_segment, media_segment_header, sidx,
};
pub use probe::{ByteRange, Next, Probe, TopLevelBox, probe};
pub use smooth::{SmoothFragment, TFXD_USER_TYPE, smooth_fragment};
