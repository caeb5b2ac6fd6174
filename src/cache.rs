//! The build cache: what a build keeps for the next, so that an unchanged snapshot
//! is never parsed twice, and a file whose length and modification time are
//! unchanged is not even read.
//!
//! Layout under `build.cache_dir`: `files.json` (path → length, mtime, hash)
//! and `assembled/<hash of the host name>.json`: the host assembled from its
//! versions, with what they were, so that a host with no new version is
//! neither parsed nor assembled again, and one with new versions only reads
//! those (`assemble.rs`). `history.json` is the git walk's (`source/git.rs`),
//! `pages-*.json` the rendered pages' (`render/memo.rs`).

use crate::fleet::Assembly;
use crate::parse::Input;
use crate::problem::Problem;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Bumped whenever what is cached changes shape; an older cache is ignored.
const FORMAT: &str = concat!("parc-cache/", env!("CARGO_PKG_VERSION"), "/10");

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

/// One host assembled from its versions, and what reading them reported.
#[derive(Deserialize)]
pub struct Assembled {
    /// The key of `inputs` (`parse::key`).
    pub key: String,
    /// Every candidate it was built from.
    #[serde(with = "crate::parse::packed")]
    pub inputs: Vec<Input>,
    /// How many versions it was built from.
    pub versions: usize,
    pub assembly: Assembly,
    pub problems: Vec<Problem>,
}

/// [`Assembled`], borrowed for writing.
#[derive(Serialize)]
pub struct AssembledRef<'a> {
    pub key: &'a str,
    #[serde(serialize_with = "crate::parse::packed::serialize")]
    pub inputs: &'a [Input],
    pub versions: usize,
    pub assembly: &'a Assembly,
    pub problems: &'a [Problem],
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

    /// The host as assembled last time.
    pub fn assembled(&self, host: &str) -> Option<Assembled> {
        if self.mode == Mode::WriteOnly {
            return None;
        }
        load(&self.assembled_path(host))
    }

    pub fn save_assembled(&self, host: &str, assembled: &AssembledRef) -> std::io::Result<()> {
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

/// Writes `value` as JSON at `path`, after a line holding the CRC-32 of
/// that JSON (a check against torn writes, not against an adversary: the
/// cache is parc's own, and the CRC costs a tenth of a hash on the 40 MB
/// a fleet's cache holds): a file of one [segment](Segments). In place (see
/// `render/output.rs` for why not a fresh file): a write torn by a stopped
/// build fails the check in [`read_json`], and the file counts as absent,
/// never as a wrong cache.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    crate::render::output::overwrite(path, &segment(value)?)
}

/// What [`write_json`] wrote, if it is whole and of type `T`.
pub fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Option<T> {
    serde_json::from_str(&read_json_text(path)?).ok()
}

/// The JSON [`write_json`] wrote, if it is whole (one segment, and nothing
/// after it): for a value that borrows from it. Text, checked as UTF-8 once:
/// read from bytes, the parser would check each of the cache's hundreds of
/// thousands of strings on its own.
pub fn read_json_text(path: &Path) -> Option<String> {
    let Segments { mut text, json, whole } = read_segments(path)?;
    let [only] = json.as_slice() else { return None };
    if whole != text.len() as u64 {
        return None;
    }
    text.truncate(only.end);
    text.drain(..only.start);
    Some(text)
}

/// A file that a build appends to: JSON segments, each on the line after
/// its CRC-32. The record of a long history grows by what each build found
/// instead of being written whole every time. A torn or edited segment ends
/// what is read (the segments before it are a record the next build can
/// extend), and the next append cuts it off.
pub struct Segments {
    pub text: String,
    /// Where each whole segment's JSON lies in `text`.
    pub json: Vec<std::ops::Range<usize>>,
    /// Bytes of whole segments, from the start.
    pub whole: u64,
}

pub fn read_segments(path: &Path) -> Option<Segments> {
    let text = String::from_utf8(std::fs::read(path).ok()?).ok()?;
    let (mut json, mut at) = (Vec::new(), 0);
    while let Some(newline) = text[at..].find('\n').map(|n| at + n) {
        let end = text[newline + 1..].find('\n').map_or(text.len(), |n| newline + 1 + n);
        if text[at..newline] != checksum(&text.as_bytes()[newline + 1..end]) {
            tracing::debug!("{}: a torn or edited segment, and what follows, ignored", path.display());
            break;
        }
        json.push(newline + 1..end);
        at = (end + 1).min(text.len());
    }
    Some(Segments { text, json, whole: at as u64 })
}

/// Appends `value` as a segment to the file at `path`, whose first `whole`
/// bytes are whole segments: anything after them is cut off first.
pub fn append_segment<T: Serialize>(path: &Path, whole: u64, value: &T) -> std::io::Result<()> {
    use std::io::{Seek, Write};
    let mut file = std::fs::OpenOptions::new().write(true).open(path)?;
    file.set_len(whole)?;
    file.seek(std::io::SeekFrom::Start(whole))?;
    file.write_all(&segment(value)?)
}

fn segment<T: Serialize>(value: &T) -> std::io::Result<Vec<u8>> {
    let json = serde_json::to_vec(value)?;
    let mut bytes = format!("{}\n", checksum(&json)).into_bytes();
    bytes.extend_from_slice(&json);
    bytes.push(b'\n');
    Ok(bytes)
}

fn checksum(bytes: &[u8]) -> String {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    format!("crc32:{:08x}", crc.sum())
}

/// Writes the cache's most numerous records (a version, a sighting, an
/// input: hundreds per host) as JSON arrays of their fields, in the order
/// named, instead of objects: half the bytes, and no field name to read
/// back for each. Reading a new host's cache is most of what a new day of
/// snapshots costs. These types are the cache's only; the API publishes
/// types of its own (`render/published.rs`).
macro_rules! cached_as_array {
    ($ty:ident { $($field:ident),+ $(,)? }) => {
        impl serde::Serialize for $ty {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                use serde::ser::SerializeTuple;
                let mut array = serializer.serialize_tuple([$(stringify!($field)),+].len())?;
                $(array.serialize_element(&self.$field)?;)+
                array.end()
            }
        }

        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("an array of ", stringify!($ty), "'s fields"))
                    }
                    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<$ty, A::Error> {
                        let mut read = 0;
                        $(
                            let $field = seq.next_element()?.ok_or_else(|| serde::de::Error::invalid_length(read, &self))?;
                            read += 1;
                        )+
                        let _ = read;
                        Ok($ty { $($field),+ })
                    }
                }
                deserializer.deserialize_tuple([$(stringify!($field)),+].len(), Fields)
            }
        }
    };
}
pub(crate) use cached_as_array;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_torn_or_edited_cache_file_counts_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.json");
        write_json(&path, &vec![1u32, 2, 3]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path), Some(vec![1, 2, 3]));
        // Shorter values overwrite longer ones completely.
        write_json(&path, &vec![7u32]).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path), Some(vec![7]));
        // Valid JSON, but not what was written: a write stopped half-way.
        let mut bytes = std::fs::read(&path).unwrap();
        let last = bytes.len() - 2;
        bytes[last] = b'8';
        std::fs::write(&path, &bytes).unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path), None);
        std::fs::write(&path, b"[1]").unwrap();
        assert_eq!(read_json::<Vec<u32>>(&path), None);
    }

    #[test]
    fn segments_are_appended_and_a_torn_one_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.json");
        let read = |path: &Path| {
            let s = read_segments(path).unwrap();
            s.json.iter().map(|r| serde_json::from_str::<Vec<u32>>(&s.text[r.clone()]).unwrap()).collect::<Vec<_>>()
        };
        write_json(&path, &vec![1u32]).unwrap();
        let whole = read_segments(&path).unwrap().whole;
        append_segment(&path, whole, &vec![2u32, 3]).unwrap();
        assert_eq!(read(&path), vec![vec![1], vec![2, 3]]);
        // An append stopped half-way: the segments before it are read...
        let whole = read_segments(&path).unwrap().whole;
        let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
        std::io::Write::write_all(&mut file, b"crc32:00000000\n[4,").unwrap();
        assert_eq!(read(&path), vec![vec![1], vec![2, 3]]);
        assert_eq!(read_segments(&path).unwrap().whole, whole);
        // ... and the next append replaces it.
        append_segment(&path, whole, &vec![5u32]).unwrap();
        assert_eq!(read(&path), vec![vec![1], vec![2, 3], vec![5]]);
        // Rewritten whole: one segment.
        write_json(&path, &vec![6u32]).unwrap();
        assert_eq!(read(&path), vec![vec![6]]);
    }
}
