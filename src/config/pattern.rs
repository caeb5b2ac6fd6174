//! Archive names: a strftime-like pattern (`%Y%m%d.tgz`) that both makes
//! the name of a new archive and reads the date back out of an old one.
//! The date in the name is the archive's date for retention: listings from
//! FTP or WebDAV servers do not keep file times faithfully.
//!
//! A second archive of the same date (`on_existing = "suffix"`) carries a
//! sequence number right after the pattern's last field: `20261202-2.tgz`,
//! `db-2026-12-02_0300-2.tar.gz`. It reads back as the same date, one later
//! in that day's order, so retention keeps or deletes it as one of that day's.

use jiff::civil::DateTime;
use std::fmt;

/// One piece of a pattern.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Part {
    Literal(char),
    /// `%Y` (4 digits), `%m`, `%d`, `%H`, `%M`, `%S` (2 digits each).
    Field(char),
}

/// A parsed pattern such as `%Y%m%d.tgz` or `db-%Y-%m-%d_%H%M.tar.gz`.
#[derive(Clone, Debug, PartialEq)]
pub struct Pattern {
    source: String,
    parts: Vec<Part>,
}

/// Why a text is not an archive name pattern.
#[derive(Debug, thiserror::Error)]
#[error("pattern {pattern:?}{why}")]
pub struct BadPattern {
    pub pattern: String,
    pub why: Why,
}

#[derive(Debug, thiserror::Error)]
pub enum Why {
    #[error(": %{0} is not one of %Y %m %d %H %M %S %%")]
    Field(char),
    #[error(" ends with a lone %")]
    LonePercent,
    #[error(": an archive name cannot hold {0:?}")]
    Separator(char),
    #[error(" has no %{0}: the archive's date must be in its name")]
    NoDate(char),
}

impl Pattern {
    /// Reads a pattern; it needs at least a year, a month and a day, and no `/`.
    pub fn parse(source: &str) -> Result<Pattern, BadPattern> {
        let bad = |why| BadPattern { pattern: source.to_string(), why };
        let mut parts = Vec::new();
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some(f @ ('Y' | 'm' | 'd' | 'H' | 'M' | 'S')) => parts.push(Part::Field(f)),
                    Some('%') => parts.push(Part::Literal('%')),
                    Some(other) => return Err(bad(Why::Field(other))),
                    None => return Err(bad(Why::LonePercent)),
                },
                '/' | '\\' => return Err(bad(Why::Separator(c))),
                c => parts.push(Part::Literal(c)),
            }
        }
        for needed in ['Y', 'm', 'd'] {
            if !parts.contains(&Part::Field(needed)) {
                return Err(bad(Why::NoDate(needed)));
            }
        }
        Ok(Pattern { source: source.to_string(), parts })
    }

    /// The name of an archive made at `at`.
    pub fn format(&self, at: DateTime) -> String {
        self.format_nth(at, 1)
    }

    /// The name of the `nth` archive made at `at`'s date and time: the first
    /// is [`format`](Self::format)'s, the next ones carry `-<nth>`.
    pub fn format_nth(&self, at: DateTime, nth: u32) -> String {
        let last_field = self.parts.iter().rposition(|p| matches!(p, Part::Field(_)));
        let mut name = String::new();
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(c) => name.push(*c),
                Part::Field('Y') => name.push_str(&format!("{:04}", at.year())),
                Part::Field(f) => name.push_str(&format!(
                    "{:02}",
                    match f {
                        'm' => at.month(),
                        'd' => at.day(),
                        'H' => at.hour(),
                        'M' => at.minute(),
                        _ => at.second(),
                    }
                )),
            }
            if Some(i) == last_field && nth > 1 {
                name.push_str(&format!("-{nth}"));
            }
        }
        name
    }

    /// The first name free among `taken` for an archive made at `at`, and its place in that day's order.
    pub fn free_name(&self, at: DateTime, taken: &[String]) -> (String, u32) {
        (1..)
            .map(|nth| (self.format_nth(at, nth), nth))
            .find(|(name, _)| !taken.contains(name))
            .expect("some sequence number is free")
    }

    /// The date in `name`, when `name` was made by this pattern.
    pub fn date(&self, name: &str) -> Option<DateTime> {
        self.stamp(name).map(|(at, _)| at)
    }

    /// The date in `name` and its place among that date's archives (1 for
    /// the plain name, n for `-n`), when `name` was made by this pattern.
    pub fn stamp(&self, name: &str) -> Option<(DateTime, u32)> {
        let last_field = self.parts.iter().rposition(|p| matches!(p, Part::Field(_)));
        let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (None, None, None, 0, 0, 0);
        let mut nth = 1;
        let mut rest = name;
        for (i, part) in self.parts.iter().enumerate() {
            match part {
                Part::Literal(c) => rest = rest.strip_prefix(*c)?,
                Part::Field(f) => {
                    let width = if *f == 'Y' { 4 } else { 2 };
                    let digits = rest.get(..width).filter(|d| d.bytes().all(|b| b.is_ascii_digit()))?;
                    rest = &rest[width..];
                    let n: i16 = digits.parse().ok()?;
                    match f {
                        'Y' => year = Some(n),
                        'm' => month = Some(n as i8),
                        'd' => day = Some(n as i8),
                        'H' => hour = n as i8,
                        'M' => minute = n as i8,
                        _ => second = n as i8,
                    }
                    if Some(i) == last_field {
                        if let Some((n, after)) = sequence(rest).filter(|(_, after)| self.tail_matches(i, after)) {
                            nth = n;
                            rest = after;
                        }
                    }
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        DateTime::new(year?, month?, day?, hour, minute, second, 0).ok().map(|at| (at, nth))
    }
}

impl Pattern {
    /// Whether `text` is exactly the literals after part `i` (the last field).
    fn tail_matches(&self, i: usize, text: &str) -> bool {
        let tail: String = self.parts[i + 1..]
            .iter()
            .map(|p| match p {
                Part::Literal(c) => *c,
                Part::Field(_) => unreachable!("no field after the last one"),
            })
            .collect();
        tail == text
    }
}

/// A `-<n>` sequence number at the start of `text` (n ≥ 2, no leading zero), and what follows it.
fn sequence(text: &str) -> Option<(u32, &str)> {
    let digits = text.strip_prefix('-')?;
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    let (number, after) = digits.split_at(len);
    if number.starts_with('0') {
        return None;
    }
    number.parse().ok().filter(|n| *n >= 2).map(|n| (n, after))
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn names_round_trip() {
        let p = Pattern::parse("%Y%m%d.tgz").unwrap();
        let at = date(2026, 11, 21).at(3, 0, 0, 0);
        assert_eq!(p.format(at), "20261121.tgz");
        assert_eq!(p.date("20261121.tgz"), Some(date(2026, 11, 21).at(0, 0, 0, 0)));
        // The seed's AAAADDMM: day before month.
        let seed = Pattern::parse("%Y%d%m.tgz").unwrap();
        assert_eq!(seed.format(at), "20262111.tgz");
        assert_eq!(seed.date("20262111.tgz"), Some(date(2026, 11, 21).at(0, 0, 0, 0)));
        let timed = Pattern::parse("db-%Y-%m-%d_%H%M%S.tar.gz").unwrap();
        assert_eq!(timed.date(&timed.format(date(2026, 1, 2).at(3, 4, 5, 0))), Some(date(2026, 1, 2).at(3, 4, 5, 0)));
    }

    #[test]
    fn foreign_names_have_no_date() {
        let p = Pattern::parse("%Y%m%d.tgz").unwrap();
        for name in
            ["2026112.tgz", "20261121.tgz.part", "x20261121.tgz", "20261321.tgz", "20260230.tgz", "notes.txt", ""]
        {
            assert_eq!(p.date(name), None, "{name}");
        }
    }

    #[test]
    fn a_second_archive_of_a_date_is_suffixed_and_reads_back_as_that_date() {
        let p = Pattern::parse("%Y%m%d.tgz").unwrap();
        let at = date(2026, 12, 2).at(14, 0, 0, 0);
        let day = date(2026, 12, 2).at(0, 0, 0, 0);
        assert_eq!(p.format_nth(at, 2), "20261202-2.tgz");
        assert_eq!(p.stamp("20261202.tgz"), Some((day, 1)));
        assert_eq!(p.stamp("20261202-2.tgz"), Some((day, 2)));
        assert_eq!(p.stamp("20261202-13.tgz"), Some((day, 13)));
        for foreign in ["20261202-1.tgz", "20261202-02.tgz", "20261202-.tgz", "20261202-2", "20261202-2.tgz.part"] {
            assert_eq!(p.stamp(foreign), None, "{foreign}");
        }
        let taken = vec!["20261202.tgz".to_string(), "20261202-2.tgz".to_string()];
        assert_eq!(p.free_name(at, &taken), ("20261202-3.tgz".to_string(), 3));
        assert_eq!(p.free_name(at, &[]), ("20261202.tgz".to_string(), 1));
        // The suffix goes after the last field, whatever follows it.
        let timed = Pattern::parse("db-%Y-%m-%d_%H%M-x.tar.gz").unwrap();
        let name = timed.format_nth(at, 2);
        assert_eq!(name, "db-2026-12-02_1400-2-x.tar.gz");
        assert_eq!(timed.stamp(&name), Some((at, 2)));
        assert_eq!(timed.stamp("db-2026-12-02_1400-x.tar.gz"), Some((at, 1)));
    }

    #[test]
    fn patterns_need_a_date_and_no_folder() {
        assert!(Pattern::parse("%Y%m.tgz").is_err());
        assert!(Pattern::parse("%Y/%m%d.tgz").is_err());
        assert!(Pattern::parse("%Y%m%d%q").is_err());
        assert!(Pattern::parse("%Y%m%d%").is_err());
    }
}
