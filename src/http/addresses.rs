//! Address search as the intake screen is typed: `GET /api/v1/addresses?q=12 rue des alp grenob`.
//!
//! The hub answers from its local index ([`crate::address::AddressIndex`]) of the BAN addresses
//! imported into the store (`chevet import addresses`), built in the background at start and again
//! whenever a newer import is found. A hub may also have a remote geocoder (`CHEVET_GEOCODER_URL`:
//! addok, or api-adresse.data.gouv.fr); it is asked first, with a short timeout, and the local
//! index answers when it fails. The answer says which one answered.

use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::ApiQuery;
use super::Hub;
use crate::address::Hit;
use crate::auth::Principal;
use crate::domain::Role;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AddressQuery {
    /// What was typed, 3 to 200 characters: `12 rue des alp grenob`. A leading house number
    /// (`12`, `12bis`) is looked up in the street found.
    pub q: Option<String>,
    /// How many hits: default 5, at most 20.
    pub limit: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct AddressSearch {
    /// Who answered: `local` (the hub's index) or `remote` (the geocoder of `CHEVET_GEOCODER_URL`).
    pub source: &'static str,
    /// True while the hub is still loading its local index: local hits may be missing.
    pub loading: bool,
    /// How many addresses the local index holds.
    pub indexed: usize,
    /// Best first.
    pub hits: Vec<Hit>,
}

/// Search addresses as they are typed: typos, missing accents, abbreviations (`r`, `av`, `bd`,
/// `st`) and a last word still being typed are tolerated (staff and EHPAD nurses).
#[utoipa::path(get, path = "/addresses", tag = "intake", security(("bearer" = [])),
    params(AddressQuery),
    responses((status = 200, body = AddressSearch), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
async fn search(
    State(state): State<Hub>,
    who: Principal,
    ApiQuery(query): ApiQuery<AddressQuery>,
) -> Result<Json<AddressSearch>> {
    if !(who.is_staff() || who.role == Role::EhpadNurse) {
        return Err(Error::forbidden(
            "address search is for dispatchers and EHPAD nurses",
        ));
    }
    let q = query.q.as_deref().unwrap_or_default().trim();
    let chars = q.chars().count();
    if !(3..=200).contains(&chars) {
        return Err(Error::bad_request(
            "invalid_query",
            "q must hold 3 to 200 characters: a house number, street and commune as typed",
        )
        .with_field("q"));
    }
    let limit = query.limit.unwrap_or(5).clamp(1, 20) as usize;
    let cache = &state.addresses;
    cache.refresh(&state.db).await?;
    let index = cache.index();
    let answer = |source, hits| {
        Json(AddressSearch {
            source,
            loading: cache.loading(),
            indexed: index.len(),
            hits,
        })
    };
    if let Some(base) = &state.config.geocoder_url {
        match remote_search(cache.client(), base, q, limit).await {
            Ok(hits) => return Ok(answer("remote", hits)),
            // The error names no address: reqwest's URL (with the query) is left out.
            Err(reason) => {
                tracing::warn!(%reason, "remote geocoder failed; the local index answers")
            }
        }
    }
    Ok(answer("local", index.search(q, limit)))
}

/// Asks an addok-compatible geocoder: `GET {base}/search/?q=...&limit=...`, answering a GeoJSON
/// FeatureCollection whose properties are those of [`Hit`].
async fn remote_search(
    client: Option<&reqwest::Client>,
    base: &str,
    q: &str,
    limit: usize,
) -> Result<Vec<Hit>, String> {
    let client = client.ok_or("no HTTP client")?;
    let answer: RemoteAnswer = client
        .get(format!("{}/search/", base.trim_end_matches('/')))
        .query(&[("q", q), ("limit", &limit.to_string())])
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| e.without_url().to_string())?
        .json()
        .await
        .map_err(|e| e.without_url().to_string())?;
    Ok(answer
        .features
        .into_iter()
        .filter_map(RemoteFeature::into_hit)
        .take(limit)
        .collect())
}

#[derive(Deserialize)]
struct RemoteAnswer {
    features: Vec<RemoteFeature>,
}

#[derive(Deserialize)]
struct RemoteFeature {
    geometry: RemoteGeometry,
    properties: RemoteProperties,
}

#[derive(Deserialize)]
struct RemoteGeometry {
    /// [lon, lat]
    coordinates: (f64, f64),
}

#[derive(Deserialize)]
struct RemoteProperties {
    label: String,
    housenumber: Option<String>,
    street: Option<String>,
    /// A street or place as a whole has its name here and no `street`.
    name: Option<String>,
    postcode: Option<String>,
    citycode: Option<String>,
    city: Option<String>,
    score: Option<f64>,
}

impl RemoteFeature {
    /// The hit, unless its position is out of range.
    fn into_hit(self) -> Option<Hit> {
        let (lon, lat) = self.geometry.coordinates;
        crate::domain::Coordinates::parse(lat, lon).ok()?;
        let p = self.properties;
        Some(Hit {
            label: p.label,
            housenumber: p.housenumber,
            street: p.street.or(p.name).unwrap_or_default(),
            postcode: p.postcode.unwrap_or_default(),
            citycode: p.citycode.unwrap_or_default(),
            city: p.city.unwrap_or_default(),
            lat,
            lon,
            score: p.score.unwrap_or_default(),
        })
    }
}
