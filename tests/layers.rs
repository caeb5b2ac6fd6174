//! Layers point down: no import cycle between the top-level modules of
//! `src/`, read from the code's own `crate::` paths (test modules aside).
//! A cycle fails with the modules in it and the lines that close it.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Module → the modules it names, each with the first place it does.
type Graph = BTreeMap<String, BTreeMap<String, String>>;

/// The top-level module a source file belongs to (`archive/apply.rs` → `archive`), none for the crate root.
fn module_of(rel: &str) -> Option<String> {
    let first = rel.split('/').next()?;
    let name = first.strip_suffix(".rs").unwrap_or(first);
    (!matches!(name, "lib" | "main")).then(|| name.to_string())
}

/// Every module named by a `crate::` path in `text`, with its line.
fn named(text: &str) -> Vec<(String, usize)> {
    let mut found = Vec::new();
    // What follows `#[cfg(test)]` is a test module: it may reach anywhere.
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    for (n, line) in code.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        let mut rest = line;
        while let Some(at) = rest.find("crate::") {
            rest = &rest[at + "crate::".len()..];
            let names: Vec<&str> = match rest.strip_prefix('{') {
                // `crate::{a, b::c}`: each path's first name.
                Some(group) => group
                    .split('}')
                    .next()
                    .unwrap_or("")
                    .split(',')
                    .map(|p| p.trim().split("::").next().unwrap_or(""))
                    .collect(),
                None => vec![rest.split(|c: char| !(c.is_alphanumeric() || c == '_')).next().unwrap_or("")],
            };
            found.extend(names.into_iter().filter(|m| !m.is_empty()).map(|m| (m.to_string(), n + 1)));
        }
    }
    found
}

/// The graph of `sources` (path relative to `src/`, text).
fn graph(sources: &[(String, String)]) -> Graph {
    let modules: BTreeSet<String> = sources.iter().filter_map(|(rel, _)| module_of(rel)).collect();
    let mut graph = Graph::new();
    for (rel, text) in sources {
        let Some(from) = module_of(rel) else { continue };
        let edges = graph.entry(from.clone()).or_default();
        for (to, line) in named(text) {
            if to != from && modules.contains(&to) {
                edges.entry(to).or_insert_with(|| format!("src/{rel}:{line}"));
            }
        }
    }
    graph
}

/// One cycle of `graph`, as the path that closes it, if there is one.
fn cycle(graph: &Graph) -> Option<Vec<(String, String)>> {
    fn visit(
        graph: &Graph,
        at: &str,
        path: &mut Vec<(String, String)>,
        on_path: &mut BTreeSet<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<(String, String)>> {
        on_path.insert(at.to_string());
        for (to, place) in graph.get(at).into_iter().flatten() {
            path.push((format!("{at} -> {to}"), place.clone()));
            if on_path.contains(to) {
                let start = path.iter().position(|(edge, _)| edge.starts_with(&format!("{to} -> "))).unwrap_or(0);
                return Some(path[start..].to_vec());
            }
            if !done.contains(to) {
                if let Some(found) = visit(graph, to, path, on_path, done) {
                    return Some(found);
                }
            }
            path.pop();
        }
        on_path.remove(at);
        done.insert(at.to_string());
        None
    }
    let mut done = BTreeSet::new();
    for start in graph.keys() {
        if !done.contains(start) {
            if let Some(found) = visit(graph, start, &mut Vec::new(), &mut BTreeSet::new(), &mut done) {
                return Some(found);
            }
        }
    }
    None
}

fn sources(root: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in walkdir::WalkDir::new(root).sort_by_file_name() {
        let entry = entry.unwrap();
        if entry.path().extension().is_some_and(|e| e == "rs") {
            let rel = entry.path().strip_prefix(root).unwrap().to_string_lossy().into_owned();
            found.push((rel, std::fs::read_to_string(entry.path()).unwrap()));
        }
    }
    found
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let sources = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let graph = graph(&sources);
    assert!(graph.len() > 20, "the modules of src/ were read: {:?}", graph.keys());
    if let Some(cycle) = cycle(&graph) {
        let lines: Vec<String> = cycle.iter().map(|(edge, place)| format!("  {edge}  ({place})")).collect();
        panic!("an import cycle between top-level modules:\n{}", lines.join("\n"));
    }
}

/// The check itself can fail: an upward import planted in a copy of the
/// real sources (the history naming the command line) is a cycle, named.
#[test]
fn a_planted_upward_import_is_a_cycle() {
    let mut sources = sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(cycle(&graph(&sources)).is_none());
    let fleet = sources.iter_mut().find(|(rel, _)| rel == "fleet/mod.rs").expect("src/fleet/mod.rs");
    fleet.1 = format!("use crate::cli::exit;\n{}", fleet.1);
    let found = cycle(&graph(&sources)).expect("a cycle through fleet and cli");
    let edges: Vec<&str> = found.iter().map(|(edge, _)| edge.as_str()).collect();
    assert!(edges.contains(&"fleet -> cli"), "{edges:?}");
    assert!(found.iter().any(|(_, place)| place == "src/fleet/mod.rs:1"), "{found:?}");
    // Groups and paths in expressions count; comments and test modules do not.
    let planted = [
        ("a.rs".to_string(), "use crate::{b::X, c};\n// crate::d\n".to_string()),
        ("b.rs".to_string(), "fn f() { crate::a::g(); }\n#[cfg(test)]\nmod tests { use crate::d; }".to_string()),
        ("c.rs".to_string(), String::new()),
        ("d.rs".to_string(), "use crate::a;".to_string()),
    ];
    let g = graph(&planted);
    assert_eq!(g["a"].keys().collect::<Vec<_>>(), ["b", "c"]);
    assert_eq!(g["b"].keys().collect::<Vec<_>>(), ["a"]);
    assert!(cycle(&g).is_some());
}
