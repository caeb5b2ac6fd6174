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

/// The hash of everything a page shows. Values are written as tagged bytes
/// (`hash_feed.rs`) into a buffer that is hashed in large pieces: a value is
/// written a part at a time, and a hash fed that way costs more than the writing.
pub struct ContextHash {
    hash: Sha256,
    buf: Vec<u8>,
    /// A value that could not be written: the page is always rendered.
    failed: bool,
}

impl ContextHash {
    pub fn put<T: serde::Serialize + ?Sized>(&mut self, key: &str, value: &T) {
        self.buf.extend_from_slice(&key.len().to_le_bytes());
        self.buf.extend_from_slice(key.as_bytes());
        self.failed |= value.serialize(&mut super::hash_feed::Feed(&mut self.buf)).is_err();
        if self.buf.len() >= 1 << 16 {
            self.hash.update(&self.buf);
            self.buf.clear();
        }
    }

    /// The key of the page; empty (matching nothing) when a value failed.
    pub fn finish(mut self) -> String {
        if self.failed {
            return String::new();
        }
        self.hash.update(&self.buf);
        format!("{:x}", self.hash.finalize())
    }
}

impl RenderMemo {
    /// `salt` names everything besides the context that shapes a page: parc's
    /// version and the templates. With `read` false nothing is reused.
    pub fn open(file: &Path, salt: String, read: bool) -> RenderMemo {
        let before = read
            .then(|| crate::store::read_json::<Stored>(file))
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
        ContextHash { hash, buf: Vec::new(), failed: false }
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

    /// Keeps the first of `paths` as the last build wrote them, while each
    /// is still in the output folder: all of them when `name` (not a file: a
    /// group of them) was made from `key` then, all but the last when it was
    /// made from what `before_last` gives (the group before its newest file
    /// joined it), else none. Remembers `key` for `name` either way; the
    /// files not kept are to be written through [`RenderMemo::write`], which
    /// remembers each one's key. Returns how many were kept.
    pub fn keep_group(
        &self,
        out: &Output,
        name: &str,
        key: String,
        paths: &[String],
        before_last: impl FnOnce() -> String,
    ) -> anyhow::Result<usize> {
        let made_from = self.before.get(name);
        let kept = if made_from == Some(&key) && out.keep_all(paths)? {
            paths.len()
        } else {
            match paths.split_last() {
                Some((_, earlier))
                    if !earlier.is_empty()
                        && made_from.is_some_and(|k| *k == before_last())
                        && out.keep_all(earlier)? =>
                {
                    earlier.len()
                }
                _ => 0,
            }
        };
        self.now.lock().unwrap().insert(name.to_string(), key);
        Ok(kept)
    }

    pub fn save(&self) -> std::io::Result<()> {
        let stored = Stored { salt: self.salt.clone(), pages: std::mem::take(&mut *self.now.lock().unwrap()) };
        crate::store::write_json(&self.file, &stored)
    }
}
