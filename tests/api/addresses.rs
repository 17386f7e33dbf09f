//! Address search: a hand-made BAN file (`tests/fixtures/adresses-test.csv`) imported into the
//! store, then searched over HTTP as a dispatcher types; a remote geocoder that answers, one that
//! is down and one that is slow; the `chevet import addresses` command.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use chevet::hub::HubConfig;
use serde_json::{json, Value};

use crate::helpers::{eventually, spawn_app, spawn_app_with, Engine, TestApp};

const FIXTURE_ROWS: u64 = 32;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/adresses-test.csv")
}

async fn import(app: &TestApp) -> chevet::import::AddressImport {
    let file = std::fs::File::open(fixture()).unwrap();
    chevet::import::import_addresses(&app.db, file, "adresses-test.csv")
        .await
        .unwrap()
}

/// `/api/v1/addresses?q=...` with the query encoded, and more parameters.
fn path(q: &str, more: &[(&str, &str)]) -> String {
    let mut params = vec![("q", q)];
    params.extend_from_slice(more);
    let url = reqwest::Url::parse_with_params("http://hub/api/v1/addresses", &params).unwrap();
    format!("{}?{}", url.path(), url.query().unwrap_or_default())
}

/// Searches until the hub has loaded what the store holds (it loads in the background).
async fn search_loaded(app: &TestApp, token: &str, q: &str) -> Value {
    eventually(
        "the index loading",
        Duration::from_secs(20),
        || async move {
            let body = app.get(token, &path(q, &[])).await.ok(200);
            if body["loading"] == false {
                Ok(body)
            } else {
                Err(body.to_string())
            }
        },
    )
    .await
}

fn labels(body: &Value) -> Vec<&str> {
    body["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["label"].as_str().unwrap())
        .collect()
}

async fn addresses_are_searched_as_typed(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    let empty = search_loaded(&app, &desk, "12 rue des alpes").await;
    assert_eq!(empty["source"], "local");
    assert_eq!(empty["indexed"], 0);
    assert!(empty["hits"].as_array().unwrap().is_empty());

    let done = import(&app).await;
    assert_eq!(done.addresses as u64, FIXTURE_ROWS);
    assert_eq!(done.departments, ["38"]);
    assert_eq!(done.replaced, 0);
    assert_eq!(
        app.audit_actions("address_import", done.id).await,
        ["address.import"],
        "one audit row for the whole import"
    );

    // The hub notices the import on the next search and loads it in the background.
    let body = search_loaded(&app, &desk, "12 rue des alp grenob").await;
    assert_eq!(body["indexed"], FIXTURE_ROWS);
    assert_eq!(body["source"], "local");
    let hit = &body["hits"][0];
    assert_eq!(hit["label"], "12 Rue des Alpes 38000 Grenoble");
    assert_eq!(hit["housenumber"], "12");
    assert_eq!(hit["street"], "Rue des Alpes");
    assert_eq!(hit["postcode"], "38000");
    assert_eq!(hit["citycode"], "38185");
    assert_eq!(hit["city"], "Grenoble");
    assert_eq!(
        (hit["lat"].as_f64(), hit["lon"].as_f64()),
        (Some(45.18931), Some(5.71846))
    );
    assert!(hit["score"].as_f64().unwrap() > 0.5, "{hit}");

    for (q, first) in [
        (
            "15 boulevard gambeta grenoble",
            "15 Boulevard Gambetta 38000 Grenoble",
        ),
        (
            "12bis r des alpes grenolbe",
            "12bis Rue des Alpes 38000 Grenoble",
        ),
        (
            "25 ter bd marechal joffre",
            "25ter Boulevard Maréchal Joffre 38000 Grenoble",
        ),
        (
            "8 rue de la republique st egreve",
            "8 Rue de la République 38120 Saint-Égrève",
        ),
        (
            "8 Rue de la République Saint-Égrève",
            "8 Rue de la République 38120 Saint-Égrève",
        ),
        (
            "130 cours jean jaures echiro",
            "130 Cours Jean Jaurès 38130 Échirolles",
        ),
        ("place notre dame", "Place Notre-Dame 38000 Grenoble"),
    ] {
        let body = app.get(&desk, &path(q, &[])).await.ok(200);
        assert_eq!(labels(&body).first().copied(), Some(first), "{q}: {body}");
    }
    let two = app
        .get(&desk, &path("52 cours jean jaures", &[("limit", "2")]))
        .await
        .ok(200);
    let mut cities: Vec<&str> = two["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["city"].as_str().unwrap())
        .collect();
    cities.sort();
    assert_eq!(cities, ["Grenoble", "Échirolles"]);

    // EHPAD nurses may search too; doctors may not.
    let nurse = app.login("ehpad").await;
    app.get(&nurse, &path("place grenette", &[])).await.ok(200);
    let doctor = app.login("doctor").await;
    app.get(&doctor, &path("place grenette", &[]))
        .await
        .error(403, "forbidden");

    // Re-importing the file replaces the département's addresses rather than adding to them.
    let again = import(&app).await;
    assert_eq!(again.replaced, FIXTURE_ROWS);
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM addresses")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(count as u64, FIXTURE_ROWS);
    let body = search_loaded(&app, &desk, "3 place grenette").await;
    assert_eq!(body["indexed"], FIXTURE_ROWS);
    assert_eq!(labels(&body)[0], "3 Place Grenette 38000 Grenoble");
    app.stop().await;
}

async fn bad_queries_are_refused(engine: Engine) {
    let app = spawn_app(engine).await;
    let desk = app.login("dispatcher").await;
    for bad in [
        "/api/v1/addresses".to_owned(),
        path("", &[]),
        path("ab", &[]),
        path("  a  ", &[]),
        path(&"rue ".repeat(60), &[]),
    ] {
        let e = app.get(&desk, &bad).await.error(400, "invalid_query");
        assert_eq!(e["field"], "q", "{bad}");
    }
    app.get(&desk, &path("rue des alpes", &[("limit", "many")]))
        .await
        .error(400, "invalid_query");
    app.get(&desk, &path("rue des alpes", &[("city", "Grenoble")]))
        .await
        .error(400, "invalid_query");
    // A file that is not a BAN file writes nothing.
    let e = chevet::import::import_addresses(&app.db, &b"a;b\n1;2\n"[..], "x.csv")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no column numero"), "{e}");
    let doc = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/addresses"]["get"].is_object());
    app.stop().await;
}

crate::on_both_engines!(addresses_are_searched_as_typed, bad_queries_are_refused);

/// A fake remote geocoder on a loopback port: answers after `delay`, echoing the query.
async fn fake_geocoder(delay: Duration) -> String {
    use axum::extract::Query;
    let app = axum::Router::new().route(
        "/search/",
        axum::routing::get(
            move |Query(params): Query<std::collections::HashMap<String, String>>| async move {
                tokio::time::sleep(delay).await;
                axum::Json(json!({
                    "type": "FeatureCollection",
                    "features": [{
                        "type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [5.7279, 45.1908]},
                        "properties": {
                            "label": format!("{} (remote, limit {})", params["q"], params["limit"]),
                            "housenumber": "3", "street": "Place Grenette", "postcode": "38000",
                            "citycode": "38185", "city": "Grenoble", "score": 0.97
                        }
                    }]
                }))
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

async fn hub_with_geocoder(url: String) -> (TestApp, String) {
    let config = HubConfig {
        geocoder_url: Some(url),
        ..HubConfig::default()
    };
    let app = spawn_app_with(Engine::Sqlite, config).await;
    import(&app).await;
    let desk = app.login("dispatcher").await;
    search_loaded(&app, &desk, "3 place grenette").await;
    (app, desk)
}

/// Searches once; returns the answer and how long it took.
async fn timed(app: &TestApp, token: &str, q: &str) -> (Value, Duration) {
    let t = Instant::now();
    let body = app.get(token, &path(q, &[])).await.ok(200);
    (body, t.elapsed())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_geocoder_answers_or_the_local_index_does() {
    // A working geocoder answers, and says so.
    let (app, desk) = hub_with_geocoder(fake_geocoder(Duration::ZERO).await).await;
    let (body, _) = timed(&app, &desk, "3 pl grenette").await;
    assert_eq!(body["source"], "remote", "{body}");
    assert_eq!(labels(&body), ["3 pl grenette (remote, limit 5)"]);
    assert_eq!(body["hits"][0]["lat"], 45.1908);
    app.stop().await;

    // A slow one (3 s) is given up after the timeout: the local index answers within ~1 s.
    let (app, desk) = hub_with_geocoder(fake_geocoder(Duration::from_secs(3)).await).await;
    let (body, took) = timed(&app, &desk, "3 pl grenette").await;
    assert_eq!(body["source"], "local", "{body}");
    assert_eq!(labels(&body)[0], "3 Place Grenette 38000 Grenoble");
    assert!(took < Duration::from_millis(1500), "took {took:?}");
    app.stop().await;

    // One that is down (nothing listens on its port): the local index answers at once.
    let closed = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let (app, desk) = hub_with_geocoder(url).await;
    let (body, took) = timed(&app, &desk, "3 pl grenette").await;
    assert_eq!(body["source"], "local", "{body}");
    assert_eq!(labels(&body)[0], "3 Place Grenette 38000 Grenoble");
    assert!(took < Duration::from_millis(1000), "took {took:?}");
    app.stop().await;
}

#[test]
fn the_import_command_reads_ban_files() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let run = |file: &std::path::Path| {
        std::process::Command::new(env!("CARGO_BIN_EXE_chevet"))
            .args(["import", "addresses", "--db", &db])
            .arg(file)
            .env("CHEVET_LOG", "warn")
            .output()
            .expect("chevet runs")
    };
    let out = run(&fixture());
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!(
            "{FIXTURE_ROWS} addresses imported from {}",
            fixture().display()
        )
    );
    // A bad row: the line and column are named, nothing is imported.
    let text = std::fs::read_to_string(fixture()).unwrap();
    let bad = dir.path().join("adresses-bad.csv");
    std::fs::write(&bad, text.replacen(";45.18935;", ";north;", 1)).unwrap();
    let out = run(&bad);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("line 3, column lat"), "{err}");
}
