//! Delegations over HTTP (`services::delegations` holds the rules): a doctor (or an admin for
//! him) lets a named assistant act for him.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::auth::Principal;
use crate::services::delegations::{self, DelegationView, NewDelegation};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_delegations, grant))
        .routes(routes!(revoke))
        .routes(routes!(accept_delegation))
}

/// The doctor accepts a delegation an admin proposed for him; from then on the assistant may act
/// for him. Declining is ending it (`DELETE`).
#[utoipa::path(post, path = "/delegations/{id}/accept", tag = "delegations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = DelegationView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
async fn accept_delegation(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<DelegationView>> {
    Ok(Json(delegations::accept(&state.db, &who, id).await?))
}

/// Delegations in force: all for an admin, his own for a doctor, hers for an assistant.
#[utoipa::path(get, path = "/delegations", tag = "delegations", security(("bearer" = [])),
    responses((status = 200, body = Vec<DelegationView>)))]
async fn list_delegations(
    State(state): State<Hub>,
    who: Principal,
) -> Result<Json<Vec<DelegationView>>> {
    Ok(Json(delegations::in_force(&state.db, &who).await?))
}

/// Grant a doctor's rights to an assistant: by the doctor himself (in force at once), or proposed
/// by an admin (in force once the doctor accepts it).
#[utoipa::path(post, path = "/delegations", tag = "delegations", security(("bearer" = [])),
    request_body = NewDelegation,
    responses((status = 201, body = DelegationView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn grant(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewDelegation>,
) -> Result<(StatusCode, Json<DelegationView>)> {
    let view = delegations::grant(&state.db, &who, &new).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// End a delegation: by the doctor or an admin. The assistant loses access at once.
#[utoipa::path(delete, path = "/delegations/{id}", tag = "delegations", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn revoke(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    delegations::revoke(&state.db, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
