//! Routing and restJson decoding of arbitrary requests must never panic.
//!
//! The first byte picks a service model, the first line is `METHOD PATH?QUERY`, the rest is the
//! body: the router and the model-driven decoder/validator see hostile paths, labels, query
//! strings and JSON.
#![no_main]

use libfuzzer_sys::fuzz_target;
use reelay_aws::codec::{RequestParts, decode_input};
use reelay_aws::router::Router;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else { return };
    let models = reelay_aws::generated::ALL;
    let model = models[usize::from(pick) % models.len()];
    let split = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
    let line = String::from_utf8_lossy(&rest[..split]);
    let body = rest.get(split + 1..).unwrap_or_default();
    let (method, target) = line.split_once(' ').unwrap_or(("POST", &line));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let router = Router::new(&[model]);
    let headers = http::HeaderMap::new();
    if let Ok(m) = router.route(None, method, path) {
        let labels: Vec<(&str, &str)> = m.labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let _ = decode_input(model, &model.operations[m.op], &labels, RequestParts { raw_query: query, headers: &headers }, body);
    }
    // Every operation's decoder also sees the raw body directly.
    for op in model.operations {
        let _ = decode_input(model, op, &[], RequestParts { raw_query: query, headers: &headers }, body);
    }
});
