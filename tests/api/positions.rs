//! The doctor's phone reports his position (#15): the latest fix with its precision, no audit
//! row per fix, an age after which it counts as old, and sharing he can pause.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{on_shift_at, spawn_app, Engine};
use crate::on_both_engines;

async fn the_latest_fix_is_kept_with_its_precision_and_ages(engine: Engine) {
    let app = spawn_app(engine).await;
    let doc = app.login("doctor").await;
    let desk = app.login("dispatcher").await;
    let path = format!("/api/v1/doctors/{}/position", app.fx.doctor);
    let e = app
        .put(
            &doc,
            &path,
            json!({"lat": 45.19, "lon": 5.72, "accuracy_m": -3.0}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "accuracy_m");
    let at = chrono::Utc::now() - chrono::Duration::seconds(20);
    let view = app
        .put(
            &doc,
            &path,
            json!({"lat": 45.19, "lon": 5.72, "accuracy_m": 12.5, "at": at.to_rfc3339()}),
        )
        .await
        .ok(200);
    assert_eq!(view["position"]["accuracy_m"], 12.5);
    let time = |k: &str| {
        chrono::DateTime::parse_from_rfc3339(view["position"][k].as_str().unwrap()).unwrap()
    };
    assert_eq!(
        (time("stale_at") - time("at")).num_seconds(),
        300,
        "fresh for 5 minutes"
    );
    // A stream of fixes is telemetry, not actions: no audit row for each.
    for i in 0..5 {
        app.put(
            &doc,
            &path,
            json!({"lat": 45.19 + f64::from(i) * 0.001, "lon": 5.72}),
        )
        .await
        .ok(200);
    }
    assert!(app
        .audit_actions("doctor", app.fx.doctor)
        .await
        .iter()
        .all(|a| a != "doctor.position"));
    let board = app.get(&desk, "/api/v1/doctors").await.ok(200);
    let me = board
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == app.fx.doctor)
        .unwrap();
    assert_eq!(me["position"]["lat"], 45.194);
    app.stop().await;
}

async fn the_doctor_alone_pauses_sharing_and_the_board_says_so(engine: Engine) {
    let app = spawn_app(engine).await;
    let doc = app.login("doctor").await;
    let path = format!("/api/v1/doctors/{}/position", app.fx.doctor);
    let sharing = format!("/api/v1/doctors/{}/sharing", app.fx.doctor);
    app.put(&doc, &path, json!({"lat": 45.19, "lon": 5.72}))
        .await
        .ok(200);
    for other in ["dispatcher", "admin", "assistant"] {
        let token = app.login(other).await;
        app.put(&token, &sharing, json!({"paused": true}))
            .await
            .error(403, "forbidden");
    }
    let paused = app
        .put(&doc, &sharing, json!({"paused": true}))
        .await
        .ok(200);
    assert!(paused["sharing_paused_at"].is_string());
    // Paused: the last fix is old at once, and a stray fix is refused, not stored.
    let stale_at = paused["position"]["stale_at"].as_str().unwrap().to_owned();
    assert!(stale_at.as_str() <= paused["sharing_paused_at"].as_str().unwrap());
    app.put(&doc, &path, json!({"lat": 45.30, "lon": 5.80}))
        .await
        .error(409, "sharing_paused");
    let desk = app.login("dispatcher").await;
    let seen = app
        .get(&desk, &format!("/api/v1/doctors/{}", app.fx.doctor))
        .await
        .ok(200);
    assert_eq!(seen["position"]["lat"], 45.19);
    assert!(seen["sharing_paused_at"].is_string());
    let resumed = app
        .put(&doc, &sharing, json!({"paused": false}))
        .await
        .ok(200);
    assert!(resumed["sharing_paused_at"].is_null());
    app.put(&doc, &path, json!({"lat": 45.30, "lon": 5.80}))
        .await
        .ok(200);
    let actions = app.audit_actions("doctor", app.fx.doctor).await;
    assert!(
        actions.contains(&"doctor.sharing_paused".to_owned()),
        "{actions:?}"
    );
    assert!(
        actions.contains(&"doctor.sharing_resumed".to_owned()),
        "{actions:?}"
    );
    app.stop().await;
}

/// An old fix weighs as uncertain: a doctor known to be nearly as near, now, comes first.
async fn an_old_fix_ranks_behind_a_fresh_one_nearly_as_near(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, 45.1908, 5.7279).await;
    on_shift_at(&app, &desk, app.fx.doctor2, 45.1990, 5.7279).await; // 900 m further
                                                                     // The nearer doctor's fix is 20 minutes old.
    let doc = app.login("doctor").await;
    let sharing = format!("/api/v1/doctors/{}/sharing", app.fx.doctor);
    let rank = || async {
        let v = app
            .post(
                &desk,
                "/api/v1/calls",
                json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2,
                       "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": 45.1908, "lon": 5.7279}}),
            )
            .await
            .ok(201)["id"]
            .as_i64()
            .unwrap();
        let s = app
            .get(&desk, &format!("/api/v1/visits/{v}/suggestions"))
            .await
            .ok(200);
        s["suggestions"][0]["doctor_id"].as_i64().unwrap()
    };
    assert_eq!(rank().await, app.fx.doctor, "fresh: the nearest first");
    app.put(&doc, &sharing, json!({"paused": true}))
        .await
        .ok(200);
    assert_eq!(rank().await, app.fx.doctor2, "an old fix: uncertain");
    app.send(
        Method::PUT,
        &sharing,
        Some(&doc),
        Some(json!({"paused": false})),
    )
    .await
    .ok(200);
    app.stop().await;
}

on_both_engines!(
    the_latest_fix_is_kept_with_its_precision_and_ages,
    the_doctor_alone_pauses_sharing_and_the_board_says_so,
    an_old_fix_ranks_behind_a_fresh_one_nearly_as_near,
);
