//! The live event stream (server-sent events): every change a client may see, pushed as it is
//! committed. Each event carries its id; a client that reconnects with `Last-Event-ID` gets
//! everything it missed, from the event table, then the live feed.
//!
//! The broadcast channel only wakes streams up; what they send is always read from the table in
//! id order, so a slow or lagging client never skips an event.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures::Stream;
use serde::Deserialize;
use tokio::sync::broadcast::error::RecvError;
use utoipa_axum::{router::OpenApiRouter, routes};

use super::error::{Error, ErrorBody, Result};
use super::extract::ApiQuery;
use super::Hub;
use crate::auth::Principal;
use crate::services::sessions::{principal, Use};
use crate::store::Audience;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(stream_events))
}

const BATCH: i64 = 500;
/// How often an open stream re-checks its session when nothing happens.
const RECHECK: Duration = Duration::from_secs(30);

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct EventQuery {
    /// Resume after this event id (same as the `Last-Event-ID` header, which wins).
    pub last_event_id: Option<i64>,
}

/// Live changes you may see, as server-sent events: `visit.created`, `visit.assigned`,
/// `visit.unassigned`, `visit.status`, `visit.withdrawn`, `doctor.status`, `doctor.position`.
/// Each `data` is JSON; each event has an `id` to resume from with `Last-Event-ID`.
#[utoipa::path(get, path = "/events", tag = "events", security(("bearer" = [])),
    params(EventQuery, ("Last-Event-ID" = Option<i64>, Header, description = "Resume after this event id")),
    responses((status = 200, content_type = "text/event-stream", description = "The event stream"),
              (status = 401, body = ErrorBody)))]
async fn stream_events(
    State(state): State<Hub>,
    who: Principal,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<EventQuery>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>> {
    let header = match headers.get("last-event-id") {
        Some(v) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse::<i64>().ok())
                .ok_or_else(|| {
                    Error::bad_request(
                        "invalid_header",
                        "Last-Event-ID must be an event id (a number)",
                    )
                    .with_field("Last-Event-ID")
                })?,
        ),
        None => None,
    };
    // Subscribe before reading the newest id, so that nothing committed in between is missed.
    let mut wake = state.db.subscribe();
    let mut last = match header.or(q.last_event_id) {
        Some(id) => id,
        None => state.db.last_event_id().await?,
    };
    let mut shutdown = state.shutdown.clone();
    let stream = async_stream(move |tx| async move {
        let mut who = who;
        let mut checked = tokio::time::Instant::now();
        loop {
            let batch = match state.db.events_after(last, BATCH).await {
                Ok(b) => b,
                Err(_) => {
                    tracing::warn!("event stream: cannot read events; closing the stream");
                    return;
                }
            };
            if !batch.is_empty() || checked.elapsed() >= RECHECK {
                // Re-check the session at each batch and every RECHECK: a revoked or expired
                // token or delegation stops the stream.
                match principal(
                    &state.db,
                    &who.token_hash,
                    state.config.sessions,
                    Use::Recheck,
                )
                .await
                {
                    Ok(Some(p)) if !p.restricted => who = p,
                    _ => return,
                }
                checked = tokio::time::Instant::now();
            }
            let full = batch.len() as i64 == BATCH;
            for e in batch {
                last = e.id;
                let audience = Audience {
                    doctor_id: e.doctor_id,
                    institution_id: e.institution_id,
                    network_id: e.network_id,
                };
                if !who.can_see_event(&audience) {
                    continue;
                }
                let event = Event::default()
                    .id(e.id.to_string())
                    .event(e.kind)
                    .data(e.payload);
                if tx.send(Ok(event)).await.is_err() {
                    return;
                }
            }
            if full {
                continue;
            }
            tokio::select! {
                r = wake.recv() => match r {
                    Ok(_) | Err(RecvError::Lagged(_)) => {}
                    Err(RecvError::Closed) => return,
                },
                _ = shutdown.wait_for(|stop| *stop) => return,
                _ = tokio::time::sleep_until(checked + RECHECK) => {}
                _ = tx.closed() => return,
            }
        }
    });
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15))))
}

/// A stream fed by a task through a small channel; the task ends when the client goes away.
fn async_stream<F, Fut>(f: F) -> impl Stream<Item = Result<Event, Infallible>>
where
    F: FnOnce(tokio::sync::mpsc::Sender<Result<Event, Infallible>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (tx, rx) = tokio::sync::mpsc::channel(64);
    tokio::spawn(f(tx));
    tokio_stream::wrappers::ReceiverStream::new(rx)
}
