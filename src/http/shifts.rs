//! On-call shifts and the association's sectors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiJson, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::domain::Role;
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_shifts, add_shift))
        .routes(routes!(list_sectors))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct ShiftView {
    pub id: i64,
    pub doctor_id: i64,
    pub doctor_name: String,
    pub starts_at: Ts,
    pub ends_at: Ts,
    pub sector_id: Option<i64>,
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShiftQuery {
    /// Only shifts running at this instant.
    pub at: Option<Ts>,
    /// Only shifts ending after this instant (default: now).
    pub from: Option<Ts>,
}

/// Shifts ending from now on (or as asked): all for staff, his own for a doctor.
#[utoipa::path(get, path = "/shifts", tag = "shifts", security(("bearer" = [])),
    params(ShiftQuery),
    responses((status = 200, body = Vec<ShiftView>)))]
async fn list_shifts(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<ShiftQuery>,
) -> Result<Json<Vec<ShiftView>>> {
    let doctor = match who.role {
        Role::Admin | Role::Dispatcher => None,
        Role::Doctor => Some(who.user_id),
        _ => {
            return Err(Error::forbidden(
                "shifts are for the association's staff and doctors",
            ))
        }
    };
    let from = q.at.or(q.from).unwrap_or_else(Ts::now);
    let rows = sqlx::query_as(
        "SELECT s.id, s.doctor_id, u.display_name AS doctor_name, s.starts_at, s.ends_at, s.sector_id \
         FROM shifts s JOIN users u ON u.id = s.doctor_id \
         WHERE s.ends_at > $1 AND (s.starts_at <= $2 OR $2 IS NULL) AND (s.doctor_id = $3 OR $3 IS NULL) \
         ORDER BY s.starts_at, s.id LIMIT 2000",
    )
    .bind(from)
    .bind(q.at)
    .bind(doctor)
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(rows))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewShift {
    pub doctor_id: i64,
    pub starts_at: Ts,
    pub ends_at: Ts,
    #[serde(default)]
    pub sector_id: Option<i64>,
}

/// Put a doctor on call (staff).
#[utoipa::path(post, path = "/shifts", tag = "shifts", security(("bearer" = [])),
    request_body = NewShift,
    responses((status = 201, body = ShiftView), (status = 422, body = ErrorBody)))]
async fn add_shift(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewShift>,
) -> Result<(StatusCode, Json<ShiftView>)> {
    if !who.is_staff() {
        return Err(Error::forbidden("only the association's staff plan shifts"));
    }
    if new.ends_at <= new.starts_at {
        return Err(
            Error::invalid("ends_at", "a shift ends after it starts").because(Reason::Range)
        );
    }
    if new.ends_at.0 - new.starts_at.0 > chrono::Duration::hours(36) {
        return Err(Error::invalid("ends_at", "a shift lasts at most 36 hours")
            .because(Reason::Range)
            .within(None, Some(36.0)));
    }
    let is_doctor: Option<i64> =
        sqlx::query_scalar("SELECT user_id FROM doctors WHERE user_id = $1")
            .bind(new.doctor_id)
            .fetch_optional(state.db.pool())
            .await?;
    if is_doctor.is_none() {
        return Err(
            Error::invalid("doctor_id", format!("there is no doctor {}", new.doctor_id))
                .because(Reason::Unknown),
        );
    }
    let mut tx = state.db.write(who.actor()).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO shifts (doctor_id, starts_at, ends_at, sector_id, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(new.doctor_id)
    .bind(new.starts_at)
    .bind(new.ends_at)
    .bind(new.sector_id)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match Error::from(e) {
        err if err.code == "unknown_reference" => Error::invalid("sector_id", "no such sector").because(Reason::Unknown),
        err => err,
    })?;
    tx.audit(
        "shift.create",
        "shift",
        id,
        serde_json::json!({"doctor_id": new.doctor_id, "starts_at": new.starts_at, "ends_at": new.ends_at, "sector_id": new.sector_id}),
    )
    .await?;
    tx.commit().await?;
    let view = sqlx::query_as(
        "SELECT s.id, s.doctor_id, u.display_name AS doctor_name, s.starts_at, s.ends_at, s.sector_id \
         FROM shifts s JOIN users u ON u.id = s.doctor_id WHERE s.id = $1",
    )
    .bind(id)
    .fetch_one(state.db.pool())
    .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Serialize, ToSchema)]
pub struct SectorView {
    pub id: i64,
    pub name: String,
    /// GeoJSON geometry (Polygon or MultiPolygon), WGS84.
    #[schema(value_type = Object)]
    pub boundary: serde_json::Value,
}

/// The association's sectors, for the map (every signed-in person).
#[utoipa::path(get, path = "/sectors", tag = "shifts", security(("bearer" = [])),
    responses((status = 200, body = Vec<SectorView>)))]
async fn list_sectors(State(state): State<Hub>, _who: Principal) -> Result<Json<Vec<SectorView>>> {
    let rows: Vec<(i64, String, String)> =
        sqlx::query_as("SELECT id, name, boundary FROM sectors ORDER BY name")
            .fetch_all(state.db.pool())
            .await?;
    Ok(Json(
        rows.into_iter()
            .map(|(id, name, boundary)| SectorView {
                id,
                name,
                boundary: serde_json::from_str(&boundary).unwrap_or(serde_json::Value::Null),
            })
            .collect(),
    ))
}
