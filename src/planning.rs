//! The hub's side of dispatch: reads the live board from the store (doctors on shift, where they
//! are, the visits of their rounds, the visits waiting) and lays it out for the dispatch engine in
//! minutes from now, with the hub's travel model: road times when a road network is imported
//! (`chevet import roads`), else the crow-flight model with speeds by hour. Used by the
//! suggestions and by auto-dispatch, so that both see the same board.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{Datelike, Timelike, Utc};

use crate::dispatch::planner::{Call, Doctor, Planner, Weights};
use crate::dispatch::roads::{RoadNetwork, RoadTimes};
use crate::dispatch::travel::{ByHour, Point, TravelTime};
use crate::domain::{DoctorStatus, Skill, Urgency, VisitStatus};
use crate::error::Error;
use crate::services::views::{doctor_views, DoctorView};
use crate::store::{Db, Ts};

/// Minutes a visit is expected to last, until the doctor closes it.
pub const SERVICE_MIN: f64 = 25.0;

/// The travel model of the hub.
pub enum HubTravel {
    Crow(ByHour),
    Roads(RoadTimes),
}

impl TravelTime for HubTravel {
    fn minutes(&self, a: Point, b: Point, at: f64) -> f64 {
        match self {
            HubTravel::Crow(t) => t.minutes(a, b, at),
            HubTravel::Roads(t) => t.minutes(a, b, at),
        }
    }
    fn lower_bound(&self, a: Point, b: Point) -> f64 {
        match self {
            HubTravel::Crow(t) => t.lower_bound(a, b),
            HubTravel::Roads(t) => t.lower_bound(a, b),
        }
    }
}

impl HubTravel {
    /// "road" or "crow_flight": what the times are based on.
    pub fn basis(&self) -> &'static str {
        match self {
            HubTravel::Crow(_) => "crow_flight",
            HubTravel::Roads(_) => "road",
        }
    }
}

/// The road network, read once from the store and re-read when a newer one is imported.
pub type RoadCache = Arc<tokio::sync::Mutex<Option<(i64, Arc<RoadNetwork>)>>>;

/// The newest imported road network, if any.
pub async fn road_network(db: &Db, cache: &RoadCache) -> Result<Option<Arc<RoadNetwork>>, Error> {
    let newest: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM road_networks")
        .fetch_one(db.pool())
        .await?;
    let Some(id) = newest else {
        return Ok(None);
    };
    let mut cached = cache.lock().await;
    if let Some((cid, net)) = cached.as_ref() {
        if *cid == id {
            return Ok(Some(net.clone()));
        }
    }
    let data: Vec<u8> = sqlx::query_scalar("SELECT data FROM road_networks WHERE id = $1")
        .bind(id)
        .fetch_one(db.pool())
        .await?;
    let net = tokio::task::spawn_blocking(move || RoadNetwork::from_bytes(&data))
        .await
        .map_err(|_| Error::internal())?
        .map_err(|e| {
            tracing::error!("stored road network {id} is unreadable: {e}");
            Error::internal()
        })?;
    let net = Arc::new(net);
    *cached = Some((id, net.clone()));
    Ok(Some(net))
}

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

/// Paris local hour (fractional) at `now`.
pub fn paris_hour(now: Ts) -> f64 {
    let h =
        f64::from(now.0.hour()) + now.0.minute() as f64 / 60.0 + paris_offset_hours(now.0) as f64;
    h.rem_euclid(24.0)
}

pub fn minutes(from: Ts, to: Ts) -> f64 {
    (to.0 - from.0).num_milliseconds() as f64 / 60_000.0
}

pub fn skill_bits(skills: &[Skill]) -> u32 {
    skills
        .iter()
        .map(|s| 1u32 << (*s as u32))
        .fold(0, |a, b| a | b)
}

/// Minutes added before a doctor with an old position fix is free: the fix is uncertain.
pub const STALE_POSITION_MIN: f64 = 10.0;

/// A doctor who can take visits now: on shift, not off duty, with a known position.
pub struct Candidate {
    pub view: DoctorView,
    pub at: Point,
}

/// A visit of the board, as the engine sees it.
#[derive(sqlx::FromRow)]
struct OpenVisit {
    id: i64,
    doctor_id: Option<i64>,
    status: VisitStatus,
    lat: Option<f64>,
    lon: Option<f64>,
    urgency: i64,
    received_at: Ts,
    on_site_at: Option<Ts>,
    assigned_at: Option<Ts>,
    /// Who made the visit's last assign/unassign (None: never).
    placed_by: Option<i64>,
}

/// A visit not started, in the engine.
pub struct Routed {
    pub visit_id: i64,
    pub call: usize,
    /// Its doctor (candidate index), None for a visit waiting.
    pub doctor: Option<usize>,
}

pub struct Board {
    pub now: Ts,
    pub planner: Planner<HubTravel>,
    /// Planner doctor i is `candidates[i]`.
    pub candidates: Vec<Candidate>,
    /// The others, and why: off_duty, no_shift, no_position.
    pub unavailable: Vec<(DoctorView, &'static str)>,
    /// Assigned visits not started, in their doctor's route.
    pub routed: Vec<Routed>,
    /// Visits waiting for a doctor, with a position, in the engine but in no route.
    pub waiting: Vec<Routed>,
    /// Who made each visit's last assignment or unassignment, by visit id.
    pub placed_by: HashMap<i64, i64>,
}

impl Board {
    pub fn engine_call(&self, received: Ts, at: Point, urgency: Urgency, skills: u32) -> Call {
        Call {
            received: minutes(self.now, received),
            at,
            priority: urgency.level() as u8,
            target_wait: urgency.target_wait_min() as f64,
            service: SERVICE_MIN,
            skills,
        }
    }
}

/// Reads the board. `leave_out`: a visit to keep out of every route and of the waiting list
/// (the one suggestions are asked for).
/// `stale_after`: how long a position fix counts as fresh.
pub async fn load_board(
    db: &Db,
    roads: &RoadCache,
    leave_out: Option<i64>,
    stale_after: chrono::Duration,
) -> Result<Board, Error> {
    let now = Ts::now();
    let doctors = doctor_views(db.pool(), None, stale_after).await?;
    let open: Vec<OpenVisit> = sqlx::query_as(
        "SELECT v.id, v.doctor_id, v.status, c.lat, c.lon, v.urgency, c.received_at, v.on_site_at, v.assigned_at, \
         (SELECT t.actor_id FROM visit_transitions t WHERE t.visit_id = v.id \
            AND t.to_status IN ('assigned', 'received') AND t.from_status IS NOT NULL \
            ORDER BY t.id DESC LIMIT 1) AS placed_by \
         FROM visits v JOIN calls c ON c.id = v.call_id \
         WHERE v.status IN ('received', 'assigned', 'en_route', 'on_site') AND v.id <> $1",
    )
    .bind(leave_out.unwrap_or(-1))
    .fetch_all(db.pool())
    .await?;

    let hour = paris_hour(now);
    let travel = match road_network(db, roads).await? {
        Some(net) => HubTravel::Roads(RoadTimes::new(net, hour)),
        None => HubTravel::Crow(ByHour::urban(hour)),
    };

    let mut unavailable = Vec::new();
    let mut candidates = Vec::new();
    for d in doctors {
        let reason = if d.status == DoctorStatus::OffDuty {
            Some("off_duty")
        } else if d.shift_ends_at.is_none() {
            Some("no_shift")
        } else if d.position.is_none() {
            Some("no_position")
        } else {
            None
        };
        match (reason, d.position.as_ref()) {
            (None, Some(p)) => {
                let at = Point {
                    lat: p.lat,
                    lon: p.lon,
                };
                candidates.push(Candidate { view: d, at });
            }
            (r, _) => unavailable.push((d, r.unwrap_or("no_position"))),
        }
    }
    let index: HashMap<i64, usize> = candidates
        .iter()
        .enumerate()
        .map(|(i, c)| (c.view.id, i))
        .collect();

    let mut rounds: Vec<Vec<&OpenVisit>> = vec![Vec::new(); candidates.len()];
    let mut waiting_rows = Vec::new();
    for v in &open {
        match v.doctor_id.and_then(|d| index.get(&d)) {
            Some(&i) => rounds[i].push(v),
            None if v.status == VisitStatus::Received => waiting_rows.push(v),
            None => {} // with a doctor who is off shift: not on this board
        }
    }

    // Each doctor's state: where and when he is free, then his unstarted visits in order.
    let mut planner_doctors = Vec::new();
    let mut calls: Vec<(Call, i64, Option<usize>)> = Vec::new();
    let mut routes = Vec::new();
    for (i, c) in candidates.iter().enumerate() {
        let round = &mut rounds[i];
        round.sort_by_key(|v| {
            (
                v.status != VisitStatus::OnSite,
                v.status != VisitStatus::EnRoute,
                v.assigned_at,
            )
        });
        // An old fix (or a paused phone): he may have moved since; he counts as free a little
        // later, so that a doctor known to be as near wins.
        let uncertain = c.view.position.as_ref().is_some_and(|p| p.is_stale(now));
        let (mut loc, mut free) = (c.at, if uncertain { STALE_POSITION_MIN } else { 0.0 });
        let mut route = Vec::new();
        for v in round.iter() {
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
                    calls.push((
                        Call {
                            received: minutes(now, v.received_at),
                            at,
                            priority: u.level() as u8,
                            target_wait: u.target_wait_min() as f64,
                            service: SERVICE_MIN,
                            skills: 0,
                        },
                        v.id,
                        Some(i),
                    ));
                    route.push(calls.len() - 1);
                }
            }
        }
        let ends = c.view.shift_ends_at.map(|t| minutes(now, t)).unwrap_or(0.0);
        planner_doctors.push(Doctor {
            start: loc,
            available_from: free,
            available_until: ends,
            skills: skill_bits(&c.view.skills),
        });
        routes.push(route);
    }
    for v in waiting_rows {
        let (Some(lat), Some(lon)) = (v.lat, v.lon) else {
            continue;
        };
        let u = Urgency::parse(v.urgency).unwrap_or(Urgency::P2);
        calls.push((
            Call {
                received: minutes(now, v.received_at),
                at: Point { lat, lon },
                priority: u.level() as u8,
                target_wait: u.target_wait_min() as f64,
                service: SERVICE_MIN,
                skills: 0,
            },
            v.id,
            None,
        ));
    }

    let mut planner = Planner::new(travel, Weights::default(), planner_doctors);
    let mut routed = Vec::new();
    let mut waiting = Vec::new();
    for (call, visit_id, doctor) in calls {
        let ci = planner.add_call(call);
        let r = Routed {
            visit_id,
            call: ci,
            doctor,
        };
        if doctor.is_some() {
            routed.push(r);
        } else {
            waiting.push(r);
        }
    }
    for (i, r) in routes.into_iter().enumerate() {
        planner.set_route(i, r);
    }
    let placed_by = open
        .iter()
        .filter_map(|v| v.placed_by.map(|p| (v.id, p)))
        .collect();
    Ok(Board {
        now,
        planner,
        candidates,
        unavailable,
        routed,
        waiting,
        placed_by,
    })
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
