//! The publish command flow with a scripted client: events, replies and protocol control.

use bytes::Bytes;
use reelay_ingest_rtmp::chunk::Message;
use reelay_ingest_rtmp::message as msg;
use reelay_ingest_rtmp::{
    Amf0Value, AudioPacket, AvcDecoderConfig, Error, Event, FrameType, Server, ServerConfig,
    VideoCodec, VideoPacket,
};

use crate::common::{Client, Rng, command_values, n, run_parts, s, server_messages, status_code};

const KEY: &str = "sk_us-west-2_abcDEF123";

fn publish_parts() -> (Vec<u8>, Vec<u8>) {
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    let first = client.take();
    client.media_and_unpublish(KEY);
    (first, client.take())
}

#[test]
fn publish_flow_events_and_replies() {
    let (first, second) = publish_parts();
    // Byte by byte and in one piece must give the same result.
    for step in [1, 7, 4096, usize::MAX] {
        let (server, run) = run_parts(&[&first, &second], step, false);
        assert_eq!(run.errors, 0);
        assert!(server.is_closed());
        let ev = &run.events;
        assert_eq!(ev.len(), 11, "{ev:#?}");
        assert_eq!(
            ev[0],
            Event::Connect {
                app: "app".into(),
                tc_url: Some("rtmp://127.0.0.1:1935/app".into())
            }
        );
        let Event::Publish {
            app,
            stream_name,
            publish_type,
        } = &ev[1]
        else {
            panic!("{:?}", ev[1]);
        };
        assert_eq!((app.as_str(), publish_type.as_str()), ("app", "live"));
        assert!(stream_name.ct_eq(KEY));
        let Event::Metadata { properties } = &ev[2] else {
            panic!("{:?}", ev[2]);
        };
        assert_eq!(properties[0], ("width".into(), n(320.0)));
        let Event::Video {
            timestamp_ms: 0,
            tag,
        } = &ev[3]
        else {
            panic!("{:?}", ev[3]);
        };
        let VideoPacket::SequenceStart(avcc) = &tag.packet else {
            panic!("{tag:?}");
        };
        assert_eq!(
            AvcDecoderConfig::parse(avcc).unwrap().codec_string(),
            "avc1.64000D"
        );
        let Event::Audio { tag, .. } = &ev[4] else {
            panic!("{:?}", ev[4]);
        };
        let AudioPacket::AacSequenceHeader(asc) = &tag.packet else {
            panic!("{tag:?}");
        };
        assert_eq!(asc.sample_rate, 48_000);
        let Event::Video {
            timestamp_ms: 0,
            tag,
        } = &ev[5]
        else {
            panic!("{:?}", ev[5]);
        };
        assert_eq!(tag.frame_type, FrameType::Key);
        let VideoPacket::CodedFrames {
            composition_time_ms: 80,
            data,
        } = &tag.packet
        else {
            panic!("{tag:?}");
        };
        // The 776-byte body spans several 128-byte chunks before the client's Set Chunk Size
        // would matter; here it travels in one 4096-byte chunk.
        assert_eq!(data.len(), 4 + 768);
        assert!(matches!(
            ev[6],
            Event::Audio {
                timestamp_ms: 21,
                ..
            }
        ));
        assert!(matches!(
            ev[7],
            Event::Video {
                timestamp_ms: 40,
                ..
            }
        ));
        assert!(matches!(
            ev[8],
            Event::Audio {
                timestamp_ms: 42,
                ..
            }
        ));
        assert_eq!(ev[9], Event::Unpublish);
        // Closed comes from handle_eof in run_parts.
        assert_eq!(ev[10], Event::Closed { error: None });

        let replies = server_messages(&run.transmitted);
        let kinds: Vec<u8> = replies.iter().map(|m| m.type_id).collect();
        assert_eq!(
            kinds,
            [
                msg::WINDOW_ACK_SIZE,
                msg::SET_PEER_BANDWIDTH,
                msg::SET_CHUNK_SIZE,
                msg::COMMAND_AMF0,
                msg::COMMAND_AMF0,
                msg::COMMAND_AMF0,
                msg::COMMAND_AMF0,
                msg::USER_CONTROL,
                msg::COMMAND_AMF0,
            ]
        );
        assert_eq!(
            status_code(&replies[3]),
            (
                "_result".into(),
                Some("NetConnection.Connect.Success".into())
            )
        );
        // createStream answers stream id 1 in transaction 4.
        assert_eq!(
            command_values(&replies[6]),
            [s("_result"), n(4.0), Amf0Value::Null, n(1.0)]
        );
        assert_eq!(&replies[7].payload[..], &[0, 0, 0, 0, 0, 1]);
        assert_eq!(replies[8].stream_id, 1);
        assert_eq!(
            status_code(&replies[8]),
            ("onStatus".into(), Some("NetStream.Publish.Start".into()))
        );
    }
}

#[test]
fn closed_is_reported_once_after_eof() {
    let (first, second) = publish_parts();
    let mut server = Server::new(ServerConfig::default(), &Rng::new(2).random_block());
    let mut run = crate::common::Run::default();
    server.handle_input(&first).unwrap();
    crate::common::drain(&mut server, &mut run, false);
    server.handle_input(&second).unwrap();
    server.handle_eof();
    server.handle_eof();
    crate::common::drain(&mut server, &mut run, false);
    let closed: Vec<_> = run
        .events
        .iter()
        .filter(|e| matches!(e, Event::Closed { .. }))
        .collect();
    assert_eq!(closed, [&Event::Closed { error: None }]);
    assert_eq!(server.handle_input(&[0]), Err(Error::Closed));
}

#[test]
fn rejected_key_gets_bad_name_and_close() {
    let (first, second) = publish_parts();
    let (server, run) = run_parts(&[&first, &second], 1000, true);
    assert!(server.is_closed());
    // Everything after the rejection is refused.
    assert!(run.errors > 0);
    assert!(matches!(run.events[1], Event::Publish { .. }));
    assert_eq!(run.events[2], Event::Closed { error: None });
    assert_eq!(run.events.len(), 3);
    let replies = server_messages(&run.transmitted);
    let last = replies.last().unwrap();
    assert_eq!(
        status_code(last),
        ("onStatus".into(), Some("NetStream.Publish.BadName".into()))
    );
    let values = command_values(last);
    assert_eq!(
        values[3].get("description"),
        Some(&s("stream key not found"))
    );
    assert_eq!(values[3].get("level"), Some(&s("error")));
}

#[test]
fn media_before_accept_is_dropped() {
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    client.media(msg::AUDIO, 0, &[0xAF, 0, 0x11, 0x88]);
    let bytes = client.take();
    let mut server = Server::new(ServerConfig::default(), &Rng::new(3).random_block());
    server.handle_input(&bytes).unwrap();
    let mut events = Vec::new();
    while let Some(out) = server.poll_output() {
        if let reelay_ingest_rtmp::Output::Event(e) = out {
            events.push(e);
        }
    }
    assert_eq!(events.len(), 2, "{events:?}");
    server.accept().unwrap();
    assert_eq!(
        server.accept(),
        Err(Error::State("accept: no pending publish"))
    );
}

#[test]
fn acknowledgement_after_window() {
    let mut client = Client::new();
    client.send(msg::control_u32(msg::WINDOW_ACK_SIZE, 5000));
    client.connect_and_publish(KEY);
    let first = client.take();
    for i in 0..10 {
        client.media(msg::AUDIO, i * 20, &[0xAF, 1, 0x21, 0x00, 0x49]);
    }
    client.media(msg::VIDEO, 200, &[0x27, 1, 0, 0, 0].repeat(1000));
    let second = client.take();
    let (_, run) = run_parts(&[&first, &second], 100_000, false);
    let acks: Vec<u32> = server_messages(&run.transmitted)
        .iter()
        .filter(|m| m.type_id == msg::ACKNOWLEDGEMENT)
        .map(|m| msg::read_u32(&m.payload).unwrap())
        .collect();
    // First + second is well over one 5000-byte window; the handshake counts as received.
    assert_eq!(acks, [(first.len() + second.len()) as u32]);
}

#[test]
fn ping_request_gets_a_response() {
    let mut client = Client::new();
    client.send(msg::user_control(msg::EVENT_PING_REQUEST, 0xDEAD_BEEF));
    let (_, run) = run_parts(&[&client.take()], 10, false);
    let replies = server_messages(&run.transmitted);
    assert_eq!(replies.len(), 1);
    assert_eq!(replies[0].type_id, msg::USER_CONTROL);
    assert_eq!(&replies[0].payload[..], &[0, 7, 0xDE, 0xAD, 0xBE, 0xEF]);
}

#[test]
fn aggregate_messages_are_split_and_rebased() {
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    let first = client.take();
    // Two FLV tags at sub-timestamps 1000 and 1040, in an aggregate stamped 5000.
    let mut agg = Vec::new();
    for (ts, body) in [
        (1000u32, &[0xAF, 1, 0x21][..]),
        (1040, &[0x27, 1, 0, 0, 0, 9][..]),
    ] {
        let type_id = if body[0] == 0xAF { 8 } else { 9 };
        agg.push(type_id);
        agg.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
        agg.extend_from_slice(&ts.to_be_bytes()[1..]);
        agg.push((ts >> 24) as u8);
        agg.extend_from_slice(&[0, 0, 0]);
        agg.extend_from_slice(body);
        agg.extend_from_slice(&(11 + body.len() as u32).to_be_bytes());
    }
    client.send(Message {
        csid: 6,
        timestamp: 5000,
        type_id: msg::AGGREGATE,
        stream_id: 1,
        payload: Bytes::from(agg),
    });
    let (_, run) = run_parts(&[&first, &client.take()], 4096, false);
    let stamps: Vec<u32> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Audio { timestamp_ms, .. } | Event::Video { timestamp_ms, .. } => {
                Some(*timestamp_ms)
            }
            _ => None,
        })
        .collect();
    assert_eq!(stamps, [5000, 5040]);
}

#[test]
fn multitrack_video_yields_one_event_per_track() {
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    let first = client.take();
    // Enhanced RTMP: key frame, Multitrack; ManyTracks + CodedFramesX, avc1; tracks 0 and 1.
    let mut body = vec![0x96, 0x13];
    body.extend_from_slice(b"avc1");
    body.extend_from_slice(&[0, 0, 0, 1, 0xAA, 1, 0, 0, 1, 0xBB]);
    client.media(msg::VIDEO, 33, &body);
    let (_, run) = run_parts(&[&first, &client.take()], 4096, false);
    let tracks: Vec<(u8, VideoCodec)> = run
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Video {
                timestamp_ms: 33,
                tag,
            } => Some((tag.track_id, tag.codec)),
            _ => None,
        })
        .collect();
    assert_eq!(tracks, [(0, VideoCodec::Avc), (1, VideoCodec::Avc)]);
}

#[test]
fn protocol_violations_close_with_an_error() {
    // publish before connect.
    let mut client = Client::new();
    client.command(1, &[s("publish"), n(5.0), Amf0Value::Null, s(KEY)]);
    let (_, run) = run_parts(&[&client.take()], 4096, false);
    assert_eq!(
        run.events,
        [Event::Closed {
            error: Some(Error::Decode("command before connect"))
        }]
    );
    // Too many message streams.
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    for i in 0..20 {
        client.command(
            0,
            &[s("createStream"), n(10.0 + f64::from(i)), Amf0Value::Null],
        );
    }
    let (_, run) = run_parts(&[&client.take()], 4096, false);
    assert!(run.events.contains(&Event::Closed {
        error: Some(Error::Limit("createStream: message streams"))
    }));
    // A text protocol on the RTMP port.
    let (_, run) = run_parts(
        &[b"GET / HTTP/1.1\r\n\r\n".repeat(100).as_slice()],
        4096,
        false,
    );
    assert_eq!(
        run.events,
        [Event::Closed {
            error: Some(Error::Decode("handshake: C0 version"))
        }]
    );
}

#[test]
fn unknown_commands_with_a_transaction_get_an_error() {
    let mut client = Client::new();
    client.connect_and_publish(KEY);
    client.command(0, &[s("getStreamLength"), n(9.0), Amf0Value::Null, s(KEY)]);
    let (_, run) = run_parts(&[&client.take()], 4096, false);
    let replies = server_messages(&run.transmitted);
    let errors: Vec<_> = replies
        .iter()
        .filter(|m| m.type_id == msg::COMMAND_AMF0)
        .map(status_code)
        .filter(|(name, _)| name == "_error")
        .collect();
    assert_eq!(
        errors,
        [("_error".into(), Some("NetConnection.Call.Failed".into()))]
    );
}
