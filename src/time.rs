//! Instants as the snapshots write them (RFC 3339 with an offset), read and
//! printed with jiff: an impossible date (`2026-02-31`) or offset (`+99:99`)
//! is refused with its cause, never wrapped into another day.

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
    pub fn parse_rfc3339(s: &str) -> Result<Instant, String> {
        let at: jiff::Timestamp = s.parse().map_err(|e: jiff::Error| e.to_string())?;
        Ok(Instant(at.as_second()))
    }

    /// `2026-11-21T02:00:12Z`: the form parc writes into its JSON.
    pub fn rfc3339(self) -> String {
        self.format("%Y-%m-%dT%H:%M:%SZ")
    }

    /// `2026-11-21` in UTC, for file names and day buckets.
    pub fn date(self) -> String {
        self.format("%Y-%m-%d")
    }

    fn format(self, pattern: &str) -> String {
        match jiff::Timestamp::from_second(self.0) {
            Ok(at) => at.strftime(pattern).to_string(),
            // Outside jiff's range (years -9999 to 9999): no snapshot gets here,
            // since every instant was parsed by jiff first.
            Err(_) => format!("@{}", self.0),
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

#[cfg(test)]
mod tests {
    use super::Instant;

    #[test]
    fn parses_offsets_and_prints_utc() {
        let t = Instant::parse_rfc3339("2026-11-21T03:00:12+01:00").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-21T02:00:12Z");
        assert_eq!(Instant::parse_rfc3339("2026-11-21T02:00:12.5Z"), Ok(t));
        assert_eq!(Instant::parse_rfc3339("1970-01-01T00:00:00Z"), Ok(Instant(0)));
        assert_eq!(Instant::parse_rfc3339("2000-02-29T00:00:00Z").unwrap().date(), "2000-02-29");
        assert_eq!(Instant(-1).rfc3339(), "1969-12-31T23:59:59Z");
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
            let err = Instant::parse_rfc3339(bad).unwrap_err();
            assert!(!err.is_empty(), "{bad}");
        }
    }
}
