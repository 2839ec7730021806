//! Sans-IO RTMP server protocol core for live ingest (Adobe RTMP specification 1.0, AMF0,
//! FLV v10.1 and Enhanced RTMP v2).
//!
//! - [`Server`] speaks one connection: the plain handshake (§5.2), chunk streams with all four
//!   header formats and extended timestamps (§5.3), protocol control (§5.4), user control
//!   (§7.1.7) and the publish flow of OBS and ffmpeg (`connect`, `releaseStream`,
//!   `FCPublish`, `createStream`, `publish`, `@setDataFrame`, `FCUnpublish`,
//!   `deleteStream`). The host feeds it bytes and drains [`Output`]s: bytes to transmit and
//!   [`Event`]s such as [`Event::Publish`], which the host answers with [`Server::accept`] or
//!   [`Server::reject`].
//! - [`flv`] parses the audio and video tag bodies: legacy AVC and AAC, and the Enhanced RTMP
//!   extended header with FourCC codecs and multitrack split into per-track tags.
//! - [`chunk`] and [`amf0`] are usable on their own, for example by a test client.
//!
//! Nothing here does I/O or reads a clock; every length read from the wire is checked against
//! [`limits`] before allocating, and no input makes the crate panic.

pub mod amf0;
pub mod chunk;
mod error;
pub mod flv;
mod handshake;
pub mod limits;
pub mod message;
mod session;
mod stream_key;

pub use amf0::Amf0Value;
pub use error::{Error, Result};
pub use flv::{
    AudioPacket, AudioSpecificConfig, AudioTag, AvcDecoderConfig, FrameType, VideoCodec,
    VideoPacket, VideoTag,
};
pub use handshake::{HANDSHAKE_SIZE, RTMP_VERSION};
pub use session::{Event, Output, Server, ServerConfig};
pub use stream_key::StreamKey;
