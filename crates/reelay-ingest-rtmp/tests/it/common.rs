//! A scripted RTMP client and a driver that runs a [`Server`] over recorded bytes.

use bytes::{Bytes, BytesMut};
use reelay_ingest_rtmp::chunk::{ChunkDecoder, ChunkEncoder, Message};
use reelay_ingest_rtmp::limits::HANDSHAKE_RANDOM_SIZE;
use reelay_ingest_rtmp::message as msg;
use reelay_ingest_rtmp::{Amf0Value, Event, HANDSHAKE_SIZE, Output, Server, ServerConfig, amf0};

/// A deterministic xorshift generator, so that every run mutates and chunks the same way.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// A value in `lo..=hi`.
    pub fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    pub fn random_block(&mut self) -> [u8; HANDSHAKE_RANDOM_SIZE] {
        let mut out = [0u8; HANDSHAKE_RANDOM_SIZE];
        for b in &mut out {
            *b = self.next() as u8;
        }
        out
    }
}

pub fn s(v: &str) -> Amf0Value {
    Amf0Value::String(v.into())
}

pub fn n(v: f64) -> Amf0Value {
    Amf0Value::Number(v)
}

/// Writes what a publishing client sends, in the order ffmpeg sends it.
pub struct Client {
    enc: ChunkEncoder,
    pub out: BytesMut,
}

impl Client {
    /// C0, C1 and C2 (the server does not check C2's content).
    pub fn new() -> Self {
        let mut out = BytesMut::new();
        out.extend_from_slice(&[3]);
        out.extend_from_slice(&(0..HANDSHAKE_SIZE).map(|i| i as u8).collect::<Vec<_>>());
        out.extend_from_slice(&vec![7u8; HANDSHAKE_SIZE]);
        Self {
            enc: ChunkEncoder::new(),
            out,
        }
    }

    pub fn send(&mut self, m: Message) {
        self.enc.encode(&m, &mut self.out).unwrap();
    }

    pub fn set_chunk_size(&mut self, size: u32) {
        self.send(msg::control_u32(msg::SET_CHUNK_SIZE, size));
        self.enc.set_chunk_size(size).unwrap();
    }

    pub fn command(&mut self, stream_id: u32, values: &[Amf0Value]) {
        let mut payload = BytesMut::new();
        amf0::encode_all(values, &mut payload);
        self.send(Message {
            csid: if stream_id == 0 { 3 } else { 8 },
            timestamp: 0,
            type_id: msg::COMMAND_AMF0,
            stream_id,
            payload: payload.freeze(),
        });
    }

    pub fn data(&mut self, stream_id: u32, values: &[Amf0Value]) {
        let mut payload = BytesMut::new();
        amf0::encode_all(values, &mut payload);
        self.send(Message {
            csid: 4,
            timestamp: 0,
            type_id: msg::DATA_AMF0,
            stream_id,
            payload: payload.freeze(),
        });
    }

    pub fn media(&mut self, type_id: u8, timestamp: u32, body: &[u8]) {
        self.send(Message {
            csid: if type_id == msg::VIDEO { 6 } else { 4 },
            timestamp,
            type_id,
            stream_id: 1,
            payload: Bytes::copy_from_slice(body),
        });
    }

    pub fn take(&mut self) -> Vec<u8> {
        self.out.split().to_vec()
    }

    /// Handshake through `publish`.
    pub fn connect_and_publish(&mut self, key: &str) {
        self.set_chunk_size(4096);
        self.command(
            0,
            &[
                s("connect"),
                n(1.0),
                Amf0Value::Object(vec![
                    ("app".into(), s("app")),
                    ("type".into(), s("nonprivate")),
                    ("flashVer".into(), s("FMLE/3.0 (compatible; FMSc/1.0)")),
                    ("tcUrl".into(), s("rtmp://127.0.0.1:1935/app")),
                ]),
            ],
        );
        self.command(0, &[s("releaseStream"), n(2.0), Amf0Value::Null, s(key)]);
        self.command(0, &[s("FCPublish"), n(3.0), Amf0Value::Null, s(key)]);
        self.command(0, &[s("createStream"), n(4.0), Amf0Value::Null]);
        self.command(
            1,
            &[s("publish"), n(5.0), Amf0Value::Null, s(key), s("live")],
        );
    }

    /// Metadata, AVC and AAC sequence headers, two video and two audio frames, unpublish.
    pub fn media_and_unpublish(&mut self, key: &str) {
        self.data(
            1,
            &[
                s("@setDataFrame"),
                s("onMetaData"),
                Amf0Value::EcmaArray(vec![
                    ("width".into(), n(320.0)),
                    ("height".into(), n(240.0)),
                    ("encoder".into(), s("Lavf59.27.100")),
                ]),
            ],
        );
        let mut seq = vec![0x17, 0, 0, 0, 0, 1, 0x64, 0, 0x0D, 0xFF, 0xE1, 0, 4];
        seq.extend_from_slice(&[0x67, 0x64, 0, 0x0D, 1, 0, 2, 0x68, 0xEB]);
        self.media(msg::VIDEO, 0, &seq);
        self.media(msg::AUDIO, 0, &[0xAF, 0, 0x11, 0x88]);
        let mut idr = vec![0x17, 1, 0, 0, 80, 0, 0, 3, 0];
        idr.extend_from_slice(&[0x65; 768]);
        self.media(msg::VIDEO, 0, &idr);
        self.media(msg::AUDIO, 21, &[0xAF, 1, 0x21, 0x00, 0x49]);
        self.media(msg::VIDEO, 40, &[0x27, 1, 0, 0, 40, 0, 0, 0, 2, 0x41, 0x9A]);
        self.media(msg::AUDIO, 42, &[0xAF, 1, 0x21, 0x00, 0x4A]);
        self.command(0, &[s("FCUnpublish"), n(6.0), Amf0Value::Null, s(key)]);
        self.command(0, &[s("deleteStream"), n(7.0), Amf0Value::Null, n(1.0)]);
    }
}

/// Everything a run produced.
#[derive(Default)]
pub struct Run {
    pub events: Vec<Event>,
    pub transmitted: Vec<u8>,
    pub errors: usize,
}

/// Drains outputs, answering a publish with `accept` (or `reject` when `reject` is set).
pub fn drain(server: &mut Server, run: &mut Run, reject: bool) {
    while let Some(out) = server.poll_output() {
        match out {
            Output::Transmit(bytes) => run.transmitted.extend_from_slice(&bytes),
            Output::Event(event) => {
                // Later input of the same call may already have ended the publish or the
                // session (hostile runs); the clean runs assert the resulting replies.
                if matches!(event, Event::Publish { .. }) {
                    let _ = if reject {
                        server.reject("stream key not found")
                    } else {
                        server.accept()
                    };
                }
                run.events.push(event);
            }
            other => panic!("unexpected output {other:?}"),
        }
    }
}

/// Feeds each part in pieces of `step` bytes, draining after every call, then reports EOF.
pub fn run_parts(parts: &[&[u8]], step: usize, reject: bool) -> (Server, Run) {
    let mut server = Server::new(ServerConfig::default(), &Rng::new(1).random_block());
    let mut run = Run::default();
    for part in parts {
        for piece in part.chunks(step.max(1)) {
            if server.handle_input(piece).is_err() {
                run.errors += 1;
            }
            drain(&mut server, &mut run, reject);
        }
    }
    server.handle_eof();
    drain(&mut server, &mut run, reject);
    (server, run)
}

/// Decodes what the server sent after S0/S1/S2, following its Set Chunk Size.
pub fn server_messages(transmitted: &[u8]) -> Vec<Message> {
    assert!(transmitted.len() > 2 * HANDSHAKE_SIZE, "no handshake");
    assert_eq!(transmitted[0], 3);
    let mut dec = ChunkDecoder::new();
    dec.push(&transmitted[1 + 2 * HANDSHAKE_SIZE..]);
    let mut out = Vec::new();
    while let Some(m) = dec.poll().unwrap() {
        if m.type_id == msg::SET_CHUNK_SIZE {
            dec.set_chunk_size(msg::read_u32(&m.payload).unwrap())
                .unwrap();
        }
        out.push(m);
    }
    assert_eq!(dec.buffered_bytes(), 0);
    out
}

/// The AMF0 values of a command message.
pub fn command_values(m: &Message) -> Vec<Amf0Value> {
    assert_eq!(m.type_id, msg::COMMAND_AMF0, "{m:?}");
    amf0::decode_all(&m.payload).unwrap()
}

/// The `code` of an `onStatus` or `_result` info object, with the command name.
pub fn status_code(m: &Message) -> (String, Option<String>) {
    let values = command_values(m);
    let name = values[0].as_str().unwrap().to_owned();
    let code = values
        .last()
        .and_then(|v| v.get("code"))
        .and_then(Amf0Value::as_str)
        .map(str::to_owned);
    (name, code)
}
