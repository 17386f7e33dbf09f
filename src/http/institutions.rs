//! Partner institutions (EHPAD) and their residents.

use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::{ApiJson, ApiPath};
use super::users::require_admin;
use super::Hub;
use crate::auth::Principal;
use crate::domain::Role;
use crate::services::institutions::{create_institution, NewInstitution};
use crate::services::views::{PatientRow, PatientView, PATIENT_SELECT};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(list_institutions, add_institution))
        .routes(routes!(list_residents))
}

#[derive(Serialize, ToSchema, sqlx::FromRow)]
pub struct InstitutionView {
    pub id: i64,
    pub kind: String,
    pub name: String,
    pub finess: String,
    pub address_line: String,
    pub postcode: String,
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    pub phone: Option<String>,
    pub created_at: Ts,
}

const INSTITUTION_SELECT: &str = "SELECT id, kind, name, finess, address_line, postcode, city, lat, lon, phone, created_at FROM institutions";

/// May `who` see institution `id`? Staff see all, an EHPAD nurse her own.
fn check_access(who: &Principal, id: i64) -> Result<()> {
    if who.is_staff() || (who.role == Role::EhpadNurse && who.institution_id == Some(id)) {
        Ok(())
    } else {
        Err(Error::not_found(format!("institution {id}")))
    }
}

/// Institutions: all for staff, her own for an EHPAD nurse.
#[utoipa::path(get, path = "/institutions", tag = "institutions", security(("bearer" = [])),
    responses((status = 200, body = Vec<InstitutionView>)))]
async fn list_institutions(
    State(state): State<Hub>,
    who: Principal,
) -> Result<Json<Vec<InstitutionView>>> {
    let rows: Vec<InstitutionView> = match (who.role, who.institution_id) {
        (r, _) if r.is_staff() => {
            sqlx::query_as(&format!("{INSTITUTION_SELECT} ORDER BY name"))
                .fetch_all(state.db.pool())
                .await?
        }
        (Role::EhpadNurse, Some(id)) => {
            sqlx::query_as(&format!("{INSTITUTION_SELECT} WHERE id = $1"))
                .bind(id)
                .fetch_all(state.db.pool())
                .await?
        }
        _ => {
            return Err(Error::forbidden(
                "institutions are for the association's staff and their own nurses",
            ))
        }
    };
    Ok(Json(rows))
}

/// Register a partner EHPAD (admins).
#[utoipa::path(post, path = "/institutions", tag = "institutions", security(("bearer" = [])),
    request_body = NewInstitution,
    responses((status = 201, body = InstitutionView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn add_institution(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(new): ApiJson<NewInstitution>,
) -> Result<(StatusCode, Json<InstitutionView>)> {
    require_admin(&who)?;
    let mut tx = state.db.write(who.actor()).await?;
    let id = create_institution(&mut tx, &new).await?;
    tx.commit().await?;
    let view = sqlx::query_as(&format!("{INSTITUTION_SELECT} WHERE id = $1"))
        .bind(id)
        .fetch_one(state.db.pool())
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The residents of an institution (staff, or its own nurses).
#[utoipa::path(get, path = "/institutions/{id}/residents", tag = "institutions", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PatientView>), (status = 404, body = ErrorBody)))]
async fn list_residents(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<PatientView>>> {
    check_access(&who, id)?;
    let rows: Vec<PatientRow> = sqlx::query_as(&format!(
        "{PATIENT_SELECT} WHERE p.institution_id = $1 ORDER BY p.birth_name, p.first_names"
    ))
    .bind(id)
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(rows.into_iter().map(PatientView::from).collect()))
}
