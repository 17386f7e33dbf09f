//! Doctors on the board: live status, last known position, shift and queue.

use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::auth::Principal;
use crate::domain::{Coordinates, DoctorStatus, Role};
use crate::services::doctors::update_status;
use crate::services::views::{doctor_views, DoctorView};
use crate::store::{Audience, Ts};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_doctors))
        .routes(routes!(get_doctor))
        .routes(routes!(set_status))
        .routes(routes!(set_position))
}

/// Who may see or update doctor `id`: staff, the doctor himself, his assistants.
fn check_access(who: &Principal, id: i64) -> Result<Option<i64>> {
    if who.is_staff() {
        return Ok(None);
    }
    who.acts_for_doctor(id)
        .ok_or_else(|| Error::not_found(format!("doctor {id}")))
}

/// The doctors with their live state: all for staff; himself for a doctor; the doctors she acts
/// for for an assistant.
#[utoipa::path(get, path = "/doctors", tag = "doctors", security(("bearer" = [])),
    responses((status = 200, body = Vec<DoctorView>), (status = 403, body = ErrorBody)))]
async fn list_doctors(State(state): State<Hub>, who: Principal) -> Result<Json<Vec<DoctorView>>> {
    let all = doctor_views(state.db.pool(), None).await?;
    let visible = match who.role {
        Role::Admin | Role::Dispatcher => all,
        Role::Doctor | Role::Assistant => all
            .into_iter()
            .filter(|d| who.acts_for_doctor(d.id).is_some())
            .collect(),
        _ => {
            return Err(Error::forbidden(
                "the doctors' board is for the association's staff",
            ))
        }
    };
    Ok(Json(visible))
}

#[utoipa::path(get, path = "/doctors/{id}", tag = "doctors", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = DoctorView), (status = 404, body = ErrorBody)))]
async fn get_doctor(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DoctorView>> {
    check_access(&who, id)?;
    one_doctor(&state, id).await.map(Json)
}

async fn one_doctor(state: &Hub, id: i64) -> Result<DoctorView> {
    doctor_views(state.db.pool(), Some(id))
        .await?
        .pop()
        .ok_or_else(|| Error::not_found(format!("doctor {id}")))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusUpdate {
    pub status: DoctorStatus,
}

/// Set a doctor's status (the doctor, his assistant, or staff).
#[utoipa::path(put, path = "/doctors/{id}/status", tag = "doctors", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = StatusUpdate,
    responses((status = 200, body = DoctorView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_status(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<StatusUpdate>,
) -> Result<Json<DoctorView>> {
    let on_behalf = check_access(&who, id)?;
    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    if !update_status(&mut tx, id, up.status).await? {
        return Err(Error::not_found(format!("doctor {id}")));
    }
    tx.commit().await?;
    one_doctor(&state, id).await.map(Json)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PositionUpdate {
    pub lat: f64,
    pub lon: f64,
    /// When the position was taken (defaults to now). Older than the stored one: ignored.
    #[serde(default)]
    pub at: Option<Ts>,
}

/// Report a doctor's position (his phone does, every minute or so on the road).
#[utoipa::path(put, path = "/doctors/{id}/position", tag = "doctors", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PositionUpdate,
    responses((status = 200, body = DoctorView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_position(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<PositionUpdate>,
) -> Result<Json<DoctorView>> {
    let on_behalf = check_access(&who, id)?;
    let pos =
        Coordinates::parse_named(up.lat, up.lon).map_err(|(f, e)| Error::from(e).with_field(f))?;
    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let at = up.at.unwrap_or(tx.now());
    if at > tx.now().plus(chrono::Duration::minutes(5)) {
        return Err(
            Error::invalid("at", "a position cannot be dated in the future").because(Reason::Range),
        );
    }
    let done = sqlx::query(
        "UPDATE doctors SET lat = $1, lon = $2, position_at = $3 \
         WHERE user_id = $4 AND (position_at IS NULL OR position_at < $3)",
    )
    .bind(pos.lat)
    .bind(pos.lon)
    .bind(at)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() > 0 {
        tx.audit(
            "doctor.position",
            "doctor",
            id,
            serde_json::json!({"lat": pos.lat, "lon": pos.lon, "at": at}),
        )
        .await?;
        tx.publish(
            crate::store::EventKind::DoctorPosition,
            serde_json::json!({"doctor_id": id, "lat": pos.lat, "lon": pos.lon, "at": at}),
            Audience {
                doctor_id: Some(id),
                ..Default::default()
            },
        );
        tx.commit().await?;
    } else {
        drop(tx);
        // Either no such doctor, or an older fix than the one stored: nothing to do for the latter.
        one_doctor(&state, id).await?;
    }
    one_doctor(&state, id).await.map(Json)
}
