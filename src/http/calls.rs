//! Calls: a dispatcher takes a call (or an EHPAD nurse requests a visit for a resident), which
//! opens a visit in the `received` state and puts it on every dispatcher's board; a call that
//! ends otherwise (advice, a teleconsultation, the centre, the 15, out of sector with the
//! fallback chosen, the caller hung up) is kept too. The journal lists and exports them all.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, FieldResult, Reason, Result};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::domain::sectors::SectorMap;
use crate::domain::{CallOutcome, CallSource, Coverage, Role, Urgency, VisitStatus};
use crate::services::calls::{call_view, search, to_csv, CallView, JournalQuery};
use crate::services::coverage;
use crate::services::patients::{at_most, check_address, check_phone, create_patient, NewPatient};
use crate::services::views::{visit_view, Address, VisitView};
use crate::services::visits::publish_visit;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(take_call, list_calls))
        .routes(routes!(record_call))
        .routes(routes!(export_calls))
        .routes(routes!(get_call))
}

/// A call as the dispatcher types it in.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCall {
    /// Who called (for an EHPAD nurse, always `institution`).
    #[serde(default)]
    pub source: Option<CallSource>,
    #[serde(default)]
    #[schema(max_length = 150)]
    pub caller_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub caller_phone: Option<String>,
    /// An existing patient...
    #[serde(default)]
    pub patient_id: Option<i64>,
    /// ...or a new one.
    #[serde(default)]
    pub patient: Option<NewPatient>,
    /// Where the doctor must go; defaults to the patient's (or the institution's) address.
    #[serde(default)]
    pub address: Option<Address>,
    /// Why the patient needs a doctor: "fièvre 39,5 depuis 2 jours".
    #[schema(max_length = 500)]
    pub motive: String,
    /// 1 (most urgent) to 3.
    #[schema(minimum = 1, maximum = 3)]
    pub urgency: i64,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

#[derive(sqlx::FromRow)]
struct PatientLink {
    institution_id: Option<i64>,
    address_line: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
}

#[derive(sqlx::FromRow)]
struct InstitutionAddress {
    address_line: String,
    postcode: String,
    city: String,
    lat: f64,
    lon: f64,
}

/// Take a call: opens a visit (`received`) and shows it live on the boards. Dispatchers take
/// any call; an EHPAD nurse requests a visit for a resident of her institution.
#[utoipa::path(post, path = "/calls", tag = "calls", security(("bearer" = [])),
    request_body = NewCall,
    responses((status = 201, body = VisitView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn take_call(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(call): ApiJson<NewCall>,
) -> Result<(StatusCode, Json<VisitView>)> {
    let is_ehpad = match who.role {
        Role::Admin | Role::Dispatcher => false,
        Role::EhpadNurse => true,
        _ => {
            return Err(Error::forbidden(
                "calls are taken by dispatchers; EHPAD nurses request visits",
            ))
        }
    };
    let urgency = Urgency::parse(call.urgency).field("urgency")?;
    if let Some(v) = &call.caller_name {
        at_most("caller_name", v, 150)?;
    }
    if let Some(v) = &call.caller_phone {
        check_phone("caller_phone", v)?;
    }
    let motive = call.motive.trim();
    if motive.is_empty() || motive.chars().count() > 500 {
        return Err(
            Error::invalid("motive", "the motive has 1 to 500 characters")
                .because(Reason::Length)
                .within(Some(1.0), Some(500.0)),
        );
    }
    if call
        .notes
        .as_ref()
        .is_some_and(|n| n.chars().count() > 4000)
    {
        return Err(
            Error::invalid("notes", "notes have at most 4000 characters")
                .because(Reason::Length)
                .within(None, Some(4000.0)),
        );
    }
    if let Some(a) = &call.address {
        check_address(a, "address")?;
    }
    match (&call.patient_id, &call.patient) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "patient",
                "give patient_id or patient, not both",
            ))
        }
        (None, None) => {
            return Err(Error::invalid(
                "patient_id",
                "say who the patient is: patient_id or patient",
            )
            .because(Reason::Required))
        }
        (None, Some(p)) => p.check("patient.")?,
        _ => {}
    }
    if is_ehpad && call.patient.is_some() {
        return Err(Error::invalid(
            "patient",
            "register the resident first, then request the visit with patient_id",
        ));
    }
    let source = if is_ehpad {
        CallSource::Institution
    } else {
        call.source.unwrap_or(CallSource::Patient)
    };

    let sectors = state.sectors.map(&state.db).await?;
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let patient_id = match (call.patient_id, &call.patient) {
        (Some(id), _) => id,
        (None, Some(p)) => create_patient(&mut tx, p, None).await?,
        (None, None) => unreachable!("checked above"),
    };
    let link: Option<PatientLink> = sqlx::query_as(
        "SELECT institution_id, address_line, postcode, city, lat, lon FROM patients WHERE id = $1",
    )
    .bind(patient_id)
    .fetch_optional(tx.conn())
    .await?;
    let Some(link) = link else {
        return Err(
            Error::invalid("patient_id", format!("there is no patient {patient_id}"))
                .because(Reason::Unknown),
        );
    };
    if is_ehpad && (link.institution_id.is_none() || link.institution_id != who.institution_id) {
        // Same answer as for a patient that does not exist: nothing leaks about other homes.
        return Err(
            Error::invalid("patient_id", format!("there is no patient {patient_id}"))
                .because(Reason::Unknown),
        );
    }
    let institution_id = if is_ehpad {
        who.institution_id
    } else {
        link.institution_id
    };

    // Where to go: as given, else the patient's address, else the institution's.
    let address = match call.address {
        Some(a) => a,
        None => match (link.address_line, link.city) {
            (Some(line), Some(city)) => Address {
                line,
                postcode: link.postcode,
                city,
                details: None,
                lat: link.lat,
                lon: link.lon,
            },
            _ => match institution_id {
                Some(inst) => {
                    let i: InstitutionAddress = sqlx::query_as(
                        "SELECT address_line, postcode, city, lat, lon FROM institutions WHERE id = $1",
                    )
                    .bind(inst)
                    .fetch_one(tx.conn())
                    .await?;
                    Address {
                        line: i.address_line,
                        postcode: Some(i.postcode),
                        city: i.city,
                        details: None,
                        lat: Some(i.lat),
                        lon: Some(i.lon),
                    }
                }
                None => {
                    return Err(Error::invalid(
                        "address",
                        "where should the doctor go? give the address",
                    )
                    .because(Reason::Required))
                }
            },
        },
    };

    // Never queue a visit the association cannot make: the dispatcher offers the fallbacks
    // (and records the call with the one chosen, `POST /calls/handled`).
    coverage::check(&sectors, address.lat, address.lon)?;
    let (covered, sector_id) = where_is(&sectors, address.lat, address.lon);
    let call_id: i64 = sqlx::query_scalar(
        "INSERT INTO calls (received_at, received_by, source, caller_name, caller_phone, institution_id, patient_id, \
         address_line, postcode, city, address_details, lat, lon, motive, urgency, notes, outcome, outcome_by, \
         outcome_at, coverage, sector_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 'home_visit', $2, $1, $17, $18) \
         RETURNING id",
    )
    .bind(now)
    .bind(who.user_id)
    .bind(source)
    .bind(&call.caller_name)
    .bind(&call.caller_phone)
    .bind(institution_id)
    .bind(patient_id)
    .bind(&address.line)
    .bind(&address.postcode)
    .bind(&address.city)
    .bind(&address.details)
    .bind(address.lat)
    .bind(address.lon)
    .bind(motive)
    .bind(urgency.level())
    .bind(&call.notes)
    .bind(covered)
    .bind(sector_id)
    .fetch_one(tx.conn())
    .await?;
    let visit_id: i64 = sqlx::query_scalar(
        "INSERT INTO visits (call_id, patient_id, institution_id, status, urgency, created_at, updated_at) \
         VALUES ($1, $2, $3, 'received', $4, $5, $5) RETURNING id",
    )
    .bind(call_id)
    .bind(patient_id)
    .bind(institution_id)
    .bind(urgency.level())
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    sqlx::query(
        "INSERT INTO visit_transitions (visit_id, from_status, to_status, at, actor_id) VALUES ($1, NULL, $2, $3, $4)",
    )
    .bind(visit_id)
    .bind(VisitStatus::Received)
    .bind(now)
    .bind(who.user_id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "call.create",
        "call",
        call_id,
        serde_json::json!({"visit_id": visit_id, "patient_id": patient_id, "source": source, "urgency": urgency, "institution_id": institution_id}),
    )
    .await?;
    let view = visit_view(tx.conn(), visit_id)
        .await?
        .ok_or_else(Error::internal)?;
    publish_visit(&mut tx, crate::store::EventKind::VisitCreated, &view, None);
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Whether a position lies in a sector, and which.
fn where_is(map: &SectorMap, lat: Option<f64>, lon: Option<f64>) -> (Coverage, Option<i64>) {
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return (Coverage::Unknown, None);
    };
    match coverage::locate(map, lat, lon) {
        None => (Coverage::Unknown, None),
        Some(None) => (Coverage::OutOfSector, None),
        Some(Some(s)) => (Coverage::Covered, Some(s.id)),
    }
}

/// A call that ends without a home visit, as far as it went: everything but the outcome is
/// optional (the caller may hang up before giving a name).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HandledCall {
    /// How the call ended (anything but `home_visit`, which `POST /calls` takes).
    pub outcome: CallOutcome,
    #[serde(default)]
    pub source: Option<CallSource>,
    #[serde(default)]
    #[schema(max_length = 150)]
    pub caller_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub caller_phone: Option<String>,
    #[serde(default)]
    pub patient_id: Option<i64>,
    /// A patient named on the line, registered so that the next call finds him.
    #[serde(default)]
    pub patient: Option<NewPatient>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub motive: Option<String>,
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3)]
    pub urgency: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

/// Keep a call that ends without a home visit (staff): advice, a teleconsultation, the centre,
/// the 15, a caller who hung up; out of the sectors, the fallback chosen is its outcome.
#[utoipa::path(post, path = "/calls/handled", tag = "calls", security(("bearer" = [])),
    request_body = HandledCall,
    responses((status = 201, body = CallView), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn record_call(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(call): ApiJson<HandledCall>,
) -> Result<(StatusCode, Json<CallView>)> {
    if !who.is_staff() {
        return Err(Error::forbidden("calls are kept by the call centre"));
    }
    if call.outcome == CallOutcome::HomeVisit {
        return Err(Error::invalid(
            "outcome",
            "a home visit is opened with POST /calls",
        ));
    }
    let urgency = call
        .urgency
        .map(|u| Urgency::parse(u).field("urgency"))
        .transpose()?;
    if let Some(v) = &call.caller_name {
        at_most("caller_name", v, 150)?;
    }
    if let Some(v) = call
        .caller_phone
        .as_deref()
        .filter(|v| !v.trim().is_empty())
    {
        check_phone("caller_phone", v)?;
    }
    let motive = call
        .motive
        .as_deref()
        .map(str::trim)
        .filter(|m| !m.is_empty());
    if let Some(m) = motive {
        at_most("motive", m, 500)?;
    }
    if let Some(n) = &call.notes {
        at_most("notes", n, 4000)?;
    }
    if let Some(a) = &call.address {
        check_address(a, "address")?;
    }
    match (&call.patient_id, &call.patient) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "patient",
                "give patient_id or patient, not both",
            ))
        }
        (None, Some(p)) => p.check("patient.")?,
        _ => {}
    }
    let sectors = state.sectors.map(&state.db).await?;
    let (covered, sector_id) = match &call.address {
        Some(a) => where_is(&sectors, a.lat, a.lon),
        None => (Coverage::Unknown, None),
    };
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let patient_id = match (call.patient_id, &call.patient) {
        (Some(id), _) => {
            let known: Option<i64> = sqlx::query_scalar("SELECT id FROM patients WHERE id = $1")
                .bind(id)
                .fetch_optional(tx.conn())
                .await?;
            if known.is_none() {
                return Err(
                    Error::invalid("patient_id", format!("there is no patient {id}"))
                        .because(Reason::Unknown),
                );
            }
            Some(id)
        }
        (None, Some(p)) => Some(create_patient(&mut tx, p, None).await?),
        (None, None) => None,
    };
    let a = call.address.as_ref();
    let call_id: i64 = sqlx::query_scalar(
        "INSERT INTO calls (received_at, received_by, source, caller_name, caller_phone, patient_id, \
         address_line, postcode, city, address_details, lat, lon, motive, urgency, notes, outcome, outcome_by, \
         outcome_at, coverage, sector_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $2, $1, $17, $18) RETURNING id",
    )
    .bind(now)
    .bind(who.user_id)
    .bind(call.source.unwrap_or(CallSource::Patient))
    .bind(call.caller_name.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(call.caller_phone.as_deref().map(str::trim).filter(|s| !s.is_empty()))
    .bind(patient_id)
    .bind(a.map(|a| a.line.clone()))
    .bind(a.and_then(|a| a.postcode.clone()))
    .bind(a.map(|a| a.city.clone()))
    .bind(a.and_then(|a| a.details.clone()))
    .bind(a.and_then(|a| a.lat))
    .bind(a.and_then(|a| a.lon))
    .bind(motive)
    .bind(urgency.map(|u| u.level()))
    .bind(&call.notes)
    .bind(call.outcome)
    .bind(covered)
    .bind(sector_id)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "call.record",
        "call",
        call_id,
        serde_json::json!({"outcome": call.outcome, "coverage": covered, "patient_id": patient_id}),
    )
    .await?;
    let view = call_view(tx.conn(), call_id)
        .await?
        .ok_or_else(Error::internal)?;
    tx.commit().await?;
    Ok((StatusCode::CREATED, Json(view)))
}

fn staff_only(who: &Principal) -> Result<()> {
    if who.is_staff() {
        Ok(())
    } else {
        Err(Error::forbidden("the call journal is the call centre's"))
    }
}

/// The call journal (staff): every call, newest first, searched by name, phone, address, dates,
/// outcome and doctor.
#[utoipa::path(get, path = "/calls", tag = "calls", security(("bearer" = [])),
    params(JournalQuery),
    responses((status = 200, body = Vec<CallView>), (status = 400, body = ErrorBody)))]
async fn list_calls(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<JournalQuery>,
) -> Result<Json<Vec<CallView>>> {
    staff_only(&who)?;
    Ok(Json(search(state.db.pool(), &q, 1000).await?))
}

/// One call of the journal (staff).
#[utoipa::path(get, path = "/calls/{id}", tag = "calls", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = CallView), (status = 404, body = ErrorBody)))]
async fn get_call(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<CallView>> {
    staff_only(&who)?;
    call_view(state.db.pool(), id)
        .await?
        .map(Json)
        .ok_or_else(|| Error::not_found(format!("call {id}")))
}

/// The journal as CSV (staff), with the same criteria as `GET /calls` (up to 20,000 calls).
#[utoipa::path(get, path = "/calls/export.csv", tag = "calls", security(("bearer" = [])),
    params(JournalQuery),
    responses((status = 200, content_type = "text/csv", description = "`;`-separated, UTF-8, times in Europe/Paris"),
        (status = 400, body = ErrorBody)))]
async fn export_calls(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(mut q): ApiQuery<JournalQuery>,
) -> Result<Response> {
    staff_only(&who)?;
    q.limit = Some(q.limit.unwrap_or(20_000));
    let calls = search(state.db.pool(), &q, 20_000).await?;
    let body = to_csv(&calls).map_err(|_| Error::internal())?;
    let mut tx = state.db.write(who.actor()).await?;
    // Health data leaving the hub: who took it, and how much.
    tx.audit(
        "call.export",
        "call",
        0,
        serde_json::json!({"rows": calls.len()}),
    )
    .await?;
    tx.commit().await?;
    Ok(csv_file(body, "journal-des-appels.csv"))
}

/// A CSV download: `filename` is a constant of ours, never user text.
pub(super) fn csv_file(body: Vec<u8>, filename: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{filename}\""),
            ),
        ],
        body,
    )
        .into_response()
}
