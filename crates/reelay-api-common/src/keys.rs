//! ECDSA P-384 public keys as IVS playback key pairs and IVS Real-Time public keys use them.

use p384::pkcs8::{DecodePublicKey, EncodePublicKey};
use sha2::{Digest, Sha256};

/// Limit on an imported PEM document, far above a P-384 SPKI (about 215 bytes).
pub const MAX_PEM_BYTES: usize = 4096;

/// An imported P-384 public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct P384PublicKey {
    key: p384::PublicKey,
    /// DER of the SubjectPublicKeyInfo.
    pub spki_der: Vec<u8>,
}

impl P384PublicKey {
    /// Parse a PEM `PUBLIC KEY` (SubjectPublicKeyInfo) holding an ECDSA P-384 key; anything
    /// else (RSA, P-256, a private key, garbage) is an error with a reason.
    pub fn from_pem(pem: &str) -> Result<P384PublicKey, String> {
        if pem.len() > MAX_PEM_BYTES {
            return Err(format!(
                "the public key must be at most {MAX_PEM_BYTES} bytes of PEM"
            ));
        }
        let key = p384::PublicKey::from_public_key_pem(pem.trim()).map_err(|_| {
            "publicKeyMaterial must be a PEM-encoded ECDSA P-384 (secp384r1) public key".to_string()
        })?;
        let spki_der = key
            .to_public_key_der()
            .map_err(|e| format!("cannot encode the public key: {e}"))?
            .as_bytes()
            .to_vec();
        Ok(P384PublicKey { key, spki_der })
    }

    /// The key's fingerprint: the first 16 bytes of the SHA-256 of the DER SubjectPublicKeyInfo,
    /// as lowercase hex pairs joined by `:` (so the same key always gets the same fingerprint,
    /// however its PEM is wrapped).
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(&self.spki_der);
        digest[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(":")
    }

    /// The key as PEM (canonical form).
    pub fn to_pem(&self) -> String {
        self.key
            .to_public_key_pem(p384::pkcs8::LineEnding::LF)
            .unwrap_or_default()
    }

    /// The key for verifying signatures.
    pub fn verifying_key(&self) -> p384::ecdsa::VerifyingKey {
        p384::ecdsa::VerifyingKey::from(&self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p384::ecdsa::SigningKey;

    #[test]
    fn pem_round_trip_and_stable_fingerprint() {
        let sk = SigningKey::random(&mut rand::rngs::OsRng);
        let pem = sk
            .verifying_key()
            .to_public_key_pem(p384::pkcs8::LineEnding::LF)
            .unwrap();
        let k = P384PublicKey::from_pem(&pem).unwrap();
        let k2 = P384PublicKey::from_pem(&pem.replace('\n', "\r\n")).unwrap();
        assert_eq!(k.fingerprint(), k2.fingerprint());
        assert_eq!(k.fingerprint().len(), 16 * 3 - 1);
        assert_eq!(P384PublicKey::from_pem(&k.to_pem()).unwrap(), k);
    }

    #[test]
    fn garbage_and_other_curves_are_refused() {
        assert!(
            P384PublicKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
                .is_err()
        );
        assert!(P384PublicKey::from_pem("").is_err());
        assert!(P384PublicKey::from_pem(&"x".repeat(10_000)).is_err());
    }
}
