//! ListObjects (v1) and ListObjectsV2.

use axum::body::Body;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN;
use http::Response;
use reelay_blob::{BlobStore, ListQuery, limits};

use super::{capped_param, owned_bucket, owner, url_encode, xml_ok};
use crate::Req;
use crate::checksum::Algorithm;
use crate::error::{S3Error, S3Result};
use crate::headers::iso8601;
use crate::xml::XmlWriter;

/// Continuation tokens are opaque to clients: the last entry of the previous page, encoded.
fn encode_token(marker: &str) -> String {
    TOKEN.encode(marker.as_bytes())
}

fn decode_token(token: &str) -> S3Result<String> {
    TOKEN
        .decode(token.trim())
        .ok()
        .and_then(|raw| String::from_utf8(raw).ok())
        .ok_or_else(|| S3Error::invalid_argument("The continuation token provided is incorrect"))
}

pub(crate) async fn list_objects(
    blob: &BlobStore,
    req: &Req<'_>,
    v2: bool,
) -> S3Result<Response<Body>> {
    let bucket = req.bucket()?;
    owned_bucket(blob, req, bucket).await?;
    let q = req.query;
    let url = match q.get("encoding-type") {
        None => false,
        Some("url") => true,
        Some(_) => {
            return Err(S3Error::invalid_argument(
                "Invalid Encoding Method specified in Request",
            ));
        }
    };
    let enc = |s: &str| if url { url_encode(s) } else { s.to_owned() };
    let prefix = q.get("prefix").unwrap_or_default();
    let delimiter = q.get("delimiter").filter(|d| !d.is_empty());
    let max_keys = capped_param(
        req,
        "max-keys",
        limits::MAX_LIST_KEYS,
        limits::MAX_LIST_KEYS,
    )?;
    let (start_after, marker) = if v2 {
        let token = q.get("continuation-token").map(decode_token).transpose()?;
        (q.get("start-after").filter(|s| !s.is_empty()), token)
    } else {
        // v1 `marker` resumes after a key or a common prefix, exactly like our markers.
        (
            None,
            q.get("marker").filter(|s| !s.is_empty()).map(str::to_owned),
        )
    };
    let page = blob
        .list_objects(
            bucket,
            &ListQuery {
                prefix,
                delimiter,
                start_after,
                marker: marker.as_deref(),
                max_keys,
            },
        )
        .await?;
    let fetch_owner = !v2 || q.get("fetch-owner") == Some("true");

    let mut w = XmlWriter::new();
    w.open_root("ListBucketResult");
    w.elem("Name", bucket);
    w.elem("Prefix", &enc(prefix));
    if let Some(d) = delimiter {
        w.elem("Delimiter", &enc(d));
    }
    w.elem("MaxKeys", &max_keys.to_string());
    if url {
        w.elem("EncodingType", "url");
    }
    w.elem(
        "IsTruncated",
        if page.is_truncated { "true" } else { "false" },
    );
    if v2 {
        w.elem(
            "KeyCount",
            &(page.objects.len() + page.common_prefixes.len()).to_string(),
        );
        w.elem_opt("ContinuationToken", q.get("continuation-token"));
        if let Some(next) = &page.next_marker {
            w.elem("NextContinuationToken", &encode_token(next));
        }
        if let Some(s) = start_after {
            w.elem("StartAfter", &enc(s));
        }
    } else {
        w.elem("Marker", &enc(marker.as_deref().unwrap_or_default()));
        if let Some(next) = &page.next_marker {
            w.elem("NextMarker", &enc(next));
        }
    }
    for o in &page.objects {
        w.open("Contents");
        w.elem("Key", &enc(&o.key));
        w.elem("LastModified", &iso8601(o.last_modified));
        w.elem("ETag", &format!("\"{}\"", o.etag));
        if let Some(c) = &o.checksum
            && let Some(alg) = Algorithm::from_name(&c.algorithm)
        {
            w.elem("ChecksumAlgorithm", alg.name());
            w.elem(
                "ChecksumType",
                if c.full_object {
                    "FULL_OBJECT"
                } else {
                    "COMPOSITE"
                },
            );
        }
        w.elem("Size", &o.size.to_string());
        if fetch_owner {
            owner(&mut w, "Owner", &req.ctx.account);
        }
        w.elem("StorageClass", "STANDARD");
        w.close("Contents");
    }
    for p in &page.common_prefixes {
        w.open("CommonPrefixes");
        w.elem("Prefix", &enc(p));
        w.close("CommonPrefixes");
    }
    w.close("ListBucketResult");
    xml_ok(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_roundtrip_and_reject_garbage() {
        for m in ["", "a/b", "日本/x\0"] {
            assert_eq!(decode_token(&encode_token(m)).expect("valid"), m);
        }
        assert!(decode_token("%%%").is_err());
        assert!(decode_token(&TOKEN.encode([0xff, 0xfe])).is_err());
    }
}
