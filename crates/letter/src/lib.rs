//! The letter a Chevet doctor sends the patient's treating physician after a visit, in the four
//! forms French secure health messaging expects: a PDF, a FHIR R4 document Bundle, an HL7 CDA R2
//! document (CI-SIS level N1, the PDF as body) and the `IHE_XDM.ZIP` package.
//!
//! Pure functions of a [`Letter`]: no HTTP, no SQL, no clock. Every identifier that is not in
//! the letter (FHIR resource ids, XDS entry ids) is derived from the document id, so the same
//! letter always gives the same bytes.
//!
//! ```no_run
//! let letter = chevet_letter::Letter::sample(vec![]);
//! let forms = chevet_letter::all(&letter)?;
//! # Ok::<(), chevet_letter::LetterError>(())
//! ```

pub mod cda;
pub mod fhir;
pub mod model;
pub mod pdf;
mod text;
pub mod xdm;

pub use cda::{cda, cda_code, DocumentCode};
pub use fhir::{fhir_bundle, fhir_json};
pub use model::*;
pub use pdf::pdf;
pub use xdm::xdm;

/// Why a form could not be made.
#[derive(Debug, thiserror::Error)]
pub enum LetterError {
    /// A field of the letter is not usable (bad identifier, empty required value...).
    #[error("invalid letter: {field}: {reason}")]
    Invalid { field: String, reason: String },
    /// The PDF writer refused the document.
    #[error("PDF: {0}")]
    Pdf(String),
    /// The ZIP writer failed.
    #[error("XDM package: {0}")]
    Zip(String),
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// The four forms of one letter.
#[derive(Debug, Clone)]
pub struct Forms {
    /// The letter and the ECG pages.
    pub pdf: Vec<u8>,
    /// FHIR R4 document Bundle (JSON).
    pub fhir_json: String,
    /// CDA R2 level 1 document (UTF-8 XML), the PDF as body.
    pub cda_xml: String,
    /// `IHE_XDM.ZIP`: the CDA document and the original ECG files.
    pub xdm_zip: Vec<u8>,
}

/// Makes the four forms, rendering the PDF once.
pub fn all(letter: &Letter) -> Result<Forms, LetterError> {
    let pdf = pdf::pdf(letter)?;
    let fhir_json = fhir::fhir_json(letter, &pdf)?;
    let cda_xml = cda::cda(letter, &pdf)?;
    let xdm_zip = xdm::xdm(letter, &cda_xml)?;
    Ok(Forms {
        pdf,
        fhir_json,
        cda_xml,
        xdm_zip,
    })
}

/// Identifiers and formats shared by the forms.
pub(crate) mod ids {
    use chrono::{DateTime, Utc};
    use sha1::{Digest, Sha1};

    use crate::model::{parse_uuid, TimeZone};

    /// A name-based UUID (version 5, SHA-1) in the namespace of the document id: the same
    /// letter always gives the same resource ids.
    pub fn derived_uuid(document_id: &str, name: &str) -> String {
        let ns = parse_uuid(document_id).unwrap_or([0; 16]);
        let mut h = Sha1::new();
        h.update(ns);
        h.update(name.as_bytes());
        let d = h.finalize();
        let mut b = [0u8; 16];
        b.copy_from_slice(&d[..16]);
        b[6] = (b[6] & 0x0f) | 0x50;
        b[8] = (b[8] & 0x3f) | 0x80;
        format_uuid(&b)
    }

    pub fn format_uuid(b: &[u8; 16]) -> String {
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &h[0..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..32]
        )
    }

    /// A UUID as an OID under `2.25` (ITU-T X.667): what XDS uniqueIds and CDA ids accept.
    pub fn uuid_oid(uuid: &str) -> String {
        let b = parse_uuid(uuid).unwrap_or([0; 16]);
        format!("2.25.{}", u128::from_be_bytes(b))
    }

    /// HL7 v3 TS with offset: `20260314214000+0100`.
    pub fn hl7_ts(tz: TimeZone, at: DateTime<Utc>) -> String {
        let off = tz.offset_minutes(at);
        let local = tz.local(at);
        let sign = if off < 0 { '-' } else { '+' };
        format!(
            "{}{sign}{:02}{:02}",
            local.format("%Y%m%d%H%M%S"),
            off.abs() / 60,
            off.abs() % 60
        )
    }

    /// FHIR dateTime/instant with offset: `2026-03-14T21:40:00+01:00`.
    pub fn fhir_ts(tz: TimeZone, at: DateTime<Utc>) -> String {
        let off = tz.offset_minutes(at);
        let local = tz.local(at);
        let sign = if off < 0 { '-' } else { '+' };
        format!(
            "{}{sign}{:02}:{:02}",
            local.format("%Y-%m-%dT%H:%M:%S"),
            off.abs() / 60,
            off.abs() % 60
        )
    }

    /// XDS DTM, always UTC: `20260314204000`.
    pub fn xds_ts(at: DateTime<Utc>) -> String {
        at.format("%Y%m%d%H%M%S").to_string()
    }

    /// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
    pub fn xml_escape(s: &str) -> String {
        let mut out = String::with_capacity(s.len());
        for c in s.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                '\'' => out.push_str("&apos;"),
                '\t' | '\n' | '\r' => out.push(c),
                c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
                c => out.push(c),
            }
        }
        out
    }

    /// SHA-1 as lowercase hex (XDS `hash`).
    pub fn sha1_hex(bytes: &[u8]) -> String {
        Sha1::digest(bytes)
            .iter()
            .map(|x| format!("{x:02x}"))
            .collect()
    }

    /// SHA-1 as base64 (FHIR `Attachment.hash`).
    pub fn sha1_b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(Sha1::digest(bytes))
    }

    pub fn b64(bytes: &[u8]) -> String {
        use base64::Engine as _;
        base64::engine::general_purpose::STANDARD.encode(bytes)
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn uuid_v5_and_oid() {
            let id = "3f1c2a9e-7b4d-4c21-9e8a-5d6f7a8b9c01";
            let a = derived_uuid(id, "Patient");
            assert_eq!(a, derived_uuid(id, "Patient"));
            assert_ne!(a, derived_uuid(id, "Practitioner"));
            assert_eq!(&a[14..15], "5");
            assert!(parse_uuid(&a).is_some());
            assert_eq!(uuid_oid("00000000-0000-0000-0000-000000000001"), "2.25.1");
            assert_eq!(xml_escape("a<b & \"c\"\u{1}"), "a&lt;b &amp; &quot;c&quot;");
        }
    }
}
