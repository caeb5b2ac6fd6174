//! Explicit FTPS (AUTH TLS), passive mode, with suppaftp over rustls;
//! `ca_file` for a private CA.

use super::{Listed, Taken, Transport};
use anyhow::{anyhow, Context, Result};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use suppaftp::{RustlsConnector, RustlsFtpStream};

pub struct Ftps {
    host: String,
    port: u16,
    path: String,
    user: String,
    password: String,
    ca_file: Option<PathBuf>,
    timeout: Duration,
    stream: Option<RustlsFtpStream>,
}

impl Ftps {
    pub fn new(
        host: String,
        port: u16,
        path: String,
        user: String,
        password: String,
        ca_file: Option<PathBuf>,
        timeout: Duration,
    ) -> Ftps {
        Ftps { host, port, path, user, password, ca_file, timeout, stream: None }
    }

    fn tls(&self) -> Result<Arc<rustls::ClientConfig>> {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        let mut roots = rustls::RootCertStore::empty();
        let mut files = vec![PathBuf::from("/etc/ssl/certs/ca-certificates.crt")];
        files.extend(self.ca_file.clone());
        for file in files.iter().filter(|f| f.exists() || Some(*f) == self.ca_file.as_ref()) {
            for cert in
                CertificateDer::pem_file_iter(file).with_context(|| format!("cannot read {}", file.display()))?
            {
                let cert = cert.with_context(|| format!("{}", file.display()))?;
                let _ = roots.add(cert);
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_root_certificates(roots)
            .with_no_client_auth();
        Ok(Arc::new(config))
    }

    fn stream(&mut self) -> Result<&mut RustlsFtpStream> {
        if self.stream.is_none() {
            let address = format!("{}:{}", self.host, self.port);
            let socket = std::net::ToSocketAddrs::to_socket_addrs(&address)
                .map_err(|e| anyhow!("DNS error: {address}: {e}"))?
                .next()
                .ok_or_else(|| anyhow!("DNS error: {address} has no address"))?;
            let plain = RustlsFtpStream::connect_timeout(socket, self.timeout)
                .map_err(|e| anyhow!("connection error: {address}: {e}"))?;
            plain.get_ref().set_read_timeout(Some(self.timeout))?;
            plain.get_ref().set_write_timeout(Some(self.timeout))?;
            let mut stream = plain
                .into_secure(RustlsConnector::from(self.tls()?), &self.host)
                .map_err(|e| anyhow!("TLS error: {address}: {e}"))?;
            stream
                .login(&self.user, &self.password)
                .map_err(|e| anyhow!("login as {} on {address} refused: {e}", self.user))?;
            stream.transfer_type(suppaftp::types::FileType::Binary)?;
            stream.cwd(&self.path).map_err(|e| anyhow!("folder {} on {address}: {e}", self.path))?;
            self.stream = Some(stream);
        }
        Ok(self.stream.as_mut().expect("connected above"))
    }
}

impl Ftps {
    fn list_once(&mut self) -> Result<Vec<Listed>> {
        let stream = self.stream()?;
        let names = stream.nlst(None).context("cannot list the folder")?;
        let mut listed = Vec::new();
        for name in names {
            let name = name.rsplit('/').next().unwrap_or(&name).to_string();
            if name == "." || name == ".." {
                continue;
            }
            // SIZE answers for files only: a folder is not an archive.
            if let Ok(bytes) = stream.size(&name) {
                listed.push(Listed { name, bytes: Some(bytes as u64) });
            }
        }
        Ok(listed)
    }
}

impl Transport for Ftps {
    fn check(&mut self) -> Result<String> {
        self.stream()?;
        Ok(format!("FTPS {}:{}{}", self.host, self.port, self.path))
    }

    fn list(&mut self) -> Result<Vec<Listed>> {
        match self.list_once() {
            Ok(listed) => Ok(listed),
            // A listing only reads: once more on a new connection, for a control channel
            // left out of step (seen once with an empty folder's data channel under load).
            Err(e) => {
                tracing::debug!("FTPS listing failed ({e:#}); listing again on a new connection");
                if let Some(mut stream) = self.stream.take() {
                    let _ = stream.quit();
                }
                self.list_once()
            }
        }
    }

    fn put(&mut self, file: &Path, name: &str) -> Result<()> {
        let mut f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        self.stream()?.put_file(name, &mut f).map_err(|e| anyhow!("STOR {name}: {e}"))?;
        Ok(())
    }

    fn get(&mut self, name: &str, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
        self.stream()?
            .retr(name, |reader| {
                let mut buf = vec![0u8; 1 << 16];
                loop {
                    match reader.read(&mut buf) {
                        Ok(0) => return Ok(()),
                        Ok(n) => sink(&buf[..n]),
                        Err(e) => return Err(suppaftp::FtpError::ConnectionError(e)),
                    }
                }
            })
            .map_err(|e| anyhow!("RETR {name}: {e}"))
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        // RNTO replaces on most servers: a name that is listed is taken (checked, then
        // renamed, under the apply lock).
        if self.list()?.iter().any(|l| l.name == to) {
            return Err(Taken(to.to_string()).into());
        }
        self.stream()?.rename(from, to).map_err(|e| anyhow!("RNFR {from} / RNTO {to}: {e}"))
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        self.stream()?.rm(name).map_err(|e| anyhow!("DELE {name}: {e}"))
    }
}

impl Drop for Ftps {
    fn drop(&mut self) {
        if let Some(mut stream) = self.stream.take() {
            let _ = stream.quit();
        }
    }
}
