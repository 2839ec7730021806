//! Checking a parsed signature against the request and the secret key.

use subtle::ConstantTimeEq;

use crate::canonical::{canonical_request, parse_amz_date, signature, signing_key, string_to_sign};
use crate::error::{AuthError, malformed};
use crate::limits;
use crate::{AuthLocation, ParsedAuth, RequestParts, SecretKey};

/// Verifies the signature of a request whose authentication [`crate::parse`] returned.
///
/// `payload_hash` is the hex SHA-256 of the body, or the literal the client declared and the
/// caller accepts: [`crate::UNSIGNED_PAYLOAD`], [`crate::STREAMING_PAYLOAD`] (S3 takes it from
/// `x-amz-content-sha256`), or for a presigned URL [`crate::presigned_payload_hash`].
/// `now_unix` is the server clock in seconds since the Unix epoch.
///
/// Time rules: a header-signed request must be within 15 minutes of `now_unix`
/// ([`AuthError::ClockSkew`]); a presigned one is valid from `X-Amz-Date` to
/// `X-Amz-Date + X-Amz-Expires` inclusive ([`AuthError::NotYetValid`], [`AuthError::Expired`]).
/// The signatures are compared in constant time.
///
/// The caller checks that the credential scope's region and service are the ones it serves and
/// looks up `secret` by `auth.access_key_id`.
pub fn verify(
    parts: &RequestParts<'_>,
    auth: &ParsedAuth,
    secret: &SecretKey,
    payload_hash: &str,
    now_unix: i64,
) -> Result<(), AuthError> {
    // `parse` already enforces these; a hand-built `ParsedAuth` must not bypass them.
    if !auth.amz_date.starts_with(&auth.scope.date) {
        return Err(malformed(
            "Date in Credential scope does not match the request date.",
        ));
    }
    if !auth.signed_headers.iter().any(|n| n == "host") {
        return Err(malformed(
            "'Host' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let signed_at = parse_amz_date(&auth.amz_date)?;
    check_time(auth, signed_at, now_unix)?;

    let creq = canonical_request(
        parts,
        &auth.signed_headers,
        payload_hash,
        &auth.scope.service,
        auth.location,
    )?;
    let sts = string_to_sign(&auth.amz_date, &auth.scope, &creq);
    let key = signing_key(
        secret,
        &auth.scope.date,
        &auth.scope.region,
        &auth.scope.service,
    );
    let expected = signature(&key, &sts);
    if bool::from(expected.as_bytes().ct_eq(auth.signature.as_bytes())) {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

fn check_time(auth: &ParsedAuth, signed_at: i64, now_unix: i64) -> Result<(), AuthError> {
    // i128 so that no `now_unix` can overflow the arithmetic.
    let (signed_at, now) = (i128::from(signed_at), i128::from(now_unix));
    match auth.location {
        AuthLocation::Header => {
            if (now - signed_at).abs() > i128::from(limits::MAX_CLOCK_SKEW_SECS) {
                return Err(AuthError::ClockSkew);
            }
        }
        AuthLocation::Query => {
            let Some(expires) = auth.expires else {
                return Err(malformed("A presigned request requires X-Amz-Expires."));
            };
            if expires > limits::MAX_PRESIGNED_EXPIRES_SECS {
                return Err(malformed(
                    "X-Amz-Expires must be less than a week (in seconds) that is 604800",
                ));
            }
            if now < signed_at {
                return Err(AuthError::NotYetValid);
            }
            if now > signed_at + i128::from(expires) {
                return Err(AuthError::Expired);
            }
        }
    }
    Ok(())
}
