//! Ansible inventories as `parc collect --ssh` targets: the INI or YAML
//! file a fleet is already described in, or `ansible-inventory --list`'s
//! JSON. Each host is collected under its inventory name, at its
//! `ansible_host`, `ansible_port` and `ansible_user`, with variables taken
//! as Ansible takes them: the host's own, over its groups' (a child group's
//! over its parent's), over `all`'s.

use std::collections::BTreeMap;
use yaml_rust2::Yaml;

/// A host of the inventory, and where to reach it (`[user@]host[:port]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub destination: String,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("line {line}: {why}")]
    Ini { line: usize, why: String },
    #[error("not YAML: {0}")]
    Yaml(String),
    #[error("not ansible-inventory JSON: {0}")]
    Json(String),
    #[error("{0}")]
    Shape(String),
}

type Vars = BTreeMap<String, String>;

/// Groups and hosts as an inventory file states them, before variables are resolved.
#[derive(Default)]
struct Tree {
    /// Hosts in the order first named.
    hosts: Vec<String>,
    host_vars: BTreeMap<String, Vars>,
    groups: BTreeMap<String, Group>,
}

#[derive(Default)]
struct Group {
    hosts: Vec<String>,
    children: Vec<String>,
    vars: Vars,
}

impl Tree {
    fn host(&mut self, group: &str, name: &str, vars: Vars) {
        if !self.hosts.iter().any(|h| h == name) {
            self.hosts.push(name.to_string());
        }
        self.host_vars.entry(name.to_string()).or_default().extend(vars);
        let hosts = &mut self.groups.entry(group.to_string()).or_default().hosts;
        if !hosts.iter().any(|h| h == name) {
            hosts.push(name.to_string());
        }
    }

    /// Each host with its variables resolved, in the order first named.
    fn resolve(self) -> Vec<(String, Vars)> {
        // A group's depth below `all`: groups named nowhere as a child hang from it.
        let mut depth: BTreeMap<&str, usize> = BTreeMap::new();
        let mut todo: Vec<(&str, usize)> = vec![("all", 0)];
        let named: Vec<&str> = self.groups.values().flat_map(|g| g.children.iter().map(String::as_str)).collect();
        todo.extend(
            self.groups.keys().map(String::as_str).filter(|g| *g != "all" && !named.contains(g)).map(|g| (g, 1)),
        );
        while let Some((group, d)) = todo.pop() {
            if depth.get(group).is_some_and(|&old| old >= d) {
                continue;
            }
            depth.insert(group, d);
            for child in self.groups.get(group).into_iter().flat_map(|g| &g.children) {
                if d < 64 {
                    todo.push((child, d + 1));
                }
            }
        }
        // A host is in its groups and in every group above them.
        let mut parents: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for (name, group) in &self.groups {
            for child in &group.children {
                parents.entry(child.as_str()).or_default().push(name.as_str());
            }
        }
        self.hosts
            .iter()
            .map(|host| {
                let mut member: Vec<&str> = vec!["all"];
                let mut todo: Vec<&str> =
                    self.groups.iter().filter(|(_, g)| g.hosts.contains(host)).map(|(n, _)| n.as_str()).collect();
                while let Some(group) = todo.pop() {
                    if !member.contains(&group) {
                        member.push(group);
                        todo.extend(parents.get(group).into_iter().flatten());
                    }
                }
                let mut groups: Vec<(usize, &str)> = (member.into_iter())
                    .filter(|g| self.groups.contains_key(*g))
                    .map(|g| (depth.get(g).copied().unwrap_or(1), g))
                    .collect();
                groups.sort();
                let mut vars = Vars::new();
                for (_, group) in groups {
                    vars.extend(self.groups[group].vars.clone());
                }
                vars.extend(self.host_vars.get(host).cloned().unwrap_or_default());
                (host.clone(), vars)
            })
            .collect()
    }
}

/// Reads an inventory: `ansible-inventory --list` JSON, a YAML inventory, or an INI one.
pub fn parse(text: &str) -> Result<Vec<Host>, Error> {
    let trimmed = text.trim_start();
    let resolved = if trimmed.starts_with('{') {
        json(text)?
    } else if looks_like_yaml(text) {
        yaml(text)?.resolve()
    } else {
        ini(text)?.resolve()
    };
    Ok(resolved.into_iter().map(|(name, vars)| Host { destination: destination(&name, &vars), name }).collect())
}

/// `[user@]host[:port]` from the variables Ansible connects with.
fn destination(name: &str, vars: &Vars) -> String {
    let get = |keys: [&str; 2]| keys.iter().find_map(|k| vars.get(*k)).filter(|v| !v.is_empty());
    let host = get(["ansible_host", "ansible_ssh_host"]).map_or(name, String::as_str);
    let mut out = String::new();
    if let Some(user) = get(["ansible_user", "ansible_ssh_user"]) {
        out.push_str(user);
        out.push('@');
    }
    // An IPv6 address is bracketed, as `--ssh` takes it: `[::1]:22`.
    if host.contains(':') && !host.starts_with('[') {
        out.push_str(&format!("[{host}]"));
    } else {
        out.push_str(host);
    }
    if let Some(port) = get(["ansible_port", "ansible_ssh_port"]) {
        out.push(':');
        out.push_str(port);
    }
    out
}

/// A YAML inventory's first entry is a group name ending in `:`; an INI
/// file's is a section, a host, or a comment.
fn looks_like_yaml(text: &str) -> bool {
    let first = text.lines().map(str::trim).find(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'));
    first.is_some_and(|l| l == "---" || (l.ends_with(':') && !l.starts_with('[')))
}

fn ini(text: &str) -> Result<Tree, Error> {
    enum Section {
        Hosts(String),
        Vars(String),
        Children(String),
    }
    let mut tree = Tree::default();
    let mut section = Section::Hosts("ungrouped".into());
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let bad = |why: String| Error::Ini { line: i + 1, why };
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(name) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            section = match name.split_once(':') {
                Some((group, "vars")) => Section::Vars(group.to_string()),
                Some((group, "children")) => Section::Children(group.to_string()),
                Some((_, other)) => return Err(bad(format!("a section [{name}]: :{other} is not :vars or :children"))),
                None => Section::Hosts(name.to_string()),
            };
            let (Section::Hosts(g) | Section::Vars(g) | Section::Children(g)) = &section;
            tree.groups.entry(g.clone()).or_default();
            continue;
        }
        let words = words(line).map_err(bad)?;
        match &section {
            Section::Hosts(group) => {
                let (pattern, assignments) = words.split_first().expect("a line with text has a word");
                let mut vars = assignments_of(assignments).map_err(bad)?;
                // `host:port`, as Ansible reads it (not an IPv6 address).
                let pattern = match pattern.rsplit_once(':') {
                    Some((host, port)) if !host.contains(':') && port.bytes().all(|b| b.is_ascii_digit()) => {
                        vars.insert("ansible_port".into(), port.to_string());
                        host
                    }
                    _ => pattern.as_str(),
                };
                for host in expand(pattern).map_err(bad)? {
                    tree.host(group, &host, vars.clone());
                }
            }
            Section::Vars(group) => {
                let vars = assignments_of(&words).map_err(bad)?;
                tree.groups.entry(group.clone()).or_default().vars.extend(vars);
            }
            Section::Children(group) => {
                for child in words {
                    tree.groups.entry(child.clone()).or_default();
                    tree.groups.entry(group.clone()).or_default().children.push(child);
                }
            }
        }
    }
    Ok(tree)
}

/// Words as a shell splits them: quotes keep spaces, and go.
fn words(line: &str) -> Result<Vec<String>, String> {
    let (mut words, mut word, mut quote, mut started) = (Vec::new(), String::new(), None, false);
    for c in line.chars() {
        match (quote, c) {
            (None, '#') if !started => break,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (None, '"' | '\'') => (quote, started) = (Some(c), true),
            (Some(q), c) if c == q => quote = None,
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if quote.is_some() {
        return Err("a quote is not closed".into());
    }
    if started {
        words.push(word);
    }
    Ok(words)
}

fn assignments_of(words: &[String]) -> Result<Vars, String> {
    words
        .iter()
        .map(|w| match w.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(format!("{w:?} is not a key=value variable")),
        })
        .collect()
}

/// `web[01:50].example.com`, `db-[a:f]`, `[1:9:2]`: Ansible's host ranges, each expanded.
fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some((head, rest)) = pattern.split_once('[') else { return Ok(vec![pattern.to_string()]) };
    let Some((range, tail)) = rest.split_once(']') else { return Err(format!("{pattern:?}: a range has no ]")) };
    let parts: Vec<&str> = range.split(':').collect();
    let (start, end, step) = match parts.as_slice() {
        [a, b] => (*a, *b, 1),
        [a, b, s] => (*a, *b, s.parse::<usize>().map_err(|_| format!("{pattern:?}: the step {s:?} is not a number"))?),
        _ => return Err(format!("{pattern:?}: a range is [start:end] or [start:end:step]")),
    };
    let step = step.max(1);
    let items: Vec<String> = match (start.parse::<u64>(), end.parse::<u64>()) {
        (Ok(a), Ok(b)) if a <= b => {
            let width = if start.starts_with('0') { start.len() } else { 0 };
            (a..=b).step_by(step).map(|n| format!("{n:0width$}")).collect()
        }
        _ => {
            let (mut a, mut b) = (start.chars(), end.chars());
            match (a.next(), a.next(), b.next(), b.next()) {
                (Some(a), None, Some(b), None) if a.is_ascii_alphabetic() && a <= b => {
                    (a..=b).step_by(step).map(String::from).collect()
                }
                _ => return Err(format!("{pattern:?}: [{range}] is no range of numbers or letters")),
            }
        }
    };
    let mut out = Vec::new();
    for item in items {
        for rest in expand(tail)? {
            out.push(format!("{head}{item}{rest}"));
        }
    }
    Ok(out)
}

fn yaml(text: &str) -> Result<Tree, Error> {
    let docs = yaml_rust2::YamlLoader::load_from_str(text).map_err(|e| Error::Yaml(e.to_string()))?;
    let mut tree = Tree::default();
    let Some(Yaml::Hash(top)) = docs.first() else {
        return Err(Error::Shape("a YAML inventory is a map of groups (all:, webservers:, …)".into()));
    };
    for (name, group) in top {
        yaml_group(&mut tree, &scalar(name), group, 0)?;
    }
    Ok(tree)
}

fn yaml_group(tree: &mut Tree, name: &str, group: &Yaml, depth: usize) -> Result<(), Error> {
    if depth > 64 {
        return Err(Error::Shape(format!("groups nested deeper than 64 under {name}")));
    }
    tree.groups.entry(name.to_string()).or_default();
    let Yaml::Hash(map) = group else { return Ok(()) }; // `group:` with nothing under it
    for (key, value) in map {
        match (scalar(key).as_str(), value) {
            ("hosts", Yaml::Hash(hosts)) => {
                for (host, vars) in hosts {
                    let vars = yaml_vars(vars);
                    for host in expand(&scalar(host)).map_err(Error::Shape)? {
                        tree.host(name, &host, vars.clone());
                    }
                }
            }
            ("vars", vars) => {
                let vars = yaml_vars(vars);
                tree.groups.entry(name.to_string()).or_default().vars.extend(vars);
            }
            ("children", Yaml::Hash(children)) => {
                for (child, body) in children {
                    let child = scalar(child);
                    tree.groups.entry(name.to_string()).or_default().children.push(child.clone());
                    yaml_group(tree, &child, body, depth + 1)?;
                }
            }
            ("hosts" | "children", Yaml::Null) => {}
            (other, _) => return Err(Error::Shape(format!("group {name}: {other:?} is not hosts, vars or children"))),
        }
    }
    Ok(())
}

fn yaml_vars(value: &Yaml) -> Vars {
    match value {
        Yaml::Hash(map) => map.iter().map(|(k, v)| (scalar(k), scalar(v))).collect(),
        _ => Vars::new(),
    }
}

fn scalar(value: &Yaml) -> String {
    match value {
        Yaml::String(s) | Yaml::Real(s) => s.clone(),
        Yaml::Integer(n) => n.to_string(),
        Yaml::Boolean(b) => b.to_string(),
        _ => String::new(),
    }
}

/// `ansible-inventory --list`: its `_meta.hostvars` already hold each host's
/// resolved variables; its groups name the hosts.
fn json(text: &str) -> Result<Vec<(String, Vars)>, Error> {
    let value: serde_json::Value = serde_json::from_str(text).map_err(|e| Error::Json(e.to_string()))?;
    let Some(groups) = value.as_object() else { return Err(Error::Json("not an object".into())) };
    let hostvars = value.pointer("/_meta/hostvars").and_then(|v| v.as_object());
    let mut names: Vec<String> = Vec::new();
    // From `all` down, as the command lists them; then any group it left out.
    let mut todo: Vec<&str> = vec!["all"];
    let mut seen: Vec<&str> = Vec::new();
    let mut order: Vec<&str> = Vec::new();
    while let Some(group) = todo.pop() {
        if seen.contains(&group) {
            continue;
        }
        seen.push(group);
        order.push(group);
        let children = groups.get(group).and_then(|g| g.get("children")).and_then(|c| c.as_array());
        todo.extend(children.into_iter().flatten().filter_map(|c| c.as_str()).rev());
    }
    order.extend(groups.keys().map(String::as_str).filter(|g| *g != "_meta" && !seen.contains(g)));
    for group in order {
        let hosts = groups.get(group).and_then(|g| g.get("hosts")).and_then(|h| h.as_array());
        for host in hosts.into_iter().flatten().filter_map(|h| h.as_str()) {
            if !names.iter().any(|n| n == host) {
                names.push(host.to_string());
            }
        }
    }
    for host in hostvars.into_iter().flat_map(|h| h.keys()) {
        if !names.iter().any(|n| n == host) {
            names.push(host.clone());
        }
    }
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    Ok(names
        .into_iter()
        .map(|name| {
            let vars = (hostvars.and_then(|h| h.get(&name)).and_then(|v| v.as_object()).into_iter().flatten())
                .map(|(k, v)| (k.clone(), text(v)))
                .collect();
            (name, vars)
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_quotes_and_ports() {
        assert_eq!(expand("web[01:03].lan").unwrap(), ["web01.lan", "web02.lan", "web03.lan"]);
        assert_eq!(expand("db-[a:c]").unwrap(), ["db-a", "db-b", "db-c"]);
        assert_eq!(expand("n[1:9:4]").unwrap(), ["n1", "n5", "n9"]);
        assert!(expand("x[1:").is_err() && expand("x[a:9]").is_err());
        assert_eq!(words(r#"h ansible_user="a b" x='1'"#).unwrap(), ["h", "ansible_user=a b", "x=1"]);
        let hosts = parse("[g]\none.lan:5309 ansible_user=parc\n").unwrap();
        assert_eq!(hosts, [Host { name: "one.lan".into(), destination: "parc@one.lan:5309".into() }]);
        let v6 = parse("h6 ansible_host=2001:db8::7 ansible_port=22\n").unwrap();
        assert_eq!(v6[0].destination, "[2001:db8::7]:22");
        let err = parse("[g]\nh ansible_user\n").unwrap_err().to_string();
        assert!(err.starts_with("line 2:"), "{err}");
    }
}
