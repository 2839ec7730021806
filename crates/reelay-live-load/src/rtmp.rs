//! A minimal RTMP publishing client (RTMP 1.0 §5.2 handshake, §7.2.1 `connect`, §7.2.2
//! `createStream` and `publish`), built on the chunk and AMF0 code of `reelay-ingest-rtmp`.
//!
//! It speaks the same command sequence as ffmpeg's publisher (`connect`, `releaseStream`,
//! `FCPublish`, `createStream`, `publish`, `@setDataFrame`), so that servers treat it like one.

use anyhow::{Context, Result, anyhow, bail};
use bytes::{Bytes, BytesMut};
use rand::RngCore as _;
use reelay_ingest_rtmp::amf0::{self, Amf0Value};
use reelay_ingest_rtmp::chunk::{ChunkDecoder, ChunkEncoder, Message};
use reelay_ingest_rtmp::message as msg;
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

/// Chunk streams as ffmpeg uses them: commands, audio, video, stream-level data.
const COMMAND_CSID: u32 = 3;
pub const AUDIO_CSID: u32 = 4;
pub const VIDEO_CSID: u32 = 6;
pub const DATA_CSID: u32 = 8;
/// Chunk size we announce, as ffmpeg and OBS do.
pub const CHUNK_SIZE: u32 = 4096;
/// How long the handshake and the command exchange may take.
const SETUP_TIMEOUT: Duration = Duration::from_secs(20);
const HANDSHAKE_SIZE: usize = 1536;

/// `rtmp://host:port/app/name` split into its parts.
#[derive(Debug, Clone)]
pub struct Target {
    pub addr: String,
    pub app: String,
    pub name: String,
    pub tc_url: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self> {
        let rest = url
            .strip_prefix("rtmp://")
            .ok_or_else(|| anyhow!("not an rtmp:// URL"))?;
        let (host, path) = rest.split_once('/').context("rtmp URL without an app")?;
        let (app, name) = path
            .split_once('/')
            .context("rtmp URL without a stream name")?;
        if app.is_empty() || name.is_empty() {
            bail!("rtmp URL with an empty app or stream name");
        }
        let addr = if host.contains(':') {
            host.to_string()
        } else {
            format!("{host}:1935")
        };
        Ok(Self {
            tc_url: format!("rtmp://{host}/{app}"),
            addr,
            app: app.to_string(),
            name: name.to_string(),
        })
    }
}

/// A connection that is publishing: media goes out through [`Session::encode`].
pub struct Publisher {
    pub socket: TcpStream,
    pub session: Session,
    /// The decoder state after setup, for the task that keeps reading the server.
    pub decoder: ChunkDecoder,
}

/// The sending side of a published stream.
pub struct Session {
    pub stream_id: u32,
    pub encoder: ChunkEncoder,
}

impl Publisher {
    /// Connects, shakes hands and runs the command sequence up to `NetStream.Publish.Start`.
    pub async fn connect(target: &Target) -> Result<Self> {
        tokio::time::timeout(SETUP_TIMEOUT, Self::setup(target))
            .await
            .map_err(|_| anyhow!("publish setup timed out"))?
    }

    async fn setup(target: &Target) -> Result<Self> {
        let mut socket = TcpStream::connect(&target.addr)
            .await
            .with_context(|| format!("connecting to {}", target.addr))?;
        socket.set_nodelay(true)?;
        // §5.2.2-5.2.3: C0 (version 3), C1 (time, zero, random); S1 is echoed as C2.
        let mut c0c1 = vec![0u8; 1 + HANDSHAKE_SIZE];
        c0c1[0] = 3;
        rand::thread_rng().fill_bytes(&mut c0c1[9..]);
        socket.write_all(&c0c1).await?;
        let mut s = vec![0u8; 1 + 2 * HANDSHAKE_SIZE];
        socket
            .read_exact(&mut s)
            .await
            .context("handshake: server closed")?;
        if s[0] != 3 {
            bail!("handshake: server version {}", s[0]);
        }
        let mut out = BytesMut::with_capacity(64 * 1024);
        out.extend_from_slice(&s[1..1 + HANDSHAKE_SIZE]);

        let mut encoder = ChunkEncoder::new();
        let mut decoder = ChunkDecoder::new();
        encoder.encode(&msg::control_u32(msg::SET_CHUNK_SIZE, CHUNK_SIZE), &mut out)?;
        encoder.set_chunk_size(CHUNK_SIZE)?;
        let connect = vec![
            Amf0Value::String("connect".into()),
            Amf0Value::Number(1.0),
            Amf0Value::Object(vec![
                ("app".into(), Amf0Value::String(target.app.clone())),
                ("type".into(), Amf0Value::String("nonprivate".into())),
                (
                    "flashVer".into(),
                    Amf0Value::String("FMLE/3.0 (compatible; reelay-live-load)".into()),
                ),
                ("tcUrl".into(), Amf0Value::String(target.tc_url.clone())),
            ]),
        ];
        command(&mut encoder, &mut out, 0, COMMAND_CSID, &connect)?;
        socket.write_all(&out).await?;
        out.clear();
        let mut conn = Setup {
            socket,
            decoder: &mut decoder,
            buf: vec![0u8; 16 * 1024],
        };
        conn.wait_result(1.0).await.context("connect")?;

        let name = Amf0Value::String(target.name.clone());
        for (i, cmd) in ["releaseStream", "FCPublish"].into_iter().enumerate() {
            let values = [
                Amf0Value::String(cmd.into()),
                Amf0Value::Number(2.0 + i as f64),
                Amf0Value::Null,
                name.clone(),
            ];
            command(&mut encoder, &mut out, 0, COMMAND_CSID, &values)?;
        }
        let create = [
            Amf0Value::String("createStream".into()),
            Amf0Value::Number(4.0),
            Amf0Value::Null,
        ];
        command(&mut encoder, &mut out, 0, COMMAND_CSID, &create)?;
        conn.socket.write_all(&out).await?;
        out.clear();
        let result = conn.wait_result(4.0).await.context("createStream")?;
        let stream_id = result
            .get(3)
            .and_then(Amf0Value::as_f64)
            .filter(|id| (1.0..=f64::from(u32::MAX)).contains(id))
            .context("createStream: no stream id")? as u32;

        let publish = [
            Amf0Value::String("publish".into()),
            Amf0Value::Number(5.0),
            Amf0Value::Null,
            name,
            Amf0Value::String("live".into()),
        ];
        command(&mut encoder, &mut out, stream_id, DATA_CSID, &publish)?;
        conn.socket.write_all(&out).await?;
        conn.wait_publish_start().await?;
        let socket = conn.socket;
        Ok(Self {
            socket,
            session: Session { stream_id, encoder },
            decoder,
        })
    }
}

impl Session {
    /// Appends one media or data message for the published stream.
    pub fn encode(
        &mut self,
        out: &mut BytesMut,
        csid: u32,
        type_id: u8,
        timestamp: u32,
        payload: Bytes,
    ) -> Result<()> {
        let m = Message {
            csid,
            timestamp,
            type_id,
            stream_id: self.stream_id,
            payload,
        };
        Ok(self.encoder.encode(&m, out)?)
    }
}

/// `@setDataFrame` prepended to the file's `onMetaData` body, as ffmpeg sends it (§7.1.2).
pub fn set_data_frame(metadata: &[u8]) -> Bytes {
    let mut b = BytesMut::with_capacity(metadata.len() + 16);
    Amf0Value::String("@setDataFrame".into()).encode(&mut b);
    b.extend_from_slice(metadata);
    b.freeze()
}

fn command(
    encoder: &mut ChunkEncoder,
    out: &mut BytesMut,
    stream_id: u32,
    csid: u32,
    values: &[Amf0Value],
) -> Result<()> {
    let mut payload = BytesMut::new();
    amf0::encode_all(values, &mut payload);
    let m = Message {
        csid,
        timestamp: 0,
        type_id: msg::COMMAND_AMF0,
        stream_id,
        payload: payload.freeze(),
    };
    Ok(encoder.encode(&m, out)?)
}

/// What the reading side saw that matters to a publisher.
pub enum Incoming {
    /// A User Control Ping Request to answer with this timestamp (§7.1.7).
    Ping(u32),
    /// An `onStatus` or `_error` at level `error`, or a `close` command: the server refused.
    Refused(String),
    Other,
}

/// Classifies one message from the server, applying Set Chunk Size to `decoder`.
pub fn classify(m: &Message, decoder: &mut ChunkDecoder) -> Result<Incoming> {
    match m.type_id {
        msg::SET_CHUNK_SIZE => {
            let size = msg::read_u32(&m.payload).context("set chunk size")?;
            decoder.set_chunk_size(size)?;
            Ok(Incoming::Other)
        }
        msg::USER_CONTROL
            if m.payload.len() >= 6
                && u16::from_be_bytes([m.payload[0], m.payload[1]]) == msg::EVENT_PING_REQUEST =>
        {
            Ok(Incoming::Ping(msg::read_u32(&m.payload[2..]).unwrap_or(0)))
        }
        msg::COMMAND_AMF0 => {
            let values = amf0::decode_all(&m.payload)?;
            let name = values.first().and_then(Amf0Value::as_str).unwrap_or("");
            let info = values.get(3);
            let level = info
                .and_then(|i| i.get("level"))
                .and_then(Amf0Value::as_str)
                .unwrap_or("");
            let code = info
                .and_then(|i| i.get("code"))
                .and_then(Amf0Value::as_str)
                .unwrap_or("");
            if name == "_error" || name == "close" || (name == "onStatus" && level == "error") {
                Ok(Incoming::Refused(format!("{name} {code}")))
            } else {
                Ok(Incoming::Other)
            }
        }
        _ => Ok(Incoming::Other),
    }
}

/// A Ping Response to a Ping Request (§7.1.7).
pub fn pong(encoder: &mut ChunkEncoder, out: &mut BytesMut, timestamp: u32) -> Result<()> {
    Ok(encoder.encode(&msg::user_control(msg::EVENT_PING_RESPONSE, timestamp), out)?)
}

struct Setup<'a> {
    socket: TcpStream,
    decoder: &'a mut ChunkDecoder,
    buf: Vec<u8>,
}

impl Setup<'_> {
    async fn next(&mut self) -> Result<Message> {
        loop {
            if let Some(m) = self.decoder.poll()? {
                return Ok(m);
            }
            let n = self.socket.read(&mut self.buf).await?;
            if n == 0 {
                bail!("server closed the connection");
            }
            self.decoder.push(&self.buf[..n]);
        }
    }

    /// Reads until the `_result` of transaction `tid`; returns its values.
    async fn wait_result(&mut self, tid: f64) -> Result<Vec<Amf0Value>> {
        loop {
            let m = self.next().await?;
            if let Incoming::Refused(why) = classify(&m, self.decoder)? {
                bail!("refused: {why}");
            }
            if m.type_id == msg::COMMAND_AMF0 {
                let values = amf0::decode_all(&m.payload)?;
                let name = values.first().and_then(Amf0Value::as_str);
                let id = values.get(1).and_then(Amf0Value::as_f64);
                if name == Some("_result") && id == Some(tid) {
                    return Ok(values);
                }
            }
        }
    }

    async fn wait_publish_start(&mut self) -> Result<()> {
        loop {
            let m = self.next().await?;
            if let Incoming::Refused(why) = classify(&m, self.decoder)? {
                bail!("publish refused: {why}");
            }
            if m.type_id == msg::COMMAND_AMF0 {
                let values = amf0::decode_all(&m.payload)?;
                let code = values
                    .get(3)
                    .and_then(|i| i.get("code"))
                    .and_then(Amf0Value::as_str);
                if code == Some("NetStream.Publish.Start") {
                    return Ok(());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_rtmp_urls() {
        let t = Target::parse("rtmp://127.0.0.1:1935/app/sk_us-east-1_abc").expect("valid");
        assert_eq!(t.addr, "127.0.0.1:1935");
        assert_eq!(
            (t.app.as_str(), t.name.as_str()),
            ("app", "sk_us-east-1_abc")
        );
        assert_eq!(t.tc_url, "rtmp://127.0.0.1:1935/app");
        assert_eq!(
            Target::parse("rtmp://h/live/a/b").expect("valid").name,
            "a/b"
        );
        assert_eq!(
            Target::parse("rtmp://h/live/x").expect("valid").addr,
            "h:1935"
        );
        for bad in [
            "http://h/a/b",
            "rtmp://h",
            "rtmp://h/app",
            "rtmp://h//x",
            "rtmp://h/a/",
        ] {
            assert!(Target::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn refusals_are_recognised() {
        let mut payload = BytesMut::new();
        amf0::encode_all(
            &[
                Amf0Value::String("onStatus".into()),
                Amf0Value::Number(0.0),
                Amf0Value::Null,
                Amf0Value::Object(vec![
                    ("level".into(), Amf0Value::String("error".into())),
                    (
                        "code".into(),
                        Amf0Value::String("NetStream.Publish.BadName".into()),
                    ),
                ]),
            ],
            &mut payload,
        );
        let m = Message {
            csid: 5,
            timestamp: 0,
            type_id: msg::COMMAND_AMF0,
            stream_id: 1,
            payload: payload.freeze(),
        };
        let mut d = ChunkDecoder::new();
        assert!(matches!(
            classify(&m, &mut d).expect("decodes"),
            Incoming::Refused(why) if why == "onStatus NetStream.Publish.BadName"
        ));
        let ping = msg::user_control(msg::EVENT_PING_REQUEST, 77);
        assert!(matches!(
            classify(&ping, &mut d).expect("decodes"),
            Incoming::Ping(77)
        ));
        let size = msg::control_u32(msg::SET_CHUNK_SIZE, 60_000);
        classify(&size, &mut d).expect("applies");
        assert_eq!(d.chunk_size(), 60_000);
    }
}
