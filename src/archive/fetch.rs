//! Step 1 and 2 of a run: the URL answers, and the zip comes down whole.

use anyhow::{anyhow, bail, Context, Result};
use std::io::{Read, Write};
use std::path::Path;

/// What the download found.
pub struct Fetched {
    /// `HTTP 200 OK`.
    pub status: String,
    pub bytes: u64,
}

/// Downloads `url` into `to`: fails on a name that does not resolve, a
/// refused connection, a TLS error, an HTTP status other than 2xx, more than
/// `max_bytes`, or fewer bytes than the server announced. `connected` is
/// called once the server answered, with its status line.
pub fn download(
    url: &str,
    ca_file: Option<&Path>,
    timeout: std::time::Duration,
    max_bytes: u64,
    to: &Path,
    connected: &mut dyn FnMut(&str),
    progress: bool,
) -> Result<Fetched> {
    let agent = crate::http::agent(ca_file, timeout)?;
    let mut response =
        agent.get(url).call().map_err(|e| anyhow!("{} error: {url}: {e}", crate::http::failure_kind(&e)))?;
    let status = response.status();
    let line =
        format!("HTTP {}{}", status.as_u16(), status.canonical_reason().map(|r| format!(" {r}")).unwrap_or_default());
    if !status.is_success() {
        bail!("{line}: {url}");
    }
    connected(&line);
    let announced: Option<u64> =
        response.headers().get("content-length").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok());
    if let Some(n) = announced.filter(|n| *n > max_bytes) {
        bail!("the zip is {n} bytes, more than max_bytes ({max_bytes})");
    }
    let bar = progress.then(|| crate::progress::bytes(announced, "download"));
    let mut reader = response.body_mut().with_config().limit(max_bytes.saturating_add(1)).reader();
    let mut file = std::fs::File::create(to).with_context(|| format!("cannot write {}", to.display()))?;
    let mut buf = vec![0u8; 1 << 16];
    let mut total = 0u64;
    loop {
        let n = reader.read(&mut buf).map_err(|e| anyhow!("download cut short after {total} bytes: {e}"))?;
        if n == 0 {
            break;
        }
        total += n as u64;
        if total > max_bytes {
            bail!("the zip is more than max_bytes ({max_bytes})");
        }
        file.write_all(&buf[..n]).with_context(|| format!("cannot write {}", to.display()))?;
        if let Some(bar) = &bar {
            bar.inc(n as u64);
        }
    }
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    file.sync_all()?;
    if let Some(n) = announced.filter(|n| *n != total) {
        bail!("download cut short: {total} of {n} bytes");
    }
    Ok(Fetched { status: line, bytes: total })
}
