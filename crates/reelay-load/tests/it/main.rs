//! reelay-load against a tiny in-process hyper server that checks every request's SigV4
//! signature with reelay-sigv4.
#![allow(clippy::unwrap_used, reason = "tests fail loudly by design")]

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use reelay_load::{BodyTemplate, Config, LoadError, run};
use reelay_sigv4::{Credentials, RequestParts, SecretKey, parse, sha256_hex, verify};
use tokio::net::TcpListener;

const AKID: &str = "AKIDLOADTEST";
const SECRET: &str = "load-test-secret";

#[derive(Default)]
struct Seen {
    bodies: HashSet<String>,
    requests: u64,
    connections: u64,
}

/// 200 when the request is signed by `AKID`/`SECRET` for ivs/us-east-1 over its exact body,
/// 403 with the reason otherwise.
async fn handle(
    req: Request<hyper::body::Incoming>,
    seen: Arc<Mutex<Seen>>,
) -> Result<Response<Full<Bytes>>, hyper::Error> {
    let (head, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let headers: Vec<(String, String)> = head
        .headers
        .iter()
        .map(|(n, v)| {
            (
                n.as_str().to_owned(),
                v.to_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let parts = RequestParts {
        method: head.method.as_str(),
        raw_path: head.uri.path(),
        raw_query: head.uri.query().unwrap_or_default(),
        headers: &headers,
    };
    let now = i64::try_from(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let verdict = parse(&parts).and_then(|auth| {
        if auth.access_key_id != AKID
            || auth.scope.service != "ivs"
            || auth.scope.region != "us-east-1"
        {
            return Err(reelay_sigv4::AuthError::UnknownAccessKey);
        }
        verify(
            &parts,
            &auth,
            &SecretKey::from(SECRET),
            &sha256_hex(&body),
            now,
        )
    });
    let response = match verdict {
        Ok(()) => {
            let mut seen = seen.lock().unwrap();
            seen.requests += 1;
            seen.bodies
                .insert(String::from_utf8_lossy(&body).into_owned());
            Response::new(Full::new(Bytes::from_static(b"{}")))
        }
        Err(err) => {
            let mut res = Response::new(Full::new(Bytes::from(err.to_string())));
            *res.status_mut() = hyper::StatusCode::FORBIDDEN;
            res
        }
    };
    Ok(response)
}

/// Serves on 127.0.0.1 with an OS-assigned port until the test ends.
async fn start_server() -> (String, Arc<Mutex<Seen>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let seen_server = Arc::clone(&seen);
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            seen_server.lock().unwrap().connections += 1;
            let seen = Arc::clone(&seen_server);
            tokio::spawn(async move {
                let service = service_fn(move |req| handle(req, Arc::clone(&seen)));
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (endpoint, seen)
}

fn config(endpoint: String) -> Config {
    Config {
        endpoint,
        service: "ivs".into(),
        region: "us-east-1".into(),
        method: "POST".into(),
        path: "/CreateChannel".into(),
        body: BodyTemplate::parse(r#"{"name":"ch-{n}","requestId":"{uuid}"}"#),
        headers: vec![("x-extra".into(), "signed too".into())],
        concurrency: 4,
        duration: Duration::from_millis(1000),
        warmup: Duration::from_millis(100),
        timeout: Duration::from_secs(5),
        credentials: Credentials::new(AKID, SECRET),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn load_run_signs_every_request_and_reports() {
    let (endpoint, seen) = start_server().await;
    let report = run(config(endpoint)).await.unwrap();

    assert!(report.requests > 0, "{report:?}");
    assert_eq!(report.errors, 0, "{report:?}");
    assert!(report.non_2xx.is_empty(), "{report:?}");
    assert_eq!(report.ok, report.requests);
    let l = report.latency_us;
    assert!(
        l.p50 > 0 && l.p50 <= l.p90 && l.p90 <= l.p99 && l.p99 <= l.max,
        "{l:?}"
    );
    assert!(
        report.elapsed_secs > 0.9 && report.elapsed_secs < 1.5,
        "{report:?}"
    );
    assert!(report.requests_per_sec > 0.0);

    let seen = seen.lock().unwrap();
    // The server also answered the warm-up requests, so it saw at least as many as reported.
    assert!(
        seen.requests >= report.requests,
        "server {} < report {}",
        seen.requests,
        report.requests
    );
    // `{n}` and `{uuid}` make every body distinct.
    assert_eq!(seen.bodies.len() as u64, seen.requests);
    // Keep-alive: one connection per worker plus the start-up probe, not one per request.
    assert!(seen.connections <= 5, "{} connections", seen.connections);

    let json = serde_json::to_value(&report).unwrap();
    assert_eq!(json["requests"], report.requests);
    assert!(json["latency_us"]["p99"].is_u64());
    assert!(report.table().contains("p50"));
}

#[tokio::test]
async fn wrong_secret_shows_up_as_403() {
    let (endpoint, _seen) = start_server().await;
    let mut config = config(endpoint);
    config.credentials = Credentials::new(AKID, "not-the-secret");
    config.concurrency = 1;
    config.duration = Duration::from_millis(200);
    config.warmup = Duration::ZERO;
    let report = run(config).await.unwrap();
    assert!(report.requests > 0);
    assert_eq!(report.ok, 0);
    assert_eq!(report.non_2xx.get(&403), Some(&report.requests));
}

#[tokio::test]
async fn refused_connection_is_an_error() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let res = run(config(endpoint)).await;
    assert!(matches!(res, Err(LoadError::Connect { .. })), "{res:?}");
}

#[tokio::test]
async fn over_long_duration_is_refused() {
    let mut config = config("http://127.0.0.1:9".into());
    config.duration = Duration::from_secs(601);
    config.warmup = Duration::ZERO;
    assert!(matches!(run(config).await, Err(LoadError::Config(_))));
}
