//! Visits and their lifecycle: who may see a visit, and each transition (assign, en route, on
//! site, close, cancel, redirect to the 15) with who made it.
//!
//! A transition is one conditional update (`WHERE status IN (allowed sources)`): when two
//! dispatchers assign the same visit at the same instant, exactly one update matches and the
//! other gets a conflict.

use super::doctors::update_status;
use super::views::{visit_scope, visit_view, VisitRow, VisitView, VISIT_SELECT};
use crate::auth::Principal;
use crate::domain::{DoctorStatus, Role, Transition, VisitStatus};
use crate::error::{Error, FieldResult, Reason, Result};
use crate::store::{Audience, Db, EventKind, Ts, WriteTx};

/// Queues a `visit.*` event for everyone concerned: staff, the doctor (and `also`, a doctor it
/// was taken from), the requesting institution.
pub fn publish_visit(tx: &mut WriteTx, kind: EventKind, view: &VisitView, also: Option<i64>) {
    let payload = serde_json::to_value(view).unwrap_or_default();
    tx.publish(
        kind,
        payload.clone(),
        Audience {
            doctor_id: view.doctor.as_ref().map(|d| d.id),
            institution_id: view.institution_id,
            network_id: None,
        },
    );
    if let Some(previous) = also.filter(|p| Some(*p) != view.doctor.as_ref().map(|d| d.id)) {
        tx.publish(
            EventKind::VisitWithdrawn,
            serde_json::json!({"id": view.id, "doctor_id": previous}),
            Audience {
                doctor_id: Some(previous),
                ..Default::default()
            },
        );
    }
}

pub async fn visible_visit(db: &Db, who: &Principal, id: i64) -> Result<VisitView> {
    let sql = format!(
        "{VISIT_SELECT} WHERE v.id = $2 AND ({})",
        visit_scope(who, 1)
    );
    let row: Option<VisitRow> = sqlx::query_as(&sql)
        .bind(who.user_id)
        .bind(id)
        .fetch_optional(db.pool())
        .await?;
    row.map(VisitView::from)
        .ok_or_else(|| Error::not_found(format!("visit {id}")))
}

/// Checks that `who` may make transition `t` on `visit`; returns the "on behalf of" to record.
pub fn authorize(who: &Principal, visit: &VisitView, t: Transition) -> Result<Option<i64>> {
    let doctor = visit.doctor.as_ref().map(|d| d.id);
    let for_doctor = doctor.and_then(|d| who.acts_for_doctor(d));
    let ok = match t {
        Transition::Assign | Transition::Unassign | Transition::Reassign => who.is_staff(),
        Transition::EnRoute | Transition::OnSite => who.is_staff() || for_doctor.is_some(),
        Transition::Close => for_doctor == Some(None),
        Transition::Redirect15 => who.is_staff() || for_doctor == Some(None),
        Transition::Cancel => {
            who.is_staff()
                || (who.role == Role::EhpadNurse
                    && matches!(visit.status, VisitStatus::Received | VisitStatus::Assigned))
        }
    };
    if ok {
        return Ok(for_doctor.flatten());
    }
    Err(match t {
        Transition::Close => {
            Error::forbidden("only the visit's doctor closes it: he validates what was done")
                .because(Reason::DoctorValidates)
        }
        Transition::Assign | Transition::Unassign | Transition::Reassign => {
            Error::forbidden("only dispatchers assign visits")
        }
        Transition::Cancel if who.role == Role::EhpadNurse => {
            Error::forbidden("the doctor has set off: call the association to cancel")
                .because(Reason::DoctorOnTheWay)
        }
        _ => Error::forbidden("you may not change this visit"),
    })
}

/// Which timestamp column a transition sets, besides `updated_at`.
fn stamp_column(t: Transition) -> Option<&'static str> {
    match t {
        Transition::Assign | Transition::Reassign => Some("assigned_at"),
        Transition::Unassign => None,
        Transition::EnRoute => Some("en_route_at"),
        Transition::OnSite => Some("on_site_at"),
        Transition::Close => Some("closed_at"),
        Transition::Cancel => Some("cancelled_at"),
        Transition::Redirect15 => Some("redirected_at"),
    }
}

/// How a transition was asked for, beyond its kind.
#[derive(Debug, Default)]
pub struct Step {
    /// Why (cancelling, redirecting, unassigning).
    pub reason: Option<String>,
    /// When it happened, if earlier than now: a step the doctor's phone made offline and
    /// replays (en route, on site only; at most `OFFLINE_STEP_HOURS` old, never before the
    /// visit's previous step).
    pub at: Option<Ts>,
    /// The client's Idempotency-Key: the same key again is answered with the visit as it is.
    pub key: Option<String>,
}

/// How old a step replayed from a phone may be.
pub const OFFLINE_STEP_HOURS: i64 = 12;

pub async fn transition(
    db: &Db,
    who: &Principal,
    id: i64,
    t: Transition,
    doctor_id: Option<i64>,
    reason: Option<String>,
) -> Result<VisitView> {
    let step = Step {
        reason,
        ..Step::default()
    };
    transition_with(db, who, id, t, doctor_id, step).await
}

/// The time a replayed step is recorded at: `at` if it is plausible, else an error on `at`.
fn occurred_at(visit: &VisitView, t: Transition, at: Option<Ts>, now: Ts) -> Result<Option<Ts>> {
    let Some(at) = at else { return Ok(None) };
    if !matches!(t, Transition::EnRoute | Transition::OnSite) {
        return Err(Error::invalid(
            "at",
            "only setting off and arriving may be dated earlier (steps replayed from a phone)",
        ));
    }
    if at.0 > now.0 + chrono::Duration::minutes(2) {
        return Err(Error::invalid("at", "this time is in the future").because(Reason::Range));
    }
    if at.0 < now.0 - chrono::Duration::hours(OFFLINE_STEP_HOURS) {
        return Err(Error::invalid(
            "at",
            format!("a step is replayed at most {OFFLINE_STEP_HOURS} hours later"),
        )
        .because(Reason::Range));
    }
    // Never before the step it follows (a phone's clock may be off): at the earliest, that one.
    let previous = [visit.assigned_at, visit.en_route_at, visit.on_site_at]
        .into_iter()
        .flatten()
        .max();
    Ok(Some(match previous {
        Some(p) if p.0 > at.0 => p,
        _ if at.0 > now.0 => now,
        _ => at,
    }))
}

pub async fn transition_with(
    db: &Db,
    who: &Principal,
    id: i64,
    t: Transition,
    doctor_id: Option<i64>,
    step: Step,
) -> Result<VisitView> {
    let Step { reason, at, key } = step;
    if let Some(key) = &key {
        let seen: Option<(i64, String)> = sqlx::query_as(
            "SELECT visit_id, action FROM transition_keys WHERE actor_id = $1 AND request_key = $2",
        )
        .bind(who.user_id)
        .bind(key)
        .fetch_optional(db.pool())
        .await?;
        if let Some((visit_id, action)) = seen {
            if visit_id != id || action != t.as_str() {
                return Err(Error::invalid(
                    "Idempotency-Key",
                    "this Idempotency-Key was used for another request",
                ));
            }
            return visible_visit(db, who, id).await;
        }
    }
    if reason.as_ref().is_some_and(|r| r.chars().count() > 1000) {
        return Err(
            Error::invalid("reason", "a reason has at most 1000 characters")
                .because(Reason::Length)
                .within(None, Some(1000.0)),
        );
    }
    let visit = visible_visit(db, who, id).await?;
    let on_behalf = check(who, &visit, t)?;
    if t == Transition::Reassign {
        match doctor_id {
            None => {
                return Err(Error::required("doctor_id", "to whom is the visit given?"));
            }
            Some(d) if visit.doctor.as_ref().map(|x| x.id) == Some(d) => {
                return Err(Error::invalid(
                    "doctor_id",
                    "this visit is already this doctor's",
                ));
            }
            _ => {}
        }
    }

    if let Some(doctor) = doctor_id {
        let status: Option<DoctorStatus> = sqlx::query_scalar(
            "SELECT d.status FROM doctors d JOIN users u ON u.id = d.user_id WHERE d.user_id = $1 AND u.disabled_at IS NULL",
        )
        .bind(doctor)
        .fetch_optional(db.pool())
        .await?;
        match status {
            None => {
                return Err(
                    Error::invalid("doctor_id", format!("there is no doctor {doctor}"))
                        .because(Reason::Unknown),
                )
            }
            Some(DoctorStatus::OffDuty) => {
                return Err(
                    Error::invalid("doctor_id", "this doctor is off duty").because(Reason::OffDuty)
                )
            }
            Some(_) => {}
        }
    }

    let mut tx = db.write(who.actor()).await?;
    let at = occurred_at(&visit, t, at, tx.now())?;
    let step = Step {
        reason,
        at,
        key: None,
    };
    let view = write(&mut tx, who, &visit, t, doctor_id, step, on_behalf).await?;
    if let Some(key) = &key {
        sqlx::query(
            "INSERT INTO transition_keys (actor_id, request_key, visit_id, action, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(who.user_id)
        .bind(key)
        .bind(id)
        .bind(t.as_str())
        .bind(tx.now())
        .execute(tx.conn())
        .await?;
    }
    tx.commit().await?;
    Ok(view)
}

/// The doctor saw the visit given to him (his phone rang, he tapped « Vu », or set off): the
/// dispatcher sees when. Seeing it again keeps the first time.
pub async fn mark_seen(db: &Db, who: &Principal, id: i64) -> Result<VisitView> {
    let visit = visible_visit(db, who, id).await?;
    if visit.doctor.as_ref().map(|d| d.id) != Some(who.user_id) {
        return Err(Error::forbidden(
            "only the doctor the visit is given to acknowledges it",
        ));
    }
    if !matches!(
        visit.status,
        VisitStatus::Assigned | VisitStatus::EnRoute | VisitStatus::OnSite
    ) {
        return Err(Error::conflict(format!(
            "this visit is {}: there is nothing to acknowledge",
            visit.status
        ))
        .with_field("status"));
    }
    if visit.seen_at.is_some() {
        return Ok(visit);
    }
    let mut tx = db.write(who.actor()).await?;
    if !seen_in(&mut tx, id, who.user_id).await? {
        // Given to someone else meanwhile.
        return Err(Error::conflict("this visit changed meanwhile").with_field("status"));
    }
    tx.audit("visit.seen", "visit", id, serde_json::json!({}))
        .await?;
    let view = visit_view(tx.conn(), id)
        .await?
        .ok_or_else(Error::internal)?;
    publish_visit(&mut tx, EventKind::VisitSeen, &view, None);
    tx.commit().await?;
    Ok(view)
}

/// Records that `doctor` saw visit `id` as it is given to him now, unless he already had.
/// Whether the visit is his.
async fn seen_in(tx: &mut WriteTx, id: i64, doctor: i64) -> Result<bool> {
    let now = tx.now();
    let done = sqlx::query(
        "UPDATE visits SET seen_at = $1, seen_by = $2 WHERE id = $3 AND doctor_id = $2 \
         AND (seen_at IS NULL OR seen_by IS NULL OR seen_by <> $2 OR seen_at < assigned_at)",
    )
    .bind(now)
    .bind(doctor)
    .bind(id)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() > 0 {
        return Ok(true);
    }
    let mine: Option<i64> =
        sqlx::query_scalar("SELECT id FROM visits WHERE id = $1 AND doctor_id = $2")
            .bind(id)
            .bind(doctor)
            .fetch_optional(tx.conn())
            .await?;
    Ok(mine.is_some())
}

fn already_assigned(doctor: &str) -> Error {
    Error::conflict(format!("this visit is already assigned to {doctor}"))
        .with_field("status")
        .because(Reason::AlreadyAssigned)
        .about(doctor)
}

/// Closes `visit` inside `tx` (the doctor validating his report: one transaction for both).
pub async fn close_in(tx: &mut WriteTx, who: &Principal, visit: &VisitView) -> Result<VisitView> {
    let on_behalf = check(who, visit, Transition::Close)?;
    write(
        tx,
        who,
        visit,
        Transition::Close,
        None,
        Step::default(),
        on_behalf,
    )
    .await
}

/// May `who` make transition `t` on `visit` as it is? Returns the "on behalf of" to record.
fn check(who: &Principal, visit: &VisitView, t: Transition) -> Result<Option<i64>> {
    let on_behalf = authorize(who, visit, t)?;
    if let Err(e) = t.apply(visit.status) {
        return Err(match (t, &visit.doctor) {
            (Transition::Assign, Some(d)) => already_assigned(&d.name),
            _ => e.into(),
        });
    }
    Ok(on_behalf)
}

/// Writes transition `t` of `visit` (as `who` saw it) in `tx`: one conditional update, the
/// history row, the audit row, the doctor's own status, the events.
async fn write(
    tx: &mut WriteTx,
    who: &Principal,
    visit: &VisitView,
    t: Transition,
    doctor_id: Option<i64>,
    step: Step,
    on_behalf: Option<i64>,
) -> Result<VisitView> {
    let Step { reason, at, .. } = step;
    let id = visit.id;
    tx.on_behalf_of(on_behalf);
    let now = tx.now();
    // When it happened (a step replayed from a phone), apart from when the hub learnt it.
    let happened = at.unwrap_or(now);
    let from: Vec<String> = t
        .from_states()
        .iter()
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    let set_doctor = match t {
        Transition::Assign => "doctor_id = $5,",
        Transition::Reassign => "doctor_id = $5, en_route_at = NULL,",
        Transition::Unassign => "doctor_id = NULL, assigned_at = NULL, en_route_at = NULL,",
        _ => "",
    };
    // Placeholders: only those the statement uses are bound (PostgreSQL types each one).
    let gives = matches!(t, Transition::Assign | Transition::Reassign);
    let stamp_at = if gives { 6 } else { 5 };
    let stamp = stamp_column(t)
        .map(|c| format!("{c} = ${stamp_at},"))
        .unwrap_or_default();
    // The doctor must still be the one the caller saw: a visit reassigned meanwhile does not move.
    let sql = format!(
        "UPDATE visits SET status = $1, {set_doctor} {stamp} updated_at = $2, version = version + 1 \
         WHERE id = $3 AND status IN ({from}) AND (doctor_id = $4 OR (doctor_id IS NULL AND $4 IS NULL))",
        from = from.join(", "),
    );
    let mut update = sqlx::query(&sql)
        .bind(t.to_state())
        .bind(now)
        .bind(id)
        .bind(visit.doctor.as_ref().map(|d| d.id));
    if gives {
        update = update.bind(doctor_id);
    }
    if stamp_column(t).is_some() {
        update = update.bind(happened);
    }
    let done = update.execute(tx.conn()).await?;
    if done.rows_affected() == 0 {
        let now_visit = visit_view(tx.conn(), id)
            .await?
            .ok_or_else(|| Error::not_found(format!("visit {id}")))?;
        return Err(match (t, &now_visit.doctor) {
            (Transition::Assign, Some(d)) => already_assigned(&d.name),
            _ => Error::conflict(format!(
                "this visit changed meanwhile: it is now {}",
                now_visit.status
            ))
            .with_field("status"),
        });
    }
    let new_doctor = match t {
        Transition::Assign | Transition::Reassign => doctor_id,
        Transition::Unassign => None,
        _ => visit.doctor.as_ref().map(|d| d.id),
    };
    sqlx::query(
        "INSERT INTO visit_transitions (visit_id, from_status, to_status, doctor_id, at, actor_id, on_behalf_of, reason) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(id)
    .bind(visit.status)
    .bind(t.to_state())
    .bind(new_doctor)
    .bind(happened)
    .bind(who.user_id)
    .bind(on_behalf)
    .bind(&reason)
    .execute(tx.conn())
    .await?;
    tx.audit(
        &format!("visit.{}", t.as_str()),
        "visit",
        id,
        serde_json::json!({
            "status": [visit.status, t.to_state()],
            "doctor_id": [visit.doctor.as_ref().map(|d| d.id), new_doctor],
            "reason": reason,
        }),
    )
    .await?;
    // A case handed to the 15 before any doctor had it: that is how the call ended.
    if t == Transition::Redirect15 && visit.status == VisitStatus::Received {
        sqlx::query(
            "UPDATE calls SET outcome = 'samu_15', outcome_by = $1, outcome_at = $2 WHERE id = $3",
        )
        .bind(who.user_id)
        .bind(now)
        .bind(visit.call_id)
        .execute(tx.conn())
        .await?;
    }
    // The doctor's own status follows his visits.
    if let Some(d) = new_doctor {
        let follow = match t {
            Transition::EnRoute => Some(DoctorStatus::EnRoute),
            Transition::OnSite => Some(DoctorStatus::OnSite),
            Transition::Close | Transition::Cancel | Transition::Redirect15
                if matches!(visit.status, VisitStatus::EnRoute | VisitStatus::OnSite) =>
            {
                Some(DoctorStatus::Available)
            }
            _ => None,
        };
        if let Some(s) = follow {
            update_status(tx, d, s).await?;
        }
        // Setting off or arriving, the doctor has seen it.
        if d == who.user_id && matches!(t, Transition::EnRoute | Transition::OnSite) {
            seen_in(tx, id, d).await?;
        }
    }
    // His phone rings even with the app closed (Web Push, where he subscribed).
    if let (true, Some(d)) = (gives, new_doctor) {
        super::push::enqueue_in(tx, d, id).await?;
    }
    // The doctor a visit is taken from on his way is free again.
    if matches!(t, Transition::Unassign | Transition::Reassign)
        && visit.status == VisitStatus::EnRoute
    {
        if let Some(prev) = visit.doctor.as_ref() {
            update_status(tx, prev.id, DoctorStatus::Available).await?;
        }
    }
    let view = visit_view(tx.conn(), id)
        .await?
        .ok_or_else(Error::internal)?;
    let kind = match t {
        Transition::Assign | Transition::Reassign => EventKind::VisitAssigned,
        Transition::Unassign => EventKind::VisitUnassigned,
        _ => EventKind::VisitStatus,
    };
    publish_visit(tx, kind, &view, visit.doctor.as_ref().map(|d| d.id));
    Ok(view)
}

/// A change of a visit's call after intake (re-triage): each field given replaces the old one.
#[derive(Debug, Default, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VisitEdit {
    /// 1 (most urgent) to 3.
    #[serde(default)]
    #[schema(minimum = 1, maximum = 3)]
    pub urgency: Option<i64>,
    #[serde(default)]
    #[schema(max_length = 500)]
    pub motive: Option<String>,
    /// Empty clears them.
    #[serde(default)]
    #[schema(max_length = 4000)]
    pub notes: Option<String>,
    #[serde(default)]
    pub address: Option<super::views::Address>,
    /// The visit's `version` as the editor saw it: if it changed meanwhile, 409 and nothing is
    /// written.
    #[serde(default)]
    pub version: Option<i64>,
}

/// Re-triages an open visit (staff): urgency, motive, notes, address; audited with before and
/// after, and pushed live to the boards and the doctor's phone.
pub async fn edit(
    db: &Db,
    sectors: &crate::domain::sectors::SectorMap,
    who: &Principal,
    id: i64,
    change: VisitEdit,
) -> Result<VisitView> {
    use super::patients::{at_most, check_address};
    let visit = visible_visit(db, who, id).await?;
    if !who.is_staff() {
        return Err(Error::forbidden(
            "the call centre re-triages visits; ask it to",
        ));
    }
    let urgency = change
        .urgency
        .map(|u| crate::domain::Urgency::parse(u).field("urgency"))
        .transpose()?;
    let motive = match change.motive.as_deref().map(str::trim) {
        Some("") => {
            return Err(Error::length(
                "motive",
                Some(1),
                500,
                "the motive has 1 to 500 characters",
            ));
        }
        Some(m) => {
            at_most("motive", m, 500)?;
            Some(m.to_string())
        }
        None => None,
    };
    if let Some(n) = &change.notes {
        at_most("notes", n, 4000)?;
    }
    if let Some(a) = &change.address {
        check_address(a, "address")?;
        super::coverage::check(sectors, a.lat, a.lon)?;
    }
    if !matches!(
        visit.status,
        VisitStatus::Received | VisitStatus::Assigned | VisitStatus::EnRoute | VisitStatus::OnSite
    ) {
        return Err(Error::conflict(format!(
            "this visit is {}: it can no longer be changed",
            visit.status
        ))
        .with_field("status"));
    }
    if change.version.is_some_and(|v| v != visit.version) {
        return Err(stale_edit());
    }
    let mut before = serde_json::Map::new();
    let mut after = serde_json::Map::new();
    let mut note = |k: &str, old: serde_json::Value, new: serde_json::Value| {
        if old != new {
            before.insert(k.into(), old);
            after.insert(k.into(), new);
        }
    };
    let notes = change
        .notes
        .as_ref()
        .map(|n| Some(n.trim().to_string()).filter(|n| !n.is_empty()));
    if let Some(u) = urgency {
        note("urgency", visit.urgency.into(), u.level().into());
    }
    if let Some(m) = &motive {
        note("motive", visit.motive.clone().into(), m.clone().into());
    }
    if let Some(n) = &notes {
        note("notes", visit.notes.clone().into(), n.clone().into());
    }
    if let Some(a) = &change.address {
        note(
            "address",
            serde_json::to_value(&visit.address).unwrap_or_default(),
            serde_json::to_value(a).unwrap_or_default(),
        );
    }
    if after.is_empty() {
        return Ok(visit);
    }
    let mut tx = db.write(who.actor()).await?;
    let now = tx.now();
    let new_urgency = urgency.map(|u| u.level()).unwrap_or(visit.urgency);
    // Conditional on the version read: a change made meanwhile is never overwritten.
    let done = sqlx::query(
        "UPDATE visits SET urgency = $1, updated_at = $2, version = version + 1 WHERE id = $3 AND version = $4",
    )
    .bind(new_urgency)
    .bind(now)
    .bind(id)
    .bind(visit.version)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Err(stale_edit());
    }
    let a = change.address.as_ref().unwrap_or(&visit.address);
    let (covered, sector) = match (a.lat, a.lon) {
        (Some(lat), Some(lon)) => match super::coverage::locate(sectors, lat, lon) {
            None => (crate::domain::Coverage::Unknown, None),
            Some(s) => (crate::domain::Coverage::Covered, s.map(|s| s.id)),
        },
        _ => (crate::domain::Coverage::Unknown, None),
    };
    sqlx::query(
        "UPDATE calls SET urgency = $1, motive = $2, notes = $3, address_line = $4, postcode = $5, city = $6, \
         address_details = $7, lat = $8, lon = $9, coverage = $10, sector_id = $11 WHERE id = $12",
    )
    .bind(new_urgency)
    .bind(motive.as_deref().unwrap_or(&visit.motive))
    .bind(notes.clone().unwrap_or(visit.notes.clone()))
    .bind(&a.line)
    .bind(&a.postcode)
    .bind(&a.city)
    .bind(&a.details)
    .bind(a.lat)
    .bind(a.lon)
    .bind(covered)
    .bind(sector)
    .bind(visit.call_id)
    .execute(tx.conn())
    .await?;
    tx.audit(
        "visit.edit",
        "visit",
        id,
        serde_json::json!({"before": before, "after": after}),
    )
    .await?;
    let view = visit_view(tx.conn(), id)
        .await?
        .ok_or_else(Error::internal)?;
    publish_visit(&mut tx, EventKind::VisitUpdated, &view, None);
    tx.commit().await?;
    Ok(view)
}

fn stale_edit() -> Error {
    Error::conflict("this visit changed meanwhile: read it again before changing it")
        .with_field("version")
}
