//! The visit lifecycle as a pure state machine:
//!
//! ```text
//! received ──assign──▶ assigned ──en_route──▶ en_route ──on_site──▶ on_site ──close──▶ closed
//!    ▲                    │  ▲                   │
//!    └─────unassign───────┘  └───(unassign)──────┘
//!                      assigned / en_route ──reassign──▶ assigned (to another doctor, one step)
//! any non-final state ──cancel──▶ cancelled
//! received / assigned / en_route ──redirect_15──▶ redirected_15
//! ```
//!
//! The store applies a transition with a conditional update (`WHERE status IN from_states`), so
//! two people acting on the same visit at once cannot both succeed.

use super::VisitStatus;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Transition {
    Assign,
    Unassign,
    /// Given to another doctor in one step, also after the first one set off.
    Reassign,
    EnRoute,
    OnSite,
    Close,
    Cancel,
    #[serde(rename = "redirect_15")]
    Redirect15,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a visit that is {from} cannot be {action}")]
pub struct TransitionError {
    pub from: VisitStatus,
    pub action: &'static str,
}

impl Transition {
    /// The states this transition may start from.
    pub fn from_states(self) -> &'static [VisitStatus] {
        use VisitStatus::*;
        match self {
            Transition::Assign => &[Received],
            Transition::Unassign => &[Assigned, EnRoute],
            Transition::Reassign => &[Assigned, EnRoute],
            Transition::EnRoute => &[Assigned],
            Transition::OnSite => &[Assigned, EnRoute],
            Transition::Close => &[OnSite],
            Transition::Cancel => &[Received, Assigned, EnRoute, OnSite],
            Transition::Redirect15 => &[Received, Assigned, EnRoute],
        }
    }

    pub fn to_state(self) -> VisitStatus {
        use VisitStatus::*;
        match self {
            Transition::Assign => Assigned,
            Transition::Unassign => Received,
            Transition::Reassign => Assigned,
            Transition::EnRoute => EnRoute,
            Transition::OnSite => OnSite,
            Transition::Close => Closed,
            Transition::Cancel => Cancelled,
            Transition::Redirect15 => Redirected15,
        }
    }

    /// Past participle used in messages ("a visit that is closed cannot be assigned").
    pub fn done(self) -> &'static str {
        match self {
            Transition::Assign => "assigned",
            Transition::Unassign => "unassigned",
            Transition::Reassign => "reassigned",
            Transition::EnRoute => "set en route",
            Transition::OnSite => "set on site",
            Transition::Close => "closed",
            Transition::Cancel => "cancelled",
            Transition::Redirect15 => "redirected to the 15",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Transition::Assign => "assign",
            Transition::Unassign => "unassign",
            Transition::Reassign => "reassign",
            Transition::EnRoute => "en_route",
            Transition::OnSite => "on_site",
            Transition::Close => "close",
            Transition::Cancel => "cancel",
            Transition::Redirect15 => "redirect_15",
        }
    }

    /// The state after this transition, or why it cannot happen from `from`.
    pub fn apply(self, from: VisitStatus) -> Result<VisitStatus, TransitionError> {
        if self.from_states().contains(&from) {
            Ok(self.to_state())
        } else {
            Err(TransitionError {
                from,
                action: self.done(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use VisitStatus::*;

    #[test]
    fn the_happy_path_reaches_closed() {
        let mut s = Received;
        for t in [
            Transition::Assign,
            Transition::EnRoute,
            Transition::OnSite,
            Transition::Close,
        ] {
            s = t.apply(s).unwrap();
        }
        assert_eq!(s, Closed);
    }

    #[test]
    fn final_states_accept_nothing() {
        for s in [Closed, Cancelled, Redirected15] {
            assert!(s.is_final());
            for t in [
                Transition::Assign,
                Transition::Unassign,
                Transition::EnRoute,
                Transition::OnSite,
                Transition::Close,
                Transition::Cancel,
                Transition::Redirect15,
            ] {
                assert!(t.apply(s).is_err(), "{t:?} from {s}");
            }
        }
    }

    #[test]
    fn a_visit_cannot_be_closed_before_the_doctor_is_there() {
        let err = Transition::Close.apply(Assigned).unwrap_err();
        assert_eq!(err.to_string(), "a visit that is assigned cannot be closed");
    }
}
