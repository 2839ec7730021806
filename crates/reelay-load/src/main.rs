//! `reelay-load`: command-line front end of [`reelay_load::run`].

use std::time::Duration;

use anyhow::Context;
use clap::Parser;
use reelay_load::{BodyTemplate, Config, parse_duration, run};
use reelay_sigv4::Credentials;

/// Sends concurrent SigV4-signed requests to a reelay endpoint and reports throughput and latency.
#[derive(Parser, Debug)]
#[command(name = "reelay-load", version)]
struct Args {
    /// Endpoint, http://host:port (no default: say which server to load).
    #[arg(long)]
    endpoint: String,
    /// SigV4 signing name: ivs, kinesisvideo, mediapackage-vod, s3, ...
    #[arg(long)]
    service: String,
    /// SigV4 region.
    #[arg(long, default_value = "us-east-1")]
    region: String,
    /// HTTP method.
    #[arg(long, default_value = "POST")]
    method: String,
    /// Request target, percent-encoded, with optional ?query (for example /GetChannel).
    #[arg(long)]
    path: String,
    // Not spelled out below: clap's help renderer turns a literal `{n}` into a line break.
    /// Request body; the letter n in braces becomes a per-request counter and {uuid} a random UUID.
    #[arg(long, conflicts_with = "body_file")]
    body: Option<String>,
    /// Read the body template from a file.
    #[arg(long)]
    body_file: Option<std::path::PathBuf>,
    /// Extra header `Name:Value`, signed; repeatable.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    headers: Vec<String>,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Measured duration (10s, 500ms, 2m); at most 600 s including the warm-up.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    duration: Duration,
    /// Warm-up before measuring.
    #[arg(long, default_value = "0s", value_parser = parse_duration)]
    warmup: Duration,
    /// Per-request timeout.
    #[arg(long, default_value = "10s", value_parser = parse_duration)]
    timeout: Duration,
    /// Access key id to sign with.
    #[arg(long, env = "AWS_ACCESS_KEY_ID", default_value = "test")]
    access_key: String,
    /// Secret access key to sign with.
    #[arg(
        long,
        env = "AWS_SECRET_ACCESS_KEY",
        default_value = "test",
        hide_env_values = true
    )]
    secret_key: String,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

fn parse_header(raw: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = raw
        .split_once(':')
        .with_context(|| format!("header '{raw}' is not Name:Value"))?;
    Ok((name.trim().to_owned(), value.trim().to_owned()))
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    // `reelay-load fetch ...`: the URL-list mode (see `reelay_load::fetch`).
    if std::env::args().nth(1).as_deref() == Some("fetch") {
        return match fetch(FetchArgs::parse_from(std::env::args().skip(1))).await {
            Ok(true) => std::process::ExitCode::SUCCESS,
            Ok(false) => std::process::ExitCode::from(1),
            Err(err) => {
                eprintln!("reelay-load fetch: {err:#}");
                std::process::ExitCode::from(2)
            }
        };
    }
    match load(Args::parse()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("reelay-load: {err:#}");
            std::process::ExitCode::from(2)
        }
    }
}

async fn load(args: Args) -> anyhow::Result<()> {
    let template = match (&args.body, &args.body_file) {
        (Some(body), _) => body.clone(),
        (None, Some(path)) => {
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?
        }
        (None, None) => String::new(),
    };
    let headers = args
        .headers
        .iter()
        .map(|h| parse_header(h))
        .collect::<anyhow::Result<Vec<_>>>()?;
    let config = Config {
        endpoint: args.endpoint,
        service: args.service,
        region: args.region,
        method: args.method,
        path: args.path,
        body: BodyTemplate::parse(&template),
        headers,
        concurrency: args.concurrency,
        duration: args.duration,
        warmup: args.warmup,
        timeout: args.timeout,
        credentials: Credentials::new(args.access_key, args.secret_key),
    };
    let report = run(config).await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(())
}

/// `reelay-load fetch`: GETs every URL of a list once over keep-alive connections, discarding
/// the bodies; exits 1 unless every response is 2xx with exactly its Content-Length.
#[derive(Parser, Debug)]
#[command(name = "reelay-load fetch")]
struct FetchArgs {
    /// Endpoint, http://host:port.
    #[arg(long)]
    endpoint: String,
    /// File with one URL (under the endpoint) or path per line; `-` reads standard input.
    #[arg(long)]
    urls: std::path::PathBuf,
    /// Concurrent connections.
    #[arg(long, default_value_t = 4)]
    concurrency: usize,
    /// Per-request timeout.
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    timeout: Duration,
    /// Print one JSON object instead of a table.
    #[arg(long)]
    json: bool,
}

async fn fetch(args: FetchArgs) -> anyhow::Result<bool> {
    use reelay_load::fetch::{FetchConfig, fetch_list, parse_list};
    let text = if args.urls.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("reading standard input")?
    } else {
        std::fs::read_to_string(&args.urls)
            .with_context(|| format!("reading {}", args.urls.display()))?
    };
    let paths = parse_list(&args.endpoint, &text)?;
    let report = fetch_list(FetchConfig {
        endpoint: args.endpoint,
        paths,
        concurrency: args.concurrency,
        timeout: args.timeout,
    })
    .await?;
    if args.json {
        println!("{}", serde_json::to_string(&report)?);
    } else {
        print!("{}", report.table());
    }
    Ok(report.complete())
}
