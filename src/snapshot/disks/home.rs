//! `du -sb /home/*`: one line per home, `bytes<TAB>path`.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct HomeUsage {
    /// The folder's name, which is the user's by convention.
    pub user: String,
    pub path: String,
    pub bytes: u64,
}

pub fn parse(text: &str) -> Vec<HomeUsage> {
    let mut homes: Vec<HomeUsage> = text
        .lines()
        .filter_map(|line| {
            let (bytes, path) = line.split_once(char::is_whitespace)?;
            let bytes = bytes.trim().parse().ok()?;
            let path = path.trim();
            let user = path.trim_end_matches('/').rsplit('/').next()?.to_string();
            (!user.is_empty() && user != "lost+found").then(|| HomeUsage { user, path: path.to_string(), bytes })
        })
        .collect();
    homes.sort_by(|a, b| a.user.cmp(&b.user));
    homes
}
