//! The kinds of change events the hub publishes on its stream, in one place: the stream's SSE
//! `event:` names, and the list the UI subscribes to (`ui/src/live.ts`, checked by a test).

/// Forgets the events older than `keep` (their payloads name patients): the stream resumes
/// from recent ones only. Returns how many were removed.
pub async fn purge(db: &super::Db, keep: chrono::Duration) -> Result<u64, sqlx::Error> {
    let cutoff = super::Ts::now().plus(-keep);
    let done = sqlx::query("DELETE FROM events WHERE at < $1")
        .bind(cutoff)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}

/// What changed. The payload goes with the kind (a visit view, a doctor's status, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    VisitCreated,
    VisitAssigned,
    VisitUnassigned,
    VisitStatus,
    /// A visit taken from a doctor (sent to him only).
    VisitWithdrawn,
    VisitProposed,
    /// The doctor acknowledged a visit given to him.
    VisitSeen,
    /// A call's details changed after intake (urgency, motive, address, notes).
    VisitUpdated,
    DispatchMode,
    DoctorStatus,
    DoctorPosition,
    ReportUpdated,
    EcgAdded,
    LetterUpdated,
    NurseBookingUpdated,
    NurseOfferUpdated,
    /// The duty roster changed (a shift created, changed or removed).
    ShiftChanged,
}

impl EventKind {
    pub const ALL: [EventKind; 17] = [
        EventKind::VisitCreated,
        EventKind::VisitAssigned,
        EventKind::VisitUnassigned,
        EventKind::VisitStatus,
        EventKind::VisitWithdrawn,
        EventKind::VisitProposed,
        EventKind::VisitSeen,
        EventKind::VisitUpdated,
        EventKind::DispatchMode,
        EventKind::DoctorStatus,
        EventKind::DoctorPosition,
        EventKind::ReportUpdated,
        EventKind::EcgAdded,
        EventKind::LetterUpdated,
        EventKind::NurseBookingUpdated,
        EventKind::NurseOfferUpdated,
        EventKind::ShiftChanged,
    ];

    /// The name on the stream, e.g. `visit.assigned`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::VisitCreated => "visit.created",
            EventKind::VisitAssigned => "visit.assigned",
            EventKind::VisitUnassigned => "visit.unassigned",
            EventKind::VisitStatus => "visit.status",
            EventKind::VisitWithdrawn => "visit.withdrawn",
            EventKind::VisitProposed => "visit.proposed",
            EventKind::VisitSeen => "visit.seen",
            EventKind::VisitUpdated => "visit.updated",
            EventKind::DispatchMode => "dispatch.mode",
            EventKind::DoctorStatus => "doctor.status",
            EventKind::DoctorPosition => "doctor.position",
            EventKind::ReportUpdated => "report.updated",
            EventKind::EcgAdded => "ecg.added",
            EventKind::LetterUpdated => "letter.updated",
            EventKind::NurseBookingUpdated => "nurse_booking.updated",
            EventKind::NurseOfferUpdated => "nurse_offer.updated",
            EventKind::ShiftChanged => "shift.changed",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    /// The UI subscribes to every kind the hub publishes, and to nothing else: an event the UI
    /// never listens to (as `dispatch.mode` once was) fails here.
    #[test]
    fn the_ui_listens_to_every_kind() {
        let live = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("ui/src/live.ts"),
        )
        .unwrap();
        let list = live
            .split("export const EVENT_KINDS = [")
            .nth(1)
            .and_then(|rest| rest.split(']').next())
            .expect("EVENT_KINDS in ui/src/live.ts");
        let mut ui: Vec<&str> = list
            .split(',')
            .map(|s| s.trim().trim_matches('\''))
            .filter(|s| !s.is_empty())
            .collect();
        let mut hub: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        ui.sort_unstable();
        hub.sort_unstable();
        assert_eq!(ui, hub);
    }
}
