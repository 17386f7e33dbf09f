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
use crate::error::ErrorKind;
use crate::services::doctors::update_status;
use crate::services::views::{doctor_views, DoctorView};
use crate::store::{Audience, Ts};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_doctors))
        .routes(routes!(get_doctor))
        .routes(routes!(set_status))
        .routes(routes!(set_position))
        .routes(routes!(set_sharing))
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
    let all = doctor_views(state.db.pool(), None, state.config.position_stale_after).await?;
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
    doctor_views(state.db.pool(), Some(id), state.config.position_stale_after)
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
    /// The fix's precision as the phone gives it (radius in metres).
    #[serde(default)]
    pub accuracy_m: Option<f64>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingUpdate {
    /// true: the phone stops sharing its position (the board says so); false: it shares again.
    pub paused: bool,
}

/// Report a doctor's position (his phone does while he is on duty: every 30 s or 100 m). The hub
/// keeps the latest fix and pushes it to the board; fixes are not audited one by one (a
/// telemetry stream, not an action), pausing and resuming are.
#[utoipa::path(put, path = "/doctors/{id}/position", tag = "doctors", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PositionUpdate,
    responses((status = 200, body = DoctorView), (status = 404, body = ErrorBody),
        (status = 409, description = "sharing is paused (code `sharing_paused`): resume it first", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn set_position(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<PositionUpdate>,
) -> Result<Json<DoctorView>> {
    let on_behalf = check_access(&who, id)?;
    let pos =
        Coordinates::parse_named(up.lat, up.lon).map_err(|(f, e)| Error::from(e).with_field(f))?;
    let accuracy = match up.accuracy_m {
        Some(a) if !(a.is_finite() && a > 0.0 && a <= 100_000.0) => {
            return Err(
                Error::invalid("accuracy_m", "a radius in metres, above 0, at most 100 km")
                    .because(Reason::Range)
                    .within(Some(0.0), Some(100_000.0)),
            )
        }
        a => a,
    };
    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let at = up.at.unwrap_or(tx.now());
    if at > tx.now().plus(chrono::Duration::minutes(5)) {
        return Err(
            Error::invalid("at", "a position cannot be dated in the future").because(Reason::Range),
        );
    }
    let done = sqlx::query(
        "UPDATE doctors SET lat = $1, lon = $2, position_at = $3, position_accuracy_m = $4 \
         WHERE user_id = $5 AND sharing_paused_at IS NULL AND (position_at IS NULL OR position_at < $3)",
    )
    .bind(pos.lat)
    .bind(pos.lon)
    .bind(at)
    .bind(accuracy)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() > 0 {
        publish_position(
            &mut tx,
            &state,
            id,
            Some((pos.lat, pos.lon, at, accuracy)),
            None,
        );
        tx.commit().await?;
    } else {
        drop(tx);
        // No such doctor, sharing paused, or an older fix than the one stored (nothing to do).
        let view = one_doctor(&state, id).await?;
        if view.sharing_paused_at.is_some() {
            return Err(Error::new(
                ErrorKind::Conflict,
                "sharing_paused",
                "this doctor paused sharing his position: resume it first",
            ));
        }
        return Ok(Json(view));
    }
    one_doctor(&state, id).await.map(Json)
}

/// The `doctor.position` event: the latest fix (or none) and whether sharing is paused.
fn publish_position(
    tx: &mut crate::store::WriteTx,
    state: &Hub,
    id: i64,
    fix: Option<(f64, f64, Ts, Option<f64>)>,
    paused: Option<Ts>,
) {
    let fix = fix.map(|(lat, lon, at, accuracy_m)| {
        serde_json::json!({"lat": lat, "lon": lon, "at": at, "accuracy_m": accuracy_m,
            "stale_at": at.plus(state.config.position_stale_after)})
    });
    tx.publish(
        crate::store::EventKind::DoctorPosition,
        serde_json::json!({"doctor_id": id, "position": fix, "sharing_paused_at": paused}),
        Audience {
            doctor_id: Some(id),
            ..Default::default()
        },
    );
}

/// Pause or resume sharing the phone's position: the doctor himself (his phone, his choice).
/// Paused, the board shows his last fix as old and dispatch weighs it as uncertain.
#[utoipa::path(put, path = "/doctors/{id}/sharing", tag = "doctors", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = SharingUpdate,
    responses((status = 200, body = DoctorView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn set_sharing(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<SharingUpdate>,
) -> Result<Json<DoctorView>> {
    check_access(&who, id)?;
    if !(who.role == Role::Doctor && who.user_id == id) {
        return Err(Error::forbidden(
            "only the doctor himself shares or stops sharing his phone's position",
        ));
    }
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    sqlx::query(
        "UPDATE doctors SET sharing_paused_at = CASE WHEN $1 = 1 THEN COALESCE(sharing_paused_at, $2) ELSE NULL END \
         WHERE user_id = $3",
    )
    .bind(i64::from(up.paused))
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        if up.paused {
            "doctor.sharing_paused"
        } else {
            "doctor.sharing_resumed"
        },
        "doctor",
        id,
        serde_json::json!({}),
    )
    .await?;
    let view = doctor_views(tx.conn(), Some(id), state.config.position_stale_after)
        .await?
        .pop()
        .ok_or_else(|| Error::not_found(format!("doctor {id}")))?;
    let fix = view
        .position
        .as_ref()
        .map(|p| (p.lat, p.lon, p.at, p.accuracy_m));
    publish_position(&mut tx, &state, id, fix, view.sharing_paused_at);
    tx.commit().await?;
    Ok(Json(view))
}
