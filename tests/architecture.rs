//! The shape of the library, checked: no top-level module imports a module that imports it,
//! directly or through others. A cycle is how "settings and stages import each other" starts;
//! values several stages share live in `types`, which imports no stage.
//!
//! The graph is read from the source: every `crate::MODULE` outside comments and outside the
//! `#[cfg(test)]` part of a file (tests may reach anywhere).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Top-level module → the top-level modules its code names, with one place each is named.
fn graph(src: &Path) -> BTreeMap<String, BTreeMap<String, String>> {
    let mut graph: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().to_string_lossy().into_owned();
            let module = relative.split('/').next().unwrap().trim_end_matches(".rs").to_string();
            let text = std::fs::read_to_string(&path).unwrap();
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            for (n, line) in code.lines().enumerate() {
                let line = line.trim_start();
                if line.starts_with("//") {
                    continue;
                }
                for (at, _) in line.match_indices("crate::") {
                    let rest = &line[at + 7..];
                    // `crate::{a, b::C}` names several modules at once.
                    let names: Vec<String> = match rest.strip_prefix('{') {
                        Some(group) => group.split(',').map(|part| leading_name(part.trim_start())).collect(),
                        None => vec![leading_name(rest)],
                    };
                    for name in names {
                        if name.is_empty() || name == module {
                            continue;
                        }
                        graph
                            .entry(module.clone())
                            .or_default()
                            .entry(name)
                            .or_insert_with(|| format!("{relative}:{}", n + 1));
                    }
                }
                assert!(
                    !line.contains("crate::{") || line.contains('}'),
                    "{relative}:{}: write a `crate::{{…}}` import on one line so that this test reads it",
                    n + 1
                );
            }
        }
    }
    graph
}

/// The module name at the start of a path such as `audience::Filter`.
fn leading_name(path: &str) -> String {
    path.chars()
        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
        .collect()
}

/// Every module `from` reaches by following imports.
fn reachable(graph: &BTreeMap<String, BTreeMap<String, String>>, from: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut todo = vec![from.to_string()];
    while let Some(m) = todo.pop() {
        for next in graph.get(&m).into_iter().flat_map(|d| d.keys()) {
            if seen.insert(next.clone()) {
                todo.push(next.clone());
            }
        }
    }
    seen
}

#[test]
fn no_module_imports_a_module_that_imports_it() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    assert!(
        graph.contains_key("deliver") && graph["deliver"].contains_key("state"),
        "the graph was not read: {graph:?}"
    );
    let mut cycles = Vec::new();
    for (module, imports) in &graph {
        for (other, place) in imports {
            if reachable(&graph, other).contains(module) {
                cycles.push(format!(
                    "{module} imports {other} ({place}), which leads back to {module}"
                ));
            }
        }
    }
    assert!(cycles.is_empty(), "import cycles:\n{}", cycles.join("\n"));
}

#[test]
fn the_shared_value_types_import_no_stage() {
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let imports: Vec<&String> = graph.get("types").into_iter().flat_map(|d| d.keys()).collect();
    assert!(imports.is_empty(), "types imports {imports:?}");
}

#[test]
fn only_the_command_line_hands_out_the_settings() {
    // `config` reads the file and gives each stage its own part; a stage that took the whole
    // `Config` would see (and come to depend on) every other stage's settings.
    let graph = graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"));
    let readers: Vec<String> = graph
        .iter()
        .filter(|(module, imports)| module.as_str() != "cli" && imports.contains_key("config"))
        .map(|(module, imports)| format!("{module} ({})", imports["config"]))
        .collect();
    assert!(graph["cli"].contains_key("config"), "the graph was not read: {graph:?}");
    assert!(readers.is_empty(), "modules that take the whole settings: {readers:?}");
}
