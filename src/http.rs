//! HTTP(S) as parc speaks it (the archive's download, WebDAV): one agent
//! with the system's trust roots, or those plus a private CA, and failures
//! told apart — name lookup, connection, TLS, timeout — so that the first
//! line of a log says which.

use anyhow::{Context, Result};
use std::path::Path;
use std::time::Duration;
use ureq::tls::{Certificate, RootCerts, TlsConfig};

/// The system's own bundle (Debian's ca-certificates): trusted with a `ca_file` too.
const SYSTEM_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

/// An agent that reports HTTP statuses instead of failing on them, gives up
/// after `timeout` without progress, and trusts `ca_file` besides the system's roots.
pub fn agent(ca_file: Option<&Path>, timeout: Duration) -> Result<ureq::Agent> {
    let mut tls = TlsConfig::builder();
    if let Some(ca) = ca_file {
        let mut certs = pem_certificates(ca)?;
        if certs.is_empty() {
            anyhow::bail!("ca_file {} holds no certificate", ca.display());
        }
        if Path::new(SYSTEM_BUNDLE).exists() {
            certs.extend(pem_certificates(Path::new(SYSTEM_BUNDLE))?);
        }
        tls = tls.root_certs(RootCerts::from(certs));
    }
    let config = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .allow_non_standard_methods(true)
        .timeout_resolve(Some(timeout))
        .timeout_connect(Some(timeout))
        .timeout_per_read(Some(timeout))
        .timeout_per_write(Some(timeout))
        .tls_config(tls.build())
        .build();
    Ok(config.into())
}

fn pem_certificates(path: &Path) -> Result<Vec<Certificate<'static>>> {
    let pem = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    ureq::tls::parse_pem(&pem)
        .filter_map(|item| match item {
            Ok(ureq::tls::PemItem::Certificate(cert)) => Some(Ok(cert)),
            Ok(_) => None,
            Err(e) => Some(Err(anyhow::anyhow!("{}: {e}", path.display()))),
        })
        .collect()
}

/// What kind of failure an HTTP error is, in a word a log can lead with.
pub fn failure_kind(e: &ureq::Error) -> &'static str {
    use std::io::ErrorKind;
    match e {
        ureq::Error::HostNotFound => "DNS",
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) | ureq::Error::Pem(_) => "TLS",
        ureq::Error::Timeout(_) => "timeout",
        ureq::Error::Io(io) if io.kind() == ErrorKind::TimedOut => "timeout",
        ureq::Error::Io(io) if io.kind() == ErrorKind::InvalidData && io.to_string().contains("certificate") => "TLS",
        ureq::Error::Io(_) | ureq::Error::ConnectionFailed => "connection",
        _ => "HTTP",
    }
}
