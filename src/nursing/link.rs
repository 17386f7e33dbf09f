//! The association's end of a booking as a pure state machine: what the link does next after an
//! answer, a failure, a callback or a person's action. The outbox (`client.rs`) loads a
//! [`Link`], feeds it what happened, and saves it back only if nobody changed it meanwhile.
//!
//! The rules that keep a request from being booked twice or lost:
//! - a network is only ever asked to *confirm* (book) one hold at a time; a hold that is never
//!   confirmed expires on its own, so leaving an unreachable network during the hold is safe;
//! - once a confirmation may have reached a network, we never leave it without its word:
//!   either a state it reports, or an acknowledged cancel (which fails if a nurse accepted);
//! - every answer carries the appointment's version, and an older one is ignored, so the same
//!   callback twice, or a poll crossing a callback, changes nothing.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::fhir::Appointment;
use crate::domain::{AppointmentState, BookingStep, NurseBookingStatus};
use crate::store::Ts;

/// Why a network did not take a request (shown in the booking's history).
pub mod outcome {
    pub const DECLINED: &str = "declined";
    pub const NO_ANSWER: &str = "no_answer";
    pub const UNREACHABLE: &str = "unreachable";
    pub const REFUSED_PROPOSAL: &str = "refused_proposal";
    pub const NOT_COVERED: &str = "not_covered";
    pub const REFUSED: &str = "refused";
}

/// Why we cancel at the network.
pub const CANCEL_BY_PERSON: &str = "doctor";
pub const CANCEL_NO_ANSWER: &str = "no_answer";

/// A network that did not take the request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Tried {
    pub id: i64,
    pub name: String,
    pub outcome: String,
}

/// The link's timings.
#[derive(Debug, Clone)]
pub struct Timings {
    /// First retry delay; doubles at each failure, up to `retry_max`.
    pub retry_base: Duration,
    pub retry_max: Duration,
    /// How long a network may stay unreachable during the hold before the next one is tried.
    pub answer_timeout: Duration,
    /// How long a confirmed request may wait for a nurse before the next network is tried.
    pub accept_timeout: Duration,
    /// How often a network is asked for news when no callback came.
    pub poll_interval: Duration,
}

impl Default for Timings {
    fn default() -> Self {
        Timings {
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(300),
            answer_timeout: Duration::from_secs(120),
            accept_timeout: Duration::from_secs(15 * 60),
            poll_interval: Duration::from_secs(60),
        }
    }
}

fn after(now: Ts, d: Duration) -> Ts {
    now.plus(chrono::Duration::from_std(d).unwrap_or(chrono::Duration::zero()))
}

/// The mutable part of a booking.
#[derive(Debug, Clone, PartialEq)]
pub struct Link {
    pub status: NurseBookingStatus,
    pub step: Option<BookingStep>,
    pub cancel_reason: Option<String>,
    pub proposal_answer: Option<String>,
    pub network_id: Option<i64>,
    pub network_name: Option<String>,
    pub round: i64,
    pub remote_id: Option<String>,
    pub remote_version: i64,
    pub tried: Vec<Tried>,
    pub nurse_name: Option<String>,
    pub expected_at: Option<Ts>,
    pub proposed_at: Option<Ts>,
    pub step_since: Option<Ts>,
    pub attempts: i64,
    pub next_attempt_at: Option<Ts>,
    pub last_error: Option<String>,
}

impl Link {
    /// A new request, to be held at `network` (the first suitable one).
    pub fn new(network: (i64, String), now: Ts) -> Link {
        Link {
            status: NurseBookingStatus::Requested,
            step: Some(BookingStep::Hold),
            cancel_reason: None,
            proposal_answer: None,
            network_id: Some(network.0),
            network_name: Some(network.1),
            round: 0,
            remote_id: None,
            remote_version: 0,
            tried: Vec::new(),
            nurse_name: None,
            expected_at: None,
            proposed_at: None,
            step_since: Some(now),
            attempts: 0,
            next_attempt_at: Some(now),
            last_error: None,
        }
    }

    /// Where the request is in the link, for people (`None` once settled).
    pub fn delivery(&self) -> Option<&'static str> {
        match (self.step?, self.status) {
            (BookingStep::Hold | BookingStep::Respond, _) => Some("sending"),
            (BookingStep::Book, _) => Some("held"),
            (BookingStep::Watch, NurseBookingStatus::Requested) => Some("waiting"),
            (BookingStep::Watch, _) => None,
            (BookingStep::Cancel, _) => Some("cancelling"),
        }
    }

    /// The Idempotency-Key of the current step's request: the same at every retry of it, new
    /// at every new hold.
    pub fn request_key(&self, booking_uuid: &str) -> String {
        let step = self.step.map(|s| s.as_str()).unwrap_or("none");
        match self.step {
            Some(BookingStep::Respond) => format!(
                "{booking_uuid}.{}.respond.{}.{}",
                self.round,
                self.remote_version,
                self.proposal_answer.as_deref().unwrap_or("")
            ),
            _ => format!("{booking_uuid}.{}.{step}", self.round),
        }
    }

    fn step_to(&mut self, step: BookingStep, at: Ts) {
        self.step = Some(step);
        self.step_since = Some(at);
        self.attempts = 0;
        self.next_attempt_at = Some(at);
        self.last_error = None;
    }

    fn watch(&mut self, now: Ts, t: &Timings) {
        if self.step != Some(BookingStep::Watch) {
            self.step_to(BookingStep::Watch, now);
        }
        self.attempts = 0;
        self.last_error = None;
        self.next_attempt_at = Some(after(now, t.poll_interval));
    }

    fn settle(&mut self, status: NurseBookingStatus) {
        self.status = status;
        self.step = None;
        self.step_since = None;
        self.attempts = 0;
        self.next_attempt_at = None;
        self.last_error = None;
        self.cancel_reason = None;
        self.proposal_answer = None;
    }

    /// Leaves the current network (recording why) for the next one, which the outbox picks.
    pub fn move_on(&mut self, outcome: &str, now: Ts) {
        if let Some(id) = self.network_id {
            self.tried.push(Tried {
                id,
                name: self.network_name.clone().unwrap_or_default(),
                outcome: outcome.to_owned(),
            });
        }
        self.network_id = None;
        self.network_name = None;
        self.remote_id = None;
        self.remote_version = 0;
        self.round += 1;
        self.status = NurseBookingStatus::Requested;
        self.nurse_name = None;
        self.expected_at = None;
        self.proposed_at = None;
        self.cancel_reason = None;
        self.proposal_answer = None;
        self.step_to(BookingStep::Hold, now);
    }

    /// No network is left to try.
    pub fn exhausted(&mut self) {
        self.settle(NurseBookingStatus::Declined);
    }

    /// Takes the next network to hold at.
    pub fn use_network(&mut self, network: (i64, String)) {
        self.network_id = Some(network.0);
        self.network_name = Some(network.1);
    }

    fn cancelling_for_person(&self) -> bool {
        self.step == Some(BookingStep::Cancel)
            && self.cancel_reason.as_deref() == Some(CANCEL_BY_PERSON)
    }

    /// The network's word on the appointment (an answer, a callback or a poll). Returns whether
    /// anything changed; a stale or foreign appointment changes nothing.
    pub fn apply(&mut self, a: &Appointment, now: Ts, t: &Timings) -> bool {
        if self.step.is_none() {
            return false;
        }
        match &self.remote_id {
            Some(id) if *id != a.id => return false,
            Some(_) if a.version <= self.remote_version => return false,
            None if self.step != Some(BookingStep::Hold) => return false,
            _ => {}
        }
        let before = self.clone();
        self.remote_id = Some(a.id.clone());
        self.remote_version = a.version;
        match a.state {
            AppointmentState::Held => {
                if self.step == Some(BookingStep::Hold) {
                    self.step_to(BookingStep::Book, now);
                }
            }
            AppointmentState::Offered => {
                self.status = NurseBookingStatus::Requested;
                if matches!(self.step, Some(BookingStep::Hold | BookingStep::Book)) {
                    self.step_to(BookingStep::Watch, now);
                    self.next_attempt_at = Some(after(now, t.poll_interval));
                }
            }
            AppointmentState::Accepted => {
                self.status = NurseBookingStatus::Accepted;
                self.nurse_name = a.nurse_name.clone();
                self.expected_at = a.expected_at;
                self.proposed_at = None;
                if !self.cancelling_for_person() {
                    self.proposal_answer = None;
                    self.cancel_reason = None;
                    self.watch(now, t);
                }
            }
            AppointmentState::Proposed => {
                self.status = NurseBookingStatus::Proposed;
                self.nurse_name = a.nurse_name.clone();
                self.proposed_at = a.proposed_at;
                if matches!(
                    self.step,
                    Some(BookingStep::Hold | BookingStep::Book | BookingStep::Watch)
                ) {
                    self.watch(now, t);
                }
            }
            AppointmentState::Done => {
                self.nurse_name = a.nurse_name.clone().or(self.nurse_name.take());
                self.expected_at = a.expected_at.or(self.expected_at);
                self.settle(NurseBookingStatus::Done);
            }
            AppointmentState::Declined
            | AppointmentState::Cancelled
            | AppointmentState::Expired => {
                if self.cancelling_for_person() {
                    self.settle(NurseBookingStatus::Cancelled);
                } else if self.step == Some(BookingStep::Cancel) {
                    self.move_on(outcome::NO_ANSWER, now);
                } else if self.proposal_answer.as_deref() == Some("refuse") {
                    self.move_on(outcome::REFUSED_PROPOSAL, now);
                } else if a.state == AppointmentState::Expired {
                    // The hold lapsed before our confirmation got there: hold again, same network.
                    self.remote_id = None;
                    self.remote_version = 0;
                    self.round += 1;
                    self.step_to(BookingStep::Hold, now);
                } else {
                    self.move_on(outcome::DECLINED, now);
                }
            }
        }
        *self != before
    }

    /// The network refused the step for good (a 4xx other than a conflict we understand).
    pub fn refused(&mut self, code: &str, message: &str, now: Ts, t: &Timings) {
        match self.step {
            Some(BookingStep::Hold) => {
                let why = if code == "not_covered" {
                    outcome::NOT_COVERED
                } else {
                    outcome::REFUSED
                };
                self.move_on(why, now);
            }
            Some(BookingStep::Book) if code == "hold_expired" => {
                self.remote_id = None;
                self.remote_version = 0;
                self.round += 1;
                self.step_to(BookingStep::Hold, now);
            }
            // The appointment is gone at the network: nothing is booked there.
            Some(BookingStep::Book | BookingStep::Watch)
                if code == "not_found" || code == "cancelled" =>
            {
                self.move_on(outcome::DECLINED, now)
            }
            Some(BookingStep::Cancel) if code == "not_found" => {
                if self.cancelling_for_person() {
                    self.settle(NurseBookingStatus::Cancelled)
                } else {
                    self.move_on(outcome::NO_ANSWER, now)
                }
            }
            _ => self.failed(&format!("{code}: {message}"), now, t, false),
        }
    }

    /// The step failed for a reason that may pass (network down, slow, 5xx): retry later with
    /// backoff. During the hold, a network silent for too long is left for `next_exists`.
    pub fn failed(&mut self, error: &str, now: Ts, t: &Timings, next_exists: bool) {
        self.attempts += 1;
        self.last_error = Some(error.chars().take(300).collect());
        self.next_attempt_at = Some(after(now, super::backoff(t, self.attempts)));
        let silent_since = self.step_since.unwrap_or(now);
        if self.step == Some(BookingStep::Hold)
            && next_exists
            && after(silent_since, t.answer_timeout) <= now
        {
            self.move_on(outcome::UNREACHABLE, now);
        }
    }

    /// Called before a poll: a confirmed request nobody took in time is cancelled there (unless
    /// a nurse took it meanwhile), then offered to the next network; an accepted one the network
    /// never reported done is no longer followed a day after its window (it stays accepted).
    pub fn check_deadline(&mut self, now: Ts, window_end: Ts, t: &Timings) -> bool {
        if self.step == Some(BookingStep::Watch)
            && matches!(
                self.status,
                NurseBookingStatus::Accepted | NurseBookingStatus::Proposed
            )
            && window_end.plus(chrono::Duration::hours(24)) <= now
        {
            let status = self.status;
            self.settle(status);
            return true;
        }
        if self.step == Some(BookingStep::Watch)
            && self.status == NurseBookingStatus::Requested
            && self
                .step_since
                .is_some_and(|s| after(s, t.accept_timeout) <= now)
        {
            self.cancel_reason = Some(CANCEL_NO_ANSWER.into());
            self.step_to(BookingStep::Cancel, now);
            return true;
        }
        false
    }

    /// A person cancels. Before anything reached the network, at once; else once the network
    /// acknowledges.
    pub fn cancel(&mut self, now: Ts) -> Result<(), &'static str> {
        if self.step.is_none() {
            return Err("this booking is already settled");
        }
        if self.remote_id.is_none() {
            // At most a hold is on its way: never confirmed, it lapses at the network.
            self.settle(NurseBookingStatus::Cancelled);
        } else {
            self.cancel_reason = Some(CANCEL_BY_PERSON.into());
            self.step_to(BookingStep::Cancel, now);
        }
        Ok(())
    }

    /// The doctor answers a time the network proposed.
    pub fn answer_proposal(&mut self, accept: bool, now: Ts) -> Result<(), &'static str> {
        if self.status != NurseBookingStatus::Proposed || self.step != Some(BookingStep::Watch) {
            return Err("no time is proposed for this booking");
        }
        self.proposal_answer = Some(if accept { "accept" } else { "refuse" }.into());
        self.step_to(BookingStep::Respond, now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> Ts {
        Ts::parse("2026-11-23T10:30:00Z").unwrap()
    }

    fn appt(state: AppointmentState, version: i64) -> Appointment {
        Appointment {
            id: "A1".into(),
            version,
            state,
            request_id: "r".into(),
            act: "injection".into(),
            window_start: t0(),
            window_end: t0().plus(chrono::Duration::hours(1)),
            nurse_name: Some("Hélène".into()),
            expected_at: Some(t0().plus(chrono::Duration::minutes(20))),
            proposed_at: None,
            hold_expires_at: None,
            cancel_reason: None,
            updated_at: t0(),
        }
    }

    fn link() -> Link {
        Link::new((1, "SOS Infirmiers".into()), t0())
    }

    #[test]
    fn hold_then_book_then_accept_then_done() {
        let t = Timings::default();
        let mut l = link();
        assert_eq!(l.delivery(), Some("sending"));
        let k0 = l.request_key("u");
        assert!(l.apply(&appt(AppointmentState::Held, 1), t0(), &t));
        assert_eq!(l.step, Some(BookingStep::Book));
        assert_ne!(l.request_key("u"), k0);
        assert!(l.apply(&appt(AppointmentState::Offered, 2), t0(), &t));
        assert_eq!(l.delivery(), Some("waiting"));
        assert!(l.apply(&appt(AppointmentState::Accepted, 3), t0(), &t));
        assert_eq!(l.status, NurseBookingStatus::Accepted);
        assert_eq!(l.nurse_name.as_deref(), Some("Hélène"));
        // The same callback again, or an older one: nothing changes.
        assert!(!l.apply(&appt(AppointmentState::Accepted, 3), t0(), &t));
        assert!(!l.apply(&appt(AppointmentState::Offered, 2), t0(), &t));
        assert!(l.apply(&appt(AppointmentState::Done, 4), t0(), &t));
        assert_eq!((l.status, l.step), (NurseBookingStatus::Done, None));
        assert!(!l.apply(&appt(AppointmentState::Cancelled, 5), t0(), &t));
    }

    #[test]
    fn an_unreachable_network_is_left_only_during_the_hold() {
        let t = Timings::default();
        let mut l = link();
        l.failed("connection refused", t0(), &t, true);
        assert_eq!((l.attempts, l.network_id), (1, Some(1)));
        assert_eq!(
            l.next_attempt_at,
            Some(t0().plus(chrono::Duration::seconds(2)))
        );
        l.failed(
            "connection refused",
            t0().plus(chrono::Duration::seconds(3)),
            &t,
            true,
        );
        assert_eq!(
            l.next_attempt_at,
            Some(t0().plus(chrono::Duration::seconds(7)))
        );
        // Silent past the answer timeout: the next network, if there is one.
        let late = t0().plus(chrono::Duration::seconds(121));
        let mut alone = l.clone();
        alone.failed("timeout", late, &t, false);
        assert_eq!(alone.network_id, Some(1));
        l.failed("timeout", late, &t, true);
        assert_eq!(l.network_id, None);
        assert_eq!(l.tried[0].outcome, outcome::UNREACHABLE);
        assert_eq!((l.round, l.step), (1, Some(BookingStep::Hold)));
        // Once confirmation was sent, never: the same network is retried for ever.
        let mut l = link();
        l.apply(&appt(AppointmentState::Held, 1), t0(), &t);
        l.failed("timeout", late, &t, true);
        l.failed("timeout", late.plus(chrono::Duration::hours(1)), &t, true);
        assert_eq!((l.network_id, l.step), (Some(1), Some(BookingStep::Book)));
        assert_eq!(
            l.next_attempt_at,
            Some(
                late.plus(chrono::Duration::hours(1))
                    .plus(chrono::Duration::seconds(4))
            )
        );
    }

    #[test]
    fn no_nurse_in_time_cancels_then_moves_on_unless_one_accepted() {
        let t = Timings::default();
        let mut l = link();
        l.apply(&appt(AppointmentState::Held, 1), t0(), &t);
        l.apply(&appt(AppointmentState::Offered, 2), t0(), &t);
        let end = t0().plus(chrono::Duration::hours(1));
        assert!(!l.check_deadline(t0().plus(chrono::Duration::minutes(14)), end, &t));
        assert!(l.check_deadline(t0().plus(chrono::Duration::minutes(15)), end, &t));
        assert_eq!(l.delivery(), Some("cancelling"));
        let mut raced = l.clone();
        // A nurse accepted just before our cancel: we keep her.
        raced.apply(&appt(AppointmentState::Accepted, 3), t0(), &t);
        assert_eq!(
            (raced.status, raced.step),
            (NurseBookingStatus::Accepted, Some(BookingStep::Watch))
        );
        // Never reported done: followed until a day after its window, then left accepted.
        assert!(!raced.check_deadline(end.plus(chrono::Duration::hours(23)), end, &t));
        assert!(raced.check_deadline(end.plus(chrono::Duration::hours(24)), end, &t));
        assert_eq!(
            (raced.status, raced.step),
            (NurseBookingStatus::Accepted, None)
        );
        l.apply(&appt(AppointmentState::Cancelled, 3), t0(), &t);
        assert_eq!(l.tried[0].outcome, outcome::NO_ANSWER);
        assert_eq!((l.network_id, l.step), (None, Some(BookingStep::Hold)));
    }

    #[test]
    fn declines_proposals_expiry_and_cancels() {
        let t = Timings::default();
        let mut l = link();
        l.apply(&appt(AppointmentState::Held, 1), t0(), &t);
        // The hold lapsed before the confirmation: hold again at the same network.
        l.refused("hold_expired", "", t0(), &t);
        assert_eq!(
            (l.network_id, l.round, l.remote_id.clone()),
            (Some(1), 1, None)
        );
        l.apply(&appt(AppointmentState::Held, 1), t0(), &t);
        l.apply(&appt(AppointmentState::Offered, 2), t0(), &t);
        let mut proposed = appt(AppointmentState::Proposed, 3);
        proposed.proposed_at = Some(t0().plus(chrono::Duration::hours(2)));
        l.apply(&proposed, t0(), &t);
        assert_eq!(l.status, NurseBookingStatus::Proposed);
        assert!(l.answer_proposal(false, t0()).is_ok());
        assert_eq!(l.delivery(), Some("sending"));
        l.apply(&appt(AppointmentState::Cancelled, 4), t0(), &t);
        assert_eq!(l.tried[0].outcome, outcome::REFUSED_PROPOSAL);
        // Not covered at the next: moved on again; then none left.
        l.use_network((2, "Autre".into()));
        l.refused("not_covered", "no nurse", t0(), &t);
        assert_eq!(l.tried[1].outcome, outcome::NOT_COVERED);
        l.exhausted();
        assert_eq!((l.status, l.step), (NurseBookingStatus::Declined, None));
        assert!(l.cancel(t0()).is_err());
        // A person cancels: at once before the network has it; else once it acknowledges.
        let mut l = link();
        l.cancel(t0()).unwrap();
        assert_eq!(l.status, NurseBookingStatus::Cancelled);
        let mut l = link();
        l.apply(&appt(AppointmentState::Held, 1), t0(), &t);
        l.cancel(t0()).unwrap();
        l.apply(&appt(AppointmentState::Accepted, 2), t0(), &t);
        assert_eq!(l.step, Some(BookingStep::Cancel));
        l.apply(&appt(AppointmentState::Cancelled, 3), t0(), &t);
        assert_eq!((l.status, l.step), (NurseBookingStatus::Cancelled, None));
    }
}
