//! Contec ECG90A native `.ECG` files: a 43-byte header, rows of eight 16-bit samples at
//! 800 Hz (II, III, V1..V6), a 37-byte footer.
//!
//! Exists because the portable 12-lead device some doctors carry writes only this format.
//! The layout is reverse-engineered by Niccolo Rigacci (RigacciOrg/ecg-contec, the
//! `ecg_contec.py` tool); this reader follows it: samples are offset by 2048, 0x6800 marks
//! "no signal", 5000 nV per unit, an all-zero row ends the data, and I, aVR, aVL, aVF are
//! computed from II and III with Einthoven's and Goldberger's formulas (integer halves
//! truncated toward zero, as the tool does).
//!
//! Empty leads: a lead whose every sample is "no signal" (V1–V6 when the chest electrodes
//! are not connected) is dropped; isolated "no signal" samples in a kept lead read as 0.

use chrono::NaiveDateTime;

use super::field_text;
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Contec;
const HEADER_LEN: usize = 43;
const FOOTER_LEN: usize = 37;
const SERIES: usize = 8;
const NULL_VALUE: u16 = 0x6800;
const OFFSET: i32 = -2048;
const SAMPLING_HZ: f64 = 800.0;
const UV_PER_UNIT: f64 = 5.0;

pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let digits = |r: std::ops::Range<usize>| {
        bytes
            .get(r)
            .is_some_and(|b| b.iter().all(u8::is_ascii_digit))
    };
    bytes.len() >= HEADER_LEN + FOOTER_LEN
        && digits(0..7)
        && digits(10..14)
        && bytes.get(14) == Some(&b'-')
        && bytes.get(17) == Some(&b'-')
        && bytes.get(20) == Some(&b' ')
}

pub fn parse(bytes: &[u8]) -> Result<Ecg, EcgError> {
    let header = bytes.get(..HEADER_LEN).ok_or_else(|| {
        EcgError::new(
            F,
            format!("file is shorter than the {HEADER_LEN}-byte header"),
        )
        .at(format!("byte {}", bytes.len()))
    })?;
    let case = field_text(header.get(0..8).unwrap_or(&[]));
    let timestamp = field_text(header.get(10..30).unwrap_or(&[]));
    let name = field_text(header.get(32..40).unwrap_or(&[]));
    let acquired_at = NaiveDateTime::parse_from_str(&timestamp, "%Y-%m-%d %H:%M:%S").ok();
    let payload_len = bytes
        .len()
        .checked_sub(HEADER_LEN + FOOTER_LEN)
        .ok_or_else(|| {
            EcgError::new(
                F,
                format!(
                    "file is shorter than header and footer ({} bytes)",
                    HEADER_LEN + FOOTER_LEN
                ),
            )
            .at(format!("byte {}", bytes.len()))
        })?;
    let row_bytes = SERIES * 2;
    if payload_len % row_bytes != 0 {
        return Err(EcgError::new(
            F,
            format!(
                "file size {} minus header and footer is not a whole number of {row_bytes}-byte rows \
                 (truncated?)",
                bytes.len()
            ),
        )
        .at(format!("byte {}", HEADER_LEN + payload_len / row_bytes * row_bytes)));
    }
    let payload = bytes
        .get(HEADER_LEN..HEADER_LEN + payload_len)
        .unwrap_or(&[]);
    let rows = payload_len / row_bytes;
    // series[k] holds raw values (None = no signal) of II, III, V1..V6
    let mut series: Vec<Vec<Option<i32>>> = (0..SERIES).map(|_| Vec::with_capacity(rows)).collect();
    for row in payload.chunks_exact(row_bytes) {
        let raw: Vec<u16> = row
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        if raw.iter().all(|&v| v == 0) {
            break; // end-of-data marker
        }
        for (s, &v) in series.iter_mut().zip(&raw) {
            s.push((v != NULL_VALUE).then_some(i32::from(v) + OFFSET));
        }
    }
    let ii = series.first().cloned().unwrap_or_default();
    let iii = series.get(1).cloned().unwrap_or_default();
    let derive = |f: &dyn Fn(i32, i32) -> i32| -> Vec<Option<i32>> {
        ii.iter()
            .zip(&iii)
            .map(|(a, b)| Some(f((*a)?, (*b)?)))
            .collect()
    };
    let mut all: Vec<(&str, Vec<Option<i32>>)> = vec![
        ("I", derive(&|ii, iii| ii - iii)),
        ("II", ii.clone()),
        ("III", iii.clone()),
        ("aVR", derive(&|ii, iii| iii / 2 - ii)),
        ("aVL", derive(&|ii, iii| ii / 2 - iii)),
        ("aVF", derive(&|ii, iii| (ii + iii) / 2)),
    ];
    for (name, s) in ["V1", "V2", "V3", "V4", "V5", "V6"]
        .into_iter()
        .zip(series.into_iter().skip(2))
    {
        all.push((name, s));
    }
    let leads = all
        .into_iter()
        .filter(|(_, s)| s.iter().any(Option::is_some))
        .map(|(name, s)| Lead {
            name: name.to_string(),
            samples: s.into_iter().map(|v| v.unwrap_or(0)).collect(),
            uv_per_unit: UV_PER_UNIT,
        })
        .collect();
    let _ = case;
    Ok(Ecg {
        format: F,
        sampling_hz: SAMPLING_HZ,
        leads,
        acquired_at,
        device: Some("Contec ECG90A".to_string()),
        subject: Some(name).filter(|n| !n.is_empty()),
    })
}
