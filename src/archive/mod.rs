//! Archive jobs: fetch a zip over HTTPS, check it, archive the dump as a
//! dated tar.gz at a destination, keep archives by a retention policy, and
//! tell people. `plan` decides and changes nothing; `apply` acts, exactly
//! as planned; `run` is the log both read and write.

pub mod apply;
pub mod destination;
pub mod fetch;
pub mod job;
pub mod lock;
pub mod pack;
pub mod pattern;
pub mod plan;
pub mod retention;
pub mod run;
