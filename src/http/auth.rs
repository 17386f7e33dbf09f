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
use crate::auth::{dummy_hash, token_hash, verify_password, Principal};
use crate::domain::Role;
use crate::error::ErrorKind;
use crate::services::{sessions, totp};
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
    #[schema(max_length = 64)]
    pub username: String,
    #[schema(max_length = 256)]
    pub password: String,
    /// The current code of the authenticator app, for an account with a second factor. Without
    /// it such a login answers 401 with the reason `second_factor_required`.
    #[serde(default)]
    #[schema(max_length = 16)]
    pub code: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Opaque session token: send it as `Authorization: Bearer TOKEN`.
    pub token: String,
    /// When the session ends if unused; each use pushes it back, up to the session's maximum.
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
    /// This session may only enrol a second factor (`POST /account/totp`): the association
    /// requires one of this account.
    pub must_enrol_second_factor: bool,
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
            must_enrol_second_factor: p.restricted,
        }
    }
}

#[derive(sqlx::FromRow)]
struct Account {
    id: i64,
    role: Role,
    password_hash: String,
    totp_secret: Option<String>,
    totp_enabled_at: Option<Ts>,
}

/// Log in with a username and password; answers a session token.
#[utoipa::path(post, path = "/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse),
        (status = 401, description = "wrong credentials, or (code `second_factor_required`) the account's second factor is needed", body = super::error::ErrorBody),
        (status = 429, description = "too many failed logins for this account or address: wait `Retry-After` seconds", body = super::error::ErrorBody)))]
async fn login(
    State(state): State<Hub>,
    ClientAddr(addr): ClientAddr,
    request_headers: HeaderMap,
    ApiJson(req): ApiJson<LoginRequest>,
) -> Result<(HeaderMap, Json<LoginResponse>)> {
    if let Some(wait) = state.logins.must_wait(&req.username, addr) {
        return Err(Error::too_many(
            "too many failed logins: wait before trying again",
            wait,
        ));
    }
    let account: Option<Account> = sqlx::query_as(
        "SELECT id, role, password_hash, totp_secret, totp_enabled_at FROM users WHERE username = $1 AND disabled_at IS NULL",
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
    let second_factor = account
        .totp_secret
        .clone()
        .filter(|_| account.totp_enabled_at.is_some());
    let mut tx = state.db.write(Actor::user(account.id)).await?;
    if let Some(secret) = &second_factor {
        let Some(code) = req.code.as_deref().filter(|c| !c.trim().is_empty()) else {
            // The password was right: not a failure, but nothing opens without the code.
            return Err(Error::new(
                ErrorKind::Unauthorized,
                "second_factor_required",
                "this account logs in with a second factor: send the code of the authenticator app",
            )
            .with_field("code")
            .because(crate::error::Reason::SecondFactorRequired));
        };
        match totp::spend(&mut tx, account.id, secret, code).await {
            Ok(()) => {}
            Err(e) if e.kind == ErrorKind::Invalid => {
                drop(tx);
                state.logins.failed(&req.username, addr);
                audit_failure(&state, Some(account.id), addr).await?;
                return Err(Error::unauthorized("wrong or already used code")
                    .with_field("code")
                    .because(crate::error::Reason::WrongCredentials));
            }
            Err(e) => return Err(e),
        }
    }
    state.logins.succeeded(&req.username);
    let restricted =
        account.role == Role::Admin && state.config.admin_totp_required && second_factor.is_none();
    let origin = sessions::Origin {
        address: addr.map(|a| a.to_string()),
        user_agent: request_headers
            .get(axum::http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let opened = sessions::open(
        &mut tx,
        account.id,
        state.config.sessions,
        &origin,
        restricted,
    )
    .await?;
    tx.audit(
        "session.login",
        "user",
        account.id,
        serde_json::json!({"expires_at": opened.expires_at, "second_factor": second_factor.is_some(), "restricted": restricted}),
    )
    .await?;
    tx.commit().await?;
    let (token, expires_at) = (opened.token, opened.expires_at);

    let principal = super::extract::load_principal(&state, &token_hash(&token))
        .await?
        .ok_or_else(Error::internal)?;
    let mut headers = HeaderMap::new();
    let cookie = format!(
        "{SESSION_COOKIE}={token}; Path=/api; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.config.sessions.max.num_seconds(),
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
