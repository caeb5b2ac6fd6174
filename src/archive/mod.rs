//! What an archive run is made of: fetching a zip over HTTPS (`fetch`),
//! archiving the dump as a tar.gz (`pack`), the destinations it goes to
//! (`destination`), and each run's log (`run`). `plan::archive` decides a
//! run; `action::archive` carries it out, step by step.

pub mod destination;
pub mod fetch;
pub mod pack;
pub mod run;
