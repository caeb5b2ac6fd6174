//! The files a build keeps for the next (the cache, the git walk's record,
//! the page memo) and how they are framed: JSON after a line holding its
//! CRC-32, written in place, read back only when whole. Below every stage.

use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// A file that could not be made, written or read, with its path.
#[derive(Debug, thiserror::Error)]
#[error("cannot {action} {}: {cause}", path.display())]
pub struct FileError {
    pub action: &'static str,
    pub path: PathBuf,
    pub cause: std::io::Error,
}

impl FileError {
    pub fn new(action: &'static str, path: &Path, cause: std::io::Error) -> FileError {
        FileError { action, path: path.to_path_buf(), cause }
    }
}

/// Writes `value` as JSON at `path`, after a line holding the CRC-32 of
/// that JSON (a check against torn writes, not against an adversary: the
/// cache is parc's own, and the CRC costs a tenth of a hash on the 40 MB
/// a fleet's cache holds): a file of one [segment](Segments). In place (see
/// `render/output.rs` for why not a fresh file): a write torn by a stopped
/// build fails the check in [`read_json`], and the file counts as absent,
/// never as a wrong cache.
pub fn write_json<T: Serialize>(path: &Path, value: &T) -> std::io::Result<()> {
    overwrite(path, &segment(value)?)
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
    format!("crc32:{:08x}", crc32fast::hash(bytes))
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
            // Into the loop that reads a list of them: a record is then made
            // where it goes, not made and copied there.
            #[inline]
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Fields;
                impl<'de> serde::de::Visitor<'de> for Fields {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str(concat!("an array of ", stringify!($ty), "'s fields"))
                    }
                    #[inline]
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

/// The base64 strings of the cache (a host's inputs, its history lists):
/// read from the JSON text where it lies, not copied into a string first,
/// and decoded into a buffer each thread keeps, not a new one each time (a
/// year of a thousand hosts' histories is a gigabyte of fresh pages to fault in).
pub mod base64 {
    use base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
    use serde::de::{Deserializer, Error, Visitor};
    use std::cell::RefCell;

    pub fn encode(bytes: &[u8]) -> String {
        STANDARD_NO_PAD.encode(bytes)
    }

    thread_local! {
        static BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
    }

    /// What `read` makes of the bytes of the base64 string `deserializer`
    /// holds; `what` names it in an error.
    pub fn decoded<'de, D: Deserializer<'de>, R>(
        deserializer: D,
        what: &'static str,
        read: impl FnOnce(&[u8]) -> Result<R, String>,
    ) -> Result<R, D::Error> {
        struct Text<F>(&'static str, F);
        impl<'de, R, F: FnOnce(&[u8]) -> Result<R, String>> Visitor<'de> for Text<F> {
            type Value = R;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                write!(f, "{} as a base64 string", self.0)
            }
            fn visit_str<E: Error>(self, text: &str) -> Result<R, E> {
                let Text(what, read) = self;
                let decode = |buffer: &mut Vec<u8>| {
                    buffer.clear();
                    STANDARD_NO_PAD.decode_vec(text, buffer).map_err(|_| E::custom(format!("{what}: not base64")))?;
                    read(buffer).map_err(E::custom)
                };
                // A string read while the buffer is in use (one inside another) gets its own.
                BUFFER.with(|buffer| match buffer.try_borrow_mut() {
                    Ok(mut buffer) => decode(&mut buffer),
                    Err(_) => decode(&mut Vec::new()),
                })
            }
        }
        deserializer.deserialize_str(Text(what, read))
    }
}

/// A history list (a host's versions, a disk's sightings: hundreds a year
/// each) as the cache keeps it: postcard's bytes of the records, in base64,
/// one string in the JSON. Reading a year of them was most of what a new day
/// cost; postcard reads them several times faster than JSON arrays. The
/// texts the records repeat ([`Shared`]) are written once, in a table before
/// the records, which name them by their place in it: a year of a disk's
/// sightings holds its host's name once, and reading them back is a clone
/// of the table's text, not a lookup of each.
/// Only for records whose fields postcard can write back as they were (no
/// field skipped, nothing that must describe itself).
pub mod compact {
    use super::{Shared, Table, TABLE};
    use serde::{de::DeserializeOwned, ser::Error as _, Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(list: &[T], serializer: S) -> Result<S::Ok, S::Error> {
        let (records, table) = with_table(Table::Writing(Default::default()), || postcard::to_allocvec(list));
        let Table::Writing(table) = table else { unreachable!("the table written is the one set") };
        let mut texts = vec![""; table.len()];
        for (text, &at) in &table {
            texts[at as usize] = text.as_str();
        }
        let mut bytes = postcard::to_allocvec(&texts).map_err(S::Error::custom)?;
        bytes.extend_from_slice(&records.map_err(S::Error::custom)?);
        serializer.serialize_str(&super::base64::encode(&bytes))
    }

    pub fn deserialize<'de, T: DeserializeOwned, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<T>, D::Error> {
        super::base64::decoded(deserializer, "history", |bytes| {
            let (texts, bytes) =
                postcard::take_from_bytes::<Vec<&str>>(bytes).map_err(|e| format!("history's texts: {e}"))?;
            let table = Table::Reading(texts.into_iter().map(Shared::from).collect());
            let mut records = postcard::Deserializer::from_bytes(bytes);
            let (list, _) = with_table(table, || {
                serde::Deserializer::deserialize_seq(&mut records, Roomy(std::marker::PhantomData))
            });
            let list = list.map_err(|e| format!("history: {e}"))?;
            match records.finalize() {
                Ok([]) => Ok(list),
                _ => Err("history: bytes after the last record".to_string()),
            }
        })
    }

    /// What `run` returns with `table` the thread's while it runs, and the table after.
    fn with_table<R>(table: Table, run: impl FnOnce() -> R) -> (R, Table) {
        let outer = TABLE.with(|t| t.replace(Some(table)));
        let result = run();
        let table = TABLE.with(|t| t.replace(outer)).expect("the table set");
        (result, table)
    }

    /// Room for the versions to come: a list read back exactly full is
    /// copied whole by the next build's first push (a year of a host's
    /// versions and its disks' sightings, for one new day).
    const ROOM: usize = 64;

    struct Roomy<T>(std::marker::PhantomData<T>);

    impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for Roomy<T> {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a list of records")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            // The length postcard wrote, bounded: a damaged file must not ask for all memory.
            let mut list = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1 << 20) + ROOM);
            while let Some(record) = seq.next_element()? {
                list.push(record);
            }
            Ok(list)
        }
    }
}

/// A text that a history repeats in record after record (a disk's host and
/// device in each of its sightings, a host's kind, OS and kernel in each of
/// its versions): kept once for the whole process, each record holding a
/// reference to it. A year of a host's versions and its disks' sightings is
/// a thousand records, and a count of references kept for each text (an
/// atomic add as each record is read back, a subtraction as it goes) was a
/// measurable part of reading them. The texts a fleet repeats are few (its
/// hosts, devices, kinds, systems, kernels, mount points) and are never
/// let go: a process that builds again and again keeps each text once.
/// In a [`compact`] list it is written as its place in the list's table.
#[derive(Clone, Copy, Eq, PartialOrd, Ord)]
pub struct Shared(&'static str);

/// The texts kept, in shards so that threads reading lists side by side
/// seldom wait for each other.
static TEXTS: [std::sync::Mutex<std::collections::HashSet<&'static str, foldhash::fast::FixedState>>; 16] =
    [const { std::sync::Mutex::new(std::collections::HashSet::with_hasher(foldhash::fast::FixedState::with_seed(0))) };
        16];

impl Shared {
    fn of(text: &str) -> Shared {
        use std::hash::BuildHasher;
        let shard = foldhash::fast::FixedState::with_seed(1).hash_one(text) as usize % TEXTS.len();
        let mut texts = TEXTS[shard].lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match texts.get(text) {
            Some(kept) => Shared(kept),
            None => {
                let kept: &'static str = Box::leak(text.into());
                texts.insert(kept);
                Shared(kept)
            }
        }
    }
}

impl Default for Shared {
    fn default() -> Shared {
        Shared::of("")
    }
}

/// One text is kept once: the same text is the same reference.
impl PartialEq for Shared {
    fn eq(&self, other: &Shared) -> bool {
        std::ptr::eq(self.0, other.0)
    }
}

/// As its text: a hash the cache keeps must not depend on where the text lies.
impl std::hash::Hash for Shared {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.0.hash(state)
    }
}

impl Shared {
    pub fn as_str(&self) -> &str {
        self.0
    }

    /// Its text, kept for the whole process.
    pub fn as_static(&self) -> &'static str {
        self.0
    }
}

impl std::ops::Deref for Shared {
    type Target = str;
    fn deref(&self) -> &str {
        self.0
    }
}

impl std::borrow::Borrow<str> for Shared {
    fn borrow(&self) -> &str {
        self.0
    }
}

impl AsRef<str> for Shared {
    fn as_ref(&self) -> &str {
        self.0
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.0, f)
    }
}

impl std::fmt::Display for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl From<&str> for Shared {
    fn from(text: &str) -> Shared {
        Shared::of(text)
    }
}

impl From<String> for Shared {
    fn from(text: String) -> Shared {
        Shared::of(&text)
    }
}

impl From<&String> for Shared {
    fn from(text: &String) -> Shared {
        Shared::of(text)
    }
}

impl PartialEq<str> for Shared {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Shared {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<String> for Shared {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

/// The texts of the [`compact`] list being written or read, while one is.
enum Table {
    /// Each text written so far, and its place.
    Writing(std::collections::HashMap<Shared, u32, foldhash::fast::FixedState>),
    Reading(Vec<Shared>),
}

thread_local! {
    static TABLE: std::cell::RefCell<Option<Table>> = const { std::cell::RefCell::new(None) };
}

impl Serialize for Shared {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let place = TABLE.with(|table| match table.try_borrow_mut().as_deref_mut() {
            Ok(Some(Table::Writing(table))) => Some(match table.get(self.as_str()) {
                Some(&place) => place,
                None => {
                    let next = table.len() as u32;
                    table.insert(*self, next);
                    next
                }
            }),
            _ => None,
        });
        match place {
            Some(place) => serializer.serialize_u32(place),
            None => serializer.serialize_str(self.0),
        }
    }
}

impl<'de> Deserialize<'de> for Shared {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Shared, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Shared;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string, or its place in the list's texts")
            }
            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Shared, E> {
                Ok(Shared::from(text))
            }
            fn visit_u32<E: serde::de::Error>(self, place: u32) -> Result<Shared, E> {
                TABLE
                    .with(|table| match &*table.borrow() {
                        Some(Table::Reading(texts)) => texts.get(place as usize).cloned(),
                        _ => None,
                    })
                    .ok_or_else(|| E::custom(format!("text {place} is not in the list's texts")))
            }
        }
        // Only a compact list is read in a form not meant for people (postcard's).
        match deserializer.is_human_readable() {
            true => deserializer.deserialize_str(Visitor),
            false => deserializer.deserialize_u32(Visitor),
        }
    }
}

/// Writes `bytes` over what `path` held, then cuts it to their length.
/// Not `fs::write`: truncating first frees every block and allocates them
/// again, which on a disk mounted with `discard` (common on virtual
/// machines) made rewriting a site's pages ten times slower. Its folder is
/// made when the file cannot be opened for want of it, not checked before
/// every write: a new day writes a thousand files into folders there already.
pub fn overwrite(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    let open = || std::fs::OpenOptions::new().write(true).create(true).truncate(false).open(path);
    let mut file = match open() {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            std::fs::create_dir_all(path.parent().unwrap_or(Path::new(".")))?;
            open()?
        }
        opened => opened?,
    };
    file.write_all(bytes)?;
    file.set_len(bytes.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_history_comes_back_from_its_compact_form_as_it_went_with_room_to_grow() {
        use crate::fleet::{Sighting, SmartFigures};
        use ::base64::{engine::general_purpose::STANDARD_NO_PAD, Engine};
        #[derive(Serialize, Deserialize)]
        struct Kept(#[serde(with = "compact")] Vec<Sighting>);
        let sighting = |at, figures| Sighting {
            at: crate::time::Instant(at),
            host: "pve1".into(),
            device: "/dev/sda".into(),
            figures,
        };
        let figures =
            SmartFigures { passed: Some(false), temperature: Some(-3), crc: Some(u64::MAX), ..Default::default() };
        let kept = Kept(vec![sighting(1_795_141_825, Some(figures)), sighting(-1, None)]);
        let json = serde_json::to_string(&kept).unwrap();
        let back: Kept = serde_json::from_str(&json).unwrap();
        assert_eq!(format!("{:?}", back.0), format!("{:?}", kept.0));
        assert!(back.0.capacity() > back.0.len(), "a push must not copy the history");
        assert!(std::ptr::eq(back.0[0].host.as_str(), back.0[1].host.as_str()), "one text for every sighting");
        let bytes = STANDARD_NO_PAD.decode(json.trim_matches(|c| c == '[' || c == ']' || c == '"')).unwrap();
        assert_eq!(bytes.windows(4).filter(|w| w == b"pve1").count(), 1, "written once, in the table");
        // A record naming a text the table does not have.
        let (texts, records) = postcard::take_from_bytes::<Vec<&str>>(&bytes).unwrap();
        let mut bad = postcard::to_allocvec(&texts[..1]).unwrap();
        bad.extend_from_slice(records);
        let bad = serde_json::to_string(&STANDARD_NO_PAD.encode(&bad)).unwrap();
        let error = serde_json::from_str::<Kept>(&bad).err().unwrap().to_string();
        assert!(error.starts_with("history: "), "{error}");
        // Not base64; an empty list with bytes left over; no list at all.
        for bad in [json.replacen('"', "\"!", 1), json.replacen('"', "\"AAAA", 1), "\"\"".into()] {
            assert!(serde_json::from_str::<Kept>(&bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_text_is_kept_once_and_equal_to_itself_however_it_was_made() {
        let from_str = Shared::from("sda");
        let from_string = Shared::from(String::from("sda"));
        let read: Shared = serde_json::from_str("\"sda\"").unwrap();
        assert!(std::ptr::eq(from_str.as_str(), from_string.as_str()), "one text, kept once");
        assert_eq!((from_str, from_str), (from_string, read));
        assert_ne!(from_str, Shared::from("sdb"));
        assert_eq!(Shared::default(), Shared::from(""), "the empty text is kept like any other");
        // Looked up by its text, as a compact list's table is, and hashed as its text.
        let table: std::collections::HashMap<Shared, u32> = [(from_str, 7)].into();
        assert_eq!(table.get("sda"), Some(&7));
        let hash = |v: &dyn Fn(&mut std::hash::DefaultHasher)| {
            let mut h = std::hash::DefaultHasher::new();
            v(&mut h);
            std::hash::Hasher::finish(&h)
        };
        use std::hash::Hash;
        assert_eq!(hash(&|h| from_str.hash(h)), hash(&|h| "sda".hash(h)));
        assert!(Shared::from("a") < Shared::from("b"), "ordered by their text");
    }

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
