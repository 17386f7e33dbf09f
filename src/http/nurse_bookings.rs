//! Booking a partner nurse, the association's side: the act catalogue, the partner networks
//! (registered by an admin), a visit's bookings (made by its doctor or an assistant for him),
//! cancelling, answering a proposed time, and the callback URL networks report to.
//!
//! The requests to networks go out through the outbox (`crate::nursing::client`); these
//! handlers only record what people ask and answer with the booking as it stands.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{bearer_header, idempotency_key, ApiJson, ApiPath, ApiQuery};
use super::users::require_admin;
use super::Hub;
use crate::auth::Principal;
use crate::domain::nursing::{parse_act, parse_acts, Area, ACTS};
use crate::domain::{Role, VisitStatus};
use crate::nursing::client::{self, NewBooking, NurseBookingView};
use crate::nursing::outbound::Outbound;
use crate::nursing::Nursing;
use crate::services::views::Named;
use crate::services::visits::visible_visit;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_acts))
        .routes(routes!(list_partner_networks, create_partner_network))
        .routes(routes!(update_network))
        .routes(routes!(suitable_networks))
        .routes(routes!(create_booking, visit_bookings))
        .routes(routes!(active_bookings))
        .routes(routes!(cancel_booking))
        .routes(routes!(answer_proposal))
        .routes(routes!(callback))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct Act {
    pub code: &'static str,
    pub label: &'static str,
}

#[utoipa::path(get, path = "/nurse-acts", tag = "nurse bookings", security(("bearer" = [])),
    responses((status = 200, body = Vec<Act>)))]
async fn list_acts(_who: Principal) -> Json<Vec<Act>> {
    Json(
        ACTS.iter()
            .map(|(code, label)| Act { code, label })
            .collect(),
    )
}

// --- Partner networks ------------------------------------------------------------------------------

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct PartnerNetworkRow {
    id: i64,
    name: String,
    base_url: String,
    acts: String,
    area: Option<String>,
    priority: i64,
    disabled_at: Option<crate::store::Ts>,
    created_at: crate::store::Ts,
}

/// A nurse network this association books with. Its API key is never sent back.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PartnerNetwork {
    pub id: i64,
    pub name: String,
    /// The FHIR base of its partner API.
    pub base_url: String,
    pub acts: Vec<String>,
    pub area: Option<Area>,
    /// Lower is tried first.
    pub priority: i64,
    pub active: bool,
    pub has_api_key: bool,
    pub created_at: crate::store::Ts,
}

impl From<PartnerNetworkRow> for PartnerNetwork {
    fn from(r: PartnerNetworkRow) -> Self {
        PartnerNetwork {
            id: r.id,
            name: r.name,
            base_url: r.base_url,
            acts: serde_json::from_str(&r.acts).unwrap_or_default(),
            area: r.area.and_then(|a| serde_json::from_str(&a).ok()),
            priority: r.priority,
            active: r.disabled_at.is_none(),
            has_api_key: true,
            created_at: r.created_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkInput {
    #[schema(max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub base_url: String,
    /// Required when registering; kept when absent on an update.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub api_key: Option<String>,
    pub acts: Vec<String>,
    #[serde(default)]
    pub area: Option<Area>,
    #[serde(default)]
    pub priority: Option<i64>,
    #[serde(default)]
    pub active: Option<bool>,
}

struct CheckedNetwork {
    name: String,
    base_url: String,
    api_key: Option<String>,
    acts: String,
    area: Option<String>,
    priority: i64,
}

fn check_network(n: NetworkInput, outbound: &Outbound) -> Result<CheckedNetwork> {
    let name = n.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(
            Error::invalid("name", "give the network's name (at most 200 characters)")
                .because(Reason::Length)
                .within(None, Some(200.0)),
        );
    }
    let base_url = n.base_url.trim().trim_end_matches('/').to_owned();
    if let Err(why) = outbound.check(&base_url) {
        return Err(Error::invalid(
            "base_url",
            format!("the FHIR base of the network's partner API: {why}"),
        )
        .because(Reason::Format));
    }
    let api_key = match n.api_key.map(|k| k.trim().to_owned()) {
        Some(k) if k.is_empty() => None,
        Some(k) if k.len() > 500 || !k.bytes().all(|b| b.is_ascii_graphic()) => {
            return Err(
                Error::invalid("api_key", "must be visible ASCII, at most 500 characters")
                    .because(Reason::Length)
                    .within(None, Some(500.0)),
            )
        }
        k => k,
    };
    let acts = parse_acts(&n.acts).map_err(|e| Error::from(e).with_field("acts"))?;
    if acts.is_empty() {
        return Err(Error::invalid("acts", "give at least one act").because(Reason::Required));
    }
    let priority = n.priority.unwrap_or(100);
    if !(0..=10_000).contains(&priority) {
        return Err(Error::invalid("priority", "must be between 0 and 10000")
            .because(Reason::Range)
            .within(Some(0.0), Some(10000.0)));
    }
    Ok(CheckedNetwork {
        name,
        base_url,
        api_key,
        acts: serde_json::to_string(&acts).unwrap_or_default(),
        area: n
            .area
            .map(|a| serde_json::to_string(&a).unwrap_or_default()),
        priority,
    })
}

const NETWORK_SELECT: &str =
    "SELECT id, name, base_url, acts, area, priority, disabled_at, created_at FROM partner_networks";

async fn load_network(state: &Nursing, id: i64) -> Result<PartnerNetwork> {
    let row: PartnerNetworkRow = sqlx::query_as(&format!("{NETWORK_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| Error::not_found(format!("partner network {id}")))?;
    Ok(row.into())
}

fn require_booker_or_staff(who: &Principal) -> Result<()> {
    match who.role {
        Role::Admin | Role::Dispatcher | Role::Doctor | Role::Assistant => Ok(()),
        _ => Err(Error::forbidden(
            "partner networks are for the association's staff",
        )),
    }
}

#[utoipa::path(get, path = "/partner-networks", tag = "nurse bookings", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerNetwork>), (status = 403, body = ErrorBody)))]
async fn list_partner_networks(
    State(state): State<Nursing>,
    who: Principal,
) -> Result<Json<Vec<PartnerNetwork>>> {
    require_booker_or_staff(&who)?;
    let rows: Vec<PartnerNetworkRow> =
        sqlx::query_as(&format!("{NETWORK_SELECT} ORDER BY priority, id"))
            .fetch_all(state.db.pool())
            .await?;
    Ok(Json(rows.into_iter().map(Into::into).collect()))
}

#[utoipa::path(post, path = "/partner-networks", tag = "nurse bookings", security(("bearer" = [])),
    request_body = NetworkInput,
    responses((status = 201, body = PartnerNetwork), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_partner_network(
    State(state): State<Nursing>,
    who: Principal,
    ApiJson(input): ApiJson<NetworkInput>,
) -> Result<(StatusCode, Json<PartnerNetwork>)> {
    require_admin(&who)?;
    let active = input.active.unwrap_or(true);
    let n = check_network(input, &state.nursing.config.outbound)?;
    let api_key = n.api_key.clone().ok_or_else(|| {
        Error::invalid(
            "api_key",
            "give the API key the network issued to the association",
        )
        .because(Reason::Required)
    })?;
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO partner_networks (name, base_url, api_key, acts, area, priority, disabled_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(&n.name)
    .bind(&n.base_url)
    .bind(&api_key)
    .bind(&n.acts)
    .bind(&n.area)
    .bind(n.priority)
    .bind((!active).then_some(now))
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "partner_network.create",
        "partner_network",
        id,
        json!({"name": n.name, "base_url": n.base_url, "acts": n.acts, "area": n.area, "priority": n.priority}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(load_network(&state, id).await?)))
}

#[utoipa::path(put, path = "/partner-networks/{id}", tag = "nurse bookings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = NetworkInput,
    responses((status = 200, body = PartnerNetwork), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_network(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<NetworkInput>,
) -> Result<Json<PartnerNetwork>> {
    require_admin(&who)?;
    load_network(&state, id).await?;
    let active = input.active.unwrap_or(true);
    let n = check_network(input, &state.nursing.config.outbound)?;
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    sqlx::query(
        "UPDATE partner_networks SET name = $1, base_url = $2, api_key = COALESCE($3, api_key), acts = $4, \
         area = $5, priority = $6, disabled_at = CASE WHEN $7 = 1 THEN NULL ELSE COALESCE(disabled_at, $8) END \
         WHERE id = $9",
    )
    .bind(&n.name)
    .bind(&n.base_url)
    .bind(&n.api_key)
    .bind(&n.acts)
    .bind(&n.area)
    .bind(n.priority)
    .bind(active as i64)
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "partner_network.update",
        "partner_network",
        id,
        json!({"name": n.name, "base_url": n.base_url, "acts": n.acts, "area": n.area, "priority": n.priority,
               "active": active, "api_key_changed": n.api_key.is_some()}),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(load_network(&state, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SuitableQuery {
    pub visit_id: i64,
    pub act: String,
}

#[utoipa::path(get, path = "/partner-networks/suitable", tag = "nurse bookings", security(("bearer" = [])),
    params(SuitableQuery),
    responses((status = 200, body = Vec<Named>, description = "the networks a booking would be offered to, in order"),
        (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn suitable_networks(
    State(state): State<Nursing>,
    who: Principal,
    ApiQuery(q): ApiQuery<SuitableQuery>,
) -> Result<Json<Vec<Named>>> {
    require_booker_or_staff(&who)?;
    let act = parse_act(&q.act).map_err(|e| Error::from(e).with_field("act"))?;
    visible_visit(&state.db, &who, q.visit_id).await?;
    let mut conn = state.db.pool().acquire().await?;
    let (postcode, point) = client::visit_place(&mut conn, q.visit_id).await?;
    let networks = client::suitable(&mut conn, act, postcode.as_deref(), point).await?;
    Ok(Json(
        networks
            .into_iter()
            .map(|(id, name)| Named { id, name })
            .collect(),
    ))
}

// --- Bookings --------------------------------------------------------------------------------------

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BookingInput {
    /// An act code (`GET /nurse-acts`).
    #[schema(max_length = 64)]
    pub act: String,
    /// The nurse is wanted within this many minutes from now (15 to 1440; default 60).
    #[serde(default)]
    pub window_minutes: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Where the nurse reaches the prescriber (default: the doctor's phone).
    #[serde(default)]
    #[schema(max_length = 30)]
    pub callback_phone: Option<String>,
}

#[utoipa::path(post, path = "/visits/{id}/nurse-bookings", tag = "nurse bookings", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id"),
        ("Idempotency-Key" = String, Header, description = "made once per booking request, reused when retrying it")),
    request_body = BookingInput,
    responses((status = 201, body = NurseBookingView), (status = 200, body = NurseBookingView, description = "this key already made this booking"),
        (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_booking(
    State(state): State<Nursing>,
    who: Principal,
    headers: HeaderMap,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<BookingInput>,
) -> Result<(StatusCode, Json<NurseBookingView>)> {
    let visit = visible_visit(&state.db, &who, id).await?;
    let doctor_id = visit
        .doctor
        .as_ref()
        .map(|d| d.id)
        .ok_or_else(|| Error::conflict("this visit has no doctor yet").with_field("doctor"))?;
    let on_behalf = who.acts_for_doctor(doctor_id).ok_or_else(|| {
        Error::forbidden("the visit's doctor, or an assistant he delegated to, books a nurse")
    })?;
    if !matches!(
        visit.status,
        VisitStatus::OnSite | VisitStatus::Closed | VisitStatus::EnRoute
    ) {
        return Err(Error::conflict(format!(
            "a nurse is booked from the bedside: this visit is {}",
            visit.status
        ))
        .with_field("status"));
    }
    let key = idempotency_key(&headers)?;
    let act = parse_act(input.act.trim()).map_err(|e| Error::from(e).with_field("act"))?;
    let window_minutes = input.window_minutes.unwrap_or(60);
    if !(15..=1440).contains(&window_minutes) {
        return Err(
            Error::invalid("window_minutes", "must be between 15 and 1440 minutes")
                .because(Reason::Range)
                .within(Some(15.0), Some(1440.0)),
        );
    }
    let notes = input
        .notes
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if notes.as_ref().is_some_and(|n| n.chars().count() > 2000) {
        return Err(Error::invalid("notes", "at most 2000 characters")
            .because(Reason::Length)
            .within(None, Some(2000.0)));
    }
    let callback_phone = input
        .callback_phone
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    if callback_phone.as_ref().is_some_and(|p| {
        p.len() > 30
            || !p
                .chars()
                .all(|c| c.is_ascii_digit() || " +.-()".contains(c))
    }) {
        return Err(Error::invalid("callback_phone", "not a phone number").because(Reason::Format));
    }
    let mut actor = who.actor();
    actor.on_behalf_of = on_behalf;
    let (status, view) = client::create(
        &state,
        actor,
        NewBooking {
            visit_id: id,
            doctor_id,
            key,
            act,
            window_minutes,
            notes,
            callback_phone,
        },
    )
    .await?;
    Ok((super::outcome_status(status), Json(view)))
}

fn may_read_bookings(who: &Principal) -> Result<()> {
    match who.role {
        Role::Admin | Role::Dispatcher | Role::Doctor | Role::Assistant => Ok(()),
        _ => Err(Error::forbidden(
            "nurse bookings are for the association's staff and the visit's doctor",
        )),
    }
}

#[utoipa::path(get, path = "/visits/{id}/nurse-bookings", tag = "nurse bookings", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, body = Vec<NurseBookingView>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn visit_bookings(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<NurseBookingView>>> {
    may_read_bookings(&who)?;
    visible_visit(&state.db, &who, id).await?;
    Ok(Json(client::of_visit(&state, id).await?))
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ActiveQuery {
    /// `true` (the default): the bookings under way; `false`: also those settled in the last 24 hours.
    #[serde(default)]
    pub active: Option<bool>,
}

#[utoipa::path(get, path = "/nurse-bookings", tag = "nurse bookings", security(("bearer" = [])),
    params(ActiveQuery),
    responses((status = 200, body = Vec<NurseBookingView>), (status = 403, body = ErrorBody)))]
async fn active_bookings(
    State(state): State<Nursing>,
    who: Principal,
    ApiQuery(q): ApiQuery<ActiveQuery>,
) -> Result<Json<Vec<NurseBookingView>>> {
    may_read_bookings(&who)?;
    let doctors = match who.role {
        Role::Doctor => Some(vec![who.user_id]),
        Role::Assistant => Some(who.delegators.clone()),
        _ => None,
    };
    let settled_since = (q.active == Some(false))
        .then(|| crate::store::Ts::now().plus(chrono::Duration::hours(-24)));
    Ok(Json(
        client::active(&state, doctors.as_deref(), settled_since).await?,
    ))
}

/// A booking the person may change: the prescriber or an assistant for him.
async fn writable(
    state: &Nursing,
    who: &Principal,
    id: i64,
) -> Result<(NurseBookingView, Option<i64>)> {
    may_read_bookings(who)?;
    let b = client::view(state, id)
        .await
        .map_err(|_| Error::not_found(format!("nurse booking {id}")))?;
    visible_visit(&state.db, who, b.visit_id)
        .await
        .map_err(|_| Error::not_found(format!("nurse booking {id}")))?;
    let on_behalf = who.acts_for_doctor(b.doctor_id).ok_or_else(|| {
        Error::forbidden("the prescriber, or an assistant he delegated to, changes a booking")
    })?;
    Ok((b, on_behalf))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelInput {
    #[serde(default)]
    #[schema(max_length = 500)]
    pub reason: Option<String>,
}

#[utoipa::path(post, path = "/nurse-bookings/{id}/cancel", tag = "nurse bookings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = CancelInput, description = "optional"),
    responses((status = 200, body = NurseBookingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn cancel_booking(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    super::extract::ApiOptionalJson(input): super::extract::ApiOptionalJson<CancelInput>,
) -> Result<Json<NurseBookingView>> {
    let (_, on_behalf) = writable(&state, &who, id).await?;
    let mut actor = who.actor();
    actor.on_behalf_of = on_behalf;
    let reason = input
        .and_then(|i| i.reason)
        .map(|r| r.chars().take(500).collect());
    Ok(Json(client::cancel(&state, actor, id, reason).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalAnswer {
    pub accept: bool,
}

#[utoipa::path(post, path = "/nurse-bookings/{id}/proposal", tag = "nurse bookings", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProposalAnswer,
    responses((status = 200, body = NurseBookingView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn answer_proposal(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ProposalAnswer>,
) -> Result<Json<NurseBookingView>> {
    let (_, on_behalf) = writable(&state, &who, id).await?;
    let mut actor = who.actor();
    actor.on_behalf_of = on_behalf;
    Ok(Json(
        client::answer_proposal(&state, actor, id, input.accept).await?,
    ))
}

// --- Callbacks -------------------------------------------------------------------------------------

/// What a callback did.
#[derive(Debug, Serialize, ToSchema)]
pub struct CallbackAnswer {
    /// `applied`, `unchanged` (not newer than what we know) or `duplicate` (this key was seen).
    pub status: &'static str,
}

/// Where a network reports a change of an appointment: the Appointment as it is now. The bearer
/// token is the booking's own secret, sent in the hold; the Idempotency-Key identifies the
/// callback (the same key twice is applied once).
#[utoipa::path(post, path = "/partner-callbacks/{booking}", tag = "partner API",
    params(("booking" = String, Path, description = "the booking's id (the ServiceRequest identifier)"),
        ("Idempotency-Key" = String, Header, description = "the callback's id, the same at every retry")),
    request_body(content = Object, description = "a FHIR R4 Appointment", content_type = "application/fhir+json"),
    responses((status = 200, body = CallbackAnswer), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn callback(
    State(state): State<Nursing>,
    headers: HeaderMap,
    ApiPath(booking): ApiPath<String>,
    body: axum::body::Bytes,
) -> Result<Json<CallbackAnswer>> {
    let token = bearer_header(&headers);
    let key = idempotency_key(&headers)?;
    let body: Value = super::extract::parse_json(&body)?;
    let status = client::receive_callback(&state, &booking, token.as_deref(), &key, &body).await?;
    Ok(Json(CallbackAnswer { status }))
}
