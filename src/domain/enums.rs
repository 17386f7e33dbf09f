//! Closed sets of values stored as text (`role = 'dispatcher'`) and sent as JSON strings.

/// Declares an enum stored as text in the database and serialised as a snake_case string.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        pub enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        // By hand: utoipa's derive does not see a `rename` whose literal comes from a macro, and
        // would document the variants' Rust names instead of the texts sent.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {}

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                match s {
                    $($text => Ok($name::$variant),)+
                    other => Err(format!(
                        "unknown {} {other:?}; expected one of: {}",
                        stringify!($name),
                        [$($text),+].join(", ")
                    )),
                }
            }
        }

        impl sqlx::Type<sqlx::Any> for $name {
            fn type_info() -> sqlx::any::AnyTypeInfo {
                <String as sqlx::Type<sqlx::Any>>::type_info()
            }
            fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
                <String as sqlx::Type<sqlx::Any>>::compatible(ty)
            }
        }

        impl<'r> sqlx::Decode<'r, sqlx::Any> for $name {
            fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
                let text = <&str as sqlx::Decode<sqlx::Any>>::decode(value)?;
                Ok(text.parse::<$name>()?)
            }
        }

        impl<'q> sqlx::Encode<'q, sqlx::Any> for $name {
            fn encode_by_ref(
                &self,
                buf: &mut <sqlx::Any as sqlx::Database>::ArgumentBuffer<'q>,
            ) -> Result<sqlx::encode::IsNull, sqlx::error::BoxDynError> {
                <&str as sqlx::Encode<sqlx::Any>>::encode(self.as_str(), buf)
            }
        }
    };
}

text_enum! {
    /// What a person may do in the hub. Every account has exactly one role.
    Role {
        /// Runs the association's hub: accounts, delegations, audit; may also dispatch.
        Admin => "admin",
        /// Call-centre operator (standardiste): takes calls, triages, assigns visits.
        Dispatcher => "dispatcher",
        /// On-call doctor: sees and performs his own visits.
        Doctor => "doctor",
        /// Helps doctors with paperwork, only for doctors who delegated to her.
        Assistant => "assistant",
        /// Nurse of one partner nursing home (EHPAD): requests visits for its residents.
        EhpadNurse => "ehpad_nurse",
        /// Nurse of one partner nurse network (SOS Infirmiers-style).
        PartnerNurse => "partner_nurse",
    }
}

impl Role {
    /// Call-centre staff see the whole association's activity.
    pub fn is_staff(self) -> bool {
        matches!(self, Role::Admin | Role::Dispatcher)
    }
}

text_enum! {
    /// A doctor's live status, as shown on the dispatcher board.
    DoctorStatus {
        OffDuty => "off_duty",
        Available => "available",
        EnRoute => "en_route",
        OnSite => "on_site",
        /// Consulting at the association's centre: reachable, not on the road.
        AtCentre => "at_centre",
    }
}

text_enum! {
    /// Where a visit stands. `Closed`, `Cancelled` and `Redirected15` are final.
    VisitStatus {
        Received => "received",
        Assigned => "assigned",
        EnRoute => "en_route",
        OnSite => "on_site",
        Closed => "closed",
        Cancelled => "cancelled",
        /// Handed over to the 15 (SAMU): no home visit by the association.
        Redirected15 => "redirected_15",
    }
}

impl VisitStatus {
    pub fn is_final(self) -> bool {
        matches!(
            self,
            VisitStatus::Closed | VisitStatus::Cancelled | VisitStatus::Redirected15
        )
    }
}

text_enum! {
    /// Who is on the line when a call comes in.
    CallSource {
        Patient => "patient",
        Relative => "relative",
        /// The 15 (SAMU regulation) hands a call over to the association.
        Samu15 => "samu_15",
        /// A partner institution (EHPAD, clinic) requesting a visit.
        Institution => "institution",
        Other => "other",
    }
}

text_enum! {
    /// How a call ended: every call is kept, whatever its outcome (#16).
    CallOutcome {
        /// A doctor goes: the call opened a visit.
        HomeVisit => "home_visit",
        /// The dispatcher (or a doctor on the line) gave advice; nobody goes.
        Advice => "advice",
        /// A teleconsultation with one of the association's doctors was booked.
        Teleconsultation => "teleconsultation",
        /// The patient comes to the association's centre.
        Centre => "centre",
        /// Handed over to the 15 (SAMU).
        Samu15 => "samu_15",
        /// The caller hung up before anything was decided.
        HungUp => "hung_up",
    }
}

text_enum! {
    /// Whether a call's address lies in the association's sectors.
    Coverage {
        Covered => "covered",
        /// Outside every sector: no home visit, a fallback is the outcome.
        OutOfSector => "out_of_sector",
        /// No position, or no sectors set.
        Unknown => "unknown",
    }
}

text_enum! {
    /// Administrative sex as the INS identity carries it.
    Sex {
        Female => "F",
        Male => "M",
        Unknown => "U",
    }
}

text_enum! {
    /// What a doctor carries or is trained for, and what a call may require.
    Skill {
        /// Carries a connected ECG device.
        Ecg => "ecg",
        Pediatric => "pediatric",
        Geriatric => "geriatric",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enums_round_trip_through_text_and_json() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), *role);
            let json = serde_json::to_string(role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
        }
        assert!("nurse".parse::<Role>().unwrap_err().contains("ehpad_nurse"));
    }
}

text_enum! {
    /// A partner nurse booking, as the association sees it.
    NurseBookingStatus {
        /// Sent (or being sent) to a network; no nurse has taken it yet.
        Requested => "requested",
        /// A nurse took it: see the nurse's name and expected time.
        Accepted => "accepted",
        /// A nurse proposed another time; the doctor answers.
        Proposed => "proposed",
        /// No suitable network took it.
        Declined => "declined",
        Done => "done",
        Cancelled => "cancelled",
    }
}

text_enum! {
    /// What the link to the network must do next for a booking (its outbox step).
    BookingStep {
        /// Ask the network to hold the request (IHE $hold).
        Hold => "hold",
        /// Confirm the hold (IHE $book): the network offers it to its nurses.
        Book => "book",
        /// Nothing to send: follow the network's news (callbacks, polling).
        Watch => "watch",
        /// Send the doctor's answer to a proposed time.
        Respond => "respond",
        /// Cancel at the network.
        Cancel => "cancel",
    }
}

text_enum! {
    /// A partner appointment, as the nurse network sees it (the `booking-state` extension of the
    /// FHIR Appointment both ends exchange).
    AppointmentState {
        /// Held for the client until `hold_expires_at`, not yet offered.
        Held => "held",
        /// Confirmed: offered to the network's nurses who cover its act and address.
        Offered => "offered",
        /// A nurse took it.
        Accepted => "accepted",
        /// A nurse proposed another time; waiting for the client's answer.
        Proposed => "proposed",
        /// Every nurse who could take it said no.
        Declined => "declined",
        Done => "done",
        Cancelled => "cancelled",
        /// The hold was not confirmed in time.
        Expired => "expired",
    }
}

text_enum! {
    /// Where a letter to a treating physician stands in the outbox.
    LetterStatus {
        /// No secure messaging address to send it to yet.
        Held => "held",
        /// Waiting for its (next) attempt.
        Queued => "queued",
        /// An attempt is under way.
        Sending => "sending",
        Sent => "sent",
        /// Refused by the relay, or still undelivered after every attempt: see `last_error`.
        Failed => "failed",
    }
}
