//! Partner nurse bookings between two hubs (an association and an SOS Infirmiers-style network).
//!
//! - `fhir.rs`: the payloads, shaped on FHIR R4 (`Parameters` with a `ServiceRequest`,
//!   `Appointment`), built and read strictly;
//! - `link.rs`: the association's end of one booking as a pure state machine (hold → confirm →
//!   follow, next network on decline or silence, cancel, answer a proposed time);
//! - `client.rs`: the association's bookings in the store, and their outbox;
//! - `network.rs`: a hub that hosts a nurse network: clients, appointments, the offer to its
//!   nurses (first to accept wins), the callback outbox.
//!
//! One background task ([`run`]) drives both outboxes. Both sides are idempotent by
//! `Idempotency-Key` with the key under a uniqueness constraint, retry with backoff, and keep
//! their outbox in the store: a restarted hub picks up where it was.

pub mod client;
pub mod fhir;
pub mod link;
pub mod network;
pub mod outbound;

use std::sync::Arc;
use std::time::Duration;

use crate::store::Db;

/// What a request did. Over HTTP: 201 or 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It made something new.
    Created,
    /// It was carried out on what existed, or found already made or done (a retry, a replay).
    Done,
}

/// Settings of the link between hubs.
#[derive(Debug, Clone)]
pub struct NursingConfig {
    /// The URL networks call back (this hub as they reach it). Default: the address served on.
    pub public_url: Option<String>,
    /// How long one request to the other hub may take.
    pub request_timeout: Duration,
    pub timings: link::Timings,
    /// How long a network holds a request for its client to confirm.
    pub hold_ttl: Duration,
    /// How long an outbox claim lasts (a hub that dies mid-request is retried after it).
    pub claim: Duration,
    /// Which hosts the link may call (networks' base URLs, partners' callback URLs).
    pub outbound: outbound::Outbound,
}

impl Default for NursingConfig {
    fn default() -> Self {
        NursingConfig {
            public_url: None,
            request_timeout: Duration::from_secs(10),
            timings: Default::default(),
            hold_ttl: Duration::from_secs(300),
            claim: Duration::from_secs(60),
            outbound: Default::default(),
        }
    }
}

/// What the nurse link's services work with: the store and the link's runtime.
#[derive(Clone)]
pub struct Nursing {
    pub db: Db,
    pub nursing: Arc<Runtime>,
}

/// The link's shared parts in a running hub.
pub struct Runtime {
    pub config: NursingConfig,
    pub http: reqwest::Client,
    /// Wakes the outboxes (a booking made, a callback due).
    pub wakeup: tokio::sync::Notify,
    /// This hub's own address, when no public URL is set.
    served_at: std::sync::OnceLock<String>,
}

impl Runtime {
    pub fn new(config: NursingConfig) -> Arc<Runtime> {
        let http = config
            .outbound
            .client(reqwest::Client::builder())
            .timeout(config.request_timeout)
            .connect_timeout(config.request_timeout.min(Duration::from_secs(5)))
            .user_agent(concat!("chevet/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        Arc::new(Runtime {
            config,
            http,
            wakeup: Default::default(),
            served_at: Default::default(),
        })
    }

    /// Records the address the hub serves on.
    pub fn served_at(&self, addr: std::net::SocketAddr) {
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_owned()
        } else {
            addr.ip().to_string()
        };
        let _ = self.served_at.set(format!("http://{host}:{}", addr.port()));
    }

    pub fn public_url(&self) -> String {
        self.config
            .public_url
            .clone()
            .or_else(|| self.served_at.get().cloned())
            .unwrap_or_else(|| "http://127.0.0.1:8480".into())
            .trim_end_matches('/')
            .to_owned()
    }
}

/// A transport error in words, without the URL (which holds no patient data, but is noise).
pub fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "no answer in time".into()
    } else if e.is_connect() {
        "unreachable (connection failed)".into()
    } else if e.is_decode() {
        "unreadable answer".into()
    } else {
        "connection error".into()
    }
}

/// The delay before attempt `attempts + 1` of the link.
pub fn backoff(t: &link::Timings, attempts: i64) -> Duration {
    crate::domain::retry::backoff(t.retry_base, t.retry_max, attempts)
}
