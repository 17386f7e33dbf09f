//! The partner nurse link, end to end over HTTP on loopback: the demo hub (SQLite, the embedded
//! default) books with the nurse network it hosts, exactly as two hubs do (requests out through
//! the outbox, callbacks back in). Run: `cargo bench --bench nurse_link`.
//!
//! Measures, over 50 bookings one after the other:
//! - booking → `waiting` at the association (hold + confirm, two HTTP round trips and four
//!   store transactions on each side);
//! - a nurse accepts → `accepted` at the association (the callback);
//!
//! then a burst: 100 bookings posted at once, the time until all are offered, and the two demo
//! nurses racing to accept each one (exactly one must win each).

use std::time::{Duration, Instant};

use chevet::http::serve;
use chevet::hub::HubConfig;
use chevet::store::Db;
use serde_json::{json, Value};

fn pct(mut v: Vec<f64>, p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[((v.len() as f64 - 1.0) * p).round() as usize]
}

struct Hub {
    base: String,
    http: reqwest::Client,
}

impl Hub {
    async fn login(&self, user: &str) -> String {
        let r: Value = self
            .http
            .post(format!("{}/api/v1/auth/login", self.base))
            .json(&json!({"username": user, "password": chevet::demo::PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["token"].as_str().unwrap().to_owned()
    }

    async fn get(&self, token: &str, path: &str) -> Value {
        self.http
            .get(format!("{}{path}", self.base))
            .bearer_auth(token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }

    async fn post(&self, token: &str, path: &str, key: &str, body: Value) -> (u16, Value) {
        let r = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(token)
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn booking(&self, token: &str, id: i64) -> Value {
        let all = self.get(token, "/api/v1/nurse-bookings?active=false").await;
        all.as_array()
            .unwrap()
            .iter()
            .find(|b| b["id"] == id)
            .cloned()
            .unwrap()
    }

    async fn until(&self, token: &str, id: i64, pred: impl Fn(&Value) -> bool) {
        loop {
            if pred(&self.booking(token, id).await) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("hub.db").display()))
        .await
        .unwrap();
    chevet::demo::seed(&db).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    chevet::demo::link_to_itself(&db, &base).await.unwrap();
    let visit: i64 = sqlx::query_scalar(
        "SELECT v.id FROM visits v JOIN users u ON u.id = v.doctor_id WHERE u.username = 'doctor' AND v.status = 'on_site'",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    let hub_db = db.clone();
    tokio::spawn(async move {
        serve(
            listener,
            chevet::hub::Hub::start(hub_db, HubConfig::default()).await,
            std::future::pending(),
        )
        .await
        .unwrap()
    });
    let hub = Hub {
        base,
        http: reqwest::Client::new(),
    };
    let doctor = hub.login("doctor").await;
    let nurses = [hub.login("nurse").await, hub.login("nurse2").await];
    let path = format!("/api/v1/visits/{visit}/nurse-bookings");
    let body = json!({"act": "urinary_catheter", "window_minutes": 60});

    let (mut to_waiting, mut to_accepted) = (Vec::new(), Vec::new());
    for i in 0..50 {
        let t = Instant::now();
        let (status, b) = hub
            .post(&doctor, &path, &format!("seq-{i}"), body.clone())
            .await;
        assert_eq!(status, 201, "{b}");
        let id = b["id"].as_i64().unwrap();
        hub.until(&doctor, id, |b| b["delivery"] == "waiting").await;
        to_waiting.push(t.elapsed().as_secs_f64() * 1e3);
        let offer: i64 = sqlx::query_scalar(
            "SELECT a.id FROM partner_appointments a JOIN nurse_bookings b ON b.remote_id = a.uuid WHERE b.id = $1",
        )
        .bind(id)
        .fetch_one(db.pool())
        .await
        .unwrap();
        let t = Instant::now();
        let (status, _) = hub
            .post(
                &nurses[0],
                &format!("/api/v1/nurse-offers/{offer}/accept"),
                "a",
                json!({}),
            )
            .await;
        assert_eq!(status, 200);
        hub.until(&doctor, id, |b| b["status"] == "accepted").await;
        to_accepted.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "booking → waiting (hold + confirm):  p50 {:.1} ms  p95 {:.1} ms  (n = 50)",
        pct(to_waiting.clone(), 0.5),
        pct(to_waiting, 0.95)
    );
    println!(
        "nurse accepts → accepted (callback): p50 {:.1} ms  p95 {:.1} ms  (n = 50)",
        pct(to_accepted.clone(), 0.5),
        pct(to_accepted, 0.95)
    );

    // A burst: 100 bookings at once.
    let t = Instant::now();
    let posts = futures::future::join_all((0..100).map(|i| {
        let (hub, doctor, path, body) = (&hub, &doctor, &path, body.clone());
        async move { hub.post(doctor, path, &format!("burst-{i}"), body).await }
    }))
    .await;
    assert!(posts.iter().all(|(s, _)| *s == 201));
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM nurse_bookings WHERE request_key LIKE 'burst-%' AND step = 'watch'",
        )
        .fetch_one(db.pool())
        .await
        .unwrap();
        if waiting == 100 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    println!(
        "100 bookings at once → all offered:   {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let offers: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM partner_appointments WHERE status = 'offered'")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let t = Instant::now();
    let hub = &hub;
    let pairs: Vec<(i64, &String)> = offers
        .iter()
        .flat_map(|o| nurses.iter().map(move |n| (*o, n)))
        .collect();
    let accepts = futures::future::join_all(pairs.into_iter().map(|(o, n)| async move {
        hub.post(
            n,
            &format!("/api/v1/nurse-offers/{o}/accept"),
            "a",
            json!({}),
        )
        .await
        .0
    }))
    .await;
    let won = accepts.iter().filter(|s| **s == 200).count();
    let lost = accepts.iter().filter(|s| **s == 409).count();
    println!(
        "two nurses race on each of {} offers: {won} won, {lost} told `taken`, in {:.0} ms",
        offers.len(),
        t.elapsed().as_secs_f64() * 1e3
    );
    assert_eq!((won, lost), (offers.len(), offers.len()));
    let dupes: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM (SELECT request_id FROM partner_appointments GROUP BY request_id HAVING COUNT(*) > 1) d",
    )
    .fetch_one(db.pool())
    .await
    .unwrap();
    println!("requests with two appointments: {dupes}");
    assert_eq!(dupes, 0);
}
