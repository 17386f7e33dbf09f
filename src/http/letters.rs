//! The letter of a visit over HTTP (`services::letters` holds its rules): its readers follow its
//! status (held, queued, sending, sent, failed and why), read the PDF, preview the draft's, give
//! a recipient to a held letter and retry a failed one.

use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ErrorBody, Result};
use super::extract::{ApiJson, ApiPath};
use super::Hub;
use crate::auth::Principal;
use crate::services::letters::{self, LetterView};
use crate::services::views::TreatingPhysician;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(get_letter))
        .routes(routes!(letter_pdf))
        .routes(routes!(letter_preview))
        .routes(routes!(retry_letter))
        .routes(routes!(set_recipient))
}

#[utoipa::path(get, path = "/visits/{id}/letter", tag = "letters", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, body = LetterView), (status = 404, body = ErrorBody)))]
async fn get_letter(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LetterView>> {
    Ok(Json(letters::readable(&state.db, &who, id).await?))
}

fn pdf_response(bytes: Vec<u8>, name: &str) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/pdf".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("inline; filename=\"{name}\""),
            ),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        bytes,
    )
        .into_response()
}

#[utoipa::path(get, path = "/visits/{id}/letter/pdf", tag = "letters", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, content_type = "application/pdf", description = "the letter as sent"), (status = 404, body = ErrorBody)))]
async fn letter_pdf(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response> {
    let pdf = letters::pdf(&state.db, &who, id).await?;
    Ok(pdf_response(pdf, &format!("compte-rendu-visite-{id}.pdf")))
}

#[utoipa::path(get, path = "/visits/{id}/letter/preview", tag = "letters", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, content_type = "application/pdf", description = "the letter the current draft would make"), (status = 422, body = ErrorBody)))]
async fn letter_preview(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Response> {
    let pdf = letters::preview(&state.db, &who, id).await?;
    Ok(pdf_response(pdf, &format!("apercu-visite-{id}.pdf")))
}

#[utoipa::path(post, path = "/visits/{id}/letter/retry", tag = "letters", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, body = LetterView), (status = 409, body = ErrorBody)))]
async fn retry_letter(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<LetterView>> {
    let view = letters::retry(&state.db, &who, id).await?;
    state.letters_wakeup.notify_one();
    Ok(Json(view))
}

#[utoipa::path(put, path = "/visits/{id}/letter/recipient", tag = "letters", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")), request_body = TreatingPhysician,
    responses((status = 200, body = LetterView), (status = 409, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn set_recipient(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiJson(recipient): ApiJson<TreatingPhysician>,
) -> Result<Json<LetterView>> {
    let view = letters::set_recipient(&state.db, &who, id, &recipient).await?;
    state.letters_wakeup.notify_one();
    Ok(Json(view))
}
