//! A list of what a host or a disk went through, oldest first, with its
//! calendar months (UTC) counted as entries are added: which months a
//! history is published in, how many entries each holds and a hash of them,
//! known without reading a year of entries again at every build.
//!
//! The cache keeps a long history's older months aside ([`Source`]): a
//! build reads them only when it asks for one of their entries, and knows
//! without them what a page shows of them (a summary's entries, the points
//! of its charts).

use crate::store::Shared;
use crate::time::Instant;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::{BuildHasher, Hash};
use std::sync::{Arc, OnceLock};

/// An entry of a history: when it was, and whether it says something the
/// entry before it in its series did not (what a page's summary shows).
pub trait Dated: Hash + Clone {
    fn at(&self) -> Instant;
    /// Whether the two are of one series: a host's `disks` and `system`
    /// versions interleave, and each is compared with its own kind.
    fn same_series(&self, other: &Self) -> bool;
    /// Whether it says what `before`, the entry before it in its series, said.
    fn same_as(&self, before: &Self) -> bool;
    /// Its points on its history's charts: each a line's name and a value.
    fn points(&self, each: impl FnMut(&'static str, i64));
}

impl Dated for super::HostVersion {
    fn at(&self) -> Instant {
        self.at
    }

    fn same_series(&self, other: &Self) -> bool {
        self.kind == other.kind
    }

    fn same_as(&self, b: &Self) -> bool {
        (&self.os, &self.kernel, self.disks, self.failures) == (&b.os, &b.kernel, b.disks, b.failures)
    }

    /// Each file system's use, in percent, in `disks` versions.
    fn points(&self, mut each: impl FnMut(&'static str, i64)) {
        if self.kind == "disks" {
            self.use_percent.iter().for_each(|&(mount, percent)| each(mount.as_static(), percent as i64));
        }
    }
}

impl Dated for super::Sighting {
    fn at(&self) -> Instant {
        self.at
    }

    fn same_series(&self, _: &Self) -> bool {
        true
    }

    fn same_as(&self, b: &Self) -> bool {
        let figures = |s: &Self| s.figures.as_ref().map(|f| (f.passed, f.reallocated, f.pending, f.media_errors));
        (self.host, self.device, figures(self)) == (b.host, b.device, figures(b))
    }

    /// Each SMART figure of [`super::SmartFigures::CHARTED`] it reports.
    fn points(&self, mut each: impl FnMut(&'static str, i64)) {
        if let Some(f) = &self.figures {
            for (name, figure) in super::SmartFigures::CHARTED {
                if let Some(v) = figure(f) {
                    each(name, v);
                }
            }
        }
    }
}

/// Where the cache keeps the months a history holds aside.
pub trait Source<T>: Send + Sync {
    /// The entries of the month named `name`, as they were put aside.
    fn month(&self, name: &str) -> Result<Vec<T>, String>;
    /// Told when a month could not be read or was not what was put aside.
    fn failed(&self);
}

/// Each chart line of a history: its name and its points (time, value),
/// oldest first.
pub type Lines = Vec<(&'static str, Vec<(i64, i64)>)>;

/// The newest entries a summary keeps besides the changes: known of the
/// months aside without reading them.
pub const NEWEST: usize = 10;

/// A history's entries and months. Only [`History::push`] and
/// [`History::edit`] change it, so that its months always say what its
/// entries are.
pub struct History<T> {
    /// The entries of the months from `aside.months` on.
    entries: Vec<T>,
    months: Vec<Month>,
    /// The places of the entries that say what the entry before them in
    /// their series did not (the first of each series too), oldest first.
    changes: Vec<usize>,
    /// The place of each series' last entry.
    series_last: Vec<usize>,
    aside: Aside<T>,
}

/// The first months of a history as the cache keeps them aside: what is
/// known of them without reading them, and, once read, their entries.
struct Aside<T> {
    months: usize,
    len: usize,
    /// Copies of the entries a summary or the next entry needs (the changes,
    /// each series' last, the newest few), by place, in order.
    known: Vec<(usize, T)>,
    /// Their chart lines, each run of one value as its two ends.
    lines: Lines,
    from: Option<Arc<dyn Source<T>>>,
    read: OnceLock<Vec<T>>,
}

impl<T> Default for Aside<T> {
    fn default() -> Self {
        Aside { months: 0, len: 0, known: Vec::new(), lines: Vec::new(), from: None, read: OnceLock::new() }
    }
}

impl<T> std::fmt::Debug for History<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        let entries = self.aside.len + self.entries.len();
        f.debug_struct("History").field("entries", &entries).field("months", &self.months).finish()
    }
}

/// One calendar month of a history.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Month {
    /// `2026-11`; `unknown` for an entry at an instant with no calendar date.
    pub name: String,
    pub entries: usize,
    /// Its first and last entry.
    pub from: Instant,
    pub until: Instant,
    /// Where the next month begins.
    next: Instant,
    /// Its entries, hashed one after the other.
    pub hash: u64,
}

/// Entries hashed for the output's memo: foldhash, a fraction of SipHash's
/// cost for the many small writes of an entry. Fixed seed: the memo outlives the run.
const ENTRY_HASH: foldhash::quality::FixedState = foldhash::quality::FixedState::with_seed(0x7061_7263);

impl Month {
    /// A month's hash with `entry` added after what `before` hashed (none
    /// for the first entry).
    fn hash_with<T: Hash>(before: Option<u64>, entry: &T) -> u64 {
        let entry = ENTRY_HASH.hash_one(entry);
        before.map_or(entry, |before| ENTRY_HASH.hash_one((before, entry)))
    }

    /// One hash for all of `months`, from theirs.
    pub fn hash_all(months: &[Month]) -> u64 {
        months.iter().fold(0, |all, m| ENTRY_HASH.hash_one((all, m.hash)))
    }
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History {
            entries: Vec::new(),
            months: Vec::new(),
            changes: Vec::new(),
            series_last: Vec::new(),
            aside: Aside::default(),
        }
    }
}

/// Reading a history. A consumer asks for what it needs (the newest month,
/// the entries since an instant, the newest few, the chart lines) rather
/// than for every entry: the months aside are read only for their entries.
impl<T: Dated> History<T> {
    pub fn len(&self) -> usize {
        self.aside.len + self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn first(&self) -> Option<&T> {
        self.get(0)
    }

    pub fn last(&self) -> Option<&T> {
        self.len().checked_sub(1).and_then(|i| self.get(i))
    }

    /// The entry at `place`: of the months aside, a known copy, or read with them.
    fn get(&self, place: usize) -> Option<&T> {
        let Some(inline) = place.checked_sub(self.aside.len) else {
            if let Some(entry) = self.aside.read.get().and_then(|read| read.get(place)) {
                return Some(entry);
            }
            if let Ok(i) = self.aside.known.binary_search_by_key(&place, |(at, _)| *at) {
                return Some(&self.aside.known[i].1);
            }
            return self.read_aside().get(place);
        };
        self.entries.get(inline)
    }

    /// The months aside, read once (none when they cannot be: said, and the
    /// history is its other entries).
    fn read_aside(&self) -> &[T] {
        self.aside.read.get_or_init(|| {
            let from = self.aside.from.as_ref().ok_or_else(|| "no source for the months aside".to_string());
            let read = from.and_then(|from| {
                let mut read = Vec::with_capacity(self.aside.len);
                for month in &self.months[..self.aside.months] {
                    let entries = from.month(&month.name)?;
                    let hash = entries.iter().fold(None, |h, e| Some(Month::hash_with(h, e)));
                    if (entries.len(), hash) != (month.entries, Some(month.hash)) {
                        return Err(format!("{}: not the entries put aside", month.name));
                    }
                    read.extend(entries);
                }
                Ok(read)
            });
            read.unwrap_or_else(|e| {
                tracing::error!("a history's months kept aside cannot be read: {e}");
                self.aside.from.iter().for_each(|from| from.failed());
                Vec::new()
            })
        })
    }

    /// Every entry, oldest first (newest first reversed).
    pub fn iter(&self) -> Iter<'_, T> {
        Iter { history: self, front: 0, back: self.len() }
    }

    /// The entries of month `i` of [`History::months`].
    pub fn month(&self, i: usize) -> &[T] {
        let start: usize = self.months[..i].iter().map(|m| m.entries).sum();
        let range = start..start + self.months[i].entries;
        let entries = match i < self.aside.months {
            true => self.read_aside().get(range),
            false => self.entries.get(range.start - self.aside.len..range.end - self.aside.len),
        };
        entries.unwrap_or_default()
    }

    /// The newest month's entries; none for an empty history.
    pub fn newest_month(&self) -> &[T] {
        self.months.len().checked_sub(1).map_or(&[], |i| self.month(i))
    }

    /// How many entries are before `at`: a month aside is read only when
    /// `at` falls within it.
    fn place(&self, at: Instant) -> usize {
        let mut before = 0;
        for (i, month) in self.months.iter().enumerate() {
            if month.until < at {
                before += month.entries;
            } else {
                if month.from < at {
                    before += self.month(i).partition_point(|e| e.at() < at);
                }
                break;
            }
        }
        before
    }

    /// The entries at or after `at`, oldest first.
    pub fn since(&self, at: Instant) -> Iter<'_, T> {
        Iter { history: self, front: self.place(at), back: self.len() }
    }

    /// The entries before `at`, newest first.
    pub fn before(&self, at: Instant) -> std::iter::Rev<Iter<'_, T>> {
        Iter { history: self, front: 0, back: self.place(at) }.rev()
    }

    /// The entries that say what the entry before them in their series did
    /// not (the first of each series too), with their places, oldest
    /// first: known without reading the months aside.
    pub fn changes(&self) -> impl DoubleEndedIterator<Item = (usize, &T)> {
        self.changes.iter().filter_map(|&i| Some((i, self.get(i)?)))
    }

    /// The entries at `places`, oldest first.
    pub fn at_places(&self, places: std::ops::Range<usize>) -> Iter<'_, T> {
        Iter { history: self, front: places.start, back: places.end.min(self.len()) }
    }

    /// The entries that say what the entry before them in their series did
    /// not, and the `newest` last ones: newest first.
    pub fn summary(&self, newest: usize) -> Vec<&T> {
        let tail = self.len().saturating_sub(newest);
        let changes = self.changes.iter().rev().filter(|&&i| i < tail);
        (tail..self.len()).rev().chain(changes.copied()).filter_map(|i| self.get(i)).collect()
    }

    /// Each chart line's points, oldest first: the months aside as their
    /// lines were kept, then the other entries'.
    pub fn lines(&self) -> Lines {
        let mut lines = self.aside.lines.clone();
        self.entries.iter().for_each(|e| add_points(&mut lines, e));
        lines
    }
}

/// Adds `entry`'s points to `lines`, a run of one value kept as its two ends.
fn add_points<T: Dated>(lines: &mut Lines, entry: &T) {
    let at = entry.at().0;
    entry.points(|name, v| {
        let points = match lines.iter().position(|(n, _)| *n == name) {
            Some(i) => &mut lines[i].1,
            None => {
                lines.push((name, Vec::new()));
                &mut lines.last_mut().expect("a line just added").1
            }
        };
        match points.as_slice() {
            [.., (_, a), (_, b)] if *a == v && *b == v => *points.last_mut().expect("two points") = (at, v),
            _ => points.push((at, v)),
        }
    });
}

/// A history's entries in order, each month aside read when first reached.
pub struct Iter<'a, T> {
    history: &'a History<T>,
    front: usize,
    back: usize,
}

impl<'a, T: Dated> Iterator for Iter<'a, T> {
    type Item = &'a T;

    /// (Past an entry that could not be read.)
    fn next(&mut self) -> Option<&'a T> {
        while self.front < self.back {
            self.front += 1;
            if let Some(entry) = self.history.get(self.front - 1) {
                return Some(entry);
            }
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (0, Some(self.back - self.front))
    }
}

impl<T: Dated> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<Self::Item> {
        while self.front < self.back {
            self.back -= 1;
            if let Some(entry) = self.history.get(self.back) {
                return Some(entry);
            }
        }
        None
    }
}

impl<T: Dated> History<T> {
    /// Adds an entry no older than the last.
    pub fn push(&mut self, entry: T) {
        let at = entry.at();
        let place = self.len();
        let series = self.series_last.iter().position(|&last| self.get(last).is_some_and(|e| e.same_series(&entry)));
        match series {
            Some(i) => {
                if !self.get(self.series_last[i]).is_some_and(|before| entry.same_as(before)) {
                    self.changes.push(place);
                }
                self.series_last[i] = place;
            }
            None => {
                self.series_last.push(place);
                self.changes.push(place);
            }
        }
        match self.months.last_mut() {
            // An entry with no calendar month has `next` at itself: the next entry starts another.
            Some(month) if at < month.next => {
                month.entries += 1;
                month.until = at;
                month.hash = Month::hash_with(Some(month.hash), &entry);
            }
            _ => {
                let (name, next) = at.month().map_or(("unknown".to_string(), at), |(name, _, next)| (name, next));
                let hash = Month::hash_with(None, &entry);
                self.months.push(Month { name, entries: 1, from: at, until: at, next, hash });
            }
        }
        self.entries.push(entry);
    }

    /// Changes the entries in place (they stay oldest first); the months are then counted again.
    pub fn edit(&mut self, change: impl FnOnce(&mut Vec<T>)) {
        let mut entries = std::mem::take(self).into_entries();
        change(&mut entries);
        self.entries.reserve_exact(entries.len());
        entries.into_iter().for_each(|e| self.push(e));
    }

    /// Its entries, the history given up.
    pub fn into_entries(self) -> Vec<T> {
        if self.aside.len == 0 {
            return self.entries;
        }
        self.read_aside();
        let mut all = self.aside.read.into_inner().unwrap_or_default();
        all.extend(self.entries);
        all
    }

    /// Its months, oldest first: together they hold every entry, in order.
    pub fn months(&self) -> &[Month] {
        &self.months
    }

    /// Reads the months aside from `from` when asked for.
    pub fn keep_aside_in(&mut self, from: Arc<dyn Source<T>>) {
        self.aside.from = Some(from);
    }

    /// How many of its first months the cache keeps aside when the months
    /// from `from` on stay in its file: those it keeps aside already, and
    /// the months before `from` (never one with no calendar date).
    pub fn aside_before(&self, from: Instant) -> usize {
        let calendar = self.months.iter().take_while(|m| m.next <= from && m.name != "unknown").count();
        calendar.max(self.aside.months)
    }

    /// How many months the cache keeps aside already.
    pub fn months_aside(&self) -> usize {
        self.aside.months
    }
}

/// The start of the month before `newest`'s: a history's months from
/// there on stay in its cache file, the ones before are kept aside.
pub fn kept_from(newest: Instant) -> Option<Instant> {
    let (_, start, _) = newest.month()?;
    Some(Instant(start.0 - 1).month()?.1)
}

thread_local! {
    /// While a history is written to the cache: the instant before which its months go aside.
    static ASIDE_BEFORE: std::cell::Cell<Option<Instant>> = const { std::cell::Cell::new(None) };
}

/// What `write` returns, the histories it writes keeping the months
/// before `from` aside (see [`History::aside_before`]).
pub fn writing_aside<R>(from: Option<Instant>, write: impl FnOnce() -> R) -> R {
    let outer = ASIDE_BEFORE.replace(from);
    let written = write();
    ASIDE_BEFORE.set(outer);
    written
}

/// In the cache: the entries not aside as a compact list, the months, and
/// what is known of the months aside.
#[derive(Serialize)]
struct Stored<'a, T: Serialize> {
    entries: Compact<'a, T>,
    months: &'a [Month],
    changes: &'a [usize],
    series_last: &'a [usize],
    /// None while no month is aside: most histories, read at every build.
    #[serde(skip_serializing_if = "Option::is_none")]
    aside: Option<StoredAside<'a, T>>,
}

#[derive(Serialize)]
struct StoredAside<'a, T: Serialize> {
    months: usize,
    len: usize,
    known_at: Vec<usize>,
    known: Compact<'a, &'a T>,
    lines: Compact<'a, (Shared, &'a [(i64, i64)])>,
}

struct Compact<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Compact<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::store::compact::serialize(self.0, serializer)
    }
}

#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
struct Read<T> {
    #[serde(deserialize_with = "crate::store::compact::deserialize")]
    entries: Vec<T>,
    months: Vec<Month>,
    changes: Vec<usize>,
    series_last: Vec<usize>,
    #[serde(default)]
    aside: Option<ReadAside<T>>,
}

#[derive(Deserialize)]
#[serde(bound = "T: serde::de::DeserializeOwned")]
struct ReadAside<T> {
    months: usize,
    len: usize,
    known_at: Vec<usize>,
    #[serde(deserialize_with = "crate::store::compact::deserialize")]
    known: Vec<T>,
    #[serde(deserialize_with = "crate::store::compact::deserialize")]
    lines: Vec<(Shared, Vec<(i64, i64)>)>,
}

impl<T> Default for ReadAside<T> {
    fn default() -> Self {
        ReadAside { months: 0, len: 0, known_at: Vec::new(), known: Vec::new(), lines: Vec::new() }
    }
}

impl<T: Serialize + Dated> Serialize for History<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let months = ASIDE_BEFORE.get().map_or(self.aside.months, |from| self.aside_before(from));
        let len: usize = self.months[..months].iter().map(|m| m.entries).sum();
        // The entries that go aside now are this file's: from its first segment.
        let newly = &self.entries[..len - self.aside.len];
        let mut known: Vec<(usize, &T)> = self.aside.known.iter().map(|(at, e)| (*at, e)).collect();
        let wanted =
            |i: &usize| self.changes.binary_search(i).is_ok() || self.series_last.contains(i) || i + NEWEST >= len;
        let places = self.aside.len..len;
        known.extend(places.clone().filter(wanted).map(|i| (i, &newly[i - self.aside.len])));
        let mut lines = self.aside.lines.clone();
        newly.iter().for_each(|e| add_points(&mut lines, e));
        let lines: Vec<(Shared, &[(i64, i64)])> = lines.iter().map(|(n, p)| (Shared::from(*n), p.as_slice())).collect();
        let known_entries: Vec<&T> = known.iter().map(|(_, e)| *e).collect();
        let known_at = known.iter().map(|(at, _)| *at).collect();
        let aside = (months > 0).then(|| StoredAside {
            months,
            len,
            known_at,
            known: Compact(&known_entries),
            lines: Compact(&lines),
        });
        let (changes, series_last) = (&self.changes, &self.series_last);
        let entries = Compact(&self.entries[len - self.aside.len..]);
        Stored { entries, months: &self.months, changes, series_last, aside }.serialize(serializer)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for History<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Read { entries, months, changes, series_last, aside } = Read::deserialize(deserializer)?;
        let aside = aside.unwrap_or_default();
        let counted: usize = months.iter().map(|m| m.entries).sum();
        let aside_counted: Option<usize> = months.get(..aside.months).map(|m| m.iter().map(|m| m.entries).sum());
        if counted != entries.len() + aside.len || aside_counted != Some(aside.len) {
            return Err(serde::de::Error::custom(format!(
                "a history of {} entries whose months count {counted}",
                entries.len() + aside.len
            )));
        }
        let len = counted;
        let places = |p: &[usize]| p.iter().all(|&i| i < len);
        let known_places = aside.known_at.is_sorted_by(|a, b| a < b)
            && aside.known_at.iter().all(|&i| i < aside.len)
            && aside.known_at.len() == aside.known.len();
        if !(places(&changes) && places(&series_last) && changes.is_sorted_by(|a, b| a < b) && known_places) {
            return Err(serde::de::Error::custom("a history's changes name entries it does not have"));
        }
        let aside = Aside {
            months: aside.months,
            len: aside.len,
            known: aside.known_at.into_iter().zip(aside.known).collect(),
            lines: aside.lines.into_iter().map(|(name, points)| (name.as_static(), points)).collect(),
            from: None,
            read: OnceLock::new(),
        };
        Ok(History { entries, months, changes, series_last, aside })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    #[derive(Clone, Hash, Serialize, Deserialize, Debug, PartialEq)]
    struct Entry(i64, u8);

    impl Dated for Entry {
        fn at(&self) -> Instant {
            Instant(self.0)
        }

        fn same_series(&self, _: &Self) -> bool {
            true
        }

        fn same_as(&self, before: &Self) -> bool {
            self.1 == before.1
        }

        fn points(&self, mut each: impl FnMut(&'static str, i64)) {
            each("value", self.1 as i64)
        }
    }

    /// An entry of a series: its day, its series, what it says.
    #[derive(Clone, Hash)]
    struct Of(i64, &'static str, u32);

    impl Dated for Of {
        fn at(&self) -> Instant {
            Instant(OCT_30 + self.0 * DAY)
        }

        fn same_series(&self, other: &Self) -> bool {
            self.1 == other.1
        }

        fn same_as(&self, before: &Self) -> bool {
            self.2 == before.2
        }

        fn points(&self, mut each: impl FnMut(&'static str, i64)) {
            each(self.1, self.2 as i64)
        }
    }

    /// Where each of `kept` is among the entries.
    fn places<T: Dated>(history: &History<T>, kept: Vec<&T>) -> Vec<usize> {
        kept.iter().map(|k| history.iter().position(|e| std::ptr::eq(e, *k)).unwrap()).collect()
    }

    #[test]
    fn a_summary_keeps_the_changes_and_the_newest_newest_first() {
        // A change at 5 and at 12, then the same to the end.
        let mut h = History::default();
        (0..40).for_each(|d| {
            h.push(Of(
                d,
                "",
                if d < 5 {
                    0
                } else if d < 12 {
                    1
                } else {
                    2
                },
            ))
        });
        let mut expected: Vec<usize> = (30..40).rev().collect();
        expected.extend([12, 5, 0]);
        assert_eq!(places(&h, h.summary(10)), expected);
        assert_eq!(places(&h, h.summary(50)), (0..40).rev().collect::<Vec<_>>(), "fewer than the newest asked");
    }

    #[test]
    fn a_summary_compares_each_entry_with_the_one_before_in_its_series() {
        // Two kinds collected together, as a host's `disks` and `system`
        // versions are: each kind stays the same, except one change at 31.
        let mut h = History::default();
        (0..60)
            .for_each(|i| h.push(if i % 2 == 0 { Of(i, "disks", 1) } else { Of(i, "system", 7 + (i >= 31) as u32) }));
        let mut expected: Vec<usize> = (50..60).rev().collect();
        expected.extend([31, 1, 0]);
        assert_eq!(places(&h, h.summary(10)), expected, "the kinds alternating is no change");
        h.edit(|entries| entries.iter_mut().for_each(|e| e.2 = 0));
        assert_eq!(places(&h, h.summary(0)), [1, 0], "an edit finds the changes again");
    }

    const DAY: i64 = 86_400;
    /// 2026-10-30T00:00:00Z.
    const OCT_30: i64 = 1_793_318_400;

    fn history(entries: impl IntoIterator<Item = Entry>) -> History<Entry> {
        let mut history = History::default();
        entries.into_iter().for_each(|e| history.push(e));
        history
    }

    #[test]
    fn months_count_the_entries_of_each_calendar_month() {
        let h = history((0..5).map(|d| Entry(OCT_30 + d * DAY, 0)));
        let months: Vec<_> = h.months().iter().map(|m| (m.name.as_str(), m.entries, m.from.0, m.until.0)).collect();
        assert_eq!(months, [("2026-10", 2, OCT_30, OCT_30 + DAY), ("2026-11", 3, OCT_30 + 2 * DAY, OCT_30 + 4 * DAY)]);
        assert_eq!(h.len(), 5);
        let unknown = history([Entry(i64::MAX, 0), Entry(i64::MAX, 1)]);
        assert_eq!(
            unknown.months().iter().map(|m| m.entries).collect::<Vec<_>>(),
            [1, 1],
            "no date, no month to share"
        );
    }

    #[test]
    fn a_month_hash_changes_with_any_of_its_entries_only() {
        let one = history((0..40).map(|d| Entry(OCT_30 + d * DAY, 0)));
        let other = history((0..40).map(|d| Entry(OCT_30 + d * DAY, (d == 20) as u8)));
        let hashes = |h: &History<Entry>| h.months().iter().map(|m| m.hash).collect::<Vec<_>>();
        let (a, b) = (hashes(&one), hashes(&other));
        assert_eq!(a.len(), 3);
        assert_eq!((a[0], a[2]), (b[0], b[2]));
        assert_ne!(a[1], b[1], "November's 20th differs");
    }

    #[test]
    fn an_edit_counts_the_months_again() {
        let mut h = history((0..40).map(|d| Entry(OCT_30 + d * DAY, 0)));
        h.edit(|entries| entries.iter_mut().for_each(|e| e.1 = 1));
        let fresh = history((0..40).map(|d| Entry(OCT_30 + d * DAY, 1)));
        assert_eq!(h.months(), fresh.months());
        h.edit(|entries| entries.truncate(1));
        assert_eq!(h.months().iter().map(|m| m.entries).collect::<Vec<_>>(), [1]);
    }

    #[test]
    fn a_history_reads_back_as_written_and_its_months_must_add_up() {
        let h = history((0..40).map(|d| Entry(OCT_30 + d * DAY, d as u8)));
        let json = serde_json::to_string(&h).unwrap();
        let back: History<Entry> = serde_json::from_str(&json).unwrap();
        assert_eq!((&back.entries, back.months()), (&h.entries, h.months()));
        let mut value: serde_json::Value = serde_json::from_str(&json).unwrap();
        value["months"][0]["entries"] = 1.into();
        let err = serde_json::from_value::<History<Entry>>(value).unwrap_err().to_string();
        assert!(err.contains("a history of 40 entries whose months count 39"), "{err}");
    }

    /// The months of `history` put aside, as a source serves them, counting its reads and failures.
    struct Kept(std::collections::HashMap<String, Vec<Entry>>, AtomicUsize, AtomicUsize);

    impl Source<Entry> for Kept {
        fn month(&self, name: &str) -> Result<Vec<Entry>, String> {
            self.1.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.0.get(name).cloned().ok_or_else(|| format!("no month {name}"))
        }

        fn failed(&self) {
            self.2.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
    }

    /// `h` as the cache writes it, keeping aside the months before `from`,
    /// and read back with them in a source.
    fn through_the_cache(h: &History<Entry>, from: Instant) -> (History<Entry>, Arc<Kept>) {
        let json = writing_aside(Some(from), || serde_json::to_string(h)).unwrap();
        let mut back: History<Entry> = serde_json::from_str(&json).unwrap();
        let aside = (0..h.aside_before(from)).map(|i| (h.months()[i].name.clone(), h.month(i).to_vec()));
        let kept = Arc::new(Kept(aside.collect(), Default::default(), Default::default()));
        back.keep_aside_in(kept.clone());
        (back, kept)
    }

    /// Each line with the points inside a run of one value left out, as a chart draws it.
    fn drawn(lines: Lines) -> Lines {
        let ends =
            |p: &[(i64, i64)], i: usize| i == 0 || i + 1 == p.len() || p[i - 1].1 != p[i].1 || p[i + 1].1 != p[i].1;
        lines.into_iter().map(|(n, p)| (n, (0..p.len()).filter(|&i| ends(&p, i)).map(|i| p[i]).collect())).collect()
    }

    #[test]
    fn months_aside_are_read_only_for_their_entries() {
        // 100 days from October 30th, a value that holds for a week at a time.
        let h = history((0..100).map(|d| Entry(OCT_30 + d * DAY, (d / 7) as u8 % 3)));
        let from = kept_from(h.last().unwrap().at()).unwrap();
        assert_eq!(h.aside_before(from), 3, "October to December aside, January and February kept");
        let (back, kept) = through_the_cache(&h, from);
        let reads = || kept.1.load(std::sync::atomic::Ordering::Relaxed);
        assert_eq!((back.len(), back.months(), back.months_aside()), (h.len(), h.months(), 3));
        assert_eq!(back.summary(NEWEST), h.summary(NEWEST));
        assert_eq!(drawn(back.lines()), drawn(h.lines()));
        assert_eq!((back.first(), back.last(), back.newest_month()), (h.first(), h.last(), h.newest_month()));
        assert_eq!(back.since(from).collect::<Vec<_>>(), h.since(from).collect::<Vec<_>>());
        assert_eq!(back.before(from).next(), h.before(from).next(), "the newest aside is known");
        assert_eq!(reads(), 0, "a page's summary, its charts and a recent window read no month aside");
        assert_eq!(back.iter().collect::<Vec<_>>(), h.iter().collect::<Vec<_>>());
        assert_eq!(back.month(1), h.month(1));
        assert_eq!(reads(), 3, "each month aside read once");
        let mut pushed = back;
        pushed.push(Entry(OCT_30 + 100 * DAY, 9));
        assert_eq!(pushed.into_entries().len(), 101);
    }

    #[test]
    fn a_month_aside_that_is_not_what_was_put_aside_is_no_entry() {
        let h = history((0..100).map(|d| Entry(OCT_30 + d * DAY, (d / 7) as u8 % 3)));
        let from = kept_from(h.last().unwrap().at()).unwrap();
        let (mut back, kept) = through_the_cache(&h, from);
        let mut other = Kept(kept.0.clone(), Default::default(), Default::default());
        other.0.get_mut("2026-11").unwrap()[3].1 = 9;
        let other = Arc::new(other);
        back.keep_aside_in(other.clone());
        let read: Vec<_> = back.iter().collect();
        assert!(read.len() < h.len() && !read.iter().any(|e| e.1 == 9), "{read:?}");
        assert_eq!(other.2.load(std::sync::atomic::Ordering::Relaxed), 1, "the source is told, once");
        assert_eq!(back.since(from).collect::<Vec<_>>(), h.since(from).collect::<Vec<_>>());
        assert_eq!(back.summary(NEWEST), h.summary(NEWEST), "the summary is known without them");
    }
}
