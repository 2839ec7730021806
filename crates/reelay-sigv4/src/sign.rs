//! Signing requests, for reelay's own tools and tests (the server only verifies).

use time::OffsetDateTime;

use crate::canonical::{
    ALGORITHM, EMPTY_SHA256, UNSIGNED_PAYLOAD, canonical_headers, canonical_query_unbounded,
    canonical_uri, format_amz_date, hmac, signature, signing_key, string_to_sign, uri_encode,
};
use crate::error::{AuthError, malformed};
use crate::limits;
use crate::{CredentialScope, Credentials};

/// Who signs, for which region and service, and when.
#[derive(Clone, Debug)]
pub struct SigningParams<'a> {
    /// The key pair to sign with.
    pub credentials: &'a Credentials,
    /// The region of the credential scope.
    pub region: &'a str,
    /// The signing name of the credential scope (`ivs`, `kinesisvideo`, `s3`, ...).
    pub service: &'a str,
    /// The signing time; becomes `x-amz-date` and the scope date.
    pub time: OffsetDateTime,
    /// An STS session token, sent as `x-amz-security-token` / `X-Amz-Security-Token`.
    pub session_token: Option<&'a str>,
    /// Whether to send (and sign) `x-amz-content-sha256`, which S3 requires and botocore sends
    /// for S3 only.
    pub content_sha256_header: bool,
}

impl<'a> SigningParams<'a> {
    /// Parameters without session token; `x-amz-content-sha256` only for service `s3`.
    pub fn new(
        credentials: &'a Credentials,
        region: &'a str,
        service: &'a str,
        time: OffsetDateTime,
    ) -> Self {
        Self {
            credentials,
            region,
            service,
            time,
            session_token: None,
            content_sha256_header: service == "s3",
        }
    }

    fn scope(&self, amz_date: &str) -> CredentialScope {
        // `format_amz_date` always yields at least 16 ASCII characters, the first 8 the date.
        CredentialScope {
            date: amz_date[..8].to_owned(),
            region: self.region.to_owned(),
            service: self.service.to_owned(),
        }
    }
}

/// The payload hash a presigned URL is signed with: `UNSIGNED-PAYLOAD` for S3 (S3 API
/// reference, "Authenticating Requests: Using Query Parameters"), the empty-body hash for every
/// other service (as botocore's `SigV4QueryAuth` does for a body-less request).
pub fn presigned_payload_hash(service: &str) -> &'static str {
    if service == "s3" {
        UNSIGNED_PAYLOAD
    } else {
        EMPTY_SHA256
    }
}

/// Signs a request with the `Authorization` header form and returns the headers to add:
/// `x-amz-date`, `x-amz-content-sha256` (when asked), `x-amz-security-token` (when a session
/// token is given) and `authorization`.
///
/// `path_and_query` is the request target exactly as it will be sent (already percent-encoded,
/// for example `/tags/arn%3Aaws%3Aivs%3A...?tagKeys=a`). Every header in `headers` is signed, so
/// pass the ones that will be sent unchanged, and `host` among them (with the port when it is
/// not the scheme's default, as clients send it). Any `authorization`, `x-amz-date`, and the
/// headers this function adds, are ignored in `headers`.
pub fn sign_headers(
    method: &str,
    path_and_query: &str,
    headers: &[(String, String)],
    payload_hash: &str,
    params: &SigningParams<'_>,
) -> Vec<(String, String)> {
    let amz_date = format_amz_date(params.time);
    let mut added: Vec<(String, String)> = vec![("x-amz-date".to_owned(), amz_date.clone())];
    if params.content_sha256_header {
        added.push(("x-amz-content-sha256".to_owned(), payload_hash.to_owned()));
    }
    if let Some(token) = params.session_token {
        added.push(("x-amz-security-token".to_owned(), token.to_owned()));
    }
    let mut all: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !name.eq_ignore_ascii_case("authorization")
                && !added.iter().any(|(a, _)| name.eq_ignore_ascii_case(a))
        })
        .cloned()
        .collect();
    all.extend(added.iter().cloned());
    let mut signed: Vec<String> = all.iter().map(|(n, _)| n.to_ascii_lowercase()).collect();
    signed.sort_unstable();
    signed.dedup();

    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    // Every name in `signed` was taken from `all`, so no signed header can be missing.
    let canonical_headers =
        canonical_headers(&all, &signed).expect("every signed header comes from `all`");
    let creq = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{}\n{payload_hash}",
        canonical_uri(path, params.service),
        canonical_query_unbounded(query, false),
        signed.join(";")
    );
    let scope = params.scope(&amz_date);
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(
        &params.credentials.secret,
        &scope.date,
        &scope.region,
        &scope.service,
    );
    let authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={}, Signature={}",
        params.credentials.access_key_id,
        signed.join(";"),
        signature(&key, &sts)
    );
    added.push(("authorization".to_owned(), authorization));
    added
}

/// Presigns `url` (`http://host[:port]/path?query`, path already percent-encoded) for `method`,
/// valid for `expires_secs` seconds from `params.time`, and returns the URL with the
/// `X-Amz-*` query parameters appended. Only `host` is signed; the payload hash is
/// [`presigned_payload_hash`].
///
/// Errors when the URL has no `http://` or `https://` scheme or no host, or when
/// `expires_secs` exceeds 7 days.
pub fn presign_url(
    method: &str,
    url: &str,
    expires_secs: u64,
    params: &SigningParams<'_>,
) -> Result<String, AuthError> {
    if expires_secs > limits::MAX_PRESIGNED_EXPIRES_SECS {
        return Err(malformed(
            "X-Amz-Expires must be less than a week (in seconds) that is 604800",
        ));
    }
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
        .ok_or_else(|| malformed("The URL must start with http:// or https://."))?;
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, target) = rest.split_at(authority_end);
    if authority.is_empty() {
        return Err(malformed("The URL has no host."));
    }
    let (path, query) = target.split_once('?').unwrap_or((target, ""));

    let amz_date = format_amz_date(params.time);
    let scope = params.scope(&amz_date);
    let mut query = query.to_owned();
    let mut add = |name: &str, value: &str| {
        if !query.is_empty() {
            query.push('&');
        }
        query.push_str(name);
        query.push('=');
        query.push_str(&uri_encode(value, false));
    };
    add("X-Amz-Algorithm", ALGORITHM);
    add(
        "X-Amz-Credential",
        &format!("{}/{scope}", params.credentials.access_key_id),
    );
    add("X-Amz-Date", &amz_date);
    add("X-Amz-Expires", &expires_secs.to_string());
    add("X-Amz-SignedHeaders", "host");
    if let Some(token) = params.session_token {
        add("X-Amz-Security-Token", token);
    }
    let creq = format!(
        "{method}\n{}\n{}\nhost:{authority}\n\nhost\n{}",
        canonical_uri(path, params.service),
        canonical_query_unbounded(&query, true),
        presigned_payload_hash(params.service)
    );
    let sts = string_to_sign(&amz_date, &scope, &creq);
    let key = signing_key(
        &params.credentials.secret,
        &scope.date,
        &scope.region,
        &scope.service,
    );
    let path = if path.is_empty() { "/" } else { path };
    let scheme_len = url.len() - rest.len();
    Ok(format!(
        "{}{authority}{path}?{query}&X-Amz-Signature={}",
        &url[..scheme_len],
        signature(&key, &sts)
    ))
}

/// The signature of one chunk of an `aws-chunked` body signed with
/// `STREAMING-AWS4-HMAC-SHA256-PAYLOAD` (S3 API reference, "Signature Calculations for the
/// Authorization Header: Transferring Payload in Multiple Chunks").
///
/// The string to sign is `AWS4-HMAC-SHA256-PAYLOAD`, the request's `x-amz-date`, the scope, the
/// previous signature (the request's own for the first chunk), the hash of the empty string and
/// `chunk_hash`, the hex SHA-256 of the chunk data, one per line.
pub fn chunk_signature(
    signing_key: &[u8; 32],
    amz_date: &str,
    scope: &CredentialScope,
    previous_signature: &str,
    chunk_hash: &str,
) -> String {
    let sts = format!(
        "AWS4-HMAC-SHA256-PAYLOAD\n{amz_date}\n{scope}\n{previous_signature}\n{EMPTY_SHA256}\n{chunk_hash}"
    );
    hex::encode(hmac(signing_key, sts.as_bytes()))
}
