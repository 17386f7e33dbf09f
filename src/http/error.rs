//! One error shape for every failure: `{"error": {"code", "message", "field"}}` with the right
//! status. Internal causes (SQL text, panics) are logged, without patient data, and never shown.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;
use sqlx::error::ErrorKind;

use crate::domain::{TransitionError, ValueError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub field: Option<String>,
}

/// The JSON body of every error answer.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code, e.g. `invalid_field`, `conflict`, `not_found`.
    pub code: String,
    /// What is wrong, in English, for the person fixing the request.
    pub message: String,
    /// The request field at fault (JSON path such as `patient.birth_date`), if any.
    pub field: Option<String>,
}

pub type ApiResult<T> = Result<T, ApiError>;

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
            field: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> ApiError {
        self.field = Some(field.into());
        self
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    /// `what` names the thing looked for: "visit 12".
    pub fn not_found(what: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} does not exist or is not visible to you"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "conflict", message)
    }

    /// A well-formed request whose field `field` holds an unacceptable value.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", message).with_field(field)
    }

    pub fn internal() -> ApiError {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                field: self.field,
            },
        };
        (self.status, Json(body)).into_response()
    }
}

/// A partner payload (FHIR) wrong at `field`.
impl From<crate::nursing::fhir::PayloadError> for ApiError {
    fn from(e: crate::nursing::fhir::PayloadError) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.message)
            .with_field(e.field)
    }
}

impl From<ValueError> for ApiError {
    fn from(e: ValueError) -> ApiError {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_field", e.0)
    }
}

impl From<TransitionError> for ApiError {
    fn from(e: TransitionError) -> ApiError {
        ApiError::conflict(e.to_string()).with_field("status")
    }
}

/// Attaches a field name to a value error: `Coordinates::parse(..).field("address.lat")?`.
pub trait FieldResult<T> {
    fn field(self, field: &str) -> ApiResult<T>;
}

impl<T> FieldResult<T> for Result<T, ValueError> {
    fn field(self, field: &str) -> ApiResult<T> {
        self.map_err(|e| ApiError::invalid(field, e.0))
    }
}

/// The column a unique constraint is about, from the engine's message or constraint name:
/// SQLite says `UNIQUE constraint failed: users.username`, PostgreSQL names `users_username_key`.
fn unique_field(e: &dyn sqlx::error::DatabaseError) -> Option<String> {
    if let Some(name) = e.constraint() {
        let name = name.strip_suffix("_key").unwrap_or(name);
        return name.split_once('_').map(|(_, col)| col.to_owned());
    }
    let cols = e.message().split(": ").nth(1)?;
    let first = cols.split(", ").next()?;
    first.split_once('.').map(|(_, col)| col.to_owned())
}

impl From<sqlx::Error> for ApiError {
    fn from(e: sqlx::Error) -> ApiError {
        match &e {
            sqlx::Error::RowNotFound => return ApiError::not_found("the record"),
            sqlx::Error::Database(db) => match db.kind() {
                ErrorKind::UniqueViolation => {
                    let field = unique_field(db.as_ref());
                    let msg = match &field {
                        Some(f) => format!("another record already has this {f}"),
                        None => "this record already exists".to_owned(),
                    };
                    let err = ApiError::conflict(msg);
                    return match field {
                        Some(f) => err.with_field(f),
                        None => err,
                    };
                }
                ErrorKind::ForeignKeyViolation => {
                    return ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "unknown_reference",
                        "the request refers to a record that does not exist",
                    )
                }
                // SQLSTATE class 22: a value the store cannot hold (encoding, range).
                _ if db.code().is_some_and(|c| c.starts_with("22")) => {
                    return ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_field",
                        "a value in the request cannot be stored (unsupported character or out of range)",
                    )
                }
                ErrorKind::CheckViolation | ErrorKind::NotNullViolation => {
                    return ApiError::new(
                        StatusCode::UNPROCESSABLE_ENTITY,
                        "invalid_field",
                        "the request breaks a rule of the store",
                    )
                }
                _ => {}
            },
            _ => {}
        }
        // Messages about data (SQLSTATE classes 22 and 23) can quote row values, so only their
        // code is logged; other messages (syntax, missing table, I/O) are safe and useful.
        match &e {
            sqlx::Error::Database(db) => {
                let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
                if code.starts_with("22") || code.starts_with("23") {
                    tracing::error!(code, "store error");
                } else {
                    tracing::error!(code, message = db.message(), "store error");
                }
            }
            other => tracing::error!(kind = %error_kind(other), "store error"),
        }
        ApiError::internal()
    }
}

fn error_kind(e: &sqlx::Error) -> &'static str {
    match e {
        sqlx::Error::Database(_) => "database",
        sqlx::Error::Io(_) => "io",
        sqlx::Error::PoolTimedOut => "pool timed out",
        sqlx::Error::PoolClosed => "pool closed",
        sqlx::Error::Protocol(_) => "protocol",
        sqlx::Error::ColumnDecode { .. } | sqlx::Error::Decode(_) => "decode",
        _ => "other",
    }
}
