//! HL7 v3 annotated ECG (FDA aECG, PORT_MT020001) XML.
//!
//! Exists because ECG carts (Mortara, GE, Philips) and trial core labs export resting ECGs
//! as aECG. Read with quick-xml's streaming reader: files hold tens of thousands of numbers
//! and no tree is needed.
//!
//! Reads the first sequence set of the series coded `RHYTHM` (representative beats inside
//! `<derivation>` are skipped): the `TIME_ABSOLUTE`/`TIME_RELATIVE` sequence gives the
//! sampling increment and start time, each `MDC_ECG_LEAD_*` sequence of type `SLIST_PQ` or
//! `SLIST_INT` gives `origin + scale * digits`. Subject (trial subject name and id), device
//! (manufacturer organisation and model) and acquisition time are read where present.
//! Not supported: GLIST_PQ leads (generated values), several sequence sets at different
//! rates (only the first is read).

use chrono::{NaiveDate, NaiveDateTime};
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::lead_name;
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Aecg;

pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(&[]);
    let text = String::from_utf8_lossy(head);
    let t = text.trim_start_matches('\u{feff}').trim_start();
    t.starts_with('<') && t.contains("AnnotatedECG")
}

#[derive(Default)]
struct Sequence {
    code: String,
    kind: String,
    head: Option<String>,
    increment: Option<(f64, String)>,
    origin: (f64, String),
    scale: Option<(f64, String)>,
    digits: Option<Vec<f64>>,
    at: String,
}

#[derive(Clone, Copy, PartialEq)]
enum Capture {
    Digits,
    SubjectName,
    Model,
    Maker,
}

fn attr(e: &BytesStart, name: &[u8]) -> Option<String> {
    e.attributes()
        .flatten()
        .find(|a| a.key.local_name().as_ref() == name)
        .map(|a| String::from_utf8_lossy(&a.value).into_owned())
}

fn number(s: &str, what: &str, at: &str) -> Result<f64, EcgError> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .ok_or_else(|| EcgError::new(F, format!("{what} {s:?} is not a number")).at(at.to_string()))
}

/// Microvolts in one unit of `unit`.
fn uv(unit: &str, at: &str) -> Result<f64, EcgError> {
    match unit.trim() {
        "uV" | "µV" | "" => Ok(1.0),
        "mV" => Ok(1000.0),
        "V" => Ok(1_000_000.0),
        "nV" => Ok(0.001),
        u => Err(EcgError::new(F, format!("unit {u:?} is not a voltage")).at(at.to_string())),
    }
}

/// HL7 TS: `YYYYMMDD[HH[MM[SS[.fff]]]][+ZZZZ]`, local time as written.
fn parse_ts(v: &str) -> Option<NaiveDateTime> {
    let v = v.split(['+', '-']).next()?.trim();
    let (main, frac) = v.split_once('.').unwrap_or((v, ""));
    let num = |r: std::ops::Range<usize>| main.get(r).and_then(|s| s.parse::<u32>().ok());
    let date = NaiveDate::from_ymd_opt(i32::try_from(num(0..4)?).ok()?, num(4..6)?, num(6..8)?)?;
    let ms = frac
        .get(..frac.len().min(3))
        .and_then(|f| format!("{f:0<3}").parse::<u32>().ok());
    date.and_hms_milli_opt(
        num(8..10).unwrap_or(0),
        num(10..12).unwrap_or(0),
        num(12..14).unwrap_or(0),
        ms.unwrap_or(0),
    )
}

pub fn parse(bytes: &[u8]) -> Result<Ecg, EcgError> {
    let mut reader = Reader::from_reader(bytes);
    let mut stack: Vec<Vec<u8>> = Vec::new();
    let mut seqs: Vec<Sequence> = Vec::new();
    let mut cur: Option<Sequence> = None;
    let mut capture: Option<(Capture, String)> = None;
    let mut rhythm_series_depth: Option<usize> = None;
    let mut rhythm_done = false;
    let mut series_time: Option<NaiveDateTime> = None;
    let mut subject_name: Option<String> = None;
    let mut subject_id: Option<String> = None;
    let mut model: Option<String> = None;
    let mut maker: Option<String> = None;
    let mut seen_root = false;

    loop {
        let pos = reader.buffer_position();
        let path = || {
            let names: Vec<String> = stack
                .iter()
                .rev()
                .take(3)
                .rev()
                .map(|n| String::from_utf8_lossy(n).into_owned())
                .collect();
            format!("element {} near byte {pos}", names.join("/"))
        };
        let event = reader.read_event().map_err(|e| {
            EcgError::new(F, format!("malformed XML: {e}"))
                .at(format!("byte {}", reader.error_position()))
        })?;
        let (e, is_start) = match event {
            Event::Start(e) => (e, true),
            Event::Empty(e) => (e, false),
            other => {
                match other {
                    Event::Text(t) => {
                        if let Some((_, buf)) = capture.as_mut() {
                            buf.push_str(&String::from_utf8_lossy(&t));
                        }
                    }
                    Event::GeneralRef(r) => {
                        if let Some((_, buf)) = capture.as_mut() {
                            buf.push_str(match r.as_ref() {
                                b"amp" => "&",
                                b"lt" => "<",
                                b"gt" => ">",
                                b"quot" => "\"",
                                b"apos" => "'",
                                _ => "",
                            });
                        }
                    }
                    Event::End(e) => {
                        let name = e.local_name().as_ref().to_vec();
                        stack.pop();
                        end_element(
                            &name,
                            &mut capture,
                            &mut cur,
                            &mut seqs,
                            &mut subject_name,
                            &mut model,
                            &mut maker,
                        )?;
                        if name == b"sequenceSet"
                            && rhythm_series_depth.is_some()
                            && !seqs.is_empty()
                        {
                            rhythm_done = true;
                        }
                        if name == b"series" && rhythm_series_depth == Some(stack.len()) {
                            rhythm_series_depth = None;
                        }
                    }
                    Event::Eof => break,
                    _ => {}
                }
                continue;
            }
        };
        {
            {
                let name = e.local_name().as_ref().to_vec();
                if !seen_root {
                    if name != b"AnnotatedECG" {
                        return Err(EcgError::new(
                            F,
                            format!(
                                "root element is {}, not AnnotatedECG",
                                String::from_utf8_lossy(&name)
                            ),
                        )
                        .at(format!("byte {pos}")));
                    }
                    seen_root = true;
                }
                let parent = stack.last().map(Vec::as_slice).unwrap_or(b"");
                let in_derivation = stack.iter().any(|n| n == b"derivation");
                match (parent, name.as_slice()) {
                    (b"series", b"code")
                        if !in_derivation
                            && rhythm_series_depth.is_none()
                            && !rhythm_done
                            && attr(&e, b"code").as_deref() == Some("RHYTHM") =>
                    {
                        rhythm_series_depth = Some(stack.len().saturating_sub(1));
                    }
                    (b"effectiveTime", b"low")
                        if stack.len() >= 2
                            && stack.get(stack.len() - 2).map(Vec::as_slice) == Some(b"series")
                            && series_time.is_none() =>
                    {
                        series_time = attr(&e, b"value").as_deref().and_then(parse_ts);
                    }
                    (_, b"sequence")
                        if rhythm_series_depth.is_some() && !in_derivation && !rhythm_done =>
                    {
                        cur = Some(Sequence {
                            at: path(),
                            ..Default::default()
                        });
                    }
                    (b"sequence", b"code") => {
                        if let Some(s) = cur.as_mut() {
                            s.code = attr(&e, b"code").unwrap_or_default();
                        }
                    }
                    (b"sequence", b"value") => {
                        if let Some(s) = cur.as_mut() {
                            s.kind = attr(&e, b"type").unwrap_or_default();
                        }
                    }
                    (b"value", field @ (b"head" | b"increment" | b"origin" | b"scale")) => {
                        if let Some(s) = cur.as_mut() {
                            let v = attr(&e, b"value").unwrap_or_default();
                            let unit = attr(&e, b"unit").unwrap_or_default();
                            let at = path();
                            match field {
                                b"head" => s.head = Some(v),
                                b"increment" => {
                                    s.increment = Some((number(&v, "increment", &at)?, unit))
                                }
                                b"origin" => s.origin = (number(&v, "origin", &at)?, unit),
                                _ => s.scale = Some((number(&v, "scale", &at)?, unit)),
                            }
                        }
                    }
                    (b"value", b"digits") if cur.is_some() => {
                        capture = Some((Capture::Digits, String::new()))
                    }
                    (b"subjectDemographicPerson", b"name") => {
                        capture = Some((Capture::SubjectName, String::new()))
                    }
                    (b"trialSubject", b"id") if subject_id.is_none() => {
                        subject_id = attr(&e, b"extension")
                    }
                    (b"manufacturedSeriesDevice", b"manufacturerModelName") if model.is_none() => {
                        capture = Some((Capture::Model, String::new()))
                    }
                    (b"manufacturerOrganization", b"name") if maker.is_none() => {
                        capture = Some((Capture::Maker, String::new()))
                    }
                    _ => {}
                }
                // An empty element closes at once: only push real starts.
                if is_start {
                    stack.push(name);
                } else {
                    end_element(
                        &name,
                        &mut capture,
                        &mut cur,
                        &mut seqs,
                        &mut subject_name,
                        &mut model,
                        &mut maker,
                    )?;
                }
            }
        }
    }
    if !seen_root {
        return Err(EcgError::new(F, "no AnnotatedECG element").at("byte 0"));
    }
    if let Some(open) = stack.last() {
        return Err(EcgError::new(
            F,
            format!("file ends inside element {}", String::from_utf8_lossy(open)),
        )
        .at(format!("byte {}", bytes.len())));
    }
    build(seqs, series_time, subject_name, subject_id, model, maker)
}

fn end_element(
    name: &[u8],
    capture: &mut Option<(Capture, String)>,
    cur: &mut Option<Sequence>,
    seqs: &mut Vec<Sequence>,
    subject_name: &mut Option<String>,
    model: &mut Option<String>,
    maker: &mut Option<String>,
) -> Result<(), EcgError> {
    match name {
        b"digits" | b"name" | b"manufacturerModelName" => {
            if let Some((kind, text)) = capture.take() {
                match kind {
                    Capture::Digits => {
                        if let Some(s) = cur.as_mut() {
                            let mut v = Vec::with_capacity(text.len() / 2);
                            for tok in text.split_ascii_whitespace() {
                                v.push(number(tok, "digit", &format!("{} (digits)", s.at))?);
                            }
                            s.digits = Some(v);
                        }
                    }
                    Capture::SubjectName => *subject_name = Some(text.trim().to_string()),
                    Capture::Model => *model = Some(text.trim().to_string()),
                    Capture::Maker => *maker = Some(text.trim().to_string()),
                }
            }
        }
        b"sequence" => {
            if let Some(s) = cur.take() {
                seqs.push(s);
            }
        }
        _ => {}
    }
    Ok(())
}

fn build(
    seqs: Vec<Sequence>,
    series_time: Option<NaiveDateTime>,
    subject_name: Option<String>,
    subject_id: Option<String>,
    model: Option<String>,
    maker: Option<String>,
) -> Result<Ecg, EcgError> {
    let time = seqs
        .iter()
        .find(|s| s.code.starts_with("TIME_"))
        .ok_or_else(|| {
            EcgError::new(
                F,
                "rhythm series has no TIME_ABSOLUTE or TIME_RELATIVE sequence",
            )
            .at("series RHYTHM/sequenceSet")
        })?;
    let (inc, unit) = time
        .increment
        .clone()
        .ok_or_else(|| EcgError::new(F, "time sequence has no increment").at(time.at.clone()))?;
    let seconds = match unit.trim() {
        "s" | "" => inc,
        "ms" => inc / 1000.0,
        "us" => inc / 1_000_000.0,
        u => {
            return Err(
                EcgError::new(F, format!("time increment unit {u:?} is not a time"))
                    .at(time.at.clone()),
            )
        }
    };
    if !(seconds > 0.0 && seconds.is_finite()) {
        return Err(
            EcgError::new(F, format!("time increment {inc} {unit} is not positive"))
                .at(time.at.clone()),
        );
    }
    let sampling_hz = ((1.0 / seconds) * 1e6).round() / 1e6;
    let acquired_at = time.head.as_deref().and_then(parse_ts).or(series_time);

    let mut leads = Vec::new();
    for s in seqs.iter().filter(|s| !s.code.starts_with("TIME_")) {
        let Some(digits) = &s.digits else {
            return Err(EcgError::new(
                F,
                format!(
                    "sequence {} has no digits (type {:?} is not supported)",
                    s.code, s.kind
                ),
            )
            .at(s.at.clone()));
        };
        let (scale, scale_unit) = s.scale.clone().unwrap_or((1.0, "uV".into()));
        let uv_per_unit = scale * uv(&scale_unit, &s.at)?;
        if !(uv_per_unit.is_finite() && uv_per_unit != 0.0) {
            return Err(
                EcgError::new(F, format!("scale {scale} {scale_unit} is zero")).at(s.at.clone()),
            );
        }
        let origin_units = s.origin.0 * uv(&s.origin.1, &s.at)? / uv_per_unit;
        let samples = digits
            .iter()
            .map(|d| {
                (d + origin_units)
                    .round()
                    .clamp(i32::MIN as f64, i32::MAX as f64) as i32
            })
            .collect();
        let label = s.code.strip_prefix("MDC_ECG_LEAD_").unwrap_or(&s.code);
        leads.push(Lead {
            name: lead_name(label),
            samples,
            uv_per_unit,
        });
    }
    if leads.is_empty() {
        return Err(
            EcgError::new(F, "rhythm series has no lead sequences").at("series RHYTHM/sequenceSet")
        );
    }
    let subject = match (subject_name, subject_id) {
        (Some(n), Some(i)) => Some(format!("{n} ({i})")),
        (n, i) => n.or(i),
    };
    let device = match (maker, model) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    };
    Ok(Ecg {
        format: F,
        sampling_hz,
        leads,
        acquired_at,
        device,
        subject,
    })
}
