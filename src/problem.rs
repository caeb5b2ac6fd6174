//! Problems: bad input that parc reports and builds around.

use serde::{Deserialize, Serialize};

/// One thing wrong with the input, named by where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Problem {
    /// The file (or `git:<commit>:<path>`) the problem was found in.
    pub path: String,
    /// What is wrong, in words.
    pub cause: String,
}

impl Problem {
    pub fn new(path: impl Into<String>, cause: impl Into<String>) -> Problem {
        Problem { path: path.into(), cause: cause.into() }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.path, self.cause)
    }
}

/// An error with every cause in its source chain: Tera and openssh keep the
/// useful part there.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}
