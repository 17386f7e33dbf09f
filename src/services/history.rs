//! The patient's history with the association (#15): what earlier visits found, for the care
//! team. A doctor reads the validated reports and the ECGs of a patient he has (or had) a visit
//! for, whoever wrote them; an assistant reads them for the doctors who delegated to her. Nobody
//! else: a dispatcher or an EHPAD sees dates and motives (`GET /patients/{id}`), not medicine.
//! Each read is in the audit trail (entity `patient_record`).

use serde::Serialize;
use utoipa::ToSchema;

use super::views::Named;
use crate::auth::Principal;
use crate::domain::report::{Diagnosis, Observations, Orientation};
use crate::domain::{Role, VisitStatus};
use crate::error::{Error, ErrorKind, Result};
use crate::store::{Db, Ts};

/// One earlier visit, as a colleague reads it on the way.
#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryEntry {
    pub visit_id: i64,
    pub received_at: Ts,
    pub closed_at: Option<Ts>,
    pub status: VisitStatus,
    /// The motive of the call.
    pub motive: String,
    pub doctor: Option<Named>,
    /// What the doctor found, once he validated it.
    pub report: Option<HistoryReport>,
    pub ecgs: Vec<HistoryEcg>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HistoryReport {
    pub validated_at: Ts,
    pub diagnoses: Vec<Diagnosis>,
    pub history: String,
    pub examination: String,
    pub ecg_interpretation: String,
    pub treatment: String,
    pub prescriptions: Vec<String>,
    pub orientation: Option<Orientation>,
    pub follow_up: String,
}

#[derive(Debug, Serialize, ToSchema, sqlx::FromRow)]
pub struct HistoryEcg {
    pub id: i64,
    pub visit_id: i64,
    pub format: String,
    pub heart_rate_bpm: Option<f64>,
    /// As the device wrote it (local time, no offset).
    pub acquired_at: Option<String>,
}

#[derive(sqlx::FromRow)]
struct Row {
    visit_id: i64,
    received_at: Ts,
    closed_at: Option<Ts>,
    status: VisitStatus,
    motive: String,
    doctor_id: Option<i64>,
    doctor_name: Option<String>,
    observations: Option<String>,
    validated_at: Option<Ts>,
}

/// The doctors whose care team `who` belongs to: himself, or the doctors who delegated to her.
fn team(who: &Principal) -> Result<Vec<i64>> {
    match who.role {
        Role::Doctor => Ok(vec![who.user_id]),
        Role::Assistant => Ok(who.delegators.clone()),
        _ => Err(Error::forbidden(
            "a patient's medical history is for the doctors who care for him (and their assistants)",
        )),
    }
}

/// Whether `who` is in the care team of `patient`: one of his doctors has a visit for him.
pub async fn in_care_team(db: &Db, who: &Principal, patient: i64) -> Result<bool> {
    let doctors = team(who)?;
    if doctors.is_empty() {
        return Ok(false);
    }
    let placeholders: Vec<String> = (0..doctors.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT COUNT(*) FROM visits WHERE patient_id = $1 AND doctor_id IN ({})",
        placeholders.join(", ")
    );
    let mut q = sqlx::query_scalar::<_, i64>(&sql).bind(patient);
    for d in &doctors {
        q = q.bind(*d);
    }
    Ok(q.fetch_one(db.pool()).await? > 0)
}

/// The patient's visits, newest first, with the validated reports and the ECGs; audited.
pub async fn history(db: &Db, who: &Principal, patient: i64) -> Result<Vec<HistoryEntry>> {
    if !in_care_team(db, who, patient).await? {
        return Err(Error::new(
            ErrorKind::NotFound,
            "not_found",
            format!("patient {patient}'s history is for the doctors who care for him: you have no visit for him"),
        ));
    }
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT v.id AS visit_id, c.received_at, v.closed_at, v.status, c.motive, v.doctor_id, \
         u.display_name AS doctor_name, r.observations, r.validated_at \
         FROM visits v JOIN calls c ON c.id = v.call_id LEFT JOIN users u ON u.id = v.doctor_id \
         LEFT JOIN visit_reports r ON r.visit_id = v.id \
         WHERE v.patient_id = $1 ORDER BY c.received_at DESC LIMIT 100",
    )
    .bind(patient)
    .fetch_all(db.pool())
    .await?;
    let ecgs: Vec<HistoryEcg> = sqlx::query_as(
        "SELECT e.id, e.visit_id, e.format, e.heart_rate_bpm, e.acquired_at FROM ecg_recordings e \
         JOIN visits v ON v.id = e.visit_id JOIN visit_reports r ON r.visit_id = v.id \
         WHERE v.patient_id = $1 AND r.validated_at IS NOT NULL ORDER BY e.id",
    )
    .bind(patient)
    .fetch_all(db.pool())
    .await?;
    let mut tx = db.write(who.actor()).await?;
    if who.role == Role::Assistant {
        // Read for the first doctor of hers who cares for him.
        let for_doctor = rows
            .iter()
            .filter_map(|r| r.doctor_id)
            .find(|d| who.delegators.contains(d));
        tx.on_behalf_of(for_doctor);
    }
    tx.audit(
        "patient.history.read",
        "patient_record",
        patient,
        serde_json::json!({"visits": rows.len()}),
    )
    .await?;
    tx.commit().await?;
    let mut by_visit: std::collections::HashMap<i64, Vec<HistoryEcg>> = Default::default();
    for e in ecgs {
        by_visit.entry(e.visit_id).or_default().push(e);
    }
    Ok(rows
        .into_iter()
        .map(|r| {
            let report = match (r.validated_at, r.observations.as_deref()) {
                (Some(validated_at), Some(text)) => serde_json::from_str::<Observations>(text)
                    .ok()
                    .map(|o| HistoryReport {
                        validated_at,
                        diagnoses: o.diagnoses,
                        history: o.history,
                        examination: o.examination,
                        ecg_interpretation: o.ecg_interpretation,
                        treatment: o.treatment,
                        prescriptions: o.prescriptions,
                        orientation: o.orientation,
                        follow_up: o.follow_up,
                    }),
                _ => None,
            };
            HistoryEntry {
                visit_id: r.visit_id,
                received_at: r.received_at,
                closed_at: r.closed_at,
                status: r.status,
                motive: r.motive,
                doctor: r.doctor_id.map(|id| Named {
                    id,
                    name: r.doctor_name.unwrap_or_default(),
                }),
                ecgs: by_visit.remove(&r.visit_id).unwrap_or_default(),
                report,
            }
        })
        .collect())
}
