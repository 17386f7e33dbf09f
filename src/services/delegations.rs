//! Delegations: a doctor lets a named assistant act for him. The assistant then works under her
//! own account and every action records both names. An admin may propose one for a doctor; it
//! takes effect only once the doctor accepts it (one the doctor creates is in force at once).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::Role;
use crate::error::{Error, ErrorKind, Result};
use crate::store::{Db, Ts};

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct DelegationView {
    pub id: i64,
    pub doctor_id: i64,
    pub doctor_name: String,
    pub assistant_id: i64,
    pub assistant_name: String,
    pub granted_by: Option<i64>,
    pub created_at: Ts,
    /// When the doctor accepted it (or created it); until then it gives no right.
    pub accepted_at: Option<Ts>,
    pub revoked_at: Option<Ts>,
}

const DELEGATION_SELECT: &str = "SELECT g.id, g.doctor_id, du.display_name AS doctor_name, g.assistant_id, \
    au.display_name AS assistant_name, g.granted_by, g.created_at, g.accepted_at, g.revoked_at \
    FROM delegations g JOIN users du ON du.id = g.doctor_id JOIN users au ON au.id = g.assistant_id";

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewDelegation {
    pub doctor_id: i64,
    pub assistant_id: i64,
}

/// Delegations in force or waiting for the doctor: all for an admin, his own for a doctor, hers
/// for an assistant.
pub async fn in_force(db: &Db, who: &Principal) -> Result<Vec<DelegationView>> {
    let filter = match who.role {
        Role::Admin => "1 = 1",
        Role::Doctor => "g.doctor_id = $1",
        Role::Assistant => "g.assistant_id = $1",
        _ => {
            return Err(Error::forbidden(
                "only admins, doctors and assistants have delegations",
            ))
        }
    };
    let sql =
        format!("{DELEGATION_SELECT} WHERE g.revoked_at IS NULL AND ({filter}) ORDER BY g.id");
    let mut q = sqlx::query_as::<_, DelegationView>(&sql);
    if who.role != Role::Admin {
        q = q.bind(who.user_id);
    }
    Ok(q.fetch_all(db.pool()).await?)
}

async fn role_of(db: &Db, id: i64) -> Result<Option<Role>> {
    Ok(
        sqlx::query_scalar("SELECT role FROM users WHERE id = $1 AND disabled_at IS NULL")
            .bind(id)
            .fetch_optional(db.pool())
            .await?,
    )
}

/// Grants a doctor's rights to an assistant: by the doctor himself (in force at once) or proposed
/// by an admin (in force once the doctor accepts).
pub async fn grant(db: &Db, who: &Principal, new: &NewDelegation) -> Result<DelegationView> {
    let allowed =
        who.role == Role::Admin || (who.role == Role::Doctor && who.user_id == new.doctor_id);
    if !allowed {
        return Err(Error::forbidden(
            "only the doctor himself or an admin may delegate a doctor's rights",
        ));
    }
    if role_of(db, new.doctor_id).await? != Some(Role::Doctor) {
        return Err(Error::invalid(
            "doctor_id",
            "this account is not an active doctor",
        ));
    }
    if role_of(db, new.assistant_id).await? != Some(Role::Assistant) {
        return Err(Error::invalid(
            "assistant_id",
            "rights can be delegated only to an active assistant account",
        ));
    }
    let mut tx = db.write(who.actor()).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO delegations (doctor_id, assistant_id, granted_by, created_at, accepted_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(new.doctor_id)
    .bind(new.assistant_id)
    .bind(who.user_id)
    .bind(tx.now())
    .bind((who.user_id == new.doctor_id).then_some(tx.now()))
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match Error::from(e) {
        err if err.kind == ErrorKind::Conflict => {
            Error::conflict("this assistant already acts for this doctor").with_field("assistant_id")
        }
        err => err,
    })?;
    tx.audit(
        "delegation.grant",
        "delegation",
        id,
        serde_json::json!({"doctor_id": new.doctor_id, "assistant_id": new.assistant_id,
            "accepted": who.user_id == new.doctor_id}),
    )
    .await?;
    tx.commit().await?;
    one(db, id).await
}

async fn one(db: &Db, id: i64) -> Result<DelegationView> {
    let sql = format!("{DELEGATION_SELECT} WHERE g.id = $1");
    Ok(sqlx::query_as(&sql).bind(id).fetch_one(db.pool()).await?)
}

/// The doctor accepts a delegation an admin proposed for him: the assistant may act for him
/// from now on. Only the doctor himself accepts.
pub async fn accept(db: &Db, who: &Principal, id: i64) -> Result<DelegationView> {
    let doctor: Option<i64> = sqlx::query_scalar(
        "SELECT doctor_id FROM delegations WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(doctor) = doctor else {
        return Err(Error::not_found(format!("delegation {id}")));
    };
    if !(who.role == Role::Doctor && who.user_id == doctor) {
        return Err(Error::forbidden(
            "only the doctor himself accepts a delegation of his rights",
        ));
    }
    let mut tx = db.write(who.actor()).await?;
    let done = sqlx::query(
        "UPDATE delegations SET accepted_at = $1 WHERE id = $2 AND revoked_at IS NULL AND accepted_at IS NULL",
    )
    .bind(tx.now())
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(Error::conflict(
            "this delegation is already accepted or has ended",
        ));
    }
    tx.audit(
        "delegation.accept",
        "delegation",
        id,
        serde_json::json!({"doctor_id": doctor}),
    )
    .await?;
    tx.commit().await?;
    one(db, id).await
}

/// Ends a delegation (or declines a proposed one): by the doctor or an admin. The assistant
/// loses access at once.
pub async fn revoke(db: &Db, who: &Principal, id: i64) -> Result<()> {
    let doctor: Option<i64> = sqlx::query_scalar(
        "SELECT doctor_id FROM delegations WHERE id = $1 AND revoked_at IS NULL",
    )
    .bind(id)
    .fetch_optional(db.pool())
    .await?;
    let Some(doctor) = doctor else {
        return Err(Error::not_found(format!("delegation {id}")));
    };
    if !(who.role == Role::Admin || (who.role == Role::Doctor && who.user_id == doctor)) {
        return Err(Error::forbidden(
            "only the doctor himself or an admin may end this delegation",
        ));
    }
    let mut tx = db.write(who.actor()).await?;
    let done = sqlx::query("UPDATE delegations SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND revoked_at IS NULL")
        .bind(tx.now())
        .bind(who.user_id)
        .bind(id)
        .execute(tx.conn())
        .await?;
    if done.rows_affected() == 0 {
        return Err(Error::not_found(format!("delegation {id}")));
    }
    tx.audit(
        "delegation.revoke",
        "delegation",
        id,
        serde_json::json!({"doctor_id": doctor}),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}
