//! `parc demo`: the generator lives in [`crate::demo`].

pub use crate::demo::DemoArgs;

pub fn run(args: &DemoArgs) -> anyhow::Result<u8> {
    crate::demo::run(args)?;
    Ok(super::exit::OK)
}
