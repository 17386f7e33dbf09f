//! Who may do what, as one table: every operation of the OpenAPI document × every seat, each
//! cell the class of status expected. A new route without a row fails the test, as does a row
//! for a route that no longer exists.
//!
//! Seats: no session, admin, dispatcher, the doctor of the visits, another doctor, the assistant
//! the doctor delegated to, an assistant without delegation, the nurse of the residents' EHPAD,
//! a nurse of another EHPAD, a partner nurse of the hub's network, one of another network.
//!
//! Classes: `+` 2xx; `e` 2xx with an empty list (a read scoped to nothing of this seat's); `-`
//! 401; `x` 403; `h` 404 (hidden, or absent); `c` 409 or 422 (allowed, but refused by the state
//! or a value). A 5xx or 400 is never expected.
//!
//! Every request but a GET runs on its own copy of the prepared store (a hub started on a
//! `VACUUM INTO` snapshot), so that a cell never sees another cell's writes and each expected
//! class holds whatever the order. SQLite only: the rules are the engine's same code; the SQL is
//! prepared on both engines by `statements.rs`.

use std::collections::BTreeMap;
use std::time::Duration;

use chevet::http::serve;
use chevet::hub::Hub;
use chevet::store::Db;
use reqwest::Method;
use serde_json::{json, Value};

use crate::closing::{complete_observations, ECG_DIR};
use crate::helpers::{spawn_app, test_config, Engine, TestApp, PASSWORD};

const SEATS: [&str; 11] = [
    "anon",
    "admin",
    "dispatcher",
    "doctor",
    "doctor2",
    "assistant",
    "assistant2",
    "ehpad",
    "ehpadother",
    "nurse",
    "nurseother",
];

/// Expected classes, one column per seat of `SEATS`.
///
/// Reviewed row by row when written (#14): each denial is the rule the route's module states.
const MATRIX: &[(&str, &str)] = &[
    // route                                     anon adm dsp doc dc2 ast as2 ehp eh2 nur nu2
    ("DELETE /api/v1/account/sessions", "- + + + + + + + + + +"),
    (
        "DELETE /api/v1/account/sessions/{id}",
        "- h h h h h h h h h h",
    ),
    ("DELETE /api/v1/delegations/{id}", "- + x x + x x x x x x"),
    ("DELETE /api/v1/ecgs/{id}", "- h h c h c h x h h h"),
    (
        "DELETE /api/v1/push/subscriptions/{id}",
        "- h h h h h h h h h h",
    ),
    (
        "GET /api/partner/v1/Appointment/{id}",
        "- - - - - - - - - - -",
    ),
    ("GET /api/v1/account/sessions", "- + + + + + + + + + +"),
    ("GET /api/v1/account/totp", "- + + + + + + + + + +"),
    ("GET /api/v1/addresses", "- + + x x x x + + x x"),
    ("GET /api/v1/association", "- + + + + + + + + + +"),
    ("GET /api/v1/calls", "- + + x x x x x x x x"),
    ("GET /api/v1/calls/export.csv", "- + + x x x x x x x x"),
    ("GET /api/v1/calls/{id}", "- + + x x x x x x x x"),
    ("GET /api/v1/audit", "- + x x x x x x x x x"),
    ("GET /api/v1/delegations", "- + x + + + + x x x x"),
    ("GET /api/v1/dispatch/settings", "- + + x x x x x x x x"),
    ("GET /api/v1/doctors", "- + + + + + e x x x x"),
    ("GET /api/v1/doctors/{id}", "- + + + h + h h h h h"),
    ("GET /api/v1/ecgs/{id}", "- h h + h + h + h h h"),
    (
        "GET /api/v1/ecgs/{id}/files/{name}",
        "- h h + h + h + h h h",
    ),
    ("GET /api/v1/ecgs/{id}/svg", "- h h + h + h + h h h"),
    ("GET /api/v1/events", "- + + + + + + + + + +"),
    ("GET /api/v1/push/key", "- + + + + + + + + + +"),
    ("GET /api/v1/icd10", "- + + + + + + + + x x"),
    ("GET /api/v1/institutions", "- + + x x x x + + x x"),
    (
        "GET /api/v1/institutions/{id}/residents",
        "- + + h h h h + h h h",
    ),
    ("GET /api/v1/me", "- + + + + + + + + + +"),
    ("GET /api/v1/me/coverage", "- x x x x x x x x + +"),
    ("GET /api/v1/nurse-acts", "- + + + + + + + + + +"),
    ("GET /api/v1/nurse-bookings", "- e e e e e e x x x x"),
    ("GET /api/v1/nurse-networks", "- + x x x x x x x x x"),
    ("GET /api/v1/nurse-offers", "- x x x x x x x x e e"),
    ("GET /api/v1/nurses/{id}/coverage", "- + x x x x x x x x x"),
    ("GET /api/v1/partner-clients", "- + x x x x x x x x x"),
    ("GET /api/v1/partner-networks", "- + + + + + + x x x x"),
    (
        "GET /api/v1/partner-networks/suitable",
        "- + + + h + h x x x x",
    ),
    ("GET /api/v1/patients", "- + + + e + e + + e e"),
    ("GET /api/v1/patients/{id}", "- + + + h + h + h h h"),
    ("GET /api/v1/patients/{id}/history", "- x x + h + h x x x x"),
    ("GET /api/v1/practitioners", "- e e e e e e e e x x"),
    ("GET /api/v1/sectors", "- e e e e e e e e e e"),
    ("GET /api/v1/shifts", "- + + e + x x x x x x"),
    ("GET /api/v1/stats", "- + + x x x x x x x x"),
    ("GET /api/v1/stats/export.csv", "- + + x x x x x x x x"),
    ("GET /api/v1/triage", "- + + + + + + + + + +"),
    ("GET /api/v1/users", "- + x x x x x x x x x"),
    ("GET /api/v1/visits", "- + + + e + e + e x x"),
    ("GET /api/v1/visits/{id}", "- + + + h + h + h h h"),
    ("GET /api/v1/visits/{id}/ecgs", "- x x + h + h + h h h"),
    ("GET /api/v1/visits/{id}/letter", "- x x + h + h x h h h"),
    (
        "GET /api/v1/visits/{id}/letter/pdf",
        "- x x + h + h x h h h",
    ),
    (
        "GET /api/v1/visits/{id}/letter/preview",
        "- x x + h + h x h h h",
    ),
    (
        "GET /api/v1/visits/{id}/nurse-bookings",
        "- e e e h e h x x x x",
    ),
    ("GET /api/v1/visits/{id}/report", "- x x + h + h + h h h"),
    (
        "GET /api/v1/visits/{id}/suggestions",
        "- + + x x x x x x x x",
    ),
    ("PATCH /api/v1/patients/{id}", "- + + + h + h + h h h"),
    ("PATCH /api/v1/users/{id}", "- + x x x x x x x x x"),
    (
        "POST /api/partner/v1/Appointment/$hold",
        "- - - - - - - - - - -",
    ),
    (
        "POST /api/partner/v1/Appointment/{id}/$book",
        "- - - - - - - - - - -",
    ),
    (
        "POST /api/partner/v1/Appointment/{id}/$cancel",
        "- - - - - - - - - - -",
    ),
    (
        "POST /api/partner/v1/Appointment/{id}/$respond",
        "- - - - - - - - - - -",
    ),
    ("POST /api/v1/account/password", "- + + + + + + + + + +"),
    ("POST /api/v1/account/totp", "- + + + + + + + + + +"),
    ("POST /api/v1/account/totp/confirm", "- c c c c c c c c c c"),
    ("POST /api/v1/account/totp/disable", "- c c c c c c c c c c"),
    ("POST /api/v1/auth/login", "- + + + + + + + + + +"),
    ("POST /api/v1/auth/logout", "- + + + + + + + + + +"),
    ("POST /api/v1/calls", "- + + x x x x + c x x"),
    ("POST /api/v1/calls/handled", "- + + x x x x x x x x"),
    ("POST /api/v1/delegations", "- c x x c x x x x x x"),
    (
        "POST /api/v1/delegations/{id}/accept",
        "- x x x + x x x x x x",
    ),
    ("POST /api/v1/dispatch/pass", "- + + x x x x x x x x"),
    ("POST /api/v1/institutions", "- + x x x x x x x x x"),
    ("POST /api/v1/intake/check", "- + + x x x x + + x x"),
    (
        "POST /api/v1/nurse-bookings/{id}/cancel",
        "- h h h h h h x x x x",
    ),
    (
        "POST /api/v1/nurse-bookings/{id}/proposal",
        "- h h h h h h x x x x",
    ),
    ("POST /api/v1/nurse-networks", "- + x x x x x x x x x"),
    (
        "POST /api/v1/nurse-offers/{id}/accept",
        "- x x x x x x x x h h",
    ),
    (
        "POST /api/v1/nurse-offers/{id}/decline",
        "- x x x x x x x x h h",
    ),
    (
        "POST /api/v1/nurse-offers/{id}/done",
        "- x x x x x x x x h h",
    ),
    (
        "POST /api/v1/nurse-offers/{id}/propose",
        "- x x x x x x x x h h",
    ),
    (
        "POST /api/v1/partner-callbacks/{booking}",
        "h h h h h h h h h h h",
    ),
    ("POST /api/v1/partner-clients", "- + x x x x x x x x x"),
    (
        "POST /api/v1/partner-clients/{id}/revoke",
        "- + x x x x x x x x x",
    ),
    ("POST /api/v1/partner-networks", "- + x x x x x x x x x"),
    ("POST /api/v1/patients", "- + + x x x x + + x x"),
    ("POST /api/v1/shifts", "- + + x x x x x x x x"),
    ("POST /api/v1/shifts/copy", "- + + x x x x x x x x"),
    ("POST /api/v1/shifts/import", "- + + x x x x x x x x"),
    ("PUT /api/v1/shifts/{id}", "- + + x x x x x x x x"),
    ("DELETE /api/v1/shifts/{id}", "- + + x x x x x x x x"),
    ("PATCH /api/v1/visits/{id}", "- + + h h h h x h h h"),
    ("POST /api/v1/visits/{id}/reassign", "- + + x h x h x h h h"),
    ("POST /api/v1/users", "- + x x x x x x x x x"),
    ("POST /api/v1/visits/{id}/assign", "- + + h h h h x h h h"),
    ("POST /api/v1/visits/{id}/cancel", "- + + x h x h + h h h"),
    ("POST /api/v1/visits/{id}/close", "- x x + h x h x h h h"),
    ("POST /api/v1/visits/{id}/ecgs", "- x x + h + h x h h h"),
    ("POST /api/v1/push/subscriptions", "- x x c c x x x x x x"),
    ("POST /api/v1/visits/{id}/seen", "- x x + h x h x h h h"),
    ("POST /api/v1/visits/{id}/en-route", "- + + + h + h x h h h"),
    (
        "POST /api/v1/visits/{id}/letter/retry",
        "- x x + h + h x h h h",
    ),
    (
        "POST /api/v1/visits/{id}/nurse-bookings",
        "- x x + h + h x h h h",
    ),
    ("POST /api/v1/visits/{id}/on-site", "- + + + h + h x h h h"),
    (
        "POST /api/v1/visits/{id}/redirect-15",
        "- + + + h x h x h h h",
    ),
    (
        "POST /api/v1/visits/{id}/report/validate",
        "- x x c h x h x h h h",
    ),
    ("POST /api/v1/visits/{id}/unassign", "- + + x h x h x h h h"),
    ("PUT /api/v1/association", "- + x x x x x x x x x"),
    ("PUT /api/v1/dispatch/settings", "- + + x x x x x x x x"),
    ("PUT /api/v1/doctors/{id}/position", "- + + + h + h h h h h"),
    ("PUT /api/v1/doctors/{id}/sharing", "- x x + h x h h h h h"),
    ("PUT /api/v1/doctors/{id}/status", "- + + + h + h h h h h"),
    ("PUT /api/v1/me/coverage", "- x x x x x x x x + +"),
    ("PUT /api/v1/nurses/{id}/coverage", "- + x x x x x x x x x"),
    ("PUT /api/v1/partner-networks/{id}", "- + x x x x x x x x x"),
    (
        "PUT /api/v1/visits/{id}/letter/recipient",
        "- x x + h + h x h h h",
    ),
    ("PUT /api/v1/visits/{id}/report", "- x x + h + h x h h h"),
];

/// What the preparation made, for the paths and bodies.
#[derive(Default)]
struct Made {
    queued: i64,
    assigned: i64,
    en_route: i64,
    on_site: i64,
    done: i64,
    ecg: i64,
    ecg_file: String,
    pending_delegation: i64,
    partner_network: i64,
    partner_client: i64,
    doctor: i64,
    doctor2: i64,
    nurse: i64,
    institution: i64,
    resident: i64,
    shift: i64,
    call: i64,
}

enum Body {
    None,
    Json(Value),
    Fhir(Value),
    Ecg,
    Csv(&'static str),
}

/// The request a row's route makes: its path with ids filled, and its body.
fn request_for(route: &str, m: &Made, seat: &str) -> (String, Body) {
    let (method, template) = route.split_once(' ').unwrap();
    let visit = match template {
        t if t.ends_with("/en-route") || t.ends_with("/seen") => m.assigned,
        t if t.ends_with("/on-site") => m.en_route,
        t if t.ends_with("/assign") || t.ends_with("/suggestions") => m.queued,
        t if t.ends_with("/unassign")
            || t.ends_with("/reassign")
            || t.ends_with("/cancel")
            || t.ends_with("/redirect-15") =>
        {
            m.assigned
        }
        _ if method == "PATCH" => m.queued,
        t if t.ends_with("/close")
            || t.ends_with("/nurse-bookings")
            || (t.ends_with("/ecgs") && method == "POST")
            || (t.ends_with("/report") && method == "PUT")
            || t.ends_with("/report/validate") =>
        {
            m.on_site
        }
        _ => m.done,
    };
    let id = match template {
        t if t.starts_with("/api/v1/visits/") => visit,
        t if t.starts_with("/api/v1/ecgs/") => m.ecg,
        t if t.starts_with("/api/v1/doctors/") => m.doctor,
        t if t.starts_with("/api/v1/delegations/") => m.pending_delegation,
        t if t.starts_with("/api/v1/institutions/") => m.institution,
        t if t.starts_with("/api/v1/nurses/") => m.nurse,
        t if t.starts_with("/api/v1/partner-clients/") => m.partner_client,
        t if t.starts_with("/api/v1/partner-networks/") => m.partner_network,
        t if t.starts_with("/api/v1/patients/") => m.resident,
        t if t.starts_with("/api/v1/users/") => m.doctor2,
        t if t.starts_with("/api/v1/shifts/") => m.shift,
        t if t.starts_with("/api/v1/calls/") => m.call,
        // Bookings, offers and appointments need a second hub: ids that do not exist here.
        _ => 999,
    };
    let path = template
        .replace("{id}", &id.to_string())
        .replace("{name}", &m.ecg_file)
        .replace("{booking}", "00000000-0000-4000-8000-000000000000");
    let path = match template {
        "/api/v1/account/sessions/{id}" => "/api/v1/account/sessions/0123456789abcdef".into(),
        "/api/v1/addresses" => format!("{path}?q=rue%20felix%20poulat"),
        "/api/v1/practitioners" => format!("{path}?name=martin"),
        "/api/v1/icd10" => format!("{path}?q=fievre"),
        "/api/v1/partner-networks/suitable" => {
            format!("{path}?visit_id={}&act=urinary_catheter", m.on_site)
        }
        _ => path,
    };
    let body = match (method, template) {
        ("GET", _) | ("DELETE", _) => Body::None,
        ("POST", "/api/v1/auth/login") => Body::Json(if seat == "anon" {
            json!({"username": "nobody", "password": "not the password"})
        } else {
            json!({"username": seat, "password": PASSWORD})
        }),
        ("POST", "/api/v1/account/password") => Body::Json(
            json!({"current_password": PASSWORD, "new_password": "une autre phrase de passe"}),
        ),
        ("POST", "/api/v1/account/totp/confirm") | ("POST", "/api/v1/account/totp/disable") => {
            Body::Json(json!({"code": "123456"}))
        }
        ("PUT", "/api/v1/association") => Body::Json(
            json!({"name": "SOS Médecins Test", "address_line": "2 rue de la Gare", "postcode": "38000",
                   "city": "Grenoble", "phone": "04 76 00 00 00", "mssante": "sos@test.mssante.fr"}),
        ),
        ("POST", "/api/v1/calls") => Body::Json(
            json!({"patient_id": m.resident, "motive": "chute, douleur de hanche", "urgency": 2}),
        ),
        ("POST", "/api/v1/delegations") => {
            Body::Json(json!({"doctor_id": m.doctor2, "assistant_id": "__assistant__"}))
        }
        ("PUT", "/api/v1/dispatch/settings") => Body::Json(json!({"mode": "propose"})),
        ("PUT", "/api/v1/doctors/{id}/position") => Body::Json(json!({"lat": 45.19, "lon": 5.72})),
        ("PUT", "/api/v1/doctors/{id}/status") => Body::Json(json!({"status": "at_centre"})),
        ("PUT", "/api/v1/doctors/{id}/sharing") => Body::Json(json!({"paused": true})),
        ("POST", "/api/v1/institutions") => Body::Json(
            json!({"name": "EHPAD Trois", "finess": "380784579", "address_line": "3 rue Haxo",
                   "postcode": "38000", "city": "Grenoble", "lat": 45.18, "lon": 5.73}),
        ),
        ("POST", "/api/v1/intake/check") => {
            Body::Json(json!({"motive": "fièvre", "lat": 45.1887, "lon": 5.7245}))
        }
        ("PUT", "/api/v1/me/coverage") | ("PUT", "/api/v1/nurses/{id}/coverage") => Body::Json(
            json!({"acts": ["injection"], "area": {"postcodes": ["38000"]}, "on_duty": true}),
        ),
        ("POST", "/api/v1/nurse-bookings/{id}/cancel") => Body::Json(json!({})),
        ("POST", "/api/v1/nurse-bookings/{id}/proposal") => Body::Json(json!({"accept": true})),
        ("POST", "/api/v1/nurse-networks") => Body::Json(json!({"name": "Réseau Sud"})),
        ("POST", "/api/v1/nurse-offers/{id}/accept") => Body::Json(json!({})),
        ("POST", "/api/v1/nurse-offers/{id}/propose") => {
            let soon = chrono::Utc::now() + chrono::Duration::minutes(45);
            Body::Json(json!({"proposed_at": soon.to_rfc3339()}))
        }
        ("POST", "/api/v1/partner-clients") => {
            Body::Json(json!({"name": "SOS Autre", "network_id": 1}))
        }
        ("POST", "/api/v1/partner-networks") | ("PUT", "/api/v1/partner-networks/{id}") => {
            Body::Json(
                json!({"name": format!("Réseau {seat}"), "base_url": "https://soins.example.fr/api/partner/v1",
                       "api_key": "k", "acts": ["urinary_catheter"], "priority": 10}),
            )
        }
        ("POST", "/api/v1/patients") => Body::Json(
            json!({"birth_name": "Blanc", "first_names": "Paul", "birth_date": "1938-01-02", "sex": "M"}),
        ),
        ("PATCH", "/api/v1/patients/{id}") => Body::Json(json!({"used_name": "Martin"})),
        ("POST", "/api/v1/shifts") => Body::Json(
            json!({"doctor_id": m.doctor2, "starts_at": "2030-01-01T18:00:00Z", "ends_at": "2030-01-02T08:00:00Z"}),
        ),
        ("POST", "/api/v1/users") => Body::Json(
            json!({"username": format!("new{seat}"), "password": PASSWORD, "display_name": "Nouveau", "role": "dispatcher"}),
        ),
        ("PATCH", "/api/v1/users/{id}") => Body::Json(json!({"display_name": "Dr Autre"})),
        ("POST", "/api/v1/push/subscriptions") => Body::Json(json!({
            "endpoint": "https://push.example.org/wpush/abc",
            // The generator of P-256: a valid point.
            "keys": {"p256dh": "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
                     "auth": "AAECAwQFBgcICQoLDA0ODw"},
        })),
        ("POST", "/api/v1/visits/{id}/assign") => Body::Json(json!({"doctor_id": m.doctor})),
        ("POST", "/api/v1/visits/{id}/reassign") => Body::Json(json!({"doctor_id": m.doctor2})),
        ("PATCH", "/api/v1/visits/{id}") => {
            Body::Json(json!({"urgency": 1, "notes": "rappel : aggravé"}))
        }
        ("POST", "/api/v1/calls/handled") => Body::Json(
            json!({"outcome": "advice", "caller_phone": "06 12 34 56 78", "motive": "fièvre modérée"}),
        ),
        ("PUT", "/api/v1/shifts/{id}") => Body::Json(
            json!({"doctor_id": m.doctor2, "starts_at": "2031-01-01T18:00:00Z", "ends_at": "2031-01-02T06:00:00Z"}),
        ),
        ("POST", "/api/v1/shifts/copy") => {
            Body::Json(json!({"from": "2031-01-01T00:00:00Z", "to": "2031-01-08T00:00:00Z"}))
        }
        ("POST", "/api/v1/shifts/import") => {
            Body::Csv("medecin;debut;fin\ndoctor2;01/02/2031 20:00;02/02/2031 08:00\n")
        }
        ("POST", "/api/v1/visits/{id}/ecgs") => Body::Ecg,
        ("PUT", "/api/v1/visits/{id}/letter/recipient") => Body::Json(
            json!({"name": "Dr Jean Dupont", "mssante": "jean.dupont@medecin.mssante.fr"}),
        ),
        ("POST", "/api/v1/visits/{id}/nurse-bookings") => {
            Body::Json(json!({"act": "urinary_catheter", "window_minutes": 60}))
        }
        ("PUT", "/api/v1/visits/{id}/report") => {
            Body::Json(json!({"observations": complete_observations(), "version": 0}))
        }
        ("POST", "/api/partner/v1/Appointment/$hold") => {
            Body::Fhir(json!({"resourceType": "Parameters", "parameter": []}))
        }
        ("POST", "/api/v1/partner-callbacks/{booking}") => {
            Body::Fhir(json!({"resourceType": "Appointment", "status": "booked"}))
        }
        ("POST", "/api/v1/visits/{id}/report/validate") => Body::Json(json!({"version": 0})),
        _ => Body::Json(json!({})),
    };
    (path, body)
}

fn class(status: u16, empty: bool) -> char {
    match status {
        200..=299 if empty => 'e',
        200..=299 => '+',
        401 => '-',
        403 => 'x',
        404 => 'h',
        409 | 422 => 'c',
        400 | 405 | 413 | 415 => 'b',
        429 => 't',
        _ => '!',
    }
}

async fn send(
    client: &reqwest::Client,
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: &Body,
    assistant_id: i64,
) -> (u16, bool) {
    let mut req = client.request(
        Method::from_bytes(method.as_bytes()).unwrap(),
        format!("{base}{path}"),
    );
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    req = req.header("Idempotency-Key", "matrix-1");
    req = match body {
        Body::None => req,
        Body::Json(v) => {
            let text = v
                .to_string()
                .replace("\"__assistant__\"", &assistant_id.to_string());
            req.header("Content-Type", "application/json").body(text)
        }
        Body::Fhir(v) => req
            .header("Content-Type", "application/fhir+json")
            .body(v.to_string()),
        Body::Csv(text) => req.header("Content-Type", "text/csv").body(*text),
        Body::Ecg => {
            let bytes =
                std::fs::read(std::path::Path::new(ECG_DIR).join("scp/Example.scp")).unwrap();
            req.multipart(reqwest::multipart::Form::new().part(
                "file",
                reqwest::multipart::Part::bytes(bytes).file_name("Example.scp"),
            ))
        }
    };
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    // The event stream never ends: its headers say enough.
    if method != "GET" || path.ends_with("/events") {
        return (status, false);
    }
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    (status, body.as_array().is_some_and(|a| a.is_empty()))
}

/// A hub on a fresh copy of the snapshot; returns its URL and what stops it.
async fn fork(
    snapshot: &std::path::Path,
    n: usize,
) -> (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<()>,
) {
    let copy = snapshot.with_file_name(format!("cell-{n}.db"));
    std::fs::copy(snapshot, &copy).unwrap();
    let db = Db::connect(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        let _ = serve(listener, Hub::start(db, test_config()).await, async {
            let _ = stopped.await;
        })
        .await;
    });
    (base, stop, server)
}

async fn resident_call(app: &TestApp, ehpad: &str) -> i64 {
    app.post(
        ehpad,
        "/api/v1/calls",
        json!({"patient_id": app.fx.resident, "motive": "chute, douleur de hanche", "urgency": 2}),
    )
    .await
    .ok(201)["id"]
        .as_i64()
        .unwrap()
}

async fn prepare(app: &TestApp) -> (Made, BTreeMap<&'static str, Option<String>>, i64) {
    let admin = app.login("admin").await;
    // The seats the fixture lacks: an assistant without delegation, a nurse of another network.
    let assistant2 = app
        .post(
            &admin,
            "/api/v1/users",
            json!({"username": "assistant2", "password": PASSWORD, "display_name": "Léa Roux", "role": "assistant"}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let other_network = app
        .post(
            &admin,
            "/api/v1/nurse-networks",
            json!({"name": "Réseau Nord"}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    app.post(
        &admin,
        "/api/v1/users",
        json!({"username": "nurseother", "password": PASSWORD, "display_name": "Inès Blanc",
               "role": "partner_nurse", "network_id": other_network}),
    )
    .await
    .ok(201);
    crate::closing::set_letterhead(app, &admin).await;
    let desk = app.login("dispatcher").await;
    let doctor = app.login("doctor").await;
    let ehpad = app.login("ehpad").await;
    app.send(
        Method::PATCH,
        &format!("/api/v1/patients/{}", app.fx.resident),
        Some(&desk),
        Some(json!({"birth_date": "1938-05-04"})),
    )
    .await
    .ok(200);
    // Visits of the EHPAD's resident, at each step, all the doctor's.
    let queued = resident_call(app, &ehpad).await;
    let mut at = Vec::new();
    for steps in [
        &[][..],
        &["en-route"][..],
        &["en-route", "on-site"][..],
        &["en-route", "on-site"][..],
    ] {
        let id = resident_call(app, &ehpad).await;
        app.post(
            &desk,
            &format!("/api/v1/visits/{id}/assign"),
            json!({"doctor_id": app.fx.doctor}),
        )
        .await
        .ok(200);
        for s in steps {
            app.post(&doctor, &format!("/api/v1/visits/{id}/{s}"), json!({}))
                .await
                .ok(200);
        }
        at.push(id);
    }
    let done = at[3];
    let uploaded = crate::closing::upload(app, &doctor, done, "scp/Example.scp", &[]).await;
    assert_eq!(uploaded.status(), 201);
    let uploaded: Value = uploaded.json().await.unwrap();
    let ecg = uploaded["id"].as_i64().unwrap();
    let ecg_file = uploaded["files"][0].as_str().unwrap().to_owned();
    app.put(
        &doctor,
        &format!("/api/v1/visits/{done}/report"),
        json!({"observations": complete_observations(), "version": 0}),
    )
    .await
    .ok(200);
    app.post(
        &doctor,
        &format!("/api/v1/visits/{done}/report/validate"),
        json!({"version": 1, "treating_physician": {"name": "Dr Jean Martin", "rpps": "10101010105",
               "mssante": "jean.martin@medecin.mssante.fr"}}),
    )
    .await
    .ok(200);
    let pending_delegation = app
        .post(
            &admin,
            "/api/v1/delegations",
            json!({"doctor_id": app.fx.doctor2, "assistant_id": assistant2}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let partner_network = app
        .post(
            &admin,
            "/api/v1/partner-networks",
            json!({"name": "SOS Infirmiers", "base_url": "https://soins.example.fr/api/partner/v1",
                   "api_key": "k", "acts": ["urinary_catheter"], "priority": 10}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let partner_client = app
        .post(
            &admin,
            "/api/v1/partner-clients",
            json!({"name": "SOS Médecins Voisin", "network_id": 1}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let shift = app
        .post(
            &desk,
            "/api/v1/shifts",
            json!({"doctor_id": app.fx.doctor2, "starts_at": "2031-01-01T18:00:00Z", "ends_at": "2031-01-02T08:00:00Z"}),
        )
        .await
        .ok(201)["id"]
        .as_i64()
        .unwrap();
    let call = app
        .get(&desk, &format!("/api/v1/visits/{queued}"))
        .await
        .ok(200)["call_id"]
        .as_i64()
        .unwrap();
    let mut tokens = BTreeMap::new();
    for seat in SEATS {
        tokens.insert(
            seat,
            if seat == "anon" {
                None
            } else {
                Some(app.login(seat).await)
            },
        );
    }
    let made = Made {
        queued,
        assigned: at[0],
        en_route: at[1],
        on_site: at[2],
        done,
        ecg,
        ecg_file,
        pending_delegation,
        partner_network,
        partner_client,
        doctor: app.fx.doctor,
        doctor2: app.fx.doctor2,
        nurse: app.fx.nurse,
        institution: app.fx.institution,
        resident: app.fx.resident,
        shift,
        call,
    };
    (made, tokens, assistant2)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_route_answers_every_seat_as_the_matrix_says() {
    let app = spawn_app(Engine::Sqlite).await;
    let (made, tokens, assistant2) = prepare(&app).await;
    let dir = tempfile::tempdir().unwrap();
    let snapshot = dir.path().join("snapshot.db");
    // The hub's outbox tries the validated letter at once (no relay here: it fails and waits).
    // A snapshot taken mid-attempt would hold it `sending`, and a fork's outbox would claim it
    // while a cell changes its recipient: wait for the attempt, then make it due in a day.
    for _ in 0..200 {
        let sending: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM letters WHERE status = 'sending' OR (status = 'queued' AND attempts = 0)",
        )
        .fetch_one(app.db.pool())
        .await
        .unwrap();
        if sending == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sqlx::query(&format!("VACUUM INTO '{}'", snapshot.display()))
        .execute(app.db.pool())
        .await
        .unwrap();
    {
        let snap = Db::connect(&format!("sqlite://{}", snapshot.display()))
            .await
            .unwrap();
        sqlx::query("UPDATE letters SET next_attempt_at = $1")
            .bind(chevet::store::Ts::now().plus(chrono::Duration::days(1)))
            .execute(snap.pool())
            .await
            .unwrap();
        snap.pool().close().await;
    }

    let doc: Value = app
        .client
        .get(app.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut routes = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            routes.push(format!("{} {path}", method.to_uppercase()));
        }
    }
    routes.sort();
    let expected: BTreeMap<&str, &str> = MATRIX.iter().copied().collect();
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let mut observed = Vec::new();
    let mut wrong = Vec::new();
    let mut n = 0;
    for route in &routes {
        let (method, _) = route.split_once(' ').unwrap();
        let mut cells = String::new();
        for seat in SEATS {
            let (path, body) = request_for(route, &made, seat);
            let token = tokens[seat].as_deref();
            let status = if method == "GET" {
                send(&client, &app.base, method, &path, token, &body, assistant2).await
            } else {
                n += 1;
                let (base, stop, server) = fork(&snapshot, n).await;
                let status = send(&client, &base, method, &path, token, &body, assistant2).await;
                let _ = stop.send(());
                let _ = server.await;
                status
            };
            cells.push(class(status.0, status.1));
        }
        let row: String = cells
            .chars()
            .map(|c| c.to_string())
            .collect::<Vec<_>>()
            .join(" ");
        match expected.get(route.as_str()) {
            Some(e) if *e == row => {}
            Some(e) => wrong.push(format!("{route}: expected {e}, got {row}")),
            None => wrong.push(format!("{route}: no row in the matrix (got {row})")),
        }
        observed.push(format!("    (\"{route}\", \"{row}\"),"));
    }
    for route in expected.keys() {
        if !routes.iter().any(|r| r == route) {
            wrong.push(format!(
                "{route}: a row for a route the document no longer has"
            ));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} cells differ from the matrix:\n{}\n\nobserved:\n{}",
        wrong.len(),
        wrong.join("\n"),
        observed.join("\n")
    );
    app.stop().await;
}
