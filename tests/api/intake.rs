//! Intake: sectors from real commune boundaries (shared/data/geo), out-of-sector calls refused
//! with their fallbacks, triage motives and red flags.

use serde_json::json;

use crate::helpers::{spawn_app, Engine};

fn isere() -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/geo/communes-38-isere.geojson");
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (shared/ beside the project)", path.display()))
}

const COVERED: &[&str] = &[
    "Grenoble",
    "Échirolles",
    "Saint-Martin-d'Hères",
    "Meylan",
    "Fontaine",
    "Seyssinet-Pariset",
];

async fn out_of_sector_calls_are_never_queued(engine: Engine) {
    let app = spawn_app(engine).await;
    let keep = |name: &str| COVERED.contains(&name);
    let n = chevet::import::import_sectors(&app.db, &isere(), Some(&keep))
        .await
        .unwrap();
    assert_eq!(n, COVERED.len());
    let desk = app.login("dispatcher").await;

    // Place Grenette, Grenoble: covered.
    let ok = app
        .post(
            &desk,
            "/api/v1/intake/check",
            json!({"lat": 45.1908, "lon": 5.7279, "motive": "fièvre"}),
        )
        .await
        .ok(200);
    assert_eq!(ok["covered"], true);
    assert_eq!(ok["sector"]["name"], "Grenoble");
    assert!(ok["fallbacks"].as_array().unwrap().is_empty());
    // Voiron, 25 km away: not covered, with the fallbacks.
    let out = app
        .post(
            &desk,
            "/api/v1/intake/check",
            json!({"lat": 45.3640, "lon": 5.5890}),
        )
        .await
        .ok(200);
    assert_eq!(out["covered"], false);
    let codes: Vec<&str> = out["fallbacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, vec!["teleconsultation", "centre", "samu_15"]);

    // Taking that call as a home visit is refused at once; nothing is queued.
    let e = app
        .post(
            &desk,
            "/api/v1/calls",
            json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2,
                   "address": {"line": "1 place du Marché", "city": "Voiron", "postcode": "38500", "lat": 45.3640, "lon": 5.5890}}),
        )
        .await
        .error(422, "out_of_sector");
    assert_eq!(e["field"], "address");
    assert!(app
        .get(&desk, "/api/v1/visits")
        .await
        .ok(200)
        .as_array()
        .unwrap()
        .is_empty());
    // Inside, it is queued as usual.
    app.post(
        &desk,
        "/api/v1/calls",
        json!({"patient_id": app.fx.patient_home, "motive": "fièvre", "urgency": 2,
               "address": {"line": "3 place Grenette", "city": "Grenoble", "postcode": "38000", "lat": 45.1908, "lon": 5.7279}}),
    )
    .await
    .ok(201);
    app.stop().await;
}

async fn red_flags_prompt_the_15(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let advice = app
        .post(
            &desk,
            "/api/v1/intake/check",
            json!({"motive": "Douleur thoracique avec sueurs, irradiation bras gauche"}),
        )
        .await
        .ok(200);
    assert_eq!(
        advice["covered"],
        serde_json::Value::Null,
        "no position, no sectors: nothing to say"
    );
    assert_eq!(advice["motive"]["code"], "chest_pain");
    assert_eq!(advice["motive"]["urgency"], 1);
    assert_eq!(advice["motive"]["skills"], json!(["ecg"]));
    assert_eq!(advice["red_flags"][0]["code"], "acute_coronary");
    let calm = app
        .post(
            &desk,
            "/api/v1/intake/check",
            json!({"motive": "Lombalgie depuis hier"}),
        )
        .await
        .ok(200);
    assert!(calm["red_flags"].as_array().unwrap().is_empty());
    // The transfer to the 15 is recorded on the visit.
    let id = app.new_call(&desk).await["id"].as_i64().unwrap();
    app.post(
        &desk,
        &format!("/api/v1/visits/{id}/redirect-15"),
        json!({"reason": "acute_coronary"}),
    )
    .await
    .ok(200);
    assert_eq!(
        app.audit_actions("visit", id).await,
        vec!["visit.redirect_15"]
    );
    let catalogue = app.get(&desk, "/api/v1/triage").await.ok(200);
    assert!(catalogue["motives"].as_array().unwrap().len() >= 10);
    assert!(catalogue["red_flags"]
        .as_array()
        .unwrap()
        .iter()
        .any(|f| f["code"] == "stroke"));
    // Bad positions are told apart.
    let e = app
        .post(
            &desk,
            "/api/v1/intake/check",
            json!({"lat": 95.0, "lon": 5.0}),
        )
        .await
        .error(422, "invalid_field");
    assert_eq!(e["field"], "lat");
    let nurse = app.login("nurse").await;
    app.post(&nurse, "/api/v1/intake/check", json!({}))
        .await
        .error(403, "forbidden");
    app.stop().await;
}

crate::on_both_engines!(
    out_of_sector_calls_are_never_queued,
    red_flags_prompt_the_15
);

#[tokio::test]
async fn broken_geojson_is_refused_whole() {
    let app = spawn_app(Engine::Sqlite).await;
    let bad = r#"{"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"nom": "A"}, "geometry": {"type": "Polygon", "coordinates": [[[5.7, 45.1], [5.8, 45.1], [5.8, 45.2], [5.7, 45.1]]]}},
        {"type": "Feature", "properties": {"nom": "B"}, "geometry": {"type": "LineString", "coordinates": [[5.7, 45.1], [5.8, 45.2]]}}]}"#;
    let err = chevet::import::import_sectors(&app.db, bad, None)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("feature 1"), "{err}");
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sectors")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 0, "nothing imported");
    for garbage in [
        "",
        "{",
        "[]",
        "{\"type\": \"Point\"}",
        "{\"type\": \"FeatureCollection\", \"features\": []}",
    ] {
        assert!(chevet::import::import_sectors(&app.db, garbage, None)
            .await
            .is_err());
    }
    app.stop().await;
}
