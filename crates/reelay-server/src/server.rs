//! The HTTP listener and the shared application state.

use crate::config::Config;
use crate::dispatch;
use axum::Router;
use axum::routing::{get, post};
use reelay_aws::{NotImplementedService, Service, ServiceId};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::sync::watch;

/// State shared by every request.
pub struct AppState {
    /// The configuration.
    pub config: Config,
    /// Base URL of returned URLs.
    pub public_url: String,
    /// Route table over all models.
    pub router: reelay_aws::router::Router,
    /// Handlers per service.
    pub services: HashMap<ServiceId, Arc<dyn Service>>,
    /// Start time, for `/_reelay/health`.
    pub started: std::time::Instant,
}

/// A started server.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The base URL of returned URLs.
    pub public_url: String,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

impl Running {
    /// Stop accepting, finish in-flight requests, and return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await??;
        Ok(())
    }

    /// Wait for SIGINT or SIGTERM, then shut down gracefully.
    pub async fn wait_for_shutdown_signal(self) -> anyhow::Result<()> {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        ctrl_c.await?;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

/// The service registry: a handler set per service; services without handlers yet answer 501.
fn services() -> HashMap<ServiceId, Arc<dyn Service>> {
    reelay_aws::generated::ALL
        .iter()
        .map(|m| (m.id, Arc::new(NotImplementedService(m)) as Arc<dyn Service>))
        .collect()
}

/// Bind the listener and start serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)?;
    let listener = tokio::net::TcpListener::bind(config.http).await?;
    let addr = listener.local_addr()?;
    let public_url = config.public_url.clone().unwrap_or_else(|| {
        let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
        let host = if host.contains(':') { format!("[{host}]") } else { host };
        format!("http://{host}:{}", addr.port())
    });
    let state = Arc::new(AppState {
        public_url: public_url.clone(),
        router: reelay_aws::router::Router::new(reelay_aws::generated::ALL),
        services: services(),
        started: std::time::Instant::now(),
        config,
    });
    let mut app = Router::new().route("/_reelay/health", get(dispatch::health));
    if state.config.reset_endpoints {
        app = app.route("/_reelay/reset", post(dispatch::reset)).route("/moto-api/reset", post(dispatch::reset));
    }
    let app = app.fallback(dispatch::aws).with_state(state);
    let (tx, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await
    });
    tracing::info!(%addr, %public_url, "listening");
    Ok(Running { addr, public_url, shutdown: tx, task })
}
