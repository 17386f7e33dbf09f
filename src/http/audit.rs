//! The audit trail, for admins: every write, who made it, for whom, when, and what changed.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ErrorBody, Result};
use super::extract::ApiQuery;
use super::users::require_admin;
use super::Hub;
use crate::auth::Principal;
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(read_audit))
}

#[derive(Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Ts,
    /// None: the system (command line, demo seeding).
    pub actor_id: Option<i64>,
    pub actor_name: Option<String>,
    pub on_behalf_of: Option<i64>,
    pub on_behalf_of_name: Option<String>,
    /// e.g. `visit.assign`, `user.create`, `session.login`.
    pub action: String,
    pub entity_type: String,
    pub entity_id: i64,
    #[schema(value_type = Object)]
    pub changes: serde_json::Value,
}

#[derive(sqlx::FromRow)]
struct AuditRow {
    id: i64,
    at: Ts,
    actor_id: Option<i64>,
    actor_name: Option<String>,
    on_behalf_of: Option<i64>,
    on_behalf_of_name: Option<String>,
    action: String,
    entity_type: String,
    entity_id: i64,
    changes: String,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    pub entity_type: Option<String>,
    pub entity_id: Option<i64>,
    pub actor_id: Option<i64>,
    /// Action name, e.g. `visit.assign`.
    pub action: Option<String>,
    /// Only entries with an id below this one (to page backwards).
    pub before_id: Option<i64>,
    /// Default 100, at most 1000.
    pub limit: Option<i64>,
}

/// Read the audit trail, newest first (admins).
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(AuditQuery),
    responses((status = 200, body = Vec<AuditEntry>), (status = 403, body = ErrorBody)))]
async fn read_audit(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<AuditQuery>,
) -> Result<Json<Vec<AuditEntry>>> {
    require_admin(&who)?;
    let rows: Vec<AuditRow> = sqlx::query_as(
        "SELECT a.id, a.at, a.actor_id, u.display_name AS actor_name, a.on_behalf_of, \
         b.display_name AS on_behalf_of_name, a.action, a.entity_type, a.entity_id, a.changes \
         FROM audit_log a LEFT JOIN users u ON u.id = a.actor_id LEFT JOIN users b ON b.id = a.on_behalf_of \
         WHERE (a.entity_type = $1 OR $1 IS NULL) AND (a.entity_id = $2 OR $2 IS NULL) \
         AND (a.actor_id = $3 OR $3 IS NULL) AND (a.action = $4 OR $4 IS NULL) AND (a.id < $5 OR $5 IS NULL) \
         ORDER BY a.id DESC LIMIT $6",
    )
    .bind(q.entity_type)
    .bind(q.entity_id)
    .bind(q.actor_id)
    .bind(q.action)
    .bind(q.before_id)
    .bind(q.limit.unwrap_or(100).clamp(1, 1000))
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(
        rows.into_iter()
            .map(|r| AuditEntry {
                id: r.id,
                at: r.at,
                actor_id: r.actor_id,
                actor_name: r.actor_name,
                on_behalf_of: r.on_behalf_of,
                on_behalf_of_name: r.on_behalf_of_name,
                action: r.action,
                entity_type: r.entity_type,
                entity_id: r.entity_id,
                changes: serde_json::from_str(&r.changes).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}
