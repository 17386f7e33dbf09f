//! The live event stream: changes reach everyone allowed to see them, and a client that
//! reconnects with Last-Event-ID misses nothing.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{spawn_app, Engine, EventStream};

async fn changes_reach_those_allowed_to_see_them(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;
    let ehpad = app.login("ehpad").await;
    let other_home = app.login("ehpadother").await;
    let mut board = EventStream::open(&app, &desk, None).await;
    let mut doctor = EventStream::open(&app, &doc, None).await;
    let mut home = EventStream::open(&app, &ehpad, None).await;
    let mut elsewhere = EventStream::open(&app, &other_home, None).await;

    let v = app.new_call(&desk).await;
    let id = v["id"].as_i64().unwrap();
    let e = board.next().await;
    assert_eq!(
        (e.event.as_str(), e.data["id"].as_i64()),
        ("visit.created", Some(id))
    );

    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/assign"),
        json!({"doctor_id": app.fx.doctor}),
    )
    .await
    .ok(200);
    let e = board.next().await;
    assert_eq!(e.event, "visit.assigned");
    let e = doctor.next().await;
    assert_eq!(
        e.event, "visit.assigned",
        "the doctor hears of his new visit"
    );
    assert_eq!(e.data["doctor"]["id"], app.fx.doctor);

    app.post(&doc, &format!("/api/v1/visits/{id}/en-route"), json!({}))
        .await
        .ok(200);
    let kinds = [board.next().await.event, board.next().await.event];
    assert!(
        kinds.contains(&"doctor.status".to_owned()) && kinds.contains(&"visit.status".to_owned()),
        "{kinds:?}"
    );

    app.put(
        &doc,
        &format!("/api/v1/doctors/{}/position", app.fx.doctor),
        json!({"lat": 45.19, "lon": 5.73}),
    )
    .await
    .ok(200);

    // The EHPAD's request reaches its home, not the other.
    let r = app
        .post(
            &ehpad,
            "/api/v1/calls",
            json!({"patient_id": app.fx.resident, "motive": "fièvre", "urgency": 2}),
        )
        .await
        .ok(201);
    let e = home.next().await;
    assert_eq!(
        (e.event.as_str(), e.data["id"].as_i64()),
        ("visit.created", r["id"].as_i64())
    );
    assert!(
        elsewhere
            .next_within(Duration::from_millis(500))
            .await
            .is_none(),
        "another home hears nothing"
    );
    // The doctor heard only of his own visit and himself.
    let mut heard = Vec::new();
    while let Some(e) = doctor.next_within(Duration::from_millis(500)).await {
        heard.push(e.event);
    }
    assert_eq!(
        heard,
        vec!["doctor.status", "visit.status", "doctor.position"]
    );
    app.stop().await;
}

async fn a_reconnecting_client_misses_nothing(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let mut stream = EventStream::open(&app, &desk, None).await;
    app.new_call(&desk).await;
    let first = stream.next().await;
    drop(stream); // the connection is lost...

    // ...while the board keeps changing.
    let a = app.new_call(&desk).await["id"].as_i64().unwrap();
    let b = app.new_call(&desk).await["id"].as_i64().unwrap();
    app.post(
        &desk,
        &format!("/api/v1/visits/{a}/assign"),
        json!({"doctor_id": app.fx.doctor2}),
    )
    .await
    .ok(200);

    let mut stream = EventStream::open(&app, &desk, Some(first.id)).await;
    let missed: Vec<(String, i64)> = vec![
        stream.next().await,
        stream.next().await,
        stream.next().await,
    ]
    .into_iter()
    .map(|e| (e.event, e.data["id"].as_i64().unwrap()))
    .collect();
    assert_eq!(
        missed,
        vec![
            ("visit.created".to_owned(), a),
            ("visit.created".to_owned(), b),
            ("visit.assigned".to_owned(), a)
        ]
    );
    // Then the live feed goes on, ids increasing.
    let c = app.new_call(&desk).await["id"].as_i64().unwrap();
    let live = stream.next().await;
    assert_eq!(live.data["id"].as_i64(), Some(c));
    assert!(live.id > first.id);
    app.stop().await;
}

async fn a_revoked_session_ends_its_stream(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let other = app.login("dispatcher2").await;
    let mut stream = EventStream::open(&app, &other, None).await;
    app.send(
        reqwest::Method::POST,
        "/api/v1/auth/logout",
        Some(&other),
        None,
    )
    .await
    .ok(204);
    app.new_call(&desk).await;
    assert!(
        stream.next_within(Duration::from_secs(2)).await.is_none(),
        "no event after logout"
    );
    app.stop().await;
}

crate::on_both_engines!(
    changes_reach_those_allowed_to_see_them,
    a_reconnecting_client_misses_nothing,
    a_revoked_session_ends_its_stream,
);
