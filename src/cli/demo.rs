//! `parc demo`: the arguments. The generator is the program's own
//! (`src/demo/`, a module of `main.rs`), not the library's.

#[derive(clap::Args)]
pub struct DemoArgs {
    /// How many hosts.
    #[arg(long, default_value_t = 8)]
    pub hosts: usize,
    /// How many days of history.
    #[arg(long, default_value_t = 30)]
    pub days: u32,
    /// A snapshot every this many days.
    #[arg(long, default_value_t = 1)]
    pub every: u32,
    /// The day of the newest snapshot (YYYY-MM-DD).
    #[arg(long, default_value = "2026-11-21")]
    pub until: String,
    /// Where to write: one folder per host.
    #[arg(long, value_name = "DIR")]
    pub out: std::path::PathBuf,
    /// The kinds to write, comma-separated (`archive`: the file server's nightly `db` job).
    #[arg(long, value_delimiter = ',', default_value = "system,disks,apt,archive")]
    pub kinds: Vec<String>,
    /// Packages in each inventory: the real 707-package one, padded with
    /// copies of its lines under other names when more (a bench's 2,000).
    #[arg(long, default_value_t = 707)]
    pub packages: usize,
}
