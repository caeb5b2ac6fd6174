//! Problems: bad input that parc reports and builds around.

use serde::Serialize;

/// One thing wrong with the input, named by where it is and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
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
