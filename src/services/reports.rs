//! Who may read and write a visit's report: the visit's doctor, the assistants he delegated to
//! (recorded on his behalf), and, once validated, the nurses of the patient's EHPAD; and the
//! report as its readers see it.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::report::Observations;
use crate::domain::{Role, VisitStatus};
use crate::error::{Error, Result};
use crate::store::{Db, Ts};

use super::views::{Named, VisitView};

/// What `who` may do with the report of `visit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAccess {
    /// The visit's doctor.
    Doctor,
    /// An assistant the visit's doctor delegated to.
    Assistant {
        doctor_id: i64,
    },
    /// Reads a validated report (the nurses of the patient's EHPAD).
    ReadValidated,
    None,
}

pub fn report_access(who: &Principal, visit: &VisitView) -> ReportAccess {
    if let Some(doctor) = visit.doctor.as_ref().map(|d| d.id) {
        match who.acts_for_doctor(doctor) {
            Some(None) => return ReportAccess::Doctor,
            Some(Some(doctor_id)) => return ReportAccess::Assistant { doctor_id },
            None => {}
        }
    }
    if who.role == Role::EhpadNurse
        && visit.institution_id.is_some()
        && visit.institution_id == who.institution_id
    {
        return ReportAccess::ReadValidated;
    }
    ReportAccess::None
}

/// Visit `id`, if `who` (a doctor, an assistant) is in the care team of its patient.
async fn care_team_visit(db: &Db, who: &Principal, id: i64) -> Result<Option<VisitView>> {
    if !matches!(who.role, Role::Doctor | Role::Assistant) {
        return Ok(None);
    }
    let Some(visit) = super::views::visit_view(db.pool(), id).await? else {
        return Ok(None);
    };
    Ok(super::history::in_care_team(db, who, visit.patient.id)
        .await?
        .then_some(visit))
}

/// The visit, if `who` may read its report (and the report itself is readable to them).
pub async fn readable_visit(
    db: &Db,
    who: &Principal,
    id: i64,
) -> Result<(VisitView, ReportAccess)> {
    let visit = match crate::services::visits::visible_visit(db, who, id).await {
        Ok(v) => v,
        // An earlier visit of a patient this doctor cares for now: its validated report and
        // ECGs are his to read (`services::history`); `readable_medical` checks the validation.
        Err(e) if e.kind == crate::error::ErrorKind::NotFound => {
            match care_team_visit(db, who, id).await? {
                Some(v) => return Ok((v, ReportAccess::ReadValidated)),
                None => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let access = report_access(who, &visit);
    if access == ReportAccess::None {
        return Err(Error::forbidden(
            "the report of a visit is for its doctor and the assistants he delegated to",
        ));
    }
    Ok((visit, access))
}

/// The visit, if `who` may read its medical content now (its report and ECGs): its doctor and
/// his assistants always, the patient's EHPAD once the doctor validated the report. Anyone else,
/// or the EHPAD before, is told there is nothing (404).
pub async fn readable_medical(
    db: &Db,
    who: &Principal,
    id: i64,
) -> Result<(VisitView, ReportAccess)> {
    let (visit, access) = readable_visit(db, who, id).await?;
    if access == ReportAccess::ReadValidated {
        let validated: Option<Option<Ts>> =
            sqlx::query_scalar("SELECT validated_at FROM visit_reports WHERE visit_id = $1")
                .bind(id)
                .fetch_optional(db.pool())
                .await?;
        if validated.flatten().is_none() {
            return Err(Error::not_found(format!("the report of visit {id}")));
        }
    }
    Ok((visit, access))
}

/// Records that `who` read medical content of `visit` (`action` such as `report.read`; `detail`
/// names the ECG or letter), and for an assistant the doctor she read it for. Reads change
/// nothing, but who looked at a patient's record is part of the record: the trail of entity
/// `visit_record` (apart from the visit's own changes).
pub async fn audit_read(
    db: &Db,
    who: &Principal,
    visit: &VisitView,
    action: &str,
    detail: serde_json::Value,
) -> Result<()> {
    let mut tx = db.write(who.actor()).await?;
    if let ReportAccess::Assistant { doctor_id } = report_access(who, visit) {
        tx.on_behalf_of(Some(doctor_id));
    }
    tx.audit(action, "visit_record", visit.id, detail).await?;
    tx.commit().await?;
    Ok(())
}

/// Checks that `who` may write the report of `visit` now; returns the "on behalf of" to record.
pub fn check_writer(who: &Principal, visit: &VisitView) -> Result<Option<i64>> {
    let on_behalf = match report_access(who, visit) {
        ReportAccess::Doctor => None,
        ReportAccess::Assistant { doctor_id } => Some(doctor_id),
        _ => {
            return Err(Error::forbidden(
                "only the visit's doctor, or an assistant he delegated to, writes its report",
            ))
        }
    };
    match visit.status {
        VisitStatus::Assigned
        | VisitStatus::EnRoute
        | VisitStatus::OnSite
        | VisitStatus::Closed => Ok(on_behalf),
        s => {
            Err(Error::conflict(format!("a visit that is {s} has no report")).with_field("status"))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReportStatus {
    /// Nothing written yet.
    Empty,
    Draft,
    Validated,
}

/// A visit's report as its readers see it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ReportView {
    pub visit_id: i64,
    pub status: ReportStatus,
    pub observations: Observations,
    /// The assistant who drafted it for the doctor, if any.
    pub drafted_by: Option<Named>,
    pub updated_by: Option<Named>,
    pub updated_at: Option<Ts>,
    pub validated_by: Option<Named>,
    pub validated_at: Option<Ts>,
    /// Send it back with the next change: a report changed meanwhile is not overwritten.
    pub version: i64,
}

#[derive(sqlx::FromRow)]
struct ReportRow {
    observations: String,
    drafted_by: Option<i64>,
    drafted_by_name: Option<String>,
    updated_by: i64,
    updated_by_name: String,
    updated_at: Ts,
    validated_by: Option<i64>,
    validated_by_name: Option<String>,
    validated_at: Option<Ts>,
    version: i64,
}

const REPORT_SELECT: &str =
    "SELECT r.observations, r.drafted_by, d.display_name AS drafted_by_name, \
     r.updated_by, u.display_name AS updated_by_name, r.updated_at, r.validated_by, \
     w.display_name AS validated_by_name, r.validated_at, r.version \
     FROM visit_reports r JOIN users u ON u.id = r.updated_by \
     LEFT JOIN users d ON d.id = r.drafted_by LEFT JOIN users w ON w.id = r.validated_by \
     WHERE r.visit_id = $1";

/// The report of visit `visit_id` (empty when nothing is written yet). Access is the caller's.
pub async fn load_report(db: &Db, visit_id: i64) -> Result<ReportView> {
    let row: Option<ReportRow> = sqlx::query_as(REPORT_SELECT)
        .bind(visit_id)
        .fetch_optional(db.pool())
        .await?;
    let Some(r) = row else {
        return Ok(ReportView {
            visit_id,
            status: ReportStatus::Empty,
            observations: Observations::default(),
            drafted_by: None,
            updated_by: None,
            updated_at: None,
            validated_by: None,
            validated_at: None,
            version: 0,
        });
    };
    let person =
        |id: Option<i64>, name: Option<String>| id.zip(name).map(|(id, name)| Named { id, name });
    Ok(ReportView {
        visit_id,
        status: if r.validated_at.is_some() {
            ReportStatus::Validated
        } else {
            ReportStatus::Draft
        },
        observations: serde_json::from_str(&r.observations).map_err(|e| {
            // The error could quote the report: log where, not what.
            tracing::error!(
                visit_id,
                line = e.line(),
                column = e.column(),
                "a stored report does not parse"
            );
            Error::internal()
        })?,
        drafted_by: person(r.drafted_by, r.drafted_by_name),
        updated_by: person(Some(r.updated_by), Some(r.updated_by_name)),
        updated_at: Some(r.updated_at),
        validated_by: person(r.validated_by, r.validated_by_name),
        validated_at: r.validated_at,
        version: r.version,
    })
}
