//! A list of what a host or a disk went through, oldest first, with its
//! calendar months (UTC) counted as entries are added: which months a
//! history is published in, how many entries each holds and a hash of them,
//! known without reading a year of entries again at every build.

use crate::time::Instant;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::hash::{BuildHasher, Hash};

/// An entry of a history: when it was, and whether it says something the
/// entry before it in its series did not (what a page's summary shows).
pub trait Dated: Hash {
    fn at(&self) -> Instant;
    /// Whether the two are of one series: a host's `disks` and `system`
    /// versions interleave, and each is compared with its own kind.
    fn same_series(&self, other: &Self) -> bool;
    /// Whether it says what `before`, the entry before it in its series, said.
    fn same_as(&self, before: &Self) -> bool;
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
}

/// A history's entries and months. Only [`History::push`] and
/// [`History::edit`] change it, so that its months always say what its
/// entries are.
#[derive(Debug)]
pub struct History<T> {
    entries: Vec<T>,
    months: Vec<Month>,
    /// The places of the entries that say what the entry before them in
    /// their series did not (the first of each series too), oldest first.
    changes: Vec<usize>,
    /// The place of each series' last entry.
    series_last: Vec<usize>,
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
    /// One hash for all of `months`, from theirs.
    pub fn hash_all(months: &[Month]) -> u64 {
        months.iter().fold(0, |all, m| ENTRY_HASH.hash_one((all, m.hash)))
    }
}

impl<T> Default for History<T> {
    fn default() -> Self {
        History { entries: Vec::new(), months: Vec::new(), changes: Vec::new(), series_last: Vec::new() }
    }
}

/// Reading a history. A consumer asks for what it needs (the newest month,
/// the entries since an instant, the newest few) rather than for every
/// entry: only [`History::iter`] reads every month.
impl<T> History<T> {
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn first(&self) -> Option<&T> {
        self.entries.first()
    }

    pub fn last(&self) -> Option<&T> {
        self.entries.last()
    }

    /// Every entry, oldest first (newest first reversed).
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &T> + ExactSizeIterator {
        self.entries.iter()
    }

    /// The entries of month `i` of [`History::months`].
    pub fn month(&self, i: usize) -> &[T] {
        let start: usize = self.months[..i].iter().map(|m| m.entries).sum();
        &self.entries[start..start + self.months[i].entries]
    }

    /// The newest month's entries; none for an empty history.
    pub fn newest_month(&self) -> &[T] {
        let newest = self.months.last().map_or(0, |m| m.entries);
        &self.entries[self.entries.len() - newest..]
    }

    /// The entries at or after `at`, oldest first.
    pub fn since(&self, at: Instant) -> impl DoubleEndedIterator<Item = &T>
    where
        T: Dated,
    {
        self.entries[self.entries.partition_point(|e| e.at() < at)..].iter()
    }

    /// The entries that say what the entry before them in their series did
    /// not, and the `newest` last ones: newest first.
    pub fn summary(&self, newest: usize) -> Vec<&T> {
        let tail = self.entries.len().saturating_sub(newest);
        let changes = self.changes.iter().rev().filter(|&&i| i < tail).map(|&i| &self.entries[i]);
        self.entries[tail..].iter().rev().chain(changes).collect()
    }

    /// The entries before `at`, newest first.
    pub fn before(&self, at: Instant) -> impl Iterator<Item = &T>
    where
        T: Dated,
    {
        self.entries[..self.entries.partition_point(|e| e.at() < at)].iter().rev()
    }
}

impl<T: Dated> History<T> {
    /// Adds an entry no older than the last.
    pub fn push(&mut self, entry: T) {
        let at = entry.at();
        let hash = ENTRY_HASH.hash_one(&entry);
        let place = self.entries.len();
        let entries = &self.entries;
        match self.series_last.iter_mut().find(|last| entries[**last].same_series(&entry)) {
            Some(last) => {
                if !entry.same_as(&entries[*last]) {
                    self.changes.push(place);
                }
                *last = place;
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
                month.hash = ENTRY_HASH.hash_one((month.hash, hash));
            }
            _ => {
                let (name, next) = at.month().map_or(("unknown".to_string(), at), |(name, _, next)| (name, next));
                self.months.push(Month { name, entries: 1, from: at, until: at, next, hash });
            }
        }
        self.entries.push(entry);
    }

    /// Changes the entries in place (they stay oldest first); the months are then counted again.
    pub fn edit(&mut self, change: impl FnOnce(&mut Vec<T>)) {
        change(&mut self.entries);
        let entries = std::mem::take(&mut self.entries);
        self.months.clear();
        self.changes.clear();
        self.series_last.clear();
        self.entries.reserve_exact(entries.len());
        entries.into_iter().for_each(|e| self.push(e));
    }

    /// Its entries, the history given up.
    pub fn into_entries(self) -> Vec<T> {
        self.entries
    }

    /// Its months, oldest first: together they hold every entry, in order.
    pub fn months(&self) -> &[Month] {
        &self.months
    }
}

/// In the cache: the entries as a compact list, and the months beside them.
#[derive(Serialize)]
struct Stored<'a, T: Serialize> {
    entries: Compact<'a, T>,
    months: &'a [Month],
    changes: &'a [usize],
    series_last: &'a [usize],
}

struct Compact<'a, T>(&'a [T]);

impl<T: Serialize> Serialize for Compact<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        crate::store::compact::serialize(self.0, serializer)
    }
}

#[derive(Deserialize)]
struct Read<T: serde::de::DeserializeOwned> {
    #[serde(deserialize_with = "crate::store::compact::deserialize")]
    entries: Vec<T>,
    months: Vec<Month>,
    changes: Vec<usize>,
    series_last: Vec<usize>,
}

impl<T: Serialize> Serialize for History<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (changes, series_last) = (&self.changes, &self.series_last);
        Stored { entries: Compact(&self.entries), months: &self.months, changes, series_last }.serialize(serializer)
    }
}

impl<'de, T: serde::de::DeserializeOwned> Deserialize<'de> for History<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let Read { entries, months, changes, series_last } = Read::deserialize(deserializer)?;
        let counted: usize = months.iter().map(|m| m.entries).sum();
        if counted != entries.len() {
            return Err(serde::de::Error::custom(format!(
                "a history of {} entries whose months count {counted}",
                entries.len()
            )));
        }
        let places = |p: &[usize]| p.iter().all(|&i| i < entries.len());
        if !(places(&changes) && places(&series_last) && changes.is_sorted_by(|a, b| a < b)) {
            return Err(serde::de::Error::custom("a history's changes name entries it does not have"));
        }
        Ok(History { entries, months, changes, series_last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Hash, Serialize, Deserialize, Debug, PartialEq)]
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
    }

    /// An entry of a series: its day, its series, what it says.
    #[derive(Hash)]
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
}
