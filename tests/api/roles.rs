//! Each role's allowed and refused actions, checked on the server.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Engine};

async fn dispatchers_run_the_board_doctors_see_their_own(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let doc = app.login("doctor").await;
    let doc2 = app.login("doctor2").await;
    let mine = app.assigned_visit(&desk, app.fx.doctor).await;
    let theirs = app.assigned_visit(&desk, app.fx.doctor2).await;

    assert_eq!(
        app.get(&desk, "/api/v1/visits")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        app.get(&desk, "/api/v1/doctors")
            .await
            .ok(200)
            .as_array()
            .unwrap()
            .len(),
        3
    );

    let seen: Vec<i64> = app.get(&doc, "/api/v1/visits").await.ids();
    assert_eq!(seen, vec![mine]);
    app.get(&doc, &format!("/api/v1/visits/{theirs}"))
        .await
        .error(404, "not_found");
    app.post(
        &doc,
        &format!("/api/v1/visits/{theirs}/en-route"),
        json!({}),
    )
    .await
    .error(404, "not_found");
    app.post(&doc2, &format!("/api/v1/visits/{mine}/close"), json!({}))
        .await
        .error(404, "not_found");
    // Doctors do not take calls nor assign.
    app.post(
        &doc,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "x", "urgency": 3}),
    )
    .await
    .error(403, "forbidden");
    app.post(
        &doc,
        &format!("/api/v1/visits/{mine}/assign"),
        json!({"doctor_id": app.fx.doctor2}),
    )
    .await
    .error(403, "forbidden");
    // A doctor sees himself on the board, not his colleagues.
    let me: Vec<i64> = app.get(&doc, "/api/v1/doctors").await.ids();
    assert_eq!(me, vec![app.fx.doctor]);
    app.put(
        &doc,
        &format!("/api/v1/doctors/{}/status", app.fx.doctor2),
        json!({"status": "off_duty"}),
    )
    .await
    .error(404, "not_found");
    // His patients: those he was sent to.
    app.get(&doc, &format!("/api/v1/patients/{}", app.fx.patient_home))
        .await
        .ok(200);
    app.get(&doc, &format!("/api/v1/patients/{}", app.fx.resident))
        .await
        .error(404, "not_found");
    // Staff-only reads.
    app.get(&doc, "/api/v1/users").await.error(403, "forbidden");
    app.get(&desk, "/api/v1/users")
        .await
        .error(403, "forbidden");
    app.get(&desk, "/api/v1/audit")
        .await
        .error(403, "forbidden");
    app.stop().await;
}

async fn an_ehpad_sees_only_its_own_residents(engine: Engine) {
    let app = spawn_app(engine).await;
    let ehpad = app.login("ehpad").await;
    let other = app.login("ehpadother").await;
    let desk = app.login("dispatcher").await;

    assert_eq!(
        app.get(&ehpad, "/api/v1/me").await.ok(200)["id"],
        app.fx.ehpad
    );
    assert_eq!(
        app.get(&other, "/api/v1/me").await.ok(200)["institution_id"],
        app.fx.institution_other
    );
    assert_eq!(
        app.get(&other, "/api/v1/me").await.ok(200)["id"],
        app.fx.ehpad_other
    );
    let residents = app
        .get(
            &ehpad,
            &format!("/api/v1/institutions/{}/residents", app.fx.institution),
        )
        .await
        .ok(200);
    assert_eq!(residents.as_array().unwrap().len(), 1);
    app.get(
        &ehpad,
        &format!(
            "/api/v1/institutions/{}/residents",
            app.fx.institution_other
        ),
    )
    .await
    .error(404, "not_found");
    app.get(
        &ehpad,
        &format!("/api/v1/patients/{}", app.fx.resident_other),
    )
    .await
    .error(404, "not_found");
    app.get(&ehpad, &format!("/api/v1/patients/{}", app.fx.patient_home))
        .await
        .error(404, "not_found");
    let listed = app.get(&ehpad, "/api/v1/patients").await.ok(200);
    assert!(listed
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["institution_id"] == app.fx.institution));
    let inst = app.get(&ehpad, "/api/v1/institutions").await.ok(200);
    assert_eq!(inst.as_array().unwrap().len(), 1);

    // She requests a visit for her resident: the institution's address is used.
    let v = app
        .post(
            &ehpad,
            "/api/v1/calls",
            json!({"patient_id": app.fx.resident, "motive": "désaturation 89 %", "urgency": 2}),
        )
        .await
        .ok(201);
    assert_eq!(v["source"], "institution");
    assert_eq!(v["institution_id"], app.fx.institution);
    assert_eq!(v["address"]["line"], "1 rue des Tilleuls");
    let id = v["id"].as_i64().unwrap();
    // Not for another home's resident, and the answer does not say it exists.
    let e = app
        .post(
            &ehpad,
            "/api/v1/calls",
            json!({"patient_id": app.fx.resident_other, "motive": "x", "urgency": 2}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "patient_id");
    // The other home does not see the request; she follows hers.
    app.get(&other, &format!("/api/v1/visits/{id}"))
        .await
        .error(404, "not_found");
    assert!(app
        .get(&other, "/api/v1/visits")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .is_empty());
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/assign"),
        json!({"doctor_id": app.fx.doctor}),
    )
    .await
    .ok(200);
    let followed = app
        .get(&ehpad, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    assert_eq!(followed["status"], "assigned");
    // She cannot assign, nor see the doctors' board.
    app.post(&ehpad, &format!("/api/v1/visits/{id}/unassign"), json!({}))
        .await
        .error(403, "forbidden");
    app.get(&ehpad, "/api/v1/doctors")
        .await
        .error(403, "forbidden");
    // She registers a new resident of her home, never of another.
    let p = app
        .post(
            &ehpad,
            "/api/v1/patients",
            json!({"birth_name": "Vidal", "first_names": "Simone"}),
        )
        .await
        .ok(201);
    assert_eq!(p["institution_id"], app.fx.institution);
    let e = app
        .post(&ehpad, "/api/v1/patients", json!({"birth_name": "Vidal", "first_names": "Simone", "institution_id": app.fx.institution_other}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "institution_id");
    // She may cancel her request before the doctor sets off.
    app.post(
        &ehpad,
        &format!("/api/v1/visits/{id}/cancel"),
        json!({"reason": "transférée aux urgences"}),
    )
    .await
    .ok(200);
    app.stop().await;
}

async fn an_assistant_acts_only_by_delegation_and_both_names_are_recorded(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let assistant = app.login("assistant").await;
    let admin = app.login("admin").await;
    let for_doctor = app.assigned_visit(&desk, app.fx.doctor).await;
    let for_doctor2 = app.assigned_visit(&desk, app.fx.doctor2).await;

    let me = app.get(&assistant, "/api/v1/me").await.ok(200);
    assert_eq!(me["acts_for"], json!([app.fx.doctor]));
    let seen: Vec<i64> = app.get(&assistant, "/api/v1/visits").await.ids();
    assert_eq!(seen, vec![for_doctor]);
    app.get(&assistant, &format!("/api/v1/visits/{for_doctor2}"))
        .await
        .error(404, "not_found");

    // She records that her doctor is on site: both names are kept.
    app.post(
        &assistant,
        &format!("/api/v1/visits/{for_doctor}/on-site"),
        json!({}),
    )
    .await
    .ok(200);
    let detail = app
        .get(&desk, &format!("/api/v1/visits/{for_doctor}"))
        .await
        .ok(200);
    let last = detail["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["actor_id"], app.fx.assistant);
    assert_eq!(last["on_behalf_of"], app.fx.doctor);
    assert_eq!(last["on_behalf_of_name"], "doctor name");
    let audit = app
        .get(
            &admin,
            &format!("/api/v1/audit?entity_type=visit&entity_id={for_doctor}&action=visit.on_site"),
        )
        .await
        .ok(200);
    let row = &audit.as_array().unwrap()[0];
    assert_eq!(row["actor_id"], app.fx.assistant);
    assert_eq!(row["on_behalf_of"], app.fx.doctor);
    // The doctor validates: she cannot close.
    let e = app
        .post(
            &assistant,
            &format!("/api/v1/visits/{for_doctor}/close"),
            json!({}),
        )
        .await
        .error(403, "forbidden");
    assert!(e["message"].as_str().unwrap().contains("validates"));
    // She cannot delegate to herself, nor take calls.
    app.post(
        &assistant,
        "/api/v1/delegations",
        json!({"doctor_id": app.fx.doctor2, "assistant_id": app.fx.assistant}),
    )
    .await
    .error(403, "forbidden");
    app.post(
        &assistant,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "x", "urgency": 3}),
    )
    .await
    .error(403, "forbidden");

    // doctor2 delegates explicitly; then she sees his visits too. Revoked: gone again.
    let doc2 = app.login("doctor2").await;
    app.post(
        &doc2,
        "/api/v1/delegations",
        json!({"doctor_id": app.fx.doctor, "assistant_id": app.fx.assistant}),
    )
    .await
    .error(403, "forbidden");
    let g = app
        .post(
            &doc2,
            "/api/v1/delegations",
            json!({"doctor_id": app.fx.doctor2, "assistant_id": app.fx.assistant}),
        )
        .await
        .ok(201);
    app.post(
        &doc2,
        "/api/v1/delegations",
        json!({"doctor_id": app.fx.doctor2, "assistant_id": app.fx.assistant}),
    )
    .await
    .error(409, "conflict");
    app.get(&assistant, &format!("/api/v1/visits/{for_doctor2}"))
        .await
        .ok(200);
    app.send(
        Method::DELETE,
        &format!("/api/v1/delegations/{}", g["id"]),
        Some(&doc2),
        None,
    )
    .await
    .ok(204);
    app.get(&assistant, &format!("/api/v1/visits/{for_doctor2}"))
        .await
        .error(404, "not_found");
    app.stop().await;
}

async fn admins_manage_accounts_and_read_the_audit(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login("admin").await;
    let created = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"username": "dr.new", "password": "long enough now", "display_name": "Dr Nouveau", "role": "doctor",
                   "doctor": {"rpps": "10033445569", "skills": ["ecg", "pediatric"]}}),
        )
        .await
        .ok(201);
    assert_eq!(created["rpps"], "10033445569");
    assert_eq!(created["skills"], json!(["ecg", "pediatric"]));
    let e = app
        .post(&admin, "/api/v1/users", json!({"username": "dr.new", "password": "long enough now", "display_name": "X", "role": "dispatcher"}))
        .await
        .error(409, "conflict");
    assert_eq!(e["field"], "username");
    let e = app
        .post(&admin, "/api/v1/users", json!({"username": "nurse2", "password": "long enough now", "display_name": "X", "role": "ehpad_nurse"}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "institution_id");
    let e = app
        .post(&admin, "/api/v1/users", json!({"username": "short", "password": "short", "display_name": "X", "role": "dispatcher"}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "password");
    assert_eq!(e["limits"]["min"], 12.0);
    let e = app
        .post(&admin, "/api/v1/users", json!({"username": "weak", "password": "Password1234", "display_name": "X", "role": "dispatcher"}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["reason"], "weak");
    // The new doctor logs in with his own account.
    let token = app.login_with("dr.new", "long enough now").await;
    assert_eq!(
        app.get(&token, "/api/v1/me").await.ok(200)["role"],
        "doctor"
    );

    let audit = app
        .get(&admin, "/api/v1/audit?action=user.create&limit=5")
        .await
        .ok(200);
    let row = &audit.as_array().unwrap()[0];
    assert_eq!(row["actor_id"], app.fx.admin);
    assert_eq!(row["changes"]["username"], "dr.new");
    assert!(
        !row["changes"].to_string().contains("long enough now"),
        "no password in the audit"
    );
    app.stop().await;
}

async fn partner_nurses_see_nothing_of_the_association(engine: Engine) {
    let app = spawn_app(engine).await;
    let nurse = app.login("nurse").await;
    let me = app.get(&nurse, "/api/v1/me").await.ok(200);
    assert_eq!(
        (me["role"].as_str(), me["id"].as_i64()),
        (Some("partner_nurse"), Some(app.fx.nurse))
    );
    app.get(&nurse, "/api/v1/visits")
        .await
        .error(403, "forbidden");
    app.get(&nurse, "/api/v1/doctors")
        .await
        .error(403, "forbidden");
    assert!(app
        .get(&nurse, "/api/v1/patients")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .is_empty());
    app.get(&nurse, &format!("/api/v1/patients/{}", app.fx.patient_home))
        .await
        .error(404, "not_found");
    app.post(
        &nurse,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "x", "urgency": 3}),
    )
    .await
    .error(403, "forbidden");
    app.stop().await;
}

crate::on_both_engines!(
    dispatchers_run_the_board_doctors_see_their_own,
    an_ehpad_sees_only_its_own_residents,
    an_assistant_acts_only_by_delegation_and_both_names_are_recorded,
    admins_manage_accounts_and_read_the_audit,
    partner_nurses_see_nothing_of_the_association,
);
