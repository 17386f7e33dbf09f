//! The association's covered area: sectors as polygons (WGS84), and which sector a point is in.
//! A call outside every sector cannot get a home visit; the dispatcher is told at once, with the
//! fallbacks to offer.

use geo::{BoundingRect, Contains, MultiPolygon, Point, Rect};

use super::ValueError;

/// What to offer a caller the association cannot visit.
pub const FALLBACKS: &[(&str, &str)] = &[
    (
        "teleconsultation",
        "Téléconsultation avec un médecin de l'association",
    ),
    ("centre", "Consultation au centre médical de garde"),
    ("samu_15", "Le 15 (SAMU) en cas d'urgence vitale"),
];

#[derive(Debug, Clone)]
pub struct Sector {
    pub id: i64,
    pub name: String,
    shape: MultiPolygon<f64>,
    bbox: Option<Rect<f64>>,
}

impl Sector {
    /// Reads a GeoJSON geometry (Polygon or MultiPolygon, lon/lat degrees).
    pub fn from_geojson(
        id: i64,
        name: &str,
        geometry: &serde_json::Value,
    ) -> Result<Sector, ValueError> {
        let geometry: geojson::Geometry =
            serde_json::from_value(geometry.clone()).map_err(|e| {
                ValueError::other(format!("sector {name:?}: not a GeoJSON geometry: {e}"))
            })?;
        let geo: geo::Geometry<f64> = geometry
            .try_into()
            .map_err(|e| ValueError::other(format!("sector {name:?}: unreadable geometry: {e}")))?;
        let shape = match geo {
            geo::Geometry::Polygon(p) => MultiPolygon(vec![p]),
            geo::Geometry::MultiPolygon(m) => m,
            _ => {
                return Err(ValueError::other(format!(
                    "sector {name:?}: a sector is a Polygon or a MultiPolygon"
                )))
            }
        };
        let bbox = shape.bounding_rect();
        if bbox.is_none_or(|b| {
            b.min().y < -90.0 || b.max().y > 90.0 || b.min().x < -180.0 || b.max().x > 180.0
        }) {
            return Err(ValueError::other(format!(
                "sector {name:?}: coordinates are not longitude/latitude degrees"
            )));
        }
        Ok(Sector {
            id,
            name: name.to_owned(),
            shape,
            bbox,
        })
    }

    pub fn contains(&self, lat: f64, lon: f64) -> bool {
        let p = Point::new(lon, lat);
        self.bbox
            .is_some_and(|b| b.contains(&p) || b.min() == b.max())
            && self.shape.contains(&p)
    }
}

/// Every sector of the association.
#[derive(Debug, Clone, Default)]
pub struct SectorMap {
    pub sectors: Vec<Sector>,
}

impl SectorMap {
    /// The sector containing the point, if any.
    pub fn locate(&self, lat: f64, lon: f64) -> Option<&Sector> {
        self.sectors.iter().find(|s| s.contains(lat, lon))
    }

    pub fn is_empty(&self) -> bool {
        self.sectors.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn square(id: i64, name: &str, x0: f64, y0: f64, x1: f64, y1: f64) -> Sector {
        let g = serde_json::json!({"type": "Polygon", "coordinates": [[[x0, y0], [x1, y0], [x1, y1], [x0, y1], [x0, y0]]]});
        Sector::from_geojson(id, name, &g).unwrap()
    }

    #[test]
    fn points_are_located_in_their_sector() {
        let map = SectorMap {
            sectors: vec![
                square(1, "Centre", 5.69, 45.16, 5.75, 45.20),
                square(2, "Est", 5.75, 45.16, 5.83, 45.20),
            ],
        };
        assert_eq!(map.locate(45.1885, 5.7245).map(|s| s.id), Some(1));
        assert_eq!(map.locate(45.18, 5.80).map(|s| s.id), Some(2));
        assert!(map.locate(45.764, 4.8357).is_none(), "Lyon is outside");
    }

    #[test]
    fn bad_geometries_are_refused() {
        let line =
            serde_json::json!({"type": "LineString", "coordinates": [[5.7, 45.1], [5.8, 45.2]]});
        assert!(Sector::from_geojson(1, "x", &line).is_err());
        assert!(Sector::from_geojson(1, "x", &serde_json::json!({"type": "Polygon"})).is_err());
        let projected = serde_json::json!({"type": "Polygon", "coordinates": [[[900000.0, 6400000.0], [900100.0, 6400000.0], [900100.0, 6400100.0], [900000.0, 6400000.0]]]});
        assert!(Sector::from_geojson(1, "x", &projected).is_err());
    }
}
