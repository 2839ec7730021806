//! The server side of one RTMP connection: handshake, chunk streams, protocol control and the
//! publish command flow of RTMP 1.0 §7.2 as OBS and ffmpeg use it.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::amf0::{self, Amf0Value};
use crate::chunk::{ChunkDecoder, ChunkEncoder, Message};
use crate::error::{Error, Result, decode_error};
use crate::flv::{self, AudioTag, VideoTag};
use crate::handshake::{self, HANDSHAKE_SIZE};
use crate::limits::{self, HANDSHAKE_RANDOM_SIZE};
use crate::message::{self as msg, read_u32};
use crate::stream_key::StreamKey;

/// Chunk stream ids we send commands on: NetConnection replies and NetStream status.
const COMMAND_CSID: u32 = 3;
const STREAM_CSID: u32 = 5;

/// Settings of a [`Server`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerConfig {
    /// Chunk size we announce and use for our own messages (§5.4.1).
    pub chunk_size: u32,
    /// Window Acknowledgement Size we announce (§5.4.4): the publisher acknowledges after this
    /// many bytes of ours.
    pub window_ack_size: u32,
    /// Set Peer Bandwidth window we announce (§5.4.5), with limit type dynamic.
    pub peer_bandwidth: u32,
}

impl Default for ServerConfig {
    fn default() -> Self {
        // The values nginx-rtmp, SRS and FMS announce; 4096 matches what ffmpeg and OBS use.
        Self {
            chunk_size: 4096,
            window_ack_size: 2_500_000,
            peer_bandwidth: 2_500_000,
        }
    }
}

/// What the host must do next.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Output {
    /// Send these bytes to the peer, in order.
    Transmit(Bytes),
    /// Something happened.
    Event(Event),
}

/// Something the host should know or act on.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// The client sent `connect` and was answered with NetConnection.Connect.Success.
    Connect {
        /// The application name, such as `app` in `rtmp://host/app/key`.
        app: String,
        /// The `tcUrl` the client connected to, if it said.
        tc_url: Option<String>,
    },
    /// The client wants to publish; the host answers with [`Server::accept`] or
    /// [`Server::reject`]. Media that arrives before then is dropped.
    Publish {
        /// The application name from `connect`.
        app: String,
        /// The publishing name, which IVS and most services use as the stream key.
        stream_name: StreamKey,
        /// The publishing type: `live`, `record` or `append`.
        publish_type: String,
    },
    /// `@setDataFrame` / `onMetaData` from the encoder: width, height, frame rate, bit rates,
    /// the `encoder` name.
    Metadata {
        /// The properties in wire order.
        properties: Vec<(String, Amf0Value)>,
    },
    /// A video tag; Enhanced RTMP multitrack tags produce one event per track.
    Video {
        /// Decoding timestamp in milliseconds (wraps at 2^32).
        timestamp_ms: u32,
        /// The parsed tag.
        tag: VideoTag,
    },
    /// An audio tag.
    Audio {
        /// Timestamp in milliseconds (wraps at 2^32).
        timestamp_ms: u32,
        /// The parsed tag.
        tag: AudioTag,
    },
    /// The publisher stopped (`FCUnpublish`, `deleteStream`, or the connection ended while
    /// publishing).
    Unpublish,
    /// The session is over: the host flushes pending transmits and closes the connection.
    Closed {
        /// Why, when the peer broke the protocol or a limit; `None` for an orderly end or a
        /// host rejection.
        error: Option<Error>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    AwaitC0C1,
    AwaitC2,
    Connected,
    Closed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Publish {
    Idle,
    Pending { stream_id: u32 },
    Publishing { stream_id: u32 },
}

/// The sans-IO RTMP server state machine for one connection.
///
/// Feed received bytes to [`Server::handle_input`], report the end of input with
/// [`Server::handle_eof`], and drain [`Server::poll_output`] after each call. It reads no
/// clock: RTMP needs none on the server side, and idle timeouts are the host's.
#[derive(Debug)]
pub struct Server {
    config: ServerConfig,
    random: Box<[u8; HANDSHAKE_RANDOM_SIZE]>,
    phase: Phase,
    handshake_buf: BytesMut,
    decoder: ChunkDecoder,
    encoder: ChunkEncoder,
    tx: BytesMut,
    outputs: VecDeque<Output>,
    app: Option<String>,
    streams: Vec<u32>,
    next_stream_id: u32,
    publish: Publish,
    bytes_received: u64,
    last_ack: u64,
    peer_window: u32,
}

impl Server {
    /// A server awaiting C0/C1. `random` fills S1's random field (§5.2.3); the host takes it
    /// from its random number generator.
    pub fn new(config: ServerConfig, random: &[u8; HANDSHAKE_RANDOM_SIZE]) -> Self {
        Self {
            config,
            random: Box::new(*random),
            phase: Phase::AwaitC0C1,
            handshake_buf: BytesMut::new(),
            decoder: ChunkDecoder::new(),
            encoder: ChunkEncoder::new(),
            tx: BytesMut::new(),
            outputs: VecDeque::new(),
            app: None,
            streams: Vec::new(),
            next_stream_id: 1,
            publish: Publish::Idle,
            bytes_received: 0,
            last_ack: 0,
            peer_window: 0,
        }
    }

    /// Processes bytes received from the peer. An error closes the session: the error is also
    /// reported in [`Event::Closed`].
    pub fn handle_input(&mut self, data: &[u8]) -> Result<()> {
        if self.phase == Phase::Closed {
            return Err(Error::Closed);
        }
        let res = self.process(data);
        if let Err(e) = &res {
            self.close(Some(e.clone()));
        }
        self.flush();
        res
    }

    /// The peer closed its side of the connection.
    pub fn handle_eof(&mut self) {
        self.close(None);
    }

    /// The next thing to do, `None` when there is nothing until more input.
    pub fn poll_output(&mut self) -> Option<Output> {
        self.flush();
        self.outputs.pop_front()
    }

    /// Whether the session has ended.
    pub fn is_closed(&self) -> bool {
        self.phase == Phase::Closed
    }

    /// Accepts the pending publish: Stream Begin and NetStream.Publish.Start (§7.2.2.6).
    pub fn accept(&mut self) -> Result<()> {
        if self.phase == Phase::Closed {
            return Err(Error::Closed);
        }
        let Publish::Pending { stream_id } = self.publish else {
            return Err(Error::State("accept: no pending publish"));
        };
        self.send(msg::user_control(msg::EVENT_STREAM_BEGIN, stream_id))?;
        self.send_status(
            stream_id,
            "status",
            "NetStream.Publish.Start",
            "Start publishing",
        )?;
        self.publish = Publish::Publishing { stream_id };
        Ok(())
    }

    /// Refuses the pending publish with NetStream.Publish.BadName and closes the session.
    /// Without a pending publish it just closes.
    pub fn reject(&mut self, reason: &str) -> Result<()> {
        if self.phase == Phase::Closed {
            return Err(Error::Closed);
        }
        if let Publish::Pending { stream_id } = self.publish {
            self.send_status(stream_id, "error", "NetStream.Publish.BadName", reason)?;
            self.publish = Publish::Idle;
        }
        self.close(None);
        Ok(())
    }

    fn process(&mut self, data: &[u8]) -> Result<()> {
        self.bytes_received += data.len() as u64;
        match self.phase {
            Phase::AwaitC0C1 | Phase::AwaitC2 => {
                self.handshake_buf.extend_from_slice(data);
                if self.phase == Phase::AwaitC0C1 {
                    if self.handshake_buf.len() < 1 + HANDSHAKE_SIZE {
                        return Ok(());
                    }
                    let c0c1 = self.handshake_buf.split_to(1 + HANDSHAKE_SIZE);
                    handshake::server_response(c0c1[0], &c0c1[1..], &self.random, &mut self.tx)?;
                    self.phase = Phase::AwaitC2;
                }
                if self.handshake_buf.len() < HANDSHAKE_SIZE {
                    return Ok(());
                }
                // C2 should echo S1 (§5.2.4), but clients of the Flash Player 9 digest
                // handshake send an HMAC-based C2 instead, so its content is not checked.
                let _c2 = self.handshake_buf.split_to(HANDSHAKE_SIZE);
                self.phase = Phase::Connected;
                let rest = std::mem::take(&mut self.handshake_buf);
                self.decoder.push(&rest);
            }
            Phase::Connected => self.decoder.push(data),
            Phase::Closed => return Err(Error::Closed),
        }
        while self.phase == Phase::Connected {
            let Some(message) = self.decoder.poll()? else {
                break;
            };
            self.on_message(message)?;
        }
        // §5.4.3: acknowledge once a window's worth of bytes has arrived since the last one.
        if self.peer_window > 0
            && self.phase == Phase::Connected
            && self.bytes_received - self.last_ack >= u64::from(self.peer_window)
        {
            self.last_ack = self.bytes_received;
            // The sequence number is the byte count modulo 2^32.
            let seq = (self.bytes_received & 0xFFFF_FFFF) as u32;
            self.send(msg::control_u32(msg::ACKNOWLEDGEMENT, seq))?;
        }
        Ok(())
    }

    fn on_message(&mut self, m: Message) -> Result<()> {
        match m.type_id {
            msg::SET_CHUNK_SIZE => {
                let size = read_u32(&m.payload).ok_or(Error::Decode("set chunk size: length"))?;
                self.decoder.set_chunk_size(size)?;
            }
            msg::ABORT => {
                let csid = read_u32(&m.payload).ok_or(Error::Decode("abort: length"))?;
                self.decoder.abort(csid);
            }
            msg::WINDOW_ACK_SIZE => {
                self.peer_window =
                    read_u32(&m.payload).ok_or(Error::Decode("window ack size: length"))?;
            }
            // We send only a few small messages, so the publisher's acknowledgements and
            // bandwidth limits need no action.
            msg::ACKNOWLEDGEMENT | msg::SET_PEER_BANDWIDTH => {}
            msg::USER_CONTROL => self.on_user_control(&m.payload)?,
            msg::AUDIO | msg::VIDEO => {
                self.on_media(m.type_id, m.stream_id, m.timestamp, m.payload)?
            }
            msg::COMMAND_AMF0 => self.on_command(&m, &m.payload)?,
            msg::COMMAND_AMF3 => self.on_command(&m, amf3_body(&m.payload)?)?,
            msg::DATA_AMF0 => self.on_data(m.stream_id, &m.payload)?,
            msg::DATA_AMF3 => self.on_data(m.stream_id, amf3_body(&m.payload)?)?,
            msg::AGGREGATE => self.on_aggregate(&m)?,
            // Shared objects and unknown types have no role in publishing; ignoring them keeps
            // unusual encoders working.
            _ => {}
        }
        Ok(())
    }

    fn on_user_control(&mut self, payload: &[u8]) -> Result<()> {
        let Some(event) = payload.get(..2) else {
            return decode_error("user control: event type");
        };
        if u16::from_be_bytes([event[0], event[1]]) == msg::EVENT_PING_REQUEST {
            let time = read_u32(&payload[2..]).ok_or(Error::Decode("ping request: length"))?;
            self.send(msg::user_control(msg::EVENT_PING_RESPONSE, time))?;
        }
        Ok(())
    }

    fn on_media(
        &mut self,
        type_id: u8,
        stream_id: u32,
        timestamp_ms: u32,
        body: Bytes,
    ) -> Result<()> {
        if self.publish != (Publish::Publishing { stream_id }) || body.is_empty() {
            // Not (yet) accepted, another stream, or an empty keep-alive tag.
            return Ok(());
        }
        if type_id == msg::VIDEO {
            for tag in flv::parse_video_tag(body)? {
                self.emit(Event::Video { timestamp_ms, tag });
            }
        } else {
            let tag = flv::parse_audio_tag(body)?;
            self.emit(Event::Audio { timestamp_ms, tag });
        }
        Ok(())
    }

    /// §7.1.6: FLV tags (11-byte header, body, 4-byte back pointer) whose timestamps are
    /// rebased on the aggregate message's own.
    fn on_aggregate(&mut self, m: &Message) -> Result<()> {
        let mut rest = m.payload.clone();
        let mut first_ts = None;
        while !rest.is_empty() {
            if rest.len() < 11 {
                return decode_error("aggregate: tag header");
            }
            let h = rest.split_to(11);
            let type_id = h[0];
            let size = u32::from_be_bytes([0, h[1], h[2], h[3]]) as usize;
            let ts = u32::from_be_bytes([h[7], h[4], h[5], h[6]]);
            if rest.len() < size + 4 {
                return decode_error("aggregate: tag body");
            }
            let body = rest.split_to(size);
            let _back_pointer = rest.split_to(4);
            let base = *first_ts.get_or_insert(ts);
            let timestamp = m.timestamp.wrapping_add(ts.wrapping_sub(base));
            match type_id {
                msg::AUDIO | msg::VIDEO => self.on_media(type_id, m.stream_id, timestamp, body)?,
                msg::DATA_AMF0 => self.on_data(m.stream_id, &body)?,
                _ => {}
            }
        }
        Ok(())
    }

    fn on_data(&mut self, stream_id: u32, body: &[u8]) -> Result<()> {
        if self.publish != (Publish::Publishing { stream_id }) {
            return Ok(());
        }
        let values = amf0::decode_all(body)?;
        let mut it = values.into_iter().peekable();
        if it.peek().and_then(Amf0Value::as_str) == Some("@setDataFrame") {
            it.next();
        }
        if it.next().as_ref().and_then(Amf0Value::as_str) != Some("onMetaData") {
            // Cue points and text data are not needed for ingest.
            return Ok(());
        }
        let properties = match it.next() {
            Some(Amf0Value::EcmaArray(p) | Amf0Value::Object(p)) => p,
            _ => return decode_error("onMetaData: properties"),
        };
        self.emit(Event::Metadata { properties });
        Ok(())
    }

    fn on_command(&mut self, m: &Message, body: &[u8]) -> Result<()> {
        let values = amf0::decode_all(body)?;
        let Some(name) = values.first().and_then(Amf0Value::as_str) else {
            return decode_error("command: name");
        };
        let tid = values.get(1).and_then(Amf0Value::as_f64).unwrap_or(0.0);
        let arg = |i: usize| values.get(i);
        match name {
            "connect" => {
                if self.app.is_some() {
                    return decode_error("connect: repeated");
                }
                let obj = arg(2);
                let field = |k: &str| {
                    obj.and_then(|o| o.get(k))
                        .and_then(Amf0Value::as_str)
                        .map(str::to_owned)
                };
                let app = field("app").unwrap_or_default();
                let tc_url = field("tcUrl");
                self.app = Some(app.clone());
                // §7.2.1.1: window, bandwidth and chunk size first, then the _result.
                self.send(msg::control_u32(
                    msg::WINDOW_ACK_SIZE,
                    self.config.window_ack_size,
                ))?;
                self.send(msg::set_peer_bandwidth(self.config.peer_bandwidth, 2))?;
                self.send(msg::control_u32(
                    msg::SET_CHUNK_SIZE,
                    self.config.chunk_size,
                ))?;
                self.encoder.set_chunk_size(self.config.chunk_size)?;
                self.send_command(
                    COMMAND_CSID,
                    0,
                    vec![
                        Amf0Value::String("_result".into()),
                        Amf0Value::Number(tid),
                        Amf0Value::Object(vec![
                            ("fmsVer".into(), Amf0Value::String("FMS/3,0,1,123".into())),
                            ("capabilities".into(), Amf0Value::Number(31.0)),
                        ]),
                        Amf0Value::Object(vec![
                            ("level".into(), Amf0Value::String("status".into())),
                            (
                                "code".into(),
                                Amf0Value::String("NetConnection.Connect.Success".into()),
                            ),
                            (
                                "description".into(),
                                Amf0Value::String("Connection succeeded.".into()),
                            ),
                            // AMF0 only, whatever the client asked for.
                            ("objectEncoding".into(), Amf0Value::Number(0.0)),
                        ]),
                    ],
                )?;
                self.emit(Event::Connect { app, tc_url });
            }
            "releaseStream" | "FCPublish" => {
                self.require_connected()?;
                if tid != 0.0 {
                    self.send_result(tid, Amf0Value::Undefined)?;
                }
            }
            "createStream" => {
                self.require_connected()?;
                if self.streams.len() >= limits::MAX_MESSAGE_STREAMS as usize {
                    return Err(Error::Limit("createStream: message streams"));
                }
                let id = self.next_stream_id;
                // Streams can be deleted and created again; the id space is still finite.
                self.next_stream_id = id
                    .checked_add(1)
                    .ok_or(Error::Limit("createStream: stream ids"))?;
                self.streams.push(id);
                self.send_result(tid, Amf0Value::Number(f64::from(id)))?;
            }
            "publish" => {
                let app = self.require_connected()?;
                if !self.streams.contains(&m.stream_id) {
                    return decode_error("publish: unknown message stream");
                }
                if self.publish != Publish::Idle {
                    return decode_error("publish: already publishing");
                }
                // §7.2.2.6: command object (null), publishing name, publishing type.
                let Some(name) = arg(3).and_then(Amf0Value::as_str) else {
                    return decode_error("publish: publishing name");
                };
                let publish_type = arg(4).and_then(Amf0Value::as_str).unwrap_or("live");
                let event = Event::Publish {
                    app,
                    stream_name: StreamKey::new(name),
                    publish_type: publish_type.to_owned(),
                };
                self.publish = Publish::Pending {
                    stream_id: m.stream_id,
                };
                self.emit(event);
            }
            "FCUnpublish" => self.stop_publishing(None),
            "deleteStream" | "closeStream" => {
                let id = if name == "deleteStream" {
                    // §7.2.2.3: the stream id is the fourth value.
                    arg(3).and_then(Amf0Value::as_f64).map_or(0, |id| id as u32)
                } else {
                    m.stream_id
                };
                self.stop_publishing(Some(id));
                if name == "deleteStream" {
                    self.streams.retain(|&s| s != id);
                }
            }
            // Replies to our own calls (we make none) and bandwidth-check chatter.
            "_result" | "_error" | "onBWDone" | "_checkbw" | "onStatus" => {}
            _ => {
                // An ingest server does not play or call; a transaction that expects an
                // answer gets an error rather than silence.
                if tid != 0.0 {
                    self.send_command(
                        COMMAND_CSID,
                        0,
                        vec![
                            Amf0Value::String("_error".into()),
                            Amf0Value::Number(tid),
                            Amf0Value::Null,
                            status_object(
                                "error",
                                "NetConnection.Call.Failed",
                                "unsupported command",
                            ),
                        ],
                    )?;
                }
            }
        }
        Ok(())
    }

    fn stop_publishing(&mut self, stream: Option<u32>) {
        let (Publish::Pending { stream_id } | Publish::Publishing { stream_id }) = self.publish
        else {
            return;
        };
        if stream.is_some_and(|s| s != stream_id) {
            return;
        }
        let was_publishing = matches!(self.publish, Publish::Publishing { .. });
        self.publish = Publish::Idle;
        if was_publishing {
            self.emit(Event::Unpublish);
        }
    }

    fn require_connected(&self) -> Result<String> {
        self.app
            .clone()
            .ok_or(Error::Decode("command before connect"))
    }

    fn close(&mut self, error: Option<Error>) {
        if self.phase == Phase::Closed {
            return;
        }
        self.stop_publishing(None);
        self.phase = Phase::Closed;
        self.emit(Event::Closed { error });
    }

    fn emit(&mut self, event: Event) {
        // Bytes queued before the event go out before it, so that a host that closes on
        // `Closed` still sends the final status.
        self.flush();
        self.outputs.push_back(Output::Event(event));
    }

    fn flush(&mut self) {
        if !self.tx.is_empty() {
            let bytes = self.tx.split().freeze();
            self.outputs.push_back(Output::Transmit(bytes));
        }
    }

    fn send(&mut self, m: Message) -> Result<()> {
        self.encoder.encode(&m, &mut self.tx)
    }

    fn send_command(&mut self, csid: u32, stream_id: u32, values: Vec<Amf0Value>) -> Result<()> {
        let mut payload = BytesMut::new();
        amf0::encode_all(&values, &mut payload);
        self.send(Message {
            csid,
            timestamp: 0,
            type_id: msg::COMMAND_AMF0,
            stream_id,
            payload: payload.freeze(),
        })
    }

    fn send_result(&mut self, tid: f64, value: Amf0Value) -> Result<()> {
        self.send_command(
            COMMAND_CSID,
            0,
            vec![
                Amf0Value::String("_result".into()),
                Amf0Value::Number(tid),
                Amf0Value::Null,
                value,
            ],
        )
    }

    fn send_status(&mut self, stream_id: u32, level: &str, code: &str, desc: &str) -> Result<()> {
        self.send_command(
            STREAM_CSID,
            stream_id,
            vec![
                Amf0Value::String("onStatus".into()),
                Amf0Value::Number(0.0),
                Amf0Value::Null,
                status_object(level, code, desc),
            ],
        )
    }
}

fn status_object(level: &str, code: &str, description: &str) -> Amf0Value {
    Amf0Value::Object(vec![
        ("level".into(), Amf0Value::String(level.into())),
        ("code".into(), Amf0Value::String(code.into())),
        ("description".into(), Amf0Value::String(description.into())),
    ])
}

/// AMF3 command and data messages (§7.1.1, §7.1.2) start with a format byte; clients that use
/// them write 0 and continue in AMF0, which is all this crate decodes.
fn amf3_body(payload: &[u8]) -> Result<&[u8]> {
    match payload.split_first() {
        Some((0, rest)) => Ok(rest),
        Some(_) => Err(Error::Unsupported("amf3 encoded command")),
        None => decode_error("amf3 command: empty"),
    }
}
