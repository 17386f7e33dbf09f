//! Every SQL statement of the hub, prepared on both engines: a stand-in for the compile-time
//! checks the `Any` driver lacks. The statements are read from the sources (each literal given to
//! `query`, `query_as` or `query_scalar`) and prepared on a freshly migrated store, so a misspelt
//! column, a table dropped by a migration or a construct one engine lacks fails here rather than
//! on a user's request. Statements built at run time (`format!`) are prepared by the tests that
//! run them. A statement for PostgreSQL alone names its functions (`pg_...`). On PostgreSQL
//! a parameter's type comes from its first use: write `(x = $1 OR $1 IS NULL)`, not
//! `($1 IS NULL OR x = $1)`, which only works once a value of known type is bound.

use std::path::{Path, PathBuf};

use sqlx::Executor;

use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;

/// (file:line, SQL) of every literal statement under `src/`.
fn statements() -> Vec<(String, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    let mut out = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let rel = file.strip_prefix(root).unwrap().display().to_string();
        for (offset, sql) in literal_statements(&text) {
            let line = text[..offset].matches('\n').count() + 1;
            out.push((format!("{rel}:{line}"), sql));
        }
    }
    out
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The string literals that open a `query(`, `query_as(`, `query_as::<T>(` or `query_scalar(`
/// call, unescaped, with their byte offset.
fn literal_statements(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    for call in ["query(", "query_as(", "query_scalar(", "query_as::<"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(call) {
            let at = from + i;
            from = at + call.len();
            // `sqlx::query(` or `query(` imported; not `fetch_query(` or a comment.
            let before = text[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            if text[line_start..at].trim_start().starts_with("//") {
                continue;
            }
            let mut rest = &text[from..];
            if call.ends_with('<') {
                // Skip the turbofish to its `(`.
                let Some(open) = rest.find(">(") else {
                    continue;
                };
                rest = &rest[open + 2..];
            }
            let start = text.len() - rest.len();
            let trimmed = rest.trim_start();
            let lit_at = start + (rest.len() - trimmed.len());
            if let Some(sql) = read_literal(trimmed) {
                out.push((lit_at, sql));
            }
        }
    }
    out
}

/// The value of the Rust string literal `s` opens with (`"..."` or `r#"..."#`), if it does.
fn read_literal(s: &str) -> Option<String> {
    if let Some(raw) = s.strip_prefix("r#\"") {
        return raw.find("\"#").map(|end| raw[..end].to_owned());
    }
    let body = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => return Some(out),
            '\\' => match chars.next()? {
                'n' => out.push('\n'),
                't' => out.push('\t'),
                'r' => out.push('\r'),
                '0' => out.push('\0'),
                '\\' => out.push('\\'),
                '"' => out.push('"'),
                '\'' => out.push('\''),
                // A continued line: the newline and the next line's indentation are dropped.
                '\n' => {
                    while chars.peek().is_some_and(|c| c.is_whitespace()) {
                        chars.next();
                    }
                }
                _ => return None,
            },
            c => out.push(c),
        }
    }
    None
}

async fn every_statement_prepares(engine: Engine) {
    let all = statements();
    assert!(all.len() > 150, "only {} statements found", all.len());
    let app = spawn_app(engine).await;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let mut failed = Vec::new();
    for (at, sql) in &all {
        // PostgreSQL's own functions (an advisory lock) run only there.
        if engine == Engine::Sqlite && sql.contains("pg_") {
            continue;
        }
        if let Err(e) = (&mut *conn).prepare(sql.as_str()).await {
            failed.push(format!("{at}: {e}\n    {sql}"));
        }
    }
    assert!(
        failed.is_empty(),
        "{} of {} statements do not prepare on {engine:?}:\n{}",
        failed.len(),
        all.len(),
        failed.join("\n")
    );
    drop(conn);
    app.stop().await;
}

#[test]
fn the_reader_unescapes_literals() {
    let text = "let a = sqlx::query(\"SELECT 1 \\\n         FROM t WHERE x = 'a\\\"b'\");\n\
                // sqlx::query(\"not me\")\n\
                let b = sqlx::query_as::<_, (i64,)>(r#\"SELECT \"id\" FROM u\"#);\n\
                let c = query_scalar(&sql);";
    let found: Vec<String> = literal_statements(text)
        .into_iter()
        .map(|(_, s)| s)
        .collect();
    assert_eq!(
        found,
        ["SELECT 1 FROM t WHERE x = 'a\"b'", "SELECT \"id\" FROM u"]
    );
}

on_both_engines!(every_statement_prepares);
