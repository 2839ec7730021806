//! Chunk signatures of `STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]` bodies (Amazon S3 API
//! Reference, "Signature Calculations for the Authorization Header: Transferring Payload in
//! Multiple Chunks (Chunked Upload) (AWS Signature Version 4)" and "… Including Trailing
//! Headers").
//!
//! Each chunk signature chains on the previous one, starting from the seed signature of the
//! request's `Authorization` header:
//!
//! ```text
//! AWS4-HMAC-SHA256-PAYLOAD \n <amz-date> \n <scope> \n <previous signature> \n
//! hex(sha256("")) \n hex(sha256(chunk data))
//! ```
//!
//! and the trailer signature covers the trailing header lines `name:value\n`:
//!
//! ```text
//! AWS4-HMAC-SHA256-TRAILER \n <amz-date> \n <scope> \n <previous signature> \n
//! hex(sha256(trailer lines))
//! ```

use std::fmt;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// hex(sha256("")).
const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// A SigV4 signing key (the result of the `AWS4<secret>` → date → region → service →
/// `aws4_request` HMAC chain). Secret: redacted in `Debug`, zeroed on drop, compared in
/// constant time.
#[derive(Clone)]
pub struct SigningKey([u8; 32]);

impl SigningKey {
    /// Wraps raw key bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        SigningKey(bytes)
    }

    /// Derives the key from a secret access key and scope parts (SigV4 "Derive a signing key").
    pub fn derive(secret_access_key: &str, date: &str, region: &str, service: &str) -> Self {
        let mut k_secret = format!("AWS4{secret_access_key}").into_bytes();
        let k_date = hmac_sha256(&k_secret, date.as_bytes());
        k_secret.zeroize();
        let k_region = hmac_sha256(&k_date, region.as_bytes());
        let k_service = hmac_sha256(&k_region, service.as_bytes());
        SigningKey(hmac_sha256(&k_service, b"aws4_request"))
    }
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SigningKey(<redacted>)")
    }
}

impl PartialEq for SigningKey {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SigningKey {}

impl Drop for SigningKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// What is needed to verify the chunk signatures of a streaming SigV4 body; filled by the
/// server's authentication layer from the request's `Authorization` header.
#[derive(Clone, Debug)]
pub struct ChunkVerifier {
    /// The request's signing key.
    pub signing_key: SigningKey,
    /// The signature of the request headers (the seed of the chain), lowercase hex.
    pub seed_signature: String,
    /// Credential scope: `<yyyymmdd>/<region>/s3/aws4_request`.
    pub scope: String,
    /// `X-Amz-Date` of the request: `yyyymmddThhmmssZ`.
    pub amz_date: String,
}

pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    // HMAC accepts keys of any length, so construction cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
    mac.update(data);
    mac.finalize().into_bytes().into()
}

impl ChunkVerifier {
    /// The expected signature of a chunk whose SHA-256 is `chunk_sha256`.
    pub fn chunk_signature(&self, previous: &str, chunk_sha256: &[u8; 32]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-PAYLOAD\n{}\n{}\n{previous}\n{EMPTY_SHA256}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(chunk_sha256)
        );
        hex::encode(hmac_sha256(&self.signing_key.0, sts.as_bytes()))
    }

    /// The expected signature of the trailer lines (`name:value\n` each).
    pub fn trailer_signature(&self, previous: &str, trailer_lines: &[u8]) -> String {
        let sts = format!(
            "AWS4-HMAC-SHA256-TRAILER\n{}\n{}\n{previous}\n{}",
            self.amz_date,
            self.scope,
            hex::encode(Sha256::digest(trailer_lines))
        );
        hex::encode(hmac_sha256(&self.signing_key.0, sts.as_bytes()))
    }
}

/// Constant-time comparison of two signatures.
pub(crate) fn signatures_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The worked example of the S3 API Reference chunked-upload page: a 66560-byte object of
    /// `a` bytes uploaded in chunks of 65536 and 1024 bytes.
    #[test]
    fn aws_documented_chunk_signatures() {
        let key = SigningKey::derive(
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "20130524",
            "us-east-1",
            "s3",
        );
        let v = ChunkVerifier {
            signing_key: key,
            seed_signature: "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9"
                .into(),
            scope: "20130524/us-east-1/s3/aws4_request".into(),
            amz_date: "20130524T000000Z".into(),
        };
        let sha = |data: &[u8]| -> [u8; 32] { Sha256::digest(data).into() };
        let s1 = v.chunk_signature(&v.seed_signature, &sha(&[b'a'; 65536]));
        assert_eq!(
            s1,
            "ad80c730a21e5b8d04586a2213dd63b9a0e99e0e2307b0ade35a65485a288648"
        );
        let s2 = v.chunk_signature(&s1, &sha(&[b'a'; 1024]));
        assert_eq!(
            s2,
            "0055627c9e194cb4542bae2aa5492e3c1575bbb81b612b7d234b86a503ef5497"
        );
        let s3 = v.chunk_signature(&s2, &sha(b""));
        assert_eq!(
            s3,
            "b6c6ea8a5354eaf15b3cb7646744f4275b71ea724fed81ceb9323e279d449df9"
        );
    }

    #[test]
    fn signing_key_is_redacted_and_compares() {
        let a = SigningKey::new([7; 32]);
        assert_eq!(format!("{a:?}"), "SigningKey(<redacted>)");
        assert_eq!(a, SigningKey::new([7; 32]));
        assert_ne!(a, SigningKey::new([8; 32]));
        assert!(signatures_equal("abc", "abc"));
        assert!(!signatures_equal("abc", "abd"));
        assert!(!signatures_equal("abc", "ab"));
    }
}
