//! The `reach` kind: a collection over SSH that did not reach its host, as
//! `parc collect --ssh` records it (`snapshots/<host>/reach.json`).

use serde::{Deserialize, Serialize};

/// Why a host could not be reached, in the words a person acts on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Class {
    /// Its name does not resolve.
    Dns,
    /// Nothing listens, or a firewall rejects the connection.
    Refused,
    /// No answer in time: down, or packets dropped on the way.
    Timeout,
    /// No route to the host, or the network is down.
    NoRoute,
    /// The server answered but refused the login.
    Auth,
    /// The host's key is unknown or differs from the known one.
    HostKey,
    /// Anything else; the error's own words say what.
    #[serde(other)]
    Other,
}

impl Class {
    /// The class of OpenSSH's (or the system's) words for a failed connection.
    pub fn of(error: &str) -> Class {
        let e = error.to_ascii_lowercase();
        let has = |words: &[&str]| words.iter().any(|w| e.contains(w));
        if has(&[
            "host key verification failed",
            "remote host identification has changed",
            "host key for",
            "no matching host key",
        ]) {
            Class::HostKey
        } else if has(&[
            "could not resolve hostname",
            "name or service not known",
            "temporary failure in name resolution",
            "no address associated",
            "nodename nor servname",
        ]) {
            Class::Dns
        } else if has(&["connection refused"]) {
            Class::Refused
        } else if has(&["no route to host", "network is unreachable", "host is unreachable"]) {
            Class::NoRoute
        } else if has(&["timed out", "timeout", "no answer within"]) {
            Class::Timeout
        } else if has(&["permission denied", "too many authentication failures", "authentication failed"]) {
            Class::Auth
        } else {
            Class::Other
        }
    }
}

/// One failed collection.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// Where parc tried to reach it (`[user@]host[:port]`).
    pub destination: String,
    pub class: Class,
    /// The error's own words.
    pub error: String,
}

impl Reach {
    /// The `reach` snapshot of `host` at `at`, as `parc collect --ssh` writes it.
    pub fn envelope(&self, host: &str, at: crate::time::Instant) -> serde_json::Value {
        serde_json::json!({
            "schema": super::SCHEMA,
            "kind": "reach",
            "host": host,
            "collected_at": at.rfc3339(),
            "agent": {"version": env!("CARGO_PKG_VERSION"), "mode": "ssh"},
            "reach": self,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Class;

    #[test]
    fn openssh_words_have_their_class() {
        // As OpenSSH 9 and glibc print them.
        let cases = [
            ("ssh: Could not resolve hostname pve9.lan: Name or service not known", Class::Dns),
            ("ssh: Could not resolve hostname pve9: Temporary failure in name resolution", Class::Dns),
            ("ssh: connect to host 127.0.0.1 port 1: Connection refused", Class::Refused),
            ("ssh: connect to host 10.0.0.9 port 22: Connection timed out", Class::Timeout),
            ("no answer within 8 s (ssh.timeout)", Class::Timeout),
            ("ssh: connect to host 10.0.0.9 port 22: No route to host", Class::NoRoute),
            ("root@127.0.0.1: Permission denied (publickey).", Class::Auth),
            ("No ED25519 host key is known for [127.0.0.1]:2222 and you have requested strict checking. Host key verification failed.", Class::HostKey),
            ("@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@", Class::HostKey),
            ("kex_exchange_identification: read: Connection reset by peer", Class::Other),
        ];
        for (words, class) in cases {
            assert_eq!(Class::of(words), class, "{words}");
        }
    }

    #[test]
    fn a_class_this_parc_does_not_know_reads_as_other() {
        let class: Class = serde_json::from_str("\"power\"").unwrap();
        assert_eq!(class, Class::Other);
        assert_eq!(serde_json::to_string(&Class::HostKey).unwrap(), "\"host-key\"");
    }
}
