//! A standalone S3 endpoint for trying real clients against `S3Service` (no authentication:
//! every request is treated as S3 from account 000000000000 in us-east-1).
//!
//! ```text
//! cargo run --release -p reelay-s3 --example s3-serve -- [--port N] [--data DIR] [--base-host HOST]
//! ```
//!
//! `--port 0` (the default) binds a free port. Once listening it prints one line,
//! `s3-serve listening on http://127.0.0.1:<port>`, so scripts can wait for it. Without `--data`
//! the objects live in a temporary directory removed on exit.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::response::Response;
use reelay_blob::BlobStore;
use reelay_s3::{S3Context, S3Service};

struct App {
    s3: S3Service,
    base_host: String,
}

async fn serve_s3(State(app): State<Arc<App>>, req: Request) -> Response {
    let ctx = S3Context {
        account: "000000000000".to_owned(),
        region: "us-east-1".to_owned(),
        request_id: uuid::Uuid::new_v4().simple().to_string().to_uppercase(),
        base_host: Some(app.base_host.clone()),
        chunk_verifier: None,
        expected_sha256: None,
    };
    app.s3.handle(ctx, req).await
}

fn usage() -> ! {
    eprintln!("usage: s3-serve [--port N] [--data DIR] [--base-host HOST]");
    std::process::exit(2)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_writer(std::io::stderr)
        .init();
    let mut port: u16 = 0;
    let mut data: Option<std::path::PathBuf> = None;
    let mut base_host: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| usage());
        match arg.as_str() {
            "--port" => port = value().parse().unwrap_or_else(|_| usage()),
            "--data" => data = Some(value().into()),
            "--base-host" => base_host = Some(value()),
            _ => usage(),
        }
    }
    let temp = tempfile::tempdir()?;
    let data_dir = data.unwrap_or_else(|| temp.path().to_path_buf());
    let blob = BlobStore::open(&data_dir, None)?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], port))).await?;
    let addr = listener.local_addr()?;
    let app = Arc::new(App {
        s3: S3Service::new(Arc::new(blob)),
        base_host: base_host.unwrap_or_else(|| addr.to_string()),
    });
    let router = Router::new()
        .fallback(serve_s3)
        .layer(DefaultBodyLimit::disable())
        .with_state(app);
    println!("s3-serve listening on http://{addr}");
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
