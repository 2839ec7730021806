//! The chunk stream (RTMP 1.0 §5.3): splitting messages into chunks and reassembling them.
//!
//! [`ChunkDecoder`] takes bytes in any chunking. It commits a chunk header only once the whole
//! header is buffered, then streams the chunk payload into the message being reassembled, so
//! that a large chunk size never makes it buffer more than the caller pushed.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};

use crate::error::{Error, Result, decode_error};
use crate::limits;

/// Default chunk size before any Set Chunk Size (RTMP 1.0 §5.4.1).
pub const DEFAULT_CHUNK_SIZE: u32 = 128;

/// A timestamp or delta field of this value means an extended timestamp follows (§5.3.1.3).
const EXTENDED_TIMESTAMP: u32 = 0x00FF_FFFF;

/// Lowest and highest chunk stream ids (§5.3.1.1): 0 and 1 select the 2- and 3-byte basic
/// header forms, 2 is reserved for protocol control messages.
const MIN_CSID: u32 = 2;
const MAX_CSID: u32 = 65_599;

/// A complete RTMP message (§5.4 / §6.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Chunk stream it travelled on.
    pub csid: u32,
    /// Timestamp in milliseconds; RTMP timestamps wrap around at 2^32.
    pub timestamp: u32,
    /// Message type id (§5.4, §7.1).
    pub type_id: u8,
    /// Message stream id.
    pub stream_id: u32,
    /// The payload.
    pub payload: Bytes,
}

/// Header state of one chunk stream, shared by both directions.
#[derive(Debug, Clone, Default)]
struct HeaderState {
    timestamp: u32,
    /// Delta applied by a fmt 3 chunk that starts a new message. RTMP 1.0 §5.3.1.2.4 leaves the
    /// value after a fmt 0 header open; ffmpeg's writer and reader both use the fmt 0
    /// timestamp itself, so we do the same to interoperate.
    delta: u32,
    length: u32,
    type_id: u8,
    stream_id: u32,
    /// Whether the last header carried an extended timestamp; fmt 3 chunks then repeat it.
    extended: bool,
}

#[derive(Debug, Default)]
struct InboundStream {
    header: HeaderState,
    /// The message being reassembled, if one is in progress.
    partial: Option<BytesMut>,
}

/// Parsed but not yet committed chunk header.
struct ChunkHeader {
    fmt: u8,
    csid: u32,
    /// Raw 24-bit timestamp / delta field, or the extended value.
    time: u32,
    extended: bool,
    length: u32,
    type_id: u8,
    stream_id: u32,
    size: usize,
}

/// Reassembles messages from chunks.
#[derive(Debug)]
pub struct ChunkDecoder {
    chunk_size: u32,
    streams: HashMap<u32, InboundStream>,
    buffer: BytesMut,
    /// Chunk stream and payload bytes left of the chunk being read.
    in_chunk: Option<(u32, usize)>,
    /// Sum of the declared lengths of messages in progress.
    pending: usize,
}

impl Default for ChunkDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkDecoder {
    /// A decoder with the default chunk size of 128.
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: HashMap::new(),
            buffer: BytesMut::new(),
            in_chunk: None,
            pending: 0,
        }
    }

    /// Applies a Set Chunk Size received from the peer (§5.4.1): it governs the chunks that
    /// follow the message that carried it.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<()> {
        if size == 0 || size > 0x7FFF_FFFF {
            return decode_error("set chunk size: value");
        }
        // Sizes above the largest message are all equivalent (§5.4.1).
        self.chunk_size = size.min(limits::MAX_CHUNK_SIZE);
        Ok(())
    }

    /// The chunk size currently expected from the peer.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Discards the partially received message of `csid` (Abort Message, §5.4.2).
    pub fn abort(&mut self, csid: u32) {
        if let Some(stream) = self.streams.get_mut(&csid)
            && stream.partial.take().is_some()
        {
            // Messages complete at chunk boundaries, so no chunk of `csid` is being read when
            // an Abort arrives; should one be (a caller aborting on its own), `poll` drops the
            // rest of its payload.
            self.pending = self.pending.saturating_sub(stream.header.length as usize);
        }
    }

    /// Bytes buffered but not yet turned into messages (a partial chunk header at most).
    pub fn buffered_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// Appends received bytes.
    pub fn push(&mut self, data: &[u8]) {
        self.buffer.extend_from_slice(data);
    }

    /// The next complete message, `Ok(None)` when more input is needed.
    pub fn poll(&mut self) -> Result<Option<Message>> {
        loop {
            if let Some((csid, remaining)) = self.in_chunk {
                if self.buffer.is_empty() {
                    return Ok(None);
                }
                let n = remaining.min(self.buffer.len());
                let data = self.buffer.split_to(n);
                let remaining = remaining - n;
                self.in_chunk = (remaining > 0).then_some((csid, remaining));
                let Some(stream) = self.streams.get_mut(&csid) else {
                    return decode_error("chunk: stream vanished");
                };
                let Some(partial) = stream.partial.as_mut() else {
                    // The message was aborted mid-chunk: drop the payload.
                    continue;
                };
                partial.extend_from_slice(&data);
                if remaining == 0 && partial.len() == stream.header.length as usize {
                    return Ok(Some(self.complete(csid)));
                }
                continue;
            }
            let Some(header) = self.parse_header()? else {
                return Ok(None);
            };
            let _ = self.buffer.split_to(header.size);
            if let Some(message) = self.apply_header(header)? {
                return Ok(Some(message));
            }
        }
    }

    fn complete(&mut self, csid: u32) -> Message {
        let stream = self.streams.entry(csid).or_default();
        let payload = stream.partial.take().unwrap_or_default().freeze();
        self.pending = self.pending.saturating_sub(payload.len());
        Message {
            csid,
            timestamp: stream.header.timestamp,
            type_id: stream.header.type_id,
            stream_id: stream.header.stream_id,
            payload,
        }
    }

    fn parse_header(&self) -> Result<Option<ChunkHeader>> {
        let b = &self.buffer[..];
        let Some(&first) = b.first() else {
            return Ok(None);
        };
        let fmt = first >> 6;
        // §5.3.1.1 basic header.
        let (csid, mut pos) = match first & 0x3F {
            0 => match b.get(1) {
                Some(&x) => (64 + u32::from(x), 2),
                None => return Ok(None),
            },
            1 => match (b.get(1), b.get(2)) {
                (Some(&lo), Some(&hi)) => (64 + u32::from(lo) + 256 * u32::from(hi), 3),
                _ => return Ok(None),
            },
            id => (u32::from(id), 1),
        };
        let known = self.streams.get(&csid).map(|s| &s.header);
        if fmt != 0 && known.is_none() {
            return decode_error("chunk: compressed header on a new chunk stream");
        }
        if known.is_none() && self.streams.len() >= limits::MAX_CHUNK_STREAMS {
            return Err(Error::Limit("chunk: chunk stream count"));
        }
        let header_len = [11, 7, 3, 0][usize::from(fmt)];
        let Some(h) = b.get(pos..pos + header_len) else {
            return Ok(None);
        };
        pos += header_len;
        let prev = known.cloned().unwrap_or_default();
        let u24 = |x: &[u8]| u32::from_be_bytes([0, x[0], x[1], x[2]]);
        let (mut time, length, type_id, stream_id) = match fmt {
            // §5.3.1.2.1: timestamp, length, type id, little-endian message stream id.
            0 => (
                u24(&h[0..3]),
                u24(&h[3..6]),
                h[6],
                u32::from_le_bytes([h[7], h[8], h[9], h[10]]),
            ),
            // §5.3.1.2.2: delta, length, type id.
            1 => (u24(&h[0..3]), u24(&h[3..6]), h[6], prev.stream_id),
            // §5.3.1.2.3: delta only.
            2 => (u24(&h[0..3]), prev.length, prev.type_id, prev.stream_id),
            // §5.3.1.2.4: nothing.
            _ => (prev.delta, prev.length, prev.type_id, prev.stream_id),
        };
        let extended = if fmt == 3 {
            prev.extended
        } else {
            time == EXTENDED_TIMESTAMP
        };
        if extended {
            // §5.3.1.3: a 4-byte extended timestamp follows; fmt 3 chunks repeat it.
            let Some(x) = b.get(pos..pos + 4) else {
                return Ok(None);
            };
            let value = u32::from_be_bytes([x[0], x[1], x[2], x[3]]);
            let continuation =
                fmt == 3 && self.streams.get(&csid).is_some_and(|s| s.partial.is_some());
            // Some older librtmp-based encoders omit the repeat on continuation chunks. The
            // repeat carries the value of the message's header (`delta`), so anything else
            // is taken as payload.
            if !continuation || value == prev.delta {
                pos += 4;
            }
            if fmt != 3 {
                time = value;
            }
        }
        Ok(Some(ChunkHeader {
            fmt,
            csid,
            time,
            extended,
            length,
            type_id,
            stream_id,
            size: pos,
        }))
    }

    fn apply_header(&mut self, h: ChunkHeader) -> Result<Option<Message>> {
        let chunk_size = self.chunk_size as usize;
        let stream = self.streams.entry(h.csid).or_default();
        let continuation = h.fmt == 3 && stream.partial.is_some();
        if !continuation {
            if stream.partial.is_some() {
                return decode_error("chunk: new message before the previous one completed");
            }
            if h.length > limits::MAX_MESSAGE_SIZE {
                return Err(Error::Limit("chunk: message length"));
            }
            let st = &mut stream.header;
            if h.fmt == 0 {
                st.timestamp = h.time;
            } else {
                st.timestamp = st.timestamp.wrapping_add(h.time);
            }
            st.delta = h.time;
            st.length = h.length;
            st.type_id = h.type_id;
            st.stream_id = h.stream_id;
            st.extended = h.extended;
            let length = h.length as usize;
            if self.pending + length > limits::MAX_PENDING_MESSAGE_BYTES {
                return Err(Error::Limit("chunk: pending message bytes"));
            }
            self.pending += length;
            // Allocate for one chunk only: the declared length is not trusted until the bytes
            // arrive.
            stream.partial = Some(BytesMut::with_capacity(length.min(chunk_size)));
            if length == 0 {
                return Ok(Some(self.complete(h.csid)));
            }
        }
        let (received, length) = match &stream.partial {
            Some(p) => (p.len(), stream.header.length as usize),
            None => return decode_error("chunk: no message in progress"),
        };
        let n = (length - received).min(chunk_size);
        self.in_chunk = Some((h.csid, n));
        Ok(None)
    }
}

/// Splits messages into chunks, compressing headers against the previous message of the same
/// chunk stream (§5.3.1.2).
#[derive(Debug)]
pub struct ChunkEncoder {
    chunk_size: u32,
    streams: HashMap<u32, HeaderState>,
}

impl Default for ChunkEncoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkEncoder {
    /// An encoder with the default chunk size of 128.
    pub fn new() -> Self {
        Self {
            chunk_size: DEFAULT_CHUNK_SIZE,
            streams: HashMap::new(),
        }
    }

    /// Changes the chunk size for the messages that follow. The caller must have sent the
    /// Set Chunk Size message to the peer first.
    pub fn set_chunk_size(&mut self, size: u32) -> Result<()> {
        if size == 0 || size > limits::MAX_CHUNK_SIZE {
            return Err(Error::Limit("chunk encoder: chunk size"));
        }
        self.chunk_size = size;
        Ok(())
    }

    /// The chunk size in use.
    pub fn chunk_size(&self) -> u32 {
        self.chunk_size
    }

    /// Appends the chunks of `msg` to `out`.
    pub fn encode(&mut self, msg: &Message, out: &mut BytesMut) -> Result<()> {
        if !(MIN_CSID..=MAX_CSID).contains(&msg.csid) {
            return Err(Error::State("chunk encoder: chunk stream id"));
        }
        let length = u32::try_from(msg.payload.len())
            .ok()
            .filter(|&l| l <= limits::MAX_MESSAGE_SIZE)
            .ok_or(Error::Limit("chunk encoder: message length"))?;
        let prev = self.streams.get(&msg.csid);
        let (fmt, time) = match prev {
            Some(p) if p.stream_id == msg.stream_id && msg.timestamp >= p.timestamp => {
                let delta = msg.timestamp - p.timestamp;
                if p.length != length || p.type_id != msg.type_id {
                    (1, delta)
                } else if p.delta != delta {
                    (2, delta)
                } else {
                    (3, delta)
                }
            }
            _ => (0, msg.timestamp),
        };
        let extended = if fmt == 3 {
            prev.is_some_and(|p| p.extended)
        } else {
            time >= EXTENDED_TIMESTAMP
        };
        self.streams.insert(
            msg.csid,
            HeaderState {
                timestamp: msg.timestamp,
                delta: time,
                length,
                type_id: msg.type_id,
                stream_id: msg.stream_id,
                extended,
            },
        );
        put_basic_header(out, fmt, msg.csid);
        let field = time.min(EXTENDED_TIMESTAMP);
        match fmt {
            0 => {
                put_u24(out, field);
                put_u24(out, length);
                out.put_u8(msg.type_id);
                out.put_u32_le(msg.stream_id);
            }
            1 => {
                put_u24(out, field);
                put_u24(out, length);
                out.put_u8(msg.type_id);
            }
            2 => put_u24(out, field),
            _ => {}
        }
        if extended {
            out.put_u32(time);
        }
        let mut chunks = msg.payload.chunks(self.chunk_size as usize);
        if let Some(first) = chunks.next() {
            out.put_slice(first);
        }
        for chunk in chunks {
            put_basic_header(out, 3, msg.csid);
            if extended {
                out.put_u32(time);
            }
            out.put_slice(chunk);
        }
        Ok(())
    }
}

fn put_u24(out: &mut BytesMut, v: u32) {
    out.put_slice(&v.to_be_bytes()[1..]);
}

/// §5.3.1.1: one, two or three bytes depending on the chunk stream id; `csid` was checked to
/// be within 2..=65599.
fn put_basic_header(out: &mut BytesMut, fmt: u8, csid: u32) {
    let fmt = fmt << 6;
    match csid {
        2..=63 => out.put_u8(fmt | csid as u8),
        64..=319 => {
            out.put_u8(fmt);
            out.put_u8((csid - 64) as u8);
        }
        _ => {
            let v = csid - 64;
            out.put_u8(fmt | 1);
            out.put_u8((v & 0xFF) as u8);
            out.put_u8((v >> 8) as u8);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(csid: u32, timestamp: u32, type_id: u8, stream_id: u32, payload: &[u8]) -> Message {
        Message {
            csid,
            timestamp,
            type_id,
            stream_id,
            payload: Bytes::copy_from_slice(payload),
        }
    }

    fn decode_all(dec: &mut ChunkDecoder, bytes: &[u8], step: usize) -> Vec<Message> {
        let mut out = Vec::new();
        for piece in bytes.chunks(step.max(1)) {
            dec.push(piece);
            while let Some(m) = dec.poll().unwrap() {
                out.push(m);
            }
        }
        out
    }

    #[test]
    fn fmt0_header_bytes() {
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        enc.encode(&msg(3, 1000, 20, 1, b"abc"), &mut out).unwrap();
        assert_eq!(
            &out[..],
            &[
                0x03, 0x00, 0x03, 0xE8, 0x00, 0x00, 0x03, 20, 0x01, 0x00, 0x00, 0x00, b'a', b'b',
                b'c'
            ]
        );
    }

    #[test]
    fn encoder_uses_all_four_formats_and_round_trips() {
        // Spec §5.3.2.1 example 1 shape: same length and type, constant delta → fmt 0, 2, 3, 3;
        // then a length change → fmt 1.
        let messages = [
            msg(3, 1000, 8, 1, &[1; 32]),
            msg(3, 1020, 8, 1, &[2; 32]),
            msg(3, 1040, 8, 1, &[3; 32]),
            msg(3, 1060, 8, 1, &[4; 32]),
            msg(3, 1070, 8, 1, &[5; 40]),
            msg(3, 500, 8, 1, &[6; 8]),
        ];
        let mut enc = ChunkEncoder::new();
        let mut fmts = Vec::new();
        let mut out = BytesMut::new();
        for m in &messages {
            let start = out.len();
            enc.encode(m, &mut out).unwrap();
            fmts.push(out[start] >> 6);
        }
        // Timestamps going backwards force a full header.
        assert_eq!(fmts, [0, 2, 3, 3, 1, 0]);
        for step in [1, 3, 7, 1000] {
            let got = decode_all(&mut ChunkDecoder::new(), &out, step);
            assert_eq!(got, messages);
        }
    }

    #[test]
    fn large_messages_are_split_and_interleaved() {
        let mut enc = ChunkEncoder::new();
        let video = msg(
            6,
            40,
            9,
            1,
            &(0..1000u32).map(|i| i as u8).collect::<Vec<_>>(),
        );
        let audio = msg(4, 40, 8, 1, &[9; 300]);
        let mut a = BytesMut::new();
        enc.encode(&video, &mut a).unwrap();
        let mut b = BytesMut::new();
        enc.encode(&audio, &mut b).unwrap();
        // 1000 bytes at 128 per chunk: 8 chunks, 7 one-byte continuation headers.
        assert_eq!(a.len(), 12 + 1000 + 7);
        // Interleave the audio chunks between the video's first and second chunk (§5.3.2.2).
        let mut wire = BytesMut::new();
        wire.extend_from_slice(&a[..12 + 128]);
        wire.extend_from_slice(&b);
        wire.extend_from_slice(&a[12 + 128..]);
        let got = decode_all(&mut ChunkDecoder::new(), &wire, 5);
        assert_eq!(got, [audio, video]);
    }

    #[test]
    fn extended_timestamps_round_trip_and_repeat_in_continuations() {
        let mut enc = ChunkEncoder::new();
        let messages = [
            msg(4, 0x0100_0000, 9, 1, &[7; 300]),
            msg(4, 0x0100_0000 + 40, 9, 1, &[8; 300]),
            // A delta that itself needs the extended field.
            msg(4, 0x0300_0000, 9, 1, &[8; 300]),
            msg(4, 0x0500_0000, 9, 1, &[8; 300]),
        ];
        let mut out = BytesMut::new();
        for m in &messages {
            enc.encode(m, &mut out).unwrap();
        }
        // First header: 0xFFFFFF in the field, then the 4-byte value; the continuation chunk
        // after 128 bytes repeats it.
        assert_eq!(&out[1..4], &[0xFF, 0xFF, 0xFF]);
        assert_eq!(&out[12..16], &0x0100_0000u32.to_be_bytes());
        assert_eq!(out[16 + 128], 0xC4);
        assert_eq!(&out[17 + 128..21 + 128], &0x0100_0000u32.to_be_bytes());
        assert_eq!(decode_all(&mut ChunkDecoder::new(), &out, 11), messages);

        // The same first message from a sender that does not repeat the extended timestamp
        // on its continuation chunk.
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        enc.encode(&messages[0], &mut out).unwrap();
        let mut lax = out[..16 + 128 + 1].to_vec();
        lax.extend_from_slice(&out[16 + 128 + 5..]);
        assert_eq!(
            decode_all(&mut ChunkDecoder::new(), &lax, 11),
            [messages[0].clone()]
        );
    }

    #[test]
    fn wide_chunk_stream_ids() {
        let mut enc = ChunkEncoder::new();
        let messages = [
            msg(64, 1, 8, 1, b"x"),
            msg(319, 2, 8, 1, b"y"),
            msg(320, 3, 8, 1, b"z"),
            msg(65_599, 4, 8, 1, b"w"),
        ];
        let mut out = BytesMut::new();
        for m in &messages {
            enc.encode(m, &mut out).unwrap();
        }
        assert_eq!(&out[..2], &[0x00, 0x00]);
        assert_eq!(decode_all(&mut ChunkDecoder::new(), &out, 2), messages);
        assert!(enc.encode(&msg(1, 0, 8, 0, b""), &mut out).is_err());
    }

    #[test]
    fn chunk_size_change_mid_stream() {
        let mut enc = ChunkEncoder::new();
        let first = msg(3, 0, 8, 1, &[1; 300]);
        let second = msg(3, 10, 8, 1, &[2; 300]);
        let mut out = BytesMut::new();
        enc.encode(&first, &mut out).unwrap();
        let split = out.len();
        enc.set_chunk_size(4096).unwrap();
        enc.encode(&second, &mut out).unwrap();
        // 300 bytes in one chunk after the change: header + payload only.
        assert_eq!(out.len() - split, 4 + 300);
        let mut dec = ChunkDecoder::new();
        let got = decode_all(&mut dec, &out[..split], 1);
        assert_eq!(got, [first]);
        dec.set_chunk_size(4096).unwrap();
        let got = decode_all(&mut dec, &out[split..], 1);
        assert_eq!(got, [second]);
        assert!(dec.set_chunk_size(0).is_err());
        assert!(dec.set_chunk_size(0x8000_0000).is_err());
    }

    #[test]
    fn zero_length_messages() {
        let mut enc = ChunkEncoder::new();
        let messages = [msg(3, 0, 9, 1, b""), msg(3, 40, 9, 1, b"")];
        let mut out = BytesMut::new();
        for m in &messages {
            enc.encode(m, &mut out).unwrap();
        }
        assert_eq!(decode_all(&mut ChunkDecoder::new(), &out, 1), messages);
    }

    #[test]
    fn abort_discards_the_partial_message() {
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        enc.encode(&msg(5, 0, 9, 1, &[1; 200]), &mut out).unwrap();
        let mut dec = ChunkDecoder::new();
        // Only the first chunk arrives, then the sender aborts and starts over.
        assert!(decode_all(&mut dec, &out[..12 + 128], 50).is_empty());
        dec.abort(5);
        let mut again = BytesMut::new();
        ChunkEncoder::new()
            .encode(&msg(5, 7, 9, 1, &[2; 10]), &mut again)
            .unwrap();
        let got = decode_all(&mut dec, &again, 50);
        assert_eq!(got, [msg(5, 7, 9, 1, &[2; 10])]);
    }

    #[test]
    fn hostile_headers_are_errors() {
        // Compressed header on an unknown chunk stream.
        let mut dec = ChunkDecoder::new();
        dec.push(&[0x43, 0, 0, 0]);
        assert!(dec.poll().is_err());
        // Too many chunk streams.
        let mut dec = ChunkDecoder::new();
        let mut enc = ChunkEncoder::new();
        let mut out = BytesMut::new();
        for csid in 2..(2 + limits::MAX_CHUNK_STREAMS as u32 + 1) {
            enc.encode(&msg(csid, 0, 8, 1, &[0; 200]), &mut out)
                .unwrap();
        }
        dec.push(&out);
        let res = loop {
            match dec.poll() {
                Ok(Some(_)) => continue,
                other => break other,
            }
        };
        assert_eq!(res, Err(Error::Limit("chunk: chunk stream count")));
        // Declared lengths beyond the pending budget.
        let mut dec = ChunkDecoder::new();
        for csid in 2..10u8 {
            dec.push(&[csid, 0, 0, 0, 0xFF, 0xFF, 0xF0, 9, 1, 0, 0, 0]);
            dec.push(&[0; 128]);
        }
        let res = loop {
            match dec.poll() {
                Ok(Some(_)) => continue,
                other => break other,
            }
        };
        assert_eq!(res, Err(Error::Limit("chunk: pending message bytes")));
    }
}
