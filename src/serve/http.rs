//! The HTTP side of `parc serve`: GET and HEAD of the files of one folder,
//! on a loopback address, for one person's browser. Nothing outside the
//! folder is ever served: the path is decoded once, `..` is refused, and
//! the file found must resolve (symbolic links followed) inside the folder.

use percent_encoding::percent_decode_str;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Component, Path, PathBuf};
use std::time::Duration;

/// The longest request head read: a browser's is a few hundred bytes.
const HEAD_BYTES: u64 = 16 << 10;

/// What a response carries.
pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

/// A request's method and path (before any decoding).
pub struct Request {
    pub method: String,
    pub target: String,
}

/// Reads a request's head; `None` when it is not HTTP.
pub fn read_request(stream: &TcpStream) -> Option<Request> {
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let mut reader = BufReader::new(stream.take(HEAD_BYTES));
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut words = line.split_whitespace();
    let (method, target) = (words.next()?.to_string(), words.next()?.to_string());
    // The rest of the head: headers this server has no use for.
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    Some(Request { method, target })
}

pub fn write_response(mut stream: &TcpStream, head_only: bool, response: &Response) -> std::io::Result<()> {
    let reason = match response.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        _ => "Error",
    };
    let head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\nConnection: close\r\n\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    stream.write_all(head.as_bytes())?;
    if !head_only {
        stream.write_all(&response.body)?;
    }
    stream.flush()
}

/// The file of `root` a request's target names: percent-decoded once, with
/// `index.html` for a folder. `None` for a path that leaves the folder or
/// names nothing in it.
pub fn resolve(root: &Path, target: &str) -> Option<PathBuf> {
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let decoded = percent_decode_str(path).decode_utf8().ok()?;
    let mut file = root.to_path_buf();
    for part in Path::new(decoded.as_ref()).components() {
        match part {
            Component::Normal(name) if !name.to_string_lossy().contains('\\') => file.push(name),
            Component::RootDir | Component::CurDir => {}
            // `..`, and anything a path of this site is not.
            _ => return None,
        }
    }
    if file.is_dir() {
        file.push("index.html");
    }
    // Followed through every link, it must still be inside the folder.
    let real = file.canonicalize().ok()?;
    let inside = root.canonicalize().ok().is_some_and(|root| real.starts_with(root));
    (inside && real.is_file()).then_some(real)
}

/// The content type of a file of the site, by its extension.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or_default() {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" => "text/javascript; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "ico" => "image/x-icon",
        "atom" => "application/atom+xml",
        "xml" => "application/xml",
        "txt" | "log" => "text/plain; charset=utf-8",
        "csv" => "text/csv; charset=utf-8",
        "db" => "application/vnd.sqlite3",
        "woff2" => "font/woff2",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_never_leaves_the_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("site");
        std::fs::create_dir_all(root.join("hosts")).unwrap();
        std::fs::write(root.join("index.html"), "home").unwrap();
        std::fs::write(root.join("hosts/index.html"), "hosts").unwrap();
        std::fs::write(root.join("hosts/pve 1.html"), "pve 1").unwrap();
        std::fs::write(tmp.path().join("secret"), "secret").unwrap();
        std::os::unix::fs::symlink(tmp.path().join("secret"), root.join("leak.html")).unwrap();
        let found = |target: &str| resolve(&root, target).map(|p| std::fs::read_to_string(p).unwrap());
        assert_eq!(found("/").as_deref(), Some("home"));
        assert_eq!(found("/hosts/").as_deref(), Some("hosts"));
        assert_eq!(found("/hosts").as_deref(), Some("hosts"));
        assert_eq!(found("/hosts/pve%201.html?x=1").as_deref(), Some("pve 1"));
        for bad in [
            "/../secret",
            "/%2e%2e/secret",
            "/hosts/..%2f..%2fsecret",
            "/leak.html",
            "/%ff",
            "/nope.html",
            "/..\\secret",
        ] {
            assert_eq!(found(bad), None, "{bad}");
        }
    }
}
