//! `reelay-load fetch`: GET every URL of a list exactly once over N keep-alive connections,
//! discarding the bodies, and report bytes and wall time.
//!
//! This is the client side of the VOD packaging benchmark: it has to cost the machine as little
//! as possible (one process, no per-request process or file, bodies counted and dropped frame
//! by frame), and it has to prove that every byte was produced, so each response's body length
//! is compared with its `Content-Length` and the sums are reported.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use serde::Serialize;
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::{LoadError, MAX_CONCURRENCY};

/// The most URLs one run fetches.
pub const MAX_URLS: usize = 1_000_000;

/// What to fetch and how.
#[derive(Clone, Debug)]
pub struct FetchConfig {
    /// `http://host:port`.
    pub endpoint: String,
    /// Origin-form request targets (`/path?query`), each fetched once, in list order as far as
    /// the connections allow.
    pub paths: Vec<String>,
    /// Number of connections, each with one request in flight.
    pub concurrency: usize,
    /// Per-request timeout (sending to the end of the body).
    pub timeout: Duration,
}

/// The outcome of a fetch run.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FetchReport {
    /// URLs in the list.
    pub urls: usize,
    /// Responses with a 2xx status.
    pub ok: u64,
    /// Responses with another status, by status code.
    pub non_2xx: BTreeMap<u16, u64>,
    /// Requests that got no complete response.
    pub errors: u64,
    /// The last error seen.
    pub last_error: Option<String>,
    /// Body bytes received, all responses.
    pub bytes: u64,
    /// Sum of the `Content-Length` headers of the responses.
    pub content_length_sum: u64,
    /// Responses whose body length differs from their `Content-Length` (or that had none).
    pub length_mismatches: u64,
    /// Wall time from the first request to the last body byte, in seconds.
    pub elapsed_secs: f64,
    /// `bytes / elapsed_secs / 1e6`.
    pub mb_per_sec: f64,
    /// Connections used.
    pub concurrency: usize,
}

impl FetchReport {
    /// Whether every URL answered 2xx with exactly its announced length.
    pub fn complete(&self) -> bool {
        self.ok == self.urls as u64
            && self.errors == 0
            && self.length_mismatches == 0
            && self.bytes == self.content_length_sum
    }

    /// A short human-readable table.
    pub fn table(&self) -> String {
        let mut out = format!(
            "urls        {} in {:.3} s ({:.1} MB/s, concurrency {})\n2xx         {}\nbytes       {} (Content-Length sum {}, mismatches {})\nerrors      {}\n",
            self.urls,
            self.elapsed_secs,
            self.mb_per_sec,
            self.concurrency,
            self.ok,
            self.bytes,
            self.content_length_sum,
            self.length_mismatches,
            self.errors
        );
        if !self.non_2xx.is_empty() {
            let statuses: Vec<String> = self
                .non_2xx
                .iter()
                .map(|(s, n)| format!("{s}: {n}"))
                .collect();
            out.push_str(&format!("non-2xx     {}\n", statuses.join(", ")));
        }
        if let Some(err) = &self.last_error {
            out.push_str(&format!("last error  {err}\n"));
        }
        out
    }
}

/// Turns the lines of a URL list into request targets: blank lines are skipped, full URLs must
/// name `endpoint`'s origin, other lines must be origin-form targets.
pub fn parse_list(endpoint: &str, text: &str) -> Result<Vec<String>, LoadError> {
    let origin = endpoint.strip_suffix('/').unwrap_or(endpoint);
    let mut paths = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if paths.len() >= MAX_URLS {
            return Err(LoadError::Config(format!(
                "the list holds more than {MAX_URLS} URLs"
            )));
        }
        let path = match line.strip_prefix(origin) {
            Some(rest) if rest.starts_with('/') => rest,
            _ if line.starts_with('/') => line,
            _ => {
                return Err(LoadError::Config(format!(
                    "line {}: '{line}' is neither a path nor a URL under {origin}",
                    n + 1
                )));
            }
        };
        if http::uri::PathAndQuery::try_from(path).is_err() {
            return Err(LoadError::Config(format!(
                "line {}: '{path}' is not a valid request target",
                n + 1
            )));
        }
        paths.push(path.to_owned());
    }
    Ok(paths)
}

/// Per-connection tallies.
#[derive(Default)]
struct Tally {
    ok: u64,
    statuses: BTreeMap<u16, u64>,
    errors: u64,
    last_error: Option<String>,
    bytes: u64,
    content_length_sum: u64,
    mismatches: u64,
}

struct Shared {
    config: FetchConfig,
    addr: String,
    host: String,
    next: AtomicUsize,
}

/// Fetches every path once and reports. Fails only on an invalid configuration or when the
/// endpoint refuses the first connection.
pub async fn fetch_list(config: FetchConfig) -> Result<FetchReport, LoadError> {
    if config.concurrency == 0 || config.concurrency > MAX_CONCURRENCY {
        return Err(LoadError::Config(format!(
            "concurrency must be between 1 and {MAX_CONCURRENCY}"
        )));
    }
    if config.timeout.is_zero() {
        return Err(LoadError::Config("timeout must be positive".into()));
    }
    let target = crate::parse_endpoint(&config.endpoint)?;
    TcpStream::connect(&target.addr)
        .await
        .map_err(|source| LoadError::Connect {
            endpoint: config.endpoint.clone(),
            source,
        })?;
    let urls = config.paths.len();
    let concurrency = config.concurrency.min(urls.max(1));
    let shared = Arc::new(Shared {
        config,
        addr: target.addr,
        host: target.host,
        next: AtomicUsize::new(0),
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..concurrency)
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();
    let mut report = FetchReport {
        urls,
        concurrency,
        ..Default::default()
    };
    for handle in workers {
        match handle.await {
            Ok(t) => {
                report.ok += t.ok;
                for (s, n) in t.statuses {
                    *report.non_2xx.entry(s).or_default() += n;
                }
                report.errors += t.errors;
                report.bytes += t.bytes;
                report.content_length_sum += t.content_length_sum;
                report.length_mismatches += t.mismatches;
                if t.last_error.is_some() {
                    report.last_error = t.last_error;
                }
            }
            Err(join) => {
                report.errors += 1;
                report.last_error = Some(format!("worker failed: {join}"));
            }
        }
    }
    report.elapsed_secs = started.elapsed().as_secs_f64();
    if report.elapsed_secs > 0.0 {
        report.mb_per_sec = report.bytes as f64 / report.elapsed_secs / 1e6;
    }
    Ok(report)
}

async fn worker(shared: Arc<Shared>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<http1::SendRequest<Empty<Bytes>>> = None;
    loop {
        let i = shared.next.fetch_add(1, Ordering::Relaxed);
        let Some(path) = shared.config.paths.get(i) else {
            break;
        };
        let mut conn = match sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => match crate::connect(&shared.addr).await {
                Ok(s) => s,
                Err(e) => {
                    tally.errors += 1;
                    tally.last_error = Some(e);
                    continue;
                }
            },
        };
        let outcome =
            tokio::time::timeout(shared.config.timeout, get(&mut conn, &shared.host, path)).await;
        match outcome {
            Ok(Ok(got)) => {
                if (200..300).contains(&got.status) {
                    tally.ok += 1;
                } else {
                    *tally.statuses.entry(got.status).or_default() += 1;
                }
                tally.bytes += got.body_len;
                tally.content_length_sum += got.content_length.unwrap_or(0);
                if got.content_length != Some(got.body_len) {
                    tally.mismatches += 1;
                }
                sender = Some(conn);
            }
            Ok(Err(e)) => {
                tally.errors += 1;
                tally.last_error = Some(format!("{path}: {e}"));
            }
            Err(_) => {
                tally.errors += 1;
                tally.last_error = Some(format!(
                    "{path}: timed out after {:?}",
                    shared.config.timeout
                ));
            }
        }
    }
    tally
}

struct Got {
    status: u16,
    content_length: Option<u64>,
    body_len: u64,
}

async fn get(
    conn: &mut http1::SendRequest<Empty<Bytes>>,
    host: &str,
    path: &str,
) -> Result<Got, String> {
    conn.ready()
        .await
        .map_err(|e| format!("connection not ready: {e}"))?;
    let request = http::Request::get(path)
        .header(http::header::HOST, host)
        .body(Empty::new())
        .map_err(|e| format!("request: {e}"))?;
    let response = conn
        .send_request(request)
        .await
        .map_err(|e| format!("request failed: {e}"))?;
    let status = response.status().as_u16();
    let content_length = response
        .headers()
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let mut body = response.into_body();
    let mut body_len = 0u64;
    // Count and drop each frame: nothing is kept or copied.
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| format!("reading body: {e}"))?;
        if let Some(data) = frame.data_ref() {
            body_len += data.len() as u64;
        }
    }
    Ok(Got {
        status,
        content_length,
        body_len,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "tests fail loudly by design")]

    use super::*;
    use http_body_util::Full;
    use hyper::service::service_fn;

    #[test]
    fn lists() {
        let e = "http://127.0.0.1:9";
        let got = parse_list(e, "http://127.0.0.1:9/a/b.ts\n\n  /c?x=1 \n").unwrap();
        assert_eq!(got, ["/a/b.ts", "/c?x=1"]);
        assert!(parse_list(e, "http://other:9/a").is_err());
        assert!(parse_list(e, "http://127.0.0.1:90/a").is_err());
        assert!(parse_list(e, "a/b").is_err());
        assert!(parse_list(e, "/a b").is_err());
    }

    /// A server answering `/n/<len>` with `len` bytes and anything else with 404.
    async fn server() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let (stream, _) = listener.accept().await.unwrap();
                tokio::spawn(async move {
                    let svc = service_fn(|req: http::Request<hyper::body::Incoming>| async move {
                        let path = req.uri().path().to_owned();
                        let resp = if let Some(n) = path.strip_prefix("/n/") {
                            let n: usize = n.parse().unwrap();
                            http::Response::new(Full::new(Bytes::from(vec![7u8; n])))
                        } else {
                            let mut r = http::Response::new(Full::new(Bytes::from_static(b"no")));
                            *r.status_mut() = http::StatusCode::NOT_FOUND;
                            r
                        };
                        Ok::<_, std::convert::Infallible>(resp)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    #[tokio::test]
    async fn fetches_every_url_once_and_counts_bytes() {
        let endpoint = server().await;
        let paths: Vec<String> = (0..50).map(|i| format!("/n/{}", i * 1000)).collect();
        let report = fetch_list(FetchConfig {
            endpoint: endpoint.clone(),
            paths,
            concurrency: 4,
            timeout: Duration::from_secs(10),
        })
        .await
        .unwrap();
        assert_eq!(report.ok, 50);
        assert_eq!(report.bytes, (0..50).map(|i| i * 1000).sum::<u64>());
        assert_eq!(report.bytes, report.content_length_sum);
        assert!(report.complete(), "{}", report.table());

        let report = fetch_list(FetchConfig {
            endpoint,
            paths: vec!["/n/10".into(), "/missing".into()],
            concurrency: 8,
            timeout: Duration::from_secs(10),
        })
        .await
        .unwrap();
        assert_eq!(report.ok, 1);
        assert_eq!(report.non_2xx.get(&404), Some(&1));
        assert_eq!(report.concurrency, 2);
        assert!(!report.complete());
    }
}
