//! Archive runs, carried out as planned (`plan::archive` decides): fetch a
//! zip over HTTPS, check it, archive the dump as a dated tar.gz at a
//! destination, prune by the policy, and tell people; `run` writes each
//! run's log.

pub mod apply;
pub mod destination;
pub mod fetch;
pub mod lock;
pub mod pack;
pub mod run;
