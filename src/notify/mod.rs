//! Escalation mails, sent as planned (`plan::escalation` decides which steps
//! are due, `plan::silence` who asked not to be told for a while), and
//! recorded in `notify.json` snapshots so that a step is never sent twice.

pub mod send;
