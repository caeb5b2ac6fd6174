//! `parc demo`: the generator lives in [`crate::demo`].

pub use crate::demo::{run, DemoArgs};
