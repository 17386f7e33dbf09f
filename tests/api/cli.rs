//! The `chevet` binary as a separate process: the demo and account creation.

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use serde_json::json;

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_chevet"));
    c.env("CHEVET_LOG", "warn").env_remove("CHEVET_DB");
    c
}

/// Starts `chevet ARGS` and returns the child and the base URL it prints first.
fn start(args: &[&str]) -> (std::process::Child, String) {
    let mut child = bin()
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("chevet starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in {line:?}"))
        .trim_end_matches('/')
        .to_owned();
    (child, url)
}

fn stop(mut child: std::process::Child) {
    // SIGTERM: the hub shuts down cleanly and exits 0.
    let _ = Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status();
    let status = child.wait().unwrap();
    assert!(status.success(), "clean exit, got {status}");
}

#[tokio::test]
async fn the_demo_serves_every_seat() {
    let (child, url) = start(&["demo", "--listen", "127.0.0.1:0"]);
    let client = reqwest::Client::new();
    let login = |user: &'static str| {
        let req = client
            .post(format!("{url}/api/v1/auth/login"))
            .json(&json!({"username": user, "password": "demo"}));
        async move {
            req.send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    for (user, role) in [
        ("admin", "admin"),
        ("dispatcher", "dispatcher"),
        ("doctor", "doctor"),
        ("assistant", "assistant"),
        ("ehpad", "ehpad_nurse"),
        ("nurse", "partner_nurse"),
    ] {
        let r = login(user).await;
        assert_eq!(r["user"]["role"], role, "{user}: {r}");
    }
    let token = login("dispatcher").await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let get = |path: &'static str| {
        let req = client.get(format!("{url}{path}")).bearer_auth(&token);
        async move {
            req.send()
                .await
                .unwrap()
                .json::<Vec<serde_json::Value>>()
                .await
                .unwrap()
        }
    };
    let visits = get("/api/v1/visits").await;
    let statuses: std::collections::BTreeSet<String> = visits
        .iter()
        .map(|v| v["status"].as_str().unwrap().to_owned())
        .collect();
    for s in [
        "received",
        "assigned",
        "en_route",
        "on_site",
        "closed",
        "cancelled",
        "redirected_15",
    ] {
        assert!(statuses.contains(s), "the demo has a visit {s}");
    }
    let doctors = get("/api/v1/doctors").await;
    assert!(doctors.len() >= 20);
    assert!(
        doctors
            .iter()
            .filter(|d| d["shift_ends_at"].is_string())
            .count()
            >= 15
    );
    let sectors = get("/api/v1/sectors").await;
    assert!(sectors.len() >= 4);
    stop(child);
}

/// `chevet user add --db DB ARGS`, with the password on standard input.
fn user_add(db: &str, args: &[&str]) -> std::process::Output {
    let mut child = bin()
        .args(["user", "add", "--db", db])
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"correct horse battery\n")
        .unwrap();
    child.wait_with_output().unwrap()
}

#[tokio::test]
async fn user_add_creates_an_account_that_can_log_in() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let out = user_add(
        &db,
        &[
            "--username",
            "k.haddad",
            "--name",
            "Karim Haddad",
            "--role",
            "dispatcher",
        ],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A refused account says why.
    let out = user_add(
        &db,
        &[
            "--username",
            "dr.x",
            "--name",
            "Dr X",
            "--role",
            "doctor",
            "--rpps",
            "123",
        ],
    );
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("doctor.rpps"));

    let (child, url) = start(&["serve", "--db", &db, "--listen", "127.0.0.1:0"]);
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/api/v1/auth/login"))
        .json(&json!({"username": "k.haddad", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["user"]["display_name"], "Karim Haddad");
    stop(child);
}

/// `chevet simulate` replays a benchmark instance online; the benchmark's own scorer accepts the
/// plan, and the engine beats the "nearest available doctor" baseline by at least 10 %.
#[test]
fn simulate_writes_a_plan_the_benchmark_accepts() {
    let bench = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/bench/dispatch");
    assert!(
        bench.is_dir(),
        "the dispatch benchmark is expected at {} (shared/ beside the project)",
        bench.display()
    );
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.json");
    let instance = bench.join("instances/grenoble-small-evening.json");
    let out = bin()
        .args(["simulate", "--instance"])
        .arg(&instance)
        .arg("--out")
        .arg(&plan)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let scored = Command::new("python3")
        .arg(bench.join("score.py"))
        .arg(&instance)
        .arg(&plan)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        scored.status.success(),
        "score.py rejects the plan: {}",
        String::from_utf8_lossy(&scored.stdout)
    );
    let ours: serde_json::Value = serde_json::from_slice(&scored.stdout).unwrap();
    let greedy: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(bench.join("results/scores/grenoble-small-evening.greedy.json"))
            .unwrap(),
    )
    .unwrap();
    let (ours, greedy) = (
        ours["objective"].as_f64().unwrap(),
        greedy["objective"].as_f64().unwrap(),
    );
    assert!(ours <= 0.9 * greedy, "objective {ours} vs greedy {greedy}");

    let bad = bin()
        .args(["simulate", "--instance", "/nonexistent.json", "--out"])
        .arg(&plan)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("/nonexistent.json"));
}

/// `chevet import sectors` reads the 521 commune boundaries of Isère.
#[test]
fn import_sectors_reads_real_commune_boundaries() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/geo/communes-38-isere.geojson");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let out = bin()
        .args(["import", "sectors", "--db", &db])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "imported 521 sectors"
    );
    let again = bin()
        .args([
            "import",
            "sectors",
            "--db",
            &db,
            "--only",
            "Grenoble,Meylan",
        ])
        .arg(&file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&again.stdout).trim(),
        "imported 2 sectors"
    );
}

/// `chevet import roads` prepares the Saint-Barthélemy OSM extract; a file that is not one is
/// refused with a message, and a failing exit code.
#[test]
fn import_roads_prepares_a_real_osm_extract() {
    let file = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/data/map/saint_barthelemy.osm.pbf");
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let out = bin()
        .args(["import", "roads", "--db", &db])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(said.contains("3780 nodes"), "{said}");

    let junk = dir.path().join("junk.osm.pbf");
    std::fs::write(&junk, b"\x00\x00\x00\x0dnot protobuf at all").unwrap();
    let bad = bin()
        .args(["import", "roads", "--db", &db])
        .arg(&junk)
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("OpenStreetMap"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
