//! Stage 3: read each candidate version of one host, parse it, and resolve
//! duplicates into one list of versions.

use crate::cache::{FileStamp, ParseCache};
use crate::problem::Problem;
use crate::snapshot::{self, Parsed};
use crate::source::{git, Candidate, Origin};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// One version of one snapshot, ready for the data tree.
#[derive(Debug)]
pub struct Version {
    /// Where it was read, for messages.
    pub label: String,
    pub parsed: Parsed,
}

/// What reading one host's candidates gave.
pub struct HostVersions {
    /// Sorted by time, then kind.
    pub versions: Vec<Version>,
    pub problems: Vec<Problem>,
    /// How many contents were parsed (not found in the cache).
    pub parsed_now: usize,
}

/// What parsing one content gave.
pub type ParseResult = Result<Parsed, snapshot::Unreadable>;

/// Why a candidate's bytes could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read: {0}")]
    File(std::io::Error),
    #[error("cannot open the git repository")]
    NoRepository,
    #[error(transparent)]
    Blob(#[from] git::BlobError),
}

/// The git repository blobs are read from, if any: opened when a blob is
/// first needed, and kept for the hosts read after on the same thread
/// (opening it, and closing its pack files, cost more than a new day's blob).
pub struct Repo {
    path: Option<PathBuf>,
    opened: Option<git2::Repository>,
}

impl Repo {
    pub fn new(path: Option<&Path>) -> Repo {
        Repo { path: path.map(Path::to_path_buf), opened: None }
    }

    fn get(&mut self) -> Option<&git2::Repository> {
        if self.opened.is_none() {
            self.opened = self.path.as_deref().and_then(git::open);
        }
        self.opened.as_ref()
    }
}

/// Reads one host's candidates: files, and blobs from the repository.
/// Bytes read to hash a file are kept until it is parsed, so that no file
/// is read twice.
pub struct Reader<'a> {
    cache: &'a ParseCache,
    repo: &'a mut Repo,
    /// `build.max_snapshot_bytes`, for blobs (files are measured when found).
    max_bytes: u64,
    read: HashMap<String, Vec<u8>>,
    /// Contents parsed ahead of their host's turn, by key (`assemble::ahead`).
    parsed: HashMap<String, ParseResult>,
    memo: snapshot::Memo,
}

impl<'a> Reader<'a> {
    pub fn new(cache: &'a ParseCache, repo: &'a mut Repo, max_bytes: u64) -> Reader<'a> {
        Reader { cache, repo, max_bytes, read: HashMap::new(), parsed: HashMap::new(), memo: snapshot::Memo::default() }
    }

    /// A reader that has these contents parsed already.
    pub fn with_parsed(mut self, parsed: HashMap<String, ParseResult>) -> Self {
        self.parsed = parsed;
        self
    }

    /// What the content `key`, held by `candidate`, parses to: an error
    /// when it cannot be read (a problem of the candidate) or parsed (of
    /// every candidate that holds it).
    pub fn parse(&mut self, key: &str, candidate: &Candidate) -> Result<ParseResult, ReadError> {
        if let Some(result) = self.parsed.remove(key) {
            return Ok(result);
        }
        let bytes = self.content(key, candidate)?;
        Ok(snapshot::parse_with(&bytes, &mut self.memo))
    }

    /// The content key of a candidate. In a git repository, a file has the
    /// id git gives it as a blob, so that it and the same content in the
    /// history share one key and are parsed once: the index's, when git
    /// would take the file as unchanged; else hashed, unless its length and
    /// mtime are as cached. Outside git a file has nothing to share a key
    /// with: its path, length and mtime stand for its content, as they do for
    /// the cache, and it is not read to hash it.
    pub fn content_key(&mut self, candidate: &Candidate) -> Result<String, ReadError> {
        match &candidate.origin {
            Origin::Blob { oid, .. } | Origin::File { indexed: Some(oid), .. } => Ok(oid.to_string()),
            Origin::File { path, len, mtime_ns, .. } if self.repo.path.is_none() => Ok(stamp(path, *len, *mtime_ns)),
            Origin::File { path, len, mtime_ns, .. } => {
                if let Some(hash) = self.cache.file_hash(path, *len, *mtime_ns) {
                    return Ok(hash);
                }
                let bytes = self.bytes(candidate)?;
                let hash = blob_id(&bytes);
                self.cache.remember_file(path, FileStamp { len: *len, mtime_ns: *mtime_ns, hash: hash.clone() });
                self.read.insert(hash.clone(), bytes);
                Ok(hash)
            }
        }
    }

    /// [`content_id`] of the candidate's content key; a git blob's without
    /// making its key.
    pub fn content_id(&mut self, candidate: &Candidate) -> Result<u128, ReadError> {
        match &candidate.origin {
            Origin::Blob { oid, .. } | Origin::File { indexed: Some(oid), .. } => Ok(oid_id(oid)),
            _ => self.content_key(candidate).map(|key| content_id(&key)),
        }
    }

    /// The bytes of the content `key`, held by `candidate`.
    fn content(&mut self, key: &str, candidate: &Candidate) -> Result<Vec<u8>, ReadError> {
        match self.read.remove(key) {
            Some(bytes) => Ok(bytes),
            None => self.bytes(candidate),
        }
    }

    fn bytes(&mut self, candidate: &Candidate) -> Result<Vec<u8>, ReadError> {
        match &candidate.origin {
            Origin::File { path, .. } => std::fs::read(path).map_err(ReadError::File),
            Origin::Blob { oid, .. } => {
                let repo = self.repo.get().ok_or(ReadError::NoRepository)?;
                Ok(git::read_blob(repo, *oid, self.max_bytes)?)
            }
        }
    }
}

pub fn parse_host(host: &str, candidates: Vec<Candidate>, reader: &mut Reader) -> HostVersions {
    // Each content is parsed once, even when several candidates hold it;
    // `order` says which candidates hold which content.
    let mut results: HashMap<String, ParseResult> = HashMap::new();
    let mut order: Vec<(u64, String, String, String)> = Vec::with_capacity(candidates.len());
    let mut problems = Vec::new();
    let mut parsed_now = 0;
    for candidate in candidates {
        let key = match reader.content_key(&candidate) {
            Ok(key) => key,
            Err(cause) => {
                problems.push(Problem::new(&candidate.label, cause.to_string()));
                continue;
            }
        };
        if !results.contains_key(&key) {
            match reader.parse(&key, &candidate) {
                Ok(result) => results.insert(key.clone(), result),
                Err(cause) => {
                    problems.push(Problem::new(&candidate.label, cause.to_string()));
                    continue;
                }
            };
            parsed_now += 1;
        }
        order.push((candidate.precedence, candidate.label, candidate.kind, key));
    }

    // One version per (kind, collected_at): the highest precedence wins. The
    // same content held twice is the same version, so it is taken once.
    order.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let mut versions: Vec<Version> = Vec::new();
    let mut taken = std::collections::HashSet::new();
    for (_, label, kind, key) in order {
        let Some(result) = results.remove(&key) else { continue };
        let mut parsed = match result {
            Ok(parsed) => parsed,
            Err(cause) => {
                problems.push(Problem::new(label, cause.to_string()));
                continue;
            }
        };
        for note in &parsed.notes {
            problems.push(Problem::new(&label, note));
        }
        // `paris/pve1`: the folder `pve1` of the source `paris` (no host name has a `/`).
        let folder = host.rsplit_once('/').map_or(host, |(_, folder)| folder);
        // A file of Ansible facts is named by the inventory; the facts say the machine's own name.
        if let crate::snapshot::Facts::Ansible(facts) = parsed.facts {
            let header = crate::snapshot::Parsed { facts: crate::snapshot::Facts::Other, ..parsed };
            let at = header.collected_at;
            let facts = *facts;
            for (kind, facts) in [
                ("system", crate::snapshot::Facts::System(facts.system)),
                ("disks", crate::snapshot::Facts::Disks(facts.disks)),
            ] {
                if taken.insert((kind.to_string(), at)) {
                    let parsed = crate::snapshot::Parsed {
                        kind: kind.into(),
                        host: host.to_string(),
                        facts,
                        ..header.clone_header()
                    };
                    versions.push(Version { label: label.clone(), parsed });
                }
            }
            continue;
        }
        if parsed.host != folder {
            let cause =
                format!("snapshot says host {:?} but lies in folder {:?}; the folder wins", parsed.host, folder);
            problems.push(Problem::new(&label, cause));
        }
        if parsed.host != host {
            parsed.host = host.to_string();
        }
        if parsed.kind != kind {
            let cause = format!("snapshot says kind {:?} but its path says {:?}; the path wins", parsed.kind, kind);
            problems.push(Problem::new(&label, cause));
            parsed.kind = kind;
        }
        if taken.insert((parsed.kind.clone(), parsed.collected_at)) {
            versions.push(Version { label, parsed });
        }
    }
    versions.sort_by(|a, b| (a.parsed.collected_at, &a.parsed.kind).cmp(&(b.parsed.collected_at, &b.parsed.kind)));
    HostVersions { versions, problems, parsed_now }
}

/// One candidate as a host's build depends on it: its precedence, its
/// label and kind as hashes, and its content's id. Fixed-size: a new day
/// compares, sorts, hashes and caches the sixty inputs of every host, and
/// four strings each made most of that cost.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Input {
    pub precedence: u64,
    /// [`text_id`] of the label and of the kind: only ever compared with
    /// those of another input of the same host (or a problem's path).
    pub label: u64,
    pub kind: u64,
    /// [`content_id`] of the content key.
    pub content: u128,
}

/// A 64-bit hash of a label or a kind. Two inputs of one host that differ
/// only there would have to collide on it: not a risk worth 128 bits.
pub fn text_id(text: &str) -> u64 {
    use std::hash::Hasher;
    let mut hash = std::hash::DefaultHasher::new();
    hash.write(text.as_bytes());
    hash.finish()
}

/// A content key as 128 bits: a git blob id's first sixteen bytes, so that
/// a blob and a file of the same bytes (hashed as git does) agree; any
/// other key (a file outside git) hashed.
pub fn content_id(key: &str) -> u128 {
    let mut id = [0u8; 16];
    if key.len() == 40 && hex::decode_to_slice(&key.as_bytes()[..32], &mut id).is_ok() {
        return u128::from_be_bytes(id);
    }
    use std::hash::Hasher;
    let half = |seed: u8| {
        let mut hash = std::hash::DefaultHasher::new();
        hash.write_u8(seed);
        hash.write(key.as_bytes());
        hash.finish() as u128
    };
    half(1) << 64 | half(2)
}

fn oid_id(oid: &git2::Oid) -> u128 {
    let bytes: [u8; 16] = oid.as_bytes()[..16].try_into().expect("a git id has 20 bytes");
    u128::from_be_bytes(bytes)
}

/// The inputs of a host's candidates, in their order: a file not seen
/// before is read to hash it. `None` when one cannot be read (the full path
/// reports it).
pub fn inputs(candidates: &[Candidate], reader: &mut Reader) -> Option<Vec<Input>> {
    candidates
        .iter()
        .map(|c| {
            Some(Input {
                precedence: c.precedence,
                label: text_id(&c.label),
                kind: text_id(&c.kind),
                content: reader.content_id(c).ok()?,
            })
        })
        .collect()
}

/// Inputs as the cache keeps them: one base64 string of their fields, not an
/// array of arrays (one string to read and write for a host's sixty, or for
/// the seven hundred of a year of daily `system` and `disks`).
pub mod packed {
    use super::Input;
    use serde::{Deserializer, Serializer};

    pub const BYTES: usize = 40;

    fn bytes(input: &Input) -> [u8; BYTES] {
        let mut out = [0; BYTES];
        out[..8].copy_from_slice(&input.precedence.to_be_bytes());
        out[8..16].copy_from_slice(&input.label.to_be_bytes());
        out[16..24].copy_from_slice(&input.kind.to_be_bytes());
        out[24..].copy_from_slice(&input.content.to_be_bytes());
        out
    }

    /// The inputs as records of `BYTES` bytes, one after the other.
    pub fn raw(inputs: &[Input]) -> Vec<u8> {
        inputs.iter().flat_map(bytes).collect()
    }

    /// What [`raw`] made.
    pub fn from_raw(raw: &[u8]) -> Result<Vec<Input>, String> {
        if !raw.len().is_multiple_of(BYTES) {
            return Err("inputs: not a whole number of records".to_string());
        }
        let u64_at = |b: &[u8], at: usize| u64::from_be_bytes(b[at..at + 8].try_into().expect("8 bytes"));
        Ok(raw
            .chunks_exact(BYTES)
            .map(|b| Input {
                precedence: u64_at(b, 0),
                label: u64_at(b, 8),
                kind: u64_at(b, 16),
                content: u128::from_be_bytes(b[24..].try_into().expect("16 bytes")),
            })
            .collect())
    }

    pub fn serialize<S: Serializer>(inputs: &[Input], serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&crate::store::base64::encode(&raw(inputs)))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<Input>, D::Error> {
        crate::store::base64::decoded(deserializer, "inputs", from_raw)
    }
}

/// The key of a file outside git: its path, length and mtime.
fn stamp(path: &Path, len: u64, mtime_ns: i128) -> String {
    use sha2::{Digest, Sha256};
    let mut hash = Sha256::new();
    hash.update(path.as_os_str().as_encoded_bytes());
    hash.update(len.to_le_bytes());
    hash.update(mtime_ns.to_le_bytes());
    format!("file:{:x}", hash.finalize())
}

/// The id git gives these bytes as a blob (`git hash-object`), computed with
/// a SHA-1 that uses the CPU's SHA instructions: libgit2's collision-detecting
/// SHA-1 took a tenth of a cold build.
fn blob_id(bytes: &[u8]) -> String {
    use sha1::{Digest, Sha1};
    let mut hash = Sha1::new();
    hash.update(format!("blob {}\0", bytes.len()));
    hash.update(bytes);
    format!("{:x}", hash.finalize())
}

#[cfg(test)]
mod tests {
    #[test]
    fn blob_ids_are_gits() {
        let bytes = b"hello\n";
        let git = git2::Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap().to_string();
        assert_eq!(super::blob_id(bytes), git);
        assert_eq!(git, "ce013625030ba8dba906f756967f9e9ca394464a");
    }

    #[test]
    fn a_blob_and_a_file_of_the_same_bytes_have_one_content_id() {
        let bytes = b"hello\n";
        let oid = git2::Oid::hash_object(git2::ObjectType::Blob, bytes).unwrap();
        assert_eq!(super::oid_id(&oid), super::content_id(&super::blob_id(bytes)));
        let stamp = super::stamp(std::path::Path::new("a/disks.json"), 6, 1);
        assert_ne!(
            super::content_id(&stamp),
            super::content_id(&super::stamp(std::path::Path::new("a/disks.json"), 6, 2))
        );
    }

    #[test]
    fn inputs_come_back_from_the_cache_as_they_went() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Kept(#[serde(with = "super::packed")] Vec<super::Input>);
        let input = |precedence, label: &str, content: &str| super::Input {
            precedence,
            label: super::text_id(label),
            kind: super::text_id("disks"),
            content: super::content_id(content),
        };
        let kept = Kept(vec![
            input(u64::MAX, "snapshots/a/disks.json", "ce013625030ba8dba906f756967f9e9ca394464a"),
            input(7, "git:0123456789:snapshots/a/disks.json", "file:00ff"),
        ]);
        let json = serde_json::to_string(&kept).unwrap();
        assert_eq!(serde_json::from_str::<Kept>(&json).unwrap(), kept);
        assert!(serde_json::from_str::<Kept>(&json.replacen('"', "\"!", 1)).is_err(), "not base64: {json}");
        assert!(serde_json::from_str::<Kept>("\"00\"").is_err(), "not a whole record");
    }
}
