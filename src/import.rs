//! Imports of outside files into the store: sectors from GeoJSON (`chevet import sectors`), the
//! road network from an OpenStreetMap extract (`chevet import roads`), addresses from Base
//! Adresse Nationale files (`chevet import addresses`).

use serde_json::Value;

use crate::domain::sectors::Sector;
use crate::error::Error;
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
    #[error("{0}")]
    Addresses(#[from] crate::address::BanError),
}

impl From<Error> for ImportError {
    fn from(e: Error) -> Self {
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
            message: e.message,
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

/// What an address import did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddressImport {
    /// The `address_imports` row (the audit trail's entity).
    pub id: i64,
    pub addresses: usize,
    /// The départements the file covers, whose earlier addresses it replaced.
    pub departments: Vec<String>,
    pub replaced: u64,
}

/// Rows per INSERT statement. Not more: SQLite looks each `$n` parameter up by name along a list,
/// so a statement's binding time grows with the square of its parameters (12 per row).
const ADDRESS_BATCH: usize = 20;

/// Imports a BAN address file (`adresses-XX.csv`, read from `reader`) in one transaction with one
/// audit row; `file` names it in the audit trail. The départements it covers are replaced: their
/// earlier addresses are deleted, so re-importing a file does not duplicate it. Nothing is written
/// unless every row is valid. The file is parsed on a blocking thread while batches are inserted.
/// The hubs pick the new addresses up on their next address search.
pub async fn import_addresses<R: std::io::Read + Send + 'static>(
    db: &Db,
    reader: R,
    file: &str,
) -> Result<AddressImport, ImportError> {
    use crate::address::{Address, BanReader};
    let (send, mut batches) = tokio::sync::mpsc::channel::<Result<Vec<Address>, ImportError>>(4);
    let parser = tokio::task::spawn_blocking(move || {
        let rows = match BanReader::new(reader) {
            Ok(rows) => rows,
            Err(e) => {
                let _ = send.blocking_send(Err(e.into()));
                return;
            }
        };
        let mut batch = Vec::with_capacity(ADDRESS_BATCH);
        for row in rows {
            match row {
                Ok(a) => batch.push(a),
                Err(e) => {
                    let _ = send.blocking_send(Err(e.into()));
                    return;
                }
            }
            // An error on the other side (the import failed) stops the reading.
            if batch.len() == ADDRESS_BATCH
                && send.blocking_send(Ok(std::mem::take(&mut batch))).is_err()
            {
                return;
            }
        }
        if !batch.is_empty() {
            let _ = send.blocking_send(Ok(batch));
        }
    });

    let mut tx = db.write(Actor::SYSTEM).await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO address_imports (file, departments, addresses, replaced, imported_at) \
         VALUES ($1, '', 0, 0, $2) RETURNING id",
    )
    .bind(file)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await?;
    let mut departments = std::collections::BTreeSet::new();
    let mut count = 0;
    let mut full_sql = None;
    while let Some(batch) = batches.recv().await {
        let batch = batch?;
        for a in &batch {
            if !departments.contains(a.department()) {
                departments.insert(a.department().to_owned());
            }
        }
        let sql = if batch.len() == ADDRESS_BATCH {
            full_sql
                .get_or_insert_with(|| insert_addresses_sql(ADDRESS_BATCH))
                .clone()
        } else {
            insert_addresses_sql(batch.len())
        };
        let mut insert = sqlx::query(&sql);
        for a in batch {
            let department = a.department().to_owned();
            insert = insert
                .bind(id)
                .bind(department)
                .bind(a.ban_id)
                .bind(i64::from(a.housenumber))
                .bind(a.rep)
                .bind(a.street)
                .bind(a.postcode)
                .bind(a.citycode)
                .bind(a.city)
                .bind(a.old_city)
                .bind(a.lat)
                .bind(a.lon);
            count += 1;
        }
        insert.execute(tx.conn()).await?;
    }
    parser
        .await
        .map_err(|_| ImportError::Store("the file reader stopped unexpectedly".into()))?;
    if count == 0 {
        return Err(crate::address::BanError::Empty.into());
    }
    let mut replaced = 0;
    for d in &departments {
        replaced += sqlx::query("DELETE FROM addresses WHERE department = $1 AND import_id <> $2")
            .bind(d)
            .bind(id)
            .execute(tx.conn())
            .await?
            .rows_affected();
    }
    let departments: Vec<String> = departments.into_iter().collect();
    sqlx::query(
        "UPDATE address_imports SET departments = $1, addresses = $2, replaced = $3 WHERE id = $4",
    )
    .bind(departments.join(","))
    .bind(count as i64)
    .bind(replaced as i64)
    .bind(id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "address.import",
        "address_import",
        id,
        serde_json::json!({"file": file, "departments": departments, "addresses": count, "replaced": replaced}),
    )
    .await?;
    tx.commit().await?;
    Ok(AddressImport {
        id,
        addresses: count,
        departments,
        replaced,
    })
}

/// `INSERT INTO addresses ... VALUES ($1, ..., $12), ($13, ...)` for `rows` rows.
fn insert_addresses_sql(rows: usize) -> String {
    const COLUMNS: usize = 12;
    let mut sql = String::from(
        "INSERT INTO addresses (import_id, department, ban_id, housenumber, rep, street, postcode, \
         citycode, city, old_city, lat, lon) VALUES ",
    );
    for r in 0..rows {
        sql.push_str(if r == 0 { "(" } else { ", (" });
        for c in 0..COLUMNS {
            if c > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", r * COLUMNS + c + 1));
        }
        sql.push(')');
    }
    sql
}
