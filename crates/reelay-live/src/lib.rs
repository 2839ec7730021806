//! IVS live: ingest sessions from the RTMP listener, one live packaging per stream, and the
//! playback URLs that `reelay-api-ivs` hands out (`/api/video/v1/...`).
//!
//! - `ingest`: one task per RTMP connection drives the sans-IO `reelay_ingest_rtmp::Server`;
//!   `publish` is authorized by stream key (through `reelay_api_ivs::ingest`), a second
//!   publisher on a live channel is refused, and `StopStream` (a flag on the `ivs:stream`
//!   record) disconnects the publisher.
//! - [`packager`]: sans-IO live HLS packaging (MPEG-TS segments cut at keyframes, sliding
//!   window, `EXT-X-ENDLIST` at the end), done once per stream whatever the number of viewers.
//! - `playback`: the HTTP routes under [`PLAYBACK_PREFIX`].
//!
//! **Architecture Invariant:** the in-memory registry of this process is the authority on
//! which channels are live; the store records mirror it for the API.

mod auth;
mod events;
pub mod geo;
mod ingest;
mod monitor;
pub mod multitrack;
pub mod packager;
mod playback;
mod recording;
mod session;
mod srt;
pub mod tls;
mod ts_media;
pub mod viewers;

use axum::Router;
use packager::Packager;
use reelay_api_common::Deps;
use reelay_api_ivs::ingest::ResolvedKey;
use reelay_aws::generated::ivs::types::ChannelLatencyMode;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// Path prefix of every playback URL.
pub const PLAYBACK_PREFIX: &str = "/api/video/v1";

/// How long an ended stream's playlist (with `EXT-X-ENDLIST`) and last segments stay served.
const ENDED_RETENTION: Duration = Duration::from_secs(60);
/// Single-use token ids remembered until their expiry; past this many, new ones are refused
/// rather than letting memory grow without bound.
const MAX_SINGLE_USE_TOKENS: usize = 100_000;

/// The ingest listeners, bound by the server.
pub struct Listeners {
    /// Plain RTMP.
    pub rtmp: tokio::net::TcpListener,
    /// RTMPS: a TCP listener and the TLS configuration (`tls::server_config`). When present,
    /// plain RTMP takes only channels with `insecureIngest` (docs/ivs.md, "Ingest").
    pub rtmps: Option<(tokio::net::TcpListener, Arc<rustls::ServerConfig>)>,
    /// SRT (UDP), listener mode.
    pub srt: Option<tokio::net::UdpSocket>,
}

/// Start the live plane: serve RTMP connections from `rtmp` (bound by the server) and return
/// the playback routes to merge into the HTTP listener.
pub fn start(deps: &Deps, rtmp: tokio::net::TcpListener) -> Router {
    start_with(
        deps,
        Listeners {
            rtmp,
            rtmps: None,
            srt: None,
        },
    )
}

/// Start the live plane on every given ingest listener and return the playback routes.
pub fn start_with(deps: &Deps, listeners: Listeners) -> Router {
    let Listeners { rtmp, rtmps, srt } = listeners;
    let live = Arc::new(Live {
        deps: deps.clone(),
        rtmps: rtmps.is_some(),
        idle_timeout: idle_timeout_from(|name| std::env::var(name).ok()),
        streams: Mutex::new(HashMap::new()),
        used_tokens: Mutex::new(HashMap::new()),
        state: monitor::StateConfig::from_env(),
        geo: Arc::new(geo::DefaultGeo::from_env()),
        recordings: Arc::new(recording::Recordings::default()),
    });
    let accept_live = live.clone();
    tokio::spawn(async move {
        loop {
            match rtmp.accept().await {
                Ok((socket, _)) => {
                    let _ = socket.set_nodelay(true);
                    tokio::spawn(ingest::serve(accept_live.clone(), socket, false));
                }
                // Out of file descriptors and the like: back off instead of spinning.
                Err(e) => {
                    tracing::warn!(error = %e, "rtmp accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
    });
    if let Some((listener, config)) = rtmps {
        tokio::spawn(tls::serve_rtmps(live.clone(), listener, config));
    }
    if let Some(socket) = srt {
        tokio::spawn(srt::serve(live.clone(), socket));
    }
    playback::router(live)
}

/// Default of [`Live::idle_timeout`]: covers truncated handshakes and stalled publishers (an
/// encoder sends audio every ~20 ms) while tolerating network hiccups.
const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(10);

/// The idle timeout: `REELAY_LIVE_IDLE_TIMEOUT_MS` when it parses as a positive number of
/// milliseconds, else [`DEFAULT_IDLE_TIMEOUT`].
fn idle_timeout_from(lookup: impl Fn(&str) -> Option<String>) -> Duration {
    lookup("REELAY_LIVE_IDLE_TIMEOUT_MS")
        .and_then(|v| v.trim().parse::<u64>().ok())
        .filter(|ms| *ms > 0)
        .map_or(DEFAULT_IDLE_TIMEOUT, Duration::from_millis)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_timeout_comes_from_the_environment() {
        assert_eq!(idle_timeout_from(|_| None), DEFAULT_IDLE_TIMEOUT);
        assert_eq!(
            idle_timeout_from(|_| Some("1500".into())),
            Duration::from_millis(1500)
        );
        assert_eq!(
            idle_timeout_from(|_| Some("0".into())),
            DEFAULT_IDLE_TIMEOUT
        );
        assert_eq!(
            idle_timeout_from(|_| Some("x".into())),
            DEFAULT_IDLE_TIMEOUT
        );
    }
}

/// What the encoder said about its video in `onMetaData`.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct MediaInfo {
    pub(crate) width: Option<u64>,
    pub(crate) height: Option<u64>,
    pub(crate) frame_rate: Option<f64>,
}

/// The live plane's state: the streams by playback name (`<region>.<account>.channel.<id>`).
pub(crate) struct Live {
    pub(crate) deps: Deps,
    /// Whether RTMPS is served: plain RTMP then takes only `insecureIngest` channels.
    pub(crate) rtmps: bool,
    /// A connection that sends nothing for this long is closed.
    pub(crate) idle_timeout: Duration,
    streams: Mutex<HashMap<String, Arc<LiveStream>>>,
    /// `aws:single-use-uuid` values already played (`<channel arn>|<uuid>`) with their `exp`.
    used_tokens: Mutex<HashMap<String, i64>>,
    /// Viewer-count window and starvation threshold (monitor.rs).
    pub(crate) state: monitor::StateConfig,
    /// Countries of playback clients, for restriction policies.
    pub(crate) geo: Arc<dyn geo::GeoResolver>,
    /// Recordings to S3 by channel, kept across reconnects within their window.
    recordings: Arc<recording::Recordings>,
}

/// One stream: live, or ended and still served for [`ENDED_RETENTION`].
pub(crate) struct LiveStream {
    /// Whether the channel is private (as it was at go-live).
    pub(crate) authorized: bool,
    /// The channel ARN.
    pub(crate) channel_arn: String,
    /// Scope of the channel.
    pub(crate) scope: reelay_store::Scope,
    /// `latencyMode` LOW at go-live: playlists are LL-HLS.
    pub(crate) low_latency: bool,
    /// The channel's `playbackRestrictionPolicyArn` at go-live ("" for none).
    pub(crate) restriction_policy_arn: String,
    /// That policy, read once (at go-live by the monitor, or by the first playback request).
    pub(crate) restriction: tokio::sync::OnceCell<Option<monitor::Restriction>>,
    /// The channel's multitrack input configuration at go-live.
    pub(crate) multitrack: reelay_aws::generated::ivs::types::MultitrackInputConfiguration,
    /// What the publisher has shown of multitrack input so far.
    pub(crate) multitrack_state: Mutex<multitrack::State>,
    /// Recent playlist requesters (viewer counting).
    pub(crate) viewers: Mutex<viewers::Viewers>,
    packager: Mutex<Packager>,
    info: Mutex<MediaInfo>,
    publishing: AtomicBool,
    changed: tokio::sync::Notify,
}

impl LiveStream {
    /// The packager; a poisoned lock (a panic while packaging) still gives the data.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Packager> {
        self.packager.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn notify(&self) {
        self.changed.notify_waiters();
    }

    pub(crate) fn info(&self) -> MediaInfo {
        *self.info.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn set_info(&self, info: MediaInfo) {
        *self.info.lock().unwrap_or_else(|p| p.into_inner()) = info;
    }

    pub(crate) fn has_segment(&self) -> bool {
        self.lock().last_sequence().is_some()
    }

    /// Whether the publisher is still connected.
    pub(crate) fn is_publishing(&self) -> bool {
        self.publishing.load(Ordering::SeqCst)
    }

    pub(crate) fn finish(&self) {
        self.lock().finish();
        self.notify();
    }
}

/// The playback name of a channel: `<region>.<account>.channel.<id>` (ivs.md §3).
fn playback_name(key: &ResolvedKey) -> String {
    format!(
        "{}.{}.channel.{}",
        key.scope.region, key.scope.account, key.channel_id
    )
}

impl Live {
    fn map(&self) -> MutexGuard<'_, HashMap<String, Arc<LiveStream>>> {
        self.streams.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Takes the channel for a new publisher, or `None` when one is already live on it.
    pub(crate) fn claim(&self, key: &ResolvedKey) -> Option<Arc<LiveStream>> {
        let name = playback_name(key);
        let mut map = self.map();
        if map
            .get(&name)
            .is_some_and(|s| s.publishing.load(Ordering::SeqCst))
        {
            return None;
        }
        let stream = Arc::new(LiveStream {
            authorized: key.channel.authorized,
            channel_arn: key.channel_arn.clone(),
            scope: key.scope.clone(),
            low_latency: key.channel.latency_mode == ChannelLatencyMode::Low,
            restriction_policy_arn: key.channel.playback_restriction_policy_arn.clone(),
            restriction: tokio::sync::OnceCell::new(),
            multitrack: key.channel.multitrack_input_configuration.clone(),
            multitrack_state: Mutex::new(multitrack::State::default()),
            viewers: Mutex::new(viewers::Viewers::new(self.state.viewer_window_ms)),
            packager: Mutex::new(ingest::new_packager(key.channel.container_format)),
            info: Mutex::new(MediaInfo::default()),
            publishing: AtomicBool::new(true),
            changed: tokio::sync::Notify::new(),
        });
        map.insert(name, stream.clone());
        Some(stream)
    }

    /// The publisher of `stream` is gone: the channel can take a new one now, and the ended
    /// stream is forgotten after [`ENDED_RETENTION`] unless a new one replaced it.
    pub(crate) fn release(self: &Arc<Self>, stream: &Arc<LiveStream>) {
        stream.publishing.store(false, Ordering::SeqCst);
        let live = Arc::downgrade(self);
        let stream = Arc::downgrade(stream);
        tokio::spawn(async move {
            tokio::time::sleep(ENDED_RETENTION).await;
            let (Some(live), Some(stream)) = (live.upgrade(), stream.upgrade()) else {
                return;
            };
            live.map().retain(|_, s| !Arc::ptr_eq(s, &stream));
        });
    }

    pub(crate) fn used_tokens(&self) -> MutexGuard<'_, HashMap<String, i64>> {
        self.used_tokens.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The stream served under a playback name.
    pub(crate) fn get(&self, name: &str) -> Option<Arc<LiveStream>> {
        self.map().get(name).cloned()
    }
}
