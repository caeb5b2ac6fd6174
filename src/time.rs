//! Instants as the snapshots write them (RFC 3339), without a date crate:
//! parc only needs to order them, subtract them and print them in UTC.

use std::fmt;

/// A point in time, in whole seconds since the Unix epoch (UTC).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct Instant(pub i64);

impl Instant {
    /// Parses `2026-11-21T03:00:12+01:00`, `…Z`, with optional fractional seconds.
    pub fn parse_rfc3339(s: &str) -> Option<Instant> {
        let b = s.as_bytes();
        if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
            return None;
        }
        let num = |r: std::ops::Range<usize>| -> Option<i64> {
            let part = s.get(r)?;
            part.bytes().all(|c| c.is_ascii_digit()).then(|| part.parse().ok())?
        };
        let (year, month, day) = (num(0..4)?, num(5..7)?, num(8..10)?);
        if b[13] != b':' || b[16] != b':' {
            return None;
        }
        let (hour, min, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) || hour > 23 || min > 59 || sec > 60 {
            return None;
        }
        let mut rest = &s[19..];
        if let Some(frac) = rest.strip_prefix('.') {
            let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
            if digits == 0 {
                return None;
            }
            rest = &frac[digits..];
        }
        let offset = match rest {
            "Z" | "z" => 0,
            _ => {
                let ob = rest.as_bytes();
                if ob.len() != 6 || ob[3] != b':' {
                    return None;
                }
                let sign = match ob[0] {
                    b'+' => 1,
                    b'-' => -1,
                    _ => return None,
                };
                let h: i64 = rest[1..3].parse().ok()?;
                let m: i64 = rest[4..6].parse().ok()?;
                sign * (h * 3600 + m * 60)
            }
        };
        let days = days_from_civil(year, month, day);
        Some(Instant(days * 86_400 + hour * 3600 + min * 60 + sec - offset))
    }

    /// `2026-11-21T02:00:12Z`: the form parc writes into its JSON.
    pub fn rfc3339(self) -> String {
        let (y, mo, d, h, mi, s) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
    }

    /// `2026-11-21` in UTC, for file names and day buckets.
    pub fn date(self) -> String {
        let (y, mo, d, ..) = self.civil();
        format!("{y:04}-{mo:02}-{d:02}")
    }

    fn civil(self) -> (i64, i64, i64, i64, i64, i64) {
        let days = self.0.div_euclid(86_400);
        let secs = self.0.rem_euclid(86_400);
        let (y, mo, d) = civil_from_days(days);
        (y, mo, d, secs / 3600, secs % 3600 / 60, secs % 60)
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.rfc3339())
    }
}

// Howard Hinnant's civil calendar algorithms (public domain).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::Instant;

    #[test]
    fn parses_offsets_and_prints_utc() {
        let t = Instant::parse_rfc3339("2026-11-21T03:00:12+01:00").unwrap();
        assert_eq!(t.rfc3339(), "2026-11-21T02:00:12Z");
        assert_eq!(Instant::parse_rfc3339("2026-11-21T02:00:12.5Z"), Some(t));
        assert_eq!(Instant::parse_rfc3339("1970-01-01T00:00:00Z"), Some(Instant(0)));
        assert_eq!(Instant::parse_rfc3339("2000-02-29T00:00:00Z").unwrap().date(), "2000-02-29");
    }

    #[test]
    fn rejects_what_is_not_rfc3339() {
        for bad in
            ["", "2026-11-21", "2026-13-01T00:00:00Z", "2026-11-21T03:00:12", "2026-11-21T03:00:12+0100", "yesterday"]
        {
            assert_eq!(Instant::parse_rfc3339(bad), None, "{bad}");
        }
    }
}
