//! CDN authorization of egress (UG:cdn-auth): a packaging group with `authorization` serves
//! only requests whose `X-MediaPackage-CDNIdentifier` header equals the value of the Secrets
//! Manager secret the group names, `{"MediaPackageCDNIdentifier": "<value>"}`. During a rotation
//! the previous value is accepted too (UG:cdn-auth-rotate).
//!
//! reelay has no Secrets Manager; its **secrets facility** is a bucket of its own S3 endpoint,
//! which works the same on local files and on an S3-compatible object store:
//!
//! - bucket `reelay-secretsmanager-<account>` (created by the user, owned by the secret's
//!   account: a bucket owned by anyone else is not read);
//! - key `<region>/<secret name>/AWSCURRENT` holding the secret string as Secrets Manager stores
//!   it, and optionally `<region>/<secret name>/AWSPREVIOUS` (the value before a rotation).
//!
//! `<secret name>` is the resource part of the ARN after `secret:` (with the six-character
//! suffix AWS appends, when the ARN has one). Values are read at most once per
//! [`SECRET_TTL_SECS`] of reelay's clock per secret. Anything that cannot be read or parsed
//! denies access: a protected group is never served open.

use reelay_blob::BlobStore;
use std::collections::HashMap;
use std::sync::Mutex;
use subtle::ConstantTimeEq;

/// The request header a CDN adds (UG:cdn-auth).
pub const HEADER: &str = "x-mediapackage-cdnidentifier";
/// How long a read secret is used before it is read again, in seconds of reelay's clock.
pub const SECRET_TTL_SECS: i64 = 60;
/// The JSON member holding the value (UG:cdn-auth-setup).
const MEMBER: &str = "MediaPackageCDNIdentifier";
/// Largest secret object read (Secrets Manager's own limit is 64 KiB).
const MAX_SECRET_BYTES: u64 = 64 * 1024;
/// Secrets kept in the cache; the oldest is dropped beyond this.
const MAX_CACHED: usize = 1024;

/// A CDN identifier: compared in constant time, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct CdnIdentifier(String);

impl std::fmt::Debug for CdnIdentifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CdnIdentifier(<redacted>)")
    }
}

impl CdnIdentifier {
    /// A value of 8 to 128 characters (UG:cdn-auth).
    pub fn new(v: &str) -> Result<Self, String> {
        let n = v.chars().count();
        if !(8..=128).contains(&n) {
            return Err(format!(
                "the {MEMBER} value must have 8 to 128 characters (it has {n})"
            ));
        }
        Ok(Self(v.to_string()))
    }

    /// Constant-time equality with a header value (the length may leak, not the content).
    pub fn matches(&self, presented: &[u8]) -> bool {
        self.0.as_bytes().ct_eq(presented).into()
    }
}

/// Reads the secret string as Secrets Manager stores it.
pub fn parse_secret(body: &[u8]) -> Result<CdnIdentifier, String> {
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| format!("the secret is not a JSON object with a {MEMBER} member"))?;
    let s = v
        .get(MEMBER)
        .and_then(serde_json::Value::as_str)
        .ok_or_else(|| format!("the secret has no string member {MEMBER}"))?;
    CdnIdentifier::new(s)
}

/// Where a secret ARN's versions live: (bucket, key of AWSCURRENT, key of AWSPREVIOUS).
pub fn locate(arn: &str) -> Option<(String, String, String)> {
    let rest = arn.strip_prefix("arn:")?;
    let mut parts = rest.splitn(6, ':');
    let (_partition, service, region, account, kind, name) = (
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
        parts.next()?,
    );
    let ok = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"/_+=.@-".contains(&b))
            && !s.split('/').any(|p| p.is_empty() || p == "." || p == "..")
    };
    if service != "secretsmanager"
        || kind != "secret"
        || !ok(name)
        || !ok(region)
        || account.len() != 12
        || !account.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    Some((
        format!("reelay-secretsmanager-{account}"),
        format!("{region}/{name}/AWSCURRENT"),
        format!("{region}/{name}/AWSPREVIOUS"),
    ))
}

/// The accepted values of one secret, or why there are none.
type Versions = Result<(CdnIdentifier, Option<CdnIdentifier>), String>;

/// Reads secrets through the object store, with a short cache.
#[derive(Default)]
pub struct Secrets {
    cache: Mutex<HashMap<String, (time::OffsetDateTime, Versions)>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets(..)")
    }
}

/// The outcome of checking one request.
#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The header matches the current or previous value.
    Allow,
    /// 403, with the message for the client.
    Deny(String),
}

/// Compares the presented header with the versions of a secret.
pub fn judge(presented: Option<&[u8]>, versions: &Versions) -> Verdict {
    let (current, previous) = match versions {
        Ok(v) => v,
        Err(e) => {
            return Verdict::Deny(format!(
                "CDN authorization failed: the CDN identifier secret cannot be read ({e})"
            ));
        }
    };
    let Some(p) = presented else {
        return Verdict::Deny(
            "CDN authorization failed: the request has no X-MediaPackage-CDNIdentifier header"
                .into(),
        );
    };
    // Both are compared, so the time does not tell which one matched.
    let a = current.matches(p);
    let b = previous.as_ref().is_some_and(|v| v.matches(p));
    if a | b {
        Verdict::Allow
    } else {
        Verdict::Deny(
            "CDN authorization failed: the X-MediaPackage-CDNIdentifier header does not match"
                .into(),
        )
    }
}

impl Secrets {
    /// Checks a request for a group whose `cdnIdentifierSecret` is `arn`, at `now`.
    pub async fn check(
        &self,
        blob: &BlobStore,
        arn: &str,
        presented: Option<&[u8]>,
        now: time::OffsetDateTime,
    ) -> Verdict {
        let cached = self
            .cache
            .lock()
            .ok()
            .and_then(|c| c.get(arn).cloned())
            .filter(|(at, _)| {
                let age = (now - *at).whole_seconds();
                (0..SECRET_TTL_SECS).contains(&age)
            });
        let versions = match cached {
            Some((_, v)) => v,
            None => {
                let v = read(blob, arn).await;
                if let Err(e) = &v {
                    tracing::warn!(secret = %arn, error = %e, "CDN identifier secret unreadable: egress answers 403");
                }
                if let Ok(mut c) = self.cache.lock() {
                    if c.len() >= MAX_CACHED {
                        c.clear();
                    }
                    c.insert(arn.to_string(), (now, v.clone()));
                }
                v
            }
        };
        judge(presented, &versions)
    }
}

/// Checks a request for the group `group_id`; `Err` is the 403 message.
pub(crate) async fn gate(
    engine: &crate::Engine,
    group: &reelay_api_mediapackage_vod::view::GroupView,
    presented: Option<&[u8]>,
) -> Result<(), String> {
    let Some(arn) = group.cdn_identifier_secret.as_deref() else {
        tracing::warn!(group = %group.id, "CDN authorization has no secret ARN: egress answers 403");
        return Err(
            "CDN authorization failed: the packaging group has no cdnIdentifierSecret".into(),
        );
    };
    match engine
        .secrets
        .check(&engine.deps.blob, arn, presented, engine.deps.clock.now())
        .await
    {
        Verdict::Allow => Ok(()),
        Verdict::Deny(m) => Err(m),
    }
}

async fn read(blob: &BlobStore, arn: &str) -> Versions {
    let (bucket, current, previous) = locate(arn)
        .ok_or_else(|| format!("'{arn}' is not a Secrets Manager secret ARN reelay can read"))?;
    let account = bucket.rsplit('-').next().unwrap_or_default();
    match blob.head_bucket(&bucket).await {
        Ok(b) if b.owner == account => {}
        Ok(_) => {
            return Err(format!(
                "bucket '{bucket}' is not owned by account {account}"
            ));
        }
        Err(_) => return Err(format!("no secret at s3://{bucket}/{current}")),
    }
    let bucket = bucket.as_str();
    let get = |key: String| async move {
        let info = match blob.head_object(bucket, &key).await {
            Ok(i) => i,
            Err(reelay_blob::Error::NoSuchKey) => return Ok(None),
            Err(e) => return Err(format!("s3://{bucket}/{key}: {e}")),
        };
        if info.size > MAX_SECRET_BYTES {
            return Err(format!(
                "s3://{bucket}/{key} is larger than {MAX_SECRET_BYTES} bytes"
            ));
        }
        let body = blob
            .read_range(bucket, &key, 0..info.size)
            .await
            .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
        parse_secret(&body)
            .map(Some)
            .map_err(|e| format!("s3://{bucket}/{key}: {e}"))
    };
    let cur = get(current.clone())
        .await?
        .ok_or_else(|| format!("no secret at s3://{bucket}/{current}"))?;
    // A broken previous version only loses the rotation grace, never the current value.
    let prev = get(previous).await.ok().flatten();
    Ok((cur, prev))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_redacted_and_compared_exactly() {
        let v = parse_secret(br#"{"MediaPackageCDNIdentifier":"9c4d7f42-aaaa-bbbb"}"#).unwrap();
        assert_eq!(format!("{v:?}"), "CdnIdentifier(<redacted>)");
        assert!(v.matches(b"9c4d7f42-aaaa-bbbb"));
        assert!(!v.matches(b"9c4d7f42-aaaa-bbbc"));
        assert!(!v.matches(b"9c4d7f42-aaaa-bbb"));
        assert!(parse_secret(br#"{"MediaPackageCDNIdentifier":"short"}"#).is_err());
        assert!(parse_secret(b"not json").is_err());
        assert!(parse_secret(br#"{"Other":"0123456789"}"#).is_err());
    }

    #[test]
    fn verdicts() {
        let cur = CdnIdentifier::new("current-value").unwrap();
        let old = CdnIdentifier::new("previous-value").unwrap();
        let both: Versions = Ok((cur.clone(), Some(old)));
        assert_eq!(judge(Some(b"current-value"), &both), Verdict::Allow);
        assert_eq!(judge(Some(b"previous-value"), &both), Verdict::Allow);
        assert!(
            matches!(judge(Some(b"other-value"), &both), Verdict::Deny(m) if m.contains("does not match"))
        );
        assert!(matches!(judge(None, &both), Verdict::Deny(m) if m.contains("no X-MediaPackage")));
        let one: Versions = Ok((cur, None));
        assert!(matches!(
            judge(Some(b"previous-value"), &one),
            Verdict::Deny(_)
        ));
        let broken: Versions = Err("no secret".into());
        assert!(
            matches!(judge(Some(b"current-value"), &broken), Verdict::Deny(m) if m.contains("cannot be read"))
        );
    }

    #[test]
    fn arns_map_to_keys_of_the_account_bucket() {
        let (b, c, p) =
            locate("arn:aws:secretsmanager:us-east-1:111122223333:secret:MediaPackage/cdn-AbCdEf")
                .unwrap();
        assert_eq!(b, "reelay-secretsmanager-111122223333");
        assert_eq!(c, "us-east-1/MediaPackage/cdn-AbCdEf/AWSCURRENT");
        assert_eq!(p, "us-east-1/MediaPackage/cdn-AbCdEf/AWSPREVIOUS");
        for bad in [
            "arn:aws:s3:::b/k",
            "arn:aws:secretsmanager:us-east-1:1111:secret:x",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:../x",
            "arn:aws:secretsmanager:us-east-1:111122223333:secret:a//b",
            "arn:aws:secretsmanager:us-east-1:111122223333:parameter:x",
        ] {
            assert!(locate(bad).is_none(), "{bad}");
        }
    }
}
