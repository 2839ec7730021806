//! Server configuration, independent of how it was given (flags, environment, tests).

use std::net::SocketAddr;
use std::path::PathBuf;

/// How requests are authenticated.
#[derive(Debug, Clone)]
pub enum AuthMode {
    /// Accept any well-formed SigV4 signature, as local emulators do.
    Accept,
    /// Verify signatures against these credentials.
    Strict(Vec<reelay_sigv4::Credentials>),
}

/// Everything `reelay serve` needs.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where state lives.
    pub data_dir: PathBuf,
    /// The HTTP listener address (port 0 picks a free port).
    pub http: SocketAddr,
    /// Base URL of returned URLs; derived from the bound address when `None`.
    pub public_url: Option<String>,
    /// Authentication mode.
    pub auth: AuthMode,
    /// Largest API request body accepted, in bytes.
    pub max_body_bytes: u64,
    /// Whether `/_reelay/reset`, `/moto-api/reset` and `/_reelay/clock` are served.
    pub reset_endpoints: bool,
    /// Metadata store URL; `None` means SQLite at `<data-dir>/reelay.db`.
    pub database_url: Option<String>,
    /// Object store URL (`s3://bucket[/prefix]`); `None` means files under `<data-dir>/objects`.
    pub object_store: Option<String>,
    /// RTMP ingest address advertised in channel and stage endpoints.
    pub rtmp: SocketAddr,
    /// SRT ingest address (UDP, bound; port 0 picks a free port).
    pub srt: SocketAddr,
    /// RTMPS ingest address; served only with [`Config::tls_cert`] and [`Config::tls_key`].
    pub rtmps: Option<SocketAddr>,
    /// PEM certificate chain of the RTMPS listener.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key of the RTMPS listener.
    pub tls_key: Option<PathBuf>,
    /// STUN/TURN URIs for WebRTC clients (KVS GetIceServerConfig and friends).
    pub ice_servers: Vec<String>,
}

impl Config {
    /// Defaults for tests and embedding: a free port on loopback, accept-any auth.
    pub fn for_tests(data_dir: PathBuf) -> Config {
        Config {
            data_dir,
            http: SocketAddr::from(([127, 0, 0, 1], 0)),
            public_url: None,
            auth: AuthMode::Accept,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            reset_endpoints: true,
            database_url: None,
            object_store: None,
            rtmp: SocketAddr::from(([127, 0, 0, 1], 0)),
            srt: SocketAddr::from(([127, 0, 0, 1], 0)),
            rtmps: None,
            tls_cert: None,
            tls_key: None,
            ice_servers: Vec::new(),
        }
    }
}

impl Config {
    /// The metadata store URL in effect.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(u) => u.clone(),
            None => format!("sqlite://{}", self.data_dir.join("reelay.db").display()),
        }
    }
}

/// Default `--max-body-bytes`: far above any modelled JSON request.
pub const DEFAULT_MAX_BODY_BYTES: u64 = 8 * 1024 * 1024;
