//! Compact JWS with ES384 (RFC 7515, RFC 7518 §3.4): what IVS playback tokens and IVS
//! Real-Time participant tokens are.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use p384::ecdsa::signature::{Signer as _, Verifier as _};
use p384::ecdsa::{Signature, SigningKey, VerifyingKey};
use serde_json::{Map, Value};

/// Longest token accepted, before any decoding.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JwtError {
    /// Not three base64url parts of JSON.
    Malformed(&'static str),
    /// `alg` is not ES384.
    UnsupportedAlgorithm,
    /// The signature does not verify.
    BadSignature,
}

impl std::fmt::Display for JwtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            JwtError::Malformed(why) => write!(f, "malformed token: {why}"),
            JwtError::UnsupportedAlgorithm => write!(f, "token algorithm must be ES384"),
            JwtError::BadSignature => write!(f, "token signature does not verify"),
        }
    }
}

/// A decoded, not yet verified token.
#[derive(Debug, Clone)]
pub struct Decoded {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    signing_input: String,
    signature: Vec<u8>,
}

impl Decoded {
    /// The `kid` header, if any.
    pub fn kid(&self) -> Option<&str> {
        self.header.get("kid").and_then(Value::as_str)
    }

    /// Verify the ES384 signature with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), JwtError> {
        let sig = Signature::from_slice(&self.signature).map_err(|_| JwtError::BadSignature)?;
        key.verify(self.signing_input.as_bytes(), &sig)
            .map_err(|_| JwtError::BadSignature)
    }
}

fn part(s: &str, what: &'static str) -> Result<Map<String, Value>, JwtError> {
    let bytes = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwtError::Malformed(what))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(m)) => Ok(m),
        _ => Err(JwtError::Malformed(what)),
    }
}

/// Split and decode a compact JWS; checks `alg` is ES384.
pub fn decode(token: &str) -> Result<Decoded, JwtError> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(JwtError::Malformed("too long"));
    }
    let mut it = token.split('.');
    let (Some(h), Some(c), Some(s), None) = (it.next(), it.next(), it.next(), it.next()) else {
        return Err(JwtError::Malformed("expected three parts"));
    };
    let header = part(h, "header")?;
    if header.get("alg").and_then(Value::as_str) != Some("ES384") {
        return Err(JwtError::UnsupportedAlgorithm);
    }
    let claims = part(c, "claims")?;
    let signature = URL_SAFE_NO_PAD
        .decode(s)
        .map_err(|_| JwtError::Malformed("signature"))?;
    Ok(Decoded {
        header,
        claims,
        signing_input: format!("{h}.{c}"),
        signature,
    })
}

/// Sign claims with ES384; `kid` goes into the header when given.
pub fn sign(key: &SigningKey, kid: Option<&str>, claims: &Map<String, Value>) -> String {
    let mut header = Map::new();
    header.insert("alg".into(), "ES384".into());
    header.insert("typ".into(), "JWT".into());
    if let Some(k) = kid {
        header.insert("kid".into(), k.into());
    }
    let h = URL_SAFE_NO_PAD.encode(Value::Object(header).to_string());
    let c = URL_SAFE_NO_PAD.encode(Value::Object(claims.clone()).to_string());
    let input = format!("{h}.{c}");
    let sig: Signature = key.sign(input.as_bytes());
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.to_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_then_verify_and_tamper() {
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        let mut claims = Map::new();
        claims.insert(
            "aws:channel-arn".into(),
            "arn:aws:ivs:us-west-2:1:channel/x".into(),
        );
        let t = sign(&sk, Some("kid1"), &claims);
        let d = decode(&t).unwrap();
        assert_eq!(d.kid(), Some("kid1"));
        d.verify(sk.verifying_key()).unwrap();
        let other = SigningKey::random(&mut rand::rngs::OsRng);
        assert_eq!(d.verify(other.verifying_key()), Err(JwtError::BadSignature));
        let mut parts: Vec<&str> = t.split('.').collect();
        let forged = URL_SAFE_NO_PAD.encode(r#"{"aws:channel-arn":"other"}"#);
        parts[1] = &forged;
        assert_eq!(
            decode(&parts.join(".")).unwrap().verify(sk.verifying_key()),
            Err(JwtError::BadSignature)
        );
        assert!(matches!(decode("a.b"), Err(JwtError::Malformed(_))));
        let hs = format!(
            "{}.{}.x",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"HS256"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        assert_eq!(decode(&hs).unwrap_err(), JwtError::UnsupportedAlgorithm);
    }
}
