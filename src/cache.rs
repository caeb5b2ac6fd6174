//! The build cache: what a build keeps for the next, so that an unchanged snapshot
//! is never parsed twice, and a file whose length and modification time are
//! unchanged is not even read.
//!
//! Layout under `build.cache_dir`: `files.json` (path → length, mtime, hash)
//! and `assembled/<hash of the host name>.json`: the host assembled from its
//! versions, with what they were, so that a host with no new version is
//! neither parsed nor assembled again, and one with new versions only reads
//! those (`assemble.rs`). `history.json` is the git walk's (`source/git.rs`),
//! `pages-*.json` the rendered pages' (`render/memo.rs`). Each file is framed
//! by `store.rs`.

use crate::store::{read_json, write_json};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bumped whenever what is cached changes shape; an older cache is ignored.
const FORMAT: &str = concat!("parc-cache/", env!("CARGO_PKG_VERSION"), "/13");

pub struct ParseCache {
    dir: PathBuf,
    /// Read from disk at start (empty with `--no-cache`).
    files: HashMap<PathBuf, FileStamp>,
    /// What this build saw, written back at the end.
    seen: Mutex<HashMap<PathBuf, FileStamp>>,
    mode: Mode,
}

/// Whether a command reads the cache, writes it, or both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// `parc build`.
    ReadWrite,
    /// `parc build --no-cache`: start empty, but save, so the next build is fast again.
    WriteOnly,
    /// `parc check`: use what is cached, write nothing.
    ReadOnly,
}

#[derive(Clone, Serialize, Deserialize)]
pub struct FileStamp {
    pub len: u64,
    pub mtime_ns: i128,
    pub hash: String,
}

#[derive(Serialize, Deserialize)]
struct Stored<T> {
    format: String,
    entries: T,
}

impl ParseCache {
    pub fn open(dir: &Path, mode: Mode) -> ParseCache {
        let files = match mode {
            Mode::WriteOnly => HashMap::new(),
            _ => load(&dir.join("files.json")).unwrap_or_default(),
        };
        ParseCache { dir: dir.to_path_buf(), files, seen: Mutex::default(), mode }
    }

    /// The content hash of a file, if its length and mtime are as cached.
    /// Also known: a file this build already read.
    pub fn file_hash(&self, path: &Path, len: u64, mtime_ns: i128) -> Option<String> {
        let same = |s: &&FileStamp| s.len == len && s.mtime_ns == mtime_ns;
        let mut seen = self.seen.lock().unwrap();
        if let Some(stamp) = seen.get(path).filter(same) {
            return Some(stamp.hash.clone());
        }
        let stamp = self.files.get(path).filter(same)?;
        seen.insert(path.to_path_buf(), stamp.clone());
        Some(stamp.hash.clone())
    }

    pub fn remember_file(&self, path: &Path, stamp: FileStamp) {
        self.seen.lock().unwrap().insert(path.to_path_buf(), stamp);
    }

    /// The host as assembled last time (`assemble::Assembled`).
    pub fn assembled<T: for<'de> Deserialize<'de>>(&self, host: &str) -> Option<T> {
        if self.mode == Mode::WriteOnly {
            return None;
        }
        load(&self.assembled_path(host))
    }

    pub fn save_assembled<T: Serialize>(&self, host: &str, assembled: &T) -> std::io::Result<()> {
        if self.mode == Mode::ReadOnly {
            return Ok(());
        }
        save(&self.assembled_path(host), assembled)
    }

    fn assembled_path(&self, host: &str) -> PathBuf {
        self.dir.join("assembled").join(format!("{}.json", crate::slug::hash(host, 16)))
    }

    pub fn save_files(&self) -> std::io::Result<()> {
        if self.mode == Mode::ReadOnly {
            return Ok(());
        }
        save(&self.dir.join("files.json"), &*self.seen.lock().unwrap())
    }
}

/// [`FORMAT`] and the program that wrote it: a cache never outlives a change of parc.
fn format() -> String {
    format!("{FORMAT}/{}", crate::build_id())
}

fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    let stored: Stored<T> = read_json(path)?;
    (stored.format == format()).then_some(stored.entries)
}

fn save<T: Serialize>(path: &Path, entries: &T) -> std::io::Result<()> {
    write_json(path, &Stored { format: format(), entries })
}
