//! Bad requests get a clear 4xx in the common error shape, never a 500; nothing accepted is lost.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Engine};

async fn malformed_and_mistyped_bodies(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let post_raw = |body: &'static str, ctype: Option<&'static str>| {
        let mut req = app
            .client
            .post(app.url("/api/v1/calls"))
            .bearer_auth(&desk)
            .body(body);
        if let Some(c) = ctype {
            req = req.header("content-type", c);
        }
        async move {
            let r = req.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, body) = post_raw("{\"motive\": ", Some("application/json")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (400, Some("malformed_json"))
    );
    let (status, body) = post_raw("{\"motive\": \"x\"}", None).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (415, Some("unsupported_media_type"))
    );
    let (status, body) = post_raw("[1, 2]", Some("application/json")).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("invalid_field"))
    );

    let pid = app.fx.patient_home;
    let cases = [
        (
            json!({"patient_id": pid, "motive": "x", "urgency": "high"}),
            "urgency",
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 7}),
            "urgency",
        ),
        (json!({"patient_id": pid, "urgency": 2}), "motive"),
        (
            json!({"patient_id": "12", "motive": "x", "urgency": 2}),
            "patient_id",
        ),
        (
            json!({"patient_id": pid, "motive": "   ", "urgency": 2}),
            "motive",
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "urgence": 1}),
            "urgence",
        ),
        (
            json!({"patient_id": 987654, "motive": "x", "urgency": 2}),
            "patient_id",
        ),
        (json!({"motive": "x", "urgency": 2}), "patient_id"),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "source": "pigeon"}),
            "source",
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000", "lat": 200.0, "lon": 5.7}}),
            "address.lat",
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000", "lat": 45.1, "lon": -190.0}}),
            "address.lon",
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000", "lat": 45.1}}),
            "address.lon",
        ),
        (
            json!({"patient": {"birth_name": "X", "first_names": "Y", "birth_date": "31/12/1950"}, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000"}}),
            "patient.birth_date",
        ),
        (
            json!({"patient": {"birth_name": "X", "first_names": "Y", "birth_date": 1950}, "motive": "x", "urgency": 2}),
            "patient.birth_date",
        ),
    ];
    for (body, field) in cases {
        let e = app
            .post(&desk, "/api/v1/calls", body.clone())
            .await
            .error(422, "invalid_field");
        assert_eq!(e["field"], field, "for {body}: {e}");
    }
    // Each says why in terms a client words without reading the English: reason and limits.
    let why = [
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 7}),
            json!({"reason": "range", "limits": {"min": 1.0, "max": 3.0}}),
        ),
        (
            json!({"patient_id": pid, "urgency": 2}),
            json!({"reason": "required"}),
        ),
        (
            json!({"patient_id": pid, "motive": "   ", "urgency": 2}),
            json!({"reason": "length", "limits": {"min": 1.0, "max": 500.0}}),
        ),
        (
            json!({"patient_id": 987654, "motive": "x", "urgency": 2}),
            json!({"reason": "unknown"}),
        ),
        (
            json!({"patient_id": pid, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000", "lat": 200.0, "lon": 5.7}}),
            json!({"reason": "range", "limits": {"min": -90.0, "max": 90.0}}),
        ),
        (
            json!({"patient": {"birth_name": "X", "first_names": "Y", "birth_date": "31/12/1950"}, "motive": "x", "urgency": 2, "address": {"line": "1 rue X", "city": "Grenoble", "postcode": "38000"}}),
            json!({"reason": "format"}),
        ),
    ];
    for (body, expected) in why {
        let e = app
            .post(&desk, "/api/v1/calls", body.clone())
            .await
            .error(422, "invalid_field");
        for (key, value) in expected.as_object().unwrap() {
            assert_eq!(&e[key], value, "{key} for {body}: {e}");
        }
    }
    // None of these left anything behind; a good call still goes through.
    assert!(app
        .get(&desk, "/api/v1/visits")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .is_empty());
    app.new_call(&desk).await;
    app.stop().await;
}

async fn positions_out_of_range(engine: Engine) {
    let app = spawn_app(engine).await;
    let doc = app.login("doctor").await;
    let path = format!("/api/v1/doctors/{}/position", app.fx.doctor);
    let e = app
        .put(&doc, &path, json!({"lat": 95.0, "lon": 5.7}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "lat");
    let e = app
        .put(&doc, &path, json!({"lat": 45.0, "lon": 181.0}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "lon");
    let e = app
        .put(&doc, &path, json!({"lat": "north", "lon": 5.7}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "lat");
    let e = app
        .put(
            &doc,
            &path,
            json!({"lat": 45.0, "lon": 5.7, "at": "yesterday"}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "at");
    let ok = app
        .put(&doc, &path, json!({"lat": 45.19, "lon": 5.72}))
        .await
        .ok(200);
    assert_eq!(ok["position"]["lat"], 45.19);
    // An older fix than the stored one does not move the doctor back.
    let ok = app
        .put(
            &doc,
            &path,
            json!({"lat": 45.0, "lon": 5.0, "at": "2020-01-01T00:00:00Z"}),
        )
        .await
        .ok(200);
    assert_eq!(ok["position"]["lat"], 45.19);
    app.stop().await;
}

async fn unknown_ids_routes_methods_and_sizes(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    app.get(&desk, "/api/v1/visits/424242")
        .await
        .error(404, "not_found");
    app.post(
        &desk,
        "/api/v1/visits/424242/assign",
        json!({"doctor_id": app.fx.doctor}),
    )
    .await
    .error(404, "not_found");
    app.get(&desk, "/api/v1/patients/424242")
        .await
        .error(404, "not_found");
    let e = app
        .get(&desk, "/api/v1/visits/abc")
        .await
        .error(400, "invalid_path");
    assert!(e["message"].as_str().unwrap().len() > 5);
    app.get(&desk, "/api/v1/visits/99999999999999999999999")
        .await
        .error(400, "invalid_path");
    app.get(&desk, "/api/v1/visits?limit=lots")
        .await
        .error(400, "invalid_query");
    app.get(&desk, "/api/v1/visits?status=lost")
        .await
        .error(400, "invalid_query");
    app.get(&desk, "/api/v1/no/such/route")
        .await
        .error(404, "no_such_route");
    app.send(Method::DELETE, "/api/v1/visits", Some(&desk), None)
        .await
        .error(405, "method_not_allowed");

    let huge = "x".repeat(300 * 1024);
    app.post(
        &desk,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "x", "urgency": 2, "notes": huge}),
    )
    .await
    .error(413, "payload_too_large");
    let long_notes = "x".repeat(5000);
    let e = app
        .post(&desk, "/api/v1/calls", json!({"patient_id": app.fx.patient_home, "motive": "x", "urgency": 2, "notes": long_notes}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "notes");

    let resp = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth(&desk)
        .header("Last-Event-ID", "yesterday")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
    // Transitions take no body, an empty JSON object, or a reason; nothing else.
    let id = app.new_call(&desk).await["id"].as_i64().unwrap();
    let r = app
        .client
        .post(app.url(&format!("/api/v1/visits/{id}/cancel")))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let id = app.new_call(&desk).await["id"].as_i64().unwrap();
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/cancel"),
        json!({"reason": 12}),
    )
    .await
    .error(422, "invalid_field");
    app.stop().await;
}

async fn the_openapi_document_describes_the_api(engine: Engine) {
    let app = spawn_app(engine).await;
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/api/v1/auth/login",
        "/api/v1/me",
        "/api/v1/calls",
        "/api/v1/visits",
        "/api/v1/visits/{id}/assign",
        "/api/v1/visits/{id}/close",
        "/api/v1/doctors/{id}/position",
        "/api/v1/events",
        "/api/v1/audit",
        "/api/v1/delegations",
        "/api/v1/visits/{id}/report",
        "/api/v1/visits/{id}/report/validate",
        "/api/v1/visits/{id}/ecgs",
        "/api/v1/ecgs/{id}/svg",
        "/api/v1/visits/{id}/letter",
        "/api/v1/practitioners",
        "/api/v1/icd10",
        "/api/v1/nurse-acts",
        "/api/v1/partner-networks",
        "/api/v1/visits/{id}/nurse-bookings",
        "/api/v1/nurse-bookings/{id}/cancel",
        "/api/v1/nurse-bookings/{id}/proposal",
        "/api/v1/partner-callbacks/{booking}",
        "/api/v1/partner-clients",
        "/api/v1/nurse-offers",
        "/api/v1/nurse-offers/{id}/accept",
        "/api/partner/v1/Appointment/$hold",
        "/api/partner/v1/Appointment/{id}",
        "/api/partner/v1/Appointment/{id}/$book",
        "/api/partner/v1/Appointment/{id}/$cancel",
        "/api/partner/v1/Appointment/{id}/$respond",
    ] {
        assert!(paths.contains_key(p), "{p} is documented");
    }
    assert!(doc["components"]["schemas"]["ErrorBody"].is_object());
    app.stop().await;
}

/// Every text has the length limit the OpenAPI document states; over it, 422 names the field
/// and the limit, and nothing is written.
async fn texts_over_their_stated_length_are_refused_where_they_are(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let admin = app.login("admin").await;
    let doctor = app.login("doctor").await;
    let visit = app.assigned_visit(&desk, app.fx.doctor).await;
    let huge = "x".repeat(200_000);
    let doc: serde_json::Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let stated = |schema: &str, field: &str| {
        doc["components"]["schemas"][schema]["properties"][field]["maxLength"]
            .as_f64()
            .unwrap_or_else(|| panic!("{schema}.{field} states no maxLength"))
    };
    let calls_before = app.get(&desk, "/api/v1/visits").await.ids().len();
    for (token, method, path, body, field, max) in [
        (
            &desk,
            Method::POST,
            "/api/v1/calls".to_owned(),
            json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2, "caller_name": huge}),
            "caller_name",
            stated("NewCall", "caller_name"),
        ),
        (
            &desk,
            Method::POST,
            "/api/v1/calls".to_owned(),
            json!({"patient": {"birth_name": "Girard", "first_names": "Jeanne",
                "address": {"line": huge, "city": "Grenoble"}}, "motive": "fièvre", "urgency": 2}),
            "patient.address.line",
            stated("Address", "line"),
        ),
        (
            &desk,
            Method::PATCH,
            format!("/api/v1/patients/{}", app.fx.patient_home),
            json!({"used_name": huge}),
            "used_name",
            stated("PatientUpdate", "used_name"),
        ),
        (
            &admin,
            Method::POST,
            "/api/v1/users".to_owned(),
            json!({"username": "nouveau", "password": "cheval de garde 38", "display_name": huge, "role": "dispatcher"}),
            "display_name",
            stated("NewUser", "display_name"),
        ),
        (
            &doctor,
            Method::POST,
            format!("/api/v1/visits/{visit}/en-route"),
            json!({"reason": huge}),
            "reason",
            stated("TransitionRequest", "reason"),
        ),
    ] {
        let e = app
            .send(method.clone(), &path, Some(token), Some(body))
            .await
            .error(422, "invalid_field");
        assert_eq!(e["field"], field, "{method} {path}");
        assert_eq!(e["reason"], "length", "{method} {path}");
        assert_eq!(e["limits"]["max"], max, "{method} {path}");
    }
    assert_eq!(
        app.get(&desk, "/api/v1/visits").await.ids().len(),
        calls_before
    );
    app.stop().await;
}

crate::on_both_engines!(
    texts_over_their_stated_length_are_refused_where_they_are,
    malformed_and_mistyped_bodies,
    positions_out_of_range,
    unknown_ids_routes_methods_and_sizes,
    the_openapi_document_describes_the_api,
);
