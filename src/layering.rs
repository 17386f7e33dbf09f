//! The dependency rule, checked: `domain ← store ← services ← hub ← http ← cli / demo`.
//! A module may name (`crate::...`) only modules of its own layer or below; the test reads the
//! sources, so a new upward import fails `cargo test` (and CI). Below the HTTP layer, nothing
//! uses axum either.

/// The layer of a top-level module of the crate, lowest first.
pub const LAYERS: &[(&str, &[&str])] = &[
    ("engines", &["domain", "dispatch", "address"]),
    ("store", &["store", "error"]),
    (
        "services",
        &[
            "services",
            "auth",
            "accounts",
            "directory",
            "import",
            "letters",
            "nursing",
            "planning",
            "autodispatch",
        ],
    ),
    ("hub", &["hub"]),
    ("http", &["http"]),
    ("commands", &["cli", "demo", "tools", "layering"]),
];

pub fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|(_, mods)| mods.contains(&module))
}

/// Every `crate::MODULE` named in code (comments skipped) of `source`.
pub fn named_modules(source: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut in_group = false;
    for line in source.lines() {
        let code = line.trim_start();
        if code.starts_with("//") {
            continue;
        }
        let code = code.split("//").next().unwrap_or_default();
        let mut rest = code;
        while let Some(i) = rest.find("crate::") {
            let before = rest[..i].chars().last();
            rest = &rest[i + "crate::".len()..];
            // `chevet_ecg::...` or `$crate::` are not ours.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '$') {
                continue;
            }
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.push(name);
            }
        }
        // `use crate::{a::X, b};`, on one line or over several.
        let group = code
            .strip_prefix("use crate::{")
            .or_else(|| code.strip_prefix("pub use crate::{"));
        if group.is_some() || in_group {
            let items = group.unwrap_or(code);
            in_group = !items.contains('}');
            for part in items.split([',', '}']) {
                let name = part.trim().split("::").next().unwrap_or_default();
                if !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_') {
                    out.push(name.to_owned());
                }
            }
        }
    }
    out
}

/// Does code (comments skipped) of `source` name the axum crate?
pub fn names_axum(source: &str) -> bool {
    source.lines().any(|line| {
        let code = line.trim_start();
        !code.starts_with("//")
            && code
                .split("//")
                .next()
                .unwrap_or_default()
                .split(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .any(|word| word == "axum" || word.starts_with("axum::"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::{Path, PathBuf};

    fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                sources(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }

    #[test]
    fn dependencies_point_down() {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        sources(&src, &mut files);
        let mut wrong = Vec::new();
        for file in &files {
            let rel = file.strip_prefix(&src).unwrap();
            let top = rel
                .components()
                .next()
                .unwrap()
                .as_os_str()
                .to_string_lossy()
                .trim_end_matches(".rs")
                .to_owned();
            if top == "lib" || top == "main" {
                continue;
            }
            let Some(own) = layer_of(&top) else {
                panic!("src/{top} is in no layer: add it to LAYERS in src/layering.rs");
            };
            let text = std::fs::read_to_string(file).unwrap();
            // The web framework is the HTTP layer's: below it, nothing knows a route or a status.
            if own < layer_of("http").unwrap() && names_axum(&text) {
                wrong.push(format!(
                    "src/{} ({}) uses axum",
                    rel.display(),
                    LAYERS[own].0
                ));
            }
            for named in named_modules(&text) {
                match layer_of(&named) {
                    Some(l) if l > own => wrong.push(format!(
                        "src/{} ({}) names crate::{named} ({})",
                        rel.display(),
                        LAYERS[own].0,
                        LAYERS[l].0
                    )),
                    _ => {}
                }
            }
        }
        assert!(
            wrong.is_empty(),
            "imports against the layering:\n{}",
            wrong.join("\n")
        );
    }

    #[test]
    fn the_reader_sees_imports_and_paths() {
        let src = "use crate::http::serve;\n// crate::hub in a comment\nlet x = crate::hub::Hub::new();\n\
                   use crate::{store::Db, error};\nchevet_ecg::read()\nuse crate::{\n    planning::X,\n    demo,\n};";
        assert_eq!(
            named_modules(src),
            ["http", "hub", "store", "error", "planning", "demo"]
        );
        assert!(names_axum("use axum::http::StatusCode;"));
        assert!(!names_axum("// axum::Json in a comment\nlet my_axum = 1;"));
    }
}
