//! SRT ingest (listener mode, UDP): callers publish MPEG-TS, as IVS takes it on
//! `srt://<srt.endpoint>?streamid=<streamKey>&passphrase=<srt.passphrase>`.
//!
//! The protocol (handshake, ARQ, TSBPD, AES key unwrapping) is `srt-tokio`/`srt-protocol`, a
//! pure-Rust implementation whose connection state machine is sans-IO; reelay decides at the
//! handshake (access control, SRT RFC draft §3.2.1.3 and the `#!::` stream id syntax of SRT's
//! AccessControl document):
//!
//! - the stream id names the stream key, plain or as `#!::r=<key>,m=publish`;
//! - an unknown or deleted key is rejected with 2401 (unauthorized), a channel already live
//!   with 2409 (conflict), a mode other than `publish` with 2405, a malformed id with 2400;
//! - channels without `insecureIngest` require the channel's passphrase (AES with the key
//!   length the caller chose); a wrong or missing passphrase is rejected by the handshake
//!   (libsrt callers report "bad secret"). Channels with `insecureIngest` take unencrypted
//!   callers only.
//!
//! Accepted callers then feed the same [`Publisher`] as RTMP through `ts_media`.

use crate::Live;
use crate::ingest::{EncoderInfo, Publisher, Refusal, STOP_POLL, authorize};
use crate::ts_media::{Media, TsMedia};
use futures::{SinkExt as _, StreamExt as _};
use srt_protocol::options::{KeySize, Passphrase};
use srt_protocol::packet::{RejectReason, ServerRejectReason};
use srt_protocol::settings::KeySettings;
use srt_tokio::{ConnectionRequest, SrtListener, SrtSocket};
use std::sync::Arc;

/// Why a stream id names no stream key we take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StreamIdError {
    /// Empty, or `#!::` without `r=`, or a syntax reelay does not read (`#!:{...}`).
    Malformed,
    /// `m=` other than `publish`: reelay takes publishers only.
    Mode,
}

impl StreamIdError {
    fn reason(self) -> RejectReason {
        RejectReason::Server(match self {
            StreamIdError::Malformed => ServerRejectReason::BadRequest,
            StreamIdError::Mode => ServerRejectReason::BadMode,
        })
    }
}

/// The stream key named by an SRT stream id: the whole id, or `r` of the `#!::` key-value
/// form (`#!::r=<key>,m=publish`; other keys such as `u`, `s`, `h` and `t` are ignored).
pub(crate) fn stream_key(stream_id: &str) -> Result<&str, StreamIdError> {
    let Some(pairs) = stream_id.strip_prefix("#!::") else {
        if stream_id.is_empty() || stream_id.starts_with("#!") {
            return Err(StreamIdError::Malformed);
        }
        return Ok(stream_id);
    };
    let mut resource = None;
    for pair in pairs.split(',') {
        let (k, v) = pair.split_once('=').ok_or(StreamIdError::Malformed)?;
        match k {
            "r" => resource = Some(v),
            // The default mode is `request` in SRT's convention, but a caller that names no
            // mode while sending to an ingest endpoint is a publisher: only a stated other
            // mode is refused.
            "m" if v != "publish" => return Err(StreamIdError::Mode),
            _ => {}
        }
    }
    resource
        .filter(|r| !r.is_empty())
        .ok_or(StreamIdError::Malformed)
}

fn refusal_reason(r: Refusal) -> RejectReason {
    RejectReason::Server(match r {
        Refusal::UnknownKey | Refusal::SecureIngestRequired => ServerRejectReason::Unauthorized,
        Refusal::AlreadyLive => ServerRejectReason::Conflict,
        Refusal::Unavailable => ServerRejectReason::Down,
    })
}

/// Serves SRT callers on `socket` until the process ends.
///
/// `srt-protocol` 0.4.4 panics in its listener task on some handshakes that pass access
/// control (an encrypted caller that announces no key length, accepted without encryption; a
/// key-material extension of the wrong type), which ends the listener and every SRT stream
/// it routes. Only holders of a valid stream key get that far; still, the listener is then
/// bound again on the same address so that SRT ingest comes back.
pub(crate) async fn serve(live: Arc<Live>, socket: tokio::net::UdpSocket) {
    let local = match socket.local_addr() {
        Ok(a) => a,
        Err(e) => {
            tracing::error!(error = %e, "srt socket has no address");
            return;
        }
    };
    let mut socket = Some(socket);
    loop {
        let socket = match socket.take() {
            Some(s) => s,
            // Sockets of the dead listener's connections are released as those time out.
            None => match tokio::net::UdpSocket::bind(local).await {
                Ok(s) => s,
                Err(e) => {
                    tracing::warn!(error = %e, %local, "srt listener not bound again yet");
                    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                    continue;
                }
            },
        };
        let idle = live.idle_timeout;
        let bound = SrtListener::builder()
            .set(|o| o.session.peer_idle_timeout = idle)
            .socket(socket)
            .bind(local.to_string().as_str())
            .await;
        // The listener's own task runs while `_listener` lives.
        let (_listener, mut incoming) = match bound {
            Ok(pair) => pair,
            Err(e) => {
                tracing::error!(error = %e, "srt listener failed");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                continue;
            }
        };
        while let Some(request) = incoming.incoming().next().await {
            tokio::spawn(handle(live.clone(), request));
        }
        tracing::error!(%local, "srt listener ended; binding it again");
    }
}

async fn reject(request: ConnectionRequest, reason: RejectReason, why: &str) {
    tracing::info!(remote = %request.remote(), why, "srt caller rejected");
    let _ = request.reject(reason).await;
}

/// One caller: access control at the handshake, then publishing until it leaves.
async fn handle(live: Arc<Live>, request: ConnectionRequest) {
    let presented = request
        .stream_id()
        .map(|s| s.to_string())
        .unwrap_or_default();
    let key = match stream_key(&presented) {
        Ok(k) => k,
        Err(e) => return reject(request, e.reason(), "stream id").await,
    };
    let key = match authorize(&live, key).await {
        Ok(k) => k,
        Err(r) => return reject(request, refusal_reason(r), r.message()).await,
    };
    // Refused before the handshake completes, so the caller sees the reason; go_live below
    // still decides (two callers may race past this check).
    if live
        .get(&crate::playback_name(&key))
        .is_some_and(|s| s.is_publishing())
    {
        let r = Refusal::AlreadyLive;
        return reject(request, refusal_reason(r), r.message()).await;
    }
    // An insecure channel takes unencrypted callers. A caller that announces a key length is
    // encrypting: it is held to the channel's (hidden) passphrase rather than accepted without
    // encryption, which srt-protocol cannot do.
    let encrypted = !key.channel.insecure_ingest || request.key_size() != KeySize::Unspecified;
    let keys = if !encrypted {
        None
    } else {
        match Passphrase::try_from(key.channel.srt_passphrase.expose().to_string()) {
            Ok(passphrase) => Some(KeySettings {
                // Exactly what the caller announced (SRTO_PBKEYLEN, or none): srt-protocol
                // requires the two to match and takes the real length from the caller's keys.
                key_size: request.key_size(),
                passphrase,
            }),
            Err(_) => {
                let reason = RejectReason::Server(ServerRejectReason::InternalServerError);
                return reject(request, reason, "channel passphrase unusable").await;
            }
        }
    };
    let remote = request.remote();
    let mut socket = match request.accept(keys).await {
        Ok(s) => s,
        Err(e) => {
            // Wrong or missing passphrase: the handshake itself refused the caller.
            tracing::info!(%remote, error = %e, "srt handshake failed");
            return;
        }
    };
    let publisher = match Publisher::go_live(&live, &key).await {
        Ok(p) => p,
        Err(r) => {
            tracing::info!(%remote, why = r.message(), "srt caller refused");
            let _ = socket.close().await;
            return;
        }
    };
    publish(&live, publisher, &mut socket).await;
    let _ = socket.close().await;
}

/// Feeds the caller's MPEG-TS to the publisher until it leaves, stalls, or is stopped.
async fn publish(live: &Arc<Live>, mut publisher: Publisher, socket: &mut SrtSocket) {
    let mut media = TsMedia::new();
    let mut stop_check = tokio::time::interval(STOP_POLL);
    stop_check.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let code = loop {
        tokio::select! {
            item = tokio::time::timeout(live.idle_timeout, socket.next()) => match item {
                Err(_) => break Some("idle"),
                // The caller closed, or the connection broke (SRT's own peer idle timeout).
                Ok(None) | Ok(Some(Err(_))) => break None,
                Ok(Some(Ok((_, data)))) => {
                    if let Err(code) = feed(&mut publisher, &mut media, &data).await {
                        break Some(code);
                    }
                }
            },
            _ = stop_check.tick() => {
                if publisher.stop_requested().await {
                    break None;
                }
            }
        }
    };
    publisher.end(live, code).await;
}

async fn feed(
    publisher: &mut Publisher,
    media: &mut TsMedia,
    data: &[u8],
) -> Result<(), &'static str> {
    media.push(data).map_err(|e| e.code())?;
    while let Some(m) = media.poll() {
        match m {
            Media::VideoConfig { record, sps } => {
                // SRT has no onMetaData: the SPS gives dimensions and, with VUI timing, the
                // frame rate; encoder name and bitrates stay unknown.
                publisher.set_encoder_info(EncoderInfo {
                    width: Some(u64::from(sps.width)),
                    height: Some(u64::from(sps.height)),
                    frame_rate: sps.frame_rate,
                    ..EncoderInfo::default()
                });
                publisher.set_video_config(record)?;
            }
            Media::Video {
                dts_ms,
                cts_ms,
                keyframe,
                data,
            } => {
                publisher
                    .push_video(dts_ms, cts_ms, keyframe, &data)
                    .await?
            }
            Media::AudioConfig {
                asc,
                sample_rate,
                channels,
            } => publisher.set_audio_config(asc, sample_rate, channels)?,
            Media::Audio { pts_ms, data } => publisher.push_audio(pts_ms, &data)?,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_ids_name_the_key() {
        assert_eq!(
            stream_key("sk_us-west-2_abc_def"),
            Ok("sk_us-west-2_abc_def")
        );
        assert_eq!(stream_key("#!::r=sk_x,m=publish"), Ok("sk_x"));
        assert_eq!(stream_key("#!::m=publish,u=me,r=sk_x"), Ok("sk_x"));
        assert_eq!(stream_key("#!::r=sk_x"), Ok("sk_x"));
        assert_eq!(stream_key("#!::r=sk_x,m=request"), Err(StreamIdError::Mode));
        assert_eq!(stream_key("#!::m=publish"), Err(StreamIdError::Malformed));
        assert_eq!(stream_key("#!::r="), Err(StreamIdError::Malformed));
        assert_eq!(stream_key("#!::r"), Err(StreamIdError::Malformed));
        assert_eq!(stream_key("#!:{r=sk_x}"), Err(StreamIdError::Malformed));
        assert_eq!(stream_key(""), Err(StreamIdError::Malformed));
    }

    #[test]
    fn refusals_map_to_srt_rejection_codes() {
        let code = |r| match refusal_reason(r) {
            RejectReason::Server(s) => s as i32,
            _ => 0,
        };
        assert_eq!(code(Refusal::UnknownKey), 2401);
        assert_eq!(code(Refusal::AlreadyLive), 2409);
        assert_eq!(code(Refusal::Unavailable), 2503);
    }
}
