//! Web Push (#15) against a push service of our own on loopback, which does what a real one does
//! before it accepts a message: checks the VAPID token (RFC 8292: ES256 signature by the key in
//! `k`, audience its own origin, expiry within 24 h, a contact), and then, as the browser would,
//! decrypts the message (RFC 8291, aes128gcm) with the browser's private key and auth secret.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::http::{HeaderMap, StatusCode};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use chevet::services::push::{Ring, Vapid};
use serde_json::{json, Value};
use web_push_native::p256;

use p256::ecdsa::signature::Verifier;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::elliptic_curve::sec1::ToEncodedPoint;

use crate::helpers::{eventually, spawn_app_with, test_config, Engine};
use crate::on_both_engines;

/// What the push service received, checked and decrypted.
#[derive(Debug)]
struct Received {
    ring: Ring,
    ttl: u64,
    urgency: String,
}

/// The browser's side of one subscription.
struct Browser {
    secret: p256::SecretKey,
    auth: [u8; 16],
}

impl Browser {
    fn new() -> Browser {
        Browser {
            secret: p256::SecretKey::random(&mut rand::rngs::OsRng),
            auth: rand::random(),
        }
    }

    fn keys(&self) -> Value {
        let public = self.secret.public_key().to_encoded_point(false);
        json!({"p256dh": B64.encode(public.as_bytes()), "auth": B64.encode(self.auth)})
    }
}

/// Checks the request as a push service does; Err says what it would refuse.
fn check(
    origin: &str,
    headers: &HeaderMap,
    body: &[u8],
    browser: &Browser,
) -> Result<Received, String> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .ok_or(format!("no {name} header"))
    };
    let authorization = header("authorization")?;
    let (token, k) = authorization
        .strip_prefix("vapid t=")
        .and_then(|r| r.split_once(", k="))
        .ok_or("not a vapid authorization")?;
    let (signed, signature) = token.rsplit_once('.').ok_or("not a JWT")?;
    let key = VerifyingKey::from_sec1_bytes(&B64.decode(k).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    let signature = Signature::from_slice(&B64.decode(signature).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    key.verify(signed.as_bytes(), &signature)
        .map_err(|_| "bad VAPID signature")?;
    let (jwt_header, claims) = signed.split_once('.').ok_or("not a JWT")?;
    let jwt_header: Value =
        serde_json::from_slice(&B64.decode(jwt_header).map_err(|e| e.to_string())?)
            .map_err(|e| e.to_string())?;
    if jwt_header["alg"] != "ES256" {
        return Err(format!("alg {}", jwt_header["alg"]));
    }
    let claims: Value = serde_json::from_slice(&B64.decode(claims).map_err(|e| e.to_string())?)
        .map_err(|e| e.to_string())?;
    if claims["aud"] != origin {
        return Err(format!("aud {} is not {origin}", claims["aud"]));
    }
    let exp = claims["exp"].as_i64().ok_or("no exp")?;
    let now = chrono::Utc::now().timestamp();
    if !(now < exp && exp <= now + 24 * 3600) {
        return Err(format!("exp {exp} out of range"));
    }
    if !claims["sub"]
        .as_str()
        .is_some_and(|s| s.starts_with("mailto:"))
    {
        return Err("no contact".into());
    }
    if header("content-encoding")? != "aes128gcm" {
        return Err("not aes128gcm".into());
    }
    let ttl: u64 = header("ttl")?.parse().map_err(|_| "bad TTL")?;
    let plain = web_push_native::decrypt(
        body.to_vec(),
        &browser.secret,
        web_push_native::Auth::from_slice(&browser.auth),
    )
    .map_err(|e| format!("cannot decrypt: {e}"))?;
    Ok(Received {
        ring: serde_json::from_slice(&plain).map_err(|e| e.to_string())?,
        ttl,
        urgency: header("urgency")?.to_owned(),
    })
}

/// A push service on loopback for one browser: answers `status` (201, or 410 once the browser
/// unsubscribed); returns its endpoint and what it received.
async fn push_service(
    browser: Browser,
    status: Arc<Mutex<StatusCode>>,
) -> (String, Arc<Mutex<Vec<Result<Received, String>>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin = format!("http://{}", listener.local_addr().unwrap());
    let received = Arc::new(Mutex::new(Vec::new()));
    let (log, origin2) = (received.clone(), origin.clone());
    let browser = Arc::new(browser);
    let app = axum::Router::new().route(
        "/wpush/{id}",
        axum::routing::post(move |headers: HeaderMap, body: axum::body::Bytes| {
            let (log, origin, browser, status) = (
                log.clone(),
                origin2.clone(),
                browser.clone(),
                status.clone(),
            );
            async move {
                let checked = check(&origin, &headers, &body, &browser);
                let answer = match &checked {
                    Ok(_) => *status.lock().unwrap(),
                    Err(_) => StatusCode::FORBIDDEN,
                };
                log.lock().unwrap().push(checked);
                answer
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("{origin}/wpush/phone-1"), received)
}

async fn an_assigned_visit_rings_the_doctors_phone_through_his_push_service(engine: Engine) {
    let mut config = test_config();
    config.push =
        Some(Vapid::from_pem(&Vapid::generate_pem(), "mailto:garde@sos.example.org").unwrap());
    let public_key = config.push.as_ref().unwrap().public_key();
    let app = spawn_app_with(engine, config).await;
    let (desk, doc) = (app.login("dispatcher").await, app.login("doctor").await);

    let key = app.get(&doc, "/api/v1/push/key").await.ok(200);
    assert_eq!(key["public_key"], public_key.as_str());

    let browser = Browser::new();
    let keys = browser.keys();
    let status = Arc::new(Mutex::new(StatusCode::CREATED));
    let (endpoint, received) = push_service(browser, status.clone()).await;

    // Bad subscriptions are told where they are wrong.
    let bad = app
        .post(
            &doc,
            "/api/v1/push/subscriptions",
            json!({"endpoint": endpoint, "keys": {"p256dh": "AAAA", "auth": keys["auth"]}}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(bad["field"], "keys.p256dh");
    app.post(
        &desk,
        "/api/v1/push/subscriptions",
        json!({"endpoint": endpoint, "keys": keys}),
    )
    .await
    .error(403, "forbidden");

    let sub = app
        .post(
            &doc,
            "/api/v1/push/subscriptions",
            json!({"endpoint": endpoint, "keys": keys, "expirationTime": null}),
        )
        .await
        .ok(201);
    let sub_id = sub["id"].as_i64().unwrap();
    assert_eq!(
        app.audit_actions("push_subscription", sub_id).await,
        ["push.subscribed"]
    );

    let visit = app.assigned_visit(&desk, app.fx.doctor).await;
    eventually(
        "the push service gets the ring",
        Duration::from_secs(10),
        || async {
            let n = received.lock().unwrap().len();
            if n > 0 {
                Ok(())
            } else {
                Err("nothing received".to_string())
            }
        },
    )
    .await;
    let first = received
        .lock()
        .unwrap()
        .remove(0)
        .unwrap_or_else(|e| panic!("the push service refused it: {e}"));
    assert_eq!(first.ring.visit_id, visit);
    assert_eq!(first.ring.title, "Nouvelle visite P2");
    assert_eq!(
        first.ring.body, "fièvre 39,5 · Grenoble",
        "the motive and the town, no name"
    );
    assert_eq!(first.urgency, "high");
    assert!(
        first.ttl > 0 && first.ttl <= 600,
        "a ring is useless late: TTL {}",
        first.ttl
    );
    let owed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_outbox")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(owed, 0, "delivered: nothing owed");

    // The browser unsubscribed at its push service: 410, and the hub forgets the subscription.
    *status.lock().unwrap() = StatusCode::GONE;
    app.assigned_visit(&desk, app.fx.doctor).await;
    eventually(
        "the gone subscription is removed",
        Duration::from_secs(10),
        || async {
            let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_subscriptions")
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            if n == 0 {
                Ok(())
            } else {
                Err(format!("{n} subscriptions"))
            }
        },
    )
    .await;
    assert_eq!(
        app.audit_actions("push_subscription", sub_id).await,
        ["push.subscribed", "push.gone"]
    );
    app.stop().await;
}

async fn without_a_vapid_key_the_hub_says_it_sends_no_push(engine: Engine) {
    let app = spawn_app_with(engine, test_config()).await;
    let doc = app.login("doctor").await;
    let key = app.get(&doc, "/api/v1/push/key").await.ok(200);
    assert!(key["public_key"].is_null());
    let keys = Browser::new().keys();
    app.post(
        &doc,
        "/api/v1/push/subscriptions",
        json!({"endpoint": "https://push.example.org/wpush/1", "keys": keys}),
    )
    .await
    .error(409, "push_off");
    // Nothing owed for anyone: assignments write no outbox row.
    let desk = app.login("dispatcher").await;
    app.assigned_visit(&desk, app.fx.doctor).await;
    let owed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM push_outbox")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(owed, 0);
    app.stop().await;
}

async fn an_endpoint_on_an_internal_address_is_refused(engine: Engine) {
    // The hub's defaults: https to public hosts only.
    let config = chevet::hub::HubConfig {
        push: Some(
            Vapid::from_pem(&Vapid::generate_pem(), "mailto:garde@sos.example.org").unwrap(),
        ),
        ..Default::default()
    };
    let app = spawn_app_with(engine, config).await;
    let doc = app.login("doctor").await;
    let keys = Browser::new().keys();
    for endpoint in [
        "http://127.0.0.1:9/wpush/1",
        "https://10.0.0.8/wpush/1",
        "https://[::1]/w",
    ] {
        let e = app
            .post(
                &doc,
                "/api/v1/push/subscriptions",
                json!({"endpoint": endpoint, "keys": keys}),
            )
            .await
            .error(422, "invalid_field");
        assert_eq!(e["field"], "endpoint", "{endpoint}");
    }
    app.stop().await;
}

on_both_engines!(
    an_assigned_visit_rings_the_doctors_phone_through_his_push_service,
    without_a_vapid_key_the_hub_says_it_sends_no_push,
    an_endpoint_on_an_internal_address_is_refused,
);
