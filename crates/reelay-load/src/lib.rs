//! reelay-load: a small load generator for reelay benchmarks.
//!
//! [`run`] keeps [`Config::concurrency`] workers busy for [`Config::duration`], each on its own
//! keep-alive HTTP/1.1 connection, signing every request afresh with SigV4 (the date in the
//! signature moves with the clock). It stops by itself at the deadline and returns a [`Report`]
//! with request counts, statuses and latency percentiles in microseconds.
//!
//! Only `http://` endpoints are supported: the tool is meant for a server on the same machine.

pub mod fetch;
mod histogram;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use reelay_sigv4::{Credentials, SigningParams, sha256_hex, sign_headers};
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;

pub use histogram::Histogram;

/// The longest run accepted (measured duration plus warm-up).
pub const MAX_DURATION: Duration = Duration::from_secs(600);
/// The most concurrent connections accepted.
pub const MAX_CONCURRENCY: usize = 4096;
/// Pause after a failed connection attempt, so a dead server is not hammered in a tight loop.
const RECONNECT_BACKOFF: Duration = Duration::from_millis(10);

/// What to send, how hard and for how long.
#[derive(Clone, Debug)]
pub struct Config {
    /// `http://host:port`; the `host:port` part becomes the `Host` header.
    pub endpoint: String,
    /// The SigV4 signing name (`ivs`, `kinesisvideo`, `mediapackage-vod`, `s3`, ...).
    pub service: String,
    /// The SigV4 region.
    pub region: String,
    /// The HTTP method.
    pub method: String,
    /// The request target as sent: path (percent-encoded) and optional `?query`.
    pub path: String,
    /// The body, with `{n}` and `{uuid}` placeholders.
    pub body: BodyTemplate,
    /// Extra headers, all signed. `content-type: application/json` is added when the body is not
    /// empty and no content type is given.
    pub headers: Vec<(String, String)>,
    /// Number of concurrent connections, each with one request in flight.
    pub concurrency: usize,
    /// How long to measure.
    pub duration: Duration,
    /// How long to send before measuring (those requests are not reported).
    pub warmup: Duration,
    /// Per-request timeout; a request that takes longer counts as an error.
    pub timeout: Duration,
    /// The key pair to sign with.
    pub credentials: Credentials,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The configuration is out of bounds or unparsable.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The endpoint refused the first connection.
    #[error("cannot connect to {endpoint}")]
    Connect {
        /// The endpoint tried.
        endpoint: String,
        /// The socket error.
        source: std::io::Error,
    },
}

/// A body with placeholders: `{n}` becomes a counter shared by all workers (0, 1, 2, ...) and
/// `{uuid}` a fresh random UUID, so that create calls can make distinct resources.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BodyTemplate {
    pieces: Vec<Piece>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Piece {
    Text(String),
    Counter,
    Uuid,
}

impl BodyTemplate {
    /// Splits `template` at its `{n}` and `{uuid}` placeholders; other braces are kept as text.
    pub fn parse(template: &str) -> Self {
        let mut pieces = Vec::new();
        let mut rest = template;
        let mut text = String::new();
        while !rest.is_empty() {
            let (piece, len) = if rest.starts_with("{n}") {
                (Some(Piece::Counter), 3)
            } else if rest.starts_with("{uuid}") {
                (Some(Piece::Uuid), 6)
            } else {
                // Copy up to the next possible placeholder start in one go.
                let next = rest[1..].find('{').map_or(rest.len(), |i| i + 1);
                text.push_str(&rest[..next]);
                (None, next)
            };
            if let Some(piece) = piece {
                if !text.is_empty() {
                    pieces.push(Piece::Text(std::mem::take(&mut text)));
                }
                pieces.push(piece);
            }
            rest = &rest[len..];
        }
        if !text.is_empty() {
            pieces.push(Piece::Text(text));
        }
        Self { pieces }
    }

    /// The body for request number `n`.
    pub fn render(&self, n: u64) -> String {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Counter => out.push_str(&n.to_string()),
                Piece::Uuid => out.push_str(&uuid::Uuid::new_v4().to_string()),
            }
        }
        out
    }

    /// Whether the body is always empty.
    pub fn is_empty(&self) -> bool {
        self.pieces.is_empty()
    }
}

/// Latency percentiles in microseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: u64,
    /// 90th percentile.
    pub p90: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Slowest request, exact.
    pub max: u64,
    /// Arithmetic mean.
    pub mean: u64,
}

/// The outcome of a run; only requests that started after the warm-up count.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    /// Responses received, any status.
    pub requests: u64,
    /// Responses with a 2xx status.
    pub ok: u64,
    /// Responses with another status, by status code.
    pub non_2xx: BTreeMap<u16, u64>,
    /// Requests that got no response: connection failures, protocol errors, timeouts.
    pub errors: u64,
    /// The last error seen, for a hint at what went wrong.
    pub last_error: Option<String>,
    /// Requests still in flight at the deadline, abandoned and not counted above.
    pub in_flight_at_end: u64,
    /// Measured wall time in seconds.
    pub elapsed_secs: f64,
    /// `requests / elapsed_secs`.
    pub requests_per_sec: f64,
    /// Latency of the responses received, from sending to the end of the body.
    pub latency_us: Latency,
    /// The concurrency of the run.
    pub concurrency: usize,
}

impl Report {
    /// A short human-readable table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "requests    {} in {:.2} s ({:.1} req/s, concurrency {})\n2xx         {}\n",
            self.requests, self.elapsed_secs, self.requests_per_sec, self.concurrency, self.ok
        );
        if !self.non_2xx.is_empty() {
            let statuses: Vec<String> = self
                .non_2xx
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect();
            out.push_str(&format!("non-2xx     {}\n", statuses.join(", ")));
        }
        out.push_str(&format!("errors      {}\n", self.errors));
        if let Some(err) = &self.last_error {
            out.push_str(&format!("last error  {err}\n"));
        }
        let l = &self.latency_us;
        out.push_str(&format!(
            "latency us  p50 {}  p90 {}  p99 {}  max {}  mean {}\n",
            l.p50, l.p90, l.p99, l.max, l.mean
        ));
        out
    }
}

/// Parses a duration such as `10s`, `500ms`, `2m` or `10` (seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let (digits, unit) = text.split_at(
        text.find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len()),
    );
    let value: u64 = digits
        .parse()
        .map_err(|_| format!("invalid duration '{text}' (examples: 10s, 500ms, 2m)"))?;
    let millis = match unit {
        "" | "s" => value.checked_mul(1000),
        "ms" => Some(value),
        "m" => value.checked_mul(60_000),
        _ => {
            return Err(format!(
                "invalid duration unit in '{text}' (use ms, s or m)"
            ));
        }
    };
    millis
        .map(Duration::from_millis)
        .ok_or_else(|| format!("duration '{text}' is too large"))
}

/// The parts of a validated endpoint.
#[derive(Clone, Debug)]
struct Target {
    /// `host:port` to connect to.
    addr: String,
    /// The `Host` header.
    host: String,
}

impl Config {
    fn validate(&self) -> Result<Target, LoadError> {
        let bad = |why: String| Err(LoadError::Config(why));
        if self.concurrency == 0 || self.concurrency > MAX_CONCURRENCY {
            return bad(format!(
                "concurrency must be between 1 and {MAX_CONCURRENCY}"
            ));
        }
        if self.duration.is_zero() {
            return bad("duration must be positive".into());
        }
        if self.duration + self.warmup > MAX_DURATION {
            return bad(format!(
                "duration plus warm-up must not exceed {} s",
                MAX_DURATION.as_secs()
            ));
        }
        if self.timeout.is_zero() {
            return bad("timeout must be positive".into());
        }
        if http::Method::from_bytes(self.method.as_bytes()).is_err() {
            return bad(format!("invalid method '{}'", self.method));
        }
        if !self.path.starts_with('/')
            || http::uri::PathAndQuery::try_from(self.path.as_str()).is_err()
        {
            return bad(format!(
                "path '{}' must be an origin-form target such as /GetChannel",
                self.path
            ));
        }
        for (name, value) in &self.headers {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || http::HeaderValue::from_str(value).is_err()
            {
                return bad(format!("invalid header '{name}: {value}'"));
            }
        }
        parse_endpoint(&self.endpoint)
    }
}

/// Where `endpoint` (`http://host[:port]`) is: the socket address and the `Host` header.
pub(crate) fn parse_endpoint(endpoint: &str) -> Result<Target, LoadError> {
    let bad = |why: String| Err(LoadError::Config(why));
    let Some(authority) = endpoint.strip_prefix("http://") else {
        return bad(format!(
            "endpoint '{endpoint}' must start with http:// (TLS is not supported)"
        ));
    };
    let authority = authority.strip_suffix('/').unwrap_or(authority);
    let parsed = match http::uri::Authority::try_from(authority) {
        Ok(a) if !authority.contains(['/', '?', '@']) && !a.host().is_empty() => a,
        _ => return bad(format!("endpoint '{endpoint}' must be http://host[:port]")),
    };
    let addr = match parsed.port_u16() {
        Some(_) => authority.to_owned(),
        None => format!("{authority}:80"),
    };
    Ok(Target {
        addr,
        host: authority.to_owned(),
    })
}

/// Per-worker tallies, merged at the end.
#[derive(Default)]
struct Tally {
    latency: Histogram,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
    last_error: Option<String>,
    abandoned: u64,
}

/// What every worker shares.
struct Shared {
    config: Config,
    target: Target,
    counter: AtomicU64,
    measure_from: Instant,
    end: Instant,
}

/// Runs the load and reports. Fails only when the configuration is invalid or the endpoint
/// refuses the first connection; errors during the run are counted in the report.
pub async fn run(config: Config) -> Result<Report, LoadError> {
    let target = config.validate()?;
    // One probe connection up front, so a wrong endpoint fails fast instead of producing a
    // report full of connection errors.
    TcpStream::connect(&target.addr)
        .await
        .map_err(|source| LoadError::Connect {
            endpoint: config.endpoint.clone(),
            source,
        })?;

    let start = Instant::now();
    let measure_from = start + config.warmup;
    let end = measure_from + config.duration;
    let concurrency = config.concurrency;
    let shared = Arc::new(Shared {
        config,
        target,
        counter: AtomicU64::new(0),
        measure_from,
        end,
    });
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();

    let mut total = Tally::default();
    for handle in workers {
        match handle.await {
            Ok(tally) => {
                total.latency.merge(&tally.latency);
                for (status, n) in tally.statuses {
                    *total.statuses.entry(status).or_default() += n;
                }
                total.errors += tally.errors;
                total.abandoned += tally.abandoned;
                if tally.last_error.is_some() {
                    total.last_error = tally.last_error;
                }
            }
            Err(join) => {
                total.errors += 1;
                total.last_error = Some(format!("worker failed: {join}"));
            }
        }
    }
    let elapsed = Instant::now()
        .min(end)
        .saturating_duration_since(measure_from)
        .as_secs_f64();
    let requests = total.latency.len();
    let ok = total
        .statuses
        .iter()
        .filter(|(s, _)| (200..300).contains(*s))
        .map(|(_, n)| n)
        .sum();
    let non_2xx = total
        .statuses
        .into_iter()
        .filter(|(s, _)| !(200..300).contains(s))
        .collect();
    let h = &total.latency;
    Ok(Report {
        requests,
        ok,
        non_2xx,
        errors: total.errors,
        last_error: total.last_error,
        in_flight_at_end: total.abandoned,
        elapsed_secs: elapsed,
        requests_per_sec: if elapsed > 0.0 {
            requests as f64 / elapsed
        } else {
            0.0
        },
        latency_us: Latency {
            p50: h.percentile(50.0),
            p90: h.percentile(90.0),
            p99: h.percentile(99.0),
            max: h.max(),
            mean: h.mean(),
        },
        concurrency,
    })
}

/// One connection, one request at a time, until the deadline.
async fn worker(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<http1::SendRequest<Full<Bytes>>> = None;
    while Instant::now() < shared.end {
        let mut conn = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match connect(&shared.target.addr).await {
                Ok(s) => s,
                Err(err) => {
                    if Instant::now() >= shared.measure_from {
                        tally.errors += 1;
                        tally.last_error = Some(err);
                    }
                    let pause = (Instant::now() + RECONNECT_BACKOFF).min(shared.end);
                    tokio::time::sleep_until(pause).await;
                    continue;
                }
            },
        };
        let request = build_request(&shared);
        let started = Instant::now();
        let measured = started >= shared.measure_from;
        let deadline = (started + shared.config.timeout).min(shared.end);
        let outcome = tokio::time::timeout_at(deadline, send(&mut conn, request)).await;
        match outcome {
            Ok(Ok(status)) => {
                let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
                if measured {
                    tally.latency.record(micros);
                    *tally.statuses.entry(status).or_default() += 1;
                }
                sender = Some(conn);
            }
            Ok(Err(err)) => {
                if measured {
                    tally.errors += 1;
                    tally.last_error = Some(err);
                }
            }
            Err(_elapsed) if deadline == shared.end && Instant::now() >= shared.end => {
                if measured {
                    tally.abandoned += 1;
                }
            }
            Err(_elapsed) => {
                if measured {
                    tally.errors += 1;
                    tally.last_error = Some(format!("timed out after {:?}", shared.config.timeout));
                }
            }
        }
    }
    tally
}

/// One HTTP/1.1 connection to `addr`, its connection task spawned.
pub(crate) async fn connect<B>(addr: &str) -> Result<http1::SendRequest<B>, String>
where
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let stream = TcpStream::connect(addr)
        .await
        .map_err(|e| format!("connect {addr}: {e}"))?;
    // Small requests: do not let Nagle's algorithm add latency.
    stream
        .set_nodelay(true)
        .map_err(|e| format!("set_nodelay: {e}"))?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| format!("HTTP/1.1 handshake: {e}"))?;
    // The connection task ends when the sender is dropped or the server closes.
    tokio::spawn(connection);
    Ok(sender)
}

async fn send(
    conn: &mut http1::SendRequest<Full<Bytes>>,
    request: http::Request<Full<Bytes>>,
) -> Result<u16, String> {
    conn.ready()
        .await
        .map_err(|e| format!("connection not ready: {e}"))?;
    let response = conn
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    // Read the whole body so that the connection can carry the next request.
    response
        .into_body()
        .collect()
        .await
        .map_err(|e| format!("reading body: {e}"))?;
    Ok(status)
}

fn build_request(shared: &Shared) -> http::Request<Full<Bytes>> {
    let config = &shared.config;
    let n = shared.counter.fetch_add(1, Ordering::Relaxed);
    let body = config.body.render(n);
    let mut headers: Vec<(String, String)> = vec![("host".to_owned(), shared.target.host.clone())];
    let has_content_type = config
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-type"));
    if !body.is_empty() && !has_content_type {
        headers.push(("content-type".to_owned(), "application/json".to_owned()));
    }
    headers.extend(config.headers.iter().cloned());
    let params = SigningParams::new(
        &config.credentials,
        &config.region,
        &config.service,
        time::OffsetDateTime::now_utc(),
    );
    let added = sign_headers(
        &config.method,
        &config.path,
        &headers,
        &sha256_hex(body.as_bytes()),
        &params,
    );
    headers.extend(added);

    let mut builder = http::Request::builder()
        .method(config.method.as_str())
        .uri(config.path.as_str());
    for (name, value) in &headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    // `Config::validate` checked the method, the path and every user header, and the headers
    // added here are ASCII by construction, so the builder cannot fail.
    builder
        .body(Full::new(Bytes::from(body)))
        .expect("request parts validated by Config::validate")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly by design")]

    use super::*;

    fn config() -> Config {
        Config {
            endpoint: "http://127.0.0.1:4599".into(),
            service: "ivs".into(),
            region: "us-east-1".into(),
            method: "POST".into(),
            path: "/GetChannel".into(),
            body: BodyTemplate::parse("{}"),
            headers: vec![],
            concurrency: 1,
            duration: Duration::from_secs(1),
            warmup: Duration::ZERO,
            timeout: Duration::from_secs(1),
            credentials: Credentials::new("AKID", "secret"),
        }
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("10s"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("10"), Ok(Duration::from_secs(10)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        for bad in [
            "",
            "s",
            "1h",
            "-1s",
            "1.5s",
            "99999999999999999999s",
            "18446744073709551615m",
        ] {
            assert!(parse_duration(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn body_templates() {
        let t = BodyTemplate::parse(r#"{"name":"ch-{n}","id":"{uuid}","x":"{n}{"}"#);
        let body = t.render(42);
        assert!(body.starts_with(r#"{"name":"ch-42","id":""#), "{body}");
        assert!(body.ends_with(r#"","x":"42{"}"#), "{body}");
        let uuid = &body[r#"{"name":"ch-42","id":""#.len()..body.len() - r#"","x":"42{"}"#.len()];
        assert!(uuid::Uuid::parse_str(uuid).is_ok(), "{uuid}");
        assert_ne!(t.render(1), t.render(1), "each {{uuid}} is fresh");
        assert_eq!(BodyTemplate::parse("plain ü {x}").render(0), "plain ü {x}");
        assert!(BodyTemplate::parse("").is_empty());
    }

    #[test]
    fn config_bounds() {
        assert!(config().validate().is_ok());
        let cases: Vec<fn(&mut Config)> = vec![
            |c| c.duration = Duration::from_secs(601),
            |c| c.warmup = Duration::from_secs(600),
            |c| c.duration = Duration::ZERO,
            |c| c.concurrency = 0,
            |c| c.concurrency = MAX_CONCURRENCY + 1,
            |c| c.timeout = Duration::ZERO,
            |c| c.endpoint = "https://127.0.0.1:4599".into(),
            |c| c.endpoint = "127.0.0.1:4599".into(),
            |c| c.endpoint = "http://".into(),
            |c| c.endpoint = "http://h/x".into(),
            |c| c.path = "GetChannel".into(),
            |c| c.path = "/a b".into(),
            |c| c.method = "GE T".into(),
            |c| c.headers = vec![("bad name".into(), "v".into())],
        ];
        for (idx, edit) in cases.into_iter().enumerate() {
            let mut c = config();
            edit(&mut c);
            assert!(
                matches!(c.validate(), Err(LoadError::Config(_))),
                "case {idx}"
            );
        }
        let mut c = config();
        c.endpoint = "http://localhost/".into();
        let t = c.validate().unwrap();
        assert_eq!(
            (t.addr.as_str(), t.host.as_str()),
            ("localhost:80", "localhost")
        );
    }
}
