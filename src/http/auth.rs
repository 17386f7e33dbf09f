//! Logging in and out, and who am I.

use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, Result};
use super::extract::{ApiJson, ClientAddr, SESSION_COOKIE};
use super::Hub;
use crate::auth::{dummy_hash, new_token, token_hash, verify_password, Principal};
use crate::domain::Role;
use crate::store::{Actor, Ts};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(logout))
        .routes(routes!(me))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Opaque session token: send it as `Authorization: Bearer TOKEN`.
    pub token: String,
    pub expires_at: Ts,
    pub user: Me,
}

/// The logged-in person.
#[derive(Serialize, ToSchema)]
pub struct Me {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub network_id: Option<i64>,
    /// For an assistant: the doctors she may act for.
    pub acts_for: Vec<i64>,
}

impl From<&Principal> for Me {
    fn from(p: &Principal) -> Me {
        Me {
            id: p.user_id,
            username: p.username.clone(),
            display_name: p.display_name.clone(),
            role: p.role,
            institution_id: p.institution_id,
            network_id: p.network_id,
            acts_for: p.delegators.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct Account {
    id: i64,
    password_hash: String,
}

/// Log in with a username and password; answers a session token.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = super::error::ErrorBody),
        (status = 429, description = "too many failed logins for this account or address: wait `Retry-After` seconds", body = super::error::ErrorBody)))]
async fn login(
    State(state): State<Hub>,
    ClientAddr(addr): ClientAddr,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<(HeaderMap, Json<LoginResponse>)> {
    if let Some(wait) = state.logins.must_wait(&req.username, addr) {
        return Err(Error::too_many(
            "too many failed logins: wait before trying again",
            wait,
        ));
    }
    let account: Option<Account> = sqlx::query_as(
        "SELECT id, password_hash FROM users WHERE username = $1 AND disabled_at IS NULL",
    )
    .bind(req.username.trim())
    .fetch_optional(state.db.pool())
    .await?;
    // Verify against a dummy hash for unknown users so timing does not reveal who exists.
    let password = req.password;
    let hash = account
        .as_ref()
        .map(|a| a.password_hash.clone())
        .unwrap_or_else(|| dummy_hash().to_owned());
    let ok = {
        let _turn = state.logins.hashing_turn().await;
        tokio::task::spawn_blocking(move || verify_password(&password, &hash))
            .await
            .unwrap_or(false)
    };
    let account = match account {
        Some(a) if ok => a,
        account => {
            state.logins.failed(&req.username, addr);
            audit_failure(&state, account.map(|a| a.id), addr).await?;
            return Err(Error::unauthorized("wrong username or password")
                .because(crate::error::Reason::WrongCredentials));
        }
    };
    state.logins.succeeded(&req.username);

    let token = new_token();
    let mut tx = state.db.write(Actor::user(account.id)).await?;
    let expires_at = tx.now().plus(state.config.session_ttl);
    sqlx::query("INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
        .bind(token_hash(&token))
        .bind(account.id)
        .bind(tx.now())
        .bind(expires_at)
        .execute(tx.conn())
        .await?;
    tx.audit(
        "session.login",
        "user",
        account.id,
        serde_json::json!({"expires_at": expires_at}),
    )
    .await?;
    tx.commit().await?;

    let principal = super::extract::load_principal(&state, &token_hash(&token))
        .await?
        .ok_or_else(Error::internal)?;
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/api; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.config.session_ttl.num_seconds(),
        if state.config.secure { "; Secure" } else { "" }
    );
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        headers.insert(SET_COOKIE, v);
    }
    Ok((
        headers,
        Json(LoginResponse {
            token,
            expires_at,
            user: Me::from(&principal),
        }),
    ))
}

/// A failed login, in the audit trail: the account when it exists (the name typed is not kept:
/// it may be a password typed in the wrong field), and the address it came from.
async fn audit_failure(
    state: &Hub,
    account: Option<i64>,
    addr: Option<std::net::IpAddr>,
) -> Result<()> {
    let mut tx = state.db.write(Actor::SYSTEM).await?;
    tx.audit(
        "session.login_failed",
        "user",
        account.unwrap_or(0),
        serde_json::json!({"address": addr.map(|a| a.to_string()), "known_account": account.is_some()}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Log out: the session token stops working at once.
#[utoipa::path(post, path = "/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = super::error::ErrorBody)))]
async fn logout(State(state): State<Hub>, who: Principal) -> Result<(StatusCode, HeaderMap)> {
    let mut tx = state.db.write(who.actor()).await?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE token_hash = $2 AND revoked_at IS NULL")
        .bind(tx.now())
        .bind(&who.token_hash)
        .execute(tx.conn())
        .await?;
    tx.audit("session.logout", "user", who.user_id, serde_json::json!({}))
        .await?;
    tx.commit().await?;
    let mut headers = HeaderMap::new();
    headers.insert(
        SET_COOKIE,
        HeaderValue::from_static(
            "chevet_session=; Path=/api; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    Ok((StatusCode::NO_CONTENT, headers))
}

/// Who am I: account, role, institution, and for an assistant the doctors she acts for.
#[utoipa::path(get, path = "/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = Me), (status = 401, body = super::error::ErrorBody)))]
async fn me(who: Principal) -> Json<Me> {
    Json(Me::from(&who))
}
