//! Request extractors that turn every kind of bad input into an [`Error`]: JSON bodies (with
//! the path of the field at fault), path and query parameters, and the session token.

use axum::body::Bytes;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{FromRef, FromRequest, FromRequestParts, Request};
use axum::http::header::{AUTHORIZATION, CONTENT_TYPE, COOKIE};
use axum::http::request::Parts;
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

use super::error::Error;
use super::Hub;
use crate::auth::{token_hash, Principal};
use crate::error::{ErrorKind, Reason};

pub const SESSION_COOKIE: &str = "chevet_session";

/// A JSON body: `Content-Type: application/json`, within the body limit, each text within the
/// length the OpenAPI document states (`limits`), and of the right shape.
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let is_json = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|mime| {
                let mime = mime.trim();
                mime.eq_ignore_ascii_case("application/json")
                    || (mime.starts_with("application/") && mime.ends_with("+json"))
            });
        if !is_json {
            return Err(Error::new(
                crate::error::ErrorKind::UnsupportedMediaType,
                "unsupported_media_type",
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let route = req
            .extensions()
            .get::<axum::extract::MatchedPath>()
            .map(|p| (req.method().as_str().to_owned(), p.as_str().to_owned()));
        let bytes = Bytes::from_request(req, state).await.map_err(|rejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                Error::new(
                    crate::error::ErrorKind::TooLarge,
                    "payload_too_large",
                    format!(
                        "the body is larger than the {} KiB allowed",
                        super::BODY_LIMIT / 1024
                    ),
                )
            } else {
                Error::bad_request("unreadable_body", "the request body could not be read")
            }
        })?;
        if let Some((method, path)) = route {
            super::limits::check_bytes(&method, &path, &bytes)?;
        }
        parse_json(&bytes).map(ApiJson)
    }
}

/// An optional JSON body: none at all is `None`; one that is there must be valid JSON.
pub struct ApiOptionalJson<T>(pub Option<T>);

impl<S, T> FromRequest<S> for ApiOptionalJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = Error;

    async fn from_request(req: Request, state: &S) -> Result<Self, Error> {
        let declared_empty = req
            .headers()
            .get(axum::http::header::CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() == b"0");
        let h = req.headers();
        let no_body = !h.contains_key(CONTENT_TYPE)
            && !h.contains_key(axum::http::header::CONTENT_LENGTH)
            && !h.contains_key(axum::http::header::TRANSFER_ENCODING);
        if declared_empty || no_body {
            return Ok(ApiOptionalJson(None));
        }
        ApiJson::<T>::from_request(req, state)
            .await
            .map(|j| ApiOptionalJson(Some(j.0)))
    }
}

/// Parses JSON, naming the field at fault: `patient.birth_date: invalid type: integer ...`.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, Error> {
    if has_escaped_nul(bytes) {
        return Err(Error::new(
            crate::error::ErrorKind::Invalid,
            "invalid_field",
            "text may not contain the NUL character (\\u0000)",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T = match serde_path_to_error::deserialize(&mut de) {
        Ok(v) => v,
        Err(e) => {
            let err = json_error(e);
            // serde can report a shape mismatch (an array for an object) as a syntax error: if
            // the body is valid JSON, the fault is its shape, not its syntax.
            if err.code == "malformed_json"
                && serde_json::from_slice::<serde_json::Value>(bytes).is_ok()
            {
                return Err(Error::new(
                    crate::error::ErrorKind::Invalid,
                    "invalid_field",
                    "the body is valid JSON but not of the expected shape (a JSON object with the documented fields)",
                ));
            }
            return Err(err);
        }
    };
    de.end().map_err(|e| {
        Error::bad_request("malformed_json", format!("the body is not valid JSON: {e}"))
    })?;
    Ok(value)
}

/// Does this JSON text hold a `\u0000` escape (the only way JSON can carry a NUL character,
/// which PostgreSQL text cannot store)? Escaped backslashes are skipped, so `\\u0000` is not one.
fn has_escaped_nul(bytes: &[u8]) -> bool {
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' {
            if bytes.get(i + 1) == Some(&b'u') && bytes.get(i + 2..i + 6) == Some(&b"0000"[..]) {
                return true;
            }
            i += 2;
        } else {
            i += 1;
        }
    }
    false
}

fn json_error(e: serde_path_to_error::Error<serde_json::Error>) -> Error {
    use serde_json::error::Category;
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        Category::Syntax | Category::Eof | Category::Io => Error::bad_request(
            "malformed_json",
            format!("the body is not valid JSON: {inner}"),
        ),
        Category::Data => {
            let message = strip_position(&inner.to_string());
            // serde reports a missing field at its parent's path; name the field itself.
            let missing = message
                .strip_prefix("missing field `")
                .and_then(|rest| rest.split('`').next())
                .map(str::to_owned);
            let field = match &missing {
                Some(name) if path == "." => name.clone(),
                Some(name) => format!("{path}.{name}"),
                None => path,
            };
            let mut err = Error::new(crate::error::ErrorKind::Invalid, "invalid_field", message);
            if missing.is_some() {
                err = err.because(crate::error::Reason::Required);
            }
            if field != "." {
                err = err.with_field(field);
            }
            err
        }
    }
}

/// serde_json appends " at line 1 column 42"; the field path says more.
fn strip_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

/// The address the request came from, when the hub is served over TCP (the demo's in-process
/// calls have none). Behind a proxy, the address the proxy saw: the last of `X-Forwarded-For`
/// (the ones before it are the client's to say, so not believed).
pub struct ClientAddr(pub Option<std::net::IpAddr>);

impl FromRequestParts<Hub> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, hub: &Hub) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<super::tls::Peer>>()
            .map(|c| c.0 .0.ip());
        if !hub.config.behind_proxy {
            return Ok(ClientAddr(peer));
        }
        // The last entry of the last header is the proxy's own; unreadable, trust none.
        let forwarded = parts
            .headers
            .get_all("x-forwarded-for")
            .iter()
            .next_back()
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .and_then(|a| a.trim().parse().ok());
        Ok(ClientAddr(forwarded.or(peer)))
    }
}

/// Path parameters; a malformed one (`/visits/abc`) is a 400 naming the parameter.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Path), rejection(Error))]
pub struct ApiPath<T>(pub T);

impl From<PathRejection> for Error {
    fn from(rejection: PathRejection) -> Error {
        Error::bad_request("invalid_path", rejection.body_text())
    }
}

/// Query parameters; a malformed one is a 400 saying which.
#[derive(FromRequestParts)]
#[from_request(via(axum::extract::Query), rejection(Error))]
pub struct ApiQuery<T>(pub T);

impl From<QueryRejection> for Error {
    fn from(rejection: QueryRejection) -> Error {
        Error::bad_request("invalid_query", rejection.body_text())
    }
}

/// The token of an `Authorization: Bearer ...` header.
pub fn bearer_header(headers: &axum::http::HeaderMap) -> Option<String> {
    let value = headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_owned())
}

/// The `Idempotency-Key` header: required on every request that makes something.
pub fn idempotency_key(headers: &axum::http::HeaderMap) -> Result<String, Error> {
    let missing = || {
        Error::bad_request(
            "idempotency_key_required",
            "send an Idempotency-Key header (a UUID made once per request, reused when retrying it)",
        )
        .with_field("Idempotency-Key")
    };
    let key = headers
        .get("idempotency-key")
        .ok_or_else(missing)?
        .to_str()
        .map_err(|_| missing())?
        .trim();
    if key.is_empty() || key.len() > 200 || !key.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(Error::bad_request(
            "invalid_idempotency_key",
            "the Idempotency-Key must be 1 to 200 visible ASCII characters",
        )
        .with_field("Idempotency-Key"));
    }
    Ok(key.to_owned())
}

/// The session token from `Authorization: Bearer ...`, or else the session cookie (which is what
/// a browser's `EventSource` can send).
pub fn bearer_token(parts: &Parts) -> Option<String> {
    if parts.headers.contains_key(AUTHORIZATION) {
        return bearer_header(&parts.headers);
    }
    parts
        .headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_owned())
}

impl<S> FromRequestParts<S> for Principal
where
    S: Send + Sync,
    Hub: FromRef<S>,
{
    type Rejection = Error;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Error> {
        let state = Hub::from_ref(state);
        let token = bearer_token(parts).ok_or_else(|| {
            Error::unauthorized(
                "log in first: send the session token as `Authorization: Bearer TOKEN`",
            )
        })?;
        let who = load_principal(&state, &token_hash(&token))
            .await?
            .ok_or_else(|| {
                Error::unauthorized(
                    "the session token is unknown, expired or revoked; log in again",
                )
            })?;
        if who.restricted && !allowed_while_restricted(parts.uri.path()) {
            return Err(Error::new(
                ErrorKind::Forbidden,
                "second_factor_enrolment_required",
                "the association requires a second factor for this account: enrol one first (POST /account/totp)",
            )
            .because(Reason::SecondFactorEnrolment));
        }
        Ok(who)
    }
}

/// The principal behind a session token hash, if the session is live and the account enabled
/// (`services::sessions` keeps the rules); using it keeps it alive.
pub async fn load_principal(state: &Hub, hash: &str) -> Result<Option<Principal>, Error> {
    use crate::services::sessions::{principal, Use};
    principal(&state.db, hash, state.config.sessions, Use::Request).await
}

/// What a restricted session (an account that must enrol a second factor first) may reach.
fn allowed_while_restricted(path: &str) -> bool {
    let path = path.strip_prefix("/api/v1").unwrap_or(path);
    matches!(
        path,
        "/me" | "/auth/logout" | "/account/totp" | "/account/totp/confirm"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;
    use serde::Deserialize;

    #[derive(Deserialize, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Outer {
        name: String,
        inner: Inner,
    }
    #[derive(Deserialize, Debug)]
    #[allow(dead_code)]
    struct Inner {
        lat: f64,
    }

    #[test]
    fn json_errors_name_the_field() {
        let e = parse_json::<Outer>(br#"{"name": "a", "inner": {"lat": "x"}}"#).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Invalid);
        assert_eq!(e.field.as_deref(), Some("inner.lat"));
        let e = parse_json::<Outer>(br#"{"name": "a", "inner": {}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("inner.lat"));
        let e = parse_json::<Outer>(br#"{"inner": {"lat": 1}}"#).unwrap_err();
        assert_eq!(e.field.as_deref(), Some("name"));
        assert_eq!(e.reason(), Some(crate::error::Reason::Required));
        let e = parse_json::<Outer>(br#"{"name": "a\u0000b", "inner": {"lat": 1}}"#).unwrap_err();
        assert_eq!(e.code, "invalid_field");
        assert!(parse_json::<Outer>(br#"{"name": "a\\u0000b", "inner": {"lat": 1}}"#).is_ok());
        let e = parse_json::<Outer>(br#"[1, 2]"#).unwrap_err();
        assert_eq!(
            (e.kind, e.code),
            (ErrorKind::Invalid, "invalid_field"),
            "{e:?}"
        );
        let e = parse_json::<Outer>(br#"{"name": "a", "inner": {"lat": 1}"#).unwrap_err();
        assert_eq!(e.code, "malformed_json");
        let e = parse_json::<Outer>(br#"{"name": "a", "inner": {"lat": 1}} x"#).unwrap_err();
        assert_eq!(e.code, "malformed_json");
    }
}
