//! Auto-dispatch: the online policy of the dispatch engine, run inside the hub.
//!
//! Off by default; an admin or a dispatcher switches it per association:
//! - `propose`: every visit waiting for a doctor gets the engine's proposal (doctor and projected
//!   arrival) shown on the board, which a dispatcher accepts in one click or ignores;
//! - `apply`: the engine assigns the waiting visits itself, and re-plans the visits it assigned
//!   that have not started yet (a move is made only when the visit would be reached at least
//!   [`MOVE_GAIN_MIN`] minutes sooner, so doctors' lists do not churn).
//!
//! The dispatcher always has the last word: a visit a person assigned or took back is never
//! touched again by auto-dispatch (it is pinned in the engine), and a visit already started
//! never moves. Auto-dispatch acts as its own account ("Répartition automatique", which cannot
//! log in), so the audit trail and each visit's history say what it did.
//!
//! A pass runs after every committed change (debounced) and every 30 s; passes of several hubs
//! on one PostgreSQL store are safe because each assignment is a conditional update.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::auth::Principal;
use crate::domain::{Role, Transition};
use crate::error::{Error, ErrorKind};
use crate::planning::{load_board, RoadCache};
use crate::services::views::visit_view;
use crate::services::visits::{publish_visit, transition};
use crate::store::{Actor, Db, Ts};

/// A visit it assigned moves to another doctor only if reached this much sooner.
pub const MOVE_GAIN_MIN: f64 = 10.0;
/// A proposal is rewritten only if its doctor changes or its arrival moves by this much.
const PROPOSAL_SLACK_MIN: f64 = 2.0;
const ROBOT_USERNAME: &str = "auto-dispatch";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema, Default)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    #[default]
    Off,
    Propose,
    Apply,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Off => "off",
            Mode::Propose => "propose",
            Mode::Apply => "apply",
        }
    }
    fn parse(s: &str) -> Mode {
        match s {
            "propose" => Mode::Propose,
            "apply" => Mode::Apply,
            _ => Mode::Off,
        }
    }
}

/// The current mode and the account auto-dispatch acts as.
pub async fn settings(db: &Db) -> Result<(Mode, Option<i64>, Option<Ts>), sqlx::Error> {
    let row: Option<(String, Option<i64>, Ts)> = sqlx::query_as(
        "SELECT mode, robot_user_id, updated_at FROM dispatch_settings WHERE id = 1",
    )
    .fetch_optional(db.pool())
    .await?;
    Ok(match row {
        Some((m, robot, at)) => (Mode::parse(&m), robot, Some(at)),
        None => (Mode::Off, None, None),
    })
}

/// Switches auto-dispatch (admin or dispatcher); creates its account the first time.
pub async fn set_mode(db: &Db, who: &Principal, mode: Mode) -> Result<(), Error> {
    let (before, robot, _) = settings(db).await?;
    let mut tx = db.write(who.actor()).await?;
    let now = tx.now();
    let robot = match robot {
        Some(r) => r,
        None => {
            let existing: Option<i64> =
                sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
                    .bind(ROBOT_USERNAME)
                    .fetch_optional(tx.conn())
                    .await?;
            match existing {
                Some(id) => id,
                None => {
                    // No password can match "!" and the account is disabled: it cannot log in.
                    let id: i64 = sqlx::query_scalar(
                        "INSERT INTO users (username, password_hash, display_name, role, disabled_at, created_at) \
                         VALUES ($1, '!', 'Répartition automatique', 'dispatcher', $2, $2) RETURNING id",
                    )
                    .bind(ROBOT_USERNAME)
                    .bind(now)
                    .fetch_one(tx.conn())
                    .await?;
                    tx.audit(
                        "user.create",
                        "user",
                        id,
                        serde_json::json!({"username": ROBOT_USERNAME, "role": "dispatcher", "robot": true}),
                    )
                    .await?;
                    id
                }
            }
        }
    };
    let updated = sqlx::query(
        "UPDATE dispatch_settings SET mode = $1, robot_user_id = $2, updated_at = $3 WHERE id = 1",
    )
    .bind(mode.as_str())
    .bind(robot)
    .bind(now)
    .execute(tx.conn())
    .await?;
    if updated.rows_affected() == 0 {
        sqlx::query(
            "INSERT INTO dispatch_settings (id, mode, robot_user_id, updated_at) VALUES (1, $1, $2, $3)",
        )
        .bind(mode.as_str())
        .bind(robot)
        .bind(now)
        .execute(tx.conn())
        .await?;
    }
    if mode != Mode::Propose {
        // Proposals belong to the propose mode: they go with it.
        sqlx::query(
            "UPDATE visits SET proposed_doctor_id = NULL, proposed_eta_min = NULL, proposed_at = NULL \
             WHERE proposed_doctor_id IS NOT NULL",
        )
        .execute(tx.conn())
        .await?;
    }
    tx.audit(
        "dispatch.mode",
        "dispatch_settings",
        1,
        serde_json::json!({"mode": [before.as_str(), mode.as_str()]}),
    )
    .await?;
    tx.publish(
        crate::store::EventKind::DispatchMode,
        serde_json::json!({"mode": mode}),
        Default::default(),
    );
    tx.commit().await?;
    Ok(())
}

fn robot_principal(id: i64) -> Principal {
    Principal {
        user_id: id,
        username: ROBOT_USERNAME.into(),
        display_name: "Répartition automatique".into(),
        role: Role::Dispatcher,
        institution_id: None,
        network_id: None,
        delegators: Vec::new(),
        token_hash: String::new(),
        restricted: false,
    }
}

/// What one pass did.
#[derive(Debug, Default, Serialize, ToSchema)]
pub struct PassOutcome {
    pub mode: Mode,
    /// Visits assigned (apply) or proposed (propose).
    pub assigned: Vec<i64>,
    pub proposed: Vec<i64>,
    /// Visits it had assigned and moved to a doctor who gets there sooner.
    pub moved: Vec<i64>,
    /// Waiting visits no doctor on shift can take.
    pub unplaced: Vec<i64>,
}

/// One pass of auto-dispatch over the board.
/// `stale_after`: how long a doctor's position fix counts as fresh.
pub async fn pass(
    db: &Db,
    roads: &RoadCache,
    stale_after: chrono::Duration,
) -> Result<PassOutcome, Error> {
    let (mode, robot, _) = settings(db).await?;
    let mut out = PassOutcome {
        mode,
        ..Default::default()
    };
    let (Some(robot), false) = (robot, mode == Mode::Off) else {
        return Ok(out);
    };
    let mut board = load_board(db, roads, None, stale_after).await?;
    // A visit a person placed (assigned, or took back) stays where that person put it.
    let by_person = |visit: i64| board.placed_by.get(&visit).is_some_and(|&who| who != robot);
    let before: HashMap<usize, (usize, f64)> = board
        .planner
        .planned()
        .into_iter()
        .map(|(ci, d, arrive)| (ci, (d, arrive)))
        .collect();
    for r in &board.routed {
        if mode == Mode::Propose || by_person(r.visit_id) {
            board.planner.pin(r.call);
        }
    }
    let mut waiting: Vec<(usize, i64)> = board
        .waiting
        .iter()
        .filter(|r| !by_person(r.visit_id))
        .map(|r| (r.call, r.visit_id))
        .collect();
    waiting.sort_by(|a, b| {
        let (ca, cb) = (&board.planner.calls()[a.0], &board.planner.calls()[b.0]);
        ca.priority
            .cmp(&cb.priority)
            .then(ca.received.total_cmp(&cb.received))
    });
    for &(ci, visit) in &waiting {
        if board.planner.insert_best(ci).is_none() {
            out.unplaced.push(visit);
        }
    }
    board.planner.replan();

    let visit_of: HashMap<usize, i64> = board
        .routed
        .iter()
        .chain(board.waiting.iter())
        .map(|r| (r.call, r.visit_id))
        .collect();
    let waiting_calls: HashMap<usize, i64> = waiting.iter().copied().collect();
    let who = robot_principal(robot);
    for (ci, d, arrive) in board.planner.planned() {
        let Some(&visit) = visit_of.get(&ci) else {
            continue;
        };
        let doctor = board.candidates[d].view.id;
        let eta = arrive.max(0.0);
        if waiting_calls.contains_key(&ci) {
            match mode {
                Mode::Apply => {
                    if assign(db, &who, visit, doctor, None).await? {
                        out.assigned.push(visit);
                    }
                }
                Mode::Propose => {
                    if propose(db, visit, Some((doctor, eta))).await? {
                        out.proposed.push(visit);
                    }
                }
                Mode::Off => {}
            }
        } else if let Some(&(was, was_arrive)) = before.get(&ci) {
            // A visit it assigned, planned for another doctor who gets there much sooner.
            if mode == Mode::Apply && was != d && arrive + MOVE_GAIN_MIN <= was_arrive {
                let from = board.candidates[was].view.id;
                if assign(db, &who, visit, doctor, Some(from)).await? {
                    out.moved.push(visit);
                }
            }
        }
    }
    if mode == Mode::Propose {
        for &visit in &out.unplaced {
            propose(db, visit, None).await?;
        }
    }
    Ok(out)
}

/// Assigns (after taking it back from `from`, if given); false if someone acted first.
async fn assign(
    db: &Db,
    who: &Principal,
    visit: i64,
    doctor: i64,
    from: Option<i64>,
) -> Result<bool, Error> {
    let reason = from.map(|_| "auto-dispatch: another doctor gets there sooner".to_string());
    if from.is_some() {
        match transition(db, who, visit, Transition::Unassign, None, reason.clone()).await {
            Ok(_) => {}
            Err(e) if e.kind == ErrorKind::Conflict => return Ok(false),
            Err(e) => return Err(e),
        }
    }
    match transition(db, who, visit, Transition::Assign, Some(doctor), reason).await {
        Ok(_) => Ok(true),
        // Taken meanwhile by a dispatcher, or the doctor went off duty: the next pass sees it.
        Err(e) if matches!(e.kind, ErrorKind::Conflict | ErrorKind::Invalid) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Writes (or clears) a visit's proposal if it changed; true if written.
async fn propose(db: &Db, visit: i64, proposal: Option<(i64, f64)>) -> Result<bool, Error> {
    let current: Option<(Option<i64>, Option<f64>, Option<Ts>)> = sqlx::query_as(
        "SELECT proposed_doctor_id, proposed_eta_min, proposed_at FROM visits WHERE id = $1 AND status = 'received'",
    )
    .bind(visit)
    .fetch_optional(db.pool())
    .await?;
    let Some((doctor, eta, at)) = current else {
        return Ok(false);
    };
    let now = Ts::now();
    let unchanged = match (proposal, doctor, eta, at) {
        (None, None, _, _) => true,
        (Some((d, e)), Some(d0), Some(e0), Some(at0)) => {
            // Compare arrival instants, not minutes from different "now"s.
            let elapsed = crate::planning::minutes(at0, now);
            d == d0 && (e - (e0 - elapsed)).abs() < PROPOSAL_SLACK_MIN
        }
        _ => false,
    };
    if unchanged {
        return Ok(false);
    }
    let mut tx = db.write(Actor::SYSTEM).await?;
    let done = sqlx::query(
        "UPDATE visits SET proposed_doctor_id = $1, proposed_eta_min = $2, proposed_at = $3 \
         WHERE id = $4 AND status = 'received'",
    )
    .bind(proposal.map(|p| p.0))
    .bind(proposal.map(|p| p.1))
    .bind(proposal.map(|_| now))
    .bind(visit)
    .execute(tx.conn())
    .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    tx.audit(
        "visit.propose",
        "visit",
        visit,
        serde_json::json!({"doctor_id": proposal.map(|p| p.0), "eta_min": proposal.map(|p| p.1)}),
    )
    .await?;
    if let Some(view) = visit_view(tx.conn(), visit).await? {
        publish_visit(&mut tx, crate::store::EventKind::VisitProposed, &view, None);
    }
    tx.commit().await?;
    Ok(true)
}
