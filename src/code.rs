//! Codes that are also words of a public contract: a finding's kind, a
//! reason's code. Each is an enum in code and its exact string in the JSON
//! API, in finding ids and in the templates that word it.

/// Declares a code enum: each variant with its string, `ALL` of them, and
/// serialization (and a JSON Schema) as that plain string.
macro_rules! codes {
    ($(#[$meta:meta])* pub enum $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                $name::ALL.iter().copied().find(|c| c.as_str() == text).ok_or_else(|| {
                    let known: Vec<&str> = $name::ALL.iter().map(|c| c.as_str()).collect();
                    serde::de::Error::custom(format!("unknown {} {text:?} (known: {})", stringify!($name), known.join(", ")))
                })
            }
        }

        impl schemars::JsonSchema for $name {
            fn schema_name() -> std::borrow::Cow<'static, str> {
                <String as schemars::JsonSchema>::schema_name()
            }

            fn inline_schema() -> bool {
                true
            }

            fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
                <String as schemars::JsonSchema>::json_schema(generator)
            }
        }
    };
}

pub(crate) use codes;

/// The names in a template's `if X == "name"` branches: the codes it has words for.
#[cfg(test)]
pub fn worded<'t>(template: &'t str, subject: &str) -> Vec<&'t str> {
    let needle = format!("{subject} == \"");
    template.match_indices(&needle).filter_map(|(at, _)| template[at + needle.len()..].split('"').next()).collect()
}
