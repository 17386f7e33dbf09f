//! The hub's address index: the BAN addresses imported into the store, indexed in memory
//! ([`crate::address::AddressIndex`]) in the background at start and again whenever a newer
//! import is found; and the client of a remote geocoder.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, RwLock};

use std::time::Duration;

use futures::TryStreamExt;

use crate::address::{Address, AddressIndex, IndexBuilder};
use crate::store::Db;

/// How long the remote geocoder may take before the local index answers instead.
pub const REMOTE_TIMEOUT: Duration = Duration::from_millis(800);

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

    pub fn client(&self) -> Option<&reqwest::Client> {
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
