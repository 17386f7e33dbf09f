//! Web Push subscriptions (#15): the doctor's browser asks for the hub's public key, subscribes
//! at its push service with it, and gives the hub what it got. `services::push` sends the rings.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, ErrorKind, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::auth::Principal;
use crate::domain::Role;
use crate::services::push::{self, NewSubscription, SubscriptionView};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(push_key))
        .routes(routes!(subscribe))
        .routes(routes!(unsubscribe))
}

#[derive(Serialize, ToSchema)]
pub struct PushKey {
    /// The hub's VAPID public key (`applicationServerKey`, base64url); none when the
    /// association has not configured Web Push.
    pub public_key: Option<String>,
}

/// The key a browser subscribes with, if this hub sends Web Push.
#[utoipa::path(get, path = "/push/key", tag = "push", security(("bearer" = [])),
    responses((status = 200, body = PushKey)))]
async fn push_key(State(state): State<Hub>, _who: Principal) -> Json<PushKey> {
    Json(PushKey {
        public_key: state.config.push.as_ref().map(|v| v.public_key()),
    })
}

/// Record this browser's push subscription for the doctor logged in on it (a browser that
/// subscribed under another account moves to this one).
#[utoipa::path(post, path = "/push/subscriptions", tag = "push", security(("bearer" = [])),
    request_body = NewSubscription,
    responses((status = 201, body = SubscriptionView), (status = 403, body = ErrorBody),
        (status = 409, description = "this hub sends no Web Push (reason `push_off`)", body = ErrorBody),
        (status = 422, body = ErrorBody)))]
async fn subscribe(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(s): ApiJson<NewSubscription>,
) -> Result<(StatusCode, Json<SubscriptionView>)> {
    if who.role != Role::Doctor {
        return Err(Error::forbidden("visits ring doctors' phones only"));
    }
    if state.config.push.is_none() {
        return Err(Error::new(
            ErrorKind::Conflict,
            "push_off",
            "this hub sends no Web Push: the association has configured no VAPID key",
        ));
    }
    let view = push::subscribe(&state.db, &who, state.config.nursing.outbound, s).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Remove one of one's subscriptions (at logout, or alerts turned off).
#[utoipa::path(delete, path = "/push/subscriptions/{id}", tag = "push", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)))]
async fn unsubscribe(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<StatusCode> {
    push::unsubscribe(&state.db, &who, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
