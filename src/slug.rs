//! Safe file names derived from data. A slug is `[a-z0-9-]` only, so it can
//! never climb out of a folder or carry markup; when the readable part lost
//! anything, a hash of the original keeps different names apart.

use sha2::{Digest, Sha256};

pub fn slug(name: &str) -> String {
    let readable = readable(name);
    if readable == name && !readable.is_empty() {
        readable
    } else if readable.is_empty() {
        format!("x-{}", short_hash(name))
    } else {
        format!("{readable}-{}", short_hash(name))
    }
}

/// A slug that always carries the hash, for names built from several fields.
pub fn hashed_slug(readable_part: &str, identity: &str) -> String {
    let r = readable(readable_part);
    if r.is_empty() {
        format!("x-{}", short_hash(identity))
    } else {
        format!("{r}-{}", short_hash(identity))
    }
}

fn readable(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars() {
        match c {
            'a'..='z' | '0'..='9' => out.push(c),
            'A'..='Z' => out.push(c.to_ascii_lowercase()),
            _ if !out.is_empty() && !out.ends_with('-') => out.push('-'),
            _ => {}
        }
        if out.len() >= 48 {
            break;
        }
    }
    out.trim_end_matches('-').to_string()
}

pub fn short_hash(s: &str) -> String {
    hash(s, 4)
}

/// The first `bytes` bytes of the SHA-256 of `s`, in hex.
pub fn hash(s: &str, bytes: usize) -> String {
    let digest = Sha256::digest(s.as_bytes());
    hex::encode(&digest[..bytes.min(32)])
}

/// Makes slugs unique. `items` are (identity, slug) pairs with distinct
/// identities; the result is each item's slug, in order. A 32-bit hash can
/// collide, and a name can read like another's slug (`PVE1` becomes
/// `pve1-<hash>`, which a host may be named): slugs that several items share
/// get a wider hash of their identity, wider again until none is shared, so
/// one page never overwrites another. Unshared slugs never change.
pub fn unique(items: &[(&str, &str)]) -> Vec<String> {
    let mut slugs: Vec<String> = items.iter().map(|(_, slug)| slug.to_string()).collect();
    for width in [8, 16, 32] {
        let mut count: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
        for slug in &slugs {
            *count.entry(slug.as_str()).or_default() += 1;
        }
        let shared: Vec<usize> = (0..slugs.len()).filter(|&i| count[slugs[i].as_str()] > 1).collect();
        if shared.is_empty() {
            break;
        }
        for i in shared {
            slugs[i] = format!("{}-{}", items[i].1, hash(items[i].0, width));
        }
    }
    slugs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_safe_and_distinct() {
        assert_eq!(slug("pve1"), "pve1");
        for hostile in ["../../etc", "<script>alert(1)</script>", "..", "", "/", "a\0b", "Ünïcödé"] {
            let s = slug(hostile);
            assert!(
                !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
                "{hostile:?} → {s}"
            );
        }
        assert_ne!(slug("PVE1"), slug("pve1"));
        assert_ne!(slug("a b"), slug("a/b"));
    }

    #[test]
    fn colliding_slugs_are_widened_until_unique() {
        // A name that reads like another name's slug: a real collision, no luck needed.
        let taken = slug("PVE1");
        assert!(taken.starts_with("pve1-"));
        let items = [("PVE1", taken.as_str()), (taken.as_str(), slug(&taken).leak() as &str), ("pve2", "pve2")];
        assert_eq!(items[0].1, items[1].1, "the collision is real");
        let slugs = unique(&items);
        assert_ne!(slugs[0], slugs[1]);
        assert_eq!(slugs[2], "pve2", "an unshared slug never changes");
        // Forced: three identities given one slug.
        let forced = unique(&[("a", "x-00000000"), ("b", "x-00000000"), ("c", "x-00000000")]);
        let distinct: std::collections::HashSet<&String> = forced.iter().collect();
        assert_eq!(distinct.len(), 3, "{forced:?}");
        assert!(forced.iter().all(|s| s.starts_with("x-00000000-")));
    }
}
