//! The call centre's statistics for a period, as JSON for the charts and as CSV (staff).

use axum::extract::State;
use axum::response::Response;
use axum::Json;
use serde::Deserialize;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Reason, Result};
use super::extract::ApiQuery;
use super::Hub;
use crate::auth::Principal;

use crate::services::stats::{self, Stats, MAX_DAYS};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(get_stats))
        .routes(routes!(export_stats))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct Period {
    /// Calls received from this instant (default: 24 hours before `to`).
    pub from: Option<Ts>,
    /// Until this instant, excluded (default: now).
    pub to: Option<Ts>,
}

async fn figures(state: &Hub, who: &Principal, p: Period) -> Result<Stats> {
    if !who.is_staff() {
        return Err(Error::forbidden("the statistics are the call centre's"));
    }
    let to = p.to.unwrap_or_else(Ts::now);
    let from = p.from.unwrap_or(to.plus(chrono::Duration::hours(-24)));
    if from >= to {
        return Err(
            Error::invalid("from", "the period starts before it ends").because(Reason::Range)
        );
    }
    if to.0 - from.0 > chrono::Duration::days(MAX_DAYS) {
        return Err(
            Error::invalid("from", format!("at most {MAX_DAYS} days at a time"))
                .because(Reason::Range)
                .within(None, Some(MAX_DAYS as f64)),
        );
    }
    Ok(stats::compute(state.db.pool(), from, to).await?)
}

/// Calls and visits per hour and per day, waits per priority (median, 90th percentile),
/// outcomes, per sector and per doctor, for calls received in `[from, to)` (staff; at most 93 days).
#[utoipa::path(get, path = "/stats", tag = "calls", security(("bearer" = [])),
    params(Period),
    responses((status = 200, body = Stats), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn get_stats(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(p): ApiQuery<Period>,
) -> Result<Json<Stats>> {
    Ok(Json(figures(&state, &who, p).await?))
}

/// The same figures as CSV, one line per figure (`tableau;clé;mesure;valeur`).
#[utoipa::path(get, path = "/stats/export.csv", tag = "calls", security(("bearer" = [])),
    params(Period),
    responses((status = 200, content_type = "text/csv", description = "`;`-separated, UTF-8"),
        (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
async fn export_stats(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(p): ApiQuery<Period>,
) -> Result<Response> {
    let s = figures(&state, &who, p).await?;
    let body = stats::to_csv(&s).map_err(|_| Error::internal())?;
    Ok(super::calls::csv_file(body, "statistiques.csv"))
}
