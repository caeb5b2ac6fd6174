//! An HTTP proxy on 127.0.0.1 in front of one folder: what APT's
//! `Acquire::http::Proxy` sends it (`GET http://host/path HTTP/1.1`) is
//! answered from the folder whatever the host, and every request is kept.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

pub struct Proxy {
    pub port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

impl Proxy {
    pub fn start(folder: PathBuf) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let kept = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (folder, kept) = (folder.clone(), kept.clone());
                std::thread::spawn(move || serve(stream, &folder, &kept));
            }
        });
        Proxy { port, requests }
    }

    /// Each request line as it came (`GET http://repo.parc.invalid/Packages`).
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// Keep-alive, as APT uses it: requests one after the other on one connection.
fn serve(stream: std::net::TcpStream, folder: &std::path::Path, kept: &Mutex<Vec<String>>) {
    let mut writer = stream.try_clone().unwrap();
    let mut reader = BufReader::new(stream);
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let mut header = String::new();
        while reader.read_line(&mut header).unwrap_or(0) > 2 {
            header.clear();
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        kept.lock().unwrap().push(words[..words.len().min(2)].join(" "));
        let target = words.get(1).copied().unwrap_or("");
        // Only absolute URIs come to a proxy; the path is looked up in the folder.
        let path = target.strip_prefix("http://").and_then(|t| t.split_once('/')).map_or("", |(_, p)| p);
        let path = path.replace("./", "");
        let body = (!path.contains("..")).then(|| std::fs::read(folder.join(&path)).ok()).flatten();
        let head = match &body {
            Some(b) => format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", b.len()),
            None => "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_string(),
        };
        if writer.write_all(head.as_bytes()).is_err() || writer.write_all(body.as_deref().unwrap_or(&[])).is_err() {
            return;
        }
    }
}
