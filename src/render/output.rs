//! The output folder. Every write goes through here: paths are checked to
//! stay inside the folder, a file whose bytes are unchanged is not rewritten
//! (web servers and rsync see no change), and files no longer produced are
//! removed — but only in a folder parc made, marked by `.parc-site`.

use anyhow::{bail, Context, Result};
use std::collections::HashSet;
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

pub const MARKER: &str = ".parc-site";

pub struct Output {
    root: PathBuf,
    written: Mutex<HashSet<PathBuf>>,
    /// The files the folder held when the build began, and its folders
    /// deepest first: a page the memo keeps is looked up here, not asked of
    /// the disk, and what this build does not write again is pruned from
    /// here, with no second walk.
    before: HashSet<PathBuf>,
    folders: Vec<PathBuf>,
    pub files: AtomicUsize,
    pub unchanged: AtomicUsize,
    /// The build before this one finished: what it wrote is whole.
    pub previous_finished: bool,
}

impl Output {
    /// Opens `root`, refusing a non-empty folder that parc did not make.
    pub fn open(root: &Path) -> Result<Output> {
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
        // Claimed before the first write, and never removed: a build killed at
        // any point leaves a folder the next build recognises as its own. Its
        // fingerprint is set by `finish` only, so an unfinished build never
        // passes for a finished one.
        let marker = root.join(MARKER);
        let previous_finished = std::fs::read_to_string(&marker).is_ok_and(|m| m.trim() != "unfinished");
        std::fs::write(&marker, "unfinished\n").with_context(|| format!("cannot write {}", marker.display()))?;
        let (mut before, mut folders) = (HashSet::new(), Vec::new());
        for entry in walkdir::WalkDir::new(root).min_depth(1).contents_first(true) {
            let entry = entry.with_context(|| format!("cannot read output folder {}", root.display()))?;
            if entry.file_type().is_dir() {
                folders.push(entry.into_path());
            } else if entry.path() != marker {
                before.insert(entry.into_path());
            }
        }
        Ok(Output {
            root: root.to_path_buf(),
            written: Mutex::default(),
            before,
            folders,
            files: AtomicUsize::new(0),
            unchanged: AtomicUsize::new(0),
            previous_finished,
        })
    }

    /// Writes `bytes` at `rel`, a `/`-separated path made of slugs and fixed names.
    pub fn write(&self, rel: &str, bytes: &[u8]) -> Result<()> {
        let path = self.resolve(rel)?;
        self.written.lock().unwrap().insert(path.clone());
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
                std::fs::write(&path, bytes).with_context(|| format!("cannot write {}", path.display()))
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
        let paths = rels.iter().map(|rel| self.resolve(rel.as_ref())).collect::<Result<Vec<_>>>()?;
        if !paths.iter().all(|p| self.before.contains(p)) {
            return Ok(false);
        }
        self.files.fetch_add(paths.len(), Ordering::Relaxed);
        self.unchanged.fetch_add(paths.len(), Ordering::Relaxed);
        self.written.lock().unwrap().extend(paths);
        Ok(true)
    }

    /// Writes the build's fingerprint into the marker; last, so that a build
    /// stopped half-way is not taken for a finished one. Not counted among
    /// the site's files.
    pub fn finish(&self, fingerprint: &str) -> Result<()> {
        let path = self.root.join(MARKER);
        std::fs::write(&path, format!("{fingerprint}\n")).with_context(|| format!("cannot write {}", path.display()))
    }

    /// Only plain names: no `..`, no root, no drive, nothing a snapshot could
    /// use to climb out (slugs already guarantee this; this is the last guard).
    fn resolve(&self, rel: &str) -> Result<PathBuf> {
        let rel_path = Path::new(rel);
        let safe = !rel.is_empty()
            && !rel.contains('\\')
            && rel_path
                .components()
                .all(|c| matches!(c, Component::Normal(s) if !s.to_string_lossy().starts_with('.') || s == MARKER));
        if !safe {
            bail!("refusing to write {rel:?}: not a plain path inside the output folder");
        }
        Ok(self.root.join(rel_path))
    }

    /// Removes files this build did not write, and folders left empty.
    pub fn prune(&self) -> Result<usize> {
        let written = self.written.lock().unwrap();
        let mut removed = 0;
        for path in self.before.iter().filter(|p| !written.contains(*p)) {
            match std::fs::remove_file(path) {
                Ok(()) => removed += 1,
                // Gone already: what pruning wanted.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(e).with_context(|| format!("cannot remove {}", path.display())),
            }
        }
        for dir in &self.folders {
            let _ = std::fs::remove_dir(dir); // fails, as it should, when not empty
        }
        Ok(removed)
    }
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
        let out = Output::open(dir.path()).unwrap();
        for bad in ["../x", "/etc/passwd", "a/../../x", "", ".hidden", "a\\..\\x"] {
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
        assert!(Output::open(dir.path()).is_err());
        assert!(dir.path().join("precious.txt").exists());
    }

    #[test]
    fn the_marker_is_claimed_first_and_never_pruned() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MARKER), "unfinished\n").unwrap();
        std::fs::create_dir(dir.path().join("old")).unwrap();
        std::fs::write(dir.path().join("old/page.html"), "gone").unwrap();
        let out = Output::open(dir.path()).unwrap();
        assert!(dir.path().join(MARKER).is_file(), "claimed before anything is written");
        out.write("new.html", b"kept").unwrap();
        assert_eq!(out.prune().unwrap(), 1);
        assert!(!dir.path().join("old").exists(), "its emptied folder goes too");
        assert!(dir.path().join(MARKER).is_file() && dir.path().join("new.html").is_file());
        assert!(Output::open(dir.path()).is_ok(), "a build stopped here can go on");
    }
}
