//! Booking a partner nurse between two hubs: hub A (the association) books, hub B (a hub
//! hosting a nurse network) offers it to its nurses; real HTTP between them on loopback. Here
//! both hubs run in this test process; `partner_link.rs` runs them as separate processes with
//! faults between them.

use std::time::Duration;

use chevet::hub::HubConfig;
use chevet::nursing::link::Timings;
use chevet::nursing::NursingConfig;
use serde_json::{json, Value};

use crate::closing::visit_on_site;
use crate::helpers::{eventually, spawn_app_with, Engine, TestApp, PASSWORD};
use crate::on_both_engines;

/// Short timings, so that retries and polls happen within a test.
pub fn fast() -> HubConfig {
    HubConfig {
        nursing: NursingConfig {
            request_timeout: Duration::from_millis(1500),
            timings: Timings {
                retry_base: Duration::from_millis(100),
                retry_max: Duration::from_millis(1000),
                answer_timeout: Duration::from_secs(3),
                accept_timeout: Duration::from_secs(60),
                poll_interval: Duration::from_millis(500),
            },
            hold_ttl: Duration::from_secs(30),
            claim: Duration::from_secs(3),
            public_url: None,
            outbound: chevet::nursing::outbound::Outbound {
                allow_private_hosts: true,
            },
        },
        ..HubConfig::default()
    }
}

/// The same timings as `chevet serve` flags.
pub const FAST_ARGS: &[&str] = &[
    "--link-timeout-ms",
    "1500",
    "--link-retry-ms",
    "100",
    "--link-retry-max-ms",
    "1000",
    "--link-answer-timeout-s",
    "3",
    "--link-accept-timeout-s",
    "60",
    "--link-poll-ms",
    "500",
    "--hold-ttl-s",
    "30",
    "--link-claim-s",
    "3",
    "--allow-private-hosts",
];

pub const ACTS: &[&str] = &["urinary_catheter", "injection", "wound_dressing"];

/// Hub B's side: its fixture nurse and a second one cover Grenoble for `ACTS`, on duty; A gets
/// an API key. Returns (api key, second nurse's id).
pub async fn network_side(b: &TestApp) -> (String, i64) {
    let admin = b.login("admin").await;
    let network = b.get(&admin, "/api/v1/nurse-networks").await.ok(200)[0]["id"]
        .as_i64()
        .unwrap();
    let nurse2 = b
        .post(
            &admin,
            "/api/v1/users",
            json!({"username": "nurse2", "password": PASSWORD, "display_name": "Karim Benali",
                   "role": "partner_nurse", "network_id": network}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    for n in [b.fx.nurse, nurse2] {
        b.put(
            &admin,
            &format!("/api/v1/nurses/{n}/coverage"),
            json!({"acts": ACTS, "area": {"postcodes": ["38000", "38100"]}, "on_duty": true}),
        )
        .await
        .ok(200);
    }
    let client = b
        .post(
            &admin,
            "/api/v1/partner-clients",
            json!({"name": "SOS Médecins Test", "network_id": network}),
        )
        .await
        .ok(201);
    (client["api_key"].as_str().unwrap().to_owned(), nurse2)
}

/// Hub A registers a network at `base` (a hub's URL) with its key.
pub async fn register(a: &TestApp, name: &str, base: &str, key: &str, priority: i64) -> i64 {
    let admin = a.login("admin").await;
    a.post(
        &admin,
        "/api/v1/partner-networks",
        json!({"name": name, "base_url": format!("{base}/api/partner/v1"), "api_key": key,
               "acts": ACTS, "area": {"lat": 45.19, "lon": 5.72, "radius_km": 20.0}, "priority": priority}),
    )
    .await
    .ok(201)["id"]
        .as_i64()
        .unwrap()
}

/// The doctor books a catheter change within the hour for visit `visit`.
pub async fn book(a: &TestApp, doctor: &str, visit: i64, key: &str) -> crate::helpers::Answer {
    let req = a
        .client
        .post(a.url(&format!("/api/v1/visits/{visit}/nurse-bookings")))
        .bearer_auth(doctor)
        .header("Idempotency-Key", key)
        .json(&json!({"act": "urinary_catheter", "window_minutes": 60, "notes": "Sonde CH16 arrachée"}));
    let resp = req.send().await.unwrap();
    let status = resp.status();
    let body = resp.json().await.unwrap_or(Value::Null);
    crate::helpers::Answer { status, body }
}

/// Waits until the visit's newest booking satisfies `pred`; returns it.
pub async fn booking_where(
    a: &TestApp,
    token: &str,
    visit: i64,
    what: &str,
    pred: impl Fn(&Value) -> bool,
) -> Value {
    let pred = &pred;
    eventually(
        &format!("the booking becoming {what}"),
        Duration::from_secs(30),
        || async move {
            let list = a
                .get(token, &format!("/api/v1/visits/{visit}/nurse-bookings"))
                .await
                .ok(200);
            let newest = list[0].clone();
            if pred(&newest) {
                Ok(newest)
            } else {
                Err(newest.to_string())
            }
        },
    )
    .await
}

/// Waits until nurse `token` of hub `b` is offered something; returns the offers.
pub async fn offers_where(b: &TestApp, token: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
    let pred = &pred;
    eventually("such an offer", Duration::from_secs(30), || async move {
        let offers = b.get(token, "/api/v1/nurse-offers").await.ok(200);
        match offers.as_array() {
            Some(list) if list.iter().any(&pred) => Ok(list.clone()),
            _ => Err(offers.to_string()),
        }
    })
    .await
}

pub async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sql)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn two_hubs(engine: Engine) -> (TestApp, TestApp, String, i64) {
    let a = spawn_app_with(engine, fast()).await;
    let b = spawn_app_with(engine, fast()).await;
    let (key, nurse2) = network_side(&b).await;
    register(&a, "SOS Infirmiers B", &b.base, &key, 10).await;
    (a, b, key, nurse2)
}

async fn a_booking_goes_to_the_partner_hub_and_its_status_comes_back(engine: Engine) {
    let (a, b, _, _) = two_hubs(engine).await;
    let visit = visit_on_site(&a).await;
    let doctor = a.login("doctor").await;
    let made = book(&a, &doctor, visit, "k-1").await.ok(201);
    assert_eq!(made["status"], "requested");
    assert_eq!(made["network"]["name"], "SOS Infirmiers B");
    assert_eq!(made["act_label"], "Changement de sonde urinaire (stérile)");
    booking_where(&a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;

    // Both nurses are offered it, without the patient's identity.
    let nurse = b.login("nurse").await;
    let nurse2 = b.login("nurse2").await;
    let offers = offers_where(&b, &nurse2, |o| o["status"] == "offered").await;
    assert_eq!(offers[0]["act"], "urinary_catheter");
    assert_eq!(offers[0]["city"], "Grenoble");
    assert_eq!(offers[0]["patient"], Value::Null);
    assert_eq!(offers[0]["notes"], Value::Null);
    let id = offers[0]["id"].as_i64().unwrap();

    // The first to accept gets it; the other sees it taken.
    let mine = b
        .post(
            &nurse,
            &format!("/api/v1/nurse-offers/{id}/accept"),
            json!({}),
        )
        .await
        .ok(200);
    assert_eq!(mine["status"], "accepted");
    assert_eq!(mine["patient"]["name"], "Jeanne GIRARD");
    assert_eq!(mine["patient"]["birth_date"], "1941-03-12");
    assert_eq!(mine["prescriber"]["rpps"], "10001234565");
    assert_eq!(mine["notes"], "Sonde CH16 arrachée");
    b.post(
        &nurse2,
        &format!("/api/v1/nurse-offers/{id}/accept"),
        json!({}),
    )
    .await
    .error(409, "taken");
    let seen = b.get(&nurse2, "/api/v1/nurse-offers").await.ok(200);
    assert_eq!(seen[0]["status"], "taken");
    assert_eq!(seen[0]["patient"], Value::Null);

    // The association hears it (callback), with the nurse's name and time.
    let accepted = booking_where(&a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    assert_eq!(accepted["nurse_name"], "nurse name");
    assert_eq!(accepted["expected_at"], mine["expected_at"]);
    // The dispatcher's board lists it.
    let desk = a.login("dispatcher").await;
    let board = a
        .get(&desk, "/api/v1/nurse-bookings?active=true")
        .await
        .ok(200);
    assert_eq!(board[0]["status"], "accepted");

    b.post(
        &nurse,
        &format!("/api/v1/nurse-offers/{id}/done"),
        json!({}),
    )
    .await
    .ok(200);
    let done = booking_where(&a, &doctor, visit, "done", |b| b["status"] == "done").await;
    assert_eq!(done["delivery"], Value::Null);

    // One booking, one appointment; the audit trail names who asked.
    assert_eq!(count(&a, "SELECT COUNT(*) FROM nurse_bookings").await, 1);
    assert_eq!(
        count(&b, "SELECT COUNT(*) FROM partner_appointments").await,
        1
    );
    let booking = done["id"].as_i64().unwrap();
    let actions = a.audit_actions("nurse_booking", booking).await;
    assert_eq!(actions[0], "nurse_booking.create");
    let actor: Option<i64> = sqlx::query_scalar(
        "SELECT actor_id FROM audit_log WHERE action = 'nurse_booking.create' AND entity_id = $1",
    )
    .bind(booking)
    .fetch_one(a.db.pool())
    .await
    .unwrap();
    assert_eq!(actor, Some(a.fx.doctor));
}

async fn the_same_request_twice_books_once(engine: Engine) {
    let (a, b, key, _) = two_hubs(engine).await;
    let visit = visit_on_site(&a).await;
    let doctor = a.login("doctor").await;
    // A double tap: the same key twice, then eight at once with another key.
    let first = book(&a, &doctor, visit, "tap-1").await.ok(201);
    let again = book(&a, &doctor, visit, "tap-1").await.ok(200);
    assert_eq!(first["id"], again["id"]);
    let racing = futures::future::join_all((0..8).map(|_| book(&a, &doctor, visit, "tap-2"))).await;
    let ids: std::collections::BTreeSet<i64> = racing
        .into_iter()
        .map(|r| {
            assert!(r.status.is_success(), "{}", r.body);
            r.body["id"].as_i64().unwrap()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(count(&a, "SELECT COUNT(*) FROM nurse_bookings").await, 2);

    // The partner API: the same hold eight times at once makes one appointment, every answer the same.
    let hold = json!({"resourceType": "Parameters", "parameter": [{"name": "service-request", "resource": service_request()}]});
    let send = |k: &'static str, body: Value| {
        let client = b.client.clone();
        let url = b.url("/api/partner/v1/Appointment/$hold");
        let key = key.clone();
        async move {
            let r = client
                .post(url)
                .bearer_auth(key)
                .header("Idempotency-Key", k)
                .header("Content-Type", "application/fhir+json")
                .body(body.to_string())
                .send()
                .await
                .unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    let answers = futures::future::join_all((0..8).map(|_| send("hold-x", hold.clone()))).await;
    // Only the test's own holds: hub a's outbox is booking on b meanwhile (keys from a uuid).
    const OURS: &str = "SELECT COUNT(*) FROM partner_appointments WHERE hold_key LIKE 'hold-%'";
    let before = count(&b, OURS).await;
    let ids: std::collections::BTreeSet<String> = answers
        .iter()
        .map(|(s, v)| {
            assert_eq!(*s, 201, "{v}");
            v["id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(ids.len(), 1, "{answers:?}");
    // The same key with another body is refused.
    let mut other = hold.clone();
    other["parameter"][0]["resource"]["note"] = json!([{"text": "autre"}]);
    let (status, body) = send("hold-x", other).await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (422, Some("idempotency_key_reused"))
    );
    assert_eq!(count(&b, OURS).await, before);
    let ours = count(
        &b,
        "SELECT COUNT(*) FROM partner_appointments WHERE hold_key = 'hold-x'",
    )
    .await;
    assert_eq!(ours, 1);
}

/// A ServiceRequest as another association's software could send it.
pub fn service_request() -> Value {
    json!({
        "resourceType": "ServiceRequest",
        "contained": [
            {"resourceType": "Patient", "id": "p", "name": [{"family": "Martin", "given": ["Paul"]}],
             "birthDate": "1950-01-02", "gender": "male",
             "address": [{"line": ["3 place Grenette"], "postalCode": "38000", "city": "Grenoble"}]},
            {"resourceType": "Practitioner", "id": "dr", "name": [{"text": "Dr Autre"}]}
        ],
        "identifier": [{"system": "urn:ietf:rfc:3986", "value": "urn:uuid:0b5e3f57-3c1e-4b55-9a5a-5a8e4f3c2d10"}],
        "status": "active", "intent": "order",
        "code": {"coding": [{"system": "https://chevet.fr/fhir/CodeSystem/nurse-act", "code": "injection"}]},
        "subject": {"reference": "#p"},
        "occurrencePeriod": {"start": "2026-11-23T10:00:00Z", "end": "2026-11-23T11:00:00Z"},
        "requester": {"reference": "#dr"}
    })
}

async fn a_declined_request_goes_to_the_next_network(engine: Engine) {
    let a = spawn_app_with(engine, fast()).await;
    let b = spawn_app_with(engine, fast()).await;
    let c = spawn_app_with(engine, fast()).await;
    let (key_b, _) = network_side(&b).await;
    let (key_c, _) = network_side(&c).await;
    register(&a, "Réseau B", &b.base, &key_b, 1).await;
    register(&a, "Réseau C", &c.base, &key_c, 2).await;
    let visit = visit_on_site(&a).await;
    let doctor = a.login("doctor").await;
    book(&a, &doctor, visit, "k").await.ok(201);
    // Both nurses of B say no: B declines; C is asked.
    for n in ["nurse", "nurse2"] {
        let t = b.login(n).await;
        let offers = offers_where(&b, &t, |o| o["status"] == "offered").await;
        b.post(
            &t,
            &format!("/api/v1/nurse-offers/{}/decline", offers[0]["id"]),
            json!({}),
        )
        .await
        .ok(200);
    }
    let moved = booking_where(&a, &doctor, visit, "with C", |b| {
        b["network"]["name"] == "Réseau C" && b["delivery"] == "waiting"
    })
    .await;
    assert_eq!(
        moved["networks_tried"],
        json!([{"id": 1, "name": "Réseau B", "outcome": "declined"}])
    );
    let t = c.login("nurse").await;
    let offers = offers_where(&c, &t, |o| o["status"] == "offered").await;
    c.post(
        &t,
        &format!("/api/v1/nurse-offers/{}/propose", offers[0]["id"]),
        json!({"proposed_at": chevet::store::Ts::now().plus(chrono::Duration::hours(2))}),
    )
    .await
    .ok(200);
    // Another time is proposed: the doctor accepts it.
    let proposed = booking_where(&a, &doctor, visit, "proposed", |b| {
        b["status"] == "proposed"
    })
    .await;
    let id = proposed["id"].as_i64().unwrap();
    a.post(
        &doctor,
        &format!("/api/v1/nurse-bookings/{id}/proposal"),
        json!({"accept": true}),
    )
    .await
    .ok(200);
    let accepted = booking_where(&a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    assert_eq!(accepted["expected_at"], proposed["proposed_at"]);
    // Then cancels it: the nurse sees it cancelled.
    a.post(
        &doctor,
        &format!("/api/v1/nurse-bookings/{id}/cancel"),
        json!({"reason": "hospitalisé"}),
    )
    .await
    .ok(200);
    booking_where(&a, &doctor, visit, "cancelled", |b| {
        b["status"] == "cancelled" && b["delivery"].is_null()
    })
    .await;
    let seen = c.get(&t, "/api/v1/nurse-offers").await.ok(200);
    assert_eq!(seen[0]["status"], "cancelled");
    // Nothing is left at B (declined) and nothing was booked twice.
    assert_eq!(
        count(
            &b,
            "SELECT COUNT(*) FROM partner_appointments WHERE status = 'declined'"
        )
        .await,
        1
    );
    assert_eq!(
        count(&c, "SELECT COUNT(*) FROM partner_appointments").await,
        1
    );
    // No network at all does this act here: said at once.
    let admin = a.login("admin").await;
    for (n, name, prio) in [(1, "Réseau B", 1), (2, "Réseau C", 2)] {
        a.put(&admin, &format!("/api/v1/partner-networks/{n}"),
            json!({"name": name, "base_url": "http://127.0.0.1:9/api/partner/v1", "acts": ["injection"], "priority": prio}))
            .await
            .ok(200);
    }
    book(&a, &doctor, visit, "k2")
        .await
        .error(422, "no_network");
}

async fn who_may_book_and_see_bookings(engine: Engine) {
    let (a, b, key, _) = two_hubs(engine).await;
    let visit = visit_on_site(&a).await;
    // The assistant books for her doctor: recorded on his behalf.
    let assistant = a.login("assistant").await;
    let made = book(&a, &assistant, visit, "a-1").await.ok(201);
    assert_eq!(made["on_behalf_of"]["id"], a.fx.doctor);
    assert_eq!(made["requested_by"]["id"], a.fx.assistant);
    // Another doctor does not see the visit; the EHPAD nurse, the dispatcher may not book.
    let doctor2 = a.login("doctor2").await;
    book(&a, &doctor2, visit, "d2")
        .await
        .error(404, "not_found");
    let desk = a.login("dispatcher").await;
    book(&a, &desk, visit, "d").await.error(403, "forbidden");
    let ehpad = a.login("ehpad").await;
    a.get(&ehpad, &format!("/api/v1/visits/{visit}/nurse-bookings"))
        .await
        .error(403, "forbidden");
    a.get(&ehpad, "/api/v1/nurse-bookings")
        .await
        .error(403, "forbidden");
    assert_eq!(
        a.get(&doctor2, "/api/v1/nurse-bookings").await.ok(200),
        json!([])
    );
    let id = made["id"].as_i64().unwrap();
    a.post(
        &doctor2,
        &format!("/api/v1/nurse-bookings/{id}/cancel"),
        json!({}),
    )
    .await
    .error(404, "not_found");
    // Only an admin registers networks; the key never comes back.
    a.post(
        &desk,
        "/api/v1/partner-networks",
        json!({"name": "x", "base_url": "http://x", "api_key": "k", "acts": ["injection"]}),
    )
    .await
    .error(403, "forbidden");
    let nets = a.get(&desk, "/api/v1/partner-networks").await.ok(200);
    assert!(!nets.to_string().contains(&key));
    // Bad input is named.
    let doctor = a.login("doctor").await;
    let r = a
        .client
        .post(a.url(&format!("/api/v1/visits/{visit}/nurse-bookings")))
        .bearer_auth(&doctor)
        .json(&json!({"act": "urinary_catheter"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["field"],
        "Idempotency-Key"
    );
    let bad = |body: Value| {
        let (client, url, doctor) = (
            a.client.clone(),
            a.url(&format!("/api/v1/visits/{visit}/nurse-bookings")),
            doctor.clone(),
        );
        async move {
            let r = client
                .post(url)
                .bearer_auth(doctor)
                .header("Idempotency-Key", uuid::Uuid::new_v4().to_string())
                .json(&body)
                .send()
                .await
                .unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap()["error"]["field"].clone(),
            )
        }
    };
    assert_eq!(bad(json!({"act": "tea"})).await, (422, json!("act")));
    assert_eq!(
        bad(json!({"act": "injection", "window_minutes": 5})).await,
        (422, json!("window_minutes"))
    );
    assert_eq!(
        bad(json!({"act": "injection", "callback_phone": "<script>"})).await,
        (422, json!("callback_phone"))
    );
    // On the network's side: a nurse of another network sees nothing; the admin's pages are the admin's.
    let nurse = b.login("nurse").await;
    b.get(&nurse, "/api/v1/partner-clients")
        .await
        .error(403, "forbidden");
    b.get(&b.login("dispatcher").await, "/api/v1/nurse-offers")
        .await
        .error(403, "forbidden");
    b.post(&nurse, "/api/v1/nurse-offers/999/accept", json!({}))
        .await
        .error(404, "not_found");
}

async fn the_partner_api_names_what_is_wrong(engine: Engine) {
    let (_a, b, key, _) = two_hubs(engine).await;
    let post = |path: &str, key: Option<&str>, idem: Option<&str>, body: &str| {
        let mut r = b
            .client
            .post(b.url(&format!("/api/partner/v1/{path}")))
            .body(body.to_owned());
        if let Some(k) = key {
            r = r.bearer_auth(k);
        }
        if let Some(i) = idem {
            r = r.header("Idempotency-Key", i);
        }
        async move {
            let r = r.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let hold = json!({"resourceType": "Parameters", "parameter": [{"name": "service-request", "resource": service_request()}]}).to_string();
    let (s, e) = post("Appointment/$hold", None, Some("1"), &hold).await;
    assert_eq!(
        (s, e["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, _) = post("Appointment/$hold", Some("chv_wrong"), Some("1"), &hold).await;
    assert_eq!(s, 401);
    let (s, e) = post("Appointment/$hold", Some(&key), None, &hold).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (400, Some("Idempotency-Key"))
    );
    let (s, e) = post("Appointment/$hold", Some(&key), Some("2"), "{not json").await;
    assert_eq!(s, 400, "{e}");
    let mut wrong = service_request();
    wrong["occurrencePeriod"]["end"] = json!("2026-11-23T09:00:00Z");
    let body = json!({"resourceType": "Parameters", "parameter": [{"name": "service-request", "resource": wrong}]}).to_string();
    let (s, e) = post("Appointment/$hold", Some(&key), Some("3"), &body).await;
    assert_eq!(
        (s, e["error"]["field"].as_str()),
        (422, Some("parameter[0].resource.occurrencePeriod.end"))
    );
    // An act no nurse on duty does: not covered.
    let mut sr = service_request();
    sr["code"]["coding"][0]["code"] = json!("infusion");
    let body = json!({"resourceType": "Parameters", "parameter": [{"name": "service-request", "resource": sr}]}).to_string();
    let (s, e) = post("Appointment/$hold", Some(&key), Some("4"), &body).await;
    assert_eq!((s, e["error"]["code"].as_str()), (422, Some("not_covered")));
    let (s, _) = post("Appointment/nope/$book", Some(&key), Some("5"), "").await;
    assert_eq!(s, 404);
    // A held appointment, read back and confirmed; another client does not see it.
    let (s, held) = post("Appointment/$hold", Some(&key), Some("6"), &hold).await;
    assert_eq!(s, 201, "{held}");
    let id = held["id"].as_str().unwrap();
    let (s, booked) = post(
        &format!("Appointment/{id}/$book"),
        Some(&key),
        Some("7"),
        "",
    )
    .await;
    assert_eq!((s, booked["status"].as_str()), (200, Some("pending")));
    assert_eq!(booked["extension"][0]["valueCode"], "offered");
    let admin = b.login("admin").await;
    let other = b
        .post(
            &admin,
            "/api/v1/partner-clients",
            json!({"name": "Autre", "network_id": 1}),
        )
        .await
        .ok(201);
    let r = b
        .client
        .get(b.url(&format!("/api/partner/v1/Appointment/{id}")))
        .bearer_auth(other["api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    // A revoked key no longer works.
    b.post(
        &admin,
        &format!("/api/v1/partner-clients/{}/revoke", other["id"]),
        json!({}),
    )
    .await
    .ok(200);
    let r = b
        .client
        .get(b.url(&format!("/api/partner/v1/Appointment/{id}")))
        .bearer_auth(other["api_key"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
}

async fn the_payloads_are_valid_fhir_r4(engine: Engine) {
    let (a, b, key, _) = two_hubs(engine).await;
    let visit = visit_on_site(&a).await;
    let doctor = a.login("doctor").await;
    book(&a, &doctor, visit, "k").await.ok(201);
    booking_where(&a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;
    // What A sent (stored by B as received) and what B answers.
    let (uuid, sr): (String, String) =
        sqlx::query_as("SELECT uuid, service_request FROM partner_appointments")
            .fetch_one(b.db.pool())
            .await
            .unwrap();
    let appointment: Value = b
        .client
        .get(b.url(&format!("/api/partner/v1/Appointment/{uuid}")))
        .bearer_auth(&key)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let sent: String = sqlx::query_scalar("SELECT service_request FROM nurse_bookings")
        .fetch_one(a.db.pool())
        .await
        .unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&sent).unwrap(),
        serde_json::from_str::<Value>(&sr).unwrap()
    );
    let params = json!({"resourceType": "Parameters", "parameter": [
        {"name": "service-request", "resource": serde_json::from_str::<Value>(&sr).unwrap()},
        {"name": "callback-url", "valueUrl": "http://127.0.0.1:1/cb"},
        {"name": "callback-token", "valueString": "0123456789abcdef"}]});
    validate_fhir(&[&serde_json::from_str(&sr).unwrap(), &appointment, &params]);
}

/// Validates FHIR R4 resources with `fhir.resources` (scripts/setup's virtualenv).
pub fn validate_fhir(resources: &[&Value]) {
    let dir = tempfile::tempdir().unwrap();
    let files: Vec<_> = resources
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let f = dir.path().join(format!("r{i}.json"));
            std::fs::write(&f, r.to_string()).unwrap();
            f
        })
        .collect();
    let python = std::env::var("CHEVET_FHIR_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/chevet/fhir-r4-venv/bin/python3",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let out = std::process::Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/fixtures/validate_fhir_resource.py"
        ))
        .args(&files)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (scripts/setup installs fhir.resources)"));
    assert!(
        out.status.success(),
        "not valid FHIR R4:\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

async fn hostile_bodies_on_the_booking_routes_never_cause_a_server_error(engine: Engine) {
    let (a, b, key, _) = two_hubs(engine).await;
    let visit = visit_on_site(&a).await;
    let doctor = a.login("doctor").await;
    let admin_a = a.login("admin").await;
    let admin_b = b.login("admin").await;
    let nurse = b.login("nurse").await;
    let booking = book(&a, &doctor, visit, "first").await.ok(201);
    let uuid = booking["uuid"].as_str().unwrap().to_owned();
    let t = b.login("nurse2").await;
    offers_where(&b, &t, |o| o["status"] == "offered").await;
    let hold = json!({"resourceType": "Parameters", "parameter": [{"name": "service-request", "resource": service_request()},
        {"name": "callback-url", "valueUrl": "http://127.0.0.1:9/cb"}, {"name": "callback-token", "valueString": "0123456789abcdef0123"}]});
    let held: Value = b
        .client
        .post(b.url("/api/partner/v1/Appointment/$hold"))
        .bearer_auth(&key)
        .header("Idempotency-Key", "h")
        .json(&hold)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let appt = held["id"].as_str().unwrap().to_owned();
    // (hub, method, path, bearer, valid body)
    let routes: Vec<(&TestApp, reqwest::Method, String, String, Value)> = vec![
        (
            &a,
            reqwest::Method::POST,
            format!("/api/v1/visits/{visit}/nurse-bookings"),
            doctor.clone(),
            json!({"act": "injection", "window_minutes": 120, "notes": "n", "callback_phone": "06 00 00 00 00"}),
        ),
        (
            &a,
            reqwest::Method::POST,
            "/api/v1/partner-networks".into(),
            admin_a.clone(),
            json!({"name": "N", "base_url": "http://127.0.0.1:9/x", "api_key": "k", "acts": ["injection"],
                   "area": {"postcodes": ["38000"]}, "priority": 5, "active": true}),
        ),
        (
            &a,
            reqwest::Method::PUT,
            "/api/v1/partner-networks/1".into(),
            admin_a.clone(),
            json!({"name": "N2", "base_url": "http://127.0.0.1:9/y", "acts": ["injection"], "area": {"lat": 45.0, "lon": 5.0, "radius_km": 3.0}}),
        ),
        (
            &a,
            reqwest::Method::POST,
            format!("/api/v1/nurse-bookings/{}/proposal", booking["id"]),
            doctor.clone(),
            json!({"accept": true}),
        ),
        (
            &a,
            reqwest::Method::POST,
            format!("/api/v1/partner-callbacks/{uuid}"),
            "token".into(),
            json!({"resourceType": "Appointment"}),
        ),
        (
            &b,
            reqwest::Method::POST,
            "/api/partner/v1/Appointment/$hold".into(),
            key.clone(),
            hold.clone(),
        ),
        (
            &b,
            reqwest::Method::POST,
            format!("/api/partner/v1/Appointment/{appt}/$cancel"),
            key.clone(),
            json!({"reason": "r", "unless_accepted": true}),
        ),
        (
            &b,
            reqwest::Method::POST,
            format!("/api/partner/v1/Appointment/{appt}/$respond"),
            key.clone(),
            json!({"accept": false}),
        ),
        (
            &b,
            reqwest::Method::POST,
            "/api/v1/partner-clients".into(),
            admin_b.clone(),
            json!({"name": "C", "network_id": 1}),
        ),
        (
            &b,
            reqwest::Method::PUT,
            "/api/v1/me/coverage".into(),
            nurse.clone(),
            json!({"acts": ["injection"], "area": {"postcodes": ["38000"]}, "on_duty": true}),
        ),
        (
            &b,
            reqwest::Method::POST,
            "/api/v1/nurse-offers/1/propose".into(),
            nurse.clone(),
            json!({"proposed_at": "2026-11-23T12:00:00Z"}),
        ),
        (
            &b,
            reqwest::Method::POST,
            "/api/v1/nurse-offers/1/accept".into(),
            nurse.clone(),
            json!({"expected_at": "2026-11-23T12:00:00Z"}),
        ),
    ];
    let mut sent = 0;
    for (hub, method, path, token, valid) in &routes {
        let mut bodies = crate::robustness::mutations(valid);
        bodies.push(valid.clone());
        for (i, body) in bodies.iter().enumerate() {
            let r = hub
                .client
                .request(method.clone(), hub.url(path))
                .bearer_auth(token)
                .header("Idempotency-Key", format!("m{sent}-{i}"))
                .json(body)
                .send()
                .await
                .unwrap();
            let status = r.status();
            let text = r.text().await.unwrap();
            assert!(
                status.as_u16() < 500,
                "{method} {path} with {body} answered {status}: {text}"
            );
            sent += 1;
        }
    }
    assert!(sent > 300, "only {sent} requests");
    // Both hubs still work; nothing was booked twice.
    let offers = b.get(&t, "/api/v1/nurse-offers").await.ok(200);
    assert!(
        offers
            .as_array()
            .unwrap()
            .iter()
            .any(|o| o["status"] == "offered"),
        "{offers}"
    );
    assert_eq!(count(&a, &format!("SELECT COUNT(*) FROM nurse_bookings WHERE visit_id = {visit} AND request_key = 'first'")).await, 1);
}

/// With the hub's defaults, the link calls only https URLs of public hosts: a partner cannot make
/// it call the association's internal services (SSRF), nor an admin by mistake.
async fn the_link_calls_only_public_hosts_over_tls(engine: Engine) {
    let b = spawn_app_with(engine, HubConfig::default()).await;
    let (key, _) = network_side(&b).await;
    let admin = b.login("admin").await;
    for (base, ok) in [
        ("http://127.0.0.1:8480/api/partner/v1", false),
        ("https://169.254.169.254/latest", false),
        ("https://10.0.0.5/api/partner/v1", false),
        ("https://[::1]/api/partner/v1", false),
        ("http://soins.example.fr/api/partner/v1", false),
        ("https://soins.example.fr/api/partner/v1", true),
    ] {
        let answer = b
            .post(
                &admin,
                "/api/v1/partner-networks",
                json!({"name": format!("Réseau {base}"), "base_url": base, "api_key": "k",
                       "acts": ACTS, "priority": 10}),
            )
            .await;
        if ok {
            answer.ok(201);
        } else {
            assert_eq!(
                answer.error(422, "invalid_field")["field"],
                "base_url",
                "{base}"
            );
        }
    }
    let hold = |callback: &str| {
        json!({"resourceType": "Parameters", "parameter": [
            {"name": "service-request", "resource": service_request()},
            {"name": "callback-url", "valueUrl": callback},
            {"name": "callback-token", "valueString": "a-callback-token-of-enough-length"},
        ]})
    };
    for (i, (callback, status)) in [
        ("http://127.0.0.1:9/api/v1/partner-callbacks/x", 422),
        ("https://192.168.1.1/cb", 422),
        ("https://localhost/cb", 422),
        ("https://sos.example.org/api/v1/partner-callbacks/x", 201),
    ]
    .into_iter()
    .enumerate()
    {
        let r = b
            .client
            .post(b.url("/api/partner/v1/Appointment/$hold"))
            .bearer_auth(&key)
            .header("Idempotency-Key", format!("ssrf-{i}"))
            .json(&hold(callback))
            .send()
            .await
            .unwrap();
        let got = r.status().as_u16();
        let body: Value = r.json().await.unwrap_or(Value::Null);
        assert_eq!(got, status, "{callback}: {body}");
        if status == 422 {
            assert_eq!(body["error"]["field"], "callback-url");
        }
    }
    b.stop().await;
}

on_both_engines!(
    the_link_calls_only_public_hosts_over_tls,
    hostile_bodies_on_the_booking_routes_never_cause_a_server_error,
    a_booking_goes_to_the_partner_hub_and_its_status_comes_back,
    the_same_request_twice_books_once,
    a_declined_request_goes_to_the_next_network,
    who_may_book_and_see_bookings,
    the_partner_api_names_what_is_wrong,
    the_payloads_are_valid_fhir_r4,
);
