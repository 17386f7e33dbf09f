//! The association's end: booking a partner nurse for a visit, the outbox that carries each
//! booking through the network's partner API (hold, confirm, follow, answer, cancel), and the
//! callbacks the network sends back.
//!
//! A booking's link state is a [`Link`] (pure, in `link.rs`); this module loads it, feeds it
//! what happened and saves it only if its version is still the one read (optimistic), so the
//! worker, a callback and a person never overwrite each other. Every change is audited and
//! published as `nurse_booking.updated`.

use reqwest::StatusCode;
use serde::Serialize;
use serde_json::{json, Value};
use utoipa::ToSchema;

use super::fhir;
use super::link::{Link, Tried};
use super::{Nursing, Outcome};
use crate::auth::token_hash;
use crate::domain::nursing::{act_label, covers, Area};
use crate::domain::{BookingStep, NurseBookingStatus};
use crate::error::{Error, Result};
use crate::services::views::Named;
use crate::store::{Actor, Audience, Ts, WriteTx};

#[derive(Debug, Clone, sqlx::FromRow)]
struct Row {
    id: i64,
    uuid: String,
    visit_id: i64,
    doctor_id: i64,
    act: String,
    window_start: Ts,
    window_end: Ts,
    notes: Option<String>,
    callback_phone: Option<String>,
    service_request: String,
    status: NurseBookingStatus,
    step: Option<BookingStep>,
    cancel_reason: Option<String>,
    proposal_answer: Option<String>,
    network_id: Option<i64>,
    network_name: Option<String>,
    base_url: Option<String>,
    api_key: Option<String>,
    round: i64,
    remote_id: Option<String>,
    remote_version: i64,
    callback_token: String,
    tried: String,
    nurse_name: Option<String>,
    expected_at: Option<Ts>,
    proposed_at: Option<Ts>,
    step_since: Option<Ts>,
    attempts: i64,
    next_attempt_at: Option<Ts>,
    last_error: Option<String>,
    version: i64,
    requested_by: i64,
    requested_by_name: String,
    on_behalf_of: Option<i64>,
    on_behalf_of_name: Option<String>,
    created_at: Ts,
    updated_at: Ts,
}

const SELECT: &str = "SELECT b.id, b.uuid, b.visit_id, b.doctor_id, b.act, b.window_start, b.window_end, b.notes, \
     b.callback_phone, b.service_request, b.status, b.step, b.cancel_reason, b.proposal_answer, b.network_id, \
     n.name AS network_name, n.base_url, n.api_key, b.round, b.remote_id, b.remote_version, b.callback_token, \
     b.tried, b.nurse_name, b.expected_at, b.proposed_at, b.step_since, b.attempts, b.next_attempt_at, \
     b.last_error, b.version, b.requested_by, r.display_name AS requested_by_name, b.on_behalf_of, \
     o.display_name AS on_behalf_of_name, b.created_at, b.updated_at \
     FROM nurse_bookings b JOIN users r ON r.id = b.requested_by \
     LEFT JOIN users o ON o.id = b.on_behalf_of LEFT JOIN partner_networks n ON n.id = b.network_id";

impl Row {
    fn link(&self) -> Link {
        Link {
            status: self.status,
            step: self.step,
            cancel_reason: self.cancel_reason.clone(),
            proposal_answer: self.proposal_answer.clone(),
            network_id: self.network_id,
            network_name: self.network_name.clone(),
            round: self.round,
            remote_id: self.remote_id.clone(),
            remote_version: self.remote_version,
            tried: serde_json::from_str(&self.tried).unwrap_or_default(),
            nurse_name: self.nurse_name.clone(),
            expected_at: self.expected_at,
            proposed_at: self.proposed_at,
            step_since: self.step_since,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error.clone(),
        }
    }

    fn view(&self) -> NurseBookingView {
        let link = self.link();
        NurseBookingView {
            id: self.id,
            uuid: self.uuid.clone(),
            visit_id: self.visit_id,
            doctor_id: self.doctor_id,
            act_label: act_label(&self.act).unwrap_or(&self.act).to_owned(),
            act: self.act.clone(),
            window_start: self.window_start,
            window_end: self.window_end,
            notes: self.notes.clone(),
            callback_phone: self.callback_phone.clone(),
            status: self.status,
            delivery: link.delivery().map(str::to_owned),
            network: self.network_id.map(|id| Named {
                id,
                name: self.network_name.clone().unwrap_or_default(),
            }),
            networks_tried: link.tried,
            nurse_name: self.nurse_name.clone(),
            expected_at: self.expected_at,
            proposed_at: self.proposed_at,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error.clone(),
            requested_by: Named {
                id: self.requested_by,
                name: self.requested_by_name.clone(),
            },
            on_behalf_of: self.on_behalf_of.map(|id| Named {
                id,
                name: self.on_behalf_of_name.clone().unwrap_or_default(),
            }),
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A partner nurse booking, as the association's people see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct NurseBookingView {
    pub id: i64,
    pub uuid: String,
    pub visit_id: i64,
    /// The prescriber: the visit's doctor.
    pub doctor_id: i64,
    pub act: String,
    pub act_label: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub notes: Option<String>,
    pub callback_phone: Option<String>,
    pub status: NurseBookingStatus,
    /// Where the request is in the link: sending, held, waiting (for a nurse), cancelling; null
    /// once settled or while a nurse has it.
    pub delivery: Option<String>,
    /// The network it is with now.
    pub network: Option<Named>,
    /// The networks that did not take it, and why.
    pub networks_tried: Vec<Tried>,
    pub nurse_name: Option<String>,
    pub expected_at: Option<Ts>,
    pub proposed_at: Option<Ts>,
    /// Failed attempts of the current step, the next one, and why the last failed.
    pub attempts: i64,
    pub next_attempt_at: Option<Ts>,
    pub last_error: Option<String>,
    pub requested_by: Named,
    pub on_behalf_of: Option<Named>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

async fn load(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Row> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE b.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await?)
}

pub async fn view(state: &Nursing, id: i64) -> Result<NurseBookingView> {
    let mut conn = state.db.pool().acquire().await?;
    Ok(load(&mut conn, id).await?.view())
}

/// The bookings of a visit, newest first.
pub async fn of_visit(state: &Nursing, visit_id: i64) -> Result<Vec<NurseBookingView>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "{SELECT} WHERE b.visit_id = $1 ORDER BY b.id DESC"
    ))
    .bind(visit_id)
    .fetch_all(state.db.pool())
    .await?;
    Ok(rows.iter().map(Row::view).collect())
}

/// Bookings still under way, and those settled since `settled_since` when given (of these
/// doctors only, when given), oldest first.
pub async fn active(
    state: &Nursing,
    doctors: Option<&[i64]>,
    settled_since: Option<Ts>,
) -> Result<Vec<NurseBookingView>> {
    let under_way = "b.status IN ('requested', 'accepted', 'proposed') OR b.step IS NOT NULL";
    let rows: Vec<Row> = match settled_since {
        Some(since) => {
            sqlx::query_as(&format!(
                "{SELECT} WHERE {under_way} OR b.updated_at >= $1 ORDER BY b.id"
            ))
            .bind(since)
            .fetch_all(state.db.pool())
            .await?
        }
        None => {
            sqlx::query_as(&format!("{SELECT} WHERE {under_way} ORDER BY b.id"))
                .fetch_all(state.db.pool())
                .await?
        }
    };
    Ok(rows
        .iter()
        .filter(|r| doctors.is_none_or(|d| d.contains(&r.doctor_id)))
        .map(Row::view)
        .collect())
}

// --- Networks --------------------------------------------------------------------------------------

#[derive(Debug, Clone, sqlx::FromRow)]
struct NetworkRow {
    id: i64,
    name: String,
    acts: String,
    area: Option<String>,
}

/// The active networks that do `act` at this address, in the order they are tried.
pub async fn suitable(
    conn: &mut sqlx::AnyConnection,
    act: &str,
    postcode: Option<&str>,
    point: Option<(f64, f64)>,
) -> Result<Vec<(i64, String)>> {
    let rows: Vec<NetworkRow> = sqlx::query_as(
        "SELECT id, name, acts, area FROM partner_networks WHERE disabled_at IS NULL ORDER BY priority, id",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .filter(|n| {
            let acts: Vec<String> = serde_json::from_str(&n.acts).unwrap_or_default();
            let area: Option<Area> = n.area.as_deref().and_then(|a| serde_json::from_str(a).ok());
            acts.iter().any(|a| a == act) && covers(area.as_ref(), postcode, point)
        })
        .map(|n| (n.id, n.name))
        .collect())
}

/// Where a visit is, for matching networks.
pub async fn visit_place(
    conn: &mut sqlx::AnyConnection,
    visit_id: i64,
) -> Result<(Option<String>, Option<(f64, f64)>)> {
    let (postcode, lat, lon): (Option<String>, Option<f64>, Option<f64>) = sqlx::query_as(
        "SELECT c.postcode, c.lat, c.lon FROM visits v JOIN calls c ON c.id = v.call_id WHERE v.id = $1",
    )
    .bind(visit_id)
    .fetch_one(conn)
    .await?;
    Ok((postcode, lat.zip(lon)))
}

async fn next_network(
    conn: &mut sqlx::AnyConnection,
    row: &Row,
    link: &Link,
) -> Result<Vec<(i64, String)>> {
    let (postcode, point) = visit_place(conn, row.visit_id).await?;
    let left: Vec<(i64, String)> = suitable(conn, &row.act, postcode.as_deref(), point)
        .await?
        .into_iter()
        .filter(|(id, _)| !link.tried.iter().any(|t| t.id == *id) && link.network_id != Some(*id))
        .collect();
    Ok(left)
}

// --- Making a booking ------------------------------------------------------------------------------

/// What a person asks for.
pub struct NewBooking {
    pub visit_id: i64,
    pub doctor_id: i64,
    pub key: String,
    pub act: &'static str,
    pub window_minutes: i64,
    pub notes: Option<String>,
    pub callback_phone: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Facts {
    birth_name: String,
    used_name: Option<String>,
    first_names: String,
    birth_date: Option<String>,
    sex: String,
    patient_phone: Option<String>,
    caller_phone: Option<String>,
    address_line: String,
    postcode: Option<String>,
    city: String,
    address_details: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    doctor_name: String,
    rpps: Option<String>,
    doctor_phone: Option<String>,
}

/// Makes the booking (or returns the one this key already made: 200 instead of 201).
pub async fn create(
    state: &Nursing,
    actor: Actor,
    b: NewBooking,
) -> Result<(Outcome, NurseBookingView)> {
    if let Some(id) = by_key(state, b.visit_id, &b.key).await? {
        return Ok((Outcome::Done, view(state, id).await?));
    }
    let mut tx = state.db.write(actor).await?;
    let now = tx.now();
    let f: Facts = sqlx::query_as(
        "SELECT p.birth_name, p.used_name, p.first_names, p.birth_date, p.sex, p.phone AS patient_phone, \
         c.caller_phone, c.address_line, c.postcode, c.city, c.address_details, c.lat, c.lon, \
         d.display_name AS doctor_name, dr.rpps, dr.phone AS doctor_phone \
         FROM visits v JOIN calls c ON c.id = v.call_id JOIN patients p ON p.id = v.patient_id \
         JOIN users d ON d.id = $2 LEFT JOIN doctors dr ON dr.user_id = d.id WHERE v.id = $1",
    )
    .bind(b.visit_id)
    .bind(b.doctor_id)
    .fetch_one(tx.conn())
    .await?;
    let point = f.lat.zip(f.lon);
    let networks = suitable(tx.conn(), b.act, f.postcode.as_deref(), point).await?;
    let Some(first) = networks.into_iter().next() else {
        return Err(Error::new(
            crate::error::ErrorKind::Invalid,
            "no_network",
            "no partner nurse network does this act at this address",
        )
        .with_field("act"));
    };
    let uuid = uuid::Uuid::new_v4().to_string();
    let line = match f.address_details.as_deref().map(str::trim) {
        Some(d) if !d.is_empty() => format!("{} ({d})", f.address_line),
        _ => f.address_line.clone(),
    };
    let request = fhir::Request {
        id: uuid.clone(),
        act: b.act.to_owned(),
        window_start: now,
        window_end: now.plus(chrono::Duration::minutes(b.window_minutes)),
        authored_on: now,
        notes: b.notes.clone(),
        patient: fhir::Patient {
            family: f.used_name.clone().unwrap_or(f.birth_name.clone()),
            given: f.first_names.clone(),
            birth_date: f.birth_date.clone(),
            gender: match f.sex.as_str() {
                "F" => "female",
                "M" => "male",
                _ => "unknown",
            },
            phone: f.patient_phone.clone().or(f.caller_phone.clone()),
            address: fhir::Address {
                line,
                postcode: f.postcode.clone(),
                city: f.city.clone(),
                lat: f.lat,
                lon: f.lon,
            },
        },
        prescriber: fhir::Prescriber {
            name: f.doctor_name.clone(),
            rpps: f.rpps.clone(),
            phone: b.callback_phone.clone().or(f.doctor_phone.clone()),
        },
    };
    let link = Link::new(first, now);
    let inserted: Result<i64, sqlx::Error> = sqlx::query_scalar(
        "INSERT INTO nurse_bookings (uuid, visit_id, doctor_id, request_key, requested_by, on_behalf_of, act, \
         window_start, window_end, notes, callback_phone, service_request, status, step, network_id, \
         callback_token, step_since, next_attempt_at, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $17, $17) RETURNING id",
    )
    .bind(&uuid)
    .bind(b.visit_id)
    .bind(b.doctor_id)
    .bind(&b.key)
    .bind(actor.user_id)
    .bind(actor.on_behalf_of)
    .bind(b.act)
    .bind(request.window_start)
    .bind(request.window_end)
    .bind(&b.notes)
    .bind(&b.callback_phone)
    .bind(fhir::service_request(&request).to_string())
    .bind(link.status)
    .bind(link.step)
    .bind(link.network_id)
    .bind(crate::auth::new_token())
    .bind(now)
    .fetch_one(tx.conn())
    .await;
    let id = match inserted {
        Ok(id) => id,
        Err(e) => {
            // The same key at the same time: the other request made it.
            drop(tx);
            if super::network::is_unique_violation(&e) {
                if let Some(id) = by_key(state, b.visit_id, &b.key).await? {
                    return Ok((Outcome::Done, view(state, id).await?));
                }
            }
            return Err(e.into());
        }
    };
    tx.audit(
        "nurse_booking.create",
        "nurse_booking",
        id,
        json!({"visit_id": b.visit_id, "act": b.act, "window_minutes": b.window_minutes}),
    )
    .await?;
    let row = load(tx.conn(), id).await?;
    publish(&mut tx, &row);
    tx.commit().await?;
    state.nursing.wakeup.notify_one();
    Ok((Outcome::Created, row.view()))
}

async fn by_key(state: &Nursing, visit_id: i64, key: &str) -> Result<Option<i64>> {
    Ok(
        sqlx::query_scalar(
            "SELECT id FROM nurse_bookings WHERE visit_id = $1 AND request_key = $2",
        )
        .bind(visit_id)
        .bind(key)
        .fetch_optional(state.db.pool())
        .await?,
    )
}

fn publish(tx: &mut WriteTx, row: &Row) {
    tx.publish(
        crate::store::EventKind::NurseBookingUpdated,
        serde_json::to_value(row.view()).unwrap_or(Value::Null),
        Audience {
            doctor_id: Some(row.doctor_id),
            ..Default::default()
        },
    );
}

/// Writes `link` over the booking if it is still at `version`. Returns false if someone else
/// changed it first (the caller reloads and decides again).
async fn save(
    tx: &mut WriteTx,
    row: &Row,
    link: &Link,
    action: &str,
    extra: &Value,
) -> Result<bool> {
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE nurse_bookings SET status = $1, step = $2, cancel_reason = $3, proposal_answer = $4, \
         network_id = $5, round = $6, remote_id = $7, remote_version = $8, tried = $9, nurse_name = $10, \
         expected_at = $11, proposed_at = $12, step_since = $13, attempts = $14, next_attempt_at = $15, \
         last_error = $16, version = version + 1, updated_at = $17 WHERE id = $18 AND version = $19",
    )
    .bind(link.status)
    .bind(link.step)
    .bind(&link.cancel_reason)
    .bind(&link.proposal_answer)
    .bind(link.network_id)
    .bind(link.round)
    .bind(&link.remote_id)
    .bind(link.remote_version)
    .bind(serde_json::to_string(&link.tried).unwrap_or_else(|_| "[]".into()))
    .bind(&link.nurse_name)
    .bind(link.expected_at)
    .bind(link.proposed_at)
    .bind(link.step_since)
    .bind(link.attempts)
    .bind(link.next_attempt_at)
    .bind(&link.last_error)
    .bind(now)
    .bind(row.id)
    .bind(row.version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    let before = row.link();
    let mut changes = match extra {
        Value::Object(_) => extra.clone(),
        _ => json!({}),
    };
    if before.status != link.status {
        changes["status"] = json!(link.status);
    }
    if before.step != link.step {
        changes["step"] = json!(link.step);
    }
    if before.network_id != link.network_id {
        changes["network_id"] = json!(link.network_id);
    }
    if link.last_error.is_some() && before.last_error != link.last_error {
        changes["last_error"] = json!(link.last_error);
    }
    tx.audit(action, "nurse_booking", row.id, changes).await?;
    let fresh = load(tx.conn(), row.id).await?;
    publish(tx, &fresh);
    Ok(true)
}

/// Applies `change` to the booking's link and saves it, retrying on a concurrent change.
/// `change` returns whether anything is to be saved.
async fn update(
    state: &Nursing,
    actor: Actor,
    id: i64,
    action: &str,
    extra: Value,
    mut change: impl FnMut(&mut Link, &Row, Ts) -> Result<bool, Error>,
) -> Result<NurseBookingView> {
    for _ in 0..5 {
        let mut tx = state.db.write(actor).await?;
        let row = load(tx.conn(), id).await?;
        let mut link = row.link();
        if !change(&mut link, &row, tx.now())? {
            return Ok(row.view());
        }
        if save(&mut tx, &row, &link, action, &extra).await? {
            tx.commit().await?;
            state.nursing.wakeup.notify_one();
            return view(state, id).await;
        }
    }
    Err(booking_changed("the booking keeps changing: try again"))
}

/// The booking is no longer in the state the request was made for.
fn booking_changed(message: impl Into<String>) -> Error {
    Error::new(
        crate::error::ErrorKind::Conflict,
        "booking_changed",
        message,
    )
}

/// A person cancels the booking.
pub async fn cancel(
    state: &Nursing,
    actor: Actor,
    id: i64,
    reason: Option<String>,
) -> Result<NurseBookingView> {
    let extra = json!({"reason": reason});
    update(
        state,
        actor,
        id,
        "nurse_booking.cancel",
        extra,
        |link, _, now| {
            link.cancel(now)
                .map(|_| true)
                .map_err(|m| booking_changed(m).with_field("status"))
        },
    )
    .await
}

/// The doctor answers a proposed time.
pub async fn answer_proposal(
    state: &Nursing,
    actor: Actor,
    id: i64,
    accept: bool,
) -> Result<NurseBookingView> {
    let action = if accept {
        "nurse_booking.proposal_accept"
    } else {
        "nurse_booking.proposal_refuse"
    };
    update(state, actor, id, action, json!({}), |link, _, now| {
        link.answer_proposal(accept, now)
            .map(|_| true)
            .map_err(|m| booking_changed(m).with_field("status"))
    })
    .await
}

// --- Callbacks -------------------------------------------------------------------------------------

/// A network's callback about booking `uuid`: checked against the booking's secret, applied once
/// per Idempotency-Key and only if newer than what we know.
pub async fn receive_callback(
    state: &Nursing,
    uuid: &str,
    token: Option<&str>,
    key: &str,
    body: &Value,
) -> Result<&'static str> {
    let found: Option<(i64, String)> =
        sqlx::query_as("SELECT id, callback_token FROM nurse_bookings WHERE uuid = $1")
            .bind(uuid)
            .fetch_optional(state.db.pool())
            .await?;
    let Some((id, secret)) = found else {
        return Err(Error::not_found("booking"));
    };
    // Compare digests, so the time taken says nothing about the secret.
    if token.map(token_hash) != Some(token_hash(&secret)) {
        return Err(Error::unauthorized(
            "this callback does not carry the booking's token",
        ));
    }
    let appointment = fhir::read_appointment(body)?;
    if appointment.request_id != uuid {
        return Err(Error::invalid(
            "basedOn",
            "this appointment answers another booking",
        ));
    }
    let timings = state.nursing.config.timings.clone();
    for _ in 0..5 {
        let mut tx = state.db.write(Actor::SYSTEM).await?;
        let now = tx.now();
        let fresh = sqlx::query(
            "INSERT INTO nurse_booking_callbacks (booking_id, idempotency_key, received_at) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
        )
        .bind(id)
        .bind(key)
        .bind(now)
        .execute(tx.conn())
        .await?
        .rows_affected();
        if fresh == 0 {
            return Ok("duplicate");
        }
        let row = load(tx.conn(), id).await?;
        let mut link = row.link();
        if !link.apply(&appointment, now, &timings) {
            tx.commit().await?;
            return Ok("unchanged");
        }
        if save(
            &mut tx,
            &row,
            &link,
            "nurse_booking.callback",
            &json!({"key": key}),
        )
        .await?
        {
            // A twin of this callback waits on our key row, then inserts nothing: "duplicate".
            tx.commit().await?;
            state.nursing.wakeup.notify_one();
            return Ok("applied");
        }
    }
    Err(booking_changed("the booking keeps changing: send again"))
}

// --- The outbox ------------------------------------------------------------------------------------

/// What the network said to a request of ours.
enum Reply {
    /// An Appointment (2xx).
    Appointment(fhir::Appointment),
    /// A lasting refusal (4xx) with the error code it gave.
    Refused {
        status: u16,
        code: String,
        message: String,
    },
    /// Nothing usable: down, slow, 5xx, garbage. Worth retrying.
    Failed(String),
}

async fn request(
    state: &Nursing,
    row: &Row,
    method: reqwest::Method,
    path: &str,
    key: Option<&str>,
    body: Option<Value>,
) -> Reply {
    let (Some(base), Some(api_key)) = (&row.base_url, &row.api_key) else {
        return Reply::Failed("no network".into());
    };
    let url = format!("{}/{}", base.trim_end_matches('/'), path);
    if let Err(why) = state.nursing.config.outbound.check(&url) {
        return Reply::Refused {
            status: 0,
            code: "host_refused".into(),
            message: format!("the network's address is refused: {why}"),
        };
    }
    let mut req = state
        .nursing
        .http
        .request(method, &url)
        .bearer_auth(api_key)
        .header("Accept", "application/fhir+json, application/json");
    if let Some(key) = key {
        req = req.header("Idempotency-Key", key);
    }
    if let Some(body) = body {
        req = req.json(&body);
    }
    let response = match req.send().await {
        Ok(r) => r,
        Err(e) => return Reply::Failed(super::describe(&e)),
    };
    let status = response.status();
    let body: Result<Value, _> = response.json().await;
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        return Reply::Failed(format!("the network answered HTTP {}", status.as_u16()));
    }
    let body = match body {
        Ok(b) => b,
        Err(_) => {
            return Reply::Failed(format!(
                "the network answered HTTP {} without JSON",
                status.as_u16()
            ))
        }
    };
    if status.is_success() {
        return match fhir::read_appointment(&body) {
            Ok(a) => Reply::Appointment(a),
            Err(e) => Reply::Failed(format!(
                "the network's appointment is malformed at {}: {}",
                e.field, e.message
            )),
        };
    }
    let code = body["error"]["code"].as_str().unwrap_or("error").to_owned();
    let message = body["error"]["message"].as_str().unwrap_or("").to_owned();
    Reply::Refused {
        status: status.as_u16(),
        code: if status == StatusCode::NOT_FOUND {
            "not_found".into()
        } else {
            code
        },
        message,
    }
}

/// Runs the due step of every booking whose turn has come.
pub async fn run_due(state: &Nursing) -> Result<()> {
    let now = Ts::now();
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM nurse_bookings WHERE step IS NOT NULL AND next_attempt_at <= $1 \
         AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY next_attempt_at LIMIT 50",
    )
    .bind(now)
    .fetch_all(state.db.pool())
    .await?;
    let claim =
        now.plus(chrono::Duration::from_std(state.nursing.config.claim).unwrap_or_default());
    let mut runs = tokio::task::JoinSet::new();
    for id in due {
        let claimed = sqlx::query(
            "UPDATE nurse_bookings SET claimed_until = $1 WHERE id = $2 AND (claimed_until IS NULL OR claimed_until < $3)",
        )
        .bind(claim)
        .bind(id)
        .bind(now)
        .execute(state.db.pool())
        .await?
        .rows_affected();
        if claimed == 1 {
            let state = state.clone();
            runs.spawn(async move {
                let r = run_one(&state, id).await;
                let _ = sqlx::query("UPDATE nurse_bookings SET claimed_until = NULL WHERE id = $1")
                    .bind(id)
                    .execute(state.db.pool())
                    .await;
                r
            });
        }
    }
    while let Some(r) = runs.join_next().await {
        if let Ok(Err(e)) = r {
            tracing::warn!(code = e.code, "nurse booking outbox");
        }
    }
    Ok(())
}

/// One booking's due step; a few rounds when a step leads straight to another (a new network).
async fn run_one(state: &Nursing, id: i64) -> Result<()> {
    let t = state.nursing.config.timings.clone();
    for _ in 0..4 {
        let mut conn = state.db.pool().acquire().await?;
        let row = load(&mut conn, id).await?;
        let mut link = row.link();
        let now = Ts::now();
        let Some(step) = link.step else { return Ok(()) };
        if link.next_attempt_at.is_some_and(|n| n > now) {
            return Ok(());
        }
        // Decisions that need no network: which network, and the deadline for a nurse.
        if step == BookingStep::Hold && link.network_id.is_none() {
            match next_network(&mut conn, &row, &link)
                .await?
                .into_iter()
                .next()
            {
                Some(n) => link.use_network(n),
                None => link.exhausted(),
            }
            drop(conn);
            commit_link(state, &row, &link, "nurse_booking.network").await?;
            continue;
        }
        if link.check_deadline(now, row.window_end, &t) {
            drop(conn);
            commit_link(state, &row, &link, "nurse_booking.no_answer").await?;
            continue;
        }
        if step == BookingStep::Cancel && link.remote_id.is_none() {
            link.cancel(now).ok();
            drop(conn);
            commit_link(state, &row, &link, "nurse_booking.cancel").await?;
            return Ok(());
        }
        let others = !next_network(&mut conn, &row, &link).await?.is_empty();
        drop(conn);

        let key = link.request_key(&row.uuid);
        let remote = link.remote_id.clone().unwrap_or_default();
        let appointment = format!("Appointment/{remote}");
        // The step's request: a POST with its key and body, or (following) a read.
        let (path, body) = match step {
            BookingStep::Hold => {
                let service_request: Value =
                    serde_json::from_str(&row.service_request).unwrap_or(Value::Null);
                let callback = format!(
                    "{}/api/v1/partner-callbacks/{}",
                    state.nursing.public_url(),
                    row.uuid
                );
                let body = json!({
                    "resourceType": "Parameters",
                    "parameter": [
                        {"name": "service-request", "resource": service_request},
                        {"name": "callback-url", "valueUrl": callback},
                        {"name": "callback-token", "valueString": row.callback_token},
                    ],
                });
                ("Appointment/$hold".to_owned(), Some(body))
            }
            BookingStep::Book => (format!("{appointment}/$book"), Some(json!({}))),
            BookingStep::Respond => {
                let accept = link.proposal_answer.as_deref() == Some("accept");
                (
                    format!("{appointment}/$respond"),
                    Some(json!({"accept": accept})),
                )
            }
            BookingStep::Cancel => {
                let reason = link.cancel_reason.clone().unwrap_or_default();
                let unless_accepted = reason != super::link::CANCEL_BY_PERSON;
                let body = json!({"reason": reason, "unless_accepted": unless_accepted});
                (format!("{appointment}/$cancel"), Some(body))
            }
            BookingStep::Watch => (appointment.clone(), None),
        };
        let read = || request(state, &row, reqwest::Method::GET, &appointment, None, None);
        let reply = match body {
            Some(body) => {
                request(
                    state,
                    &row,
                    reqwest::Method::POST,
                    &path,
                    Some(&key),
                    Some(body),
                )
                .await
            }
            None => read().await,
        };
        // A conflict we understand: the appointment moved on without us; read where it is.
        let reply = match reply {
            Reply::Refused {
                status: 409,
                ref code,
                ..
            } if matches!(
                code.as_str(),
                "already_accepted" | "already_done" | "not_proposed"
            ) =>
            {
                read().await
            }
            other => other,
        };
        let now = Ts::now();
        let fresh_link = |link: &mut Link| match &reply {
            Reply::Appointment(a) => {
                link.apply(a, now, &t);
                // A poll or answer that brought nothing new still sets the next poll.
                if link.step == Some(BookingStep::Watch)
                    && link.next_attempt_at.is_some_and(|n| n <= now)
                {
                    link.next_attempt_at = Some(
                        now.plus(chrono::Duration::from_std(t.poll_interval).unwrap_or_default()),
                    );
                    link.attempts = 0;
                    link.last_error = None;
                }
            }
            Reply::Refused { code, message, .. } => link.refused(code, message, now, &t),
            Reply::Failed(e) => link.failed(e, now, &t, others),
        };
        fresh_link(&mut link);
        let action = match &reply {
            Reply::Appointment(_) => "nurse_booking.answer",
            Reply::Refused { .. } => "nurse_booking.refused",
            Reply::Failed(_) => "nurse_booking.attempt_failed",
        };
        if !commit_link(state, &row, &link, action).await? {
            // Changed meanwhile (a callback, a person): apply the network's word to what is there.
            if let Reply::Appointment(_) = &reply {
                update(state, Actor::SYSTEM, id, action, json!({}), |l, _, _| {
                    let before = l.clone();
                    fresh_link(l);
                    Ok(*l != before)
                })
                .await?;
            }
        }
        if !matches!(&reply, Reply::Appointment(_))
            || link.next_attempt_at.is_none_or(|n| n > Ts::now())
        {
            return Ok(());
        }
    }
    Ok(())
}

async fn commit_link(state: &Nursing, row: &Row, link: &Link, action: &str) -> Result<bool> {
    let before = row.link();
    if *link == before {
        return Ok(true);
    }
    // Only the next poll moved: bookkeeping, not news (no audit row, no event).
    let quiet = Link {
        next_attempt_at: before.next_attempt_at,
        ..link.clone()
    } == before;
    if quiet {
        let done = sqlx::query(
            "UPDATE nurse_bookings SET next_attempt_at = $1 WHERE id = $2 AND version = $3",
        )
        .bind(link.next_attempt_at)
        .bind(row.id)
        .bind(row.version)
        .execute(state.db.pool())
        .await?
        .rows_affected();
        return Ok(done == 1);
    }
    let mut tx = state.db.write(Actor::SYSTEM).await?;
    if save(&mut tx, row, link, action, &json!({})).await? {
        tx.commit().await?;
        Ok(true)
    } else {
        Ok(false)
    }
}

/// When the earliest booking step falls due.
pub async fn next_due(state: &Nursing) -> Result<Option<Ts>, sqlx::Error> {
    sqlx::query_scalar("SELECT MIN(next_attempt_at) FROM nurse_bookings WHERE step IS NOT NULL")
        .fetch_one(state.db.pool())
        .await
}
