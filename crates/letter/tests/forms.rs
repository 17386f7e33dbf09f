//! The four forms of the sample letter, checked with independent tools: the FHIR Bundle with
//! Python `fhir.resources` (R4), the CDA with `xmllint` against the ANS CI-SIS schema, the XDM
//! package by reading it back, the PDF with poppler's `pdftotext` and `pdfinfo`.
//!
//! A missing tool fails the test (CI installs them with scripts/setup): nothing is skipped.

mod common;

use std::io::Read as _;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

use base64::Engine as _;
use chevet_letter::{Forms, Letter, LetterError, OID_INS_NIR, OID_RPPS};
use sha1::{Digest, Sha1};

const CDA_XSD: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/interop/schemas/ans-cisis-cda/infrastructure/cda/CDA_extended.xsd"
);
const SAMPLE_XDM: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../../shared/data/interop/xdm/samplexdm.zip"
);

/// The sample letter with the PTB 12-lead ECG and a device PDF, and its forms (made once).
fn sample() -> &'static (Letter, Forms) {
    static S: OnceLock<(Letter, Forms)> = OnceLock::new();
    S.get_or_init(|| {
        let letter = Letter::sample(vec![common::ptb_attachment(), common::pdf_attachment()]);
        let forms = chevet_letter::all(&letter).expect("forms of the sample letter");
        (letter, forms)
    })
}

/// Runs a tool, failing loudly when it is not installed.
fn run(program: &str, args: &[&str]) -> std::process::Output {
    match Command::new(program).args(args).output() {
        Ok(o) => o,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            panic!("`{program}` is not installed: run scripts/setup (libxml2-utils, poppler-utils)")
        }
        Err(e) => panic!("cannot run {program}: {e}"),
    }
}

fn write_temp(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> PathBuf {
    let p = dir.path().join(name);
    std::fs::write(&p, bytes).unwrap();
    p
}

/// The Python of the virtualenv scripts/setup makes for `fhir.resources` (R4).
fn fhir_python() -> PathBuf {
    let p = std::env::var_os("CHEVET_FHIR_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME"))
                .join(".cache/chevet/fhir-r4-venv/bin/python3")
        });
    assert!(
        p.exists(),
        "{} is missing: run scripts/setup (it installs fhir.resources==6.4.0, FHIR R4, in that virtualenv)",
        p.display()
    );
    p
}

fn validate_fhir(json: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "bundle.json", json.as_bytes());
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/validate_fhir.py");
    let out = Command::new(fhir_python())
        .arg(script)
        .arg(&file)
        .output()
        .expect("run validate_fhir.py");
    assert!(
        out.status.success(),
        "the FHIR Bundle does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

#[test]
fn fhir_bundle_validates_with_fhir_resources_r4() {
    let (letter, forms) = sample();
    validate_fhir(&forms.fhir_json);

    let b: serde_json::Value = serde_json::from_str(&forms.fhir_json).unwrap();
    let entries = b["entry"].as_array().unwrap();
    let of = |t: &str| {
        entries
            .iter()
            .map(|e| &e["resource"])
            .filter(|r| r["resourceType"] == t)
            .collect::<Vec<_>>()
    };
    let patient = of("Patient")[0];
    assert_eq!(
        patient["identifier"][0]["system"],
        format!("urn:oid:{OID_INS_NIR}")
    );
    assert_eq!(
        patient["identifier"][0]["value"],
        letter.patient.ins.as_ref().unwrap().nir
    );
    let author = of("Practitioner")[0];
    assert_eq!(
        author["identifier"][0]["system"],
        format!("urn:oid:{OID_RPPS}")
    );
    assert_eq!(
        author["identifier"][0]["value"],
        format!("8{}", letter.author.rpps)
    );
    assert_eq!(author["telecom"][0]["value"], letter.author.mssante);
    assert_eq!(of("Encounter")[0]["class"]["code"], "HH");
    let ecg = of("Observation")
        .into_iter()
        .find(|o| o["code"]["coding"][0]["code"] == "11524-6")
        .unwrap();
    assert_eq!(ecg["component"][0]["valueQuantity"]["code"], "/min");
    assert!(ecg["valueString"]
        .as_str()
        .unwrap()
        .contains("repolarisation"));
    let conditions = of("Condition");
    assert_eq!(conditions.len(), 2);
    assert_eq!(
        conditions[0]["code"]["coding"][0]["system"],
        "http://hl7.org/fhir/sid/icd-10"
    );
    assert_eq!(conditions[0]["code"]["coding"][0]["code"], "I24.9");
    // The letter PDF and the 2 ECG attachments, inline.
    let docs = of("DocumentReference");
    assert_eq!(docs.len(), 3);
    let pdf_doc = docs
        .iter()
        .find(|d| {
            d["content"][0]["attachment"]["contentType"] == "application/pdf"
                && d["type"]["coding"][0]["code"] == "11488-4"
        })
        .unwrap();
    let data = base64::engine::general_purpose::STANDARD
        .decode(
            pdf_doc["content"][0]["attachment"]["data"]
                .as_str()
                .unwrap(),
        )
        .unwrap();
    assert_eq!(data, forms.pdf);
    let comp = &entries[0]["resource"];
    assert_eq!(comp["attester"][0]["mode"], "legal");
    assert!(comp["section"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s["title"] == "Diagnostic"));
}

#[test]
fn fhir_without_qualified_ins_uses_the_local_id_and_still_validates() {
    let mut letter = Letter::sample(vec![]);
    letter.patient.ins.as_mut().unwrap().qualified = false;
    letter.drafted_by = None;
    let pdf = chevet_letter::pdf(&letter).unwrap();
    let json = chevet_letter::fhir_json(&letter, &pdf).unwrap();
    validate_fhir(&json);
    assert!(!json.contains(OID_INS_NIR));
    let cda = chevet_letter::cda(&letter, &pdf).unwrap();
    assert!(!cda.contains(OID_INS_NIR));
    assert!(cda.contains("SOS38-P-004217"));
}

#[test]
fn cda_validates_against_the_ans_schema() {
    let (letter, forms) = sample();
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "cda.xml", forms.cda_xml.as_bytes());
    let out = run(
        "xmllint",
        &["--noout", "--schema", CDA_XSD, file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "xmllint rejects the CDA:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let doc = roxmltree::Document::parse(&forms.cda_xml).unwrap();
    let root = doc.root_element();
    assert_eq!(
        child(root, "realmCode").unwrap().attribute("code"),
        Some("FR")
    );
    let code = child(root, "code").unwrap();
    assert_eq!(code.attribute("code"), Some(chevet_letter::cda_code().code));
    assert_eq!(code.attribute("codeSystem"), Some("2.16.840.1.113883.6.1"));
    assert_eq!(
        child(root, "languageCode").unwrap().attribute("code"),
        Some("fr-FR")
    );
    let role = child(child(root, "recordTarget").unwrap(), "patientRole").unwrap();
    let ins = child(role, "id").unwrap();
    assert_eq!(ins.attribute("root"), Some(OID_INS_NIR));
    assert_eq!(
        ins.attribute("extension"),
        Some(letter.patient.ins.as_ref().unwrap().nir.as_str())
    );
    let author_id = child(
        child(child(root, "author").unwrap(), "assignedAuthor").unwrap(),
        "id",
    )
    .unwrap();
    assert_eq!(author_id.attribute("root"), Some(OID_RPPS));
    assert_eq!(
        author_id.attribute("extension"),
        Some(format!("8{}", letter.author.rpps).as_str())
    );
    assert!(child(root, "informationRecipient").is_some());
    assert!(child(root, "legalAuthenticator").is_some());
    assert!(
        child(root, "dataEnterer").is_some(),
        "the assistant who drafted the letter"
    );
    let body = child(child(root, "component").unwrap(), "nonXMLBody").unwrap();
    let text = child(body, "text").unwrap();
    assert_eq!(text.attribute("mediaType"), Some("application/pdf"));
    assert_eq!(text.attribute("representation"), Some("B64"));
    let pdf = base64::engine::general_purpose::STANDARD
        .decode(text.text().unwrap().trim())
        .unwrap();
    assert_eq!(pdf, forms.pdf);
}

#[test]
fn xdm_package_has_the_files_and_metadata_that_match_them() {
    let (_, forms) = sample();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(&forms.xdm_zip)).unwrap();
    let names: Vec<String> = zip.file_names().map(str::to_string).collect();
    for n in [
        "README.TXT",
        "INDEX.HTM",
        "IHE_XDM/SUBSET01/METADATA.XML",
        "IHE_XDM/SUBSET01/DOC0001.XML",
        "IHE_XDM/SUBSET01/DOC0002.HEA",
        "IHE_XDM/SUBSET01/DOC0003.DAT",
        "IHE_XDM/SUBSET01/DOC0004.PDF",
    ] {
        assert!(names.iter().any(|x| x == n), "{n} missing from {names:?}");
    }
    assert_eq!(names.len(), 7, "{names:?}");
    let mut read = |name: &str| {
        let mut f = zip.by_name(name).unwrap();
        assert_eq!(f.compression(), zip::CompressionMethod::Deflated);
        let mut v = Vec::new();
        f.read_to_end(&mut v).unwrap();
        v
    };
    let metadata = String::from_utf8(read("IHE_XDM/SUBSET01/METADATA.XML")).unwrap();
    assert_eq!(
        read("IHE_XDM/SUBSET01/DOC0001.XML"),
        forms.cda_xml.as_bytes()
    );
    assert!(String::from_utf8(read("INDEX.HTM"))
        .unwrap()
        .contains("DOC0001.XML"));
    assert!(!read("README.TXT").is_empty());

    let doc = roxmltree::Document::parse(&metadata).expect("METADATA.XML is well-formed");
    let rim = "urn:oasis:names:tc:ebxml-regrep:xsd:rim:3.0";
    assert!(doc.root_element().has_tag_name((
        "urn:oasis:names:tc:ebxml-regrep:xsd:lcm:3.0",
        "SubmitObjectsRequest"
    )));
    let slot = |n: roxmltree::Node<'_, '_>, name: &str| -> Option<String> {
        n.children()
            .find(|c| c.has_tag_name((rim, "Slot")) && c.attribute("name") == Some(name))
            .and_then(|s| s.descendants().find(|v| v.has_tag_name((rim, "Value"))))
            .and_then(|v| v.text())
            .map(str::to_string)
    };
    let entries: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((rim, "ExtrinsicObject")))
        .collect();
    assert_eq!(entries.len(), 4);
    for e in &entries {
        let uri = slot(*e, "URI").unwrap();
        let bytes = read(&format!("IHE_XDM/SUBSET01/{uri}"));
        assert_eq!(slot(*e, "size").unwrap(), bytes.len().to_string(), "{uri}");
        let sha: String = Sha1::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(slot(*e, "hash").unwrap(), sha, "{uri}");
        assert!(slot(*e, "sourcePatientId")
            .unwrap()
            .ends_with("^^^&1.2.250.1.213.1.4.8&ISO^NH"));
        assert!(slot(*e, "creationTime").unwrap().len() == 14);
        let schemes: Vec<&str> = e
            .children()
            .filter_map(|c| c.attribute("classificationScheme"))
            .collect();
        assert_eq!(schemes.len(), 7, "author + 6 codes");
        assert!(e.children().any(|c| c.attribute("identificationScheme")
            == Some("urn:uuid:2e82c1f6-a085-4c72-9da3-8640a32e42ab")));
    }
    let package = doc
        .descendants()
        .find(|n| n.has_tag_name((rim, "RegistryPackage")))
        .unwrap();
    let ss = package.attribute("id").unwrap();
    let members: Vec<_> = doc
        .descendants()
        .filter(|n| n.has_tag_name((rim, "Association")) && n.attribute("sourceObject") == Some(ss))
        .filter_map(|n| n.attribute("targetObject"))
        .collect();
    for e in &entries {
        assert!(members.contains(&e.attribute("id").unwrap()));
    }

    // The same layout as the reference XDM package (names compared case-insensitively).
    let mut reference = zip::ZipArchive::new(std::fs::File::open(SAMPLE_XDM).unwrap()).unwrap();
    let ref_names: Vec<String> = reference
        .file_names()
        .map(|n| n.to_ascii_uppercase())
        .collect();
    for n in ["README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"] {
        assert!(
            ref_names.iter().any(|r| r.ends_with(n)),
            "the reference package has no {n}: {ref_names:?}"
        );
    }
    let mut ref_meta = String::new();
    reference
        .by_name("samplexdm/IHE_XDM/SUBSET01/METADATA.xml")
        .unwrap()
        .read_to_string(&mut ref_meta)
        .unwrap();
    assert!(ref_meta.contains("SubmitObjectsRequest") && ref_meta.contains("HasMember"));
}

fn child<'a, 'i>(n: roxmltree::Node<'a, 'i>, name: &str) -> Option<roxmltree::Node<'a, 'i>> {
    n.children()
        .find(|c| c.has_tag_name(("urn:hl7-org:v3", name)))
}

fn pdf_text(pdf: &[u8]) -> (String, u32) {
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "letter.pdf", pdf);
    let text = run("pdftotext", &["-enc", "UTF-8", file.to_str().unwrap(), "-"]);
    assert!(
        text.status.success(),
        "pdftotext: {}",
        String::from_utf8_lossy(&text.stderr)
    );
    (String::from_utf8(text.stdout).unwrap(), pdf_pages(pdf))
}

fn pdf_pages(pdf: &[u8]) -> u32 {
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "f.pdf", pdf);
    let info = run("pdfinfo", &[file.to_str().unwrap()]);
    assert!(
        info.status.success(),
        "pdfinfo: {}",
        String::from_utf8_lossy(&info.stderr)
    );
    String::from_utf8_lossy(&info.stdout)
        .lines()
        .find_map(|l| l.strip_prefix("Pages:").map(|n| n.trim().parse().unwrap()))
        .expect("Pages: in pdfinfo output")
}

#[test]
fn pdf_has_the_letter_then_the_ecg_pages() {
    let (letter, forms) = sample();
    assert!(forms.pdf.starts_with(b"%PDF-"));
    let (text, pages) = pdf_text(&forms.pdf);
    for needle in [
        "Lefèvre-Dupré",
        "LEFÈVRE-DUPRÉ",
        "Cher Confrère",
        "I24.9",
        "10101234567",
        "Rédigé par Inès Moreau pour le Dr Camille Rousseau, validé par le Dr Camille Rousseau",
        "Docteur Jean Martin",
        "jean.martin@medecin.mssante.fr",
        "Électrocardiogramme",
        "ECG_appareil.pdf",
        "Page 1/1",
    ] {
        assert!(
            text.contains(needle),
            "{needle:?} not in the PDF text:\n{text}"
        );
    }

    // One letter page, then the pages chevet-ecg draws for the one signal (the device PDF adds none).
    let alone = chevet_letter::pdf(&Letter::sample(vec![])).unwrap();
    assert_eq!(pdf_pages(&alone), 1, "the sample letter fits on one page");
    let ecg = letter.ecgs[0].signal.as_ref().unwrap();
    let ecg_pdf = chevet_ecg::render::pdf::pdf(ecg, &Default::default(), &Default::default());
    let ecg_pages = pdf_pages(&ecg_pdf);
    assert!(
        ecg_pages >= 1,
        "chevet-ecg draws at least one page for a 10 s 12-lead ECG"
    );
    assert_eq!(pages, 1 + ecg_pages);
}

#[test]
fn forms_are_deterministic() {
    let letter = common::sample_with_ecg();
    let a = chevet_letter::all(&letter).unwrap();
    let b = chevet_letter::all(&letter).unwrap();
    assert_eq!(a.fhir_json, b.fhir_json);
    assert_eq!(a.cda_xml, b.cda_xml);
    assert_eq!(a.xdm_zip, b.xdm_zip);
}

#[test]
fn bad_letters_are_errors_not_panics() {
    let mut l = Letter::sample(vec![]);
    l.author.rpps = "123".into();
    assert!(matches!(
        chevet_letter::pdf(&l),
        Err(LetterError::Invalid { .. })
    ));
    let mut l = Letter::sample(vec![]);
    l.document.id = "x".into();
    assert!(chevet_letter::all(&l).is_err());
    let mut l = Letter::sample(vec![common::pdf_attachment()]);
    l.ecgs[0].files.clear();
    assert!(chevet_letter::cda(&l, b"%PDF-").is_err());

    // A bare letter: every optional part empty, odd characters in free text.
    let mut l = Letter::sample(vec![]);
    l.drafted_by = None;
    l.patient.ins = None;
    l.patient.address = None;
    l.patient.birth_family = None;
    l.patient.sex = chevet_letter::Sex::Unknown;
    l.recipient.rpps = None;
    l.recipient.address = None;
    l.association.structure_id = None;
    l.association.phone = None;
    l.association.oid_root = Some("1.2.250.1.999.1".into());
    l.visit.end = None;
    l.visit.called_by = None;
    l.observations = chevet_letter::Observations {
        motive: "Malaise <b> & \"chute\"\u{1} ".repeat(40) + &"x".repeat(500),
        prescriptions: vec!["Paracétamol 1 g si douleur".into(), String::new()],
        orientation: chevet_letter::Orientation::Hospital {
            facility: "Urgences du CHU".into(),
            transport: None,
        },
        ..Default::default()
    };
    l.ecgs.push(chevet_letter::EcgAttachment {
        signal: Some(chevet_ecg::Ecg {
            format: chevet_ecg::Format::Scp,
            sampling_hz: 500.0,
            leads: vec![],
            acquired_at: None,
            device: None,
            subject: None,
        }),
        files: vec![chevet_letter::OriginalFile {
            file_name: "noext".into(),
            media_type: "application/octet-stream".into(),
            bytes: vec![],
        }],
        heart_rate_bpm: Some(f32::NAN),
    });
    let forms = chevet_letter::all(&l).unwrap();
    validate_fhir(&forms.fhir_json);
    let dir = tempfile::tempdir().unwrap();
    let file = write_temp(&dir, "cda.xml", forms.cda_xml.as_bytes());
    let out = run(
        "xmllint",
        &["--noout", "--schema", CDA_XSD, file.to_str().unwrap()],
    );
    assert!(
        out.status.success(),
        "xmllint rejects the bare CDA:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (text, _) = pdf_text(&forms.pdf);
    assert!(text.contains("Paracétamol 1 g si douleur"));
}
