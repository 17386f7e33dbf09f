//! The report of a visit: what the doctor observed, found and decided, in the structure the
//! letter to the treating physician follows. A draft may be partial; [`Observations::check`]
//! says what is out of range while drafting, [`Observations::check_complete`] what is still
//! missing before the doctor can validate.

use super::{Reason, ValueError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Vital signs measured at the bedside. Every one is optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Vitals {
    pub systolic_mmhg: Option<u16>,
    pub diastolic_mmhg: Option<u16>,
    pub heart_rate_bpm: Option<u16>,
    /// Pulse oximetry, percent.
    pub spo2_pct: Option<u8>,
    pub temperature_c: Option<f32>,
    pub respiratory_rate: Option<u16>,
    /// Capillary blood glucose, g/L.
    pub glycaemia_g_l: Option<f32>,
    /// Pain on a 0–10 scale.
    pub pain: Option<u8>,
}

/// A diagnosis, coded in ICD-10 (CIM-10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Diagnosis {
    #[schema(max_length = 16)]
    pub code: String,
    #[schema(max_length = 300)]
    pub label: String,
}

/// Where the patient goes after the visit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum OrientationKind {
    /// Stays at home (or in the EHPAD).
    Home,
    /// Sent to hospital (emergency department or a ward).
    Hospital,
    /// Handed over to the 15 (SAMU). `samu_15` as a call's source; `samu15` was written once.
    #[serde(rename = "samu_15", alias = "samu15")]
    Samu15,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Orientation {
    pub kind: OrientationKind,
    /// Which hospital or service, how (ambulance, family...).
    #[serde(default)]
    #[schema(max_length = 500)]
    pub details: Option<String>,
}

/// The structured observations of a visit.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, default)]
pub struct Observations {
    /// Why the doctor came, as found on arrival.
    #[schema(max_length = 8000)]
    pub motive: String,
    /// Medical history, current treatments, allergies.
    #[schema(max_length = 8000)]
    pub history: String,
    /// Clinical examination.
    #[schema(max_length = 8000)]
    pub examination: String,
    pub vitals: Vitals,
    /// The doctor's reading of the ECG(s).
    #[schema(max_length = 8000)]
    pub ecg_interpretation: String,
    pub diagnoses: Vec<Diagnosis>,
    /// Treatment given during the visit.
    #[schema(max_length = 8000)]
    pub treatment: String,
    /// One prescription line each.
    pub prescriptions: Vec<String>,
    pub orientation: Option<Orientation>,
    #[schema(max_length = 8000)]
    pub advice: String,
    #[schema(max_length = 8000)]
    pub follow_up: String,
}

/// A field of the observations at fault (JSON path) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportError {
    pub field: String,
    pub error: ValueError,
}

fn err(field: &str, error: ValueError) -> ReportError {
    ReportError {
        field: format!("observations.{field}"),
        error,
    }
}

/// At most `max` characters or items.
fn too_long(max: usize, message: impl Into<String>) -> ValueError {
    ValueError::new(Reason::Length, message).within(None, Some(max as f64))
}

const TEXT_MAX: usize = 8000;

impl Observations {
    /// Checks lengths and ranges; a draft may leave anything empty.
    pub fn check(&self) -> Result<(), ReportError> {
        for (name, text) in [
            ("motive", &self.motive),
            ("history", &self.history),
            ("examination", &self.examination),
            ("ecg_interpretation", &self.ecg_interpretation),
            ("treatment", &self.treatment),
            ("advice", &self.advice),
            ("follow_up", &self.follow_up),
        ] {
            if text.chars().count() > TEXT_MAX {
                return Err(err(
                    name,
                    too_long(TEXT_MAX, format!("at most {TEXT_MAX} characters")),
                ));
            }
        }
        let v = &self.vitals;
        let ranges: [(&str, Option<f32>, f32, f32); 8] = [
            ("systolic_mmhg", v.systolic_mmhg.map(f32::from), 40.0, 300.0),
            (
                "diastolic_mmhg",
                v.diastolic_mmhg.map(f32::from),
                20.0,
                200.0,
            ),
            (
                "heart_rate_bpm",
                v.heart_rate_bpm.map(f32::from),
                10.0,
                300.0,
            ),
            ("spo2_pct", v.spo2_pct.map(f32::from), 30.0, 100.0),
            ("temperature_c", v.temperature_c, 25.0, 45.0),
            (
                "respiratory_rate",
                v.respiratory_rate.map(f32::from),
                2.0,
                80.0,
            ),
            ("glycaemia_g_l", v.glycaemia_g_l, 0.1, 10.0),
            ("pain", v.pain.map(f32::from), 0.0, 10.0),
        ];
        for (name, value, min, max) in ranges {
            if let Some(x) = value {
                if !(min..=max).contains(&x) {
                    return Err(err(
                        &format!("vitals.{name}"),
                        ValueError::range(
                            min.into(),
                            max.into(),
                            format!("{x} is out of range ({min} to {max})"),
                        ),
                    ));
                }
            }
        }
        if let (Some(s), Some(d)) = (v.systolic_mmhg, v.diastolic_mmhg) {
            if d >= s {
                return Err(err(
                    "vitals.diastolic_mmhg",
                    ValueError::new(
                        Reason::Range,
                        "the diastolic pressure must be below the systolic one",
                    ),
                ));
            }
        }
        if self.diagnoses.len() > 20 {
            return Err(err("diagnoses", too_long(20, "at most 20 diagnoses")));
        }
        for (i, d) in self.diagnoses.iter().enumerate() {
            if icd10_code(&d.code).as_deref() != Some(d.code.as_str()) {
                return Err(err(
                    &format!("diagnoses[{i}].code"),
                    ValueError::new(
                        Reason::Format,
                        format!("{:?} is not an ICD-10 code such as J18.9", d.code),
                    ),
                ));
            }
            if d.label.trim().is_empty() || d.label.chars().count() > 300 {
                return Err(err(
                    &format!("diagnoses[{i}].label"),
                    too_long(300, "a diagnosis needs a label of at most 300 characters")
                        .within(Some(1.0), Some(300.0)),
                ));
            }
        }
        if self.prescriptions.len() > 50 {
            return Err(err("prescriptions", too_long(50, "at most 50 lines")));
        }
        for (i, p) in self.prescriptions.iter().enumerate() {
            if p.chars().count() > 500 {
                return Err(err(
                    &format!("prescriptions[{i}]"),
                    too_long(500, "at most 500 characters"),
                ));
            }
        }
        if let Some(o) = &self.orientation {
            if o.details.as_ref().is_some_and(|d| d.chars().count() > 500) {
                return Err(err(
                    "orientation.details",
                    too_long(500, "at most 500 characters"),
                ));
            }
        }
        Ok(())
    }

    /// What a report needs before the doctor validates it: a motive, an examination, at least one
    /// diagnosis and the orientation.
    pub fn check_complete(&self) -> Result<(), ReportError> {
        self.check()?;
        if self.motive.trim().is_empty() {
            return Err(err(
                "motive",
                ValueError::new(Reason::Required, "give the motive of the visit"),
            ));
        }
        if self.examination.trim().is_empty() {
            return Err(err(
                "examination",
                ValueError::new(Reason::Required, "describe the examination"),
            ));
        }
        if self.diagnoses.is_empty() {
            return Err(err(
                "diagnoses",
                ValueError::new(Reason::Required, "choose at least one diagnosis"),
            ));
        }
        if self.orientation.is_none() {
            return Err(err(
                "orientation",
                ValueError::new(
                    Reason::Required,
                    "say where the patient goes: home, hospital or the 15",
                ),
            ));
        }
        Ok(())
    }
}

/// `I10`, `J18.9`, `j189`, `S72.00` → canonical form; `None` when it is not shaped like a code.
pub fn icd10_code(raw: &str) -> Option<String> {
    let compact: String = raw
        .chars()
        .filter(|c| *c != '.' && !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    let b = compact.as_bytes();
    let ok = (3..=6).contains(&b.len())
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_alphanumeric()
        && b[3..].iter().all(u8::is_ascii_alphanumeric);
    if !ok {
        return None;
    }
    Some(if b.len() == 3 {
        compact
    } else {
        format!("{}.{}", &compact[..3], &compact[3..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn complete() -> Observations {
        Observations {
            motive: "Douleur thoracique".into(),
            examination: "Auscultation normale".into(),
            diagnoses: vec![Diagnosis {
                code: "R07.4".into(),
                label: "Douleur thoracique".into(),
            }],
            orientation: Some(Orientation {
                kind: OrientationKind::Home,
                details: None,
            }),
            ..Default::default()
        }
    }

    #[test]
    fn the_15_is_spelt_as_the_ui_sends_it_and_as_it_was_stored() {
        let sent: Orientation = serde_json::from_str(r#"{"kind":"samu_15"}"#).unwrap();
        assert_eq!(sent.kind, OrientationKind::Samu15);
        let stored: Orientation = serde_json::from_str(r#"{"kind":"samu15"}"#).unwrap();
        assert_eq!(stored.kind, OrientationKind::Samu15);
        assert_eq!(
            serde_json::to_string(&OrientationKind::Samu15).unwrap(),
            r#""samu_15""#
        );
    }

    #[test]
    fn a_partial_draft_is_fine_but_cannot_be_validated() {
        let draft = Observations {
            motive: "Fièvre".into(),
            ..Default::default()
        };
        assert!(draft.check().is_ok());
        assert_eq!(
            draft.check_complete().unwrap_err().field,
            "observations.examination"
        );
        assert!(complete().check_complete().is_ok());
    }

    #[test]
    fn out_of_range_vitals_and_bad_codes_name_their_field() {
        let mut o = complete();
        o.vitals.spo2_pct = Some(120);
        assert_eq!(o.check().unwrap_err().field, "observations.vitals.spo2_pct");
        let mut o = complete();
        o.vitals.systolic_mmhg = Some(80);
        o.vitals.diastolic_mmhg = Some(90);
        assert_eq!(
            o.check().unwrap_err().field,
            "observations.vitals.diastolic_mmhg"
        );
        let mut o = complete();
        o.diagnoses[0].code = "douleur".into();
        assert_eq!(
            o.check().unwrap_err().field,
            "observations.diagnoses[0].code"
        );
    }
}
