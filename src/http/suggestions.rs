//! Doctor suggestions for a call: every doctor's projected arrival if the call were put in his
//! current round at its best place, through the dispatch engine, with what a dispatcher needs to
//! decide in one glance; and for the doctors left out, why.

use std::collections::HashMap;

use axum::extract::State;
use axum::Json;
use chrono::{Datelike, Timelike, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::ApiPath;
use super::views::{visit_view, DoctorView};
use super::AppState;
use crate::auth::Principal;
use crate::dispatch::planner::{Call, Doctor, Planner, Weights};
use crate::dispatch::travel::{great_circle_km, ByHour, Point, TravelTime};
use crate::domain::{triage, DoctorStatus, Skill, Urgency, VisitStatus};
use crate::store::Ts;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(suggest))
}

/// Minutes a visit is expected to last, until the doctor closes it.
const SERVICE_MIN: f64 = 25.0;

/// Paris's offset from UTC in hours: +2 from the last Sunday of March, 01:00 UTC, to the last
/// Sunday of October, 01:00 UTC; +1 otherwise (the EU rule).
pub fn paris_offset_hours(t: chrono::DateTime<Utc>) -> i64 {
    let last_sunday = |month: u32| {
        let first_next =
            chrono::NaiveDate::from_ymd_opt(t.year(), month + 1, 1).unwrap_or_default();
        let last = first_next.pred_opt().unwrap_or(first_next);
        let back = last.weekday().num_days_from_sunday();
        (last - chrono::Duration::days(i64::from(back)))
            .and_hms_opt(1, 0, 0)
            .unwrap_or_default()
            .and_utc()
    };
    if t >= last_sunday(3) && t < last_sunday(10) {
        2
    } else {
        1
    }
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
}

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
    /// Doctors who can be there in time, soonest first.
    pub suggestions: Vec<Suggestion>,
    /// The others, and why; those who could go but late come with their arrival.
    pub excluded: Vec<Excluded>,
}

#[derive(sqlx::FromRow)]
struct OpenVisit {
    doctor_id: i64,
    status: VisitStatus,
    lat: Option<f64>,
    lon: Option<f64>,
    urgency: i64,
    received_at: Ts,
    on_site_at: Option<Ts>,
    assigned_at: Option<Ts>,
}

fn minutes(from: Ts, to: Ts) -> f64 {
    (to.0 - from.0).num_milliseconds() as f64 / 60_000.0
}

fn skill_bits(skills: &[Skill]) -> u32 {
    skills
        .iter()
        .map(|s| 1u32 << (*s as u32))
        .fold(0, |a, b| a | b)
}

/// Ranked doctors for a visit waiting for one (staff).
#[utoipa::path(get, path = "/visits/{id}/suggestions", tag = "visits", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Suggestions), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
async fn suggest(
    State(state): State<AppState>,
    who: Principal,
    ApiPath(id): ApiPath<i64>,
) -> ApiResult<Json<Suggestions>> {
    if !who.is_staff() {
        return Err(ApiError::forbidden("suggestions are for dispatchers"));
    }
    let visit = visit_view(state.db.pool(), id)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("visit {id}")))?;
    let now = Ts::now();
    let doctors: Vec<DoctorView> = super::views::doctor_views(state.db.pool(), None).await?;
    let open: Vec<OpenVisit> = sqlx::query_as(
        "SELECT v.doctor_id, v.status, c.lat, c.lon, v.urgency, c.received_at, v.on_site_at, v.assigned_at \
         FROM visits v JOIN calls c ON c.id = v.call_id \
         WHERE v.doctor_id IS NOT NULL AND v.status IN ('assigned', 'en_route', 'on_site') AND v.id <> $1",
    )
    .bind(id)
    .fetch_all(state.db.pool())
    .await?;
    let mut rounds: HashMap<i64, Vec<&OpenVisit>> = HashMap::new();
    for v in &open {
        rounds.entry(v.doctor_id).or_default().push(v);
    }

    let required = triage::classify(&visit.motive)
        .map(|m| m.skills)
        .unwrap_or_default();
    let urgency = Urgency::parse(visit.urgency).unwrap_or(Urgency::P2);
    let received = minutes(now, visit.received_at);
    let deadline = received + urgency.target_wait_min() as f64;
    let local_hour =
        f64::from(now.0.hour()) + now.0.minute() as f64 / 60.0 + paris_offset_hours(now.0) as f64;
    let travel = ByHour::urban(local_hour.rem_euclid(24.0));
    let target_at = match (visit.address.lat, visit.address.lon) {
        (Some(lat), Some(lon)) => Point { lat, lon },
        _ => {
            return Err(ApiError::invalid(
                "address",
                "this call's address has no position: no projection is possible",
            ))
        }
    };

    let mut excluded = Vec::new();
    let mut candidates = Vec::new(); // (doctor view, planner doctor)
    for d in &doctors {
        let out = |reason| Excluded {
            doctor_id: d.id,
            name: d.name.clone(),
            reason,
            eta_min: None,
        };
        if d.status == DoctorStatus::OffDuty {
            excluded.push(out("off_duty"));
            continue;
        }
        let Some(ends) = d.shift_ends_at else {
            excluded.push(out("no_shift"));
            continue;
        };
        let Some(pos) = &d.position else {
            excluded.push(out("no_position"));
            continue;
        };
        if !required.iter().all(|s| d.skills.contains(s)) {
            excluded.push(out("lacks_skill"));
            continue;
        }
        candidates.push((
            d,
            Point {
                lat: pos.lat,
                lon: pos.lon,
            },
            minutes(now, ends),
        ));
    }

    // The engine, in minutes from now: each doctor's round as it stands, then the call.
    let mut planner_doctors = Vec::new();
    let mut routes = Vec::new();
    let mut calls = Vec::new();
    for (d, pos, ends) in &candidates {
        let mut round: Vec<&OpenVisit> = rounds.get(&d.id).cloned().unwrap_or_default();
        round.sort_by_key(|v| {
            (
                v.status != VisitStatus::OnSite,
                v.status != VisitStatus::EnRoute,
                v.assigned_at,
            )
        });
        let (mut loc, mut free) = (*pos, 0.0);
        let mut route = Vec::new();
        for v in round {
            let at = match (v.lat, v.lon) {
                (Some(lat), Some(lon)) => Point { lat, lon },
                _ => loc,
            };
            match v.status {
                VisitStatus::OnSite => {
                    free = v
                        .on_site_at
                        .map(|t| minutes(now, t) + SERVICE_MIN)
                        .unwrap_or(SERVICE_MIN)
                        .max(0.0);
                    loc = at;
                }
                VisitStatus::EnRoute => {
                    free = free.max(0.0) + travel.minutes(loc, at, free) + SERVICE_MIN;
                    loc = at;
                }
                _ => {
                    let u = Urgency::parse(v.urgency).unwrap_or(Urgency::P2);
                    calls.push(Call {
                        received: minutes(now, v.received_at),
                        at,
                        priority: u.level() as u8,
                        target_wait: u.target_wait_min() as f64,
                        service: SERVICE_MIN,
                        skills: 0,
                    });
                    route.push(calls.len() - 1);
                }
            }
        }
        planner_doctors.push(Doctor {
            start: loc,
            available_from: free,
            available_until: *ends,
            skills: skill_bits(&d.skills),
        });
        routes.push(route);
    }
    let mut planner = Planner::new(travel.clone(), Weights::default(), planner_doctors);
    for c in calls {
        planner.add_call(c);
    }
    for (i, r) in routes.into_iter().enumerate() {
        planner.set_route(i, r);
    }
    let ci = planner.add_call(Call {
        received,
        at: target_at,
        priority: urgency.level() as u8,
        target_wait: urgency.target_wait_min() as f64,
        service: SERVICE_MIN,
        skills: skill_bits(&required),
    });

    let mut suggestions = Vec::new();
    for (i, (d, pos, _)) in candidates.iter().enumerate() {
        match planner.place_in(i, ci) {
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
                        km: great_circle_km(*pos, target_at),
                    });
                }
            }
        }
    }
    suggestions.sort_by(|a, b| a.eta_min.total_cmp(&b.eta_min));
    excluded.sort_by(|a, b| {
        a.eta_min
            .unwrap_or(f64::INFINITY)
            .total_cmp(&b.eta_min.unwrap_or(f64::INFINITY))
    });
    Ok(Json(Suggestions {
        visit_id: id,
        required_skills: required,
        deadline_min: deadline,
        suggestions,
        excluded,
    }))
}

#[cfg(test)]
mod tests {
    use super::paris_offset_hours;

    #[test]
    fn paris_is_utc_plus_one_in_winter_and_two_in_summer() {
        let t = |s: &str| {
            chrono::DateTime::parse_from_rfc3339(s)
                .unwrap()
                .with_timezone(&chrono::Utc)
        };
        assert_eq!(paris_offset_hours(t("2026-11-23T10:00:00Z")), 1);
        assert_eq!(paris_offset_hours(t("2026-07-14T10:00:00Z")), 2);
        assert_eq!(paris_offset_hours(t("2026-03-29T00:59:00Z")), 1);
        assert_eq!(paris_offset_hours(t("2026-03-29T01:00:00Z")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25T00:59:00Z")), 2);
        assert_eq!(paris_offset_hours(t("2026-10-25T01:00:00Z")), 1);
    }
}
