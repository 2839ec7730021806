//! Limits on what a request may carry before this crate allocates for it.

/// Longest `Authorization` header accepted, in bytes. Real ones are about 200 bytes plus the
/// signed header names; 8 KiB leaves room for dozens of long header names.
pub const MAX_AUTHORIZATION_LEN: usize = 8 * 1024;

/// Most header names a request may sign.
pub const MAX_SIGNED_HEADERS: usize = 64;

/// Most query parameters canonicalized for one request.
pub const MAX_QUERY_PARAMS: usize = 1024;

/// Longest raw query string accepted, in bytes.
pub const MAX_QUERY_LEN: usize = 64 * 1024;

/// Largest clock difference accepted for header-signed requests, in seconds (15 minutes, the
/// window AWS documents for `RequestExpired` / "Signature expired").
pub const MAX_CLOCK_SKEW_SECS: i64 = 15 * 60;

/// Longest lifetime of a presigned URL, in seconds (7 days; AWS rejects larger `X-Amz-Expires`).
pub const MAX_PRESIGNED_EXPIRES_SECS: u64 = 7 * 24 * 60 * 60;
