//! The layers, checked: every module may use only the modules below it, so the engine never
//! imports `cli` or `ui`, `cli` and `ui` never import each other, and nothing forms a cycle.
//! Read from the source text, so an upward import fails CI whatever compiles.

use std::collections::BTreeSet;
use std::path::Path;

/// Bottom to top. A module may use modules of a lower layer only.
const LAYERS: &[&[&str]] = &[
    &["time", "memory"],
    &["cluster"],
    &["codec"],
    &["source"],
    &["profile"],
    &["freshness"],
    &["rebuild", "governance", "migrate", "keys"],
    &["demo"],
    &["cli", "ui"],
];

/// The engine: what neither front end owns, and what never draws.
const ENGINE: &[&str] = &[
    "time",
    "memory",
    "cluster",
    "codec",
    "source",
    "profile",
    "freshness",
    "rebuild",
    "governance",
    "migrate",
    "keys",
    "demo",
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&module))
}

fn files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        if path.is_dir() {
            files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate modules a file refers to: `crate::x`, and each name in `use crate::{x, y::z}`.
fn referenced(text: &str) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name: String = item
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    found.insert(name);
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            found.insert(name);
        }
    }
    found
}

#[test]
fn modules_use_only_the_layers_below_them() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut all = Vec::new();
    files(&src, &mut all);
    let mut wrong = Vec::new();
    for path in &all {
        let relative = path.strip_prefix(&src).unwrap();
        let module = relative
            .iter()
            .next()
            .unwrap()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_owned();
        let Some(own) = layer_of(&module) else {
            continue; // lib.rs and main.rs sit above every layer
        };
        let text = std::fs::read_to_string(path).unwrap();
        for used in referenced(&text) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(layer) if layer < own => {}
                Some(_) => wrong.push(format!("{} uses {used}", relative.display())),
                None => {}
            }
        }
        if ENGINE.contains(&module.as_str())
            && (text.contains("egui::") || text.contains("use eframe"))
        {
            wrong.push(format!("{} (engine) draws with egui", relative.display()));
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the layers:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_checker_sees_every_import_form() {
    let text = "use crate::cluster::Record;\nuse crate::{profile, source::Source};\nlet x = crate::ui::thing();";
    let found: Vec<String> = referenced(text).into_iter().collect();
    assert_eq!(found, vec!["cluster", "profile", "source", "ui"]);
    assert_eq!(
        layer_of("cli"),
        layer_of("ui"),
        "cli and ui may not use each other"
    );
}
