//! The README and `docs/`: every relative link names a file that exists, every `#anchor` a
//! heading of the page it points into, and the README stays short.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// GitHub's anchor for a heading: lower case, punctuation other than `-` and `_` dropped,
/// spaces as `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// Headings outside code blocks, as anchors.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut code = false;
    let mut out = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
        } else if !code && line.starts_with('#') {
            out.insert(slug(line.trim_start_matches('#')));
        }
    }
    out
}

/// Targets of `](target)` links outside code blocks.
fn links(text: &str) -> Vec<String> {
    let mut code = false;
    let mut out = vec![];
    for line in text.lines() {
        if line.starts_with("```") {
            code = !code;
            continue;
        }
        if code {
            continue;
        }
        let mut rest = line;
        while let Some(i) = rest.find("](") {
            rest = &rest[i + 2..];
            if let Some(j) = rest.find(')') {
                out.push(rest[..j].to_string());
                rest = &rest[j..];
            }
        }
    }
    out
}

/// Markdown files under `dir`, at any depth.
fn markdown_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            markdown_under(&path, out);
        } else if path.extension().is_some_and(|e| e == "md") {
            out.push(path);
        }
    }
}

fn pages() -> Vec<PathBuf> {
    let mut docs = vec![];
    markdown_under(&root().join("docs"), &mut docs);
    docs.sort();
    let mut pages = vec![root().join("README.md"), root().join("CHANGELOG.md")];
    pages.extend(docs);
    assert!(pages.len() > 8, "the docs pages were not found: {pages:?}");
    pages
}

fn dead_links(page: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(page).unwrap();
    let mut dead = vec![];
    for link in links(&text) {
        if link.contains("://") || link.starts_with("mailto:") {
            continue;
        }
        let (file, anchor) = match link.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (link.as_str(), None),
        };
        let target = if file.is_empty() {
            page.to_path_buf()
        } else {
            page.parent().unwrap().join(file)
        };
        if !target.exists() {
            dead.push(format!("{}: {link} (no such file)", page.display()));
            continue;
        }
        if let Some(anchor) = anchor {
            let headings = anchors(&std::fs::read_to_string(&target).unwrap_or_default());
            if !headings.contains(anchor) {
                dead.push(format!("{}: {link} (no such heading)", page.display()));
            }
        }
    }
    dead
}

#[test]
fn the_docs_have_no_dead_links() {
    let dead: Vec<String> = pages().iter().flat_map(|p| dead_links(p)).collect();
    assert!(dead.is_empty(), "dead links:\n{}", dead.join("\n"));
}

#[test]
fn the_link_checker_finds_dead_links() {
    let dir = crate::util::TempDir::new("links");
    std::fs::write(dir.path("other.md"), "# Other page\n\n## A section\n").unwrap();
    let page = dir.path("page.md");
    std::fs::write(
        &page,
        "# Page\n\n[ok](other.md#a-section) [ok](#page) [web](https://example.org)\n\
         [gone](missing.md) [bad](other.md#no-section)\n```\n[in code](nowhere.md)\n```\n",
    )
    .unwrap();
    let dead = dead_links(&page);
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert!(
        dead[0].contains("missing.md") && dead[1].contains("#no-section"),
        "{dead:?}"
    );
}

#[test]
fn the_readme_is_short() {
    let lines = std::fs::read_to_string(root().join("README.md"))
        .unwrap()
        .lines()
        .count();
    assert!(
        lines <= 250,
        "README.md has {lines} lines; move detail into docs/"
    );
}
