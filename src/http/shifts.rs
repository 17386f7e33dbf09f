//! On-call shifts and the association's sectors.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::domain::Role;
use crate::services::shifts::{self, NewShift, RosterChange, ShiftView};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_shifts, add_shift))
        .routes(routes!(change_shift, remove_shift))
        .routes(routes!(copy_week))
        .routes(routes!(import_roster))
        .routes(routes!(list_sectors))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ShiftQuery {
    /// Only shifts running at this instant.
    pub at: Option<Ts>,
    /// Only shifts ending after this instant (default: now).
    pub from: Option<Ts>,
    /// Only shifts starting before this instant (a week view: `from` Monday, `to` next Monday).
    pub to: Option<Ts>,
    /// One doctor's (staff; a doctor always sees his own).
    pub doctor_id: Option<i64>,
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
        Role::Admin | Role::Dispatcher => q.doctor_id,
        Role::Doctor => Some(who.user_id),
        _ => {
            return Err(Error::forbidden(
                "shifts are for the association's staff and doctors",
            ))
        }
    };
    let (from, to) = match q.at {
        // Running at `at`: ends after it, starts at or before it.
        Some(at) => (Some(at), Some(at.plus(chrono::Duration::microseconds(1)))),
        None => (Some(q.from.unwrap_or_else(Ts::now)), q.to),
    };
    Ok(Json(shifts::list(&state.db, from, to, doctor).await?))
}

/// Put a doctor on call (staff). A shift overlapping another of the same doctor: 409.
#[utoipa::path(post, path = "/shifts", tag = "shifts", security(("bearer" = [])),
    request_body = NewShift,
    responses((status = 201, body = ShiftView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_shift(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewShift>,
) -> Result<(StatusCode, Json<ShiftView>)> {
    let view = shifts::create(&state.db, &who, new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Change a shift: its doctor, times and sector (staff).
#[utoipa::path(put, path = "/shifts/{id}", tag = "shifts", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NewShift,
    responses((status = 200, body = ShiftView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn change_shift(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(new): ApiJson<NewShift>,
) -> Result<Json<ShiftView>> {
    Ok(Json(shifts::update(&state.db, &who, id, new).await?))
}

/// Remove a shift (staff).
#[utoipa::path(delete, path = "/shifts/{id}", tag = "shifts", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn remove_shift(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    shifts::delete(&state.db, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CopyWeek {
    /// The start of the week copied (Monday 00:00, Paris time, as UTC).
    pub from: Ts,
    /// The start of the week it is copied to.
    pub to: Ts,
}

/// Copy a week's shifts onto another week (staff), same weekdays and hours; a doctor already
/// on call at that time keeps his shift and the copy is skipped.
#[utoipa::path(post, path = "/shifts/copy", tag = "shifts", security(("bearer" = [])),
    request_body = CopyWeek,
    responses((status = 200, body = RosterChange), (status = 422, body = ErrorBody)))]
async fn copy_week(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(req): ApiJson<CopyWeek>,
) -> Result<Json<RosterChange>> {
    Ok(Json(
        shifts::copy_week(&state.db, &who, req.from, req.to).await?,
    ))
}

/// Import shifts from a CSV (staff): `medecin;debut;fin;secteur`, Paris times. All or nothing:
/// a wrong line is named and nothing is written.
#[utoipa::path(post, path = "/shifts/import", tag = "shifts", security(("bearer" = [])),
    request_body(content = String, content_type = "text/csv"),
    responses((status = 200, body = RosterChange), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn import_roster(
    State(state): State<Hub>,
    who: Principal,
    body: axum::body::Bytes,
) -> Result<Json<RosterChange>> {
    let text = std::str::from_utf8(&body).map_err(|_| {
        Error::invalid(
            "body",
            "the roster is read as UTF-8 text (save the sheet as CSV UTF-8)",
        )
    })?;
    Ok(Json(shifts::import_csv(&state.db, &who, text).await?))
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
