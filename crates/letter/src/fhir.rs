//! The letter as a FHIR R4 document Bundle (JSON): the Composition first, then everything it
//! points at, each entry with a `urn:uuid:` fullUrl so that every reference resolves inside
//! the Bundle.
//!
//! Resources: Composition (LOINC 11488-4, legal attester = the doctor, custodian = the
//! association), Patient (INS-NIR identifier when the identity is qualified; the treating
//! physician as `generalPractitioner`), Practitioner for the doctor, the treating physician and
//! the assistant who drafted the letter (if any), Organization, Encounter (class HH, home
//! health), one Observation per vital sign (LOINC, UCUM), one ECG Observation (LOINC 11524-6)
//! with the detected heart rate and the interpretation, one Condition per diagnosis (ICD-10),
//! and DocumentReferences carrying the letter PDF and each original ECG file inline.
//! Prescriptions and treatment are narrative only (a free-text line is not a coded order).
//! Resource ids are name-based UUIDs derived from the document id: stable across runs.

use serde_json::{json, Map, Value};

use crate::ids::{b64, derived_uuid, fhir_ts, sha1_b64, xml_escape};
use crate::model::{Letter, Orientation, Sex, OID_INS_NIR, OID_RPPS, OID_STRUCTURE};
use crate::text::{self, SectionKey};
use crate::LetterError;

const LOINC: &str = "http://loinc.org";
const UCUM: &str = "http://unitsofmeasure.org";
const ICD10: &str = "http://hl7.org/fhir/sid/icd-10";

/// The Bundle as a JSON value.
pub fn fhir_bundle(letter: &Letter, pdf: &[u8]) -> Result<Value, LetterError> {
    letter.validate()?;
    Ok(Builder::new(letter).bundle(pdf))
}

/// The Bundle as pretty-printed JSON text.
pub fn fhir_json(letter: &Letter, pdf: &[u8]) -> Result<String, LetterError> {
    Ok(serde_json::to_string_pretty(&fhir_bundle(letter, pdf)?)?)
}

struct Builder<'a> {
    l: &'a Letter,
    doc: &'a str,
}

fn reference(id: &str) -> Value {
    json!({ "reference": format!("urn:uuid:{id}") })
}

fn xhtml(paragraphs: &[String], bullets: &[String]) -> String {
    let mut s = String::from("<div xmlns=\"http://www.w3.org/1999/xhtml\">");
    for p in paragraphs {
        s.push_str(&format!("<p>{}</p>", xml_escape(p)));
    }
    if !bullets.is_empty() {
        s.push_str("<ul>");
        for b in bullets {
            s.push_str(&format!("<li>{}</li>", xml_escape(b)));
        }
        s.push_str("</ul>");
    }
    if paragraphs.is_empty() && bullets.is_empty() {
        s.push_str("<p>-</p>");
    }
    s.push_str("</div>");
    s
}

fn narrative(paragraphs: &[String], bullets: &[String]) -> Value {
    json!({ "status": "generated", "div": xhtml(paragraphs, bullets) })
}

fn address(a: &crate::model::Address) -> Value {
    let mut v = json!({
        "use": "home",
        "line": a.lines,
        "postalCode": a.postal_code,
        "city": a.city,
        "text": a.one_line(),
    });
    v["country"] = json!(a.country.clone().unwrap_or_else(|| "France".into()));
    v
}

fn name(n: &crate::model::PersonName, prefix: Option<&str>) -> Value {
    let mut v =
        json!({ "use": "official", "family": n.family, "given": [n.given], "text": n.full() });
    if let Some(p) = prefix {
        v["prefix"] = json!([p]);
    }
    v
}

fn practitioner(
    id: &str,
    n: &crate::model::PersonName,
    rpps: Option<&str>,
    mssante: Option<&str>,
    phone: Option<&str>,
) -> Value {
    let mut r = json!({
        "resourceType": "Practitioner",
        "id": id,
        "name": [name(n, rpps.map(|_| "Dr"))],
    });
    if let Some(rpps) = rpps {
        // The ANS national professional id: "8" + RPPS under the IdNat_PS OID.
        r["identifier"] = json!([{
            "use": "official",
            "type": { "text": "IdNat_PS (8 + RPPS)" },
            "system": format!("urn:oid:{OID_RPPS}"),
            "value": format!("8{rpps}"),
        }]);
    }
    let mut telecom = Vec::new();
    if let Some(m) = mssante {
        telecom.push(json!({ "system": "email", "value": m, "use": "work" }));
    }
    if let Some(p) = phone {
        telecom.push(json!({ "system": "phone", "value": p, "use": "work" }));
    }
    if !telecom.is_empty() {
        r["telecom"] = json!(telecom);
    }
    r
}

fn quantity(value: f64, unit: &str, code: &str) -> Value {
    json!({ "value": value, "unit": unit, "system": UCUM, "code": code })
}

impl<'a> Builder<'a> {
    fn new(l: &'a Letter) -> Self {
        Builder {
            l,
            doc: &l.document.id,
        }
    }

    fn id(&self, name: &str) -> String {
        derived_uuid(self.doc, name)
    }

    fn entry(&self, resource: Value) -> Value {
        let id = resource["id"].as_str().unwrap_or_default().to_string();
        json!({ "fullUrl": format!("urn:uuid:{id}"), "resource": resource })
    }

    fn bundle(&self, pdf: &[u8]) -> Value {
        let l = self.l;
        let tz = l.time_zone;
        let (patient, author, org, enc) = (
            self.id("Patient"),
            self.id("Practitioner/author"),
            self.id("Organization"),
            self.id("Encounter"),
        );
        let recipient = self.id("Practitioner/recipient");
        let drafter = l
            .drafted_by
            .as_ref()
            .filter(|d| !d.full().is_empty())
            .map(|_| self.id("Practitioner/drafter"));
        let effective = fhir_ts(tz, l.visit.start);
        let mut resources: Vec<Value> = Vec::new();

        // Vitals.
        let v = &l.observations.vitals;
        let mut vital_ids = Vec::new();
        let mut vital = |key: &str, code: &str, display: &str, body: Map<String, Value>| {
            let id = self.id(&format!("Observation/{key}"));
            let mut r = json!({
                "resourceType": "Observation",
                "id": id,
                "status": "final",
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "vital-signs", "display": "Vital Signs" }] }],
                "code": { "coding": [{ "system": LOINC, "code": code, "display": display }], "text": display },
                "subject": reference(&patient),
                "encounter": reference(&enc),
                "effectiveDateTime": effective,
                "performer": [reference(&author)],
            });
            if let Some(o) = r.as_object_mut() {
                o.extend(body);
            }
            vital_ids.push(id);
            resources.push(r);
        };
        let vq = |q: Value| -> Map<String, Value> {
            let mut m = Map::new();
            m.insert("valueQuantity".into(), q);
            m
        };
        if v.systolic_mmhg.is_some() || v.diastolic_mmhg.is_some() {
            let mut comps = Vec::new();
            if let Some(s) = v.systolic_mmhg {
                comps.push(json!({ "code": { "coding": [{ "system": LOINC, "code": "8480-6", "display": "Systolic blood pressure" }] },
                    "valueQuantity": quantity(s as f64, "mmHg", "mm[Hg]") }));
            }
            if let Some(d) = v.diastolic_mmhg {
                comps.push(json!({ "code": { "coding": [{ "system": LOINC, "code": "8462-4", "display": "Diastolic blood pressure" }] },
                    "valueQuantity": quantity(d as f64, "mmHg", "mm[Hg]") }));
            }
            let mut m = Map::new();
            m.insert("component".into(), json!(comps));
            vital(
                "bp",
                "85354-9",
                "Blood pressure panel with all children optional",
                m,
            );
        }
        if let Some(x) = v.heart_rate_bpm {
            vital(
                "hr",
                "8867-4",
                "Heart rate",
                vq(quantity(x as f64, "/min", "/min")),
            );
        }
        if let Some(x) = v.spo2_percent {
            vital(
                "spo2",
                "59408-5",
                "Oxygen saturation in Arterial blood by Pulse oximetry",
                vq(quantity(x as f64, "%", "%")),
            );
        }
        if let Some(x) = v.temperature_c.filter(|x| x.is_finite()) {
            vital(
                "temp",
                "8310-5",
                "Body temperature",
                vq(quantity(round(x as f64, 1), "°C", "Cel")),
            );
        }
        if let Some(x) = v.respiratory_rate_per_min {
            vital(
                "rr",
                "9279-1",
                "Respiratory rate",
                vq(quantity(x as f64, "/min", "/min")),
            );
        }
        if let Some(x) = v.glycaemia_g_per_l.filter(|x| x.is_finite()) {
            vital(
                "glucose",
                "41653-7",
                "Glucose [Mass/volume] in Capillary blood by Glucometer",
                vq(quantity(round(x as f64, 2), "g/L", "g/L")),
            );
        }
        if let Some(x) = v.pain_score {
            vital(
                "pain",
                "72514-3",
                "Pain severity - 0-10 verbal numeric rating [Score] - Reported",
                vq(quantity(x as f64, "{score}", "{score}")),
            );
        }

        // Original ECG files, one DocumentReference per attachment.
        let mut ecg_docs = Vec::new();
        for (i, e) in l.ecgs.iter().enumerate() {
            let id = self.id(&format!("DocumentReference/ecg/{i}"));
            let content: Vec<Value> = e
                .files
                .iter()
                .map(|f| {
                    json!({ "attachment": {
                        "contentType": f.media_type,
                        "data": b64(&f.bytes),
                        "size": f.bytes.len(),
                        "hash": sha1_b64(&f.bytes),
                        "title": f.file_name,
                    } })
                })
                .collect();
            let desc = match &e.signal {
                Some(s) => format!(
                    "ECG {} dérivations ({}), fichier d'origine",
                    s.leads.len(),
                    s.format.as_str()
                ),
                None => "ECG imprimé par l'appareil (fichier d'origine)".to_string(),
            };
            resources.push(json!({
                "resourceType": "DocumentReference",
                "id": id,
                "status": "current",
                "docStatus": "final",
                "type": { "coding": [{ "system": LOINC, "code": "11524-6", "display": "EKG study" }], "text": "ECG" },
                "subject": reference(&patient),
                "date": fhir_ts(tz, l.document.created_at),
                "author": [reference(&author)],
                "custodian": reference(&org),
                "description": desc,
                "content": content,
                "context": { "encounter": [reference(&enc)] },
            }));
            ecg_docs.push(id);
        }

        // The ECG observation: interpretation and heart rate.
        let mut ecg_obs = None;
        let interp = l
            .observations
            .ecg_interpretation
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        if interp.is_some() || !l.ecgs.is_empty() {
            let id = self.id("Observation/ecg");
            let mut r = json!({
                "resourceType": "Observation",
                "id": id,
                "status": "final",
                "category": [{ "coding": [{
                    "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                    "code": "procedure", "display": "Procedure" }] }],
                "code": { "coding": [{ "system": LOINC, "code": "11524-6", "display": "EKG study" }], "text": "ECG" },
                "subject": reference(&patient),
                "encounter": reference(&enc),
                "effectiveDateTime": effective,
                "performer": [reference(&author)],
            });
            if let Some(t) = interp {
                r["valueString"] = json!(t);
            }
            if let Some(hr) = l
                .ecgs
                .iter()
                .find_map(|e| e.heart_rate_bpm)
                .filter(|h| h.is_finite() && *h > 0.0)
            {
                r["component"] = json!([{
                    "code": { "coding": [{ "system": LOINC, "code": "8867-4", "display": "Heart rate" }],
                              "text": "Fréquence cardiaque (détection automatique sur l'ECG)" },
                    "valueQuantity": quantity(round(hr as f64, 0), "/min", "/min"),
                }]);
            }
            if !ecg_docs.is_empty() {
                r["derivedFrom"] = json!(ecg_docs.iter().map(|d| reference(d)).collect::<Vec<_>>());
            }
            resources.push(r);
            ecg_obs = Some(id);
        }

        // Diagnoses.
        let mut conditions = Vec::new();
        for (i, d) in l.observations.diagnoses.iter().enumerate() {
            let id = self.id(&format!("Condition/{i}"));
            resources.push(json!({
                "resourceType": "Condition",
                "id": id,
                "clinicalStatus": { "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active" }] },
                "category": [{ "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/condition-category",
                    "code": "encounter-diagnosis", "display": "Encounter Diagnosis" }] }],
                "code": { "coding": [{ "system": ICD10, "code": d.icd10.trim(), "display": d.label.trim() }], "text": d.label.trim() },
                "subject": reference(&patient),
                "encounter": reference(&enc),
                "recordedDate": fhir_ts(tz, l.document.created_at),
                "recorder": reference(&author),
            }));
            conditions.push(id);
        }

        // The letter itself.
        let letter_doc = self.id("DocumentReference/letter");
        resources.push(json!({
            "resourceType": "DocumentReference",
            "id": letter_doc,
            "masterIdentifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", l.document.id) },
            "status": "current",
            "docStatus": "final",
            "type": { "coding": [{ "system": LOINC, "code": "11488-4", "display": "Consult note" }], "text": "Lettre au médecin traitant" },
            "subject": reference(&patient),
            "date": fhir_ts(tz, l.document.created_at),
            "author": [reference(&author)],
            "authenticator": reference(&author),
            "custodian": reference(&org),
            "description": "Lettre au médecin traitant (PDF), avec les tracés ECG",
            "content": [{ "attachment": {
                "contentType": "application/pdf",
                "language": "fr-FR",
                "data": b64(pdf),
                "size": pdf.len(),
                "hash": sha1_b64(pdf),
                "title": "Lettre au médecin traitant.pdf",
                "creation": fhir_ts(tz, l.document.created_at),
            } }],
            "context": { "encounter": [reference(&enc)] },
        }));

        // Sections.
        let mut sections = Vec::new();
        sections.push(json!({
            "title": "Introduction",
            "text": narrative(&["Cher Confrère,".to_string(), text::intro(l)], &[]),
        }));
        for s in text::sections(l) {
            let paragraphs: Vec<String> = s.paragraphs.iter().map(|p| p.text()).collect();
            let (code, display, entries): (&str, &str, Vec<String>) = match s.key {
                SectionKey::Motive => ("29299-5", "Reason for visit Narrative", vec![]),
                SectionKey::History => ("11348-0", "History of Past illness Narrative", vec![]),
                SectionKey::Examination => {
                    ("29545-1", "Physical findings Narrative", vital_ids.clone())
                }
                SectionKey::Ecg => (
                    "11524-6",
                    "EKG study",
                    ecg_obs
                        .iter()
                        .cloned()
                        .chain(ecg_docs.iter().cloned())
                        .collect(),
                ),
                SectionKey::Diagnosis => ("29548-5", "Diagnosis Narrative", conditions.clone()),
                SectionKey::Treatment => ("18776-5", "Plan of care note", vec![]),
                SectionKey::Orientation => {
                    ("8650-4", "Hospital discharge disposition Narrative", vec![])
                }
                SectionKey::Advice => ("69730-0", "Instructions", vec![]),
            };
            let mut sec = json!({
                "title": s.title,
                "code": { "coding": [{ "system": LOINC, "code": code, "display": display }] },
                "text": narrative(&paragraphs, &s.bullets),
            });
            if !entries.is_empty() {
                sec["entry"] = json!(entries.iter().map(|e| reference(e)).collect::<Vec<_>>());
            }
            sections.push(sec);
        }
        sections.push(json!({
            "title": "Courrier (PDF) et validation",
            "text": narrative(&[text::drafted_line(l)], &[]),
            "entry": [reference(&letter_doc)],
        }));

        let mut composition_authors = vec![reference(&author)];
        if let Some(d) = &drafter {
            composition_authors.push(reference(d));
        }
        let composition = json!({
            "resourceType": "Composition",
            "id": self.id("Composition"),
            "extension": [{
                "url": "http://hl7.org/fhir/StructureDefinition/composition-clinicaldocument-versionNumber",
                "valueString": l.document.version.to_string(),
            }],
            "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", l.document.set_id) },
            "status": "final",
            "type": { "coding": [{ "system": LOINC, "code": "11488-4", "display": "Consult note" }], "text": "Lettre au médecin traitant" },
            "subject": reference(&patient),
            "encounter": reference(&enc),
            "date": fhir_ts(tz, l.document.created_at),
            "author": composition_authors,
            "title": format!("Lettre au médecin traitant — visite à domicile du {}", text::date_long(tz.local(l.visit.start).date())),
            "confidentiality": "N",
            "attester": [{ "mode": "legal", "time": fhir_ts(tz, l.document.created_at), "party": reference(&author) }],
            "custodian": reference(&org),
            "section": sections,
        });

        // Patient.
        let p = &l.patient;
        let mut identifiers = Vec::new();
        if let Some(ins) = p.exchange_ins() {
            identifiers.push(json!({
                "use": "official",
                "type": { "coding": [{ "system": "http://interopsante.org/CodeSystem/v2-0203", "code": "INS-NIR", "display": "NIR définitif" }] },
                "system": format!("urn:oid:{OID_INS_NIR}"),
                "value": ins.nir,
            }));
        }
        identifiers.push(json!({
            "use": "usual",
            "system": match &l.association.oid_root { Some(o) => format!("urn:oid:{o}.1"), None => "urn:chevet:patient".into() },
            "value": p.local_id,
        }));
        let mut names = vec![name(&p.name, None)];
        if let Some(b) = p.birth_family.as_deref().filter(|b| !b.trim().is_empty()) {
            names.push(json!({ "use": "maiden", "family": b.trim(), "given": [p.name.given] }));
        }
        let mut patient_r = json!({
            "resourceType": "Patient",
            "id": patient,
            "identifier": identifiers,
            "name": names,
            "gender": match p.sex { Sex::Female => "female", Sex::Male => "male", Sex::Unknown => "unknown" },
            "birthDate": p.birth_date.format("%Y-%m-%d").to_string(),
            "generalPractitioner": [reference(&recipient)],
        });
        if let Some(a) = &p.address {
            patient_r["address"] = json!([address(a)]);
        }

        let a = &l.association;
        let mut org_r = json!({ "resourceType": "Organization", "id": org, "name": a.name, "address": [address(&a.address)] });
        org_r["address"][0]["use"] = json!("work");
        if let Some(s) = &a.structure_id {
            org_r["identifier"] =
                json!([{ "system": format!("urn:oid:{OID_STRUCTURE}"), "value": s.id_nat() }]);
        }
        if let Some(ph) = &a.phone {
            org_r["telecom"] = json!([{ "system": "phone", "value": ph, "use": "work" }]);
        }

        let mut period = json!({ "start": fhir_ts(tz, l.visit.start) });
        if let Some(e) = l.visit.end {
            period["end"] = json!(fhir_ts(tz, e));
        }
        let disposition = match &l.observations.orientation {
            Orientation::Home => ("home", "Home"),
            Orientation::Hospital { .. } | Orientation::Samu { .. } => {
                ("other-hcf", "Other healthcare facility")
            }
        };
        let orientation_text = text::sections(l)
            .into_iter()
            .find(|s| s.key == SectionKey::Orientation)
            .and_then(|s| s.paragraphs.first().map(|p| p.text()))
            .unwrap_or_default();
        let mut enc_r = json!({
            "resourceType": "Encounter",
            "id": enc,
            "status": "finished",
            "class": { "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "HH", "display": "home health" },
            "type": [{ "text": "Visite à domicile" }],
            "subject": reference(&patient),
            "participant": [{ "individual": reference(&author) }],
            "period": period,
            "reasonCode": [{ "text": l.observations.motive.trim() }],
            "hospitalization": { "dischargeDisposition": {
                "coding": [{ "system": "http://terminology.hl7.org/CodeSystem/discharge-disposition", "code": disposition.0, "display": disposition.1 }],
                "text": orientation_text } },
            "serviceProvider": reference(&org),
        });
        if !conditions.is_empty() {
            enc_r["diagnosis"] = json!(conditions
                .iter()
                .enumerate()
                .map(|(i, c)| json!({ "condition": reference(c), "rank": i + 1 }))
                .collect::<Vec<_>>());
        }

        let dr = &l.author;
        let rc = &l.recipient;
        let mut entries = vec![
            self.entry(composition),
            self.entry(patient_r),
            self.entry(practitioner(
                &author,
                &dr.name,
                Some(&dr.rpps),
                Some(&dr.mssante),
                dr.phone.as_deref(),
            )),
            self.entry(practitioner(
                &recipient,
                &rc.name,
                rc.rpps.as_deref(),
                Some(&rc.mssante),
                None,
            )),
        ];
        if let (Some(d), Some(n)) = (&drafter, &l.drafted_by) {
            entries.push(self.entry(practitioner(d, n, None, None, None)));
        }
        entries.push(self.entry(org_r));
        entries.push(self.entry(enc_r));
        entries.extend(resources.into_iter().map(|r| self.entry(r)));

        json!({
            "resourceType": "Bundle",
            "id": self.id("Bundle"),
            "language": "fr-FR",
            "identifier": { "system": "urn:ietf:rfc:3986", "value": format!("urn:uuid:{}", l.document.id) },
            "type": "document",
            "timestamp": fhir_ts(tz, l.document.created_at),
            "entry": entries,
        })
    }
}

fn round(x: f64, digits: i32) -> f64 {
    let k = 10f64.powi(digits);
    (x * k).round() / k
}
