//! Bytes that are not UTF-8, kept readable: each such byte becomes `\xNN`
//! (as `ls -b` and Python's `backslashreplace` write it). Tools print what
//! the kernel and firmware give them — Latin-1 file names, stray bytes in a
//! USB bridge's model string — and one odd byte must never cost a host its data.

use std::borrow::Cow;

/// Where the text goes, which decides how the backslash is written.
#[derive(Clone, Copy)]
pub enum Into {
    /// Plain text: `\xNN`.
    Text,
    /// Inside a JSON string literal: `\\xNN`, which reads back as `\xNN`.
    /// Bytes that are not UTF-8 only ever occur inside a tool's JSON strings.
    JsonString,
}

/// `bytes` as text, and how many bytes had to be escaped.
pub fn escape_invalid(bytes: &[u8], into: Into) -> (Cow<'_, str>, usize) {
    if let Ok(text) = std::str::from_utf8(bytes) {
        return (Cow::Borrowed(text), 0);
    }
    let mut text = String::with_capacity(bytes.len() + 16);
    let mut escaped = 0;
    for chunk in bytes.utf8_chunks() {
        text.push_str(chunk.valid());
        for &b in chunk.invalid() {
            match into {
                Into::Text => text.push_str(&format!("\\x{b:02x}")),
                Into::JsonString => text.push_str(&format!("\\\\x{b:02x}")),
            }
            escaped += 1;
        }
    }
    (Cow::Owned(text), escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_odd_byte_becomes_a_readable_escape() {
        assert_eq!(escape_invalid(b"caf\xe9", Into::Text), (Cow::Borrowed("caf\\xe9"), 1));
        assert_eq!(escape_invalid("café".as_bytes(), Into::Text), (Cow::Borrowed("café"), 0));
        let (json, n) = escape_invalid(b"{\"m\":\"A\xff\xfeB\"}", Into::JsonString);
        assert_eq!(n, 2);
        let value: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(value["m"], "A\\xff\\xfeB");
    }
}
