//! What the API answers: visits, doctors and patients as the screens need them, and the SQL
//! that reads them. Reads here go through the visibility rules of `auth::Principal`.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::{CallSource, DoctorStatus, Role, Sex, Skill, VisitStatus};
use crate::store::Ts;

/// A postal address with optional coordinates.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Address {
    /// Number and street: "12 rue Félix Poulat".
    #[schema(max_length = 200)]
    pub line: String,
    #[schema(max_length = 10)]
    pub postcode: Option<String>,
    #[schema(max_length = 100)]
    pub city: String,
    /// Floor, door code, how to get in.
    #[serde(default)]
    #[schema(max_length = 500)]
    pub details: Option<String>,
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientSummary {
    pub id: i64,
    pub birth_name: String,
    pub used_name: Option<String>,
    pub first_names: String,
    pub birth_date: Option<String>,
    pub sex: Sex,
}

/// Something referred to by id, with its name for people (a doctor, a network, a sector).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Named {
    pub id: i64,
    pub name: String,
}

/// A visit with its call: what a dispatcher, the doctor or the requesting EHPAD sees.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct VisitView {
    pub id: i64,
    pub call_id: i64,
    pub status: VisitStatus,
    /// 1 (most urgent) to 3.
    pub urgency: i64,
    pub motive: String,
    pub notes: Option<String>,
    pub source: CallSource,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub patient: PatientSummary,
    pub address: Address,
    pub institution_id: Option<i64>,
    pub doctor: Option<Named>,
    pub received_at: Ts,
    pub received_by: i64,
    pub assigned_at: Option<Ts>,
    pub en_route_at: Option<Ts>,
    pub on_site_at: Option<Ts>,
    pub closed_at: Option<Ts>,
    pub cancelled_at: Option<Ts>,
    pub redirected_at: Option<Ts>,
    /// When its doctor acknowledged it (« vu »), for the assignment it has now.
    pub seen_at: Option<Ts>,
    pub updated_at: Ts,
    /// Grows by one at each change.
    pub version: i64,
    /// Auto-dispatch's proposal for a visit waiting for a doctor (mode `propose`).
    pub proposal: Option<Proposal>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Proposal {
    pub doctor_id: i64,
    pub name: String,
    /// Projected minutes from `at` until he would be there.
    pub eta_min: f64,
    pub at: Ts,
}

#[derive(sqlx::FromRow)]
pub struct VisitRow {
    id: i64,
    call_id: i64,
    status: VisitStatus,
    urgency: i64,
    motive: String,
    notes: Option<String>,
    source: CallSource,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    patient_id: i64,
    birth_name: String,
    used_name: Option<String>,
    first_names: String,
    birth_date: Option<String>,
    sex: Sex,
    address_line: String,
    postcode: Option<String>,
    city: String,
    address_details: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    institution_id: Option<i64>,
    doctor_id: Option<i64>,
    doctor_name: Option<String>,
    received_at: Ts,
    received_by: i64,
    assigned_at: Option<Ts>,
    en_route_at: Option<Ts>,
    on_site_at: Option<Ts>,
    closed_at: Option<Ts>,
    cancelled_at: Option<Ts>,
    redirected_at: Option<Ts>,
    seen_at: Option<Ts>,
    updated_at: Ts,
    version: i64,
    proposed_doctor_id: Option<i64>,
    proposed_name: Option<String>,
    proposed_eta_min: Option<f64>,
    proposed_at: Option<Ts>,
}

pub const VISIT_SELECT: &str =
    "SELECT v.id, v.call_id, v.status, v.urgency, c.motive, c.notes, c.source, \
    c.caller_name, c.caller_phone, p.id AS patient_id, p.birth_name, p.used_name, p.first_names, \
    p.birth_date, p.sex, c.address_line, c.postcode, c.city, c.address_details, c.lat, c.lon, \
    v.institution_id, v.doctor_id, u.display_name AS doctor_name, c.received_at, c.received_by, \
    v.assigned_at, v.en_route_at, v.on_site_at, v.closed_at, v.cancelled_at, v.redirected_at, \
    CASE WHEN v.seen_by = v.doctor_id AND v.seen_at >= v.assigned_at THEN v.seen_at END AS seen_at, \
    v.updated_at, v.version, v.proposed_doctor_id, pu.display_name AS proposed_name, \
    v.proposed_eta_min, v.proposed_at \
    FROM visits v JOIN calls c ON c.id = v.call_id JOIN patients p ON p.id = v.patient_id \
    LEFT JOIN users u ON u.id = v.doctor_id LEFT JOIN users pu ON pu.id = v.proposed_doctor_id";

impl From<VisitRow> for VisitView {
    fn from(r: VisitRow) -> VisitView {
        VisitView {
            id: r.id,
            call_id: r.call_id,
            status: r.status,
            urgency: r.urgency,
            motive: r.motive,
            notes: r.notes,
            source: r.source,
            caller_name: r.caller_name,
            caller_phone: r.caller_phone,
            patient: PatientSummary {
                id: r.patient_id,
                birth_name: r.birth_name,
                used_name: r.used_name,
                first_names: r.first_names,
                birth_date: r.birth_date,
                sex: r.sex,
            },
            address: Address {
                line: r.address_line,
                postcode: r.postcode,
                city: r.city,
                details: r.address_details,
                lat: r.lat,
                lon: r.lon,
            },
            institution_id: r.institution_id,
            doctor: r.doctor_id.map(|id| Named {
                id,
                name: r.doctor_name.unwrap_or_default(),
            }),
            received_at: r.received_at,
            received_by: r.received_by,
            assigned_at: r.assigned_at,
            en_route_at: r.en_route_at,
            on_site_at: r.on_site_at,
            closed_at: r.closed_at,
            cancelled_at: r.cancelled_at,
            redirected_at: r.redirected_at,
            seen_at: r.seen_at,
            updated_at: r.updated_at,
            version: r.version,
            proposal: match (r.proposed_doctor_id, r.proposed_eta_min, r.proposed_at) {
                (Some(doctor_id), Some(eta_min), Some(at)) if r.status == VisitStatus::Received => {
                    Some(Proposal {
                        doctor_id,
                        name: r.proposed_name.unwrap_or_default(),
                        eta_min,
                        at,
                    })
                }
                _ => None,
            },
        }
    }
}

pub async fn visit_view<'c, E>(e: E, id: i64) -> Result<Option<VisitView>, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let sql = format!("{VISIT_SELECT} WHERE v.id = $1");
    let row: Option<VisitRow> = sqlx::query_as(&sql).bind(id).fetch_optional(e).await?;
    Ok(row.map(VisitView::from))
}

/// The SQL condition (on visits `v`) restricting rows to those `who` may see, using parameter
/// `$n` for the principal's id. Built from constants only.
pub fn visit_scope(who: &Principal, n: usize) -> String {
    match who.role {
        // Every scope names `$n`, so that the statement's parameters are the same for all roles.
        Role::Admin | Role::Dispatcher => format!("${n} IS NOT NULL"),
        Role::Doctor => format!("v.doctor_id = ${n}"),
        Role::Assistant => format!(
            "v.doctor_id IN (SELECT dg.doctor_id FROM delegations dg \
             WHERE dg.assistant_id = ${n} AND dg.revoked_at IS NULL AND dg.accepted_at IS NOT NULL)"
        ),
        Role::EhpadNurse => format!(
            "v.institution_id = (SELECT ui.institution_id FROM users ui WHERE ui.id = ${n})"
        ),
        Role::PartnerNurse => format!("${n} IS NULL"),
    }
}

/// A doctor as the dispatcher board shows him.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DoctorView {
    pub id: i64,
    pub name: String,
    pub rpps: String,
    pub phone: Option<String>,
    pub skills: Vec<Skill>,
    pub status: DoctorStatus,
    pub status_at: Ts,
    pub position: Option<Position>,
    /// He paused sharing his phone's position (his last fix, if any, is shown as old).
    pub sharing_paused_at: Option<Ts>,
    /// End of the shift he is on now, if any.
    pub shift_ends_at: Option<Ts>,
    /// The sector his current shift covers, if it covers one: dispatch prefers him there.
    pub shift_sector_id: Option<i64>,
    /// When his next shift starts (after now), if one is planned.
    pub next_shift_at: Option<Ts>,
    /// Visits assigned to him and not yet closed.
    pub queue: i64,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Position {
    pub lat: f64,
    pub lon: f64,
    /// When the fix was taken.
    pub at: Ts,
    /// The fix's precision (radius, metres), as the phone gave it.
    pub accuracy_m: Option<f64>,
    /// From then on the fix is old: shown with its age, weighed as uncertain by dispatch.
    pub stale_at: Ts,
}

impl Position {
    pub fn is_stale(&self, now: Ts) -> bool {
        now >= self.stale_at
    }
}

#[derive(sqlx::FromRow)]
struct DoctorRow {
    id: i64,
    name: String,
    rpps: String,
    phone: Option<String>,
    skills: String,
    status: DoctorStatus,
    status_at: Ts,
    lat: Option<f64>,
    lon: Option<f64>,
    position_at: Option<Ts>,
    position_accuracy_m: Option<f64>,
    sharing_paused_at: Option<Ts>,
    shift_ends_at: Option<Ts>,
    shift_sector_id: Option<i64>,
    next_shift_at: Option<Ts>,
    queue: i64,
}

impl DoctorRow {
    fn view(self, stale_after: chrono::Duration) -> DoctorView {
        let r = self;
        DoctorView {
            id: r.id,
            name: r.name,
            rpps: r.rpps,
            phone: r.phone,
            skills: serde_json::from_str(&r.skills).unwrap_or_default(),
            status: r.status,
            status_at: r.status_at,
            position: match (r.lat, r.lon, r.position_at) {
                (Some(lat), Some(lon), Some(at)) => Some(Position {
                    lat,
                    lon,
                    at,
                    accuracy_m: r.position_accuracy_m,
                    // A paused fix is old at once.
                    stale_at: match r.sharing_paused_at {
                        Some(p) => p.min(at.plus(stale_after)),
                        None => at.plus(stale_after),
                    },
                }),
                _ => None,
            },
            sharing_paused_at: r.sharing_paused_at,
            shift_ends_at: r.shift_ends_at,
            shift_sector_id: r.shift_sector_id,
            next_shift_at: r.next_shift_at,
            queue: r.queue,
        }
    }
}

/// Doctors with their live state; `$1` is now, `$2` an optional doctor id.
const DOCTOR_SELECT: &str = "SELECT d.user_id AS id, u.display_name AS name, d.rpps, d.phone, d.skills, \
    d.status, d.status_at, d.lat, d.lon, d.position_at, d.position_accuracy_m, d.sharing_paused_at, \
    (SELECT MAX(s.ends_at) FROM shifts s WHERE s.doctor_id = d.user_id AND s.starts_at <= $1 AND s.ends_at > $1) AS shift_ends_at, \
    (SELECT s.sector_id FROM shifts s WHERE s.doctor_id = d.user_id AND s.starts_at <= $1 AND s.ends_at > $1 \
       ORDER BY s.ends_at DESC LIMIT 1) AS shift_sector_id, \
    (SELECT MIN(s.starts_at) FROM shifts s WHERE s.doctor_id = d.user_id AND s.starts_at > $1) AS next_shift_at, \
    (SELECT COUNT(*) FROM visits q WHERE q.doctor_id = d.user_id AND q.status IN ('assigned', 'en_route', 'on_site')) AS queue \
    FROM doctors d JOIN users u ON u.id = d.user_id \
    WHERE u.disabled_at IS NULL AND (d.user_id = $2 OR $2 IS NULL) ORDER BY u.display_name";

/// `stale_after`: how long a position fix counts as fresh.
pub async fn doctor_views<'c, E>(
    e: E,
    only: Option<i64>,
    stale_after: chrono::Duration,
) -> Result<Vec<DoctorView>, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let rows: Vec<DoctorRow> = sqlx::query_as(DOCTOR_SELECT)
        .bind(Ts::now())
        .bind(only)
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(|r| r.view(stale_after)).collect())
}

/// The treating physician (médecin traitant) the letter goes to.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TreatingPhysician {
    #[schema(max_length = 150)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 20)]
    pub rpps: Option<String>,
    /// Secure health messaging (MSSanté) address.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub mssante: Option<String>,
}

/// A patient's identity (as the INS carries it), address and treating physician.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct PatientView {
    pub id: i64,
    pub birth_name: String,
    pub used_name: Option<String>,
    pub first_names: String,
    pub birth_date: Option<String>,
    pub sex: Sex,
    /// INSEE code of the birth commune (99xxx abroad).
    pub birth_place_code: Option<String>,
    /// NIR (INS matricule), when known.
    pub nir: Option<String>,
    pub address: Option<Address>,
    pub phone: Option<String>,
    pub treating_physician: Option<TreatingPhysician>,
    /// The institution (EHPAD) the patient lives in, if any.
    pub institution_id: Option<i64>,
    pub created_at: Ts,
    pub updated_at: Ts,
}

#[derive(sqlx::FromRow)]
pub struct PatientRow {
    id: i64,
    birth_name: String,
    used_name: Option<String>,
    first_names: String,
    birth_date: Option<String>,
    sex: Sex,
    birth_place_code: Option<String>,
    nir: Option<String>,
    address_line: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    phone: Option<String>,
    treating_physician_name: Option<String>,
    treating_physician_rpps: Option<String>,
    treating_physician_mssante: Option<String>,
    institution_id: Option<i64>,
    created_at: Ts,
    updated_at: Ts,
}

pub const PATIENT_SELECT: &str =
    "SELECT p.id, p.birth_name, p.used_name, p.first_names, p.birth_date, \
    p.sex, p.birth_place_code, p.nir, p.address_line, p.postcode, p.city, p.lat, p.lon, p.phone, \
    p.treating_physician_name, p.treating_physician_rpps, p.treating_physician_mssante, \
    p.institution_id, p.created_at, p.updated_at FROM patients p";

impl From<PatientRow> for PatientView {
    fn from(r: PatientRow) -> PatientView {
        PatientView {
            id: r.id,
            birth_name: r.birth_name,
            used_name: r.used_name,
            first_names: r.first_names,
            birth_date: r.birth_date,
            sex: r.sex,
            birth_place_code: r.birth_place_code,
            nir: r.nir,
            address: match (r.address_line, r.city) {
                (Some(line), Some(city)) => Some(Address {
                    line,
                    postcode: r.postcode,
                    city,
                    details: None,
                    lat: r.lat,
                    lon: r.lon,
                }),
                _ => None,
            },
            phone: r.phone,
            treating_physician: r.treating_physician_name.map(|name| TreatingPhysician {
                name,
                rpps: r.treating_physician_rpps,
                mssante: r.treating_physician_mssante,
            }),
            institution_id: r.institution_id,
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

/// The SQL condition (on patients `p`) restricting rows to those `who` may see, with `$n` the
/// principal's id: staff see all; a doctor (or his assistant) the patients he was sent to; an
/// EHPAD nurse her institution's residents and the patients of its requests.
pub fn patient_scope(who: &Principal, n: usize) -> String {
    match who.role {
        Role::Admin | Role::Dispatcher => format!("${n} IS NOT NULL"),
        Role::Doctor | Role::Assistant => format!(
            "p.id IN (SELECT v.patient_id FROM visits v WHERE {})",
            visit_scope(who, n)
        ),
        Role::EhpadNurse => format!(
            "p.institution_id = (SELECT ui.institution_id FROM users ui WHERE ui.id = ${n})"
        ),
        Role::PartnerNurse => format!("${n} IS NULL"),
    }
}

pub async fn patient_view<'c, E>(e: E, id: i64) -> Result<Option<PatientView>, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let sql = format!("{PATIENT_SELECT} WHERE p.id = $1");
    let row: Option<PatientRow> = sqlx::query_as(&sql).bind(id).fetch_optional(e).await?;
    Ok(row.map(PatientView::from))
}
