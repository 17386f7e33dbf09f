//! The domain vocabulary: roles, statuses, urgencies and the value types that are checked once,
//! at the edge, so that code holding one knows it is valid ("parse, don't validate").
//!
//! Nothing here knows about HTTP or SQL beyond the text encoding of enums that the store uses.

mod enums;
mod lifecycle;
pub mod nursing;
pub mod report;
pub mod retry;
pub mod sectors;
pub mod triage;
mod values;

pub use enums::{
    AppointmentState, BookingStep, CallOutcome, CallSource, Coverage, DoctorStatus, LetterStatus,
    NurseBookingStatus, Role, Sex, Skill, VisitStatus,
};
pub use lifecycle::{Transition, TransitionError};
pub use values::{BirthDate, Coordinates, Finess, Limits, Reason, Rpps, Urgency, ValueError};
