//! The content of a letter: who writes it, to whom, about whom, what was found during the
//! visit, and the ECG recordings attached to it.
//!
//! Every form (PDF, FHIR, CDA, XDM) is computed from a [`Letter`] alone. Times are UTC
//! instants; [`TimeZone`] says how they are printed for the reader. [`Letter::validate`]
//! checks the identifiers every form relies on; each form calls it first.

use chevet_ecg::Ecg;
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveDateTime, TimeZone as _, Utc};

use crate::LetterError;

/// A letter to the patient's treating physician after a home visit.
#[derive(Debug, Clone, PartialEq)]
pub struct Letter {
    /// Identity and version of the document.
    pub document: DocumentInfo,
    /// How times are shown to the reader (the association's legal time).
    pub time_zone: TimeZone,
    /// The association of on-call doctors that made the visit (custodian of the document).
    pub association: Association,
    /// The doctor who made the visit, author and legal authenticator of the letter.
    pub author: Doctor,
    /// Who drafted the letter when not the doctor (an assistant); the doctor validated it.
    pub drafted_by: Option<PersonName>,
    /// The patient's treating physician (médecin traitant), the recipient.
    pub recipient: Recipient,
    pub patient: Patient,
    pub visit: Visit,
    pub observations: Observations,
    /// ECG recordings made during the visit.
    pub ecgs: Vec<EcgAttachment>,
}

/// Identity and version of the document.
#[derive(Debug, Clone, PartialEq)]
pub struct DocumentInfo {
    /// This version's id: a UUID (`xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`).
    pub id: String,
    /// The id shared by all versions of the document: a UUID.
    pub set_id: String,
    /// Version number, from 1.
    pub version: u32,
    /// When the letter was validated by the doctor.
    pub created_at: DateTime<Utc>,
}

/// How UTC instants are shown to the reader.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeZone {
    /// Metropolitan France (Europe/Paris): UTC+1, UTC+2 from the last Sunday of March to
    /// the last Sunday of October (changes at 01:00 UTC, the EU rule).
    #[default]
    France,
    /// A fixed offset from UTC in minutes (overseas: Antilles -240, Réunion +240, ...).
    FixedMinutes(i32),
}

impl TimeZone {
    /// Offset from UTC, in minutes, at this instant.
    pub fn offset_minutes(self, at: DateTime<Utc>) -> i32 {
        match self {
            TimeZone::FixedMinutes(m) => m.clamp(-18 * 60, 18 * 60),
            TimeZone::France => {
                let year = at.year();
                let start = last_sunday_0100_utc(year, 3);
                let end = last_sunday_0100_utc(year, 10);
                match (start, end) {
                    (Some(s), Some(e)) if at >= s && at < e => 120,
                    _ => 60,
                }
            }
        }
    }

    /// The local wall-clock time of this instant.
    pub fn local(self, at: DateTime<Utc>) -> NaiveDateTime {
        let utc = at.naive_utc();
        utc.checked_add_signed(Duration::minutes(self.offset_minutes(at) as i64))
            .unwrap_or(utc)
    }
}

fn last_sunday_0100_utc(year: i32, month: u32) -> Option<DateTime<Utc>> {
    let first_next = if month == 12 {
        NaiveDate::from_ymd_opt(year + 1, 1, 1)?
    } else {
        NaiveDate::from_ymd_opt(year, month + 1, 1)?
    };
    let last = first_next.pred_opt()?;
    let back = last.weekday().num_days_from_sunday() as i64;
    let sunday = last - Duration::days(back);
    Utc.from_local_datetime(&sunday.and_hms_opt(1, 0, 0)?)
        .single()
}

/// A postal address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Address {
    /// Street lines ("12 rue des Lilas", "Bâtiment B, 3e étage").
    pub lines: Vec<String>,
    pub postal_code: String,
    pub city: String,
    /// Country, when not France.
    pub country: Option<String>,
}

impl Address {
    /// The address on one line: "12 rue des Lilas, 38000 Grenoble".
    pub fn one_line(&self) -> String {
        let mut parts: Vec<String> = self
            .lines
            .iter()
            .filter(|l| !l.trim().is_empty())
            .cloned()
            .collect();
        let city = format!("{} {}", self.postal_code, self.city)
            .trim()
            .to_string();
        if !city.is_empty() {
            parts.push(city);
        }
        if let Some(c) = &self.country {
            parts.push(c.clone());
        }
        parts.join(", ")
    }
}

/// The association of on-call doctors.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Association {
    /// "SOS Médecins Grenoble".
    pub name: String,
    pub address: Address,
    pub phone: Option<String>,
    /// The association's own OID root, when it has one; documents ids are then
    /// `root` + the document UUID as extension.
    pub oid_root: Option<String>,
    /// FINESS or SIRET number of the structure, when known (shown in the header; in CDA and
    /// XDM as the organisation id with the ANS structure OID `1.2.250.1.71.4.2.2`, prefixed
    /// with `3` for FINESS or `5` for SIRET as the ANS does).
    pub structure_id: Option<StructureId>,
}

/// A structure's national identifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StructureId {
    Finess(String),
    Siret(String),
}

impl StructureId {
    /// The ANS "IdNat_Struct": type prefix + number.
    pub fn id_nat(&self) -> String {
        match self {
            StructureId::Finess(n) => format!("3{n}"),
            StructureId::Siret(n) => format!("5{n}"),
        }
    }
}

/// A person's name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PersonName {
    pub family: String,
    pub given: String,
}

impl PersonName {
    pub fn new(given: &str, family: &str) -> Self {
        PersonName {
            family: family.to_string(),
            given: given.to_string(),
        }
    }

    /// "Given FAMILY" is French administrative style; letters use "Given Family".
    pub fn full(&self) -> String {
        format!("{} {}", self.given.trim(), self.family.trim())
            .trim()
            .to_string()
    }
}

/// The doctor who made the visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Doctor {
    pub name: PersonName,
    /// RPPS number: 11 digits.
    pub rpps: String,
    /// MSSanté address (`prenom.nom@medecin.mssante.fr`).
    pub mssante: String,
    pub phone: Option<String>,
}

/// The patient's treating physician.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub name: PersonName,
    /// RPPS number: 11 digits, when known.
    pub rpps: Option<String>,
    /// MSSanté address the letter is sent to.
    pub mssante: String,
    /// Practice address, when known (printed in the recipient block).
    pub address: Option<Address>,
}

/// Administrative sex.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sex {
    Female,
    Male,
    /// Undetermined or unknown.
    Unknown,
}

/// The national health identifier (INS) of the patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ins {
    /// The NIR or NIA: 13 characters + 2-digit key (Corsica: 2A/2B).
    pub nir: String,
    /// Whether the identity has been qualified (checked against INSi and an identity
    /// document). Only a qualified INS may be used to identify the patient in exchanges:
    /// otherwise the forms identify the patient by [`Patient::local_id`] only.
    pub qualified: bool,
}

/// The ANS OID of the INS-NIR.
pub const OID_INS_NIR: &str = "1.2.250.1.213.1.4.8";
/// The ANS OID of national health professional identifiers (RPPS prefixed with `8`).
pub const OID_RPPS: &str = "1.2.250.1.71.4.2.1";
/// The ANS OID of national structure identifiers (FINESS/SIRET with a type prefix).
pub const OID_STRUCTURE: &str = "1.2.250.1.71.4.2.2";

/// The patient.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Patient {
    pub name: PersonName,
    /// Birth name, when it differs from the used family name.
    pub birth_family: Option<String>,
    pub birth_date: NaiveDate,
    pub sex: Sex,
    pub address: Option<Address>,
    pub ins: Option<Ins>,
    /// The association's own identifier of the patient (used when the INS is not usable).
    pub local_id: String,
}

impl Patient {
    /// The INS when it may identify the patient in exchanges (qualified identity).
    pub fn exchange_ins(&self) -> Option<&Ins> {
        self.ins.as_ref().filter(|i| i.qualified)
    }

    /// Age in whole years at `on`.
    pub fn age_on(&self, on: NaiveDate) -> i32 {
        let mut age = on.year() - self.birth_date.year();
        if (on.month(), on.day()) < (self.birth_date.month(), self.birth_date.day()) {
            age -= 1;
        }
        age.max(0)
    }
}

/// The visit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Visit {
    pub start: DateTime<Utc>,
    pub end: Option<DateTime<Utc>>,
    /// Where the patient was seen (usually home).
    pub address: Address,
    /// Who called for the visit ("sa fille", "l'infirmière à domicile", "la patiente").
    pub called_by: Option<String>,
}

/// What the doctor found and did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Observations {
    /// Reason for the call.
    pub motive: String,
    /// History and antecedents.
    pub history: Option<String>,
    /// Clinical examination.
    pub examination: Option<String>,
    pub vitals: Vitals,
    /// The doctor's reading of the ECG(s).
    pub ecg_interpretation: Option<String>,
    pub diagnoses: Vec<Diagnosis>,
    /// Treatment given during the visit.
    pub treatment: Option<String>,
    /// Prescriptions written (one line each).
    pub prescriptions: Vec<String>,
    pub orientation: Orientation,
    pub advice: Option<String>,
    pub follow_up: Option<String>,
}

/// Vital signs measured during the visit; all optional.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Vitals {
    pub systolic_mmhg: Option<u16>,
    pub diastolic_mmhg: Option<u16>,
    pub heart_rate_bpm: Option<u16>,
    pub spo2_percent: Option<u8>,
    pub temperature_c: Option<f32>,
    pub respiratory_rate_per_min: Option<u16>,
    /// Capillary glycaemia in g/L (French practice).
    pub glycaemia_g_per_l: Option<f32>,
    /// Pain on a 0-10 numeric scale.
    pub pain_score: Option<u8>,
}

impl Vitals {
    pub fn is_empty(&self) -> bool {
        *self == Vitals::default()
    }
}

/// A diagnosis coded in ICD-10 (CIM-10).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnosis {
    /// ICD-10 code ("I48.9", "J18.9").
    pub icd10: String,
    /// Label in French.
    pub label: String,
}

/// What happened to the patient after the visit.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Orientation {
    /// Stays at home.
    #[default]
    Home,
    /// Sent to a hospital (by their own means or by ambulance).
    Hospital {
        /// "Urgences du CHU Grenoble Alpes".
        facility: String,
        /// How: "ambulance privée", "VSL", "par ses propres moyens".
        transport: Option<String>,
    },
    /// Handed over to the SAMU (the 15), with where the mobile unit takes the patient.
    Samu { destination: Option<String> },
}

/// An ECG recorded during the visit, as a signal or a document.
#[derive(Debug, Clone, PartialEq)]
pub struct EcgAttachment {
    /// The parsed signal, when the file holds one (drawn in the PDF); `None` for a PDF
    /// printed by the device.
    pub signal: Option<Ecg>,
    /// The original file(s) as recorded (a WFDB record is a header and a signal file).
    pub files: Vec<OriginalFile>,
    /// Heart rate found by beat detection, when a signal was read.
    pub heart_rate_bpm: Option<f32>,
}

/// An original file attached to the letter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OriginalFile {
    pub file_name: String,
    pub media_type: String,
    pub bytes: Vec<u8>,
}

impl Letter {
    /// Checks what the forms rely on: UUIDs, RPPS numbers, the NIR, MSSanté addresses,
    /// that the visit ends after it starts and that attachments have files.
    pub fn validate(&self) -> Result<(), LetterError> {
        let invalid = |field: &str, why: &str| {
            Err(LetterError::Invalid {
                field: field.into(),
                reason: why.into(),
            })
        };
        if parse_uuid(&self.document.id).is_none() {
            return invalid("document.id", "not a UUID");
        }
        if parse_uuid(&self.document.set_id).is_none() {
            return invalid("document.set_id", "not a UUID");
        }
        if self.document.version == 0 {
            return invalid("document.version", "versions start at 1");
        }
        if !is_rpps(&self.author.rpps) {
            return invalid("author.rpps", "an RPPS number has 11 digits");
        }
        if let Some(r) = &self.recipient.rpps {
            if !is_rpps(r) {
                return invalid("recipient.rpps", "an RPPS number has 11 digits");
            }
        }
        if !is_email(&self.author.mssante) {
            return invalid("author.mssante", "not an e-mail address");
        }
        if !is_email(&self.recipient.mssante) {
            return invalid("recipient.mssante", "not an e-mail address");
        }
        if let Some(ins) = &self.patient.ins {
            if !is_nir(&ins.nir) {
                return invalid(
                    "patient.ins.nir",
                    "a NIR has 15 characters (13 + a 2-digit key) and a valid key",
                );
            }
        }
        if self.patient.local_id.trim().is_empty() {
            return invalid("patient.local_id", "empty");
        }
        if let Some(root) = &self.association.oid_root {
            if !is_oid(root) {
                return invalid("association.oid_root", "not an OID");
            }
        }
        if let Some(end) = self.visit.end {
            if end < self.visit.start {
                return invalid("visit.end", "before the start of the visit");
            }
        }
        for (i, e) in self.ecgs.iter().enumerate() {
            if e.files.is_empty() {
                return invalid(&format!("ecgs[{i}].files"), "no file");
            }
            if e.files
                .iter()
                .any(|f| f.file_name.trim().is_empty() || f.media_type.trim().is_empty())
            {
                return invalid(
                    &format!("ecgs[{i}].files"),
                    "a file without name or media type",
                );
            }
            if let Some(s) = &e.signal {
                if !(s.sampling_hz.is_finite() && s.sampling_hz > 0.0) {
                    return invalid(
                        &format!("ecgs[{i}].signal"),
                        "sampling rate must be positive",
                    );
                }
            }
        }
        for (i, d) in self.observations.diagnoses.iter().enumerate() {
            if !is_icd10(&d.icd10) {
                return invalid(
                    &format!("observations.diagnoses[{i}].icd10"),
                    "not an ICD-10 code",
                );
            }
        }
        Ok(())
    }

    /// A realistic, fictitious visit (SOS Médecins Grenoble, an evening call for chest pain
    /// handed over to the SAMU),
    /// with the given ECG attachments. Used by `chevet letter preview` and the tests.
    pub fn sample(ecgs: Vec<EcgAttachment>) -> Letter {
        let at = |y, mo, d, h, mi| {
            Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
                .single()
                .unwrap_or_default()
        };
        Letter {
            document: DocumentInfo {
                id: "3f1c2a9e-7b4d-4c21-9e8a-5d6f7a8b9c01".into(),
                set_id: "8a7b6c5d-4e3f-4a2b-9c1d-0e9f8a7b6c5d".into(),
                version: 1,
                created_at: at(2026, 3, 14, 21, 52),
            },
            time_zone: TimeZone::France,
            association: Association {
                name: "SOS Médecins Grenoble".into(),
                address: Address {
                    lines: vec!["12 avenue Alsace-Lorraine".into()],
                    postal_code: "38000".into(),
                    city: "Grenoble".into(),
                    country: None,
                },
                phone: Some("04 76 63 42 55".into()),
                oid_root: None,
                structure_id: Some(StructureId::Siret("77567227200019".into())),
            },
            author: Doctor {
                name: PersonName::new("Camille", "Rousseau"),
                rpps: "10101234567".into(),
                mssante: "camille.rousseau@medecin.mssante.fr".into(),
                phone: Some("06 12 34 56 78".into()),
            },
            drafted_by: Some(PersonName::new("Inès", "Moreau")),
            recipient: Recipient {
                name: PersonName::new("Jean", "Martin"),
                rpps: Some("10009876543".into()),
                mssante: "jean.martin@medecin.mssante.fr".into(),
                address: Some(Address {
                    lines: vec!["Cabinet médical des Écrins".into(), "5 place Grenette".into()],
                    postal_code: "38000".into(),
                    city: "Grenoble".into(),
                    country: None,
                }),
            },
            patient: Patient {
                name: PersonName::new("Hélène", "Lefèvre-Dupré"),
                birth_family: Some("Dupré".into()),
                birth_date: NaiveDate::from_ymd_opt(1948, 6, 21).unwrap_or_default(),
                sex: Sex::Female,
                address: Some(Address {
                    lines: vec!["7 rue Très-Cloîtres".into(), "Appartement 12, 3e étage".into()],
                    postal_code: "38000".into(),
                    city: "Grenoble".into(),
                    country: None,
                }),
                ins: Some(Ins { nir: "248063812345638".into(), qualified: true }),
                local_id: "SOS38-P-004217".into(),
            },
            visit: Visit {
                start: at(2026, 3, 14, 20, 40),
                end: Some(at(2026, 3, 14, 21, 25)),
                address: Address {
                    lines: vec!["7 rue Très-Cloîtres".into(), "Appartement 12, 3e étage".into()],
                    postal_code: "38000".into(),
                    city: "Grenoble".into(),
                    country: None,
                },
                called_by: Some("sa fille, Mme Claire Lefèvre".into()),
            },
            observations: Observations {
                motive: "Oppression thoracique depuis 18 h, avec dyspnée et sueurs, chez une patiente diabétique.".into(),
                history: Some(
                    "Diabète de type 2 sous metformine, hypertension artérielle sous ramipril 5 mg/j, dyslipidémie sous \
                     atorvastatine 20 mg. Pas d'antécédent coronarien connu, non fumeuse. Cholécystectomie en 2009. \
                     Pas d'allergie médicamenteuse. Vit seule, autonome."
                        .into(),
                ),
                examination: Some(
                    "Patiente anxieuse, pâle, légèrement en sueurs. Pouls régulier. Bruits du cœur réguliers, sans \
                     souffle. Quelques crépitants aux deux bases. Pas de turgescence jugulaire, pas d'œdème des membres \
                     inférieurs. Pouls périphériques perçus et symétriques. Examen neurologique normal."
                        .into(),
                ),
                vitals: Vitals {
                    systolic_mmhg: Some(148),
                    diastolic_mmhg: Some(86),
                    heart_rate_bpm: Some(84),
                    spo2_percent: Some(95),
                    temperature_c: Some(36.7),
                    respiratory_rate_per_min: Some(20),
                    glycaemia_g_per_l: Some(2.14),
                    pain_score: Some(6),
                },
                ecg_interpretation: Some(
                    "Rythme régulier. Anomalies de la repolarisation en territoire inférieur et latéral, évocatrices \
                     d'une ischémie myocardique. Pas de tracé antérieur disponible pour comparaison. Tracé transmis au \
                     médecin régulateur."
                        .into(),
                ),
                diagnoses: vec![
                    Diagnosis {
                        icd10: "I24.9".into(),
                        label: "Syndrome coronarien aigu suspecté".into(),
                    },
                    Diagnosis { icd10: "E11.9".into(), label: "Diabète de type 2".into() },
                ],
                treatment: Some(
                    "Sur avis du médecin régulateur du SAMU : aspirine 250 mg en IV directe. Voie veineuse périphérique \
                     posée, surveillance jusqu'à l'arrivée du SMUR à 22 h 05."
                        .into(),
                ),
                prescriptions: vec![],
                orientation: Orientation::Samu { destination: Some("USIC du CHU Grenoble Alpes".into()) },
                advice: Some("Sa fille a été informée de l'orientation et l'accompagne.".into()),
                follow_up: Some(
                    "Le service vous adressera son compte rendu. À sa sortie, le traitement antidiabétique et la \
                     prévention cardiovasculaire seront à réévaluer."
                        .into(),
                ),
            },
            ecgs,
        }
    }
}

/// Parses a UUID in its canonical text form into 16 bytes.
pub(crate) fn parse_uuid(s: &str) -> Option<[u8; 16]> {
    let b = s.as_bytes();
    if b.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut n = 0;
    let mut i = 0;
    while i < 36 {
        if matches!(i, 8 | 13 | 18 | 23) {
            if b[i] != b'-' {
                return None;
            }
            i += 1;
            continue;
        }
        let hi = (b[i] as char).to_digit(16)?;
        let lo = (*b.get(i + 1)? as char).to_digit(16)?;
        out[n] = (hi * 16 + lo) as u8;
        n += 1;
        i += 2;
    }
    (n == 16).then_some(out)
}

fn is_rpps(s: &str) -> bool {
    s.len() == 11 && s.bytes().all(|c| c.is_ascii_digit())
}

/// A NIR: 13 characters (digits, `2A`/`2B` for Corsica at positions 6-7) and a key equal to
/// 97 - (number mod 97), where 2A counts as 19 and 2B as 18.
fn is_nir(s: &str) -> bool {
    let b = s.as_bytes();
    let chars_ok = b.len() == 15
        && b.iter()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || (i == 6 && (*c == b'A' || *c == b'B')));
    if !chars_ok {
        return false;
    }
    let body = match b[6] {
        b'A' => format!("{}19{}", &s[..5], &s[7..13]),
        b'B' => format!("{}18{}", &s[..5], &s[7..13]),
        _ => s[..13].to_string(),
    };
    match (body.parse::<u64>(), s[13..].parse::<u64>()) {
        (Ok(n), Ok(key)) => 97 - n % 97 == key,
        _ => false,
    }
}

fn is_email(s: &str) -> bool {
    match s.split_once('@') {
        Some((l, d)) => {
            !l.is_empty()
                && d.contains('.')
                && !s.chars().any(|c| c.is_whitespace() || c == '<' || c == '>')
        }
        None => false,
    }
}

fn is_oid(s: &str) -> bool {
    !s.is_empty()
        && s.split('.')
            .all(|p| !p.is_empty() && p.bytes().all(|c| c.is_ascii_digit()))
}

fn is_icd10(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() >= 3
        && b.len() <= 8
        && b[0].is_ascii_uppercase()
        && b[1].is_ascii_digit()
        && b[2].is_ascii_alphanumeric()
        && b[3..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || *c == b'.' || *c == b'+' || *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn france_dst() {
        let tz = TimeZone::France;
        let winter = Utc.with_ymd_and_hms(2026, 3, 29, 0, 59, 0).unwrap();
        let summer = Utc.with_ymd_and_hms(2026, 3, 29, 1, 0, 0).unwrap();
        assert_eq!(tz.offset_minutes(winter), 60);
        assert_eq!(tz.offset_minutes(summer), 120);
        let back = Utc.with_ymd_and_hms(2026, 10, 25, 1, 0, 0).unwrap();
        assert_eq!(tz.offset_minutes(back), 60);
    }

    #[test]
    fn sample_is_valid() {
        Letter::sample(vec![]).validate().unwrap();
        assert!(parse_uuid("not-a-uuid").is_none());
        assert!(is_nir("248063812345638"));
        assert!(!is_nir("248063812345678"), "wrong key");
        assert!(!is_nir("1234"));
    }
}
