//! Auto-dispatch over HTTP: its mode (read by staff, switched by an admin or a dispatcher), a pass
//! on demand, and the road network in use.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::ApiJson;
use super::Hub;
use crate::auth::Principal;
use crate::autodispatch::{self, Mode, PassOutcome};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(run_pass))
}

#[derive(Serialize, ToSchema)]
pub struct RoadInfo {
    pub source: String,
    pub nodes: i64,
    pub edges: i64,
    pub imported_at: Ts,
}

#[derive(Serialize, ToSchema)]
pub struct DispatchSettings {
    /// off, propose (the board shows the engine's choice) or apply (the engine assigns).
    pub mode: Mode,
    pub updated_at: Option<Ts>,
    /// The road network travel times come from; none: crow-flight model with speeds by hour.
    pub roads: Option<RoadInfo>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsRequest {
    pub mode: Mode,
}

async fn current(state: &Hub) -> Result<DispatchSettings> {
    let (mode, _, updated_at) = autodispatch::settings(&state.db).await?;
    let roads: Option<(String, i64, i64, Ts)> = sqlx::query_as(
        "SELECT source, nodes, edges, imported_at FROM road_networks ORDER BY id DESC LIMIT 1",
    )
    .fetch_optional(state.db.pool())
    .await?;
    Ok(DispatchSettings {
        mode,
        updated_at,
        roads: roads.map(|(source, nodes, edges, imported_at)| RoadInfo {
            source,
            nodes,
            edges,
            imported_at,
        }),
    })
}

/// Auto-dispatch's mode and the road network in use (staff).
#[utoipa::path(get, path = "/dispatch/settings", tag = "dispatch", security(("bearer" = [])),
    responses((status = 200, body = DispatchSettings), (status = 403, body = ErrorBody)))]
async fn get_settings(State(state): State<Hub>, who: Principal) -> Result<Json<DispatchSettings>> {
    if !who.is_staff() {
        return Err(Error::forbidden(
            "dispatch settings are for the call centre",
        ));
    }
    Ok(Json(current(&state).await?))
}

/// Switch auto-dispatch: off, propose or apply (admin or dispatcher; audited).
#[utoipa::path(put, path = "/dispatch/settings", tag = "dispatch", security(("bearer" = [])),
    request_body = SettingsRequest,
    responses((status = 200, body = DispatchSettings), (status = 403, body = ErrorBody)))]
async fn put_settings(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(req): ApiJson<SettingsRequest>,
) -> Result<Json<DispatchSettings>> {
    if !who.is_staff() {
        return Err(Error::forbidden(
            "only the call centre switches auto-dispatch",
        ));
    }
    autodispatch::set_mode(&state.db, &who, req.mode).await?;
    // The first pass runs now rather than at the next change.
    autodispatch::pass(&state.db, &state.roads, state.config.position_stale_after).await?;
    Ok(Json(current(&state).await?))
}

/// Run an auto-dispatch pass now (staff); it also runs by itself after every change.
#[utoipa::path(post, path = "/dispatch/pass", tag = "dispatch", security(("bearer" = [])),
    responses((status = 200, body = PassOutcome), (status = 403, body = ErrorBody)))]
async fn run_pass(State(state): State<Hub>, who: Principal) -> Result<Json<PassOutcome>> {
    if !who.is_staff() {
        return Err(Error::forbidden("dispatch is for the call centre"));
    }
    Ok(Json(
        autodispatch::pass(&state.db, &state.roads, state.config.position_stale_after).await?,
    ))
}
