//! Participant tokens: minting (CreateParticipantToken, CreateStage) and verification.
//!
//! A token is a compact ES384 JWS (RFC 7515, RFC 7518 §3.4) whose claims follow AWS's
//! documented self-signed format (IVS Real-Time User Guide, "Distribute Participant Tokens",
//! and API reference `ParticipantToken`): `exp`, `iat`, `jti` (= participant id), `resource`
//! (stage ARN), `topic` (stage id), `events_url`, `whip_url`, `capabilities{allow_publish,
//! allow_subscribe}`, `version: "1.0"`, optional `user_id` and `attributes`.
//!
//! reelay signs its own tokens with a P-384 key generated once per account and region and
//! kept in the metadata store (so tokens still verify after a restart and on every node that
//! shares a PostgreSQL database). Tokens self-signed by customers carry `kid` = the ARN of a
//! public key imported with ImportPublicKey.

use crate::records::{self, v1};
use crate::stage;
use crate::util::{self, Call};
use base64::Engine as _;
use p384::ecdsa::SigningKey;
use reelay_api_common::keys::P384PublicKey;
use reelay_api_common::{Deps, jwt};
use reelay_aws::ApiError;
use reelay_aws::generated::ivs_realtime::types as t;
use reelay_store::{NewRecord, Scope, StoreError};
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use time::OffsetDateTime;

/// Clock skew tolerated on `iat` of self-signed tokens.
const MAX_IAT_SKEW_SECONDS: i64 = 300;
/// Longest `jti`.
const MAX_JTI_LEN: usize = 64;
/// Longest `user_id`.
const MAX_USER_ID_LEN: usize = 128;

/// What a participant may do in the stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Capabilities {
    /// May publish media.
    pub allow_publish: bool,
    /// May subscribe to others' media.
    pub allow_subscribe: bool,
}

/// The verified claims of a participant token.
#[derive(Debug, Clone, PartialEq)]
pub struct ParticipantClaims {
    /// The stage (`resource`).
    pub stage_arn: String,
    /// The stage id (`topic`).
    pub stage_id: String,
    /// The participant id (`jti`).
    pub participant_id: String,
    /// `user_id`.
    pub user_id: Option<String>,
    /// `attributes`.
    pub attributes: BTreeMap<String, String>,
    /// `capabilities`.
    pub capabilities: Capabilities,
    /// `iat`, when present.
    pub issued_at: Option<OffsetDateTime>,
    /// `exp`.
    pub expires_at: OffsetDateTime,
    /// `whip_url`.
    pub whip_url: Option<String>,
    /// `events_url`.
    pub events_url: Option<String>,
    /// The imported public key that signed it; `None` for a token reelay signed.
    pub public_key_arn: Option<String>,
}

/// Why a participant token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenRejection {
    /// Not a well-formed ES384 JWT, or a required claim is missing or of the wrong type.
    Malformed(String),
    /// `resource` names no existing stage.
    UnknownStage,
    /// `kid` names no imported public key (or reelay never signed in that account and region).
    UnknownKey,
    /// The signature does not verify.
    BadSignature,
    /// `exp` is in the past.
    Expired,
    /// `iat` is in the future.
    NotYetValid,
    /// `exp` is more than 14 days after `iat`.
    LifetimeTooLong,
    /// The token id was revoked with RevokeConnectionToken.
    Revoked,
    /// The participant was removed with DisconnectParticipant.
    Disconnected,
    /// The store failed.
    Internal(String),
}

impl std::fmt::Display for TokenRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenRejection::Malformed(why) => write!(f, "malformed token: {why}"),
            TokenRejection::UnknownStage => f.write_str("the token's stage does not exist"),
            TokenRejection::UnknownKey => f.write_str("the token's signing key is unknown"),
            TokenRejection::BadSignature => f.write_str("the token's signature does not verify"),
            TokenRejection::Expired => f.write_str("the token has expired"),
            TokenRejection::NotYetValid => f.write_str("the token is issued in the future"),
            TokenRejection::LifetimeTooLong => f.write_str("the token lives longer than 14 days"),
            TokenRejection::Revoked => f.write_str("the token was revoked"),
            TokenRejection::Disconnected => {
                f.write_str("the participant was disconnected from the stage")
            }
            TokenRejection::Internal(why) => write!(f, "internal error: {why}"),
        }
    }
}

impl std::error::Error for TokenRejection {}

/// reelay's signing key of one account and region: a secret, so `Debug` is redacted and the
/// scalar is wiped on drop (p384's `SigningKey` zeroizes itself).
pub(crate) struct SigningSecret {
    key: SigningKey,
    kid: String,
}

impl std::fmt::Debug for SigningSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningSecret")
            .field("kid", &self.kid)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl SigningSecret {
    fn from_record(body: &v1::SigningKey) -> Result<SigningSecret, String> {
        let bytes = zeroize::Zeroizing::new(
            decode_hex(&body.secret_hex).ok_or("stored signing key is not hex")?,
        );
        let key = SigningKey::from_slice(&bytes)
            .map_err(|_| "stored signing key is not a P-384 scalar")?;
        Ok(SigningSecret {
            key,
            kid: body.kid.clone(),
        })
    }
}

fn decode_hex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) || s.len() > 256 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

fn signing_key_arn(scope: &Scope) -> String {
    // Not an AWS resource type: the tag routes never resolve it.
    format!(
        "arn:reelay:ivs-realtime:{}:{}:signing-key/{}",
        scope.region,
        scope.account,
        records::SIGNING_KEY_ID
    )
}

async fn load_signing_key(deps: &Deps, scope: &Scope) -> Result<Option<SigningSecret>, String> {
    let rec = deps
        .store
        .get(scope, records::KIND_SIGNING_KEY, records::SIGNING_KEY_ID)
        .await
        .map_err(|e| e.to_string())?;
    match rec {
        None => Ok(None),
        Some(r) => {
            let body: v1::SigningKey = serde_json::from_value(r.body).map_err(|e| e.to_string())?;
            SigningSecret::from_record(&body).map(Some)
        }
    }
}

/// The signing key of the caller's account and region, created on first use.
pub(crate) async fn signing_key(call: &Call<'_>) -> Result<SigningSecret, ApiError> {
    let internal = |e: String| ApiError::internal(reelay_aws::ServiceId::IvsRealtime, e);
    if let Some(k) = load_signing_key(call.deps, &call.scope)
        .await
        .map_err(internal)?
    {
        return Ok(k);
    }
    let key = SigningKey::random(&mut rand::rngs::OsRng);
    let secret_hex = zeroize::Zeroizing::new(
        key.to_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>(),
    );
    let body = v1::SigningKey {
        schema_version: v1::SCHEMA_VERSION,
        secret_hex: secret_hex.to_string(),
        kid: format!(
            "reelay-participant-token/{}",
            reelay_api_common::random_id(16)
        ),
    };
    let rec = NewRecord {
        kind: records::KIND_SIGNING_KEY.into(),
        id: records::SIGNING_KEY_ID.into(),
        arn: signing_key_arn(&call.scope),
        parent: None,
        index: BTreeMap::new(),
        body: util::encode(&body)?,
        schema_version: v1::SCHEMA_VERSION,
        tags: BTreeMap::new(),
    };
    match call.deps.store.insert(&call.scope, rec).await {
        Ok(_) => SigningSecret::from_record(&body).map_err(internal),
        // Another request (or node) created it first: use theirs, so every token verifies.
        Err(StoreError::AlreadyExists) => load_signing_key(call.deps, &call.scope)
            .await
            .map_err(internal)?
            .ok_or_else(|| internal("signing key vanished".into())),
        Err(e) => Err(util::store_err(e, "signing key")),
    }
}

/// What a token is minted for.
pub(crate) struct TokenRequest {
    pub duration_minutes: Option<i32>,
    pub user_id: Option<String>,
    pub attributes: Option<BTreeMap<String, String>>,
    pub capabilities: Option<Vec<t::ParticipantTokenCapability>>,
}

impl TokenRequest {
    /// Check the rules the model cannot express.
    pub fn validate(&self) -> Result<(), ApiError> {
        util::check_attributes(self.attributes.as_ref())?;
        if let Some(caps) = &self.capabilities {
            let mut seen = caps.clone();
            seen.sort();
            seen.dedup();
            if seen.len() != caps.len() {
                return Err(util::validation("capabilities must not repeat a value"));
            }
        }
        Ok(())
    }
}

/// Mint a token for a stage.
pub(crate) async fn mint(
    call: &Call<'_>,
    key: &SigningSecret,
    stage_arn: &str,
    req: TokenRequest,
) -> Result<t::ParticipantToken, ApiError> {
    let stage_id = util::arn_id(stage_arn);
    let duration = req
        .duration_minutes
        .unwrap_or(crate::limits::DEFAULT_TOKEN_DURATION_MINUTES);
    let capabilities = req.capabilities.unwrap_or_else(|| {
        vec![
            t::ParticipantTokenCapability::Publish,
            t::ParticipantTokenCapability::Subscribe,
        ]
    });
    let participant_id = reelay_api_common::random_id(crate::limits::ID_LEN);
    let now = call.now();
    let iat = now.unix_timestamp();
    let exp = iat + i64::from(duration) * 60;
    let endpoints = stage::endpoints(&call.deps.endpoints, stage_id);
    let mut claims = Map::new();
    claims.insert("exp".into(), exp.into());
    claims.insert("iat".into(), iat.into());
    claims.insert("jti".into(), participant_id.clone().into());
    claims.insert("resource".into(), stage_arn.into());
    claims.insert("topic".into(), stage_id.into());
    claims.insert(
        "events_url".into(),
        endpoints.events.clone().unwrap_or_default().into(),
    );
    claims.insert(
        "whip_url".into(),
        endpoints.whip.clone().unwrap_or_default().into(),
    );
    if let Some(u) = &req.user_id {
        claims.insert("user_id".into(), u.clone().into());
    }
    let attributes = req.attributes.clone().unwrap_or_default();
    claims.insert(
        "attributes".into(),
        Value::Object(
            attributes
                .iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect(),
        ),
    );
    let mut caps = Map::new();
    caps.insert(
        "allow_publish".into(),
        capabilities
            .contains(&t::ParticipantTokenCapability::Publish)
            .into(),
    );
    caps.insert(
        "allow_subscribe".into(),
        capabilities
            .contains(&t::ParticipantTokenCapability::Subscribe)
            .into(),
    );
    claims.insert("capabilities".into(), Value::Object(caps));
    claims.insert("version".into(), "1.0".into());
    let token = jwt::sign(&key.key, Some(&key.kid), &claims);
    Ok(t::ParticipantToken {
        attributes: req.attributes,
        capabilities: Some(capabilities),
        duration: Some(duration),
        expiration_time: Some(util::ts(exp.saturating_mul(1000))),
        participant_id: Some(participant_id),
        token: Some(token),
        user_id: req.user_id,
    })
}

fn malformed(why: &str) -> TokenRejection {
    TokenRejection::Malformed(why.to_string())
}

fn int_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<i64>, TokenRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_i64()
            .map(Some)
            .ok_or_else(|| malformed(&format!("{name} must be an integer"))),
    }
}

fn str_claim<'a>(
    claims: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a str>, TokenRejection> {
    match claims.get(name) {
        None => Ok(None),
        Some(v) => v
            .as_str()
            .map(Some)
            .ok_or_else(|| malformed(&format!("{name} must be a string"))),
    }
}

fn time_of(secs: i64, name: &str) -> Result<OffsetDateTime, TokenRejection> {
    OffsetDateTime::from_unix_timestamp(secs)
        .map_err(|_| malformed(&format!("{name} is out of range")))
}

/// Verify a participant token as a stage endpoint must before letting its bearer join: a
/// token reelay signed, or one self-signed under an imported public key (`kid` = its ARN);
/// the stage must exist, the token must be within its lifetime, and neither the token id
/// nor the participant may have been revoked (RevokeConnectionToken, DisconnectParticipant).
pub async fn verify_participant_token(
    deps: &Deps,
    token: &str,
) -> Result<ParticipantClaims, TokenRejection> {
    let decoded = jwt::decode(token).map_err(|e| TokenRejection::Malformed(e.to_string()))?;
    let claims = &decoded.claims;
    let stage_arn =
        str_claim(claims, "resource")?.ok_or_else(|| malformed("resource is missing"))?;
    let parts = reelay_api_common::parse_arn(stage_arn)
        .ok_or_else(|| malformed("resource is not a stage ARN"))?;
    if parts.service != "ivs" || parts.resource_type != "stage" {
        return Err(malformed("resource is not a stage ARN"));
    }
    let scope = Scope::new(parts.account, parts.region);
    let internal = |e: StoreError| TokenRejection::Internal(e.to_string());
    let stage = deps
        .store
        .get(&scope, records::KIND_STAGE, parts.resource_id)
        .await
        .map_err(internal)?;
    match stage {
        Some(r) if r.arn == stage_arn => {}
        _ => return Err(TokenRejection::UnknownStage),
    }

    // The signature, before any claim is trusted further.
    let public_key_arn = match decoded.kid() {
        Some(kid) if kid.starts_with("arn:") => {
            let key = deps.store.get_by_arn(&scope, kid).await.map_err(internal)?;
            let Some(key) = key.filter(|k| k.kind == records::KIND_PUBLIC_KEY) else {
                return Err(TokenRejection::UnknownKey);
            };
            let body: v1::PublicKey = serde_json::from_value(key.body)
                .map_err(|e| TokenRejection::Internal(e.to_string()))?;
            let pk = P384PublicKey::from_pem(&body.public_key_material)
                .map_err(TokenRejection::Internal)?;
            decoded
                .verify(&pk.verifying_key())
                .map_err(|_| TokenRejection::BadSignature)?;
            Some(kid.to_string())
        }
        kid => {
            let own = load_signing_key(deps, &scope)
                .await
                .map_err(TokenRejection::Internal)?;
            let Some(own) = own.filter(|k| kid.is_none_or(|kid| kid == k.kid)) else {
                return Err(TokenRejection::UnknownKey);
            };
            decoded
                .verify(own.key.verifying_key())
                .map_err(|_| TokenRejection::BadSignature)?;
            None
        }
    };

    let now = deps.clock.now().unix_timestamp();
    let exp = int_claim(claims, "exp")?.ok_or_else(|| malformed("exp is missing"))?;
    let iat = int_claim(claims, "iat")?;
    if public_key_arn.is_some() && iat.is_none() {
        return Err(malformed("iat is missing"));
    }
    if now >= exp {
        return Err(TokenRejection::Expired);
    }
    if let Some(iat) = iat {
        if iat > now.saturating_add(MAX_IAT_SKEW_SECONDS) {
            return Err(TokenRejection::NotYetValid);
        }
        if exp.saturating_sub(iat) > i64::from(crate::limits::MAX_TOKEN_DURATION_MINUTES) * 60 {
            return Err(TokenRejection::LifetimeTooLong);
        }
    }
    let jti = str_claim(claims, "jti")?.ok_or_else(|| malformed("jti is missing"))?;
    if jti.is_empty()
        || jti.len() > MAX_JTI_LEN
        || !jti
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Err(malformed("jti must be 1 to 64 characters of [A-Za-z0-9_-]"));
    }
    if let Some(topic) = str_claim(claims, "topic")? {
        if topic != parts.resource_id {
            return Err(malformed("topic does not match the stage"));
        }
    } else if public_key_arn.is_some() {
        return Err(malformed("topic is missing"));
    }
    if public_key_arn.is_some() && str_claim(claims, "version")?.is_none() {
        return Err(malformed("version is missing"));
    }
    let user_id = str_claim(claims, "user_id")?.map(str::to_string);
    if user_id
        .as_ref()
        .is_some_and(|u| u.chars().count() > MAX_USER_ID_LEN)
    {
        return Err(malformed("user_id is longer than 128 characters"));
    }
    let attributes = match claims.get("attributes") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string())))
            .collect::<Option<BTreeMap<_, _>>>()
            .ok_or_else(|| malformed("attribute values must be strings"))?,
        Some(_) => return Err(malformed("attributes must be an object")),
    };
    if attributes
        .iter()
        .map(|(k, v)| k.len() + v.len())
        .sum::<usize>()
        > crate::limits::MAX_ATTRIBUTES_BYTES
    {
        return Err(malformed("attributes exceed 1 KB"));
    }
    let capabilities = match claims.get("capabilities") {
        Some(Value::Object(c)) => Capabilities {
            allow_publish: c
                .get("allow_publish")
                .and_then(Value::as_bool)
                .unwrap_or(false),
            allow_subscribe: c
                .get("allow_subscribe")
                .and_then(Value::as_bool)
                .unwrap_or(false),
        },
        None => Capabilities::default(),
        Some(_) => return Err(malformed("capabilities must be an object")),
    };

    let revoked = deps
        .store
        .get(&scope, records::KIND_REVOKED_TOKEN, jti)
        .await
        .map_err(internal)?;
    if revoked.is_some() {
        return Err(TokenRejection::Revoked);
    }
    let gone = deps
        .store
        .get(
            &scope,
            records::KIND_DISCONNECTION,
            &format!("{}/{jti}", parts.resource_id),
        )
        .await
        .map_err(internal)?;
    if gone.is_some() {
        return Err(TokenRejection::Disconnected);
    }

    Ok(ParticipantClaims {
        stage_arn: stage_arn.to_string(),
        stage_id: parts.resource_id.to_string(),
        participant_id: jti.to_string(),
        user_id,
        attributes,
        capabilities,
        issued_at: iat.map(|s| time_of(s, "iat")).transpose()?,
        expires_at: time_of(exp, "exp")?,
        whip_url: str_claim(claims, "whip_url")?.map(str::to_string),
        events_url: str_claim(claims, "events_url")?.map(str::to_string),
        public_key_arn,
    })
}

/// Decode the claims of a token without verifying it (what the Web Broadcast SDK does).
pub fn unverified_claims(token: &str) -> Option<Map<String, Value>> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        Value::Object(m) => Some(m),
        _ => None,
    }
}
