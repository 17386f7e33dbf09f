//! The running hub: the state every request and every worker shares (the store, the settings,
//! the caches, the wake-ups), and the background workers it owns.
//!
//! A process that hosts a hub creates it with [`Hub::new`], starts its workers with
//! [`Hub::spawn_workers`], and serves it over HTTP with [`crate::http::serve`]; [`Hub::stop`]
//! ends the workers and the event streams.

mod workers;

use std::path::PathBuf;
use std::sync::Arc;

use tokio::sync::watch;

use crate::store::Db;

/// Call first thing in a process that hosts a hub (the `chevet` binary, the desktop app).
pub fn bound_allocator() {
    // A password check takes a 19 MiB buffer. glibc would serve the next such buffer from its
    // heap once one was freed (its threshold for mapping big blocks rises) and keep it there,
    // per thread: a login flood would leave the hub hundreds of MiB bigger. Big blocks are
    // always mapped, and given back when freed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; called before other threads start.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
}

/// Settings of a running hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    /// How long sessions live: idle timeout and maximum.
    pub sessions: crate::services::sessions::SessionPolicy,
    /// Admins must log in with a second factor (TOTP); one without enrols first.
    pub admin_totp_required: bool,
    /// How long a doctor's position fix counts as fresh; older, the board shows its age and
    /// dispatch weighs it as uncertain.
    pub position_stale_after: chrono::Duration,
    /// The built UI (`ui/dist`), served at `/` when present.
    pub ui_dir: Option<PathBuf>,
    /// For a hub embedded in the desktop app: every request must prove it knows this secret.
    pub launch_secret: Option<String>,
    /// A remote geocoder compatible with addok / api-adresse.data.gouv.fr (base URL), asked first
    /// by address search; the local index answers when it fails or is slow.
    pub geocoder_url: Option<String>,
    /// How letters to treating physicians are delivered.
    pub mail: crate::letters::MailConfig,
    /// The link to partner nurse networks (and, for a hub hosting one, to its clients).
    pub nursing: crate::nursing::NursingConfig,
    /// How long the event log keeps a change (its payload names patients). Default 30 days.
    pub event_retention: chrono::Duration,
    /// Browsers reach the hub over TLS (its own, or a proxy's): `Secure` cookies and HSTS.
    pub secure: bool,
    /// A reverse proxy forwards every request: the client's address is the last one it added
    /// to `X-Forwarded-For`, not the connection's (the proxy's).
    pub behind_proxy: bool,
    /// Web Push: the association's VAPID key; none, no push (the app rings while open).
    pub push: Option<crate::services::push::Vapid>,
}

impl Default for HubConfig {
    fn default() -> Self {
        HubConfig {
            sessions: Default::default(),
            admin_totp_required: false,
            position_stale_after: chrono::Duration::minutes(5),
            ui_dir: None,
            launch_secret: None,
            geocoder_url: None,
            mail: Default::default(),
            nursing: Default::default(),
            event_retention: chrono::Duration::days(30),
            secure: false,
            behind_proxy: false,
            push: None,
        }
    }
}

/// The shared state of one hub. Cheap to clone: every part is shared.
#[derive(Clone)]
pub struct Hub {
    pub db: Db,
    pub config: Arc<HubConfig>,
    /// Flips to true when the hub stops, so that workers and event streams end.
    pub shutdown: watch::Receiver<bool>,
    stop: Arc<watch::Sender<bool>>,
    /// The sectors, parsed once, with the store fingerprint they were read at.
    pub sectors: crate::services::coverage::Sectors,
    /// The address index, loaded in the background from the store.
    pub addresses: crate::services::addresses::AddressCache,
    /// The road network, decoded once.
    pub roads: crate::planning::RoadCache,
    /// Wakes the letters outbox (a letter queued).
    pub letters_wakeup: Arc<tokio::sync::Notify>,
    /// The partner nurse link: its settings, HTTP client and outbox wake-up.
    pub nursing: Arc<crate::nursing::Runtime>,
    /// Throttles logins and caps the password checks running at once.
    pub logins: Arc<crate::services::logins::LoginGuard>,
}

impl Hub {
    /// A hub over `db`; nothing runs until [`Hub::spawn_workers`] and [`crate::http::serve`].
    pub fn new(db: Db, config: HubConfig) -> Hub {
        let (stop, shutdown) = watch::channel(false);
        Hub {
            db,
            nursing: crate::nursing::Runtime::new(config.nursing.clone()),
            config: Arc::new(config),
            shutdown,
            stop: Arc::new(stop),
            sectors: Default::default(),
            roads: Default::default(),
            addresses: Default::default(),
            letters_wakeup: Default::default(),
            logins: Default::default(),
        }
    }

    /// A hub over `db` with its workers running: what a process serving a hub starts.
    pub async fn start(db: Db, config: HubConfig) -> Hub {
        let hub = Hub::new(db, config);
        hub.spawn_workers().await;
        hub
    }

    /// Starts the background workers: auto-dispatch, the letters outbox, the nurse link's
    /// outboxes, and the loading of the address index. They end when the hub stops.
    pub async fn spawn_workers(&self) {
        if let Err(e) = crate::directory::ensure_icd10(&self.db).await {
            tracing::error!("cannot load the ICD-10 list: {e}");
        }
        tokio::spawn(workers::autodispatch(self.clone()));
        tokio::spawn(workers::nursing(self.clone()));
        tokio::spawn(workers::letters(self.clone()));
        tokio::spawn(workers::retention(self.clone()));
        if self.config.push.is_some() {
            tokio::spawn(workers::push(self.clone()));
        }
        // The address index loads in the background: the hub serves at once.
        let (addresses, db) = (self.addresses.clone(), self.db.clone());
        tokio::spawn(async move { addresses.refresh(&db).await });
    }

    /// Records the address the hub is served on (the nurse link's default callback address).
    pub fn served_at(&self, addr: std::net::SocketAddr) {
        self.nursing.served_at(addr);
    }

    /// What the nurse link's services need of the hub.
    pub fn link(&self) -> crate::nursing::Nursing {
        crate::nursing::Nursing {
            db: self.db.clone(),
            nursing: self.nursing.clone(),
        }
    }

    /// Ends the workers and the event streams.
    pub fn stop(&self) {
        let _ = self.stop.send(true);
    }
}
