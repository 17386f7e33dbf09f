//! The per-launch secret of an embedded hub. The desktop app starts its hub on 127.0.0.1 with a
//! random secret and opens `/launch?secret=...`, which sets a cookie; every other request must
//! carry that cookie (or the `X-Chevet-Launch` header). Other programs and users of the machine,
//! who do not know the secret, get 403 even though the port is open on loopback.

use axum::extract::{Request, State};
use axum::http::header::{COOKIE, LOCATION, SET_COOKIE};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::Error;
use super::Hub;
use crate::auth::token_hash;

const COOKIE_NAME: &str = "chevet_launch";
const HEADER_NAME: &str = "x-chevet-launch";

pub async fn require_secret(State(state): State<Hub>, req: Request, next: Next) -> Response {
    let Some(secret) = state.config.launch_secret.as_deref() else {
        return next.run(req).await;
    };
    let matches = |given: &str| token_hash(given) == token_hash(secret);
    if req.uri().path() == "/launch" {
        let given = req
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .find_map(|kv| kv.strip_prefix("secret="));
        if given.is_some_and(matches) {
            let mut resp = (
                StatusCode::SEE_OTHER,
                [(LOCATION, HeaderValue::from_static("/"))],
            )
                .into_response();
            if let Ok(v) = HeaderValue::from_str(&format!(
                "{COOKIE_NAME}={secret}; Path=/; HttpOnly; SameSite=Strict"
            )) {
                resp.headers_mut().insert(SET_COOKIE, v);
            }
            return resp;
        }
    }
    let from_header = req
        .headers()
        .get(HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .is_some_and(matches);
    let from_cookie = req
        .headers()
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .any(|(k, v)| k == COOKIE_NAME && matches(v));
    if from_header || from_cookie {
        next.run(req).await
    } else {
        Error::forbidden("this hub serves only the desktop app that started it").into_response()
    }
}
