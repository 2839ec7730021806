//! Secret access keys and the credentials that carry them.

use std::fmt;

use subtle::ConstantTimeEq;
use zeroize::Zeroize;

/// An AWS secret access key.
///
/// `Debug` never prints the key, the memory is wiped on drop, and equality is constant-time so
/// that comparing two keys does not leak how long their common prefix is.
#[derive(Clone)]
pub struct SecretKey(String);

impl SecretKey {
    /// Wraps a secret access key.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The key itself, for the HMAC chain and for tools that must hand it on.
    ///
    /// Keep the returned reference short-lived and never log it.
    pub fn expose_secret(&self) -> &str {
        &self.0
    }
}

impl From<String> for SecretKey {
    fn from(secret: String) -> Self {
        Self(secret)
    }
}

impl From<&str> for SecretKey {
    fn from(secret: &str) -> Self {
        Self(secret.to_owned())
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey(***)")
    }
}

impl PartialEq for SecretKey {
    fn eq(&self, other: &Self) -> bool {
        // `ct_eq` on slices of different lengths returns false early; the length of a secret key
        // is not itself a secret (AWS keys are always 40 characters).
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }
}

impl Eq for SecretKey {}

impl Drop for SecretKey {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

/// One access key pair, as a server knows it or as a client signs with it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Credentials {
    /// The access key id, sent in clear in every request (`Credential=AKID/...`).
    pub access_key_id: String,
    /// The secret access key; never sent.
    pub secret: SecretKey,
    /// The account this key belongs to, when configured explicitly (`aws_account_id`).
    pub account_id: Option<String>,
}

impl Credentials {
    /// A key pair without an explicit account.
    pub fn new(access_key_id: impl Into<String>, secret: impl Into<SecretKey>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret: secret.into(),
            account_id: None,
        }
    }

    /// The account id: the configured one, else the one derived by [`account_for_access_key`].
    pub fn account(&self) -> String {
        match &self.account_id {
            Some(id) => id.clone(),
            None => account_for_access_key(&self.access_key_id),
        }
    }
}

/// The account id a request signed with `akid` belongs to when no account is configured.
///
/// An access key id of exactly 12 ASCII digits *is* the account id, the multi-account convention
/// of other AWS emulators (LocalStack, ministack); every other key maps to `000000000000`.
pub fn account_for_access_key(akid: &str) -> String {
    if akid.len() == 12 && akid.bytes().all(|b| b.is_ascii_digit()) {
        akid.to_owned()
    } else {
        "000000000000".to_owned()
    }
}
