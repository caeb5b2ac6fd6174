//! WebDAV over HTTP(S) (Nextcloud, ownCloud, Apache mod_dav): PUT to a
//! temporary name, PROPFIND to list, GET to verify, MOVE to the final
//! name, DELETE for retention; basic authentication.

use super::{Listed, Taken, Transport};
use anyhow::{anyhow, Context, Result};
use std::io::Read;
use std::path::Path;
use std::time::Duration;
use ureq::http::{Method, Request};

pub struct WebDav {
    agent: ureq::Agent,
    /// `https://host/path/` with a trailing slash.
    base: String,
    /// `host` or `host:port`, as a full-URL href names it.
    host: String,
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
        let auth = user.map(|user| basic_auth(&user, &password.unwrap_or_default()));
        Ok(WebDav {
            agent: crate::http::agent(ca_file, timeout)?,
            base: format!("{}://{host}{path}", if tls { "https" } else { "http" }),
            host: host.to_string(),
            path,
            auth,
        })
    }

    fn url(&self, name: &str) -> String {
        format!("{}{}", self.base, encode(name))
    }

    /// [`call`](Self::call), with a 412 Precondition Failed answered as its status, not an error.
    fn call_status(&self, method: &str, url: &str, headers: &[(&str, &str)], body: Body) -> Result<u16> {
        match self.call(method, url, headers, body) {
            Ok(response) => Ok(response.status().as_u16()),
            Err(e) if e.downcast_ref::<Status>().is_some_and(|s| s.0 == 412) => Ok(412),
            Err(e) => Err(e),
        }
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
            let status = Status(status.as_u16());
            return Err(anyhow::Error::new(status).context(format!("{method} {url}: HTTP {status}{}", reason(status))));
        }
        Ok(response)
    }
}

/// An HTTP status a request was answered with, where success was expected.
#[derive(Clone, Copy, Debug)]
struct Status(u16);

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl std::error::Error for Status {}

fn reason(status: Status) -> String {
    let known = ureq::http::StatusCode::from_u16(status.0).ok().and_then(|s| s.canonical_reason());
    known.map(|r| format!(" {r}")).unwrap_or_default()
}

enum Body<'a> {
    None,
    Text(&'a str),
    File(&'a mut std::fs::File),
}

/// What a file name keeps unencoded in a URL path: RFC 3986's unreserved characters.
const NAME: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

/// Percent-encodes a file name for a URL path.
fn encode(name: &str) -> String {
    percent_encoding::utf8_percent_encode(name, NAME).to_string()
}

fn decode(text: &str) -> String {
    percent_encoding::percent_decode_str(text).decode_utf8_lossy().into_owned()
}

fn basic_auth(user: &str, password: &str) -> String {
    use base64::Engine;
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// The `<response>` entries of a PROPFIND answer (RFC 4918 multistatus, any
/// namespace prefix): the href as sent, its content length, whether it is a collection.
fn responses(xml: &str) -> Result<Vec<(String, Option<u64>, bool)>> {
    const DAV: &str = "DAV:";
    let doc = roxmltree::Document::parse(xml).context("the PROPFIND answer is not XML")?;
    let dav = |n: roxmltree::Node, name: &str| n.is_element() && n.has_tag_name((DAV, name));
    let mut found = Vec::new();
    for response in doc.descendants().filter(|n| dav(*n, "response")) {
        let Some(href) = response.children().find(|n| dav(*n, "href")).and_then(|n| n.text()) else { continue };
        let length = response
            .descendants()
            .find(|n| dav(*n, "getcontentlength"))
            .and_then(|n| n.text())
            .and_then(|l| l.trim().parse().ok());
        let collection = response.descendants().any(|n| dav(n, "collection"));
        found.push((href.trim().to_string(), length, collection));
    }
    Ok(found)
}

/// The name of the file an href names, when it is directly inside `folder`
/// (a path with its trailing slash) on `host`: never a file elsewhere on the
/// server, in a sub-folder, or `..`.
fn name_in_folder(href: &str, host: &str, folder: &str) -> Option<String> {
    // An href is an absolute path or a full URL (RFC 4918 8.3).
    let path = match href.split_once("://") {
        Some((_, rest)) => {
            let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
            if !authority.eq_ignore_ascii_case(host) {
                return None;
            }
            path
        }
        None => href,
    };
    let path = decode(path);
    let name = path.strip_prefix(&decode(folder))?;
    (!name.is_empty() && !name.contains('/') && name != "." && name != "..").then(|| name.to_string())
}

const PROPFIND: &str = r#"<?xml version="1.0" encoding="utf-8"?><propfind xmlns="DAV:"><prop><getcontentlength/><resourcetype/></prop></propfind>"#;

/// The files of a PROPFIND answer that are directly inside the folder.
fn listing(responses: Vec<(String, Option<u64>, bool)>, host: &str, folder: &str) -> Vec<Listed> {
    let files = responses.into_iter().filter(|(_, _, collection)| !collection);
    files.filter_map(|(href, bytes, _)| Some(Listed { name: name_in_folder(&href, host, folder)?, bytes })).collect()
}

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
        let responses = responses(&xml).with_context(|| format!("PROPFIND {base}"))?;
        Ok(listing(responses, &self.host, &self.path))
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

    fn rename(&mut self, from: &str, to_name: &str) -> Result<()> {
        let (from, to) = (self.url(from), self.url(to_name));
        // Overwrite: F: the server answers 412 Precondition Failed where a file is (RFC 4918 10.6).
        match self.call_status("MOVE", &from, &[("Destination", &to), ("Overwrite", "F")], Body::None)? {
            412 => Err(Taken(to_name.to_string()).into()),
            _ => Ok(()),
        }
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
        let r = responses(apache).unwrap();
        assert_eq!(r.len(), 3);
        assert!(r[0].2);
        assert_eq!(r[1], ("/dav/db/20261121.tgz".to_string(), Some(1234), false));
        let names: Vec<String> = listing(r, "h", "/dav/db/").into_iter().map(|l| l.name).collect();
        assert_eq!(names, ["20261121.tgz", "a b.tgz"]);
        let plain = r#"<multistatus xmlns="DAV:"><response><href>https://h/x/20261120.tgz</href><propstat><prop><getcontentlength>9</getcontentlength></prop></propstat></response></multistatus>"#;
        assert_eq!(
            listing(responses(plain).unwrap(), "h", "/x/"),
            [Listed { name: "20261120.tgz".into(), bytes: Some(9) }]
        );
        // Not XML at all: an error that says so, never an empty folder.
        assert!(format!("{:#}", responses("<html>502 Bad Gateway").unwrap_err()).contains("not XML"));
    }

    #[test]
    fn hostile_hrefs_never_panic_and_name_only_the_folders_own_files() {
        let folder = "/dav/db/";
        for (href, expected) in [
            // A '%' and a multibyte character: decoded lossily, no panic.
            ("/dav/db/20260101%a\u{e9}.tgz", Some("20260101%a\u{e9}.tgz")),
            ("/dav/db/20260101%e9.tgz", Some("20260101\u{fffd}.tgz")),
            // An escape at the very end of a name is decoded.
            ("/dav/db/20261121.tgz%41", Some("20261121.tgzA")),
            ("/dav/db/caf%C3%A9.tgz", Some("caf\u{e9}.tgz")),
            ("/dav/20260101%a\u{e9}.tgz", None),
            ("/dav/db/../other/20261121.tgz", None),
            ("/dav/db/..", None),
            ("/dav/db/%2E%2E", None),
            ("/dav/db/sub/20261121.tgz", None),
            ("/dav/db/sub%2F20261121.tgz", None),
            ("/elsewhere/dav/db/20261121.tgz", None),
            ("https://other.example/dav/db/20261121.tgz", None),
            ("https://H/dav/db/20261121.tgz", Some("20261121.tgz")),
            ("https://h", None),
            ("", None),
            ("%", None),
        ] {
            assert_eq!(name_in_folder(href, "h", folder).as_deref(), expected, "{href}");
        }
    }

    #[test]
    fn encoding() {
        assert_eq!(encode("a b.tgz"), "a%20b.tgz");
        assert_eq!(encode("caf\u{e9}~x.tgz"), "caf%C3%A9~x.tgz");
        assert_eq!(decode("a%20b%2Etgz"), "a b.tgz");
        assert_eq!(decode("100%"), "100%");
        assert_eq!(basic_auth("parc", "secret"), "Basic cGFyYzpzZWNyZXQ=");
    }
}
