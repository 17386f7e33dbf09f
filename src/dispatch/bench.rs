//! The dispatch benchmark's formats (`shared/bench/dispatch/SPEC.md`) and the online replay:
//! calls are fed to the planner in order of `received_min`, each known only from then on.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use super::planner::{Call, Doctor, Planner, Weights};
use super::travel::{Haversine, Point};

#[derive(Debug, Deserialize)]
pub struct Instance {
    pub name: String,
    pub travel: TravelSpec,
    pub doctors: Vec<InstanceDoctor>,
    pub calls: Vec<InstanceCall>,
}

#[derive(Debug, Deserialize)]
pub struct TravelSpec {
    pub model: String,
    pub detour: f64,
    pub speed_kmh: f64,
}

#[derive(Debug, Deserialize)]
pub struct LonLat {
    pub lon: f64,
    pub lat: f64,
}

#[derive(Debug, Deserialize)]
pub struct InstanceDoctor {
    pub id: String,
    pub start: LonLat,
    pub available_from_min: f64,
    pub available_until_min: f64,
    #[serde(default)]
    pub skills: Vec<String>,
}

#[derive(Debug, Deserialize)]
pub struct InstanceCall {
    pub id: String,
    pub received_min: f64,
    pub lon: f64,
    pub lat: f64,
    pub priority: u8,
    pub target_min: f64,
    pub service_min: f64,
    #[serde(default)]
    pub skills: Vec<String>,
}

impl InstanceCall {
    /// The engine's call, with the given skill bits, received at `received` (minutes).
    pub fn to_call(&self, received: f64, skills: u32) -> Call {
        Call {
            received,
            at: Point {
                lat: self.lat,
                lon: self.lon,
            },
            priority: self.priority,
            target_wait: self.target_min,
            service: self.service_min,
            skills,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Plan {
    pub instance: String,
    pub solver: String,
    pub online: bool,
    pub visits: Vec<PlanVisit>,
    pub unserved: Vec<String>,
    pub meta: serde_json::Value,
}

#[derive(Debug, Serialize)]
pub struct PlanVisit {
    pub call: String,
    pub doctor: String,
    pub arrive_min: f64,
    pub depart_min: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("unsupported travel model {0:?} (only \"haversine\")")]
    Travel(String),
    #[error("unknown policy {0:?}: use \"replan\" or \"greedy\"")]
    Policy(String),
    #[error("more than 32 distinct skills")]
    Skills,
}

/// The policies `chevet simulate` can replay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Insertion with re-planning of every unstarted visit (the engine's policy).
    Replan,
    /// Each call appended to the queue of the doctor who can arrive first; never moved again.
    Greedy,
}

impl std::str::FromStr for Policy {
    type Err = BenchError;
    fn from_str(s: &str) -> Result<Self, BenchError> {
        match s {
            "replan" => Ok(Policy::Replan),
            "greedy" => Ok(Policy::Greedy),
            other => Err(BenchError::Policy(other.to_owned())),
        }
    }
}

/// Replays `inst` online through the planner and returns the plan.
pub fn simulate(inst: &Instance, policy: Policy) -> Result<Plan, BenchError> {
    if inst.travel.model != "haversine" {
        return Err(BenchError::Travel(inst.travel.model.clone()));
    }
    let mut skill_bits: HashMap<String, u32> = HashMap::new();
    let mut bits = |skills: &[String]| -> Result<u32, BenchError> {
        let mut mask = 0;
        for s in skills {
            let n = skill_bits.len();
            let bit = *skill_bits.entry(s.clone()).or_insert(n as u32);
            if bit >= 32 {
                return Err(BenchError::Skills);
            }
            mask |= 1 << bit;
        }
        Ok(mask)
    };
    let mut doctors = Vec::with_capacity(inst.doctors.len());
    for d in &inst.doctors {
        doctors.push(Doctor {
            start: Point {
                lat: d.start.lat,
                lon: d.start.lon,
            },
            available_from: d.available_from_min,
            available_until: d.available_until_min,
            skills: bits(&d.skills)?,
        });
    }
    let mut order: Vec<usize> = (0..inst.calls.len()).collect();
    order.sort_by(|&a, &b| {
        inst.calls[a]
            .received_min
            .total_cmp(&inst.calls[b].received_min)
            .then(a.cmp(&b))
    });
    let travel = Haversine {
        detour: inst.travel.detour,
        speed_kmh: inst.travel.speed_kmh,
    };
    let mut weights = Weights::default();
    // Tuning knob for experiments: CHEVET_SIM_LATE="p1,p2,p3" per-minute late penalties.
    if let Ok(v) = std::env::var("CHEVET_SIM_LATE") {
        let parts: Vec<f64> = v.split(',').filter_map(|x| x.trim().parse().ok()).collect();
        if parts.len() == 3 {
            weights.late = [parts[0], parts[1], parts[2]];
        }
    }
    if let Some(n) = std::env::var("CHEVET_SIM_PASSES")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        weights.passes = n;
    }
    let started = std::time::Instant::now();
    let mut planner = Planner::new(travel, weights, doctors);
    if policy == Policy::Greedy {
        planner.greedy_only();
    }
    let mut index = Vec::with_capacity(order.len()); // planner's call index -> instance's
    for &i in &order {
        let c = &inst.calls[i];
        planner.receive(c.to_call(c.received_min, bits(&c.skills)?));
        index.push(i);
    }
    let unserved = planner.finish();
    let solve_s = started.elapsed().as_secs_f64();
    let visits = planner
        .visits()
        .iter()
        .map(|v| PlanVisit {
            call: inst.calls[index[v.call]].id.clone(),
            doctor: inst.doctors[v.doctor].id.clone(),
            arrive_min: v.arrive,
            depart_min: v.depart,
        })
        .collect();
    Ok(Plan {
        instance: inst.name.clone(),
        solver: match policy {
            Policy::Replan => "chevet-replan".into(),
            Policy::Greedy => "chevet-greedy".into(),
        },
        online: true,
        visits,
        unserved: unserved
            .into_iter()
            .map(|c| inst.calls[index[c]].id.clone())
            .collect(),
        meta: serde_json::json!({
            "solve_s": (solve_s * 1000.0).round() / 1000.0,
            "per_call_ms": (solve_s * 1e6 / inst.calls.len().max(1) as f64).round() / 1000.0,
        }),
    })
}
