//! Who is calling: SigV4 at the edge.
//!
//! In the default mode any well-formed signature is accepted (as local emulators do) and only
//! its credential scope is read: the signing name routes the request, the region scopes the
//! resources, and the access key id names the account (itself when it is 12 digits, else
//! `000000000000`). In strict mode the signature is verified against the configured
//! credentials with a 15-minute clock-skew window, in constant time.

use crate::config::AuthMode;
use reelay_sigv4::{AuthError, ParsedAuth};

/// The authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Account id.
    pub account: String,
    /// Region from the credential scope.
    pub region: String,
    /// Signing name from the credential scope (None for unsigned requests in accept mode).
    pub signing_name: Option<String>,
    /// The parsed authentication, when present.
    pub auth: Option<ParsedAuth>,
}

/// Default region of unsigned requests in accept mode.
pub const DEFAULT_REGION: &str = "us-east-1";
/// Default account.
pub const DEFAULT_ACCOUNT: &str = "000000000000";

/// Read the authentication of a request (before the body is read).
pub fn identify(
    mode: &AuthMode,
    parts: &reelay_sigv4::RequestParts<'_>,
) -> Result<Caller, AuthError> {
    match reelay_sigv4::parse(parts) {
        Ok(auth) => {
            let account = match mode {
                AuthMode::Accept => reelay_sigv4::account_for_access_key(&auth.access_key_id),
                AuthMode::Strict(creds) => creds
                    .iter()
                    .find(|c| c.access_key_id == auth.access_key_id)
                    .ok_or(AuthError::UnknownAccessKey)?
                    .account(),
            };
            Ok(Caller {
                account,
                region: auth.scope.region.clone(),
                signing_name: Some(auth.scope.service.clone()),
                auth: Some(auth),
            })
        }
        Err(AuthError::Missing) if matches!(mode, AuthMode::Accept) => Ok(Caller {
            account: DEFAULT_ACCOUNT.into(),
            region: DEFAULT_REGION.into(),
            signing_name: None,
            auth: None,
        }),
        Err(e) => Err(e),
    }
}

/// Verify the signature in strict mode once the payload hash is known; a no-op in accept mode.
pub fn verify(
    mode: &AuthMode,
    caller: &Caller,
    parts: &reelay_sigv4::RequestParts<'_>,
    payload_hash: &str,
    now_unix: i64,
) -> Result<(), AuthError> {
    let AuthMode::Strict(creds) = mode else {
        return Ok(());
    };
    let Some(auth) = &caller.auth else {
        return Err(AuthError::Missing);
    };
    let cred = creds
        .iter()
        .find(|c| c.access_key_id == auth.access_key_id)
        .ok_or(AuthError::UnknownAccessKey)?;
    reelay_sigv4::verify(parts, auth, &cred.secret, payload_hash, now_unix)
}
