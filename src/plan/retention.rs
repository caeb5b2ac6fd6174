//! Which archives a policy keeps: restic's `forget` rules, exactly, so that a
//! technician can reason with a well-known model.
//!
//! Archives are taken newest first. `keep_last N` keeps the N newest;
//! `keep_hourly/daily/weekly/monthly/yearly N` keep the newest archive of each
//! of the N newest periods that have one; one archive can satisfy several
//! rules; a rule that still has count left when the list ends also keeps the
//! oldest archive (the longest history the counts allow). `keep_within D`
//! keeps every archive newer than the newest one minus D. With no rule at
//! all, everything is kept.

pub use crate::config::archive::Policy;
use crate::config::pattern::Pattern;
pub use crate::time::Duration;
use jiff::civil::DateTime;
use serde::{Deserialize, Serialize};

pub use crate::snapshot::archive::{Deleted, Kept};

/// What a policy does to a list of archive names.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Verdict {
    /// Newest first.
    pub keep: Vec<Kept>,
    /// Newest first.
    pub delete: Vec<Deleted>,
    /// Names the pattern did not make: listed apart, never deleted.
    #[serde(default)]
    pub ignored: Vec<String>,
}

/// Applies `policy` to `names`: which archives are kept (and by which rules),
/// which are deleted (and why), which names are not the pattern's.
pub fn apply(policy: &Policy, pattern: &Pattern, names: &[String]) -> Verdict {
    let mut ignored = Vec::new();
    let mut dated: Vec<(DateTime, u32, &str)> = Vec::new();
    for name in names {
        match pattern.stamp(name) {
            Some((at, nth)) => dated.push((at, nth, name)),
            None => ignored.push(name.clone()),
        }
    }
    // Newest first: by date, then by place in that date's order (`-2` after the plain name),
    // then by name, so the outcome never depends on the listing's order.
    dated.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.cmp(&a.1)).then_with(|| b.2.cmp(a.2)));
    dated.dedup_by(|a, b| a.2 == b.2);
    let dated: Vec<(DateTime, &str)> = dated.into_iter().map(|(at, _, name)| (at, name)).collect();
    ignored.sort();
    ignored.dedup();

    let mut verdict = Verdict { ignored, ..Verdict::default() };
    if policy.is_empty() {
        verdict.keep =
            dated.iter().map(|(_, n)| Kept { name: n.to_string(), reasons: vec!["no rule set".into()] }).collect();
        return verdict;
    }
    type Bucket = fn(DateTime, usize) -> i64;
    let buckets: [Bucket; 6] = [
        |_, nr| nr as i64,
        |d, _| ((d.year() as i64 * 100 + d.month() as i64) * 100 + d.day() as i64) * 100 + d.hour() as i64,
        |d, _| (d.year() as i64 * 100 + d.month() as i64) * 100 + d.day() as i64,
        |d, _| {
            let week = d.date().iso_week_date();
            week.year() as i64 * 100 + week.week() as i64
        },
        |d, _| d.year() as i64 * 100 + d.month() as i64,
        |d, _| d.year() as i64,
    ];
    let mut left: Vec<(&str, i64, Option<i64>)> =
        policy.counts().iter().map(|(rule, n)| (*rule, n.map_or(0, i64::from), None)).collect();
    let newest = dated.first().map(|(at, _)| *at);
    let within = policy.keep_within.zip(newest).map(|(d, newest)| (d, d.before(newest)));
    let last = dated.len().saturating_sub(1);
    for (nr, (at, name)) in dated.iter().enumerate() {
        let mut reasons = Vec::new();
        if let Some((d, since)) = within {
            if *at > since {
                reasons.push(format!("keep_within {d}"));
            }
        }
        for (bucket, (rule, count, previous)) in buckets.iter().zip(left.iter_mut()) {
            if *count > 0 {
                let value = bucket(*at, nr);
                // A rule with count left also keeps the oldest archive: the longest history it allows.
                if Some(value) != *previous || nr == last {
                    *previous = Some(value);
                    *count -= 1;
                    reasons.push(rule.to_string());
                }
            }
        }
        if reasons.is_empty() {
            verdict.delete.push(Deleted { name: name.to_string(), reason: format!("no rule keeps it ({policy})") });
        } else {
            verdict.keep.push(Kept { name: name.to_string(), reasons });
        }
    }
    verdict
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::ToSpan;

    fn names(days: &[&str]) -> Vec<String> {
        days.iter().map(|d| format!("{}.tgz", d.replace('-', ""))).collect()
    }

    fn run(policy: Policy, list: &[&str]) -> (Vec<String>, Vec<String>) {
        let v = apply(&policy, &Pattern::parse("%Y%m%d.tgz").unwrap(), &names(list));
        (
            v.keep.iter().map(|k| format!("{} {}", &k.name[..8], k.reasons.join("+"))).collect(),
            v.delete.iter().map(|d| d.name[..8].to_string()).collect(),
        )
    }

    /// Every day of a month and a half, newest last in the listing (order must not matter).
    fn days() -> Vec<String> {
        let start = jiff::civil::date(2026, 10, 1);
        (0..45).map(|i| start.checked_add(i.days()).unwrap().to_string()).collect()
    }

    fn kept(policy: Policy) -> Vec<String> {
        let list = days();
        let list: Vec<&str> = list.iter().map(String::as_str).collect();
        run(policy, &list).0
    }

    #[test]
    fn keep_last_keeps_the_newest() {
        let keep = kept(Policy { keep_last: Some(3), ..Policy::default() });
        assert_eq!(keep, ["20261114 keep_last", "20261113 keep_last", "20261112 keep_last"]);
    }

    #[test]
    fn keep_daily_keeps_the_newest_of_each_day() {
        let (keep, delete) =
            run(Policy { keep_daily: Some(2), ..Policy::default() }, &["2026-11-20", "2026-11-21", "2026-11-19"]);
        assert_eq!(keep, ["20261121 keep_daily", "20261120 keep_daily"]);
        assert_eq!(delete, ["20261119"]);
        // Two archives on one day: only the newest counts for the day.
        let p = Pattern::parse("%Y%m%d-%H.tgz").unwrap();
        let v = apply(
            &Policy { keep_daily: Some(2), ..Policy::default() },
            &p,
            &["20261121-03.tgz".into(), "20261121-15.tgz".into(), "20261120-03.tgz".into()],
        );
        assert_eq!(v.keep.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["20261121-15.tgz", "20261120-03.tgz"]);
        assert_eq!(v.delete[0].name, "20261121-03.tgz");
    }

    #[test]
    fn a_suffixed_archive_is_one_of_its_days_and_the_newer_of_them() {
        let p = Pattern::parse("%Y%m%d.tgz").unwrap();
        let list: Vec<String> = ["20261201.tgz", "20261202-2.tgz", "20261202.tgz"].map(String::from).to_vec();
        let v = apply(&Policy { keep_daily: Some(2), ..Policy::default() }, &p, &list);
        assert_eq!(v.keep.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["20261202-2.tgz", "20261201.tgz"]);
        assert_eq!(v.delete.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["20261202.tgz"]);
        assert!(v.ignored.is_empty());
        let v = apply(&Policy { keep_last: Some(2), ..Policy::default() }, &p, &list);
        assert_eq!(v.keep.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["20261202-2.tgz", "20261202.tgz"]);
        // -10 comes after -9, whatever the names' own order.
        let list: Vec<String> = ["20261202-9.tgz", "20261202-10.tgz"].map(String::from).to_vec();
        let v = apply(&Policy { keep_last: Some(1), ..Policy::default() }, &p, &list);
        assert_eq!(v.keep[0].name, "20261202-10.tgz");
    }

    #[test]
    fn keep_hourly_counts_hours() {
        let p = Pattern::parse("%Y%m%d-%H%M.tgz").unwrap();
        let list: Vec<String> = ["20261121-0310", "20261121-0350", "20261121-0410", "20261121-0510"]
            .iter()
            .map(|n| format!("{n}.tgz"))
            .collect();
        let v = apply(&Policy { keep_hourly: Some(2), ..Policy::default() }, &p, &list);
        assert_eq!(
            v.keep.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(),
            ["20261121-0510.tgz", "20261121-0410.tgz"]
        );
        assert_eq!(v.delete.len(), 2);
    }

    #[test]
    fn keep_weekly_uses_iso_weeks() {
        // 2026-11-16 is a Monday: 15 and 16 are in different ISO weeks, 16 to 22 in one.
        let keep = kept(Policy { keep_weekly: Some(3), ..Policy::default() });
        assert_eq!(keep, ["20261114 keep_weekly", "20261108 keep_weekly", "20261101 keep_weekly"]);
        // ISO week 1 of 2027 starts on Monday 2027-01-04; 2027-01-03 is in week 53 of 2026.
        let (keep, _) = run(
            Policy { keep_weekly: Some(9), ..Policy::default() },
            &["2027-01-04", "2027-01-03", "2026-12-28", "2026-12-27"],
        );
        assert_eq!(keep, ["20270104 keep_weekly", "20270103 keep_weekly", "20261227 keep_weekly"]);
    }

    #[test]
    fn keep_monthly_and_yearly() {
        let keep = kept(Policy { keep_monthly: Some(2), ..Policy::default() });
        assert_eq!(keep, ["20261114 keep_monthly", "20261031 keep_monthly"]);
        let (keep, delete) = run(
            Policy { keep_yearly: Some(5), ..Policy::default() },
            &["2024-12-31", "2025-06-01", "2025-12-31", "2026-01-01"],
        );
        // Count left at the end of the list: the oldest is kept too (2024-12-31 is also its year's newest).
        assert_eq!(keep, ["20260101 keep_yearly", "20251231 keep_yearly", "20241231 keep_yearly"]);
        assert_eq!(delete, ["20250601"]);
    }

    #[test]
    fn a_rule_with_count_left_keeps_the_oldest() {
        // keep_daily 10 on three archives of one day: the newest (first of its day) and the oldest.
        let (keep, delete) =
            run(Policy { keep_daily: Some(10), ..Policy::default() }, &["2026-11-21", "2026-11-20", "2026-11-19"]);
        assert_eq!(keep.len(), 3);
        assert!(delete.is_empty());
        let p = Pattern::parse("%Y%m%d-%H.tgz").unwrap();
        let list: Vec<String> =
            ["20261121-01", "20261121-02", "20261121-03"].iter().map(|n| format!("{n}.tgz")).collect();
        let v = apply(&Policy { keep_daily: Some(10), ..Policy::default() }, &p, &list);
        assert_eq!(v.keep.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["20261121-03.tgz", "20261121-01.tgz"]);
        assert_eq!(v.delete.iter().map(|k| k.name.as_str()).collect::<Vec<_>>(), ["20261121-02.tgz"]);
        // A rule whose count ran out does not keep the oldest.
        let v = apply(&Policy { keep_daily: Some(1), ..Policy::default() }, &p, &list);
        assert_eq!(v.keep.len(), 1);
    }

    #[test]
    fn rules_combine_and_name_every_reason() {
        let keep =
            kept(Policy { keep_daily: Some(2), keep_weekly: Some(2), keep_monthly: Some(2), ..Policy::default() });
        assert_eq!(
            keep,
            [
                "20261114 keep_daily+keep_weekly+keep_monthly",
                "20261113 keep_daily",
                "20261108 keep_weekly",
                "20261031 keep_monthly"
            ]
        );
    }

    #[test]
    fn keep_within_is_relative_to_the_newest_archive() {
        // The newest is 2026-11-14: 30 days before is 2026-10-15, and only later archives are kept.
        let (keep, delete) = {
            let list = days();
            let list: Vec<&str> = list.iter().map(String::as_str).collect();
            run(Policy { keep_within: Some(Duration::parse("30d").unwrap()), ..Policy::default() }, &list)
        };
        assert_eq!(keep.len(), 30);
        assert_eq!(keep.last().unwrap(), "20261016 keep_within 30d");
        assert_eq!(delete.first().unwrap(), "20261015");
        // Months are calendar months.
        assert_eq!(
            Duration::parse("1m").unwrap().before(jiff::civil::date(2026, 3, 31).at(0, 0, 0, 0)),
            jiff::civil::date(2026, 2, 28).at(0, 0, 0, 0)
        );
    }

    #[test]
    fn no_rule_keeps_everything_and_foreign_names_are_never_deleted() {
        let pattern = Pattern::parse("%Y%m%d.tgz").unwrap();
        let list: Vec<String> =
            vec!["20261121.tgz".into(), "20261120.tgz".into(), "README".into(), "20261119.tgz.part".into()];
        let v = apply(&Policy::default(), &pattern, &list);
        assert_eq!(v.keep.len(), 2);
        assert!(v.delete.is_empty());
        let v = apply(&Policy { keep_last: Some(1), ..Policy::default() }, &pattern, &list);
        assert_eq!(v.delete.iter().map(|d| d.name.as_str()).collect::<Vec<_>>(), ["20261120.tgz"]);
        assert_eq!(v.delete[0].reason, "no rule keeps it (keep_last 1)");
        assert_eq!(v.ignored, ["20261119.tgz.part", "README"]);
    }

    #[test]
    fn the_newest_is_always_kept_by_any_rule() {
        for policy in [
            Policy { keep_last: Some(1), ..Policy::default() },
            Policy { keep_yearly: Some(1), ..Policy::default() },
            Policy { keep_within: Some(Duration::parse("1h").unwrap()), ..Policy::default() },
        ] {
            assert!(kept(policy.clone())[0].starts_with("20261114"), "{policy}");
        }
    }
}
