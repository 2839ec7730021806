//! AWS Signature Version 4, sans-IO.
//!
//! The server side reads the authentication of a request with [`parse`] and checks it with
//! [`verify`]; reelay's tools and tests sign with [`sign_headers`] and [`presign_url`]. Every
//! function works on strings and bytes: time is an argument and nothing here does I/O or reads a
//! clock.
//!
//! The rules follow the AWS General Reference ("Create a signed AWS API request") and, where
//! it is silent, what botocore 1.44.5 does: non-S3 paths are normalized and URI-encoded a second
//! time, S3 paths are signed as sent; query names and values are decoded, re-encoded and sorted;
//! header values are trimmed with inner whitespace collapsed and repeated headers joined by `,`.
//!
//! Not supported: SigV4a (`AWS4-ECDSA-P256-SHA256`), the `Date` header instead of `x-amz-date`,
//! and form-encoded `+` meaning space in queries (SigV4 clients send `%20`).

mod canonical;
pub mod credentials_file;
mod error;
pub mod limits;
mod parse;
mod secret;
mod sign;
mod verify;

#[cfg(test)]
mod tests;

use std::fmt;

pub use canonical::{
    ALGORITHM, EMPTY_SHA256, STREAMING_PAYLOAD, UNSIGNED_PAYLOAD, canonical_headers,
    canonical_query, canonical_request, canonical_uri, format_amz_date, sha256_hex, signature,
    signing_key, string_to_sign, uri_encode,
};
pub use error::AuthError;
pub use parse::parse;
pub use secret::{Credentials, SecretKey, account_for_access_key};
pub use sign::{SigningParams, chunk_signature, presign_url, presigned_payload_hash, sign_headers};
pub use verify::verify;

/// The scope a signature is valid for: `yyyymmdd/region/service/aws4_request`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialScope {
    /// The signing date, `yyyymmdd`.
    pub date: String,
    /// The region, e.g. `us-east-1`.
    pub region: String,
    /// The signing name, e.g. `ivs` (also for ivs-realtime), `kinesisvideo`, `s3`.
    pub service: String,
}

impl fmt::Display for CredentialScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/aws4_request",
            self.date, self.region, self.service
        )
    }
}

/// Where the authentication of a request was found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthLocation {
    /// The `Authorization` header.
    Header,
    /// Presigned query parameters (`X-Amz-Signature` and friends).
    Query,
}

/// The SigV4 authentication of a request, as sent and not yet verified.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedAuth {
    /// The access key id from the credential.
    pub access_key_id: String,
    /// The credential scope.
    pub scope: CredentialScope,
    /// The signed header names: lowercase, sorted, unique, including `host`.
    pub signed_headers: Vec<String>,
    /// The signature, 64 lowercase hex digits.
    pub signature: String,
    /// The signing time `YYYYMMDDTHHMMSSZ`, from `x-amz-date` or `X-Amz-Date`.
    pub amz_date: String,
    /// Header or presigned form.
    pub location: AuthLocation,
    /// `X-Amz-Expires` in seconds (presigned form only).
    pub expires: Option<u64>,
    /// `x-amz-security-token` / `X-Amz-Security-Token`, when sent.
    pub security_token: Option<String>,
    /// The `x-amz-content-sha256` header, when sent (S3 requires it).
    pub content_sha256: Option<String>,
}

/// The parts of an HTTP request that SigV4 covers, borrowed from whatever server holds it.
#[derive(Clone, Copy, Debug)]
pub struct RequestParts<'a> {
    /// The method, uppercase as sent (`GET`).
    pub method: &'a str,
    /// The path as received, still percent-encoded, without the query.
    pub raw_path: &'a str,
    /// The query as received, without `?`; empty when there is none.
    pub raw_query: &'a str,
    /// Every header in the order received; names in any case, repeats allowed. For HTTP/2 the
    /// server passes `:authority` as `host`.
    pub headers: &'a [(String, String)],
}
