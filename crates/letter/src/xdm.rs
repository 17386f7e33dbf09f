//! The IHE XDM package (`IHE_XDM.ZIP`) MSSanté carries as an attachment: `README.TXT`,
//! `INDEX.HTM`, and one submission set in `IHE_XDM/SUBSET01/` with its `METADATA.XML`
//! (ebRIM 3.0 `lcm:SubmitObjectsRequest`), the CDA document (`DOC0001.XML`) and the original
//! ECG file(s) (`DOC0002.xxx`, ...; ISO 9660 8.3 names as XDM requires, the original name in
//! the entry's title).
//!
//! Metadata codes follow the French CI-SIS value sets: classCode `10` "Compte rendu"
//! (1.2.250.1.213.1.1.4.1), typeCode LOINC 11488-4 for the letter and 11524-6 for an ECG,
//! formatCode `urn:ihe:iti:xds-sd:pdf:2008` for the CDA with a PDF body and
//! `urn:ihe:iti:xds:2017:mimeTypeSufficient` for the original files, healthcareFacilityTypeCode
//! `SA08` (1.2.250.1.71.4.2.4), practiceSettingCode `AMBULATOIRE` (1.2.250.1.213.1.1.4.9),
//! confidentialityCode `N`. The patient is identified by INS
//! (`NIR^^^&1.2.250.1.213.1.4.8&ISO^NH`) when the identity is qualified, otherwise by the
//! association's local id (`^PI`).

use std::io::Write as _;

use chrono::{Datelike, Timelike};
use zip::write::SimpleFileOptions;
use zip::CompressionMethod;

use crate::cda::{document_ii, patient_id_root};
use crate::ids::{derived_uuid, sha1_hex, uuid_oid, xds_ts, xml_escape as esc};
use crate::model::{Letter, Sex, OID_INS_NIR, OID_RPPS, OID_STRUCTURE};
use crate::LetterError;

/// ebRIM classification schemes and identification schemes of XDS (ITI TF-3 4.2.5).
mod scheme {
    pub const DOC_ENTRY: &str = "urn:uuid:7edca82f-054d-47f2-a032-9b2a5b5186c1";
    pub const DE_AUTHOR: &str = "urn:uuid:93606bcf-9494-43ec-9b4e-a7748d1a838d";
    pub const DE_CLASS: &str = "urn:uuid:41a5887f-8865-4c09-adf7-e362475b143a";
    pub const DE_CONFIDENTIALITY: &str = "urn:uuid:f4f85eac-e6cb-4883-b524-f2705394840f";
    pub const DE_FORMAT: &str = "urn:uuid:a09d5840-386c-46f2-b5ad-9c3699a4309d";
    pub const DE_FACILITY: &str = "urn:uuid:f33fb8ac-18af-42cc-ae0e-ed0b0bdb91e1";
    pub const DE_PRACTICE: &str = "urn:uuid:cccf5598-8b07-4b77-a05e-ae952c785ead";
    pub const DE_TYPE: &str = "urn:uuid:f0306f51-975f-434e-a61c-c59651d33983";
    pub const DE_PATIENT_ID: &str = "urn:uuid:58a6f841-87b3-4a3e-92fd-a8ffeff98427";
    pub const DE_UNIQUE_ID: &str = "urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab";
    pub const SS_NODE: &str = "urn:uuid:a54d6aa5-d40d-43f9-88c5-b4633d873bdd";
    pub const SS_AUTHOR: &str = "urn:uuid:a7058bb9-b4e4-4307-ba5b-e3f0ab85e12d";
    pub const SS_CONTENT_TYPE: &str = "urn:uuid:aa543740-bdda-424e-8c96-df4873be8500";
    pub const SS_UNIQUE_ID: &str = "urn:uuid:96fdda7c-d067-4183-912e-bf5ee74998a8";
    pub const SS_SOURCE_ID: &str = "urn:uuid:554ac39e-e3fe-47fe-b233-965d2a147832";
    pub const SS_PATIENT_ID: &str = "urn:uuid:6b5aea1a-874d-4603-a4bc-96a0a7b38446";
}

/// One file of the submission set.
struct Doc<'a> {
    /// Name inside `IHE_XDM/SUBSET01/`.
    name: String,
    title: String,
    mime: &'a str,
    bytes: &'a [u8],
    entry_uuid: String,
    unique_id: String,
    type_code: (&'static str, &'static str),
    format_code: (&'static str, &'static str),
}

/// The `IHE_XDM.ZIP` bytes for a letter and its CDA document (from [`crate::cda()`]).
pub fn xdm(letter: &Letter, cda_xml: &str) -> Result<Vec<u8>, LetterError> {
    letter.validate()?;
    let l = letter;
    let doc_id = &l.document.id;
    let (root, ext) = document_ii(l, doc_id);
    let mut docs = vec![Doc {
        name: "DOC0001.XML".into(),
        title: "Lettre au médecin traitant (CDA R2 N1, PDF)".into(),
        mime: "text/xml",
        bytes: cda_xml.as_bytes(),
        entry_uuid: derived_uuid(doc_id, "xdm/entry/cda"),
        unique_id: match ext {
            Some(e) => format!("{root}^{e}"),
            None => root,
        },
        type_code: ("11488-4", "Note de consultation"),
        format_code: (
            "urn:ihe:iti:xds-sd:pdf:2008",
            "Document à corps non structuré en Pdf/A-1",
        ),
    }];
    for (i, e) in l.ecgs.iter().enumerate() {
        for (j, f) in e.files.iter().enumerate() {
            let n = docs.len() + 1;
            let key = format!("xdm/entry/ecg/{i}/{j}");
            docs.push(Doc {
                name: format!("DOC{n:04}.{}", extension(&f.file_name)),
                title: format!("ECG — {}", f.file_name),
                mime: &f.media_type,
                bytes: &f.bytes,
                entry_uuid: derived_uuid(doc_id, &key),
                unique_id: uuid_oid(&derived_uuid(doc_id, &format!("{key}/unique"))),
                type_code: ("11524-6", "ECG"),
                format_code: (
                    "urn:ihe:iti:xds:2017:mimeTypeSufficient",
                    "Format de document suffisamment décrit par son type MIME",
                ),
            });
        }
    }
    if docs.len() > 9999 {
        return Err(LetterError::Invalid {
            field: "ecgs".into(),
            reason: "too many files for one XDM package".into(),
        });
    }

    let metadata = metadata(l, &docs);
    let readme = readme(l, &docs);
    let index = index(l, &docs);

    let local = l.time_zone.local(l.document.created_at);
    let mtime = zip::DateTime::from_date_and_time(
        local.year().clamp(1980, 2107) as u16,
        local.month() as u8,
        local.day() as u8,
        local.hour() as u8,
        local.minute() as u8,
        local.second() as u8,
    )
    .unwrap_or_default();
    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(3))
        .last_modified_time(mtime);
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let z = |e: zip::result::ZipError| LetterError::Zip(e.to_string());
    let io = |e: std::io::Error| LetterError::Zip(e.to_string());
    let add = |zip: &mut zip::ZipWriter<std::io::Cursor<Vec<u8>>>,
               name: &str,
               bytes: &[u8]|
     -> Result<(), LetterError> {
        zip.start_file(name, options).map_err(z)?;
        zip.write_all(bytes).map_err(io)
    };
    add(&mut zip, "README.TXT", readme.as_bytes())?;
    add(&mut zip, "INDEX.HTM", index.as_bytes())?;
    add(
        &mut zip,
        "IHE_XDM/SUBSET01/METADATA.XML",
        metadata.as_bytes(),
    )?;
    for d in &docs {
        add(&mut zip, &format!("IHE_XDM/SUBSET01/{}", d.name), d.bytes)?;
    }
    Ok(zip.finish().map_err(z)?.into_inner())
}

/// An 8.3 extension from a file name: up to 3 ASCII alphanumerics, upper case; `BIN` if none.
fn extension(name: &str) -> String {
    let ext: String = name
        .rsplit_once('.')
        .map(|(_, e)| e)
        .unwrap_or("")
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(3)
        .collect::<String>()
        .to_ascii_uppercase();
    if ext.is_empty() {
        "BIN".into()
    } else {
        ext
    }
}

fn slot(name: &str, values: &[String]) -> String {
    let mut s = format!("<rim:Slot name=\"{}\"><rim:ValueList>", esc(name));
    for v in values {
        s.push_str(&format!("<rim:Value>{}</rim:Value>", esc(v)));
    }
    s.push_str("</rim:ValueList></rim:Slot>");
    s
}

fn name_el(tag: &str, value: &str) -> String {
    format!("<rim:{tag}><rim:LocalizedString xml:lang=\"fr-FR\" charset=\"UTF-8\" value=\"{}\"/></rim:{tag}>", esc(value))
}

fn classification(
    id: &str,
    scheme: &str,
    object: &str,
    code: &str,
    system: &str,
    display: &str,
) -> String {
    format!(
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{object}\" nodeRepresentation=\"{}\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification\">{}{}</rim:Classification>",
        esc(code),
        slot("codingScheme", &[system.to_string()]),
        name_el("Name", display)
    )
}

fn external_id(id: &str, scheme: &str, object: &str, value: &str, label: &str) -> String {
    format!(
        "<rim:ExternalIdentifier id=\"{id}\" identificationScheme=\"{scheme}\" registryObject=\"{object}\" value=\"{}\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:ExternalIdentifier\">{}</rim:ExternalIdentifier>",
        esc(value),
        name_el("Name", label)
    )
}

/// HL7 v2 escaping of the component separators used in XCN/XON values.
fn v2(s: &str) -> String {
    s.replace('\\', "\\E\\")
        .replace('^', "\\S\\")
        .replace('&', "\\T\\")
        .replace('|', "\\F\\")
        .replace('~', "\\R\\")
}

/// The XDS patient id (CX): INS when qualified, else the local id.
pub(crate) fn patient_cx(l: &Letter) -> String {
    match l.patient.exchange_ins() {
        Some(ins) => format!("{}^^^&{OID_INS_NIR}&ISO^NH", ins.nir),
        None => format!(
            "{}^^^&{}&ISO^PI",
            v2(&l.patient.local_id),
            patient_id_root(l)
        ),
    }
}

/// PID-5: the birth name (type L), then the used name (type D) when it differs.
fn pid5(p: &crate::model::Patient) -> String {
    let given = v2(&p.name.given);
    let used = v2(&p.name.family.to_uppercase());
    match p
        .birth_family
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        Some(b) if !b.eq_ignore_ascii_case(p.name.family.trim()) => {
            format!(
                "PID-5|{}^{given}^^^^^L~{used}^{given}^^^^^D",
                v2(&b.to_uppercase())
            )
        }
        _ => format!("PID-5|{used}^{given}^^^^^L"),
    }
}

fn author_xcn(l: &Letter) -> String {
    let d = &l.author;
    format!(
        "8{}^{}^{}^^^DR^^^&{OID_RPPS}&ISO^D^^^IDNPS",
        d.rpps,
        v2(&d.name.family.to_uppercase()),
        v2(&d.name.given)
    )
}

fn institution_xon(l: &Letter) -> String {
    let a = &l.association;
    match &a.structure_id {
        Some(id) => format!(
            "{}^^^^^&{OID_STRUCTURE}&ISO^IDNST^^^{}",
            v2(&a.name),
            id.id_nat()
        ),
        None => v2(&a.name),
    }
}

fn author_block(id: &str, scheme: &str, object: &str, l: &Letter) -> String {
    format!(
        "<rim:Classification id=\"{id}\" classificationScheme=\"{scheme}\" classifiedObject=\"{object}\" nodeRepresentation=\"\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification\">{}{}{}{}{}</rim:Classification>",
        slot("authorPerson", &[author_xcn(l)]),
        slot("authorInstitution", &[institution_xon(l)]),
        slot("authorRole", &["Médecin".to_string()]),
        slot("authorSpecialty", &["G15_10^Médecin^1.2.250.1.213.1.1.4.5".to_string()]),
        slot("authorTelecommunication", &[format!("^^Internet^{}", l.author.mssante)]),
    )
}

fn metadata(l: &Letter, docs: &[Doc]) -> String {
    let doc_id = &l.document.id;
    let ss = format!("urn:uuid:{}", derived_uuid(doc_id, "xdm/submission-set"));
    let pid = patient_cx(l);
    let p = &l.patient;
    let mut pinfo = vec![
        format!("PID-3|{pid}"),
        pid5(p),
        format!("PID-7|{}", p.birth_date.format("%Y%m%d")),
        format!(
            "PID-8|{}",
            match p.sex {
                Sex::Female => "F",
                Sex::Male => "M",
                Sex::Unknown => "U",
            }
        ),
    ];
    if let Some(a) = &p.address {
        pinfo.push(format!(
            "PID-11|{}^^{}^^{}^FRA",
            v2(&a.lines.join(", ")),
            v2(&a.city),
            v2(&a.postal_code)
        ));
    }
    let created = xds_ts(l.document.created_at);
    let mut x = String::new();
    x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    x.push_str("<lcm:SubmitObjectsRequest xmlns:lcm=\"urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0\" xmlns:rim=\"urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0\" xmlns:rs=\"urn:oasis:names:tc:ebxml-regrep:xsd:rs:3.0\">\n");
    x.push_str("<rim:RegistryObjectList>\n");
    for (k, d) in docs.iter().enumerate() {
        let eid = format!("urn:uuid:{}", d.entry_uuid);
        let cid = |n: &str| format!("urn:uuid:{}", derived_uuid(&d.entry_uuid, n));
        x.push_str(&format!(
            "<rim:ExtrinsicObject id=\"{eid}\" mimeType=\"{}\" objectType=\"{}\" status=\"urn:oasis:names:tc:ebxml-regrep:StatusType:Approved\">\n",
            esc(d.mime),
            scheme::DOC_ENTRY
        ));
        x.push_str(&slot("creationTime", std::slice::from_ref(&created)));
        x.push_str(&slot("hash", &[sha1_hex(d.bytes)]));
        x.push_str(&slot("size", &[d.bytes.len().to_string()]));
        x.push_str(&slot("languageCode", &["fr-FR".into()]));
        x.push_str(&slot("serviceStartTime", &[xds_ts(l.visit.start)]));
        if let Some(e) = l.visit.end {
            x.push_str(&slot("serviceStopTime", &[xds_ts(e)]));
        }
        x.push_str(&slot("sourcePatientId", std::slice::from_ref(&pid)));
        x.push_str(&slot("sourcePatientInfo", &pinfo));
        x.push_str(&slot("URI", std::slice::from_ref(&d.name)));
        x.push_str(&slot("legalAuthenticator", &[author_xcn(l)]));
        x.push('\n');
        x.push_str(&name_el("Name", &d.title));
        x.push('\n');
        x.push_str(&author_block(&cid("author"), scheme::DE_AUTHOR, &eid, l));
        x.push_str(&classification(
            &cid("class"),
            scheme::DE_CLASS,
            &eid,
            "10",
            "1.2.250.1.213.1.1.4.1",
            "Compte rendu",
        ));
        x.push_str(&classification(
            &cid("conf"),
            scheme::DE_CONFIDENTIALITY,
            &eid,
            "N",
            "2.16.840.1.113883.5.25",
            "Normal",
        ));
        x.push_str(&classification(
            &cid("format"),
            scheme::DE_FORMAT,
            &eid,
            d.format_code.0,
            "1.3.6.1.4.1.19376.1.2.3",
            d.format_code.1,
        ));
        x.push_str(&classification(
            &cid("facility"),
            scheme::DE_FACILITY,
            &eid,
            "SA08",
            "1.2.250.1.71.4.2.4",
            "Cabinet de groupe",
        ));
        x.push_str(&classification(
            &cid("practice"),
            scheme::DE_PRACTICE,
            &eid,
            "AMBULATOIRE",
            "1.2.250.1.213.1.1.4.9",
            "Ambulatoire",
        ));
        x.push_str(&classification(
            &cid("type"),
            scheme::DE_TYPE,
            &eid,
            d.type_code.0,
            "2.16.840.1.113883.6.1",
            d.type_code.1,
        ));
        x.push('\n');
        x.push_str(&external_id(
            &cid("patientId"),
            scheme::DE_PATIENT_ID,
            &eid,
            &pid,
            "XDSDocumentEntry.patientId",
        ));
        x.push_str(&external_id(
            &cid("uniqueId"),
            scheme::DE_UNIQUE_ID,
            &eid,
            &d.unique_id,
            "XDSDocumentEntry.uniqueId",
        ));
        x.push_str("\n</rim:ExtrinsicObject>\n");
        let _ = k;
    }

    // The submission set.
    let sid = |n: &str| {
        format!(
            "urn:uuid:{}",
            derived_uuid(doc_id, &format!("xdm/submission-set/{n}"))
        )
    };
    x.push_str(&format!("<rim:RegistryPackage id=\"{ss}\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:RegistryPackage\" status=\"urn:oasis:names:tc:ebxml-regrep:StatusType:Approved\">\n"));
    x.push_str(&slot("submissionTime", std::slice::from_ref(&created)));
    let r = &l.recipient;
    let rec_xcn = match &r.rpps {
        Some(rp) => format!(
            "8{rp}^{}^{}^^^DR^^^&{OID_RPPS}&ISO^D^^^IDNPS",
            v2(&r.name.family.to_uppercase()),
            v2(&r.name.given)
        ),
        None => format!(
            "^{}^{}^^^DR",
            v2(&r.name.family.to_uppercase()),
            v2(&r.name.given)
        ),
    };
    x.push_str(&slot(
        "intendedRecipient",
        &[format!("|{rec_xcn}|^^Internet^{}", r.mssante)],
    ));
    x.push('\n');
    x.push_str(&name_el(
        "Name",
        "Lettre au médecin traitant après visite à domicile",
    ));
    x.push_str(&author_block(&sid("author"), scheme::SS_AUTHOR, &ss, l));
    x.push_str(&classification(
        &sid("contentType"),
        scheme::SS_CONTENT_TYPE,
        &ss,
        "11488-4",
        "2.16.840.1.113883.6.1",
        "Note de consultation",
    ));
    let source_oid = match &l.association.oid_root {
        Some(o) => o.clone(),
        None => patient_id_root(l),
    };
    x.push_str(&external_id(
        &sid("uniqueId"),
        scheme::SS_UNIQUE_ID,
        &ss,
        &uuid_oid(&derived_uuid(doc_id, "xdm/submission-set/unique")),
        "XDSSubmissionSet.uniqueId",
    ));
    x.push_str(&external_id(
        &sid("sourceId"),
        scheme::SS_SOURCE_ID,
        &ss,
        &source_oid,
        "XDSSubmissionSet.sourceId",
    ));
    x.push_str(&external_id(
        &sid("patientId"),
        scheme::SS_PATIENT_ID,
        &ss,
        &pid,
        "XDSSubmissionSet.patientId",
    ));
    x.push_str("\n</rim:RegistryPackage>\n");
    x.push_str(&format!("<rim:Classification id=\"{}\" classifiedObject=\"{ss}\" classificationNode=\"{}\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Classification\"/>\n", sid("node"), scheme::SS_NODE));
    for d in docs {
        x.push_str(&format!(
            "<rim:Association id=\"urn:uuid:{}\" associationType=\"urn:oasis:names:tc:ebxml-regrep:AssociationType:HasMember\" sourceObject=\"{ss}\" targetObject=\"urn:uuid:{}\" objectType=\"urn:oasis:names:tc:ebxml-regrep:ObjectType:RegistryObject:Association\">{}</rim:Association>\n",
            derived_uuid(&d.entry_uuid, "association"),
            d.entry_uuid,
            slot("SubmissionSetStatus", &["Original".into()])
        ));
    }
    x.push_str("</rim:RegistryObjectList>\n</lcm:SubmitObjectsRequest>\n");
    x
}

fn readme(l: &Letter, docs: &[Doc]) -> String {
    let at = l.time_zone.local(l.document.created_at);
    let mut s = format!(
        "IHE XDM - {}\r\n\r\nEmetteur : Dr {} (RPPS {}), {}\r\nDestinataire : Dr {} <{}>\r\nCree le {} par Chevet.\r\n\r\n\
         Ce paquet IHE XDM contient un lot de soumission (IHE_XDM/SUBSET01) : la lettre au medecin traitant \
         au format CDA R2 niveau 1 (corps PDF) et les fichiers ECG d'origine. Ouvrir INDEX.HTM pour la liste.\r\n\r\n",
        l.association.name,
        l.author.name.full(),
        l.author.rpps,
        l.association.name,
        l.recipient.name.full(),
        l.recipient.mssante,
        at.format("%d/%m/%Y %H:%M"),
    );
    for d in docs {
        s.push_str(&format!(
            "IHE_XDM/SUBSET01/{} : {} ({}, {} octets)\r\n",
            d.name,
            d.title,
            d.mime,
            d.bytes.len()
        ));
    }
    s
}

fn index(l: &Letter, docs: &[Doc]) -> String {
    let mut s = String::from("<!DOCTYPE html>\n<html lang=\"fr\"><head><meta charset=\"utf-8\"><title>IHE XDM</title></head><body>\n");
    s.push_str(&format!("<h1>{}</h1>\n", esc(&l.association.name)));
    s.push_str(&format!(
        "<p>Lettre du Dr {} au Dr {} concernant {}.</p>\n<ul>\n",
        esc(&l.author.name.full()),
        esc(&l.recipient.name.full()),
        esc(&l.patient.name.full())
    ));
    s.push_str("<li><a href=\"IHE_XDM/SUBSET01/METADATA.XML\">Métadonnées du lot de soumission (METADATA.XML)</a></li>\n");
    for d in docs {
        s.push_str(&format!(
            "<li><a href=\"IHE_XDM/SUBSET01/{0}\">{1}</a> ({0}, {2})</li>\n",
            d.name,
            esc(&d.title),
            esc(d.mime)
        ));
    }
    s.push_str("</ul>\n<p><a href=\"README.TXT\">README.TXT</a></p>\n</body></html>\n");
    s
}
