//! DICOM waveforms (12-lead ECG, general ECG waveform storage), read with dicom-rs.
//!
//! Exists because hospital ECG management systems (MUSE, Mortara, PACS) archive ECGs as
//! DICOM. The DICOM encoding itself is parsed by `dicom-object`; this module only picks the
//! waveform: the multiplex group labelled `RHYTHM` (else the first group that is not a
//! median beat), 8- or 16-bit signed or unsigned samples interleaved by channel, each
//! channel scaled by sensitivity x correction factor in its units (uV, mV, V) with its
//! baseline added, labelled from the channel source code meaning ("Lead I (Einthoven)" ->
//! "I"). Not supported: mu-law/A-law samples, 32-bit or 64-bit samples, groups at different
//! rates merged into one recording.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use dicom_core::Tag;
use dicom_dictionary_std::tags;
use dicom_object::file::ReadPreamble;
use dicom_object::{InMemDicomObject, OpenFileOptions};

use super::lead_name;
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Dicom;

fn text(obj: &InMemDicomObject, tag: Tag) -> Option<String> {
    let s = obj
        .get(tag)?
        .to_str()
        .ok()?
        .trim()
        .trim_end_matches('\0')
        .trim()
        .to_string();
    (!s.is_empty()).then_some(s)
}

fn float(obj: &InMemDicomObject, tag: Tag) -> Option<f64> {
    obj.get(tag)?.to_float64().ok().filter(|v| v.is_finite())
}

fn int(obj: &InMemDicomObject, tag: Tag) -> Option<i64> {
    obj.get(tag)?.to_int::<i64>().ok()
}

fn items(obj: &InMemDicomObject, tag: Tag) -> &[InMemDicomObject] {
    obj.get(tag).and_then(|e| e.items()).unwrap_or(&[])
}

fn err(msg: impl Into<String>, at: impl Into<String>) -> EcgError {
    EcgError::new(F, msg).at(at)
}

pub fn parse(bytes: &[u8]) -> Result<Ecg, EcgError> {
    let preamble = if bytes.get(128..132) == Some(b"DICM") {
        ReadPreamble::Always
    } else {
        ReadPreamble::Never
    };
    // dicom-rs allocates what an element header declares: check every length first.
    check_lengths(
        bytes,
        if preamble == ReadPreamble::Always {
            132
        } else {
            4
        },
    )?;
    let obj = OpenFileOptions::new()
        .read_preamble(preamble)
        .from_reader(bytes)
        .map_err(|e| err(format!("cannot parse DICOM: {e}"), "DICOM data set"))?;
    let groups = items(&obj, tags::WAVEFORM_SEQUENCE);
    if groups.is_empty() {
        return Err(err(
            "no waveform: WaveformSequence is missing or empty",
            "(5400,0100)",
        ));
    }
    let label = |g: &InMemDicomObject| text(g, tags::MULTIPLEX_GROUP_LABEL).unwrap_or_default();
    let (gi, group) = groups
        .iter()
        .enumerate()
        .find(|(_, g)| label(g).eq_ignore_ascii_case("RHYTHM"))
        .or_else(|| {
            groups
                .iter()
                .enumerate()
                .find(|(_, g)| !label(g).to_ascii_uppercase().contains("MEDIAN"))
        })
        .or_else(|| groups.iter().enumerate().next())
        .ok_or_else(|| err("no waveform group", "(5400,0100)"))?;
    let at = |what: &str| format!("WaveformSequence item {} {what}", gi + 1);
    let n_ch = int(group, tags::NUMBER_OF_WAVEFORM_CHANNELS)
        .ok_or_else(|| err("NumberOfWaveformChannels is missing", at("(003A,0005)")))?;
    let n_samples = int(group, tags::NUMBER_OF_WAVEFORM_SAMPLES)
        .ok_or_else(|| err("NumberOfWaveformSamples is missing", at("(003A,0010)")))?;
    let sampling_hz = float(group, tags::SAMPLING_FREQUENCY)
        .filter(|&f| f > 0.0)
        .ok_or_else(|| {
            err(
                "SamplingFrequency is missing or not positive",
                at("(003A,001A)"),
            )
        })?;
    let bits = int(group, tags::WAVEFORM_BITS_ALLOCATED).unwrap_or(16);
    let interp = text(group, tags::WAVEFORM_SAMPLE_INTERPRETATION).unwrap_or_else(|| "SS".into());
    let width: usize = match (bits, interp.as_str()) {
        (16, "SS" | "US") => 2,
        (8, "SB" | "UB") => 1,
        _ => {
            return Err(err(
                format!("{bits}-bit {interp} samples are not supported"),
                at("(5400,1004)/(5400,1006)"),
            ))
        }
    };
    let n_ch = usize::try_from(n_ch)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            err(
                format!("NumberOfWaveformChannels {n_ch} is not positive"),
                at("(003A,0005)"),
            )
        })?;
    let data = group
        .get(tags::WAVEFORM_DATA)
        .ok_or_else(|| err("WaveformData is missing", at("(5400,1010)")))?
        .to_bytes()
        .map_err(|e| {
            err(
                format!("WaveformData is not binary: {e}"),
                at("(5400,1010)"),
            )
        })?;
    let frame = n_ch * width;
    let present = data.len() / frame;
    let n_samples = usize::try_from(n_samples).unwrap_or(usize::MAX);
    if n_samples > present {
        return Err(err(
            format!(
                "WaveformData holds {present} samples per channel ({} bytes) but \
                 NumberOfWaveformSamples is {n_samples}",
                data.len()
            ),
            at("(5400,1010)"),
        ));
    }
    let defs = items(group, tags::CHANNEL_DEFINITION_SEQUENCE);
    let mut leads: Vec<Lead> = Vec::with_capacity(n_ch);
    for c in 0..n_ch {
        let def = defs.get(c);
        let label = def
            .and_then(|d| items(d, tags::CHANNEL_SOURCE_SEQUENCE).first())
            .and_then(|s| text(s, tags::CODE_MEANING))
            .or_else(|| def.and_then(|d| text(d, tags::CHANNEL_LABEL)))
            .unwrap_or_else(|| format!("channel {}", c + 1));
        let sensitivity = def
            .and_then(|d| float(d, tags::CHANNEL_SENSITIVITY))
            .filter(|&s| s != 0.0);
        let correction = def
            .and_then(|d| float(d, tags::CHANNEL_SENSITIVITY_CORRECTION_FACTOR))
            .filter(|&s| s != 0.0)
            .unwrap_or(1.0);
        let baseline = def
            .and_then(|d| float(d, tags::CHANNEL_BASELINE))
            .unwrap_or(0.0);
        let unit = def
            .and_then(|d| items(d, tags::CHANNEL_SENSITIVITY_UNITS_SEQUENCE).first())
            .and_then(|u| text(u, tags::CODE_VALUE))
            .unwrap_or_else(|| "uV".into());
        let unit_uv = match unit.as_str() {
            "uV" => 1.0,
            "mV" => 1000.0,
            "V" => 1_000_000.0,
            "nV" => 0.001,
            u => {
                return Err(err(
                    format!("channel {} sensitivity unit {u:?} is not a voltage", c + 1),
                    at(&format!("ChannelDefinitionSequence item {}", c + 1)),
                ))
            }
        };
        // Without a sensitivity the samples are in the units themselves.
        let s = sensitivity.unwrap_or(1.0);
        let uv_per_unit = s * correction * unit_uv;
        // physical = raw * s * corr + baseline * corr, i.e. raw + baseline / s in raw units.
        let offset = (baseline / s).round();
        let offset = if offset.is_finite() {
            offset.clamp(-1e9, 1e9) as i32
        } else {
            0
        };
        let samples = data
            .chunks_exact(frame)
            .take(n_samples)
            .map(|f| {
                let o = c * width;
                let raw = match (width, interp.as_str()) {
                    (2, "SS") => f
                        .get(o..o + 2)
                        .map(|b| i32::from(i16::from_le_bytes([b[0], b[1]]))),
                    (2, _) => f
                        .get(o..o + 2)
                        .map(|b| i32::from(u16::from_le_bytes([b[0], b[1]]))),
                    (_, "SB") => f.get(o).map(|&b| i32::from(b as i8)),
                    _ => f.get(o).map(|&b| i32::from(b)),
                };
                raw.unwrap_or(0).saturating_add(offset)
            })
            .collect();
        leads.push(Lead {
            name: dicom_lead_name(&label),
            samples,
            uv_per_unit,
        });
    }

    let device = match (
        text(&obj, tags::MANUFACTURER),
        text(&obj, tags::MANUFACTURER_MODEL_NAME),
    ) {
        (Some(a), Some(b)) => Some(format!("{a} {b}")),
        (a, b) => a.or(b),
    };
    let subject = match (text(&obj, tags::PATIENT_NAME), text(&obj, tags::PATIENT_ID)) {
        (Some(n), Some(i)) => Some(format!("{} ({i})", n.replace('^', " ").trim())),
        (n, i) => n.or(i),
    };
    let acquired_at = text(&obj, tags::ACQUISITION_DATE_TIME)
        .and_then(|dt| parse_dt(&dt))
        .or_else(|| date_time(&obj, tags::ACQUISITION_DATE, tags::ACQUISITION_TIME))
        .or_else(|| date_time(&obj, tags::CONTENT_DATE, tags::CONTENT_TIME))
        .or_else(|| date_time(&obj, tags::STUDY_DATE, tags::STUDY_TIME));
    Ok(Ecg {
        format: F,
        sampling_hz,
        leads,
        acquired_at,
        device,
        subject,
    })
}

const UNDEFINED: u32 = 0xFFFF_FFFF;

/// Walks the element structure (file meta explicit VR little endian, then the data set in
/// its transfer syntax) and refuses any element or item whose declared length runs past the
/// end of the file, or nesting deeper than 32 levels.
fn check_lengths(bytes: &[u8], start: usize) -> Result<(), EcgError> {
    if bytes.get(start.saturating_sub(4)..start) != Some(b"DICM") {
        return Err(err(
            "no DICM magic",
            format!("byte {}", start.saturating_sub(4)),
        ));
    }
    // Transfer syntax from the meta group, which is explicit VR little endian.
    let mut pos = start;
    let mut ts = String::new();
    while let Some(h) = bytes.get(pos..pos + 8) {
        let group = u16::from_le_bytes([h[0], h[1]]);
        if group != 0x0002 {
            break;
        }
        let (len, head) = explicit_len(bytes, pos, false)
            .ok_or_else(|| err("file ends in an element header", format!("byte {pos}")))?;
        let end = pos.saturating_add(head).saturating_add(len as usize);
        if len == UNDEFINED || end > bytes.len() {
            return Err(err(
                format!("file meta element length {len} runs past the end"),
                format!("byte {pos}"),
            ));
        }
        if u16::from_le_bytes([h[2], h[3]]) == 0x0010 {
            ts = String::from_utf8_lossy(bytes.get(pos + head..end).unwrap_or(&[]))
                .trim_end_matches(['\0', ' '])
                .to_string();
        }
        pos = end;
    }
    let (explicit, big) = match ts.as_str() {
        "1.2.840.10008.1.2" => (false, false),
        "1.2.840.10008.1.2.2" => (true, true),
        "1.2.840.10008.1.2.1.99" => {
            return Err(err(
                "deflated transfer syntax is not supported",
                "(0002,0010)",
            ))
        }
        _ => (true, false),
    };
    walk(bytes, pos, bytes.len(), explicit, big, 0).map(|_| ())
}

/// Length and header size of an explicit VR element at `pos`.
fn explicit_len(bytes: &[u8], pos: usize, big: bool) -> Option<(u32, usize)> {
    let vr = bytes.get(pos + 4..pos + 6)?;
    let long = matches!(
        vr,
        b"OB"
            | b"OW"
            | b"OF"
            | b"SQ"
            | b"UT"
            | b"UN"
            | b"OD"
            | b"OL"
            | b"OV"
            | b"UC"
            | b"UR"
            | b"SV"
            | b"UV"
    );
    if long {
        let b = bytes.get(pos + 8..pos + 12)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some((
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            },
            12,
        ))
    } else {
        let b = bytes.get(pos + 6..pos + 8)?;
        let a = [b[0], b[1]];
        Some((
            u32::from(if big {
                u16::from_be_bytes(a)
            } else {
                u16::from_le_bytes(a)
            }),
            8,
        ))
    }
}

/// Walks elements in `pos..end`; returns the position after a sequence/item delimiter or
/// at `end`.
fn walk(
    bytes: &[u8],
    mut pos: usize,
    end: usize,
    explicit: bool,
    big: bool,
    depth: u32,
) -> Result<usize, EcgError> {
    if depth > 32 {
        return Err(err(
            "sequences nested deeper than 32 levels",
            format!("byte {pos}"),
        ));
    }
    let u16_at = |p: usize| {
        bytes.get(p..p + 2).map(|b| {
            if big {
                u16::from_be_bytes([b[0], b[1]])
            } else {
                u16::from_le_bytes([b[0], b[1]])
            }
        })
    };
    let u32_at = |p: usize| {
        bytes.get(p..p + 4).map(|b| {
            let a = [b[0], b[1], b[2], b[3]];
            if big {
                u32::from_be_bytes(a)
            } else {
                u32::from_le_bytes(a)
            }
        })
    };
    while pos.saturating_add(8) <= end {
        let at = pos;
        let (Some(group), Some(elem)) = (u16_at(pos), u16_at(pos + 2)) else {
            break;
        };
        let (len, head, is_seq) = if group == 0xFFFE {
            (u32_at(pos + 4).unwrap_or(0), 8, true)
        } else if explicit {
            // An unknown VR sends dicom-rs astray for seconds: refuse it here.
            const VRS: [&[u8; 2]; 34] = [
                b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FL", b"FD", b"IS", b"LO", b"LT",
                b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
                b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV",
            ];
            let vr = bytes.get(pos + 4..pos + 6).unwrap_or(&[]);
            if !VRS.iter().any(|v| v.as_slice() == vr) {
                return Err(err(
                    format!(
                        "element ({group:04X},{elem:04X}) has an invalid VR {:?}",
                        String::from_utf8_lossy(vr)
                    ),
                    format!("byte {}", pos + 4),
                ));
            }
            let (l, h) = explicit_len(bytes, pos, big)
                .ok_or_else(|| err("file ends in an element header", format!("byte {pos}")))?;
            (l, h, bytes.get(pos + 4..pos + 6) == Some(b"SQ"))
        } else {
            let l = u32_at(pos + 4).unwrap_or(0);
            let looks_seq =
                l == UNDEFINED || bytes.get(pos + 8..pos + 12) == Some(&[0xFE, 0xFF, 0x00, 0xE0]);
            (l, 8, looks_seq)
        };
        pos += head;
        if group == 0xFFFE && elem != 0xE000 && (len != 0 || !(elem == 0xE0DD || elem == 0xE00D)) {
            return Err(err(
                format!("delimiter (FFFE,{elem:04X}) with length {len} is invalid"),
                format!("byte {at}"),
            ));
        }
        if group == 0xFFFE && (elem == 0xE0DD || elem == 0xE00D) {
            if depth == 0 {
                continue; // a stray delimiter at the top level: dicom-rs reads on
            }
            return Ok(pos); // sequence or item delimiter
        }
        if len == UNDEFINED {
            pos = walk(bytes, pos, end, explicit, big, depth + 1)?;
            continue;
        }
        let stop = pos.checked_add(len as usize).filter(|&e| e <= end).ok_or_else(|| {
            err(
                format!("element ({group:04X},{elem:04X}) declares {len} bytes, past the end of the file ({} bytes)", bytes.len()),
                format!("byte {at}"),
            )
        })?;
        if is_seq {
            walk(bytes, pos, stop, explicit, big, depth + 1)?;
        }
        pos = stop;
    }
    Ok(pos)
}

/// "Lead I (Einthoven)" -> "I", "Lead aVR" -> "aVR"; other meanings kept.
fn dicom_lead_name(meaning: &str) -> String {
    let base = meaning.split(" (").next().unwrap_or(meaning);
    let name = lead_name(base);
    if name == base.trim() && !base.trim().eq_ignore_ascii_case(meaning.trim()) {
        // Not a standard lead: keep the full meaning.
        return meaning.trim().to_string();
    }
    name
}

fn date_time(obj: &InMemDicomObject, d: Tag, t: Tag) -> Option<NaiveDateTime> {
    let date = NaiveDate::parse_from_str(&text(obj, d)?, "%Y%m%d").ok()?;
    let time = text(obj, t).and_then(|t| parse_tm(&t)).unwrap_or_default();
    Some(NaiveDateTime::new(date, time))
}

/// DICOM TM: `HHMMSS[.ffffff]`, parts may be omitted from the right.
fn parse_tm(t: &str) -> Option<NaiveTime> {
    let (main, frac) = t.split_once('.').unwrap_or((t, ""));
    let num = |r: std::ops::Range<usize>| main.get(r).and_then(|s| s.parse::<u32>().ok());
    let us = frac
        .get(..frac.len().min(6))
        .and_then(|f| format!("{f:0<6}").parse::<u32>().ok());
    NaiveTime::from_hms_micro_opt(
        num(0..2)?,
        num(2..4).unwrap_or(0),
        num(4..6).unwrap_or(0),
        us.unwrap_or(0),
    )
}

/// DICOM DT: `YYYYMMDDHHMMSS[.ffffff][&ZZXX]`, local time as written.
fn parse_dt(dt: &str) -> Option<NaiveDateTime> {
    let dt = dt.split(['+', '-']).next()?;
    let date = NaiveDate::parse_from_str(dt.get(..8)?, "%Y%m%d").ok()?;
    let time = dt.get(8..).and_then(parse_tm).unwrap_or_default();
    Some(NaiveDateTime::new(date, time))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lead_meanings() {
        assert_eq!(dicom_lead_name("Lead I (Einthoven)"), "I");
        assert_eq!(dicom_lead_name("Lead aVR"), "aVR");
        assert_eq!(dicom_lead_name("Lead V6"), "V6");
        assert_eq!(dicom_lead_name("Lead X (Frank)"), "Lead X (Frank)");
    }
}
