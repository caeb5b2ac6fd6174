//! `apt-get --print-uris -y dist-upgrade` (no root needed): what the pending
//! upgrades would download, file by file with its size, and the change on
//! disk apt announces. `apt-get -s` prints neither.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Downloads {
    /// Each `.deb` to fetch: its package and its size in bytes.
    pub files: Vec<(String, u64)>,
    /// Their sum.
    pub bytes: u64,
    /// "After this operation, 189 MB of additional disk space will be used"
    /// (apt 3: "Space needed: 189 MB / …"); negative when space is freed.
    pub disk_change: Option<i64>,
}

pub fn parse(text: &str) -> Downloads {
    let mut d = Downloads::default();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('\'') {
            // 'URI' name_version_arch.deb SIZE HASH
            let words: Vec<&str> = line.split_whitespace().collect();
            let (Some(file), Some(size)) = (words.get(1), words.get(2).and_then(|s| s.parse::<u64>().ok())) else {
                continue;
            };
            let package = file.split('_').next().unwrap_or(file).to_string();
            d.bytes += size;
            d.files.push((package, size));
        } else if let Some(rest) = line.strip_prefix("After this operation, ") {
            let freed = rest.contains("will be freed");
            let size = rest.split(" of additional").next().unwrap_or(rest);
            let size = size.split(" disk space").next().unwrap_or(size);
            d.disk_change = bytes(size).map(|b| if freed { -(b as i64) } else { b as i64 });
        } else if let Some(rest) = line.strip_prefix("Space needed:") {
            d.disk_change = bytes(rest.split('/').next().unwrap_or(rest)).map(|b| b as i64);
        }
    }
    d
}

/// apt's sizes: `0 B`, `302 kB`, `94.7 MB`, `1,234 kB` (SI units, as apt prints them).
fn bytes(text: &str) -> Option<u64> {
    let mut words = text.split_whitespace();
    let number: f64 = words.next()?.replace(',', "").parse().ok()?;
    let unit = match words.next()? {
        "B" => 1.0,
        "kB" => 1e3,
        "MB" => 1e6,
        "GB" => 1e9,
        "TB" => 1e12,
        _ => return None,
    };
    Some((number * unit).round() as u64)
}

/// `du -sb --exclude=partial /var/cache/apt/archives`: what `apt-get clean` frees.
pub fn archives_bytes(text: &str) -> Option<u64> {
    text.split_whitespace().next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_in_both_forms_and_freed_space() {
        let d = parse(
            "Need to get 94.7 MB of archives.\nAfter this operation, 189 MB of additional disk space will be used.\n\
             'http://deb.debian.org/debian/pool/main/l/linux-signed-amd64/linux-image-6.1.0-27-amd64_6.1.115-1_amd64.deb' linux-image-6.1.0-27-amd64_6.1.115-1_amd64.deb 69219384 SHA256:ab\n\
             'http://deb.debian.org/debian/pool/main/t/tzdata/tzdata_2024b-0%2bdeb12u1_all.deb' tzdata_2024b-0+deb12u1_all.deb 255796 SHA256:cd\n",
        );
        assert_eq!(d.bytes, 69_475_180);
        assert_eq!(d.files[0], ("linux-image-6.1.0-27-amd64".to_string(), 69_219_384));
        assert_eq!(d.disk_change, Some(189_000_000));
        assert_eq!(parse("After this operation, 1,024 kB disk space will be freed.\n").disk_change, Some(-1_024_000));
        assert_eq!(parse("  Space needed: 12.5 MB / 20.0 GB available\n").disk_change, Some(12_500_000));
        assert_eq!(parse("'cut\n' x.deb notanumber\n").files, []);
        assert_eq!(archives_bytes("83412992\t/var/cache/apt/archives\n"), Some(83_412_992));
    }
}
