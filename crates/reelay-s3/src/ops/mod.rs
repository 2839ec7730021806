//! Operation handlers, grouped by resource.

pub(crate) mod bucket;
pub(crate) mod list;
pub(crate) mod multipart;
pub(crate) mod object;

use axum::body::Body;
use http::{Response, StatusCode, response::Builder};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use reelay_blob::{BlobStore, BucketInfo};

use crate::Req;
use crate::error::{S3Error, S3Result};
use crate::xml::XmlWriter;

/// Largest XML request body (DeleteObjects with 1000 long keys, CompleteMultipartUpload with
/// 10,000 parts and their checksums).
pub(crate) const MAX_XML_BODY: u64 = 8 * 1024 * 1024;

/// Characters left alone by `encoding-type=url` and in `Location` URLs: RFC 3986 unreserved
/// characters and `/`.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

pub(crate) fn url_encode(s: &str) -> String {
    utf8_percent_encode(s, URL_SAFE).to_string()
}

pub(crate) fn finish(builder: Builder, body: Body) -> S3Result<Response<Body>> {
    builder.body(body).map_err(|e| {
        tracing::error!(error = %e, "could not build a response");
        S3Error::internal()
    })
}

pub(crate) fn xml_ok(w: XmlWriter) -> S3Result<Response<Body>> {
    finish(
        Response::builder()
            .status(StatusCode::OK)
            .header(http::header::CONTENT_TYPE, "application/xml"),
        Body::from(w.finish()),
    )
}

pub(crate) fn empty(status: StatusCode) -> S3Result<Response<Body>> {
    finish(Response::builder().status(status), Body::empty())
}

/// The bucket, if it exists and belongs to the caller's account.
pub(crate) async fn owned_bucket(
    blob: &BlobStore,
    req: &Req<'_>,
    name: &str,
) -> S3Result<BucketInfo> {
    let info = blob.head_bucket(name).await?;
    if info.owner != req.ctx.account {
        return Err(S3Error::access_denied());
    }
    Ok(info)
}

/// S3 buckets here are never versioned: only the `null` version exists.
pub(crate) fn check_version_id(req: &Req<'_>) -> S3Result<()> {
    match req.query.get("versionId") {
        None | Some("null") => Ok(()),
        Some(_) => Err(S3Error::invalid_argument("Invalid version id specified")),
    }
}

/// `<Owner>`/`<Initiator>` style element for an account.
pub(crate) fn owner(w: &mut XmlWriter, element: &str, account: &str) {
    w.open(element);
    w.elem("ID", account);
    w.elem("DisplayName", account);
    w.close(element);
}

/// Parses an integer query parameter that must be within `0..=max` (values above are capped).
pub(crate) fn capped_param(
    req: &Req<'_>,
    name: &str,
    default: usize,
    max: usize,
) -> S3Result<usize> {
    match req.query.get(name) {
        None => Ok(default),
        Some(v) => {
            let n: i64 = v.trim().parse().map_err(|_| {
                S3Error::invalid_argument(format!(
                    "Provided {name} not an integer or within integer range"
                ))
            })?;
            if n < 0 {
                return Err(S3Error::invalid_argument(format!(
                    "Argument {name} must be an integer between 0 and 2147483647"
                )));
            }
            Ok(usize::try_from(n).unwrap_or(usize::MAX).min(max))
        }
    }
}
