//! RTMPS: TLS (rustls, `ring` provider) in front of the RTMP connection code of `ingest`.
//! The handshake runs in the connection's own task under the idle timeout, so a client that
//! opens TCP and never speaks TLS holds nothing but its socket until then.

use crate::Live;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject as _;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Why the certificate or key could not be used.
#[derive(Debug)]
pub struct TlsError(String);

impl std::fmt::Display for TlsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TlsError {}

/// A TLS server configuration from PEM text: a certificate chain (leaf first) and its private
/// key (PKCS#8, PKCS#1 or SEC1).
pub fn server_config_from_pem(
    cert_pem: &[u8],
    key_pem: &[u8],
) -> Result<Arc<ServerConfig>, TlsError> {
    let certs = CertificateDer::pem_slice_iter(cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("certificate: {e}")))?;
    if certs.is_empty() {
        return Err(TlsError("certificate: no CERTIFICATE block".into()));
    }
    let key = PrivateKeyDer::from_pem_slice(key_pem).map_err(|e| TlsError(format!("key: {e}")))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(format!("certificate and key: {e}")))?;
    Ok(Arc::new(config))
}

/// [`server_config_from_pem`] from two files.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsError> {
    let read = |p: &Path| std::fs::read(p).map_err(|e| TlsError(format!("{}: {e}", p.display())));
    server_config_from_pem(&read(cert)?, &read(key)?)
}

/// Accepts RTMPS connections until the process ends.
pub(crate) async fn serve_rtmps(
    live: Arc<Live>,
    listener: tokio::net::TcpListener,
    config: Arc<ServerConfig>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(config);
    loop {
        match listener.accept().await {
            Ok((socket, _)) => {
                let _ = socket.set_nodelay(true);
                let (live, acceptor) = (live.clone(), acceptor.clone());
                tokio::spawn(async move {
                    match tokio::time::timeout(live.idle_timeout, acceptor.accept(socket)).await {
                        Ok(Ok(tls)) => crate::ingest::serve(live, tls, true).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "rtmps handshake failed"),
                        Err(_) => tracing::debug!("rtmps handshake timed out"),
                    }
                });
            }
            // Out of file descriptors and the like: back off instead of spinning.
            Err(e) => {
                tracing::warn!(error = %e, "rtmps accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_pem_is_refused_with_a_reason() {
        let err = server_config_from_pem(b"not pem", b"not pem").err();
        assert!(err.is_some_and(|e| e.to_string().contains("certificate")));
        let cert_only = b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
        let err = server_config_from_pem(cert_only, b"").err();
        assert!(err.is_some_and(|e| e.to_string().starts_with("key")));
    }
}
