//! Opaque, authenticated page tokens.
//!
//! A token is `base64url(version || context || last_id || HMAC-SHA256(key, version || context || last_id))`.
//! `context` is a hash of the scope, kind, parent and filters of the query, so a token only continues the walk it
//! came from. The key is random, generated once per database and stored in it, so tokens survive restarts and work
//! on every node sharing a PostgreSQL database. Pagination is keyset on the id: the next page starts strictly after
//! `last_id`, which keeps a walk free of duplicates and of skips under concurrent writes.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};
use zeroize::{Zeroize, Zeroizing};

use crate::error::StoreError;
use crate::limits::MAX_PAGE_TOKEN_BYTES;
use crate::model::{Filter, ListQuery, Scope};

const TOKEN_FORMAT_V1: u8 = 1;
const CONTEXT_LEN: usize = 16;
const MAC_LEN: usize = 32;

type HmacSha256 = Hmac<Sha256>;

/// The page-token signing key: a secret, so its `Debug` is redacted and it is wiped on drop.
pub(crate) struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey(<redacted>)")
    }
}

impl Drop for TokenKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl TokenKey {
    pub(crate) fn generate() -> Self {
        let mut key = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut key);
        TokenKey(key)
    }

    /// The key as stored in the database; wiped when the caller drops it.
    pub(crate) fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0))
    }

    pub(crate) fn from_hex(text: &str) -> Result<Self, StoreError> {
        let mut key = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut key)
            .map_err(|_| StoreError::Backend("stored page-token key is malformed".into()))?;
        Ok(TokenKey(key))
    }

    fn mac(&self) -> Result<HmacSha256, StoreError> {
        // HMAC accepts keys of any length, so this cannot fail; map it anyway rather than unwrap.
        HmacSha256::new_from_slice(&self.0)
            .map_err(|_| StoreError::Backend("hmac key rejected".into()))
    }
}

/// Hash of everything that defines a walk, except the page size (which may change from page to page).
pub(crate) fn context(scope: &Scope, query: &ListQuery) -> [u8; CONTEXT_LEN] {
    // Length-prefixed fields, so that ("ab", "c") and ("a", "bc") hash differently.
    fn field(hasher: &mut Sha256, bytes: &[u8]) {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    }
    let mut hasher = Sha256::new();
    field(&mut hasher, b"reelay-store page token v1");
    field(&mut hasher, scope.account.as_bytes());
    field(&mut hasher, scope.region.as_bytes());
    field(&mut hasher, query.kind.as_bytes());
    match &query.parent {
        Some(parent) => {
            field(&mut hasher, b"P");
            field(&mut hasher, parent.as_bytes());
        }
        None => field(&mut hasher, b"-"),
    }
    for filter in &query.filters {
        match filter {
            Filter::Eq { key, value } => {
                field(&mut hasher, b"eq");
                field(&mut hasher, key.as_bytes());
                field(&mut hasher, value.as_bytes());
            }
            Filter::Prefix { key, prefix } => {
                field(&mut hasher, b"prefix");
                field(&mut hasher, key.as_bytes());
                field(&mut hasher, prefix.as_bytes());
            }
        }
    }
    let digest = hasher.finalize();
    let mut out = [0u8; CONTEXT_LEN];
    out.copy_from_slice(&digest[..CONTEXT_LEN]);
    out
}

pub(crate) fn encode(
    key: &TokenKey,
    context: &[u8; CONTEXT_LEN],
    last_id: &str,
) -> Result<String, StoreError> {
    let mut bytes = Vec::with_capacity(1 + CONTEXT_LEN + last_id.len() + MAC_LEN);
    bytes.push(TOKEN_FORMAT_V1);
    bytes.extend_from_slice(context);
    bytes.extend_from_slice(last_id.as_bytes());
    let mut mac = key.mac()?;
    mac.update(&bytes);
    bytes.extend_from_slice(&mac.finalize().into_bytes());
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// Returns the last id of the previous page. Never panics, whatever `token` holds.
pub(crate) fn decode(
    key: &TokenKey,
    context: &[u8; CONTEXT_LEN],
    token: &str,
) -> Result<String, StoreError> {
    if token.len() > MAX_PAGE_TOKEN_BYTES {
        return Err(StoreError::InvalidPageToken);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(token)
        .map_err(|_| StoreError::InvalidPageToken)?;
    if bytes.len() < 1 + CONTEXT_LEN + MAC_LEN {
        return Err(StoreError::InvalidPageToken);
    }
    let (message, tag) = bytes.split_at(bytes.len() - MAC_LEN);
    let mut mac = key.mac()?;
    mac.update(message);
    // `verify_slice` compares in constant time.
    mac.verify_slice(tag)
        .map_err(|_| StoreError::InvalidPageToken)?;
    let (version, rest) = message.split_at(1);
    let (token_context, last_id) = rest.split_at(CONTEXT_LEN);
    // A token authenticated under our key but minted for another walk (kind, parent, filters, scope).
    if version != [TOKEN_FORMAT_V1] || token_context != context {
        return Err(StoreError::InvalidPageToken);
    }
    String::from_utf8(last_id.to_vec()).map_err(|_| StoreError::InvalidPageToken)
}

#[cfg(test)]
mod tests {
    use rand::rngs::StdRng;
    use rand::{Rng, SeedableRng};

    use super::*;

    fn query(kind: &str) -> ListQuery {
        ListQuery {
            kind: kind.into(),
            parent: None,
            filters: vec![],
            limit: 10,
            page_token: None,
        }
    }

    #[test]
    fn round_trip() {
        let key = TokenKey::generate();
        let ctx = context(&Scope::new("1", "r"), &query("k"));
        for id in ["a", "", "ünïcødé/id", "x\u{10FFFF}"] {
            let token = encode(&key, &ctx, id).expect("encode");
            assert_eq!(decode(&key, &ctx, &token).expect("decode"), id);
        }
    }

    #[test]
    fn foreign_and_tampered_tokens_are_rejected() {
        let key = TokenKey::generate();
        let scope = Scope::new("1", "r");
        let ctx = context(&scope, &query("k"));
        let token = encode(&key, &ctx, "abc").expect("encode");

        let other_kind = context(&scope, &query("k2"));
        assert_eq!(
            decode(&key, &other_kind, &token),
            Err(StoreError::InvalidPageToken)
        );
        let other_scope = context(&Scope::new("2", "r"), &query("k"));
        assert_eq!(
            decode(&key, &other_scope, &token),
            Err(StoreError::InvalidPageToken)
        );
        assert_eq!(
            decode(&TokenKey::generate(), &ctx, &token),
            Err(StoreError::InvalidPageToken)
        );

        // Flipping any single bit of the decoded token breaks the MAC.
        let raw = URL_SAFE_NO_PAD.decode(&token).expect("valid base64");
        for byte_idx in 0..raw.len() {
            for bit in 0..8 {
                let mut bad = raw.clone();
                bad[byte_idx] ^= 1 << bit;
                let bad = URL_SAFE_NO_PAD.encode(bad);
                assert_eq!(decode(&key, &ctx, &bad), Err(StoreError::InvalidPageToken));
            }
        }
        for cut in 0..token.len() {
            assert_eq!(
                decode(&key, &ctx, &token[..cut]),
                Err(StoreError::InvalidPageToken)
            );
        }
    }

    #[test]
    fn scope_fields_do_not_run_together() {
        let q = query("k");
        assert_ne!(
            context(&Scope::new("ab", "c"), &q),
            context(&Scope::new("a", "bc"), &q)
        );
        let eq = |v: &str| ListQuery {
            filters: vec![Filter::Eq {
                key: "name".into(),
                value: v.into(),
            }],
            ..query("k")
        };
        let prefix = |v: &str| ListQuery {
            filters: vec![Filter::Prefix {
                key: "name".into(),
                prefix: v.into(),
            }],
            ..query("k")
        };
        let scope = Scope::new("1", "r");
        assert_ne!(context(&scope, &eq("x")), context(&scope, &prefix("x")));
        let with_parent = ListQuery {
            parent: Some("p".into()),
            ..query("k")
        };
        assert_ne!(context(&scope, &with_parent), context(&scope, &q));
    }

    #[test]
    fn random_input_never_panics() {
        let key = TokenKey::generate();
        let ctx = context(&Scope::new("1", "r"), &query("k"));
        let mut rng = StdRng::seed_from_u64(0x5eed);
        for _ in 0..20_000 {
            let len = rng.gen_range(0..200);
            let bytes: Vec<u8> = (0..len).map(|_| rng.r#gen()).collect();
            // Raw bytes as text, and the same bytes as well-formed base64 (which reaches the MAC check).
            let as_text = String::from_utf8_lossy(&bytes);
            assert_eq!(
                decode(&key, &ctx, &as_text),
                Err(StoreError::InvalidPageToken)
            );
            let as_b64 = URL_SAFE_NO_PAD.encode(&bytes);
            assert_eq!(
                decode(&key, &ctx, &as_b64),
                Err(StoreError::InvalidPageToken)
            );
        }
        let huge = "A".repeat(MAX_PAGE_TOKEN_BYTES + 1);
        assert_eq!(decode(&key, &ctx, &huge), Err(StoreError::InvalidPageToken));
    }

    #[test]
    fn key_debug_is_redacted_and_hex_round_trips() {
        let key = TokenKey::generate();
        assert_eq!(format!("{key:?}"), "TokenKey(<redacted>)");
        let again = TokenKey::from_hex(&key.to_hex()).expect("hex");
        assert_eq!(again.0, key.0);
        assert!(TokenKey::from_hex("zz").is_err());
    }
}
