//! What a hostile client meets: the browser is told to run no inline script and to frame
//! nothing, and password guessing is slowed down per account and per address, and audited.

use std::time::Duration;

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, spawn_app_with, Engine, PASSWORD};
use crate::on_both_engines;

async fn every_answer_carries_the_browser_rules(engine: Engine) {
    let app = spawn_app(engine).await;
    for path in ["/api/v1/health", "/api/v1/me", "/", "/api/v1/no-such-route"] {
        let r = app.client.get(app.url(path)).send().await.unwrap();
        let h = r.headers();
        let csp = h
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default();
        let script = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src"));
        assert_eq!(script, Some("script-src 'self'"), "{path}: {csp}");
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert_eq!(h["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(h["referrer-policy"], "no-referrer", "{path}");
        assert_eq!(h["x-frame-options"], "DENY", "{path}");
    }
    app.stop().await;
}

async fn guessing_a_password_is_slowed_down_and_audited(engine: Engine) {
    let app = spawn_app(engine).await;
    let login = |password: &'static str| {
        let app = &app;
        async move {
            app.send(
                Method::POST,
                "/api/v1/auth/login",
                None,
                Some(json!({"username": "doctor", "password": password})),
            )
            .await
        }
    };
    for _ in 0..5 {
        login("guess-guess").await.error(401, "unauthorized");
    }
    // Now even the right password waits: the answer says how long, without checking it.
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .json(&json!({"username": "doctor", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&wait), "{wait}");
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_attempts");
    assert_eq!(body["error"]["retry_after_s"], wait);
    // Another account is not held back by it.
    app.login("dispatcher").await;
    // After the wait, the right password opens, and the account starts afresh.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    app.login("doctor").await;
    login("guess-guess").await.error(401, "unauthorized");
    // Each failure is in the audit trail with the address it came from; not the name typed.
    let failures: Vec<String> = sqlx::query_scalar(
        "SELECT changes FROM audit_log WHERE action = 'session.login_failed' ORDER BY id",
    )
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    assert_eq!(failures.len(), 6, "{failures:?}");
    let first: serde_json::Value = serde_json::from_str(&failures[0]).unwrap();
    assert_eq!(first["address"], "127.0.0.1", "{first}");
    assert_eq!(first["known_account"], true);
    app.stop().await;
}

async fn an_address_guessing_many_accounts_waits(engine: Engine) {
    let app = spawn_app(engine).await;
    for i in 0..20 {
        app.send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": format!("nobody{i}"), "password": "guess-guess"})),
        )
        .await
        .error(401, "unauthorized");
    }
    app.send(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "dispatcher", "password": PASSWORD})),
    )
    .await
    .error(429, "too_many_attempts");
    app.stop().await;
}

async fn an_oversize_ecg_is_too_large_not_malformed(engine: Engine) {
    let app = spawn_app(engine).await;
    let visit = crate::closing::visit_on_site(&app).await;
    let doctor = app.login("doctor").await;
    let form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(vec![0u8; 33 * 1024 * 1024]).file_name("huge.scp"),
    );
    let r = app
        .client
        .post(app.url(&format!("/api/v1/visits/{visit}/ecgs")))
        .bearer_auth(&doctor)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["error"]["code"], "payload_too_large");
    app.stop().await;
}

async fn updates_are_checked_like_creations(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let path = format!("/api/v1/patients/{}", app.fx.patient_home);
    let long = "x".repeat(100_000);
    for (body, field, reason) in [
        (json!({"used_name": long}), "used_name", "length"),
        (json!({"phone": "<script>"}), "phone", "format"),
        (
            json!({"birth_place_code": "38185385"}),
            "birth_place_code",
            "format",
        ),
        (
            json!({"address": {"line": "1 rue X", "city": "Grenoble", "details": long}}),
            "address.details",
            "length",
        ),
    ] {
        let e = app
            .send(Method::PATCH, &path, Some(&desk), Some(body))
            .await
            .error(422, "invalid_field");
        assert_eq!(
            (e["field"].as_str(), e["reason"].as_str()),
            (Some(field), Some(reason)),
            "{e}"
        );
    }
    // Nothing was changed by the refused updates.
    let p = app.get(&desk, &path).await.ok(200);
    assert!(p["used_name"].as_str().is_none_or(|n| n.len() < 200), "{p}");
    // A call's caller is checked too: a name the length of a book does not reach the boards.
    let e = app
        .post(
            &desk,
            "/api/v1/calls",
            json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2, "caller_name": "y".repeat(200_000)}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "caller_name");
    assert_eq!(e["limits"]["max"], 150.0);
    app.stop().await;
}

/// The embedded store is health data on a shared disk: only its owner reads it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app(Engine::Sqlite).await;
    app.new_call(&app.login("dispatcher").await).await;
    let path = app
        .db_url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap()
        .to_owned();
    for file in [path.clone(), format!("{path}-wal")] {
        let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file}: {mode:o}");
    }
    app.stop().await;
}

async fn old_events_are_forgotten(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    app.new_call(&desk).await;
    let count = || async {
        sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM events")
            .fetch_one(app.db.pool())
            .await
            .unwrap()
    };
    let recent = count().await;
    assert!(recent > 0);
    sqlx::query("UPDATE events SET at = '2020-01-01T00:00:00.000000Z' WHERE id = (SELECT MIN(id) FROM events)")
        .execute(app.db.pool())
        .await
        .unwrap();
    let removed = chevet::store::events::purge(&app.db, chrono::Duration::days(30))
        .await
        .unwrap();
    assert_eq!(removed, 1);
    assert_eq!(count().await, recent - 1);
    app.stop().await;
}

async fn behind_a_proxy_each_client_is_throttled_by_its_own_address(engine: Engine) {
    let config = chevet::hub::HubConfig {
        behind_proxy: true,
        ..Default::default()
    };
    let app = spawn_app_with(engine, config).await;
    let login = |from: &'static str, username: String, password: &'static str| {
        app.client
            .post(app.url("/api/v1/auth/login"))
            // What the client claims first is not believed; the proxy's last entry is.
            .header("x-forwarded-for", format!("10.9.9.9, {from}"))
            .json(&json!({"username": username, "password": password}))
            .send()
    };
    for i in 0..20 {
        let r = login("203.0.113.5", format!("nobody{i}"), "guess-guess")
            .await
            .unwrap();
        assert_eq!(r.status(), 401);
    }
    let r = login("203.0.113.5", "dispatcher".into(), PASSWORD)
        .await
        .unwrap();
    assert_eq!(r.status(), 429, "the guessing client waits");
    let r = login("203.0.113.6", "dispatcher".into(), PASSWORD)
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "another client behind the same proxy does not"
    );
    let address: String = sqlx::query_scalar(
        "SELECT changes FROM audit_log WHERE action = 'session.login_failed' ORDER BY id LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(address.contains("203.0.113.5"), "{address}");
    app.stop().await;
}

on_both_engines!(
    every_answer_carries_the_browser_rules,
    behind_a_proxy_each_client_is_throttled_by_its_own_address,
    old_events_are_forgotten,
    updates_are_checked_like_creations,
    an_oversize_ecg_is_too_large_not_malformed,
    guessing_a_password_is_slowed_down_and_audited,
    an_address_guessing_many_accounts_waits,
);
