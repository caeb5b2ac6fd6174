//! parc: snapshots of a fleet of Linux machines in, a static site and JSON API out.
//!
//! The build is a row of stages, one module each: [`source`] discovers every
//! version of every snapshot, [`parse`] reads them (with [`snapshot`]'s
//! parsers and the [`cache`]), [`fleet`] assembles the versioned data tree,
//! [`derive`] decides what it means (risk, moves, backups), and [`render`]
//! writes the site. [`pipeline`] runs them in order.

pub mod assemble;
pub mod cache;
pub mod cli;
pub mod collect;
pub mod config;
pub mod demo;
pub mod derive;
pub mod escape;
pub mod fleet;
pub mod parse;
pub mod pipeline;
pub mod problem;
pub mod render;
pub mod slug;
pub mod snapshot;
pub mod source;
pub mod time;
