//! Object operations: PutObject, GetObject, HeadObject, DeleteObject, DeleteObjects, CopyObject.

use axum::body::Body;
use http::{Response, StatusCode, response::Builder};
use reelay_blob::{BlobStore, Checksum, Error as BlobError, ObjectInfo, limits, validate_key};

use super::{MAX_XML_BODY, check_version_id, empty, finish, owned_bucket, xml_ok};
use crate::Req;
use crate::body::{BodySpec, payload_stream, read_small, take_checksum};
use crate::checksum::Algorithm;
use crate::error::{S3Error, S3Result};
use crate::headers::{
    attrs_from_headers, conditions, header_str, http_date, iso8601, object_headers, parse_range,
    write_conditions,
};
use crate::xml::{self, XmlWriter};

/// Most keys in one DeleteObjects request (API Reference, DeleteObjects).
const MAX_DELETE_KEYS: usize = 1000;

/// Response headers that a GetObject query may override (`response-content-type`, …).
const OVERRIDABLE: [&str; 6] = [
    "content-type",
    "content-language",
    "expires",
    "cache-control",
    "content-disposition",
    "content-encoding",
];

pub(crate) fn stored_checksum(algorithm: Algorithm, value: String) -> Checksum {
    Checksum {
        algorithm: algorithm.name().to_owned(),
        value,
        full_object: true,
    }
}

/// Adds `x-amz-checksum-<alg>` and `x-amz-checksum-type` for a stored checksum.
pub(crate) fn checksum_headers(mut b: Builder, checksum: Option<&Checksum>) -> Builder {
    if let Some(c) = checksum
        && let Some(alg) = Algorithm::from_name(&c.algorithm)
    {
        b = b.header(alg.header(), c.value.as_str());
        b = b.header(
            "x-amz-checksum-type",
            if c.full_object {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            },
        );
    }
    b
}

pub(crate) async fn put_object(
    blob: &BlobStore,
    req: &Req<'_>,
    body: Body,
) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    owned_bucket(blob, req, bucket).await?;
    let attrs = attrs_from_headers(req.headers)?;
    let conditions = write_conditions(req.headers)?;
    let spec = BodySpec::from_headers(req.headers, req.ctx, limits::MAX_PUT_SIZE)?;
    let (stream, outcome) = payload_stream(body, spec);
    let staged = blob.stage(bucket, stream, limits::MAX_PUT_SIZE).await?;
    // The stream ended cleanly, so every body check passed and the checksum is verified.
    let checksum = take_checksum(&outcome).map(|c| stored_checksum(c.algorithm, c.value));
    let info = blob
        .commit_object(key, staged, attrs, checksum, &conditions)
        .await?;
    let b = Response::builder()
        .status(StatusCode::OK)
        .header(http::header::ETAG, format!("\"{}\"", info.etag));
    finish(checksum_headers(b, info.checksum.as_ref()), Body::empty())
}

fn response_overrides(req: &Req<'_>) -> Vec<(&'static str, String)> {
    OVERRIDABLE
        .iter()
        .filter_map(|h| {
            req.query
                .get(&format!("response-{h}"))
                .map(|v| (*h, v.to_owned()))
        })
        .collect()
}

fn wants_checksum(req: &Req<'_>) -> bool {
    header_str(req.headers, "x-amz-checksum-mode")
        .ok()
        .flatten()
        .is_some_and(|v| v.eq_ignore_ascii_case("ENABLED"))
}

fn not_modified(info: &ObjectInfo) -> S3Result<Response<Body>> {
    // RFC 9110 §15.4.5: a 304 carries the validators the 200 would have had.
    finish(
        Response::builder()
            .status(StatusCode::NOT_MODIFIED)
            .header(http::header::ETAG, format!("\"{}\"", info.etag))
            .header(http::header::LAST_MODIFIED, http_date(info.last_modified)),
        Body::empty(),
    )
}

/// Status and length headers for a full or partial response.
fn sized(
    b: Builder,
    info: &ObjectInfo,
    range: &std::ops::Range<u64>,
    partial: bool,
    with_checksum: bool,
) -> Builder {
    let mut b = b
        .status(if partial {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(http::header::CONTENT_LENGTH, range.end - range.start);
    if partial {
        b = b.header(
            http::header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                range.start,
                range.end.saturating_sub(1),
                info.size
            ),
        );
    } else if with_checksum {
        // Checksums describe the whole object; S3 omits them from ranged responses, and SDKs
        // would otherwise validate a part against the whole.
        b = checksum_headers(b, info.checksum.as_ref());
    }
    b
}

pub(crate) async fn get_object(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    check_version_id(req)?;
    owned_bucket(blob, req, bucket).await?;
    let range = parse_range(header_str(req.headers, "range")?);
    let conditions = conditions(req.headers, "")?;
    let body = match blob.get_object(bucket, key, range, &conditions).await {
        Ok(body) => body,
        Err(BlobError::NotModified { info }) => return not_modified(&info),
        Err(e) => return Err(e.into()),
    };
    let b = object_headers(Response::builder(), &body.info, &response_overrides(req));
    let b = sized(
        b,
        &body.info,
        &body.range,
        body.partial,
        wants_checksum(req),
    );
    finish(b, Body::from_stream(body.stream))
}

pub(crate) async fn head_object(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    check_version_id(req)?;
    owned_bucket(blob, req, bucket).await?;
    let info = blob.head_object(bucket, key).await?;
    match conditions(req.headers, "")?.evaluate(&info) {
        Ok(()) => {}
        Err(BlobError::NotModified { info }) => return not_modified(&info),
        Err(e) => return Err(e.into()),
    }
    let (range, partial) = match parse_range(header_str(req.headers, "range")?) {
        None => (0..info.size, false),
        Some(r) => (
            r.resolve(info.size)
                .ok_or(BlobError::InvalidRange { size: info.size })?,
            true,
        ),
    };
    let b = object_headers(Response::builder(), &info, &[]);
    let b = sized(b, &info, &range, partial, wants_checksum(req));
    finish(b, Body::empty())
}

pub(crate) async fn delete_object(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    check_version_id(req)?;
    owned_bucket(blob, req, bucket).await?;
    blob.delete_object(bucket, key).await?;
    empty(StatusCode::NO_CONTENT)
}

pub(crate) async fn delete_objects(
    blob: &BlobStore,
    req: &Req<'_>,
    body: Body,
) -> S3Result<Response<Body>> {
    let bucket = req.bucket()?;
    owned_bucket(blob, req, bucket).await?;
    let spec = BodySpec::from_headers(req.headers, req.ctx, MAX_XML_BODY)?;
    let root = xml::parse(&read_small(body, spec).await?)?;
    if root.name != "Delete" {
        return Err(S3Error::malformed_xml());
    }
    let quiet = root
        .child_text("Quiet")
        .is_some_and(|q| q.eq_ignore_ascii_case("true"));
    let objects: Vec<_> = root.children_named("Object").collect();
    if objects.is_empty() || objects.len() > MAX_DELETE_KEYS {
        return Err(S3Error::malformed_xml());
    }
    let mut w = XmlWriter::new();
    w.open_root("DeleteResult");
    for object in objects {
        // Keys are taken verbatim: whitespace is significant in S3 keys.
        let key = object
            .child("Key")
            .map(|k| k.text.as_str())
            .ok_or_else(S3Error::malformed_xml)?;
        let version = object.child_text("VersionId");
        let res = match version {
            Some(v) if v != "null" => Err(S3Error::new(
                "NoSuchVersion",
                StatusCode::NOT_FOUND,
                "The specified version does not exist.",
            )),
            _ => match validate_key(key) {
                Ok(()) => blob.delete_object(bucket, key).await.map_err(S3Error::from),
                Err(e) => Err(e.into()),
            },
        };
        match res {
            Ok(()) if quiet => {}
            Ok(()) => {
                w.open("Deleted");
                w.elem("Key", key);
                w.elem_opt("VersionId", version);
                w.close("Deleted");
            }
            Err(e) => {
                w.open("Error");
                w.elem("Key", key);
                w.elem_opt("VersionId", version);
                w.elem("Code", e.code);
                w.elem("Message", &e.message);
                w.close("Error");
            }
        }
    }
    w.close("DeleteResult");
    xml_ok(w)
}

/// The bucket and key of `x-amz-copy-source` (`[/]bucket/key[?versionId=…]`, URL-encoded).
pub(crate) fn copy_source(req: &Req<'_>) -> S3Result<(String, String)> {
    let raw = header_str(req.headers, "x-amz-copy-source")?.ok_or_else(|| {
        S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )
    })?;
    let (path, query) = raw.split_once('?').unwrap_or((raw, ""));
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        if let Some(v) = pair.strip_prefix("versionId=")
            && v != "null"
        {
            return Err(S3Error::new(
                "NoSuchVersion",
                StatusCode::NOT_FOUND,
                "The specified version does not exist.",
            ));
        }
    }
    let decoded = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| S3Error::invalid_argument("Invalid copy source encoding"))?;
    let decoded = decoded.strip_prefix('/').unwrap_or(&decoded);
    match decoded.split_once('/') {
        Some((b, k)) if !b.is_empty() && !k.is_empty() => Ok((b.to_owned(), k.to_owned())),
        _ => Err(S3Error::invalid_argument(
            "Copy Source must mention the source bucket and key: sourcebucket/sourcekey",
        )),
    }
}

pub(crate) async fn copy_object(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    let (src_bucket, src_key) = copy_source(req)?;
    validate_key(&src_key)?;
    owned_bucket(blob, req, bucket).await?;
    owned_bucket(blob, req, &src_bucket).await?;
    let replace = match header_str(req.headers, "x-amz-metadata-directive")?.map(str::trim) {
        None | Some("COPY") => false,
        Some("REPLACE") => true,
        Some(_) => return Err(S3Error::invalid_argument("Unknown metadata directive.")),
    };
    if !replace && src_bucket == bucket && src_key == key {
        return Err(S3Error::invalid_request(
            "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes.",
        ));
    }
    let attrs = if replace {
        Some(attrs_from_headers(req.headers)?)
    } else {
        None
    };
    let source_conditions = conditions(req.headers, "x-amz-copy-source-")?;
    let info = blob
        .copy_object(
            &src_bucket,
            &src_key,
            bucket,
            key,
            &source_conditions,
            attrs,
        )
        .await?;
    let mut w = XmlWriter::new();
    w.open_root("CopyObjectResult");
    w.elem("LastModified", &iso8601(info.last_modified));
    w.elem("ETag", &format!("\"{}\"", info.etag));
    if let Some(c) = &info.checksum
        && let Some(alg) = Algorithm::from_name(&c.algorithm)
    {
        w.elem(alg.element(), &c.value);
    }
    w.close("CopyObjectResult");
    xml_ok(w)
}
