//! Partner institutions (EHPAD): their creation, checked and audited.

use serde::Deserialize;
use utoipa::ToSchema;

use crate::domain::{Coordinates, Finess};
use crate::error::{Error, FieldResult, Reason, Result};
use crate::store::WriteTx;

#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewInstitution {
    #[schema(max_length = 200)]
    pub name: String,
    /// FINESS number, 9 characters.
    #[schema(max_length = 20)]
    pub finess: String,
    #[schema(max_length = 200)]
    pub address_line: String,
    #[schema(max_length = 10)]
    pub postcode: String,
    #[schema(max_length = 100)]
    pub city: String,
    pub lat: f64,
    pub lon: f64,
    #[serde(default)]
    #[schema(max_length = 30)]
    pub phone: Option<String>,
}
/// Creates an institution, audited (API and demo).
pub async fn create_institution(tx: &mut WriteTx, new: &NewInstitution) -> Result<i64> {
    if new.name.trim().is_empty() {
        return Err(Error::invalid("name", "an institution has a name").because(Reason::Required));
    }
    let finess = Finess::parse(&new.finess).field("finess")?;
    let pos = Coordinates::parse(new.lat, new.lon).field("lat")?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO institutions (kind, name, finess, address_line, postcode, city, lat, lon, phone, created_at) \
         VALUES ('ehpad', $1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
    )
    .bind(new.name.trim())
    .bind(finess.as_str())
    .bind(&new.address_line)
    .bind(&new.postcode)
    .bind(&new.city)
    .bind(pos.lat)
    .bind(pos.lon)
    .bind(&new.phone)
    .bind(tx.now())
    .fetch_one(tx.conn())
    .await
    .map_err(|e| match Error::from(e) {
        err if err.kind == crate::error::ErrorKind::Conflict => {
            Error::conflict("another institution already has this FINESS number").with_field("finess")
        }
        err => err,
    })?;
    tx.audit(
        "institution.create",
        "institution",
        id,
        serde_json::json!({"name": new.name, "finess": finess.as_str()}),
    )
    .await?;
    Ok(id)
}
