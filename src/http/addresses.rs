//! Address search as the intake screen is typed: `GET /api/v1/addresses?q=12 rue des alp grenob`.
//!
//! The hub answers from its local index ([`crate::address::AddressIndex`]) of the BAN addresses
//! imported into the store (`chevet import addresses`), built in the background at start and again
//! whenever a newer import is found. A hub may also have a remote geocoder (`CHEVET_GEOCODER_URL`:
//! addok, or api-adresse.data.gouv.fr); it is asked first, with a short timeout, and the local
//! index answers when it fails. The answer says which one answered.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};
use std::time::Duration;

use axum::extract::State;
use axum::Json;
use futures::TryStreamExt;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{ApiError, ApiResult, ErrorBody};
use super::extract::ApiQuery;
use super::AppState;
use crate::address::{Address, AddressIndex, Hit, IndexBuilder};
use crate::auth::Principal;
use crate::domain::Role;
use crate::store::Db;

/// How long the remote geocoder may take before the local index answers instead.
pub const REMOTE_TIMEOUT: Duration = Duration::from_millis(800);

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

/// The hub's local address index, and the client of the remote geocoder. Cheap to clone.
#[derive(Clone, Default)]
pub struct AddressCache(Arc<CacheInner>);

#[derive(Default)]
struct CacheInner {
    index: RwLock<Arc<AddressIndex>>,
    /// The newest import the index holds (`address_imports.id`, 0 for none); None before the first
    /// load ends.
    loaded: Mutex<Option<i64>>,
    loading: AtomicBool,
    client: OnceLock<Option<reqwest::Client>>,
}

impl AddressCache {
    /// The index as it is now (possibly empty, or older than the store while a load runs).
    pub fn index(&self) -> Arc<AddressIndex> {
        self.0.index.read().map(|i| i.clone()).unwrap_or_default()
    }

    /// Is the index being loaded, or not loaded yet?
    pub fn loading(&self) -> bool {
        self.0.loading.load(Ordering::SeqCst) || self.0.loaded.lock().is_ok_and(|l| l.is_none())
    }

    /// Starts loading the index in the background when the store holds a newer import than the
    /// index (or on first use); returns at once.
    pub async fn refresh(&self, db: &Db) -> Result<(), sqlx::Error> {
        let newest = newest_import(db).await?;
        if self.0.loaded.lock().is_ok_and(|l| *l == Some(newest)) {
            return Ok(());
        }
        if self.0.loading.swap(true, Ordering::SeqCst) {
            return Ok(()); // already under way
        }
        let cache = self.clone();
        let db = db.clone();
        tokio::spawn(async move {
            let started = std::time::Instant::now();
            match load(&db).await {
                Ok((index, newest)) => {
                    tracing::info!(
                        addresses = index.len(),
                        streets = index.streets(),
                        seconds = started.elapsed().as_secs_f64(),
                        "address index loaded"
                    );
                    if let Ok(mut i) = cache.0.index.write() {
                        *i = Arc::new(index);
                    }
                    if let Ok(mut l) = cache.0.loaded.lock() {
                        *l = Some(newest);
                    }
                }
                // A load that failed is tried again on the next search.
                Err(e) => tracing::error!(error = %e, "cannot load the address index"),
            }
            cache.0.loading.store(false, Ordering::SeqCst);
        });
        Ok(())
    }

    fn client(&self) -> Option<&reqwest::Client> {
        self.0
            .client
            .get_or_init(|| {
                reqwest::Client::builder()
                    .timeout(REMOTE_TIMEOUT)
                    .build()
                    .map_err(|e| tracing::error!(error = %e, "cannot set up the geocoder client"))
                    .ok()
            })
            .as_ref()
    }
}

async fn newest_import(db: &Db) -> Result<i64, sqlx::Error> {
    let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM address_imports")
        .fetch_one(db.pool())
        .await?;
    Ok(id.unwrap_or(0))
}

/// Reads every address of the store into a new index; returns it with the newest import it holds.
async fn load(db: &Db) -> Result<(AddressIndex, i64), String> {
    // Read first: an import committed meanwhile is then loaded again, never missed.
    let newest = newest_import(db).await.map_err(|e| e.to_string())?;
    let mut builder = IndexBuilder::new();
    let mut rows = sqlx::query_as::<_, AddressRow>(
        "SELECT housenumber, rep, street, postcode, citycode, city, old_city, lat, lon FROM addresses",
    )
    .fetch(db.pool());
    while let Some(r) = rows.try_next().await.map_err(|e| e.to_string())? {
        builder.add(&Address {
            ban_id: None,
            housenumber: u32::try_from(r.housenumber).unwrap_or_default(),
            rep: r.rep,
            street: r.street,
            postcode: r.postcode,
            citycode: r.citycode,
            city: r.city,
            old_city: r.old_city,
            lat: r.lat,
            lon: r.lon,
        });
    }
    drop(rows);
    let index = tokio::task::spawn_blocking(move || builder.build())
        .await
        .map_err(|_| "building the index failed".to_owned())?;
    Ok((index, newest))
}

#[derive(sqlx::FromRow)]
struct AddressRow {
    housenumber: i64,
    rep: String,
    street: String,
    postcode: String,
    citycode: String,
    city: String,
    old_city: Option<String>,
    lat: f64,
    lon: f64,
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
    State(state): State<AppState>,
    who: Principal,
    ApiQuery(query): ApiQuery<AddressQuery>,
) -> ApiResult<Json<AddressSearch>> {
    if !(who.is_staff() || who.role == Role::EhpadNurse) {
        return Err(ApiError::forbidden(
            "address search is for dispatchers and EHPAD nurses",
        ));
    }
    let q = query.q.as_deref().unwrap_or_default().trim();
    let chars = q.chars().count();
    if !(3..=200).contains(&chars) {
        return Err(ApiError::bad_request(
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
