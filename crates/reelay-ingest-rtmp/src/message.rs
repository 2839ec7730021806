//! Message type ids (RTMP 1.0 §5.4, §7.1) and the payloads of protocol control and user
//! control messages.

use bytes::{BufMut, Bytes, BytesMut};

use crate::chunk::Message;

/// §5.4.1 Set Chunk Size.
pub const SET_CHUNK_SIZE: u8 = 1;
/// §5.4.2 Abort Message.
pub const ABORT: u8 = 2;
/// §5.4.3 Acknowledgement.
pub const ACKNOWLEDGEMENT: u8 = 3;
/// §6.2 / §7.1.7 User Control Message.
pub const USER_CONTROL: u8 = 4;
/// §5.4.4 Window Acknowledgement Size.
pub const WINDOW_ACK_SIZE: u8 = 5;
/// §5.4.5 Set Peer Bandwidth.
pub const SET_PEER_BANDWIDTH: u8 = 6;
/// §7.1.4 audio message.
pub const AUDIO: u8 = 8;
/// §7.1.5 video message.
pub const VIDEO: u8 = 9;
/// §7.1.2 data message, AMF3 encoding.
pub const DATA_AMF3: u8 = 15;
/// §7.1.3 shared object message, AMF3 encoding.
pub const SHARED_OBJECT_AMF3: u8 = 16;
/// §7.1.1 command message, AMF3 encoding.
pub const COMMAND_AMF3: u8 = 17;
/// §7.1.2 data message, AMF0 encoding.
pub const DATA_AMF0: u8 = 18;
/// §7.1.3 shared object message, AMF0 encoding.
pub const SHARED_OBJECT_AMF0: u8 = 19;
/// §7.1.1 command message, AMF0 encoding.
pub const COMMAND_AMF0: u8 = 20;
/// §7.1.6 aggregate message.
pub const AGGREGATE: u8 = 22;

/// §7.1.7 User Control event: Stream Begin.
pub const EVENT_STREAM_BEGIN: u16 = 0;
/// §7.1.7 User Control event: Set Buffer Length.
pub const EVENT_SET_BUFFER_LENGTH: u16 = 3;
/// §7.1.7 User Control event: Ping Request.
pub const EVENT_PING_REQUEST: u16 = 6;
/// §7.1.7 User Control event: Ping Response.
pub const EVENT_PING_RESPONSE: u16 = 7;

/// Chunk stream id reserved for protocol control messages (§5.4).
pub const CONTROL_CSID: u32 = 2;

/// A protocol control message with a 4-byte big-endian payload, on chunk stream 2 and message
/// stream 0 as §5.4 requires.
pub fn control_u32(type_id: u8, value: u32) -> Message {
    control(type_id, Bytes::copy_from_slice(&value.to_be_bytes()))
}

/// §5.4.5 Set Peer Bandwidth with limit type 2 (dynamic).
pub fn set_peer_bandwidth(window: u32, limit_type: u8) -> Message {
    let mut b = BytesMut::with_capacity(5);
    b.put_u32(window);
    b.put_u8(limit_type);
    control(SET_PEER_BANDWIDTH, b.freeze())
}

/// §7.1.7 User Control message with a 4-byte event datum.
pub fn user_control(event: u16, value: u32) -> Message {
    let mut b = BytesMut::with_capacity(6);
    b.put_u16(event);
    b.put_u32(value);
    control(USER_CONTROL, b.freeze())
}

fn control(type_id: u8, payload: Bytes) -> Message {
    Message {
        csid: CONTROL_CSID,
        timestamp: 0,
        type_id,
        stream_id: 0,
        payload,
    }
}

/// Reads a 4-byte big-endian control payload.
pub fn read_u32(payload: &[u8]) -> Option<u32> {
    let b = payload.get(..4)?;
    Some(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
}
