//! Latency of one suggestion: a call evaluated against every doctor on shift (insertion at the
//! best place of each doctor's current round), on the 1,300 doctors of the benchmark's largest
//! instance, with rounds of 0 to 3 visits. Run: `cargo bench --bench suggest`.
//! Reports p50 / p99 over 2,000 calls; the timed part is the engine only (no HTTP, no SQL).

use std::time::Instant;

use chevet::dispatch::bench::Instance;
use chevet::dispatch::planner::{Call, Doctor, Planner, Weights};
use chevet::dispatch::travel::{Haversine, Point};

fn main() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/bench/dispatch/instances/multi-large-24h.json");
    let inst: Instance = serde_json::from_str(
        &std::fs::read_to_string(&path)
            .expect("the benchmark instance (shared/ beside the project)"),
    )
    .unwrap();
    let doctors: Vec<Doctor> = inst
        .doctors
        .iter()
        .map(|d| Doctor {
            start: Point {
                lat: d.start.lat,
                lon: d.start.lon,
            },
            available_from: 0.0,
            available_until: 600.0,
            skills: 0,
        })
        .collect();
    let n = doctors.len();
    let mut planner = Planner::new(
        Haversine {
            detour: 1.35,
            speed_kmh: 30.0,
        },
        Weights::default(),
        doctors,
    );
    // Rounds of 0..=3 visits near each doctor, from the instance's own calls.
    let mut next = 0;
    for d in 0..n {
        let mut route = Vec::new();
        for _ in 0..(d % 4) {
            let c = &inst.calls[next % inst.calls.len()];
            next += 1;
            let start = planner_start(&inst, d);
            let at = Point {
                lat: start.lat + (c.lat - start.lat) * 0.02,
                lon: start.lon + (c.lon - start.lon) * 0.02,
            };
            route.push(planner.add_call(Call {
                received: -10.0,
                at,
                priority: c.priority,
                target_wait: c.target_min,
                service: c.service_min,
                skills: 0,
            }));
        }
        planner.set_route(d, route);
    }
    let mut times = Vec::new();
    let mut sink = 0.0;
    for c in inst.calls.iter().skip(5000).take(2000) {
        let ci = planner.add_call(c.to_call(0.0, 0));
        let t = Instant::now();
        let mut best = f64::INFINITY;
        for d in 0..n {
            if let Some(p) = planner.place_in(d, ci) {
                best = best.min(p.arrive);
            }
        }
        times.push(t.elapsed().as_secs_f64() * 1000.0);
        sink += best;
    }
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!("suggestion over {n} doctors: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} calls; checksum {:.0})", pct(0.5), pct(0.99), pct(1.0), times.len(), sink);
}

fn planner_start(inst: &Instance, d: usize) -> Point {
    Point {
        lat: inst.doctors[d].start.lat,
        lon: inst.doctors[d].start.lon,
    }
}
