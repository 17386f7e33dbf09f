//! Accounts, for admins: list, create, rename, reset a password, disable.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::accounts::{check_display_name, check_password, create_user, NewUser};
use crate::auth::{hash_password, Principal};
use crate::domain::{Role, Skill};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_users, add_user))
        .routes(routes!(update_user))
}

#[derive(Serialize, ToSchema)]
pub struct UserView {
    pub id: i64,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub institution_id: Option<i64>,
    pub network_id: Option<i64>,
    pub disabled_at: Option<Ts>,
    pub created_at: Ts,
    pub rpps: Option<String>,
    pub skills: Option<Vec<Skill>>,
}

#[derive(sqlx::FromRow)]
struct UserRow {
    id: i64,
    username: String,
    display_name: String,
    role: Role,
    institution_id: Option<i64>,
    network_id: Option<i64>,
    disabled_at: Option<Ts>,
    created_at: Ts,
    rpps: Option<String>,
    skills: Option<String>,
}

const USER_SELECT: &str = "SELECT u.id, u.username, u.display_name, u.role, u.institution_id, u.network_id, \
    u.disabled_at, u.created_at, d.rpps, d.skills FROM users u LEFT JOIN doctors d ON d.user_id = u.id";

impl From<UserRow> for UserView {
    fn from(r: UserRow) -> UserView {
        UserView {
            id: r.id,
            username: r.username,
            display_name: r.display_name,
            role: r.role,
            institution_id: r.institution_id,
            network_id: r.network_id,
            disabled_at: r.disabled_at,
            created_at: r.created_at,
            rpps: r.rpps,
            skills: r
                .skills
                .map(|s| serde_json::from_str(&s).unwrap_or_default()),
        }
    }
}

pub fn require_admin(who: &Principal) -> Result<()> {
    if who.role == Role::Admin {
        Ok(())
    } else {
        Err(Error::forbidden("only an administrator may do this"))
    }
}

async fn user_view(state: &Hub, id: i64) -> Result<UserView> {
    let sql = format!("{USER_SELECT} WHERE u.id = $1");
    let row: Option<UserRow> = sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    row.map(UserView::from)
        .ok_or_else(|| Error::not_found(format!("user {id}")))
}

/// List every account (admins).
#[utoipa::path(get, path = "/users", tag = "users", security(("bearer" = [])),
    responses((status = 200, body = Vec<UserView>), (status = 403, body = ErrorBody)))]
async fn list_users(State(state): State<Hub>, who: Principal) -> Result<Json<Vec<UserView>>> {
    require_admin(&who)?;
    let sql = format!("{USER_SELECT} ORDER BY u.username");
    let rows: Vec<UserRow> = sqlx::query_as(&sql).fetch_all(state.db.pool()).await?;
    Ok(Json(rows.into_iter().map(UserView::from).collect()))
}

/// Create an account with its role (admins). Each person has their own account.
#[utoipa::path(post, path = "/users", tag = "users", security(("bearer" = [])),
    request_body = NewUser,
    responses((status = 201, body = UserView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_user(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewUser>,
) -> Result<(StatusCode, Json<UserView>)> {
    require_admin(&who)?;
    new.check()?;
    let mut tx = state.db.write(who.actor()).await?;
    let id = create_user(&mut tx, &new).await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(user_view(&state, id).await?)))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UserUpdate {
    #[serde(default)]
    #[schema(max_length = 120)]
    pub display_name: Option<String>,
    /// A new password (at least 12 characters, not a common one); the user's sessions end.
    #[serde(default)]
    #[schema(max_length = 256)]
    pub password: Option<String>,
    /// true disables the account and ends its sessions; false enables it again.
    #[serde(default)]
    pub disabled: Option<bool>,
    /// true removes the account's second factor (a lost phone): its sessions end, and it logs
    /// in with its password alone until it enrols again.
    #[serde(default)]
    pub reset_second_factor: Option<bool>,
}

/// Rename, reset the password of, disable or enable an account (admins).
#[utoipa::path(patch, path = "/users/{id}", tag = "users", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = UserUpdate,
    responses((status = 200, body = UserView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_user(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<UserUpdate>,
) -> Result<Json<UserView>> {
    require_admin(&who)?;
    if let Some(n) = &up.display_name {
        check_display_name(n)?;
    }
    if let Some(p) = &up.password {
        check_password(p)?;
    }
    if up.disabled == Some(true) && id == who.user_id {
        return Err(Error::invalid(
            "disabled",
            "you cannot disable your own account",
        ));
    }
    let before = user_view(&state, id).await?;
    let hash = match up.password.clone() {
        Some(p) => Some(
            tokio::task::spawn_blocking(move || hash_password(&p))
                .await
                .map_err(|_| Error::internal())?,
        ),
        None => None,
    };
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let mut changes = serde_json::Map::new();
    if let Some(n) = &up.display_name {
        sqlx::query("UPDATE users SET display_name = $1 WHERE id = $2")
            .bind(n.trim())
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert(
            "display_name".into(),
            serde_json::json!([before.display_name, n.trim()]),
        );
    }
    if let Some(h) = hash {
        sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(h)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("password".into(), serde_json::json!("changed"));
    }
    if let Some(disabled) = up.disabled {
        sqlx::query("UPDATE users SET disabled_at = $1 WHERE id = $2")
            .bind(disabled.then_some(now))
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert(
            "disabled".into(),
            serde_json::json!([before.disabled_at.is_some(), disabled]),
        );
    }
    if up.reset_second_factor == Some(true) {
        crate::services::totp::clear(&mut tx, id).await?;
        changes.insert("second_factor".into(), serde_json::json!("reset"));
    }
    if up.password.is_some() || up.disabled == Some(true) || up.reset_second_factor == Some(true) {
        crate::services::sessions::revoke_all_but(&mut tx, id, None).await?;
    }
    tx.audit(
        "user.update",
        "user",
        id,
        serde_json::Value::Object(changes),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(user_view(&state, id).await?))
}
