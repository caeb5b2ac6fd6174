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

    /// [`RenderMemo::write`] for a page dated by `newest`, its subject's
    /// newest data: one made from newer data than last time has changed
    /// (it says how recent its data is), so it is made without asking `key`
    /// for the hash of its values. Once its subject stays as it was, the
    /// hash is taken, and from the build after on the page is kept: a fleet
    /// whose hosts all report every day hashes none of their pages.
    pub fn write_dated(
        &self,
        out: &Output,
        path: &str,
        newest: &str,
        key: impl FnOnce() -> anyhow::Result<String>,
        make: impl FnOnce() -> anyhow::Result<Vec<u8>>,
    ) -> anyhow::Result<()> {
        let before = self.before.get(path).and_then(|k| k.split_once('|'));
        let key = match before {
            Some((was, _)) if was == newest => match key()? {
                // A value that could not be hashed: never kept.
                hash if hash.is_empty() => hash,
                hash => format!("{newest}|{hash}"),
            },
            _ => format!("{newest}|"),
        };
        self.write(out, path, key, make)
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    /// One build's page at `newest` with the values hashing to `hash`:
    /// whether its hash was asked for, and whether it was made.
    fn build(dir: &Path, newest: &str, hash: &str) -> (bool, bool) {
        let memo = RenderMemo::open(&dir.join("memo.json"), "salt".into(), true);
        let out = Output::open(&dir.join("site"), None).unwrap();
        let (asked, made) = (Cell::new(false), Cell::new(false));
        let key = || {
            asked.set(true);
            Ok(hash.to_string())
        };
        let make = || {
            made.set(true);
            Ok(format!("{newest} {hash}").into_bytes())
        };
        memo.write_dated(&out, "host.html", newest, key, make).unwrap();
        memo.save().unwrap();
        (asked.get(), made.get())
    }

    #[test]
    fn a_dated_page_is_hashed_only_once_its_subject_stays_the_same() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(build(dir.path(), "1", "a"), (false, true), "first made, not hashed");
        assert_eq!(build(dir.path(), "2", "b"), (false, true), "newer data: made, not hashed");
        assert_eq!(build(dir.path(), "2", "b"), (true, true), "the same data: hashed, made once more");
        assert_eq!(build(dir.path(), "2", "b"), (true, false), "the same hash: kept");
        assert_eq!(build(dir.path(), "2", "c"), (true, true), "the same date, other values: made");
        assert_eq!(build(dir.path(), "3", "c"), (false, true), "newer data again: made, not hashed");
        assert_eq!(std::fs::read(dir.path().join("site/host.html")).unwrap(), b"3 c");
        assert_eq!(build(dir.path(), "3", "c"), (true, true));
        // A value that cannot be hashed (an empty key) is never kept.
        assert_eq!(build(dir.path(), "3", ""), (true, true));
        assert_eq!(build(dir.path(), "3", ""), (false, true), "known as nothing: made");
        assert_eq!(build(dir.path(), "3", "d"), (true, true));
        assert_eq!(build(dir.path(), "3", "d"), (true, false));
        std::fs::remove_file(dir.path().join("site/host.html")).unwrap();
        assert_eq!(build(dir.path(), "3", "d"), (true, true), "a page gone from the folder is made again");
    }
}
