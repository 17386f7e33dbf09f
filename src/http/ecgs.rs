//! ECGs recorded during a visit: uploaded from the device's files (WFDB, HL7 aECG, SCP-ECG,
//! DICOM, EDF, Contec, or a PDF kept as is), read into one representation by `chevet-ecg`,
//! kept as the original files, and drawn on standard ECG paper for the doctor's phone.
//!
//! Who may upload and see them: the same people as the visit's report (`reports.rs`).

use axum::extract::{DefaultBodyLimit, Multipart, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::{ApiPath, ApiQuery};
use super::Hub;
use crate::auth::Principal;
use crate::services::ecgs::read_files;
use crate::services::reports::{audit_read, check_writer, readable_medical};
use crate::services::views::Named;
use crate::store::{Audience, Ts};

/// Largest upload: a 24-hour Holter does not come from a bedside device; 30 minutes of MIT-BIH
/// is 2 MB.
pub const ECG_UPLOAD_LIMIT: usize = 32 * 1024 * 1024;

pub fn router() -> OpenApiRouter<Hub> {
    let upload = OpenApiRouter::new()
        .routes(routes!(list_ecgs, upload_ecg))
        .layer(DefaultBodyLimit::max(ECG_UPLOAD_LIMIT));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(get_ecg, remove_ecg))
        .routes(routes!(ecg_svg))
        .routes(routes!(ecg_file))
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EcgView {
    pub id: i64,
    pub visit_id: i64,
    /// wfdb, aecg, scp, dicom, edf, contec or pdf.
    pub format: String,
    pub file_name: String,
    /// Every original file of the recording (a WFDB record has several).
    pub files: Vec<String>,
    pub leads: Vec<String>,
    pub sampling_hz: Option<f64>,
    pub duration_s: Option<f64>,
    /// From the R peaks found in the signal.
    pub heart_rate_bpm: Option<f64>,
    /// As the device wrote it (its local time).
    pub acquired_at: Option<String>,
    pub device: Option<String>,
    pub uploaded_by: Named,
    /// The doctor an assistant uploaded it for.
    pub on_behalf_of: Option<i64>,
    pub created_at: Ts,
}

#[derive(sqlx::FromRow)]
struct EcgRow {
    id: i64,
    visit_id: i64,
    format: String,
    file_name: String,
    leads: String,
    sampling_hz: Option<f64>,
    duration_s: Option<f64>,
    heart_rate_bpm: Option<f64>,
    acquired_at: Option<String>,
    device: Option<String>,
    uploaded_by: i64,
    uploaded_by_name: String,
    on_behalf_of: Option<i64>,
    created_at: Ts,
}

const ECG_SELECT: &str =
    "SELECT e.id, e.visit_id, e.format, e.file_name, e.leads, e.sampling_hz, e.duration_s, \
     e.heart_rate_bpm, e.acquired_at, e.device, e.uploaded_by, u.display_name AS uploaded_by_name, \
     e.on_behalf_of, e.created_at FROM ecg_recordings e JOIN users u ON u.id = e.uploaded_by";

async fn views(state: &Hub, rows: Vec<EcgRow>) -> Result<Vec<EcgView>> {
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let files: Vec<String> =
            sqlx::query_scalar("SELECT name FROM ecg_files WHERE recording_id = $1 ORDER BY name")
                .bind(r.id)
                .fetch_all(state.db.pool())
                .await?;
        out.push(EcgView {
            id: r.id,
            visit_id: r.visit_id,
            format: r.format,
            file_name: r.file_name,
            files,
            leads: serde_json::from_str(&r.leads).unwrap_or_default(),
            sampling_hz: r.sampling_hz,
            duration_s: r.duration_s,
            heart_rate_bpm: r.heart_rate_bpm,
            acquired_at: r.acquired_at,
            device: r.device,
            uploaded_by: Named {
                id: r.uploaded_by,
                name: r.uploaded_by_name,
            },
            on_behalf_of: r.on_behalf_of,
            created_at: r.created_at,
        });
    }
    Ok(out)
}

#[utoipa::path(get, path = "/visits/{id}/ecgs", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    responses((status = 200, body = Vec<EcgView>), (status = 403, body = ErrorBody)))]
async fn list_ecgs(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Vec<EcgView>>> {
    let (visit, _) = readable_medical(&state.db, &who, id).await?;
    audit_read(&state.db, &who, &visit, "ecgs.read", serde_json::json!({})).await?;
    let rows: Vec<EcgRow> = sqlx::query_as(&format!(
        "{ECG_SELECT} WHERE e.visit_id = $1 AND e.removed_at IS NULL ORDER BY e.id"
    ))
    .bind(id)
    .fetch_all(state.db.pool())
    .await?;
    Ok(Json(views(&state, rows).await?))
}

/// A file name kept as is, but without any path or control character.
fn clean_name(raw: &str) -> Option<String> {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw).trim();
    let ok = !base.is_empty()
        && base.len() <= 200
        && base != "."
        && base != ".."
        && !base.chars().any(char::is_control);
    ok.then(|| base.to_owned())
}

fn media_type(format: chevet_ecg::Format) -> &'static str {
    use chevet_ecg::Format::*;
    match format {
        Aecg => "application/xml",
        Dicom => "application/dicom",
        Pdf => "application/pdf",
        Wfdb => "text/plain",
        Scp | Edf | Contec => "application/octet-stream",
    }
}

/// A body cut short by the size limit is too large (413), whichever part crossed it; anything
/// else is unreadable.
fn multipart_error(e: axum::extract::multipart::MultipartError, what: &str) -> Error {
    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
        return Error::new(
            crate::error::ErrorKind::TooLarge,
            "payload_too_large",
            format!(
                "an ECG upload is at most {} MiB",
                ECG_UPLOAD_LIMIT / 1024 / 1024
            ),
        );
    }
    Error::bad_request("unreadable_body", format!("{what} could not be read: {e}"))
}

/// Upload: a `multipart/form-data` body with the recording's file(s), each in a part named
/// `file` (a WFDB record: its `.hea` and the signal files it names).
#[utoipa::path(post, path = "/visits/{id}/ecgs", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "visit id")),
    request_body(content_type = "multipart/form-data", description = "one or more parts named `file`"),
    responses((status = 201, body = EcgView), (status = 413, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn upload_ecg(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    multipart: Result<Multipart, axum::extract::multipart::MultipartRejection>,
) -> Result<(axum::http::StatusCode, Json<EcgView>)> {
    let visit = crate::services::visits::visible_visit(&state.db, &who, id).await?;
    let on_behalf = check_writer(&who, &visit)?;
    let validated: Option<Option<Ts>> =
        sqlx::query_scalar("SELECT validated_at FROM visit_reports WHERE visit_id = $1")
            .bind(id)
            .fetch_optional(state.db.pool())
            .await?;
    if validated.flatten().is_some() {
        return Err(Error::conflict(
            "the report is validated: its ECGs can no longer change",
        ));
    }
    let mut multipart = multipart.map_err(|e| {
        Error::bad_request(
            "not_multipart",
            format!("send the files as multipart/form-data parts named \"file\": {e}"),
        )
    })?;
    let mut files: Vec<(String, Vec<u8>)> = Vec::new();
    loop {
        let field = match multipart.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return Err(multipart_error(e, "the multipart body")),
        };
        if field.name() != Some("file") {
            return Err(Error::invalid(
                field.name().unwrap_or_default().to_owned(),
                "every part must be named \"file\"",
            ));
        }
        let name = field
            .file_name()
            .and_then(clean_name)
            .ok_or_else(|| Error::invalid("file", "each file part needs a file name"))?;
        let bytes = field
            .bytes()
            .await
            .map_err(|e| multipart_error(e, &format!("the file {name}")))?;
        if files.iter().any(|(n, _)| *n == name) {
            return Err(Error::invalid("file", format!("{name} is sent twice")));
        }
        files.push((name, bytes.to_vec()));
        if files.len() > 8 {
            return Err(Error::invalid("file", "at most 8 files per recording")
                .because(Reason::Length)
                .within(None, Some(8.0)));
        }
    }
    if files.is_empty() {
        return Err(
            Error::invalid("file", "no file: send the recording's file(s)")
                .because(Reason::Required),
        );
    }
    let main = files
        .iter()
        .find(|(n, _)| n.to_ascii_lowercase().ends_with(".hea"))
        .or_else(|| (files.len() == 1).then(|| &files[0]))
        .map(|(n, _)| n.clone())
        .ok_or_else(|| {
            Error::invalid(
                "file",
                "several files but no WFDB header (.hea): send one recording at a time",
            )
        })?;

    // Reading and beat detection take a few milliseconds to a second: off the async threads.
    let (files, parsed) = tokio::task::spawn_blocking(move || {
        let parsed = read_files(&main, &files).map(|recording| {
            let rate = match &recording {
                chevet_ecg::Recording::Signal(ecg) => {
                    chevet_ecg::detect::detect_beats(ecg).heart_rate_bpm
                }
                chevet_ecg::Recording::Document { .. } => None,
            };
            (main, recording, rate)
        });
        (files, parsed)
    })
    .await
    .map_err(|_| Error::internal())?;
    let (main, recording, rate) =
        parsed.map_err(|e| Error::invalid("file", format!("this ECG cannot be read: {e}")))?;
    let is_wfdb = matches!(&recording, chevet_ecg::Recording::Signal(e) if e.format == chevet_ecg::Format::Wfdb);
    if files.len() > 1 && !is_wfdb {
        return Err(Error::invalid(
            "file",
            "only a WFDB record comes in several files: send one recording at a time",
        ));
    }
    let (format, leads, hz, duration, acquired, device) = match &recording {
        chevet_ecg::Recording::Signal(e) => (
            e.format,
            e.leads.iter().map(|l| l.name.clone()).collect::<Vec<_>>(),
            Some(e.sampling_hz),
            Some(e.duration_s()),
            e.acquired_at
                .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            e.device.clone(),
        ),
        chevet_ecg::Recording::Document { format, .. } => {
            (*format, Vec::new(), None, None, None, None)
        }
    };

    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let ecg_id: i64 = sqlx::query_scalar(
        "INSERT INTO ecg_recordings (visit_id, format, file_name, media_type, leads, sampling_hz, duration_s, \
         heart_rate_bpm, acquired_at, device, uploaded_by, on_behalf_of, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id",
    )
    .bind(id)
    .bind(format.as_str())
    .bind(&main)
    .bind(media_type(format))
    .bind(serde_json::to_string(&leads).unwrap_or_else(|_| "[]".into()))
    .bind(hz)
    .bind(duration)
    .bind(rate)
    .bind(acquired)
    .bind(device)
    .bind(who.user_id)
    .bind(on_behalf)
    .bind(now)
    .fetch_one(tx.conn())
    .await?;
    for (name, bytes) in &files {
        sqlx::query("INSERT INTO ecg_files (recording_id, name, data) VALUES ($1, $2, $3)")
            .bind(ecg_id)
            .bind(name)
            .bind(bytes)
            .execute(tx.conn())
            .await?;
    }
    tx.audit(
        "ecg.upload",
        "ecg",
        ecg_id,
        serde_json::json!({"visit_id": id, "format": format.as_str(), "files": files.iter().map(|(n, b)| (n.clone(), b.len())).collect::<Vec<_>>()}),
    )
    .await?;
    tx.publish(
        crate::store::EventKind::EcgAdded,
        serde_json::json!({"visit_id": id, "ecg_id": ecg_id}),
        Audience {
            doctor_id: visit.doctor.as_ref().map(|d| d.id),
            ..Default::default()
        },
    );
    tx.commit().await?;
    let view = load_ecg(&state, ecg_id).await?;
    Ok((axum::http::StatusCode::CREATED, Json(view)))
}

async fn load_ecg(state: &Hub, ecg_id: i64) -> Result<EcgView> {
    let rows: Vec<EcgRow> = sqlx::query_as(&format!("{ECG_SELECT} WHERE e.id = $1"))
        .bind(ecg_id)
        .fetch_all(state.db.pool())
        .await?;
    views(state, rows)
        .await?
        .pop()
        .ok_or_else(|| Error::not_found(format!("ECG {ecg_id}")))
}

/// The ECG and its visit, if `who` may read the visit's report.
async fn readable_ecg(state: &Hub, who: &Principal, ecg_id: i64) -> Result<EcgView> {
    let visit: Option<i64> = sqlx::query_scalar(
        "SELECT visit_id FROM ecg_recordings WHERE id = $1 AND removed_at IS NULL",
    )
    .bind(ecg_id)
    .fetch_optional(state.db.pool())
    .await?;
    let visit = visit.ok_or_else(|| Error::not_found(format!("ECG {ecg_id}")))?;
    let (visit, _) = readable_medical(&state.db, who, visit)
        .await
        .map_err(|_| Error::not_found(format!("ECG {ecg_id}")))?;
    audit_read(
        &state.db,
        who,
        &visit,
        "ecg.read",
        serde_json::json!({"ecg_id": ecg_id}),
    )
    .await?;
    load_ecg(state, ecg_id).await
}

/// An ECG with its detected beats.
#[derive(Debug, Serialize, ToSchema)]
pub struct EcgDetail {
    #[serde(flatten)]
    pub ecg: EcgView,
    /// Sample indices of the R peaks found.
    pub beats: Vec<usize>,
}

async fn stored_files(state: &Hub, ecg_id: i64) -> Result<Vec<(String, Vec<u8>)>> {
    Ok(
        sqlx::query_as("SELECT name, data FROM ecg_files WHERE recording_id = $1 ORDER BY name")
            .bind(ecg_id)
            .fetch_all(state.db.pool())
            .await?,
    )
}

#[utoipa::path(get, path = "/ecgs/{id}", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "ECG id")),
    responses((status = 200, body = EcgDetail), (status = 404, body = ErrorBody)))]
async fn get_ecg(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<EcgDetail>> {
    let ecg = readable_ecg(&state, &who, id).await?;
    let files = stored_files(&state, id).await?;
    let main = ecg.file_name.clone();
    let beats = tokio::task::spawn_blocking(move || match read_files(&main, &files) {
        Ok(chevet_ecg::Recording::Signal(e)) => chevet_ecg::detect::detect_beats(&e).samples,
        _ => Vec::new(),
    })
    .await
    .map_err(|_| Error::internal())?;
    Ok(Json(EcgDetail { ecg, beats }))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SvgQuery {
    /// Where the 10-second page starts, in seconds from the beginning.
    #[serde(default)]
    pub start_s: Option<f64>,
}

#[utoipa::path(get, path = "/ecgs/{id}/svg", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "ECG id"), SvgQuery),
    responses((status = 200, content_type = "image/svg+xml", description = "the ECG on standard paper (25 mm/s, 10 mm/mV)"), (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn ecg_svg(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<SvgQuery>,
) -> Result<Response> {
    let ecg = readable_ecg(&state, &who, id).await?;
    let start = q.start_s.unwrap_or(0.0);
    if !start.is_finite() || start < 0.0 || ecg.duration_s.is_some_and(|d| start > d) {
        return Err(Error::invalid(
            "start_s",
            "start_s is a number of seconds within the recording",
        )
        .because(Reason::Format));
    }
    let files = stored_files(&state, id).await?;
    let main = ecg.file_name.clone();
    let visit = crate::services::visits::visible_visit(&state.db, &who, ecg.visit_id).await?;
    let header = chevet_ecg::render::PaperHeader {
        patient: Some(patient_line(&visit.patient)),
        acquired: ecg.acquired_at.as_deref().map(device_time),
        device: ecg.device.clone(),
        heart_rate_bpm: ecg.heart_rate_bpm,
        note: None,
    };
    let svg = tokio::task::spawn_blocking(move || match read_files(&main, &files) {
        Ok(chevet_ecg::Recording::Signal(e)) => {
            let options = chevet_ecg::render::RenderOptions {
                start_s: start,
                ..Default::default()
            };
            Some(chevet_ecg::render::svg::svg(&e, &header, &options))
        }
        _ => None,
    })
    .await
    .map_err(|_| Error::internal())?
    .ok_or_else(|| Error::invalid("id", "this ECG is a document (PDF): open its file instead"))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // It names the patient: kept by no cache.
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    )
        .into_response())
}

/// "Mme Jeanne GIRARD — née le 12/03/1941", as an ECG printout names its patient.
fn patient_line(p: &crate::services::views::PatientSummary) -> String {
    use crate::domain::Sex;
    let family = p
        .used_name
        .as_deref()
        .unwrap_or(&p.birth_name)
        .to_uppercase();
    let (title, born) = match p.sex {
        Sex::Female => ("Mme ", "née"),
        Sex::Male => ("M. ", "né"),
        Sex::Unknown => ("", "né(e)"),
    };
    let birth = p
        .birth_date
        .as_deref()
        .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
        .map(|d| format!(" — {born} le {}", d.format("%d/%m/%Y")))
        .unwrap_or_default();
    format!("{title}{} {family}{birth}", p.first_names)
}

/// The device's own clock reading, as it would print it: `25/01/2013 à 10:59:19`.
fn device_time(t: &str) -> String {
    chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%dT%H:%M:%S")
        .map(|t| t.format("%d/%m/%Y à %H:%M:%S").to_string())
        .unwrap_or_else(|_| t.to_owned())
}

#[utoipa::path(get, path = "/ecgs/{id}/files/{name}", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "ECG id"), ("name" = String, Path, description = "file name")),
    responses((status = 200, description = "the original file"), (status = 404, body = ErrorBody)))]
async fn ecg_file(
    State(state): State<Hub>,
    who: Principal,
    ApiPath((id, name)): ApiPath<(i64, String)>,
) -> Result<Response> {
    let ecg = readable_ecg(&state, &who, id).await?;
    let data: Option<Vec<u8>> =
        sqlx::query_scalar("SELECT data FROM ecg_files WHERE recording_id = $1 AND name = $2")
            .bind(id)
            .bind(&name)
            .fetch_optional(state.db.pool())
            .await?;
    let data = data.ok_or_else(|| Error::not_found(format!("file {name:?} of ECG {id}")))?;
    let media = if name == ecg.file_name {
        media_type(chevet_ecg::sniff(&data, Some(&name)).unwrap_or(chevet_ecg::Format::Scp))
    } else {
        "application/octet-stream"
    };
    let disposition = format!(
        "attachment; filename=\"{}\"",
        name.replace(['"', '\\'], "_")
    );
    Ok((
        [
            (header::CONTENT_TYPE, media.to_owned()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        data,
    )
        .into_response())
}

#[utoipa::path(delete, path = "/ecgs/{id}", tag = "ecgs", security(("bearer" = [])),
    params(("id" = i64, Path, description = "ECG id")),
    responses((status = 204, description = "removed from the visit (kept for the audit)"), (status = 409, body = ErrorBody)))]
async fn remove_ecg(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<axum::http::StatusCode> {
    let ecg = readable_ecg(&state, &who, id).await?;
    let visit = crate::services::visits::visible_visit(&state.db, &who, ecg.visit_id).await?;
    let on_behalf = check_writer(&who, &visit)?;
    let mut tx = state.db.write(who.actor()).await?;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE ecg_recordings SET removed_at = $1 WHERE id = $2 AND removed_at IS NULL AND NOT EXISTS \
         (SELECT 1 FROM visit_reports r WHERE r.visit_id = ecg_recordings.visit_id AND r.validated_at IS NOT NULL)",
    )
    .bind(now)
    .bind(id)
    .execute(tx.conn())
    .await?
    .rows_affected();
    if done == 0 {
        return Err(Error::conflict(
            "the report is validated: its ECGs can no longer change",
        ));
    }
    tx.audit(
        "ecg.remove",
        "ecg",
        id,
        serde_json::json!({"visit_id": ecg.visit_id}),
    )
    .await?;
    tx.commit().await?;
    Ok(axum::http::StatusCode::NO_CONTENT)
}
