//! Latency of one suggestion: a call evaluated against every doctor on shift (insertion at the
//! best place of each doctor's current round), on the 1,300 doctors of the benchmark's largest
//! instance, with rounds of 0 to 3 visits. Run: `cargo bench --bench suggest`.
//! Reports p50 / p99 over 2,000 calls; the timed part is the engine only (no HTTP, no SQL).
//!
//! Twice: with great-circle travel times on the instance's doctors, then with road travel times
//! on the OpenStreetMap extract of shared/data/map (Saint-Barthélemy), the same 1,300 doctors
//! and rounds placed at random on the island, each call's times batched (bucket method) as the
//! hub does.

use std::time::Instant;

use chevet::dispatch::bench::Instance;
use chevet::dispatch::planner::{Call, Doctor, Planner, Weights};
use std::sync::Arc;

use chevet::dispatch::roads::{RoadNetwork, RoadTimes};
use chevet::dispatch::travel::{Haversine, Point, TravelTime};

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
    report("great-circle", n, times, sink);
    roads(n);
}

fn report(label: &str, n: usize, mut times: Vec<f64>, sink: f64) {
    times.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| times[((times.len() as f64 - 1.0) * p).round() as usize];
    println!("suggestion over {n} doctors, {label} times: p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms ({} calls; checksum {:.0})", pct(0.5), pct(0.99), pct(1.0), times.len(), sink);
}

/// The same measure with road times on Saint-Barthélemy.
fn roads(n: usize) {
    let map = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/map/saint_barthelemy.osm.pbf");
    let t = Instant::now();
    let net =
        Arc::new(RoadNetwork::from_osm_pbf(&map).expect("the OSM extract in shared/data/map"));
    println!(
        "road network: {} nodes, {} edges with shortcuts, read and contracted in {:.2} s",
        net.node_count(),
        net.edge_count(),
        t.elapsed().as_secs_f64()
    );
    // Deterministic points near random road nodes.
    let mut seed = 42u64;
    let mut next = move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) as usize
    };
    let nodes = net.node_count();
    let mut point = |net: &RoadNetwork| {
        let p = net.node_position((next() % nodes) as u32);
        Point {
            lat: p.lat + 0.0003,
            lon: p.lon - 0.0002,
        }
    };
    let doctors: Vec<Doctor> = (0..n)
        .map(|_| Doctor {
            start: point(&net),
            available_from: 0.0,
            available_until: 600.0,
            skills: 0,
        })
        .collect();
    let travel = RoadTimes::new(net.clone(), 21.0);
    let mut planner = Planner::new(travel, Weights::default(), doctors);
    for d in 0..n {
        let mut route = Vec::new();
        for _ in 0..(d % 4) {
            route.push(planner.add_call(Call {
                received: -10.0,
                at: point(&net),
                priority: 2,
                target_wait: 60.0,
                service: 25.0,
                skills: 0,
            }));
        }
        planner.set_route(d, route);
    }
    let mut points = Vec::new();
    for d in 0..n {
        let (start, route) = planner.doctor_route(d);
        points.push(start);
        points.extend(route.iter().map(|&c| planner.calls()[c].at));
    }
    let mut times = Vec::new();
    let mut first = None;
    let mut sink = 0.0;
    for _ in 0..2000 {
        let at = point(&net);
        let ci = planner.add_call(Call {
            received: 0.0,
            at,
            priority: 2,
            target_wait: 60.0,
            service: 25.0,
            skills: 0,
        });
        let t = Instant::now();
        planner.travel().prefill(at, &points);
        let mut best = f64::INFINITY;
        for d in 0..n {
            if let Some(p) = planner.place_in(d, ci) {
                best = best.min(p.arrive);
            }
        }
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        first.get_or_insert(ms);
        times.push(ms);
        sink += best;
    }
    println!(
        "first call (cold caches of the rounds' search spaces): {:.3} ms",
        first.unwrap_or(0.0)
    );
    let _ = planner.travel().lower_bound(points[0], points[1]);
    report("road", n, times, sink);
}

fn planner_start(inst: &Instance, d: usize) -> Point {
    Point {
        lat: inst.doctors[d].start.lat,
        lon: inst.doctors[d].start.lon,
    }
}
