//! Partner nurse care: the acts a nurse network performs and the area a network or a nurse
//! covers. Both ends of a booking (the association that books, the network that takes it) use
//! the same codes, so they travel as is in the FHIR payloads.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{AppointmentState, Reason, ValueError};

/// The code system of act codes in FHIR payloads.
pub const ACT_SYSTEM: &str = "https://chevet.fr/fhir/CodeSystem/nurse-act";

/// The acts partner nurses perform at home, with their French labels.
pub const ACTS: &[(&str, &str)] = &[
    ("urinary_catheter", "Changement de sonde urinaire (stérile)"),
    ("wound_dressing", "Pansement"),
    ("injection", "Injection"),
    ("blood_sample", "Prise de sang"),
    ("infusion", "Perfusion"),
    ("medication_round", "Aide à la prise des médicaments"),
    ("monitoring", "Surveillance (constantes, glycémie)"),
];

pub fn act_label(code: &str) -> Option<&'static str> {
    ACTS.iter().find(|(c, _)| *c == code).map(|(_, l)| *l)
}

/// Checks an act code.
pub fn parse_act(code: &str) -> Result<&'static str, ValueError> {
    ACTS.iter()
        .find(|(c, _)| *c == code)
        .map(|(c, _)| *c)
        .ok_or_else(|| {
            ValueError::new(
                Reason::Unknown,
                format!(
                    "unknown act {code:?}; expected one of: {}",
                    ACTS.iter().map(|(c, _)| *c).collect::<Vec<_>>().join(", ")
                ),
            )
        })
}

/// Checks a list of act codes (at least one, no unknown one), without duplicates.
pub fn parse_acts(codes: &[String]) -> Result<Vec<String>, ValueError> {
    let mut out: Vec<String> = Vec::new();
    for c in codes {
        let c = parse_act(c)?;
        if !out.iter().any(|o| o == c) {
            out.push(c.to_owned());
        }
    }
    Ok(out)
}

/// Where a network or a nurse works: a list of postcodes, or a circle.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(untagged)]
#[serde(try_from = "AreaWire")]
pub enum Area {
    Postcodes { postcodes: Vec<String> },
    Circle { lat: f64, lon: f64, radius_km: f64 },
}

/// An area as written: exactly one of the two shapes, no other field.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AreaWire {
    postcodes: Option<Vec<String>>,
    lat: Option<f64>,
    lon: Option<f64>,
    radius_km: Option<f64>,
}

impl TryFrom<AreaWire> for Area {
    type Error = ValueError;
    fn try_from(w: AreaWire) -> Result<Area, ValueError> {
        match w {
            AreaWire {
                postcodes: Some(postcodes),
                lat: None,
                lon: None,
                radius_km: None,
            } => Area::Postcodes { postcodes }.check(),
            AreaWire {
                postcodes: None,
                lat: Some(lat),
                lon: Some(lon),
                radius_km: Some(radius_km),
            } => Area::Circle {
                lat,
                lon,
                radius_km,
            }
            .check(),
            _ => Err(ValueError::new(
                Reason::Format,
                "an area is either {\"postcodes\": [...]} or {\"lat\", \"lon\", \"radius_km\"}",
            )),
        }
    }
}

impl Area {
    /// Checks the values: five-digit postcodes, a point on Earth, a radius from 0.1 to 200 km.
    pub fn check(self) -> Result<Area, ValueError> {
        match self {
            Area::Postcodes { postcodes } => {
                let mut out: Vec<String> = Vec::new();
                for p in postcodes {
                    let p = p.trim().to_owned();
                    if p.len() != 5 || !p.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(ValueError::new(
                            Reason::Format,
                            format!("postcode {p:?} is not five digits"),
                        ));
                    }
                    if !out.contains(&p) {
                        out.push(p);
                    }
                }
                if out.is_empty() {
                    return Err(ValueError::new(
                        Reason::Required,
                        "give at least one postcode",
                    ));
                }
                Ok(Area::Postcodes { postcodes: out })
            }
            Area::Circle {
                lat,
                lon,
                radius_km,
            } => {
                super::Coordinates::parse(lat, lon)?;
                if !(0.1..=200.0).contains(&radius_km) {
                    return Err(ValueError::range(
                        0.1,
                        200.0,
                        format!("radius_km {radius_km} is out of range (0.1 to 200)"),
                    ));
                }
                Ok(Area::Circle {
                    lat,
                    lon,
                    radius_km,
                })
            }
        }
    }

    /// Is this address in the area? A circle needs the address's coordinates; a postcode list
    /// its postcode.
    pub fn contains(&self, postcode: Option<&str>, point: Option<(f64, f64)>) -> bool {
        match self {
            Area::Postcodes { postcodes } => {
                postcode.is_some_and(|p| postcodes.iter().any(|q| q == p.trim()))
            }
            Area::Circle {
                lat,
                lon,
                radius_km,
            } => point.is_some_and(|(a, b)| distance_km((*lat, *lon), (a, b)) <= *radius_km),
        }
    }
}

/// Does an optional area (None: anywhere) contain the address?
pub fn covers(area: Option<&Area>, postcode: Option<&str>, point: Option<(f64, f64)>) -> bool {
    area.is_none_or(|a| a.contains(postcode, point))
}

/// Great-circle distance in kilometres between two (lat, lon) points.
pub fn distance_km(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, lo1, la2, lo2) = (
        a.0.to_radians(),
        a.1.to_radians(),
        b.0.to_radians(),
        b.1.to_radians(),
    );
    let h = ((la2 - la1) / 2.0).sin().powi(2)
        + la1.cos() * la2.cos() * ((lo2 - lo1) / 2.0).sin().powi(2);
    2.0 * 6371.0 * h.sqrt().asin()
}

impl AppointmentState {
    /// The FHIR R4 Appointment.status this state is shown as.
    pub fn fhir_status(self) -> &'static str {
        match self {
            AppointmentState::Held | AppointmentState::Offered | AppointmentState::Proposed => {
                "pending"
            }
            AppointmentState::Accepted => "booked",
            AppointmentState::Done => "fulfilled",
            AppointmentState::Declined
            | AppointmentState::Cancelled
            | AppointmentState::Expired => "cancelled",
        }
    }

    /// No change can follow.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            AppointmentState::Declined
                | AppointmentState::Done
                | AppointmentState::Cancelled
                | AppointmentState::Expired
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_contain_what_they_say() {
        let pc = Area::Postcodes {
            postcodes: vec![" 38000".into(), "38100".into(), "38000".into()],
        }
        .check()
        .unwrap();
        assert_eq!(
            pc,
            Area::Postcodes {
                postcodes: vec!["38000".into(), "38100".into()]
            }
        );
        assert!(pc.contains(Some("38100"), None));
        assert!(!pc.contains(Some("38400"), Some((45.19, 5.72))));
        assert!(!pc.contains(None, Some((45.19, 5.72))));
        // Grenoble centre, 5 km: Saint-Martin-d'Hères (3 km) in, Voiron (~25 km) out.
        let circle = Area::Circle {
            lat: 45.1885,
            lon: 5.7245,
            radius_km: 5.0,
        }
        .check()
        .unwrap();
        assert!(circle.contains(None, Some((45.1675, 5.7653))));
        assert!(!circle.contains(Some("38500"), Some((45.3647, 5.5897))));
        assert!(!circle.contains(Some("38000"), None));
        assert!(covers(None, None, None));
    }

    #[test]
    fn bad_areas_and_acts_are_named() {
        let e = Area::Postcodes {
            postcodes: vec!["380".into()],
        }
        .check()
        .unwrap_err();
        assert!(e.message.contains("380"), "{e:?}");
        let e = Area::Circle {
            lat: 45.0,
            lon: 5.0,
            radius_km: 0.0,
        }
        .check()
        .unwrap_err();
        assert!(e.message.contains("radius_km"), "{e:?}");
        assert_eq!(e.limits.and_then(|l| l.max), Some(200.0));
        assert!(parse_act("tea")
            .unwrap_err()
            .message
            .contains("urinary_catheter"));
        let area: Result<Area, _> = serde_json::from_str(r#"{"postcodes": ["38000"], "x": 1}"#);
        assert!(area.is_err());
    }

    #[test]
    fn fhir_statuses() {
        assert_eq!(AppointmentState::Held.fhir_status(), "pending");
        assert_eq!(AppointmentState::Accepted.fhir_status(), "booked");
        assert_eq!(AppointmentState::Expired.fhir_status(), "cancelled");
        assert!(AppointmentState::Expired.is_final());
        assert!(!AppointmentState::Proposed.is_final());
    }
}
