//! Private channels: the playback authorization token (ivs.md §5). An ES384 JWT passed as
//! `?token=`, signed by the private half of a playback key pair imported in the channel's
//! account and region.

use crate::{Live, LiveStream};
use axum::http::{HeaderMap, header};
use reelay_api_common::keys::P384PublicKey;
use reelay_api_ivs::records::{
    KIND_PLAYBACK_KEY, KIND_VIEWER_REVOCATION, PlaybackKeyV1, ViewerRevocationV1,
};
use reelay_store::ListQuery;
use serde_json::{Map, Value};

/// What every refusal answers (the string the IVS player reports, ivs.md §5).
pub(crate) const INVALID_TOKEN: &str = "invalid_playback_auth_token";
/// A single-use token presented again on the multivariant playlist (ivs.md §5).
pub(crate) const REUSED_TOKEN: &str = "playback_auth_error";
/// With `aws:single-use-uuid` or `aws:viewer-id`, `exp` may be at most this far ahead.
const MAX_SHORT_LIVED_SECS: i64 = 600;
/// Playback key pairs read per check (the quota defaults to 3).
const MAX_KEYS: usize = 100;

/// What a valid token grants beyond playback itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Grant {
    /// `aws:maximum-resolution` as the largest allowed short side of the picture, in pixels.
    pub(crate) max_resolution: Option<u64>,
}

/// `aws:maximum-resolution` values as the largest short side they admit (the size buckets of
/// ivs.md §8: SD ≤ 480, HD ≤ 720, FULL_HD ≤ 1080 lines).
pub(crate) fn resolution_limit(claim: &str) -> Option<u64> {
    match claim {
        "SD" => Some(480),
        "HD" => Some(720),
        "FULL_HD" => Some(1080),
        _ => None,
    }
}

pub(crate) fn token_of(query: Option<&str>) -> Option<&str> {
    query?.split('&').find_map(|p| p.strip_prefix("token="))
}

fn str_claim<'a>(claims: &'a Map<String, Value>, name: &str) -> Option<&'a str> {
    claims.get(name).and_then(Value::as_str)
}

/// Whether `origin` is allowed by a comma-separated `aws:access-control-allow-origin` list,
/// where `*` alone allows every origin and a `*` inside an entry stands for any host prefix.
pub(crate) fn origin_allowed(list: &str, origin: &str) -> bool {
    list.split(',').map(str::trim).any(|entry| {
        if entry == "*" || entry == origin {
            return true;
        }
        match entry.split_once('*') {
            Some((prefix, suffix)) => {
                origin.len() >= prefix.len() + suffix.len()
                    && origin.starts_with(prefix)
                    && origin.ends_with(suffix)
            }
            None => false,
        }
    })
}

/// Checks the token of one playback request. `multivariant` marks the request that starts
/// playback, where single-use tokens are consumed and the origin is checked by default.
pub(crate) async fn authorize(
    live: &Live,
    stream: &LiveStream,
    query: Option<&str>,
    headers: &HeaderMap,
    multivariant: bool,
) -> Result<Grant, &'static str> {
    let token = token_of(query).ok_or(INVALID_TOKEN)?;
    let decoded = reelay_api_common::jwt::decode(token).map_err(|_| INVALID_TOKEN)?;
    let claims = &decoded.claims;
    if str_claim(claims, "aws:channel-arn") != Some(stream.channel_arn.as_str()) {
        return Err(INVALID_TOKEN);
    }
    let now = live.deps.clock.now().unix_timestamp();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or(INVALID_TOKEN)?;
    if exp <= now {
        return Err(INVALID_TOKEN);
    }
    let single_use = str_claim(claims, "aws:single-use-uuid");
    let viewer = str_claim(claims, "aws:viewer-id");
    if (single_use.is_some() || viewer.is_some()) && exp - now > MAX_SHORT_LIVED_SECS {
        return Err(INVALID_TOKEN);
    }
    // Origin: on the multivariant playlist, or on every request with strict enforcement.
    if let Some(allowed) = str_claim(claims, "aws:access-control-allow-origin") {
        let strict = claims
            .get("aws:strict-origin-enforcement")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        let origin = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok());
        match origin {
            Some(o) if (multivariant || strict) && !origin_allowed(allowed, o) => {
                return Err(INVALID_TOKEN);
            }
            None if strict => return Err(INVALID_TOKEN),
            _ => {}
        }
    }
    let max_resolution = match claims.get("aws:maximum-resolution") {
        None | Some(Value::Null) => None,
        Some(v) => Some(v.as_str().and_then(resolution_limit).ok_or(INVALID_TOKEN)?),
    };
    verify_signature(live, stream, &decoded).await?;
    if let Some(viewer) = viewer {
        let version = claims
            .get("aws:viewer-session-version")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        let channel_id = stream.channel_arn.rsplit('/').next().unwrap_or_default();
        let id = format!("{channel_id}/{viewer}");
        if let Ok(Some(rec)) = live
            .deps
            .store
            .get(&stream.scope, KIND_VIEWER_REVOCATION, &id)
            .await
            && let Ok(r) = serde_json::from_value::<ViewerRevocationV1>(rec.body)
            && version <= i64::from(r.versions_less_than_or_equal_to)
        {
            return Err(INVALID_TOKEN);
        }
    }
    if multivariant && let Some(uuid) = single_use {
        let mut used = live.used_tokens();
        used.retain(|_, e| *e > now);
        if used.len() >= crate::MAX_SINGLE_USE_TOKENS {
            return Err(REUSED_TOKEN);
        }
        let key = format!("{}|{uuid}", stream.channel_arn);
        if used.insert(key, exp).is_some() {
            return Err(REUSED_TOKEN);
        }
    }
    Ok(Grant { max_resolution })
}

async fn verify_signature(
    live: &Live,
    stream: &LiveStream,
    decoded: &reelay_api_common::jwt::Decoded,
) -> Result<(), &'static str> {
    let page = live
        .deps
        .store
        .list(
            &stream.scope,
            &ListQuery {
                kind: KIND_PLAYBACK_KEY.into(),
                parent: None,
                filters: Vec::new(),
                limit: MAX_KEYS,
                page_token: None,
            },
        )
        .await
        .map_err(|_| INVALID_TOKEN)?;
    for rec in page.items {
        let Ok(key) = serde_json::from_value::<PlaybackKeyV1>(rec.body) else {
            continue;
        };
        let Ok(public) = P384PublicKey::from_pem(&key.public_key_pem) else {
            continue;
        };
        if decoded.verify(&public.verifying_key()).is_ok() {
            return Ok(());
        }
    }
    Err(INVALID_TOKEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(origin_allowed("*", "https://a.example"));
        assert!(origin_allowed(
            "https://a.example, https://b.example",
            "https://b.example"
        ));
        assert!(origin_allowed(
            "https://*.example.com",
            "https://www.example.com"
        ));
        assert!(!origin_allowed(
            "https://*.example.com",
            "https://example.org"
        ));
        assert!(!origin_allowed(
            "https://a.example",
            "https://a.example.evil"
        ));
    }

    #[test]
    fn maximum_resolution_claims() {
        assert_eq!(resolution_limit("SD"), Some(480));
        assert_eq!(resolution_limit("HD"), Some(720));
        assert_eq!(resolution_limit("FULL_HD"), Some(1080));
        assert_eq!(resolution_limit("4K"), None);
    }

    #[test]
    fn token_is_taken_from_the_query() {
        assert_eq!(token_of(Some("a=1&token=x.y.z")), Some("x.y.z"));
        assert_eq!(token_of(Some("a=1")), None);
        assert_eq!(token_of(None), None);
    }
}
