//! Archive names: a strftime-like pattern (`%Y%m%d.tgz`) that both makes
//! the name of a new archive and reads the date back out of an old one.
//! The date in the name is the archive's date for retention: listings from
//! FTP or WebDAV servers do not keep file times faithfully.

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

impl Pattern {
    /// Reads a pattern; it needs at least a year, a month and a day, and no `/`.
    pub fn parse(source: &str) -> Result<Pattern, String> {
        let mut parts = Vec::new();
        let mut chars = source.chars();
        while let Some(c) = chars.next() {
            match c {
                '%' => match chars.next() {
                    Some(f @ ('Y' | 'm' | 'd' | 'H' | 'M' | 'S')) => parts.push(Part::Field(f)),
                    Some('%') => parts.push(Part::Literal('%')),
                    Some(other) => {
                        return Err(format!("pattern {source:?}: %{other} is not one of %Y %m %d %H %M %S %%"))
                    }
                    None => return Err(format!("pattern {source:?} ends with a lone %")),
                },
                '/' | '\\' => return Err(format!("pattern {source:?}: an archive name cannot hold {c:?}")),
                c => parts.push(Part::Literal(c)),
            }
        }
        for needed in ['Y', 'm', 'd'] {
            if !parts.contains(&Part::Field(needed)) {
                return Err(format!("pattern {source:?} has no %{needed}: the archive's date must be in its name"));
            }
        }
        Ok(Pattern { source: source.to_string(), parts })
    }

    /// The name of an archive made at `at`.
    pub fn format(&self, at: DateTime) -> String {
        let mut name = String::new();
        for part in &self.parts {
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
        }
        name
    }

    /// The date in `name`, when `name` was made by this pattern.
    pub fn date(&self, name: &str) -> Option<DateTime> {
        let (mut year, mut month, mut day, mut hour, mut minute, mut second) = (None, None, None, 0, 0, 0);
        let mut rest = name;
        for part in &self.parts {
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
                }
            }
        }
        if !rest.is_empty() {
            return None;
        }
        DateTime::new(year?, month?, day?, hour, minute, second, 0).ok()
    }
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
    fn patterns_need_a_date_and_no_folder() {
        assert!(Pattern::parse("%Y%m.tgz").is_err());
        assert!(Pattern::parse("%Y/%m%d.tgz").is_err());
        assert!(Pattern::parse("%Y%m%d%q").is_err());
        assert!(Pattern::parse("%Y%m%d%").is_err());
    }
}
