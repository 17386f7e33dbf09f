//! PhysioNet WFDB records: a text header (`.hea`) naming one or more binary signal files.
//!
//! Exists because the reference databases (MIT-BIH, PTB) that the beat detector is
//! evaluated on are WFDB records, and some Holter exports write WFDB too.
//!
//! Supported: single-segment records; sample formats 8, 16, 24, 32, 61, 80, 160, 212, 310
//! and 311 with several signals interleaved in one file; byte offsets (`16+24`); several
//! signal files per record; gain (0 or absent means 200), baseline (defaults to the ADC
//! zero), units (V, mV, uV). Not supported: multi-segment records, signals with several
//! samples per frame (multi-frequency records), skew (ignored), formats 0 (null signal)
//! and 508/516/524 (FLAC).

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

use super::lead_name;
use crate::{Ecg, EcgError, Format, Lead};

const F: Format = Format::Wfdb;

/// The header of a record (`.hea`).
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub record: String,
    /// Samples per second per signal.
    pub sampling_hz: f64,
    /// Samples per signal, when the header says it.
    pub n_samples: Option<u64>,
    pub base_time: Option<NaiveTime>,
    pub base_date: Option<NaiveDate>,
    pub signals: Vec<Signal>,
    /// Comment lines without their `#`, in order.
    pub comments: Vec<String>,
}

/// One signal line of a header.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    pub file_name: String,
    /// Storage format (212, 16, ...).
    pub format: u16,
    pub samples_per_frame: u32,
    pub skew: u32,
    /// Bytes to skip at the start of the signal file.
    pub byte_offset: u64,
    /// ADC units per physical unit (200 when the header says 0 or nothing).
    pub gain: f64,
    /// ADC value of 0 physical units.
    pub baseline: i32,
    /// Physical units ("mV" when absent).
    pub units: String,
    pub adc_resolution: u32,
    pub adc_zero: i32,
    pub initial_value: Option<i32>,
    pub checksum: Option<i32>,
    pub block_size: u32,
    pub description: String,
}

impl Header {
    /// Acquisition start, when the header has both a base date and a base time.
    pub fn acquired_at(&self) -> Option<NaiveDateTime> {
        Some(NaiveDateTime::new(self.base_date?, self.base_time?))
    }

    pub fn duration_s(&self) -> Option<f64> {
        self.n_samples.map(|n| n as f64 / self.sampling_hz)
    }
}

/// Whether `bytes` look like a WFDB header: text whose first record line is
/// `name nsig [fs ...]` and whose next line names a signal file and a format.
pub(crate) fn looks_like(bytes: &[u8]) -> bool {
    let head = bytes.get(..bytes.len().min(4096)).unwrap_or(&[]);
    if head.contains(&0) {
        return false;
    }
    let text = String::from_utf8_lossy(head);
    let mut lines = text
        .split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'));
    let Some(first) = lines.next() else {
        return false;
    };
    let mut tok = first.split_whitespace();
    let name_ok = tok.next().is_some_and(|n| {
        n.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-./".contains(c))
    });
    let nsig = tok
        .next()
        .and_then(|n| n.split('/').next()?.parse::<u32>().ok());
    let fs_ok = tok.next().is_none_or(|f| {
        f.split(['/', '('])
            .next()
            .is_some_and(|f| f.parse::<f64>().is_ok())
    });
    if !(name_ok && nsig.is_some() && fs_ok) {
        return false;
    }
    if nsig == Some(0) {
        return true;
    }
    lines.next().is_some_and(|l| {
        let mut t = l.split_whitespace();
        t.next().is_some()
            && t.next()
                .is_some_and(|f| f.bytes().next().is_some_and(|b| b.is_ascii_digit()))
    })
}

fn err_line(line: usize, msg: impl Into<String>) -> EcgError {
    EcgError::new(F, msg).at(format!("header line {line}"))
}

/// Parses a header's text. Comment lines (`#`) and blank lines may appear anywhere.
pub fn parse_header(text: &str) -> Result<Header, EcgError> {
    let mut comments = Vec::new();
    let mut lines = Vec::new();
    // Lines end with LF, CRLF or a lone CR (100.hea from wfdb-python mixes them).
    let text = text.replace("\r\n", "\n");
    for (i, raw) in text.split(['\n', '\r']).enumerate() {
        let line = raw.trim();
        if let Some(c) = line.strip_prefix('#') {
            comments.push(c.trim().to_string());
        } else if !line.is_empty() {
            lines.push((i + 1, line));
        }
    }
    let mut lines = lines.into_iter();
    let (rec_no, rec) = lines
        .next()
        .ok_or_else(|| err_line(1, "header has no record line"))?;
    let mut tok = rec.split_whitespace();
    let name = tok.next().unwrap_or("");
    let (record, segments) = match name.split_once('/') {
        Some((r, s)) => (r, Some(s)),
        None => (name, None),
    };
    if segments.is_some() {
        return Err(err_line(rec_no, "multi-segment records are not supported"));
    }
    let nsig_tok = tok
        .next()
        .ok_or_else(|| err_line(rec_no, "record line has no number of signals"))?;
    let nsig: usize = nsig_tok.parse().map_err(|_| {
        err_line(
            rec_no,
            format!("number of signals {nsig_tok:?} is not a number"),
        )
    })?;
    let sampling_hz = match tok.next() {
        None => 250.0,
        Some(t) => {
            let f = t.split(['/', '(']).next().unwrap_or("");
            let hz: f64 = f.parse().map_err(|_| {
                err_line(rec_no, format!("sampling frequency {t:?} is not a number"))
            })?;
            if !(hz.is_finite() && hz > 0.0) {
                return Err(err_line(
                    rec_no,
                    format!("sampling frequency {t:?} is not positive"),
                ));
            }
            hz
        }
    };
    let n_samples = match tok.next() {
        None => None,
        Some(t) => {
            let n: u64 = t.parse().map_err(|_| {
                err_line(rec_no, format!("number of samples {t:?} is not a number"))
            })?;
            (n > 0).then_some(n)
        }
    };
    let base_time = match tok.next() {
        None => None,
        Some(t) => Some(
            parse_time(t)
                .ok_or_else(|| err_line(rec_no, format!("base time {t:?} is not HH:MM:SS")))?,
        ),
    };
    let base_date = match tok.next() {
        None => None,
        Some(t) => Some(
            NaiveDate::parse_from_str(t, "%d/%m/%Y")
                .map_err(|_| err_line(rec_no, format!("base date {t:?} is not DD/MM/YYYY")))?,
        ),
    };

    // Each signal line takes at least a few bytes: a count beyond that is a lie.
    if nsig > text.len() / 4 + 1 {
        return Err(err_line(
            rec_no,
            format!("header declares {nsig} signals but has room for far fewer"),
        ));
    }
    let mut signals = Vec::with_capacity(nsig);
    for k in 0..nsig {
        let (no, line) = lines.next().ok_or_else(|| {
            err_line(
                rec_no,
                format!("header declares {nsig} signals but has only {k} signal lines"),
            )
        })?;
        signals.push(parse_signal(no, line)?);
    }
    Ok(Header {
        record: record.to_string(),
        sampling_hz,
        n_samples,
        base_time,
        base_date,
        signals,
        comments,
    })
}

fn parse_time(t: &str) -> Option<NaiveTime> {
    let t = t.trim_start_matches('[');
    ["%H:%M:%S%.f", "%H:%M:%S", "%H:%M", "%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(t, f).ok())
}

fn parse_signal(no: usize, line: &str) -> Result<Signal, EcgError> {
    let mut tok = line.split_whitespace();
    let file_name = tok.next().unwrap_or("").to_string();
    let fmt_tok = tok
        .next()
        .ok_or_else(|| err_line(no, format!("signal line {line:?} has no format")))?;
    // format[xsamples][:skew][+offset]
    let (rest, byte_offset) = match fmt_tok.split_once('+') {
        Some((r, o)) => (
            r,
            o.parse::<u64>()
                .map_err(|_| err_line(no, format!("byte offset {o:?} is not a number")))?,
        ),
        None => (fmt_tok, 0),
    };
    let (rest, skew) = match rest.split_once(':') {
        Some((r, s)) => (
            r,
            s.parse::<u32>()
                .map_err(|_| err_line(no, format!("skew {s:?} is not a number")))?,
        ),
        None => (rest, 0),
    };
    let (fmt, spf) = match rest.split_once('x') {
        Some((r, s)) => (
            r,
            s.parse::<u32>()
                .map_err(|_| err_line(no, format!("samples per frame {s:?} is not a number")))?,
        ),
        None => (rest, 1),
    };
    let format: u16 = fmt
        .parse()
        .map_err(|_| err_line(no, format!("signal format {fmt_tok:?} is not a number")))?;
    if !matches!(format, 8 | 16 | 24 | 32 | 61 | 80 | 160 | 212 | 310 | 311) {
        return Err(err_line(
            no,
            format!("signal format {format} is not supported"),
        ));
    }
    if spf > 1 {
        return Err(err_line(
            no,
            format!("{spf} samples per frame (multi-frequency records) are not supported"),
        ));
    }

    let mut gain = 200.0;
    let mut baseline = None;
    let mut units = "mV".to_string();
    if let Some(g) = tok.next() {
        // gain[(baseline)][/units]
        let (g, u) = match g.split_once('/') {
            Some((g, u)) => (g, Some(u)),
            None => (g, None),
        };
        let (g, b) = match g.split_once('(') {
            Some((g, b)) => (g, Some(b.trim_end_matches(')'))),
            None => (g, None),
        };
        let v: f64 = g
            .parse()
            .map_err(|_| err_line(no, format!("gain {g:?} is not a number")))?;
        if !v.is_finite() || v < 0.0 {
            return Err(err_line(no, format!("gain {g:?} is not a positive number")));
        }
        if v > 0.0 {
            gain = v;
        }
        if let Some(b) = b {
            baseline = Some(
                b.parse::<i32>()
                    .map_err(|_| err_line(no, format!("baseline {b:?} is not an integer")))?,
            );
        }
        if let Some(u) = u {
            units = u.to_string();
        }
    }
    let int = |name: &str, t: Option<&str>| -> Result<Option<i64>, EcgError> {
        t.map(|t| {
            t.parse::<i64>()
                .map_err(|_| err_line(no, format!("{name} {t:?} is not an integer")))
        })
        .transpose()
    };
    let to_i32 = |name: &str, v: i64| -> Result<i32, EcgError> {
        i32::try_from(v).map_err(|_| err_line(no, format!("{name} {v} is out of range")))
    };
    let adc_resolution = int("ADC resolution", tok.next())?.unwrap_or(0);
    let adc_resolution = u32::try_from(adc_resolution).map_err(|_| {
        err_line(
            no,
            format!("ADC resolution {adc_resolution} is out of range"),
        )
    })?;
    let adc_zero = to_i32("ADC zero", int("ADC zero", tok.next())?.unwrap_or(0))?;
    let initial_value = int("initial value", tok.next())?
        .map(|v| to_i32("initial value", v))
        .transpose()?;
    let checksum = int("checksum", tok.next())?
        .map(|v| to_i32("checksum", v))
        .transpose()?;
    let block_size = int("block size", tok.next())?.unwrap_or(0);
    let block_size = u32::try_from(block_size)
        .map_err(|_| err_line(no, format!("block size {block_size} is out of range")))?;
    let description = tok.collect::<Vec<_>>().join(" ");
    Ok(Signal {
        file_name,
        format,
        samples_per_frame: spf.max(1),
        skew,
        byte_offset,
        gain,
        baseline: baseline.unwrap_or(adc_zero),
        units,
        adc_resolution,
        adc_zero,
        initial_value,
        checksum,
        block_size,
        description,
    })
}

/// Microvolts per ADC unit for a signal.
fn uv_per_unit(s: &Signal) -> f64 {
    let scale = match s.units.trim() {
        "V" | "volt" | "volts" => 1_000_000.0,
        u if u.eq_ignore_ascii_case("uv") || u == "µV" || u == "μV" => 1.0,
        u if u.eq_ignore_ascii_case("nv") => 0.001,
        _ => 1000.0, // mV, and anything else is read as mV
    };
    scale / s.gain
}

/// Reads a record: `header` is the `.hea` text, `companion(name)` returns a signal file.
pub fn parse(header: &[u8], companion: &dyn Fn(&str) -> Option<Vec<u8>>) -> Result<Ecg, EcgError> {
    let text = std::str::from_utf8(header).map_err(|e| {
        EcgError::new(F, "header is not UTF-8 text").at(format!("byte {}", e.valid_up_to()))
    })?;
    let h = parse_header(text)?;
    let mut leads: Vec<Lead> = Vec::with_capacity(h.signals.len());
    let mut k = 0;
    while k < h.signals.len() {
        // Signals of one file are consecutive in the header and interleaved in the file.
        let first = &h.signals[k];
        let group_len = h.signals[k..]
            .iter()
            .take_while(|s| s.file_name == first.file_name)
            .count();
        let group = &h.signals[k..k + group_len];
        if let Some(bad) = group.iter().find(|s| s.format != first.format) {
            return Err(EcgError::new(
                F,
                format!(
                    "signals of {} mix formats {} and {}",
                    first.file_name, first.format, bad.format
                ),
            ));
        }
        if h.signals[k + group_len..]
            .iter()
            .any(|s| s.file_name == first.file_name)
        {
            return Err(EcgError::new(
                F,
                format!(
                    "signals of {} are not consecutive in the header",
                    first.file_name
                ),
            ));
        }
        let data = companion(&first.file_name).ok_or_else(|| {
            EcgError::new(F, format!("signal file {} not found", first.file_name))
        })?;
        let samples = decode_group(&first.file_name, &data, group, h.n_samples)?;
        for (s, raw) in group.iter().zip(samples) {
            let baseline = s.baseline;
            let samples = raw
                .into_iter()
                .map(|v| v.saturating_sub(baseline))
                .collect();
            leads.push(Lead {
                name: lead_name(&s.description),
                samples,
                uv_per_unit: uv_per_unit(s),
            });
        }
        k += group_len;
    }
    Ok(Ecg {
        format: F,
        sampling_hz: h.sampling_hz,
        leads,
        acquired_at: h.acquired_at(),
        device: None,
        subject: None,
    })
}

/// Samples of `n` consecutive values stored in `len` bytes of a format, and bytes needed
/// for `n` values.
fn bytes_for(format: u16, n: u64) -> Option<u64> {
    match format {
        8 | 80 => Some(n),
        16 | 61 | 160 => n.checked_mul(2),
        24 => n.checked_mul(3),
        32 => n.checked_mul(4),
        212 => n.checked_mul(3).map(|b| b.div_ceil(2)),
        310 => Some((n / 3).checked_mul(4)? + [0, 2, 4][(n % 3) as usize]),
        311 => n.div_ceil(3).checked_mul(4),
        _ => None,
    }
}

fn values_in(format: u16, len: u64) -> u64 {
    match format {
        8 | 80 => len,
        16 | 61 | 160 => len / 2,
        24 => len / 3,
        32 => len / 4,
        212 => len / 3 * 2 + u64::from(len % 3 == 2),
        310 => len / 4 * 3 + u64::from(len % 4 >= 2),
        311 => len / 4 * 3,
        _ => 0,
    }
}

fn sign_extend(v: u32, bits: u32) -> i32 {
    let shift = 32 - bits;
    ((v << shift) as i32) >> shift
}

/// Decodes the signals of one file; returns one sample vector per signal.
fn decode_group(
    file: &str,
    data: &[u8],
    group: &[Signal],
    n_samples: Option<u64>,
) -> Result<Vec<Vec<i32>>, EcgError> {
    let first = &group[0];
    let nsig = group.len() as u64;
    let fmt = first.format;
    let offset = usize::try_from(first.byte_offset).unwrap_or(usize::MAX);
    let body = data.get(offset..).ok_or_else(|| {
        EcgError::new(
            F,
            format!(
                "byte offset {} is past the end of {file} ({} bytes)",
                first.byte_offset,
                data.len()
            ),
        )
        .at(format!("{file} byte {}", data.len()))
    })?;
    let frames_present = values_in(fmt, body.len() as u64) / nsig;
    let frames = match n_samples {
        Some(n) => {
            if frames_present < n {
                let needed = bytes_for(fmt, n.saturating_mul(nsig))
                    .map(|b| b.saturating_add(first.byte_offset))
                    .unwrap_or(u64::MAX);
                return Err(EcgError::new(
                    F,
                    format!(
                        "signal file {file} is truncated: header declares {n} samples per signal \
                         ({needed} bytes), file holds {frames_present} ({} bytes)",
                        data.len()
                    ),
                )
                .at(format!("{file} byte {}", data.len())));
            }
            n
        }
        None => frames_present,
    };
    // Bounded by the bytes present (frames <= frames_present).
    let frames = usize::try_from(frames).unwrap_or(usize::MAX);
    let nsig = group.len();
    let total = frames.saturating_mul(nsig);
    let mut out: Vec<Vec<i32>> = (0..nsig).map(|_| Vec::with_capacity(frames)).collect();
    let mut push = |i: usize, v: i32| {
        if let Some(o) = out.get_mut(i % nsig) {
            o.push(v);
        }
    };
    match fmt {
        8 => {
            let mut acc: Vec<i32> = group
                .iter()
                .map(|s| s.initial_value.unwrap_or(s.adc_zero))
                .collect();
            for (i, &b) in body.iter().take(total).enumerate() {
                if let Some(a) = acc.get_mut(i % nsig) {
                    *a = a.saturating_add(i32::from(b as i8));
                    push(i, *a);
                }
            }
        }
        80 => body
            .iter()
            .take(total)
            .enumerate()
            .for_each(|(i, &b)| push(i, i32::from(b) - 128)),
        16 => body
            .chunks_exact(2)
            .take(total)
            .enumerate()
            .for_each(|(i, c)| push(i, i32::from(i16::from_le_bytes([c[0], c[1]])))),
        61 => body
            .chunks_exact(2)
            .take(total)
            .enumerate()
            .for_each(|(i, c)| push(i, i32::from(i16::from_be_bytes([c[0], c[1]])))),
        160 => body
            .chunks_exact(2)
            .take(total)
            .enumerate()
            .for_each(|(i, c)| push(i, i32::from(u16::from_le_bytes([c[0], c[1]])) - 32768)),
        24 => body
            .chunks_exact(3)
            .take(total)
            .enumerate()
            .for_each(|(i, c)| {
                push(
                    i,
                    sign_extend(u32::from_le_bytes([c[0], c[1], c[2], 0]), 24),
                )
            }),
        32 => body
            .chunks_exact(4)
            .take(total)
            .enumerate()
            .for_each(|(i, c)| push(i, i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
        212 => {
            let mut i = 0;
            for c in body.chunks(3) {
                let b0 = u32::from(*c.first().unwrap_or(&0));
                let b1 = u32::from(*c.get(1).unwrap_or(&0));
                if i < total && c.len() >= 2 {
                    push(i, sign_extend(b0 | ((b1 & 0x0F) << 8), 12));
                    i += 1;
                }
                if i < total && c.len() == 3 {
                    let b2 = u32::from(c[2]);
                    push(i, sign_extend(b2 | ((b1 & 0xF0) << 4), 12));
                    i += 1;
                }
                if i >= total {
                    break;
                }
            }
        }
        310 => {
            let mut i = 0;
            for c in body.chunks(4) {
                let w0 = u32::from(u16::from_le_bytes([c[0], *c.get(1).unwrap_or(&0)]));
                if c.len() < 2 || i >= total {
                    break;
                }
                push(i, sign_extend((w0 >> 1) & 0x3FF, 10));
                i += 1;
                if c.len() < 4 || i >= total {
                    break;
                }
                let w1 = u32::from(u16::from_le_bytes([c[2], c[3]]));
                push(i, sign_extend((w1 >> 1) & 0x3FF, 10));
                i += 1;
                if i >= total {
                    break;
                }
                push(
                    i,
                    sign_extend(((w0 >> 11) & 0x1F) | ((w1 >> 6) & 0x3E0), 10),
                );
                i += 1;
            }
        }
        311 => {
            let mut i = 0;
            for c in body.chunks_exact(4) {
                let w = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                for k in 0..3 {
                    if i >= total {
                        break;
                    }
                    push(i, sign_extend((w >> (10 * k)) & 0x3FF, 10));
                    i += 1;
                }
            }
        }
        _ => {
            return Err(EcgError::new(
                F,
                format!("signal format {fmt} is not supported"),
            ))
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_with_comments_and_blank_lines() {
        let h = parse_header(
            "# c\n100 2 360 650000\r\n100.dat 212 200 11 1024 995 -22131 0 MLII\n\r\n\
             100.dat 212 200(-3)/uV 11 1024 1011 20052 0 V5\r\n# x\r\n",
        )
        .unwrap();
        assert_eq!(h.signals.len(), 2);
        assert_eq!(h.signals[0].baseline, 1024);
        assert_eq!(h.signals[1].baseline, -3);
        assert_eq!(h.signals[1].units, "uV");
        assert_eq!(h.n_samples, Some(650000));
        assert_eq!(h.comments, vec!["c", "x"]);
    }

    #[test]
    fn formats_310_311_212() {
        let g = |f| Signal {
            file_name: "x".into(),
            format: f,
            samples_per_frame: 1,
            skew: 0,
            byte_offset: 0,
            gain: 200.0,
            baseline: 0,
            units: "mV".into(),
            adc_resolution: 10,
            adc_zero: 0,
            initial_value: None,
            checksum: None,
            block_size: 0,
            description: String::new(),
        };
        // 311: 1, -1, 511 in one word
        let w: u32 = 1 | (0x3FF << 10) | (511 << 20);
        let out = decode_group("x", &w.to_le_bytes(), &[g(311)], Some(3)).unwrap();
        assert_eq!(out[0], vec![1, -1, 511]);
        // 310: s0 = 5, s1 = -2, s2 = 0x2A5 (sign-extended)
        let s2: u32 = 0x2A5;
        let w0 = (5u32 << 1) | ((s2 & 0x1F) << 11);
        let w1 = ((0x3FEu32) << 1) | ((s2 >> 5) << 11);
        let mut b = (w0 as u16).to_le_bytes().to_vec();
        b.extend((w1 as u16).to_le_bytes());
        let out = decode_group("x", &b, &[g(310)], Some(3)).unwrap();
        assert_eq!(out[0], vec![5, -2, sign_extend(0x2A5, 10)]);
        // 212, two signals: 0x123, -1
        let out = decode_group("x", &[0x23, 0xF1, 0xFF], &[g(212), g(212)], Some(1)).unwrap();
        assert_eq!(out, vec![vec![0x123], vec![-1]]);
    }
}
