//! One's own account: change one's password, list and revoke one's sessions, turn the second
//! factor (TOTP) on or off. Everyone has these, whatever the role; `services::sessions` and
//! `services::totp` hold the rules.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, ApiPath, ClientAddr};
use super::Hub;
use crate::accounts::check_password;
use crate::auth::{hash_password, verify_password, Principal};
use crate::domain::Role;
use crate::error::Reason;
use crate::services::sessions::{self, SessionView};
use crate::services::totp::{self, Enrolment};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(change_password))
        .routes(routes!(list_sessions, revoke_other_sessions))
        .routes(routes!(revoke_session))
        .routes(routes!(second_factor, begin_second_factor))
        .routes(routes!(confirm_second_factor))
        .routes(routes!(disable_second_factor))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 256)]
    pub current_password: String,
    /// At least 12 characters, not a common password.
    #[schema(max_length = 256)]
    pub new_password: String,
}

/// Change one's own password, with the current one. One's other sessions end.
#[utoipa::path(post, path = "/account/password", tag = "account", security(("bearer" = [])),
    request_body = PasswordChange,
    responses((status = 204), (status = 422, description = "the current password is wrong (reason `wrong_credentials`) or the new one too weak", body = ErrorBody),
        (status = 429, body = ErrorBody)))]
async fn change_password(
    State(state): State<Hub>,
    who: Principal,
    ClientAddr(addr): ClientAddr,
    ApiJson(change): ApiJson<PasswordChange>,
) -> Result<StatusCode> {
    if let Some(wait) = state.logins.must_wait(&who.username, addr) {
        return Err(Error::too_many(
            "too many wrong passwords: wait before trying again",
            wait,
        ));
    }
    check_password(&change.new_password).map_err(|e| e.with_field("new_password"))?;
    let hash: String = sqlx::query_scalar("SELECT password_hash FROM users WHERE id = $1")
        .bind(who.user_id)
        .fetch_one(state.db.pool())
        .await?;
    let (current, new) = (change.current_password, change.new_password);
    let same = current == new;
    let ok = {
        let _turn = state.logins.hashing_turn().await;
        tokio::task::spawn_blocking(move || verify_password(&current, &hash))
            .await
            .unwrap_or(false)
    };
    if !ok {
        state.logins.failed(&who.username, addr);
        let mut tx = state.db.write(who.actor()).await?;
        tx.audit(
            "account.password_change_failed",
            "user",
            who.user_id,
            serde_json::json!({"address": addr.map(|a| a.to_string())}),
        )
        .await?;
        tx.commit().await?;
        return Err(
            Error::invalid("current_password", "the current password is wrong")
                .because(Reason::WrongCredentials),
        );
    }
    if same {
        return Err(Error::invalid(
            "new_password",
            "the new password must differ from the current one",
        ));
    }
    let new_hash = {
        let _turn = state.logins.hashing_turn().await;
        tokio::task::spawn_blocking(move || hash_password(&new))
            .await
            .map_err(|_| Error::internal())?
    };
    let mut tx = state.db.write(who.actor()).await?;
    sqlx::query("UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3")
        .bind(new_hash)
        .bind(tx.now())
        .bind(who.user_id)
        .execute(tx.conn())
        .await?;
    let ended = sessions::revoke_all_but(&mut tx, who.user_id, Some(&who.token_hash)).await?;
    tx.audit(
        "account.password_changed",
        "user",
        who.user_id,
        serde_json::json!({"other_sessions_ended": ended}),
    )
    .await?;
    tx.commit().await?;
    state.logins.succeeded(&who.username);
    Ok(StatusCode::NO_CONTENT)
}

/// One's live sessions (this one marked `current`), newest first.
#[utoipa::path(get, path = "/account/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Vec<SessionView>)))]
async fn list_sessions(State(state): State<Hub>, who: Principal) -> Result<Json<Vec<SessionView>>> {
    Ok(Json(
        sessions::list(&state.db, &who, state.config.sessions).await?,
    ))
}

/// End one of one's sessions (a phone left somewhere): its token stops working at once.
#[utoipa::path(delete, path = "/account/sessions/{id}", tag = "account", security(("bearer" = [])),
    params(("id" = String, Path, description = "the session's id from the list")),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke_session(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<String>,
) -> Result<StatusCode> {
    sessions::revoke(&state.db, &who, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Serialize, ToSchema)]
pub struct Revoked {
    /// How many sessions ended.
    pub ended: u64,
}

/// End all one's sessions but this one.
#[utoipa::path(delete, path = "/account/sessions", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = Revoked)))]
async fn revoke_other_sessions(State(state): State<Hub>, who: Principal) -> Result<Json<Revoked>> {
    let mut tx = state.db.write(who.actor()).await?;
    let ended = sessions::revoke_all_but(&mut tx, who.user_id, Some(&who.token_hash)).await?;
    tx.audit(
        "session.revoke_others",
        "user",
        who.user_id,
        serde_json::json!({"ended": ended}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(Revoked { ended }))
}

#[derive(Serialize, ToSchema)]
pub struct SecondFactor {
    /// A second factor is in force: logins need its code.
    pub enabled: bool,
    /// The association requires one of this account: it cannot be turned off.
    pub required: bool,
}

fn required(state: &Hub, who: &Principal) -> bool {
    who.role == Role::Admin && state.config.admin_totp_required
}

/// Is a second factor in force for this account, and is it required?
#[utoipa::path(get, path = "/account/totp", tag = "account", security(("bearer" = [])),
    responses((status = 200, body = SecondFactor)))]
async fn second_factor(State(state): State<Hub>, who: Principal) -> Result<Json<SecondFactor>> {
    Ok(Json(SecondFactor {
        enabled: totp::enabled(&state.db, who.user_id).await?,
        required: required(&state, &who),
    }))
}

/// Start enrolling a second factor: a new secret for the authenticator app, in force once
/// confirmed with a first code.
#[utoipa::path(post, path = "/account/totp", tag = "account", security(("bearer" = [])),
    responses((status = 201, body = Enrolment), (status = 409, description = "a second factor is already in force", body = ErrorBody)))]
async fn begin_second_factor(
    State(state): State<Hub>,
    who: Principal,
) -> Result<(StatusCode, Json<Enrolment>)> {
    Ok((
        StatusCode::CREATED,
        Json(totp::begin(&state.db, &who).await?),
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Code {
    /// The 6 digits the authenticator app shows now.
    #[schema(max_length = 16)]
    pub code: String,
}

/// Put the second factor being enrolled in force, with the code the app shows now.
#[utoipa::path(post, path = "/account/totp/confirm", tag = "account", security(("bearer" = [])),
    request_body = Code,
    responses((status = 204), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn confirm_second_factor(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(code): ApiJson<Code>,
) -> Result<StatusCode> {
    totp::confirm(&state.db, &who, &code.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Turn the second factor off, with a current code (refused when the association requires it).
#[utoipa::path(post, path = "/account/totp/disable", tag = "account", security(("bearer" = [])),
    request_body = Code,
    responses((status = 204), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn disable_second_factor(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(code): ApiJson<Code>,
) -> Result<StatusCode> {
    totp::disable(&state.db, &who, &code.code, required(&state, &who)).await?;
    Ok(StatusCode::NO_CONTENT)
}
