//! What the output folder holds when a build begins: walked, or read from
//! the listing the last finished build left in the cache, each folder with
//! the modification time it had then. A folder whose time is unchanged had
//! no file added or removed since, and is not read again: a site with a
//! year of history is ten thousand files in a thousand folders, and
//! walking them grew into the largest part of a new day that grows with
//! history. A file rewritten in place does not change its folder's time,
//! and needs not: a listing says which files are there, not what they hold.

use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

/// The files and folders under the root, by their path from it.
#[derive(Default)]
pub struct Contents {
    pub files: Vec<String>,
    /// Files whose path is not UTF-8: never parc's, always pruned.
    pub strays: Vec<PathBuf>,
    /// Deepest first, the root (`""`) last.
    pub folders: Vec<Folder>,
    /// Whether the listing no longer says what the folder holds: it was
    /// walked, or a folder was read again or is gone.
    pub stale: bool,
}

pub struct Folder {
    pub rel: String,
    /// Whether it holds nothing.
    pub empty: bool,
    /// Its time as seen when it was read, if it was looked at.
    pub mtime: Option<Mtime>,
}

/// A modification time: seconds and nanoseconds since 1970.
pub type Mtime = (i64, u32);

#[derive(Serialize, Deserialize)]
struct Listed<'a> {
    /// When it was made: a folder changed shortly before may have changed
    /// again since within the same tick of the file system's clock, unseen,
    /// and is read again.
    made: Mtime,
    #[serde(borrow)]
    folders: Vec<ListedFolder<'a>>,
}

#[derive(Serialize, Deserialize)]
struct ListedFolder<'a> {
    /// From the root, `""` for the root itself.
    #[serde(borrow)]
    path: Cow<'a, str>,
    mtime: Mtime,
    #[serde(borrow)]
    files: Vec<Cow<'a, str>>,
}

/// What `root` holds: from `listing` where it can be read, else walked.
pub fn read(root: &Path, listing: Option<&Path>) -> std::io::Result<Contents> {
    let text = listing.and_then(crate::store::read_json_text);
    match text.as_deref().and_then(|t| serde_json::from_str::<Listed>(t).ok()) {
        Some(listed) => from_listing(root, &listed),
        None => {
            let mut contents = Contents { stale: true, ..Contents::default() };
            walk(root, "", &mut contents)?;
            contents.folders.push(Folder { rel: String::new(), empty: false, mtime: None });
            Ok(finish(contents))
        }
    }
}

fn from_listing(root: &Path, listed: &Listed) -> std::io::Result<Contents> {
    let mut contents = Contents::default();
    let listed_folders: HashSet<&str> = listed.folders.iter().map(|f| &*f.path).collect();
    let nanos = |(s, n): Mtime| s as i128 * 1_000_000_000 + n as i128;
    // Folder times come from a clock that lags by up to a tick (a few ms).
    let racy = |t: Mtime| nanos(t) >= nanos(listed.made) - 100_000_000;
    for folder in &listed.folders {
        let path = root.join(&*folder.path);
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) if meta.is_dir() => meta,
            _ => {
                contents.stale = true;
                continue;
            }
        };
        let seen = mtime(&meta);
        contents.folders.push(Folder { rel: folder.path.to_string(), empty: false, mtime: seen });
        if seen == Some(folder.mtime) && !racy(folder.mtime) {
            contents.files.extend(folder.files.iter().map(|name| join(&folder.path, name)));
            continue;
        }
        contents.stale = true;
        for entry in std::fs::read_dir(&path)? {
            let entry = entry?;
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                contents.strays.push(entry.path());
                continue;
            };
            let rel = join(&folder.path, &name);
            match entry.file_type()?.is_dir() {
                // A folder of the listing is looked at on its own.
                true if listed_folders.contains(rel.as_str()) => {}
                true => walk(&entry.path(), &rel, &mut contents)?,
                false => contents.files.push(rel),
            }
        }
    }
    Ok(finish(contents))
}

/// Adds what `dir` (at `rel` from the root) holds, below it, to `contents`.
fn walk(dir: &Path, rel: &str, contents: &mut Contents) -> std::io::Result<()> {
    for entry in walkdir::WalkDir::new(dir).min_depth(1) {
        let entry = entry.map_err(std::io::Error::other)?;
        let below = entry.path().strip_prefix(dir).ok().and_then(Path::to_str).map(|p| join(rel, p));
        match (below, entry.file_type().is_dir()) {
            (Some(rel), true) => contents.folders.push(Folder { rel, empty: false, mtime: None }),
            (Some(below), false) => contents.files.push(below),
            (None, true) => {}
            (None, false) => contents.strays.push(entry.into_path()),
        }
    }
    if !rel.is_empty() {
        contents.folders.push(Folder { rel: rel.to_string(), empty: false, mtime: None });
    }
    Ok(())
}

/// The folders deepest first, each told whether it is empty.
fn finish(mut contents: Contents) -> Contents {
    let files = contents.files.iter().map(String::as_str);
    let folders = contents.folders.iter().map(|f| f.rel.as_str()).filter(|f| !f.is_empty());
    let full: HashSet<&str> = files.chain(folders).map(parent).collect();
    let empty: Vec<bool> = contents.folders.iter().map(|f| !full.contains(f.rel.as_str())).collect();
    for (folder, empty) in contents.folders.iter_mut().zip(empty) {
        folder.empty = empty;
    }
    contents.folders.sort_by_key(|f| std::cmp::Reverse(depth(&f.rel)));
    contents
}

/// Writes the listing of `root` holding `files` (by their path from it) in
/// `folders` and the folders above them. A folder's time is the one given
/// (seen when the build began, and not changed since), else asked of it.
pub fn write<'a>(
    root: &Path,
    listing: &Path,
    files: impl Iterator<Item = &'a str>,
    folders: impl Iterator<Item = (&'a str, Option<Mtime>)>,
) -> std::io::Result<()> {
    let made = mtime_of(SystemTime::now()).unwrap_or_default();
    let mut by_folder: BTreeMap<&str, (Option<Mtime>, Vec<Cow<str>>)> = BTreeMap::new();
    for (folder, mtime) in folders {
        by_folder.entry(folder).or_default().0 = mtime;
    }
    for file in files {
        let (folder, name) = file.rsplit_once('/').unwrap_or(("", file));
        by_folder.entry(folder).or_default().1.push(Cow::Borrowed(name));
        for above in ancestors(folder) {
            by_folder.entry(above).or_default();
        }
    }
    let mut folders = Vec::with_capacity(by_folder.len());
    for (path, (known, files)) in by_folder {
        let asked = || std::fs::symlink_metadata(root.join(path)).ok().filter(|m| m.is_dir()).and_then(|m| mtime(&m));
        // A folder pruned, or not one: not listed, and read if it comes back.
        let Some(mtime) = known.or_else(asked) else { continue };
        folders.push(ListedFolder { path: Cow::Borrowed(path), mtime, files });
    }
    crate::store::write_json(listing, &Listed { made, folders })
}

fn mtime(meta: &std::fs::Metadata) -> Option<Mtime> {
    mtime_of(meta.modified().ok()?)
}

fn mtime_of(t: SystemTime) -> Option<Mtime> {
    let since = t.duration_since(UNIX_EPOCH).ok()?;
    Some((since.as_secs() as i64, since.subsec_nanos()))
}

fn join(folder: &str, name: &str) -> String {
    match folder.is_empty() {
        true => name.to_string(),
        false => format!("{folder}/{name}"),
    }
}

/// The folder holding `path`, the root (`""`) for a name at the top.
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(p, _)| p)
}

/// The folders above `path`, the nearest first, the root (`""`) last.
pub fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    std::iter::successors((!path.is_empty()).then(|| parent(path)), |&p| (!p.is_empty()).then(|| parent(p)))
}

fn depth(path: &str) -> usize {
    match path.is_empty() {
        true => 0,
        false => 1 + path.matches('/').count(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::time::Duration;

    fn sorted(contents: &Contents) -> (Vec<String>, Vec<(String, bool)>) {
        let mut files = contents.files.clone();
        files.sort();
        let mut folders: Vec<(String, bool)> = contents.folders.iter().map(|f| (f.rel.clone(), f.empty)).collect();
        folders.sort();
        (files, folders)
    }

    /// Sets the folder's time back to 2023: older than its listing by more than a tick.
    pub(crate) fn age(folder: &Path) {
        let old = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        std::fs::File::open(folder).unwrap().set_modified(old).unwrap();
    }

    #[test]
    fn a_folder_is_read_again_only_when_its_time_changed() {
        let dir = tempfile::tempdir().unwrap();
        let (root, listing) = (dir.path().join("site"), dir.path().join("listing.json"));
        for file in ["index.html", "hosts/a.html", "hosts/b.html", "api/v1/hosts/a/history/2026-01.json", "empty/x"] {
            std::fs::create_dir_all(root.join(file).parent().unwrap()).unwrap();
            std::fs::write(root.join(file), "x").unwrap();
        }
        std::fs::remove_file(root.join("empty/x")).unwrap();
        let walked = read(&root, None).unwrap();
        assert!(walked.stale, "a walk leaves no listing");
        for folder in &walked.folders {
            age(&root.join(&folder.rel));
        }
        let files = walked.files.iter().map(String::as_str);
        write(&root, &listing, files, walked.folders.iter().map(|f| (f.rel.as_str(), None))).unwrap();
        let listed = read(&root, Some(&listing)).unwrap();
        assert_eq!(sorted(&listed), sorted(&walked), "the listing says what the walk found");
        assert!(!listed.stale, "and still does");
        assert!(sorted(&listed).1.contains(&("empty".to_string(), true)));

        // Unseen: a file added where the folder's time was put back.
        std::fs::write(root.join("hosts/unseen.html"), "x").unwrap();
        age(&root.join("hosts"));
        // Seen: a file removed, and a folder made.
        std::fs::remove_file(root.join("api/v1/hosts/a/history/2026-01.json")).unwrap();
        std::fs::create_dir_all(root.join("disks/d")).unwrap();
        std::fs::write(root.join("disks/d/x.json"), "x").unwrap();
        let read_again = read(&root, Some(&listing)).unwrap();
        assert!(read_again.stale, "folders were read again");
        let (files, folders) = sorted(&read_again);
        assert_eq!(files, ["disks/d/x.json", "hosts/a.html", "hosts/b.html", "index.html"]);
        let deepest: Vec<&str> = folders.iter().filter(|(_, empty)| *empty).map(|(f, _)| f.as_str()).collect();
        assert_eq!(deepest, ["api/v1/hosts/a/history", "empty"]);
        assert!(folders.iter().any(|(f, _)| f == "disks/d") && folders.iter().any(|(f, _)| f == "disks"));

        // With no listing, the folder is walked.
        std::fs::remove_file(&listing).unwrap();
        assert!(read(&root, Some(&listing)).unwrap().files.iter().any(|f| f == "hosts/unseen.html"));
    }

    #[test]
    fn a_folder_changed_just_before_its_listing_is_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let (root, listing) = (dir.path().join("site"), dir.path().join("listing.json"));
        std::fs::create_dir_all(root.join("hosts")).unwrap();
        write(&root, &listing, std::iter::empty(), ["", "hosts"].into_iter().map(|f| (f, None))).unwrap();
        // Within the clock's tick of the listing: its time may not have moved.
        std::fs::write(root.join("hosts/late.html"), "x").unwrap();
        let listed = read(&root, Some(&listing)).unwrap();
        assert_eq!(listed.files, ["hosts/late.html"]);
    }
}
