//! Where the association goes: the sectors, read from the store and kept until they change, and
//! the rule that refuses a home visit outside them (with the fallbacks to offer instead).

use std::sync::{Arc, RwLock};

use crate::domain::sectors::{Sector, SectorMap, FALLBACKS};
use crate::error::{Error, ErrorKind, Result};
use crate::services::views::Named;
use crate::store::Db;

/// The sectors, decoded once and reloaded when the table changes (its row count or newest id).
#[derive(Clone, Default)]
pub struct Sectors(Arc<RwLock<Option<Cached>>>);

/// (fingerprint of the table, the map decoded from it).
type Cached = (String, Arc<SectorMap>);

impl Sectors {
    /// The current sectors.
    pub async fn map(&self, db: &Db) -> Result<Arc<SectorMap>> {
        let fingerprint: (i64, Option<i64>) =
            sqlx::query_as("SELECT COUNT(*), MAX(id) FROM sectors")
                .fetch_one(db.pool())
                .await?;
        let key = format!("{}:{:?}", fingerprint.0, fingerprint.1);
        if let Some((k, map)) = self.0.read().ok().and_then(|c| c.clone()) {
            if k == key {
                return Ok(map);
            }
        }
        let rows: Vec<(i64, String, String)> =
            sqlx::query_as("SELECT id, name, boundary FROM sectors")
                .fetch_all(db.pool())
                .await?;
        let sectors = rows
            .into_iter()
            .filter_map(|(id, name, boundary)| {
                let geometry: serde_json::Value = serde_json::from_str(&boundary).ok()?;
                Sector::from_geojson(id, &name, &geometry).ok()
            })
            .collect();
        let map = Arc::new(SectorMap { sectors });
        if let Ok(mut cache) = self.0.write() {
            *cache = Some((key, map.clone()));
        }
        Ok(map)
    }
}

/// Is the point in a sector? `None` when no sectors are set (everything is accepted).
pub fn locate(map: &SectorMap, lat: f64, lon: f64) -> Option<Option<Named>> {
    if map.is_empty() {
        return None;
    }
    Some(map.locate(lat, lon).map(|s| Named {
        id: s.id,
        name: s.name.clone(),
    }))
}

/// What to offer instead of a home visit: (code, French label).
pub fn fallbacks() -> &'static [(&'static str, &'static str)] {
    FALLBACKS
}

/// Refuses a home visit outside every sector (when sectors are set and the address has a position).
pub fn check(map: &SectorMap, lat: Option<f64>, lon: Option<f64>) -> Result<()> {
    let (Some(lat), Some(lon)) = (lat, lon) else {
        return Ok(());
    };
    if map.is_empty() || map.locate(lat, lon).is_some() {
        return Ok(());
    }
    Err(Error::new(
        ErrorKind::Invalid,
        "out_of_sector",
        "this address is outside the association's sectors: no home visit; offer a teleconsultation, a consultation at the centre, or the 15",
    )
    .with_field("address"))
}
