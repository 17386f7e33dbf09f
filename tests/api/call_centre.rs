//! The call centre's day (#16): every call kept whatever its outcome, the journal and its CSV,
//! re-triage pushed live, reassignment in one step, the duty roster (overlaps refused, edits,
//! week copy, CSV import) and its sectors in dispatch.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{on_shift_at, spawn_app, Answer, Engine, EventStream, TestApp};

fn isere() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/geo/communes-38-isere.geojson");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/ beside the project)", path.display()))
}

async fn grenoble_sectors(app: &TestApp) {
    let keep = |name: &str| ["Grenoble", "Échirolles", "Meylan"].contains(&name);
    chevet::import::import_sectors(&app.db, &isere(), Some(&keep))
        .await
        .unwrap();
}

async fn patch(app: &TestApp, token: &str, path: &str, body: Value) -> Answer {
    app.send(Method::PATCH, path, Some(token), Some(body)).await
}

async fn every_call_is_kept_and_found_in_the_journal(engine: Engine) {
    let app = spawn_app(engine).await;
    grenoble_sectors(&app).await;
    let desk = app.login("dispatcher").await;
    let voiron = json!({"line": "1 place du Marché", "city": "Voiron", "postcode": "38500", "lat": 45.3640, "lon": 5.5890});

    // Out of the sectors: no home visit...
    app.post(
        &desk,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2, "address": voiron}),
    )
    .await
    .error(422, "out_of_sector");
    // ...but the call is kept, with the fallback chosen as its outcome, by whom and when.
    let kept = app
        .post(
            &desk,
            "/api/v1/calls/handled",
            json!({"outcome": "teleconsultation", "caller_name": "=HYPERLINK(\"http://x\")",
                   "caller_phone": "+33 6 12 34 56 78", "address": voiron, "motive": "fièvre", "urgency": 2,
                   "patient": {"birth_name": "Lefèvre", "first_names": "Odile", "birth_date": "1950-03-02", "sex": "F"}}),
        )
        .await
        .ok(201);
    assert_eq!(kept["outcome"], "teleconsultation");
    assert_eq!(kept["coverage"], "out_of_sector");
    assert_eq!(kept["outcome_by"]["id"], app.fx.dispatcher);
    assert!(kept["outcome_at"].is_string());
    assert!(kept["visit"].is_null());
    let kept_id = kept["id"].as_i64().unwrap();
    assert_eq!(
        app.audit_actions("call", kept_id).await,
        vec!["call.record"]
    );
    // A caller who hung up before saying anything is a call too.
    let hung_up = app
        .post(
            &desk,
            "/api/v1/calls/handled",
            json!({"outcome": "hung_up"}),
        )
        .await
        .ok(201);
    assert!(hung_up["patient"].is_null() && hung_up["motive"].is_null());
    // A home visit is not recorded this way.
    let e = app
        .post(
            &desk,
            "/api/v1/calls/handled",
            json!({"outcome": "home_visit"}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "outcome");
    // A home visit in Grenoble: its sector recorded.
    let visit = app
        .post(
            &desk,
            "/api/v1/calls",
            json!({"patient_id": app.fx.patient_home, "motive": "otite", "urgency": 3, "caller_phone": "04 76 11 22 33",
                   "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": 45.1908, "lon": 5.7279}}),
        )
        .await
        .ok(201);
    let call = app
        .get(&desk, &format!("/api/v1/calls/{}", visit["call_id"]))
        .await
        .ok(200);
    assert_eq!(call["outcome"], "home_visit");
    assert_eq!(call["coverage"], "covered");
    assert_eq!(call["sector"]["name"], "Grenoble");
    assert_eq!(call["visit"]["id"], visit["id"]);

    // Found by the phone number however it is typed, by name, by address, by outcome.
    let ids = |v: Value| -> Vec<i64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect()
    };
    for phone in ["06 12 34 56 78", "0612345678", "+33612345678", "56 78"] {
        let found = app
            .get(&desk, &format!("/api/v1/calls?phone={}", urlencode(phone)))
            .await
            .ok(200);
        assert_eq!(ids(found), vec![kept_id], "phone {phone}");
    }
    let by_name = app.get(&desk, "/api/v1/calls?q=odile").await.ok(200);
    assert_eq!(ids(by_name), vec![kept_id]);
    let by_address = app.get(&desk, "/api/v1/calls?address=voiron").await.ok(200);
    assert_eq!(ids(by_address), vec![kept_id]);
    let by_outcome = app
        .get(&desk, "/api/v1/calls?outcome=hung_up")
        .await
        .ok(200);
    assert_eq!(ids(by_outcome), vec![hung_up["id"].as_i64().unwrap()]);
    let all = app.get(&desk, "/api/v1/calls").await.ok(200);
    assert_eq!(all.as_array().unwrap().len(), 3, "newest first, all kept");
    assert_eq!(all[0]["id"], visit["call_id"]);
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1)).to_rfc3339();
    let later = app
        .get(
            &desk,
            &format!("/api/v1/calls?from={}", urlencode(&tomorrow)),
        )
        .await
        .ok(200);
    assert!(later.as_array().unwrap().is_empty());
    app.get(&desk, "/api/v1/calls?outcome=lunch")
        .await
        .error(400, "invalid_query");

    // The CSV: French headers, the outcome in words, a typed formula kept as text.
    let resp = app
        .client
        .get(app.url("/api/v1/calls/export.csv?phone=0612345678"))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().contains("reçu le (heure de Paris)"));
    let row = lines.next().unwrap();
    assert!(row.contains("Téléconsultation"), "{row}");
    assert!(row.contains("'=HYPERLINK"), "{row}");
    assert!(row.contains("LEFÈVRE Odile"), "{row}");
    assert!(lines.next().is_none());

    // The journal is the call centre's.
    let doctor = app.login("doctor").await;
    app.get(&doctor, "/api/v1/calls")
        .await
        .error(403, "forbidden");
    app.stop().await;
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

async fn a_re_triage_is_audited_and_seen_live(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let desk2 = app.login("dispatcher2").await;
    let visit = app.new_call(&desk).await;
    let id = visit["id"].as_i64().unwrap();
    let version = visit["version"].as_i64().unwrap();
    let mut board2 = EventStream::open(&app, &desk2, None).await;

    let changed = patch(
        &app,
        &desk,
        &format!("/api/v1/visits/{id}"),
        json!({"urgency": 1, "motive": "fièvre 40, confusion", "notes": "rappel de la fille", "version": version}),
    )
    .await
    .ok(200);
    assert_eq!(changed["urgency"], 1);
    assert_eq!(changed["motive"], "fièvre 40, confusion");
    assert_eq!(changed["version"], version + 1);
    // The second dispatcher's board hears it.
    loop {
        let e = board2.next().await;
        if e.event == "visit.updated" {
            assert_eq!(e.data["id"], id);
            assert_eq!(e.data["urgency"], 1);
            break;
        }
    }
    // Audited with before and after.
    let changes: String = sqlx::query_scalar(
        "SELECT changes FROM audit_log WHERE action = 'visit.edit' AND entity_id = $1",
    )
    .bind(id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let changes: Value = serde_json::from_str(&changes).unwrap();
    assert_eq!(changes["before"]["urgency"], 2);
    assert_eq!(changes["after"]["urgency"], 1);
    assert_eq!(changes["after"]["notes"], "rappel de la fille");
    assert!(
        changes["before"].get("address").is_none(),
        "only what changed"
    );
    // Edited from a stale screen: refused, nothing overwritten.
    let e = patch(
        &app,
        &desk2,
        &format!("/api/v1/visits/{id}"),
        json!({"urgency": 3, "version": version}),
    )
    .await
    .error(409, "conflict");
    assert_eq!(e["field"], "version");
    // A new address is checked like at intake.
    let e = patch(
        &app,
        &desk,
        &format!("/api/v1/visits/{id}"),
        json!({"address": {"line": "", "city": "Grenoble"}}),
    )
    .await
    .error(422, "invalid_field");
    assert_eq!(e["field"], "address.line");
    let moved = patch(
        &app,
        &desk,
        &format!("/api/v1/visits/{id}"),
        json!({"address": {"line": "8 rue Lesdiguières", "city": "Grenoble", "postcode": "38000", "lat": 45.1869, "lon": 5.7262}}),
    )
    .await
    .ok(200);
    assert_eq!(moved["address"]["line"], "8 rue Lesdiguières");
    assert_eq!(moved["urgency"], 1, "what was not sent stays");
    // Only staff re-triage; a closed visit no longer changes.
    let doctor = app.login("doctor").await;
    let his = app.assigned_visit(&desk, app.fx.doctor).await;
    patch(
        &app,
        &doctor,
        &format!("/api/v1/visits/{his}"),
        json!({"urgency": 1}),
    )
    .await
    .error(403, "forbidden");
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/cancel"),
        json!({"reason": "parti aux urgences"}),
    )
    .await
    .ok(200);
    patch(
        &app,
        &desk,
        &format!("/api/v1/visits/{id}"),
        json!({"urgency": 3}),
    )
    .await
    .error(409, "conflict");
    app.stop().await;
}

async fn a_visit_is_reassigned_in_one_step_even_en_route(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, 45.19, 5.72).await;
    on_shift_at(&app, &desk, app.fx.doctor2, 45.17, 5.74).await;
    let doctor = app.login("doctor").await;
    let id = app.assigned_visit(&desk, app.fx.doctor).await;
    app.post(&doctor, &format!("/api/v1/visits/{id}/en-route"), json!({}))
        .await
        .ok(200);
    let mut phone = EventStream::open(&app, &doctor, None).await;
    let moved = app
        .post(
            &desk,
            &format!("/api/v1/visits/{id}/reassign"),
            json!({"doctor_id": app.fx.doctor2, "reason": "Dr retenu sur un accident"}),
        )
        .await
        .ok(200);
    assert_eq!(moved["status"], "assigned");
    assert_eq!(moved["doctor"]["id"], app.fx.doctor2);
    assert!(moved["en_route_at"].is_null());
    assert!(
        moved["seen_at"].is_null(),
        "the new doctor has not seen it yet"
    );
    // The first doctor is told, and free again.
    loop {
        let e = phone.next().await;
        if e.event == "visit.withdrawn" {
            assert_eq!(e.data["id"], id);
            break;
        }
    }
    let first = app
        .get(&desk, &format!("/api/v1/doctors/{}", app.fx.doctor))
        .await
        .ok(200);
    assert_eq!(first["status"], "available");
    let detail = app
        .get(&desk, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    let last = detail["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["from_status"], "en_route");
    assert_eq!(last["to_status"], "assigned");
    assert_eq!(last["reason"], "Dr retenu sur un accident");
    assert_eq!(
        app.audit_actions("visit", id).await.last().unwrap(),
        "visit.reassign"
    );
    // To the same doctor, or a visit not yet assigned: refused.
    let e = app
        .post(
            &desk,
            &format!("/api/v1/visits/{id}/reassign"),
            json!({"doctor_id": app.fx.doctor2}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "doctor_id");
    let waiting = app.new_call(&desk).await["id"].as_i64().unwrap();
    app.post(
        &desk,
        &format!("/api/v1/visits/{waiting}/reassign"),
        json!({"doctor_id": app.fx.doctor2}),
    )
    .await
    .error(409, "conflict");
    app.stop().await;
}

async fn import(app: &TestApp, token: &str, csv: &str) -> Answer {
    let resp = app
        .client
        .post(app.url("/api/v1/shifts/import"))
        .bearer_auth(token)
        .header("Content-Type", "text/csv")
        .body(csv.to_owned())
        .send()
        .await
        .unwrap();
    Answer::from_response(resp).await
}

async fn the_roster_refuses_overlaps_and_copies_weeks(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let d = app.fx.doctor2;
    let shift = |a: &str, b: &str| json!({"doctor_id": d, "starts_at": a, "ends_at": b});
    let night = app
        .post(
            &desk,
            "/api/v1/shifts",
            shift("2031-03-03T19:00:00Z", "2031-03-04T07:00:00Z"),
        )
        .await
        .ok(201);
    let night_id = night["id"].as_i64().unwrap();
    // Overlapping the same doctor's shift: refused, naming when he is on call.
    let e = app
        .post(
            &desk,
            "/api/v1/shifts",
            shift("2031-03-04T06:00:00Z", "2031-03-04T12:00:00Z"),
        )
        .await
        .error(409, "conflict");
    assert_eq!(e["field"], "starts_at");
    assert_eq!(e["reason"], "shift_overlap");
    assert!(
        e["message"].as_str().unwrap().contains("2031-03-03 20:00"),
        "{e}"
    );
    // Back to back is fine; another doctor at the same time too.
    app.post(
        &desk,
        "/api/v1/shifts",
        shift("2031-03-04T07:00:00Z", "2031-03-04T12:00:00Z"),
    )
    .await
    .ok(201);
    app.post(
        &desk,
        "/api/v1/shifts",
        json!({"doctor_id": app.fx.doctor, "starts_at": "2031-03-03T19:00:00Z", "ends_at": "2031-03-04T07:00:00Z"}),
    )
    .await
    .ok(201);
    // Edited: moving onto the morning shift is an overlap; an earlier start is not.
    app.put(
        &desk,
        &format!("/api/v1/shifts/{night_id}"),
        shift("2031-03-03T19:00:00Z", "2031-03-04T08:00:00Z"),
    )
    .await
    .error(409, "conflict");
    let edited = app
        .put(
            &desk,
            &format!("/api/v1/shifts/{night_id}"),
            shift("2031-03-03T18:00:00Z", "2031-03-04T07:00:00Z"),
        )
        .await
        .ok(200);
    assert_eq!(edited["starts_at"], "2031-03-03T18:00:00Z");
    // The week view: shifts overlapping the week.
    let week = app
        .get(
            &desk,
            "/api/v1/shifts?from=2031-03-03T00:00:00Z&to=2031-03-10T00:00:00Z",
        )
        .await
        .ok(200);
    assert_eq!(week.as_array().unwrap().len(), 3);
    // Copied onto the next week; copied again, everything is skipped.
    let copy = json!({"from": "2031-03-03T00:00:00Z", "to": "2031-03-10T00:00:00Z"});
    let done = app
        .post(&desk, "/api/v1/shifts/copy", copy.clone())
        .await
        .ok(200);
    assert_eq!(done["created"].as_array().unwrap().len(), 3);
    assert_eq!(done["created"][0]["starts_at"], "2031-03-10T18:00:00Z");
    let again = app.post(&desk, "/api/v1/shifts/copy", copy).await.ok(200);
    assert_eq!(again["created"].as_array().unwrap().len(), 0);
    assert_eq!(again["skipped"].as_array().unwrap().len(), 3);
    app.post(
        &desk,
        "/api/v1/shifts/copy",
        json!({"from": "2031-03-03T00:00:00Z", "to": "2031-03-05T00:00:00Z"}),
    )
    .await
    .error(422, "invalid_field");
    // Removed, audited.
    let resp = app
        .send(
            Method::DELETE,
            &format!("/api/v1/shifts/{night_id}"),
            Some(&desk),
            None,
        )
        .await;
    assert_eq!(resp.status.as_u16(), 204);
    app.send(
        Method::DELETE,
        &format!("/api/v1/shifts/{night_id}"),
        Some(&desk),
        None,
    )
    .await
    .error(404, "not_found");
    assert_eq!(
        app.audit_actions("shift", night_id).await,
        vec!["shift.create", "shift.update", "shift.delete"]
    );

    // A spreadsheet: one wrong line and nothing is written.
    let before = app
        .get(&desk, "/api/v1/shifts?from=2031-04-01T00:00:00Z")
        .await
        .ok(200);
    assert!(before.as_array().unwrap().is_empty());
    let e = import(
        &app,
        &desk,
        "medecin;debut;fin\ndoctor2;07/04/2031 20:00;08/04/2031 08:00\npersonne;08/04/2031 20:00;09/04/2031 08:00\n",
    )
    .await
    .error(422, "invalid_field");
    assert_eq!(e["field"], "line 3.medecin");
    assert_eq!(e["reason"], "unknown");
    assert_eq!(e["subject"], "personne");
    let after = app
        .get(&desk, "/api/v1/shifts?from=2031-04-01T00:00:00Z")
        .await
        .ok(200);
    assert!(after.as_array().unwrap().is_empty());
    let done = import(
        &app,
        &desk,
        "\u{feff}Médecin;Début;Fin\ndoctor2;07/04/2031 20:00;08:00\n10001234565;08/04/2031 20h00;09/04/2031 08h00\n",
    )
    .await;
    // "08:00" alone is not a date: named.
    assert_eq!(done.status.as_u16(), 422);
    let done = import(
        &app,
        &desk,
        "\u{feff}Médecin;Début;Fin\ndoctor2;07/04/2031 20:00;07/04/2031 08:00\n10001234565;08/04/2031 20h00;09/04/2031 08h00\n",
    )
    .await
    .ok(200);
    let created = done["created"].as_array().unwrap();
    assert_eq!(created.len(), 2);
    // Paris summer time: 20:00 is 18:00 UTC; "08:00" the same day is the next morning.
    assert_eq!(created[0]["starts_at"], "2031-04-07T18:00:00Z");
    assert_eq!(created[0]["ends_at"], "2031-04-08T06:00:00Z");
    assert_eq!(created[1]["doctor_id"], app.fx.doctor);
    let doctor = app.login("doctor").await;
    import(&app, &doctor, "medecin;debut;fin\n")
        .await
        .error(403, "forbidden");
    app.stop().await;
}

async fn a_doctor_on_call_in_the_sector_is_preferred_there(engine: Engine) {
    let app = spawn_app(engine).await;
    grenoble_sectors(&app).await;
    let desk = app.login("dispatcher").await;
    let grenoble: i64 = sqlx::query_scalar("SELECT id FROM sectors WHERE name = 'Grenoble'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // doctor: on call, no sector; doctor2: no shift at all yet.
    on_shift_at(&app, &desk, app.fx.doctor, 45.19, 5.72).await;
    let token2 = app.login("doctor2").await;
    app.put(
        &token2,
        &format!("/api/v1/doctors/{}/position", app.fx.doctor2),
        json!({"lat": 45.185, "lon": 5.73}),
    )
    .await
    .ok(200);
    let visit = app
        .post(
            &desk,
            "/api/v1/calls",
            json!({"patient_id": app.fx.patient_home, "motive": "otite", "urgency": 3,
                   "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": 45.1908, "lon": 5.7279}}),
        )
        .await
        .ok(201);
    let path = format!("/api/v1/visits/{}/suggestions", visit["id"]);
    let s = app.get(&desk, &path).await.ok(200);
    let excluded: Vec<(i64, String)> = s["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["doctor_id"].as_i64().unwrap(),
                e["reason"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert!(
        excluded.contains(&(app.fx.doctor2, "no_shift".into())),
        "a doctor without a shift is never suggested: {excluded:?}"
    );
    // On a shift of the Grenoble sector from now: suggested, and marked as the sector's.
    let now = chrono::Utc::now();
    app.post(
        &desk,
        "/api/v1/shifts",
        json!({"doctor_id": app.fx.doctor2, "starts_at": (now - chrono::Duration::minutes(5)).to_rfc3339(),
               "ends_at": (now + chrono::Duration::hours(6)).to_rfc3339(), "sector_id": grenoble}),
    )
    .await
    .ok(201);
    let s = crate::helpers::eventually("doctor2 suggested", Duration::from_secs(5), || async {
        let s = app.get(&desk, &path).await.ok(200);
        match s["suggestions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["doctor_id"] == app.fx.doctor2)
        {
            true => Ok(s),
            false => Err(format!("{s}")),
        }
    })
    .await;
    let first = &s["suggestions"][0];
    assert_eq!(first["doctor_id"], app.fx.doctor2, "{s}");
    assert_eq!(first["in_sector"], true);
    let board = app.get(&desk, "/api/v1/doctors").await.ok(200);
    let d2 = board
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["id"] == app.fx.doctor2)
        .unwrap();
    assert_eq!(d2["shift_sector_id"], grenoble);
    app.stop().await;
}

async fn the_statistics_count_calls_waits_and_outcomes(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    on_shift_at(&app, &desk, app.fx.doctor, 45.19, 5.72).await;
    let doctor = app.login("doctor").await;
    // Two home visits, one the doctor reached, and two calls without a visit.
    let reached = app.assigned_visit(&desk, app.fx.doctor).await;
    app.post(
        &doctor,
        &format!("/api/v1/visits/{reached}/on-site"),
        json!({}),
    )
    .await
    .ok(200);
    app.new_call(&desk).await;
    for outcome in ["advice", "hung_up"] {
        app.post(&desk, "/api/v1/calls/handled", json!({"outcome": outcome}))
            .await
            .ok(201);
    }
    let s = app.get(&desk, "/api/v1/stats").await.ok(200);
    assert_eq!(s["calls"], 4);
    assert_eq!(s["visits"], 2);
    let hours: i64 = s["by_hour"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["calls"].as_i64().unwrap())
        .sum();
    assert_eq!(hours, 4);
    let p2 = &s["waits"][1];
    assert_eq!(p2["urgency"], 2);
    assert_eq!(p2["visits"], 2);
    assert!(p2["assign_p50_min"].as_f64().unwrap() >= 0.0);
    assert!(p2["arrive_p50_min"].as_f64().is_some(), "{s}");
    let outcome = |o: &str| {
        s["outcomes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["outcome"] == o)
            .unwrap()["calls"]
            .clone()
    };
    assert_eq!(outcome("home_visit"), 2);
    assert_eq!(outcome("advice"), 1);
    assert_eq!(outcome("hung_up"), 1);
    assert_eq!(s["doctors"][0]["id"], app.fx.doctor);
    assert_eq!(s["doctors"][0]["visits"], 1);
    // An empty period, a reversed one, one too long.
    let empty = app
        .get(
            &desk,
            "/api/v1/stats?from=2029-12-31T23:00:00Z&to=2030-01-01T23:00:00Z",
        )
        .await
        .ok(200);
    assert_eq!(empty["calls"], 0);
    // One Paris day: midnight to midnight, Paris time.
    assert_eq!(empty["by_day"].as_array().unwrap().len(), 1);
    app.get(
        &desk,
        "/api/v1/stats?from=2030-01-02T00:00:00Z&to=2030-01-01T00:00:00Z",
    )
    .await
    .error(422, "invalid_field");
    let e = app
        .get(
            &desk,
            "/api/v1/stats?from=2030-01-01T00:00:00Z&to=2030-06-01T00:00:00Z",
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["limits"]["max"], 93.0);
    let csv = app
        .client
        .get(app.url("/api/v1/stats/export.csv"))
        .bearer_auth(&desk)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(csv.contains("total;;appels;4"), "{csv}");
    assert!(csv.contains("issues;Raccroché;appels;1"), "{csv}");
    app.get(&doctor, "/api/v1/stats")
        .await
        .error(403, "forbidden");
    app.stop().await;
}

crate::on_both_engines!(
    the_statistics_count_calls_waits_and_outcomes,
    every_call_is_kept_and_found_in_the_journal,
    a_re_triage_is_audited_and_seen_live,
    a_visit_is_reassigned_in_one_step_even_en_route,
    the_roster_refuses_overlaps_and_copies_weeks,
    a_doctor_on_call_in_the_sector_is_preferred_there
);
