//! The canonical request, the string to sign and the signing key
//! (AWS General Reference, "Create a signed AWS API request", steps 1 to 4).

use hmac::{Hmac, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::{AuthError, malformed};
use crate::limits;
use crate::{AuthLocation, CredentialScope, RequestParts, SecretKey};

/// The algorithm name of SigV4 with HMAC-SHA256.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// SHA-256 of the empty string, the payload hash of a request without body.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// The payload hash of a request whose body is not signed (S3 presigned URLs, S3 over TLS).
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The payload hash announcing an `aws-chunked` body with per-chunk signatures (S3).
pub const STREAMING_PAYLOAD: &str = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD";

/// Everything but the RFC 3986 unreserved characters `A-Z a-z 0-9 - . _ ~` is encoded
/// ("URI-encode each byte", canonical request step).
const URI_ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Like [`URI_ENCODE`] but keeps `/`, for paths.
const URI_ENCODE_PATH: &AsciiSet = &URI_ENCODE.remove(b'/');

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// URI-encodes `input` the SigV4 way: every byte except `A-Z a-z 0-9 - . _ ~` becomes `%XX`
/// (uppercase hex); `/` is kept when `keep_slash` is set (for paths).
pub fn uri_encode(input: &str, keep_slash: bool) -> String {
    let set = if keep_slash {
        URI_ENCODE_PATH
    } else {
        URI_ENCODE
    };
    utf8_percent_encode(input, set).to_string()
}

/// Encodes raw bytes (the result of percent-decoding, possibly not UTF-8) with [`URI_ENCODE`].
fn uri_encode_bytes(input: &[u8]) -> String {
    percent_encoding::percent_encode(input, URI_ENCODE).to_string()
}

pub(crate) fn hmac(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC (RFC 2104) takes keys of any length: long keys are hashed, short ones padded, so
    // `new_from_slice` cannot fail here.
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// The SigV4 signing key: `HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service),
/// "aws4_request")` (General Reference, "Derive a signing key").
pub fn signing_key(secret: &SecretKey, date: &str, region: &str, service: &str) -> [u8; 32] {
    let mut seed = Vec::with_capacity(4 + secret.expose_secret().len());
    seed.extend_from_slice(b"AWS4");
    seed.extend_from_slice(secret.expose_secret().as_bytes());
    let mut k_date = hmac(&seed, date.as_bytes());
    seed.zeroize();
    let mut k_region = hmac(&k_date, region.as_bytes());
    k_date.zeroize();
    let mut k_service = hmac(&k_region, service.as_bytes());
    k_region.zeroize();
    let k_signing = hmac(&k_service, b"aws4_request");
    k_service.zeroize();
    k_signing
}

/// `HMAC(signing_key, string_to_sign)` as lowercase hex.
pub fn signature(signing_key: &[u8; 32], string_to_sign: &str) -> String {
    hex::encode(hmac(signing_key, string_to_sign.as_bytes()))
}

/// The string to sign: algorithm, request date, credential scope and the hash of the canonical
/// request, one per line (General Reference, "Create a string to sign").
pub fn string_to_sign(amz_date: &str, scope: &CredentialScope, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{scope}\n{}",
        sha256_hex(canonical_request.as_bytes())
    )
}

/// Whether `service` signs its path as sent rather than double-encoded and normalized.
///
/// S3 is the one exception the SigV4 documentation names ("each path segment must be
/// URI-encoded twice ... except for Amazon S3 which only gets URI-encoded once").
fn single_encoded_path(service: &str) -> bool {
    service == "s3"
}

/// The canonical URI of `raw_path`, the path exactly as received (still percent-encoded).
///
/// For S3 the path is used as-is. Every other service normalizes it (RFC 3986 §5.2.4 dot
/// segments removed, empty segments dropped as botocore does) and URI-encodes it *again*, so
/// `/tags/arn%3Aaws` is signed as `/tags/arn%253Aaws`.
pub fn canonical_uri(raw_path: &str, service: &str) -> String {
    if raw_path.is_empty() {
        return "/".to_owned();
    }
    if single_encoded_path(service) {
        return raw_path.to_owned();
    }
    uri_encode(&remove_dot_segments(raw_path), true)
}

/// RFC 3986 §5.2.4 "Remove Dot Segments", also collapsing `//`, which AWS services require.
fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    for segment in path.split('/') {
        match segment {
            "" | "." => {}
            ".." => {
                out.pop();
            }
            s => out.push(s),
        }
    }
    let mut res = String::with_capacity(path.len());
    if path.starts_with('/') {
        res.push('/');
    }
    res.push_str(&out.join("/"));
    if path.ends_with('/') && !out.is_empty() {
        res.push('/');
    }
    res
}

/// The canonical query string of `raw_query` (without the leading `?`).
///
/// Names and values are percent-decoded and URI-encoded again, a parameter without `=` gets an
/// empty value, and pairs are sorted by name then value. `+` is a literal plus (SigV4 clients
/// encode spaces as `%20`). With `exclude_signature` (presigned form) `X-Amz-Signature` is left
/// out, as the signature cannot sign itself.
pub fn canonical_query(raw_query: &str, exclude_signature: bool) -> Result<String, AuthError> {
    if raw_query.len() > limits::MAX_QUERY_LEN {
        return Err(malformed("The query string is too long."));
    }
    let n_params = raw_query.split('&').filter(|p| !p.is_empty()).count();
    if n_params > limits::MAX_QUERY_PARAMS {
        return Err(malformed("The query string has too many parameters."));
    }
    Ok(canonical_query_unbounded(raw_query, exclude_signature))
}

/// [`canonical_query`] without the limits, for the signer, whose input is not hostile.
pub(crate) fn canonical_query_unbounded(raw_query: &str, exclude_signature: bool) -> String {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for param in raw_query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = param.split_once('=').unwrap_or((param, ""));
        let name: Vec<u8> = percent_decode_str(name).collect();
        if exclude_signature && name == b"X-Amz-Signature" {
            continue;
        }
        let value: Vec<u8> = percent_decode_str(value).collect();
        pairs.push((uri_encode_bytes(&name), uri_encode_bytes(&value)));
    }
    pairs.sort_unstable();
    let mut out = String::with_capacity(raw_query.len() + 16);
    for (idx, (name, value)) in pairs.iter().enumerate() {
        if idx > 0 {
            out.push('&');
        }
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    out
}

/// Appends the canonical form of a header value: surrounding whitespace trimmed and inner runs
/// of whitespace collapsed to one space ("Trimall").
fn push_trimmed(out: &mut String, value: &str) {
    let mut first = true;
    for word in value.split_ascii_whitespace() {
        if !first {
            out.push(' ');
        }
        out.push_str(word);
        first = false;
    }
}

/// The canonical headers block (each `name:value\n`) for `signed_headers`, which must be
/// lowercase and sorted. Repeated headers are joined with `,` in the order received.
///
/// A signed header the request lacks means the request is not the one that was signed:
/// [`AuthError::SignatureMismatch`].
pub fn canonical_headers(
    headers: &[(String, String)],
    signed_headers: &[String],
) -> Result<String, AuthError> {
    let mut out = String::new();
    for name in signed_headers {
        out.push_str(name);
        out.push(':');
        let mut found = false;
        for (_, value) in headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)) {
            if found {
                out.push(',');
            }
            push_trimmed(&mut out, value);
            found = true;
        }
        if !found {
            return Err(AuthError::SignatureMismatch);
        }
        out.push('\n');
    }
    Ok(out)
}

/// The canonical request (General Reference, "Create a canonical request"): method, canonical
/// URI, canonical query, canonical headers, signed header names and payload hash.
///
/// `service` selects the path rule (see [`canonical_uri`]); `location` says whether
/// `X-Amz-Signature` is left out of the query (presigned form).
pub fn canonical_request(
    parts: &RequestParts<'_>,
    signed_headers: &[String],
    payload_hash: &str,
    service: &str,
    location: AuthLocation,
) -> Result<String, AuthError> {
    let uri = canonical_uri(parts.raw_path, service);
    let query = canonical_query(parts.raw_query, location == AuthLocation::Query)?;
    let headers = canonical_headers(parts.headers, signed_headers)?;
    Ok(format!(
        "{}\n{uri}\n{query}\n{headers}\n{}\n{payload_hash}",
        parts.method,
        signed_headers.join(";")
    ))
}

/// Parses an ISO 8601 basic timestamp `YYYYMMDDTHHMMSSZ` into unix seconds.
pub(crate) fn parse_amz_date(amz_date: &str) -> Result<i64, AuthError> {
    let bad = || {
        malformed(format!(
            "Invalid X-Amz-Date '{}': expected YYYYMMDDTHHMMSSZ.",
            truncate(amz_date)
        ))
    };
    let b = amz_date.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return Err(bad());
    }
    let digits = |range: std::ops::Range<usize>| -> Result<u32, AuthError> {
        let s = &b[range];
        if !s.iter().all(u8::is_ascii_digit) {
            return Err(bad());
        }
        Ok(s.iter().fold(0u32, |acc, d| acc * 10 + u32::from(d - b'0')))
    };
    let year = digits(0..4)?;
    let month = digits(4..6)?;
    let day = digits(6..8)?;
    let hour = digits(9..11)?;
    let minute = digits(11..13)?;
    let second = digits(13..15)?;
    let month = u8::try_from(month)
        .ok()
        .and_then(|m| time::Month::try_from(m).ok())
        .ok_or_else(bad)?;
    // Four digits always fit in i32; the day, hour, minute and second fit in u8.
    let date = time::Date::from_calendar_date(year as i32, month, day as u8).map_err(|_| bad())?;
    let clock = time::Time::from_hms(hour as u8, minute as u8, second as u8).map_err(|_| bad())?;
    Ok(time::PrimitiveDateTime::new(date, clock)
        .assume_utc()
        .unix_timestamp())
}

/// Formats a point in time as `YYYYMMDDTHHMMSSZ` in UTC.
pub fn format_amz_date(now: time::OffsetDateTime) -> String {
    let now = now.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second()
    )
}

/// Cuts attacker-controlled text quoted back in error messages to a sane length.
pub(crate) fn truncate(s: &str) -> &str {
    let mut end = s.len().min(64);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}
