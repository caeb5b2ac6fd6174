//! A value's serde parts written as bytes for a hash (`memo.rs`): each part
//! tagged, each string and name length-prefixed, so that two values that
//! differ never write the same bytes. Not JSON: nothing is escaped, no
//! number is formatted, and no field name is scanned for quotes — writing a
//! page's values as JSON cost more than hashing them.

use serde::ser::{self, Serialize};

/// Writes values into the buffer it holds.
pub struct Feed<'a>(pub &'a mut Vec<u8>);

/// What a part of the serializer gives. The error type is serde_json's: only
/// a value's own `Serialize` could raise one, writing into a buffer cannot.
type Made<T> = std::result::Result<T, serde_json::Error>;
type Result = Made<()>;

impl Feed<'_> {
    fn tag(&mut self, tag: u8) {
        self.0.push(tag);
    }

    fn word(&mut self, tag: u8, word: u64) {
        self.0.push(tag);
        self.0.extend_from_slice(&word.to_le_bytes());
    }

    fn bytes(&mut self, tag: u8, bytes: &[u8]) {
        // A length in four bytes: no string comes near 4 GiB (a snapshot is
        // at most `build.max_snapshot_bytes`).
        self.0.push(tag);
        self.0.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        self.0.extend_from_slice(bytes);
    }
}

macro_rules! numbers {
    ($($method:ident: $ty:ty => $tag:literal as $wide:ty),+ $(,)?) => {
        $(fn $method(self, v: $ty) -> Result {
            self.word($tag, v as $wide as u64);
            Ok(())
        })+
    };
}

impl ser::Serializer for &mut Feed<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Self;
    type SerializeTuple = Self;
    type SerializeTupleStruct = Self;
    type SerializeTupleVariant = Self;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    type SerializeStructVariant = Self;

    numbers! {
        serialize_i8: i8 => b'i' as i64, serialize_i16: i16 => b'i' as i64,
        serialize_i32: i32 => b'i' as i64, serialize_i64: i64 => b'i' as i64,
        serialize_u8: u8 => b'u' as u64, serialize_u16: u16 => b'u' as u64,
        serialize_u32: u32 => b'u' as u64, serialize_u64: u64 => b'u' as u64,
    }

    fn serialize_bool(self, v: bool) -> Result {
        self.tag(if v { b't' } else { b'f' });
        Ok(())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.serialize_f64(v.into())
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.word(b'd', v.to_bits());
        Ok(())
    }
    fn serialize_char(self, v: char) -> Result {
        self.serialize_str(v.encode_utf8(&mut [0; 4]))
    }
    fn serialize_str(self, v: &str) -> Result {
        self.bytes(b's', v.as_bytes());
        Ok(())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.bytes(b'b', v);
        Ok(())
    }
    fn serialize_none(self) -> Result {
        self.tag(b'n');
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, v: &T) -> Result {
        self.tag(b'y');
        v.serialize(self)
    }
    fn serialize_unit(self) -> Result {
        self.tag(b'0');
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.bytes(b'v', variant.as_bytes());
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, v: &T) -> Result {
        v.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        v: &T,
    ) -> Result {
        self.bytes(b'v', variant.as_bytes());
        v.serialize(self)
    }
    fn serialize_seq(self, _: Option<usize>) -> Made<Self> {
        self.tag(b'[');
        Ok(self)
    }
    fn serialize_tuple(self, len: usize) -> Made<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Made<Self> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(self, _: &'static str, _: u32, variant: &'static str, len: usize) -> Made<Self> {
        self.bytes(b'v', variant.as_bytes());
        self.serialize_seq(Some(len))
    }
    fn serialize_map(self, _: Option<usize>) -> Made<Self> {
        self.tag(b'{');
        Ok(self)
    }
    fn serialize_struct(self, _: &'static str, len: usize) -> Made<Self> {
        self.serialize_map(Some(len))
    }
    fn serialize_struct_variant(self, _: &'static str, _: u32, variant: &'static str, len: usize) -> Made<Self> {
        self.bytes(b'v', variant.as_bytes());
        self.serialize_map(Some(len))
    }
}

/// Sequences and tuples: their elements, then an end that no element begins with.
macro_rules! sequence {
    ($($trait:ident :: $method:ident),+) => {
        $(impl ser::$trait for &mut Feed<'_> {
            type Ok = ();
            type Error = serde_json::Error;
            fn $method<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
                v.serialize(&mut **self)
            }
            fn end(self) -> Result {
                self.tag(b']');
                Ok(())
            }
        })+
    };
}
sequence!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for &mut Feed<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        key.serialize(&mut **self)
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, v: &T) -> Result {
        v.serialize(&mut **self)
    }
    fn end(self) -> Result {
        self.tag(b'}');
        Ok(())
    }
}

/// Structs: each field written is named; a skipped field is simply absent.
macro_rules! fields {
    ($($trait:ident),+) => {
        $(impl ser::$trait for &mut Feed<'_> {
            type Ok = ();
            type Error = serde_json::Error;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, v: &T) -> Result {
                self.bytes(b'k', key.as_bytes());
                v.serialize(&mut **self)
            }
            fn end(self) -> Result {
                self.tag(b'}');
                Ok(())
            }
        })+
    };
}
fields!(SerializeStruct, SerializeStructVariant);

#[cfg(test)]
mod tests {
    use super::Feed;
    use serde::Serialize;

    fn fed<T: Serialize>(value: &T) -> Vec<u8> {
        let mut buf = Vec::new();
        value.serialize(&mut Feed(&mut buf)).unwrap();
        buf
    }

    #[test]
    fn values_that_differ_feed_different_bytes() {
        #[derive(Serialize)]
        struct Row<'a> {
            name: &'a str,
            size: Option<u64>,
            tags: Vec<&'a str>,
        }
        let row = |name, size, tags| fed(&Row { name, size, tags });
        let base = row("a", Some(1), vec!["x", "y"]);
        assert_eq!(base, row("a", Some(1), vec!["x", "y"]), "the same value, the same bytes");
        // Where JSON escaping or a separator could make two values meet, lengths and tags keep them apart.
        assert_ne!(base, row("a", None, vec!["x", "y"]));
        assert_ne!(base, row("a", Some(1), vec!["xy"]));
        assert_ne!(base, row("a", Some(1), vec!["x", "y", ""]));
        assert_ne!(fed(&("ab", "c")), fed(&("a", "bc")));
        assert_ne!(fed(&("as", "b")), fed(&("a", "sb")), "a string holding a tag");
        assert_ne!(fed(&vec![vec![1u8], vec![]]), fed(&vec![vec![], vec![1u8]]));
        assert_ne!(fed(&Some("")), fed(&None::<&str>));
    }
}
