//! Limits applied to every length, count and depth read from the wire, checked before
//! allocating (see STYLE.md, "Limits live in a named module").

/// Largest chunk size a peer may announce with Set Chunk Size. RTMP 1.0 §5.4.1 allows up to
/// 0x7FFFFFFF but notes that sizes above 0xFFFFFF are equivalent, since no message is larger.
/// Chunk payloads are streamed into the message buffer, so a large chunk size costs nothing
/// by itself.
pub const MAX_CHUNK_SIZE: u32 = 0x00FF_FFFF;

/// Largest message the chunk decoder reassembles. The message length field is 24 bits
/// (RTMP 1.0 §5.3.1.2.1), so this is the wire maximum; a 1080p60 keyframe at 8.5 Mbps is far
/// below it.
pub const MAX_MESSAGE_SIZE: u32 = 0x00FF_FFFF;

/// Largest sum of the declared lengths of all messages being reassembled at once, across
/// chunk streams. Memory is only used as bytes arrive, but this bounds it.
pub const MAX_PENDING_MESSAGE_BYTES: usize = 32 * 1024 * 1024;

/// Largest number of chunk stream ids a peer may use on one connection. Encoders use a
/// handful (ffmpeg and OBS use 2 to 8).
pub const MAX_CHUNK_STREAMS: usize = 64;

/// Largest number of message streams (`createStream`) per connection.
pub const MAX_MESSAGE_STREAMS: u32 = 8;

/// Deepest nesting of AMF0 objects and arrays accepted by the decoder.
pub const MAX_AMF_DEPTH: usize = 16;

/// Largest AMF0 command or data message accepted for decoding; metadata and commands are small.
pub const MAX_AMF_MESSAGE_SIZE: usize = 64 * 1024;

/// Largest number of tracks in one Enhanced RTMP multitrack tag.
pub const MAX_TRACKS_PER_TAG: usize = 16;

/// Largest number of parameter sets in an `AVCDecoderConfigurationRecord`. The 5-bit SPS count
/// caps SPS at 31 anyway (ISO/IEC 14496-15 §5.3.3.1.2); this also bounds PPS.
pub const MAX_PARAMETER_SETS: usize = 32;

/// Size of the random field of the handshake's C1/S1 (RTMP 1.0 §5.2.3).
pub const HANDSHAKE_RANDOM_SIZE: usize = 1528;
