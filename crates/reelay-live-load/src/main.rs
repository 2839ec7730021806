//! `reelay-live-load`: live ingest load in one process.
//!
//! Replays one pre-encoded FLV (H.264 + AAC) at real time to N RTMP publish sessions, loops it
//! with rewritten timestamps, optionally polls each stream's media playlist to count segments
//! and detect dropped ones (a media-sequence gap or a stalled playlist), optionally runs M
//! LL-HLS pollers doing blocking `_HLS_msn` / `_HLS_part` reloads, and prints one JSON summary.
//! With `--server-pid` it also reads the server's CPU time and RSS from procfs over the
//! measured window, so the benchmark scripts need no sampling of their own.

mod flv;
mod hls;
mod procfs;
mod rtmp;

use anyhow::{Context, Result, bail};
use bytes::{Bytes, BytesMut};
use clap::Parser;
use flv::{Kind, Recording};
use http_body_util::{BodyExt as _, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use reelay_ingest_rtmp::message as msg;
use rtmp::{Incoming, Publisher, Target};
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::time::Instant;

/// Replays an FLV at real time to many RTMP publish sessions and watches their HLS output.
#[derive(Parser, Debug)]
#[command(name = "reelay-live-load", version)]
struct Args {
    /// The FLV to replay (legacy AVC + AAC; looped).
    #[arg(long)]
    flv: PathBuf,
    /// A stream: `RTMP_URL` or `RTMP_URL,PLAYLIST_URL` (the media playlist to poll); repeatable.
    #[arg(long = "target")]
    targets: Vec<String>,
    /// A file of streams, one `RTMP_URL [PLAYLIST_URL]` per line.
    #[arg(long)]
    targets_file: Option<PathBuf>,
    /// Total run time in seconds, from the first connection.
    #[arg(long, default_value_t = 30)]
    duration: u64,
    /// Seconds after the start before the measured window (CPU, RSS) begins.
    #[arg(long, default_value_t = 10)]
    warmup: u64,
    /// Stream starts are spread evenly over this many milliseconds (random GOP phases).
    #[arg(long, default_value_t = 2000)]
    stagger_ms: u64,
    /// Publishers send what is due at most this often, in one write.
    #[arg(long, default_value_t = 20)]
    batch_ms: u64,
    /// Interval of the plain playlist pollers (one per stream with a playlist URL).
    #[arg(long, default_value_t = 1000)]
    poll_ms: u64,
    /// LL-HLS pollers doing blocking reloads, spread over the streams' playlists.
    #[arg(long, default_value_t = 0)]
    llhls_pollers: usize,
    /// LL-HLS pollers also fetch the newest part of each playlist they get.
    #[arg(long)]
    fetch_parts: bool,
    /// Server process whose utime + stime and VmRSS are measured over the window.
    #[arg(long)]
    server_pid: Option<u32>,
}

/// A publisher that is this late (ms) on one batch counts a late batch.
const LATE_MS: u64 = 500;
/// Errors listed verbatim in the summary; the rest are only counted.
const MAX_LISTED_ERRORS: usize = 10;
/// Per-request timeout of the playlist pollers; blocking reloads get this on top of the
/// server's own hold time.
const HTTP_TIMEOUT: Duration = Duration::from_secs(10);

struct StreamTarget {
    rtmp: Target,
    playlist: Option<String>,
}

#[derive(Default)]
struct StreamResult {
    connected: bool,
    error: Option<String>,
    bytes: u64,
    batches: u64,
    max_lag_ms: u64,
    late_batches: u64,
    polls: u64,
    poll_errors: u64,
    tracker: Option<hls::Tracker>,
}

#[derive(Default)]
struct LlHlsResult {
    requests: u64,
    ok: u64,
    non_200: u64,
    errors: u64,
    parts: u64,
    part_bytes: u64,
    waits_ms: Vec<u64>,
}

type HttpClient = Client<HttpConnector, Empty<Bytes>>;

fn main() -> Result<()> {
    let args = Args::parse();
    let recording = Arc::new(Recording::read(&args.flv)?);
    let targets = read_targets(&args)?;
    if targets.is_empty() {
        bail!("no --target or --targets-file given");
    }
    if args.warmup >= args.duration {
        bail!("--warmup must be shorter than --duration");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let summary = runtime.block_on(run(args, recording, targets))?;
    println!("{}", serde_json::to_string(&summary)?);
    Ok(())
}

fn read_targets(args: &Args) -> Result<Vec<StreamTarget>> {
    let mut lines: Vec<String> = args.targets.iter().map(|t| t.replace(',', " ")).collect();
    if let Some(path) = &args.targets_file {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        lines.extend(
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(String::from),
        );
    }
    lines
        .iter()
        .map(|l| {
            let mut it = l.split_whitespace();
            let rtmp =
                Target::parse(it.next().unwrap_or("")).with_context(|| format!("target {l:?}"))?;
            Ok(StreamTarget {
                rtmp,
                playlist: it.next().map(String::from),
            })
        })
        .collect()
}

async fn run(
    args: Args,
    recording: Arc<Recording>,
    targets: Vec<StreamTarget>,
) -> Result<serde_json::Value> {
    let start = Instant::now();
    let deadline = start + Duration::from_secs(args.duration);
    let mut connector = HttpConnector::new();
    connector.set_nodelay(true);
    let client: HttpClient = Client::builder(TokioExecutor::new())
        .pool_max_idle_per_host(usize::MAX)
        .build(connector);
    let n = targets.len();
    let playlists: Vec<String> = targets.iter().filter_map(|t| t.playlist.clone()).collect();

    let mut streams = Vec::with_capacity(n);
    for (i, target) in targets.into_iter().enumerate() {
        let offset = Duration::from_millis(args.stagger_ms * i as u64 / n as u64);
        let cfg = StreamConfig {
            recording: recording.clone(),
            start_at: start + offset,
            deadline,
            batch: Duration::from_millis(args.batch_ms.max(1)),
            poll: Duration::from_millis(args.poll_ms.max(50)),
        };
        streams.push(tokio::spawn(stream(target, cfg, client.clone())));
    }
    let mut llhls = Vec::new();
    if !playlists.is_empty() {
        for j in 0..args.llhls_pollers {
            let url = playlists[j % playlists.len()].clone();
            // After the stagger and the first segment, so the first reload has a playlist.
            let begin = start + Duration::from_millis(args.stagger_ms) + Duration::from_secs(4);
            llhls.push(tokio::spawn(llhls_poller(
                url,
                client.clone(),
                begin,
                deadline,
                args.fetch_parts,
            )));
        }
    }

    let window_start = start + Duration::from_secs(args.warmup);
    tokio::time::sleep_until(window_start).await;
    // A server that died has no /proc entry: reported as a server error, not a tool failure.
    let server_before = args.server_pid.map(procfs::sample);
    let self_before = procfs::sample_self()?;
    tokio::time::sleep_until(deadline).await;
    let server_after = args.server_pid.map(procfs::sample);
    let self_after = procfs::sample_self()?;
    let server = match (server_before, server_after) {
        (Some(Ok(before)), Some(Ok(after))) => Some(Ok((before, after))),
        (Some(Err(e)), _) | (_, Some(Err(e))) => Some(Err(format!("{e:#}"))),
        _ => None,
    };
    let window = (deadline - window_start).as_secs_f64();

    let mut results = Vec::with_capacity(n);
    for s in streams {
        results.push(s.await.unwrap_or_else(|e| StreamResult {
            error: Some(format!("task failed: {e}")),
            ..StreamResult::default()
        }));
    }
    let mut ll = LlHlsResult::default();
    for p in llhls {
        if let Ok(r) = p.await {
            ll.requests += r.requests;
            ll.ok += r.ok;
            ll.non_200 += r.non_200;
            ll.errors += r.errors;
            ll.parts += r.parts;
            ll.part_bytes += r.part_bytes;
            ll.waits_ms.extend(r.waits_ms);
        }
    }
    Ok(summarize(
        &args,
        &recording,
        &results,
        &mut ll,
        window,
        server,
        (self_before, self_after),
    ))
}

fn summarize(
    args: &Args,
    recording: &Recording,
    results: &[StreamResult],
    ll: &mut LlHlsResult,
    window: f64,
    server: Option<Result<(procfs::Sample, procfs::Sample), String>>,
    own: (procfs::Sample, procfs::Sample),
) -> serde_json::Value {
    let n = results.len();
    let connected = results.iter().filter(|r| r.connected).count();
    let errors: Vec<&str> = results.iter().filter_map(|r| r.error.as_deref()).collect();
    let mut max_lags: Vec<u64> = results
        .iter()
        .filter(|r| r.connected)
        .map(|r| r.max_lag_ms)
        .collect();
    max_lags.sort_unstable();
    let trackers: Vec<&hls::Tracker> = results.iter().filter_map(|r| r.tracker.as_ref()).collect();
    ll.waits_ms.sort_unstable();
    let bytes: u64 = results.iter().map(|r| r.bytes).sum();
    let loop_mbps = recording.loop_bytes as f64 * 8.0 / f64::from(recording.loop_ms) / 1000.0;
    let mut out = json!({
        "streams": n,
        "connected": connected,
        "seconds": args.duration,
        "window_seconds": window,
        "loop_seconds": f64::from(recording.loop_ms) / 1000.0,
        "payload_mbps_per_stream": loop_mbps,
        "bytes_sent": bytes,
        "errors": errors.len(),
        "error_samples": errors.iter().take(MAX_LISTED_ERRORS).collect::<Vec<_>>(),
        "send_lag_ms": {
            "p50_of_stream_max": percentile(&max_lags, 0.50),
            "p99_of_stream_max": percentile(&max_lags, 0.99),
            "max": max_lags.last().copied().unwrap_or(0),
            "late_batches": results.iter().map(|r| r.late_batches).sum::<u64>(),
            "batches": results.iter().map(|r| r.batches).sum::<u64>(),
        },
        "playlists": {
            "streams": trackers.len(),
            "polls": results.iter().map(|r| r.polls).sum::<u64>(),
            "poll_errors": results.iter().map(|r| r.poll_errors).sum::<u64>(),
            "segments_seen": trackers.iter().map(|t| t.segments).sum::<u64>(),
            "media_seconds": trackers.iter().map(|t| t.media_seconds).sum::<f64>(),
            "gaps": trackers.iter().map(|t| t.gaps).sum::<u64>(),
            "stalls": trackers.iter().map(|t| t.stalls).sum::<u64>(),
            "discontinuities": trackers.iter().map(|t| t.discontinuities).sum::<u64>(),
            "streams_without_new_segments": trackers.iter().filter(|t| t.segments == 0).count(),
        },
        "llhls": {
            "pollers": args.llhls_pollers,
            "requests": ll.requests,
            "ok": ll.ok,
            "non_200": ll.non_200,
            "errors": ll.errors,
            "parts_fetched": ll.parts,
            "part_bytes": ll.part_bytes,
            "wait_ms_p50": percentile(&ll.waits_ms, 0.50),
            "wait_ms_p99": percentile(&ll.waits_ms, 0.99),
        },
        "load_cpu_percent": own.1.cpu_seconds_since(&own.0) / window * 100.0,
    });
    if let Some(Err(e)) = &server {
        out["server_error"] = json!(e);
    }
    if let Some(Ok((before, after))) = server {
        let cpu = after.cpu_seconds_since(&before);
        out["server"] = json!({
            "cpu_seconds": cpu,
            "cpu_percent": cpu / window * 100.0,
            "cpu_percent_per_stream": if connected > 0 { cpu / window * 100.0 / connected as f64 } else { 0.0 },
            "rss_kib": after.rss_kib,
            "rss_kib_per_stream": if connected > 0 { after.rss_kib as f64 / connected as f64 } else { 0.0 },
        });
    }
    out
}

fn percentile(sorted: &[u64], q: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let idx = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[idx.min(sorted.len() - 1)]
}

struct StreamConfig {
    recording: Arc<Recording>,
    start_at: Instant,
    deadline: Instant,
    batch: Duration,
    poll: Duration,
}

/// One stream: publish until the deadline, with its playlist poller alongside.
async fn stream(target: StreamTarget, cfg: StreamConfig, client: HttpClient) -> StreamResult {
    tokio::time::sleep_until(cfg.start_at).await;
    let mut result = StreamResult::default();
    let publisher = match Publisher::connect(&target.rtmp).await {
        Ok(p) => p,
        Err(e) => {
            result.error = Some(format!("{}: {e:#}", target.rtmp.name));
            return result;
        }
    };
    result.connected = true;
    let poller = target
        .playlist
        .map(|url| tokio::spawn(playlist_poller(url, client, cfg.poll, cfg.deadline)));
    if let Err(e) = publish(publisher, &cfg, &mut result).await {
        result.error = Some(format!("{}: {e:#}", target.rtmp.name));
    }
    if let Some(p) = poller
        && let Ok((tracker, polls, errors)) = p.await
    {
        result.tracker = Some(tracker);
        result.polls = polls;
        result.poll_errors = errors;
    }
    result
}

/// Sends the recording, looped, at real time until the deadline.
async fn publish(p: Publisher, cfg: &StreamConfig, result: &mut StreamResult) -> Result<()> {
    let rec = &cfg.recording;
    if rec.media.is_empty() {
        bail!("nothing to replay");
    }
    let Publisher {
        socket,
        session: mut p,
        decoder,
    } = p;
    let (read_half, mut write) = socket.into_split();
    let refused: Arc<Mutex<Option<String>>> = Arc::default();
    let (ping_tx, mut ping_rx) = tokio::sync::mpsc::unbounded_channel();
    let reader = tokio::spawn(read_server(read_half, decoder, ping_tx, refused.clone()));
    let mut out = BytesMut::with_capacity(256 * 1024);
    if let Some(meta) = &rec.metadata {
        p.encode(
            &mut out,
            rtmp::DATA_CSID,
            msg::DATA_AMF0,
            0,
            rtmp::set_data_frame(meta),
        )?;
    }
    for h in &rec.headers {
        let (csid, type_id) = csid_of(h.kind);
        p.encode(&mut out, csid, type_id, 0, h.body.clone())?;
    }
    let begin = Instant::now();
    let loop_ms = u64::from(rec.loop_ms);
    let (mut idx, mut round) = (0usize, 0u64);
    let due = |idx: usize, round: u64| round * loop_ms + u64::from(rec.media[idx].timestamp_ms);
    let outcome = loop {
        let now = Instant::now();
        if now >= cfg.deadline {
            break Ok(());
        }
        if let Some(why) = refused.lock().unwrap_or_else(|e| e.into_inner()).take() {
            break Err(anyhow::anyhow!("server ended the stream: {why}"));
        }
        while let Ok(ts) = ping_rx.try_recv() {
            rtmp::pong(&mut p.encoder, &mut out, ts)?;
        }
        let elapsed = (now - begin).as_millis() as u64;
        let mut first_due = None;
        while due(idx, round) <= elapsed {
            let tag = &rec.media[idx];
            let ts = due(idx, round);
            first_due.get_or_insert(ts);
            let (csid, type_id) = csid_of(tag.kind);
            // RTMP timestamps are 32-bit milliseconds that wrap (§5.3.1.2.1).
            p.encode(&mut out, csid, type_id, ts as u32, tag.body.clone())?;
            idx += 1;
            if idx == rec.media.len() {
                idx = 0;
                round += 1;
            }
        }
        if !out.is_empty() {
            let written = tokio::time::timeout_at(cfg.deadline, write.write_all(&out)).await;
            match written {
                Err(_) => break Ok(()),
                Ok(Err(e)) => break Err(anyhow::anyhow!("write: {e}")),
                Ok(Ok(())) => {}
            }
            result.bytes += out.len() as u64;
            out.clear();
            if let Some(ts) = first_due {
                let lag = (Instant::now() - begin)
                    .as_millis()
                    .saturating_sub(u128::from(ts)) as u64;
                result.batches += 1;
                result.max_lag_ms = result.max_lag_ms.max(lag);
                if lag > LATE_MS {
                    result.late_batches += 1;
                }
            }
        }
        let next = begin + Duration::from_millis(due(idx, round));
        tokio::time::sleep_until(next.max(now + cfg.batch)).await;
    };
    reader.abort();
    outcome
}

fn csid_of(kind: Kind) -> (u32, u8) {
    match kind {
        Kind::Audio => (rtmp::AUDIO_CSID, msg::AUDIO),
        Kind::Video => (rtmp::VIDEO_CSID, msg::VIDEO),
    }
}

/// Keeps reading what the server sends: answers pings through `pings`, and records a refusal
/// or the server closing the connection in `refused`.
async fn read_server(
    mut read: tokio::net::tcp::OwnedReadHalf,
    mut decoder: reelay_ingest_rtmp::chunk::ChunkDecoder,
    pings: tokio::sync::mpsc::UnboundedSender<u32>,
    refused: Arc<Mutex<Option<String>>>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    let why = loop {
        match read.read(&mut buf).await {
            Ok(0) => break "server closed the connection".to_string(),
            Err(e) => break format!("read: {e}"),
            Ok(n) => decoder.push(&buf[..n]),
        }
        let mut stop = None;
        loop {
            match decoder.poll() {
                Ok(Some(m)) => match rtmp::classify(&m, &mut decoder) {
                    Ok(Incoming::Ping(ts)) => {
                        let _ = pings.send(ts);
                    }
                    Ok(Incoming::Refused(why)) => {
                        stop = Some(why);
                        break;
                    }
                    Ok(Incoming::Other) => {}
                    Err(e) => {
                        stop = Some(format!("bad message from server: {e}"));
                        break;
                    }
                },
                Ok(None) => break,
                Err(e) => {
                    stop = Some(format!("bad chunk from server: {e}"));
                    break;
                }
            }
        }
        if let Some(why) = stop {
            break why;
        }
    };
    *refused.lock().unwrap_or_else(|e| e.into_inner()) = Some(why);
}

async fn get(client: &HttpClient, url: &str) -> Result<(u16, Bytes)> {
    let uri: hyper::Uri = url.parse().with_context(|| format!("bad URL {url}"))?;
    let res = tokio::time::timeout(HTTP_TIMEOUT, async {
        let res = client.get(uri).await?;
        let status = res.status().as_u16();
        let body = http_body_util::Limited::new(res.into_body(), hls::MAX_PLAYLIST.max(16 << 20))
            .collect()
            .await
            .map_err(|e| anyhow::anyhow!("body: {e}"))?
            .to_bytes();
        anyhow::Ok((status, body))
    })
    .await
    .map_err(|_| anyhow::anyhow!("timed out"))??;
    Ok(res)
}

/// Polls a media playlist every `interval` until the deadline.
async fn playlist_poller(
    url: String,
    client: HttpClient,
    interval: Duration,
    deadline: Instant,
) -> (hls::Tracker, u64, u64) {
    let origin = Instant::now();
    let mut tracker = hls::Tracker::default();
    tracker.start(Duration::ZERO);
    let (mut polls, mut errors) = (0, 0);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        if Instant::now() >= deadline {
            break;
        }
        polls += 1;
        let got = tokio::time::timeout_at(deadline, get(&client, &url)).await;
        let now = Instant::now() - origin;
        match got {
            Err(_) => break,
            Ok(Ok((200, body))) if body.len() <= hls::MAX_PLAYLIST => {
                let text = String::from_utf8_lossy(&body);
                tracker.observe(&hls::Playlist::parse(&text), now);
            }
            // 404 before the first segment is normal; it still advances the stall clock.
            Ok(Ok((404, _))) => tracker.check_stall(now),
            Ok(_) => {
                errors += 1;
                tracker.check_stall(now);
            }
        }
    }
    (tracker, polls, errors)
}

fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

fn resolve(base: &str, uri: &str) -> String {
    if uri.contains("://") {
        return uri.to_string();
    }
    let base = base.split('?').next().unwrap_or(base);
    match base.rfind('/') {
        Some(i) => format!("{}/{uri}", &base[..i]),
        None => uri.to_string(),
    }
}

/// An LL-HLS client: blocking playlist reloads for the next part (rfc8216bis §6.2.5.2).
async fn llhls_poller(
    url: String,
    client: HttpClient,
    begin: Instant,
    deadline: Instant,
    fetch_parts: bool,
) -> LlHlsResult {
    tokio::time::sleep_until(begin).await;
    let mut r = LlHlsResult::default();
    let mut next: Option<(u64, usize)> = None;
    while Instant::now() < deadline {
        let request = match next {
            Some((msn, part)) => with_query(&url, &format!("_HLS_msn={msn}&_HLS_part={part}")),
            None => url.clone(),
        };
        let sent = Instant::now();
        r.requests += 1;
        match tokio::time::timeout_at(deadline, get(&client, &request)).await {
            Err(_) => break,
            Ok(Ok((200, body))) => {
                r.ok += 1;
                if next.is_some() {
                    r.waits_ms.push(sent.elapsed().as_millis() as u64);
                }
                let p = hls::Playlist::parse(&String::from_utf8_lossy(&body));
                next = Some(p.next_part());
                if fetch_parts && let Some(uri) = &p.last_part_uri {
                    match get(&client, &resolve(&url, uri)).await {
                        Ok((200, part)) => {
                            r.parts += 1;
                            r.part_bytes += part.len() as u64;
                        }
                        Ok(_) => r.non_200 += 1,
                        Err(_) => r.errors += 1,
                    }
                }
            }
            Ok(Ok(_)) => {
                r.non_200 += 1;
                next = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Ok(Err(_)) => {
                r.errors += 1;
                next = None;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_for_reloads_and_parts() {
        assert_eq!(with_query("http://h/a.m3u8", "x=1"), "http://h/a.m3u8?x=1");
        assert_eq!(
            with_query("http://h/a.m3u8?t=2", "x=1"),
            "http://h/a.m3u8?t=2&x=1"
        );
        assert_eq!(
            resolve("http://h/v/a/source.m3u8?t=1", "source-3.1.ts"),
            "http://h/v/a/source-3.1.ts"
        );
        assert_eq!(resolve("http://h/a.m3u8", "http://x/y.ts"), "http://x/y.ts");
    }

    #[test]
    fn percentiles_of_sorted_values() {
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 0.5), 3);
        assert_eq!(percentile(&[1, 2, 3, 4, 5], 0.99), 5);
    }
}
