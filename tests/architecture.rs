//! The layers, checked: every module may use only the modules below it, so the engine never
//! imports `cli` or `ui`, `cli` and `ui` never import each other, and nothing forms a cycle,
//! between modules or between the files of one. Writing clients live in `cluster::write` alone,
//! and the engine's errors are types, not strings. Read from the source text, so a breach fails
//! CI whatever compiles.

mod rust_text;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use rust_text::SourceFile;

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
    &["scorecard"],
    &["trial"],
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
    "scorecard",
    "trial",
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

/// Every file of `src/` but `lib.rs` and `main.rs`, read, and which of them are test code (a
/// child declared under `#[cfg(test)]`).
fn source_files() -> (Vec<SourceFile>, BTreeSet<usize>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut paths = Vec::new();
    files(&src, &mut paths);
    paths.sort();
    let read: Vec<SourceFile> = paths
        .iter()
        .map(|p| SourceFile::read(&src, p))
        .filter(|f| !f.module.is_empty())
        .collect();
    let mut roots: Vec<Vec<String>> = Vec::new();
    for file in &read {
        for child in &file.test_children {
            let mut module = file.module.clone();
            module.push(child.clone());
            roots.push(module);
        }
    }
    // A test file's own children are test code too.
    let tests = (0..read.len())
        .filter(|&i| roots.iter().any(|r| read[i].module.starts_with(r)))
        .collect();
    (read, tests)
}

/// Resolves paths to the files that define what they name, through `pub use` re-exports: a
/// file that writes `super::ConnectArgs` depends on `connect.rs`, where it is defined, not on
/// the `mod.rs` that re-exports it.
struct Resolver<'a> {
    files: &'a [SourceFile],
    index: BTreeMap<Vec<String>, usize>,
}

impl<'a> Resolver<'a> {
    fn new(files: &'a [SourceFile]) -> Self {
        Self {
            files,
            index: rust_text::by_module(files),
        }
    }

    /// `path` as written in `from`, made absolute from the crate root; `None` for paths into
    /// other crates and for local names.
    fn absolute(&self, from: &SourceFile, path: &[String], depth: usize) -> Option<Vec<String>> {
        let first = path.first()?;
        let (base, rest): (Vec<String>, &[String]) = match first.as_str() {
            "crate" => (Vec::new(), &path[1..]),
            "self" => (from.module.clone(), &path[1..]),
            "super" => {
                let ups = path.iter().take_while(|s| *s == "super").count();
                let keep = from.module.len().checked_sub(ups)?;
                (from.module[..keep].to_vec(), &path[ups..])
            }
            child if from.children.iter().any(|c| c == child) => (from.module.clone(), path),
            name => {
                // A name some `use` of this file brought in.
                if depth > 8 {
                    return None;
                }
                let used = from.uses.iter().find(|u| u.binds == name)?;
                let mut target = self.absolute(from, &used.path, depth + 1)?;
                target.extend_from_slice(&path[1..]);
                return Some(target);
            }
        };
        let mut absolute = base;
        absolute.extend_from_slice(rest);
        Some(absolute)
    }

    /// The file defining what `absolute` names: its longest prefix that is a module, or, when
    /// the next segment is a `pub use` there, wherever that leads.
    fn file_of(&self, absolute: &[String], depth: usize) -> Option<usize> {
        let k = (1..=absolute.len())
            .rev()
            .find(|k| self.index.contains_key(&absolute[..*k]))?;
        let file = self.index[&absolute[..k]];
        if let Some(name) = absolute.get(k)
            && depth < 8
        {
            let module = &self.files[file];
            if let Some(reexport) = module.uses.iter().find(|u| u.public && &u.binds == name)
                && let Some(mut target) = self.absolute(module, &reexport.path, 0)
            {
                target.extend_from_slice(&absolute[k + 1..]);
                if let Some(found) = self.file_of(&target, depth + 1) {
                    return Some(found);
                }
            }
        }
        Some(file)
    }

    fn resolve(&self, from: &SourceFile, path: &[String]) -> Option<usize> {
        let absolute = self.absolute(from, path, 0)?;
        self.file_of(&absolute, 0)
    }

    /// The files `from` depends on: what its own `use`s name (a `pub use` only when the file
    /// itself uses the name: a re-export alone is a signpost, not a dependency) and the paths
    /// in its code. Declaring `mod x;` is not a dependency.
    fn imports(&self, from: &SourceFile) -> BTreeSet<usize> {
        let mut paths: Vec<Vec<String>> = from
            .uses
            .iter()
            .filter(|u| !u.public || (u.binds != "*" && from.mentions(&u.binds)))
            .map(|u| u.path.clone())
            .collect();
        paths.extend(from.code_paths());
        paths.iter().filter_map(|p| self.resolve(from, p)).collect()
    }
}

/// Strongly connected groups of more than one node in `edges` (Tarjan).
fn cycles(nodes: &[usize], edges: &BTreeMap<usize, BTreeSet<usize>>) -> Vec<Vec<usize>> {
    struct State<'e> {
        edges: &'e BTreeMap<usize, BTreeSet<usize>>,
        next: usize,
        index: BTreeMap<usize, usize>,
        low: BTreeMap<usize, usize>,
        stack: Vec<usize>,
        on_stack: BTreeSet<usize>,
        found: Vec<Vec<usize>>,
    }
    fn visit(s: &mut State, v: usize) {
        s.index.insert(v, s.next);
        s.low.insert(v, s.next);
        s.next += 1;
        s.stack.push(v);
        s.on_stack.insert(v);
        for &w in s.edges.get(&v).into_iter().flatten() {
            if !s.index.contains_key(&w) {
                visit(s, w);
                let low = s.low[&v].min(s.low[&w]);
                s.low.insert(v, low);
            } else if s.on_stack.contains(&w) {
                let low = s.low[&v].min(s.index[&w]);
                s.low.insert(v, low);
            }
        }
        if s.low[&v] == s.index[&v] {
            let mut group = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(&w);
                group.push(w);
                if w == v {
                    break;
                }
            }
            if group.len() > 1 {
                group.sort();
                s.found.push(group);
            }
        }
    }
    let mut state = State {
        edges,
        next: 0,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for &v in nodes {
        if !state.index.contains_key(&v) {
            visit(&mut state, v);
        }
    }
    state.found
}

/// Within each top-level module, no two files import each other, directly or around a circle:
/// a file can be read knowing only what it imports.
#[test]
fn no_cycle_between_the_files_of_a_module() {
    let (files, tests) = source_files();
    let resolver = Resolver::new(&files);
    let mut edges: BTreeMap<usize, BTreeSet<usize>> = BTreeMap::new();
    for (i, file) in files.iter().enumerate() {
        if tests.contains(&i) {
            continue;
        }
        let here = resolver
            .imports(file)
            .into_iter()
            .filter(|&t| t != i && !tests.contains(&t) && files[t].module[0] == file.module[0])
            .collect();
        edges.insert(i, here);
    }
    let nodes: Vec<usize> = edges.keys().copied().collect();
    let found: Vec<String> = cycles(&nodes, &edges)
        .into_iter()
        .map(|group| {
            group
                .iter()
                .map(|&f| {
                    let into: Vec<&str> = edges[&f]
                        .iter()
                        .filter(|t| group.contains(t))
                        .map(|&t| files[t].name.as_str())
                        .collect();
                    format!("  {} imports {}", files[f].name, into.join(", "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(
        found.is_empty(),
        "files importing each other in a circle (move what they share to a file both import):\n{}",
        found.join("\n\n")
    );
}

/// The one module that may open writing clients (its files under `cluster/write/` with it).
const WRITE_MODULE: &str = "cluster/write.rs";
const WRITE_FILES: &str = "cluster/write/";
/// `describe_configs` (topic settings) needs librdkafka's admin client, which the read-side
/// metadata calls beside it share; it only describes, never creates, deletes or alters (checked
/// below), so it stays with the other metadata reads rather than beside the writes.
const READ_ONLY_ADMIN: &str = "cluster/metadata.rs";
/// Who may reach the write module: the commands that write (`demo seed`, `bench`, `trial`).
const WRITERS: &[&str] = &[
    "cluster/mod.rs",
    "cluster/write/",
    "demo/seed.rs",
    "cli/bench/",
    "trial/",
];

/// What opens a writing client, or writes through one.
fn writes(file: &SourceFile) -> Vec<String> {
    const TYPES: &[&str] = &[
        "FutureProducer",
        "BaseProducer",
        "ThreadedProducer",
        "AdminClient",
        "CommitMode",
    ];
    // rdkafka-sys calls that write, as `cluster/native.rs` would reach them.
    const SYS: &[&str] = &[
        "rd_kafka_produce",
        "rd_kafka_commit",
        "rd_kafka_Create",
        "rd_kafka_Delete",
        "rd_kafka_Alter",
        "rd_kafka_IncrementalAlter",
    ];
    let mut found = Vec::new();
    let mut paths: Vec<Vec<String>> = file.uses.iter().map(|u| u.path.clone()).collect();
    paths.extend(file.code_paths());
    for path in paths {
        if path.first().is_some_and(|p| p == "rdkafka")
            && path.get(1).is_some_and(|p| p == "producer" || p == "admin")
        {
            found.push(path.join("::"));
        }
    }
    for token in &file.tokens {
        if TYPES.contains(&token.as_str()) || SYS.iter().any(|s| token.starts_with(s)) {
            found.push(token.clone());
        }
    }
    found.sort();
    found.dedup();
    found
}

#[test]
fn only_the_write_module_opens_writing_clients() {
    let (files, tests) = source_files();
    let resolver = Resolver::new(&files);
    let write = files
        .iter()
        .position(|f| f.name == WRITE_MODULE)
        .expect("the write module");
    let mut wrong = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if tests.contains(&i) || i == write || file.name.starts_with(WRITE_FILES) {
            continue;
        }
        let found = writes(file);
        if file.name == READ_ONLY_ADMIN {
            let allowed = ["AdminClient", "rdkafka::admin"];
            for f in found
                .iter()
                .filter(|f| !allowed.iter().any(|a| f.starts_with(a)))
            {
                wrong.push(format!("{} (read-only admin) uses {f}", file.name));
            }
            for call in [
                "create_topics",
                "delete_topics",
                "create_partitions",
                "alter_configs",
                "delete_records",
                "delete_groups",
            ] {
                if file.tokens.iter().any(|t| t == call) {
                    wrong.push(format!("{} (read-only admin) calls {call}", file.name));
                }
            }
        } else {
            wrong.extend(found.iter().map(|f| format!("{} uses {f}", file.name)));
        }
        let reaches = resolver.imports(file).contains(&write);
        if reaches && !WRITERS.iter().any(|w| file.name.starts_with(w)) {
            wrong.push(format!("{} reaches {WRITE_MODULE}", file.name));
        }
    }
    assert!(
        wrong.is_empty(),
        "writing clients outside {WRITE_MODULE} (only demo seed, bench and trial write, through it):\n{}",
        wrong.join("\n")
    );
}

/// `Result<_, String>` types in `tokens`, as written.
fn string_errors(tokens: &[rust_text::Token]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, token) in tokens.iter().enumerate() {
        if token != "Result" {
            continue;
        }
        let mut open = i + 1;
        if tokens.get(open).is_some_and(|t| t == "::") {
            open += 1;
        }
        if tokens.get(open).is_none_or(|t| t != "<") {
            continue;
        }
        let mut depth = 0;
        let mut args: Vec<Vec<&str>> = vec![Vec::new()];
        for t in &tokens[open..] {
            match t.as_str() {
                "<" | "(" | "[" => depth += 1,
                ">" | ")" | "]" => depth -= 1,
                "," if depth == 1 => {
                    args.push(Vec::new());
                    continue;
                }
                _ => {}
            }
            if depth == 0 {
                break;
            }
            if !(depth == 1 && t == "<") {
                args.last_mut().unwrap().push(t);
            }
        }
        let error = args.last().map(|a| a.concat()).unwrap_or_default();
        if args.len() == 2 && (error == "String" || error == "std::string::String") {
            found.push(format!("Result<{}, String>", args[0].concat()));
        }
    }
    found
}

/// The engine says what went wrong with error types (thiserror), so a caller can tell one
/// failure from another and the CLI and GUI can add context; test code may use strings.
#[test]
fn the_engine_returns_no_string_errors() {
    let (files, tests) = source_files();
    let mut wrong = Vec::new();
    for (i, file) in files.iter().enumerate() {
        if tests.contains(&i) || !ENGINE.contains(&file.module[0].as_str()) {
            continue;
        }
        for found in string_errors(&file.tokens) {
            wrong.push(format!("{}: {found}", file.name));
        }
    }
    assert!(
        wrong.is_empty(),
        "string errors in the engine (a thiserror enum says the same words):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_file_checker_sees_every_form() {
    let text = r#"
        //! Docs naming crate::ui::x are not imports.
        pub use crate::cluster::{self, scan::{Scan as S, Event}};
        pub(crate) use inner::Thing;
        use super::*;
        mod inner;
        #[cfg(test)]
        mod tests { use crate::ui::Y; fn f() -> Result<(), String> { Ok(()) } }
        #[cfg(test)]
        mod more;
        fn g() -> Result<Vec<Result<u8, String>>, Error> { let s = "crate::cli::z"; todo!() }
        fn h() -> Result<std::collections::BTreeMap<String, u8>, String> { inner::go() }
    "#;
    let file = SourceFile::parse("x.rs", vec!["a".into(), "x".into()], text);
    let uses: Vec<(bool, String, String)> = file
        .uses
        .iter()
        .map(|u| (u.public, u.path.join("::"), u.binds.clone()))
        .collect();
    assert_eq!(
        uses,
        vec![
            (true, "crate::cluster".into(), "cluster".into()),
            (true, "crate::cluster::scan::Scan".into(), "S".into()),
            (true, "crate::cluster::scan::Event".into(), "Event".into()),
            (true, "inner::Thing".into(), "Thing".into()),
            (false, "super".into(), "*".into()),
        ]
    );
    assert_eq!(file.children, vec!["inner"]);
    assert_eq!(file.test_children, vec!["more"]);
    assert_eq!(
        file.code_paths(),
        vec![vec!["std", "collections", "BTreeMap"], vec!["inner", "go"]]
    );
    assert_eq!(
        string_errors(&file.tokens),
        vec![
            "Result<u8, String>",
            "Result<std::collections::BTreeMap<String,u8>, String>"
        ]
    );
    let edges = BTreeMap::from([
        (0, BTreeSet::from([1])),
        (1, BTreeSet::from([2])),
        (2, BTreeSet::from([0])),
        (3, BTreeSet::from([0])),
    ]);
    assert_eq!(cycles(&[0, 1, 2, 3], &edges), vec![vec![0, 1, 2]]);
}

/// Every `.rs` file under `src/`, with its text up to its test module (test code may run long).
fn non_test_texts() -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut dirs = vec![std::path::PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/src"
    ))];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                let code = match text.find("#[cfg(test)]") {
                    Some(at) => text[..at].to_owned(),
                    None => text,
                };
                found.push((path.display().to_string(), code));
            }
        }
    }
    found.sort();
    found
}

/// Small files named for what they hold: none over 700 lines of code, no function taking so
/// many arguments that clippy had to be told to allow it.
#[test]
fn files_stay_small_and_functions_take_few_arguments() {
    let mut long = Vec::new();
    let mut allowed = Vec::new();
    for (path, code) in non_test_texts() {
        let lines = code.lines().count();
        if lines > 700 {
            long.push(format!("{path}: {lines} lines"));
        }
        if code.contains("clippy::too_many_arguments") {
            allowed.push(path);
        }
    }
    assert!(long.is_empty(), "files over 700 lines of code: {long:?}");
    assert!(
        allowed.is_empty(),
        "too_many_arguments allowed in {allowed:?}"
    );
}

/// The GUI's `mod.rs` declares modules and says what is public: the window's layout, the
/// routing and the panels live in files of their own, and no panel's state is set from it.
#[test]
fn the_gui_module_root_stays_a_table_of_contents() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/src/ui/mod.rs");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(
        text.lines().count() <= 500,
        "ui/mod.rs has {} lines",
        text.lines().count()
    );
    let assigned: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("self.") && l.contains(" = ") && !l.trim_start().starts_with("//"))
        .collect();
    assert!(assigned.is_empty(), "ui/mod.rs assigns state: {assigned:?}");
    // The shell and the window set the session and the status bar, never a panel's fields:
    // panels hear of changes through `observe` and requests through `ask`.
    for file in ["app.rs", "shell.rs", "window.rs"] {
        let path = format!("{}/src/ui/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        for panel in [
            "self.profile.",
            "self.freshness.",
            "self.overview.",
            "self.groups.",
            "self.rebuild.",
            "self.governance.",
            "self.compare.",
            "self.browse.",
        ] {
            assert!(
                !text.contains(panel),
                "{file} reaches into a panel: {panel}"
            );
        }
    }
}

/// ARCHITECTURE.md names every source file (alone, or in a row of files that share a line):
/// a newcomer reads where things are from it, so it stays current.
#[test]
fn the_architecture_names_every_file() {
    let doc =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/ARCHITECTURE.md")).unwrap();
    let src = concat!(env!("CARGO_MANIFEST_DIR"), "/src/");
    let missing: Vec<String> = non_test_texts()
        .into_iter()
        .map(|(path, _)| path.trim_start_matches(src).to_owned())
        .filter(|file| !["lib.rs", "main.rs"].contains(&file.as_str()))
        // Unit tests kept in a file of their own belong to the module beside them.
        .filter(|file| !file.ends_with("/tests.rs"))
        .filter(|file| {
            let module = file.trim_end_matches("/mod.rs").trim_end_matches(".rs");
            !doc.contains(&format!("`{file}`")) && !doc.contains(&format!("`{module}`"))
        })
        .collect();
    assert!(missing.is_empty(), "not in ARCHITECTURE.md: {missing:?}");
}
