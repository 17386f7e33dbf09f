//! Looking things up while writing a report: practitioners (to find the treating physician and
//! his secure messaging address), ICD-10 codes, and the association's letterhead.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiJson, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::directory::{search_icd10, search_practitioners, Icd10, PractitionerHit};
use crate::domain::Role;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(find_practitioners))
        .routes(routes!(find_icd10))
        .routes(routes!(get_association, update_association))
}

fn check_reader(who: &Principal) -> Result<()> {
    match who.role {
        Role::PartnerNurse => Err(Error::forbidden(
            "the directories are for the association and its EHPADs",
        )),
        _ => Ok(()),
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PractitionerQuery {
    /// The start of the name: family name first or given name first; or an RPPS number.
    pub name: String,
    /// The start of the commune's name, or of the postcode.
    #[serde(default)]
    pub city: Option<String>,
    /// At most this many (default 20, at most 100).
    #[serde(default)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/practitioners", tag = "directory", security(("bearer" = [])),
    params(PractitionerQuery),
    responses((status = 200, body = Vec<PractitionerHit>), (status = 422, body = ErrorBody)))]
async fn find_practitioners(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<PractitionerQuery>,
) -> Result<Json<Vec<PractitionerHit>>> {
    check_reader(&who)?;
    if q.name.trim().chars().count() < 2 || q.name.len() > 100 {
        return Err(Error::invalid(
            "name",
            "type at least 2 characters of the name (at most 100)",
        )
        .because(Reason::Length)
        .within(Some(2.0), Some(100.0)));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(
        search_practitioners(&state.db, &q.name, q.city.as_deref(), limit).await?,
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Icd10Query {
    /// Words of the label ("pneumo", "fibrillation auric") or the start of a code ("J18").
    pub q: String,
    #[serde(default)]
    pub limit: Option<i64>,
}

#[utoipa::path(get, path = "/icd10", tag = "directory", security(("bearer" = [])),
    params(Icd10Query),
    responses((status = 200, body = Vec<Icd10>), (status = 422, body = ErrorBody)))]
async fn find_icd10(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(q): ApiQuery<Icd10Query>,
) -> Result<Json<Vec<Icd10>>> {
    check_reader(&who)?;
    if q.q.trim().is_empty() || q.q.len() > 100 {
        return Err(Error::invalid("q", "type 1 to 100 characters")
            .because(Reason::Length)
            .within(Some(1.0), Some(100.0)));
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    Ok(Json(search_icd10(&state.db, &q.q, limit).await?))
}

/// The association as its letters present it.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, sqlx::FromRow)]
#[serde(deny_unknown_fields)]
pub struct Association {
    #[schema(max_length = 200)]
    pub name: String,
    #[serde(default)]
    #[schema(max_length = 200)]
    pub address_line: Option<String>,
    #[serde(default)]
    #[schema(max_length = 10)]
    pub postcode: Option<String>,
    #[serde(default)]
    #[schema(max_length = 100)]
    pub city: Option<String>,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
    /// The association's MSSanté mailbox: letters are sent from it when the doctor has none.
    #[serde(default)]
    #[schema(max_length = 254)]
    pub mssante: Option<String>,
}

#[utoipa::path(get, path = "/association", tag = "directory", security(("bearer" = [])),
    responses((status = 200, body = Association)))]
async fn get_association(State(state): State<Hub>, _who: Principal) -> Result<Json<Association>> {
    let a: Option<Association> = sqlx::query_as(
        "SELECT name, address_line, postcode, city, phone, mssante FROM association WHERE id = 1",
    )
    .fetch_optional(state.db.pool())
    .await?;
    a.map(Json)
        .ok_or_else(|| Error::not_found("the association"))
}

#[utoipa::path(put, path = "/association", tag = "directory", security(("bearer" = [])),
    request_body = Association,
    responses((status = 200, body = Association), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn update_association(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(a): ApiJson<Association>,
) -> Result<Json<Association>> {
    if who.role != Role::Admin {
        return Err(Error::forbidden(
            "only an administrator edits the association",
        ));
    }
    if a.name.trim().is_empty() || a.name.chars().count() > 200 {
        return Err(Error::invalid("name", "a name has 1 to 200 characters")
            .because(Reason::Length)
            .within(Some(1.0), Some(200.0)));
    }
    if let Some(pc) = &a.postcode {
        if pc.len() != 5 || !pc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::invalid("postcode", "a French postcode has 5 digits")
                .because(Reason::Format));
        }
    }
    if let Some(m) = &a.mssante {
        if m.parse::<lettre::Address>().is_err() {
            return Err(Error::invalid("mssante", "not a mail address").because(Reason::Format));
        }
    }
    for (field, value) in [
        ("address_line", &a.address_line),
        ("city", &a.city),
        ("phone", &a.phone),
    ] {
        if value.as_ref().is_some_and(|v| v.chars().count() > 200) {
            return Err(Error::invalid(field, "at most 200 characters")
                .because(Reason::Length)
                .within(None, Some(200.0)));
        }
    }
    let mut tx = state.db.write(who.actor()).await?;
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE association SET name = $1, address_line = $2, postcode = $3, city = $4, phone = $5, mssante = $6 WHERE id = 1",
    )
    .bind(&a.name)
    .bind(&a.address_line)
    .bind(&a.postcode)
    .bind(&a.city)
    .bind(&a.phone)
    .bind(&a.mssante)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        sqlx::query(
            "INSERT INTO association (id, name, created_at, address_line, postcode, city, phone, mssante) \
             VALUES (1, $1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(&a.name)
        .bind(now)
        .bind(&a.address_line)
        .bind(&a.postcode)
        .bind(&a.city)
        .bind(&a.phone)
        .bind(&a.mssante)
        .execute(tx.conn())
        .await?;
    }
    tx.audit(
        "association.update",
        "association",
        1,
        serde_json::to_value(&a).unwrap_or_default(),
    )
    .await?;
    tx.commit().await?;
    Ok(Json(a))
}
