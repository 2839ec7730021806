//! Multipart uploads: CreateMultipartUpload, UploadPart, UploadPartCopy,
//! CompleteMultipartUpload, AbortMultipartUpload, ListParts, ListMultipartUploads.

use axum::body::Body;
use futures::TryStreamExt;
use http::{Response, StatusCode};
use reelay_blob::{
    BlobStore, Checksum, CompletedPart, Conditions, Error as BlobError, UploadInfo, limits,
    validate_key,
};

use super::object::{checksum_headers, copy_source, stored_checksum};
use super::{MAX_XML_BODY, capped_param, empty, finish, owned_bucket, owner, url_encode, xml_ok};
use crate::Req;
use crate::body::{BodySpec, payload_stream, read_small, take_checksum};
use crate::checksum::{Algorithm, composite};
use crate::error::{S3Error, S3Result};
use crate::headers::{attrs_from_headers, conditions, header_str, iso8601, parse_range};
use crate::xml::{self, XmlWriter};

fn upload_id<'a>(req: &'a Req<'_>) -> S3Result<&'a str> {
    req.query
        .get("uploadId")
        .ok_or_else(|| S3Error::invalid_argument("uploadId is required"))
}

fn part_number(req: &Req<'_>) -> S3Result<u32> {
    req.query
        .get("partNumber")
        .and_then(|n| n.trim().parse::<u32>().ok())
        .filter(|n| (1..=limits::MAX_PART_NUMBER).contains(n))
        .ok_or_else(|| {
            S3Error::invalid_argument(
                "Part number must be an integer between 1 and 10000, inclusive",
            )
        })
}

/// The upload, checked to belong to the addressed bucket and key.
async fn upload_for(blob: &BlobStore, req: &Req<'_>) -> S3Result<UploadInfo> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    owned_bucket(blob, req, bucket).await?;
    let upload = blob.get_upload(bucket, upload_id(req)?).await?;
    if upload.key != key {
        return Err(BlobError::NoSuchUpload.into());
    }
    Ok(upload)
}

pub(crate) async fn create(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    validate_key(key)?;
    owned_bucket(blob, req, bucket).await?;
    let attrs = attrs_from_headers(req.headers)?;
    let algorithm = header_str(req.headers, "x-amz-checksum-algorithm")?
        .map(|a| {
            Algorithm::from_name(a).ok_or_else(|| {
                S3Error::invalid_request(format!("Checksum algorithm {a} is not supported"))
            })
        })
        .transpose()?;
    let checksum_type = match header_str(req.headers, "x-amz-checksum-type")?.map(str::trim) {
        None => None,
        Some(t @ ("COMPOSITE" | "FULL_OBJECT")) => Some(t.to_owned()),
        Some(t) => {
            return Err(S3Error::invalid_request(format!(
                "Value for x-amz-checksum-type header is invalid: {t}"
            )));
        }
    };
    let upload = blob
        .create_multipart(
            bucket,
            key,
            &req.ctx.account,
            attrs,
            algorithm.map(|a| a.name().to_owned()),
            checksum_type.clone(),
        )
        .await?;
    let mut w = XmlWriter::new();
    w.open_root("InitiateMultipartUploadResult");
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("UploadId", &upload.upload_id);
    w.close("InitiateMultipartUploadResult");
    let mut b = Response::builder()
        .status(StatusCode::OK)
        .header(http::header::CONTENT_TYPE, "application/xml");
    if let Some(a) = algorithm {
        b = b.header("x-amz-checksum-algorithm", a.name());
        b = b.header(
            "x-amz-checksum-type",
            checksum_type.as_deref().unwrap_or("COMPOSITE"),
        );
    }
    finish(b, Body::from(w.finish()))
}

pub(crate) async fn upload_part(
    blob: &BlobStore,
    req: &Req<'_>,
    body: Body,
) -> S3Result<Response<Body>> {
    let bucket = req.bucket()?;
    let n = part_number(req)?;
    let upload = upload_for(blob, req).await?;
    let spec = BodySpec::from_headers(req.headers, req.ctx, limits::MAX_PART_SIZE)?;
    if let (Some(expected), Some(sent)) = (
        upload
            .checksum_algorithm
            .as_deref()
            .and_then(Algorithm::from_name),
        spec.checksum_algorithm(),
    ) && expected != sent
    {
        return Err(S3Error::invalid_request(format!(
            "Checksum Type mismatch occurred, expected checksum Type: {}, actual checksum Type: {}",
            expected.name().to_ascii_lowercase(),
            sent.name().to_ascii_lowercase()
        )));
    }
    let (stream, outcome) = payload_stream(body, spec);
    let staged = blob.stage(bucket, stream, limits::MAX_PART_SIZE).await?;
    let checksum = take_checksum(&outcome).map(|c| stored_checksum(c.algorithm, c.value));
    let part = blob
        .commit_part(&upload.upload_id, n, staged, checksum)
        .await?;
    let b = Response::builder()
        .status(StatusCode::OK)
        .header(http::header::ETAG, format!("\"{}\"", part.etag));
    let b = match &part.checksum {
        Some(c) => checksum_headers(
            b,
            Some(&Checksum {
                full_object: true,
                ..c.clone()
            }),
        ),
        None => b,
    };
    finish(b, Body::empty())
}

pub(crate) async fn upload_part_copy(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let bucket = req.bucket()?;
    let n = part_number(req)?;
    let upload = upload_for(blob, req).await?;
    let (src_bucket, src_key) = copy_source(req)?;
    validate_key(&src_key)?;
    owned_bucket(blob, req, &src_bucket).await?;
    let range = match header_str(req.headers, "x-amz-copy-source-range")? {
        None => None,
        Some(r) => match parse_range(Some(r)) {
            Some(range @ reelay_blob::ByteRange::FromTo(..)) => Some(range),
            _ => {
                return Err(S3Error::invalid_argument(
                    "The x-amz-copy-source-range value must be of the form bytes=first-last",
                ));
            }
        },
    };
    let source = blob.head_object(&src_bucket, &src_key).await?;
    conditions(req.headers, "x-amz-copy-source-")?.evaluate_copy_source(&source)?;
    // Pin the version that passed the conditions.
    let pin = Conditions {
        if_match: Some(vec![source.etag.clone()]),
        ..Default::default()
    };
    let body = blob.get_object(&src_bucket, &src_key, range, &pin).await?;
    let stream = body.stream.map_err(std::io::Error::other);
    let staged = blob.stage(bucket, stream, limits::MAX_PART_SIZE).await?;
    let part = blob.commit_part(&upload.upload_id, n, staged, None).await?;
    let mut w = XmlWriter::new();
    w.open_root("CopyPartResult");
    w.elem("LastModified", &iso8601(part.last_modified));
    w.elem("ETag", &format!("\"{}\"", part.etag));
    w.close("CopyPartResult");
    xml_ok(w)
}

/// A part named in the CompleteMultipartUpload document.
struct RequestedPart {
    part: CompletedPart,
    checksum: Option<(Algorithm, String)>,
}

fn parse_complete(body: &[u8]) -> S3Result<Vec<RequestedPart>> {
    let root = xml::parse(body)?;
    if root.name != "CompleteMultipartUpload" {
        return Err(S3Error::malformed_xml());
    }
    let mut parts = Vec::new();
    for p in root.children_named("Part") {
        let part_number = p
            .child_text("PartNumber")
            .and_then(|n| n.parse::<u32>().ok())
            .ok_or_else(S3Error::malformed_xml)?;
        let etag = p
            .child_text("ETag")
            .ok_or_else(S3Error::malformed_xml)?
            .to_owned();
        let checksum = Algorithm::ALL
            .into_iter()
            .find_map(|a| p.child_text(a.element()).map(|v| (a, v.to_owned())));
        parts.push(RequestedPart {
            part: CompletedPart { part_number, etag },
            checksum,
        });
    }
    if parts.is_empty() {
        return Err(S3Error::malformed_xml());
    }
    Ok(parts)
}

/// The object checksum of a completed upload: the composite of the part checksums when every
/// part has one of the upload's algorithm. Full-object CRCs of multipart objects (checksum type
/// `FULL_OBJECT`) would need CRC combination and are not computed; such objects carry no
/// checksum.
fn completion_checksum(
    upload: &UploadInfo,
    parts: &[reelay_blob::PartInfo],
    requested: &[RequestedPart],
) -> Result<Option<Checksum>, BlobError> {
    for (stored, asked) in parts.iter().zip(requested) {
        if let Some((alg, value)) = &asked.checksum {
            let matches = stored
                .checksum
                .as_ref()
                .is_some_and(|c| c.algorithm == alg.name() && c.value == *value);
            if !matches {
                return Err(BlobError::InvalidPart {
                    part_number: stored.part_number,
                    reason: format!("the {} does not match the uploaded part", alg.element()),
                });
            }
        }
    }
    if upload.checksum_type.as_deref() == Some("FULL_OBJECT") {
        return Ok(None);
    }
    let algorithm = upload
        .checksum_algorithm
        .as_deref()
        .and_then(Algorithm::from_name)
        .or_else(|| {
            parts
                .first()?
                .checksum
                .as_ref()
                .and_then(|c| Algorithm::from_name(&c.algorithm))
        });
    let Some(algorithm) = algorithm else {
        return Ok(None);
    };
    let values: Option<Vec<&str>> = parts
        .iter()
        .map(|p| {
            p.checksum
                .as_ref()
                .filter(|c| c.algorithm == algorithm.name())
                .map(|c| c.value.as_str())
        })
        .collect();
    Ok(values
        .and_then(|v| composite(algorithm, &v))
        .map(|value| Checksum {
            algorithm: algorithm.name().to_owned(),
            value,
            full_object: false,
        }))
}

pub(crate) async fn complete(
    blob: &BlobStore,
    req: &Req<'_>,
    body: Body,
) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    let upload = upload_for(blob, req).await?;
    let spec = BodySpec::from_headers(req.headers, req.ctx, MAX_XML_BODY)?;
    let requested = parse_complete(&read_small(body, spec).await?)?;
    let parts: Vec<CompletedPart> = requested.iter().map(|r| r.part.clone()).collect();
    let info = blob
        .complete_multipart(bucket, &upload.upload_id, &parts, |u, stored| {
            completion_checksum(u, stored, &requested)
        })
        .await?;
    let host = req.host.unwrap_or("localhost");
    let mut w = XmlWriter::new();
    w.open_root("CompleteMultipartUploadResult");
    w.elem(
        "Location",
        &format!("http://{host}/{bucket}/{}", url_encode(key)),
    );
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("ETag", &format!("\"{}\"", info.etag));
    if let Some(c) = &info.checksum
        && let Some(alg) = Algorithm::from_name(&c.algorithm)
    {
        w.elem(alg.element(), &c.value);
        w.elem(
            "ChecksumType",
            if c.full_object {
                "FULL_OBJECT"
            } else {
                "COMPOSITE"
            },
        );
    }
    w.close("CompleteMultipartUploadResult");
    xml_ok(w)
}

pub(crate) async fn abort(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let upload = upload_for(blob, req).await?;
    blob.abort_multipart(req.bucket()?, &upload.upload_id)
        .await?;
    empty(StatusCode::NO_CONTENT)
}

pub(crate) async fn list_parts(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let (bucket, key) = (req.bucket()?, req.key()?);
    let upload = upload_for(blob, req).await?;
    let max_parts = capped_param(req, "max-parts", 1000, 1000)?;
    let marker = match req.query.get("part-number-marker") {
        None => 0,
        Some(m) => m
            .trim()
            .parse::<u32>()
            .map_err(|_| S3Error::invalid_argument("Provided part-number-marker not an integer"))?,
    };
    let all = blob.list_parts(bucket, &upload.upload_id).await?;
    let after: Vec<_> = all.iter().filter(|p| p.part_number > marker).collect();
    let is_truncated = after.len() > max_parts;
    let page = &after[..after.len().min(max_parts)];
    let mut w = XmlWriter::new();
    w.open_root("ListPartsResult");
    w.elem("Bucket", bucket);
    w.elem("Key", key);
    w.elem("UploadId", &upload.upload_id);
    owner(&mut w, "Initiator", &upload.owner);
    owner(&mut w, "Owner", &upload.owner);
    w.elem("StorageClass", "STANDARD");
    w.elem("PartNumberMarker", &marker.to_string());
    if let Some(last) = page.last() {
        w.elem("NextPartNumberMarker", &last.part_number.to_string());
    }
    w.elem("MaxParts", &max_parts.to_string());
    w.elem("IsTruncated", if is_truncated { "true" } else { "false" });
    if let Some(a) = &upload.checksum_algorithm {
        w.elem("ChecksumAlgorithm", a);
        w.elem(
            "ChecksumType",
            upload.checksum_type.as_deref().unwrap_or("COMPOSITE"),
        );
    }
    for p in page {
        w.open("Part");
        w.elem("PartNumber", &p.part_number.to_string());
        w.elem("LastModified", &iso8601(p.last_modified));
        w.elem("ETag", &format!("\"{}\"", p.etag));
        w.elem("Size", &p.size.to_string());
        if let Some(c) = &p.checksum
            && let Some(alg) = Algorithm::from_name(&c.algorithm)
        {
            w.elem(alg.element(), &c.value);
        }
        w.close("Part");
    }
    w.close("ListPartsResult");
    xml_ok(w)
}

pub(crate) async fn list_uploads(blob: &BlobStore, req: &Req<'_>) -> S3Result<Response<Body>> {
    let bucket = req.bucket()?;
    owned_bucket(blob, req, bucket).await?;
    let prefix = req.query.get("prefix").unwrap_or_default();
    let key_marker = req.query.get("key-marker").unwrap_or_default();
    let id_marker = req.query.get("upload-id-marker").filter(|m| !m.is_empty());
    let max = capped_param(req, "max-uploads", 1000, 1000)?;
    let uploads = blob.list_uploads(bucket).await?;
    let mut candidates: Vec<&UploadInfo> = uploads
        .iter()
        .filter(|u| u.key.starts_with(prefix))
        .collect();
    if !key_marker.is_empty() {
        // Resume right after the marker upload when it still exists, else after the marker key.
        let start = match id_marker.and_then(|id| {
            candidates
                .iter()
                .position(|u| u.key == key_marker && u.upload_id == id)
        }) {
            Some(p) => p + 1,
            None => candidates
                .iter()
                .position(|u| u.key.as_str() > key_marker)
                .unwrap_or(candidates.len()),
        };
        candidates.drain(..start);
    }
    let is_truncated = candidates.len() > max;
    let page = &candidates[..candidates.len().min(max)];
    let mut w = XmlWriter::new();
    w.open_root("ListMultipartUploadsResult");
    w.elem("Bucket", bucket);
    w.elem("KeyMarker", key_marker);
    w.elem("UploadIdMarker", id_marker.unwrap_or_default());
    if is_truncated && let Some(last) = page.last() {
        w.elem("NextKeyMarker", &last.key);
        w.elem("NextUploadIdMarker", &last.upload_id);
    }
    w.elem("Prefix", prefix);
    w.elem("MaxUploads", &max.to_string());
    w.elem("IsTruncated", if is_truncated { "true" } else { "false" });
    for u in page {
        w.open("Upload");
        w.elem("Key", &u.key);
        w.elem("UploadId", &u.upload_id);
        owner(&mut w, "Initiator", &u.owner);
        owner(&mut w, "Owner", &u.owner);
        w.elem("StorageClass", "STANDARD");
        w.elem("Initiated", &iso8601(u.initiated));
        if let Some(a) = &u.checksum_algorithm {
            w.elem("ChecksumAlgorithm", a);
        }
        w.close("Upload");
    }
    w.close("ListMultipartUploadsResult");
    xml_ok(w)
}
