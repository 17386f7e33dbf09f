//! A hub that hosts a nurse network, its people's side: the admin's networks, the associations
//! allowed to book (partner clients and their API keys), each nurse's coverage, and the nurse's
//! inbox of requests — first to accept gets it, the others see it taken.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiJson, ApiOptionalJson, ApiPath};
use super::users::require_admin;
use super::Hub;
use crate::auth::{new_token, token_hash, Principal};
use crate::domain::nursing::{act_label, distance_km, parse_acts, Area};
use crate::domain::{AppointmentState, Role};
use crate::nursing::network::{self, coverages, NurseAction, Row};
use crate::nursing::Nursing;
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_nurse_networks, create_nurse_network))
        .routes(routes!(list_clients, create_client))
        .routes(routes!(revoke_client))
        .routes(routes!(my_coverage, set_my_coverage))
        .routes(routes!(nurse_coverage, set_nurse_coverage))
        .routes(routes!(offers))
        .routes(routes!(accept))
        .routes(routes!(decline))
        .routes(routes!(propose))
        .routes(routes!(done))
}

// --- Hosted networks and their clients --------------------------------------------------------------

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct NurseNetwork {
    pub id: i64,
    pub name: String,
    pub phone: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNurseNetwork {
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
}

#[utoipa::path(get, path = "/nurse-networks", tag = "nurse network", security(("bearer" = [])),
    responses((status = 200, body = Vec<NurseNetwork>), (status = 403, body = ErrorBody)))]
async fn list_nurse_networks(
    State(state): State<Nursing>,
    who: Principal,
) -> Result<Json<Vec<NurseNetwork>>> {
    require_admin(&who)?;
    Ok(Json(
        sqlx::query_as("SELECT id, name, phone FROM nurse_networks ORDER BY id")
            .fetch_all(state.db.pool())
            .await?,
    ))
}

#[utoipa::path(post, path = "/nurse-networks", tag = "nurse network", security(("bearer" = [])),
    request_body = NewNurseNetwork,
    responses((status = 201, body = NurseNetwork), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_nurse_network(
    State(state): State<Nursing>,
    who: Principal,
    ApiJson(n): ApiJson<NewNurseNetwork>,
) -> Result<(StatusCode, Json<NurseNetwork>)> {
    require_admin(&who)?;
    let name = n.name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(
            Error::invalid("name", "give the network's name (at most 200 characters)")
                .because(Reason::Length)
                .within(None, Some(200.0)),
        );
    }
    let phone = n
        .phone
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty());
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO nurse_networks (name, phone, created_at) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(&name)
    .bind(&phone)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "nurse_network.create",
        "nurse_network",
        id,
        json!({"name": name}),
    )
    .await?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(NurseNetwork { id, name, phone })))
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct PartnerClient {
    pub id: i64,
    pub name: String,
    pub network_id: i64,
    pub created_at: Ts,
    pub revoked_at: Option<Ts>,
}

/// A new client, with its API key: shown this once (only its hash is kept).
#[derive(Debug, Serialize, ToSchema)]
pub struct NewClientKey {
    #[serde(flatten)]
    pub client: PartnerClient,
    pub api_key: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPartnerClient {
    /// The association's name.
    #[schema(max_length = 200)]
    pub name: String,
    /// The network hosted here it books with.
    pub network_id: i64,
}

const CLIENT_SELECT: &str =
    "SELECT id, name, network_id, created_at, revoked_at FROM partner_clients";

#[utoipa::path(get, path = "/partner-clients", tag = "nurse network", security(("bearer" = [])),
    responses((status = 200, body = Vec<PartnerClient>), (status = 403, body = ErrorBody)))]
async fn list_clients(
    State(state): State<Nursing>,
    who: Principal,
) -> Result<Json<Vec<PartnerClient>>> {
    require_admin(&who)?;
    Ok(Json(
        sqlx::query_as(&format!("{CLIENT_SELECT} ORDER BY id"))
            .fetch_all(state.db.pool())
            .await?,
    ))
}

/// Makes a partner client and its API key.
pub async fn make_client(
    state: &Nursing,
    actor: crate::store::Actor,
    name: &str,
    network_id: i64,
) -> Result<NewClientKey> {
    let name = name.trim().to_owned();
    if name.is_empty() || name.len() > 200 {
        return Err(Error::invalid(
            "name",
            "give the association's name (at most 200 characters)",
        )
        .because(Reason::Length)
        .within(None, Some(200.0)));
    }
    let api_key = format!("chv_{}", new_token());
    let mut tx = state.db.write(actor).await?;
    let now = tx.now();
    let exists: Option<i64> = sqlx::query_scalar("SELECT id FROM nurse_networks WHERE id = $1")
        .bind(network_id)
        .fetch_optional(tx.conn())
        .await?;
    if exists.is_none() {
        return Err(
            Error::invalid("network_id", format!("no nurse network {network_id} here"))
                .because(Reason::Unknown),
        );
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO partner_clients (name, network_id, key_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
    )
    .bind(&name)
    .bind(network_id)
    .bind(token_hash(&api_key))
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "partner_client.create",
        "partner_client",
        id,
        json!({"name": name, "network_id": network_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(NewClientKey {
        client: PartnerClient {
            id,
            name,
            network_id,
            created_at: now,
            revoked_at: None,
        },
        api_key,
    })
}

#[utoipa::path(post, path = "/partner-clients", tag = "nurse network", security(("bearer" = [])),
    request_body = NewPartnerClient,
    responses((status = 201, body = NewClientKey), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn create_client(
    State(state): State<Nursing>,
    who: Principal,
    ApiJson(c): ApiJson<NewPartnerClient>,
) -> Result<(StatusCode, Json<NewClientKey>)> {
    require_admin(&who)?;
    Ok((
        StatusCode::CREATED,
        Json(make_client(&state, who.actor(), &c.name, c.network_id).await?),
    ))
}

#[utoipa::path(post, path = "/partner-clients/{id}/revoke", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = PartnerClient), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn revoke_client(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PartnerClient>> {
    require_admin(&who)?;
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE partner_clients SET revoked_at = COALESCE(revoked_at, $1) WHERE id = $2",
    )
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Err(Error::not_found(format!("partner client {id}")));
    }
    tx.audit("partner_client.revoke", "partner_client", id, json!({}))
        .await?;
    tx.commit().await?;
    Ok(Json(
        sqlx::query_as(&format!("{CLIENT_SELECT} WHERE id = $1"))
            .bind(id)
            .fetch_one(state.db.pool())
            .await?,
    ))
}

// --- Coverage ----------------------------------------------------------------------------------------

/// What a partner nurse does, where, and whether she takes requests now.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CoverageView {
    pub acts: Vec<String>,
    #[serde(default)]
    pub area: Option<Area>,
    pub on_duty: bool,
}

async fn read_coverage(state: &Nursing, user_id: i64) -> Result<CoverageView> {
    let row: Option<(String, Option<String>, Option<Ts>)> =
        sqlx::query_as("SELECT acts, area, on_duty_since FROM nurse_coverage WHERE user_id = $1")
            .bind(user_id)
            .fetch_optional(state.db.pool())
            .await?;
    Ok(match row {
        Some((acts, area, on_duty)) => CoverageView {
            acts: serde_json::from_str(&acts).unwrap_or_default(),
            area: area.and_then(|a| serde_json::from_str(&a).ok()),
            on_duty: on_duty.is_some(),
        },
        None => CoverageView {
            acts: Vec::new(),
            area: None,
            on_duty: false,
        },
    })
}

/// Writes a nurse's coverage.
pub async fn write_coverage(
    state: &Nursing,
    actor: crate::store::Actor,
    user_id: i64,
    c: CoverageView,
) -> Result<CoverageView> {
    let acts = parse_acts(&c.acts).map_err(|e| Error::from(e).with_field("acts"))?;
    let mut tx = state.db.write(actor).await?;
    let now = tx.now();
    sqlx::query(
        "INSERT INTO nurse_coverage (user_id, acts, area, on_duty_since, updated_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (user_id) DO UPDATE SET acts = $2, area = $3, \
         on_duty_since = CASE WHEN $4 IS NULL THEN NULL ELSE COALESCE(nurse_coverage.on_duty_since, $4) END, \
         updated_at = $5",
    )
    .bind(user_id)
    .bind(serde_json::to_string(&acts).unwrap_or_default())
    .bind(c.area.as_ref().map(|a| serde_json::to_string(a).unwrap_or_default()))
    .bind(c.on_duty.then_some(now.to_db()))
    .bind(now)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "nurse_coverage.update",
        "user",
        user_id,
        json!({"acts": acts, "area": c.area, "on_duty": c.on_duty}),
    )
    .await?;
    tx.commit().await?;
    read_coverage(state, user_id).await
}

fn require_nurse(who: &Principal) -> Result<i64> {
    match (who.role, who.network_id) {
        (Role::PartnerNurse, Some(n)) => Ok(n),
        _ => Err(Error::forbidden("this is a partner nurse's page")),
    }
}

#[utoipa::path(get, path = "/me/coverage", tag = "nurse network", security(("bearer" = [])),
    responses((status = 200, body = CoverageView), (status = 403, body = ErrorBody)))]
async fn my_coverage(State(state): State<Nursing>, who: Principal) -> Result<Json<CoverageView>> {
    require_nurse(&who)?;
    Ok(Json(read_coverage(&state, who.user_id).await?))
}

#[utoipa::path(put, path = "/me/coverage", tag = "nurse network", security(("bearer" = [])),
    request_body = CoverageView,
    responses((status = 200, body = CoverageView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_my_coverage(
    State(state): State<Nursing>,
    who: Principal,
    ApiJson(c): ApiJson<CoverageView>,
) -> Result<Json<CoverageView>> {
    require_nurse(&who)?;
    Ok(Json(
        write_coverage(&state, who.actor(), who.user_id, c).await?,
    ))
}

async fn partner_nurse(state: &Nursing, id: i64) -> Result<()> {
    let role: Option<String> = sqlx::query_scalar("SELECT role FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    match role.as_deref() {
        Some("partner_nurse") => Ok(()),
        _ => Err(Error::not_found(format!("partner nurse {id}"))),
    }
}

#[utoipa::path(get, path = "/nurses/{id}/coverage", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the nurse's user id")),
    responses((status = 200, body = CoverageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn nurse_coverage(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CoverageView>> {
    require_admin(&who)?;
    partner_nurse(&state, id).await?;
    Ok(Json(read_coverage(&state, id).await?))
}

#[utoipa::path(put, path = "/nurses/{id}/coverage", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the nurse's user id")), request_body = CoverageView,
    responses((status = 200, body = CoverageView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_nurse_coverage(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(c): ApiJson<CoverageView>,
) -> Result<Json<CoverageView>> {
    require_admin(&who)?;
    partner_nurse(&state, id).await?;
    Ok(Json(write_coverage(&state, who.actor(), id, c).await?))
}

// --- The nurse's inbox -------------------------------------------------------------------------------

/// A request as a partner nurse sees it. Who the patient is, where exactly, and the notes are
/// only for the nurse who took it (or proposed a time).
#[derive(Debug, Serialize, ToSchema)]
pub struct NurseOffer {
    pub id: i64,
    pub act: String,
    pub act_label: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub city: String,
    pub postcode: Option<String>,
    /// The association asking.
    pub client_name: String,
    /// offered, accepted, proposed, done (hers); taken (by another nurse); cancelled, declined.
    pub status: String,
    pub mine: bool,
    pub expected_at: Option<Ts>,
    pub proposed_at: Option<Ts>,
    /// From her coverage's centre, when both are known.
    pub distance_km: Option<f64>,
    pub created_at: Ts,
    #[schema(value_type = Option<Object>)]
    pub patient: Option<Value>,
    #[schema(value_type = Option<Object>)]
    pub prescriber: Option<Value>,
    pub notes: Option<String>,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

fn offer(row: &Row, nurse_id: i64, centre: Option<(f64, f64)>) -> NurseOffer {
    let mine = row.nurse_id == Some(nurse_id);
    let status = match row.status {
        AppointmentState::Accepted | AppointmentState::Proposed | AppointmentState::Done
            if !mine =>
        {
            "taken".to_owned()
        }
        AppointmentState::Expired => "cancelled".to_owned(),
        s => s.as_str().to_owned(),
    };
    let parse = |s: &str| serde_json::from_str::<Value>(s).ok();
    NurseOffer {
        id: row.id,
        act_label: act_label(&row.act).unwrap_or(&row.act).to_owned(),
        act: row.act.clone(),
        window_start: row.window_start,
        window_end: row.window_end,
        city: row.city.clone(),
        postcode: row.postcode.clone(),
        client_name: row.client_name.clone(),
        status,
        mine,
        expected_at: row.expected_at,
        proposed_at: row.proposed_at,
        distance_km: centre
            .zip(row.point())
            .map(|(a, b)| (distance_km(a, b) * 10.0).round() / 10.0),
        created_at: row.created_at,
        patient: if mine { parse(&row.patient) } else { None },
        prescriber: if mine { parse(&row.prescriber) } else { None },
        notes: if mine { row.notes.clone() } else { None },
        lat: if mine { row.lat } else { None },
        lon: if mine { row.lon } else { None },
    }
}

#[utoipa::path(get, path = "/nurse-offers", tag = "nurse network", security(("bearer" = [])),
    responses((status = 200, body = Vec<NurseOffer>), (status = 403, body = ErrorBody)))]
async fn offers(State(state): State<Nursing>, who: Principal) -> Result<Json<Vec<NurseOffer>>> {
    let network_id = require_nurse(&who)?;
    let since = Ts::now().plus(chrono::Duration::hours(-12));
    let rows = network::load_all(&state, network_id, since).await?;
    let mut conn = state.db.pool().acquire().await?;
    let me = coverages(&mut conn, network_id)
        .await?
        .into_iter()
        .find(|c| c.user_id == who.user_id);
    let declined: Vec<i64> =
        sqlx::query_scalar("SELECT appointment_id FROM partner_offer_declines WHERE nurse_id = $1")
            .bind(who.user_id)
            .fetch_all(&mut *conn)
            .await?;
    let centre = me.as_ref().and_then(|c| match c.area {
        Some(Area::Circle { lat, lon, .. }) => Some((lat, lon)),
        _ => None,
    });
    Ok(Json(
        rows.iter()
            .filter(|r| {
                r.nurse_id == Some(who.user_id)
                    || (me.as_ref().is_some_and(|c| c.matches(r)) && !declined.contains(&r.id))
            })
            .map(|r| offer(r, who.user_id, centre))
            .collect(),
    ))
}

async fn my_row(state: &Nursing, who: &Principal, id: i64) -> Result<Row> {
    let network_id = require_nurse(who)?;
    let mut conn = state.db.pool().acquire().await?;
    match network::load(&mut conn, id).await {
        Ok(row) if row.network_id == network_id && row.status != AppointmentState::Held => Ok(row),
        _ => Err(Error::not_found(format!("request {id}"))),
    }
}

async fn act(
    state: &Nursing,
    who: &Principal,
    id: i64,
    action: NurseAction,
) -> Result<Json<NurseOffer>> {
    let row = my_row(state, who, id).await?;
    let row = network::nurse_act(state, who.actor(), who.user_id, &row, action).await?;
    Ok(Json(offer(&row, who.user_id, None)))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AcceptInput {
    /// When she expects to be there (default: in 30 minutes).
    #[serde(default)]
    pub expected_at: Option<Ts>,
}

fn check_time(at: Ts, field: &str) -> Result<Ts> {
    let now = Ts::now();
    if at < now.plus(chrono::Duration::minutes(-10)) || at > now.plus(chrono::Duration::hours(48)) {
        return Err(
            Error::invalid(field, "must be between now and 48 hours from now")
                .because(Reason::Range),
        );
    }
    Ok(at)
}

#[utoipa::path(post, path = "/nurse-offers/{id}/accept", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body(content = AcceptInput, description = "optional"),
    responses((status = 200, body = NurseOffer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody, description = "`taken`: another nurse was first")))]
async fn accept(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiOptionalJson(input): ApiOptionalJson<AcceptInput>,
) -> Result<Json<NurseOffer>> {
    let expected_at = match input.and_then(|i| i.expected_at) {
        Some(t) => check_time(t, "expected_at")?,
        None => Ts::now().plus(chrono::Duration::minutes(30)),
    };
    act(&state, &who, id, NurseAction::Accept { expected_at }).await
}

#[utoipa::path(post, path = "/nurse-offers/{id}/decline", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = NurseOffer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn decline(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<NurseOffer>> {
    act(&state, &who, id, NurseAction::Decline).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposeInput {
    pub proposed_at: Ts,
}

#[utoipa::path(post, path = "/nurse-offers/{id}/propose", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = ProposeInput,
    responses((status = 200, body = NurseOffer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn propose(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(input): ApiJson<ProposeInput>,
) -> Result<Json<NurseOffer>> {
    let at = check_time(input.proposed_at, "proposed_at")?;
    act(&state, &who, id, NurseAction::Propose { at }).await
}

#[utoipa::path(post, path = "/nurse-offers/{id}/done", tag = "nurse network", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = NurseOffer), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
async fn done(
    State(state): State<Nursing>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<NurseOffer>> {
    act(&state, &who, id, NurseAction::Done).await
}
