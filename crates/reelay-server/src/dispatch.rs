//! Request dispatch: authentication, routing, body limits, decoding, the handler call (with
//! panic isolation) and encoding, for every AWS API request; plus the test-support endpoints.

use crate::auth;
use crate::server::AppState;
use axum::body::Body;
use axum::extract::State;
use bytes::Bytes;
use futures::FutureExt;
use http::{Request, Response, StatusCode};
use http_body_util::BodyExt;
use reelay_aws::codec::{RequestParts, decode_input, encode_output};
use reelay_aws::router::RouteError;
use reelay_aws::{ApiError, Output, RequestContext, ServiceId};
use serde_json::json;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

fn into_body(r: Response<Bytes>) -> Response<Body> {
    r.map(Body::from)
}

fn error_response(err: &ApiError, service: Option<ServiceId>, request_id: &str) -> Response<Body> {
    into_body(err.to_response(service, request_id))
}

/// The service whose error format an unroutable request gets: the first model signing under
/// the request's signing name.
fn service_for_signing_name(name: Option<&str>) -> Option<ServiceId> {
    let name = name?;
    reelay_aws::generated::ALL
        .iter()
        .find(|m| m.signing_name == name)
        .map(|m| m.id)
}

fn header_pairs(headers: &http::HeaderMap) -> Vec<(String, String)> {
    headers
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

fn auth_error(
    e: &reelay_sigv4::AuthError,
    service: Option<ServiceId>,
    request_id: &str,
) -> Response<Body> {
    let err = ApiError::custom(e.aws_code(), e.http_status(), e.to_string());
    error_response(&err, service, request_id)
}

/// Every request that is not a reelay endpoint: an AWS API call.
pub async fn aws(State(state): State<Arc<AppState>>, req: Request<Body>) -> Response<Body> {
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = req.into_parts();
    let raw_path = parts.uri.path().to_string();
    let raw_query = parts.uri.query().unwrap_or("").to_string();
    let headers = header_pairs(&parts.headers);
    let method = parts.method.clone();
    let sig_parts = reelay_sigv4::RequestParts {
        method: method.as_str(),
        raw_path: &raw_path,
        raw_query: &raw_query,
        headers: &headers,
    };

    let caller = match auth::identify(&state.config.auth, &sig_parts) {
        Ok(c) => c,
        Err(e) => {
            tracing::info!(%request_id, error = %e, "authentication failed");
            let claims_s3 = headers.iter().any(|(k, v)| {
                (k.eq_ignore_ascii_case("authorization") && v.contains("/s3/aws4_request"))
                    || k.eq_ignore_ascii_case("x-amz-content-sha256")
            }) || raw_query.contains("%2Fs3%2Faws4_request");
            if claims_s3 {
                return s3_error(e.s3_code(), e.s3_status(), &e.to_string(), &request_id);
            }
            let guess = state
                .router
                .route(None, parts.method.as_str(), &raw_path)
                .ok()
                .map(|m| m.model.id);
            return auth_error(&e, guess, &request_id);
        }
    };
    if caller.signing_name.as_deref() == Some("s3") {
        return s3(
            &state,
            caller,
            request_id,
            &sig_parts,
            Request::from_parts(parts, body),
        )
        .await;
    }
    let signing_name = caller.signing_name.as_deref();
    let matched = match state
        .router
        .route(signing_name, parts.method.as_str(), &raw_path)
    {
        Ok(m) => m,
        // KVS PutMedia is in no botocore model (AWS ships it only in its Java SDK and the
        // producer SDKs) but it is a real KVS data-plane API: it is routed, and answers 501
        // until the media plane serves it.
        Err(RouteError::NotFound)
            if parts.method == http::Method::POST
                && raw_path == "/putMedia"
                && signing_name.is_none_or(|s| s == "kinesisvideo") =>
        {
            let err = ApiError::not_implemented("kinesis-video-media", "PutMedia");
            return error_response(&err, Some(ServiceId::KinesisVideoMedia), &request_id);
        }
        Err(RouteError::NotFound) => {
            let err = ApiError::unknown_operation(format!(
                "no operation of {} matches {} {}",
                signing_name.unwrap_or("any service"),
                parts.method,
                raw_path
            ));
            return error_response(&err, service_for_signing_name(signing_name), &request_id);
        }
        Err(RouteError::MethodNotAllowed(allowed)) => {
            let err = ApiError::custom(
                "MethodNotAllowedException",
                405,
                format!(
                    "{} is not allowed on {raw_path}; allowed: {}",
                    parts.method,
                    allowed.join(", ")
                ),
            );
            let mut r = error_response(&err, service_for_signing_name(signing_name), &request_id);
            if let Ok(v) = http::HeaderValue::from_str(&allowed.join(", ")) {
                r.headers_mut().insert(http::header::ALLOW, v);
            }
            return r;
        }
    };
    let model = matched.model;
    let op = &model.operations[matched.op];
    let span = tracing::info_span!("aws", %request_id, service = model.botocore_name, op = op.name);
    let _enter = span.enter();

    // Refuse oversize bodies before reading them.
    let limit = state.config.max_body_bytes;
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit) {
        return error_response(&ApiError::too_large(limit), Some(model.id), &request_id);
    }
    let body =
        match http_body_util::Limited::new(body, usize::try_from(limit).unwrap_or(usize::MAX))
            .collect()
            .await
        {
            Ok(b) => b.to_bytes(),
            Err(e)
                if e.downcast_ref::<http_body_util::LengthLimitError>()
                    .is_some() =>
            {
                return error_response(&ApiError::too_large(limit), Some(model.id), &request_id);
            }
            Err(e) => {
                let err = ApiError::serialization(format!("could not read the request body: {e}"));
                return error_response(&err, Some(model.id), &request_id);
            }
        };

    let now = time::OffsetDateTime::now_utc();
    let payload_hash = reelay_sigv4::sha256_hex(&body);
    if let Err(e) = auth::verify(
        &state.config.auth,
        &caller,
        &sig_parts,
        &payload_hash,
        now.unix_timestamp(),
    ) {
        tracing::info!(error = %e, "signature rejected");
        return auth_error(&e, Some(model.id), &request_id);
    }

    let labels: Vec<(&str, &str)> = matched
        .labels
        .iter()
        .map(|(k, v)| (*k, v.as_str()))
        .collect();
    let input = match decode_input(
        model,
        op,
        &labels,
        RequestParts {
            raw_query: &raw_query,
            headers: &parts.headers,
        },
        &body,
    ) {
        Ok(v) => v,
        Err(e) => return error_response(&e, Some(model.id), &request_id),
    };
    let ctx = RequestContext {
        account: caller.account,
        region: caller.region,
        request_id: request_id.clone(),
        public_url: state.public_url.clone(),
        now,
    };
    let Some(service) = state.services.get(&model.id).cloned() else {
        return error_response(
            &ApiError::not_implemented(model.botocore_name, op.name),
            Some(model.id),
            &request_id,
        );
    };
    let result = AssertUnwindSafe(service.call(&ctx, matched.op, input))
        .catch_unwind()
        .await;
    let output = match result {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => {
            if e.status >= 500 && e.status != 501 {
                tracing::error!(error = %e, "handler failed");
            }
            return error_response(&e, Some(model.id), &request_id);
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_default();
            tracing::error!(panic = %what, "handler panicked");
            let err = ApiError::internal(
                model.id,
                "an internal error occurred; the request was not completed",
            );
            return error_response(&err, Some(model.id), &request_id);
        }
    };
    match output {
        Output::Json(v) => {
            let enc = encode_output(model, op, &v);
            let mut b = Response::builder()
                .status(enc.status)
                .header("x-amzn-requestid", &request_id);
            if let Some(ct) = enc.content_type {
                b = b.header(http::header::CONTENT_TYPE, ct);
            }
            for (k, v) in enc.headers {
                b = b.header(k, v);
            }
            b.body(Body::from(enc.body)).unwrap_or_else(|e| {
                error_response(
                    &ApiError::internal(model.id, format!("bad response header: {e}")),
                    Some(model.id),
                    &request_id,
                )
            })
        }
        Output::Stream {
            content_type,
            headers,
            body,
        } => {
            let mut b = Response::builder()
                .status(op.success_code)
                .header("x-amzn-requestid", &request_id)
                .header(http::header::CONTENT_TYPE, content_type);
            for (k, v) in headers {
                b = b.header(k, v);
            }
            b.body(Body::new(body)).unwrap_or_else(|e| {
                error_response(
                    &ApiError::internal(model.id, format!("bad response header: {e}")),
                    Some(model.id),
                    &request_id,
                )
            })
        }
    }
}

/// S3's error document, for failures decided before the S3 layer runs (authentication).
fn s3_error(code: &str, status: u16, message: &str, request_id: &str) -> Response<Body> {
    fn esc(s: &str) -> String {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    }
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{}</Code><Message>{}</Message><RequestId>{}</RequestId></Error>",
        esc(code),
        esc(message),
        esc(request_id)
    );
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/xml")
        .header("x-amz-request-id", request_id)
        .body(Body::from(xml))
        .unwrap_or_default()
}

/// A request signed for `s3`: verify (strict mode) and hand it to the S3 endpoint.
async fn s3(
    state: &AppState,
    caller: auth::Caller,
    request_id: String,
    sig_parts: &reelay_sigv4::RequestParts<'_>,
    req: Request<Body>,
) -> Response<Body> {
    let mut ctx = reelay_s3::S3Context {
        account: caller.account.clone(),
        region: caller.region.clone(),
        request_id: request_id.clone(),
        base_host: state.deps.endpoints.public_host().to_string().into(),
        chunk_verifier: None,
        expected_sha256: None,
    };
    if let Some(v2) = &caller.s3_v2 {
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(e) = auth::verify_s3_v2(
            &state.config.auth,
            v2,
            sig_parts.method,
            sig_parts.raw_path,
            sig_parts.raw_query,
            sig_parts.headers,
            now,
        ) {
            return s3_error(e.s3_code(), e.s3_status(), &e.to_string(), &request_id);
        }
    } else if let (crate::config::AuthMode::Strict(creds), Some(a)) =
        (&state.config.auth, &caller.auth)
    {
        // S3 signs the payload hash the client declares: a hex digest (checked against the body
        // by the S3 layer), UNSIGNED-PAYLOAD, or a STREAMING-* chunk-signed body.
        let payload_hash = match a.location {
            reelay_sigv4::AuthLocation::Query => {
                reelay_sigv4::presigned_payload_hash("s3").to_string()
            }
            reelay_sigv4::AuthLocation::Header => match &a.content_sha256 {
                Some(h) => h.clone(),
                None => {
                    return s3_error(
                        "InvalidRequest",
                        400,
                        "Missing required header for this request: x-amz-content-sha256",
                        &request_id,
                    );
                }
            },
        };
        let now = time::OffsetDateTime::now_utc().unix_timestamp();
        if let Err(e) = auth::verify(&state.config.auth, &caller, sig_parts, &payload_hash, now) {
            return s3_error(e.s3_code(), e.s3_status(), &e.to_string(), &request_id);
        }
        if payload_hash.len() == 64 && payload_hash.bytes().all(|b| b.is_ascii_hexdigit()) {
            ctx.expected_sha256 = Some(payload_hash.to_ascii_lowercase());
        } else if payload_hash.starts_with("STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
            && let Some(cred) = creds.iter().find(|c| c.access_key_id == a.access_key_id)
        {
            let key = reelay_sigv4::signing_key(
                &cred.secret,
                &a.scope.date,
                &a.scope.region,
                &a.scope.service,
            );
            ctx.chunk_verifier = Some(reelay_s3::ChunkVerifier {
                signing_key: reelay_s3::SigningKey::new(key),
                seed_signature: a.signature.clone(),
                scope: a.scope.to_string(),
                amz_date: a.amz_date.clone(),
            });
        }
    }
    state.s3.handle(ctx, req).await
}

/// `GET /_reelay/health`: version, uptime and per-service operation coverage.
pub async fn health(State(state): State<Arc<AppState>>) -> Response<Body> {
    let mut services = Vec::new();
    for m in reelay_aws::generated::ALL {
        let implemented: Vec<&str> = match state.services.get(&m.id) {
            Some(s) => m
                .operations
                .iter()
                .enumerate()
                .filter(|(i, _)| s.implements(*i))
                .map(|(_, o)| o.name)
                .collect(),
            None => Vec::new(),
        };
        services.push(json!({
            "service": m.botocore_name,
            "operations": m.operations.len(),
            "implemented": implemented,
        }));
    }
    let body = json!({
        "status": "ok",
        "version": env!("CARGO_PKG_VERSION"),
        "uptimeSeconds": state.started.elapsed().as_secs_f64(),
        "services": services,
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// `POST /_reelay/reset` and `POST /moto-api/reset`: wipe all state.
pub async fn reset(State(state): State<Arc<AppState>>) -> Response<Body> {
    for s in state.services.values() {
        s.reset().await;
    }
    if let Err(e) = state.deps.store.reset().await {
        tracing::error!(error = %e, "resetting the metadata store failed");
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": "error", "message": e.to_string()}),
        );
    }
    if let Err(e) = state.deps.blob.reset().await {
        tracing::error!(error = %e, "resetting the object store failed");
        return json_response(
            StatusCode::INTERNAL_SERVER_ERROR,
            json!({"status": "error", "message": e.to_string()}),
        );
    }
    state.deps.clock.reset();
    tracing::info!("state reset");
    json_response(StatusCode::OK, json!({"status": "ok"}))
}

fn json_response(status: StatusCode, body: serde_json::Value) -> Response<Body> {
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// `POST /_reelay/clock` with `{"advanceSeconds": N}`: move reelay's clock forward, so tests
/// can see time-driven state changes (idle timeouts, expiries) without waiting.
pub async fn clock(State(state): State<Arc<AppState>>, body: Bytes) -> Response<Body> {
    let secs = serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("advanceSeconds").and_then(serde_json::Value::as_f64))
        .filter(|s| s.is_finite() && s.abs() < 1e9);
    let Some(secs) = secs else {
        return json_response(
            StatusCode::BAD_REQUEST,
            json!({"message": "expected {\"advanceSeconds\": <number>}"}),
        );
    };
    state.deps.clock.advance_ms((secs * 1000.0) as i64);
    json_response(
        StatusCode::OK,
        json!({"now": state.deps.clock.now().unix_timestamp()}),
    )
}
