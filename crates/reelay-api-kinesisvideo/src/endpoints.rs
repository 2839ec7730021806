//! The URLs reelay hands out: data endpoints, signaling endpoints and ICE servers.

/// A TURN password from the `--ice-server` flag; a secret, so `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct TurnPassword(String);

impl TurnPassword {
    /// The password, for the response body only.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for TurnPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnPassword(<redacted>)")
    }
}

/// One configured ICE server, split into what `GetIceServerConfig` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceServerUri {
    /// The URI without credentials, e.g. `turn:turn.example.com:3478?transport=udp`.
    pub uri: String,
    /// The user name, when the flag carried `user:pass@`.
    pub username: Option<String>,
    /// The password, when the flag carried `user:pass@`.
    pub password: Option<TurnPassword>,
}

/// Split `scheme:[user[:pass]@]host[:port][?query]` (RFC 7064 / RFC 7065 URIs, extended with
/// the userinfo part the `--ice-server` flag allows) into the bare URI and its credentials.
pub fn parse_ice_server(flag: &str) -> IceServerUri {
    let flag = flag.trim();
    let bare = |uri: &str| IceServerUri {
        uri: uri.to_string(),
        username: None,
        password: None,
    };
    let Some((scheme, rest)) = flag.split_once(':') else {
        return bare(flag);
    };
    // Credentials live before the host, never in the query.
    let (authority, query) = match rest.split_once('?') {
        Some((a, q)) => (a, Some(q)),
        None => (rest, None),
    };
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return bare(flag);
    };
    let (user, pass) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    let uri = match query {
        Some(q) => format!("{scheme}:{host}?{q}"),
        None => format!("{scheme}:{host}"),
    };
    IceServerUri {
        uri,
        username: (!user.is_empty()).then(|| user.to_string()),
        password: (!pass.is_empty()).then(|| TurnPassword(pass.to_string())),
    }
}

/// The WebSocket form of an HTTP base URL (`http` → `ws`, `https` → `wss`).
pub(crate) fn websocket_url(public_url: &str) -> String {
    if let Some(rest) = public_url.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = public_url.strip_prefix("http://") {
        format!("ws://{rest}")
    } else {
        public_url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ice_servers_split_credentials() {
        let t = parse_ice_server("turn:alice:s3cret@turn.example.com:3478?transport=udp");
        assert_eq!(t.uri, "turn:turn.example.com:3478?transport=udp");
        assert_eq!(t.username.as_deref(), Some("alice"));
        assert_eq!(
            t.password.as_ref().map(TurnPassword::expose),
            Some("s3cret")
        );
        assert!(!format!("{t:?}").contains("s3cret"));
        let s = parse_ice_server("stun:stun.example.com:3478");
        assert_eq!(
            s,
            IceServerUri {
                uri: "stun:stun.example.com:3478".into(),
                username: None,
                password: None
            }
        );
        // A password may itself contain ':' and '@'; the host is after the last '@'.
        let t = parse_ice_server("turns:bob:p:a@ss@h:5349");
        assert_eq!(
            (t.uri.as_str(), t.username.as_deref()),
            ("turns:h:5349", Some("bob"))
        );
        assert_eq!(t.password.map(|p| p.0), Some("p:a@ss".to_string()));
        assert_eq!(parse_ice_server("nonsense").uri, "nonsense");
    }

    #[test]
    fn websocket_urls() {
        assert_eq!(
            websocket_url("http://127.0.0.1:4599"),
            "ws://127.0.0.1:4599"
        );
        assert_eq!(
            websocket_url("https://kvs.example.com"),
            "wss://kvs.example.com"
        );
    }
}
