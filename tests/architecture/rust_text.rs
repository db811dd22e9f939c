//! Rust source read just well enough for the architecture checks: comments and string contents
//! dropped, `#[cfg(test)]` items cut out, the rest split into tokens, `use` trees expanded to
//! paths. Not a parser: the checks need imports and type names, not meaning.

use std::collections::BTreeMap;
use std::path::Path;

/// One token: an identifier or keyword, `::`, `->`, or any other single character.
pub type Token = String;

/// A file of `src/`, read.
pub struct SourceFile {
    /// Relative to `src/`, for messages.
    pub name: String,
    /// The module path: `cluster/scan.rs` and `cluster/scan/mod.rs` are `["cluster", "scan"]`.
    pub module: Vec<String>,
    /// Tokens with `#[cfg(test)]` items removed.
    pub tokens: Vec<Token>,
    /// Children declared with `mod x;` (not `#[cfg(test)]` ones), with their visibility.
    pub children: Vec<String>,
    /// Children declared under `#[cfg(test)]`: their files are test code.
    pub test_children: Vec<String>,
    /// Every `use`, expanded: (is `pub` in any form, the path as written, the name it binds).
    pub uses: Vec<Use>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Use {
    pub public: bool,
    pub path: Vec<String>,
    /// The name brought into scope (`as` alias, last segment, or the prefix for `self`);
    /// `*` for a glob.
    pub binds: String,
}

impl SourceFile {
    pub fn read(src: &Path, path: &Path) -> Self {
        let relative = path.strip_prefix(src).unwrap();
        let mut module: Vec<String> = relative
            .iter()
            .map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned())
            .collect();
        if matches!(
            module.last().map(String::as_str),
            Some("mod" | "lib" | "main")
        ) {
            module.pop();
        }
        Self::parse(
            &relative.display().to_string(),
            module,
            &std::fs::read_to_string(path).unwrap(),
        )
    }

    pub fn parse(name: &str, module: Vec<String>, text: &str) -> Self {
        let all = tokens(&strip(text));
        let (tokens, test_children) = without_test_items(&all);
        let mut children = Vec::new();
        let mut uses = Vec::new();
        let mut i = 0;
        while i < tokens.len() {
            let previous = i.checked_sub(1).map(|j| tokens[j].as_str());
            if tokens[i] == "mod"
                && previous != Some("::")
                && let (Some(child), Some(";")) =
                    (tokens.get(i + 1), tokens.get(i + 2).map(|s| s.as_str()))
            {
                children.push(child.clone());
            }
            if tokens[i] == "use" && previous != Some("::") {
                let public = is_public(&tokens[..i]);
                let mut at = i + 1;
                for (path, binds) in use_tree(&tokens, &mut at, Vec::new()) {
                    uses.push(Use {
                        public,
                        path,
                        binds,
                    });
                }
                i = at;
                continue;
            }
            i += 1;
        }
        Self {
            name: name.to_owned(),
            module,
            tokens,
            children,
            test_children,
            uses,
        }
    }

    /// Paths written in the code outside `use` statements: `a::b::c` chains, from their start.
    pub fn code_paths(&self) -> Vec<Vec<String>> {
        let t = &self.tokens;
        let mut paths = Vec::new();
        let mut i = 0;
        while i < t.len() {
            if t[i] == "use" {
                while i < t.len() && t[i] != ";" {
                    i += 1;
                }
                continue;
            }
            let starts = is_ident(&t[i])
                && t.get(i + 1).is_some_and(|n| n == "::")
                && (i == 0 || t[i - 1] != "::");
            if starts {
                let mut path = vec![t[i].clone()];
                let mut j = i + 1;
                while t.get(j).is_some_and(|n| n == "::")
                    && t.get(j + 1).is_some_and(|n| is_ident(n))
                {
                    path.push(t[j + 1].clone());
                    j += 2;
                }
                paths.push(path);
                i = j;
                continue;
            }
            i += 1;
        }
        paths
    }

    /// Whether `name` occurs as an identifier outside `use` statements.
    pub fn mentions(&self, name: &str) -> bool {
        let mut in_use = false;
        for (i, token) in self.tokens.iter().enumerate() {
            if token == "use" && (i == 0 || self.tokens[i - 1] != "::") {
                in_use = true;
            } else if token == ";" {
                in_use = false;
            } else if !in_use && token == name {
                return true;
            }
        }
        false
    }
}

fn is_ident(token: &str) -> bool {
    token
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Whether the item whose tokens end `before` starts with `pub` (`pub`, `pub(crate)`, …).
fn is_public(before: &[Token]) -> bool {
    let n = before.len();
    if n >= 1 && before[n - 1] == "pub" {
        return true;
    }
    // `pub ( crate )`, `pub ( super )`, `pub ( in a :: b )`
    if n >= 1
        && before[n - 1] == ")"
        && let Some(open) = before.iter().rposition(|t| t == "(")
    {
        return open >= 1 && before[open - 1] == "pub";
    }
    false
}

/// Expands the use tree starting at `tokens[*at]` to (path, bound name) pairs, leaving `*at`
/// after it (past the `;` at the top level).
fn use_tree(tokens: &[Token], at: &mut usize, prefix: Vec<String>) -> Vec<(Vec<String>, String)> {
    let mut path = prefix;
    let mut out = Vec::new();
    loop {
        let Some(token) = tokens.get(*at) else {
            return out;
        };
        match token.as_str() {
            "{" => {
                *at += 1;
                loop {
                    match tokens.get(*at).map(String::as_str) {
                        None => return out,
                        Some("}") => {
                            *at += 1;
                            break;
                        }
                        Some(",") => *at += 1,
                        Some(_) => out.extend(use_tree(tokens, at, path.clone())),
                    }
                }
                if tokens.get(*at).is_some_and(|t| t == ";") {
                    *at += 1;
                }
                return out;
            }
            "*" => {
                *at += 1;
                out.push((path, "*".into()));
                return finish(tokens, at, out);
            }
            "::" => *at += 1,
            "self" if !path.is_empty() => {
                *at += 1;
                let binds =
                    alias(tokens, at).unwrap_or_else(|| path.last().cloned().unwrap_or_default());
                out.push((path, binds));
                return finish(tokens, at, out);
            }
            name if is_ident(name) => {
                path.push(name.to_owned());
                *at += 1;
                if tokens.get(*at).is_some_and(|t| t == "::") {
                    continue;
                }
                let binds = alias(tokens, at).unwrap_or_else(|| name.to_owned());
                out.push((path, binds));
                return finish(tokens, at, out);
            }
            _ => {
                *at += 1;
                return out;
            }
        }
    }
}

fn alias(tokens: &[Token], at: &mut usize) -> Option<String> {
    if tokens.get(*at).is_some_and(|t| t == "as") {
        let name = tokens.get(*at + 1).cloned();
        *at += 2;
        return name;
    }
    None
}

/// Past the `;` ending a top-level use (a nested tree ends at `,` or `}`, left for its group).
fn finish(
    tokens: &[Token],
    at: &mut usize,
    out: Vec<(Vec<String>, String)>,
) -> Vec<(Vec<String>, String)> {
    if tokens.get(*at).is_some_and(|t| t == ";") {
        *at += 1;
    }
    out
}

/// The text with comments removed and string and char literals emptied, so neither a doc
/// link nor a message that names a path counts as an import.
pub fn strip(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
            out.push(' ');
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !prev_is_ident(&chars, i)
        {
            // A raw string: r"…", r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= chars.len() {
                    break;
                }
                if chars[j] == '"' && (0..hashes).all(|k| chars.get(j + 1 + k) == Some(&'#')) {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if c == '\'' {
            // A char literal ('a', '\n', '\u{1F600}'); otherwise a lifetime, kept.
            if next == Some('\\') {
                let mut j = i + 2;
                while j < chars.len() && chars[j] != '\'' {
                    j += 1;
                }
                i = j + 1;
                out.push_str("' '");
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
                out.push_str("' '");
            } else {
                out.push(c);
                i += 1;
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn prev_is_ident(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

pub fn tokens(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(chars[start..i].iter().collect());
        } else if c == ':' && chars.get(i + 1) == Some(&':') {
            out.push("::".into());
            i += 2;
        } else if c == '-' && chars.get(i + 1) == Some(&'>') {
            out.push("->".into());
            i += 2;
        } else if c == '=' && chars.get(i + 1) == Some(&'>') {
            out.push("=>".into());
            i += 2;
        } else {
            out.push(c.to_string());
            i += 1;
        }
    }
    out
}

/// The tokens without `#[cfg(test)]` items, and the names of `#[cfg(test)] mod x;` children.
fn without_test_items(tokens: &[Token]) -> (Vec<Token>, Vec<String>) {
    const CFG_TEST: [&str; 7] = ["#", "[", "cfg", "(", "test", ")", "]"];
    let mut out = Vec::new();
    let mut test_children = Vec::new();
    let mut i = 0;
    while i < tokens.len() {
        let is_cfg_test = tokens.len() >= i + CFG_TEST.len()
            && tokens[i..i + CFG_TEST.len()]
                .iter()
                .zip(CFG_TEST)
                .all(|(a, b)| a == b);
        if !is_cfg_test {
            out.push(tokens[i].clone());
            i += 1;
            continue;
        }
        i += CFG_TEST.len();
        // Other attributes of the item, then the item to its `;` or its block's end.
        let start = i;
        let mut depth = 0i32;
        while i < tokens.len() {
            match tokens[i].as_str() {
                "(" | "[" | "{" => depth += 1,
                ")" | "]" => depth -= 1,
                "}" => {
                    depth -= 1;
                    if depth == 0 {
                        i += 1;
                        break;
                    }
                }
                ";" if depth == 0 => {
                    i += 1;
                    break;
                }
                _ => {}
            }
            i += 1;
        }
        let item = &tokens[start..i];
        if let Some(m) = item.iter().position(|t| t == "mod")
            && item.get(m + 2).is_some_and(|t| t == ";")
        {
            test_children.push(item[m + 1].clone());
        }
    }
    (out, test_children)
}

/// Each file's module path, for resolving paths to files.
pub fn by_module(files: &[SourceFile]) -> BTreeMap<Vec<String>, usize> {
    files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect()
}
