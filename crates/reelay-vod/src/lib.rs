//! MediaPackage VOD's engine: ingest of S3-stored sources and just-in-time packaging, served
//! under the egress URLs that `reelay-api-mediapackage-vod` hands out.

use axum::Router;
use reelay_api_common::Deps;

/// Path prefix of every egress URL (see `reelay_api_mediapackage_vod::egress`).
pub const EGRESS_PREFIX: &str = "/mediapackage-vod/egress";

/// The HTTP routes of the engine, merged into the server's listener; may start background work.
pub fn start(_deps: &Deps) -> Router {
    Router::new()
}
