//! European Data Format (EDF and EDF+): a fixed ASCII header, then data records holding a
//! block of 16-bit samples per signal.
//!
//! Exists because many Holter and portable-device tools export EDF (the Contec converter
//! does). Hand-written: the header is a handful of fixed-width ASCII fields.
//!
//! Supported: EDF and EDF+ (continuous or discontinuous: records are concatenated, gaps are
//! not filled); the "EDF Annotations" signal is skipped; physical/digital min/max give the
//! scale and baseline; physical dimension V, mV, uV (others read as mV); start date and time.
//! Not supported: BDF (24-bit), signals at different sampling rates (refused).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::{field_text, lead_name};
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Edf;

pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    bytes.len() >= 256
        && bytes.get(..8) == Some(b"0       ")
        && bytes
            .get(168..170)
            .is_some_and(|d| d.iter().all(u8::is_ascii_digit))
        && bytes.get(170) == Some(&b'.')
}

fn text(bytes: &[u8], start: usize, len: usize, what: &str) -> Result<String, EcgError> {
    let end = start.saturating_add(len);
    let b = bytes.get(start..end).ok_or_else(|| {
        EcgError::new(F, format!("header ends before the {what} field"))
            .at(format!("byte {}", bytes.len()))
    })?;
    Ok(field_text(b))
}

fn number<T: std::str::FromStr>(s: &str, what: &str, at: usize) -> Result<T, EcgError> {
    s.trim().parse().map_err(|_| {
        EcgError::new(F, format!("{what} {s:?} is not a number")).at(format!("byte {at}"))
    })
}

pub fn parse(bytes: &[u8]) -> Result<Ecg, EcgError> {
    let version = text(bytes, 0, 8, "version")?;
    if version != "0" {
        return Err(EcgError::new(
            F,
            format!("version {version:?} is not \"0\" (BDF is not supported)"),
        )
        .at("byte 0"));
    }
    let patient = text(bytes, 8, 80, "patient")?;
    let recording = text(bytes, 88, 80, "recording")?;
    let date = text(bytes, 168, 8, "start date")?;
    let time = text(bytes, 176, 8, "start time")?;
    let header_len: usize = number(&text(bytes, 184, 8, "header size")?, "header size", 184)?;
    let reserved = text(bytes, 192, 44, "reserved")?;
    let n_records: i64 = number(
        &text(bytes, 236, 8, "number of records")?,
        "number of records",
        236,
    )?;
    let record_s: f64 = number(
        &text(bytes, 244, 8, "record duration")?,
        "record duration",
        244,
    )?;
    let ns: usize = number(
        &text(bytes, 252, 4, "number of signals")?,
        "number of signals",
        252,
    )?;
    if ns == 0 {
        return Err(EcgError::new(F, "file declares no signals").at("byte 252"));
    }
    let expected_header = ns.checked_add(1).and_then(|n| n.checked_mul(256));
    if expected_header != Some(header_len) {
        return Err(EcgError::new(
            F,
            format!("header size {header_len} does not match {ns} signals (256 + {ns} x 256)"),
        )
        .at("byte 184"));
    }
    if bytes.len() < header_len {
        return Err(EcgError::new(
            F,
            format!("file ends inside the signal headers ({header_len} bytes needed)"),
        )
        .at(format!("byte {}", bytes.len())));
    }
    if !(record_s.is_finite() && record_s > 0.0) {
        return Err(
            EcgError::new(F, format!("record duration {record_s} is not positive")).at("byte 244"),
        );
    }

    // Signal header fields are stored field by field for all signals.
    let widths = [16usize, 80, 8, 8, 8, 8, 8, 80, 8, 32];
    let mut fields: Vec<Vec<(String, usize)>> = Vec::with_capacity(widths.len());
    let mut pos = 256usize;
    for w in widths {
        let mut col = Vec::with_capacity(ns);
        for _ in 0..ns {
            col.push((text(bytes, pos, w, "signal header")?, pos));
            pos += w;
        }
        fields.push(col);
    }
    let col = |k: usize, i: usize| -> (&str, usize) {
        fields
            .get(k)
            .and_then(|c| c.get(i))
            .map(|(s, p)| (s.as_str(), *p))
            .unwrap_or(("", 0))
    };

    struct Sig {
        name: String,
        keep: bool,
        n: usize,
        uv: f64,
        offset: f64,
    }
    let mut sigs = Vec::with_capacity(ns);
    for i in 0..ns {
        let (label, _) = col(0, i);
        let (dim, _) = col(2, i);
        let (pmin, p1) = col(3, i);
        let (pmax, p2) = col(4, i);
        let (dmin, p3) = col(5, i);
        let (dmax, p4) = col(6, i);
        let (nsamp, p5) = col(8, i);
        let pmin: f64 = number(pmin, "physical minimum", p1)?;
        let pmax: f64 = number(pmax, "physical maximum", p2)?;
        let dmin: f64 = number(dmin, "digital minimum", p3)?;
        let dmax: f64 = number(dmax, "digital maximum", p4)?;
        let n: usize = number(nsamp, "samples per record", p5)?;
        let keep = !label.eq_ignore_ascii_case("EDF Annotations");
        let (uv, offset) = if dmax != dmin && pmax.is_finite() && pmin.is_finite() {
            let k = (pmax - pmin) / (dmax - dmin);
            let scale = match dim.trim() {
                "V" => 1_000_000.0,
                d if d.eq_ignore_ascii_case("uv") || d == "µV" => 1.0,
                d if d.eq_ignore_ascii_case("nv") => 0.001,
                _ => 1000.0,
            };
            // physical = pmin + (d - dmin) * k = d * k + (pmin - dmin * k)
            (
                k * scale,
                if k != 0.0 { (pmin - dmin * k) / k } else { 0.0 },
            )
        } else if keep {
            return Err(EcgError::new(
                F,
                format!("signal {label:?} has equal digital minimum and maximum"),
            )
            .at(format!("byte {p3}")));
        } else {
            (1.0, 0.0)
        };
        sigs.push(Sig {
            name: lead_name(label),
            keep,
            n,
            uv,
            offset,
        });
    }
    let per_record: usize = sigs
        .iter()
        .try_fold(0usize, |a, s| a.checked_add(s.n))
        .ok_or_else(|| EcgError::new(F, "samples per record overflow").at("byte 256"))?;
    let record_bytes = per_record
        .checked_mul(2)
        .filter(|&b| b > 0)
        .ok_or_else(|| EcgError::new(F, "data records hold no samples").at("byte 256"))?;
    let data = bytes.get(header_len..).unwrap_or(&[]);
    let present = data.len() / record_bytes;
    let n_records = if n_records < 0 {
        present // -1: unknown while recording
    } else {
        let n = usize::try_from(n_records).unwrap_or(usize::MAX);
        if n > present {
            return Err(EcgError::new(
                F,
                format!(
                    "file is truncated: header declares {n} data records of {record_bytes} bytes, \
                     file holds {present}"
                ),
            )
            .at(format!("byte {}", bytes.len())));
        }
        n
    };
    let kept: Vec<&Sig> = sigs.iter().filter(|s| s.keep).collect();
    let Some(first) = kept.first() else {
        return Err(EcgError::new(F, "file has only annotation signals").at("byte 256"));
    };
    if let Some(other) = kept.iter().find(|s| s.n != first.n) {
        return Err(EcgError::new(
            F,
            format!(
                "signals {} and {} have different sampling rates ({} and {} samples per record)",
                first.name, other.name, first.n, other.n
            ),
        )
        .at("byte 256"));
    }
    let sampling_hz = first.n as f64 / record_s;
    let mut leads: Vec<Lead> = sigs
        .iter()
        .filter(|s| s.keep)
        .map(|s| Lead {
            name: s.name.clone(),
            samples: Vec::with_capacity(s.n.saturating_mul(n_records)),
            uv_per_unit: s.uv,
        })
        .collect();
    for rec in data.chunks_exact(record_bytes).take(n_records) {
        let mut at = 0usize;
        let mut li = 0usize;
        for s in &sigs {
            let block = rec.get(at * 2..(at + s.n) * 2).unwrap_or(&[]);
            at += s.n;
            if !s.keep {
                continue;
            }
            let off = s.offset.round() as i32;
            if let Some(lead) = leads.get_mut(li) {
                lead.samples.extend(
                    block
                        .chunks_exact(2)
                        .map(|c| i32::from(i16::from_le_bytes([c[0], c[1]])).saturating_add(off)),
                );
            }
            li += 1;
        }
    }

    let acquired_at = parse_start(&date, &time);
    // EDF+ recording field: "Startdate dd-MMM-yyyy admincode technician equipment".
    let device = if recording.starts_with("Startdate") || reserved.starts_with("EDF+") {
        recording
            .split_whitespace()
            .nth(4)
            .filter(|d| *d != "X")
            .map(|d| d.replace('_', " "))
    } else {
        None
    };
    let subject = subject_of(&patient);
    Ok(Ecg {
        format: F,
        sampling_hz,
        leads,
        acquired_at,
        device,
        subject,
    })
}

/// `dd.mm.yy` and `hh.mm.ss`; years 85–99 are 19xx, 00–84 are 20xx (the EDF clipping date).
fn parse_start(date: &str, time: &str) -> Option<NaiveDateTime> {
    let mut d = date.split('.').map(|p| p.trim().parse::<u32>().ok());
    let (day, month, yy) = (d.next()??, d.next()??, d.next()??);
    let year = if yy >= 85 { 1900 + yy } else { 2000 + yy };
    let mut t = time.split('.').map(|p| p.trim().parse::<u32>().ok());
    let (h, m, s) = (t.next()??, t.next()??, t.next()??);
    Some(NaiveDateTime::new(
        NaiveDate::from_ymd_opt(i32::try_from(year).ok()?, month, day)?,
        NaiveTime::from_hms_opt(h, m, s)?,
    ))
}

/// The patient field as a person would write it: EDF+ puts "code sex birthdate name" with `X` for
/// what is unknown and `_` for spaces; converters sometimes leave the `dd-MMM-yyyy` template.
fn subject_of(field: &str) -> Option<String> {
    let words: Vec<String> = field
        .split_whitespace()
        .filter(|w| *w != "X" && !w.eq_ignore_ascii_case("dd-MMM-yyyy"))
        .map(|w| w.replace('_', " "))
        .collect();
    (!words.is_empty()).then(|| words.join(" "))
}

#[cfg(test)]
mod subject_tests {
    use super::subject_of;

    #[test]
    fn placeholders_are_not_a_patient() {
        assert_eq!(subject_of("X X X X"), None);
        assert_eq!(subject_of("dd-MMM-yyyy"), None);
        assert_eq!(
            subject_of("MCH-0234567 F 02-MAY-1951 Haagse_Harry").as_deref(),
            Some("MCH-0234567 F 02-MAY-1951 Haagse Harry")
        );
    }
}
