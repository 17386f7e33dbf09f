//! Imports of outside files into the store: sectors from GeoJSON (`chevet import sectors`), the
//! road network from an OpenStreetMap extract (`chevet import roads`).

use serde_json::Value;

use crate::domain::sectors::Sector;
use crate::http::error::ApiError;
use crate::store::{Actor, Db};

/// The name of a GeoJSON feature: its `nom`, `name` or `code` property.
fn feature_name(f: &Value) -> Option<String> {
    let p = f.get("properties")?;
    ["nom", "name", "NOM", "libelle", "code"]
        .iter()
        .find_map(|k| p.get(*k).and_then(Value::as_str))
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("not GeoJSON: {0}")]
    Json(#[from] serde_json::Error),
    #[error("feature {index}: {message}")]
    Feature { index: usize, message: String },
    #[error("the file has no feature")]
    Empty,
    #[error("store: {0}")]
    Store(String),
    #[error("{0}")]
    Roads(#[from] crate::dispatch::roads::RoadError),
}

impl From<ApiError> for ImportError {
    fn from(e: ApiError) -> Self {
        ImportError::Store(e.message)
    }
}

impl From<sqlx::Error> for ImportError {
    fn from(e: sqlx::Error) -> Self {
        ImportError::Store(e.to_string())
    }
}

/// Imports every feature of a GeoJSON FeatureCollection (or one Feature) as a sector, named by
/// its `nom`/`name` property; a sector of the same name is replaced. `keep` selects features by
/// name (all when None). Nothing is written unless every selected feature is valid.
pub async fn import_sectors(
    db: &Db,
    geojson: &str,
    keep: Option<&dyn Fn(&str) -> bool>,
) -> Result<usize, ImportError> {
    let doc: Value = serde_json::from_str(geojson)?;
    let features: Vec<&Value> = match doc.get("type").and_then(Value::as_str) {
        Some("FeatureCollection") => doc
            .get("features")
            .and_then(Value::as_array)
            .map(|a| a.iter().collect())
            .unwrap_or_default(),
        Some("Feature") => vec![&doc],
        _ => {
            return Err(ImportError::Feature {
                index: 0,
                message: "expected a FeatureCollection or a Feature".into(),
            })
        }
    };
    let mut sectors = Vec::new();
    for (index, f) in features.iter().enumerate() {
        let name = feature_name(f).ok_or_else(|| ImportError::Feature {
            index,
            message: "no nom/name property".into(),
        })?;
        if keep.is_some_and(|k| !k(&name)) {
            continue;
        }
        let geometry = f.get("geometry").ok_or_else(|| ImportError::Feature {
            index,
            message: "no geometry".into(),
        })?;
        Sector::from_geojson(0, &name, geometry).map_err(|e| ImportError::Feature {
            index,
            message: e.0,
        })?;
        sectors.push((name, geometry.to_string()));
    }
    if sectors.is_empty() {
        return Err(ImportError::Empty);
    }
    let mut tx = db.write(Actor::SYSTEM).await?;
    for (name, boundary) in &sectors {
        let existing: Option<i64> = sqlx::query_scalar("SELECT id FROM sectors WHERE name = $1")
            .bind(name)
            .fetch_optional(tx.conn())
            .await?;
        let id = match existing {
            Some(id) => {
                sqlx::query("UPDATE sectors SET boundary = $1 WHERE id = $2")
                    .bind(boundary)
                    .bind(id)
                    .execute(tx.conn())
                    .await?;
                id
            }
            None => sqlx::query_scalar(
                "INSERT INTO sectors (name, boundary, created_at) VALUES ($1, $2, $3) RETURNING id",
            )
            .bind(name)
            .bind(boundary)
            .bind(tx.now())
            .fetch_one(tx.conn())
            .await?,
        };
        tx.audit(
            "sector.import",
            "sector",
            id,
            serde_json::json!({"name": name, "replaced": existing.is_some()}),
        )
        .await?;
    }
    tx.commit().await?;
    Ok(sectors.len())
}

/// Reads and contracts the roads of an OpenStreetMap PBF extract and stores the prepared network
/// (it replaces the previous one). Returns its node and edge counts.
pub async fn import_roads(db: &Db, path: &std::path::Path) -> Result<(usize, usize), ImportError> {
    use crate::dispatch::roads::RoadNetwork;
    let owned = path.to_owned();
    let net = tokio::task::spawn_blocking(move || RoadNetwork::from_osm_pbf(&owned))
        .await
        .map_err(|e| ImportError::Store(e.to_string()))??;
    let (nodes, edges) = (net.node_count(), net.edge_count());
    let source = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut tx = db.write(Actor::SYSTEM).await?;
    sqlx::query("DELETE FROM road_networks")
        .execute(tx.conn())
        .await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO road_networks (source, nodes, edges, data, imported_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(&source)
    .bind(nodes as i64)
    .bind(edges as i64)
    .bind(net.to_bytes())
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await?;
    tx.audit(
        "roads.import",
        "road_network",
        id,
        serde_json::json!({"source": source, "nodes": nodes, "edges": edges}),
    )
    .await?;
    tx.commit().await?;
    Ok((nodes, edges))
}
