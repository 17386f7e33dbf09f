//! Intake help: the triage catalogue, and the check a dispatcher's screen runs as the call is
//! typed — is the address in a sector (else the fallbacks to offer), which motive is it, does it
//! raise red flags that call for the 15.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::ApiJson;
use super::Hub;
use crate::auth::Principal;
use crate::domain::triage::{self, Motive, RedFlag};
use crate::domain::{Coordinates, Role};
use crate::services::coverage;
use crate::services::views::Named;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(catalogue))
        .routes(routes!(check))
}

#[derive(Serialize, ToSchema)]
pub struct Fallback {
    pub code: &'static str,
    pub label: &'static str,
}

fn fallbacks() -> Vec<Fallback> {
    coverage::fallbacks()
        .iter()
        .map(|&(code, label)| Fallback { code, label })
        .collect()
}

#[derive(Serialize, ToSchema)]
pub struct Catalogue {
    pub motives: Vec<Motive>,
    pub red_flags: Vec<RedFlag>,
    pub fallbacks: Vec<Fallback>,
}

/// The triage catalogue: motives with default urgency and skills, red flags, out-of-sector fallbacks.
#[utoipa::path(get, path = "/triage", tag = "intake", security(("bearer" = [])),
    responses((status = 200, body = Catalogue)))]
async fn catalogue(_who: Principal) -> Json<Catalogue> {
    Json(Catalogue {
        motives: triage::catalogue(),
        red_flags: triage::red_flags_catalogue().to_vec(),
        fallbacks: fallbacks(),
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IntakeCheck {
    #[serde(default)]
    pub lat: Option<f64>,
    #[serde(default)]
    pub lon: Option<f64>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub motive: Option<String>,
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct IntakeAdvice {
    /// true: in a sector; false: no home visit possible; null: no position yet, or no sectors set.
    pub covered: Option<bool>,
    pub sector: Option<Named>,
    /// What to offer when the address is not covered.
    pub fallbacks: Vec<Fallback>,
    pub motive: Option<Motive>,
    /// Red flags raised by the motive and notes: offer the 15 before any home visit.
    pub red_flags: Vec<RedFlag>,
}

/// Check a call as it is typed: sector coverage, motive, red flags.
#[utoipa::path(post, path = "/intake/check", tag = "intake", security(("bearer" = [])),
    request_body = IntakeCheck,
    responses((status = 200, body = IntakeAdvice), (status = 422, body = ErrorBody)))]
async fn check(
    State(state): State<Hub>,
    who: Principal,
    ApiJson(req): ApiJson<IntakeCheck>,
) -> Result<Json<IntakeAdvice>> {
    if !(who.is_staff() || who.role == Role::EhpadNurse) {
        return Err(Error::forbidden(
            "intake is for dispatchers and EHPAD nurses",
        ));
    }
    let (covered, sector) = match (req.lat, req.lon) {
        (Some(lat), Some(lon)) => {
            let p = Coordinates::parse_named(lat, lon)
                .map_err(|(f, e)| Error::from(e).with_field(f))?;
            match coverage::locate(&*state.sectors.map(&state.db).await?, p.lat, p.lon) {
                None => (None, None),
                Some(sector) => (Some(sector.is_some()), sector),
            }
        }
        _ => (None, None),
    };
    let text = format!(
        "{} {}",
        req.motive.as_deref().unwrap_or_default(),
        req.notes.as_deref().unwrap_or_default()
    );
    Ok(Json(IntakeAdvice {
        covered,
        sector,
        fallbacks: if covered == Some(false) {
            fallbacks()
        } else {
            Vec::new()
        },
        motive: req.motive.as_deref().and_then(triage::classify),
        red_flags: triage::red_flags(&text).into_iter().cloned().collect(),
    }))
}
