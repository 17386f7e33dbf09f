//! The JSON API under `/api/v1`, the event stream, the OpenAPI document and the built UI.
//!
//! One module per resource, each with a `router()`; this module merges them, adds the layers
//! (body limit, panic guard, request log without patient data) and runs the server.

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
mod nurse_bookings;
mod nurse_network;
mod partner_api;
pub mod patients;
pub mod reports;
mod shifts;
mod suggestions;
mod users;
pub mod views;
pub mod visits;

use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::Json;
use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;

use crate::store::Db;
use error::ApiError;

/// Largest JSON body accepted by the API.
pub const BODY_LIMIT: usize = 256 * 1024;

/// Settings of a running hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// How long a session token lives.
    pub session_ttl: chrono::Duration,
    /// The built UI (`ui/dist`), served at `/` when present.
    pub ui_dir: Option<PathBuf>,
    /// For a hub embedded in the desktop app: every request must prove it knows this secret.
    pub launch_secret: Option<String>,
    /// A remote geocoder compatible with addok / api-adresse.data.gouv.fr (base URL), asked first
    /// by address search; the local index answers when it fails or is slow.
    pub geocoder_url: Option<String>,
    /// How letters to treating physicians are delivered.
    pub mail: crate::letters::MailConfig,
    /// The link to partner nurse networks (and, for a hub hosting one, to its clients).
    pub nursing: crate::nursing::NursingConfig,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            session_ttl: chrono::Duration::hours(12),
            ui_dir: None,
            launch_secret: None,
            geocoder_url: None,
            mail: Default::default(),
            nursing: Default::default(),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub config: Arc<HubConfig>,
    /// Flips to true when the hub shuts down, so that event streams end.
    pub shutdown: watch::Receiver<bool>,
    /// The sectors, parsed once, with the store fingerprint they were read at.
    pub sectors: SectorCache,
    /// The address index, loaded in the background from the store.
    pub addresses: addresses::AddressCache,
    /// The road network, decoded once.
    pub roads: crate::planning::RoadCache,
    /// Wakes the letters outbox (a letter queued).
    pub letters_wakeup: Arc<tokio::sync::Notify>,
    /// The partner nurse link: its settings, HTTP client and outbox wake-up.
    pub nursing: Arc<crate::nursing::Runtime>,
}

pub type SectorCache =
    Arc<std::sync::RwLock<Option<(String, Arc<crate::domain::sectors::SectorMap>)>>>;

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

/// The whole application: API, OpenAPI document, UI.
pub fn app(state: AppState) -> Router {
    let (api, doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest(
            "/api/v1",
            OpenApiRouter::new()
                .merge(auth::router())
                .merge(users::router())
                .merge(delegations::router())
                .merge(doctors::router())
                .merge(shifts::router())
                .merge(institutions::router())
                .merge(patients::router())
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
        .split_for_parts();
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
        .layer(CatchPanicLayer::custom(|_: Box<dyn std::any::Any + Send>| {
            tracing::error!("a request handler panicked");
            ApiError::internal().into_response()
        }))
        .layer(
            // The request log names the method and path only: query strings can carry patient names.
            TraceLayer::new_for_http().make_span_with(|req: &Request| {
                tracing::info_span!("request", method = %req.method(), path = %req.uri().path())
            }),
        )
}

async fn api_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_such_route",
        "there is no such API route",
    )
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
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

/// Serves the hub on `listener` until `shutdown` resolves, then ends the event streams and
/// finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    db: Db,
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(false);
    let nursing = crate::nursing::Runtime::new(config.nursing.clone());
    if let Ok(addr) = listener.local_addr() {
        nursing.served_at(addr);
    }
    let state = AppState {
        db,
        nursing,
        config: Arc::new(config),
        shutdown: stop_rx,
        sectors: SectorCache::default(),
        roads: Default::default(),
        addresses: Default::default(),
        letters_wakeup: Default::default(),
    };
    if let Err(e) = crate::directory::ensure_icd10(&state.db).await {
        tracing::error!("cannot load the ICD-10 list: {e}");
    }
    tokio::spawn(crate::autodispatch::run(state.clone()));
    tokio::spawn(crate::nursing::run(state.clone()));
    tokio::spawn(crate::letters::run(
        state.clone(),
        state.letters_wakeup.clone(),
    ));
    // The address index loads in the background: the hub serves at once.
    let (addresses, db) = (state.addresses.clone(), state.db.clone());
    tokio::spawn(async move { addresses.refresh(&db).await });
    axum::serve(listener, app(state))
        .with_graceful_shutdown(async move {
            shutdown.await;
            let _ = stop_tx.send(true);
        })
        .await
}
