//! Doctor suggestions for a call: every doctor's projected arrival if the call were put in his
//! current round at its best place, through the dispatch engine, with what a dispatcher needs to
//! decide in one glance; and for the doctors left out, why.

use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::ApiPath;
use super::Hub;
use crate::auth::Principal;
use crate::dispatch::travel::{great_circle_km, Point};
use crate::domain::{triage, DoctorStatus, Skill, Urgency};
use crate::planning::{load_board, skill_bits, HubTravel};
use crate::services::views::visit_view;
use crate::store::Ts;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(suggest))
}

#[derive(Serialize, ToSchema)]
pub struct Suggestion {
    pub doctor_id: i64,
    pub name: String,
    /// Minutes from now until he would be there.
    pub eta_min: f64,
    pub arrive_at: Ts,
    /// Visits of his round he would make first.
    pub visits_before: usize,
    pub status: DoctorStatus,
    pub skills: Vec<Skill>,
    /// As the crow flies from his last position, in km.
    pub km: f64,
    /// His shift covers the call's sector: he is preferred there (ranked as if
    /// `SECTOR_PREFERENCE_MIN` minutes sooner).
    pub in_sector: bool,
}

/// How many minutes of travel a doctor on a shift of the call's sector is worth: among doctors
/// who can all be there in time, the sector's own goes unless another is this much sooner.
pub const SECTOR_PREFERENCE_MIN: f64 = 5.0;

#[derive(Serialize, ToSchema)]
pub struct Excluded {
    pub doctor_id: i64,
    pub name: String,
    /// off_duty, no_shift, no_position, lacks_skill, shift_ends or cannot_make_deadline.
    pub reason: &'static str,
    pub eta_min: Option<f64>,
}

#[derive(Serialize, ToSchema)]
pub struct Suggestions {
    pub visit_id: i64,
    /// Skills the motive calls for (from the triage catalogue).
    pub required_skills: Vec<Skill>,
    /// Minutes from now until the urgency's target wait runs out (negative: already late).
    pub deadline_min: f64,
    /// What the times are based on: `road` (the imported road network) or `crow_flight`.
    pub travel: &'static str,
    /// Doctors who can be there in time, soonest first.
    pub suggestions: Vec<Suggestion>,
    /// The others, and why; those who could go but late come with their arrival.
    pub excluded: Vec<Excluded>,
}

/// Ranked doctors for a visit waiting for one (staff).
#[utoipa::path(get, path = "/visits/{id}/suggestions", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Suggestions), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn suggest(
    State(state): State<Hub>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> Result<Json<Suggestions>> {
    if !who.is_staff() {
        return Err(Error::forbidden("suggestions are for dispatchers"));
    }
    let visit = visit_view(state.db.pool(), id)
        .await?
        .ok_or_else(|| Error::not_found(format!("visit {id}")))?;
    let target_at = match (visit.address.lat, visit.address.lon) {
        (Some(lat), Some(lon)) => Point { lat, lon },
        _ => {
            return Err(Error::invalid(
                "address",
                "this call's address has no position: no projection is possible",
            ))
        }
    };
    let mut board = load_board(
        &state.db,
        &state.roads,
        Some(id),
        state.config.position_stale_after,
    )
    .await?;
    let now = board.now;
    let call_sector: Option<i64> =
        sqlx::query_scalar::<_, Option<i64>>("SELECT sector_id FROM calls WHERE id = $1")
            .bind(visit.call_id)
            .fetch_optional(state.db.pool())
            .await?
            .flatten();
    let required = triage::classify(&visit.motive)
        .map(|m| m.skills)
        .unwrap_or_default();
    let urgency = Urgency::parse(visit.urgency).unwrap_or(Urgency::P2);
    let call = board.engine_call(visit.received_at, target_at, urgency, skill_bits(&required));
    let deadline = call.received + call.target_wait;
    let ci = board.planner.add_call(call);

    let mut excluded: Vec<Excluded> = board
        .unavailable
        .iter()
        .map(|(d, reason)| Excluded {
            doctor_id: d.id,
            name: d.name.clone(),
            reason,
            eta_min: None,
        })
        .collect();
    // Road times: the call against every doctor and every visit of the rounds, in one batch.
    if let HubTravel::Roads(roads) = board.planner.travel() {
        let mut points = Vec::new();
        for i in 0..board.candidates.len() {
            let (start, route) = board.planner.doctor_route(i);
            points.push(start);
            points.extend(route.iter().map(|&c| board.planner.calls()[c].at));
        }
        roads.prefill(target_at, &points);
    }

    let mut suggestions = Vec::new();
    for (i, c) in board.candidates.iter().enumerate() {
        let d = &c.view;
        if !required.iter().all(|s| d.skills.contains(s)) {
            excluded.push(Excluded {
                doctor_id: d.id,
                name: d.name.clone(),
                reason: "lacks_skill",
                eta_min: None,
            });
            continue;
        }
        match board.planner.place_in(i, ci) {
            None => excluded.push(Excluded {
                doctor_id: d.id,
                name: d.name.clone(),
                reason: "shift_ends",
                eta_min: None,
            }),
            Some(p) => {
                let eta = p.arrive.max(0.0);
                if p.arrive > deadline && deadline > 0.0 {
                    excluded.push(Excluded {
                        doctor_id: d.id,
                        name: d.name.clone(),
                        reason: "cannot_make_deadline",
                        eta_min: Some(eta),
                    });
                } else {
                    suggestions.push(Suggestion {
                        doctor_id: d.id,
                        name: d.name.clone(),
                        eta_min: eta,
                        arrive_at: now
                            .plus(chrono::Duration::milliseconds((eta * 60_000.0) as i64)),
                        visits_before: p.position,
                        status: d.status,
                        skills: d.skills.clone(),
                        km: great_circle_km(c.at, target_at),
                        in_sector: call_sector.is_some() && d.shift_sector_id == call_sector,
                    });
                }
            }
        }
    }
    let rank = |s: &Suggestion| {
        s.eta_min
            - if s.in_sector {
                SECTOR_PREFERENCE_MIN
            } else {
                0.0
            }
    };
    suggestions.sort_by(|a, b| rank(a).total_cmp(&rank(b)));
    excluded.sort_by(|a, b| {
        a.eta_min
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.eta_min.unwrap_or(f64::INFINITY))
    });
    Ok(Json(Suggestions {
        visit_id: id,
        required_skills: required,
        deadline_min: deadline,
        travel: board.planner.travel().basis(),
        suggestions,
        excluded,
    }))
}
