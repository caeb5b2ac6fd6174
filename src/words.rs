//! Counts as the terminal's English reads them: "1 host", "2 hosts".

/// `n` and the noun, singular for one.
pub fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    #[test]
    fn one_is_singular() {
        assert_eq!(super::count(1, "host", "hosts"), "1 host");
        assert_eq!(super::count(0, "problem", "problems"), "0 problems");
        assert_eq!(super::count(2, "archive", "archives"), "2 archives");
    }
}
