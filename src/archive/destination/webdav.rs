//! WebDAV over HTTP(S) (Nextcloud, ownCloud, Apache mod_dav): PUT to a
//! temporary name, PROPFIND to list, GET to verify, MOVE to the final
//! name, DELETE for retention; basic authentication.

use super::{Listed, Transport};
use anyhow::{anyhow, bail, Context, Result};
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use ureq::http::{Method, Request};

pub struct WebDav {
    agent: ureq::Agent,
    /// `https://host/path/` with a trailing slash.
    base: String,
    /// The folder's path, as the server names it in PROPFIND answers.
    path: String,
    auth: Option<String>,
}

impl WebDav {
    pub fn new(
        tls: bool,
        host: &str,
        path: &str,
        user: Option<String>,
        password: Option<String>,
        ca_file: Option<&Path>,
        timeout: Duration,
    ) -> Result<WebDav> {
        let path = format!("{}/", path.trim_end_matches('/'));
        let auth = user.map(|user| {
            format!("Basic {}", base64_encode(format!("{user}:{}", password.unwrap_or_default()).as_bytes()))
        });
        Ok(WebDav {
            agent: crate::http::agent(ca_file, timeout)?,
            base: format!("{}://{host}{path}", if tls { "https" } else { "http" }),
            path,
            auth,
        })
    }

    fn url(&self, name: &str) -> String {
        format!("{}{}", self.base, encode(name))
    }

    fn call(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: Body,
    ) -> Result<ureq::http::Response<ureq::Body>> {
        let mut request = Request::builder().method(Method::from_bytes(method.as_bytes())?).uri(url);
        if let Some(auth) = &self.auth {
            request = request.header("Authorization", auth);
        }
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        let result = match body {
            Body::None => self.agent.run(request.body(())?),
            Body::Text(text) => self.agent.run(request.body(text)?),
            Body::File(file) => self.agent.run(request.body(ureq::SendBody::from_reader(file))?),
        };
        let response = result.map_err(|e| anyhow!("{} error: {method} {url}: {e}", crate::http::failure_kind(&e)))?;
        let status = response.status();
        if !status.is_success() {
            bail!("{method} {url}: HTTP {}{}", status.as_u16(), reason(status));
        }
        Ok(response)
    }
}

fn reason(status: ureq::http::StatusCode) -> String {
    status.canonical_reason().map(|r| format!(" {r}")).unwrap_or_default()
}

enum Body<'a> {
    None,
    Text(&'a str),
    File(&'a mut std::fs::File),
}

/// Percent-encodes a file name for a URL path.
fn encode(name: &str) -> String {
    name.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&text[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn base64_encode(input: &[u8]) -> String {
    const TABLE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n =
            (chunk[0] as u32) << 16 | (*chunk.get(1).unwrap_or(&0) as u32) << 8 | *chunk.get(2).unwrap_or(&0) as u32;
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(TABLE[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// The `<response>` entries of a PROPFIND answer: (href, content length, is a collection).
/// A tolerant reader of the few elements needed, whatever the namespace prefixes.
fn responses(xml: &str) -> Vec<(String, Option<u64>, bool)> {
    let mut found = Vec::new();
    for block in split_elements(xml, "response") {
        let href = element_text(block, "href").map(|h| decode(h.trim())).unwrap_or_default();
        let length = element_text(block, "getcontentlength").and_then(|l| l.trim().parse().ok());
        let collection = block.contains(":collection") || block.contains("<collection");
        found.push((href, length, collection));
    }
    found
}

/// The insides of every `<x:name>…</x:name>` in `xml`, any prefix.
fn split_elements<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(start) = find_open(rest, name) {
        let after = &rest[start..];
        let Some(gt) = after.find('>') else { break };
        let body = &after[gt + 1..];
        let Some(end) = find_close(body, name) else { break };
        out.push(&body[..end]);
        rest = &body[end..];
    }
    out
}

fn element_text<'a>(xml: &'a str, name: &str) -> Option<&'a str> {
    split_elements(xml, name).into_iter().next()
}

fn find_open(xml: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = xml[from..].find('<') {
        let at = from + i;
        let tag = &xml[at + 1..];
        let local = tag.split(|c: char| c.is_whitespace() || c == '>' || c == '/').next().unwrap_or("");
        if !tag.starts_with('/') && local.rsplit(':').next() == Some(name) {
            return Some(at);
        }
        from = at + 1;
    }
    None
}

fn find_close(xml: &str, name: &str) -> Option<usize> {
    let mut from = 0;
    while let Some(i) = xml[from..].find("</") {
        let at = from + i;
        let local = xml[at + 2..].split('>').next().unwrap_or("");
        if local.trim().rsplit(':').next() == Some(name) {
            return Some(at);
        }
        from = at + 2;
    }
    None
}

const PROPFIND: &str = r#"<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getcontentlength/><resourcetype/></prop></propfind>"#;

impl Transport for WebDav {
    fn check(&mut self) -> Result<String> {
        let base = self.base.clone();
        self.call("PROPFIND", &base, &[("Depth", "0"), ("Content-Type", "application/xml")], Body::Text(PROPFIND))
            .with_context(|| format!("WebDAV folder {base}"))?;
        Ok(format!("WebDAV folder {base}"))
    }

    fn list(&mut self) -> Result<Vec<Listed>> {
        let base = self.base.clone();
        let mut response =
            self.call("PROPFIND", &base, &[("Depth", "1"), ("Content-Type", "application/xml")], Body::Text(PROPFIND))?;
        let xml = response.body_mut().read_to_string().context("reading the PROPFIND answer")?;
        let mut listed = Vec::new();
        for (href, bytes, collection) in responses(&xml) {
            // hrefs may be full URLs or absolute paths: the name is what follows the folder.
            let path = href.find(&self.path).map(|i| &href[i + self.path.len()..]).unwrap_or(&href);
            let name = path.trim_end_matches('/');
            if collection || name.is_empty() || name.contains('/') {
                continue;
            }
            listed.push(Listed { name: name.to_string(), bytes });
        }
        Ok(listed)
    }

    fn put(&mut self, file: &Path, name: &str) -> Result<()> {
        let mut f = std::fs::File::open(file).with_context(|| format!("cannot read {}", file.display()))?;
        let len = f.metadata()?.len().to_string();
        let url = self.url(name);
        self.call("PUT", &url, &[("Content-Length", &len)], Body::File(&mut f))?;
        Ok(())
    }

    fn get(&mut self, name: &str, sink: &mut dyn FnMut(&[u8])) -> Result<()> {
        let url = self.url(name);
        let mut response = self.call("GET", &url, &[], Body::None)?;
        let mut reader = response.body_mut().with_config().limit(u64::MAX).reader();
        let mut buf = vec![0u8; 1 << 16];
        loop {
            let n = reader.read(&mut buf).with_context(|| format!("reading {url}"))?;
            if n == 0 {
                return Ok(());
            }
            sink(&buf[..n]);
        }
    }

    fn rename(&mut self, from: &str, to: &str) -> Result<()> {
        let (from, to) = (self.url(from), self.url(to));
        self.call("MOVE", &from, &[("Destination", &to), ("Overwrite", "T")], Body::None)?;
        Ok(())
    }

    fn delete(&mut self, name: &str) -> Result<()> {
        let url = self.url(name);
        self.call("DELETE", &url, &[], Body::None)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn propfind_answers_from_several_servers() {
        // Apache mod_dav's prefixes, and a Nextcloud-like answer with full URLs.
        let apache = r#"<?xml version="1.0" encoding="utf-8"?>
<D:multistatus xmlns:D="DAV:"><D:response><D:href>/dav/db/</D:href><D:propstat><D:prop><D:resourcetype><D:collection/></D:resourcetype></D:prop></D:propstat></D:response>
<D:response><D:href>/dav/db/20261121.tgz</D:href><D:propstat><D:prop><D:getcontentlength>1234</D:getcontentlength><D:resourcetype/></D:prop></D:propstat></D:response>
<D:response><D:href>/dav/db/a%20b.tgz</D:href><D:propstat><D:prop><D:getcontentlength>5</D:getcontentlength></D:prop></D:propstat></D:response></D:multistatus>"#;
        let r = responses(apache);
        assert_eq!(r.len(), 3);
        assert!(r[0].2);
        assert_eq!(r[1], ("/dav/db/20261121.tgz".to_string(), Some(1234), false));
        assert_eq!(r[2].0, "/dav/db/a b.tgz");
        let plain = r#"<multistatus xmlns="DAV:"><response><href>https://h/x/20261120.tgz</href><propstat><prop><getcontentlength>9</getcontentlength></prop></propstat></response></multistatus>"#;
        assert_eq!(responses(plain), [("https://h/x/20261120.tgz".to_string(), Some(9), false)]);
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a b.tgz"), "a%20b.tgz");
        assert_eq!(decode("a%20b%2Etgz"), "a b.tgz");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(base64_encode(b"parc:secret"), "cGFyYzpzZWNyZXQ=");
        assert_eq!(base64_encode(b"ab"), "YWI=");
    }
}
