//! Playback over HTTP under [`crate::PLAYBACK_PREFIX`]:
//!
//! - `<name>.m3u8`: the multivariant playlist (the channel's `playbackUrl`);
//! - `<name>/source.m3u8`: the media playlist of the source rendition;
//! - `<name>/source-<n>.ts`: segment `n` (the segment being written is streamed as it grows,
//!   for the `EXT-X-PREFETCH` form of low latency);
//! - `<name>/source-<n>.<i>.ts`: part `i` of segment `n` (LL-HLS, `latencyMode` LOW);
//! - with `containerFormat` FRAGMENTED_MP4, `.m4s` instead of `.ts`, and `<name>/init.mp4`;
//!
//! where `<name>` is `<region>.<account>.channel.<id>`. Everything is answered from the
//! stream's packager in memory.

use crate::packager::{Container, Packager};
use crate::{Live, LiveStream};
use axum::Router;
use axum::extract::{ConnectInfo, Path, RawQuery, State};
use axum::http::{Extensions, HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

const PLAYLIST_TYPE: &str = "application/vnd.apple.mpegurl";
const SEGMENT_TYPE: &str = "video/mp2t";
/// Longest playback path reelay generates is well under this; longer ones are not ours.
const MAX_PATH: usize = 512;

pub(crate) fn router(live: Arc<Live>) -> Router {
    Router::new()
        .route(&format!("{}/{{*path}}", crate::PLAYBACK_PREFIX), get(serve))
        .with_state(live)
}

enum Target {
    Multivariant,
    Media,
    Segment(u64, &'static str),
    Part(u64, usize, &'static str),
    Init,
    Unknown,
}

/// Segment file extension and content type of a stream's container.
fn container_of(stream: &LiveStream) -> (&'static str, &'static str) {
    match stream.lock().container() {
        Container::Fmp4 => ("m4s", "video/mp4"),
        _ => ("ts", SEGMENT_TYPE),
    }
}

/// How long a blocking request may wait (rfc8216bis §6.2.5.2 asks servers to answer within
/// three target durations).
const BLOCK_LIMIT: Duration = Duration::from_secs(6);

/// Waits until `ready` holds for the stream's packager, at most `limit`.
async fn wait_until(
    stream: &LiveStream,
    limit: Duration,
    ready: impl Fn(&Packager) -> bool,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        let notified = stream.changed.notified();
        tokio::pin!(notified);
        // Registered before the check, so a change between the check and the wait is not lost.
        notified.as_mut().enable();
        if ready(&stream.lock()) {
            return true;
        }
        if tokio::time::timeout_at(deadline, notified).await.is_err() {
            return ready(&stream.lock());
        }
    }
}

fn query_param<'a>(query: Option<&'a str>, name: &str) -> Option<&'a str> {
    query?
        .split('&')
        .find_map(|p| p.strip_prefix(name)?.strip_prefix('='))
}

/// The body of segment `seq`, streamed while the packager is still writing it.
fn growing_segment(stream: Arc<LiveStream>, seq: u64) -> axum::body::Body {
    let chunks = futures::stream::unfold(
        (stream, 0usize, false),
        move |(stream, offset, done)| async move {
            if done {
                return None;
            }
            let mut chunk = None;
            let ready = wait_until(&stream, BLOCK_LIMIT, |p| {
                match p.segment_bytes_from(seq, offset) {
                    Some((bytes, complete)) if complete || !bytes.is_empty() => true,
                    Some(_) => false,
                    // Expired: nothing more will come.
                    None => true,
                }
            })
            .await;
            if ready {
                chunk = stream.lock().segment_bytes_from(seq, offset);
            }
            let (bytes, complete) = chunk?;
            let next = offset + bytes.len();
            Some((Ok::<_, std::io::Error>(bytes), (stream, next, complete)))
        },
    );
    axum::body::Body::from_stream(chunks)
}

/// Splits a path below the prefix into the playback name and what is asked of it.
fn parse(path: &str) -> Option<(&str, Target)> {
    if path.len() > MAX_PATH {
        return None;
    }
    if let Some(name) = path.strip_suffix(".m3u8")
        && !name.contains('/')
    {
        return Some((name, Target::Multivariant));
    }
    let (name, rest) = path.split_once('/')?;
    let segment = rest.strip_prefix("source-").and_then(|r| {
        r.strip_suffix(".ts")
            .map(|id| (id, "ts"))
            .or_else(|| r.strip_suffix(".m4s").map(|id| (id, "m4s")))
    });
    let target = if rest == "source.m3u8" {
        Target::Media
    } else if rest == "init.mp4" {
        Target::Init
    } else if let Some((id, ext)) = segment {
        match id.split_once('.') {
            None => id
                .parse()
                .map_or(Target::Unknown, |n| Target::Segment(n, ext)),
            Some((n, i)) => match (n.parse(), i.parse()) {
                (Ok(n), Ok(i)) => Target::Part(n, i, ext),
                _ => Target::Unknown,
            },
        }
    } else {
        Target::Unknown
    };
    Some((name, target))
}

fn plain(status: StatusCode, body: &'static str) -> Response {
    let mut r = (status, body).into_response();
    cors(r.headers_mut());
    r
}

fn cors(h: &mut HeaderMap) {
    // IVS playback is fetched cross-origin by web players.
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
}

fn body(
    content_type: &'static str,
    cache: &'static str,
    data: impl Into<axum::body::Body>,
) -> Response {
    let mut r = Response::new(data.into());
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    cors(h);
    r
}

/// What a playback request refused by the channel's restriction policy is answered (IVS's
/// generic playback-authorization refusal, ivs.md §5).
const RESTRICTED: &str = crate::auth::REUSED_TOKEN;

/// Applies the stream's playback restriction policy (as read at go-live) to one request:
/// `allowedCountries` through the geo resolver on every request; `allowedOrigins` against the
/// `Origin` header of the multivariant request, or of every request with strict enforcement
/// (a request without `Origin` is refused where the check applies).
async fn restrict(
    live: &Live,
    stream: &LiveStream,
    headers: &HeaderMap,
    peer: Option<IpAddr>,
    multivariant: bool,
) -> Result<(), Response> {
    let policy = match crate::monitor::restriction(live, stream).await {
        Ok(Some(p)) => p,
        Ok(None) => return Ok(()),
        Err(e) => {
            tracing::warn!(error = %e, "could not read the playback restriction policy");
            return Err(plain(StatusCode::SERVICE_UNAVAILABLE, "try again"));
        }
    };
    if !crate::geo::country_allowed(&policy.allowed_countries, live.geo.country(peer)) {
        return Err(plain(StatusCode::FORBIDDEN, RESTRICTED));
    }
    if !policy.allowed_origins.is_empty() && (multivariant || policy.strict_origin) {
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        let list = policy.allowed_origins.join(",");
        if !origin.is_some_and(|o| crate::auth::origin_allowed(&list, o)) {
            return Err(plain(StatusCode::FORBIDDEN, RESTRICTED));
        }
    }
    Ok(())
}

/// Whether the source picture is larger than an `aws:maximum-resolution` allows (its short side
/// above the limit). Unknown dimensions (no `onMetaData` size) are not refused.
fn exceeds(info: crate::MediaInfo, limit: u64) -> bool {
    match (info.width, info.height) {
        (Some(w), Some(h)) => w.min(h) > limit,
        _ => false,
    }
}

async fn serve(
    State(live): State<Arc<Live>>,
    Path(path): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    extensions: Extensions,
) -> Response {
    let Some((name, target)) = parse(&path) else {
        return plain(StatusCode::NOT_FOUND, "not found");
    };
    if let Target::Unknown = target {
        return plain(StatusCode::NOT_FOUND, "not found");
    }
    let Some(stream) = live.get(name) else {
        // The channel is offline (or unknown): IVS answers 404 too.
        return plain(StatusCode::NOT_FOUND, "channel is not broadcasting");
    };
    let is_multivariant = matches!(target, Target::Multivariant);
    // The listener records the peer when it serves with connect info; without it the client's
    // country is unknown.
    let peer = extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_canonical());
    if let Err(refused) = restrict(&live, &stream, &headers, peer, is_multivariant).await {
        return refused;
    }
    if stream.authorized {
        match crate::auth::authorize(&live, &stream, query.as_deref(), &headers, is_multivariant)
            .await
        {
            // aws:maximum-resolution filters the variants; the one rendition there is today is
            // the source, so a source above the limit leaves nothing to play.
            Ok(grant)
                if grant
                    .max_resolution
                    .is_some_and(|limit| exceeds(stream.info(), limit)) =>
            {
                return plain(StatusCode::FORBIDDEN, crate::auth::INVALID_TOKEN);
            }
            Ok(_) => {}
            Err(reason) => return plain(StatusCode::FORBIDDEN, reason),
        }
    }
    if matches!(target, Target::Multivariant | Target::Media) {
        let address = peer.map(|p| p.to_string()).unwrap_or_default();
        let agent = headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let token = crate::auth::token_of(query.as_deref()).unwrap_or_default();
        stream
            .viewers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .saw(&[&address, agent, token], crate::monitor::now_ms());
    }
    // Only a verified token is passed on into playlists (its characters are base64url and
    // dots); anything else in the query stays out of what other requests are served.
    let token_query = query
        .as_deref()
        .filter(|_| stream.authorized)
        .and_then(|q| q.split('&').find(|p| p.starts_with("token=")))
        .map(|t| format!("?{t}"))
        .unwrap_or_default();
    match target {
        Target::Multivariant => multivariant(name, &stream, &token_query),
        Target::Media if stream.low_latency => {
            low_latency_media(&stream, query.as_deref(), &token_query).await
        }
        Target::Media => {
            let (ext, _) = container_of(&stream);
            let text = stream.lock().media_playlist(
                |n| format!("source-{n}.{ext}{token_query}"),
                &format!("init.mp4{token_query}"),
            );
            body(PLAYLIST_TYPE, "no-cache", text)
        }
        Target::Init => match stream.lock().init_segment() {
            Some(init) => body("video/mp4", "max-age=60", init),
            None => plain(StatusCode::NOT_FOUND, "no initialization section"),
        },
        Target::Segment(_, ext) | Target::Part(_, _, ext) if ext != container_of(&stream).0 => {
            plain(StatusCode::NOT_FOUND, "not found")
        }
        Target::Segment(n, _) => {
            let content_type = container_of(&stream).1;
            let (complete, open) = {
                let p = stream.lock();
                (p.segment(n).map(|s| s.data.clone()), p.open_sequence())
            };
            match complete {
                Some(data) => body(content_type, "max-age=60", data),
                None if open == Some(n) => {
                    body(content_type, "no-cache", growing_segment(stream.clone(), n))
                }
                None => plain(StatusCode::NOT_FOUND, "segment not found"),
            }
        }
        Target::Part(n, i, _) => {
            // A preload-hinted part is requested before it exists: hold until it does, or until
            // it is clear it never will (its segment closed first), which is answered at once.
            wait_until(&stream, BLOCK_LIMIT, |p| p.part_settled(n, i)).await;
            let content_type = container_of(&stream).1;
            match stream.lock().part(n, i) {
                Some(data) => body(content_type, "max-age=60", data),
                None => plain(StatusCode::NOT_FOUND, "part not found"),
            }
        }
        Target::Unknown => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The LL-HLS media playlist, holding the request for `_HLS_msn` / `_HLS_part` when asked
/// (rfc8216bis §6.2.5.2).
async fn low_latency_media(
    stream: &LiveStream,
    query: Option<&str>,
    token_query: &str,
) -> Response {
    let msn = query_param(query, "_HLS_msn");
    let part = query_param(query, "_HLS_part");
    if msn.is_some() || part.is_some() {
        let (Some(Ok(msn)), Ok(part)) = (
            msn.map(str::parse::<u64>),
            part.map(str::parse::<usize>).transpose(),
        ) else {
            return plain(StatusCode::BAD_REQUEST, "bad _HLS_msn or _HLS_part");
        };
        // §6.2.5.2: a request more than two segments ahead of the live edge is a client error.
        let edge = stream.lock().open_sequence().unwrap_or(0);
        if msn > edge + 2 {
            return plain(StatusCode::BAD_REQUEST, "_HLS_msn is too far ahead");
        }
        if !wait_until(stream, BLOCK_LIMIT, |p| p.has(msn, part)).await {
            return plain(StatusCode::SERVICE_UNAVAILABLE, "not available yet");
        }
    }
    let (ext, _) = container_of(stream);
    let text = stream.lock().low_latency_playlist(
        |n| format!("source-{n}.{ext}{token_query}"),
        |n, i| format!("source-{n}.{i}.{ext}{token_query}"),
        &format!("init.mp4{token_query}"),
    );
    body(PLAYLIST_TYPE, "no-cache", text)
}

fn multivariant(name: &str, stream: &LiveStream, token_query: &str) -> Response {
    let info = stream.info();
    let resolution = info.width.zip(info.height);
    let media_uri = format!("{name}/source.m3u8{token_query}");
    match stream
        .lock()
        .multivariant_playlist(&media_uri, resolution, info.frame_rate)
    {
        Some(text) => body(PLAYLIST_TYPE, "no-cache", text),
        // Live, but no video configuration yet: nothing a player could start on.
        None => plain(StatusCode::NOT_FOUND, "stream is starting"),
    }
}
