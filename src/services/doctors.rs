//! Doctors' live status, audited and published.

use crate::domain::DoctorStatus;
use crate::error::Result;
use crate::store::{Audience, WriteTx};

/// Sets a doctor's status inside `tx`, audited and published. False if there is no such doctor.
pub async fn update_status(tx: &mut WriteTx, id: i64, status: DoctorStatus) -> Result<bool> {
    let before: Option<DoctorStatus> =
        sqlx::query_scalar("SELECT status FROM doctors WHERE user_id = $1")
            .bind(id)
            .fetch_optional(tx.conn())
            .await?;
    let Some(before) = before else {
        return Ok(false);
    };
    if before == status {
        return Ok(true);
    }
    let now = tx.now();
    sqlx::query("UPDATE doctors SET status = $1, status_at = $2 WHERE user_id = $3")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        "doctor.status",
        "doctor",
        id,
        serde_json::json!({"status": [before, status]}),
    )
    .await?;
    tx.publish(
        crate::store::EventKind::DoctorStatus,
        serde_json::json!({"doctor_id": id, "status": status, "status_at": now}),
        Audience {
            doctor_id: Some(id),
            ..Default::default()
        },
    );
    Ok(true)
}
