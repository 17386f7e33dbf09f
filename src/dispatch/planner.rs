//! The online planner.
//!
//! Each doctor has a position and the time he is free there (his shift start, or the end of the
//! visit he is on), and a route of visits not yet started. A route's cost is the sum over its
//! visits of weight(priority) × wait, plus a penalty per minute past the priority's target wait;
//! a route is feasible if every visit ends by the shift end plus the grace period.
//!
//! - A new call goes where it adds least cost, over every doctor with the skills and every place
//!   in his route (doctors are pruned by a lower bound on the call's own wait).
//! - Then the visits that the insertion delayed, and periodically all unstarted visits, are offered
//!   their best place elsewhere (relocation), while that lowers the total cost.
//! - Time advances: a doctor who is free sets off to the first visit of his route; from then on
//!   the visit is his and never moves.

use super::travel::{Point, TravelTime};

/// Minutes a visit may end after the shift ends (the visit in hand is finished).
pub const SHIFT_GRACE_MIN: f64 = 60.0;
const EPS: f64 = 1e-9;

#[derive(Debug, Clone)]
pub struct Doctor {
    pub start: Point,
    pub available_from: f64,
    pub available_until: f64,
    /// Bit set of skills.
    pub skills: u32,
}

#[derive(Debug, Clone)]
pub struct Call {
    pub received: f64,
    pub at: Point,
    /// 1 (most urgent) to 3.
    pub priority: u8,
    pub target_wait: f64,
    pub service: f64,
    pub skills: u32,
}

/// A visit that has started (or is done): fixed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Visit {
    pub call: usize,
    pub doctor: usize,
    pub arrive: f64,
    pub depart: f64,
}

/// What the planner minimises.
#[derive(Debug, Clone, Copy)]
pub struct Weights {
    /// Weight of a minute of wait, by priority 1..3.
    pub wait: [f64; 3],
    /// Extra weight of a minute past the target wait, by priority.
    pub late: [f64; 3],
    /// Run full relocation passes over every unstarted visit while (unstarted visits × doctors)
    /// is at most this; beyond, only the routes the new call touched are revisited.
    pub full_pass_budget: usize,
    /// At most this many relocation passes after each call.
    pub passes: usize,
}

impl Default for Weights {
    fn default() -> Self {
        Weights {
            wait: [3.0, 2.0, 1.0],
            late: [0.0, 0.0, 0.0],
            full_pass_budget: 20_000,
            passes: 3,
        }
    }
}

#[derive(Debug, Clone)]
struct DoctorState {
    loc: Point,
    free_at: f64,
    route: Vec<usize>,
    cost: f64,
}

pub struct Planner<T: TravelTime> {
    travel: T,
    weights: Weights,
    doctors: Vec<Doctor>,
    state: Vec<DoctorState>,
    calls: Vec<Call>,
    visits: Vec<Visit>,
    /// Received calls no doctor can take yet (retried at each event).
    waiting: Vec<usize>,
    now: f64,
    /// Baseline mode: append to the earliest arrival, never re-plan.
    greedy: bool,
    /// Calls that stay with their doctor (a dispatcher chose him), by call index.
    pinned: Vec<bool>,
}

/// Where a call would go, and what it would cost.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placement {
    pub doctor: usize,
    pub position: usize,
    /// Added cost for the whole plan.
    pub delta: f64,
    /// When the doctor would arrive at the call.
    pub arrive: f64,
}

impl<T: TravelTime> Planner<T> {
    pub fn new(travel: T, weights: Weights, doctors: Vec<Doctor>) -> Self {
        let state = doctors
            .iter()
            .map(|d| DoctorState {
                loc: d.start,
                free_at: d.available_from,
                route: Vec::new(),
                cost: 0.0,
            })
            .collect();
        Planner {
            travel,
            weights,
            doctors,
            state,
            calls: Vec::new(),
            visits: Vec::new(),
            waiting: Vec::new(),
            now: f64::MIN,
            greedy: false,
            pinned: Vec::new(),
        }
    }

    /// Turns the planner into the "nearest available doctor" baseline: each call is appended to
    /// the route of the doctor who can arrive first, and nothing is ever re-planned.
    pub fn greedy_only(&mut self) {
        self.greedy = true;
    }

    fn greedy_placement(&self, ci: usize) -> Option<Placement> {
        let c = &self.calls[ci];
        let mut best: Option<Placement> = None;
        for d in (0..self.doctors.len()).filter(|&d| self.can_serve(d, c)) {
            let s = &self.state[d];
            let mut trial = s.route.clone();
            trial.push(ci);
            if self.route_cost(d, &trial).is_none() {
                continue;
            }
            let arrive = self.arrival(d, &trial, trial.len() - 1);
            if best.is_none_or(|b| arrive < b.arrive) {
                best = Some(Placement {
                    doctor: d,
                    position: s.route.len(),
                    delta: 0.0,
                    arrive,
                });
            }
        }
        best
    }

    pub fn travel(&self) -> &T {
        &self.travel
    }

    /// Where doctor `d` is free next, and the calls of his route.
    pub fn doctor_route(&self, d: usize) -> (Point, &[usize]) {
        (self.state[d].loc, &self.state[d].route)
    }

    pub fn visits(&self) -> &[Visit] {
        &self.visits
    }

    pub fn calls(&self) -> &[Call] {
        &self.calls
    }

    /// The calls planned but not started, per doctor.
    pub fn routes(&self) -> impl Iterator<Item = (usize, &[usize])> {
        self.state
            .iter()
            .enumerate()
            .map(|(i, s)| (i, s.route.as_slice()))
    }

    fn call_cost(&self, c: &Call, arrive: f64) -> f64 {
        let p = usize::from(c.priority.clamp(1, 3) - 1);
        let wait = arrive - c.received;
        self.weights.wait[p] * wait + self.weights.late[p] * (wait - c.target_wait).max(0.0)
    }

    /// Cost of doctor `d` doing `route` from his current state, or None if it breaks his shift.
    fn route_cost(&self, d: usize, route: &[usize]) -> Option<f64> {
        let s = &self.state[d];
        let limit = self.doctors[d].available_until + SHIFT_GRACE_MIN + EPS;
        let (mut loc, mut time, mut cost) = (s.loc, s.free_at, 0.0);
        for &ci in route {
            let c = &self.calls[ci];
            let leave = time.max(c.received);
            let arrive = leave + self.travel.minutes(loc, c.at, leave);
            time = arrive + c.service;
            if time > limit {
                return None;
            }
            cost += self.call_cost(c, arrive);
            loc = c.at;
        }
        Some(cost)
    }

    /// Arrival time at position `pos` of doctor `d`'s route.
    fn arrival(&self, d: usize, route: &[usize], pos: usize) -> f64 {
        let s = &self.state[d];
        let (mut loc, mut time) = (s.loc, s.free_at);
        for &ci in &route[..=pos] {
            let c = &self.calls[ci];
            let leave = time.max(c.received);
            let arrive = leave + self.travel.minutes(loc, c.at, leave);
            if ci == route[pos] {
                return arrive;
            }
            time = arrive + c.service;
            loc = c.at;
        }
        f64::INFINITY
    }

    fn can_serve(&self, d: usize, c: &Call) -> bool {
        c.skills & !self.doctors[d].skills == 0
    }

    /// The cheapest place for call `ci` (not in any route), skipping doctor `except`'s route.
    pub fn best_placement(&self, ci: usize, except: Option<usize>) -> Option<Placement> {
        let c = &self.calls[ci];
        // A lower bound of the call's own cost with each doctor: he cannot leave before he is
        // free nor before the call exists, and must drive from his position or a routed call.
        let mut bounds: Vec<(f64, usize)> = (0..self.doctors.len())
            .filter(|&d| Some(d) != except && self.can_serve(d, c))
            .map(|d| {
                let s = &self.state[d];
                let mut drive = self.travel.lower_bound(s.loc, c.at);
                for &r in &s.route {
                    drive = drive.min(self.travel.lower_bound(self.calls[r].at, c.at));
                }
                (self.call_cost(c, s.free_at.max(c.received) + drive), d)
            })
            .collect();
        bounds.sort_by(|a, b| a.0.total_cmp(&b.0));
        let mut best: Option<Placement> = None;
        let mut trial = Vec::new();
        for (bound, d) in bounds {
            if best.is_some_and(|b| bound >= b.delta) {
                break;
            }
            self.scan_route(d, ci, &mut best, &mut trial);
        }
        best
    }

    /// Tries call `ci` at every place of doctor `d`'s route, keeping in `best` any place cheaper
    /// than it (`trial` is scratch space).
    fn scan_route(
        &self,
        d: usize,
        ci: usize,
        best: &mut Option<Placement>,
        trial: &mut Vec<usize>,
    ) {
        let s = &self.state[d];
        for pos in 0..=s.route.len() {
            trial.clear();
            trial.extend_from_slice(&s.route[..pos]);
            trial.push(ci);
            trial.extend_from_slice(&s.route[pos..]);
            if let Some(cost) = self.route_cost(d, trial) {
                let delta = cost - s.cost;
                if best.is_none_or(|b| delta < b.delta - EPS) {
                    *best = Some(Placement {
                        doctor: d,
                        position: pos,
                        delta,
                        arrive: self.arrival(d, trial, pos),
                    });
                }
            }
        }
    }

    fn insert(&mut self, p: Placement, ci: usize) {
        self.state[p.doctor].route.insert(p.position, ci);
        self.state[p.doctor].cost += p.delta;
    }

    /// Offers call at `pos` of doctor `d`'s route a better place; true if it moved.
    fn relocate(&mut self, d: usize, pos: usize) -> bool {
        let ci = self.state[d].route[pos];
        if self.pinned.get(ci).copied().unwrap_or(false) {
            return false;
        }
        let mut without = self.state[d].route.clone();
        without.remove(pos);
        let Some(cost_without) = self.route_cost(d, &without) else {
            return false;
        };
        let saving = self.state[d].cost - cost_without;
        // Elsewhere in the same route...
        let mut best: Option<(Vec<usize>, f64)> = None;
        for q in 0..=without.len() {
            if q == pos {
                continue;
            }
            let mut trial = without.clone();
            trial.insert(q, ci);
            if let Some(c) = self.route_cost(d, &trial) {
                if c < self.state[d].cost - 1e-6 && best.as_ref().is_none_or(|b| c < b.1) {
                    best = Some((trial, c));
                }
            }
        }
        // ...or in another doctor's.
        let other = self.best_placement(ci, Some(d));
        let in_place_gain = best
            .as_ref()
            .map(|b| self.state[d].cost - b.1)
            .unwrap_or(0.0);
        let other_gain = other.map(|o| saving - o.delta).unwrap_or(0.0);
        if other_gain > 1e-6 && other_gain > in_place_gain {
            let o = other.unwrap();
            self.state[d].route = without;
            self.state[d].cost = cost_without;
            self.insert(o, ci);
            return true;
        }
        if let Some((route, cost)) = best {
            self.state[d].route = route;
            self.state[d].cost = cost;
            return true;
        }
        false
    }

    /// Relocation passes over the given doctors' routes (all when `None`), while they improve.
    fn improve(&mut self, only: Option<&[usize]>, max_passes: usize) {
        for _ in 0..max_passes {
            let mut moved = false;
            let doctors: Vec<usize> = match only {
                Some(list) => list.to_vec(),
                None => (0..self.state.len())
                    .filter(|&d| !self.state[d].route.is_empty())
                    .collect(),
            };
            for d in doctors {
                let mut pos = 0;
                while pos < self.state[d].route.len() {
                    if self.relocate(d, pos) {
                        moved = true;
                    }
                    pos += 1;
                }
            }
            if !moved {
                break;
            }
        }
    }

    /// Starts every visit whose doctor sets off before `until`, in time order.
    fn advance(&mut self, until: f64) {
        loop {
            let mut next: Option<(f64, usize)> = None;
            for (d, s) in self.state.iter().enumerate() {
                if let Some(&head) = s.route.first() {
                    let leave = s.free_at.max(self.calls[head].received);
                    if leave <= until && next.is_none_or(|n| leave < n.0) {
                        next = Some((leave, d));
                    }
                }
            }
            let Some((leave, d)) = next else { break };
            let s = &mut self.state[d];
            let ci = s.route.remove(0);
            let c = &self.calls[ci];
            let arrive = leave + self.travel.minutes(s.loc, c.at, leave);
            let depart = arrive + c.service;
            s.loc = c.at;
            s.free_at = depart;
            self.visits.push(Visit {
                call: ci,
                doctor: d,
                arrive,
                depart,
            });
            self.state[d].cost = self
                .route_cost(d, &self.state[d].route.clone())
                .unwrap_or(f64::INFINITY);
            self.now = self.now.max(leave);
        }
    }

    /// Adds a call without placing it (for evaluating placements). Returns its index.
    pub fn add_call(&mut self, call: Call) -> usize {
        self.calls.push(call);
        self.calls.len() - 1
    }

    /// Keeps call `ci` with the doctor whose route holds it: relocation never moves it.
    pub fn pin(&mut self, ci: usize) {
        if self.pinned.len() <= ci {
            self.pinned.resize(ci + 1, false);
        }
        self.pinned[ci] = true;
    }

    /// Puts call `ci` (in no route yet) at its cheapest place; None if no doctor can take it.
    pub fn insert_best(&mut self, ci: usize) -> Option<Placement> {
        let p = self.best_placement(ci, None)?;
        self.insert(p, ci);
        Some(p)
    }

    /// Relocation passes over every unstarted visit that is not pinned, while they improve.
    pub fn replan(&mut self) {
        let passes = self.weights.passes;
        self.improve(None, passes);
    }

    /// Every routed call with its doctor and planned arrival.
    pub fn planned(&self) -> Vec<(usize, usize, f64)> {
        let mut out = Vec::new();
        for (d, s) in self.state.iter().enumerate() {
            for pos in 0..s.route.len() {
                out.push((s.route[pos], d, self.arrival(d, &s.route, pos)));
            }
        }
        out
    }

    /// Sets doctor `d`'s route of unstarted visits as it stands (the hub's current plan).
    pub fn set_route(&mut self, d: usize, route: Vec<usize>) {
        self.state[d].route = route;
        self.state[d].cost = self
            .route_cost(d, &self.state[d].route.clone())
            .unwrap_or(f64::INFINITY);
    }

    /// Where call `ci` would best go in doctor `d`'s route, if he can take it at all (skills,
    /// shift end with grace). `visits_before` is how many routed visits would come first.
    pub fn place_in(&self, d: usize, ci: usize) -> Option<Placement> {
        if !self.can_serve(d, &self.calls[ci]) {
            return None;
        }
        let mut best = None;
        let mut trial = Vec::with_capacity(self.state[d].route.len() + 1);
        self.scan_route(d, ci, &mut best, &mut trial);
        best
    }

    /// A call is received (calls must come in order of `received`). Returns its index.
    pub fn receive(&mut self, call: Call) -> usize {
        self.advance(call.received);
        self.now = call.received;
        let ci = self.calls.len();
        self.calls.push(call);
        let mut todo = std::mem::take(&mut self.waiting);
        todo.push(ci);
        let mut touched = Vec::new();
        for c in todo {
            let placement = if self.greedy {
                self.greedy_placement(c)
            } else {
                self.best_placement(c, None)
            };
            match placement {
                Some(p) => {
                    self.insert(p, c);
                    touched.push(p.doctor);
                }
                None => self.waiting.push(c),
            }
        }
        if self.greedy {
            for d in touched {
                self.state[d].cost = self
                    .route_cost(d, &self.state[d].route.clone())
                    .unwrap_or(f64::INFINITY);
            }
            return ci;
        }
        let unstarted: usize = self.state.iter().map(|s| s.route.len()).sum();
        if unstarted * self.doctors.len() <= self.weights.full_pass_budget {
            self.improve(None, self.weights.passes);
        } else {
            touched.sort_unstable();
            touched.dedup();
            self.improve(Some(&touched), self.weights.passes.min(2));
        }
        ci
    }

    /// No more calls: every planned visit is carried out. Returns the calls never served.
    pub fn finish(&mut self) -> Vec<usize> {
        self.advance(f64::INFINITY);
        std::mem::take(&mut self.waiting)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::travel::Haversine;

    fn doctor(lat: f64) -> Doctor {
        Doctor {
            start: Point { lat, lon: 5.72 },
            available_from: 0.0,
            available_until: 600.0,
            skills: 0,
        }
    }

    fn call(received: f64, lat: f64, priority: u8) -> Call {
        Call {
            received,
            at: Point { lat, lon: 5.72 },
            priority,
            target_wait: 60.0,
            service: 20.0,
            skills: 0,
        }
    }

    fn planner(doctors: Vec<Doctor>) -> Planner<Haversine> {
        Planner::new(
            Haversine {
                detour: 1.35,
                speed_kmh: 30.0,
            },
            Weights::default(),
            doctors,
        )
    }

    #[test]
    fn the_nearest_free_doctor_goes() {
        let mut p = planner(vec![doctor(45.10), doctor(45.20)]);
        p.receive(call(5.0, 45.19, 2));
        assert!(p.finish().is_empty());
        assert_eq!(p.visits()[0].doctor, 1);
        assert!(
            p.visits()[0].arrive >= 5.0,
            "no one sets off before the call exists"
        );
    }

    #[test]
    fn an_urgent_call_overtakes_a_waiting_one() {
        let mut p = planner(vec![doctor(45.19)]);
        p.receive(call(0.0, 45.19, 3)); // he sets off at once: started, fixed
        p.receive(call(1.0, 45.20, 3)); // waits in his route
        p.receive(call(2.0, 45.21, 1)); // P1: goes before the P3 still waiting
        p.finish();
        let order: Vec<usize> = p.visits().iter().map(|v| v.call).collect();
        assert_eq!(order, vec![0, 2, 1]);
    }

    #[test]
    fn skills_and_shift_ends_are_respected() {
        let mut ecg = doctor(45.30);
        ecg.skills = 1;
        let mut leaving = doctor(45.19);
        leaving.available_until = 10.0;
        let mut p = planner(vec![leaving, ecg]);
        let mut c = call(0.0, 45.19, 1);
        c.skills = 1;
        p.receive(c);
        // The late call cannot end within the first doctor's shift + grace: the other takes it.
        p.receive(call(80.0, 45.19, 3));
        assert!(p.finish().is_empty());
        assert!(p.visits().iter().all(|v| v.doctor == 1));
    }

    #[test]
    fn a_call_nobody_can_take_is_reported_unserved() {
        let mut p = planner(vec![doctor(45.19)]);
        let mut c = call(0.0, 45.19, 2);
        c.skills = 2;
        p.receive(c);
        assert_eq!(p.finish(), vec![0]);
    }
}
