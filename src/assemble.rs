//! Stages 3 and 4 for one host, costing what is new. A host whose inputs
//! (its candidates' contents, kinds, precedences and labels) are what they
//! were is taken from the cache as it was assembled. A host that only got
//! newer versions — the way agents write, one collection after another —
//! has only those read, parsed and added to the assembly kept in the cache.
//! Anything else (a rewritten history, an older version turning up, an
//! edited file) reads and assembles the host from all of its versions.
//! Every path gives the same host: `tests/incremental.rs` holds them to it.

use crate::cache::ParseCache;
use crate::fleet::history::{self, Source};
use crate::fleet::{Assembly, HostPart, HostVersion, MonthRead, Sighting};
use crate::parse::{self, packed, Input, ParseResult};
use crate::problem::Problem;
use crate::snapshot::Parsed;
use crate::source::git::{Unlisted, Walk};
use crate::source::{Candidate, Discovery, Origin};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// One host assembled from its versions, and what reading them reported.
#[derive(Deserialize)]
pub struct Assembled {
    /// Every candidate it was built from, but those kept aside.
    #[serde(with = "crate::parse::packed")]
    pub inputs: Vec<Input>,
    /// The inputs of walked commits, kept aside as the file is written
    /// whole: the file holds the others, the ones a new day compares.
    #[serde(default)]
    inputs_aside: Option<InputsAside>,
    /// How many versions it was built from.
    pub versions: usize,
    pub assembly: Assembly,
    pub problems: Vec<Problem>,
    /// Where the history's walk stood: the versions of every commit before
    /// it are among the inputs.
    pub walked: Option<Walk>,
    /// Its cache file: its length, how many builds appended to it, and the
    /// length of what was written whole.
    #[serde(skip)]
    file: Option<(u64, usize, u64)>,
    #[serde(skip)]
    inputs_file: PathBuf,
}

/// How many inputs a host keeps aside (`assembled/<host>/inputs.bin`), and
/// their records' CRC.
#[derive(Clone, Copy, Serialize, Deserialize)]
pub struct InputsAside {
    count: u64,
    crc: u32,
}

impl InputsAside {
    /// The length of their records.
    fn bytes(&self) -> Option<u64> {
        self.count.checked_mul(packed::BYTES as u64)
    }
}

impl Assembled {
    /// The host as its cache file holds it: written whole, then what each
    /// build since added.
    fn kept(cache: &ParseCache, host: &str) -> Option<Assembled> {
        let kept = cache.assembled::<Assembled, Added>(host)?;
        let mut assembled = kept.first;
        let (dir, file, damaged) = (cache.aside_dir(host), cache.assembled_path(host), cache.damage());
        let aside = Arc::new(Aside { dir, file, damaged, read: Mutex::default() });
        let disk = |id: &str| Arc::new(DiskAside(aside.clone(), id.to_string())) as Arc<dyn Source<Sighting>>;
        assembled.assembly.keep_aside_in(Arc::new(TimelineAside(aside.clone())), disk);
        assembled.file = Some((kept.whole, kept.added.len(), kept.first_len));
        assembled.inputs_file = cache.inputs_aside_path(host);
        if let Some(aside) = assembled.inputs_aside {
            // Checked here, not when read: a host whose inputs aside are not
            // there whole is assembled again before anything is built from it.
            let len = std::fs::metadata(&assembled.inputs_file).map_or(0, |m| m.len());
            if aside.bytes().is_none_or(|bytes| len < bytes) {
                tracing::warn!("{}: shorter than what was kept aside", assembled.inputs_file.display());
                return None;
            }
        }
        // An input goes with the last build that said it went, unless a
        // build after that one added it again: each kept input is looked up
        // once, not compared with every build's list of the gone.
        let mut gone: HashMap<Input, usize, foldhash::fast::FixedState> = HashMap::default();
        for (build, added) in kept.added.iter().enumerate() {
            gone.extend(added.gone.iter().map(|&i| (i, build + 1)));
        }
        let stays = |i: &Input, added_by: usize| gone.get(i).is_none_or(|&went| went <= added_by);
        assembled.inputs.retain(|i| stays(i, 0));
        for (build, added) in kept.added.into_iter().enumerate() {
            assembled.inputs.extend(added.inputs.iter().filter(|i| stays(i, build + 1)));
            assembled.versions += added.versions.len();
            for parsed in added.versions {
                assembled.assembly.add(host, parsed);
            }
            assembled.problems.extend(added.problems);
            assembled.walked = added.walked;
        }
        Some(assembled)
    }

    /// The inputs kept aside, read back.
    fn inputs_aside(&self) -> Result<Vec<Input>, String> {
        let Some(aside) = self.inputs_aside else { return Ok(Vec::new()) };
        tracing::debug!("{}: reading the inputs kept aside", self.inputs_file.display());
        let bytes = aside.bytes().ok_or_else(|| format!("{}: too many inputs", self.inputs_file.display()))?;
        let raw = crate::cache::read_inputs_aside(&self.inputs_file, bytes)?;
        if crc32fast::hash(&raw) != aside.crc {
            return Err(format!("{}: not the inputs kept aside", self.inputs_file.display()));
        }
        packed::from_raw(&raw)
    }
}

/// What one build added to a host's assembly, appended to its cache file:
/// a day of a long history costs its day, not the history written again.
#[derive(Deserialize)]
struct Added {
    #[serde(with = "crate::parse::packed")]
    inputs: Vec<Input>,
    /// Inputs no longer there (a working-tree file, now committed).
    #[serde(with = "crate::parse::packed")]
    gone: Vec<Input>,
    versions: Vec<Parsed>,
    problems: Vec<Problem>,
    walked: Option<Walk>,
}

/// [`Added`], borrowed for writing.
#[derive(Serialize)]
struct AddedRef<'a> {
    #[serde(serialize_with = "crate::parse::packed::serialize")]
    inputs: &'a [Input],
    #[serde(serialize_with = "crate::parse::packed::serialize")]
    gone: &'a [Input],
    versions: &'a [Parsed],
    problems: &'a [Problem],
    walked: Option<&'a Walk>,
}

/// Appends at most this many times to a host's cache file before writing
/// it whole again: each append is read back at every build.
const APPENDS: usize = 31;

/// Appends while what builds appended is at most this share of what was
/// written whole: reading a day back from its segment costs about what
/// reading it from the whole does, and writing the file whole costs a few
/// of those reads.
const APPENDED_SHARE: u64 = 4;

/// [`Assembled`], borrowed for writing.
#[derive(Serialize)]
pub struct AssembledRef<'a> {
    #[serde(serialize_with = "crate::parse::packed::serialize")]
    pub inputs: &'a [Input],
    /// What is kept aside already, and not in `inputs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_aside: Option<InputsAside>,
    pub versions: usize,
    pub assembly: &'a Assembly,
    pub problems: &'a [Problem],
    pub walked: Option<&'a Walk>,
}

/// One host, built.
pub struct Built {
    pub part: Option<HostPart>,
    pub problems: Vec<Problem>,
    /// Contents parsed by this build.
    pub parsed: usize,
    /// Versions the host was built from.
    pub versions: usize,
}

/// What was done for one host before its turn, while the git history was
/// still being walked: its kept assembly loaded, and the working-tree
/// contents that assembly does not hold parsed (on a new day, the day's
/// snapshots). Its turn then starts from there.
pub struct Ahead {
    kept: Option<Assembled>,
    parsed: HashMap<String, ParseResult>,
}

impl Ahead {
    /// How many contents were parsed ahead.
    pub fn parsed(&self) -> usize {
        self.parsed.len()
    }
}

/// The snapshot bytes a build parses ahead at most: what is parsed ahead is
/// held until its host's turn, and a fleet of ten thousand hosts, built from
/// scratch while its long history is walked, must not hold them all.
pub const AHEAD_BYTES: u64 = 64 << 20;

/// [`Ahead`] for the hosts of the working tree, one after the other, until
/// `stop` turns true (only the time the history's walk leaves spare is
/// used) or `budget` bytes of snapshots were parsed.
pub fn ahead(
    tree: &Discovery,
    cache: &ParseCache,
    max_bytes: u64,
    stop: &AtomicBool,
    mut budget: u64,
) -> HashMap<String, Ahead> {
    let mut ahead = HashMap::new();
    let mut repo = parse::Repo::new(tree.repository.as_deref());
    for (host, candidates) in &tree.hosts {
        if stop.load(Ordering::Relaxed) || budget == 0 {
            break;
        }
        let kept = Assembled::kept(cache, host);
        let mut reader = parse::Reader::new(cache, &mut repo, max_bytes);
        let mut parsed = HashMap::new();
        for candidate in candidates {
            let Ok(key) = reader.content_key(candidate) else { continue };
            let id = parse::content_id(&key);
            let known = kept.as_ref().is_some_and(|k| k.inputs.iter().any(|i| i.content == id));
            if known || parsed.contains_key(&key) {
                continue;
            }
            if let Ok(result) = reader.parse(&key, candidate) {
                parsed.insert(key, result);
            }
            if let Origin::File { len, .. } = candidate.origin {
                budget = budget.saturating_sub(len);
            }
        }
        ahead.insert(host.clone(), Ahead { kept, parsed });
    }
    tracing::debug!("{} of {} hosts of the working tree done ahead", ahead.len(), tree.hosts.len());
    ahead
}

/// Where the history's walk stands, and what it left out of the candidates.
#[derive(Clone, Copy, Default)]
pub struct History<'a> {
    pub walked: Option<&'a Walk>,
    pub unlisted: Option<&'a Unlisted>,
}

/// One host built: `repo` is where its blobs are read, shared with the
/// hosts built before it on the same thread.
pub fn host(
    host: &str,
    mut candidates: Vec<Candidate>,
    cache: &ParseCache,
    repo: &mut parse::Repo,
    max_bytes: u64,
    ahead: Option<Ahead>,
    history: History,
) -> Built {
    let (kept, parsed) = match ahead {
        Some(ahead) => (ahead.kept, ahead.parsed),
        None => (Assembled::kept(cache, host), HashMap::new()),
    };
    let mut reader = parse::Reader::new(cache, repo, max_bytes).with_parsed(parsed);
    let mut problems = Vec::new();
    // The candidates the walk left out: a kept assembly that holds them
    // stands for them with its inputs; for any other they are read.
    // (Those of its inputs aside are held too, and stay aside.)
    let mut held = Vec::new();
    let mut holds = false;
    if let Some(unlisted) = history.unlisted {
        match kept.as_ref().filter(|k| k.walked.as_ref().is_some_and(|w| unlisted.held(host, w))) {
            Some(kept) => {
                holds = true;
                held.extend(kept.inputs.iter().filter(|i| i.precedence < unlisted.walk.commits).copied())
            }
            None => {
                read_unlisted(unlisted, host, &mut candidates, &mut problems);
            }
        }
    }
    let complete = problems.is_empty();
    let listed = parse::inputs(&candidates, &mut reader);
    let inputs = listed.as_ref().map(|listed| [held.as_slice(), listed].concat());
    if let (Some(inputs), Some(listed), Some(kept)) = (&inputs, &listed, kept) {
        let held_below = history.unlisted.filter(|_| holds).map_or(0, |u| u.walk.commits);
        let new = Listed { candidates: &candidates, inputs: listed, all: inputs, held_below };
        if let Some(built) = extend(host, new, kept, cache, &mut reader, history.walked) {
            return built;
        }
    }
    // A rebuild reads every version: the ones the kept inputs stood for too.
    let inputs = match (holds, history.unlisted) {
        (true, Some(unlisted)) => read_unlisted(unlisted, host, &mut candidates, &mut problems)
            .then(|| parse::inputs(&candidates, &mut reader))
            .flatten(),
        _ => inputs.filter(|_| complete),
    };
    let mut built = rebuild(host, candidates, inputs, cache, &mut reader, history.walked);
    built.problems.extend(problems);
    built
}

/// Puts the candidates the walk left out for `host` before the listed ones;
/// false (and the problem said) when they cannot be read.
fn read_unlisted(
    unlisted: &Unlisted,
    host: &str,
    candidates: &mut Vec<Candidate>,
    problems: &mut Vec<Problem>,
) -> bool {
    match unlisted.of(host) {
        Some(mut all) => {
            all.append(candidates);
            *candidates = all;
            true
        }
        None => {
            problems.push(unlisted.unreadable());
            false
        }
    }
}

/// A host's candidates as the walk listed them, and the inputs it is built from.
struct Listed<'a> {
    candidates: &'a [Candidate],
    /// The inputs of `candidates`, in their order.
    inputs: &'a [Input],
    /// Those and the ones the kept assembly holds for what was not listed.
    all: &'a [Input],
    /// The kept inputs of a precedence below this are the held ones, first in `all`.
    held_below: u64,
}

/// Adds the new candidates to the kept assembly, when they only add newer
/// versions; the kept assembly as it is when nothing was added or went.
fn extend(
    host: &str,
    listed: Listed,
    kept: Assembled,
    cache: &ParseCache,
    reader: &mut parse::Reader,
    walked: Option<&Walk>,
) -> Option<Built> {
    // The held inputs are kept ones: only the others can be new or gone. On
    // a new day of a long history that is a host's working tree and its
    // day's commits against the kept working tree, not seven hundred inputs
    // hashed on each side. A listed input below the bound, which held ones
    // would stand beside, has every input compared.
    let bound = match listed.inputs.iter().all(|i| i.precedence >= listed.held_below) {
        true => listed.held_below,
        false => 0,
    };
    // Above the bound the inputs kept aside are held on both sides; from
    // the first they are compared too: read, and put with the listed ones
    // when those hold the held ones only (else they were listed again).
    let aside = match bound {
        0 => kept.inputs_aside().inspect_err(|e| tracing::warn!("{e}")).ok()?,
        _ => Vec::new(),
    };
    let all: Cow<[Input]> = match aside.is_empty() || listed.held_below == 0 {
        true => Cow::Borrowed(listed.all),
        false => Cow::Owned([aside.as_slice(), listed.all].concat()),
    };
    let inputs_aside = kept.inputs_aside.filter(|_| bound > 0);
    type Set = std::collections::HashSet<Input, foldhash::fast::RandomState>;
    let above = |i: &&Input| i.precedence >= bound;
    let now: Set = all.iter().filter(above).copied().collect();
    let before: Set = kept.inputs.iter().chain(&aside).filter(above).copied().collect();
    // An input may go only if its content is still there (a working-tree
    // file now committed) and no problem names it.
    let gone: Vec<Input> =
        kept.inputs.iter().chain(&aside).filter(above).filter(|i| !now.contains(i)).copied().collect();
    let added: Vec<Input> = all.iter().filter(above).filter(|i| !before.contains(i)).copied().collect();
    if gone.is_empty() && added.is_empty() {
        let versions = kept.versions;
        return Some(Built { part: kept.assembly.into_part(), problems: kept.problems, parsed: 0, versions });
    }
    let mut held_aside: Option<Vec<Input>> = None;
    for gone in &gone {
        let mut there = all.iter().any(|i| i.content == gone.content);
        if !there && inputs_aside.is_some() {
            let held = held_aside.get_or_insert_with(|| kept.inputs_aside().unwrap_or_default());
            there = held.iter().any(|i| i.content == gone.content);
        }
        if !there || kept.problems.iter().any(|p| parse::text_id(&p.path) == gone.label) {
            return None;
        }
    }
    let new: Vec<Candidate> = (listed.candidates.iter().zip(listed.inputs))
        .filter(|(_, i)| i.precedence >= bound && !before.contains(i))
        .map(|(c, _)| c.clone())
        .collect();
    let read = parse::parse_host(host, new, reader);
    // The new versions come in time order; each must come after all the
    // kept ones (so it is none of them: one of the same kind and time would
    // be a competing version). Else the whole history decides.
    if !read.versions.iter().all(|v| kept.assembly.comes_after(v.parsed.collected_at, &v.parsed.kind)) {
        return None;
    }
    let versions: Vec<Parsed> = read.versions.into_iter().map(|v| v.parsed).collect();
    // What goes is taken out of the inputs the file holds: never of those aside.
    let gone_aside = aside.iter().any(|i| gone.contains(i));
    let append = (kept.file).filter(|&(whole, appends, first)| {
        !gone_aside && appends < APPENDS && (whole - first) * APPENDED_SHARE <= first
    });
    if let Some((whole, ..)) = append {
        let added = AddedRef { inputs: &added, gone: &gone, versions: &versions, problems: &read.problems, walked };
        if let Err(e) = cache.append_assembled(host, whole, &added) {
            tracing::warn!("cannot write the assembled cache for {host}: {e}");
        }
    }
    let mut assembly = kept.assembly;
    let parsed = read.parsed_now;
    let total = kept.versions + versions.len();
    for version in versions {
        assembly.add(host, version);
    }
    let mut problems = kept.problems;
    problems.extend(read.problems);
    if append.is_none() {
        let (inputs, versions) = (&all, total);
        let kept = AssembledRef { inputs, inputs_aside, versions, assembly: &assembly, problems: &problems, walked };
        save(cache, host, &kept);
    }
    Some(Built { part: assembly.into_part(), problems, parsed, versions: total })
}

/// Reads, parses and assembles every version of the host.
fn rebuild(
    host: &str,
    candidates: Vec<Candidate>,
    inputs: Option<Vec<Input>>,
    cache: &ParseCache,
    reader: &mut parse::Reader,
    walked: Option<&Walk>,
) -> Built {
    let read = parse::parse_host(host, candidates, reader);
    let versions = read.versions.len();
    let mut assembly = Assembly::default();
    for v in read.versions {
        assembly.add(host, v.parsed);
    }
    if let Some(inputs) = inputs {
        let (inputs_aside, problems) = (None, &read.problems);
        let kept = AssembledRef { inputs: &inputs, inputs_aside, versions, assembly: &assembly, problems, walked };
        save(cache, host, &kept);
    }
    Built { part: assembly.into_part(), problems: read.problems, parsed: read.parsed_now, versions }
}

/// Writes the host's assembly whole, its months before the one before the
/// newest and its inputs of walked commits kept aside (written first: the
/// file names only what is there).
fn save(cache: &ParseCache, host: &str, kept: &AssembledRef) {
    // Not aside: a walked input whose content another input has (the
    // working tree's file, committed), which a new day's check that what
    // goes is still there would look for.
    let walked = kept.walked.map_or(0, |w| w.commits);
    let staying: std::collections::HashSet<u128> =
        kept.inputs.iter().filter(|i| i.precedence >= walked).map(|i| i.content).collect();
    let (going, inputs): (Vec<Input>, Vec<Input>) =
        kept.inputs.iter().partition(|i| i.precedence < walked && !staying.contains(&i.content));
    let there = kept.inputs_aside.unwrap_or(InputsAside { count: 0, crc: 0 });
    let inputs_aside = match going.is_empty() {
        true => kept.inputs_aside,
        false => {
            let raw = packed::raw(&going);
            let at = there.bytes().unwrap_or(u64::MAX);
            if let Err(e) = cache.append_inputs_aside(host, at, &raw) {
                // The inputs aside are the file's only record of them.
                tracing::warn!("cannot keep inputs aside in the cache for {host}: {e}");
                let _ = std::fs::remove_file(cache.assembled_path(host));
                return;
            }
            let mut crc = crc32fast::Hasher::new_with_initial(there.crc);
            crc.update(&raw);
            Some(InputsAside { count: there.count + going.len() as u64, crc: crc.finalize() })
        }
    };
    let kept = &AssembledRef { inputs: &inputs, inputs_aside, ..*kept };
    let from = kept.assembly.newest().and_then(history::kept_from);
    let aside = from.filter(|&from| {
        let going = kept.assembly.going_aside(from);
        let written = going.iter().try_for_each(|(month, entries)| cache.save_aside(host, month, entries));
        written.inspect_err(|e| tracing::warn!("cannot keep months aside in the cache for {host}: {e}")).is_ok()
    });
    if let Err(e) = history::writing_aside(aside, || cache.save_assembled(host, kept)) {
        tracing::warn!("cannot write the assembled cache for {host}: {e}");
    }
}

/// A host's months kept aside, each file read once for all its histories.
struct Aside {
    dir: PathBuf,
    /// The host's cache file: removed when a month cannot be read, so that
    /// the build run again assembles the host from its snapshots.
    file: PathBuf,
    damaged: Arc<AtomicBool>,
    read: Mutex<HashMap<String, MonthRead>>,
}

impl Aside {
    fn take<T: serde::de::DeserializeOwned>(
        &self,
        month: &str,
        pick: impl FnOnce(&MonthRead) -> Option<&serde_json::value::RawValue>,
    ) -> Result<Vec<T>, String> {
        let mut read = self.read.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        let taken = match read.entry(month.to_string()) {
            Entry::Occupied(read) => Ok(read.into_mut()),
            Entry::Vacant(place) => {
                crate::cache::read_aside(&self.dir.join(format!("{month}.json"))).map(|m| place.insert(m))
            }
        }
        .and_then(|m| {
            let path = || format!("{}/{month}.json", self.dir.display());
            let entries = pick(m).ok_or_else(|| format!("{}: not a month of this history", path()))?;
            MonthRead::decode(entries).map_err(|e| format!("{}: {e}", path()))
        });
        taken
    }

    fn failed(&self) {
        let _ = std::fs::remove_file(&self.file);
        self.damaged.store(true, Ordering::Relaxed);
    }
}

struct TimelineAside(Arc<Aside>);

impl Source<HostVersion> for TimelineAside {
    fn month(&self, name: &str) -> Result<Vec<HostVersion>, String> {
        self.0.take(name, |m| Some(&m.timeline))
    }

    fn failed(&self) {
        self.0.failed()
    }
}

/// A disk's sightings, by its id.
struct DiskAside(Arc<Aside>, String);

impl Source<Sighting> for DiskAside {
    fn month(&self, name: &str) -> Result<Vec<Sighting>, String> {
        let id = &self.1;
        self.0.take(name, |m| m.disks.iter().find(|d| d.id == *id).map(|d| &*d.sightings))
    }

    fn failed(&self) {
        self.0.failed()
    }
}
