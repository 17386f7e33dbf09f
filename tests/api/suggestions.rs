//! Doctor suggestions: ranked by projected arrival through the dispatch engine, with reasons for
//! those left out.

use serde_json::{json, Value};

use crate::helpers::{on_shift_at, spawn_app, Engine, TestApp};

async fn on_shift(app: &TestApp, desk: &str, doctor: i64, lat: f64) {
    on_shift_at(app, desk, doctor, lat, 5.72).await;
}

async fn call(app: &TestApp, desk: &str, motive: &str, urgency: i64) -> i64 {
    app.post(
        desk,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": motive, "urgency": urgency,
               "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": 45.1908, "lon": 5.7279}}),
    )
    .await
    .ok(201)["id"]
        .as_i64()
        .unwrap()
}

fn ids(list: &Value) -> Vec<i64> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|s| s["doctor_id"].as_i64().unwrap())
        .collect()
}

fn reason(s: &Value, doctor: i64) -> String {
    s["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["doctor_id"] == doctor)
        .map(|e| e["reason"].as_str().unwrap().to_owned())
        .unwrap_or_default()
}

async fn doctors_are_ranked_by_projected_arrival(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift(&app, &desk, app.fx.doctor, 45.19).await; // 1 km away, has ECG
    on_shift(&app, &desk, app.fx.doctor2, 45.30).await; // 12 km away

    let fever = call(&app, &desk, "fièvre 39,5 depuis hier", 2).await;
    let s = app
        .get(&desk, &format!("/api/v1/visits/{fever}/suggestions"))
        .await
        .ok(200);
    assert_eq!(
        ids(&s["suggestions"]),
        vec![app.fx.doctor, app.fx.doctor2],
        "nearest first: {s}"
    );
    let first = &s["suggestions"][0];
    assert!(first["eta_min"].as_f64().unwrap() < 10.0, "{first}");
    assert_eq!(first["visits_before"], 0);
    assert_eq!(reason(&s, app.fx.doctor_off), "off_duty");

    // Chest pain needs the ECG: doctor2 is left out, and says why.
    let chest = call(&app, &desk, "Douleur thoracique atypique", 1).await;
    let s = app
        .get(&desk, &format!("/api/v1/visits/{chest}/suggestions"))
        .await
        .ok(200);
    assert_eq!(s["required_skills"], json!(["ecg"]));
    assert_eq!(ids(&s["suggestions"]), vec![app.fx.doctor]);
    assert_eq!(reason(&s, app.fx.doctor2), "lacks_skill");

    // Once the near doctor has the chest pain to do first, the fever waits behind it with him.
    app.post(
        &desk,
        &format!("/api/v1/visits/{chest}/assign"),
        json!({"doctor_id": app.fx.doctor}),
    )
    .await
    .ok(200);
    let s2 = app
        .get(&desk, &format!("/api/v1/visits/{fever}/suggestions"))
        .await
        .ok(200);
    let with_him = s2["suggestions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["doctor_id"] == app.fx.doctor)
        .unwrap()
        .clone();
    assert_eq!(with_him["visits_before"], 1);
    assert!(
        with_him["eta_min"].as_f64().unwrap() > first["eta_min"].as_f64().unwrap() + 20.0,
        "{with_him}"
    );

    // Only staff ask; an unknown visit is a 404.
    let doc = app.login("doctor").await;
    app.get(&doc, &format!("/api/v1/visits/{fever}/suggestions"))
        .await
        .error(403, "forbidden");
    app.get(&desk, "/api/v1/visits/999999/suggestions")
        .await
        .error(404, "not_found");
    app.stop().await;
}

async fn doctors_without_shift_or_position_are_left_out(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    // doctor2 has a position but no shift; doctor has neither.
    let token = app.login("doctor2").await;
    app.put(
        &token,
        &format!("/api/v1/doctors/{}/position", app.fx.doctor2),
        json!({"lat": 45.19, "lon": 5.72}),
    )
    .await
    .ok(200);
    let now = chrono::Utc::now();
    app.post(
        &desk,
        "/api/v1/shifts",
        json!({"doctor_id": app.fx.doctor, "starts_at": (now - chrono::Duration::hours(1)).to_rfc3339(), "ends_at": (now + chrono::Duration::hours(1)).to_rfc3339()}),
    )
    .await
    .ok(201);
    let v = call(&app, &desk, "lombalgie", 3).await;
    let s = app
        .get(&desk, &format!("/api/v1/visits/{v}/suggestions"))
        .await
        .ok(200);
    assert!(s["suggestions"].as_array().unwrap().is_empty());
    assert_eq!(reason(&s, app.fx.doctor2), "no_shift");
    assert_eq!(reason(&s, app.fx.doctor), "no_position");
    app.stop().await;
}

crate::on_both_engines!(
    doctors_are_ranked_by_projected_arrival,
    doctors_without_shift_or_position_are_left_out
);
