//! The JSON API under `/api/v1`, the event stream, the OpenAPI document and the built UI.
//!
//! One module per resource, each with a `router()`; this module merges them, adds the layers
//! (body limit, panic guard, request log without patient data) and runs the server.

mod account;
pub mod addresses;
mod audit;
mod auth;
mod calls;
mod delegations;
mod directory;
mod dispatch;
pub mod doctors;
pub mod ecgs;
pub mod error;
mod events;
pub mod extract;
pub mod institutions;
mod intake;
mod launch;
pub mod letters;
mod limits;
mod nurse_bookings;
mod nurse_network;
mod partner_api;
pub mod patients;
mod push;
pub mod reports;
mod shifts;
mod stats;
mod suggestions;
pub mod tls;
mod users;
pub mod visits;

use std::future::Future;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Json;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

pub use crate::hub::{Hub, HubConfig};
use error::Error;

/// Largest JSON body accepted by the API.
pub const BODY_LIMIT: usize = 256 * 1024;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Chevet hub API",
        description = "Coordinates home medical visits: calls, visits, doctors, institutions, audit and live events. \
                       Every error answers `{\"error\": {\"code\", \"message\", \"field\"}}`.",
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "partner API", description = "For an association booking a nurse with a nurse network hosted on a Chevet hub \
            (`/api/partner/v1`, authenticated by the API key the network issued; FHIR R4 payloads, IHE Scheduling pattern: \
            `$hold`, then `$book`; every POST carries an `Idempotency-Key`), and the callback URL the association gives \
            (`/api/v1/partner-callbacks/{booking}`, authenticated by the booking's callback token)."),
        (name = "nurse bookings", description = "The association's side: partner networks, booking a nurse from a visit, its live status."),
        (name = "nurse network", description = "A hub hosting a nurse network: clients and their keys, each nurse's coverage, the nurse's inbox."),
    ),
    components(schemas(error::ErrorBody))
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The OpenAPI document of the API, as served at `/api/openapi.json`. The UI's types are
/// generated from its snapshot `ui/openapi.json` (a test keeps the snapshot current).
pub fn openapi() -> utoipa::openapi::OpenApi {
    api_routes().split_for_parts().1
}

fn api_routes() -> OpenApiRouter<Hub> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(auth::router())
                .merge(account::router())
                .merge(users::router())
                .merge(delegations::router())
                .merge(doctors::router())
                .merge(shifts::router())
                .merge(stats::router())
                .merge(institutions::router())
                .merge(patients::router())
                .merge(push::router())
                .merge(intake::router())
                .merge(addresses::router())
                .merge(calls::router())
                .merge(visits::router())
                .merge(reports::router())
                .merge(ecgs::router())
                .merge(letters::router())
                .merge(directory::router())
                .merge(nurse_bookings::router())
                .merge(nurse_network::router())
                .merge(suggestions::router())
                .merge(dispatch::router())
                .merge(audit::router())
                .merge(events::router()),
        )
        .nest("/api/partner/v1", partner_api::router())
}

/// The whole application: API, OpenAPI document, UI.
pub fn app(state: Hub) -> Router {
    let secure = state.config.secure;
    let (api, doc) = api_routes().split_for_parts();
    let doc = Arc::new(doc);

    let api = api
        .route(
            "/api/v1/health",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route(
            "/api/openapi.json",
            get(move || {
                let doc = doc.clone();
                async move { Json(doc.as_ref().clone()) }
            }),
        )
        .route("/api/{*rest}", any(api_not_found))
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(BODY_LIMIT));

    let app = match state
        .config
        .ui_dir
        .as_ref()
        .filter(|d| d.join("index.html").is_file())
    {
        Some(dir) => api.fallback_service(
            tower_http::services::ServeDir::new(dir)
                .fallback(tower_http::services::ServeFile::new(dir.join("index.html"))),
        ),
        None => api.fallback(no_ui),
    };

    app.layer(axum::middleware::from_fn_with_state(state.clone(), launch::require_secret))
        .with_state(state)
        .layer(axum::middleware::from_fn_with_state(
            secure,
            security_headers,
        ))
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            Error::internal().into_response()
        }))
        .layer(
            // The request log names the method and path only: query strings can carry patient names.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
}

/// What a browser may do with the hub's pages: scripts only from the hub itself (no inline
/// script, so text that slipped into markup still cannot run), no framing, no sniffing, no
/// referrer. Tiles may come from any https server (the association chooses its tile server).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self' 'unsafe-inline'; img-src 'self' data: blob: https:; connect-src 'self'; \
     font-src 'self' data:; worker-src 'self'; manifest-src 'self'; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

async fn security_headers(
    axum::extract::State(secure): axum::extract::State<bool>,
    req: Request,
    next: axum::middleware::Next,
) -> Response {
    use axum::http::{header, HeaderValue};
    let api = req.uri().path().starts_with("/api/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    // Served over TLS (here or by the proxy in front): browsers must never come back in clear.
    if secure {
        h.entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static("max-age=31536000"));
    }
    // The API's answers are health data: no cache keeps them (the UI's own files may be cached).
    if api {
        h.entry(header::CACHE_CONTROL)
            .or_insert(HeaderValue::from_static("no-store"));
    }
    for (name, value) in [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "no-referrer"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
        (
            header::HeaderName::from_static("permissions-policy"),
            "geolocation=(self), camera=(), microphone=(), payment=()",
        ),
    ] {
        h.entry(name).or_insert(HeaderValue::from_static(value));
    }
    resp
}

async fn api_not_found() -> Error {
    Error::new(
        crate::error::ErrorKind::NotFound,
        "no_such_route",
        "there is no such API route",
    )
}

async fn method_not_allowed() -> Error {
    Error::new(
        crate::error::ErrorKind::MethodNotAllowed,
        "method_not_allowed",
        "this route does not accept this HTTP method",
    )
}

async fn no_ui() -> Response {
    (
        StatusCode::NOT_FOUND,
        "Chevet hub: the UI is not built here. The API is at /api/v1, its description at /api/openapi.json.",
    )
        .into_response()
}

/// Serves `hub` on `listener` until `shutdown` resolves, then stops the hub (its workers and
/// event streams end) and finishes the requests in flight. The workers are the caller's to
/// start ([`Hub::spawn_workers`]).
pub async fn serve<L>(
    listener: L,
    hub: Hub,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()>
where
    L: axum::serve::Listener<Addr = std::net::SocketAddr>,
    tls::Peer: for<'a> axum::extract::connect_info::Connected<axum::serve::IncomingStream<'a, L>>,
{
    if let Ok(addr) = listener.local_addr() {
        hub.served_at(addr);
    }
    let stopper = hub.clone();
    let app = app(hub).into_make_service_with_connect_info::<tls::Peer>();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            shutdown.await;
            stopper.stop();
        })
        .await
}

/// The status that says what a nurse-link request did.
pub(crate) fn outcome_status(outcome: crate::nursing::Outcome) -> StatusCode {
    match outcome {
        crate::nursing::Outcome::Created => StatusCode::CREATED,
        crate::nursing::Outcome::Done => StatusCode::OK,
    }
}

/// Handlers of the nurse link take only what its services need.
impl axum::extract::FromRef<Hub> for crate::nursing::Nursing {
    fn from_ref(hub: &Hub) -> crate::nursing::Nursing {
        hub.link()
    }
}

#[cfg(test)]
mod tests {
    /// `ui/openapi.json` is what the UI's types are generated from: it must be this build's
    /// document. `CHEVET_UPDATE_OPENAPI=1 cargo test -p chevet openapi` rewrites it.
    #[test]
    fn the_ui_openapi_snapshot_is_current() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/openapi.json");
        let now = serde_json::to_string_pretty(&super::openapi()).unwrap() + "\n";
        if std::env::var_os("CHEVET_UPDATE_OPENAPI").is_some() {
            std::fs::write(&path, &now).unwrap();
        }
        let snapshot = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            snapshot == now,
            "ui/openapi.json is stale: run CHEVET_UPDATE_OPENAPI=1 cargo test -p chevet openapi, then rebuild the UI"
        );
    }

    /// Clients generate one function per operation: two with one id would collide.
    #[test]
    fn operation_ids_are_unique() {
        let doc = super::openapi();
        let mut seen = std::collections::BTreeMap::<String, usize>::new();
        for item in doc.paths.paths.values() {
            let ops = [&item.get, &item.put, &item.post, &item.delete, &item.patch];
            for op in ops.into_iter().flatten() {
                *seen
                    .entry(op.operation_id.clone().unwrap_or_default())
                    .or_default() += 1;
            }
        }
        let twice: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).collect();
        assert!(twice.is_empty(), "operation ids used twice: {twice:?}");
    }

    /// Enums stored as text are documented with the texts the hub sends, not Rust's names.
    #[test]
    fn text_enums_are_documented_as_sent() {
        let doc = serde_json::to_value(super::openapi()).unwrap();
        let roles = &doc["components"]["schemas"]["Role"]["enum"];
        let sent: Vec<&str> = crate::domain::Role::ALL
            .iter()
            .map(|r| r.as_str())
            .collect();
        assert_eq!(roles, &serde_json::json!(sent));
        let statuses = &doc["components"]["schemas"]["VisitStatus"]["enum"];
        assert!(
            statuses
                .as_array()
                .unwrap()
                .contains(&"redirected_15".into()),
            "{statuses}"
        );
    }
}
