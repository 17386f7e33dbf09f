//! The French wording of the letter, shared by the PDF and the FHIR narrative: dates, times,
//! the vitals line and the body sections built from the observations.

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};

use crate::model::{Letter, Orientation, Sex, Vitals};

/// Which part of the letter a section is (FHIR maps each to a LOINC section code).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SectionKey {
    Motive,
    History,
    Examination,
    Ecg,
    Diagnosis,
    Treatment,
    Orientation,
    Advice,
}

/// One section of the body: a title, paragraphs, then a bullet list.
#[derive(Debug, Clone)]
pub(crate) struct Section {
    pub key: SectionKey,
    pub title: &'static str,
    /// Paragraphs; a paragraph may start with a bold lead-in, kept apart.
    pub paragraphs: Vec<Para>,
    pub bullets: Vec<String>,
}

/// A paragraph with an optional bold lead-in ("TA 148/86 mmHg").
#[derive(Debug, Clone)]
pub(crate) struct Para {
    /// Pairs of (bold, text) runs.
    pub runs: Vec<(bool, String)>,
}

impl Para {
    pub fn plain(s: impl Into<String>) -> Para {
        Para {
            runs: vec![(false, s.into())],
        }
    }

    pub fn text(&self) -> String {
        self.runs.iter().map(|(_, t)| t.as_str()).collect()
    }
}

const MONTHS: [&str; 12] = [
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
];

/// "14 mars 2026" ("1er mars 2026").
pub(crate) fn date_long(d: NaiveDate) -> String {
    let day = if d.day() == 1 {
        "1er".to_string()
    } else {
        d.day().to_string()
    };
    format!("{day} {} {}", MONTHS[d.month0() as usize % 12], d.year())
}

/// "14/03/2026".
pub(crate) fn date_short(d: NaiveDate) -> String {
    d.format("%d/%m/%Y").to_string()
}

/// "21 h 40".
pub(crate) fn time_fr(t: NaiveDateTime) -> String {
    format!("{} h {:02}", t.hour(), t.minute())
}

/// A decimal with a French comma: 36.8 -> "36,8".
pub(crate) fn dec(v: f32, digits: usize) -> String {
    format!("{v:.digits$}").replace('.', ",")
}

/// The vitals as (label, value) pairs, in the usual order.
pub(crate) fn vitals_pairs(v: &Vitals) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    match (v.systolic_mmhg, v.diastolic_mmhg) {
        (Some(s), Some(d)) => out.push(("TA", format!("{s}/{d} mmHg"))),
        (Some(s), None) => out.push(("TA systolique", format!("{s} mmHg"))),
        (None, Some(d)) => out.push(("TA diastolique", format!("{d} mmHg"))),
        (None, None) => {}
    }
    if let Some(x) = v.heart_rate_bpm {
        out.push(("FC", format!("{x}/min")));
    }
    if let Some(x) = v.spo2_percent {
        out.push(("SpO₂", format!("{x} %")));
    }
    if let Some(x) = v.temperature_c.filter(|x| x.is_finite()) {
        out.push(("T°", format!("{} °C", dec(x, 1))));
    }
    if let Some(x) = v.respiratory_rate_per_min {
        out.push(("FR", format!("{x}/min")));
    }
    if let Some(x) = v.glycaemia_g_per_l.filter(|x| x.is_finite()) {
        out.push(("Glycémie capillaire", format!("{} g/L", dec(x, 2))));
    }
    if let Some(x) = v.pain_score {
        out.push(("EN douleur", format!("{x}/10")));
    }
    out
}

/// "Mme", "M." or "".
pub(crate) fn civility(sex: Sex) -> &'static str {
    match sex {
        Sex::Female => "Mme",
        Sex::Male => "M.",
        Sex::Unknown => "",
    }
}

fn agreed(sex: Sex, f: &'static str, m: &'static str, u: &'static str) -> &'static str {
    match sex {
        Sex::Female => f,
        Sex::Male => m,
        Sex::Unknown => u,
    }
}

/// "Mme Hélène Lefèvre-Dupré".
pub(crate) fn patient_name(letter: &Letter) -> String {
    let c = civility(letter.patient.sex);
    let n = letter.patient.name.full();
    if c.is_empty() {
        n
    } else {
        format!("{c} {n}")
    }
}

/// The opening paragraph after "Cher Confrère,".
pub(crate) fn intro(letter: &Letter) -> String {
    let tz = letter.time_zone;
    let start = tz.local(letter.visit.start);
    let sex = letter.patient.sex;
    let age = letter.patient.age_on(start.date());
    let mut s = format!(
        "J'ai examiné à domicile le {} à {} {} {}, {} de {age} ans",
        date_long(start.date()),
        time_fr(start),
        agreed(sex, "votre patiente", "votre patient", "votre patient(e)"),
        patient_name(letter),
        agreed(sex, "âgée", "âgé", "âgé(e)"),
    );
    if let Some(by) = letter
        .visit
        .called_by
        .as_deref()
        .filter(|b| !b.trim().is_empty())
    {
        s.push_str(&format!(", à la demande de {}", by.trim()));
    }
    s.push('.');
    s
}

/// The body sections, only those with content.
pub(crate) fn sections(letter: &Letter) -> Vec<Section> {
    let o = &letter.observations;
    let mut out = Vec::new();
    let some = |t: &Option<String>| {
        t.as_deref()
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_string)
    };

    if !o.motive.trim().is_empty() {
        out.push(Section {
            key: SectionKey::Motive,
            title: "Motif",
            paragraphs: vec![Para::plain(o.motive.trim())],
            bullets: vec![],
        });
    }
    if let Some(h) = some(&o.history) {
        out.push(Section {
            key: SectionKey::History,
            title: "Antécédents",
            paragraphs: vec![Para::plain(h)],
            bullets: vec![],
        });
    }
    let vitals = vitals_pairs(&o.vitals);
    let exam = some(&o.examination);
    if exam.is_some() || !vitals.is_empty() {
        let mut paragraphs = Vec::new();
        if !vitals.is_empty() {
            let mut runs = Vec::new();
            for (i, (label, value)) in vitals.iter().enumerate() {
                if i > 0 {
                    runs.push((false, " · ".to_string()));
                }
                runs.push((true, format!("{}\u{a0}", label.replace(' ', "\u{a0}"))));
                runs.push((false, value.replace(' ', "\u{a0}")));
            }
            paragraphs.push(Para { runs });
        }
        if let Some(e) = exam {
            paragraphs.push(Para::plain(e));
        }
        out.push(Section {
            key: SectionKey::Examination,
            title: "Examen clinique",
            paragraphs,
            bullets: vec![],
        });
    }
    let interp = some(&o.ecg_interpretation);
    if interp.is_some() || !letter.ecgs.is_empty() {
        let mut paragraphs = Vec::new();
        if let Some(i) = interp {
            paragraphs.push(Para::plain(i));
        }
        let mut bullets = Vec::new();
        for e in &letter.ecgs {
            let names = e
                .files
                .iter()
                .map(|f| f.file_name.as_str())
                .collect::<Vec<_>>()
                .join(", ");
            let hr = e
                .heart_rate_bpm
                .filter(|h| h.is_finite() && *h > 0.0)
                .map(|h| format!(", fréquence cardiaque {:.0}/min (détection automatique)", h))
                .unwrap_or_default();
            match &e.signal {
                Some(s) => {
                    let when = s.acquired_at.map(|t| format!(" le {} à {}", date_short(t.date()), time_fr(t))).unwrap_or_default();
                    let device = s.device.as_deref().map(|d| format!(", {d}")).unwrap_or_default();
                    bullets.push(format!(
                        "Tracé enregistré{when} : {} dérivation{}, {} s à {} Hz{device}{hr} — reproduit en pages suivantes (fichier {names}).",
                        s.leads.len(),
                        if s.leads.len() > 1 { "s" } else { "" },
                        dec(s.duration_s() as f32, 1).trim_end_matches(",0"),
                        dec(s.sampling_hz as f32, 0),
                    ));
                }
                None => bullets.push(format!(
                    "Tracé imprimé par l'appareil, joint en pièce jointe séparée (fichier {names}){hr}."
                )),
            }
        }
        out.push(Section {
            key: SectionKey::Ecg,
            title: "Électrocardiogramme",
            paragraphs,
            bullets,
        });
    }
    if !o.diagnoses.is_empty() {
        out.push(Section {
            key: SectionKey::Diagnosis,
            title: "Diagnostic",
            paragraphs: vec![],
            bullets: o
                .diagnoses
                .iter()
                .map(|d| format!("{} — CIM-10 {}", d.label.trim(), d.icd10.trim()))
                .collect(),
        });
    }
    let treatment = some(&o.treatment);
    if treatment.is_some() || !o.prescriptions.is_empty() {
        let mut paragraphs: Vec<Para> = treatment.into_iter().map(Para::plain).collect();
        if !o.prescriptions.is_empty() {
            paragraphs.push(Para {
                runs: vec![(true, "Ordonnance remise :".to_string())],
            });
        }
        out.push(Section {
            key: SectionKey::Treatment,
            title: "Traitement et prescriptions",
            paragraphs,
            bullets: o
                .prescriptions
                .iter()
                .map(|p| p.trim().to_string())
                .filter(|p| !p.is_empty())
                .collect(),
        });
    }
    let sex = letter.patient.sex;
    let orientation = match &o.orientation {
        Orientation::Home => format!(
            "{} à domicile.",
            agreed(sex, "Maintenue", "Maintenu", "Maintien")
        ),
        Orientation::Hospital {
            facility,
            transport,
        } => format!(
            "{} à : {}{}.",
            agreed(sex, "Adressée", "Adressé", "Adressé(e)"),
            facility.trim(),
            transport
                .as_deref()
                .map(|t| format!(" ({})", t.trim()))
                .unwrap_or_default()
        ),
        Orientation::Samu { destination } => format!(
            "Prise en charge par le SAMU (Centre 15), transfert médicalisé par le SMUR.{}",
            destination
                .as_deref()
                .map(|d| format!(" Destination : {}.", d.trim()))
                .unwrap_or_default()
        ),
    };
    out.push(Section {
        key: SectionKey::Orientation,
        title: "Orientation",
        paragraphs: vec![Para::plain(orientation)],
        bullets: vec![],
    });
    let advice: Vec<Para> = [some(&o.advice), some(&o.follow_up)]
        .into_iter()
        .flatten()
        .map(Para::plain)
        .collect();
    if !advice.is_empty() {
        out.push(Section {
            key: SectionKey::Advice,
            title: "Conseils et suivi",
            paragraphs: advice,
            bullets: vec![],
        });
    }
    out
}

/// "Rédigé par X pour le Dr Y, validé par le Dr Y le ..." or "Rédigé et validé par ...".
pub(crate) fn drafted_line(letter: &Letter) -> String {
    let tz = letter.time_zone;
    let at = tz.local(letter.document.created_at);
    let dr = format!("Dr {}", letter.author.name.full());
    let when = format!("le {} à {}", date_short(at.date()), time_fr(at));
    match &letter.drafted_by {
        Some(a) if !a.full().is_empty() => {
            format!(
                "Rédigé par {} pour le {dr}, validé par le {dr} {when}.",
                a.full()
            )
        }
        _ => format!("Rédigé et validé par le {dr} {when}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn french_dates() {
        let d = NaiveDate::from_ymd_opt(2026, 8, 1).unwrap();
        assert_eq!(date_long(d), "1er août 2026");
        assert_eq!(dec(36.84, 1), "36,8");
    }

    #[test]
    fn sample_sections() {
        let l = Letter::sample(vec![]);
        let s = sections(&l);
        assert!(s.iter().any(|s| s.key == SectionKey::Diagnosis));
        assert!(drafted_line(&l)
            .starts_with("Rédigé par Inès Moreau pour le Dr Camille Rousseau, validé par"));
        assert!(intro(&l).contains("votre patiente Mme Hélène Lefèvre-Dupré"));
    }
}
