//! The report of a visit: drafted by the doctor or by an assistant he delegated to, validated by
//! the doctor alone. Validating closes the visit (if still on site), remembers the treating
//! physician and queues the letter to him (see `letters.rs`).
//!
//! Medical content is for the doctor, his assistants and, once validated, the nurses of the
//! patient's EHPAD; dispatchers see that a report exists, not what it says.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::auth::Principal;
use crate::domain::report::Observations;
use crate::domain::VisitStatus;
use crate::services::reports::{
    audit_read, check_writer, load_report, readable_medical, report_access, ReportAccess,
    ReportStatus, ReportView,
};
use crate::services::views::{TreatingPhysician, VisitView};
use crate::store::Audience;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(get_report, save_report))
        .routes(routes!(validate_report))
}

#[utoipa::path(get, path = "/visits/{id}/report", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, body = ReportView), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn get_report(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<ReportView>> {
    let (visit, _) = readable_medical(&state.db, &who, id).await?;
    let report = load_report(&state.db, id).await?;
    audit_read(
        &state.db,
        &who,
        &visit,
        "report.read",
        serde_json::json!({}),
    )
    .await?;
    Ok(Json(report))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SaveReport {
    pub observations: Observations,
    /// The version the writer started from (0 for a new report).
    pub version: i64,
}

#[utoipa::path(put, path = "/visits/{id}/report", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")), request_body = SaveReport,
    responses((status = 200, body = ReportView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn save_report(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<SaveReport>,
) -> Result<Json<ReportView>> {
    let visit = crate::services::visits::visible_visit(&state.db, &who, id).await?;
    let on_behalf = check_writer(&who, &visit)?;
    body.observations.check().map_err(Error::from)?;
    let json = serde_json::to_string(&body.observations).map_err(|_| Error::internal())?;
    let drafted_by = on_behalf.map(|_| who.user_id);

    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let done = if body.version == 0 {
        sqlx::query(
            "INSERT INTO visit_reports (visit_id, observations, drafted_by, updated_by, updated_at, version) \
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(id)
        .bind(&json)
        .bind(drafted_by)
        .bind(who.user_id)
        .bind(now)
        .execute(tx.conn())
        .await
        .map_err(|e| match Error::from(e) {
            e if e.kind == crate::error::ErrorKind::Conflict => Error::conflict(
                "someone else started this report meanwhile: reload it",
            )
            .with_field("version"),
            e => e,
        })?
        .rows_affected()
    } else {
        // An assistant's draft stays hers until the doctor validates it.
        sqlx::query(
            "UPDATE visit_reports SET observations = $1, drafted_by = COALESCE($2, drafted_by), \
             updated_by = $3, updated_at = $4, version = version + 1 \
             WHERE visit_id = $5 AND version = $6 AND validated_at IS NULL",
        )
        .bind(&json)
        .bind(drafted_by)
        .bind(who.user_id)
        .bind(now)
        .bind(id)
        .bind(body.version)
        .execute(tx.conn())
        .await?
        .rows_affected()
    };
    if done == 0 {
        drop(tx);
        let current = load_report(&state.db, id).await?;
        return Err(match current.status {
            ReportStatus::Validated => {
                Error::conflict("this report is validated: it can no longer change")
            }
            _ => Error::conflict(format!(
                "this report changed meanwhile (version {} now): reload it",
                current.version
            )),
        }
        .with_field("version"));
    }
    tx.audit(
        "report.save",
        "visit",
        id,
        serde_json::json!({"version": body.version + 1}),
    )
    .await?;
    tx.publish(
        crate::store::EventKind::ReportUpdated,
        serde_json::json!({"visit_id": id, "status": "draft", "version": body.version + 1}),
        Audience {
            doctor_id: visit.doctor.as_ref().map(|d| d.id),
            ..Default::default()
        },
    );
    tx.commit().await?;
    Ok(Json(load_report(&state.db, id).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateReport {
    /// The version the doctor read and validates.
    pub version: i64,
    /// The treating physician to send the letter to (remembered for the patient); the patient's
    /// known one when absent.
    #[serde(default)]
    pub treating_physician: Option<TreatingPhysician>,
}

/// The result of a validation: the report, the visit (closed) and the letter queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct Validated {
    pub report: ReportView,
    pub visit: VisitView,
    pub letter: crate::services::letters::LetterView,
}

#[utoipa::path(post, path = "/visits/{id}/report/validate", tag = "reports", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")), request_body = ValidateReport,
    responses((status = 200, body = Validated), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn validate_report(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(body): ApiJson<ValidateReport>,
) -> Result<Json<Validated>> {
    let visit = crate::services::visits::visible_visit(&state.db, &who, id).await?;
    if report_access(&who, &visit) != ReportAccess::Doctor {
        return Err(
            Error::forbidden("only the visit's doctor validates its report")
                .because(Reason::DoctorValidates),
        );
    }
    check_writer(&who, &visit)?;
    let report = load_report(&state.db, id).await?;
    match report.status {
        ReportStatus::Empty => {
            return Err(Error::invalid("observations", "the report is empty").because(Reason::Required))
        }
        ReportStatus::Validated => {
            return Err(Error::conflict("this report is already validated").with_field("version"))
        }
        ReportStatus::Draft if report.version != body.version => {
            return Err(Error::conflict(format!(
                "this report changed since you read it (version {} now): read it again before validating",
                report.version
            ))
            .with_field("version"))
        }
        ReportStatus::Draft => {}
    }
    report.observations.check_complete().map_err(Error::from)?;
    if let Some(tp) = &body.treating_physician {
        crate::services::patients::check_treating_physician(tp, "treating_physician")?;
    }
    if matches!(visit.status, VisitStatus::Assigned | VisitStatus::EnRoute) {
        return Err(
            Error::conflict("the visit has not started: set it on site first").with_field("status"),
        );
    }
    // The letter is made before anything is written: a letter that cannot be made stops here.
    let letter = crate::services::letters::prepare(
        &state.db,
        &visit,
        &report,
        body.treating_physician.as_ref(),
    )
    .await?;

    // Closing the visit and validating its report are one write.
    let mut tx = state.db.write(who.actor()).await?;
    if visit.status == VisitStatus::OnSite {
        crate::services::visits::close_in(&mut tx, &who, &visit).await?;
    }
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE visit_reports SET validated_by = $1, validated_at = $2, version = version + 1 \
         WHERE visit_id = $3 AND version = $4 AND validated_at IS NULL",
    )
    .bind(who.user_id)
    .bind(now)
    .bind(id)
    .bind(body.version)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Err(
            Error::conflict("this report changed meanwhile: read it again").with_field("version"),
        );
    }
    if let Some(tp) = &body.treating_physician {
        sqlx::query(
            "UPDATE patients SET treating_physician_name = $1, treating_physician_rpps = $2, \
             treating_physician_mssante = $3, updated_at = $4 WHERE id = $5",
        )
        .bind(&tp.name)
        .bind(&tp.rpps)
        .bind(&tp.mssante)
        .bind(now)
        .bind(visit.patient.id)
        .execute(tx.conn())
        .await?;
        tx.audit(
            "patient.treating_physician",
            "patient",
            visit.patient.id,
            serde_json::json!({"rpps": tp.rpps, "from_visit": id}),
        )
        .await?;
    }
    let letter_id = crate::services::letters::insert(&mut tx, &who, &visit, letter).await?;
    tx.audit(
        "report.validate",
        "visit",
        id,
        serde_json::json!({"version": body.version + 1, "letter_id": letter_id}),
    )
    .await?;
    tx.publish(
        crate::store::EventKind::ReportUpdated,
        serde_json::json!({"visit_id": id, "status": "validated", "version": body.version + 1}),
        Audience {
            doctor_id: visit.doctor.as_ref().map(|d| d.id),
            institution_id: visit.institution_id,
            network_id: None,
        },
    );
    tx.commit().await?;
    let validated = Validated {
        report: load_report(&state.db, id).await?,
        visit: crate::services::visits::visible_visit(&state.db, &who, id).await?,
        letter: crate::services::letters::load(&state.db, id)
            .await?
            .ok_or_else(Error::internal)?,
    };
    // The outbox may take it from here (it also polls, should this wake-up be missed).
    state.letters_wakeup.notify_one();
    Ok(Json(validated))
}
