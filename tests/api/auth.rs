//! Logging in and out, token expiry, disabled accounts.

use reqwest::Method;
use serde_json::json;

use crate::helpers::{spawn_app, Engine, PASSWORD};

async fn login_me_logout(engine: Engine) {
    let app = spawn_app(engine).await;
    let answer = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "dispatcher", "password": PASSWORD})),
        )
        .await
        .ok(200);
    let token = answer["token"].as_str().unwrap();
    assert_eq!(answer["user"]["role"], "dispatcher");
    let me = app.get(token, "/api/v1/me").await.ok(200);
    assert_eq!(me["username"], "dispatcher");
    assert_eq!(me["id"], app.fx.dispatcher);

    // The token is stored hashed, never as is.
    let stored: Vec<String> = sqlx::query_scalar("SELECT token_hash FROM sessions")
        .fetch_all(app.db.pool())
        .await
        .unwrap();
    assert!(!stored.iter().any(|h| h == token));
    // And the password as an argon2 hash.
    let hash: String =
        sqlx::query_scalar("SELECT password_hash FROM users WHERE username = 'dispatcher'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert!(hash.starts_with("$argon2id$"));

    app.send(Method::POST, "/api/v1/auth/logout", Some(token), None)
        .await
        .ok(204);
    app.get(token, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.stop().await;
}

async fn wrong_credentials_are_refused_alike(engine: Engine) {
    let app = spawn_app(engine).await;
    let wrong_pw = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "dispatcher", "password": "nope-nope"})),
        )
        .await
        .error(401, "unauthorized");
    let no_user = app
        .send(
            Method::POST,
            "/api/v1/auth/login",
            None,
            Some(json!({"username": "nobody", "password": "nope-nope"})),
        )
        .await
        .error(401, "unauthorized");
    // Same message: the answer does not tell which accounts exist.
    assert_eq!(wrong_pw["message"], no_user["message"]);
    assert_eq!(wrong_pw["reason"], "wrong_credentials");
    assert_eq!(no_user["reason"], "wrong_credentials");
    app.stop().await;
}

async fn expired_and_missing_tokens_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let token = app.login("doctor").await;
    app.get(&token, "/api/v1/me").await.ok(200);
    sqlx::query("UPDATE sessions SET expires_at = '2000-01-01T00:00:00.000000Z'")
        .execute(app.db.pool())
        .await
        .unwrap();
    let e = app
        .get(&token, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    assert!(e["message"].as_str().unwrap().contains("expired"));
    app.send(Method::GET, "/api/v1/me", None, None)
        .await
        .error(401, "unauthorized");
    app.get("not-a-token", "/api/v1/visits")
        .await
        .error(401, "unauthorized");
    let resp = app
        .client
        .get(app.url("/api/v1/me"))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    app.stop().await;
}

async fn disabling_an_account_ends_its_sessions(engine: Engine) {
    let app = spawn_app(engine).await;
    let admin = app.login("admin").await;
    let doctor = app.login("doctor2").await;
    let user = app
        .send(
            Method::PATCH,
            &format!("/api/v1/users/{}", app.fx.doctor2),
            Some(&admin),
            Some(json!({"disabled": true})),
        )
        .await
        .ok(200);
    assert!(user["disabled_at"].is_string());
    app.get(&doctor, "/api/v1/me")
        .await
        .error(401, "unauthorized");
    app.send(
        Method::POST,
        "/api/v1/auth/login",
        None,
        Some(json!({"username": "doctor2", "password": PASSWORD})),
    )
    .await
    .error(401, "unauthorized");
    assert_eq!(
        app.audit_actions("user", app.fx.doctor2)
            .await
            .last()
            .unwrap(),
        "user.update"
    );
    app.stop().await;
}

crate::on_both_engines!(
    login_me_logout,
    wrong_credentials_are_refused_alike,
    expired_and_missing_tokens_are_refused,
    disabling_an_account_ends_its_sessions,
);

mod launch_secret {
    use chevet::hub::HubConfig;
    use reqwest::redirect::Policy;

    use crate::helpers::{spawn_app_with, Engine};

    /// An embedded hub serves only the window that knows its per-launch secret.
    #[tokio::test]
    async fn an_embedded_hub_serves_only_its_own_window() {
        let config = HubConfig {
            launch_secret: Some("s3cret-of-this-launch".into()),
            ..HubConfig::default()
        };
        let app = spawn_app_with(Engine::Sqlite, config).await;
        let stranger = app
            .client
            .get(app.url("/api/v1/health"))
            .send()
            .await
            .unwrap();
        assert_eq!(stranger.status(), 403);
        let body: serde_json::Value = stranger.json().await.unwrap();
        assert_eq!(body["error"]["code"], "forbidden");
        let wrong = app
            .client
            .get(app.url("/launch?secret=guess"))
            .send()
            .await
            .unwrap();
        assert_eq!(wrong.status(), 403);

        // The window opens /launch?secret=..., gets the cookie, and is in.
        let window = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        let launch = window
            .get(app.url("/launch?secret=s3cret-of-this-launch"))
            .send()
            .await
            .unwrap();
        assert_eq!(launch.status(), 303);
        assert_eq!(
            window
                .get(app.url("/api/v1/health"))
                .send()
                .await
                .unwrap()
                .status(),
            200
        );
        // Or a header, for programs started by the app itself.
        let header = app
            .client
            .get(app.url("/api/v1/health"))
            .header("X-Chevet-Launch", "s3cret-of-this-launch")
            .send()
            .await
            .unwrap();
        assert_eq!(header.status(), 200);
        app.stop().await;
    }
}
