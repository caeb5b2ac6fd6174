//! The build cache: what a build keeps for the next, so that an unchanged snapshot
//! is never parsed twice, and a file whose length and modification time are
//! unchanged is not even read.
//!
//! Each snapshots folder has a cache of its own, `build.cache_dir/source-<id>/`
//! ([`SourceCache`]), so that two fleets built from one place never read
//! each other's. Layout inside: `files.json` (path → length, mtime, hash)
//! and `assembled/<hash of the host name>.json`: the host assembled from its
//! versions, with what they were, so that a host with no new version is
//! neither parsed nor assembled again, and one with new versions only reads
//! those (`assemble.rs`), appended to the file rather than writing it
//! again. `history.json` is the git walk's (`source/git.rs`),
//! `pages-*.json` the rendered pages' (`render/memo.rs`), `source.json`
//! whose folder and repository it is. Each file is framed by `store.rs`.

use crate::store::{read_json, write_json};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// Bumped whenever what is cached changes shape; an older cache is ignored.
const FORMAT: &str = concat!("parc-cache/", env!("CARGO_PKG_VERSION"), "/18");

pub struct ParseCache {
    dir: PathBuf,
    /// Read from disk at start (empty with `--no-cache`).
    files: HashMap<PathBuf, FileStamp>,
    /// What this build saw, written back at the end.
    seen: Mutex<HashMap<PathBuf, FileStamp>>,
    mode: Mode,
    /// Set when a month a history keeps aside could not be read back.
    damaged: Arc<AtomicBool>,
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
    /// A read-only command before another repository's cache: neither.
    Off,
}

/// The cache folder of one snapshots folder.
pub struct SourceCache {
    pub dir: PathBuf,
    /// What it holds may be read: not a cache another repository left.
    pub readable: bool,
    /// The folder's full path, and the commit the cache says it last read.
    snapshots: PathBuf,
    head: Option<String>,
}

/// Whose cache a folder is.
#[derive(Serialize, Deserialize)]
struct Owner {
    snapshots: PathBuf,
    /// The commit its last build read, in the repository the folder is in.
    head: Option<String>,
}

impl SourceCache {
    /// The cache of `snapshots` under `root` (`build.cache_dir`), named by the
    /// folder's full path: `snapshots`, `./snapshots` and its absolute path
    /// are one. `ours` says whether a commit is in the folder's repository:
    /// a cache whose last commit is not (a CI cache restored under another
    /// project's key, a folder cloned anew from another fleet) belongs to
    /// another repository, and is never read; `set_aside` moves it to
    /// `<dir>.foreign` so that this build starts from nothing.
    pub fn open(root: &Path, snapshots: &Path, ours: impl FnOnce(&str) -> bool, set_aside: bool) -> SourceCache {
        let full = snapshots.canonicalize().unwrap_or_else(|_| snapshots.to_path_buf());
        let dir = root.join(format!("source-{}", crate::slug::hash(&full.to_string_lossy(), 8)));
        let head = load::<Owner>(&dir.join("source.json")).and_then(|o| o.head);
        let foreign = head.as_deref().is_some_and(|head| !ours(head));
        if foreign && set_aside {
            let aside = dir.with_extension("foreign");
            let _ = std::fs::remove_dir_all(&aside);
            match std::fs::rename(&dir, &aside) {
                Ok(()) => {
                    tracing::info!("{} belongs to another repository: set aside as {}", dir.display(), aside.display())
                }
                Err(e) => tracing::warn!("cannot set aside {}: {e}", dir.display()),
            }
        }
        let head = head.filter(|_| !foreign);
        SourceCache { readable: !foreign || set_aside, dir, snapshots: full, head }
    }

    /// Records whose cache this is, after a build that read `head`
    /// (unless the record says so already).
    pub fn claim(&self, head: Option<String>) -> std::io::Result<()> {
        if head.is_some() && head == self.head {
            return Ok(());
        }
        save(&self.dir.join("source.json"), &Owner { snapshots: self.snapshots.clone(), head })
    }
}

/// A host's cache file: what was written whole, what was appended since,
/// and the length of both.
pub struct Kept<T, A> {
    pub first: T,
    pub added: Vec<A>,
    pub whole: u64,
    /// The bytes of what was written whole, the rest being what builds appended.
    pub first_len: u64,
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
            Mode::WriteOnly | Mode::Off => HashMap::new(),
            _ => load(&dir.join("files.json")).unwrap_or_default(),
        };
        ParseCache { dir: dir.to_path_buf(), files, seen: Mutex::default(), mode, damaged: Arc::default() }
    }

    /// What a host's months aside set when one of them cannot be read.
    pub fn damage(&self) -> Arc<AtomicBool> {
        self.damaged.clone()
    }

    /// Whether a month aside could not be read: what was built from it lacks it.
    pub fn damaged(&self) -> bool {
        self.damaged.load(Ordering::Relaxed)
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

    /// The host as assembled when its file was last written whole
    /// (`assemble::Assembled`), and what each build since appended to it
    /// (`assemble::Added`).
    pub fn assembled<T, A>(&self, host: &str) -> Option<Kept<T, A>>
    where
        T: for<'de> Deserialize<'de>,
        A: for<'de> Deserialize<'de>,
    {
        if matches!(self.mode, Mode::WriteOnly | Mode::Off) {
            return None;
        }
        let segments = crate::store::read_segments(&self.assembled_path(host))?;
        let first_len = segments.json.first()?.len() as u64;
        let mut json = segments.json.iter().map(|range| &segments.text[range.clone()]);
        let first = serde_json::from_str(json.next()?).ok().and_then(ours)?;
        let added = json.map(|text| serde_json::from_str(text).ok().and_then(ours)).collect::<Option<_>>()?;
        Some(Kept { first, added, whole: segments.whole, first_len })
    }

    /// Writes the host's assembly whole: its file is one segment again.
    pub fn save_assembled<T: Serialize>(&self, host: &str, assembled: &T) -> std::io::Result<()> {
        if matches!(self.mode, Mode::ReadOnly | Mode::Off) {
            return Ok(());
        }
        save(&self.assembled_path(host), assembled)
    }

    /// Appends what this build added to the host's file, whose first
    /// `whole` bytes are what [`ParseCache::assembled`] read.
    pub fn append_assembled<A: Serialize>(&self, host: &str, whole: u64, added: &A) -> std::io::Result<()> {
        if matches!(self.mode, Mode::ReadOnly | Mode::Off) {
            return Ok(());
        }
        let stored = Stored { format: format(), entries: added };
        crate::store::append_segment(&self.assembled_path(host), whole, &stored)
    }

    /// Writes a month the host's histories keep aside (see [`crate::fleet::history::Source`]).
    pub fn save_aside<T: Serialize>(&self, host: &str, month: &str, entries: &T) -> std::io::Result<()> {
        if matches!(self.mode, Mode::ReadOnly | Mode::Off) {
            return Ok(());
        }
        save(&self.aside_dir(host).join(format!("{month}.json")), entries)
    }

    /// Where the host's months aside are: a file per month, read as
    /// [`read_aside`] reads one.
    pub fn aside_dir(&self, host: &str) -> PathBuf {
        self.dir.join("assembled").join(crate::slug::hash(host, 16))
    }

    /// Where the host's inputs of walked commits are kept aside: their
    /// records, appended as the host's file is written whole.
    pub fn inputs_aside_path(&self, host: &str) -> PathBuf {
        self.aside_dir(host).join("inputs.bin")
    }

    /// Writes `raw` at byte `at` of the host's inputs aside, cutting what
    /// was after it (a build stopped between this and its host's file).
    pub fn append_inputs_aside(&self, host: &str, at: u64, raw: &[u8]) -> std::io::Result<()> {
        use std::io::{Seek, Write};
        if matches!(self.mode, Mode::ReadOnly | Mode::Off) {
            return Ok(());
        }
        let path = self.inputs_aside_path(host);
        std::fs::create_dir_all(self.aside_dir(host))?;
        let mut file = std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(&path)?;
        if file.metadata()?.len() < at {
            return Err(std::io::Error::other(format!("{}: shorter than what was kept aside", path.display())));
        }
        file.set_len(at)?;
        file.seek(std::io::SeekFrom::Start(at))?;
        file.write_all(raw)
    }

    pub fn assembled_path(&self, host: &str) -> PathBuf {
        self.dir.join("assembled").join(format!("{}.json", crate::slug::hash(host, 16)))
    }

    pub fn save_files(&self) -> std::io::Result<()> {
        if matches!(self.mode, Mode::ReadOnly | Mode::Off) {
            return Ok(());
        }
        save(&self.dir.join("files.json"), &*self.seen.lock().unwrap())
    }
}

/// The first `len` bytes of a host's inputs aside, if it holds that many.
pub fn read_inputs_aside(path: &Path, len: u64) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let cause = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let mut raw = Vec::new();
    let file = std::fs::File::open(path).map_err(|e| cause(&e))?;
    file.take(len).read_to_end(&mut raw).map_err(|e| cause(&e))?;
    match raw.len() as u64 == len {
        true => Ok(raw),
        false => Err(cause(&"shorter than what was kept aside")),
    }
}

/// A month that [`ParseCache::save_aside`] wrote.
pub fn read_aside<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T, String> {
    let cause = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
    let text = crate::store::read_json_text(path).ok_or_else(|| cause(&"missing, or not whole"))?;
    let stored: Stored<T> = serde_json::from_str(&text).map_err(|e| cause(&e))?;
    ours(stored).ok_or_else(|| cause(&"written by another program"))
}

/// [`FORMAT`] and the program that wrote it: a cache never outlives a change of parc.
fn format() -> String {
    format!("{FORMAT}/{}", crate::build_id())
}

fn load<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    read_json(path).and_then(ours)
}

/// What was stored, if this program stored it.
fn ours<T>(stored: Stored<T>) -> Option<T> {
    (stored.format == format()).then_some(stored.entries)
}

fn save<T: Serialize>(path: &Path, entries: &T) -> std::io::Result<()> {
    write_json(path, &Stored { format: format(), entries })
}
