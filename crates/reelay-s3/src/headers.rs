//! Request header parsing and object response headers.

use std::time::{Duration, SystemTime};

use http::{HeaderMap, HeaderName, HeaderValue, response::Builder};
use reelay_blob::{ByteRange, Conditions, ObjectAttrs, ObjectInfo, WriteConditions};
use time::OffsetDateTime;
use time::macros::format_description;

use crate::error::{S3Error, S3Result};

/// Largest total size of user metadata names and values (User Guide, "Working with object
/// metadata": 2 KB).
const MAX_USER_METADATA: usize = 2 * 1024;
/// Content type S3 reports for objects stored without one.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

/// A header as text; non-visible-ASCII values are refused rather than guessed at.
pub(crate) fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> S3Result<Option<&'a str>> {
    match headers.get(name) {
        None => Ok(None),
        Some(v) => v.to_str().map(Some).map_err(|_| {
            S3Error::invalid_argument(format!("the {name} header is not valid ASCII"))
        }),
    }
}

/// HTTP-date (RFC 9110 §5.6.7) of a timestamp.
pub(crate) fn http_date(t: OffsetDateTime) -> String {
    let secs = u64::try_from(t.unix_timestamp()).unwrap_or(0);
    httpdate::fmt_http_date(SystemTime::UNIX_EPOCH + Duration::from_secs(secs))
}

/// Parses an HTTP-date; `None` for anything invalid (RFC 9110 §13.1.3: such conditions are
/// ignored).
pub(crate) fn parse_http_date(s: &str) -> Option<OffsetDateTime> {
    httpdate::parse_http_date(s.trim())
        .ok()
        .map(OffsetDateTime::from)
}

/// ISO 8601 with milliseconds, as S3 XML documents use: `2009-10-12T17:50:30.000Z`.
pub(crate) fn iso8601(t: OffsetDateTime) -> String {
    let fmt =
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z");
    t.to_offset(time::UtcOffset::UTC)
        .format(&fmt)
        .unwrap_or_default()
}

/// Object attributes from PutObject / CreateMultipartUpload / CopyObject (REPLACE) headers.
pub(crate) fn attrs_from_headers(headers: &HeaderMap) -> S3Result<ObjectAttrs> {
    let text = |name: &str| -> Option<String> {
        headers
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
    };
    // aws-chunked is transfer framing, not a property of the object (API Reference, PutObject).
    let content_encoding = text("content-encoding").and_then(|v| {
        let kept: Vec<&str> = v
            .split(',')
            .map(str::trim)
            .filter(|e| !e.is_empty() && !e.eq_ignore_ascii_case("aws-chunked"))
            .collect();
        (!kept.is_empty()).then(|| kept.join(","))
    });
    let mut attrs = ObjectAttrs {
        content_type: text("content-type"),
        content_encoding,
        content_disposition: text("content-disposition"),
        content_language: text("content-language"),
        cache_control: text("cache-control"),
        expires: text("expires"),
        user_metadata: Default::default(),
    };
    let mut total = 0usize;
    for (name, value) in headers {
        if let Some(meta) = name.as_str().strip_prefix("x-amz-meta-") {
            let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
            total += meta.len() + value.len();
            attrs.user_metadata.insert(meta.to_owned(), value);
        }
    }
    if total > MAX_USER_METADATA {
        return Err(S3Error::new(
            "MetadataTooLarge",
            http::StatusCode::BAD_REQUEST,
            "Your metadata headers exceed the maximum allowed metadata size.",
        )
        .with_detail("MaxSizeAllowed", MAX_USER_METADATA.to_string()));
    }
    Ok(attrs)
}

fn set(builder: Builder, name: &str, value: &str) -> Builder {
    match (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        (Ok(n), Ok(v)) => builder.header(n, v),
        // Stored values came from valid headers; anything else is skipped, not sent corrupted.
        _ => builder,
    }
}

/// Validators and representation headers of an object (GetObject, HeadObject).
/// `overrides` are the `response-*` query parameters of GetObject.
pub(crate) fn object_headers(
    mut b: Builder,
    info: &ObjectInfo,
    overrides: &[(&str, String)],
) -> Builder {
    b = set(b, "etag", &format!("\"{}\"", info.etag));
    b = set(b, "last-modified", &http_date(info.last_modified));
    b = set(b, "accept-ranges", "bytes");
    let a = &info.attrs;
    let fields: [(&str, Option<&str>); 6] = [
        (
            "content-type",
            Some(a.content_type.as_deref().unwrap_or(DEFAULT_CONTENT_TYPE)),
        ),
        ("content-encoding", a.content_encoding.as_deref()),
        ("content-disposition", a.content_disposition.as_deref()),
        ("content-language", a.content_language.as_deref()),
        ("cache-control", a.cache_control.as_deref()),
        ("expires", a.expires.as_deref()),
    ];
    for (name, stored) in fields {
        let value = overrides
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
            .or(stored);
        if let Some(v) = value {
            b = set(b, name, v);
        }
    }
    for (k, v) in &a.user_metadata {
        b = set(b, &format!("x-amz-meta-{k}"), v);
    }
    b
}

/// Parses a `Range` header. Only a single `bytes=` range is honoured; anything else is ignored
/// (RFC 9110 §14.2: a server may ignore the header), which yields the full object.
pub(crate) fn parse_range(value: Option<&str>) -> Option<ByteRange> {
    let spec = value?.trim().strip_prefix("bytes=")?.trim();
    if spec.contains(',') {
        return None;
    }
    let (first, last) = spec.split_once('-')?;
    let num = |s: &str| -> Option<u64> {
        let s = s.trim();
        (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    match (first.trim().is_empty(), last.trim().is_empty()) {
        (true, false) => Some(ByteRange::Suffix(num(last)?)),
        (false, true) => Some(ByteRange::From(num(first)?)),
        (false, false) => Some(ByteRange::FromTo(num(first)?, num(last)?)),
        (true, true) => None,
    }
}

fn etag_list(v: &str) -> Vec<String> {
    v.split(',')
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Read preconditions from headers named `<prefix>if-match` etc. (`prefix` is empty for
/// GetObject/HeadObject and `x-amz-copy-source-` for copy sources).
pub(crate) fn conditions(headers: &HeaderMap, prefix: &str) -> S3Result<Conditions> {
    let get = |n: &str| header_str(headers, &format!("{prefix}{n}"));
    Ok(Conditions {
        if_match: get("if-match")?.map(etag_list),
        if_none_match: get("if-none-match")?.map(etag_list),
        if_modified_since: get("if-modified-since")?.and_then(parse_http_date),
        if_unmodified_since: get("if-unmodified-since")?.and_then(parse_http_date),
    })
}

/// Write preconditions of PutObject (`If-Match`, `If-None-Match: *`).
pub(crate) fn write_conditions(headers: &HeaderMap) -> S3Result<WriteConditions> {
    let if_none_match = header_str(headers, "if-none-match")?;
    if let Some(v) = if_none_match
        && v.trim() != "*"
    {
        return Err(S3Error::new(
            "NotImplemented",
            http::StatusCode::NOT_IMPLEMENTED,
            "If-None-Match on writes supports only '*'.",
        ));
    }
    Ok(WriteConditions {
        if_match: header_str(headers, "if-match")?.map(str::to_owned),
        if_none_match_any: if_none_match.is_some(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(
            parse_range(Some("bytes=0-9")),
            Some(ByteRange::FromTo(0, 9))
        );
        assert_eq!(parse_range(Some("bytes=5-")), Some(ByteRange::From(5)));
        assert_eq!(parse_range(Some("bytes=-3")), Some(ByteRange::Suffix(3)));
        for bad in [
            "bytes=-",
            "bytes=a-b",
            "items=0-1",
            "bytes=0-1,3-4",
            "bytes=+1-2",
            "bytes=99999999999999999999999-",
        ] {
            assert_eq!(parse_range(Some(bad)), None, "{bad}");
        }
        assert_eq!(parse_range(None), None);
    }

    #[test]
    fn dates() {
        let t = OffsetDateTime::from_unix_timestamp(1_255_369_830).expect("valid");
        assert_eq!(http_date(t), "Mon, 12 Oct 2009 17:50:30 GMT");
        assert_eq!(parse_http_date("Mon, 12 Oct 2009 17:50:30 GMT"), Some(t));
        assert_eq!(parse_http_date("yesterday"), None);
        assert_eq!(
            iso8601(t + time::Duration::milliseconds(5)),
            "2009-10-12T17:50:30.005Z"
        );
    }

    #[test]
    fn attrs_strip_aws_chunked_and_collect_metadata() {
        let mut h = HeaderMap::new();
        h.insert(
            "content-encoding",
            HeaderValue::from_static("aws-chunked,gzip"),
        );
        h.insert("x-amz-meta-camera", HeaderValue::from_static("front"));
        let a = attrs_from_headers(&h).expect("valid");
        assert_eq!(a.content_encoding.as_deref(), Some("gzip"));
        assert_eq!(
            a.user_metadata.get("camera").map(String::as_str),
            Some("front")
        );
        h.insert("content-encoding", HeaderValue::from_static("aws-chunked"));
        assert_eq!(
            attrs_from_headers(&h).expect("valid").content_encoding,
            None
        );
        h.insert(
            "x-amz-meta-big",
            HeaderValue::from_str(&"x".repeat(3000)).expect("ascii"),
        );
        assert_eq!(
            attrs_from_headers(&h).expect_err("too large").code,
            "MetadataTooLarge"
        );
    }
}
