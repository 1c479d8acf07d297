//! No two source files depend on each other, directly or through others, in any crate of the
//! workspace. A file depends on the module a path in it names (`crate::a::b`, `super::c`,
//! `self::d`, or a child module by its bare name), with re-exports followed to the file that
//! defines the item; a parent declaring its children (`mod x;`) or re-exporting them
//! (`pub use x::Y;`) is not a dependency. Test modules (`#[cfg(test)]` and below) are left out.
//! The check reads the source text, so it is approximate where Rust is subtle (macros, glob
//! imports), and strict everywhere else.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn name(m: &Module) -> String {
    if m.is_empty() {
        "<crate root>".into()
    } else {
        m.join("::")
    }
}

/// The source with comments and string contents removed, cut before the first test module,
/// and `pub(crate)` / `pub(super)` / `pub(in ...)` read as `pub`.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for d in chars.by_ref() {
                    if d == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut prev = ' ';
                for d in chars.by_ref() {
                    if prev == '*' && d == '/' {
                        break;
                    }
                    prev = d;
                }
            }
            '"' => {
                out.push('"');
                let mut escaped = false;
                for d in chars.by_ref() {
                    if escaped {
                        escaped = false;
                    } else if d == '\\' {
                        escaped = true;
                    } else if d == '"' {
                        break;
                    }
                }
                out.push('"');
            }
            _ => out.push(c),
        }
    }
    let mut s = out;
    for vis in ["pub(crate)", "pub(super)", "pub(self)"] {
        s = s.replace(vis, "pub");
    }
    while let Some(i) = s.find("pub(in ") {
        let end = s[i..].find(')').map_or(s.len(), |e| i + e + 1);
        s.replace_range(i..end, "pub");
    }
    s
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// The `a::b::c` path starting at `s` (identifiers joined by `::`), and what follows it.
fn path_at(s: &str) -> (Vec<String>, &str) {
    let mut segs = Vec::new();
    let mut rest = s;
    loop {
        let len = rest.chars().take_while(|&c| is_ident(c)).count();
        if len == 0 {
            break;
        }
        segs.push(rest[..len].to_string());
        rest = &rest[len..];
        match rest.strip_prefix("::") {
            Some(r) if r.starts_with(is_ident) => rest = r,
            _ => break,
        }
    }
    (segs, rest)
}

/// The first path of each item of a `{...}` group at the start of `s`.
fn group_items(s: &str) -> Vec<Vec<String>> {
    let Some(inner) = s.strip_prefix("::{") else {
        return vec![];
    };
    let mut depth = 1;
    let mut item = String::new();
    let mut items = Vec::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            _ => {}
        }
        if depth == 0 || (depth == 1 && c == ',') {
            items.push(item.trim().to_string());
            item.clear();
            if depth == 0 {
                break;
            }
        } else {
            item.push(c);
        }
    }
    items
        .iter()
        .map(|i| path_at(i).0)
        .filter(|p| !p.is_empty())
        .collect()
}

/// `pub use path::{A, B};` and `pub use path::A;` of a module: name -> the module path named.
fn reexports(m: &Module, text: &str) -> BTreeMap<String, Module> {
    let mut out = BTreeMap::new();
    for stmt in text.split(';') {
        let stmt = stmt.trim();
        let Some(rest) = stmt.strip_prefix("pub use ") else {
            continue;
        };
        let (mut path, tail) = path_at(rest.trim());
        let names: Vec<String> = if tail.starts_with("::{") {
            group_items(tail)
                .into_iter()
                .filter_map(|p| p.last().cloned())
                .collect()
        } else {
            path.pop().into_iter().collect()
        };
        let base: Module = match path.first().map(String::as_str) {
            Some("crate") => path[1..].to_vec(),
            Some("super") | Some("self") | None => continue,
            Some(_) => m.iter().cloned().chain(path).collect(),
        };
        for n in names {
            out.insert(n, base.clone());
        }
    }
    out
}

/// The modules of one crate's source folder: module path -> its code.
fn modules(src: &Path) -> BTreeMap<Module, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    let has_lib = src.join("lib.rs").is_file();
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
            let rel = path.strip_prefix(src).unwrap().with_extension("");
            let mut m: Module = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            let last = m.last().cloned().unwrap_or_default();
            if m.len() == 1 && (last == "lib" || last == "main") {
                if last == "main" && has_lib {
                    continue;
                }
                m.clear();
            } else if last == "mod" {
                m.pop();
            }
            out.insert(m, code(&std::fs::read_to_string(&path).unwrap()));
        }
    }
    out
}

/// Every dependency between files, with the text that makes it (for the failure message).
fn dependencies(mods: &BTreeMap<Module, String>) -> BTreeMap<(Module, Module), String> {
    let exports: BTreeMap<&Module, BTreeMap<String, Module>> =
        mods.iter().map(|(m, t)| (m, reexports(m, t))).collect();
    let resolve = |path: &[String]| -> Module {
        for k in (0..=path.len()).rev() {
            let pre = path[..k].to_vec();
            if !mods.contains_key(&pre) {
                continue;
            }
            if let Some(target) = path.get(k).and_then(|n| exports[&pre].get(n)) {
                for kk in (0..=target.len()).rev() {
                    if mods.contains_key(&target[..kk].to_vec()) {
                        return target[..kk].to_vec();
                    }
                }
            }
            return pre;
        }
        vec![]
    };
    let mut deps = BTreeMap::new();
    for (m, text) in mods {
        let mut add = |to: Module, why: &str| {
            if &to != m {
                deps.entry((m.clone(), to))
                    .or_insert_with(|| why.to_string());
            }
        };
        // crate::, super::, self:: paths.
        for (i, _) in text.match_indices("::") {
            let start = text[..i].rfind(|c: char| !is_ident(c)).map_or(0, |j| j + 1);
            let head = &text[start..i];
            if !matches!(head, "crate" | "super" | "self") || text[..start].ends_with("::") {
                continue;
            }
            let (segs, rest) = path_at(&text[start..]);
            let mut segs = segs;
            let mut base: Module = match head {
                "crate" => vec![],
                "self" => m.clone(),
                _ => m[..m.len().saturating_sub(1)].to_vec(),
            };
            segs.remove(0);
            while segs.first().is_some_and(|s| s == "super") {
                base.pop();
                segs.remove(0);
            }
            let why: String = text[start..].chars().take(60).collect();
            let mut targets: Vec<Vec<String>> = vec![];
            let items = group_items(rest);
            if items.is_empty() {
                targets.push(base.iter().cloned().chain(segs.iter().cloned()).collect());
            }
            for item in items {
                let item: Vec<String> = item.into_iter().filter(|s| s != "self").collect();
                targets.push(
                    base.iter()
                        .cloned()
                        .chain(segs.iter().cloned())
                        .chain(item)
                        .collect(),
                );
            }
            for t in targets {
                add(resolve(&t), &why);
            }
        }
        // A child module named bare (`child::f()`, `use child::X;`), other than `pub use`.
        for child in mods
            .keys()
            .filter(|c| c.len() == m.len() + 1 && c.starts_with(m))
        {
            let needle = format!("{}::", child.last().unwrap());
            for stmt in text.split(';') {
                let trimmed = stmt.trim_start();
                if trimmed.starts_with("pub use ") {
                    continue;
                }
                let found = stmt
                    .match_indices(&needle)
                    .any(|(i, _)| !stmt[..i].ends_with(|c: char| is_ident(c) || c == ':'));
                if found {
                    let why: String = trimmed.chars().take(60).collect();
                    add(child.clone(), &why);
                    break;
                }
            }
        }
    }
    deps
}

/// Groups of two or more files that depend on each other (strongly connected components).
fn cycles(mods: &BTreeMap<Module, String>) -> Vec<String> {
    let deps = dependencies(mods);
    let nodes: Vec<&Module> = mods.keys().collect();
    let reach = |from: &Module| -> BTreeSet<Module> {
        let mut seen = BTreeSet::new();
        let mut todo = vec![from.clone()];
        while let Some(n) = todo.pop() {
            for ((a, b), _) in deps.range((n.clone(), vec![])..) {
                if a != &n {
                    break;
                }
                if seen.insert(b.clone()) {
                    todo.push(b.clone());
                }
            }
        }
        seen
    };
    let reaches: BTreeMap<&Module, BTreeSet<Module>> =
        nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out = Vec::new();
    let mut done = BTreeSet::new();
    for n in &nodes {
        if done.contains(*n) || !reaches[n].contains(*n) {
            continue;
        }
        let group: Vec<&Module> = nodes
            .iter()
            .copied()
            .filter(|o| reaches[n].contains(*o) && reaches[o].contains(*n))
            .collect();
        let mut lines = vec![format!(
            "cycle among {}",
            group.iter().map(|g| name(g)).collect::<Vec<_>>().join(", ")
        )];
        for ((a, b), why) in &deps {
            if group.contains(&a) && group.contains(&b) {
                lines.push(format!("    {} -> {}: {why}", name(a), name(b)));
            }
        }
        out.push(lines.join("\n"));
        done.extend(group.into_iter().cloned());
    }
    out
}

#[test]
fn no_two_files_depend_on_each_other_in_any_crate() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut found = Vec::new();
    let mut crates: Vec<PathBuf> = std::fs::read_dir(root.join("crates"))
        .unwrap()
        .map(|e| e.unwrap().path().join("src"))
        .filter(|p| p.is_dir())
        .collect();
    crates.sort();
    assert!(crates.len() >= 8, "crates found: {crates:?}");
    for src in &crates {
        for c in cycles(&modules(src)) {
            found.push(format!("{}: {c}", src.display()));
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}

fn crate_of(files: &[(&str, &str)]) -> BTreeMap<Module, String> {
    files
        .iter()
        .map(|(m, t)| {
            let m: Module = m
                .split("::")
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
            (m, code(t))
        })
        .collect()
}

#[test]
fn the_check_finds_cycles_and_allows_declarations_and_reexports() {
    // Two siblings importing each other.
    let two = crate_of(&[
        ("", "mod a;\nmod b;\npub use a::A;\npub use b::B;"),
        ("a", "use crate::b::B;\npub struct A(B);"),
        (
            "b",
            "use super::a::A; // a comment naming crate::x\npub struct B;",
        ),
    ]);
    assert_eq!(cycles(&two).len(), 1, "{:?}", cycles(&two));
    // Through a re-export at the crate root, and across three files.
    let three = crate_of(&[
        ("", "mod a;\nmod b;\nmod c;\npub use a::A;\npub use c::C;"),
        ("a", "use crate::b::f;\npub struct A;"),
        ("b", "pub fn f() -> crate::C { todo!() }"),
        ("c", "use crate::A;\npub struct C;"),
    ]);
    assert_eq!(cycles(&three).len(), 1, "{:?}", cycles(&three));
    // A parent calling its child while the child uses the parent's item.
    let parent = crate_of(&[
        ("", "mod p;"),
        ("p", "mod q;\npub struct T;\npub fn run() { q::go() }"),
        ("p::q", "use super::T;\npub fn go() {}"),
    ]);
    assert_eq!(cycles(&parent).len(), 1, "{:?}", cycles(&parent));
    // One way only: declarations, re-exports, siblings in one direction, strings and tests.
    let fine = crate_of(&[
        ("", "mod a;\nmod b;\npub use a::A;\npub use b::{B, f};"),
        ("a", "pub(crate) struct A; const S: &str = \"crate::b::f\";"),
        (
            "b",
            "use crate::a::A;\npub struct B(A);\npub fn f() {}\n#[cfg(test)]\nmod tests { use crate::b::B; }",
        ),
    ]);
    assert!(cycles(&fine).is_empty(), "{:?}", cycles(&fine));
}
