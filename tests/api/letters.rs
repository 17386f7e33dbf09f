//! Letters to treating physicians, delivered to a real SMTP server on loopback (Python's
//! aiosmtpd writing a Maildir): what arrives, with which attachments and headers, also when the
//! server was down for a while and the hub restarted meanwhile.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chevet::hub::HubConfig;
use chevet::letters::MailConfig;
use mail_parser::MimeHeaders;
use serde_json::{json, Value};

use crate::closing::{complete_observations, upload, visit_on_site, ECG_FILES};
use crate::helpers::{eventually, spawn_app_with, Engine, TestApp};
use crate::on_both_engines;

/// An SMTP server on a loopback port, storing what it receives in a Maildir.
struct SmtpServer {
    child: Child,
    maildir: tempfile::TempDir,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The Python that has aiosmtpd: scripts/setup's virtualenv, or `CHEVET_SMTP_PYTHON`.
fn smtp_python() -> String {
    std::env::var("CHEVET_SMTP_PYTHON").unwrap_or_else(|_| {
        let venv = format!(
            "{}/.cache/chevet/smtp-venv/bin/python3",
            std::env::var("HOME").unwrap_or_default()
        );
        if std::path::Path::new(&venv).exists() {
            venv
        } else {
            "python3".into()
        }
    })
}

impl SmtpServer {
    fn start(port: u16) -> SmtpServer {
        SmtpServer::with_handler(port, &["aiosmtpd.handlers.Mailbox", "MAILDIR"])
    }

    /// A relay that refuses every recipient (550).
    fn refusing(port: u16) -> SmtpServer {
        SmtpServer::with_handler(port, &["smtp_refuse.Refuse"])
    }

    fn with_handler(port: u16, handler: &[&str]) -> SmtpServer {
        let maildir = tempfile::tempdir().unwrap();
        let box_dir = maildir.path().join("box");
        let child = Command::new(smtp_python())
            .args([
                "-m",
                "aiosmtpd",
                "-n",
                "-l",
                &format!("127.0.0.1:{port}"),
                "-c",
            ])
            .args(handler.iter().map(|a| {
                if *a == "MAILDIR" {
                    box_dir.to_string_lossy().into_owned()
                } else {
                    (*a).to_owned()
                }
            }))
            .env(
                "PYTHONPATH",
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("python3 runs (scripts/setup installs aiosmtpd)");
        let server = SmtpServer { child, maildir };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "aiosmtpd did not start on port {port}: is it installed (pip install aiosmtpd)?"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        server
    }

    /// Every message received, parsed.
    fn messages(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for sub in ["new", "cur"] {
            let dir: PathBuf = self.maildir.path().join("box").join(sub);
            if let Ok(entries) = std::fs::read_dir(&dir) {
                for e in entries.flatten() {
                    out.push(std::fs::read(e.path()).unwrap());
                }
            }
        }
        out
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mail_config(port: u16) -> HubConfig {
    HubConfig {
        mail: MailConfig {
            relay_url: Some(format!("smtp://127.0.0.1:{port}")),
            retry_base: Duration::from_millis(200),
            ..Default::default()
        },
        ..HubConfig::default()
    }
}

const TREATING: &str = "jean.martin@medecin.mssante.fr";

/// Writes and validates the report of a new visit (with the ECG files given); returns the visit.
async fn close_with_ecg(app: &TestApp, ecg: Option<(&str, &[&str])>) -> i64 {
    let id = visit_on_site(app).await;
    let doctor = app.login("doctor").await;
    if let Some((main, companions)) = ecg {
        let resp = upload(app, &doctor, id, main, companions).await;
        assert_eq!(resp.status(), 201, "{main}: {}", resp.text().await.unwrap());
    }
    let path = format!("/api/v1/visits/{id}/report");
    app.put(
        &doctor,
        &path,
        json!({"observations": complete_observations(), "version": 0}),
    )
    .await
    .ok(200);
    app.post(
        &doctor,
        &format!("{path}/validate"),
        json!({"version": 1, "treating_physician": {"name": "Dr Jean Martin", "mssante": TREATING}}),
    )
    .await
    .ok(200);
    id
}

async fn letter_when(
    app: &TestApp,
    visit: i64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let doctor = app.login("doctor").await;
    let (doctor, done) = (&doctor, &done);
    eventually(
        &format!("the letter becoming {what}"),
        Duration::from_secs(60),
        || async move {
            let letter = app
                .get(doctor, &format!("/api/v1/visits/{visit}/letter"))
                .await
                .ok(200);
            if done(&letter) {
                Ok(letter)
            } else {
                Err(letter.to_string())
            }
        },
    )
    .await
}

fn header<'a>(mail: &'a mail_parser::Message, name: &'a str) -> Option<&'a str> {
    mail.header(name).and_then(|h| h.as_text())
}

/// What arrived for a letter: one message with the right headers and attachments; returns the
/// files inside IHE_XDM.ZIP (name, bytes).
fn check_mail(raw: &[u8], letter: &Value) -> Vec<(String, Vec<u8>)> {
    let mail = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a MIME message");
    assert_eq!(
        mail.message_id().map(|m| format!("<{m}>")),
        letter["message_id"].as_str().map(str::to_owned)
    );
    assert_eq!(
        mail.to().and_then(|t| t.first()).and_then(|a| a.address()),
        Some(TREATING)
    );
    assert_eq!(
        mail.from()
            .and_then(|t| t.first())
            .and_then(|a| a.address()),
        Some("sos@test.mssante.fr")
    );
    assert_eq!(header(&mail, "X-MSS-CODECDA"), Some("11488-4"));
    assert_eq!(
        header(&mail, "X-MSS-INS"),
        Some("N"),
        "no qualified INS in the fixture"
    );
    let body = mail.body_text(0).unwrap_or_default();
    assert!(body.contains("Cher Confrère"), "{body}");
    assert!(!body.contains("Girard"), "no patient name in the mail body");
    let names: Vec<String> = mail
        .attachments()
        .filter_map(|a| a.attachment_name().map(str::to_owned))
        .collect();
    assert_eq!(names.len(), 2, "{names:?}");
    let pdf = mail
        .attachments()
        .find(|a| a.attachment_name().is_some_and(|n| n.ends_with(".pdf")))
        .unwrap();
    assert!(pdf.contents().starts_with(b"%PDF-"));
    let xdm = mail
        .attachments()
        .find(|a| a.attachment_name() == Some("IHE_XDM.ZIP"))
        .unwrap();
    let mut zip =
        zip::ZipArchive::new(std::io::Cursor::new(xdm.contents().to_vec())).expect("a ZIP");
    let files: Vec<String> = zip.file_names().map(str::to_owned).collect();
    for expected in ["README.TXT", "INDEX.HTM", "IHE_XDM/SUBSET01/METADATA.XML"] {
        assert!(
            files.iter().any(|f| f.eq_ignore_ascii_case(expected)),
            "{expected} missing from {files:?}"
        );
    }
    let mut metadata = String::new();
    zip.by_name("IHE_XDM/SUBSET01/METADATA.XML")
        .unwrap()
        .read_to_string(&mut metadata)
        .unwrap();
    assert!(metadata.contains("SubmitObjectsRequest"));
    files
        .into_iter()
        .map(|name| {
            let mut bytes = Vec::new();
            zip.by_name(&name).unwrap().read_to_end(&mut bytes).unwrap();
            (name, bytes)
        })
        .collect()
}

fn validate_cda(xml: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("cda.xml");
    std::fs::write(&file, xml).unwrap();
    let schema = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/data/interop/schemas/ans-cisis-cda/infrastructure/cda/CDA_extended.xsd"
    );
    let out = Command::new("xmllint")
        .args(["--noout", "--schema", schema])
        .arg(&file)
        .output()
        .expect("xmllint (libxml2-utils, installed by scripts/setup)");
    assert!(
        out.status.success(),
        "the CDA does not validate: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Validates a FHIR R4 Bundle with the `fhir.resources` library (scripts/setup's virtualenv).
fn validate_fhir(json: &str) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bundle.json");
    std::fs::write(&file, json).unwrap();
    let python = std::env::var("CHEVET_FHIR_PYTHON").unwrap_or_else(|_| {
        format!(
            "{}/.cache/chevet/fhir-r4-venv/bin/python3",
            std::env::var("HOME").unwrap_or_default()
        )
    });
    let out = Command::new(&python)
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/crates/letter/tests/validate_fhir.py"
        ))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("{python}: {e} (scripts/setup installs fhir.resources)"));
    assert!(
        out.status.success(),
        "the FHIR Bundle does not validate:\n{}{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The "done when" of closing a visit: an ECG of every supported format, each in a letter that
/// reaches the treating physician's mailbox with the PDF and the XDM package holding the CDA and
/// the original ECG file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_letter_with_each_ecg_format_reaches_the_treating_physician() {
    let port = free_port();
    let smtp = SmtpServer::start(port);
    let app = spawn_app_with(Engine::Sqlite, mail_config(port)).await;
    let mut visits = Vec::new();
    for (main, companions) in ECG_FILES {
        visits.push((
            close_with_ecg(&app, Some((main, companions))).await,
            *main,
            *companions,
        ));
    }
    let mut letters = Vec::new();
    for (visit, main, companions) in &visits {
        let letter = letter_when(&app, *visit, "sent", |l| l["status"] == "sent").await;
        letters.push((letter, *main, *companions));
    }
    let mails = smtp.messages();
    assert_eq!(mails.len(), ECG_FILES.len(), "one mail per letter");
    // The FHIR Bundle the hub made for a 12-lead letter validates with an independent FHIR library.
    let fhir: String = sqlx::query_scalar("SELECT fhir FROM letters WHERE visit_id = $1")
        .bind(visits[1].0)
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    validate_fhir(&fhir);
    for (letter, main, companions) in letters {
        let raw = mails
            .iter()
            .find(|m| String::from_utf8_lossy(m).contains(letter["message_id"].as_str().unwrap()))
            .unwrap_or_else(|| panic!("no mail for {main}"));
        let files = check_mail(raw, &letter);
        // The CDA (valid against the ANS CI-SIS schema), and every original ECG file byte for byte.
        let (_, cda) = files
            .iter()
            .find(|(n, b)| {
                n.ends_with(".XML") && String::from_utf8_lossy(b).contains("<ClinicalDocument")
            })
            .expect("the CDA in the XDM package");
        validate_cda(cda);
        for original in std::iter::once(&main).chain(companions.iter()) {
            let bytes = std::fs::read(std::path::Path::new(crate::closing::ECG_DIR).join(original))
                .unwrap();
            assert!(
                files.iter().any(|(_, b)| *b == bytes),
                "{original} not in the XDM package: {:?}",
                files.iter().map(|(n, _)| n).collect::<Vec<_>>()
            );
        }
    }
    app.stop().await;
}

async fn a_relay_down_for_a_while_gets_the_letter_once_after_a_restart(engine: Engine) {
    let port = free_port();
    let mut app = spawn_app_with(engine, mail_config(port)).await;
    let visit = close_with_ecg(&app, None).await;
    // Nobody listens: the letter stays queued, retried, with the reason shown to the doctor.
    let letter = letter_when(&app, visit, "retried", |l| {
        l["attempts"].as_i64() >= Some(2) && l["status"] == "queued"
    })
    .await;
    assert_eq!(letter["status"], "queued");
    assert!(
        letter["last_error"]
            .as_str()
            .unwrap()
            .contains("could not be reached"),
        "{letter}"
    );
    // The hub restarts while the relay comes back: the outbox survives and sends it once.
    let smtp = SmtpServer::start(port);
    app.restart(mail_config(port)).await;
    let letter = letter_when(&app, visit, "sent", |l| l["status"] == "sent").await;
    assert!(letter["sent_at"].is_string());
    // A later letter goes out too: the outbox has passed again since, and did not resend the first.
    let later = close_with_ecg(&app, None).await;
    let later = letter_when(&app, later, "sent", |l| l["status"] == "sent").await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2, "each letter was sent exactly once");
    let of = |letter: &Value| {
        let id = letter["message_id"]
            .as_str()
            .unwrap()
            .trim_matches(['<', '>']);
        let found = mails
            .iter()
            .find(|m| String::from_utf8_lossy(m).contains(id));
        found.expect("a mail with the letter's Message-ID").clone()
    };
    check_mail(&of(&letter), &letter);
    check_mail(&of(&later), &later);
    let actions = app
        .audit_actions("letter", letter["id"].as_i64().unwrap())
        .await;
    assert!(
        actions
            .iter()
            .filter(|a| *a == "letter.attempt_failed")
            .count()
            >= 2,
        "{actions:?}"
    );
    assert_eq!(actions.last().map(String::as_str), Some("letter.sent"));
    app.stop().await;
}

async fn a_refusing_relay_fails_the_letter_with_its_reason_and_it_can_be_retried(engine: Engine) {
    let port = free_port();
    let refusing = SmtpServer::refusing(port);
    let mut app = spawn_app_with(engine, mail_config(port)).await;
    let visit = close_with_ecg(&app, None).await;
    // A permanent refusal is not retried: the doctor sees why at once.
    let letter = letter_when(&app, visit, "failed", |l| l["status"] == "failed").await;
    assert_eq!(letter["attempts"], 1);
    assert!(
        letter["last_error"]
            .as_str()
            .unwrap()
            .contains("mailbox unavailable"),
        "{letter}"
    );
    drop(refusing);
    // Once the relay is fixed, the doctor retries and the letter goes.
    let smtp = SmtpServer::start(port);
    app.restart(mail_config(port)).await;
    let doctor = app.login("doctor").await;
    app.post(
        &doctor,
        &format!("/api/v1/visits/{visit}/letter/retry"),
        json!({}),
    )
    .await
    .ok(200);
    let letter = letter_when(&app, visit, "sent", |l| l["status"] == "sent").await;
    assert_eq!(smtp.messages().len(), 1);
    // A sent letter is final: neither retried nor readdressed.
    app.post(
        &doctor,
        &format!("/api/v1/visits/{visit}/letter/retry"),
        json!({}),
    )
    .await
    .error(409, "conflict");
    app.put(
        &doctor,
        &format!("/api/v1/visits/{visit}/letter/recipient"),
        json!({"name": "Dr Autre", "mssante": "autre@medecin.mssante.fr"}),
    )
    .await
    .error(409, "conflict");
    assert_eq!(
        letter["message_id"],
        app.get(&doctor, &format!("/api/v1/visits/{visit}/letter"))
            .await
            .ok(200)["message_id"]
    );
    app.stop().await;
}

on_both_engines!(
    a_relay_down_for_a_while_gets_the_letter_once_after_a_restart,
    a_refusing_relay_fails_the_letter_with_its_reason_and_it_can_be_retried,
);
