//! Patients: identity (INS-ready), address, treating physician, and their history with the
//! association. Each person sees only the patients their role lets them see.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, FieldResult, Result};
use super::extract::{ApiJson, ApiPath, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::domain::{BirthDate, Role};
use crate::services::patients::*;
use crate::services::views::{
    patient_scope, patient_view, visit_scope, Address, PatientRow, PatientView, TreatingPhysician,
    VisitRow, VisitView, PATIENT_SELECT, VISIT_SELECT,
};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(search_patients, add_patient))
        .routes(routes!(get_patient, update_patient))
        .routes(routes!(patient_history))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PatientQuery {
    /// Part of a name (birth or used name, or first names), case-insensitive.
    pub q: Option<String>,
    /// Birth date, YYYY-MM-DD.
    pub birth_date: Option<String>,
    pub limit: Option<i64>,
}

/// Find patients by name or birth date, among those you may see.
#[utoipa::path(get, path = "/patients", tag = "patients", security(("bearer" = [])),
    params(PatientQuery),
    responses((status = 200, body = Vec<PatientView>)))]
async fn search_patients(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<PatientQuery>,
) -> Result<Json<Vec<PatientView>>> {
    let limit = q.limit.unwrap_or(50).clamp(1, 500);
    let pattern =
        q.q.as_deref()
            .map(|s| format!("%{}%", s.trim().to_lowercase()));
    let sql = format!(
        "{PATIENT_SELECT} WHERE ({}) \
         AND ($2 IS NULL OR LOWER(p.birth_name) LIKE $2 OR LOWER(p.used_name) LIKE $2 OR LOWER(p.first_names) LIKE $2) \
         AND (p.birth_date = $3 OR $3 IS NULL) ORDER BY p.birth_name, p.first_names LIMIT $4",
        patient_scope(&who, 1)
    );
    let rows: Vec<PatientRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(pattern)
        .bind(q.birth_date)
        .bind(limit)
        .fetch_all(state.db.pool())
        .await?;
    Ok(Json(rows.into_iter().map(PatientView::from).collect()))
}

/// Register a patient: staff, or an EHPAD nurse for a resident of her institution.
#[utoipa::path(post, path = "/patients", tag = "patients", security(("bearer" = [])),
    request_body = NewPatient,
    responses((status = 201, body = PatientView), (status = 422, body = ErrorBody)))]
async fn add_patient(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewPatient>,
) -> Result<(StatusCode, Json<PatientView>)> {
    let institution_id = match who.role {
        Role::Admin | Role::Dispatcher => new.institution_id,
        Role::EhpadNurse => {
            if new.institution_id.is_some() && new.institution_id != who.institution_id {
                return Err(Error::invalid(
                    "institution_id",
                    "you may register residents of your own institution only",
                ));
            }
            who.institution_id
        }
        _ => {
            return Err(Error::forbidden(
                "only the association's staff and EHPAD nurses register patients",
            ))
        }
    };
    new.check("")?;
    let mut tx = state.db.write(who.actor()).await?;
    let id = create_patient(&mut tx, &new, institution_id).await?;
    tx.commit().await?;
    let view = patient_view(state.db.pool(), id)
        .await?
        .ok_or_else(Error::internal)?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A patient with his visits by the association (those you may see), newest first.
#[derive(Serialize, ToSchema)]
pub struct PatientRecord {
    #[serde(flatten)]
    pub patient: PatientView,
    pub visits: Vec<VisitView>,
}

async fn visible_patient(state: &Hub, who: &Principal, id: i64) -> Result<PatientView> {
    let sql = format!(
        "{PATIENT_SELECT} WHERE p.id = $2 AND ({})",
        patient_scope(who, 1)
    );
    let row: Option<PatientRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(id)
        .fetch_optional(state.db.pool())
        .await?;
    row.map(PatientView::from)
        .ok_or_else(|| Error::not_found(format!("patient {id}")))
}

#[utoipa::path(get, path = "/patients/{id}", tag = "patients", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = PatientRecord), (status = 404, body = ErrorBody)))]
async fn get_patient(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<PatientRecord>> {
    let patient = visible_patient(&state, &who, id).await?;
    // The patient's history with the association: staff and the treating doctors see all of it.
    // An EHPAD nurse sees only her institution's requests.
    let scope = match who.role {
        Role::Doctor | Role::Assistant | Role::Admin | Role::Dispatcher => {
            "$1 IS NOT NULL".to_owned()
        }
        _ => visit_scope(&who, 1),
    };
    let sql = format!("{VISIT_SELECT} WHERE v.patient_id = $2 AND ({scope}) ORDER BY c.received_at DESC LIMIT 200");
    let rows: Vec<VisitRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(id)
        .fetch_all(state.db.pool())
        .await?;
    Ok(Json(PatientRecord {
        patient,
        visits: rows.into_iter().map(VisitView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PatientUpdate {
    #[serde(default)]
    #[schema(max_length = 100)]
    pub used_name: Option<String>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    #[serde(default)]
    pub address: Option<Address>,
    #[serde(default)]
    pub treating_physician: Option<TreatingPhysician>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub nir: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub birth_place_code: Option<String>,
    /// YYYY-MM-DD; only when none is on file (a birth date is part of the identity).
    #[serde(default)]
    #[schema(max_length = 32)]
    pub birth_date: Option<String>,
}

/// Update a patient's contact details, treating physician or INS data (anyone who may see him
/// but a partner nurse; an assistant acts for her doctor).
#[utoipa::path(patch, path = "/patients/{id}", tag = "patients", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = PatientUpdate,
    responses((status = 200, body = PatientView), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_patient(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(up): ApiJson<PatientUpdate>,
) -> Result<Json<PatientView>> {
    let before = visible_patient(&state, &who, id).await?;
    // The same checks as at creation.
    if let Some(v) = &up.used_name {
        at_most("used_name", v, 100)?;
    }
    if let Some(v) = &up.phone {
        check_phone("phone", v)?;
    }
    if let Some(code) = &up.birth_place_code {
        check_birth_place("birth_place_code", code)?;
    }
    if let Some(a) = &up.address {
        check_address(a, "address")?;
    }
    if let Some(t) = &up.treating_physician {
        check_treating_physician(t, "treating_physician")?;
    }
    let nir = up
        .nir
        .as_deref()
        .map(check_nir)
        .transpose()
        .map_err(|e| Error::from(e).with_field("nir"))?;
    if let Some(d) = &up.birth_date {
        BirthDate::parse(d, chrono::Utc::now().date_naive()).field("birth_date")?;
        if before.birth_date.as_ref().is_some_and(|b| b != d) {
            return Err(Error::conflict(
                "the birth date is part of the patient's identity: it is set once, corrected by the identity team",
            )
            .with_field("birth_date"));
        }
    }
    let on_behalf = if who.role == Role::Assistant {
        // Record the doctor she works for on this patient.
        let doctor: Option<i64> = sqlx::query_scalar(
            "SELECT v.doctor_id FROM visits v JOIN delegations g ON g.doctor_id = v.doctor_id \
             WHERE v.patient_id = $1 AND g.assistant_id = $2 AND g.revoked_at IS NULL AND g.accepted_at IS NOT NULL ORDER BY v.id DESC LIMIT 1",
        )
        .bind(id)
        .bind(who.user_id)
        .fetch_optional(state.db.pool())
        .await?;
        doctor
    } else {
        None
    };
    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let mut changes = serde_json::Map::new();
    if let Some(v) = &up.used_name {
        sqlx::query("UPDATE patients SET used_name = $1 WHERE id = $2")
            .bind(v.trim().to_uppercase())
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("used_name".into(), serde_json::json!("changed"));
    }
    if let Some(v) = &up.phone {
        sqlx::query("UPDATE patients SET phone = $1 WHERE id = $2")
            .bind(v)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("phone".into(), serde_json::json!("changed"));
    }
    if let Some(a) = &up.address {
        sqlx::query("UPDATE patients SET address_line = $1, postcode = $2, city = $3, lat = $4, lon = $5 WHERE id = $6")
            .bind(&a.line)
            .bind(&a.postcode)
            .bind(&a.city)
            .bind(a.lat)
            .bind(a.lon)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("address".into(), serde_json::json!("changed"));
    }
    if let Some(t) = &up.treating_physician {
        sqlx::query("UPDATE patients SET treating_physician_name = $1, treating_physician_rpps = $2, treating_physician_mssante = $3 WHERE id = $4")
            .bind(&t.name)
            .bind(&t.rpps)
            .bind(&t.mssante)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("treating_physician".into(), serde_json::json!({"before": before.treating_physician.map(|t| t.name), "after": t.name}));
    }
    if let Some(n) = nir {
        sqlx::query("UPDATE patients SET nir = $1 WHERE id = $2")
            .bind(n)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("nir".into(), serde_json::json!("changed"));
    }
    if let Some(d) = &up.birth_date {
        sqlx::query("UPDATE patients SET birth_date = $1 WHERE id = $2")
            .bind(d)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("birth_date".into(), serde_json::json!("set"));
    }
    if let Some(c) = &up.birth_place_code {
        sqlx::query("UPDATE patients SET birth_place_code = $1 WHERE id = $2")
            .bind(c)
            .bind(id)
            .execute(tx.conn())
            .await?;
        changes.insert("birth_place_code".into(), serde_json::json!("changed"));
    }
    sqlx::query("UPDATE patients SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(tx.conn())
        .await?;
    tx.audit(
        "patient.update",
        "patient",
        id,
        serde_json::Value::Object(changes),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(
        patient_view(state.db.pool(), id)
            .await?
            .ok_or_else(Error::internal)?,
    ))
}

#[cfg(test)]
mod tests {
    use super::check_nir;

    #[test]
    fn nir_keys_are_checked() {
        // 1 84 12 76 451 089, key 97 - (1841276451089 mod 97).
        let body = 1841276451089u64;
        let key = 97 - body % 97;
        assert!(check_nir(&format!("{body}{key:02}")).is_ok());
        assert!(check_nir(&format!("{body}{:02}", (key + 1) % 100)).is_err());
        assert!(check_nir("123").is_err());
    }
}

/// The patient's history with the association, for the care team: each earlier visit with its
/// validated report (diagnoses, examination, treatment, orientation) and ECGs, newest first. A
/// doctor with a visit for this patient (or an assistant for him) only; each read is audited.
#[utoipa::path(get, path = "/patients/{id}/history", tag = "patients", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<crate::services::history::HistoryEntry>), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn patient_history(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<crate::services::history::HistoryEntry>>> {
    crate::services::history::history(&state.db, &who, id)
        .await
        .map(Json)
}
