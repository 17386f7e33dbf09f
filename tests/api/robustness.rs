//! No input produces a 5xx: every writing route gets a battery of hostile bodies (each field of a
//! valid body replaced by values of every wrong kind, plus broken documents) and must answer 4xx,
//! or 2xx where the mutation happens to be acceptable.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Engine};

fn hostile_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(1e308),
        json!(-1e308),
        json!(0.5),
        json!(""),
        json!(" "),
        json!("x".repeat(5000)),
        json!("'; DROP TABLE visits; --"),
        json!("\u{0}\u{202e}é😀"),
        json!("2026-13-45T99:99:99Z"),
        json!([]),
        json!([1, "a", null]),
        json!({}),
        json!({"nested": {"deep": [1, 2, {"x": null}]}}),
    ]
}

/// Each top-level and nested field of `valid` replaced, one at a time, by each hostile value;
/// plus each field removed.
pub fn mutations(valid: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    fn walk(root: &Value, path: &mut Vec<String>, out: &mut Vec<Value>) {
        let Some(obj) = pointer(root, path).and_then(Value::as_object).cloned() else {
            return;
        };
        for (k, v) in obj {
            path.push(k.clone());
            for h in hostile_values() {
                let mut m = root.clone();
                set(&mut m, path, h);
                out.push(m);
            }
            let mut removed = root.clone();
            remove(&mut removed, path);
            out.push(removed);
            if v.is_object() {
                walk(root, path, out);
            }
            path.pop();
        }
    }
    walk(valid, &mut Vec::new(), &mut out);
    out
}

fn pointer<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn set(v: &mut Value, path: &[String], new: Value) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        cur = cur.get_mut(k).unwrap();
    }
    cur[&path[path.len() - 1]] = new;
}

fn remove(v: &mut Value, path: &[String]) {
    let mut cur = v;
    for k in &path[..path.len() - 1] {
        cur = cur.get_mut(k).unwrap();
    }
    cur.as_object_mut().unwrap().remove(&path[path.len() - 1]);
}

async fn hostile_bodies_never_cause_a_server_error(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login("admin").await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;
    let visit = app.new_call(&desk).await["id"].as_i64().unwrap();
    let on_site = app.assigned_visit(&desk, app.fx.doctor).await;
    app.post(
        &doc,
        &format!("/api/v1/visits/{on_site}/on-site"),
        json!({}),
    )
    .await
    .ok(200);
    let fx = app.fx.clone();
    let routes: Vec<(Method, String, &str, Value)> = vec![
        (
            Method::POST,
            "/api/v1/auth/login".into(),
            "",
            json!({"username": "dispatcher", "password": crate::helpers::PASSWORD}),
        ),
        (
            Method::POST,
            "/api/v1/calls".into(),
            &desk,
            json!({"source": "relative", "caller_name": "fils", "caller_phone": "0600000000",
                   "patient": {"birth_name": "Lambert", "first_names": "Nathan", "birth_date": "2021-05-02", "sex": "M",
                               "nir": null, "treating_physician": {"name": "Dr X", "rpps": "10001234565", "mssante": "x@y.fr"}},
                   "address": {"line": "1 rue X", "postcode": "38000", "city": "Grenoble", "details": "code 12", "lat": 45.1, "lon": 5.7},
                   "motive": "fièvre", "urgency": 2, "notes": "n"}),
        ),
        (
            Method::POST,
            format!("/api/v1/visits/{visit}/assign"),
            &desk,
            json!({"doctor_id": fx.doctor}),
        ),
        (
            Method::POST,
            format!("/api/v1/visits/{visit}/cancel"),
            &desk,
            json!({"reason": "r"}),
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{}/position", fx.doctor),
            &doc,
            json!({"lat": 45.1, "lon": 5.7, "at": "2026-01-01T00:00:00Z"}),
        ),
        (
            Method::PUT,
            format!("/api/v1/doctors/{}/status", fx.doctor),
            &doc,
            json!({"status": "available"}),
        ),
        (
            Method::POST,
            "/api/v1/users".into(),
            &admin,
            json!({"username": "new.user", "password": "long enough", "display_name": "N", "role": "doctor",
                   "doctor": {"rpps": "10033445569", "phone": "06", "skills": ["ecg"]}}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/users/{}", fx.doctor2),
            &admin,
            json!({"display_name": "Dr B", "password": "another one", "disabled": false}),
        ),
        (
            Method::POST,
            "/api/v1/delegations".into(),
            &admin,
            json!({"doctor_id": fx.doctor2, "assistant_id": fx.assistant}),
        ),
        (
            Method::POST,
            "/api/v1/shifts".into(),
            &desk,
            json!({"doctor_id": fx.doctor, "starts_at": "2026-11-23T18:00:00Z", "ends_at": "2026-11-24T08:00:00Z", "sector_id": null}),
        ),
        (
            Method::POST,
            "/api/v1/institutions".into(),
            &admin,
            json!({"name": "EHPAD", "finess": "380787895", "address_line": "1 rue", "postcode": "38000", "city": "G", "lat": 45.0, "lon": 5.0, "phone": "04"}),
        ),
        (
            Method::PATCH,
            format!("/api/v1/patients/{}", fx.patient_home),
            &desk,
            json!({"used_name": "X", "phone": "06 12 34 56 78", "address": {"line": "1 rue", "city": "G", "postcode": "38000"},
                   "treating_physician": {"name": "Dr Y"}, "nir": null, "birth_place_code": "38185"}),
        ),
        (
            Method::PUT,
            "/api/v1/association".into(),
            &admin,
            json!({"name": "SOS", "address_line": "1 rue", "postcode": "38000", "city": "G", "phone": "04",
                   "mssante": "sos@x.mssante.fr"}),
        ),
        (
            Method::PUT,
            format!("/api/v1/visits/{on_site}/report"),
            &doc,
            json!({"version": 0, "observations": crate::closing::complete_observations()}),
        ),
        (
            Method::POST,
            format!("/api/v1/visits/{on_site}/report/validate"),
            &doc,
            json!({"version": 1, "treating_physician": {"name": "Dr Y", "rpps": "10101010105", "mssante": "y@m.mssante.fr"}}),
        ),
        (
            Method::PUT,
            format!("/api/v1/visits/{on_site}/letter/recipient"),
            &doc,
            json!({"name": "Dr Z", "rpps": "10101010105", "mssante": "z@m.mssante.fr"}),
        ),
    ];
    let mut sent = 0;
    for (method, path, token, valid) in &routes {
        let mut bodies = mutations(valid);
        bodies.push(valid.clone());
        for body in bodies {
            let token = (!token.is_empty()).then_some(*token);
            let a = app
                .send(method.clone(), path, token, Some(body.clone()))
                .await;
            assert!(
                a.status.as_u16() < 500,
                "{method} {path} with {body} answered {}: {}",
                a.status,
                a.body
            );
            if !a.status.is_success() {
                assert!(
                    a.body["error"]["code"].is_string(),
                    "{method} {path}: error shape: {}",
                    a.body
                );
            }
            sent += 1;
        }
        // Broken documents.
        for raw in [
            "",
            "{",
            "nul",
            "{\"a\":}",
            "[]",
            "\"text\"",
            "{\"a\": 1e999999}",
            "\u{feff}{}",
        ] {
            let mut req = app
                .client
                .request(method.clone(), app.url(path))
                .header("content-type", "application/json")
                .body(raw);
            if !token.is_empty() {
                req = req.bearer_auth(token);
            }
            let r = req.send().await.unwrap();
            assert!(
                r.status().as_u16() < 500,
                "{method} {path} with {raw:?} answered {}",
                r.status()
            );
            sent += 1;
        }
    }
    assert!(sent > 1000, "only {sent} requests");
    // The hub still works.
    app.new_call(&desk).await;
    app.stop().await;
}

crate::on_both_engines!(hostile_bodies_never_cause_a_server_error);
