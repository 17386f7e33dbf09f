//! The one error type of the hub's services: what went wrong, in terms of the request (not of
//! HTTP). Services, workers and imports return it; only `http/error.rs` turns an [`ErrorKind`]
//! into a status and the JSON shape `{"error": {"code", "message", "field"}}`.
//!
//! Store errors are classified here: a unique constraint names the field at fault through one
//! explicit table ([`UNIQUE_FIELDS`]), the same on SQLite and PostgreSQL; messages that may
//! quote row values are logged by code only.

use sqlx::error::ErrorKind as DbErrorKind;

pub use crate::domain::{Limits, Reason};
use crate::domain::{TransitionError, ValueError};

/// What kind of failure, whatever carries it to the client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request cannot be read (malformed JSON, a bad query string).
    BadRequest,
    /// No valid session or key.
    Unauthorized,
    /// The actor may not take this action.
    Forbidden,
    /// The thing does not exist, or is not visible to the actor.
    NotFound,
    /// The route exists, not with this method.
    MethodNotAllowed,
    /// The state changed meanwhile, or the record already exists.
    Conflict,
    /// A well-formed request with an unacceptable value (its field is named).
    Invalid,
    /// A body or file over its limit.
    TooLarge,
    /// A body of the wrong media type.
    UnsupportedMediaType,
    /// Too many tries: wait (`retry_after` seconds) before the next.
    TooManyRequests,
    /// Something failed inside; logged, never shown.
    Internal,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    /// Stable machine-readable code, e.g. `invalid_field`, `conflict`, `no_network`.
    pub code: &'static str,
    /// What is wrong, in English, for the person fixing the request.
    pub message: String,
    /// The request field at fault (JSON path such as `patient.birth_date`), if any.
    pub field: Option<String>,
    /// Why, in terms a client words without parsing `message` (boxed: most errors have none).
    pub detail: Option<Box<Detail>>,
}

/// What a client needs to word an error in its reader's language.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Detail {
    pub reason: Option<Reason>,
    /// The bounds the value must keep, as numbers.
    pub limits: Option<Limits>,
    /// Who or what the reason is about, e.g. the doctor a visit is already assigned to.
    pub subject: Option<String>,
    /// Seconds to wait before trying again.
    pub retry_after: Option<u64>,
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn new(kind: ErrorKind, code: &'static str, message: impl Into<String>) -> Error {
        Error {
            kind,
            code,
            message: message.into(),
            field: None,
            detail: None,
        }
    }

    pub fn with_field(mut self, field: impl Into<String>) -> Error {
        self.field = Some(field.into());
        self
    }

    fn detail_mut(&mut self) -> &mut Detail {
        self.detail.get_or_insert_with(Default::default)
    }

    pub fn because(mut self, reason: Reason) -> Error {
        self.detail_mut().reason = Some(reason);
        self
    }

    pub fn within(mut self, min: Option<f64>, max: Option<f64>) -> Error {
        self.detail_mut().limits = Some(Limits { min, max });
        self
    }

    pub fn about(mut self, subject: impl Into<String>) -> Error {
        self.detail_mut().subject = Some(subject.into());
        self
    }

    /// Too many tries: the next one is answered after `wait`.
    pub fn too_many(message: impl Into<String>, wait: std::time::Duration) -> Error {
        let mut e = Error::new(ErrorKind::TooManyRequests, "too_many_attempts", message);
        // Rounded up: a client that waits what it is told is not refused again.
        e.detail_mut().retry_after = Some(wait.as_secs() + u64::from(wait.subsec_nanos() > 0));
        e
    }

    pub fn reason(&self) -> Option<Reason> {
        self.detail.as_ref().and_then(|d| d.reason)
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::BadRequest, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Unauthorized, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Forbidden, "forbidden", message)
    }

    /// `what` names the thing looked for: "visit 12".
    pub fn not_found(what: impl std::fmt::Display) -> Error {
        Error::new(
            ErrorKind::NotFound,
            "not_found",
            format!("{what} does not exist or is not visible to you"),
        )
    }

    pub fn conflict(message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Conflict, "conflict", message)
    }

    /// A well-formed request whose field `field` holds an unacceptable value.
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::new(ErrorKind::Invalid, "invalid_field", message).with_field(field)
    }

    /// `field` is missing or empty.
    pub fn required(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::invalid(field, message).because(Reason::Required)
    }

    /// `field` must have `min..=max` characters (or items).
    pub fn length(
        field: impl Into<String>,
        min: Option<usize>,
        max: usize,
        message: impl Into<String>,
    ) -> Error {
        Error::invalid(field, message)
            .because(Reason::Length)
            .within(min.map(|m| m as f64), Some(max as f64))
    }

    /// `field` has more than `max` characters.
    pub fn too_long(field: impl Into<String>, max: usize) -> Error {
        Error::length(field, None, max, format!("at most {max} characters"))
    }

    /// `field` must lie within `min..=max`.
    pub fn out_of_range(
        field: impl Into<String>,
        min: f64,
        max: f64,
        message: impl Into<String>,
    ) -> Error {
        Error::invalid(field, message)
            .because(Reason::Range)
            .within(Some(min), Some(max))
    }

    /// `field` is not in the expected form (a date, a postcode, a mail address, ...).
    pub fn format(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::invalid(field, message).because(Reason::Format)
    }

    /// `field` refers to something that does not exist.
    pub fn unknown(field: impl Into<String>, message: impl Into<String>) -> Error {
        Error::invalid(field, message).because(Reason::Unknown)
    }

    pub fn internal() -> Error {
        Error::new(
            ErrorKind::Internal,
            "internal",
            "internal error; it has been logged",
        )
    }
}

impl From<ValueError> for Error {
    fn from(e: ValueError) -> Error {
        let detail = (e.reason.is_some() || e.limits.is_some()).then(|| {
            Box::new(Detail {
                reason: e.reason,
                limits: e.limits,
                ..Default::default()
            })
        });
        Error {
            detail,
            ..Error::new(ErrorKind::Invalid, "invalid_field", e.message)
        }
    }
}

impl From<crate::domain::report::ReportError> for Error {
    fn from(e: crate::domain::report::ReportError) -> Error {
        Error::from(e.error).with_field(e.field)
    }
}

impl From<TransitionError> for Error {
    fn from(e: TransitionError) -> Error {
        Error::conflict(e.to_string()).with_field("status")
    }
}

/// Attaches a field name to a value error: `Coordinates::parse(..).field("address.lat")?`.
pub trait FieldResult<T> {
    fn field(self, field: &str) -> Result<T>;
}

impl<T> FieldResult<T> for Result<T, ValueError> {
    fn field(self, field: &str) -> Result<T> {
        self.map_err(|e| Error::from(e).with_field(field))
    }
}

/// Every unique constraint of the schema and the request field it is about:
/// (PostgreSQL constraint or index name, SQLite's `table.column` of its first column, field).
/// PostgreSQL names a constraint; SQLite says `UNIQUE constraint failed: users.username`.
pub const UNIQUE_FIELDS: &[(&str, &str, &str)] = &[
    ("sectors_name_key", "sectors.name", "name"),
    ("institutions_finess_key", "institutions.finess", "finess"),
    ("nurse_networks_name_key", "nurse_networks.name", "name"),
    ("users_username_key", "users.username", "username"),
    ("doctors_rpps_key", "doctors.rpps", "rpps"),
    (
        "delegations_active",
        "delegations.doctor_id",
        "assistant_id",
    ),
    ("visits_call_id_key", "visits.call_id", "call_id"),
    ("letters_visit_id_key", "letters.visit_id", "visit_id"),
    (
        "letters_document_id_key",
        "letters.document_id",
        "document_id",
    ),
    ("letters_message_id_key", "letters.message_id", "message_id"),
    ("partner_networks_name_key", "partner_networks.name", "name"),
    ("nurse_bookings_uuid_key", "nurse_bookings.uuid", "uuid"),
    (
        "nurse_bookings_visit_id_request_key_key",
        "nurse_bookings.visit_id",
        "Idempotency-Key",
    ),
    ("partner_clients_name_key", "partner_clients.name", "name"),
    (
        "partner_clients_key_hash_key",
        "partner_clients.key_hash",
        "key_hash",
    ),
    (
        "partner_appointments_uuid_key",
        "partner_appointments.uuid",
        "uuid",
    ),
    (
        "partner_appointments_client_id_hold_key_key",
        "partner_appointments.client_id",
        "Idempotency-Key",
    ),
    (
        "push_subscriptions_endpoint_key",
        "push_subscriptions.endpoint",
        "endpoint",
    ),
];

/// The field a unique-constraint violation is about, from the table above; a constraint
/// missing from it (a primary key) names no field.
fn unique_field(e: &dyn sqlx::error::DatabaseError) -> Option<&'static str> {
    if let Some(name) = e.constraint() {
        return UNIQUE_FIELDS
            .iter()
            .find(|(pg, _, _)| *pg == name)
            .map(|(_, _, field)| *field);
    }
    let cols = e.message().split(": ").nth(1)?;
    let first = cols.split(", ").next()?;
    UNIQUE_FIELDS
        .iter()
        .find(|(_, sqlite, _)| *sqlite == first)
        .map(|(_, _, field)| *field)
}

impl From<sqlx::Error> for Error {
    fn from(e: sqlx::Error) -> Error {
        match &e {
            sqlx::Error::RowNotFound => return Error::not_found("the record"),
            sqlx::Error::Database(db) => match db.kind() {
                DbErrorKind::UniqueViolation => {
                    let field = unique_field(db.as_ref());
                    let msg = match field {
                        Some(f) => format!("another record already has this {f}"),
                        None => "this record already exists".to_owned(),
                    };
                    let err = Error::conflict(msg);
                    return match field {
                        Some(f) => err.with_field(f),
                        None => err,
                    };
                }
                DbErrorKind::ForeignKeyViolation => {
                    return Error::new(
                        ErrorKind::Invalid,
                        "unknown_reference",
                        "the request refers to a record that does not exist",
                    )
                }
                // SQLSTATE class 22: a value the store cannot hold (encoding, range).
                _ if db.code().is_some_and(|c| c.starts_with("22")) => {
                    return Error::new(
                        ErrorKind::Invalid,
                        "invalid_field",
                        "a value in the request cannot be stored (unsupported character or out of range)",
                    )
                }
                DbErrorKind::CheckViolation | DbErrorKind::NotNullViolation => {
                    return Error::new(
                        ErrorKind::Invalid,
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
        Error::internal()
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

#[cfg(test)]
mod tests {
    use super::UNIQUE_FIELDS;

    /// Every UNIQUE of the schema is in the table, on both engines: a new one without a field
    /// fails here rather than answering a conflict that names no field (or a wrong one).
    #[test]
    fn every_unique_constraint_has_a_field() {
        for engine in ["sqlite", "postgres"] {
            let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("migrations")
                .join(engine);
            let mut files: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|x| x == "sql"))
                .collect();
            files.sort();
            for file in files {
                let sql = std::fs::read_to_string(&file).unwrap();
                let mut table = String::new();
                for line in sql.lines() {
                    let words: Vec<&str> = line.split_whitespace().collect();
                    if line.contains("CREATE TABLE") {
                        table = words
                            .iter()
                            .skip_while(|w| **w != "TABLE")
                            .nth(1)
                            .map(|w| w.trim_matches('(').to_owned())
                            .unwrap_or_default();
                    }
                    if !line.contains("UNIQUE") {
                        continue;
                    }
                    let first_column = if line.trim_start().starts_with("CREATE UNIQUE INDEX") {
                        let name = words[3];
                        assert!(
                            UNIQUE_FIELDS.iter().any(|(pg, _, _)| *pg == name),
                            "{}: unique index {name} has no field in UNIQUE_FIELDS",
                            file.display()
                        );
                        continue;
                    } else if line.trim_start().starts_with("UNIQUE") {
                        line.split(['(', ',', ')'])
                            .nth(1)
                            .unwrap()
                            .trim()
                            .to_owned()
                    } else {
                        words[0].to_owned()
                    };
                    let key = format!("{table}.{first_column}");
                    assert!(
                        UNIQUE_FIELDS.iter().any(|(_, sqlite, _)| *sqlite == key),
                        "{}: UNIQUE on {key} has no field in UNIQUE_FIELDS",
                        file.display()
                    );
                }
            }
        }
    }
}
