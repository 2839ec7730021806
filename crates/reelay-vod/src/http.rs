//! The egress HTTP surface: `GET` / `HEAD` / `OPTIONS` under [`crate::EGRESS_PREFIX`].
//!
//! `<prefix>/<region>/<account>/<group egress id>/out/v1/<asset>/<config 1>/<config 2>/<file>`
//! (see `reelay_api_mediapackage_vod::egress`). Every answer carries CORS headers so browser
//! players on other origins can play; single byte ranges are honoured (I-frame playlists and
//! players use them).

use crate::Engine;
use crate::engine::load_index;
use crate::hls::{Built, HlsFile, PackError, Payload, Plan};
use crate::index::AssetIndex;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::Response;
use bytes::Bytes;
use reelay_api_mediapackage_vod::ingest::{self, IngestState, KIND_INGEST, status};
use reelay_api_mediapackage_vod::view;
use reelay_aws::generated::mediapackage_vod::types::{CmafPackage, HlsPackage};
use reelay_store::Scope;
use std::collections::HashMap;
use std::sync::Arc;

fn error(status: StatusCode, message: impl Into<String>) -> Response {
    let body = serde_json::json!({ "message": message.into() }).to_string();
    let mut r = Response::new(Body::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    cors(r.headers_mut());
    r
}

fn cors(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("Content-Length, Content-Range, Accept-Ranges"),
    );
}

/// `OPTIONS`: the CORS preflight of a ranged request.
pub async fn preflight() -> Response {
    let mut r = Response::new(Body::empty());
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    cors(h);
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static("GET, HEAD, OPTIONS"),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        HeaderValue::from_static("Range, X-MediaPackage-CDNIdentifier"),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static("86400"),
    );
    r
}

/// `GET` and `HEAD`.
pub async fn serve(
    State(engine): State<Arc<Engine>>,
    method: Method,
    headers: HeaderMap,
    uri: axum::http::Uri,
    version: axum::http::Version,
    Path(rest): Path<String>,
) -> Response {
    let started = std::time::Instant::now();
    // At most 9 parts: a Smooth Streaming file (`index.ism/QualityLevels(..)/Fragments(..)`)
    // keeps its slashes.
    let parts: Vec<&str> = rest.splitn(9, '/').collect();
    let [
        region,
        account,
        group_egress,
        "out",
        "v1",
        asset_egress,
        c1,
        c2,
        file,
    ] = parts[..]
    else {
        return error(StatusCode::NOT_FOUND, "not found");
    };
    let mut ctx = crate::access_log::EgressContext {
        cdn_header: headers
            .get(crate::auth::HEADER)
            .map(|v| v.as_bytes().to_vec()),
        ..Default::default()
    };
    let response = match resolve(
        &engine,
        region,
        account,
        group_egress,
        [asset_egress, c1, c2],
        file,
        &mut ctx,
    )
    .await
    {
        Ok((content_type, body)) => respond(&method, &headers, content_type, body),
        Err(r) => r,
    };
    crate::access_log::after(
        &engine, &ctx, region, account, &method, &headers, &uri, version, started, &response,
    );
    response
}

fn respond(
    method: &Method,
    headers: &HeaderMap,
    content_type: &'static str,
    body: Payload,
) -> Response {
    let total = body.len() as u64;
    let range = headers
        .get(header::RANGE)
        .and_then(|v| v.to_str().ok())
        .map(|v| parse_range(v, total));
    let (status, slice, content_range) = match range {
        None => (StatusCode::OK, body, None),
        Some(Some((a, b))) => (
            StatusCode::PARTIAL_CONTENT,
            body.slice(a as usize..b as usize + 1),
            Some(format!("bytes {a}-{b}/{total}")),
        ),
        Some(None) => {
            let mut r = error(StatusCode::RANGE_NOT_SATISFIABLE, "range not satisfiable");
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{total}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let len = slice.len();
    let mut r = if *method == Method::HEAD {
        Response::new(Body::empty())
    } else {
        Response::new(payload_body(slice))
    };
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    h.insert(header::ACCEPT_RANGES, HeaderValue::from_static("bytes"));
    // Packaging is a pure function of an immutable asset and configuration.
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=86400"),
    );
    if let Some(cr) = content_range.and_then(|v| HeaderValue::from_str(&v).ok()) {
        h.insert(header::CONTENT_RANGE, cr);
    }
    cors(h);
    r
}

/// Most data frames of one response body. hyper's HTTP/1 writer queues at most 16 buffers
/// (the head is one) before it flushes with one vectored write; a body in more frames goes
/// out in several writes (a system call each, and on a socket without `TCP_NODELAY` the small
/// tail of a later write would wait for the peer's delayed ACK of the earlier one). Copying
/// hundreds of small slices once is cheaper than that many writes.
const MAX_FRAMES: usize = 15;

/// The response body of a payload: its buffers as data frames, in order, with the exact length
/// announced, so hyper writes them with one vectored write and copies nothing (see
/// [`frames`]).
fn payload_body(payload: Payload) -> Body {
    let remaining = payload.len() as u64;
    let mut parts = frames(payload.into_parts(), MAX_FRAMES);
    if parts.len() <= 1 {
        return Body::from(parts.pop().unwrap_or_default());
    }
    Body::new(PayloadBody {
        parts: parts.into_iter(),
        remaining,
    })
}

/// Parts at least this long are sent as they are when a body has too many parts.
const LARGE_PART: usize = 64 * 1024;

/// `parts` in at most `max` buffers (`max` >= 1). When there are more, each run of adjacent
/// parts shorter than [`LARGE_PART`] is copied into one buffer and the large ones stay as they
/// are; when that is still too many (sources interleaved sample by sample give one part per
/// sample), everything is copied once into one buffer of exactly the body's length.
fn frames(parts: Vec<Bytes>, max: usize) -> Vec<Bytes> {
    let max = max.max(1);
    if parts.len() <= max {
        return parts;
    }
    // Lengths of the frames after merging runs of small parts.
    let mut groups: Vec<(usize, usize)> = Vec::new(); // (parts in the frame, bytes)
    for p in &parts {
        match groups.last_mut() {
            Some((n, len)) if p.len() < LARGE_PART && *len < LARGE_PART => {
                *n += 1;
                *len += p.len();
            }
            _ => groups.push((1, p.len())),
        }
    }
    if groups.len() > max {
        let total = parts.iter().map(Bytes::len).sum();
        groups = vec![(parts.len(), total)];
    }
    let mut parts = parts.into_iter();
    groups
        .into_iter()
        .map(|(n, len)| {
            if n == 1 {
                return parts.next().unwrap_or_default();
            }
            let mut joined = bytes::BytesMut::with_capacity(len);
            for p in parts.by_ref().take(n) {
                joined.extend_from_slice(&p);
            }
            joined.freeze()
        })
        .collect()
}

struct PayloadBody {
    parts: std::vec::IntoIter<Bytes>,
    remaining: u64,
}

impl http_body::Body for PayloadBody {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        self: std::pin::Pin<&mut Self>,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        std::task::Poll::Ready(this.parts.next().map(|b| {
            this.remaining -= b.len() as u64;
            Ok(http_body::Frame::data(b))
        }))
    }

    fn is_end_stream(&self) -> bool {
        self.remaining == 0
    }

    fn size_hint(&self) -> http_body::SizeHint {
        http_body::SizeHint::with_exact(self.remaining)
    }
}

/// A single `bytes=` range as an inclusive pair; `None` when unsatisfiable or malformed
/// (RFC 9110 §14.1.2). Multiple ranges are not supported and answered 416.
pub fn parse_range(v: &str, total: u64) -> Option<(u64, u64)> {
    let spec = v.trim().strip_prefix("bytes=")?;
    if spec.contains(',') || total == 0 {
        return None;
    }
    let (a, b) = spec.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    if a.is_empty() {
        let n: u64 = b.parse().ok()?;
        if n == 0 {
            return None;
        }
        return Some((total.saturating_sub(n), total - 1));
    }
    let a: u64 = a.parse().ok()?;
    if a >= total {
        return None;
    }
    let b = if b.is_empty() {
        total - 1
    } else {
        b.parse::<u64>().ok()?.min(total - 1)
    };
    (a <= b).then_some((a, b))
}

fn pack_error(e: PackError) -> Response {
    match e {
        PackError::NotFound(m) => error(StatusCode::NOT_FOUND, m),
        PackError::Internal(m) => {
            tracing::warn!(error = %m, "packaging failed");
            error(StatusCode::INTERNAL_SERVER_ERROR, m)
        }
    }
}

async fn resolve(
    engine: &Engine,
    region: &str,
    account: &str,
    group_egress: &str,
    ids: [&str; 3],
    file: &str,
    ctx: &mut crate::access_log::EgressContext,
) -> Result<(&'static str, Payload), Response> {
    let internal = |m: String| error(StatusCode::INTERNAL_SERVER_ERROR, m);
    let scope = Scope::new(account, region);
    let resolved = lookup(engine, &scope, group_egress, ids).await?;
    let Resolved {
        asset,
        group,
        config,
        state,
    } = &*resolved;
    ctx.log_group = group.egress_log_group_name.clone();
    ctx.target = crate::access_log::Target {
        group: Some((
            group.id.clone(),
            format!(
                "arn:aws:mediapackage-vod:{region}:{account}:packaging-groups/{}",
                group.id
            ),
        )),
        asset: Some((asset.id.clone(), asset.arn.clone())),
        config: Some((config.id.clone(), config.arn.clone())),
    };
    if group.has_authorization {
        // UG:cdn-auth: without the matching identifier (or when it cannot be read), 403.
        crate::auth::gate(engine, group, ctx.cdn_header.as_deref())
            .await
            .map_err(|m| error(StatusCode::FORBIDDEN, m))?;
    }
    // DASH and Smooth Streaming are packaged in the clear; encrypted ones answer 501.
    let dash_or_mss = matches!(config.package_type.as_str(), "DashPackage" | "MssPackage");
    if dash_or_mss {
        if config
            .package
            .get("Encryption")
            .is_some_and(|e| !e.is_null())
        {
            return Err(error(
                StatusCode::NOT_IMPLEMENTED,
                format!(
                    "encrypted {} packaging is not implemented in this reelay release",
                    config.package_type
                ),
            ));
        }
    } else if let Some(reason) = ingest::unsupported_reason(&config.package_type, &config.package) {
        return Err(error(StatusCode::NOT_IMPLEMENTED, reason));
    }
    let index = match engine.indexes.get(&asset.egress_id) {
        Some(i) => i,
        None => {
            let i = load_index(&engine.deps, &scope, &asset.egress_id, state.index_chunks)
                .await
                .map_err(internal)?;
            engine.indexes.put(asset.egress_id.clone(), i.clone(), 1);
            i
        }
    };
    if dash_or_mss {
        let key_prefix = format!("{}/{}/{}/", asset.egress_id, ids[1], ids[2]);
        let served = if config.package_type == "DashPackage" {
            crate::dash::egress(engine, &index, &config.package, &key_prefix, file).await
        } else {
            crate::mss::egress(engine, &index, &config.package, &key_prefix, file).await
        };
        return served.map_err(pack_error);
    }
    let undecodable =
        |e: serde_json::Error| internal(format!("stored package does not decode: {e}"));
    // `unsupported_reason` above let through HLS and CMAF only.
    let cmaf = config.package_type == "CmafPackage";
    let package: HlsPackage = if cmaf {
        let c: CmafPackage = serde_json::from_value(config.package.clone()).map_err(undecodable)?;
        crate::cmaf::hls_view(&c)
    } else {
        serde_json::from_value(config.package.clone()).map_err(undecodable)?
    };
    let key_prefix = format!("{}/{}/{}/", asset.egress_id, ids[1], ids[2]);
    let start = reelay_manifest_hls::DateTime::parse(&asset.created_at);
    hls_file(engine, &index, &package, cmaf, &key_prefix, file, start).await
}

/// How long a cached egress resolution may be used (see [`lookup`]).
const RESOLVED_TTL: std::time::Duration = std::time::Duration::from_secs(1);
/// Resolutions kept at most; past this the cache starts over (it refills in one request each).
const MAX_RESOLVED: usize = 4096;

/// Cached resolutions by path ids, each with the time it was made.
type ResolvedMap = HashMap<String, (std::time::Instant, Arc<Resolved>)>;

/// Egress resolutions by path ids, valid for one value of the API's generation counter.
#[derive(Default)]
pub(crate) struct ResolvedCache {
    inner: std::sync::Mutex<(u64, ResolvedMap)>,
}

impl ResolvedCache {
    fn get(&self, key: &str, generation: u64) -> Option<Arc<Resolved>> {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        if g.0 != generation {
            g.0 = generation;
            g.1.clear();
            return None;
        }
        g.1.get(key)
            .filter(|(at, _)| at.elapsed() < RESOLVED_TTL)
            .map(|(_, r)| r.clone())
    }

    fn put(&self, key: String, generation: u64, value: Arc<Resolved>) {
        let mut g = self.inner.lock().unwrap_or_else(|p| p.into_inner());
        // Resolved under an older generation: it may already be stale.
        if g.0 != generation {
            return;
        }
        if g.1.len() >= MAX_RESOLVED {
            g.1.clear();
        }
        g.1.insert(key, (std::time::Instant::now(), value));
    }
}

/// What an egress path resolves to: the asset (`PLAYABLE`), its group and the configuration.
pub(crate) struct Resolved {
    asset: view::AssetView,
    group: view::GroupView,
    config: view::ConfigView,
    state: IngestState,
}

/// Resolves the ids of an egress path through the store, or from the resolution cache.
///
/// Only `PLAYABLE` resolutions are cached: that state is final for an asset's egress id, and
/// what can still change it (deleting the asset or configuration, updating or deleting the
/// group, reset) moves `reelay_api_mediapackage_vod::generation()`, which empties the cache.
/// Changes made by another reelay node sharing the store are not seen by that counter, so an
/// entry also expires after [`RESOLVED_TTL`].
async fn lookup(
    engine: &Engine,
    scope: &Scope,
    group_egress: &str,
    ids: [&str; 3],
) -> Result<Arc<Resolved>, Response> {
    let key = format!(
        "{}/{}/{group_egress}/{}/{}/{}",
        scope.region, scope.account, ids[0], ids[1], ids[2]
    );
    let generation = reelay_api_mediapackage_vod::generation();
    if let Some(hit) = engine.resolved.get(&key, generation) {
        return Ok(hit);
    }
    let not_found = || error(StatusCode::NOT_FOUND, "not found");
    let internal = |m: String| error(StatusCode::INTERNAL_SERVER_ERROR, m);
    let store = engine.deps.store.as_ref();
    let asset = view::asset_by_egress(store, scope, ids[0])
        .await
        .map_err(internal)?
        .ok_or_else(not_found)?;
    let group = view::group(store, scope, &asset.packaging_group_id)
        .await
        .map_err(internal)?
        .filter(|g| g.egress_id == group_egress)
        .ok_or_else(not_found)?;
    let config = view::config_by_egress(store, scope, [ids[1], ids[2]])
        .await
        .map_err(internal)?
        .filter(|c| c.packaging_group_id == asset.packaging_group_id)
        .ok_or_else(not_found)?;
    let state = match store.get(scope, KIND_INGEST, &asset.id).await {
        Ok(Some(rec)) => serde_json::from_value::<IngestState>(rec.body).ok(),
        Ok(None) => None,
        Err(e) => return Err(internal(e.to_string())),
    }
    .filter(|s| s.asset_egress_id == asset.egress_id);
    let Some(state) = state.filter(|s| s.status == status::PLAYABLE) else {
        return Err(error(
            StatusCode::NOT_FOUND,
            format!("asset '{}' is not playable", asset.id),
        ));
    };
    let resolved = Arc::new(Resolved {
        asset,
        group,
        config,
        state,
    });
    engine.resolved.put(key, generation, resolved.clone());
    Ok(resolved)
}

async fn hls_file(
    engine: &Engine,
    index: &AssetIndex,
    package: &HlsPackage,
    cmaf: bool,
    key_prefix: &str,
    file: &str,
    start: Option<reelay_manifest_hls::DateTime>,
) -> Result<(&'static str, Payload), Response> {
    const M3U8: &str = "application/vnd.apple.mpegurl";
    const TS: &str = "video/MP2T";
    const MP4_VIDEO: &str = "video/mp4";
    const MP4_AUDIO: &str = "audio/mp4";
    let parsed = HlsFile::parse(file).ok_or_else(|| error(StatusCode::NOT_FOUND, "not found"))?;
    let key = format!("{key_prefix}{file}");
    if let Some(b) = engine.bytes.get(&key) {
        let ct = match parsed {
            HlsFile::Segment(..) => TS,
            HlsFile::Init(true, _) | HlsFile::Fragment(true, ..) => MP4_AUDIO,
            HlsFile::Init(false, _) | HlsFile::Fragment(false, ..) => MP4_VIDEO,
            _ => M3U8,
        };
        return Ok((ct, Payload::from(b)));
    }
    let plan = if cmaf {
        Plan::new_cmaf(index, package)
    } else {
        Plan::new(index, package)
    }
    .map_err(pack_error)?;
    let (ct, bytes) = match parsed {
        HlsFile::Multivariant(m) => (
            M3U8,
            Bytes::from(plan.multivariant(&m).map_err(pack_error)?),
        ),
        HlsFile::Media(m, audio, t) => (
            M3U8,
            Bytes::from(plan.media(&m, audio, t, start).map_err(pack_error)?),
        ),
        HlsFile::IFrames(m, t) => {
            let text = plan
                .iframes(&m, t, start, |n| {
                    segment(engine, &plan, key_prefix, false, t, n)
                })
                .await
                .map_err(pack_error)?;
            (M3U8, Bytes::from(text))
        }
        HlsFile::Segment(audio, t, n) => {
            let built = segment(engine, &plan, key_prefix, audio, t, n)
                .await
                .map_err(pack_error)?;
            return Ok((TS, built.bytes));
        }
        HlsFile::Init(audio, t) => (
            if audio { MP4_AUDIO } else { MP4_VIDEO },
            plan.init(audio, t).map_err(pack_error)?,
        ),
        HlsFile::Fragment(audio, t, n) => {
            let ct = if audio { MP4_AUDIO } else { MP4_VIDEO };
            let seg_key = format!("{key_prefix}{file}");
            if let Some(b) = engine.segments.get(&seg_key) {
                return Ok((ct, b.bytes));
            }
            let payload = plan
                .fragment(&engine.deps.blob, audio, t, n)
                .await
                .map_err(pack_error)?;
            engine
                .segments
                .put_with(seg_key, payload.len(), || Built::kept(&payload, Vec::new()));
            return Ok((ct, payload));
        }
    };
    engine.bytes.put(key, bytes.clone(), bytes.len());
    Ok((ct, Payload::from(bytes)))
}

/// A segment from the cache, or built and cached.
async fn segment(
    engine: &Engine,
    plan: &Plan<'_>,
    key_prefix: &str,
    audio: bool,
    t: usize,
    n: usize,
) -> Result<Built, PackError> {
    let key = format!("{key_prefix}{}{t}.{n}.ts", if audio { 'a' } else { 'v' });
    if let Some(b) = engine.segments.get(&key) {
        return Ok(b);
    }
    let built = plan.segment(&engine.deps.blob, audio, t, n).await?;
    engine.segments.put_with(key, built.bytes.len(), || {
        Built::kept(&built.bytes, built.keyframes.clone())
    });
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A payload of several buffers is sent whole, or sliced for a range, with exact lengths.
    #[tokio::test]
    async fn multi_part_payloads_answer_gets_ranges_and_heads() {
        let payload = Payload::from_parts(vec![
            Bytes::from_static(b"moof...."),
            Bytes::from_static(b"0123456789"),
            Bytes::from_static(b"abcdef"),
        ]);
        let whole = b"moof....0123456789abcdef";
        let body = |r: Response| async move {
            let len = r.headers()[header::CONTENT_LENGTH]
                .to_str()
                .unwrap()
                .to_owned();
            let b = axum::body::to_bytes(r.into_body(), 1 << 20).await.unwrap();
            (len, b)
        };
        let r = respond(
            &Method::GET,
            &HeaderMap::new(),
            "video/mp4",
            payload.clone(),
        );
        assert_eq!(r.status(), StatusCode::OK);
        let (len, b) = body(r).await;
        assert_eq!((len.as_str(), &b[..]), ("24", &whole[..]));
        for (spec, a, z) in [
            ("bytes=6-19", 6, 19),
            ("bytes=-3", 21, 23),
            ("bytes=8-", 8, 23),
        ] {
            let mut h = HeaderMap::new();
            h.insert(header::RANGE, HeaderValue::from_static(spec));
            let r = respond(&Method::GET, &h, "video/mp4", payload.clone());
            assert_eq!(r.status(), StatusCode::PARTIAL_CONTENT);
            assert_eq!(
                r.headers()[header::CONTENT_RANGE],
                format!("bytes {a}-{z}/24").as_str()
            );
            let (len, b) = body(r).await;
            assert_eq!(len, (z - a + 1).to_string());
            assert_eq!(&b[..], &whole[a..=z], "{spec}");
        }
        let r = respond(&Method::HEAD, &HeaderMap::new(), "video/mp4", payload);
        let (len, b) = body(r).await;
        assert_eq!((len.as_str(), b.len()), ("24", 0));
    }

    #[test]
    fn bodies_fit_one_vectored_write() {
        let parts: Vec<Bytes> = (1..=40usize)
            .map(|i| Bytes::from(vec![i as u8; (i * 37) % 1000 + 1]))
            .collect();
        let whole: Vec<u8> = parts.iter().flat_map(|b| b.to_vec()).collect();
        for (max, want) in [(1, 1), (2, 1), (15, 1), (40, 40), (50, 40)] {
            let f = frames(parts.clone(), max);
            assert_eq!(f.len(), want, "{max}");
            assert_eq!(f.concat(), whole);
        }
        // Large parts stay as they were (not copied); small neighbours are merged.
        let big = Bytes::from(vec![7u8; 100_000]);
        let mut with_big = parts.clone();
        with_big.insert(20, big.clone());
        with_big.insert(5, big.clone());
        let f = frames(with_big.clone(), 15);
        assert_eq!(f.concat(), with_big.concat());
        assert!(f.len() <= 15, "{}", f.len());
        let kept = f
            .iter()
            .filter(|b| b.as_ptr() == big.as_ptr() && b.len() == big.len());
        assert_eq!(kept.count(), 2);
    }

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Some((0, 9)));
        assert_eq!(parse_range("bytes=90-", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=-10", 100), Some((90, 99)));
        assert_eq!(parse_range("bytes=95-200", 100), Some((95, 99)));
        assert_eq!(parse_range("bytes=100-", 100), None);
        assert_eq!(parse_range("bytes=5-1", 100), None);
        assert_eq!(parse_range("bytes=0-1,3-4", 100), None);
        assert_eq!(parse_range("items=0-1", 100), None);
        assert_eq!(parse_range("bytes=-0", 100), None);
    }
}
