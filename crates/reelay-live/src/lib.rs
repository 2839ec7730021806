//! IVS live: ingest sessions from the RTMP listener, one live packaging per stream, and the
//! playback URLs that `reelay-api-ivs` hands out (`/api/video/v1/...`).

use axum::Router;
use reelay_api_common::Deps;

/// Path prefix of every playback URL.
pub const PLAYBACK_PREFIX: &str = "/api/video/v1";

/// Start the live plane: serve RTMP connections from `rtmp` (bound by the server) and return
/// the playback routes to merge into the HTTP listener.
pub fn start(_deps: &Deps, rtmp: tokio::net::TcpListener) -> Router {
    // Until live ingest lands, the RTMP listener is held open but refuses publishers by closing
    // their connections: clients see a failed connect rather than a silent success.
    tokio::spawn(async move {
        while let Ok((socket, _)) = rtmp.accept().await {
            drop(socket);
        }
    });
    Router::new()
}
