//! The one place writes go through. A [`WriteTx`] is a database transaction that knows who is
//! acting (and for whom), writes an audit row for each change, and buffers the change events it
//! publishes until commit.
//!
//! Event ids must become visible in id order, or a client resuming from `Last-Event-ID` could
//! skip one. SQLite serialises writers (`BEGIN IMMEDIATE`); on PostgreSQL the events are inserted
//! last, under a transaction-scoped advisory lock held only until commit.

use serde_json::Value;
use sqlx::{Any, AnyConnection, Transaction};

use super::{Db, Engine, EventKind, Ts};

/// Who performs a write: a user (`None` for the system: CLI, demo seeding), possibly on behalf of
/// another (an assistant for the doctor who delegated to her).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub on_behalf_of: Option<i64>,
}

impl Actor {
    pub const SYSTEM: Actor = Actor {
        user_id: None,
        on_behalf_of: None,
    };

    pub fn user(id: i64) -> Actor {
        Actor {
            user_id: Some(id),
            on_behalf_of: None,
        }
    }
}

/// Who may see an event beyond the call-centre staff (admins and dispatchers see all).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Audience {
    /// The doctor concerned, and the assistants he delegated to.
    pub doctor_id: Option<i64>,
    /// The nurses of this institution.
    pub institution_id: Option<i64>,
    /// The nurses of this partner network.
    pub network_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub struct NewEvent {
    pub kind: EventKind,
    pub payload: Value,
    pub audience: Audience,
}

/// An event as stored, read back by the event stream.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct StoredEvent {
    pub id: i64,
    pub at: Ts,
    pub kind: String,
    pub payload: String,
    pub doctor_id: Option<i64>,
    pub institution_id: Option<i64>,
    pub network_id: Option<i64>,
}

pub struct WriteTx {
    tx: Transaction<'static, Any>,
    db: Db,
    actor: Actor,
    events: Vec<NewEvent>,
    now: Ts,
}

impl WriteTx {
    pub(super) fn new(tx: Transaction<'static, Any>, db: Db, actor: Actor) -> WriteTx {
        WriteTx {
            tx,
            db,
            actor,
            events: Vec::new(),
            now: Ts::now(),
        }
    }

    /// The connection to run this transaction's statements on.
    pub fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    pub fn actor(&self) -> Actor {
        self.actor
    }

    /// The instant this write is recorded at (one value for every row it touches).
    pub fn now(&self) -> Ts {
        self.now
    }

    /// Records that the actor acts for `user_id` (e.g. an assistant for a doctor).
    pub fn on_behalf_of(&mut self, user_id: Option<i64>) {
        self.actor.on_behalf_of = user_id;
    }

    /// Writes an audit row: `action` on `entity_type` #`entity_id`, with what changed.
    pub async fn audit(
        &mut self,
        action: &str,
        entity_type: &str,
        entity_id: i64,
        changes: Value,
    ) -> Result<(), sqlx::Error> {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_id, on_behalf_of, action, entity_type, entity_id, changes) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(self.now)
        .bind(self.actor.user_id)
        .bind(self.actor.on_behalf_of)
        .bind(action)
        .bind(entity_type)
        .bind(entity_id)
        .bind(changes.to_string())
        .execute(&mut *self.tx)
        .await?;
        Ok(())
    }

    /// Queues an event, published to the stream when the transaction commits.
    pub fn publish(&mut self, kind: EventKind, payload: Value, audience: Audience) {
        self.events.push(NewEvent {
            kind,
            payload,
            audience,
        });
    }

    pub async fn commit(mut self) -> Result<(), sqlx::Error> {
        let mut newest = None;
        if !self.events.is_empty() {
            if self.db.engine == Engine::Postgres {
                sqlx::query("SELECT pg_advisory_xact_lock(7261884)")
                    .execute(&mut *self.tx)
                    .await?;
            }
            for e in std::mem::take(&mut self.events) {
                let id: i64 = sqlx::query_scalar(
                    "INSERT INTO events (at, kind, payload, doctor_id, institution_id, network_id) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                )
                .bind(self.now)
                .bind(e.kind.as_str())
                .bind(e.payload.to_string())
                .bind(e.audience.doctor_id)
                .bind(e.audience.institution_id)
                .bind(e.audience.network_id)
                .fetch_one(&mut *self.tx)
                .await?;
                newest = Some(id);
            }
        }
        self.tx.commit().await?;
        if let Some(id) = newest {
            // No receiver is fine: nobody is listening.
            let _ = self.db.changes.send(id);
        }
        Ok(())
    }
}

impl Db {
    /// Events after `after_id`, oldest first.
    pub async fn events_after(
        &self,
        after_id: i64,
        limit: i64,
    ) -> Result<Vec<StoredEvent>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, at, kind, payload, doctor_id, institution_id, network_id FROM events \
             WHERE id > $1 ORDER BY id LIMIT $2",
        )
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await
    }

    /// The id of the newest event, 0 when there is none.
    pub async fn last_event_id(&self) -> Result<i64, sqlx::Error> {
        let id: Option<i64> = sqlx::query_scalar("SELECT MAX(id) FROM events")
            .fetch_one(&self.pool)
            .await?;
        Ok(id.unwrap_or(0))
    }
}
