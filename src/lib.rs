//! parc: snapshots of a fleet of Linux machines in, a static site and JSON API out.
//!
//! The build is a row of stages, one module each: [`source`] discovers every
//! version of every snapshot, [`parse`] reads them (with [`snapshot`]'s
//! parsers and the [`cache`]), [`fleet`] assembles the versioned data tree,
//! [`derive`] decides what it means (risk, moves, backups), and [`render`]
//! writes the site. [`pipeline`] runs them in order.

pub mod archive;
pub mod assemble;
pub mod cache;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod derive;
pub mod escape;
pub mod fleet;
pub mod http;
pub mod mail;
pub mod parse;
pub mod pipeline;
pub mod problem;
pub mod progress;
pub mod render;
pub mod secret;
pub mod slug;
pub mod snapshot;
pub mod source;
pub mod time;

/// What identifies this parc program: its version and a hash of its own
/// executable. Caches and the no-change check carry it, so that they never
/// outlive a change of the program, even one that kept the version number
/// (a development build, CI building a new commit with `.parc-cache` kept).
pub fn build_id() -> &'static str {
    use sha2::{Digest, Sha256};
    static ID: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe().and_then(std::fs::read).map(Sha256::digest);
        match exe {
            Ok(hash) => format!("{}+{:x}", env!("CARGO_PKG_VERSION"), hash),
            Err(_) => env!("CARGO_PKG_VERSION").to_string(),
        }
    })
}
