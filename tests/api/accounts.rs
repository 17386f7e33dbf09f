//! Accounts against a hostile user: delegations the doctor accepts, one's own password and
//! sessions, sliding sessions with an idle timeout, the second factor.

use std::time::Duration;

use chevet::hub::HubConfig;
use chevet::services::sessions::SessionPolicy;
use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, spawn_app_with, test_config, Engine, TestApp, PASSWORD};
use crate::on_both_engines;

async fn delegations_an_admin_proposes_take_effect_only_once_the_doctor_accepts(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login("admin").await;
    let desk = app.login("dispatcher").await;
    let assistant = app.login("assistant").await;
    let visit = app.assigned_visit(&desk, app.fx.doctor2).await;

    let proposed = app
        .post(
            &admin,
            "/api/v1/delegations",
            json!({"doctor_id": app.fx.doctor2, "assistant_id": app.fx.assistant}),
        )
        .await
        .ok(201);
    assert_eq!(proposed["accepted_at"], Value::Null);
    let id = proposed["id"].as_i64().unwrap();
    // Not in force: she sees nothing of his, and he has it waiting in his list.
    let me = app.get(&assistant, "/api/v1/me").await.ok(200);
    assert_eq!(me["acts_for"], json!([app.fx.doctor]));
    app.get(&assistant, &format!("/api/v1/visits/{visit}"))
        .await
        .error(404, "not_found");
    let doc2 = app.login("doctor2").await;
    let waiting = app.get(&doc2, "/api/v1/delegations").await.ok(200);
    assert_eq!(waiting[0]["id"], id);
    assert_eq!(waiting[0]["accepted_at"], Value::Null);
    // Only he accepts: not the admin, not the assistant, not another doctor.
    for token in [&admin, &assistant, &app.login("doctor").await] {
        app.post(
            token,
            &format!("/api/v1/delegations/{id}/accept"),
            json!({}),
        )
        .await
        .error(403, "forbidden");
    }
    let accepted = app
        .post(
            &doc2,
            &format!("/api/v1/delegations/{id}/accept"),
            json!({}),
        )
        .await
        .ok(200);
    assert!(accepted["accepted_at"].is_string());
    app.post(
        &doc2,
        &format!("/api/v1/delegations/{id}/accept"),
        json!({}),
    )
    .await
    .error(409, "conflict");
    app.get(&assistant, &format!("/api/v1/visits/{visit}"))
        .await
        .ok(200);
    let audit = app
        .get(
            &admin,
            &format!(
                "/api/v1/audit?entity_type=delegation&entity_id={id}&action=delegation.accept"
            ),
        )
        .await
        .ok(200);
    assert_eq!(audit[0]["actor_id"], app.fx.doctor2);
    // He declines another one by ending it.
    let other = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"username": "assistant2", "password": PASSWORD, "display_name": "Léa Roux", "role": "assistant"}),
        )
        .await
        .ok(201)["id"]
        .clone();
    let second = app
        .post(
            &admin,
            "/api/v1/delegations",
            json!({"doctor_id": app.fx.doctor2, "assistant_id": other}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    app.send(
        Method::DELETE,
        &format!("/api/v1/delegations/{second}"),
        Some(&doc2),
        None,
    )
    .await
    .ok(204);
    app.post(
        &doc2,
        &format!("/api/v1/delegations/{second}/accept"),
        json!({}),
    )
    .await
    .error(404, "not_found");
    app.stop().await;
}

async fn anyone_changes_their_own_password_and_their_other_sessions_end(engine: Engine) {
    let app = spawn_app(engine).await;
    let phone = app.login("doctor").await;
    let desk = app.login("doctor").await;
    let wrong = app
        .post(
            &desk,
            "/api/v1/account/password",
            json!({"current_password": "pas le bon mot de passe", "new_password": "une garde de nuit à Voiron"}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(wrong["field"], "current_password");
    assert_eq!(wrong["reason"], "wrong_credentials");
    let weak = app
        .post(
            &desk,
            "/api/v1/account/password",
            json!({"current_password": PASSWORD, "new_password": "motdepasse"}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(weak["field"], "new_password");
    app.post(
        &desk,
        "/api/v1/account/password",
        json!({"current_password": PASSWORD, "new_password": "une garde de nuit à Voiron"}),
    )
    .await
    .ok(204);
    // This session goes on, the phone's ended; the old password no longer opens.
    app.get(&desk, "/api/v1/me").await.ok(200);
    app.get(&phone, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.send(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "doctor", "password": PASSWORD})),
    )
    .await
    .error(401, "unauthorized");
    app.login_with("doctor", "une garde de nuit à Voiron").await;
    let admin = app.login("admin").await;
    let audit = app
        .get(&admin, "/api/v1/audit?action=account.password_changed")
        .await
        .ok(200);
    assert_eq!(audit[0]["actor_id"], app.fx.doctor);
    let failed = app
        .get(
            &admin,
            "/api/v1/audit?action=account.password_change_failed",
        )
        .await
        .ok(200);
    assert_eq!(failed.as_array().unwrap().len(), 1);
    app.stop().await;
}

async fn login_from(app: &TestApp, username: &str, agent: &str) -> String {
    let r = app
        .client
        .post(app.url("/api/v1/auth/login"))
        .header("User-Agent", agent)
        .json(&json!({"username": username, "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned()
}

async fn a_person_lists_her_sessions_and_revokes_one_she_left_somewhere(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = login_from(&app, "doctor", "Mozilla/5.0 (X11; Linux x86_64) Chromium").await;
    let phone = login_from(&app, "doctor", "Mozilla/5.0 (Linux; Android 14) Mobile").await;
    let other = app.login("doctor2").await;
    let list = app.get(&desk, "/api/v1/account/sessions").await.ok(200);
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    let mine = list.iter().find(|s| s["current"] == true).unwrap();
    assert!(mine["user_agent"].as_str().unwrap().contains("Chromium"));
    assert_eq!(mine["address"], "127.0.0.1");
    let lost = list.iter().find(|s| s["current"] == false).unwrap();
    assert!(lost["user_agent"].as_str().unwrap().contains("Android"));
    assert!(!lost["id"].as_str().unwrap().is_empty());
    assert!(
        !lost.to_string().contains(&phone),
        "a token never leaves the hub again"
    );
    let lost_id = lost["id"].as_str().unwrap().to_owned();
    // Someone else cannot end it; she can.
    app.send(
        Method::DELETE,
        &format!("/api/v1/account/sessions/{lost_id}"),
        Some(&other),
        None,
    )
    .await
    .error(404, "not_found");
    app.get(&phone, "/api/v1/me").await.ok(200);
    app.send(
        Method::DELETE,
        &format!("/api/v1/account/sessions/{lost_id}"),
        Some(&desk),
        None,
    )
    .await
    .ok(204);
    app.get(&phone, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.send(
        Method::DELETE,
        "/api/v1/account/sessions/not-a-session",
        Some(&desk),
        None,
    )
    .await
    .error(404, "not_found");
    // All the others at once.
    let tablet = app.login("doctor").await;
    let ended = app
        .send(
            Method::DELETE,
            "/api/v1/account/sessions",
            Some(&desk),
            None,
        )
        .await
        .ok(200);
    assert_eq!(ended["ended"], 1);
    app.get(&tablet, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.get(&desk, "/api/v1/me").await.ok(200);
    app.stop().await;
}

/// Sliding sessions, with seconds for hours: each use keeps a session alive; unused for the idle
/// timeout, it ends; used or not, it ends at its maximum.
async fn sessions_slide_end_when_idle_and_never_outlive_their_maximum(engine: Engine) {
    let config = HubConfig {
        sessions: SessionPolicy {
            idle: chrono::Duration::seconds(3),
            max: chrono::Duration::seconds(8),
        },
        ..test_config()
    };
    let app = spawn_app_with(engine, config).await;
    let used = app.login("dispatcher").await;
    let idle = app.login("dispatcher2").await;
    // Used every second for 5 s, longer than the idle timeout: still alive.
    for _ in 0..5 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        app.get(&used, "/api/v1/me").await.ok(200);
    }
    app.get(&idle, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    // Used up to its maximum: ends anyway.
    for _ in 0..4 {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let status = app.get(&used, "/api/v1/me").await.status;
        if status == 401 {
            break;
        }
    }
    app.get(&used, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.stop().await;
}

/// The code an authenticator app shows for `secret` (base32) at `unix` seconds.
fn code_at(secret: &str, unix: u64) -> String {
    let bytes = totp_rs::Secret::Encoded(secret.to_owned())
        .to_bytes()
        .unwrap();
    totp_rs::TOTP::new_unchecked(
        totp_rs::Algorithm::SHA1,
        6,
        1,
        30,
        bytes,
        None,
        String::new(),
    )
    .generate(unix)
}

fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

async fn login_answer(app: &TestApp, username: &str, code: Option<&str>) -> crate::helpers::Answer {
    let mut body = json!({"username": username, "password": PASSWORD});
    if let Some(c) = code {
        body["code"] = json!(c);
    }
    app.send(Method::POST, "/api/v1/auth/login", None, Some(body))
        .await
}

async fn enrol(app: &TestApp, token: &str) -> String {
    let enrolment = app
        .post(token, "/api/v1/account/totp", json!({}))
        .await
        .ok(201);
    let secret = enrolment["secret"].as_str().unwrap().to_owned();
    assert!(enrolment["otpauth_url"]
        .as_str()
        .unwrap()
        .starts_with("otpauth://totp/Chevet:"));
    assert!(enrolment["qr_svg"].as_str().unwrap().starts_with("<svg"));
    // A wrong code does not put it in force.
    app.post(
        token,
        "/api/v1/account/totp/confirm",
        json!({"code": "000000"}),
    )
    .await
    .error(422, "invalid_field");
    app.post(
        token,
        "/api/v1/account/totp/confirm",
        json!({"code": code_at(&secret, now_unix())}),
    )
    .await
    .ok(204);
    secret
}

async fn a_second_factor_is_asked_once_enrolled_and_a_code_works_once(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login("doctor").await;
    let before = app.get(&token, "/api/v1/account/totp").await.ok(200);
    assert_eq!(before, json!({"enabled": false, "required": false}));
    let secret = enrol(&app, &token).await;
    assert_eq!(
        app.get(&token, "/api/v1/account/totp").await.ok(200)["enabled"],
        true
    );
    // The password alone no longer opens; a wrong code neither; the right one once.
    let e = login_answer(&app, "doctor", None)
        .await
        .error(401, "second_factor_required");
    assert_eq!(e["field"], "code");
    assert_eq!(e["reason"], "second_factor_required");
    login_answer(&app, "doctor", Some("123456"))
        .await
        .error(401, "unauthorized");
    // The code used to confirm is spent: the next step's code opens (the app is a little ahead).
    let next = code_at(&secret, now_unix() + 30);
    login_answer(&app, "doctor", Some(&next)).await.ok(200);
    login_answer(&app, "doctor", Some(&next))
        .await
        .error(401, "unauthorized");
    // Not turned off by a code from too far ahead; the admin resets it for a lost phone.
    app.post(
        &token,
        "/api/v1/account/totp/disable",
        json!({"code": code_at(&secret, now_unix() + 60)}),
    )
    .await
    .error(422, "invalid_field");
    let admin = app.login("admin").await;
    app.send(
        Method::PATCH,
        &format!("/api/v1/users/{}", app.fx.doctor),
        Some(&admin),
        Some(json!({"reset_second_factor": true})),
    )
    .await
    .ok(200);
    app.get(&token, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    login_answer(&app, "doctor", None).await.ok(200);
    app.stop().await;
}

async fn admins_enrol_a_second_factor_before_anything_else_when_the_association_requires_it(
    engine: Engine,
) {
    let config = HubConfig {
        admin_totp_required: true,
        ..test_config()
    };
    let app = spawn_app_with(engine, config).await;
    // Other roles are not concerned.
    let desk = app.login("dispatcher").await;
    app.get(&desk, "/api/v1/visits").await.ok(200);
    let body = login_answer(&app, "admin", None).await.ok(200);
    assert_eq!(body["user"]["must_enrol_second_factor"], true);
    let admin = body["token"].as_str().unwrap().to_owned();
    let e = app
        .get(&admin, "/api/v1/users")
        .await
        .error(403, "second_factor_enrolment_required");
    assert_eq!(e["reason"], "second_factor_enrolment");
    app.get(&admin, "/api/v1/me").await.ok(200);
    assert_eq!(
        app.get(&admin, "/api/v1/account/totp").await.ok(200),
        json!({"enabled": false, "required": true})
    );
    let secret = enrol(&app, &admin).await;
    // The same session now works, and the factor cannot be turned off.
    app.get(&admin, "/api/v1/users").await.ok(200);
    assert_eq!(
        app.get(&admin, "/api/v1/me").await.ok(200)["must_enrol_second_factor"],
        false
    );
    app.post(
        &admin,
        "/api/v1/account/totp/disable",
        json!({"code": code_at(&secret, now_unix() + 30)}),
    )
    .await
    .error(403, "forbidden");
    app.stop().await;
}

on_both_engines!(
    delegations_an_admin_proposes_take_effect_only_once_the_doctor_accepts,
    anyone_changes_their_own_password_and_their_other_sessions_end,
    a_person_lists_her_sessions_and_revokes_one_she_left_somewhere,
    sessions_slide_end_when_idle_and_never_outlive_their_maximum,
    a_second_factor_is_asked_once_enrolled_and_a_code_works_once,
    admins_enrol_a_second_factor_before_anything_else_when_the_association_requires_it,
);
