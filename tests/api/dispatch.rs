//! Auto-dispatch (off / propose / apply, and the dispatcher's last word) and road travel times
//! from the OpenStreetMap extract in ../shared/data/map.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{eventually, on_shift_at, spawn_app, Engine, TestApp};

async fn call_at(app: &TestApp, desk: &str, lat: f64, lon: f64) -> i64 {
    app.post(
        desk,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "fièvre 39,5 depuis hier", "urgency": 2,
               "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": lat, "lon": lon}}),
    )
    .await
    .ok(201)["id"]
        .as_i64()
        .unwrap()
}

/// Reads the visit until `done` holds (the auto-dispatch loop runs in the background).
async fn visit_until(app: &TestApp, desk: &str, id: i64, done: impl Fn(&Value) -> bool) -> Value {
    let done = &done;
    eventually(
        "the visit reaching the expected state",
        Duration::from_secs(5),
        || async move {
            let visit = app.get(desk, &format!("/api/v1/visits/{id}")).await.ok(200);
            if done(&visit) {
                Ok(visit)
            } else {
                Err(visit.to_string())
            }
        },
    )
    .await
}

async fn auto_dispatch_assigns_and_the_dispatcher_has_the_last_word(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, 45.19, 5.72).await;
    on_shift_at(&app, &desk, app.fx.doctor2, 45.30, 5.72).await;
    let s = app
        .put(&desk, "/api/v1/dispatch/settings", json!({"mode": "apply"}))
        .await
        .ok(200);
    assert_eq!(s["mode"], "apply");

    // A call near the first doctor: the engine assigns it to him by itself.
    let id = call_at(&app, &desk, 45.1908, 5.7279).await;
    let v = visit_until(&app, &desk, id, |v| v["status"] == "assigned").await;
    assert_eq!(v["doctor"]["id"], app.fx.doctor, "{v}");
    let robot: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'auto-dispatch'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let by: i64 = sqlx::query_scalar(
        "SELECT actor_id FROM visit_transitions WHERE visit_id = $1 AND to_status = 'assigned'",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(by, robot, "the history names auto-dispatch");
    // Its account cannot log in.
    app.send(
        reqwest::Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "auto-dispatch", "password": "!"})),
    )
    .await
    .error(401, "unauthorized");

    // The dispatcher takes it back: auto-dispatch leaves it alone from then on.
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/unassign"),
        json!({"reason": "je m'en occupe"}),
    )
    .await
    .ok(200);
    let pass = app
        .post(&desk, "/api/v1/dispatch/pass", json!({}))
        .await
        .ok(200);
    assert!(
        !pass["assigned"].as_array().unwrap().contains(&json!(id)),
        "{pass}"
    );
    // A second call goes to the near doctor, who is free: the background loop has passed since
    // she took the first back, and left that one alone.
    let id2 = call_at(&app, &desk, 45.1915, 5.7260).await;
    let v2 = visit_until(&app, &desk, id2, |v| v["status"] == "assigned").await;
    assert_eq!(v2["doctor"]["id"], app.fx.doctor, "{v2}");
    let v = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    assert_eq!(v["status"], "received", "{v}");

    // She sends the far doctor: he keeps it, though the near one would be sooner.
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/assign"),
        json!({"doctor_id": app.fx.doctor2}),
    )
    .await
    .ok(200);
    let pass = app
        .post(&desk, "/api/v1/dispatch/pass", json!({}))
        .await
        .ok(200);
    assert_eq!(pass["moved"], json!([]), "{pass}");
    let v = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    assert_eq!(v["doctor"]["id"], app.fx.doctor2);
    app.stop().await;
}

async fn auto_dispatch_proposes_and_one_click_accepts(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, 45.30, 5.72).await;
    on_shift_at(&app, &desk, app.fx.doctor2, 45.19, 5.72).await;
    app.put(
        &desk,
        "/api/v1/dispatch/settings",
        json!({"mode": "propose"}),
    )
    .await
    .ok(200);
    let id = call_at(&app, &desk, 45.1908, 5.7279).await;
    let v = visit_until(&app, &desk, id, |v| !v["proposal"].is_null()).await;
    assert_eq!(v["status"], "received", "propose never assigns");
    assert_eq!(v["proposal"]["doctor_id"], app.fx.doctor2, "{v}");
    assert!(v["proposal"]["eta_min"].as_f64().unwrap() < 15.0, "{v}");

    // Accepting is assigning to the proposed doctor; the proposal goes with the wait.
    let accepted = app
        .post(
            &desk,
            &format!("/api/v1/visits/{id}/assign"),
            json!({"doctor_id": app.fx.doctor2}),
        )
        .await
        .ok(200);
    assert!(accepted["proposal"].is_null(), "{accepted}");

    // Switched off: no proposal is left on the board.
    let id2 = call_at(&app, &desk, 45.1908, 5.7279).await;
    visit_until(&app, &desk, id2, |v| !v["proposal"].is_null()).await;
    let s = app
        .put(&desk, "/api/v1/dispatch/settings", json!({"mode": "off"}))
        .await
        .ok(200);
    assert_eq!(s["mode"], "off");
    let v2 = app
        .get(&desk, &format!("/api/v1/visits/{id2}"))
        .await
        .ok(200);
    assert!(v2["proposal"].is_null(), "{v2}");
    assert!(app
        .audit_actions("dispatch_settings", 1)
        .await
        .contains(&"dispatch.mode".to_string()));

    // Only the call centre reads or switches it; a bad mode says where.
    let doc = app.login("doctor").await;
    app.put(&doc, "/api/v1/dispatch/settings", json!({"mode": "apply"}))
        .await
        .error(403, "forbidden");
    let nurse = app.login("ehpad").await;
    app.get(&nurse, "/api/v1/dispatch/settings")
        .await
        .error(403, "forbidden");
    let bad = app
        .put(
            &desk,
            "/api/v1/dispatch/settings",
            json!({"mode": "sometimes"}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422, "{:?}", bad.body);
    app.stop().await;
}

/// Gustavia, Saint-Jean and Lorient on Saint-Barthélemy (the OSM extract of shared/data/map).
const GUSTAVIA: (f64, f64) = (17.8962, -62.8498);
const SAINT_JEAN: (f64, f64) = (17.9021, -62.8310);
const LORIENT: (f64, f64) = (17.9036, -62.8162);

async fn suggestions_use_road_times_once_roads_are_imported(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, GUSTAVIA.0, GUSTAVIA.1).await;
    on_shift_at(&app, &desk, app.fx.doctor2, SAINT_JEAN.0, SAINT_JEAN.1).await;
    let id = call_at(&app, &desk, LORIENT.0, LORIENT.1).await;
    let crow = app
        .get(&desk, &format!("/api/v1/visits/{id}/suggestions"))
        .await
        .ok(200);
    assert_eq!(crow["travel"], "crow_flight");

    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/map/saint_barthelemy.osm.pbf");
    let (nodes, _) = chevet::import::import_roads(&app.db, &map).await.unwrap();
    assert!(nodes > 3000, "{nodes}");
    let settings = app.get(&desk, "/api/v1/dispatch/settings").await.ok(200);
    assert_eq!(settings["roads"]["source"], "saint_barthelemy.osm.pbf");
    assert_eq!(settings["roads"]["nodes"], nodes as i64);

    let road = app
        .get(&desk, &format!("/api/v1/visits/{id}/suggestions"))
        .await
        .ok(200);
    assert_eq!(road["travel"], "road", "{road}");
    let list = road["suggestions"].as_array().unwrap();
    assert_eq!(
        list[0]["doctor_id"], app.fx.doctor2,
        "Saint-Jean is nearer: {road}"
    );
    let (near, far) = (
        list[0]["eta_min"].as_f64().unwrap(),
        list[1]["eta_min"].as_f64().unwrap(),
    );
    // By road over the hills: a few minutes from Saint-Jean, longer from Gustavia.
    assert!(near > 1.0 && near < 15.0, "{road}");
    assert!(far > near + 2.0 && far < 40.0, "{road}");

    // A second import replaces the network; a file that is not OSM is refused, nothing changes.
    let junk = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(junk.path(), b"not a pbf").unwrap();
    assert!(chevet::import::import_roads(&app.db, junk.path())
        .await
        .is_err());
    let again = app.get(&desk, "/api/v1/dispatch/settings").await.ok(200);
    assert_eq!(again["roads"]["nodes"], nodes as i64);
    app.stop().await;
}

crate::on_both_engines!(
    auto_dispatch_assigns_and_the_dispatcher_has_the_last_word,
    auto_dispatch_proposes_and_one_click_accepts,
    suggestions_use_road_times_once_roads_are_imported,
);
