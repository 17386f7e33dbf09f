//! The hub's background workers, on one loop: run a step, which says how long it may sleep,
//! then sleep that long or until woken, until the hub stops.
//!
//! - auto-dispatch: a pass after committed changes (debounced) and every 30 s;
//! - the letters outbox: due letters, when a letter is queued and every few seconds;
//! - the nurse link: both outboxes (bookings sent, callbacks owed) and holds that lapse;
//! - Web Push: the rings owed to doctors' browsers, after each committed change and when due;
//! - retention: the event log forgets changes older than `HubConfig::event_retention`, and the
//!   keys of replayed steps go after a day, hourly.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast::error::RecvError;
use tokio::sync::Notify;

use super::Hub;
use crate::store::Ts;

/// Runs `step` until the hub stops; after each step, sleeps for the time it returned or until
/// `wake` is notified.
async fn worker<S, F>(hub: &Hub, wake: &Notify, mut step: S)
where
    S: FnMut() -> F,
    F: Future<Output = Duration>,
{
    let mut shutdown = hub.shutdown.clone();
    loop {
        if *shutdown.borrow() {
            return;
        }
        let wait = step().await;
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = shutdown.changed() => return,
        }
    }
}

/// A wake-up notified on every committed change, until the hub stops.
fn woken_by_changes(hub: &Hub) -> Arc<Notify> {
    let changed = Arc::new(Notify::new());
    let mut events = hub.db.subscribe();
    let (wake, mut shutdown) = (changed.clone(), hub.shutdown.clone());
    tokio::spawn(async move {
        loop {
            tokio::select! {
                r = events.recv() => match r {
                    Err(RecvError::Closed) => return,
                    _ => wake.notify_one(),
                },
                _ = shutdown.changed() => return,
            }
        }
    });
    changed
}

/// Auto-dispatch: a pass after changes (debounced) and every 30 s.
pub async fn autodispatch(hub: Hub) {
    // Committed changes wake the pass; a burst of them makes one pass.
    let changed = woken_by_changes(&hub);
    worker(&hub, &changed, || async {
        // Let a burst of changes settle.
        tokio::time::sleep(Duration::from_millis(150)).await;
        match crate::autodispatch::pass(&hub.db, &hub.roads, hub.config.position_stale_after).await
        {
            Ok(o) if !(o.assigned.is_empty() && o.moved.is_empty() && o.proposed.is_empty()) => {
                tracing::info!(
                    assigned = o.assigned.len(),
                    moved = o.moved.len(),
                    proposed = o.proposed.len(),
                    "auto-dispatch pass"
                );
            }
            Ok(_) => {}
            Err(e) => tracing::warn!(code = %e.code, "auto-dispatch pass failed"),
        }
        // Our own writes wake us once more; that pass finds nothing to do.
        Duration::from_secs(30)
    })
    .await
}

/// The letters outbox: delivers due letters when woken (a letter validated) and every few seconds.
pub async fn letters(hub: Hub) {
    let config = hub.config.mail.clone();
    let tick = config
        .retry_base
        .clamp(Duration::from_millis(100), Duration::from_secs(5));
    worker(&hub, &hub.letters_wakeup, || async {
        if let Err(e) = crate::letters::deliver_due(&hub.db, &config).await {
            tracing::error!("letters outbox: {e}");
        }
        tick
    })
    .await
}

/// Longest sleep of the nurse link between two looks at its outboxes.
const NURSING_IDLE: Duration = Duration::from_secs(2);

/// The nurse link's outboxes, of both ends.
pub async fn nursing(hub: Hub) {
    use crate::nursing::{client, network};
    let link = hub.link();
    worker(&hub, &hub.nursing.wakeup, || async {
        if let Err(e) = client::run_due(&link).await {
            tracing::warn!(code = e.code, "nurse bookings outbox");
        }
        if let Err(e) = network::expire_holds(&link).await {
            tracing::warn!(code = e.code, "partner holds");
        }
        if let Err(e) = network::deliver_callbacks(&link).await {
            tracing::warn!(error = %e, "partner callbacks");
        }
        let now = Ts::now();
        let mut wait = NURSING_IDLE;
        for due in [
            client::next_due(&link).await,
            network::next_due(&link).await,
        ]
        .into_iter()
        .flatten()
        .flatten()
        {
            let until = (due.0 - now.0).to_std().unwrap_or(Duration::ZERO);
            wait = wait.min(until.max(Duration::from_millis(100)));
        }
        wait
    })
    .await
}

/// Web Push: sends the rings owed (a visit assigned wakes it, as every committed change).
pub async fn push(hub: Hub) {
    let Some(vapid) = hub.config.push.clone() else {
        return;
    };
    let outbound = hub.config.nursing.outbound;
    let client = outbound
        .client(reqwest::Client::builder())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap_or_default();
    let changed = woken_by_changes(&hub);
    worker(&hub, &changed, || async {
        match crate::services::push::deliver_due(&hub.db, &vapid, &client, outbound).await {
            Ok(wait) => wait,
            Err(e) => {
                tracing::warn!(code = %e.code, "push outbox");
                Duration::from_secs(5)
            }
        }
    })
    .await
}

/// Retention: events older than the configured time are removed, at start and then hourly.
pub async fn retention(hub: Hub) {
    let never = Notify::new();
    worker(&hub, &never, || async {
        match crate::store::events::purge(&hub.db, hub.config.event_retention).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(removed = n, "old events removed"),
            Err(e) => tracing::warn!("purging old events failed: {e}"),
        }
        // A step replayed from a phone is at most that old: its key is no longer needed.
        let cutoff = Ts::now().plus(-chrono::Duration::hours(
            2 * crate::services::visits::OFFLINE_STEP_HOURS,
        ));
        if let Err(e) = sqlx::query("DELETE FROM transition_keys WHERE created_at < $1")
            .bind(cutoff)
            .execute(hub.db.pool())
            .await
        {
            tracing::warn!("purging old transition keys failed: {e}");
        }
        Duration::from_secs(3600)
    })
    .await
}
