//! The partner API of a hub that hosts a nurse network, under `/api/partner/v1`: what an
//! association (a Chevet hub or other software) calls to book one of the network's nurses.
//! FHIR R4 shaped, on the IHE Scheduling pattern: `$hold` a request, then `$book` (confirm) it;
//! `GET` the Appointment to follow it, `$cancel` it, `$respond` to a time a nurse proposed.
//!
//! Authentication: `Authorization: Bearer <API key>` issued to the association by the network's
//! admin (`POST /api/v1/partner-clients`). Every POST needs an `Idempotency-Key`: a retry with the
//! same key gets the same answer, the same key with another body is refused (422
//! `idempotency_key_reused`). Changes are also pushed to the callback URL given in the hold.

use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::Value;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{bearer_header, idempotency_key, parse_json, ApiPath};
use super::Hub;
use crate::nursing::fhir;
use crate::nursing::network::{self, fingerprint, Call, Client, TWIN_WON};
use crate::nursing::Nursing;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(hold))
        .routes(routes!(read))
        .routes(routes!(book))
        .routes(routes!(cancel_appointment))
        .routes(routes!(respond))
}

async fn client(state: &Nursing, headers: &HeaderMap) -> Result<Client> {
    let key = bearer_header(headers)
        .ok_or_else(|| Error::unauthorized("send the association's API key as a Bearer token"))?;
    network::authenticate(state, &key)
        .await?
        .ok_or_else(|| Error::unauthorized("unknown or revoked API key"))
}

/// What every operation on an appointment starts with: the client, the request's key and
/// fingerprint, the appointment (the client's own, else 404).
async fn operation(
    state: &Nursing,
    headers: &HeaderMap,
    uri: &Uri,
    id: &str,
    body: &[u8],
) -> Result<(Client, String, String, network::Row)> {
    let client = client(state, headers).await?;
    let key = idempotency_key(headers)?;
    let hash = fingerprint("POST", uri.path(), body);
    let row = network::load_for(state, &client, id).await?;
    Ok((client, key, hash, row))
}

fn fhir_response(status: StatusCode, body: Value) -> Response {
    let location = body["id"]
        .as_str()
        .map(|id| format!("/api/partner/v1/Appointment/{id}"));
    let mut r = (
        status,
        [(header::CONTENT_TYPE, "application/fhir+json")],
        body.to_string(),
    )
        .into_response();
    if let Some(l) = location.and_then(|l| l.parse().ok()) {
        r.headers_mut().insert(header::LOCATION, l);
    }
    r
}

/// Runs an operation once per key: replays a stored answer, and when a concurrent twin with the
/// same key wins the store's uniqueness race, replays the twin's.
macro_rules! once_per_key {
    ($state:expr, $client:expr, $key:expr, $hash:expr, |$call:ident| $op:expr) => {{
        let mut result = None;
        for _ in 0..3 {
            if let Some((outcome, body)) = network::replay($state, $client, $key, $hash).await? {
                result = Some(Ok(fhir_response(super::outcome_status(outcome), body)));
                break;
            }
            let $call = Call {
                state: $state,
                client: $client,
                key: $key,
                hash: $hash.to_owned(),
            };
            match $op.await {
                Err(e) if e.code == TWIN_WON => continue,
                Err(e) => {
                    result = Some(Err(e));
                    break;
                }
                Ok((outcome, body)) => {
                    result = Some(Ok(fhir_response(super::outcome_status(outcome), body)));
                    break;
                }
            }
        }
        result.unwrap_or_else(|| {
            Err(Error::new(
                crate::error::ErrorKind::Conflict,
                TWIN_WON,
                "the same request is being processed: retry it",
            ))
        })
    }};
}

/// Holds a request for a nurse (IHE `$hold`). The body is a FHIR `Parameters` with
/// `service-request` (a ServiceRequest: act in `code` from
/// `https://chevet.fr/fhir/CodeSystem/nurse-act`, window in `occurrencePeriod`, the Patient and
/// the prescriber Practitioner contained), and optionally `callback-url` (valueUrl) and
/// `callback-token` (valueString, sent back as a Bearer token). Answers the held Appointment
/// (state `held` in the `booking-state` extension, until `hold-expires`), or 422 `not_covered`
/// when no nurse on duty does this act at this address.
#[utoipa::path(post, path = "/Appointment/$hold", tag = "partner API", security(("bearer" = [])),
    params(("Idempotency-Key" = String, Header, description = "made once per hold, reused when retrying it")),
    request_body(content = Object, description = "FHIR R4 Parameters", content_type = "application/fhir+json"),
    responses((status = 201, description = "the held FHIR Appointment", content_type = "application/fhir+json"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn hold(
    State(state): State<Nursing>,
    headers: HeaderMap,
    uri: Uri,
    body: axum::body::Bytes,
) -> Result<Response> {
    let client = client(&state, &headers).await?;
    let key = idempotency_key(&headers)?;
    let hash = fingerprint("POST", uri.path(), &body);
    let params: Value = parse_json(&body)?;
    let (request, callback) = fhir::read_hold(&params)?;
    if let Some(c) = &callback {
        if let Err(why) = state.nursing.config.outbound.check(&c.url) {
            return Err(
                Error::invalid("callback-url", format!("the callback URL: {why}"))
                    .because(crate::error::Reason::Format),
            );
        }
    }
    let service_request = params["parameter"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "service-request"))
        .map(|p| p["resource"].clone())
        .unwrap_or(Value::Null);
    once_per_key!(&state, &client, &key, &hash, |call| network::hold(
        &call,
        &request,
        callback.as_ref(),
        &service_request
    ))
}

/// The Appointment as it is now (for a client that polls).
#[utoipa::path(get, path = "/Appointment/{id}", tag = "partner API", security(("bearer" = [])),
    params(("id" = String, Path)),
    responses((status = 200, description = "the FHIR Appointment", content_type = "application/fhir+json"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn read(
    State(state): State<Nursing>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> Result<Response> {
    let client = client(&state, &headers).await?;
    let row = network::load_for(&state, &client, &id).await?;
    Ok(fhir_response(StatusCode::OK, row.resource()))
}

/// Confirms a hold (IHE `$book`): the request is offered to the network's nurses. 409
/// `hold_expired` when the hold lapsed (hold again), `cancelled` when it was withdrawn.
#[utoipa::path(post, path = "/Appointment/{id}/$book", tag = "partner API", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)),
    request_body(content = Object, description = "nothing needed: an empty body or {}"),
    responses((status = 200, description = "the FHIR Appointment, offered", content_type = "application/fhir+json"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn book(
    State(state): State<Nursing>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let (client, key, hash, row) = operation(&state, &headers, &uri, &id, &body).await?;
    once_per_key!(&state, &client, &key, &hash, |call| network::book(
        &call, &row
    ))
}

#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelParameters {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
    /// Cancel only if no nurse took it yet (else 409 `already_accepted`).
    #[serde(default)]
    pub unless_accepted: bool,
}

fn optional_body<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    parse_json(body)
}

/// Cancels the appointment (the nurse who took it is told).
#[utoipa::path(post, path = "/Appointment/{id}/$cancel", tag = "partner API", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = CancelParameters,
    responses((status = 200, description = "the FHIR Appointment, cancelled", content_type = "application/fhir+json"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_appointment(
    State(state): State<Nursing>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Response> {
    let p: CancelParameters = optional_body(&body)?;
    let reason = p.reason.unwrap_or_default();
    if reason.chars().count() > 500 {
        return Err(Error::invalid("reason", "at most 500 characters")
            .because(Reason::Length)
            .within(None, Some(500.0)));
    }
    let (client, key, hash, row) = operation(&state, &headers, &uri, &id, &body).await?;
    once_per_key!(&state, &client, &key, &hash, |call| network::cancel(
        &call,
        &row,
        &reason,
        p.unless_accepted
    ))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondParameters {
    /// Accept the time the nurse proposed (she comes then), or refuse it (the appointment is
    /// cancelled).
    pub accept: bool,
}

/// Answers a time a nurse proposed (state `proposed`).
#[utoipa::path(post, path = "/Appointment/{id}/$respond", tag = "partner API", security(("bearer" = [])),
    params(("id" = String, Path), ("Idempotency-Key" = String, Header)), request_body = RespondParameters,
    responses((status = 200, description = "the FHIR Appointment", content_type = "application/fhir+json"),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn respond(
    State(state): State<Nursing>,
    headers: HeaderMap,
    uri: Uri,
    ApiPath(id): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Response> {
    // The caller first: nothing of the body is read for someone without a key.
    let (client, key, hash, row) = operation(&state, &headers, &uri, &id, &body).await?;
    let p: RespondParameters = parse_json(&body)?;
    once_per_key!(&state, &client, &key, &hash, |call| network::respond(
        &call, &row, p.accept
    ))
}
