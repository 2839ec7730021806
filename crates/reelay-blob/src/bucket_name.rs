//! Bucket naming rules for general purpose buckets (Amazon S3 User Guide, "General purpose
//! bucket naming rules").
//!
//! Valid names are also safe storage path segments: only `[a-z0-9.-]`, no `..`, and never `.`
//! alone, so they can be used in paths directly.

use crate::error::{Error, Result};

/// Checks `name` against the S3 bucket naming rules.
pub fn validate_bucket_name(name: &str) -> Result<()> {
    let fail = |reason| Err(Error::InvalidBucketName { reason });
    if !(3..=63).contains(&name.len()) {
        return fail("bucket names must be between 3 and 63 characters long");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'.' || b == b'-')
    {
        return fail("bucket names may contain only lowercase letters, digits, dots and hyphens");
    }
    let first = name.as_bytes()[0];
    let last = name.as_bytes()[name.len() - 1];
    if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
        return fail("bucket names must begin and end with a letter or digit");
    }
    if name.contains("..") {
        return fail("bucket names must not contain two adjacent periods");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return fail("bucket names must not be formatted as an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return fail("bucket names must not start with a reserved prefix");
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return fail("bucket names must not end with a reserved suffix");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_valid_names() {
        for name in [
            "abc",
            "my-bucket",
            "my.bucket.01",
            &"a".repeat(63),
            "1bucket",
        ] {
            assert!(validate_bucket_name(name).is_ok(), "{name}");
        }
    }

    #[test]
    fn rejects_invalid_names() {
        for name in [
            "ab",
            &"a".repeat(64),
            "Upper",
            "under_score",
            "-start",
            "end-",
            ".start",
            "a..b",
            "192.168.1.1",
            "xn--abc",
            "sthree-x",
            "abc-s3alias",
            "abc--ol-s3",
            "a/b",
            "../x",
            "é-bucket",
            "",
        ] {
            assert!(
                matches!(
                    validate_bucket_name(name),
                    Err(Error::InvalidBucketName { .. })
                ),
                "{name}"
            );
        }
    }
}
