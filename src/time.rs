//! Instants as the snapshots write them (RFC 3339 with an offset), read and
//! printed with jiff: an impossible date (`2026-02-31`) or offset (`+99:99`)
//! is refused with its cause, never wrapped into another day. And the
//! durations of `parc.toml` (`30d`, `1y6m`, `20h`), as restic writes them.

use jiff::civil::DateTime;
use jiff::{Span, ToSpan};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(transparent)]
pub struct Instant(pub i64);

impl Instant {
    /// Parses `2026-11-21T03:00:12+01:00`, `…Z`, with optional fractional
    /// seconds (dropped). The offset is required: a time without one names
    /// no instant.
    pub fn parse_rfc3339(s: &str) -> Result<Instant, jiff::Error> {
        let at: jiff::Timestamp = s.parse()?;
        Ok(Instant(at.as_second()))
    }

    /// `2026-11-21T02:00:12Z`: the form parc writes into its JSON.
    pub fn rfc3339(self) -> String {
        match self.civil() {
            Some(t) => format!("{}T{:02}:{:02}:{:02}Z", ymd(&t), t.hour(), t.minute(), t.second()),
            None => self.outside(),
        }
    }

    /// `2026-11-21` in UTC, for file names and day buckets.
    pub fn date(self) -> String {
        self.civil().map_or_else(|| self.outside(), |t| ymd(&t))
    }

    /// Its date and time of day in UTC. `None` outside jiff's range (years
    /// -9999 to 9999), where no snapshot's instant is: each was parsed by jiff.
    pub fn civil(self) -> Option<DateTime> {
        // At a fixed offset, not a zoned time: pages word thousands of instants.
        Some(jiff::tz::Offset::UTC.to_datetime(jiff::Timestamp::from_second(self.0).ok()?))
    }

    fn outside(self) -> String {
        format!("@{}", self.0)
    }

    /// The calendar month (UTC) this instant is in: its name (`2026-11`),
    /// its first second and the next month's. Published histories are split by it.
    pub fn month(self) -> Option<(String, Instant, Instant)> {
        // Civil dates at a fixed offset: a zoned time costs ten times more,
        // and every history asks for each of its months.
        use jiff::tz::Offset;
        let first = self.civil()?.date().first_of_month();
        let next = first.checked_add(1.month()).ok()?;
        let second = |day: jiff::civil::Date| {
            Some(Offset::UTC.to_timestamp(day.to_datetime(jiff::civil::Time::midnight())).ok()?.as_second())
        };
        let name = format!("{:04}-{:02}", first.year(), first.month());
        Some((name, Instant(second(first)?), Instant(second(next)?)))
    }
}

/// `2026-11-21`: a date as RFC 3339 writes it.
pub fn ymd(t: &DateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), t.month(), t.day())
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

/// A length of clock time: hours, minutes, seconds (`10m`, `26h`, `1h30m`),
/// as jiff's friendly format reads it. Unlike [`Duration`] (restic's, where
/// `m` is months), `m` is minutes here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Length(pub std::time::Duration);

/// Why a text is not a [`Length`].
#[derive(Debug, thiserror::Error)]
#[error("{text:?} is not a length of time such as 90s, 10m, 26h or 1h30m: {cause}")]
pub struct BadLength {
    pub text: String,
    pub cause: String,
}

impl Length {
    pub fn parse(text: &str) -> Result<Length, BadLength> {
        let bad = |cause: String| BadLength { text: text.to_string(), cause };
        let d: jiff::SignedDuration = text.parse().map_err(|e: jiff::Error| bad(e.to_string()))?;
        std::time::Duration::try_from(d).map(Length).map_err(|_| bad("it is negative".into()))
    }

    pub fn minutes(n: u64) -> Length {
        Length(std::time::Duration::from_secs(n * 60))
    }

    pub fn hours(n: u64) -> Length {
        Length(std::time::Duration::from_secs(n * 3600))
    }
}

impl fmt::Display for Length {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let d = jiff::SignedDuration::try_from(self.0).unwrap_or(jiff::SignedDuration::MAX);
        write!(f, "{d:#}")
    }
}

impl<'de> serde::Deserialize<'de> for Length {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Length::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl serde::Serialize for Length {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A restic duration: years, months, days and hours, e.g. `30d`, `1y6m`, `20h`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Duration {
    pub years: i64,
    pub months: i64,
    pub days: i64,
    pub hours: i64,
}

/// Why a text is not a [`Duration`].
#[derive(Debug, thiserror::Error)]
pub enum BadDuration {
    #[error("{0:?}: a number must come before {1:?}")]
    NoNumber(String, char),
    #[error("{0:?}: {1:?} is not a unit (y, m, d, h: years, months, days, hours)")]
    NoUnit(String, char),
    #[error("{0:?} is not a duration such as 30d, 1y6m or 20h")]
    NotADuration(String),
}

impl Duration {
    pub fn parse(text: &str) -> Result<Duration, BadDuration> {
        let mut d = Duration::default();
        let mut number = String::new();
        let mut any = false;
        for c in text.trim().chars() {
            if c.is_ascii_digit() {
                number.push(c);
                continue;
            }
            let n: i64 = number.parse().map_err(|_| BadDuration::NoNumber(text.to_string(), c))?;
            number.clear();
            match c {
                'y' => d.years += n,
                'm' => d.months += n,
                'd' => d.days += n,
                'h' => d.hours += n,
                _ => return Err(BadDuration::NoUnit(text.to_string(), c)),
            }
            any = true;
        }
        if !number.is_empty() || !any {
            return Err(BadDuration::NotADuration(text.to_string()));
        }
        Ok(d)
    }

    /// In hours, a month counted as 730 and a year as 8,766 (their average
    /// lengths): for thresholds, where calendar exactness does not matter.
    pub fn hours(&self) -> i64 {
        self.years * 8766 + self.months * 730 + self.days * 24 + self.hours
    }

    /// `at` minus this duration, in calendar terms (a month back from 31 March is 28 or 29 February).
    pub fn before(&self, at: DateTime) -> DateTime {
        let span: Span = self.years.years().months(self.months).days(self.days).hours(self.hours);
        at.checked_sub(span).unwrap_or(DateTime::MIN)
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, unit) in [(self.years, 'y'), (self.months, 'm'), (self.days, 'd'), (self.hours, 'h')] {
            if n != 0 {
                write!(f, "{n}{unit}")?;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Duration::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::{Duration, Instant};

    #[test]
    fn parses_offsets_and_prints_utc() {
        let t = Instant::parse_rfc3339("2026-11-21T03:00:12+01:00").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-21T02:00:12Z");
        assert_eq!(Instant::parse_rfc3339("2026-11-21T02:00:12.5Z").unwrap(), t);
        assert_eq!(Instant::parse_rfc3339("1970-01-01T00:00:00Z").unwrap(), Instant(0));
        assert_eq!(Instant::parse_rfc3339("2000-02-29T00:00:00Z").unwrap().date(), "2000-02-29");
        assert_eq!(Instant(-1).rfc3339(), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn prints_what_jiff_prints_across_its_range() {
        // jiff's bounds of a whole second: years -9999 to 9999.
        let (min, max) = (-377_705_023_201, 253_402_207_200);
        for t in [0, -62_135_596_800, -62_135_596_801, 951_782_400, 1_796_220_312, min, max] {
            let jiff = jiff::Timestamp::from_second(t).unwrap();
            assert_eq!(Instant(t).rfc3339(), jiff.strftime("%Y-%m-%dT%H:%M:%SZ").to_string(), "{t}");
            assert_eq!(Instant(t).date(), jiff.strftime("%Y-%m-%d").to_string(), "{t}");
        }
        assert_eq!(Instant(max + 1).rfc3339(), format!("@{}", max + 1));
    }

    #[test]
    fn months_are_utc_calendar_months() {
        let at = Instant::parse_rfc3339("2026-12-01T00:30:00+01:00").unwrap();
        let (name, start, next) = at.month().unwrap();
        assert_eq!(name, "2026-11", "the last half hour of November in UTC");
        assert_eq!((start.rfc3339(), next.rfc3339()), ("2026-11-01T00:00:00Z".into(), "2026-12-01T00:00:00Z".into()));
        let (name, _, next) = Instant::parse_rfc3339("2026-12-31T23:59:59Z").unwrap().month().unwrap();
        assert_eq!((name.as_str(), next.rfc3339().as_str()), ("2026-12", "2027-01-01T00:00:00Z"));
    }

    #[test]
    fn refuses_impossible_times_with_their_cause() {
        for bad in [
            "",
            "2026-11-21",
            "2026-13-01T00:00:00Z",
            "2026-02-31T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-21T24:00:01Z",
            "2026-11-21T03:00:12+99:99",
            "2026-11-21T03:00:12",
            "yesterday",
        ] {
            let err = Instant::parse_rfc3339(bad).unwrap_err().to_string();
            assert!(!err.is_empty(), "{bad}");
        }
    }

    #[test]
    fn durations() {
        assert_eq!(Duration::parse("1y2m3d4h").unwrap(), Duration { years: 1, months: 2, days: 3, hours: 4 });
        assert_eq!(Duration::parse("30d").unwrap().to_string(), "30d");
        for bad in ["", "30", "d", "30x", "-3d"] {
            assert!(Duration::parse(bad).is_err(), "{bad}");
        }
    }
}
