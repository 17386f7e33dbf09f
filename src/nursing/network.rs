//! The nurse network's end, for a hub that hosts a network: the associations allowed to book
//! (`partner_clients`, by API key), the appointments they hold and confirm, the offer to the
//! network's nurses (first to accept wins), and the callback outbox that tells the association
//! of every change.
//!
//! Every request of a client carries an `Idempotency-Key`: its answer is stored with it in the
//! same transaction as the change (`partner_requests`, primary key (client, key)), so a retry gets
//! the same answer and two concurrent requests with one key make one change — the loser's
//! transaction fails on the key and it replays the winner's answer.

use serde_json::{json, Value};

use super::fhir;
use super::{Nursing, Outcome};
use crate::auth::token_hash;
use crate::domain::nursing::{covers, Area};
use crate::domain::AppointmentState;
use crate::error::{Error, Result};
use crate::store::{Actor, Audience, Ts, WriteTx};

/// An association allowed to book, as authenticated by its API key.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Client {
    pub id: i64,
    pub name: String,
    pub network_id: i64,
}

pub async fn authenticate(state: &Nursing, key: &str) -> Result<Option<Client>> {
    Ok(sqlx::query_as(
        "SELECT id, name, network_id FROM partner_clients WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(token_hash(key))
    .fetch_optional(state.db.pool())
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Row {
    pub id: i64,
    pub uuid: String,
    pub client_id: i64,
    pub client_name: String,
    pub network_id: i64,
    pub request_id: String,
    pub act: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub postcode: Option<String>,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub patient: String,
    pub prescriber: String,
    pub notes: Option<String>,
    pub status: AppointmentState,
    pub hold_expires_at: Ts,
    pub nurse_id: Option<i64>,
    pub nurse_name: Option<String>,
    pub expected_at: Option<Ts>,
    pub proposed_at: Option<Ts>,
    pub cancel_reason: Option<String>,
    pub version: i64,
    pub created_at: Ts,
    pub updated_at: Ts,
}

const SELECT: &str = "SELECT a.id, a.uuid, a.client_id, c.name AS client_name, a.network_id, a.request_id, \
     a.act, a.window_start, a.window_end, a.postcode, a.city, a.lat, a.lon, a.patient, a.prescriber, a.notes, \
     a.status, a.hold_expires_at, a.nurse_id, u.display_name AS nurse_name, a.expected_at, a.proposed_at, \
     a.cancel_reason, a.version, a.created_at, a.updated_at \
     FROM partner_appointments a JOIN partner_clients c ON c.id = a.client_id \
     LEFT JOIN users u ON u.id = a.nurse_id";

impl Row {
    pub fn point(&self) -> Option<(f64, f64)> {
        self.lat.zip(self.lon)
    }

    pub fn fhir(&self) -> fhir::Appointment {
        fhir::Appointment {
            id: self.uuid.clone(),
            version: self.version,
            state: self.status,
            request_id: self.request_id.clone(),
            act: self.act.clone(),
            window_start: self.window_start,
            window_end: self.window_end,
            nurse_name: self.nurse_name.clone(),
            expected_at: self.expected_at,
            proposed_at: self.proposed_at,
            hold_expires_at: Some(self.hold_expires_at),
            cancel_reason: self.cancel_reason.clone(),
            updated_at: self.updated_at,
        }
    }

    pub fn resource(&self) -> Value {
        fhir::appointment(&self.fhir())
    }
}

pub async fn load(conn: &mut sqlx::AnyConnection, id: i64) -> Result<Row> {
    Ok(sqlx::query_as(&format!("{SELECT} WHERE a.id = $1"))
        .bind(id)
        .fetch_one(conn)
        .await?)
}

/// A client's appointment by its public id; another client's is not found.
pub async fn load_for(state: &Nursing, client: &Client, uuid: &str) -> Result<Row> {
    sqlx::query_as(&format!("{SELECT} WHERE a.uuid = $1 AND a.client_id = $2"))
        .bind(uuid)
        .bind(client.id)
        .fetch_optional(state.db.pool())
        .await?
        .ok_or_else(|| Error::not_found("appointment"))
}

pub async fn load_all(state: &Nursing, network_id: i64, since: Ts) -> Result<Vec<Row>> {
    Ok(sqlx::query_as(&format!(
        "{SELECT} WHERE a.network_id = $1 AND a.status NOT IN ('held', 'expired') \
         AND (a.status = 'offered' OR a.updated_at >= $2) ORDER BY a.window_end, a.id"
    ))
    .bind(network_id)
    .bind(since)
    .fetch_all(state.db.pool())
    .await?)
}

/// A nurse's coverage.
#[derive(Debug, Clone)]
pub struct Coverage {
    pub user_id: i64,
    pub acts: Vec<String>,
    pub area: Option<Area>,
    pub on_duty: bool,
}

impl Coverage {
    /// Does she do this act at this address (on duty or not)?
    pub fn can_do(&self, act: &str, postcode: Option<&str>, point: Option<(f64, f64)>) -> bool {
        self.acts.iter().any(|a| a == act) && covers(self.area.as_ref(), postcode, point)
    }

    /// Could she take this appointment (on duty or not)?
    pub fn matches(&self, row: &Row) -> bool {
        self.can_do(&row.act, row.postcode.as_deref(), row.point())
    }
}

/// The coverage of the active nurses of a network.
pub async fn coverages(conn: &mut sqlx::AnyConnection, network_id: i64) -> Result<Vec<Coverage>> {
    #[derive(sqlx::FromRow)]
    struct CoverageRow {
        id: i64,
        acts: Option<String>,
        area: Option<String>,
        on_duty_since: Option<Ts>,
    }
    let rows: Vec<CoverageRow> = sqlx::query_as(
        "SELECT u.id, c.acts, c.area, c.on_duty_since FROM users u \
         LEFT JOIN nurse_coverage c ON c.user_id = u.id \
         WHERE u.role = 'partner_nurse' AND u.network_id = $1 AND u.disabled_at IS NULL",
    )
    .bind(network_id)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| Coverage {
            user_id: r.id,
            acts: r
                .acts
                .and_then(|a| serde_json::from_str(&a).ok())
                .unwrap_or_default(),
            area: r.area.and_then(|a| serde_json::from_str(&a).ok()),
            on_duty: r.on_duty_since.is_some(),
        })
        .collect())
}

/// The nurses on duty who can take it and have not said no.
async fn candidates(tx: &mut WriteTx, row: &Row) -> Result<Vec<i64>> {
    let declined: Vec<i64> =
        sqlx::query_scalar("SELECT nurse_id FROM partner_offer_declines WHERE appointment_id = $1")
            .bind(row.id)
            .fetch_all(tx.conn())
            .await?;
    Ok(coverages(tx.conn(), row.network_id)
        .await?
        .into_iter()
        .filter(|c| c.on_duty && c.matches(row) && !declined.contains(&c.user_id))
        .map(|c| c.user_id)
        .collect())
}

/// Records a change made by the UPDATE just run: the event for the network's nurses (no
/// patient data), the audit row, and the callback to send. Returns the row as it is now.
async fn changed(tx: &mut WriteTx, id: i64, action: &str, changes: Value) -> Result<Row> {
    let row = load(tx.conn(), id).await?;
    tx.audit(action, "partner_appointment", id, changes).await?;
    tx.publish(
        crate::store::EventKind::NurseOfferUpdated,
        json!({"id": row.id, "status": row.status, "act": row.act, "window_end": row.window_end}),
        Audience {
            network_id: Some(row.network_id),
            ..Default::default()
        },
    );
    Ok(row)
}

/// The SET clause every change shares: a new version, to be sent to the client.
const BUMP: &str =
    "version = version + 1, updated_at = $1, notify_next_at = $1, notify_attempts = 0";

/// Runs a conditional change of appointment `id` (`sql` binds `$1` now, `$2` the id, `$3`
/// `text` when given); returns whether it applied.
async fn change(tx: &mut WriteTx, sql: &str, id: i64, text: Option<&str>) -> Result<bool> {
    let now = tx.now();
    let mut query = sqlx::query(sql).bind(now).bind(id);
    if let Some(t) = text {
        query = query.bind(t);
    }
    Ok(query.execute(tx.conn()).await?.rows_affected() == 1)
}

// --- Idempotency ---------------------------------------------------------------------------------

/// A request's fingerprint: what it asks, so that a key reused for another request is caught.
pub fn fingerprint(method: &str, path: &str, body: &[u8]) -> String {
    let mut text = format!("{method} {path}\n").into_bytes();
    text.extend_from_slice(body);
    token_hash(&String::from_utf8_lossy(&text))
}

/// The answer already given to this key, if any.
pub async fn replay(
    state: &Nursing,
    client: &Client,
    key: &str,
    hash: &str,
) -> Result<Option<(Outcome, Value)>> {
    let row: Option<(String, i64, String)> = sqlx::query_as(
        "SELECT request_hash, status_code, response FROM partner_requests \
         WHERE client_id = $1 AND idempotency_key = $2",
    )
    .bind(client.id)
    .bind(key)
    .fetch_optional(state.db.pool())
    .await?;
    match row {
        None => Ok(None),
        Some((h, _, _)) if h != hash => Err(Error::new(
            crate::error::ErrorKind::Invalid,
            "idempotency_key_reused",
            "this Idempotency-Key was used for another request",
        )
        .with_field("Idempotency-Key")),
        // The stored status code is the answer's over HTTP (201 made, 200 otherwise).
        Some((_, status, body)) => Ok(Some((
            if status == 201 {
                Outcome::Created
            } else {
                Outcome::Done
            },
            serde_json::from_str(&body).unwrap_or(Value::Null),
        ))),
    }
}

/// Stores the answer with its key, in the transaction that made the change.
async fn remember(
    tx: &mut WriteTx,
    client: &Client,
    key: &str,
    hash: &str,
    outcome: Outcome,
    body: &Value,
) -> Result<()> {
    let now = tx.now();
    sqlx::query(
        "INSERT INTO partner_requests (client_id, idempotency_key, request_hash, status_code, response, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(client.id)
    .bind(key)
    .bind(hash)
    .bind(match outcome {
        Outcome::Created => 201_i64,
        Outcome::Done => 200,
    })
    .bind(body.to_string())
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(twin_or)?;
    Ok(())
}

/// Did a uniqueness constraint refuse this write (a concurrent twin got there first)?
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.kind() == sqlx::error::ErrorKind::UniqueViolation)
}

/// The error of a write that a twin request with the same key beat: the caller replays the
/// twin's answer.
pub const TWIN_WON: &str = "request_in_flight";

fn twin_or(e: sqlx::Error) -> Error {
    if is_unique_violation(&e) {
        Error::new(
            crate::error::ErrorKind::Conflict,
            TWIN_WON,
            "the same request is being processed: retry it",
        )
    } else {
        e.into()
    }
}

/// What a client asked, with its key: the operation and its idempotency bookkeeping.
pub struct Call<'a> {
    pub state: &'a Nursing,
    pub client: &'a Client,
    pub key: &'a str,
    pub hash: String,
}

impl Call<'_> {
    async fn begin(&self) -> Result<WriteTx> {
        // A client is no user of this hub: the audited appointment names it (`client_id`).
        Ok(self.state.db.write(Actor::SYSTEM).await?)
    }

    async fn finish(
        &self,
        mut tx: WriteTx,
        outcome: Outcome,
        row: &Row,
    ) -> Result<(Outcome, Value)> {
        let body = row.resource();
        remember(&mut tx, self.client, self.key, &self.hash, outcome, &body).await?;
        tx.commit().await?;
        self.state.nursing.wakeup.notify_one();
        Ok((outcome, body))
    }
}

fn conflict(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(crate::error::ErrorKind::Conflict, code, message)
}

// --- The client's operations ---------------------------------------------------------------------

/// `$hold`: checks that some nurse on duty can do it there, and holds it for the client.
pub async fn hold(
    call: &Call<'_>,
    request: &fhir::Request,
    callback: Option<&fhir::Callback>,
    service_request: &Value,
) -> Result<(Outcome, Value)> {
    let mut tx = call.begin().await?;
    let now = tx.now();
    let point = request.patient.address.lat.zip(request.patient.address.lon);
    let able = coverages(tx.conn(), call.client.network_id)
        .await?
        .into_iter()
        .any(|c| {
            c.on_duty
                && c.can_do(
                    &request.act,
                    request.patient.address.postcode.as_deref(),
                    point,
                )
        });
    if !able {
        return Err(Error::new(
            crate::error::ErrorKind::Invalid,
            "not_covered",
            "no nurse of this network on duty does this act at this address",
        )
        .with_field("service-request"));
    }
    let p = &request.patient;
    let patient = json!({
        "name": format!("{} {}", p.given, p.family).trim().to_owned(),
        "birth_date": p.birth_date,
        "phone": p.phone,
        "address": p.address.line,
    });
    let prescriber = json!({
        "name": request.prescriber.name,
        "rpps": request.prescriber.rpps,
        "phone": request.prescriber.phone,
    });
    let hold_ttl = chrono::Duration::from_std(call.state.nursing.config.hold_ttl)
        .unwrap_or(chrono::Duration::minutes(5));
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO partner_appointments (uuid, client_id, network_id, hold_key, request_id, service_request, \
         act, window_start, window_end, postcode, city, lat, lon, patient, prescriber, notes, status, \
         hold_expires_at, callback_url, callback_token, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'held', $17, $18, $19, $20, $20) \
         RETURNING id",
    )
    .bind(uuid::Uuid::new_v4().to_string())
    .bind(call.client.id)
    .bind(call.client.network_id)
    .bind(call.key)
    .bind(&request.id)
    .bind(service_request.to_string())
    .bind(&request.act)
    .bind(request.window_start)
    .bind(request.window_end)
    .bind(&p.address.postcode)
    .bind(&p.address.city)
    .bind(p.address.lat)
    .bind(p.address.lon)
    .bind(patient.to_string())
    .bind(prescriber.to_string())
    .bind(&request.notes)
    .bind(now.plus(hold_ttl))
    .bind(callback.map(|c| c.url.as_str()))
    .bind(callback.map(|c| c.token.as_str()))
    .bind(now)
    .fetch_one(tx.conn())
    .await
    .map_err(twin_or)?;
    tx.audit(
        "partner_appointment.hold",
        "partner_appointment",
        id,
        json!({"client": call.client.id, "act": request.act}),
    )
    .await?;
    let row = load(tx.conn(), id).await?;
    call.finish(tx, Outcome::Created, &row).await
}

/// `$book`: confirms a hold; the appointment is offered to the nurses who can take it.
pub async fn book(call: &Call<'_>, row: &Row) -> Result<(Outcome, Value)> {
    let mut tx = call.begin().await?;
    let sql = format!(
        "UPDATE partner_appointments SET status = 'offered', {BUMP} \
         WHERE id = $2 AND status = 'held' AND hold_expires_at > $1"
    );
    if !change(&mut tx, &sql, row.id, None).await? {
        let now_row = load(tx.conn(), row.id).await?;
        return match now_row.status {
            AppointmentState::Held | AppointmentState::Expired => {
                expire(&mut tx, &now_row).await?;
                tx.commit().await?;
                Err(conflict(
                    "hold_expired",
                    "the hold expired before it was confirmed: hold again",
                ))
            }
            AppointmentState::Cancelled | AppointmentState::Declined => {
                Err(conflict("cancelled", "this appointment was cancelled"))
            }
            // Confirmed already (by a request whose answer was lost): the same answer.
            _ => call.finish(tx, Outcome::Done, &now_row).await,
        };
    }
    let row = changed(&mut tx, row.id, "partner_appointment.book", json!({})).await?;
    // Nobody left on duty to take it since the hold: declined at once.
    let row = if candidates(&mut tx, &row).await?.is_empty() {
        decline(&mut tx, &row, "no nurse on duty").await?
    } else {
        row
    };
    call.finish(tx, Outcome::Done, &row).await
}

async fn expire(tx: &mut WriteTx, row: &Row) -> Result<()> {
    let sql = format!(
        "UPDATE partner_appointments SET status = 'expired', cancel_reason = 'hold expired', {BUMP} \
         WHERE id = $2 AND status = 'held'"
    );
    if change(tx, &sql, row.id, None).await? {
        changed(tx, row.id, "partner_appointment.expire", json!({})).await?;
    }
    Ok(())
}

async fn decline(tx: &mut WriteTx, row: &Row, reason: &str) -> Result<Row> {
    let sql = format!(
        "UPDATE partner_appointments SET status = 'declined', cancel_reason = $3, {BUMP} \
         WHERE id = $2 AND status = 'offered'"
    );
    change(tx, &sql, row.id, Some(reason)).await?;
    changed(
        tx,
        row.id,
        "partner_appointment.decline",
        json!({"reason": reason}),
    )
    .await
}

/// `$cancel`: the client cancels; with `unless_accepted`, only if no nurse took it yet.
pub async fn cancel(
    call: &Call<'_>,
    row: &Row,
    reason: &str,
    unless_accepted: bool,
) -> Result<(Outcome, Value)> {
    let mut tx = call.begin().await?;
    let allowed = if unless_accepted {
        "('held', 'offered')"
    } else {
        "('held', 'offered', 'proposed', 'accepted')"
    };
    let sql = format!(
        "UPDATE partner_appointments SET status = 'cancelled', cancel_reason = $3, {BUMP} \
         WHERE id = $2 AND status IN {allowed}"
    );
    if !change(&mut tx, &sql, row.id, Some(reason)).await? {
        let now_row = load(tx.conn(), row.id).await?;
        return match now_row.status {
            AppointmentState::Cancelled
            | AppointmentState::Expired
            | AppointmentState::Declined => call.finish(tx, Outcome::Done, &now_row).await,
            AppointmentState::Done => Err(conflict("already_done", "the care was already given")),
            _ => Err(conflict(
                "already_accepted",
                "a nurse took this appointment: read it for her name and time",
            )),
        };
    }
    let row = changed(
        &mut tx,
        row.id,
        "partner_appointment.cancel",
        json!({"reason": reason}),
    )
    .await?;
    call.finish(tx, Outcome::Done, &row).await
}

/// `$respond`: the client accepts or refuses the time a nurse proposed.
pub async fn respond(call: &Call<'_>, row: &Row, accept: bool) -> Result<(Outcome, Value)> {
    let mut tx = call.begin().await?;
    let sql = if accept {
        format!("UPDATE partner_appointments SET status = 'accepted', expected_at = proposed_at, proposed_at = NULL, {BUMP} WHERE id = $2 AND status = 'proposed'")
    } else {
        format!("UPDATE partner_appointments SET status = 'cancelled', cancel_reason = 'proposed time refused', {BUMP} WHERE id = $2 AND status = 'proposed'")
    };
    if !change(&mut tx, &sql, row.id, None).await? {
        let now_row = load(tx.conn(), row.id).await?;
        let target = if accept {
            AppointmentState::Accepted
        } else {
            AppointmentState::Cancelled
        };
        return if now_row.status == target {
            call.finish(tx, Outcome::Done, &now_row).await
        } else {
            Err(conflict(
                "not_proposed",
                "no time is proposed on this appointment",
            ))
        };
    }
    let action = if accept {
        "partner_appointment.proposal_accepted"
    } else {
        "partner_appointment.proposal_refused"
    };
    let row = changed(&mut tx, row.id, action, json!({})).await?;
    call.finish(tx, Outcome::Done, &row).await
}

// --- The nurses' side ----------------------------------------------------------------------------

/// What a nurse did with an offer.
pub enum NurseAction {
    Accept { expected_at: Ts },
    Propose { at: Ts },
    Decline,
    Done,
}

/// A nurse acts on an appointment of her network. Accepting and proposing are settled by the
/// store: the first conditional update wins, the others get 409 `taken`.
pub async fn nurse_act(
    state: &Nursing,
    nurse: Actor,
    nurse_id: i64,
    row: &Row,
    action: NurseAction,
) -> Result<Row> {
    let mut tx = state.db.write(nurse).await?;
    let now = tx.now();
    let (sql, name, at) = match action {
        NurseAction::Accept { expected_at } => (
            format!("UPDATE partner_appointments SET status = 'accepted', nurse_id = $3, expected_at = $4, {BUMP} WHERE id = $2 AND status = 'offered'"),
            "partner_appointment.accept",
            Some(expected_at),
        ),
        NurseAction::Propose { at } => (
            format!("UPDATE partner_appointments SET status = 'proposed', nurse_id = $3, proposed_at = $4, {BUMP} WHERE id = $2 AND status = 'offered'"),
            "partner_appointment.propose",
            Some(at),
        ),
        NurseAction::Done => (
            format!("UPDATE partner_appointments SET status = 'done', {BUMP} WHERE id = $2 AND status = 'accepted' AND nurse_id = $3"),
            "partner_appointment.done",
            None,
        ),
        NurseAction::Decline => {
            sqlx::query(
                "INSERT INTO partner_offer_declines (appointment_id, nurse_id, at) VALUES ($1, $2, $3) \
                 ON CONFLICT DO NOTHING",
            )
            .bind(row.id)
            .bind(nurse_id)
            .bind(now)
            .execute(tx.conn())
            .await?;
            tx.audit("partner_appointment.nurse_declined", "partner_appointment", row.id, json!({}))
                .await?;
            let now_row = load(tx.conn(), row.id).await?;
            let row = if now_row.status == AppointmentState::Offered
                && candidates(&mut tx, &now_row).await?.is_empty()
            {
                decline(&mut tx, &now_row, "every nurse declined").await?
            } else {
                now_row
            };
            tx.commit().await?;
            state.nursing.wakeup.notify_one();
            return Ok(row);
        }
    };
    let mut query = sqlx::query(&sql).bind(now).bind(row.id).bind(nurse_id);
    if let Some(at) = at {
        query = query.bind(at);
    }
    let done = query.execute(tx.conn()).await?.rows_affected();
    if done == 0 {
        let now_row = load(tx.conn(), row.id).await?;
        return Err(match (now_row.status, now_row.nurse_id == Some(nurse_id)) {
            (
                AppointmentState::Accepted | AppointmentState::Proposed | AppointmentState::Done,
                false,
            ) => conflict("taken", "another nurse took this request first"),
            (
                AppointmentState::Cancelled
                | AppointmentState::Expired
                | AppointmentState::Declined,
                _,
            ) => conflict("cancelled", "this request was withdrawn"),
            _ => conflict(
                "not_allowed_now",
                format!("this request is {}", now_row.status),
            ),
        });
    }
    let row = changed(&mut tx, row.id, name, json!({"at": at})).await?;
    tx.commit().await?;
    state.nursing.wakeup.notify_one();
    Ok(row)
}

// --- The callback outbox and the holds that lapse --------------------------------------------------

/// Changes older than a week are no longer called back (the client can still read them).
fn callbacks_since(now: Ts) -> Ts {
    now.plus(chrono::Duration::days(-7))
}

/// Sends every due callback (the current state of an appointment the client has not
/// acknowledged), each at least once, retried with backoff while the client is down.
pub async fn deliver_callbacks(state: &Nursing) -> Result<(), sqlx::Error> {
    let config = &state.nursing.config;
    let now = Ts::now();
    let due: Vec<(i64, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, callback_url, callback_token, version, notify_attempts FROM partner_appointments \
         WHERE callback_url IS NOT NULL AND callback_token IS NOT NULL AND notified_version < version \
         AND notify_next_at <= $1 AND (notify_claimed_until IS NULL OR notify_claimed_until < $1) \
         AND updated_at >= $2 \
         ORDER BY notify_next_at LIMIT 50",
    )
    .bind(now)
    .bind(callbacks_since(now))
    .fetch_all(state.db.pool())
    .await?;
    let mut sends = tokio::task::JoinSet::new();
    for (id, url, token, version, attempts) in due {
        let claim = now.plus(chrono::Duration::from_std(config.claim).unwrap_or_default());
        let claimed = sqlx::query(
            "UPDATE partner_appointments SET notify_claimed_until = $1 WHERE id = $2 AND version = $3 \
             AND (notify_claimed_until IS NULL OR notify_claimed_until < $4)",
        )
        .bind(claim)
        .bind(id)
        .bind(version)
        .bind(now)
        .execute(state.db.pool())
        .await?
        .rows_affected();
        if claimed == 0 {
            continue;
        }
        let state = state.clone();
        sends.spawn(async move { send_callback(&state, id, &url, &token, attempts).await });
    }
    while let Some(r) = sends.join_next().await {
        if let Ok(Err(e)) = r {
            tracing::warn!(error = %e, "callback outbox");
        }
    }
    Ok(())
}

async fn send_callback(
    state: &Nursing,
    id: i64,
    url: &str,
    token: &str,
    attempts: i64,
) -> Result<(), sqlx::Error> {
    let mut conn = state.db.pool().acquire().await?;
    let row = match load(&mut conn, id).await {
        Ok(r) => r,
        Err(_) => return Ok(()),
    };
    drop(conn);
    let key = format!("{}.v{}", row.uuid, row.version);
    // Checked again at each send: the association's rules may have tightened since the hold.
    let outcome: Result<(), (String, bool)> = match state.nursing.config.outbound.check(url) {
        Err(why) => Err((format!("callback URL refused: {why}"), true)),
        Ok(_) => callback_outcome(
            state
                .nursing
                .http
                .post(url)
                .bearer_auth(token)
                .header("Idempotency-Key", &key)
                .json(&row.resource())
                .send()
                .await,
        ),
    };
    let now = Ts::now();
    record_callback(state, id, &row, attempts, outcome, now).await
}

fn callback_outcome(sent: reqwest::Result<reqwest::Response>) -> Result<(), (String, bool)> {
    match sent {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let status = r.status();
            // A client that refuses the callback for good (401, 404...) will poll instead.
            let lasting = status.is_client_error()
                && status != reqwest::StatusCode::REQUEST_TIMEOUT
                && status != reqwest::StatusCode::TOO_MANY_REQUESTS;
            Err((format!("HTTP {}", status.as_u16()), lasting))
        }
        Err(e) => Err((super::describe(&e), false)),
    }
}

async fn record_callback(
    state: &Nursing,
    id: i64,
    row: &Row,
    attempts: i64,
    outcome: Result<(), (String, bool)>,
    now: Ts,
) -> Result<(), sqlx::Error> {
    match outcome {
        Ok(()) | Err((_, true)) => {
            let error = outcome.err().map(|(e, _)| e);
            sqlx::query(
                "UPDATE partner_appointments SET notified_version = $1, notify_attempts = 0, \
                 notify_claimed_until = NULL, notify_error = $2 WHERE id = $3 AND notified_version < $1",
            )
            .bind(row.version)
            .bind(error)
            .bind(id)
            .execute(state.db.pool())
            .await?;
        }
        Err((error, false)) => {
            let delay = super::backoff(&state.nursing.config.timings, attempts + 1);
            sqlx::query(
                "UPDATE partner_appointments SET notify_attempts = notify_attempts + 1, notify_next_at = $1, \
                 notify_claimed_until = NULL, notify_error = $2 WHERE id = $3",
            )
            .bind(now.plus(chrono::Duration::from_std(delay).unwrap_or_default()))
            .bind(error)
            .bind(id)
            .execute(state.db.pool())
            .await?;
        }
    }
    Ok(())
}

/// Holds not confirmed in time lapse.
pub async fn expire_holds(state: &Nursing) -> Result<()> {
    let now = Ts::now();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM partner_appointments WHERE status = 'held' AND hold_expires_at <= $1 LIMIT 100",
    )
    .bind(now)
    .fetch_all(state.db.pool())
    .await?;
    for id in ids {
        let mut tx = state.db.write(Actor::SYSTEM).await?;
        let row = load(tx.conn(), id).await?;
        expire(&mut tx, &row).await?;
        tx.commit().await?;
    }
    Ok(())
}

/// When the earliest callback or hold expiry falls due.
pub async fn next_due(state: &Nursing) -> Result<Option<Ts>, sqlx::Error> {
    let a: Option<Ts> = sqlx::query_scalar(
        "SELECT MIN(notify_next_at) FROM partner_appointments WHERE callback_url IS NOT NULL \
         AND notified_version < version AND updated_at >= $1",
    )
    .bind(callbacks_since(Ts::now()))
    .fetch_one(state.db.pool())
    .await?;
    let b: Option<Ts> = sqlx::query_scalar(
        "SELECT MIN(hold_expires_at) FROM partner_appointments WHERE status = 'held'",
    )
    .fetch_one(state.db.pool())
    .await?;
    Ok(match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    })
}
