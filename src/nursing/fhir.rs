//! The partner API's payloads, shaped on FHIR R4: the association sends a `Parameters` resource
//! holding a `ServiceRequest` (with the patient and the prescriber contained) and where to call
//! back; the network answers, calls back and is polled with an `Appointment`.
//!
//! Pure functions: building a payload from facts, and reading one back into facts, strictly,
//! with the path of whatever is wrong.

use serde_json::{json, Value};

use crate::domain::nursing::{act_label, parse_act, ACT_SYSTEM};
use crate::domain::AppointmentState;
use crate::store::Ts;

/// The extension giving an Appointment's exact state (FHIR's status is coarser).
pub const STATE_EXTENSION: &str = "https://chevet.fr/fhir/StructureDefinition/booking-state";
/// The extension giving until when a held Appointment is held.
pub const HOLD_EXTENSION: &str = "https://chevet.fr/fhir/StructureDefinition/hold-expires";
const GEOLOCATION: &str = "http://hl7.org/fhir/StructureDefinition/geolocation";
/// RPPS numbers as national health professional ids (`8` + RPPS), as French FHIR profiles do.
const RPPS_SYSTEM: &str = "urn:oid:1.2.250.1.71.4.2.1";
const UUID_SYSTEM: &str = "urn:ietf:rfc:3986";

#[derive(Debug, Clone, PartialEq)]
pub struct Address {
    pub line: String,
    pub postcode: Option<String>,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Patient {
    pub family: String,
    pub given: String,
    /// YYYY-MM-DD.
    pub birth_date: Option<String>,
    /// FHIR administrative gender: male, female, unknown.
    pub gender: &'static str,
    pub phone: Option<String>,
    pub address: Address,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Prescriber {
    pub name: String,
    pub rpps: Option<String>,
    pub phone: Option<String>,
}

/// What an association asks a network for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    /// The association's booking id (a UUID).
    pub id: String,
    pub act: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub authored_on: Ts,
    pub notes: Option<String>,
    pub patient: Patient,
    pub prescriber: Prescriber,
}

/// Where and how the network reports changes.
#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    pub url: String,
    pub token: String,
}

/// An appointment's state as both ends know it.
#[derive(Debug, Clone, PartialEq)]
pub struct Appointment {
    pub id: String,
    pub version: i64,
    pub state: AppointmentState,
    /// The association's booking id it answers.
    pub request_id: String,
    pub act: String,
    pub window_start: Ts,
    pub window_end: Ts,
    pub nurse_name: Option<String>,
    pub expected_at: Option<Ts>,
    pub proposed_at: Option<Ts>,
    pub hold_expires_at: Option<Ts>,
    pub cancel_reason: Option<String>,
    pub updated_at: Ts,
}

fn ts(t: Ts) -> String {
    t.to_db()
}

fn act_concept(act: &str) -> Value {
    let label = act_label(act).unwrap_or(act);
    json!({"coding": [{"system": ACT_SYSTEM, "code": act, "display": label}], "text": label})
}

/// The ServiceRequest for `r`, the patient and the prescriber contained.
pub fn service_request(r: &Request) -> Value {
    let p = &r.patient;
    let mut address = json!({
        "use": "home",
        "line": [p.address.line],
        "city": p.address.city,
        "country": "FR",
    });
    if let Some(pc) = &p.address.postcode {
        address["postalCode"] = json!(pc);
    }
    if let (Some(lat), Some(lon)) = (p.address.lat, p.address.lon) {
        address["extension"] = json!([{
            "url": GEOLOCATION,
            "extension": [
                {"url": "latitude", "valueDecimal": lat},
                {"url": "longitude", "valueDecimal": lon},
            ],
        }]);
    }
    let mut patient = json!({
        "resourceType": "Patient",
        "id": "patient",
        "name": [{"family": p.family, "given": p.given.split_whitespace().collect::<Vec<_>>()}],
        "gender": p.gender,
        "address": [address],
    });
    if let Some(b) = &p.birth_date {
        patient["birthDate"] = json!(b);
    }
    if let Some(phone) = &p.phone {
        patient["telecom"] = json!([{"system": "phone", "value": phone}]);
    }
    let mut prescriber = json!({
        "resourceType": "Practitioner",
        "id": "prescriber",
        "name": [{"text": r.prescriber.name}],
    });
    if let Some(rpps) = &r.prescriber.rpps {
        prescriber["identifier"] = json!([{"system": RPPS_SYSTEM, "value": format!("8{rpps}")}]);
    }
    if let Some(phone) = &r.prescriber.phone {
        prescriber["telecom"] = json!([{"system": "phone", "value": phone}]);
    }
    let mut sr = json!({
        "resourceType": "ServiceRequest",
        "contained": [patient, prescriber],
        "identifier": [{"system": UUID_SYSTEM, "value": format!("urn:uuid:{}", r.id)}],
        "status": "active",
        "intent": "order",
        "priority": "urgent",
        "code": act_concept(&r.act),
        "subject": {"reference": "#patient"},
        "occurrencePeriod": {"start": ts(r.window_start), "end": ts(r.window_end)},
        "authoredOn": ts(r.authored_on),
        "requester": {"reference": "#prescriber"},
    });
    if let Some(n) = &r.notes {
        sr["note"] = json!([{"text": n}]);
    }
    sr
}

/// The body of a hold: the request, and where to call back.
pub fn hold_parameters(r: &Request, callback: &Callback) -> Value {
    json!({
        "resourceType": "Parameters",
        "parameter": [
            {"name": "service-request", "resource": service_request(r)},
            {"name": "callback-url", "valueUrl": callback.url},
            {"name": "callback-token", "valueString": callback.token},
        ],
    })
}

/// The Appointment resource for `a`.
pub fn appointment(a: &Appointment) -> Value {
    let mut extension = vec![json!({"url": STATE_EXTENSION, "valueCode": a.state.as_str()})];
    if let (Some(h), AppointmentState::Held) = (a.hold_expires_at, a.state) {
        extension.push(json!({"url": HOLD_EXTENSION, "valueDateTime": ts(h)}));
    }
    let nurse_status = match a.state {
        AppointmentState::Accepted | AppointmentState::Done => "accepted",
        AppointmentState::Proposed => "tentative",
        AppointmentState::Declined => "declined",
        _ => "needs-action",
    };
    let mut nurse = json!({
        "type": [{"text": "Infirmier(e)"}],
        "required": "required",
        "status": nurse_status,
    });
    if let Some(n) = &a.nurse_name {
        nurse["actor"] = json!({"display": n});
    }
    // The time the nurse comes (or proposes), else the window asked for.
    let start = a.proposed_at.or(a.expected_at).unwrap_or(a.window_start);
    let end = match a.proposed_at.or(a.expected_at) {
        Some(t) => t.plus(chrono::Duration::minutes(30)),
        None => a.window_end,
    };
    let mut v = json!({
        "resourceType": "Appointment",
        "id": a.id,
        "meta": {"versionId": a.version.to_string(), "lastUpdated": ts(a.updated_at)},
        "extension": extension,
        "status": a.state.fhir_status(),
        "serviceType": [act_concept(&a.act)],
        "basedOn": [{"identifier": {"system": UUID_SYSTEM, "value": format!("urn:uuid:{}", a.request_id)}}],
        "start": ts(start),
        "end": ts(end),
        "requestedPeriod": [{"start": ts(a.window_start), "end": ts(a.window_end)}],
        "participant": [nurse],
    });
    if let Some(r) = &a.cancel_reason {
        if a.state.fhir_status() == "cancelled" {
            v["cancelationReason"] = json!({"text": r});
        }
    }
    v
}

/// Where a payload is wrong.
#[derive(Debug, Clone, PartialEq)]
pub struct PayloadError {
    pub field: String,
    pub message: String,
}

fn bad(field: impl Into<String>, message: impl Into<String>) -> PayloadError {
    PayloadError {
        field: field.into(),
        message: message.into(),
    }
}

fn text<'a>(v: &'a Value, path: &str, field: &str) -> Result<&'a str, PayloadError> {
    v.get(field)
        .ok_or_else(|| bad(format!("{path}.{field}"), "missing"))?
        .as_str()
        .ok_or_else(|| bad(format!("{path}.{field}"), "must be a string"))
}

fn opt_text(v: &Value, path: &str, field: &str) -> Result<Option<String>, PayloadError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(bad(format!("{path}.{field}"), "must be a string")),
    }
}

fn instant(v: &Value, path: &str, field: &str) -> Result<Ts, PayloadError> {
    let s = text(v, path, field)?;
    Ts::parse(s).map_err(|_| {
        bad(
            format!("{path}.{field}"),
            "must be a dateTime with a time zone",
        )
    })
}

fn opt_instant(v: &Value, path: &str, field: &str) -> Result<Option<Ts>, PayloadError> {
    match v.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(_) => instant(v, path, field).map(Some),
    }
}

fn first<'a>(v: &'a Value, path: &str, field: &str) -> Result<&'a Value, PayloadError> {
    v.get(field)
        .and_then(Value::as_array)
        .and_then(|a| a.first())
        .ok_or_else(|| bad(format!("{path}.{field}"), "must be a non-empty array"))
}

fn uuid_identifier(v: &Value, path: &str) -> Result<String, PayloadError> {
    let value = text(v, path, "value")?;
    let id = value.strip_prefix("urn:uuid:").unwrap_or(value);
    uuid::Uuid::parse_str(id)
        .map(|u| u.to_string())
        .map_err(|_| bad(format!("{path}.value"), "must be a urn:uuid: identifier"))
}

fn act_of(concept: &Value, path: &str) -> Result<String, PayloadError> {
    let coding = first(concept, path, "coding")?;
    let cpath = format!("{path}.coding[0]");
    if text(coding, &cpath, "system")? != ACT_SYSTEM {
        return Err(bad(
            format!("{cpath}.system"),
            format!("must be {ACT_SYSTEM}"),
        ));
    }
    let code = text(coding, &cpath, "code")?;
    parse_act(code)
        .map(str::to_owned)
        .map_err(|e| bad(format!("{cpath}.code"), e.message))
}

fn contained<'a>(sr: &'a Value, reference: &Value, path: &str) -> Result<&'a Value, PayloadError> {
    let r = text(reference, path, "reference")?;
    let id = r.strip_prefix('#').ok_or_else(|| {
        bad(
            format!("{path}.reference"),
            "must point at a contained resource (#id)",
        )
    })?;
    sr.get("contained")
        .and_then(Value::as_array)
        .and_then(|c| {
            c.iter()
                .find(|x| x.get("id").and_then(Value::as_str) == Some(id))
        })
        .ok_or_else(|| {
            bad(
                format!("{path}.reference"),
                format!("no contained resource {id:?}"),
            )
        })
}

fn phone(v: &Value) -> Option<String> {
    v.get("telecom")?
        .as_array()?
        .iter()
        .find(|t| t.get("system").and_then(Value::as_str) == Some("phone"))
        .and_then(|t| t.get("value")?.as_str())
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
}

fn geolocation(address: &Value) -> (Option<f64>, Option<f64>) {
    let part = |name: &str| {
        address
            .get("extension")?
            .as_array()?
            .iter()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(GEOLOCATION))?
            .get("extension")?
            .as_array()?
            .iter()
            .find(|e| e.get("url").and_then(Value::as_str) == Some(name))?
            .get("valueDecimal")?
            .as_f64()
    };
    match (part("latitude"), part("longitude")) {
        (Some(lat), Some(lon)) if crate::domain::Coordinates::parse(lat, lon).is_ok() => {
            (Some(lat), Some(lon))
        }
        _ => (None, None),
    }
}

/// Reads a ServiceRequest as [`service_request`] writes it (other software may add more).
pub fn read_service_request(sr: &Value, path: &str) -> Result<Request, PayloadError> {
    if sr.get("resourceType").and_then(Value::as_str) != Some("ServiceRequest") {
        return Err(bad(
            format!("{path}.resourceType"),
            "must be ServiceRequest",
        ));
    }
    let id = uuid_identifier(
        first(sr, path, "identifier")?,
        &format!("{path}.identifier[0]"),
    )?;
    let code = sr
        .get("code")
        .ok_or_else(|| bad(format!("{path}.code"), "missing"))?;
    let act = act_of(code, &format!("{path}.code"))?;
    let period_path = format!("{path}.occurrencePeriod");
    let period = sr
        .get("occurrencePeriod")
        .ok_or_else(|| bad(&period_path, "missing: when the nurse is needed"))?;
    let window_start = instant(period, &period_path, "start")?;
    let window_end = instant(period, &period_path, "end")?;
    if window_end <= window_start {
        return Err(bad(format!("{period_path}.end"), "must come after start"));
    }
    let authored_on = opt_instant(sr, path, "authoredOn")?.unwrap_or_else(Ts::now);
    let notes = match sr.get("note") {
        None => None,
        Some(n) => {
            let texts: Vec<&str> = n
                .as_array()
                .ok_or_else(|| bad(format!("{path}.note"), "must be an array"))?
                .iter()
                .filter_map(|x| x.get("text").and_then(Value::as_str))
                .collect();
            Some(texts.join("\n")).filter(|t| !t.trim().is_empty())
        }
    };

    let subject_path = format!("{path}.subject");
    let subject = sr
        .get("subject")
        .ok_or_else(|| bad(&subject_path, "missing"))?;
    let p = contained(sr, subject, &subject_path)?;
    let ppath = format!("{path}.contained[patient]");
    let name = first(p, &ppath, "name")?;
    let npath = format!("{ppath}.name[0]");
    let family = text(name, &npath, "family")?.trim().to_owned();
    if family.is_empty() {
        return Err(bad(format!("{npath}.family"), "must not be empty"));
    }
    let given = name
        .get("given")
        .and_then(Value::as_array)
        .map(|g| {
            g.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" ")
        })
        .unwrap_or_default();
    let gender = match p.get("gender").and_then(Value::as_str) {
        Some("male") => "male",
        Some("female") => "female",
        Some("other") => "other",
        _ => "unknown",
    };
    let birth_date = opt_text(p, &ppath, "birthDate")?;
    if let Some(b) = &birth_date {
        if chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").is_err() {
            return Err(bad(format!("{ppath}.birthDate"), "must be YYYY-MM-DD"));
        }
    }
    let a = first(p, &ppath, "address")?;
    let apath = format!("{ppath}.address[0]");
    let line = a
        .get("line")
        .and_then(Value::as_array)
        .map(|l| {
            l.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let city = text(a, &apath, "city")?.trim().to_owned();
    if city.is_empty() {
        return Err(bad(format!("{apath}.city"), "must not be empty"));
    }
    let (lat, lon) = geolocation(a);
    let address = Address {
        line,
        postcode: opt_text(a, &apath, "postalCode")?,
        city,
        lat,
        lon,
    };

    let rpath = format!("{path}.requester");
    let requester = sr
        .get("requester")
        .ok_or_else(|| bad(&rpath, "missing: the prescriber"))?;
    let pr = contained(sr, requester, &rpath)?;
    let prpath = format!("{path}.contained[prescriber]");
    let pname = first(pr, &prpath, "name")?;
    let pname = opt_text(pname, &format!("{prpath}.name[0]"), "text")?
        .or_else(|| {
            let family = pname.get("family")?.as_str()?;
            Some(family.to_owned())
        })
        .ok_or_else(|| bad(format!("{prpath}.name[0].text"), "missing"))?;
    let rpps = pr
        .get("identifier")
        .and_then(Value::as_array)
        .and_then(|ids| {
            ids.iter()
                .find(|i| i.get("system").and_then(Value::as_str) == Some(RPPS_SYSTEM))
        })
        .and_then(|i| i.get("value")?.as_str())
        .map(|v| v.strip_prefix('8').unwrap_or(v).to_owned());

    Ok(Request {
        id,
        act,
        window_start,
        window_end,
        authored_on,
        notes,
        patient: Patient {
            family,
            given,
            birth_date,
            gender,
            phone: phone(p),
            address,
        },
        prescriber: Prescriber {
            name: pname,
            rpps,
            phone: phone(pr),
        },
    })
}

/// Reads the body of a hold: the request and where to call back (optional: a client may poll).
pub fn read_hold(params: &Value) -> Result<(Request, Option<Callback>), PayloadError> {
    if params.get("resourceType").and_then(Value::as_str) != Some("Parameters") {
        return Err(bad("resourceType", "must be Parameters"));
    }
    let list = params
        .get("parameter")
        .and_then(Value::as_array)
        .ok_or_else(|| bad("parameter", "must be an array"))?;
    let named = |name: &str| {
        list.iter()
            .position(|p| p.get("name").and_then(Value::as_str) == Some(name))
            .map(|i| (i, &list[i]))
    };
    let (i, sr) = named("service-request")
        .ok_or_else(|| bad("parameter", "missing the service-request parameter"))?;
    let path = format!("parameter[{i}].resource");
    let sr = sr.get("resource").ok_or_else(|| bad(&path, "missing"))?;
    let request = read_service_request(sr, &path)?;
    let callback = match (named("callback-url"), named("callback-token")) {
        (None, None) => None,
        (Some((i, u)), Some((j, t))) => {
            let url = text(u, &format!("parameter[{i}]"), "valueUrl")?;
            let parsed = reqwest::Url::parse(url)
                .map_err(|_| bad(format!("parameter[{i}].valueUrl"), "not a URL"))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(bad(
                    format!("parameter[{i}].valueUrl"),
                    "must be http or https",
                ));
            }
            let token = text(t, &format!("parameter[{j}]"), "valueString")?;
            if token.len() < 16 {
                return Err(bad(
                    format!("parameter[{j}].valueString"),
                    "too short for a secret",
                ));
            }
            Some(Callback {
                url: url.to_owned(),
                token: token.to_owned(),
            })
        }
        _ => {
            return Err(bad(
                "parameter",
                "callback-url and callback-token go together",
            ))
        }
    };
    Ok((request, callback))
}

fn extension<'a>(v: &'a Value, url: &str) -> Option<&'a Value> {
    v.get("extension")?
        .as_array()?
        .iter()
        .find(|e| e.get("url").and_then(Value::as_str) == Some(url))
}

/// Reads an Appointment as [`appointment`] writes it.
pub fn read_appointment(v: &Value) -> Result<Appointment, PayloadError> {
    if v.get("resourceType").and_then(Value::as_str) != Some("Appointment") {
        return Err(bad("resourceType", "must be Appointment"));
    }
    let id = text(v, "Appointment", "id")?.to_owned();
    let version = v
        .get("meta")
        .and_then(|m| m.get("versionId"))
        .and_then(Value::as_str)
        .and_then(|s| s.parse::<i64>().ok())
        .ok_or_else(|| bad("meta.versionId", "must be a number as a string"))?;
    let state = extension(v, STATE_EXTENSION)
        .and_then(|e| e.get("valueCode"))
        .and_then(Value::as_str)
        .ok_or_else(|| bad("extension", format!("missing {STATE_EXTENSION}")))?
        .parse::<AppointmentState>()
        .map_err(|e| bad("extension", e))?;
    let hold_expires_at = match extension(v, HOLD_EXTENSION) {
        Some(e) => Some(instant(e, "extension", "valueDateTime")?),
        None => None,
    };
    let based = first(v, "Appointment", "basedOn")?;
    let request_id = uuid_identifier(
        based
            .get("identifier")
            .ok_or_else(|| bad("basedOn[0].identifier", "missing"))?,
        "basedOn[0].identifier",
    )?;
    let act = act_of(first(v, "Appointment", "serviceType")?, "serviceType[0]")?;
    let period = first(v, "Appointment", "requestedPeriod")?;
    let window_start = instant(period, "requestedPeriod[0]", "start")?;
    let window_end = instant(period, "requestedPeriod[0]", "end")?;
    let nurse = first(v, "Appointment", "participant")?;
    let nurse_name = nurse
        .get("actor")
        .and_then(|a| a.get("display"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let start = opt_instant(v, "Appointment", "start")?;
    let (expected_at, proposed_at) = match state {
        AppointmentState::Accepted | AppointmentState::Done => (start, None),
        AppointmentState::Proposed => (None, start),
        _ => (None, None),
    };
    let cancel_reason = v
        .get("cancelationReason")
        .and_then(|c| c.get("text"))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let updated_at = v
        .get("meta")
        .map(|m| opt_instant(m, "meta", "lastUpdated"))
        .transpose()?
        .flatten()
        .unwrap_or_else(Ts::now);
    Ok(Appointment {
        id,
        version,
        state,
        request_id,
        act,
        window_start,
        window_end,
        nurse_name,
        expected_at,
        proposed_at,
        hold_expires_at,
        cancel_reason,
        updated_at,
    })
}

/// A partner payload (FHIR) wrong at `field`.
impl From<PayloadError> for crate::error::Error {
    fn from(e: PayloadError) -> crate::error::Error {
        crate::error::Error::new(crate::error::ErrorKind::Invalid, "invalid_field", e.message)
            .with_field(e.field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Request {
        let at = Ts::parse("2026-11-23T10:30:00Z").unwrap();
        Request {
            id: "6f1c2a4e-8b7d-4c3e-9a10-2b3c4d5e6f70".into(),
            act: "urinary_catheter".into(),
            window_start: at,
            window_end: at.plus(chrono::Duration::hours(1)),
            authored_on: at,
            notes: Some("Sonde CH16 à demeure, arrachée ce matin.".into()),
            patient: Patient {
                family: "Moreau".into(),
                given: "Jeanne Marie".into(),
                birth_date: Some("1938-04-02".into()),
                gender: "female",
                phone: Some("04 76 00 00 00".into()),
                address: Address {
                    line: "12 rue Lesdiguières".into(),
                    postcode: Some("38000".into()),
                    city: "Grenoble".into(),
                    lat: Some(45.1885),
                    lon: Some(5.7245),
                },
            },
            prescriber: Prescriber {
                name: "Dr Antoine Leroy".into(),
                rpps: Some("10003456789".into()),
                phone: None,
            },
        }
    }

    #[test]
    fn a_hold_reads_back_what_was_written() {
        let r = sample();
        let cb = Callback {
            url: "http://127.0.0.1:9/api/v1/partner-callbacks/x".into(),
            token: "0123456789abcdef0123".into(),
        };
        let (back, back_cb) = read_hold(&hold_parameters(&r, &cb)).unwrap();
        assert_eq!(back, r);
        assert_eq!(back_cb, Some(cb));
    }

    #[test]
    fn an_appointment_reads_back_what_was_written() {
        let r = sample();
        for state in AppointmentState::ALL {
            let a = Appointment {
                id: "a1".into(),
                version: 4,
                state: *state,
                request_id: r.id.clone(),
                act: r.act.clone(),
                window_start: r.window_start,
                window_end: r.window_end,
                nurse_name: Some("Hélène Jacquet".into()),
                expected_at: matches!(state, AppointmentState::Accepted | AppointmentState::Done)
                    .then(|| r.window_start.plus(chrono::Duration::minutes(25))),
                proposed_at: (*state == AppointmentState::Proposed)
                    .then(|| r.window_end.plus(chrono::Duration::minutes(40))),
                hold_expires_at: (*state == AppointmentState::Held).then_some(r.window_start),
                cancel_reason: state.is_final().then(|| "no nurse".to_owned()),
                updated_at: r.authored_on,
            };
            let mut back = read_appointment(&appointment(&a)).unwrap();
            if state.fhir_status() != "cancelled" {
                back.cancel_reason = a.cancel_reason.clone();
            }
            assert_eq!(back, a, "{state:?}");
        }
    }

    #[test]
    fn wrong_payloads_name_the_field() {
        let r = sample();
        let cb = Callback {
            url: "http://127.0.0.1:9/cb".into(),
            token: "0123456789abcdef0123".into(),
        };
        let good = hold_parameters(&r, &cb);
        type Mutation = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Mutation)> = vec![
            (
                "resourceType",
                Box::new(|v| v["resourceType"] = json!("Bundle")),
            ),
            (
                "parameter[0].resource.code.coding[0].code",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["code"]["coding"][0]["code"] = json!("tea")
                }),
            ),
            (
                "parameter[0].resource.occurrencePeriod.end",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["occurrencePeriod"]["end"] =
                        json!("2020-01-01T00:00:00Z")
                }),
            ),
            (
                "parameter[0].resource.occurrencePeriod.start",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["occurrencePeriod"]["start"] = json!("tomorrow")
                }),
            ),
            (
                "parameter[0].resource.subject.reference",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["subject"]["reference"] = json!("#nobody")
                }),
            ),
            (
                "parameter[0].resource.contained[patient].address[0].city",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["contained"][0]["address"][0]["city"] = json!(3)
                }),
            ),
            (
                "parameter[1].valueUrl",
                Box::new(|v| v["parameter"][1]["valueUrl"] = json!("file:///etc/passwd")),
            ),
            (
                "parameter[0].resource.identifier[0].value",
                Box::new(|v| {
                    v["parameter"][0]["resource"]["identifier"][0]["value"] = json!("urn:uuid:nope")
                }),
            ),
        ];
        for (field, mutate) in cases {
            let mut v = good.clone();
            mutate(&mut v);
            let e = read_hold(&v).unwrap_err();
            assert_eq!(e.field, field, "{e:?}");
        }
    }
}
