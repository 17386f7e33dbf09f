//! Who may read and write a visit's report: the visit's doctor, the assistants he delegated to
//! (recorded on his behalf), and, once validated, the nurses of the patient's EHPAD.

use crate::auth::Principal;
use crate::domain::{Role, VisitStatus};
use crate::error::{Error, Result};
use crate::store::Db;

use super::views::VisitView;

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

/// The visit, if `who` may read its report (and the report itself is readable to them).
pub async fn readable_visit(
    db: &Db,
    who: &Principal,
    id: i64,
) -> Result<(VisitView, ReportAccess)> {
    let visit = crate::services::visits::visible_visit(db, who, id).await?;
    let access = report_access(who, &visit);
    if access == ReportAccess::None {
        return Err(Error::forbidden(
            "the report of a visit is for its doctor and the assistants he delegated to",
        ));
    }
    Ok((visit, access))
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
