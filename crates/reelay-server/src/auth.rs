//! Who is calling: SigV4 at the edge.
//!
//! In the default mode any well-formed signature is accepted (as local emulators do) and only
//! its credential scope is read: the signing name routes the request, the region scopes the
//! resources, and the access key id names the account (itself when it is 12 digits, else
//! `000000000000`). In strict mode the signature is verified against the configured
//! credentials with a 15-minute clock-skew window, in constant time.

use crate::config::AuthMode;
use reelay_sigv4::{AuthError, ParsedAuth};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account id.
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
    /// Signing name from the credential scope (None for unsigned requests in accept mode).
    pub signing_name: Option<String>,
    /// The parsed authentication, when present.
    pub auth: Option<ParsedAuth>,
    /// A legacy S3 query-string presign (Signature Version 2), when that is what was sent.
    pub s3_v2: Option<S3PresignV2>,
}

/// The query parameters of an S3 Signature Version 2 presigned URL
/// (`AWSAccessKeyId`, `Expires`, `Signature`), which botocore still produces for
/// `generate_presigned_url("get_object", ...)` against a custom endpoint.
#[derive(Debug, Clone)]
pub struct S3PresignV2 {
    /// The access key id.
    pub access_key_id: String,
    /// Expiry, seconds since the epoch.
    pub expires: i64,
    /// The base64 HMAC-SHA1 signature.
    pub signature: String,
}

/// Sub-resources that are part of the SigV2 canonicalized resource (S3 developer guide,
/// "Signing and authenticating REST requests", CanonicalizedResource element).
const V2_SUBRESOURCES: &[&str] = &[
    "acl",
    "cors",
    "delete",
    "lifecycle",
    "location",
    "logging",
    "notification",
    "partNumber",
    "policy",
    "requestPayment",
    "response-cache-control",
    "response-content-disposition",
    "response-content-encoding",
    "response-content-language",
    "response-content-type",
    "response-expires",
    "restore",
    "tagging",
    "torrent",
    "uploadId",
    "uploads",
    "versionId",
    "versioning",
    "versions",
    "website",
];

fn parse_v2(raw_query: &str) -> Option<S3PresignV2> {
    let pairs = reelay_aws::codec::query_pairs(raw_query).ok()?;
    let get = |k: &str| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    Some(S3PresignV2 {
        access_key_id: get("AWSAccessKeyId")?,
        expires: get("Expires")?.parse().ok()?,
        signature: get("Signature")?,
    })
}

/// Verify an S3 SigV2 query presign: HMAC-SHA1 over
/// `METHOD\nContent-MD5\nContent-Type\nExpires\nCanonicalizedAmzHeaders CanonicalizedResource`.
pub fn verify_s3_v2(
    mode: &AuthMode,
    v2: &S3PresignV2,
    method: &str,
    raw_path: &str,
    raw_query: &str,
    headers: &[(String, String)],
    now_unix: i64,
) -> Result<(), AuthError> {
    use hmac::{Hmac, Mac};
    let AuthMode::Strict(creds) = mode else {
        return Ok(());
    };
    let cred = creds
        .iter()
        .find(|c| c.access_key_id == v2.access_key_id)
        .ok_or(AuthError::UnknownAccessKey)?;
    if now_unix > v2.expires {
        return Err(AuthError::Expired);
    }
    let header = |name: &str| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let mut amz: Vec<(String, String)> = headers
        .iter()
        .filter(|(k, _)| k.to_ascii_lowercase().starts_with("x-amz-"))
        .map(|(k, v)| (k.to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    amz.sort();
    let mut resource = raw_path.to_string();
    let mut subs: Vec<(String, String)> = reelay_aws::codec::query_pairs(raw_query)
        .map_err(|e| AuthError::Malformed(e.to_string()))?
        .into_iter()
        .filter(|(k, _)| V2_SUBRESOURCES.contains(&k.as_str()))
        .collect();
    subs.sort();
    if !subs.is_empty() {
        let joined: Vec<String> = subs
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        resource = format!("{resource}?{}", joined.join("&"));
    }
    let mut sts = format!(
        "{method}\n{}\n{}\n{}\n",
        header("content-md5"),
        header("content-type"),
        v2.expires
    );
    for (k, v) in &amz {
        sts.push_str(&format!("{k}:{v}\n"));
    }
    sts.push_str(&resource);
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(cred.secret.expose_secret().as_bytes())
        .map_err(|_| AuthError::Malformed("bad key".into()))?;
    mac.update(sts.as_bytes());
    let expected = base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        mac.finalize().into_bytes(),
    );
    if subtle::ConstantTimeEq::ct_eq(expected.as_bytes(), v2.signature.as_bytes()).into() {
        Ok(())
    } else {
        Err(AuthError::SignatureMismatch)
    }
}

/// Default region of unsigned requests in accept mode.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default account.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// Read the authentication of a request (before the body is read).
pub fn identify(
    mode: &AuthMode,
    parts: &reelay_sigv4::RequestParts<'_>,
) -> Result<Caller, AuthError> {
    match reelay_sigv4::parse(parts) {
        Ok(auth) => Ok(Caller {
            account: account_of(mode, &auth.access_key_id)?,
            region: auth.scope.region.clone(),
            signing_name: Some(auth.scope.service.clone()),
            auth: Some(auth),
            s3_v2: None,
        }),
        // Only S3 ever used Signature Version 2 presigns; their region is not signed.
        Err(AuthError::Missing) if let Some(v2) = parse_v2(parts.raw_query) => Ok(Caller {
            account: account_of(mode, &v2.access_key_id)?,
            region: DEFAULT_REGION.into(),
            signing_name: Some("s3".into()),
            auth: None,
            s3_v2: Some(v2),
        }),
        Err(AuthError::Missing) if matches!(mode, AuthMode::Accept) => Ok(Caller {
            account: DEFAULT_ACCOUNT.into(),
            region: DEFAULT_REGION.into(),
            signing_name: None,
            auth: None,
            s3_v2: None,
        }),
        Err(e) => Err(e),
    }
}

/// The account an access key id belongs to: derived from the key in accept mode, configured (or
/// derived) for a known key in strict mode.
fn account_of(mode: &AuthMode, access_key_id: &str) -> Result<String, AuthError> {
    match mode {
        AuthMode::Accept => Ok(reelay_sigv4::account_for_access_key(access_key_id)),
        AuthMode::Strict(creds) => creds
            .iter()
            .find(|c| c.access_key_id == access_key_id)
            .map(|c| c.account())
            .ok_or(AuthError::UnknownAccessKey),
    }
}

/// Verify the signature in strict mode once the payload hash is known; a no-op in accept mode.
pub fn verify(
    mode: &AuthMode,
    caller: &Caller,
    parts: &reelay_sigv4::RequestParts<'_>,
    payload_hash: &str,
    now_unix: i64,
) -> Result<(), AuthError> {
    let AuthMode::Strict(creds) = mode else {
        return Ok(());
    };
    let Some(auth) = &caller.auth else {
        return Err(AuthError::Missing);
    };
    let cred = creds
        .iter()
        .find(|c| c.access_key_id == auth.access_key_id)
        .ok_or(AuthError::UnknownAccessKey)?;
    reelay_sigv4::verify(parts, auth, &cred.secret, payload_hash, now_unix)
}
