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
        .find(|w| w.starts_with("http://") || w.starts_with("https://"))
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

const ECG_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data/ecg");

/// `chevet ecg info --json` on every test file: the fields the issue names, with values an
/// independent reader gives (leads, rate, length) and a plausible heart rate.
#[test]
fn ecg_info_describes_every_format() {
    let cases: &[(&str, &str, usize, f64, f64)] = &[
        // file, format, leads, sampling_hz, duration_s
        ("wfdb/mitdb/100.hea", "wfdb", 2, 360.0, 1805.56),
        ("wfdb/mitdb/208.hea", "wfdb", 2, 360.0, 1805.56),
        ("wfdb/ptb/s0010_re.hea", "wfdb", 15, 1000.0, 38.4),
        ("aecg/Example aECG.xml", "aecg", 12, 500.0, 10.0),
        ("scp/Example.scp", "scp", 12, 500.0, 10.0),
        ("scp/62.SCP", "scp", 3, 150.0, 30.0),
        ("dicom/waveform_ecg.dcm", "dicom", 12, 1000.0, 10.0),
        ("other/0000050.ECG.edf", "edf", 12, 800.0, 47.32),
    ];
    for (file, format, leads, hz, duration) in cases {
        let out = bin()
            .args(["ecg", "info", "--json"])
            .arg(format!("{ECG_DIR}/{file}"))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["format"], *format, "{file}");
        assert_eq!(v["leads"].as_array().unwrap().len(), *leads, "{file}: {v}");
        assert_eq!(v["sampling_hz"].as_f64(), Some(*hz), "{file}");
        assert!(
            (v["duration_s"].as_f64().unwrap() - duration).abs() < 0.01,
            "{file}: {}",
            v["duration_s"]
        );
        let hr = v["heart_rate_bpm"].as_f64().unwrap();
        assert!((40.0..140.0).contains(&hr), "{file}: heart rate {hr}");
        let beats = v["beats"].as_array().unwrap();
        let expected = hr * duration / 60.0;
        assert!(
            (beats.len() as f64 - expected).abs() < expected * 0.25 + 2.0,
            "{file}: {} beats for {hr} bpm over {duration} s",
            beats.len()
        );
    }
    // A PDF is a document: no signal, no beats.
    let dir = tempfile::tempdir().unwrap();
    let pdf = dir.path().join("trace.pdf");
    std::fs::write(&pdf, b"%PDF-1.4\n1 0 obj << /Type /Page >> endobj\n%%EOF\n").unwrap();
    let out = bin()
        .args(["ecg", "info", "--json"])
        .arg(&pdf)
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["format"], "pdf");
    assert_eq!(v["beats"], json!([]));
    // A broken file: a clear error, exit code 1, no panic.
    let bad = dir.path().join("bad.scp");
    let scp = std::fs::read(format!("{ECG_DIR}/scp/Example.scp")).unwrap();
    std::fs::write(&bad, &scp[..2000]).unwrap();
    let out = bin().args(["ecg", "info"]).arg(&bad).output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("scp") && !err.contains("panicked"), "{err}");
}

#[test]
fn ecg_render_and_letter_preview_write_their_files() {
    let dir = tempfile::tempdir().unwrap();
    for out in ["ecg.pdf", "ecg.svg"] {
        let path = dir.path().join(out);
        let status = bin()
            .args(["ecg", "render"])
            .arg(format!("{ECG_DIR}/dicom/waveform_ecg.dcm"))
            .arg("--out")
            .arg(&path)
            .status()
            .unwrap();
        assert!(status.success());
        let bytes = std::fs::read(&path).unwrap();
        if out.ends_with(".pdf") {
            assert!(bytes.starts_with(b"%PDF-"));
        } else {
            assert!(String::from_utf8(bytes).unwrap().contains("<svg"));
        }
    }
    let out = dir.path().join("letter");
    let status = bin()
        .args(["letter", "preview", "--ecg"])
        .arg(format!("{ECG_DIR}/wfdb/ptb/s0010_re.hea"))
        .arg("--ecg")
        .arg(format!("{ECG_DIR}/scp/Example.scp"))
        .arg("--out")
        .arg(&out)
        .status()
        .unwrap();
    assert!(status.success());
    for f in [
        "lettre.pdf",
        "lettre.fhir.json",
        "lettre.cda.xml",
        "IHE_XDM.ZIP",
    ] {
        assert!(std::fs::metadata(out.join(f)).unwrap().len() > 1000, "{f}");
    }
    // The CDA made for the preview validates against the ANS CI-SIS schema.
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/interop/schemas/ans-cisis-cda/infrastructure/cda/CDA_extended.xsd"
    );
    let check = std::process::Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(out.join("lettre.cda.xml"))
        .output()
        .expect("xmllint (libxml2-utils, installed by scripts/setup)");
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stderr)
    );
}

#[test]
fn import_practitioners_reads_the_rpps_extract() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/directories/PS_LibreAcces_Personne_activite_small.txt"
    );
    let out = bin()
        .args(["import", "practitioners", "--db", &db, file])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("22 practitioners imported"));
    // Not a directory file: refused, saying why.
    let out = bin()
        .args(["import", "practitioners", "--db", &db])
        .arg(format!("{ECG_DIR}/wfdb/mitdb/100.hea"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Identification nationale PP"));
}

/// A hub process killed if the test fails before stopping it.
struct KillOnDrop(Option<std::process::Child>);

impl KillOnDrop {
    fn take(mut self) -> std::process::Child {
        self.0.take().unwrap()
    }
}

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.as_mut() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A certificate for 127.0.0.1 and localhost signed by a test authority, made by openssl:
/// (authority, chain, key) files.
fn test_certificate(dir: &std::path::Path) -> (String, String, String) {
    let p = |name: &str| dir.join(name).display().to_string();
    let run = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    run(&[
        &["req", "-x509"][..],
        &ec,
        &[
            "-days",
            "2",
            "-subj",
            "/CN=Chevet test CA",
            "-keyout",
            &p("ca.key"),
            "-out",
            &p("ca.pem"),
        ],
    ]
    .concat());
    run(&[
        &["req"][..],
        &ec,
        &[
            "-subj",
            "/CN=localhost",
            "-keyout",
            &p("key.pem"),
            "-out",
            &p("leaf.csr"),
        ],
    ]
    .concat());
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=critical,CA:FALSE\n",
    )
    .unwrap();
    run(&[
        "x509",
        "-req",
        "-in",
        &p("leaf.csr"),
        "-CA",
        &p("ca.pem"),
        "-CAkey",
        &p("ca.key"),
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        &p("leaf.ext"),
        "-out",
        &p("cert.pem"),
    ]);
    (p("ca.pem"), p("cert.pem"), p("key.pem"))
}

#[tokio::test]
async fn a_hub_serves_over_tls_and_refuses_the_network_in_clear() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}", dir.path().join("hub.db").display());
    let (ca, cert, key) = test_certificate(dir.path());
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
    let port = crate::helpers::free_port();
    let listen = format!("127.0.0.1:{port}");
    let (child, url) = start(&[
        "serve",
        "--db",
        &db,
        "--listen",
        &listen,
        "--tls-cert",
        &cert,
        "--tls-key",
        &key,
    ]);
    let child = KillOnDrop(Some(child));
    assert_eq!(url, format!("https://{listen}"));
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&std::fs::read(&ca).unwrap()).unwrap())
        .build()
        .unwrap();
    let health = client
        .get(format!("{url}/api/v1/health"))
        .send()
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    let login = client
        .post(format!("{url}/api/v1/auth/login"))
        .json(&serde_json::json!({"username": "k.haddad", "password": "correct horse battery"}))
        .send()
        .await
        .unwrap();
    assert_eq!(login.status(), 200);
    let cookie = login.headers()["set-cookie"].to_str().unwrap().to_owned();
    assert!(cookie.contains("; Secure"), "{cookie}");
    // In clear, the same port answers nothing useful.
    let clear = reqwest::get(format!("http://{listen}/api/v1/health")).await;
    assert!(clear.map_or(true, |r| !r.status().is_success()));
    stop(child.take());

    // Listening beyond loopback without TLS is refused, unless a proxy in front serves it.
    let open = format!("0.0.0.0:{}", crate::helpers::free_port());
    let out = bin()
        .args(["serve", "--db", &db, "--listen", &open])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--tls-cert") && said.contains("--behind-proxy"),
        "{said}"
    );
    // Letters carry health data: a relay off loopback must be reached over TLS.
    let out = bin()
        .args([
            "serve",
            "--db",
            &db,
            "--smtp-url",
            "smtp://mss.example.fr:25",
        ])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("smtps://") && said.contains("tls=required"),
        "{said}"
    );
    let (child, url) = start(&["serve", "--db", &db, "--listen", &open, "--behind-proxy"]);
    let child = KillOnDrop(Some(child));
    let port = url.rsplit(':').next().unwrap();
    let health = reqwest::get(format!("http://127.0.0.1:{port}/api/v1/health"))
        .await
        .unwrap();
    // Behind a proxy the browser's side is TLS: the hub says so.
    assert_eq!(
        health.headers()["strict-transport-security"],
        "max-age=31536000"
    );
    stop(child.take());
}
