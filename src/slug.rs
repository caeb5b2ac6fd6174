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
    let digest = Sha256::digest(s.as_bytes());
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
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
}
