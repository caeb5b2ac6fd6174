//! `site.redact`: the data a site is rendered from, without what a reader of
//! a fleet's inventory could use against it — addresses, user names and
//! package versions. It runs between the plan and the render, on the data
//! itself, so that every page and JSON file, whatever it shows, is made from
//! data that no longer holds them.
//!
//! Fields that hold one of them are emptied (a version, an address, a URL
//! down to its scheme); user names become `user1`, `user2`… (the same on
//! every page); free text (a probe's cause, an error, a finding's values)
//! keeps its words, less every address and every name and version the
//! fleet's data holds.

use crate::derive::Derived;
use crate::fleet::Fleet;
use crate::plan::escalation::Sent;
use crate::plan::silence::Silences;
use crate::plan::Plan;
use std::collections::{BTreeSet, HashMap};
use std::net::IpAddr;

/// What a redacted value is shown as.
pub const HIDDEN: &str = "…";

/// Removes addresses, user names and package versions from everything a
/// site is rendered from.
pub fn redact(
    fleet: &mut Fleet,
    derived: &mut Derived,
    plan: Option<&mut Plan>,
    silences: &mut Silences,
    sent: &mut [Sent],
) {
    let words = Words::of(fleet, derived, plan.as_deref(), silences);
    for host in &mut fleet.hosts {
        words.host(host);
    }
    for problem in &mut fleet.problems {
        words.text(&mut problem.cause);
    }
    for b in derived.backup.iter_mut().chain(&mut derived.healthy_homes) {
        b.user = words.user(&b.user);
        words.text(&mut b.path);
    }
    let findings = derived.findings.iter_mut().chain(derived.closed.iter_mut().map(|c| &mut c.finding));
    for f in findings {
        f.values.values_mut().for_each(|v| words.value(v));
        f.evidence.iter_mut().for_each(|e| words.value(&mut e.value));
    }
    for state in derived.apt.iter_mut().flatten() {
        for r in &mut state.reasons {
            r.values.values_mut().for_each(|v| words.value(v));
        }
    }
    if let Some(plan) = plan {
        words.plan(plan);
    }
    for s in &mut silences.silences {
        s.by = HIDDEN.into();
        words.text(&mut s.reason);
    }
    for s in sent {
        if let Some(a) = &mut s.answer {
            words.text(&mut a.output);
        }
    }
}

/// The fleet's user names (with their stand-ins), versions and addresses:
/// what free text is cleaned of.
struct Words {
    users: HashMap<String, String>,
    /// Versions and addresses, as whole tokens.
    hidden: BTreeSet<String>,
}

impl Words {
    fn of(fleet: &Fleet, derived: &Derived, plan: Option<&Plan>, silences: &Silences) -> Words {
        let mut names = BTreeSet::new();
        let mut hidden = BTreeSet::new();
        for host in &fleet.hosts {
            let homes = host.disks.iter().flat_map(|d| &d.homes);
            names.extend(homes.map(|h| h.user.clone()));
            if let Some(s) = &host.system {
                hidden.extend(s.kernel.clone());
                for a in &s.addresses {
                    hidden.insert(a.address.clone());
                    hidden.extend(a.address.split('/').next().map(str::to_string));
                }
            }
            if let Some(apt) = &host.apt {
                let facts = &apt.newest;
                if let Some(inventory) = &facts.inventory {
                    let mut text = None;
                    hidden.extend(inventory.packages(&mut text).iter().map(|p| p.version.to_string()));
                }
                let sims = facts.upgrade.iter().chain(&facts.dist_upgrade);
                for a in sims.flat_map(|s| &s.actions) {
                    hidden.extend(a.from.iter().chain(&a.to).cloned());
                }
                for c in &apt.changes {
                    hidden.extend(c.from.iter().chain(&c.to).cloned());
                }
                if let Some(n) = &facts.needrestart {
                    hidden.extend(n.kernel_current.iter().chain(&n.kernel_expected).cloned());
                }
            }
            for r in &host.archives {
                hidden.extend(url_names(&r.run.url).chain(url_names(&r.run.destination)));
            }
            for u in &host.updates {
                hidden.extend(u.run.changed.iter().flat_map(|c| c.from.iter().chain(&c.to)).cloned());
            }
        }
        for j in plan.iter().flat_map(|p| &p.jobs) {
            hidden.extend(url_names(&j.url).chain(url_names(&j.destination)));
        }
        names.extend(derived.backup.iter().chain(&derived.healthy_homes).map(|b| b.user.clone()));
        // Who silenced a finding: each word of the name and the mail address.
        for s in &silences.silences {
            hidden.extend(s.by.split(|c: char| c.is_whitespace() || "<>@".contains(c)).map(str::to_string));
        }
        hidden.retain(|w| !w.is_empty() && w != HIDDEN);
        let users = names.into_iter().enumerate().map(|(i, n)| (n, format!("user{}", i + 1))).collect();
        Words { users, hidden }
    }

    fn user(&self, name: &str) -> String {
        self.users.get(name).cloned().unwrap_or_else(|| HIDDEN.into())
    }

    /// Every address, user name and version in `text`, replaced.
    fn text(&self, text: &mut String) {
        if let Some(clean) = self.clean(text) {
            *text = clean;
        }
    }

    fn shared(&self, text: &mut crate::store::Shared) {
        if let Some(clean) = self.clean(text) {
            *text = clean.into();
        }
    }

    fn opt(&self, text: &mut Option<String>) {
        if let Some(t) = text {
            self.text(t);
        }
    }

    fn value(&self, value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => self.text(s),
            serde_json::Value::Array(a) => a.iter_mut().for_each(|v| self.value(v)),
            serde_json::Value::Object(o) => o.values_mut().for_each(|v| self.value(v)),
            _ => {}
        }
    }

    /// `text` cleaned, or `None` when it holds nothing to clean. A token is a
    /// run of the characters names, versions and addresses are made of; a
    /// sentence's full stop or colon after one is not part of it.
    fn clean(&self, text: &str) -> Option<String> {
        let is_part = |c: char| c.is_alphanumeric() || "._-+~:%".contains(c);
        let mut out = String::with_capacity(text.len());
        let mut changed = false;
        let mut rest = text;
        while let Some(start) = rest.find(is_part) {
            out.push_str(&rest[..start]);
            rest = &rest[start..];
            let end = rest.find(|c: char| !is_part(c)).unwrap_or(rest.len());
            let (token, after) = rest.split_at(end);
            let word = token.trim_end_matches(['.', ':']);
            let tail = &token[word.len()..];
            match self.replacement(word) {
                Some(r) => {
                    out.push_str(&r);
                    changed = true;
                }
                None => out.push_str(word),
            }
            out.push_str(tail);
            rest = after;
        }
        out.push_str(rest);
        changed.then_some(out)
    }

    fn replacement(&self, word: &str) -> Option<String> {
        if let Some(u) = self.users.get(word) {
            return Some(u.clone());
        }
        (self.hidden.contains(word) || is_address(word)).then(|| HIDDEN.to_string())
    }

    fn host(&self, host: &mut crate::fleet::Host) {
        if let Some(s) = &mut host.system {
            s.addresses.clear();
            s.kernel = None;
        }
        host.timeline.edit(|timeline| {
            for v in timeline {
                v.kernel = None;
                v.use_percent.iter_mut().for_each(|(mount, _)| self.shared(mount));
            }
        });
        if let Some(d) = &mut host.disks {
            for h in &mut d.homes {
                h.user = self.user(&h.user);
                self.text(&mut h.path);
            }
            d.filesystems.iter_mut().for_each(|f| self.text(&mut f.target));
            let mut devices: Vec<_> = d.devices.iter_mut().collect();
            while let Some(dev) = devices.pop() {
                dev.mountpoints.iter_mut().for_each(|m| self.text(m));
                devices.extend(dev.children.iter_mut());
            }
        }
        if let Some(home) = &mut host.home_mount {
            self.text(home);
        }
        for f in &mut host.failures {
            self.text(&mut f.cause);
        }
        for p in &mut host.probes_broken {
            self.text(&mut p.cause);
        }
        if let Some(u) = &mut host.unreachable {
            u.reach.destination = HIDDEN.into();
            u.reach.error = HIDDEN.into();
        }
        if let Some(apt) = &mut host.apt {
            self.apt(apt);
        }
        for r in &mut host.archives {
            let run = &mut r.run;
            run.url = scheme(&run.url);
            run.destination = scheme(&run.destination);
            self.opt(&mut run.cause);
            for s in &mut run.steps {
                self.opt(&mut s.detail);
                self.opt(&mut s.error);
            }
            if let Some(d) = &mut run.delete_failed {
                self.text(&mut d.cause);
            }
        }
        for u in &mut host.updates {
            let run = &mut u.run;
            self.opt(&mut run.cause);
            for s in &mut run.steps {
                self.opt(&mut s.detail);
                self.opt(&mut s.error);
            }
            for c in &mut run.changed {
                hide(&mut c.from);
                hide(&mut c.to);
            }
        }
    }

    fn apt(&self, apt: &mut crate::fleet::apt::AptHistory) {
        for c in &mut apt.changes {
            hide(&mut c.from);
            hide(&mut c.to);
        }
        for a in &mut apt.anomalies {
            a.version = HIDDEN.into();
        }
        let facts = &mut apt.newest;
        if let Some(inventory) = &facts.inventory {
            facts.inventory = Some(inventory.without_versions(HIDDEN));
        }
        for sim in [&mut facts.upgrade, &mut facts.dist_upgrade].into_iter().flatten() {
            let mut s = (**sim).clone();
            for a in &mut s.actions {
                hide(&mut a.from);
                hide(&mut a.to);
            }
            s.errors.iter_mut().chain(&mut s.warnings).for_each(|e| self.text(e));
            *sim = std::sync::Arc::new(s);
        }
        if let Some(u) = &mut facts.update {
            u.errors.iter_mut().chain(&mut u.warnings).for_each(|e| self.text(e));
        }
        if let Some(n) = &mut facts.needrestart {
            hide(&mut n.kernel_current);
            hide(&mut n.kernel_expected);
        }
        for s in &mut facts.sources {
            s.uris.iter_mut().for_each(|u| *u = scheme(u));
        }
    }

    fn plan(&self, plan: &mut Plan) {
        for j in &mut plan.jobs {
            j.url = scheme(&j.url);
            j.destination = scheme(&j.destination);
            self.text(&mut j.reason);
        }
        for u in &mut plan.updates {
            self.text(&mut u.reason);
            for p in &mut u.packages {
                hide(&mut p.from);
                hide(&mut p.to);
            }
        }
        for n in &mut plan.notifications {
            n.findings.iter_mut().for_each(|f| self.text(&mut f.text));
        }
    }
}

/// A version that is there, hidden; one that is not stays absent.
fn hide(version: &mut Option<String>) {
    if version.is_some() {
        *version = Some(HIDDEN.into());
    }
}

/// A URL down to its scheme: `sftp://backup@10.0.0.9/srv` is `sftp://…`.
fn scheme(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, _)) => format!("{scheme}://{HIDDEN}"),
        None => HIDDEN.into(),
    }
}

/// The user and the host a URL names: `sftp://backup@nas.example:22/srv`
/// names `backup` and `nas.example`.
fn url_names(url: &str) -> impl Iterator<Item = String> + '_ {
    let authority = url.split_once("://").map(|(_, rest)| rest.split('/').next().unwrap_or(rest));
    let (user, host) = match authority.map(|a| a.rsplit_once('@')) {
        Some(Some((user, host))) => (Some(user.split(':').next().unwrap_or(user)), Some(host)),
        Some(None) => (None, authority),
        None => (None, None),
    };
    let host = host.map(|h| match h.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(v6),
        None => h.split(':').next().unwrap_or(h),
    });
    user.into_iter().chain(host).filter(|w| !w.is_empty()).map(str::to_string)
}

/// An IPv4 or IPv6 address, with or without a port, a zone or brackets.
fn is_address(word: &str) -> bool {
    let bare = word.trim_start_matches('[').split(['%', ']']).next().unwrap_or(word);
    if bare.parse::<IpAddr>().is_ok() {
        return true;
    }
    // `192.0.2.10:22`
    bare.rsplit_once(':').is_some_and(|(ip, port)| {
        !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) && ip.parse::<std::net::Ipv4Addr>().is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(users: &[&str], hidden: &[&str]) -> Words {
        Words {
            users: users.iter().enumerate().map(|(i, u)| (u.to_string(), format!("user{}", i + 1))).collect(),
            hidden: hidden.iter().map(|h| h.to_string()).collect(),
        }
    }

    #[test]
    fn free_text_keeps_its_words_less_names_versions_and_addresses() {
        let w = words(&["anna"], &["3.0.11-1~deb12u2"]);
        let clean = |t: &str| w.clean(t).unwrap_or_else(|| t.to_string());
        assert_eq!(clean("du: cannot read /home/anna/.cache"), "du: cannot read /home/user1/.cache");
        assert_eq!(clean("openssl 3.0.11-1~deb12u2."), "openssl ….");
        assert_eq!(
            clean("ssh: connect to host 192.0.2.10 port 22: Connection refused"),
            "ssh: connect to host … port 22: Connection refused"
        );
        assert_eq!(clean("to [2001:db8::1]:22 and 10.0.0.5:443, fe80::1%eth0"), "to […]:22 and …, …");
        // A host named after its user keeps its name: a token is the whole run.
        assert_eq!(w.clean("ws-anna is at 6.1.0"), None);
    }

    #[test]
    fn a_url_names_its_user_and_host() {
        let names = |u| url_names(u).collect::<Vec<_>>();
        assert_eq!(names("sftp://backup:pw@nas.example:22/srv"), ["backup", "nas.example"]);
        assert_eq!(names("https://[2001:db8::1]:8443/x.zip"), ["2001:db8::1"]);
        assert_eq!(names("/srv/archives"), Vec::<String>::new());
    }

    #[test]
    fn a_url_keeps_its_scheme() {
        assert_eq!(scheme("sftp://backup@nas.example:22/srv"), "sftp://…");
        assert_eq!(scheme("/srv/archives"), "…");
    }
}
