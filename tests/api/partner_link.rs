//! The link between two hubs under faults. Both hubs run as separate `chevet serve` processes
//! on loopback; between them sit two relays of this test (A → B requests, B → A callbacks) that
//! can fail a request, fail it after passing it on (the partner did it, the caller never hears),
//! delay it past the caller's timeout, or deliver it twice. A hub is also killed and restarted.
//! Whatever happens: one visible booking, retried, never two appointments for it.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::closing::visit_on_site;
use crate::helpers::{eventually, spawn_app, Engine, TestApp};
use crate::nursing::{book, booking_where, count, network_side, offers_where, register, FAST_ARGS};
use crate::on_both_engines;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fault {
    Pass,
    /// Answers 500 without passing the request on.
    Fail,
    /// Passes the request on, then answers 500 instead of the answer.
    FailAfter,
    /// Passes the request on after this delay.
    Slow(Duration),
    /// Passes the request on twice; answers the second answer.
    Twice,
}

#[derive(Default)]
struct Relay {
    target: Mutex<String>,
    /// (path fragment, faults for the next matching requests).
    rules: Mutex<Vec<(String, VecDeque<Fault>)>>,
    /// (path fragment, fault for every matching request).
    always: Mutex<Vec<(String, Fault)>>,
    log: Mutex<Vec<(String, Fault, u16)>>,
    /// The path of every request received, logged on arrival (before any delay).
    arrived: Mutex<Vec<String>>,
    client: reqwest::Client,
}

/// A relay on a loopback port, passing requests to `target` with the faults it is told.
#[derive(Clone)]
pub struct Proxy {
    pub base: String,
    inner: Arc<Relay>,
}

impl Proxy {
    pub async fn start() -> Proxy {
        let inner = Arc::new(Relay::default());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new()
            .fallback(relay)
            .with_state(inner.clone());
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Proxy { base, inner }
    }

    pub fn target(&self, base: &str) {
        *self.inner.target.lock().unwrap() = base.to_owned();
    }

    /// The next requests whose path contains `path` get these faults, in order.
    pub fn next(&self, path: &str, faults: &[Fault]) {
        self.inner
            .rules
            .lock()
            .unwrap()
            .push((path.to_owned(), faults.iter().copied().collect()));
    }

    /// Every request whose path contains `path` gets this fault.
    pub fn always(&self, path: &str, fault: Fault) {
        self.inner
            .always
            .lock()
            .unwrap()
            .push((path.to_owned(), fault));
    }

    /// (path, fault, status answered) of every request relayed so far whose path contains `path`.
    pub fn seen(&self, path: &str) -> Vec<(String, Fault, u16)> {
        self.inner
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|(p, _, _)| p.contains(path))
            .cloned()
            .collect()
    }

    /// How many requests whose path contains `path` have arrived, answered or not.
    pub fn arrived(&self, path: &str) -> usize {
        let arrived = self.inner.arrived.lock().unwrap();
        arrived.iter().filter(|p| p.contains(path)).count()
    }
}

async fn forward(
    r: &Relay,
    method: &reqwest::Method,
    path: &str,
    headers: &axum::http::HeaderMap,
    body: &[u8],
) -> Result<(u16, String, Vec<u8>), String> {
    let target = r.target.lock().unwrap().clone();
    let mut req = r
        .client
        .request(method.clone(), format!("{target}{path}"))
        .body(body.to_vec());
    for name in ["authorization", "idempotency-key", "content-type", "accept"] {
        if let Some(v) = headers.get(name) {
            req = req.header(name, v.as_bytes());
        }
    }
    let resp = req.send().await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    let ctype = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/json")
        .to_owned();
    let bytes = resp.bytes().await.map_err(|e| e.to_string())?.to_vec();
    Ok((status, ctype, bytes))
}

async fn relay(State(r): State<Arc<Relay>>, req: Request) -> Response {
    // In a task of its own: a caller that hangs up (timeout, crash) does not stop the request
    // from reaching the other hub, as on a real network.
    tokio::spawn(relay_to_end(r, req))
        .await
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}

async fn relay_to_end(r: Arc<Relay>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 1 << 22).await.unwrap_or_default();
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.to_string())
        .unwrap_or_default();
    r.arrived.lock().unwrap().push(path.clone());
    let method = reqwest::Method::from_bytes(parts.method.as_str().as_bytes()).unwrap();
    let fault = {
        let mut rules = r.rules.lock().unwrap();
        let scheduled = rules
            .iter_mut()
            .find(|(p, f)| path.contains(p.as_str()) && !f.is_empty())
            .and_then(|(_, f)| f.pop_front());
        scheduled.unwrap_or_else(|| {
            r.always
                .lock()
                .unwrap()
                .iter()
                .find(|(p, _)| path.contains(p.as_str()))
                .map(|(_, f)| *f)
                .unwrap_or(Fault::Pass)
        })
    };
    let answer = match fault {
        Fault::Fail => Ok((500, "application/json".into(), b"{}".to_vec())),
        Fault::FailAfter => forward(&r, &method, &path, &parts.headers, &body)
            .await
            .map(|_| (500, "application/json".into(), b"{}".to_vec())),
        Fault::Slow(d) => {
            tokio::time::sleep(d).await;
            forward(&r, &method, &path, &parts.headers, &body).await
        }
        Fault::Twice => {
            let _ = forward(&r, &method, &path, &parts.headers, &body).await;
            forward(&r, &method, &path, &parts.headers, &body).await
        }
        Fault::Pass => forward(&r, &method, &path, &parts.headers, &body).await,
    };
    let status = answer.as_ref().map(|a| a.0).unwrap_or(502);
    r.log.lock().unwrap().push((path, fault, status));
    match answer {
        Ok((status, ctype, bytes)) => Response::builder()
            .status(status)
            .header("content-type", ctype)
            .body(Body::from(bytes))
            .unwrap(),
        Err(e) => (StatusCode::BAD_GATEWAY, e).into_response(),
    }
}

/// Hub A (association) and hub B (network) as processes, A → B and B → A through relays.
struct Link {
    a: TestApp,
    b: TestApp,
    to_b: Proxy,
    to_a: Proxy,
}

async fn link(engine: Engine) -> Link {
    let to_b = Proxy::start().await;
    let to_a = Proxy::start().await;
    let b = spawn_app(engine).await;
    let (key, _) = network_side(&b).await;
    let b = b.into_process(FAST_ARGS).await;
    to_b.target(&b.base);
    let mut args = FAST_ARGS.to_vec();
    args.extend(["--public-url", &to_a.base]);
    let a = spawn_app(engine).await;
    register(&a, "SOS Infirmiers B", &to_b.base, &key, 10).await;
    let a = a.into_process(&args).await;
    to_a.target(&a.base);
    Link { a, b, to_b, to_a }
}

/// The nurse of B accepts the (only) offer; returns its id.
async fn nurse_accepts(b: &TestApp) -> i64 {
    let nurse = b.login("nurse").await;
    let offers = offers_where(b, &nurse, |o| o["status"] == "offered").await;
    let id = offers[0]["id"].as_i64().unwrap();
    b.post(
        &nurse,
        &format!("/api/v1/nurse-offers/{id}/accept"),
        json!({}),
    )
    .await
    .ok(200);
    id
}

async fn one_each(l: &Link) {
    assert_eq!(count(&l.a, "SELECT COUNT(*) FROM nurse_bookings").await, 1);
    assert_eq!(
        count(&l.b, "SELECT COUNT(*) FROM partner_appointments").await,
        1
    );
}

async fn the_partner_down_leaves_one_visible_retried_booking(engine: Engine) {
    let mut l = link(engine).await;
    l.b.kill();
    let visit = visit_on_site(&l.a).await;
    let doctor = l.a.login("doctor").await;
    book(&l.a, &doctor, visit, "k").await.ok(201);
    // Visible to the doctor and the dispatcher: still being sent, why, and when it tries again.
    let retrying = booking_where(&l.a, &doctor, visit, "retried", |b| {
        b["attempts"].as_i64() >= Some(3) && b["delivery"] == "sending"
    })
    .await;
    assert!(
        retrying["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 502"),
        "{retrying}"
    );
    assert!(retrying["next_attempt_at"].is_string());
    let desk = l.a.login("dispatcher").await;
    assert_eq!(
        l.a.get(&desk, "/api/v1/nurse-bookings").await.ok(200)[0]["delivery"],
        "sending"
    );
    // The partner comes back: the same request goes through, once.
    l.b.start().await;
    booking_where(&l.a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;
    nurse_accepts(&l.b).await;
    let accepted = booking_where(&l.a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    assert_eq!(accepted["last_error"], Value::Null);
    one_each(&l).await;
    assert!(l.to_b.seen("$hold").len() >= 3);
}

async fn a_slow_or_failing_partner_never_gets_two_bookings(engine: Engine) {
    let l = link(engine).await;
    // The hold reaches B every time, but A hears 500, 500, then nothing in time (1.5 s).
    l.to_b.next(
        "$hold",
        &[
            Fault::FailAfter,
            Fault::FailAfter,
            Fault::Slow(Duration::from_millis(2500)),
        ],
    );
    // The confirmation: refused before B, done at B but answered 500, then too slow. Callbacks
    // are lost meanwhile: A hears only from its own requests and polls.
    l.to_a.always("partner-callbacks", Fault::Fail);
    l.to_b.next(
        "$book",
        &[
            Fault::Fail,
            Fault::FailAfter,
            Fault::Slow(Duration::from_millis(2500)),
        ],
    );
    let visit = visit_on_site(&l.a).await;
    let doctor = l.a.login("doctor").await;
    book(&l.a, &doctor, visit, "k").await.ok(201);
    booking_where(&l.a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;
    // The late requests reach B after A moved on.
    let late = |path: &str| {
        l.to_b
            .seen(path)
            .iter()
            .any(|(_, f, _)| matches!(f, Fault::Slow(_)))
    };
    eventually(
        "the late requests reach B",
        Duration::from_secs(10),
        || async {
            if late("$hold") && late("$book") {
                Ok(())
            } else {
                Err(format!("{:?}", l.to_b.seen("")))
            }
        },
    )
    .await;
    assert!(l.to_b.seen("$hold").len() >= 4 && l.to_b.seen("$book").len() >= 4);
    // Every retry carried the same key: B replayed its answer.
    one_each(&l).await;
    assert_eq!(
        count(&l.b, "SELECT COUNT(*) FROM partner_requests").await,
        2
    );
    nurse_accepts(&l.b).await;
    booking_where(&l.a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    one_each(&l).await;
}

async fn a_callback_delivered_twice_is_applied_once(engine: Engine) {
    let l = link(engine).await;
    l.to_a.always("partner-callbacks", Fault::Twice);
    let visit = visit_on_site(&l.a).await;
    let doctor = l.a.login("doctor").await;
    book(&l.a, &doctor, visit, "k").await.ok(201);
    booking_where(&l.a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;
    let offer = nurse_accepts(&l.b).await;
    let accepted = booking_where(&l.a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    let nurse = l.b.login("nurse").await;
    l.b.post(
        &nurse,
        &format!("/api/v1/nurse-offers/{offer}/done"),
        json!({}),
    )
    .await
    .ok(200);
    booking_where(&l.a, &doctor, visit, "done", |b| b["status"] == "done").await;
    let callbacks = l.to_a.seen("partner-callbacks");
    assert!(callbacks.len() >= 2, "{callbacks:?}");
    // Each callback key was recorded once and applied once.
    let id = accepted["id"].as_i64().unwrap();
    let keys = count(&l.a, "SELECT COUNT(*) FROM nurse_booking_callbacks").await;
    let applied: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_log WHERE entity_type = 'nurse_booking' AND entity_id = $1 AND action = 'nurse_booking.callback'",
    )
    .bind(id)
    .fetch_one(l.a.db.pool())
    .await
    .unwrap();
    // Every callback the relay passed on reached A twice; A kept each key once.
    eventually(
        "every relayed callback kept once",
        Duration::from_secs(5),
        || async {
            let relayed = l.to_a.seen("partner-callbacks").len() as i64;
            if relayed == keys {
                Ok(())
            } else {
                Err(format!(
                    "{keys} keys kept for {relayed} callbacks sent twice"
                ))
            }
        },
    )
    .await;
    assert!(
        keys >= 2 && applied <= keys,
        "{keys} keys, {applied} applied"
    );
    // An old state sent again under a new key changes nothing.
    let (uuid, token): (String, String) =
        sqlx::query_as("SELECT uuid, callback_token FROM nurse_bookings")
            .fetch_one(l.a.db.pool())
            .await
            .unwrap();
    let key = "chv_".to_owned() + &uuid;
    let appt: Value =
        l.b.client
            .get(format!(
                "{}/api/partner/v1/Appointment/{}",
                l.b.base,
                remote_id(&l.a).await
            ))
            .bearer_auth(network_key_of(&l.a).await)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
    let mut old = appt.clone();
    old["meta"]["versionId"] = json!("2");
    old["extension"][0]["valueCode"] = json!("offered");
    let r =
        l.a.client
            .post(l.a.url(&format!("/api/v1/partner-callbacks/{uuid}")))
            .bearer_auth(&token)
            .header("Idempotency-Key", &key)
            .json(&old)
            .send()
            .await
            .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["status"], "unchanged");
    // Without the booking's token: refused.
    let r =
        l.a.client
            .post(l.a.url(&format!("/api/v1/partner-callbacks/{uuid}")))
            .bearer_auth("not-the-token")
            .header("Idempotency-Key", "x")
            .json(&appt)
            .send()
            .await
            .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        l.a.get(&doctor, &format!("/api/v1/visits/{visit}/nurse-bookings"))
            .await
            .ok(200)[0]["status"],
        "done"
    );
    one_each(&l).await;
}

async fn remote_id(a: &TestApp) -> String {
    sqlx::query_scalar("SELECT remote_id FROM nurse_bookings")
        .fetch_one(a.db.pool())
        .await
        .unwrap()
}

async fn network_key_of(a: &TestApp) -> String {
    sqlx::query_scalar("SELECT api_key FROM partner_networks")
        .fetch_one(a.db.pool())
        .await
        .unwrap()
}

async fn a_hub_restarted_mid_booking_carries_on(engine: Engine) {
    let mut l = link(engine).await;
    // A dies while its hold is on the way (B gets it a second later), and comes back.
    l.to_b
        .next("$hold", &[Fault::Slow(Duration::from_millis(1000))]);
    let visit = visit_on_site(&l.a).await;
    let doctor = l.a.login("doctor").await;
    book(&l.a, &doctor, visit, "k").await.ok(201);
    eventually(
        "A's hold is on its way",
        Duration::from_secs(10),
        || async {
            match l.to_b.arrived("$hold") {
                0 => Err("no hold sent yet".to_string()),
                _ => Ok(()),
            }
        },
    )
    .await;
    l.a.kill();
    let held = || async {
        match count(
            &l.b,
            "SELECT COUNT(*) FROM partner_appointments WHERE status = 'held'",
        )
        .await
        {
            1 => Ok(()),
            n => Err(format!("{n} held appointments")),
        }
    };
    eventually(
        "B holds the appointment A asked for",
        Duration::from_secs(10),
        held,
    )
    .await;
    l.a.start().await;
    let doctor = l.a.login("doctor").await;
    booking_where(&l.a, &doctor, visit, "waiting", |b| {
        b["delivery"] == "waiting"
    })
    .await;
    // B dies with a callback to send; it is sent when B is back.
    let offer = nurse_accepts(&l.b).await;
    l.b.kill();
    l.b.start().await;
    booking_where(&l.a, &doctor, visit, "accepted", |b| {
        b["status"] == "accepted"
    })
    .await;
    assert!(l.to_b.seen("$hold").len() >= 2);
    one_each(&l).await;
    let _ = offer;
}

on_both_engines!(
    the_partner_down_leaves_one_visible_retried_booking,
    a_slow_or_failing_partner_never_gets_two_bookings,
    a_callback_delivered_twice_is_applied_once,
    a_hub_restarted_mid_booking_carries_on,
);
