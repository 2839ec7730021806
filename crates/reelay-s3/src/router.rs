//! Request addressing (path style and virtual-host style) and operation identification by
//! method and subresource query parameters (Amazon S3 API Reference, "Virtual hosting of
//! buckets" and the per-operation request syntax).
//!
//! Every S3 operation maps to an [`Op`]: the implemented ones to their handler, the others to
//! [`Op::NotImplemented`] (501), so a client learns "not supported" rather than "not found".

use http::{HeaderMap, Method};
use percent_encoding::percent_decode_str;

use crate::error::{S3Error, S3Result};

/// Subresources of operations reelay does not implement.
const UNSUPPORTED_SUBRESOURCES: &[&str] = &[
    "abac",
    "accelerate",
    "acl",
    "analytics",
    "attributes",
    "cors",
    "encryption",
    "intelligent-tiering",
    "inventory",
    "legal-hold",
    "lifecycle",
    "logging",
    "metadataConfiguration",
    "metadataTable",
    "metrics",
    "notification",
    "object-lock",
    "ownershipControls",
    "policy",
    "policyStatus",
    "publicAccessBlock",
    "renameObject",
    "replication",
    "requestPayment",
    "restore",
    "retention",
    "select",
    "session",
    "tagging",
    "torrent",
    "versioning",
    "versions",
    "website",
];

/// Decoded query parameters, in order. A parameter without `=` has an empty value.
#[derive(Debug, Default)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

fn decode_component(s: &str) -> S3Result<String> {
    // Form decoding: '+' is a space, as AWS treats query strings.
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            S3Error::invalid_argument("a query parameter is not valid UTF-8 after decoding")
        })
}

impl Query {
    pub(crate) fn parse(raw: Option<&str>) -> S3Result<Query> {
        let mut pairs = Vec::new();
        for piece in raw.unwrap_or_default().split('&').filter(|p| !p.is_empty()) {
            let (name, value) = piece.split_once('=').unwrap_or((piece, ""));
            pairs.push((decode_component(name)?, decode_component(value)?));
        }
        Ok(Query { pairs })
    }

    pub(crate) fn has(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn unsupported(&self) -> Option<&str> {
        self.pairs
            .iter()
            .map(|(n, _)| n.as_str())
            .find(|n| UNSUPPORTED_SUBRESOURCES.contains(n))
    }
}

/// The bucket and key a request addresses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Target {
    pub bucket: Option<String>,
    pub key: Option<String>,
}

fn decode_path_part(s: &str) -> S3Result<String> {
    percent_decode_str(s)
        .decode_utf8()
        .map(|c| c.into_owned())
        .map_err(|_| {
            S3Error::new(
                "InvalidURI",
                http::StatusCode::BAD_REQUEST,
                "Couldn't parse the specified URI.",
            )
        })
}

/// The bucket named by a virtual-host style `Host`, if any.
fn vhost_bucket(host: &str, base_host: Option<&str>) -> Option<String> {
    let host = host.trim().to_ascii_lowercase();
    if let Some(base) = base_host.map(str::to_ascii_lowercase) {
        if host == base {
            return None;
        }
        if let Some(bucket) = host.strip_suffix(&base).and_then(|h| h.strip_suffix('.')) {
            return (!bucket.is_empty()).then(|| bucket.to_owned());
        }
    }
    // `<bucket>.s3.<region>.amazonaws.com` and similar; the last `.s3.` is the service label,
    // since bucket names may themselves contain dots.
    let idx = host.rfind(".s3.")?;
    let bucket = &host[..idx];
    (!bucket.is_empty()).then(|| bucket.to_owned())
}

/// Resolves the addressed bucket and key from the `Host` header and the raw (still encoded) path.
pub(crate) fn target(
    host: Option<&str>,
    base_host: Option<&str>,
    raw_path: &str,
) -> S3Result<Target> {
    let path = raw_path.strip_prefix('/').unwrap_or(raw_path);
    if let Some(bucket) = host.and_then(|h| vhost_bucket(h, base_host)) {
        let key = decode_path_part(path)?;
        return Ok(Target {
            bucket: Some(bucket),
            key: (!key.is_empty()).then_some(key),
        });
    }
    if path.is_empty() {
        return Ok(Target::default());
    }
    let (bucket, key) = match path.split_once('/') {
        Some((b, k)) => (b, Some(k)),
        None => (path, None),
    };
    let bucket = decode_path_part(bucket)?;
    let key = key
        .map(decode_path_part)
        .transpose()?
        .filter(|k| !k.is_empty());
    Ok(Target {
        bucket: Some(bucket),
        key,
    })
}

/// The operations reelay knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Op {
    ListBuckets,
    CreateBucket,
    HeadBucket,
    DeleteBucket,
    GetBucketLocation,
    GetBucketVersioning,
    ListObjects,
    ListObjectsV2,
    ListMultipartUploads,
    DeleteObjects,
    PutObject,
    CopyObject,
    GetObject,
    HeadObject,
    DeleteObject,
    CreateMultipartUpload,
    UploadPart,
    UploadPartCopy,
    CompleteMultipartUpload,
    AbortMultipartUpload,
    ListParts,
    /// A known S3 operation that reelay does not implement.
    NotImplemented(String),
    /// No S3 operation has this method on this resource.
    MethodNotAllowed,
}

/// Identifies the operation.
pub(crate) fn route(method: &Method, target: &Target, query: &Query, headers: &HeaderMap) -> Op {
    let ni = |what: &str| Op::NotImplemented(what.to_owned());
    let copy_source = headers.contains_key("x-amz-copy-source");
    match (target.bucket.is_some(), target.key.is_some()) {
        (false, _) => match *method {
            Method::GET => Op::ListBuckets,
            _ => Op::MethodNotAllowed,
        },
        (true, false) => match *method {
            Method::GET if query.has("location") => Op::GetBucketLocation,
            Method::GET if query.has("versioning") => Op::GetBucketVersioning,
            Method::GET if query.has("uploads") => Op::ListMultipartUploads,
            Method::GET => match query.unsupported() {
                Some(sub) => ni(sub),
                None if query.get("list-type") == Some("2") => Op::ListObjectsV2,
                None => Op::ListObjects,
            },
            Method::HEAD => Op::HeadBucket,
            Method::PUT => query.unsupported().map_or(Op::CreateBucket, ni),
            Method::DELETE => query.unsupported().map_or(Op::DeleteBucket, ni),
            Method::POST if query.has("delete") => Op::DeleteObjects,
            Method::POST => query
                .unsupported()
                .map_or_else(|| ni("PostObject (browser form upload)"), ni),
            _ => Op::MethodNotAllowed,
        },
        (true, true) => match *method {
            Method::GET if query.has("uploadId") => Op::ListParts,
            Method::GET => match query.unsupported() {
                Some(sub) => ni(sub),
                None if query.has("partNumber") => ni("partNumber on GetObject"),
                None => Op::GetObject,
            },
            Method::HEAD if query.has("partNumber") => ni("partNumber on HeadObject"),
            Method::HEAD => Op::HeadObject,
            Method::PUT if query.has("uploadId") && query.has("partNumber") => {
                if copy_source {
                    Op::UploadPartCopy
                } else {
                    Op::UploadPart
                }
            }
            Method::PUT => match query.unsupported() {
                Some(sub) => ni(sub),
                None if copy_source => Op::CopyObject,
                None => Op::PutObject,
            },
            Method::DELETE if query.has("uploadId") => Op::AbortMultipartUpload,
            Method::DELETE => query.unsupported().map_or(Op::DeleteObject, ni),
            Method::POST if query.has("uploads") => Op::CreateMultipartUpload,
            Method::POST if query.has("uploadId") => Op::CompleteMultipartUpload,
            Method::POST => query.unsupported().map_or(Op::MethodNotAllowed, ni),
            _ => Op::MethodNotAllowed,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(bucket: Option<&str>, key: Option<&str>) -> Target {
        Target {
            bucket: bucket.map(String::from),
            key: key.map(String::from),
        }
    }

    #[test]
    fn addressing() {
        let base = Some("localhost:4599");
        let cases = [
            (Some("localhost:4599"), "/", t(None, None)),
            (Some("localhost:4599"), "/bkt", t(Some("bkt"), None)),
            (Some("localhost:4599"), "/bkt/", t(Some("bkt"), None)),
            (
                Some("localhost:4599"),
                "/bkt/a%2Fb/c%20d",
                t(Some("bkt"), Some("a/b/c d")),
            ),
            (
                Some("localhost:4599"),
                "/bkt//lead",
                t(Some("bkt"), Some("/lead")),
            ),
            (
                Some("localhost:4599"),
                "/bkt/a+b",
                t(Some("bkt"), Some("a+b")),
            ),
            (Some("bkt.localhost:4599"), "/", t(Some("bkt"), None)),
            (
                Some("My.Bkt.LOCALHOST:4599"),
                "/k/x",
                t(Some("my.bkt"), Some("k/x")),
            ),
            (
                Some("bkt.s3.us-east-1.amazonaws.com"),
                "/key",
                t(Some("bkt"), Some("key")),
            ),
            (Some("a.s3.b.s3.example.com"), "/", t(Some("a.s3.b"), None)),
            (
                Some("s3.amazonaws.com"),
                "/bkt/k",
                t(Some("bkt"), Some("k")),
            ),
            (Some("127.0.0.1:4599"), "/bkt/k", t(Some("bkt"), Some("k"))),
            (None, "/bkt/k", t(Some("bkt"), Some("k"))),
        ];
        for (host, path, expect) in cases {
            assert_eq!(
                target(host, base, path).expect("valid"),
                expect,
                "{host:?} {path}"
            );
        }
        assert_eq!(
            target(None, None, "/bkt/%FF").expect_err("invalid").code,
            "InvalidURI"
        );
    }

    #[test]
    fn query_decoding() {
        let q = Query::parse(Some("uploads&prefix=a%2Fb+c&empty=&x=%E2%82%AC")).expect("valid");
        assert!(q.has("uploads"));
        assert_eq!(q.get("uploads"), Some(""));
        assert_eq!(q.get("prefix"), Some("a/b c"));
        assert_eq!(q.get("x"), Some("€"));
        assert!(Query::parse(Some("a=%FF")).is_err());
    }

    #[test]
    fn routing() {
        let h = HeaderMap::new();
        let mut copy = HeaderMap::new();
        copy.insert("x-amz-copy-source", http::HeaderValue::from_static("/b/k"));
        let b = t(Some("b"), None);
        let o = t(Some("b"), Some("k"));
        let q = |s: &str| Query::parse(Some(s)).expect("valid");
        let cases = [
            (Method::GET, t(None, None), "", &h, Op::ListBuckets),
            (Method::PUT, t(None, None), "", &h, Op::MethodNotAllowed),
            (Method::GET, b.clone(), "", &h, Op::ListObjects),
            (Method::GET, b.clone(), "list-type=2", &h, Op::ListObjectsV2),
            (
                Method::GET,
                b.clone(),
                "location",
                &h,
                Op::GetBucketLocation,
            ),
            (
                Method::GET,
                b.clone(),
                "uploads",
                &h,
                Op::ListMultipartUploads,
            ),
            (
                Method::GET,
                b.clone(),
                "acl",
                &h,
                Op::NotImplemented("acl".into()),
            ),
            (Method::PUT, b.clone(), "", &h, Op::CreateBucket),
            (
                Method::PUT,
                b.clone(),
                "tagging",
                &h,
                Op::NotImplemented("tagging".into()),
            ),
            (Method::HEAD, b.clone(), "", &h, Op::HeadBucket),
            (Method::DELETE, b.clone(), "", &h, Op::DeleteBucket),
            (Method::POST, b.clone(), "delete", &h, Op::DeleteObjects),
            (Method::PATCH, b.clone(), "", &h, Op::MethodNotAllowed),
            (Method::PUT, o.clone(), "", &h, Op::PutObject),
            (Method::PUT, o.clone(), "", &copy, Op::CopyObject),
            (
                Method::PUT,
                o.clone(),
                "partNumber=1&uploadId=x",
                &h,
                Op::UploadPart,
            ),
            (
                Method::PUT,
                o.clone(),
                "partNumber=1&uploadId=x",
                &copy,
                Op::UploadPartCopy,
            ),
            (
                Method::PUT,
                o.clone(),
                "tagging",
                &h,
                Op::NotImplemented("tagging".into()),
            ),
            (Method::GET, o.clone(), "", &h, Op::GetObject),
            (Method::GET, o.clone(), "uploadId=x", &h, Op::ListParts),
            (
                Method::GET,
                o.clone(),
                "acl",
                &h,
                Op::NotImplemented("acl".into()),
            ),
            (Method::HEAD, o.clone(), "", &h, Op::HeadObject),
            (Method::DELETE, o.clone(), "", &h, Op::DeleteObject),
            (
                Method::DELETE,
                o.clone(),
                "uploadId=x",
                &h,
                Op::AbortMultipartUpload,
            ),
            (
                Method::POST,
                o.clone(),
                "uploads",
                &h,
                Op::CreateMultipartUpload,
            ),
            (
                Method::POST,
                o.clone(),
                "uploadId=x",
                &h,
                Op::CompleteMultipartUpload,
            ),
            (
                Method::POST,
                o.clone(),
                "restore",
                &h,
                Op::NotImplemented("restore".into()),
            ),
            (Method::OPTIONS, o.clone(), "", &h, Op::MethodNotAllowed),
        ];
        for (method, target, query, headers, expect) in cases {
            assert_eq!(
                route(&method, &target, &q(query), headers),
                expect,
                "{method} {target:?} {query}"
            );
        }
    }
}
