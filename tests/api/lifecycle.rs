//! The call → visit lifecycle, each transition recorded with who made it.

use serde_json::json;

use crate::helpers::{spawn_app, Engine};

async fn a_call_goes_from_received_to_closed(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;

    let visit = app.new_call(&desk).await;
    let id = visit["id"].as_i64().unwrap();
    assert_eq!(visit["status"], "received");
    assert_eq!(visit["urgency"], 2);
    assert_eq!(
        visit["address"]["city"], "Grenoble",
        "the patient's address is used by default"
    );

    let v = app
        .post(
            &desk,
            &format!("/api/v1/visits/{id}/assign"),
            json!({"doctor_id": app.fx.doctor}),
        )
        .await
        .ok(200);
    assert_eq!(v["status"], "assigned");
    assert_eq!(v["doctor"]["id"], app.fx.doctor);
    assert!(v["assigned_at"].is_string());

    // The doctor sees it in his round.
    let mine = app.get(&doc, "/api/v1/visits?open=true").await.ok(200);
    assert_eq!(mine.as_array().unwrap().len(), 1);

    let v = app
        .post(&doc, &format!("/api/v1/visits/{id}/en-route"), json!({}))
        .await
        .ok(200);
    assert_eq!(v["status"], "en_route");
    let d = app
        .get(&doc, &format!("/api/v1/doctors/{}", app.fx.doctor))
        .await
        .ok(200);
    assert_eq!(
        d["status"], "en_route",
        "the doctor's status follows his visit"
    );
    assert_eq!(d["queue"], 1);

    let v = app
        .post(&doc, &format!("/api/v1/visits/{id}/on-site"), json!({}))
        .await
        .ok(200);
    assert_eq!(v["status"], "on_site");
    let v = app
        .post(&doc, &format!("/api/v1/visits/{id}/close"), json!({}))
        .await
        .ok(200);
    assert_eq!(v["status"], "closed");
    assert!(v["closed_at"].is_string());
    let d = app
        .get(&doc, &format!("/api/v1/doctors/{}", app.fx.doctor))
        .await
        .ok(200);
    assert_eq!(d["status"], "available");
    assert_eq!(d["queue"], 0);

    // A closed visit accepts nothing more.
    app.post(&doc, &format!("/api/v1/visits/{id}/close"), json!({}))
        .await
        .error(409, "conflict");
    app.post(&desk, &format!("/api/v1/visits/{id}/cancel"), json!({}))
        .await
        .error(409, "conflict");

    let detail = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    let steps: Vec<(&str, i64)> = detail["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["to_status"].as_str().unwrap(),
                t["actor_id"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        steps,
        vec![
            ("received", app.fx.dispatcher),
            ("assigned", app.fx.dispatcher),
            ("en_route", app.fx.doctor),
            ("on_site", app.fx.doctor),
            ("closed", app.fx.doctor),
        ]
    );
    assert_eq!(
        app.audit_actions("visit", id).await,
        vec![
            "visit.assign",
            "visit.en_route",
            "visit.on_site",
            "visit.close"
        ]
    );
    app.stop().await;
}

async fn cancel_redirect_and_reassign(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;

    let a = app.new_call(&desk).await["id"].as_i64().unwrap();
    let v = app
        .post(
            &desk,
            &format!("/api/v1/visits/{a}/cancel"),
            json!({"reason": "la famille a trouvé un médecin"}),
        )
        .await
        .ok(200);
    assert_eq!(v["status"], "cancelled");

    let b = app.assigned_visit(&desk, app.fx.doctor).await;
    let v = app
        .post(
            &desk,
            &format!("/api/v1/visits/{b}/redirect-15"),
            json!({"reason": "douleur thoracique avec sueurs"}),
        )
        .await
        .ok(200);
    assert_eq!(v["status"], "redirected_15");
    let detail = app.get(&desk, &format!("/api/v1/visits/{b}")).await.ok(200);
    assert_eq!(
        detail["history"].as_array().unwrap().last().unwrap()["reason"],
        "douleur thoracique avec sueurs"
    );

    // Unassign, then assign to another doctor.
    let c = app.assigned_visit(&desk, app.fx.doctor).await;
    let v = app
        .post(&desk, &format!("/api/v1/visits/{c}/unassign"), json!({}))
        .await
        .ok(200);
    assert_eq!(v["status"], "received");
    assert!(v["doctor"].is_null());
    let v = app
        .post(
            &desk,
            &format!("/api/v1/visits/{c}/assign"),
            json!({"doctor_id": app.fx.doctor2}),
        )
        .await
        .ok(200);
    assert_eq!(v["doctor"]["id"], app.fx.doctor2);
    // The first doctor no longer sees it.
    let doc = app.login("doctor").await;
    app.get(&doc, &format!("/api/v1/visits/{c}"))
        .await
        .error(404, "not_found");
    app.stop().await;
}

async fn assignment_checks_the_doctor(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let id = app.new_call(&desk).await["id"].as_i64().unwrap();
    // Off duty, not a doctor, no such account.
    for doctor in [app.fx.doctor_off, app.fx.dispatcher, 99999] {
        let path = format!("/api/v1/visits/{id}/assign");
        let e = app.post(&desk, &path, json!({"doctor_id": doctor})).await;
        assert_eq!(e.error(422, "invalid_field")["field"], "doctor_id");
    }
    // A visit cannot skip steps.
    let e = app
        .post(&desk, &format!("/api/v1/visits/{id}/close"), json!({}))
        .await;
    assert_eq!(e.status, 403, "only the doctor closes: {}", e.body);
    let e = app
        .post(&desk, &format!("/api/v1/visits/{id}/on-site"), json!({}))
        .await
        .error(409, "conflict");
    assert_eq!(e["field"], "status");
    app.stop().await;
}

async fn a_new_patient_can_be_registered_with_the_call(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let v = app
        .post(
            &desk,
            "/api/v1/calls",
            json!({
                "source": "samu_15",
                "patient": {"birth_name": "Lambert", "first_names": "Nathan", "birth_date": "2021-05-02", "sex": "M",
                            "treating_physician": {"name": "Dr Anne Perret", "mssante": "anne.perret@medecin.mssante.fr"}},
                "address": {"line": "45 avenue Alsace-Lorraine", "postcode": "38000", "city": "Grenoble", "details": "3e étage, code 1234", "lat": 45.1883, "lon": 5.7189},
                "motive": "Fièvre 39,5 chez un enfant de 5 ans",
                "urgency": 2
            }),
        )
        .await
        .ok(201);
    assert_eq!(v["source"], "samu_15");
    assert_eq!(v["patient"]["birth_name"], "LAMBERT");
    assert_eq!(v["address"]["details"], "3e étage, code 1234");
    let pid = v["patient"]["id"].as_i64().unwrap();
    let p = app
        .get(&desk, &format!("/api/v1/patients/{pid}"))
        .await
        .ok(200);
    assert_eq!(
        p["treating_physician"]["mssante"],
        "anne.perret@medecin.mssante.fr"
    );
    assert_eq!(p["visits"].as_array().unwrap().len(), 1);
    let found = app.get(&desk, "/api/v1/patients?q=lamb").await.ok(200);
    assert_eq!(found.as_array().unwrap().len(), 1);
    app.stop().await;
}

crate::on_both_engines!(
    a_call_goes_from_received_to_closed,
    cancel_redirect_and_reassign,
    assignment_checks_the_doctor,
    a_new_patient_can_be_registered_with_the_call,
);
