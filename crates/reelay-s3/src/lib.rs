//! The S3 REST API of reelay, over [`reelay_blob::BlobStore`].
//!
//! The server authenticates a request, decides it is for S3 (SigV4 scope service `s3`), builds
//! an [`S3Context`] and calls [`S3Service::handle`]. This crate then:
//!
//! 1. resolves the bucket and key (path style or virtual-host style),
//! 2. identifies the operation from method and subresource query parameters; unimplemented S3
//!    operations answer `501 NotImplemented`,
//! 3. decodes the body as a verified stream (`aws-chunked` framing, chunk signatures, trailer
//!    and header checksums, `x-amz-content-sha256`, `Content-MD5`) without buffering it,
//! 4. maps every failure to the S3 XML error document with its S3 status.
//!
//! **Architecture Invariant:** nothing here touches storage paths; the blob layer owns them.

mod body;
mod checksum;
mod chunked;
mod error;
mod headers;
mod ops;
mod router;
mod signing;
mod xml;

use std::sync::Arc;

use axum::body::Body;
use http::{HeaderValue, Method, Request, Response, StatusCode};
use reelay_blob::BlobStore;

pub use error::S3Error;
pub use signing::{ChunkVerifier, SigningKey};

use crate::error::S3Result;
use crate::router::{Op, Query, Target};

/// Per-request facts established by the server before calling [`S3Service::handle`].
#[derive(Debug, Clone)]
pub struct S3Context {
    /// The authenticated account id; buckets belong to accounts.
    pub account: String,
    /// Region from the credential scope; new buckets default to it.
    pub region: String,
    /// Request id, echoed in `x-amz-request-id` and error documents.
    pub request_id: String,
    /// Host (and port) of the public URL, e.g. `localhost:4599`. A `Host` of the form
    /// `<bucket>.<base_host>` (or `<bucket>.s3.<anything>`) selects virtual-host style.
    pub base_host: Option<String>,
    /// In strict authentication mode, for `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` bodies: what is
    /// needed to verify each chunk signature.
    pub chunk_verifier: Option<ChunkVerifier>,
    /// In strict mode, the signed `x-amz-content-sha256` value; a non-streaming body must hash
    /// to it or the request fails with `XAmzContentSHA256Mismatch` and nothing is stored.
    pub expected_sha256: Option<String>,
}

/// The S3 endpoint.
#[derive(Debug, Clone)]
pub struct S3Service {
    blob: Arc<BlobStore>,
}

/// What every operation handler gets.
pub(crate) struct Req<'a> {
    pub ctx: &'a S3Context,
    pub headers: &'a http::HeaderMap,
    pub query: &'a Query,
    pub target: &'a Target,
    pub host: Option<&'a str>,
}

impl Req<'_> {
    /// The bucket; routing guarantees one for bucket and object operations.
    pub(crate) fn bucket(&self) -> S3Result<&str> {
        self.target
            .bucket
            .as_deref()
            .ok_or_else(S3Error::method_not_allowed)
    }

    /// The key; routing guarantees one for object operations.
    pub(crate) fn key(&self) -> S3Result<&str> {
        self.target
            .key
            .as_deref()
            .ok_or_else(S3Error::method_not_allowed)
    }
}

impl S3Service {
    /// A service over `blob`.
    pub fn new(blob: Arc<BlobStore>) -> Self {
        S3Service { blob }
    }

    /// The blob store behind the service.
    pub fn blob(&self) -> &Arc<BlobStore> {
        &self.blob
    }

    /// Handles one authenticated S3 request. Never fails: errors become S3 error responses.
    pub async fn handle(&self, ctx: S3Context, req: Request<Body>) -> Response<Body> {
        let (parts, body) = req.into_parts();
        let resource = parts.uri.path().to_owned();
        let is_head = parts.method == Method::HEAD;
        let mut response = match self.dispatch(&ctx, &parts, body).await {
            Ok(r) => r,
            Err(e) => error_response(&e, &resource, &ctx.request_id, is_head),
        };
        if let Ok(v) = HeaderValue::from_str(&ctx.request_id) {
            response.headers_mut().insert("x-amz-request-id", v.clone());
            response.headers_mut().insert("x-amz-id-2", v);
        }
        response
    }

    async fn dispatch(
        &self,
        ctx: &S3Context,
        parts: &http::request::Parts,
        body: Body,
    ) -> S3Result<Response<Body>> {
        let host = parts
            .headers
            .get(http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .or_else(|| parts.uri.authority().map(|a| a.as_str()));
        let target = router::target(host, ctx.base_host.as_deref(), parts.uri.path())?;
        let query = Query::parse(parts.uri.query())?;
        let op = router::route(&parts.method, &target, &query, &parts.headers);
        tracing::debug!(?op, bucket = ?target.bucket, key = ?target.key, "s3 request");
        let req = Req {
            ctx,
            headers: &parts.headers,
            query: &query,
            target: &target,
            host,
        };
        let blob = self.blob.as_ref();
        match op {
            Op::ListBuckets => ops::bucket::list_buckets(blob, &req).await,
            Op::CreateBucket => ops::bucket::create_bucket(blob, &req, body).await,
            Op::HeadBucket => ops::bucket::head_bucket(blob, &req).await,
            Op::DeleteBucket => ops::bucket::delete_bucket(blob, &req).await,
            Op::GetBucketLocation => ops::bucket::get_bucket_location(blob, &req).await,
            Op::GetBucketVersioning => ops::bucket::get_bucket_versioning(blob, &req).await,
            Op::ListObjects => ops::list::list_objects(blob, &req, false).await,
            Op::ListObjectsV2 => ops::list::list_objects(blob, &req, true).await,
            Op::ListMultipartUploads => ops::multipart::list_uploads(blob, &req).await,
            Op::DeleteObjects => ops::object::delete_objects(blob, &req, body).await,
            Op::PutObject => ops::object::put_object(blob, &req, body).await,
            Op::CopyObject => ops::object::copy_object(blob, &req).await,
            Op::GetObject => ops::object::get_object(blob, &req).await,
            Op::HeadObject => ops::object::head_object(blob, &req).await,
            Op::DeleteObject => ops::object::delete_object(blob, &req).await,
            Op::CreateMultipartUpload => ops::multipart::create(blob, &req).await,
            Op::UploadPart => ops::multipart::upload_part(blob, &req, body).await,
            Op::UploadPartCopy => ops::multipart::upload_part_copy(blob, &req).await,
            Op::CompleteMultipartUpload => ops::multipart::complete(blob, &req, body).await,
            Op::AbortMultipartUpload => ops::multipart::abort(blob, &req).await,
            Op::ListParts => ops::multipart::list_parts(blob, &req).await,
            Op::NotImplemented(what) => Err(S3Error::not_implemented(&what)),
            Op::MethodNotAllowed => Err(S3Error::method_not_allowed()),
        }
    }
}

/// Renders an error; HEAD responses carry no body (RFC 9110 §9.3.2).
fn error_response(e: &S3Error, resource: &str, request_id: &str, is_head: bool) -> Response<Body> {
    if e.status.is_server_error() {
        tracing::warn!(code = e.code, "s3 request failed: {}", e.message);
    } else {
        tracing::debug!(code = e.code, "s3 request rejected: {}", e.message);
    }
    let mut builder = Response::builder().status(e.status);
    for (name, value) in e.header_values() {
        builder = builder.header(name, value);
    }
    let body = if is_head || e.status == StatusCode::NOT_MODIFIED {
        Body::empty()
    } else {
        builder = builder.header(http::header::CONTENT_TYPE, "application/xml");
        Body::from(e.to_xml(resource, request_id))
    };
    builder.body(body).unwrap_or_else(|_| {
        // Only reachable if a header were invalid, and header_values() filters those out.
        let mut r = Response::new(Body::empty());
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}
