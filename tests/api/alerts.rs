//! The doctor's phone on a bad night (#15): he acknowledges a visit given to him and the board
//! knows when; steps tapped offline are replayed later with their key and the time they were
//! tapped, never applied twice.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Engine, EventStream, TestApp};
use crate::on_both_engines;

async fn step(
    app: &TestApp,
    token: &str,
    id: i64,
    path: &str,
    key: &str,
    body: Value,
) -> crate::helpers::Answer {
    let resp = app
        .client
        .post(app.url(&format!("/api/v1/visits/{id}/{path}")))
        .bearer_auth(token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    crate::helpers::Answer::from_response(resp).await
}

async fn the_doctor_acknowledges_and_the_board_sees_when(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;
    let doc2 = app.login("doctor2").await;
    let id = app.assigned_visit(&desk, app.fx.doctor).await;
    let path = format!("/api/v1/visits/{id}/seen");
    let v = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    assert!(v["seen_at"].is_null(), "given, not yet seen");

    // Only the doctor it is given to acknowledges it.
    app.post(&desk, &path, json!({}))
        .await
        .error(403, "forbidden");
    let other = app.post(&doc2, &path, json!({})).await;
    assert!(
        [403, 404].contains(&other.status.as_u16()),
        "another doctor: {}",
        other.status
    );

    let mut stream = EventStream::open(&app, &desk, None).await;
    let seen = app.post(&doc, &path, json!({})).await.ok(200);
    let at = seen["seen_at"].as_str().expect("seen_at").to_owned();
    let e = stream.next().await;
    assert_eq!(e.event, "visit.seen");
    assert_eq!(e.data["seen_at"], at.as_str());
    // Again: the first time stays.
    let again = app.post(&doc, &path, json!({})).await.ok(200);
    assert_eq!(again["seen_at"], at.as_str());
    assert_eq!(
        app.audit_actions("visit", id)
            .await
            .iter()
            .filter(|a| *a == "visit.seen")
            .count(),
        1
    );

    // Given to another doctor, it is unseen until he sees it: setting off counts.
    app.post(&desk, &format!("/api/v1/visits/{id}/unassign"), json!({}))
        .await
        .ok(200);
    let v = app
        .post(
            &desk,
            &format!("/api/v1/visits/{id}/assign"),
            json!({"doctor_id": app.fx.doctor2}),
        )
        .await
        .ok(200);
    assert!(
        v["seen_at"].is_null(),
        "seen by another doctor: not by this one"
    );
    let v = app
        .post(&doc2, &format!("/api/v1/visits/{id}/en-route"), json!({}))
        .await
        .ok(200);
    assert!(v["seen_at"].is_string(), "setting off, he has seen it");

    // Closed, there is nothing to acknowledge.
    let done = app.assigned_visit(&desk, app.fx.doctor).await;
    app.post(
        &desk,
        &format!("/api/v1/visits/{done}/cancel"),
        json!({"reason": "test"}),
    )
    .await
    .ok(200);
    app.post(&doc, &format!("/api/v1/visits/{done}/seen"), json!({}))
        .await
        .error(409, "conflict");
    app.stop().await;
}

async fn a_step_replayed_with_its_key_is_applied_once_at_the_time_it_was_tapped(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;
    let id = app.assigned_visit(&desk, app.fx.doctor).await;
    // Given ten minutes ago (the steps below are dated after it, or before).
    sqlx::query("UPDATE visits SET assigned_at = $1 WHERE id = $2")
        .bind(chevet::store::Ts::now().plus(-chrono::Duration::minutes(10)))
        .bind(id)
        .execute(app.db.pool())
        .await
        .unwrap();
    let assigned_at = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200)["assigned_at"]
        .as_str()
        .unwrap()
        .to_owned();
    let now = chrono::Utc::now();

    // Dated in the future or too long ago: refused, on `at`.
    for at in [
        now + chrono::Duration::hours(1),
        now - chrono::Duration::hours(13),
    ] {
        let e = step(
            &app,
            &doc,
            id,
            "en-route",
            "k-bad",
            json!({"at": at.to_rfc3339()}),
        )
        .await
        .error(422, "invalid_field");
        assert_eq!(e["field"], "at");
    }
    // Tapped "before" the assignment (a phone's clock behind): recorded at the assignment.
    let tapped = now - chrono::Duration::minutes(30);
    let key = "0f8b7c1e-4f7e-4a57-9d1b-2c1a0e5f6a01";
    let v = step(
        &app,
        &doc,
        id,
        "en-route",
        key,
        json!({"at": tapped.to_rfc3339()}),
    )
    .await
    .ok(200);
    assert_eq!(v["status"], "en_route");
    assert_eq!(v["en_route_at"], assigned_at.as_str());
    // The answer was lost; the phone sends it again: the visit as it is, no second step.
    let again = step(
        &app,
        &doc,
        id,
        "en-route",
        key,
        json!({"at": tapped.to_rfc3339()}),
    )
    .await
    .ok(200);
    assert_eq!(again["status"], "en_route");
    assert_eq!(again["version"], v["version"]);
    let detail = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    let steps: Vec<&Value> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|h| h["to_status"] == "en_route")
        .collect();
    assert_eq!(steps.len(), 1);
    assert_eq!(steps[0]["at"], assigned_at.as_str());
    // The same key for another step is a client's mistake, said so.
    let e = step(&app, &doc, id, "on-site", key, json!({}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "Idempotency-Key");
    // Arrival tapped a minute ago, sent now: recorded at the tap.
    let arrived = chrono::Utc::now() - chrono::Duration::seconds(60);
    let v = step(
        &app,
        &doc,
        id,
        "on-site",
        "k-arrive",
        json!({"at": arrived.to_rfc3339()}),
    )
    .await
    .ok(200);
    let on_site = chrono::DateTime::parse_from_rfc3339(v["on_site_at"].as_str().unwrap()).unwrap();
    assert!(
        (on_site.timestamp_millis() - arrived.timestamp_millis()).abs() < 1000,
        "recorded at the tap: {on_site} vs {arrived}"
    );
    // Only the phone's steps are dated earlier.
    let other = app.assigned_visit(&desk, app.fx.doctor).await;
    let e = app
        .send(
            Method::POST,
            &format!("/api/v1/visits/{other}/redirect-15"),
            Some(&desk),
            Some(json!({"at": arrived.to_rfc3339(), "reason": "douleur thoracique"})),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "at");
    app.stop().await;
}

on_both_engines!(
    the_doctor_acknowledges_and_the_board_sees_when,
    a_step_replayed_with_its_key_is_applied_once_at_the_time_it_was_tapped,
);
