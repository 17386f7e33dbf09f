//! The letter of a visit to the treating physician: made when the doctor validates the report,
//! delivered by the outbox (`crate::letters`). Who reads it (the report's readers but the
//! EHPAD's), who handles it (the doctor and his assistants), its retry and its recipient.

use serde::Serialize;
use utoipa::ToSchema;

use crate::auth::Principal;
pub use crate::domain::LetterStatus;
use crate::error::{Error, Reason, Result};
use crate::letters::gather;
use crate::services::reports::{
    load_report, readable_visit, ReportAccess, ReportStatus, ReportView,
};
use crate::services::views::{TreatingPhysician, VisitView};
use crate::store::{Audience, Db, Ts, WriteTx};
use chevet_letter::Forms;

#[derive(Debug, Clone, Serialize, ToSchema, sqlx::FromRow)]
pub struct LetterView {
    pub id: i64,
    pub visit_id: i64,
    pub status: LetterStatus,
    pub recipient_name: Option<String>,
    pub recipient_rpps: Option<String>,
    pub recipient_mssante: Option<String>,
    pub attempts: i64,
    pub next_attempt_at: Option<Ts>,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
    pub message_id: String,
    pub document_id: String,
    pub created_at: Ts,
    pub sent_at: Option<Ts>,
}

const LETTER_SELECT: &str = "SELECT id, visit_id, status, recipient_name, recipient_rpps, recipient_mssante, \
     attempts, next_attempt_at, last_error, message_id, document_id, created_at, sent_at FROM letters";

/// The letter of visit `visit_id`, if one was made. Access is the caller's.
pub async fn load(db: &Db, visit_id: i64) -> Result<Option<LetterView>> {
    Ok(
        sqlx::query_as(&format!("{LETTER_SELECT} WHERE visit_id = $1"))
            .bind(visit_id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// A letter made, not yet stored.
pub struct Prepared {
    document_id: String,
    message_id: String,
    recipient: Option<TreatingPhysician>,
    forms: Option<Forms>,
}

async fn forms_of(letter: chevet_letter::Letter) -> Result<Forms> {
    tokio::task::spawn_blocking(move || chevet_letter::all(&letter))
        .await
        .map_err(|_| Error::internal())?
        .map_err(|e| Error::invalid("letter", e.to_string()))
}

/// The letter of `report` for `recipient` (the patient's treating physician when None), as of now.
async fn draft_of(
    db: &Db,
    visit_id: i64,
    report: &ReportView,
    recipient: Option<&TreatingPhysician>,
    preview: bool,
) -> Result<crate::letters::Draft> {
    gather(
        db,
        visit_id,
        &report.observations,
        report.drafted_by.as_ref().map(|p| p.name.as_str()),
        recipient,
        chrono::Utc::now(),
        preview,
    )
    .await
}

/// Makes the letter of a report being validated by its doctor.
pub async fn prepare(
    db: &Db,
    visit: &VisitView,
    report: &ReportView,
    recipient: Option<&TreatingPhysician>,
) -> Result<Prepared> {
    let draft = draft_of(db, visit.id, report, recipient, false).await?;
    let document_id = draft
        .letter
        .as_ref()
        .map(|l| l.document.id.clone())
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let forms = match draft.letter {
        Some(letter) => Some(forms_of(letter).await?),
        None => None,
    };
    Ok(Prepared {
        document_id,
        message_id: draft.message_id,
        recipient: draft.recipient,
        forms,
    })
}

/// Tells the doctor's screens (and his assistants') that a letter changed.
fn publish_letter(tx: &mut WriteTx, visit: &VisitView, letter_id: i64, status: LetterStatus) {
    tx.publish(
        crate::store::EventKind::LetterUpdated,
        serde_json::json!({"visit_id": visit.id, "letter_id": letter_id, "status": status}),
        Audience {
            doctor_id: visit.doctor.as_ref().map(|d| d.id),
            ..Default::default()
        },
    );
}

/// Stores a prepared letter in the outbox (queued, or held without a recipient).
pub async fn insert(
    tx: &mut WriteTx,
    who: &Principal,
    visit: &VisitView,
    p: Prepared,
) -> Result<i64> {
    let visit_id = visit.id;
    let now = tx.now();
    let status = if p.forms.is_some() {
        LetterStatus::Queued
    } else {
        LetterStatus::Held
    };
    let r = p.recipient.as_ref();
    let f = p.forms.as_ref();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO letters (visit_id, document_id, message_id, recipient_name, recipient_rpps, \
         recipient_mssante, status, attempts, next_attempt_at, pdf, cda, fhir, xdm, created_by, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, 0, $8, $9, $10, $11, $12, $13, $14) RETURNING id",
    )
    .bind(visit_id)
    .bind(&p.document_id)
    .bind(&p.message_id)
    .bind(r.map(|r| r.name.clone()))
    .bind(r.and_then(|r| r.rpps.clone()))
    .bind(r.and_then(|r| r.mssante.clone()))
    .bind(status)
    .bind(now)
    .bind(f.map(|f| f.pdf.clone()))
    .bind(f.map(|f| f.cda_xml.clone()))
    .bind(f.map(|f| f.fhir_json.clone()))
    .bind(f.map(|f| f.xdm_zip.clone()))
    .bind(who.user_id)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "letter.create",
        "letter",
        id,
        serde_json::json!({"visit_id": visit_id, "status": status, "document_id": p.document_id}),
    )
    .await?;
    publish_letter(tx, visit, id, status);
    Ok(id)
}

/// The visit's letter, for readers of its report.
pub async fn readable(db: &Db, who: &Principal, id: i64) -> Result<LetterView> {
    let (visit, access) = readable_visit(db, who, id).await?;
    if access == ReportAccess::ReadValidated {
        return Err(Error::forbidden(
            "the letter is between the doctor and the treating physician",
        ));
    }
    let letter = load(db, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("the letter of visit {id}")))?;
    crate::services::reports::audit_read(
        db,
        who,
        &visit,
        "letter.read",
        serde_json::json!({"letter_id": letter.id}),
    )
    .await?;
    Ok(letter)
}

/// The PDF of the letter as sent, for readers of the report.
pub async fn pdf(db: &Db, who: &Principal, id: i64) -> Result<Vec<u8>> {
    let letter = readable(db, who, id).await?;
    let pdf: Option<Vec<u8>> = sqlx::query_scalar("SELECT pdf FROM letters WHERE id = $1")
        .bind(letter.id)
        .fetch_one(db.pool())
        .await?;
    pdf.ok_or_else(|| {
        Error::not_found(
            "the PDF of a letter without recipient (give the treating physician first)",
        )
    })
}

/// The PDF the current draft would make, for the doctor and his assistants.
pub async fn preview(db: &Db, who: &Principal, id: i64) -> Result<Vec<u8>> {
    let (visit, access) = readable_visit(db, who, id).await?;
    if access == ReportAccess::ReadValidated {
        return Err(Error::forbidden(
            "the preview is for the doctor and his assistants",
        ));
    }
    let report = load_report(db, id).await?;
    if report.status == ReportStatus::Empty {
        return Err(Error::invalid("observations", "the report is empty").because(Reason::Required));
    }
    let draft = draft_of(db, visit.id, &report, None, true).await?;
    let letter = draft.letter.ok_or_else(Error::internal)?;
    tokio::task::spawn_blocking(move || chevet_letter::pdf(&letter))
        .await
        .map_err(|_| Error::internal())?
        .map_err(|e| Error::invalid("letter", e.to_string()))
}

/// The letter as its doctor's side changes it: only the doctor and his assistants may. Returns
/// the visit, the letter and the doctor an assistant acts for (the "on behalf of" to record).
async fn writable(
    db: &Db,
    who: &Principal,
    id: i64,
) -> Result<(VisitView, LetterView, Option<i64>)> {
    let (visit, access) = readable_visit(db, who, id).await?;
    let on_behalf = match access {
        ReportAccess::Doctor => None,
        ReportAccess::Assistant { doctor_id } => Some(doctor_id),
        _ => {
            return Err(Error::forbidden(
                "only the visit's doctor and his assistants handle its letter",
            ))
        }
    };
    let letter = load(db, id)
        .await?
        .ok_or_else(|| Error::not_found(format!("the letter of visit {id}")))?;
    Ok((visit, letter, on_behalf))
}

/// Queues a failed letter again, now. The caller wakes the outbox.
pub async fn retry(db: &Db, who: &Principal, id: i64) -> Result<LetterView> {
    let (visit, letter, on_behalf) = writable(db, who, id).await?;
    let mut tx = db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE letters SET status = 'queued', next_attempt_at = $1, attempts = 0 WHERE id = $2 AND status IN ('failed', 'queued')",
    )
    .bind(now)
    .bind(letter.id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Err(Error::conflict(format!(
            "a letter that is {:?} cannot be retried",
            letter.status
        ))
        .with_field("status"));
    }
    tx.audit("letter.retry", "letter", letter.id, serde_json::json!({}))
        .await?;
    publish_letter(&mut tx, &visit, letter.id, LetterStatus::Queued);
    tx.commit().await?;
    load(db, id).await?.ok_or_else(Error::internal)
}

/// Gives a held (or not yet sent) letter its recipient, who becomes the patient's treating
/// physician; the letter is made again for him and queued. The caller wakes the outbox.
pub async fn set_recipient(
    db: &Db,
    who: &Principal,
    id: i64,
    recipient: &TreatingPhysician,
) -> Result<LetterView> {
    let (visit, letter, on_behalf) = writable(db, who, id).await?;
    crate::services::patients::check_treating_physician(recipient, "")?;
    if !matches!(
        letter.status,
        LetterStatus::Held | LetterStatus::Queued | LetterStatus::Failed
    ) {
        return Err(Error::conflict(
            "this letter is already on its way: its recipient can no longer change",
        )
        .with_field("status"));
    }
    if recipient.mssante.is_none() {
        return Err(Error::invalid(
            "mssante",
            "the letter goes by secure messaging: give the physician's MSSanté address",
        )
        .because(Reason::Required));
    }
    let report = load_report(db, id).await?;
    let draft = draft_of(db, id, &report, Some(recipient), false).await?;
    let letter_doc = draft.letter.ok_or_else(Error::internal)?;
    let document_id = letter_doc.document.id.clone();
    let forms = forms_of(letter_doc).await?;
    let mut tx = db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    // A new document (new id, new Message-ID): what was made for another recipient is not reused.
    // Not while an attempt is under way: the outbox's claim decides.
    let changed = sqlx::query(
        "UPDATE letters SET recipient_name = $1, recipient_rpps = $2, recipient_mssante = $3, status = 'queued', \
         attempts = 0, next_attempt_at = $4, last_error = NULL, document_id = $5, message_id = $6, \
         pdf = $7, cda = $8, fhir = $9, xdm = $10 WHERE id = $11 AND status IN ('held', 'queued', 'failed')",
    )
    .bind(&recipient.name)
    .bind(&recipient.rpps)
    .bind(&recipient.mssante)
    .bind(now)
    .bind(&document_id)
    .bind(&draft.message_id)
    .bind(&forms.pdf)
    .bind(&forms.cda_xml)
    .bind(&forms.fhir_json)
    .bind(&forms.xdm_zip)
    .bind(letter.id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(Error::conflict(
            "this letter is being sent right now: its recipient can no longer change",
        )
        .with_field("status"));
    }
    sqlx::query(
        "UPDATE patients SET treating_physician_name = $1, treating_physician_rpps = $2, \
         treating_physician_mssante = $3, updated_at = $4 WHERE id = $5",
    )
    .bind(&recipient.name)
    .bind(&recipient.rpps)
    .bind(&recipient.mssante)
    .bind(now)
    .bind(visit.patient.id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "letter.recipient",
        "letter",
        letter.id,
        serde_json::json!({"rpps": recipient.rpps, "document_id": document_id}),
    )
    .await?;
    publish_letter(&mut tx, &visit, letter.id, LetterStatus::Queued);
    tx.commit().await?;
    load(db, id).await?.ok_or_else(Error::internal)
}
