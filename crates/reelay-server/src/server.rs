//! The HTTP listener and the shared application state.

use crate::config::Config;
use crate::dispatch;
use anyhow::Context as _;
use axum::Router;
use axum::routing::{get, post};
use axum::serve::ListenerExt as _;
use reelay_api_common::{Clock, Deps, Endpoints};
use reelay_aws::{Service, ServiceId};
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
    /// What handlers share (store, objects, clock, endpoints).
    pub deps: Deps,
    /// The S3 endpoint.
    pub s3: reelay_s3::S3Service,
    /// Start time, for `/_reelay/health`.
    pub started: std::time::Instant,
}

/// A started server.
pub struct Running {
    /// The bound address.
    pub addr: SocketAddr,
    /// The bound RTMP ingest address.
    pub rtmp_addr: SocketAddr,
    /// The bound RTMPS ingest address, when served.
    pub rtmps_addr: Option<SocketAddr>,
    /// The bound SRT ingest address (UDP).
    pub srt_addr: SocketAddr,
    /// The base URL of returned URLs.
    pub public_url: String,
    shutdown: watch::Sender<bool>,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
    store: Arc<dyn reelay_store::MetaStore>,
}

impl Running {
    /// Stop accepting, finish in-flight requests, close the store, and return.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await??;
        self.store.close().await;
        Ok(())
    }

    /// Wait for SIGINT or SIGTERM (handlers installed beforehand with
    /// [`ShutdownSignals::install`]), then shut down gracefully.
    pub async fn wait_for(self, mut signals: ShutdownSignals) -> anyhow::Result<()> {
        signals.recv().await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

/// SIGINT and SIGTERM handlers, installed before the ready line is printed so that a signal
/// sent right after it is never lost to the default action (which would kill the process
/// without a graceful shutdown).
pub struct ShutdownSignals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl ShutdownSignals {
    /// Install the handlers (inside a tokio runtime).
    pub fn install() -> std::io::Result<ShutdownSignals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(ShutdownSignals {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(ShutdownSignals {})
    }

    /// Wait for either signal.
    pub async fn recv(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.int.recv() => {}
            _ = self.term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// The service registry: every model gets the handler set of its `reelay-api-*` crate.
fn services(deps: &Deps) -> HashMap<ServiceId, Arc<dyn Service>> {
    let mut all = Vec::new();
    all.extend(reelay_api_mediapackage_vod::services(deps));
    all.extend(reelay_api_ivs::services(deps));
    all.extend(reelay_api_ivs_realtime::services(deps));
    all.extend(reelay_api_kinesisvideo::services(deps));
    let mut map: HashMap<ServiceId, Arc<dyn Service>> =
        all.into_iter().map(|s| (s.model().id, s)).collect();
    for m in reelay_aws::generated::ALL {
        map.entry(m.id)
            .or_insert_with(|| Arc::new(reelay_aws::NotImplementedService(m)));
    }
    map
}

/// Bind the listener and start serving.
pub async fn start(config: Config) -> anyhow::Result<Running> {
    start_with_services(config, Vec::new()).await
}

/// Like [`start`], with some services' handlers replaced (tests use this to install a
/// handler that misbehaves on purpose).
pub async fn start_with_services(
    config: Config,
    overrides: Vec<Arc<dyn Service>>,
) -> anyhow::Result<Running> {
    std::fs::create_dir_all(&config.data_dir)
        .with_context(|| format!("creating data dir {}", config.data_dir.display()))?;
    let store = reelay_store::open(&config.database_url(), reelay_store::StoreConfig::default())
        .await
        .map_err(|e| anyhow::anyhow!("opening the metadata store: {e}"))?;
    let blob = Arc::new(
        reelay_blob::BlobStore::open(&config.data_dir, config.object_store.as_deref())
            .map_err(|e| anyhow::anyhow!("opening the object store: {e}"))?,
    );
    let listener = tokio::net::TcpListener::bind(config.http)
        .await
        .with_context(|| format!("binding {}", config.http))?;
    let addr = listener.local_addr()?;
    let rtmp_listener = tokio::net::TcpListener::bind(config.rtmp)
        .await
        .with_context(|| format!("binding RTMP {}", config.rtmp))?;
    let rtmp_addr = rtmp_listener.local_addr()?;
    let rtmps = match (config.rtmps, &config.tls_cert, &config.tls_key) {
        (Some(addr), Some(cert), Some(key)) => {
            let tls = reelay_live::tls::server_config(cert, key).context("RTMPS certificate")?;
            let listener = tokio::net::TcpListener::bind(addr)
                .await
                .with_context(|| format!("binding RTMPS {addr}"))?;
            Some((listener, tls))
        }
        (None, None, None) => None,
        _ => anyhow::bail!("RTMPS needs an address, a certificate and a key"),
    };
    let rtmps_addr = match &rtmps {
        Some((l, _)) => Some(l.local_addr()?),
        None => None,
    };
    let srt_socket = tokio::net::UdpSocket::bind(config.srt)
        .await
        .with_context(|| format!("binding SRT {}", config.srt))?;
    let srt_addr = srt_socket.local_addr()?;
    let public_url = config.public_url.clone().unwrap_or_else(|| {
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let host = if host.contains(':') {
            format!("[{host}]")
        } else {
            host
        };
        format!("http://{host}:{}", addr.port())
    });
    let deps = Deps {
        store: store.clone(),
        blob: blob.clone(),
        clock: Arc::new(Clock::default()),
        endpoints: Endpoints {
            public_url: public_url.clone(),
            rtmp: format!("rtmp://{rtmp_addr}"),
            rtmps: rtmps_addr.map(|a| format!("rtmps://{a}")),
            srt: format!("srt://{srt_addr}"),
            ice_servers: config.ice_servers.clone(),
        },
    };
    let mut services = services(&deps);
    for o in overrides {
        services.insert(o.model().id, o);
    }
    let state = Arc::new(AppState {
        public_url: public_url.clone(),
        router: reelay_aws::router::Router::new(reelay_aws::generated::ALL),
        services,
        s3: reelay_s3::S3Service::new(blob),
        deps,
        started: std::time::Instant::now(),
        config,
    });
    // Media planes serve their own paths (egress, playback) beside the AWS APIs.
    let planes = reelay_vod::start(&state.deps).merge(reelay_live::start_with(
        &state.deps,
        reelay_live::Listeners {
            rtmp: rtmp_listener,
            rtmps,
            srt: Some(srt_socket),
        },
    ));
    let mut app = Router::new().route("/_reelay/health", get(dispatch::health));
    if state.config.reset_endpoints {
        app = app
            .route("/_reelay/reset", post(dispatch::reset))
            .route("/moto-api/reset", post(dispatch::reset))
            .route("/_reelay/clock", post(dispatch::clock));
    }
    let app = app.fallback(dispatch::aws).with_state(state).merge(planes);
    let (tx, mut rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        // Connect info gives handlers the peer address: playback's country hook and viewer
        // counts, and the client IP of egress access logs.
        // Nagle's algorithm would hold back the small last write of a response made of several
        // buffers (fMP4 segments go out as a header plus slices of the source) until the client's
        // delayed ACK, adding up to 40 ms per response; responses are already written in full frames.
        let listener = listener.tap_io(|tcp| {
            if let Err(e) = tcp.set_nodelay(true) {
                tracing::debug!(error = %e, "TCP_NODELAY not set");
            }
        });
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.wait_for(|stop| *stop).await;
        })
        .await
    });
    tracing::info!(%addr, %public_url, store = store.backend_name(), "listening");
    Ok(Running {
        addr,
        rtmp_addr,
        rtmps_addr,
        srt_addr,
        public_url,
        shutdown: tx,
        task,
        store,
    })
}
