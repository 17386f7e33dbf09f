//! The call journal: every call the association took, whatever its outcome (a home visit,
//! advice, a teleconsultation, the centre, the 15, a caller who hung up), who decided it and
//! when, searched by name, phone, address, dates, outcome and doctor, and exported as CSV.

use serde::{Deserialize, Serialize};
use sqlx::{Any, Executor};
use utoipa::ToSchema;

use super::views::{Address, Named, PatientSummary};
use crate::domain::{CallOutcome, CallSource, Coverage, Sex, VisitStatus};
use crate::store::Ts;

/// A call as the journal shows it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallView {
    pub id: i64,
    pub received_at: Ts,
    pub received_by: Named,
    pub source: CallSource,
    pub caller_name: Option<String>,
    pub caller_phone: Option<String>,
    pub institution_id: Option<i64>,
    /// None when the call ended before a patient was named.
    pub patient: Option<PatientSummary>,
    pub address: Option<Address>,
    pub motive: Option<String>,
    /// 1 (most urgent) to 3, when it was triaged.
    pub urgency: Option<i64>,
    pub notes: Option<String>,
    pub outcome: CallOutcome,
    /// Who decided the outcome, and when.
    pub outcome_by: Option<Named>,
    pub outcome_at: Option<Ts>,
    pub coverage: Coverage,
    pub sector: Option<Named>,
    /// The visit the call opened (outcome `home_visit`).
    pub visit: Option<CallVisit>,
}

/// The visit of a call, as the journal lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct CallVisit {
    pub id: i64,
    pub status: VisitStatus,
    pub doctor: Option<Named>,
}

#[derive(sqlx::FromRow)]
struct CallRow {
    id: i64,
    received_at: Ts,
    received_by: i64,
    received_by_name: String,
    source: CallSource,
    caller_name: Option<String>,
    caller_phone: Option<String>,
    institution_id: Option<i64>,
    patient_id: Option<i64>,
    birth_name: Option<String>,
    used_name: Option<String>,
    first_names: Option<String>,
    birth_date: Option<String>,
    sex: Option<Sex>,
    address_line: Option<String>,
    postcode: Option<String>,
    city: Option<String>,
    address_details: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    motive: Option<String>,
    urgency: Option<i64>,
    notes: Option<String>,
    outcome: CallOutcome,
    outcome_by: Option<i64>,
    outcome_by_name: Option<String>,
    outcome_at: Option<Ts>,
    coverage: Coverage,
    sector_id: Option<i64>,
    sector_name: Option<String>,
    visit_id: Option<i64>,
    visit_status: Option<VisitStatus>,
    doctor_id: Option<i64>,
    doctor_name: Option<String>,
}

const CALL_SELECT: &str = "SELECT c.id, c.received_at, c.received_by, ru.display_name AS received_by_name, \
    c.source, c.caller_name, c.caller_phone, c.institution_id, c.patient_id, p.birth_name, p.used_name, \
    p.first_names, p.birth_date, p.sex, c.address_line, c.postcode, c.city, c.address_details, c.lat, c.lon, \
    c.motive, c.urgency, c.notes, c.outcome, c.outcome_by, ou.display_name AS outcome_by_name, c.outcome_at, \
    c.coverage, c.sector_id, s.name AS sector_name, v.id AS visit_id, v.status AS visit_status, v.doctor_id, \
    du.display_name AS doctor_name \
    FROM calls c JOIN users ru ON ru.id = c.received_by LEFT JOIN patients p ON p.id = c.patient_id \
    LEFT JOIN users ou ON ou.id = c.outcome_by LEFT JOIN sectors s ON s.id = c.sector_id \
    LEFT JOIN visits v ON v.call_id = c.id LEFT JOIN users du ON du.id = v.doctor_id";

impl From<CallRow> for CallView {
    fn from(r: CallRow) -> CallView {
        CallView {
            id: r.id,
            received_at: r.received_at,
            received_by: Named {
                id: r.received_by,
                name: r.received_by_name,
            },
            source: r.source,
            caller_name: r.caller_name,
            caller_phone: r.caller_phone,
            institution_id: r.institution_id,
            patient: r.patient_id.map(|id| PatientSummary {
                id,
                birth_name: r.birth_name.unwrap_or_default(),
                used_name: r.used_name,
                first_names: r.first_names.unwrap_or_default(),
                birth_date: r.birth_date,
                sex: r.sex.unwrap_or(Sex::Unknown),
            }),
            address: match (r.address_line, r.city) {
                (Some(line), Some(city)) => Some(Address {
                    line,
                    postcode: r.postcode,
                    city,
                    details: r.address_details,
                    lat: r.lat,
                    lon: r.lon,
                }),
                _ => None,
            },
            motive: r.motive,
            urgency: r.urgency,
            notes: r.notes,
            outcome: r.outcome,
            outcome_by: r.outcome_by.map(|id| Named {
                id,
                name: r.outcome_by_name.unwrap_or_default(),
            }),
            outcome_at: r.outcome_at,
            coverage: r.coverage,
            sector: r.sector_id.map(|id| Named {
                id,
                name: r.sector_name.unwrap_or_default(),
            }),
            visit: match (r.visit_id, r.visit_status) {
                (Some(id), Some(status)) => Some(CallVisit {
                    id,
                    status,
                    doctor: r.doctor_id.map(|id| Named {
                        id,
                        name: r.doctor_name.unwrap_or_default(),
                    }),
                }),
                _ => None,
            },
        }
    }
}

pub async fn call_view<'c, E>(e: E, id: i64) -> Result<Option<CallView>, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let sql = format!("{CALL_SELECT} WHERE c.id = $1");
    let row: Option<CallRow> = sqlx::query_as(&sql).bind(id).fetch_optional(e).await?;
    Ok(row.map(CallView::from))
}

/// What the journal is searched by; every criterion optional, all of them must hold.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct JournalQuery {
    /// Part of the patient's or the caller's name.
    pub q: Option<String>,
    /// A phone number, however written: "06 12 34 56 78" finds "+33 6 12 34 56 78".
    pub phone: Option<String>,
    /// Part of the address (street, postcode or commune).
    pub address: Option<String>,
    /// Received at or after this instant.
    pub from: Option<Ts>,
    /// Received before this instant.
    pub to: Option<Ts>,
    pub outcome: Option<CallOutcome>,
    /// Calls whose visit went to this doctor.
    pub doctor_id: Option<i64>,
    /// At most this many (default 100, at most 1000; the CSV export up to 20,000).
    pub limit: Option<i64>,
    /// Skip this many (the next page).
    pub offset: Option<i64>,
}

/// The digits a phone number is searched by: its last 9 (the French national number without
/// its leading 0 or +33), or all of them when fewer are typed.
pub fn phone_key(s: &str) -> Option<String> {
    let digits: String = s.chars().filter(char::is_ascii_digit).collect();
    match digits.len() {
        0..=2 => None,
        n if n >= 9 => Some(digits[n - 9..].to_string()),
        _ => Some(digits),
    }
}

/// SQL: `col` with the separators people type removed (spaces, dots, dashes, +, brackets).
fn digits_of(col: &str) -> String {
    let mut e = format!("COALESCE({col}, '')");
    for sep in [" ", ".", "-", "+", "(", ")", "/"] {
        e = format!("REPLACE({e}, '{sep}', '')");
    }
    e
}

/// `%text%` in lower case, for a LIKE; None for an empty criterion.
fn contains(s: Option<&str>) -> Option<String> {
    let s = s?.trim();
    if s.is_empty() {
        return None;
    }
    // LIKE's own wildcards typed by someone are matched as themselves... near enough: dropped.
    let s: String = s
        .chars()
        .filter(|c| *c != '%' && *c != '_')
        .collect::<String>()
        .to_lowercase();
    Some(format!("%{s}%"))
}

/// The calls matching `q`, newest first, at most `max_limit`.
pub async fn search<'c, E>(
    e: E,
    q: &JournalQuery,
    max_limit: i64,
) -> Result<Vec<CallView>, sqlx::Error>
where
    E: Executor<'c, Database = Any>,
{
    let phone = q.phone.as_deref().and_then(phone_key).map(|k| {
        if k.len() == 9 {
            format!("%{k}")
        } else {
            format!("%{k}%")
        }
    });
    let sql = format!(
        "{CALL_SELECT} WHERE \
         ($1 IS NULL OR LOWER(COALESCE(p.birth_name, '') || ' ' || COALESCE(p.used_name, '') || ' ' || \
           COALESCE(p.first_names, '') || ' ' || COALESCE(c.caller_name, '')) LIKE $1) \
         AND ($2 IS NULL OR {caller} LIKE $2 OR {patient} LIKE $2) \
         AND ($3 IS NULL OR LOWER(COALESCE(c.address_line, '') || ' ' || COALESCE(c.postcode, '') || ' ' || \
           COALESCE(c.city, '')) LIKE $3) \
         AND ($4 IS NULL OR c.received_at >= $4) AND ($5 IS NULL OR c.received_at < $5) \
         AND ($6 IS NULL OR c.outcome = $6) AND ($7 IS NULL OR v.doctor_id = $7) \
         ORDER BY c.received_at DESC, c.id DESC LIMIT $8 OFFSET $9",
        caller = digits_of("c.caller_phone"),
        patient = digits_of("p.phone"),
    );
    let rows: Vec<CallRow> = sqlx::query_as(&sql)
        .bind(contains(q.q.as_deref()))
        .bind(phone)
        .bind(contains(q.address.as_deref()))
        .bind(q.from)
        .bind(q.to)
        .bind(q.outcome)
        .bind(q.doctor_id)
        .bind(q.limit.unwrap_or(100).clamp(1, max_limit))
        .bind(q.offset.unwrap_or(0).max(0))
        .fetch_all(e)
        .await?;
    Ok(rows.into_iter().map(CallView::from).collect())
}

/// French labels of the outcomes, as the journal and its export show them.
pub fn outcome_label(o: CallOutcome) -> &'static str {
    match o {
        CallOutcome::HomeVisit => "Visite à domicile",
        CallOutcome::Advice => "Conseil donné",
        CallOutcome::Teleconsultation => "Téléconsultation",
        CallOutcome::Centre => "Consultation au centre",
        CallOutcome::Samu15 => "Transféré au 15",
        CallOutcome::HungUp => "Raccroché",
    }
}

/// A cell a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) is
/// written with a leading apostrophe: what someone typed stays text.
pub fn cell(s: &str) -> String {
    match s.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{s}"),
        _ => s.to_string(),
    }
}

/// The journal as CSV (`;`-separated, UTF-8 with a BOM, as French spreadsheets open it),
/// times in Europe/Paris.
pub fn to_csv(calls: &[CallView]) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(b';')
        .from_writer(b"\xEF\xBB\xBF".to_vec());
    w.write_record([
        "appel",
        "reçu le (heure de Paris)",
        "reçu par",
        "appelant",
        "nom de l'appelant",
        "téléphone",
        "patient",
        "date de naissance",
        "adresse",
        "code postal",
        "commune",
        "secteur",
        "couverture",
        "motif",
        "urgence",
        "issue",
        "décidée par",
        "décidée le",
        "visite",
        "statut de la visite",
        "médecin",
    ])?;
    for c in calls {
        let patient = c.patient.as_ref().map(|p| {
            let name = p.used_name.as_deref().unwrap_or(&p.birth_name);
            format!("{} {}", name.to_uppercase(), p.first_names)
        });
        let a = c.address.as_ref();
        w.write_record([
            c.id.to_string(),
            paris_text(c.received_at),
            cell(&c.received_by.name),
            c.source.as_str().to_string(),
            cell(c.caller_name.as_deref().unwrap_or("")),
            cell(c.caller_phone.as_deref().unwrap_or("")),
            cell(patient.as_deref().unwrap_or("")),
            c.patient
                .as_ref()
                .and_then(|p| p.birth_date.clone())
                .unwrap_or_default(),
            cell(a.map(|a| a.line.as_str()).unwrap_or("")),
            cell(a.and_then(|a| a.postcode.as_deref()).unwrap_or("")),
            cell(a.map(|a| a.city.as_str()).unwrap_or("")),
            cell(c.sector.as_ref().map(|s| s.name.as_str()).unwrap_or("")),
            c.coverage.as_str().to_string(),
            cell(c.motive.as_deref().unwrap_or("")),
            c.urgency.map(|u| format!("P{u}")).unwrap_or_default(),
            outcome_label(c.outcome).to_string(),
            cell(c.outcome_by.as_ref().map(|n| n.name.as_str()).unwrap_or("")),
            c.outcome_at.map(paris_text).unwrap_or_default(),
            c.visit
                .as_ref()
                .map(|v| v.id.to_string())
                .unwrap_or_default(),
            c.visit
                .as_ref()
                .map(|v| v.status.as_str().to_string())
                .unwrap_or_default(),
            cell(
                c.visit
                    .as_ref()
                    .and_then(|v| v.doctor.as_ref())
                    .map(|d| d.name.as_str())
                    .unwrap_or(""),
            ),
        ])?;
    }
    w.into_inner().map_err(|e| e.into_error().into())
}

/// "2026-12-04 21:30" in Europe/Paris.
pub fn paris_text(t: Ts) -> String {
    let offset = crate::planning::paris_offset_hours(t.0);
    (t.0 + chrono::Duration::hours(offset))
        .format("%Y-%m-%d %H:%M")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_number_is_found_however_it_was_written() {
        assert_eq!(phone_key("06 12 34 56 78").as_deref(), Some("612345678"));
        assert_eq!(phone_key("+33 6 12 34 56 78").as_deref(), Some("612345678"));
        assert_eq!(phone_key("0033612345678").as_deref(), Some("612345678"));
        assert_eq!(phone_key("56 78").as_deref(), Some("5678"));
        assert_eq!(phone_key("06"), None);
    }

    #[test]
    fn a_typed_formula_stays_text_in_the_export() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(cell("+33 6"), "'+33 6");
        assert_eq!(cell("Dupont"), "Dupont");
    }

    #[test]
    fn times_are_written_in_paris() {
        let t = Ts("2026-12-04T20:30:00Z".parse().unwrap());
        assert_eq!(paris_text(t), "2026-12-04 21:30");
        let t = Ts("2026-07-14T20:30:00Z".parse().unwrap());
        assert_eq!(paris_text(t), "2026-07-14 22:30");
    }
}
