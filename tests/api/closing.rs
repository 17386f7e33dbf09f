//! Closing a visit: the report drafted by an assistant and validated by the doctor, ECGs of every
//! format uploaded and drawn, the directories the report draws on.

use reqwest::Method;
use serde_json::{json, Value};

use crate::helpers::{spawn_app, Engine, TestApp};
use crate::on_both_engines;

pub const ECG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/ecg");

/// Every ECG test file, as (main file, companion files) relative to `ECG_DIR`.
pub const ECG_FILES: &[(&str, &[&str])] = &[
    ("wfdb/mitdb/100.hea", &["wfdb/mitdb/100.dat"]),
    (
        "wfdb/ptb/s0010_re.hea",
        &["wfdb/ptb/s0010_re.dat", "wfdb/ptb/s0010_re.xyz"],
    ),
    ("aecg/Example aECG.xml", &[]),
    ("scp/Example.scp", &[]),
    ("scp/62.SCP", &[]),
    ("dicom/waveform_ecg.dcm", &[]),
    ("other/0000050.ECG.edf", &[]),
    ("other/0000037.ECG", &[]),
];

/// A visit of `doctor` (the fixture's), on site; the association has its letterhead and
/// secure messaging mailbox.
pub async fn visit_on_site(app: &TestApp) -> i64 {
    set_letterhead(app, &app.login("admin").await).await;
    let desk = app.login("dispatcher").await;
    let id = app.assigned_visit(&desk, app.fx.doctor).await;
    let doc = app.login("doctor").await;
    app.post(&doc, &format!("/api/v1/visits/{id}/on-site"), json!({}))
        .await
        .ok(200);
    id
}

/// The association's letterhead and secure messaging mailbox, set by `admin`.
pub async fn set_letterhead(app: &TestApp, admin: &str) {
    app.put(
        admin,
        "/api/v1/association",
        json!({"name": "SOS Médecins Test", "address_line": "2 rue de la Gare", "postcode": "38000",
               "city": "Grenoble", "phone": "04 76 00 00 00", "mssante": "sos@test.mssante.fr"}),
    )
    .await
    .ok(200);
}

pub fn complete_observations() -> Value {
    json!({
        "motive": "Palpitations depuis 2 heures",
        "history": "HTA traitée, diabète de type 2",
        "examination": "Pouls irrégulier, auscultation pulmonaire normale",
        "vitals": {"systolic_mmhg": 145, "diastolic_mmhg": 85, "heart_rate_bpm": 112, "spo2_pct": 96, "temperature_c": 36.8},
        "ecg_interpretation": "Fibrillation atriale rapide, pas de trouble de la repolarisation",
        "diagnoses": [{"code": "I48.9", "label": "Fibrillation et flutter auriculaires, sans précision"}],
        "treatment": "Bisoprolol 2,5 mg per os",
        "prescriptions": ["Bisoprolol 2,5 mg : 1 cp le matin"],
        "orientation": {"kind": "home"},
        "advice": "Reconsulter en cas de douleur thoracique ou de malaise",
        "follow_up": "Consultation avec le médecin traitant sous 48 h, avis cardiologique"
    })
}

/// Uploads one recording (its main file and companions) as multipart parts named `file`.
pub async fn upload(
    app: &TestApp,
    token: &str,
    visit: i64,
    main: &str,
    companions: &[&str],
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new();
    for rel in std::iter::once(&main).chain(companions.iter()) {
        let path = std::path::Path::new(ECG_DIR).join(rel);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(bytes).file_name(name),
        );
    }
    app.client
        .post(app.url(&format!("/api/v1/visits/{visit}/ecgs")))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn an_assistant_drafts_and_the_doctor_validates(engine: Engine) {
    let app = spawn_app(engine).await;
    let id = visit_on_site(&app).await;
    let assistant = app.login("assistant").await;
    let doctor = app.login("doctor").await;
    let desk = app.login("dispatcher").await;
    let path = format!("/api/v1/visits/{id}/report");

    let empty = app.get(&doctor, &path).await.ok(200);
    assert_eq!(empty["status"], "empty");
    // The assistant drafts for the doctor who delegated to her.
    let draft = app
        .put(
            &assistant,
            &path,
            json!({"observations": {"motive": "Palpitations"}, "version": 0}),
        )
        .await
        .ok(200);
    assert_eq!(draft["status"], "draft");
    assert_eq!(draft["drafted_by"]["id"], app.fx.assistant);
    // A stale version does not overwrite.
    app.put(
        &doctor,
        &path,
        json!({"observations": {"motive": "autre"}, "version": 0}),
    )
    .await
    .error(409, "conflict");
    let draft = app
        .put(
            &assistant,
            &path,
            json!({"observations": complete_observations(), "version": 1}),
        )
        .await
        .ok(200);
    assert_eq!(draft["version"], 2);

    // Medical content is not for the call centre, nor may the assistant validate.
    app.get(&desk, &path).await.error(403, "forbidden");
    app.put(&desk, &path, json!({"observations": {}, "version": 2}))
        .await
        .error(403, "forbidden");
    app.post(
        &assistant,
        &format!("{path}/validate"),
        json!({"version": 2}),
    )
    .await
    .error(403, "forbidden");

    let done = app
        .post(
            &doctor,
            &format!("{path}/validate"),
            json!({"version": 2, "treating_physician": {"name": "Dr Jean Martin", "rpps": "10101010105", "mssante": "jean.martin@medecin.mssante.fr"}}),
        )
        .await
        .ok(200);
    assert_eq!(done["report"]["status"], "validated");
    assert_eq!(done["report"]["validated_by"]["id"], app.fx.doctor);
    assert_eq!(done["report"]["drafted_by"]["id"], app.fx.assistant);
    assert_eq!(done["visit"]["status"], "closed");
    assert_eq!(done["letter"]["status"], "queued");
    assert_eq!(
        done["letter"]["recipient_mssante"],
        "jean.martin@medecin.mssante.fr"
    );

    // The letter shows both: drafted by the assistant, validated by the doctor.
    let pdf = app
        .client
        .get(app.url(&format!("/api/v1/visits/{id}/letter/pdf")))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), 200);
    assert_eq!(pdf.headers()["content-type"], "application/pdf");
    let bytes = pdf.bytes().await.unwrap();
    assert!(bytes.starts_with(b"%PDF-"));

    // The treating physician is remembered for the patient.
    let patient = app
        .get(&desk, &format!("/api/v1/patients/{}", app.fx.patient_home))
        .await
        .ok(200);
    assert_eq!(
        patient["treating_physician"]["mssante"],
        "jean.martin@medecin.mssante.fr"
    );

    // A validated report no longer changes.
    app.put(
        &doctor,
        &path,
        json!({"observations": complete_observations(), "version": 3}),
    )
    .await
    .error(409, "conflict");
    let actions = app.audit_actions("visit", id).await;
    for a in ["report.save", "visit.close", "report.validate"] {
        assert!(
            actions.contains(&a.to_owned()),
            "{a} missing from {actions:?}"
        );
    }
    app.stop().await;
}

async fn an_incomplete_or_invalid_report_says_which_field(engine: Engine) {
    let app = spawn_app(engine).await;
    let id = visit_on_site(&app).await;
    let doctor = app.login("doctor").await;
    let path = format!("/api/v1/visits/{id}/report");
    let e = app
        .put(
            &doctor,
            &path,
            json!({"observations": {"vitals": {"spo2_pct": 140}}, "version": 0}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "observations.vitals.spo2_pct");
    let e = app
        .put(&doctor, &path, json!({"observations": {"diagnoses": [{"code": "fièvre", "label": "x"}]}, "version": 0}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "observations.diagnoses[0].code");
    app.put(
        &doctor,
        &path,
        json!({"observations": {"motive": "Fièvre"}, "version": 0}),
    )
    .await
    .ok(200);
    let e = app
        .post(&doctor, &format!("{path}/validate"), json!({"version": 1}))
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "observations.examination");
    // Nothing was closed by the failed validation.
    let visit = app
        .get(&doctor, &format!("/api/v1/visits/{id}"))
        .await
        .ok(200);
    assert_eq!(visit["status"], "on_site");
    app.stop().await;
}

async fn without_a_secure_address_the_letter_is_held_until_given_one(engine: Engine) {
    let app = spawn_app(engine).await;
    let id = visit_on_site(&app).await;
    let doctor = app.login("doctor").await;
    let path = format!("/api/v1/visits/{id}/report");
    app.put(
        &doctor,
        &path,
        json!({"observations": complete_observations(), "version": 0}),
    )
    .await
    .ok(200);
    // The preview needs no treating physician: it is addressed to a placeholder.
    let preview = app
        .client
        .get(app.url(&format!("/api/v1/visits/{id}/letter/preview")))
        .bearer_auth(&doctor)
        .send()
        .await
        .unwrap();
    assert_eq!(preview.status(), 200);
    assert!(preview.bytes().await.unwrap().starts_with(b"%PDF-"));
    let done = app
        .post(&doctor, &format!("{path}/validate"), json!({"version": 1}))
        .await
        .ok(200);
    assert_eq!(done["letter"]["status"], "held");
    let letter = app
        .put(
            &doctor,
            &format!("/api/v1/visits/{id}/letter/recipient"),
            json!({"name": "Dr Anne Leroy", "mssante": "anne.leroy@medecin.mssante.fr"}),
        )
        .await
        .ok(200);
    assert_eq!(letter["status"], "queued");
    assert_eq!(letter["recipient_name"], "Dr Anne Leroy");
    app.stop().await;
}

async fn every_ecg_format_uploads_reads_and_draws(engine: Engine) {
    let app = spawn_app(engine).await;
    let id = visit_on_site(&app).await;
    let assistant = app.login("assistant").await;
    let doctor = app.login("doctor").await;
    for (main, companions) in ECG_FILES {
        let resp = upload(&app, &assistant, id, main, companions).await;
        let status = resp.status();
        let body: Value = resp.json().await.unwrap();
        assert_eq!(status, 201, "{main}: {body}");
        assert!(
            !body["leads"].as_array().unwrap().is_empty(),
            "{main}: {body}"
        );
        assert!(
            body["heart_rate_bpm"]
                .as_f64()
                .is_some_and(|h| (30.0..200.0).contains(&h)),
            "{main}: {body}"
        );
        assert_eq!(body["on_behalf_of"], app.fx.doctor);
        let ecg = body["id"].as_i64().unwrap();
        let svg = app
            .client
            .get(app.url(&format!("/api/v1/ecgs/{ecg}/svg")))
            .bearer_auth(&doctor)
            .send()
            .await
            .unwrap();
        assert_eq!(svg.status(), 200, "{main}");
        assert_eq!(svg.headers()["content-type"], "image/svg+xml");
        assert!(svg.text().await.unwrap().contains("<svg"));
        let original = app
            .client
            .get(app.url(&format!(
                "/api/v1/ecgs/{ecg}/files/{}",
                body["file_name"].as_str().unwrap()
            )))
            .bearer_auth(&doctor)
            .send()
            .await
            .unwrap();
        let expected = std::fs::read(std::path::Path::new(ECG_DIR).join(main)).unwrap();
        assert_eq!(
            original.bytes().await.unwrap().as_ref(),
            expected.as_slice(),
            "{main}"
        );
    }
    let list = app
        .get(&doctor, &format!("/api/v1/visits/{id}/ecgs"))
        .await
        .ok(200);
    assert_eq!(list.as_array().unwrap().len(), ECG_FILES.len());
    let wfdb = &list[0];
    assert_eq!(wfdb["format"], "wfdb");
    assert_eq!(wfdb["files"], json!(["100.dat", "100.hea"]));
    let detail = app
        .get(&doctor, &format!("/api/v1/ecgs/{}", wfdb["id"]))
        .await
        .ok(200);
    assert!(detail["beats"].as_array().unwrap().len() > 2200);
    // Not for the call centre.
    let desk = app.login("dispatcher").await;
    app.get(&desk, &format!("/api/v1/ecgs/{}", wfdb["id"]))
        .await
        .error(404, "not_found");
    app.stop().await;
}

async fn a_bad_ecg_file_is_refused_with_what_is_wrong(engine: Engine) {
    let app = spawn_app(engine).await;
    let id = visit_on_site(&app).await;
    let doctor = app.login("doctor").await;
    let send = |parts: Vec<(&'static str, Vec<u8>)>| {
        let mut form = reqwest::multipart::Form::new();
        for (name, bytes) in parts {
            form = form.part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name(name),
            );
        }
        app.client
            .post(app.url(&format!("/api/v1/visits/{id}/ecgs")))
            .bearer_auth(&doctor)
            .multipart(form)
            .send()
    };
    // A WFDB header without its signal file.
    let hea = std::fs::read(format!("{ECG_DIR}/wfdb/mitdb/100.hea")).unwrap();
    let resp = send(vec![("100.hea", hea.clone())]).await.unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("100.dat"),
        "{body}"
    );
    // A truncated SCP file.
    let scp = std::fs::read(format!("{ECG_DIR}/scp/Example.scp")).unwrap();
    let resp = send(vec![("cut.scp", scp[..scp.len() / 3].to_vec())])
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("this ECG cannot be read: scp"),
        "{body}"
    );
    // Not multipart at all.
    app.post(&doctor, &format!("/api/v1/visits/{id}/ecgs"), json!({}))
        .await
        .error(400, "not_multipart");
    // Nothing was kept.
    assert_eq!(
        app.get(&doctor, &format!("/api/v1/visits/{id}/ecgs"))
            .await
            .ok(200),
        json!([])
    );
    app.stop().await;
}

async fn practitioners_and_icd10_codes_are_searchable(engine: Engine) {
    let app = spawn_app(engine).await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/directories/PS_LibreAcces_Personne_activite_small.txt"
    );
    let done = chevet::directory::import_practitioners(
        &app.db,
        std::fs::File::open(file).unwrap(),
        "small.txt",
    )
    .await
    .unwrap();
    assert_eq!(done.rows_kept, 22);
    let mss =
        "Type de BAL|Adresse BAL|Type identifiant PP|Identifiant PP|Identification nationale PP|\n\
               PER|zakaria.benhouchame@medecin.mssante.fr|8|10106476764|810106476764|\n";
    chevet::directory::import_practitioners(&app.db, mss.as_bytes(), "mss.txt")
        .await
        .unwrap();
    let doctor = app.login("doctor").await;
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=benhou")
        .await
        .ok(200);
    assert_eq!(hits[0]["rpps"], "10106476764");
    assert_eq!(hits[0]["mssante"], "zakaria.benhouchame@medecin.mssante.fr");
    // Given name first, accents and case ignored; by commune.
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=anais%20lebrun")
        .await
        .ok(200);
    assert_eq!(hits[0]["family_name"], "LEBRUN-CARPENTIER");
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=lebrun&city=bourg")
        .await
        .ok(200);
    assert_eq!(hits.as_array().unwrap().len(), 1);
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=lebrun&city=belley")
        .await
        .ok(200);
    assert_eq!(hits, json!([]));
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=10106476764")
        .await
        .ok(200);
    assert_eq!(hits[0]["family_name"], "BENHOUCHAME");
    // A new RPPS extract keeps the MSSanté addresses.
    chevet::directory::import_practitioners(
        &app.db,
        std::fs::File::open(file).unwrap(),
        "small.txt",
    )
    .await
    .unwrap();
    let hits = app
        .get(&doctor, "/api/v1/practitioners?name=benhou")
        .await
        .ok(200);
    assert_eq!(hits[0]["mssante"], "zakaria.benhouchame@medecin.mssante.fr");
    app.get(&doctor, "/api/v1/practitioners?name=b")
        .await
        .error(422, "invalid_field");

    let codes = app
        .get(&doctor, "/api/v1/icd10?q=sonde%20urin")
        .await
        .ok(200);
    assert_eq!(codes[0]["code"], "T83.0");
    let codes = app.get(&doctor, "/api/v1/icd10?q=J18").await.ok(200);
    assert_eq!(codes[0]["code"], "J18.9");
    let codes = app
        .get(&doctor, "/api/v1/icd10?q=fibrillation%20auriculaire")
        .await
        .ok(200);
    assert_eq!(codes[0]["code"], "I48.9");
    let nurse = app.login("nurse").await;
    app.send(Method::GET, "/api/v1/icd10?q=x", Some(&nurse), None)
        .await
        .error(403, "forbidden");
    app.stop().await;
}

async fn the_ehpad_reads_its_residents_report_once_validated(engine: Engine) {
    let app = spawn_app(engine).await;
    visit_on_site(&app).await; // sets the association's letterhead
    let ehpad = app.login("ehpad").await;
    let other = app.login("ehpadother").await;
    let desk = app.login("dispatcher").await;
    let doctor = app.login("doctor").await;
    let id = app
        .post(
            &ehpad,
            "/api/v1/calls",
            json!({"patient_id": app.fx.resident, "motive": "désaturation 89 %", "urgency": 2}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/assign"),
        json!({"doctor_id": app.fx.doctor}),
    )
    .await
    .ok(200);
    app.post(&doctor, &format!("/api/v1/visits/{id}/on-site"), json!({}))
        .await
        .ok(200);
    let path = format!("/api/v1/visits/{id}/report");
    app.put(
        &doctor,
        &path,
        json!({"observations": complete_observations(), "version": 0}),
    )
    .await
    .ok(200);
    let resp = upload(&app, &doctor, id, "scp/Example.scp", &[]).await;
    assert_eq!(resp.status(), 201);
    let ecg = resp.json::<serde_json::Value>().await.unwrap()["id"]
        .as_i64()
        .unwrap();
    let ecg_paths = [
        format!("/api/v1/visits/{id}/ecgs"),
        format!("/api/v1/ecgs/{ecg}"),
        format!("/api/v1/ecgs/{ecg}/svg"),
        format!("/api/v1/ecgs/{ecg}/files/Example.scp"),
    ];
    let ehpad_reads = |p: &str| app.client.get(app.url(p)).bearer_auth(&ehpad).send();
    // A draft is the doctor's: the EHPAD does not see it yet, nor its ECG, nor may it write.
    app.get(&ehpad, &path).await.error(404, "not_found");
    for p in &ecg_paths {
        let r = ehpad_reads(p).await.unwrap();
        assert_eq!(r.status(), 404, "{p} before validation");
    }
    app.put(&ehpad, &path, json!({"observations": {}, "version": 1}))
        .await
        .error(403, "forbidden");
    // The resident has no birth date on file: the letter cannot be made, and validation says so.
    let to_gp = json!({"version": 1, "treating_physician": {"name": "Dr Bruno Vial", "mssante": "bruno.vial@medecin.mssante.fr"}});
    let e = app
        .post(&doctor, &format!("{path}/validate"), to_gp.clone())
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "patient.birth_date");
    app.send(
        Method::PATCH,
        &format!("/api/v1/patients/{}", app.fx.resident),
        Some(&doctor),
        Some(json!({"birth_date": "1932-05-02"})),
    )
    .await
    .ok(200);
    app.post(&doctor, &format!("{path}/validate"), to_gp)
        .await
        .ok(200);
    let report = app.get(&ehpad, &path).await.ok(200);
    assert_eq!(report["status"], "validated");
    assert_eq!(report["observations"]["diagnoses"][0]["code"], "I48.9");
    // Now its ECG too, and no cache keeps it (it names the patient).
    for p in &ecg_paths {
        let r = ehpad_reads(p).await.unwrap();
        assert_eq!(r.status(), 200, "{p} once validated");
        assert_eq!(r.headers()["cache-control"], "no-store", "{p}");
    }
    // Every read of the record is in the audit trail, with who read it.
    let reads: Vec<(String, i64)> = sqlx::query_as(
        "SELECT action, actor_id FROM audit_log WHERE entity_type = 'visit_record' AND entity_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(app.db.pool())
    .await
    .unwrap();
    let ehpad_id: i64 = sqlx::query_scalar("SELECT id FROM users WHERE username = 'ehpad'")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    for action in ["report.read", "ecgs.read", "ecg.read"] {
        assert!(
            reads.iter().any(|(a, who)| a == action && *who == ehpad_id),
            "{action} by the EHPAD: {reads:?}"
        );
    }
    // Not another home, and the letter stays between the doctors.
    app.get(&other, &path).await.error(404, "not_found");
    app.get(&ehpad, &format!("/api/v1/visits/{id}/letter"))
        .await
        .error(403, "forbidden");
    app.stop().await;
}

on_both_engines!(
    the_ehpad_reads_its_residents_report_once_validated,
    an_assistant_drafts_and_the_doctor_validates,
    an_incomplete_or_invalid_report_says_which_field,
    without_a_secure_address_the_letter_is_held_until_given_one,
    every_ecg_format_uploads_reads_and_draws,
    a_bad_ecg_file_is_refused_with_what_is_wrong,
    practitioners_and_icd10_codes_are_searchable,
);
