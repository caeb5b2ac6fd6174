//! Faults on purpose, for the tests of what parc does when it fails where it
//! never should (a panic after an upload): `PARC_FAILPOINT=<name>` panics at
//! the point of that name. Debug builds only; a release build has none.

/// Panics when `PARC_FAILPOINT` names this point (debug builds).
#[inline]
pub fn hit(name: &str) {
    #[cfg(debug_assertions)]
    if std::env::var_os("PARC_FAILPOINT").is_some_and(|v| v == name) {
        panic!("failpoint {name}");
    }
    #[cfg(not(debug_assertions))]
    let _ = name;
}
