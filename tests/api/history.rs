//! The patient's history with the association (#15): the doctor sent to a patient reads what his
//! colleagues found on earlier visits (validated reports and ECGs); nobody outside the care team
//! does, and every read is in the audit trail.

use serde_json::json;

use crate::closing::{complete_observations, upload, visit_on_site};
use crate::helpers::{spawn_app, Engine};
use crate::on_both_engines;

async fn the_next_doctor_reads_what_the_last_one_found(engine: Engine) {
    let app = spawn_app(engine).await;
    // Dr 1 sees the patient, records an ECG, validates his report.
    let first = visit_on_site(&app).await;
    let doc = app.login("doctor").await;
    let ecg = upload(&app, &doc, first, "scp/Example.scp", &[]).await;
    assert_eq!(ecg.status(), 201, "{}", ecg.text().await.unwrap());
    let ecg: serde_json::Value = app
        .get(&doc, &format!("/api/v1/visits/{first}/ecgs"))
        .await
        .ok(200);
    let ecg_id = ecg[0]["id"].as_i64().expect("an ECG");
    let report = format!("/api/v1/visits/{first}/report");
    app.put(
        &doc,
        &report,
        json!({"observations": complete_observations(), "version": 0}),
    )
    .await
    .ok(200);

    // Dr 2 is sent to the same patient days later.
    let desk = app.login("dispatcher").await;
    let doc2 = app.login("doctor2").await;
    let patient = app
        .get(&desk, &format!("/api/v1/visits/{first}"))
        .await
        .ok(200)["patient"]["id"]
        .as_i64()
        .unwrap();
    let history = format!("/api/v1/patients/{patient}/history");
    // Before he is: not his patient, nothing to read.
    app.get(&doc2, &history).await.error(404, "not_found");
    app.get(&doc2, &format!("/api/v1/ecgs/{ecg_id}"))
        .await
        .error(404, "not_found");
    let second = app.assigned_visit(&desk, app.fx.doctor2).await;

    // A draft is not history: the earlier visit shows, without its medicine.
    let h = app.get(&doc2, &history).await.ok(200);
    let earlier = h
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["visit_id"] == first)
        .expect("the earlier visit");
    assert!(earlier["report"].is_null(), "a draft: {earlier}");
    assert_eq!(earlier["ecgs"], json!([]));
    app.get(&doc2, &format!("/api/v1/ecgs/{ecg_id}"))
        .await
        .error(404, "not_found");

    app.post(&doc, &format!("{report}/validate"), json!({"version": 1}))
        .await
        .ok(200);
    let h = app.get(&doc2, &history).await.ok(200);
    let entries = h.as_array().unwrap();
    assert_eq!(entries[0]["visit_id"], second, "newest first: {h}");
    let earlier = entries.iter().find(|e| e["visit_id"] == first).unwrap();
    assert_eq!(earlier["doctor"]["id"], app.fx.doctor);
    assert_eq!(earlier["report"]["diagnoses"][0]["code"], "I48.9");
    assert_eq!(earlier["ecgs"][0]["id"], ecg_id);
    // And he opens that ECG itself.
    app.get(&doc2, &format!("/api/v1/ecgs/{ecg_id}"))
        .await
        .ok(200);

    // Medicine is not for the call centre, nor for another doctor.
    app.get(&desk, &history).await.error(403, "forbidden");
    let admin = app.login("admin").await;
    app.get(&admin, &history).await.error(403, "forbidden");
    // The assistant reads it for the doctors who delegated to her.
    let assistant = app.login("assistant").await;
    app.get(&assistant, &history).await.ok(200);

    let reads = app
        .audit_actions("patient_record", patient)
        .await
        .into_iter()
        .filter(|a| a == "patient.history.read")
        .count();
    assert_eq!(
        reads, 3,
        "each read audited (2 by Dr 2, 1 by the assistant)"
    );
}

on_both_engines!(the_next_doctor_reads_what_the_last_one_found);
