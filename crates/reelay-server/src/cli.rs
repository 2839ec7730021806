//! The command line. Every flag has a `REELAY_*` environment equivalent.

use crate::config::{AuthMode, Config, DEFAULT_MAX_BODY_BYTES};
use anyhow::{Context, bail};
use clap::{Parser, Subcommand, ValueEnum};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

/// reelay: a self-hosted media cloud speaking the AWS APIs of MediaPackage VOD, IVS,
/// IVS Real-Time and Kinesis Video Streams.
#[derive(Debug, Parser)]
#[command(name = "reelay", version)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start the server on embedded defaults (SQLite + local files under --data-dir).
    Serve(ServeArgs),
}

/// Authentication modes of `--auth`.
#[derive(Debug, Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum AuthArg {
    /// Accept any well-formed SigV4 signature (local development, CI).
    Accept,
    /// Verify every signature against `--credentials`.
    Strict,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// Directory for all state.
    #[arg(long, env = "REELAY_DATA_DIR", default_value = "./reelay-data")]
    data_dir: PathBuf,
    /// HTTP listener for every AWS API, the S3 endpoint, egress and playback. Port 0 picks a free port.
    #[arg(long, env = "REELAY_HTTP", default_value = "127.0.0.1:4599")]
    http: SocketAddr,
    /// Base URL that returned URLs point at (default: derived from the bound address).
    #[arg(long, env = "REELAY_PUBLIC_URL")]
    public_url: Option<String>,
    /// Authentication mode.
    #[arg(long, env = "REELAY_AUTH", value_enum, default_value = "accept")]
    auth: AuthArg,
    /// Credentials file (AWS `credentials` INI format) used by `--auth strict`.
    #[arg(long, env = "REELAY_CREDENTIALS")]
    credentials: Option<PathBuf>,
    /// Largest API request body, in bytes.
    #[arg(long, env = "REELAY_MAX_BODY_BYTES", default_value_t = DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: u64,
    /// Serve `/_reelay/reset` and `/moto-api/reset` even with `--auth strict` (always on otherwise).
    #[arg(long, env = "REELAY_ENABLE_RESET")]
    enable_reset: bool,
    /// Metadata store: `postgres://...` for PostgreSQL (default: SQLite at <data-dir>/reelay.db).
    #[arg(long, env = "REELAY_DATABASE_URL")]
    database_url: Option<String>,
    /// Object store: `s3://bucket[/prefix]` on any S3-compatible store, configured by the standard
    /// AWS_* environment variables (default: files under <data-dir>/objects).
    #[arg(long, env = "REELAY_OBJECT_STORE")]
    object_store: Option<String>,
    /// RTMP ingest address (port 0 picks a free port).
    #[arg(long, env = "REELAY_RTMP", default_value = "127.0.0.1:1935")]
    rtmp: SocketAddr,
    /// SRT ingest address (UDP; port 0 picks a free port).
    #[arg(long, env = "REELAY_SRT", default_value = "127.0.0.1:9000")]
    srt: SocketAddr,
    /// RTMPS ingest address (port 0 picks a free port); needs --tls-cert and --tls-key. While
    /// RTMPS is served, plain RTMP takes only channels with insecureIngest.
    #[arg(long, env = "REELAY_RTMPS", requires_all = ["tls_cert", "tls_key"])]
    rtmps: Option<SocketAddr>,
    /// PEM certificate chain (leaf first) for RTMPS.
    #[arg(long, env = "REELAY_TLS_CERT", requires = "rtmps")]
    tls_cert: Option<PathBuf>,
    /// PEM private key for RTMPS.
    #[arg(long, env = "REELAY_TLS_KEY", requires = "rtmps")]
    tls_key: Option<PathBuf>,
    /// A STUN or TURN URI handed to WebRTC clients (`turn:` URIs may carry `user:pass@`);
    /// repeat for several. Comma-separated in REELAY_ICE_SERVERS.
    #[arg(long = "ice-server", env = "REELAY_ICE_SERVERS", value_delimiter = ',')]
    ice_servers: Vec<String>,
    /// Log filter, e.g. `info`, `debug`, `reelay_server=trace`.
    #[arg(long, env = "REELAY_LOG_LEVEL", default_value = "info")]
    log_level: String,
    /// Log format.
    #[arg(long, env = "REELAY_LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    log_format: String,
}

fn config_from(args: &ServeArgs) -> anyhow::Result<Config> {
    let auth = match (args.auth, &args.credentials) {
        (AuthArg::Accept, _) => AuthMode::Accept,
        (AuthArg::Strict, None) => bail!("--auth strict needs --credentials FILE"),
        (AuthArg::Strict, Some(path)) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            let creds = reelay_sigv4::credentials_file::parse(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
            if creds.is_empty() {
                bail!("{} holds no credentials", path.display());
            }
            AuthMode::Strict(creds)
        }
    };
    let strict = matches!(auth, AuthMode::Strict(_));
    Ok(Config {
        data_dir: args.data_dir.clone(),
        http: args.http,
        public_url: args
            .public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_string()),
        auth,
        max_body_bytes: args.max_body_bytes,
        reset_endpoints: !strict || args.enable_reset,
        database_url: args.database_url.clone(),
        object_store: args.object_store.clone(),
        rtmp: args.rtmp,
        srt: args.srt,
        rtmps: args.rtmps,
        tls_cert: args.tls_cert.clone(),
        tls_key: args.tls_key.clone(),
        ice_servers: args.ice_servers.clone(),
    })
}

fn init_logging(filter: &str, format: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter).context("--log-level")?;
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let res = if format == "json" {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    res.map_err(|e| anyhow::anyhow!("{e}"))
}

/// Run the command.
pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(args) => {
            init_logging(&args.log_level, &args.log_format)?;
            let config = config_from(&args)?;
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(async move {
                let signals = crate::server::ShutdownSignals::install()?;
                let running = crate::server::start(config).await?;
                println!("reelay rtmp listening on rtmp://{}", running.rtmp_addr);
                if let Some(addr) = running.rtmps_addr {
                    println!("reelay rtmps listening on rtmps://{addr}");
                }
                println!("reelay srt listening on srt://{}", running.srt_addr);
                // The line scripts and tests wait for: everything accepts connections now.
                println!("reelay listening on http://{}", running.addr);
                std::io::stdout().flush()?;
                running.wait_for(signals).await
            })
        }
    }
}
