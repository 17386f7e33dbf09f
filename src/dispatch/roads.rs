//! Road travel times from an OpenStreetMap extract, answered through a contraction hierarchy.
//!
//! - [`RoadNetwork::from_osm_pbf`] reads the drivable ways of a `.osm.pbf` file (speed by road class
//!   or `maxspeed`, one-way streets, access restrictions), keeps the largest connected part, and
//!   contracts it: nodes are ranked, and shortcuts are added so that a shortest path only ever
//!   climbs in rank from both ends. A query is then two small upward searches instead of a
//!   Dijkstra over the whole map.
//! - A suggestion needs the times between one call and a few thousand points (doctors and the
//!   visits of their rounds), both ways. [`RoadNetwork::one_to_many`] answers them with the bucket
//!   method: one upward search from the call, and each point's own upward search space, cached
//!   while the point does not move. Other times (between the visits of a round) are
//!   point-to-point queries, kept in a network-wide pair cache.
//! - [`RoadTimes`] is the [`TravelTime`] the hub uses: point → nearest road node (R-tree), the
//!   access leg at walking-to-car speed, the road time, scaled by a factor for the hour of day.
//!
//! The prepared network has its own compact binary form ([`RoadNetwork::to_bytes`]), stored in
//! the database by `chevet import roads` so that every hub of an association uses the same one.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::Path;
use std::sync::{Arc, Mutex};

use rstar::primitives::GeomWithData;
use rstar::RTree;
use rustc_hash::FxHashMap;

use super::travel::{great_circle_km, Point, TravelTime};

/// Deciseconds: the unit of every road weight.
type Weight = u32;
const INF: Weight = Weight::MAX;
/// Beyond this many settled nodes a witness search gives up (and a shortcut is added).
const WITNESS_SETTLE_LIMIT: usize = 60;
/// A point farther than this from every road is not on the map: the crow-flight model answers.
const MAX_SNAP_KM: f64 = 3.0;
/// Speed of the leg between the point and its nearest road node, km/h.
const ACCESS_KMH: f64 = 15.0;
/// Caches are cleared when they grow past this many entries.
const CACHE_LIMIT: usize = 2_000_000;

#[derive(Debug, thiserror::Error)]
pub enum RoadError {
    #[error("cannot read the OpenStreetMap file: {0}")]
    Osm(String),
    #[error("the file holds no drivable road")]
    NoRoads,
    #[error("not a prepared road network: {0}")]
    Format(String),
}

/// The speed in km/h of a way with these tags, or None when cars do not use it.
fn way_speed(tags: &HashMap<&str, &str>) -> Option<f64> {
    let class = tags.get("highway")?;
    let base = match *class {
        "motorway" => 110.0,
        "trunk" => 90.0,
        "primary" => 65.0,
        "secondary" => 55.0,
        "tertiary" => 45.0,
        "motorway_link" | "trunk_link" => 50.0,
        "primary_link" | "secondary_link" | "tertiary_link" => 40.0,
        "unclassified" => 40.0,
        "residential" => 30.0,
        "road" => 30.0,
        "service" => 15.0,
        "living_street" => 10.0,
        "track" => 12.0,
        _ => return None,
    };
    for key in ["access", "motor_vehicle", "motorcar", "vehicle"] {
        if matches!(tags.get(key), Some(&("no" | "private"))) {
            return None;
        }
    }
    if tags.get("area") == Some(&"yes") {
        return None;
    }
    let posted = tags
        .get("maxspeed")
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|v| (5.0..=150.0).contains(v));
    // Posted limits are not driving speeds: a doctor's car averages below them in town.
    Some(posted.map(|p| (p * 0.85).min(base * 1.3)).unwrap_or(base))
}

/// +1 one-way along the way, -1 against it, 0 both ways.
fn way_direction(tags: &HashMap<&str, &str>) -> i8 {
    match tags.get("oneway").copied() {
        Some("yes" | "true" | "1") => 1,
        Some("-1" | "reverse") => -1,
        Some("no" | "false" | "0") => 0,
        _ if tags.get("junction") == Some(&"roundabout") => 1,
        _ if tags.get("highway") == Some(&"motorway") => 1,
        _ => 0,
    }
}

/// A contracted road network: node positions, ranks, and the upward graphs.
pub struct RoadNetwork {
    /// (lat, lon) of each node.
    coords: Vec<[f64; 2]>,
    /// Edges u → v with rank(v) > rank(u), original or shortcut, as CSR: `up_first[u]..up_first[u+1]`.
    up_first: Vec<u32>,
    up: Vec<(u32, Weight)>,
    /// Edges v → u with rank(v) > rank(u), stored at u: the backward upward graph.
    down_first: Vec<u32>,
    down: Vec<(u32, Weight)>,
    /// The fastest speed on the network, km/h (for lower bounds).
    max_kmh: f64,
    index: RTree<GeomWithData<[f64; 2], u32>>,
    /// Scale of longitude in the R-tree (cos of the mean latitude), so that distances are even.
    lon_scale: f64,
    caches: Mutex<Caches>,
    /// Reusable search scratch spaces (each holds a distance array of the network's size).
    scratch: Mutex<Vec<Scratch>>,
}

#[derive(Default)]
struct Caches {
    fwd_space: HashMap<u32, Arc<Vec<(u32, Weight)>>>,
    bwd_space: HashMap<u32, Arc<Vec<(u32, Weight)>>>,
    pairs: HashMap<(u32, u32), Weight>,
}

/// Scratch space of one search: distances by node, reset through the list of touched nodes.
struct Scratch {
    dist: Vec<Weight>,
    touched: Vec<u32>,
    heap: BinaryHeap<Reverse<(Weight, u32)>>,
}

impl Scratch {
    fn new(n: usize) -> Scratch {
        Scratch {
            dist: vec![INF; n],
            touched: Vec::new(),
            heap: BinaryHeap::new(),
        }
    }
    fn reset(&mut self) {
        for &t in &self.touched {
            self.dist[t as usize] = INF;
        }
        self.touched.clear();
        self.heap.clear();
    }
    fn set(&mut self, v: u32, d: Weight) {
        if self.dist[v as usize] == INF {
            self.touched.push(v);
        }
        self.dist[v as usize] = d;
    }
}

impl RoadNetwork {
    /// Reads the drivable roads of an OpenStreetMap PBF extract and prepares them.
    pub fn from_osm_pbf(path: &Path) -> Result<RoadNetwork, RoadError> {
        use osmpbf::{Element, ElementReader};
        let osm = |e: osmpbf::Error| RoadError::Osm(e.to_string());
        // Pass 1: the ways, and which nodes they use.
        let mut ways: Vec<(Vec<i64>, f64, i8)> = Vec::new();
        ElementReader::from_path(path)
            .map_err(osm)?
            .for_each(|e| {
                if let Element::Way(w) = e {
                    let tags: HashMap<&str, &str> = w.tags().collect();
                    if let Some(speed) = way_speed(&tags) {
                        let refs: Vec<i64> = w.refs().collect();
                        if refs.len() >= 2 {
                            ways.push((refs, speed, way_direction(&tags)));
                        }
                    }
                }
            })
            .map_err(osm)?;
        let mut ids: HashMap<i64, u32> = HashMap::new();
        for (refs, _, _) in &ways {
            for r in refs {
                let next = ids.len() as u32;
                ids.entry(*r).or_insert(next);
            }
        }
        // Pass 2: their positions.
        let mut coords = vec![[f64::NAN; 2]; ids.len()];
        ElementReader::from_path(path)
            .map_err(osm)?
            .for_each(|e| {
                let (id, lat, lon) = match e {
                    Element::Node(n) => (n.id(), n.lat(), n.lon()),
                    Element::DenseNode(n) => (n.id(), n.lat(), n.lon()),
                    _ => return,
                };
                if let Some(&i) = ids.get(&id) {
                    coords[i as usize] = [lat, lon];
                }
            })
            .map_err(osm)?;
        let mut edges = Vec::new();
        for (refs, speed, dir) in &ways {
            for pair in refs.windows(2) {
                let (a, b) = (ids[&pair[0]], ids[&pair[1]]);
                let (pa, pb) = (coords[a as usize], coords[b as usize]);
                if a == b || pa[0].is_nan() || pb[0].is_nan() {
                    continue; // a node missing from the extract
                }
                let km = great_circle_km(
                    Point {
                        lat: pa[0],
                        lon: pa[1],
                    },
                    Point {
                        lat: pb[0],
                        lon: pb[1],
                    },
                );
                let w = ((km / speed * 36_000.0).round() as Weight).max(1);
                if *dir >= 0 {
                    edges.push((a, b, w, *speed));
                }
                if *dir <= 0 {
                    edges.push((b, a, w, *speed));
                }
            }
        }
        RoadNetwork::from_edges(coords, edges)
    }

    /// Prepares a network from node positions and directed edges (from, to, deciseconds, km/h).
    /// Only the largest connected part is kept, so that every snapped point can reach every other.
    pub fn from_edges(
        coords: Vec<[f64; 2]>,
        edges: Vec<(u32, u32, Weight, f64)>,
    ) -> Result<RoadNetwork, RoadError> {
        // Largest weakly connected component (union-find).
        let n = coords.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                p[x as usize] = p[p[x as usize] as usize];
                x = p[x as usize];
            }
            x
        }
        for &(a, b, _, _) in &edges {
            let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
            if ra != rb {
                parent[ra as usize] = rb;
            }
        }
        let mut size = vec![0u32; n];
        for &(a, _, _, _) in &edges {
            let r = find(&mut parent, a);
            size[r as usize] += 1;
        }
        let Some(big) = (0..n).max_by_key(|&i| size[i]).filter(|&i| size[i] > 0) else {
            return Err(RoadError::NoRoads);
        };
        let mut remap = vec![u32::MAX; n];
        let mut kept = Vec::new();
        for (i, c) in coords.iter().enumerate() {
            if !c[0].is_nan() && find(&mut parent, i as u32) == big as u32 {
                remap[i] = kept.len() as u32;
                kept.push(*c);
            }
        }
        let mut max_kmh: f64 = 5.0;
        let kept_edges: Vec<(u32, u32, Weight)> = edges
            .iter()
            .filter(|(a, b, _, _)| remap[*a as usize] != u32::MAX && remap[*b as usize] != u32::MAX)
            .map(|&(a, b, w, s)| {
                max_kmh = max_kmh.max(s);
                (remap[a as usize], remap[b as usize], w)
            })
            .collect();
        let (up, down) = contract(kept.len(), &kept_edges);
        Ok(RoadNetwork::assemble(kept, up, down, max_kmh))
    }

    fn assemble(
        coords: Vec<[f64; 2]>,
        up_lists: Vec<Vec<(u32, Weight)>>,
        down_lists: Vec<Vec<(u32, Weight)>>,
        max_kmh: f64,
    ) -> RoadNetwork {
        let csr = |lists: Vec<Vec<(u32, Weight)>>| {
            let mut first = Vec::with_capacity(lists.len() + 1);
            let mut flat = Vec::new();
            first.push(0);
            for l in lists {
                flat.extend(l);
                first.push(flat.len() as u32);
            }
            (first, flat)
        };
        let (up_first, up) = csr(up_lists);
        let (down_first, down) = csr(down_lists);
        let mean_lat = coords.iter().map(|c| c[0]).sum::<f64>() / coords.len().max(1) as f64;
        let lon_scale = mean_lat.to_radians().cos();
        let index = RTree::bulk_load(
            coords
                .iter()
                .enumerate()
                .map(|(i, c)| GeomWithData::new([c[1] * lon_scale, c[0]], i as u32))
                .collect(),
        );
        RoadNetwork {
            coords,
            up_first,
            up,
            down_first,
            down,
            max_kmh,
            index,
            lon_scale,
            caches: Mutex::new(Caches::default()),
            scratch: Mutex::new(Vec::new()),
        }
    }

    fn take_scratch(&self) -> Scratch {
        self.scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| Scratch::new(self.coords.len()))
    }

    fn give_back(&self, mut s: Scratch) {
        s.reset();
        self.scratch
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(s);
    }

    pub fn node_count(&self) -> usize {
        self.coords.len()
    }

    /// Edges of the hierarchy (original and shortcuts), both directions.
    pub fn edge_count(&self) -> usize {
        self.up.len() + self.down.len()
    }

    pub fn node_position(&self, v: u32) -> Point {
        let c = self.coords[v as usize];
        Point {
            lat: c[0],
            lon: c[1],
        }
    }

    /// The nearest road node to `p`, and how far it is (km).
    pub fn snap(&self, p: Point) -> Option<(u32, f64)> {
        let hit = self
            .index
            .nearest_neighbor(&[p.lon * self.lon_scale, p.lat])?;
        let v = hit.data;
        Some((v, great_circle_km(p, self.node_position(v))))
    }

    fn edges(&self, forward: bool, v: u32) -> &[(u32, Weight)] {
        let (first, list) = if forward {
            (&self.up_first, &self.up)
        } else {
            (&self.down_first, &self.down)
        };
        &list[first[v as usize] as usize..first[v as usize + 1] as usize]
    }

    /// Every node an upward search from `v` settles, with its distance.
    fn upward(&self, forward: bool, v: u32, s: &mut Scratch) -> Vec<(u32, Weight)> {
        s.reset();
        s.set(v, 0);
        s.heap.push(Reverse((0, v)));
        let mut settled = Vec::new();
        while let Some(Reverse((d, u))) = s.heap.pop() {
            if d > s.dist[u as usize] {
                continue;
            }
            settled.push((u, d));
            for &(x, w) in self.edges(forward, u) {
                let nd = d.saturating_add(w);
                if nd < s.dist[x as usize] {
                    s.set(x, nd);
                    s.heap.push(Reverse((nd, x)));
                }
            }
        }
        settled
    }

    fn space(&self, forward: bool, v: u32, s: &mut Scratch) -> Arc<Vec<(u32, Weight)>> {
        {
            let c = self.caches.lock().unwrap_or_else(|e| e.into_inner());
            let map = if forward { &c.fwd_space } else { &c.bwd_space };
            if let Some(sp) = map.get(&v) {
                return sp.clone();
            }
        }
        let sp = Arc::new(self.upward(forward, v, s));
        let mut c = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        let map = if forward {
            &mut c.fwd_space
        } else {
            &mut c.bwd_space
        };
        if map.len() > CACHE_LIMIT / 64 {
            map.clear();
        }
        map.insert(v, sp.clone());
        sp
    }

    /// Shortest drive from node `a` to node `b`, in deciseconds (None if unreachable).
    pub fn time(&self, a: u32, b: u32) -> Option<Weight> {
        if a == b {
            return Some(0);
        }
        if let Some(&w) = self
            .caches
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pairs
            .get(&(a, b))
        {
            return (w != INF).then_some(w);
        }
        let mut s = self.take_scratch();
        let fwd = self.space(true, a, &mut s);
        let bwd = self.space(false, b, &mut s);
        self.give_back(s);
        let best = meet(&fwd, &bwd);
        self.remember(&[((a, b), best)]);
        (best != INF).then_some(best)
    }

    fn remember(&self, pairs: &[((u32, u32), Weight)]) {
        let mut c = self.caches.lock().unwrap_or_else(|e| e.into_inner());
        if c.pairs.len() + pairs.len() > CACHE_LIMIT {
            c.pairs.clear();
        }
        c.pairs.extend(pairs.iter().copied());
    }

    /// Computes the times from every node of `nodes` to `hub` and from `hub` to each of them, in
    /// one go (bucket method): ((from, to), deciseconds), `INF` when unreachable.
    pub fn one_to_many(&self, hub: u32, nodes: &[u32]) -> Vec<((u32, u32), Weight)> {
        let mut s = self.take_scratch();
        // Distances from the hub upward (forward) and to the hub from above (backward).
        let from_hub = self.upward(true, hub, &mut s);
        let to_hub = self.upward(false, hub, &mut s);
        let (mut to_dist, mut from_dist) = (self.take_scratch(), self.take_scratch());
        for &(v, d) in &to_hub {
            to_dist.set(v, d);
        }
        for &(v, d) in &from_hub {
            from_dist.set(v, d);
        }
        let mut found = Vec::with_capacity(nodes.len() * 2);
        for &p in nodes {
            if p == hub {
                continue;
            }
            let fwd = self.space(true, p, &mut s);
            let to = fwd
                .iter()
                .map(|&(x, d)| d.saturating_add(to_dist.dist[x as usize]))
                .min()
                .unwrap_or(INF);
            let bwd = self.space(false, p, &mut s);
            let from = bwd
                .iter()
                .map(|&(x, d)| d.saturating_add(from_dist.dist[x as usize]))
                .min()
                .unwrap_or(INF);
            found.push(((p, hub), to));
            found.push(((hub, p), from));
        }
        self.give_back(s);
        self.give_back(to_dist);
        self.give_back(from_dist);
        found
    }

    /// The prepared network as bytes (little-endian arrays behind a magic and a version).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + self.coords.len() * 24 + self.edge_count() * 8);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.max_kmh.to_le_bytes());
        put_u32(&mut out, self.coords.len() as u32);
        for c in &self.coords {
            out.extend_from_slice(&c[0].to_le_bytes());
            out.extend_from_slice(&c[1].to_le_bytes());
        }
        for (first, list) in [(&self.up_first, &self.up), (&self.down_first, &self.down)] {
            put_u32(&mut out, list.len() as u32);
            for f in first {
                put_u32(&mut out, *f);
            }
            for (v, w) in list {
                put_u32(&mut out, *v);
                put_u32(&mut out, *w);
            }
        }
        out
    }

    /// Reads what [`to_bytes`](Self::to_bytes) wrote, checking every index.
    pub fn from_bytes(bytes: &[u8]) -> Result<RoadNetwork, RoadError> {
        let mut r = Reader { bytes, at: 0 };
        if r.take(MAGIC.len())? != MAGIC {
            return Err(RoadError::Format("bad magic or version".into()));
        }
        let max_kmh = f64::from_le_bytes(r.array()?);
        let n = r.u32()? as usize;
        if n == 0 || n > bytes.len() / 16 {
            return Err(RoadError::Format(format!("node count {n}")));
        }
        let mut coords = Vec::with_capacity(n);
        for _ in 0..n {
            coords.push([
                f64::from_le_bytes(r.array()?),
                f64::from_le_bytes(r.array()?),
            ]);
        }
        let mut lists = Vec::new();
        for _ in 0..2 {
            let m = r.u32()? as usize;
            if m > bytes.len() / 8 {
                return Err(RoadError::Format(format!("edge count {m}")));
            }
            let mut first = Vec::with_capacity(n + 1);
            for _ in 0..=n {
                first.push(r.u32()?);
            }
            if first[0] != 0 || first[n] as usize != m || first.windows(2).any(|w| w[0] > w[1]) {
                return Err(RoadError::Format("edge offsets".into()));
            }
            let mut per_node = vec![Vec::new(); n];
            for (v, slot) in per_node.iter_mut().enumerate() {
                for _ in first[v]..first[v + 1] {
                    let (x, w) = (r.u32()?, r.u32()?);
                    if x as usize >= n {
                        return Err(RoadError::Format(format!("edge to node {x}")));
                    }
                    slot.push((x, w));
                }
            }
            lists.push(per_node);
        }
        if r.at != bytes.len() {
            return Err(RoadError::Format("trailing bytes".into()));
        }
        let down = lists.pop().unwrap_or_default();
        let up = lists.pop().unwrap_or_default();
        Ok(RoadNetwork::assemble(coords, up, down, max_kmh))
    }
}

const MAGIC: &[u8] = b"CHEVET-ROADS-1\0\0";

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Result<&[u8], RoadError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or_else(|| RoadError::Format(format!("truncated at byte {}", self.at)))?;
        let s = &self.bytes[self.at..end];
        self.at = end;
        Ok(s)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], RoadError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N)?);
        Ok(a)
    }
    fn u32(&mut self) -> Result<u32, RoadError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
}

/// The best meeting of a forward and a backward upward search space.
fn meet(fwd: &[(u32, Weight)], bwd: &[(u32, Weight)]) -> Weight {
    let (small, large) = if fwd.len() <= bwd.len() {
        (fwd, bwd)
    } else {
        (bwd, fwd)
    };
    let map: HashMap<u32, Weight> = small.iter().copied().collect();
    large
        .iter()
        .filter_map(|&(x, d)| map.get(&x).map(|&e| d.saturating_add(e)))
        .min()
        .unwrap_or(INF)
}

/// Contraction: ranks every node (cheapest to remove first, lazily re-evaluated: edge difference
/// plus contracted neighbours) and returns, per node, its upward edges and its backward upward
/// edges, shortcuts included.
#[allow(clippy::type_complexity)]
fn contract(
    n: usize,
    edges: &[(u32, u32, Weight)],
) -> (Vec<Vec<(u32, Weight)>>, Vec<Vec<(u32, Weight)>>) {
    let mut out: Vec<Vec<(u32, Weight)>> = vec![Vec::new(); n];
    let mut inn: Vec<Vec<(u32, Weight)>> = vec![Vec::new(); n];
    fn add(
        out: &mut [Vec<(u32, Weight)>],
        inn: &mut [Vec<(u32, Weight)>],
        a: u32,
        b: u32,
        w: Weight,
    ) {
        if let Some(e) = out[a as usize].iter_mut().find(|e| e.0 == b) {
            if w < e.1 {
                e.1 = w;
                if let Some(f) = inn[b as usize].iter_mut().find(|f| f.0 == a) {
                    f.1 = w;
                }
            }
            return;
        }
        out[a as usize].push((b, w));
        inn[b as usize].push((a, w));
    }
    for &(a, b, w) in edges {
        if a != b {
            add(&mut out, &mut inn, a, b, w);
        }
    }
    let mut done = vec![false; n];
    let mut gone_neighbours = vec![0i64; n];
    let mut s = Scratch::new(n);
    let mut shortcuts = Vec::new();

    // The shortcuts contracting v would need, into `found`.
    fn needed(
        v: u32,
        out: &[Vec<(u32, Weight)>],
        inn: &[Vec<(u32, Weight)>],
        s: &mut Scratch,
        found: &mut Vec<(u32, u32, Weight)>,
    ) {
        found.clear();
        for &(u, wu) in &inn[v as usize] {
            let max = out[v as usize]
                .iter()
                .filter(|(x, _)| *x != u)
                .map(|&(_, wx)| wu + wx)
                .max();
            let Some(max) = max else { continue };
            // Witness search from u, around v, bounded by the longest path through v.
            s.reset();
            s.set(u, 0);
            s.heap.push(Reverse((0, u)));
            let mut settled = 0;
            while let Some(Reverse((d, y))) = s.heap.pop() {
                if d > s.dist[y as usize] {
                    continue;
                }
                settled += 1;
                if d > max || settled > WITNESS_SETTLE_LIMIT {
                    break;
                }
                for &(z, w) in &out[y as usize] {
                    if z == v {
                        continue;
                    }
                    let nd = d + w;
                    if nd < s.dist[z as usize] {
                        s.set(z, nd);
                        s.heap.push(Reverse((nd, z)));
                    }
                }
            }
            for &(x, wx) in &out[v as usize] {
                if x != u && s.dist[x as usize] > wu + wx {
                    found.push((u, x, wu + wx));
                }
            }
        }
    }

    let priority = |v: u32,
                    out: &[Vec<(u32, Weight)>],
                    inn: &[Vec<(u32, Weight)>],
                    gone: &[i64],
                    s: &mut Scratch,
                    found: &mut Vec<(u32, u32, Weight)>| {
        needed(v, out, inn, s, found);
        let removed = (out[v as usize].len() + inn[v as usize].len()) as i64;
        2 * (found.len() as i64 - removed) + gone[v as usize]
    };

    let mut heap = BinaryHeap::new();
    for v in 0..n as u32 {
        let p = priority(v, &out, &inn, &gone_neighbours, &mut s, &mut shortcuts);
        heap.push(Reverse((p, v)));
    }
    let mut up = vec![Vec::new(); n];
    let mut down = vec![Vec::new(); n];
    while let Some(Reverse((p, v))) = heap.pop() {
        if done[v as usize] {
            continue;
        }
        let now = priority(v, &out, &inn, &gone_neighbours, &mut s, &mut shortcuts);
        if now > p {
            if let Some(Reverse((next, _))) = heap.peek() {
                if now > *next {
                    heap.push(Reverse((now, v)));
                    continue;
                }
            }
        }
        // Contract v: its remaining edges all lead to higher ranks.
        done[v as usize] = true;
        let outs = std::mem::take(&mut out[v as usize]);
        let ins = std::mem::take(&mut inn[v as usize]);
        for &(x, _) in &outs {
            inn[x as usize].retain(|e| e.0 != v);
            gone_neighbours[x as usize] += 1;
        }
        for &(u, _) in &ins {
            out[u as usize].retain(|e| e.0 != v);
            gone_neighbours[u as usize] += 1;
        }
        for &(a, b, w) in &shortcuts {
            add(&mut out, &mut inn, a, b, w);
        }
        up[v as usize] = outs;
        down[v as usize] = ins;
    }
    (up, down)
}

/// Travel factor by hour of local time: free-flow road times are slower at rush hours.
pub fn urban_hour_factor() -> [f64; 24] {
    let mut f = [1.0; 24];
    for (h, x) in f.iter_mut().enumerate() {
        *x = match h {
            0..=5 | 22..=23 => 1.0,
            7..=9 | 17..=19 => 1.5,
            _ => 1.2,
        };
    }
    f
}

/// A point's nearest road node and the minutes of the leg to it.
type Snap = (u32, f64);

/// Travel times over a road network, from plan minute 0 = `start_hour` local time.
pub struct RoadTimes {
    pub net: Arc<RoadNetwork>,
    pub hour_factor: [f64; 24],
    pub start_hour: f64,
    /// Points seen so far, snapped (the same few points come back many times in one plan).
    snaps: RefCell<FxHashMap<(u64, u64), Option<Snap>>>,
    /// Node-pair times known to this plan: the batch for the call at hand, and those looked up.
    /// (Per plan, so that one call's batch does not crowd the network-wide cache.)
    known: RefCell<FxHashMap<(u32, u32), Weight>>,
}

impl RoadTimes {
    pub fn new(net: Arc<RoadNetwork>, start_hour: f64) -> RoadTimes {
        RoadTimes {
            net,
            hour_factor: urban_hour_factor(),
            start_hour,
            snaps: RefCell::new(FxHashMap::default()),
            known: RefCell::new(FxHashMap::default()),
        }
    }

    /// The nearest node and the access leg in minutes, or None off the map.
    fn snapped(&self, p: Point) -> Option<(u32, f64)> {
        let key = (p.lat.to_bits(), p.lon.to_bits());
        if let Some(s) = self.snaps.borrow().get(&key) {
            return *s;
        }
        let s = self
            .net
            .snap(p)
            .filter(|(_, km)| *km <= MAX_SNAP_KM)
            .map(|(v, km)| (v, km / ACCESS_KMH * 60.0));
        self.snaps.borrow_mut().insert(key, s);
        s
    }

    /// Prepares the times between `hub` and each of `points`, both ways, in one batch (replacing
    /// the previous batch).
    pub fn prefill(&self, hub: Point, points: &[Point]) {
        let Some((h, _)) = self.snapped(hub) else {
            return;
        };
        let nodes: Vec<u32> = points
            .iter()
            .filter_map(|p| self.snapped(*p).map(|s| s.0))
            .collect();
        let found = self.net.one_to_many(h, &nodes);
        let mut known = self.known.borrow_mut();
        known.clear(); // the previous call's batch
        known.extend(found);
    }

    /// Road time between two nodes, deciseconds.
    fn node_time(&self, a: u32, b: u32) -> Option<Weight> {
        if let Some(&w) = self.known.borrow().get(&(a, b)) {
            return (w != INF).then_some(w);
        }
        let w = self.net.time(a, b);
        self.known.borrow_mut().insert((a, b), w.unwrap_or(INF));
        w
    }

    fn crow_minutes(&self, a: Point, b: Point) -> f64 {
        great_circle_km(a, b) * 1.35 / 30.0 * 60.0
    }

    /// Free-flow minutes from a to b.
    pub fn free_flow(&self, a: Point, b: Point) -> f64 {
        match (self.snapped(a), self.snapped(b)) {
            (Some((na, ta)), Some((nb, tb))) => {
                if na == nb {
                    return great_circle_km(a, b) / ACCESS_KMH * 60.0;
                }
                match self.node_time(na, nb) {
                    Some(w) => ta + w as f64 / 600.0 + tb,
                    None => self.crow_minutes(a, b),
                }
            }
            _ => self.crow_minutes(a, b),
        }
    }
}

impl TravelTime for RoadTimes {
    fn minutes(&self, a: Point, b: Point, at: f64) -> f64 {
        let hour = ((self.start_hour + at / 60.0).rem_euclid(24.0)) as usize % 24;
        self.free_flow(a, b) * self.hour_factor[hour]
    }
    fn lower_bound(&self, a: Point, b: Point) -> f64 {
        let fastest = self.net.max_kmh.max(ACCESS_KMH);
        let least = self.hour_factor.iter().cloned().fold(f64::MAX, f64::min);
        (great_circle_km(a, b) / fastest * 60.0 * least).min(self.crow_minutes(a, b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Plain Dijkstra over the original edges, as the reference.
    fn dijkstra(n: usize, edges: &[(u32, u32, Weight)], s: u32) -> Vec<Weight> {
        let mut adj = vec![Vec::new(); n];
        for &(a, b, w) in edges {
            adj[a as usize].push((b, w));
        }
        let mut dist = vec![INF; n];
        let mut heap = BinaryHeap::new();
        dist[s as usize] = 0;
        heap.push(Reverse((0, s)));
        while let Some(Reverse((d, u))) = heap.pop() {
            if d > dist[u as usize] {
                continue;
            }
            for &(v, w) in &adj[u as usize] {
                if d + w < dist[v as usize] {
                    dist[v as usize] = d + w;
                    heap.push(Reverse((d + w, v)));
                }
            }
        }
        dist
    }

    /// A grid town with one-way streets and a few slow blocks: CH times equal Dijkstra's.
    #[test]
    fn contraction_gives_the_same_times_as_dijkstra() {
        let side = 18u32;
        let n = (side * side) as usize;
        let coords: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                [
                    45.0 + (i as u32 / side) as f64 * 0.001,
                    5.0 + (i as u32 % side) as f64 * 0.001,
                ]
            })
            .collect();
        let mut edges = Vec::new();
        let mut seed = 7u64;
        let mut rnd = || {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (seed >> 33) as u32
        };
        for r in 0..side {
            for c in 0..side {
                let v = r * side + c;
                for (dr, dc) in [(0, 1), (1, 0)] {
                    let (r2, c2) = (r + dr, c + dc);
                    if r2 < side && c2 < side {
                        let u = r2 * side + c2;
                        let w = 50 + rnd() % 200;
                        match rnd() % 5 {
                            0 => edges.push((v, u, w, 30.0)),
                            1 => edges.push((u, v, w, 30.0)),
                            _ => {
                                edges.push((v, u, w, 30.0));
                                edges.push((u, v, w, 30.0));
                            }
                        }
                    }
                }
            }
        }
        let plain: Vec<(u32, u32, Weight)> = edges.iter().map(|e| (e.0, e.1, e.2)).collect();
        let net = RoadNetwork::from_edges(coords, edges).unwrap();
        assert_eq!(net.node_count(), n);
        for s in [0u32, 17, 100, 200, 323] {
            let reference = dijkstra(n, &plain, s);
            for t in 0..n as u32 {
                let want = (reference[t as usize] != INF).then_some(reference[t as usize]);
                assert_eq!(net.time(s, t), want, "{s} -> {t}");
            }
            // The batch (bucket) answers agree too, both ways.
            let fresh = RoadNetwork::from_bytes(&net.to_bytes()).unwrap();
            let all: Vec<u32> = (0..n as u32).collect();
            let batch: HashMap<(u32, u32), Weight> =
                fresh.one_to_many(s, &all).into_iter().collect();
            for t in (0..n as u32).filter(|&t| t != s) {
                let back = dijkstra(n, &plain, t)[s as usize];
                assert_eq!(batch[&(t, s)], back, "{t} -> {s}");
                assert_eq!(batch[&(s, t)], reference[t as usize], "{s} -> {t}");
            }
        }
    }

    #[test]
    fn truncated_or_foreign_bytes_are_refused() {
        let coords = vec![[45.0, 5.0], [45.001, 5.0]];
        let net =
            RoadNetwork::from_edges(coords, vec![(0, 1, 10, 30.0), (1, 0, 10, 30.0)]).unwrap();
        let bytes = net.to_bytes();
        for cut in [0, 5, 16, 30, bytes.len() - 1] {
            assert!(RoadNetwork::from_bytes(&bytes[..cut]).is_err(), "{cut}");
        }
        assert!(RoadNetwork::from_bytes(b"PK\x03\x04 not a network").is_err());
        let mut bad = bytes.clone();
        let last = bad.len() - 8;
        bad[last..last + 4].copy_from_slice(&99u32.to_le_bytes());
        assert!(RoadNetwork::from_bytes(&bad).is_err());
        assert_eq!(
            RoadNetwork::from_bytes(&bytes).unwrap().time(0, 1),
            Some(10)
        );
    }

    #[test]
    fn one_way_and_access_tags() {
        let t = |pairs: &[(&'static str, &'static str)]| {
            pairs.iter().copied().collect::<HashMap<_, _>>()
        };
        assert_eq!(
            way_direction(&t(&[("highway", "residential"), ("oneway", "yes")])),
            1
        );
        assert_eq!(
            way_direction(&t(&[("highway", "primary"), ("junction", "roundabout")])),
            1
        );
        assert_eq!(
            way_direction(&t(&[("highway", "residential"), ("oneway", "-1")])),
            -1
        );
        assert_eq!(way_direction(&t(&[("highway", "residential")])), 0);
        assert_eq!(way_speed(&t(&[("highway", "footway")])), None);
        assert_eq!(
            way_speed(&t(&[("highway", "service"), ("access", "private")])),
            None
        );
        assert_eq!(way_speed(&t(&[("highway", "residential")])), Some(30.0));
        assert_eq!(
            way_speed(&t(&[("highway", "primary"), ("maxspeed", "50")])),
            Some(42.5)
        );
    }
}
