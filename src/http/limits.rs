//! The length limits the OpenAPI document states (`maxLength`, `maxItems`), enforced on every
//! JSON body before it is read into its type. The document is the one source: a limit stated is
//! a limit kept, and a test checks that every text field of every request body states one.
//!
//! Each route's request body schema is taken from the document once; a body is walked along it
//! (through `$ref`, `oneOf`/`anyOf`/`allOf`, properties, items). The first value over its limit
//! is refused with its path (`patient.address.line`), the reason `length` and the limit.

use std::collections::HashMap;
use std::sync::OnceLock;

use serde_json::{Map, Value};

use crate::error::{Error, Reason};

struct Limits {
    /// (method in lowercase, path template) → the request body's JSON schema, for the routes
    /// whose body states a limit somewhere (the others, a position fix, are not walked at all).
    bodies: HashMap<(String, String), Value>,
    /// `components.schemas`, to resolve `$ref`.
    components: Map<String, Value>,
}

fn limits() -> &'static Limits {
    static LIMITS: OnceLock<Limits> = OnceLock::new();
    LIMITS.get_or_init(|| {
        let doc = serde_json::to_value(super::openapi()).unwrap_or(Value::Null);
        let components = doc["components"]["schemas"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        let mut bodies = HashMap::new();
        if let Some(paths) = doc["paths"].as_object() {
            for (path, ops) in paths {
                for (method, op) in ops.as_object().into_iter().flatten() {
                    let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                    if states_limits(schema, &components, &mut Default::default()) {
                        bodies.insert((method.clone(), path.clone()), schema.clone());
                    }
                }
            }
        }
        Limits { bodies, components }
    })
}

/// Does this schema, or one it refers to, state a `maxLength` or a `maxItems`? Each referred
/// schema is looked into once (`seen`), so cycles end.
fn states_limits(
    schema: &Value,
    components: &Map<String, Value>,
    seen: &mut std::collections::HashSet<String>,
) -> bool {
    if !schema.is_object() {
        return false;
    }
    if schema.get("maxLength").is_some() || schema.get("maxItems").is_some() {
        return true;
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return seen.insert(name.to_owned())
            && components
                .get(name)
                .is_some_and(|s| states_limits(s, components, seen));
    }
    let nested = ["oneOf", "anyOf", "allOf"]
        .iter()
        .flat_map(|k| schema[*k].as_array().into_iter().flatten())
        .chain(
            schema["properties"]
                .as_object()
                .into_iter()
                .flat_map(|p| p.values()),
        )
        .chain([&schema["items"], &schema["additionalProperties"]]);
    nested
        .into_iter()
        .any(|s| states_limits(s, components, seen))
}

/// Checks a JSON body sent to `method path` (the route's template, e.g. `/api/v1/visits/{id}`)
/// against the limits its schema states.
pub fn check(method: &str, path: &str, body: &Value) -> Result<(), Error> {
    let limits = limits();
    let Some(schema) = limits
        .bodies
        .get(&(method.to_ascii_lowercase(), path.to_owned()))
    else {
        return Ok(());
    };
    walk(schema, body, &mut String::new(), &limits.components, 0)
}

/// `check` on a raw body, read as JSON only when the route states limits (malformed JSON is left
/// for the extractor to describe).
pub fn check_bytes(method: &str, path: &str, body: &[u8]) -> Result<(), Error> {
    let limits = limits();
    if !limits
        .bodies
        .contains_key(&(method.to_ascii_lowercase(), path.to_owned()))
    {
        return Ok(());
    }
    match serde_json::from_slice::<Value>(body) {
        Ok(value) => check(method, path, &value),
        Err(_) => Ok(()),
    }
}

fn too_long(path: &str, max: u64, what: &str) -> Error {
    let field = if path.is_empty() { "body" } else { path };
    Error::invalid(field, format!("at most {max} {what}"))
        .because(Reason::Length)
        .within(None, Some(max as f64))
}

fn walk(
    schema: &Value,
    value: &Value,
    path: &mut String,
    components: &Map<String, Value>,
    depth: usize,
) -> Result<(), Error> {
    // Schemas may refer to themselves; bodies are shallow.
    if depth > 32 {
        return Ok(());
    }
    if let Some(r) = schema["$ref"].as_str() {
        let name = r.rsplit('/').next().unwrap_or_default();
        return match components.get(name) {
            Some(s) => walk(s, value, path, components, depth + 1),
            None => Ok(()),
        };
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        for alternative in schema[key].as_array().into_iter().flatten() {
            walk(alternative, value, path, components, depth + 1)?;
        }
    }
    match value {
        Value::String(s) => {
            if let Some(max) = schema["maxLength"].as_u64() {
                if s.chars().count() as u64 > max {
                    return Err(too_long(path, max, "characters"));
                }
            }
        }
        Value::Array(items) => {
            if let Some(max) = schema["maxItems"].as_u64() {
                if items.len() as u64 > max {
                    return Err(too_long(path, max, "items"));
                }
            }
            if schema["items"].is_object() {
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    walk(&schema["items"], item, path, components, depth + 1)?;
                    path.truncate(len);
                }
            }
        }
        Value::Object(fields) => {
            let properties = schema["properties"].as_object();
            for (name, v) in fields {
                let sub = properties
                    .and_then(|p| p.get(name))
                    .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()));
                if let Some(sub) = sub {
                    let len = path.len();
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                    walk(sub, v, path, components, depth + 1)?;
                    path.truncate(len);
                }
            }
        }
        _ => {}
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_text_over_its_stated_limit_is_refused_with_its_path() {
        let long = "x".repeat(201);
        let body = json!({"patient": {"birth_name": "Girard", "first_names": "Jeanne",
            "address": {"line": long, "city": "Grenoble"}}, "motive": "fièvre", "urgency": 2});
        let e = check("POST", "/api/v1/calls", &body).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("patient.address.line"));
        let d = e.detail.unwrap();
        assert_eq!(d.reason, Some(Reason::Length));
        assert_eq!(d.limits.unwrap().max, Some(200.0));
        // Characters, not bytes: 200 accented letters are within.
        let body = json!({"patient": {"birth_name": "Girard", "first_names": "Jeanne",
            "address": {"line": "é".repeat(200), "city": "Grenoble"}}, "motive": "fièvre", "urgency": 2});
        assert!(check("POST", "/api/v1/calls", &body).is_ok());
    }

    #[test]
    fn every_text_field_of_every_request_body_states_its_limit() {
        let doc = serde_json::to_value(super::super::openapi()).unwrap();
        let components = doc["components"]["schemas"].as_object().unwrap().clone();
        let mut missing = Vec::new();
        let mut seen = std::collections::HashSet::new();
        fn visit(
            s: &Value,
            at: String,
            components: &Map<String, Value>,
            seen: &mut std::collections::HashSet<String>,
            missing: &mut Vec<String>,
            item: bool,
        ) {
            if let Some(r) = s["$ref"].as_str() {
                let name = r.rsplit('/').next().unwrap().to_owned();
                if seen.insert(name.clone()) {
                    visit(&components[&name], name, components, seen, missing, false);
                }
                return;
            }
            let is_string = s["type"] == "string"
                || s["type"]
                    .as_array()
                    .is_some_and(|t| t.contains(&json!("string")));
            // Formatted strings (date-time) are bounded by their format, enums by their values,
            // and list items are each checked by the domain (codes, postcodes, lines).
            if is_string
                && s.get("enum").is_none()
                && s.get("format").is_none()
                && !item
                && s.get("maxLength").is_none()
            {
                missing.push(at.clone());
            }
            for (k, v) in s["properties"].as_object().into_iter().flatten() {
                visit(v, format!("{at}.{k}"), components, seen, missing, false);
            }
            if s["items"].is_object() {
                visit(
                    &s["items"],
                    format!("{at}[]"),
                    components,
                    seen,
                    missing,
                    true,
                );
            }
            for key in ["oneOf", "anyOf", "allOf"] {
                for x in s[key].as_array().into_iter().flatten() {
                    visit(x, at.clone(), components, seen, missing, item);
                }
            }
        }
        for (path, ops) in doc["paths"].as_object().unwrap() {
            for (method, op) in ops.as_object().unwrap() {
                let schema = &op["requestBody"]["content"]["application/json"]["schema"];
                if !schema.is_null() {
                    visit(
                        schema,
                        format!("{method} {path}"),
                        &components,
                        &mut seen,
                        &mut missing,
                        false,
                    );
                }
            }
        }
        assert!(
            missing.is_empty(),
            "text fields without a maxLength: {missing:#?}"
        );
    }
}
