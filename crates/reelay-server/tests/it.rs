//! Black-box tests of the server in-process: panic isolation, graceful shutdown.
#![allow(clippy::unwrap_used)] // Test helpers may unwrap: a failing unwrap is a failing test.

use reelay_aws::{ApiError, Output, RequestContext, Service, ServiceModel};
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// An ivs handler set whose GetChannel panics, as a handler bug would.
struct Panicky;

#[async_trait::async_trait]
impl Service for Panicky {
    fn model(&self) -> &'static ServiceModel {
        &reelay_aws::generated::ivs::MODEL
    }
    fn implements(&self, _op: usize) -> bool {
        true
    }
    async fn call(
        &self,
        _ctx: &RequestContext,
        op: usize,
        _input: serde_json::Value,
    ) -> Result<Output, ApiError> {
        if self.model().operations[op].name == "GetChannel" {
            panic!("handler bug on purpose");
        }
        Ok(Output::json(&serde_json::json!({"channels": []}))?)
    }
}

async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, String) {
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    let status = out.split_whitespace().nth(1).unwrap().parse().unwrap();
    (status, out)
}

#[tokio::test]
async fn a_handler_panic_is_a_500_and_the_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let running = reelay_server::start_with_services(
        reelay_server::Config::for_tests(dir.path().into()),
        vec![Arc::new(Panicky)],
    )
    .await
    .unwrap();
    let arn = r#"{"arn":"arn:aws:ivs:us-east-1:123456789012:channel/AbCd1234"}"#;
    for _ in 0..3 {
        let (status, text) = post(running.addr, "/GetChannel", arn).await;
        assert_eq!(status, 500);
        assert!(
            text.to_ascii_lowercase()
                .contains("x-amzn-errortype: internalserverexception"),
            "{text}"
        );
        assert!(text.contains("exceptionMessage"), "{text}");
    }
    let (status, text) = post(running.addr, "/ListChannels", "{}").await;
    assert_eq!(status, 200, "{text}");
    running.shutdown().await.unwrap();
}
