//! Travel times. The default model is the benchmark's: great-circle distance × detour factor ÷
//! speed, computed in the same order as `score.py` so that plans check to the last bit.

/// A WGS84 point in degrees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub lat: f64,
    pub lon: f64,
}

pub const EARTH_RADIUS_KM: f64 = 6371.0088;

/// Great-circle distance in km (haversine).
pub fn great_circle_km(a: Point, b: Point) -> f64 {
    let (pa, pb) = (a.lat.to_radians(), b.lat.to_radians());
    let dp = pb - pa;
    let dl = (b.lon - a.lon).to_radians();
    let h = (dp / 2.0).sin().powi(2) + pa.cos() * pb.cos() * (dl / 2.0).sin().powi(2);
    2.0 * EARTH_RADIUS_KM * h.min(1.0).sqrt().asin()
}

/// How long the drive from `a` to `b` takes, in minutes, when setting off at minute `at`.
pub trait TravelTime {
    fn minutes(&self, a: Point, b: Point, at: f64) -> f64;
    /// A lower bound of `minutes` for any departure time (for pruning).
    fn lower_bound(&self, a: Point, b: Point) -> f64;
}

/// Great circle × detour ÷ speed: the benchmark's model.
#[derive(Debug, Clone, Copy)]
pub struct Haversine {
    pub detour: f64,
    pub speed_kmh: f64,
}

impl TravelTime for Haversine {
    fn minutes(&self, a: Point, b: Point, _at: f64) -> f64 {
        great_circle_km(a, b) * self.detour / self.speed_kmh * 60.0
    }
    fn lower_bound(&self, a: Point, b: Point) -> f64 {
        self.minutes(a, b, 0.0)
    }
}

/// Great circle × detour at a speed that depends on the hour of day (rush hours are slower).
#[derive(Debug, Clone)]
pub struct ByHour {
    pub detour: f64,
    /// km/h for each hour 0..24 of local time; minute 0 of the plan is `start_hour`.
    pub speed_kmh: [f64; 24],
    pub start_hour: f64,
}

impl ByHour {
    /// Urban speeds: 20 km/h at rush hours, 35 km/h at night.
    pub fn urban(start_hour: f64) -> ByHour {
        let mut speed = [30.0; 24];
        for (h, s) in speed.iter_mut().enumerate() {
            *s = match h {
                0..=5 | 22..=23 => 35.0,
                7..=9 | 17..=19 => 20.0,
                _ => 28.0,
            };
        }
        ByHour {
            detour: 1.35,
            speed_kmh: speed,
            start_hour,
        }
    }
}

impl TravelTime for ByHour {
    fn minutes(&self, a: Point, b: Point, at: f64) -> f64 {
        let hour = ((self.start_hour + at / 60.0).rem_euclid(24.0)) as usize % 24;
        great_circle_km(a, b) * self.detour / self.speed_kmh[hour] * 60.0
    }
    fn lower_bound(&self, a: Point, b: Point) -> f64 {
        let fastest = self.speed_kmh.iter().cloned().fold(f64::MIN, f64::max);
        great_circle_km(a, b) * self.detour / fastest * 60.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grenoble_to_lyon_is_about_94_km_as_the_crow_flies() {
        let grenoble = Point {
            lat: 45.1885,
            lon: 5.7245,
        };
        let lyon = Point {
            lat: 45.7640,
            lon: 4.8357,
        };
        let km = great_circle_km(grenoble, lyon);
        assert!((km - 94.0).abs() < 2.0, "{km}");
        let t = Haversine {
            detour: 1.35,
            speed_kmh: 30.0,
        }
        .minutes(grenoble, lyon, 0.0);
        assert!((t - km * 1.35 / 30.0 * 60.0).abs() < 1e-9);
    }

    #[test]
    fn rush_hour_is_slower() {
        let m = ByHour::urban(0.0);
        let (a, b) = (
            Point {
                lat: 45.18,
                lon: 5.72,
            },
            Point {
                lat: 45.20,
                lon: 5.75,
            },
        );
        assert!(m.minutes(a, b, 8.0 * 60.0) > m.minutes(a, b, 3.0 * 60.0));
        assert!(m.lower_bound(a, b) <= m.minutes(a, b, 3.0 * 60.0));
    }
}
