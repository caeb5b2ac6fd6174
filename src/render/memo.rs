//! What each page showed last time, so that a page whose context did not
//! change is not rendered again. The context is the whole input of a page
//! (with the templates, which the salt covers), so equal hashes mean equal
//! bytes; the cache may be lost at any time, and then every page is rendered.

use super::output::Output;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

pub struct RenderMemo {
    file: PathBuf,
    salt: String,
    before: HashMap<String, String>,
    now: Mutex<HashMap<String, String>>,
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Stored {
    salt: String,
    pages: HashMap<String, String>,
}

/// The hash of everything a page shows.
pub struct ContextHash {
    hash: Sha256,
    /// A value that could not be written as JSON: the page is always rendered.
    failed: bool,
}

impl ContextHash {
    pub fn put<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.hash.update(key.len().to_le_bytes());
        self.hash.update(key);
        self.failed |= serde_json::to_writer(HashWriter(&mut self.hash), value).is_err();
        self.hash.update([0xff]);
    }

    /// Bytes that stand for the whole page (a JSON file's own bytes).
    pub fn put_bytes(&mut self, bytes: &[u8]) {
        self.hash.update(bytes);
    }

    /// The key of the page; empty (matching nothing) when a value failed.
    pub fn finish(self) -> String {
        if self.failed {
            return String::new();
        }
        format!("{:x}", self.hash.finalize())
    }
}

/// Writes into a hash what serde_json writes.
struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.update(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl RenderMemo {
    /// `salt` names everything besides the context that shapes a page: parc's
    /// version and the templates. With `read` false nothing is reused.
    pub fn open(file: &Path, salt: String, read: bool) -> RenderMemo {
        let before = read
            .then(|| crate::cache::read_json::<Stored>(file))
            .flatten()
            .filter(|s| s.salt == salt)
            .map(|s| s.pages)
            .unwrap_or_default();
        RenderMemo { file: file.to_path_buf(), salt, before, now: Mutex::default() }
    }

    /// A hash to put a page's values into, for `template`.
    pub fn hasher(&self, template: &str) -> ContextHash {
        let mut hash = Sha256::new();
        hash.update(&self.salt);
        hash.update(template);
        ContextHash { hash, failed: false }
    }

    /// Writes `path` with the bytes `make` gives, unless it was made from
    /// `key` last time and is still in the output folder; remembers `key`.
    pub fn write(
        &self,
        out: &Output,
        path: &str,
        key: String,
        make: impl FnOnce() -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<()> {
        let same = !key.is_empty() && self.before.get(path).is_some_and(|k| *k == key);
        if !(same && out.keep(path)?) {
            out.write(path, &make()?)?;
        }
        self.now.lock().unwrap().insert(path.to_string(), key);
        Ok(())
    }

    pub fn save(&self) -> std::io::Result<()> {
        let stored = Stored { salt: self.salt.clone(), pages: std::mem::take(&mut *self.now.lock().unwrap()) };
        crate::cache::write_json(&self.file, &stored)
    }
}
