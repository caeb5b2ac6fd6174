//! The output folder. Every write goes through here: paths are checked to
//! stay inside the folder, a file whose bytes are unchanged is not rewritten
//! (web servers and rsync see no change), and files no longer produced are
//! removed — but only in a folder parc made, marked by `.parc-site`.

use super::listing::{parent, Folder};
use anyhow::{bail, Context, Result};
use std::collections::{HashMap, HashSet};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;

pub const MARKER: &str = ".parc-site";

pub struct Output {
    root: PathBuf,
    /// A name of its own, from its full path: its memo and listing in the cache are its own.
    pub id: String,
    /// The files the folder held when the build began (by their path from
    /// the root), each marked once this build writes or keeps it: a page
    /// the memo keeps is looked up here, not asked of the disk, and what is
    /// left unmarked is pruned, with no second walk.
    before: HashMap<Box<str>, AtomicBool, foldhash::fast::FixedState>,
    /// Files whose path is not UTF-8: never made, always pruned.
    strays: Vec<PathBuf>,
    /// Its folders, deepest first, the root last.
    folders: Vec<Folder>,
    /// The files this build made that were not there, and the files and
    /// folders it removed: with the files marked, what the next build's
    /// listing says the folder holds, and the folders whose time moved.
    created: Mutex<Vec<String>>,
    removed: Mutex<Vec<String>>,
    /// Where its listing is kept (see `listing.rs`), and whether the one
    /// there no longer says what the folder held when the build began.
    listing: Option<PathBuf>,
    stale: bool,
    pub files: AtomicUsize,
    pub unchanged: AtomicUsize,
    /// The build before this one finished: what it wrote is whole.
    pub previous_finished: bool,
}

/// Where an output folder's listing is kept, and whether it may be read.
pub struct Listing<'a> {
    pub dir: &'a Path,
    pub read: bool,
}

impl Output {
    /// Opens `root`, refusing a non-empty folder that parc did not make.
    pub fn open(root: &Path, listing: Option<Listing>) -> Result<Output> {
        if root.exists() {
            let mut entries =
                std::fs::read_dir(root).with_context(|| format!("cannot read output folder {}", root.display()))?;
            if entries.next().is_some() && !root.join(MARKER).exists() {
                bail!(
                    "refusing to write into {}: it is not empty and was not made by parc (no {MARKER} file)",
                    root.display()
                );
            }
        }
        std::fs::create_dir_all(root).with_context(|| format!("cannot create output folder {}", root.display()))?;
        let id = crate::slug::hash(&root.canonicalize()?.to_string_lossy(), 8);
        // Claimed before the first write, and never removed: a build killed at
        // any point leaves a folder the next build recognises as its own. Its
        // fingerprint is set by `finish` only, so an unfinished build never
        // passes for a finished one.
        let marker = root.join(MARKER);
        let previous_finished = std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() != "unfinished");
        std::fs::write(&marker, "unfinished\n").with_context(|| format!("cannot write {}", marker.display()))?;
        let listing_file = listing.as_ref().map(|l| l.dir.join(format!("site-{id}.json")));
        let trusted = listing.as_ref().is_some_and(|l| l.read) && previous_finished;
        let contents = super::listing::read(root, listing_file.as_deref().filter(|_| trusted))
            .with_context(|| format!("cannot read output folder {}", root.display()))?;
        let files = contents.files.into_iter().filter(|rel| rel != MARKER);
        Ok(Output {
            root: root.to_path_buf(),
            id,
            before: files.map(|rel| (rel.into_boxed_str(), AtomicBool::new(false))).collect(),
            strays: contents.strays,
            folders: contents.folders,
            created: Mutex::default(),
            removed: Mutex::default(),
            listing: listing_file,
            stale: contents.stale,
            files: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            previous_finished,
        })
    }

    /// Writes `bytes` at `rel`, a `/`-separated path made of slugs and fixed names.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.resolve(rel)?;
        self.mark(rel);
        self.files.fetch_add(1, Ordering::Relaxed);
        match update(&path, bytes) {
            Ok(changed) => {
                if !changed {
                    self.unchanged.fetch_add(1, Ordering::Relaxed);
                }
                Ok(())
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(parent) = path.parent() {
                    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
                }
                std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))?;
                locked(&self.created).push(rel.to_string());
                Ok(())
            }
            Err(e) => Err(e).with_context(|| format!("cannot write {}", path.display())),
        }
    }

    /// Keeps `rel` as the last build wrote it, if it is still there: counted
    /// as written and unchanged, never pruned. False when it has to be written.
    pub fn keep(&self, rel: &str) -> Result<bool> {
        self.keep_all(&[rel])
    }

    /// [`Output::keep`] for every one of `rels`, or for none: false (and
    /// nothing kept) when one is not there.
    pub fn keep_all(&self, rels: &[impl AsRef<str>]) -> Result<bool> {
        for rel in rels {
            check(rel.as_ref())?;
        }
        if !rels.iter().all(|rel| self.before.contains_key(rel.as_ref())) {
            return Ok(false);
        }
        for rel in rels {
            self.mark(rel.as_ref());
        }
        self.files.fetch_add(rels.len(), Ordering::Relaxed);
        self.unchanged.fetch_add(rels.len(), Ordering::Relaxed);
        Ok(true)
    }

    /// Marks the file at `rel` as made by this build, if the folder held it: not pruned.
    fn mark(&self, rel: &str) {
        if let Some(made) = self.before.get(rel) {
            made.store(true, Ordering::Relaxed);
        }
    }

    /// Writes the build's fingerprint into the marker; last, so that a build
    /// stopped half-way is not taken for a finished one. Not counted among
    /// the site's files. Then keeps the folder's listing for the next build.
    pub fn finish(&self, fingerprint: &str) -> Result<()> {
        let path = self.root.join(MARKER);
        std::fs::write(&path, format!("{fingerprint}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
        let Some(listing) = &self.listing else { return Ok(()) };
        let (created, removed) = (locked(&self.created), locked(&self.removed));
        // A day that made and removed no file leaves the listing as it was.
        if !self.stale && created.is_empty() && removed.is_empty() {
            return Ok(());
        }
        let mut moved: HashSet<&str, foldhash::fast::FixedState> = HashSet::default();
        for path in created.iter().chain(removed.iter()) {
            moved.insert(path);
            moved.extend(super::listing::ancestors(path));
        }
        let kept = self.before.iter().filter(|(_, made)| made.load(Ordering::Relaxed)).map(|(rel, _)| &**rel);
        let files = kept.chain(created.iter().map(String::as_str));
        let folders =
            self.folders.iter().map(|f| (f.rel.as_str(), f.mtime.filter(|_| !moved.contains(f.rel.as_str()))));
        if let Err(e) = super::listing::write(&self.root, listing, files, folders) {
            tracing::warn!("cannot write {}: {e}", listing.display());
        }
        Ok(())
    }

    /// `rel` in the folder, once [`check`]ed.
    fn resolve(&self, rel: &str) -> Result<PathBuf> {
        check(rel)?;
        Ok(self.root.join(rel))
    }

    /// Removes files this build did not write, and folders left empty:
    /// those that were, and those this pruning emptied (a site has a folder
    /// per host and disk, and asking each to go costs a system call).
    pub fn prune(&self) -> Result<usize> {
        let mut removed = locked(&self.removed);
        // The folders, by their path from the root, that lost an entry.
        let mut emptied: HashSet<&str, foldhash::fast::FixedState> = HashSet::default();
        let left = self.before.iter().filter(|(_, made)| !made.load(Ordering::Relaxed));
        let left = left.map(|(rel, _)| (self.root.join(&**rel), Some(&**rel), parent(rel)));
        let strays = self.strays.iter().map(|path| {
            let folder = path.parent().and_then(|p| p.strip_prefix(&self.root).ok()).and_then(Path::to_str);
            (path.clone(), None, folder.unwrap_or_default())
        });
        let mut count = 0;
        for (path, rel, folder) in left.chain(strays) {
            match std::fs::remove_file(&path) {
                Ok(()) => count += 1,
                // Gone already: what pruning wanted.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
            }
            removed.extend(rel.map(str::to_string));
            emptied.insert(folder);
        }
        // Deepest first: a folder whose last folder went is tried next. Never the root.
        for Folder { rel, empty, .. } in self.folders.iter().filter(|f| !f.rel.is_empty()) {
            // Fails, as it should, when not empty.
            if (*empty || emptied.contains(rel.as_str())) && std::fs::remove_dir(self.root.join(rel)).is_ok() {
                removed.push(rel.clone());
                emptied.insert(parent(rel));
            }
        }
        Ok(count)
    }
}

fn locked<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Only plain names: no `..`, no root, no drive, nothing a snapshot could
/// use to climb out (slugs already guarantee this; this is the last guard),
/// and each path written one way only, as the folder's listing spells it.
fn check(rel: &str) -> Result<()> {
    let safe = !rel.is_empty()
        && !rel.contains('\\')
        && !rel.contains("//")
        && !rel.ends_with('/')
        && Path::new(rel)
            .components()
            .all(|c| matches!(c, Component::Normal(s) if !s.to_string_lossy().starts_with('.') || s == MARKER));
    if !safe {
        bail!("refusing to write {rel:?}: not a plain path inside the output folder");
    }
    Ok(())
}

/// Writes `bytes` over the existing file at `path`, unless it already holds
/// them: false then. One open for both the comparison and the write (a
/// site rewrites thousands of pages a day; each system call counts).
fn update(path: &Path, bytes: &[u8]) -> std::io::Result<bool> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let mut file = std::fs::OpenOptions::new().read(true).write(true).open(path)?;
    let old_len = file.metadata()?.len();
    if old_len == bytes.len() as u64 {
        let mut old = Vec::with_capacity(bytes.len() + 1);
        file.read_to_end(&mut old)?;
        if old == bytes {
            return Ok(false);
        }
    }
    file.write_all_at(bytes, 0)?;
    if old_len > bytes.len() as u64 {
        file.set_len(bytes.len() as u64)?;
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_only_inside_and_only_when_changed() {
        let dir = tempfile::tempdir().unwrap();
        let out = Output::open(dir.path(), None).unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../x", "", ".hidden", "a\\..\\x", "a//b.html", "a/"] {
            assert!(out.write(bad, b"x").is_err(), "{bad}");
        }
        out.write("a/b.html", b"one").unwrap();
        out.write("a/b.html", b"one").unwrap();
        assert_eq!(out.unchanged.load(Ordering::Relaxed), 1);
        assert_eq!(std::fs::read(dir.path().join("a/b.html")).unwrap(), b"one");
        // Rewritten in place: shorter and longer bytes leave nothing of the old.
        out.write("a/b.html", b"xy").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b.html")).unwrap(), b"xy");
        out.write("a/b.html", b"longer").unwrap();
        assert_eq!(std::fs::read(dir.path().join("a/b.html")).unwrap(), b"longer");
    }

    #[test]
    fn refuses_a_folder_it_did_not_make() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("precious.txt"), "keep").unwrap();
        assert!(Output::open(dir.path(), None).is_err());
        assert!(dir.path().join("precious.txt").exists());
    }

    #[test]
    fn the_marker_is_claimed_first_and_never_pruned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), "unfinished\n").unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old/page.html"), "gone").unwrap();
        let out = Output::open(dir.path(), None).unwrap();
        assert!(dir.path().join(MARKER).is_file(), "claimed before anything is written");
        out.write("new.html", b"kept").unwrap();
        assert_eq!(out.prune().unwrap(), 1);
        assert!(!dir.path().join("old").exists(), "its emptied folder goes too");
        assert!(dir.path().join(MARKER).is_file() && dir.path().join("new.html").is_file());
        assert!(Output::open(dir.path(), None).is_ok(), "a build stopped here can go on");
    }

    #[test]
    fn what_is_kept_or_written_stays_and_the_rest_is_pruned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), "done\n").unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        for old in ["a.html", "b/c.html", "d.html"] {
            std::fs::write(dir.path().join(old), "old").unwrap();
        }
        let out = Output::open(dir.path(), None).unwrap();
        assert!(out.keep("a.html").unwrap());
        assert!(!out.keep_all(&["a.html", "x.html"]).unwrap(), "one missing keeps none");
        out.write("b/c.html", b"new").unwrap();
        assert_eq!(out.prune().unwrap(), 1);
        assert!(!dir.path().join("d.html").exists());
        assert_eq!(std::fs::read(dir.path().join("a.html")).unwrap(), b"old");
        assert_eq!(std::fs::read(dir.path().join("b/c.html")).unwrap(), b"new");
    }

    #[test]
    fn folders_left_empty_go_and_the_others_stay() {
        use std::os::unix::ffi::OsStrExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), "done\n").unwrap();
        for folder in ["gone/deep/deeper", "kept/history", "was-empty/inside", "half/gone"] {
            std::fs::create_dir_all(dir.path().join(folder)).unwrap();
        }
        for old in ["gone/deep/deeper/x.json", "gone/y.json", "kept/history/z.json", "half/k.json", "half/gone/w.json"]
        {
            std::fs::write(dir.path().join(old), "old").unwrap();
        }
        // A name that is not UTF-8 is never parc's: it goes, and its folder with it.
        std::fs::create_dir(dir.path().join("odd")).unwrap();
        let stray = std::ffi::OsStr::from_bytes(b"caf\xe9.html");
        std::fs::write(dir.path().join("odd").join(stray), "old").unwrap();
        let out = Output::open(dir.path(), None).unwrap();
        assert!(out.keep_all(&["kept/history/z.json", "half/k.json"]).unwrap());
        assert_eq!(out.prune().unwrap(), 4);
        let left: Vec<String> = walkdir::WalkDir::new(dir.path())
            .min_depth(1)
            .sort_by_file_name()
            .into_iter()
            .map(|e| e.unwrap().path().strip_prefix(dir.path()).unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(left, [MARKER, "half", "half/k.json", "kept", "kept/history", "kept/history/z.json"]);
    }

    #[test]
    fn the_listing_is_kept_while_no_file_comes_or_goes() {
        let dir = tempfile::tempdir().unwrap();
        let (root, cache) = (dir.path().join("site"), dir.path().to_path_buf());
        let open = || Output::open(&root, Some(Listing { dir: &cache, read: true })).unwrap();
        let out = open();
        assert!(out.stale, "no listing yet: walked");
        out.write("a/b.html", b"1").unwrap();
        out.write("c.html", b"2").unwrap();
        out.prune().unwrap();
        // Older than the listing by more than the clock's tick.
        for folder in [root.clone(), root.join("a")] {
            super::super::listing::tests::age(&folder);
        }
        out.finish("one").unwrap();
        let listing = cache.join(format!("site-{}.json", out.id));
        let written = std::fs::read(&listing).unwrap();

        let out = open();
        assert!(!out.stale, "read from the listing");
        assert!(out.keep_all(&["a/b.html", "c.html"]).unwrap());
        assert_eq!(out.prune().unwrap(), 0);
        out.finish("two").unwrap();
        assert_eq!(std::fs::read(&listing).unwrap(), written, "a day with no file made or removed");

        let out = open();
        out.write("a/new.html", b"3").unwrap();
        assert!(out.keep("a/b.html").unwrap());
        assert_eq!(out.prune().unwrap(), 1, "c.html");
        out.finish("three").unwrap();
        assert_ne!(std::fs::read(&listing).unwrap(), written);
        let out = open();
        assert!(out.keep_all(&["a/b.html", "a/new.html"]).unwrap());
        assert!(!out.keep("c.html").unwrap());
    }
}
