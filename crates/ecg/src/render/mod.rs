//! Paper-style rendering of an [`Ecg`]: the layout a cardiologist expects from a printout
//! (25 mm/s, 10 mm/mV, pink millimetre grid, calibration pulses, lead labels), computed once
//! in millimetres by [`layout`] and emitted either as SVG (the phone view, [`svg`]) or as PDF
//! pages (the letter, [`pdf`]).

pub mod pdf;
pub mod svg;

use crate::detect::detect_beats;
use crate::{Ecg, Lead};

/// What the header above the traces says. Strings are already formatted by the caller.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PaperHeader {
    pub patient: Option<String>,
    pub acquired: Option<String>,
    pub device: Option<String>,
    /// Heart rate to print; when `None`, the beat detector's rate over the printed window.
    pub heart_rate_bpm: Option<f64>,
    pub note: Option<String>,
}

/// Layout choices.
#[derive(Debug, Clone, PartialEq)]
pub struct RenderOptions {
    /// Start of the printed 10 s window, in seconds from the start of the recording.
    pub start_s: f64,
    /// Paper speed, mm/s (25 by default).
    pub mm_per_s: f64,
    /// Gain, mm/mV (10 by default).
    pub mm_per_mv: f64,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            start_s: 0.0,
            mm_per_s: 25.0,
            mm_per_mv: 10.0,
        }
    }
}

/// A4 landscape, in millimetres.
pub(crate) const PAGE_W: f32 = 297.0;
pub(crate) const PAGE_H: f32 = 210.0;
/// Seconds of signal on a full-width strip.
const STRIP_S: f64 = 10.0;
/// Vertical distance between two rows of traces, mm.
const ROW_PITCH: f32 = 40.0;
/// Space at the start of each row for the calibration pulse, mm (a multiple of 5).
const CAL_SPACE: f32 = 10.0;
/// Top of the grid below the header, mm.
const GRID_TOP: f32 = 30.0;
/// Rows that fit on an A4 landscape page.
const ROWS_PER_PAGE: usize = 4;
/// Paper buckets per mm when decimating traces (each gives its min and max).
const BUCKETS_PER_MM: f32 = 10.0;

/// The standard 12-lead order, by column: I II III | aVR aVL aVF | V1 V2 V3 | V4 V5 V6.
const TWELVE: [[&str; 3]; 4] = [
    ["I", "II", "III"],
    ["aVR", "aVL", "aVF"],
    ["V1", "V2", "V3"],
    ["V4", "V5", "V6"],
];

/// A text to print, its left end on the baseline at (x, y).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Label {
    pub x: f32,
    pub y: f32,
    pub size: f32,
    pub bold: bool,
    pub text: String,
}

/// One page (or, in SVG, the whole drawing), everything in mm from the top-left corner.
#[derive(Debug, Clone, Default)]
pub(crate) struct Sheet {
    pub width: f32,
    pub height: f32,
    /// The grid rectangle (x, y, w, h); its lines fall on whole mm counted from `x`.
    pub grid: (f32, f32, f32, f32),
    /// Trace polylines.
    pub traces: Vec<Vec<(f32, f32)>>,
    /// Calibration pulses and column separators (polylines drawn like traces).
    pub marks: Vec<Vec<(f32, f32)>>,
    pub labels: Vec<Label>,
}

/// One row of the printout: which leads, each over which time span.
struct Row {
    /// (lead, first sample, sample count, x offset from the trace start in mm, label).
    parts: Vec<(usize, usize, usize, f32, String)>,
}

fn fmt_rate(bpm: f64) -> String {
    format!("{:.0}/min", bpm)
}

/// French header lines (bold first line, then regular lines).
fn header_lines(
    ecg: &Ecg,
    header: &PaperHeader,
    options: &RenderOptions,
    hr: Option<f64>,
) -> Vec<String> {
    let mut lines = Vec::new();
    lines.push(
        header
            .patient
            .clone()
            .unwrap_or_else(|| "Patient non renseigné".into()),
    );
    let mut second = Vec::new();
    if let Some(a) = &header.acquired {
        second.push(format!("Enregistré le {a}"));
    }
    if let Some(d) = &header.device {
        second.push(format!("Appareil : {d}"));
    }
    let leads = if is_twelve_lead(ecg) {
        "12 dérivations".to_string()
    } else {
        format!(
            "{} dérivation{}",
            ecg.leads.len(),
            if ecg.leads.len() > 1 { "s" } else { "" }
        )
    };
    second.push(leads);
    second.push(format!("{:.0} Hz", ecg.sampling_hz));
    lines.push(second.join(" · "));
    let mut third = vec![
        format!("{} mm/s", fmt_num(options.mm_per_s)),
        format!("{} mm/mV", fmt_num(options.mm_per_mv)),
        match hr {
            Some(bpm) => format!("FC {}", fmt_rate(bpm)),
            None => "FC non mesurable".into(),
        },
    ];
    let duration = ecg.duration_s();
    if duration > STRIP_S + 0.5 {
        let start = options.start_s.clamp(0.0, duration);
        third.push(format!(
            "fenêtre {} – {} s sur {} s",
            fmt_num(start),
            fmt_num((start + STRIP_S).min(duration)),
            fmt_num(duration.round())
        ));
    }
    if let Some(n) = &header.note {
        third.push(n.clone());
    }
    lines.push(third.join(" · "));
    lines
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 {
        format!("{:.0}", v)
    } else {
        format!("{:.1}", v).replace('.', ",")
    }
}

/// True when the recording has the twelve standard leads.
pub(crate) fn is_twelve_lead(ecg: &Ecg) -> bool {
    TWELVE.iter().flatten().all(|n| ecg.lead(n).is_some())
}

fn lead_index(ecg: &Ecg, name: &str) -> Option<usize> {
    ecg.leads
        .iter()
        .position(|l| l.name.eq_ignore_ascii_case(name))
}

/// Sanitised options: finite positive speed and gain, start inside the recording.
fn sane(options: &RenderOptions, ecg: &Ecg) -> RenderOptions {
    let pos = |v: f64, d: f64| {
        if v.is_finite() && v > 0.0 && v < 1000.0 {
            v
        } else {
            d
        }
    };
    let duration = if ecg.sampling_hz.is_finite() && ecg.sampling_hz > 0.0 {
        ecg.duration_s()
    } else {
        0.0
    };
    let start = if options.start_s.is_finite() {
        options.start_s
    } else {
        0.0
    };
    RenderOptions {
        start_s: start.clamp(0.0, (duration - 1.0).max(0.0)),
        mm_per_s: pos(options.mm_per_s, 25.0),
        mm_per_mv: pos(options.mm_per_mv, 10.0),
    }
}

/// Heart rate over the printed window, from the detector.
fn window_rate(ecg: &Ecg, first: usize, count: usize) -> Option<f64> {
    let window = Ecg {
        leads: ecg
            .leads
            .iter()
            .map(|l| Lead {
                name: l.name.clone(),
                samples: l.samples.iter().skip(first).take(count).copied().collect(),
                uv_per_unit: l.uv_per_unit,
            })
            .collect(),
        ..Ecg {
            format: ecg.format,
            sampling_hz: ecg.sampling_hz,
            leads: Vec::new(),
            acquired_at: None,
            device: None,
            subject: None,
        }
    };
    detect_beats(&window).heart_rate_bpm
}

/// Min/max decimation of `samples` (mV) into a polyline starting at `x0`, baseline `y0`.
fn trace(
    lead: &Lead,
    first: usize,
    count: usize,
    fs: f64,
    x0: f32,
    y0: f32,
    o: &RenderOptions,
) -> Vec<(f32, f32)> {
    let end = (first + count).min(lead.samples.len());
    if first >= end {
        return Vec::new();
    }
    let k = (lead.uv_per_unit / 1000.0 * o.mm_per_mv) as f32;
    let mm_per_sample = (o.mm_per_s / fs) as f32;
    let y = |v: i32| y0 - v as f32 * k;
    let samples = &lead.samples[first..end];
    let per_bucket = (1.0 / (BUCKETS_PER_MM * mm_per_sample)).max(1.0);
    let mut out = Vec::new();
    if per_bucket < 2.5 {
        for (i, &v) in samples.iter().enumerate() {
            out.push((x0 + i as f32 * mm_per_sample, y(v)));
        }
        return out;
    }
    let n = samples.len();
    let buckets = (n as f32 / per_bucket).ceil() as usize;
    out.reserve(buckets * 2);
    for b in 0..buckets {
        let lo = (b as f32 * per_bucket) as usize;
        let hi = (((b + 1) as f32 * per_bucket) as usize).min(n);
        if lo >= hi {
            continue;
        }
        let chunk = &samples[lo..hi];
        let (mut imin, mut imax) = (0, 0);
        for (i, &v) in chunk.iter().enumerate() {
            if v < chunk[imin] {
                imin = i;
            }
            if v > chunk[imax] {
                imax = i;
            }
        }
        // Keep the time order so the line goes where the signal went.
        let (a, c) = if imin <= imax {
            (imin, imax)
        } else {
            (imax, imin)
        };
        out.push((x0 + (lo + a) as f32 * mm_per_sample, y(chunk[a])));
        if c != a {
            out.push((x0 + (lo + c) as f32 * mm_per_sample, y(chunk[c])));
        }
    }
    out
}

/// A 1 mV × 200 ms calibration pulse whose foot is at (x, y).
fn calibration(x: f32, y: f32, o: &RenderOptions) -> Vec<(f32, f32)> {
    let h = o.mm_per_mv as f32;
    let w = (0.2 * o.mm_per_s) as f32;
    vec![
        (x, y),
        (x + 2.0, y),
        (x + 2.0, y - h),
        (x + 2.0 + w, y - h),
        (x + 2.0 + w, y),
        (x + CAL_SPACE, y),
    ]
}

/// Lays out the printout. `rows_per_page: None` puts every row on one sheet (SVG).
pub(crate) fn layout(
    ecg: &Ecg,
    header: &PaperHeader,
    options: &RenderOptions,
    rows_per_page: Option<usize>,
) -> Vec<Sheet> {
    let o = sane(options, ecg);
    let fs = if ecg.sampling_hz.is_finite() && ecg.sampling_hz > 0.0 {
        ecg.sampling_hz
    } else {
        1.0
    };
    let first = (o.start_s * fs) as usize;
    let strip = (STRIP_S * fs).round() as usize;
    let strip_mm = (STRIP_S * o.mm_per_s) as f32;
    let mut rows: Vec<Row> = Vec::new();
    if is_twelve_lead(ecg) {
        let col = strip / 4;
        for r in 0..3 {
            let mut parts = Vec::new();
            for (c, names) in TWELVE.iter().enumerate() {
                if let Some(i) = lead_index(ecg, names[r]) {
                    let x = strip_mm / 4.0 * c as f32;
                    parts.push((i, first + c * col, col, x, names[r].to_string()));
                }
            }
            rows.push(Row { parts });
        }
        if let Some(i) = lead_index(ecg, "II") {
            rows.push(Row {
                parts: vec![(i, first, strip, 0.0, "II".into())],
            });
        }
    } else {
        for (i, l) in ecg.leads.iter().enumerate() {
            rows.push(Row {
                parts: vec![(i, first, strip, 0.0, l.name.clone())],
            });
        }
    }
    let hr = header
        .heart_rate_bpm
        .filter(|v| v.is_finite())
        .or_else(|| window_rate(ecg, first, strip));
    let lines = header_lines(ecg, header, &o, hr);

    let per_page = rows_per_page.unwrap_or(rows.len().max(1)).max(1);
    let grid_w = CAL_SPACE + strip_mm + 2.0;
    let grid_x = ((PAGE_W - grid_w) / 2.0).round();
    let x0 = grid_x + CAL_SPACE;
    let mut sheets = Vec::new();
    let chunks: Vec<&[Row]> = if rows.is_empty() {
        vec![&[]]
    } else {
        rows.chunks(per_page).collect()
    };
    let pages = chunks.len();
    for (p, chunk) in chunks.into_iter().enumerate() {
        let n_rows = chunk.len().max(1);
        let grid_h = ROW_PITCH * n_rows as f32;
        let height = if rows_per_page.is_some() {
            PAGE_H
        } else {
            GRID_TOP + grid_h + 12.0
        };
        let mut sheet = Sheet {
            width: PAGE_W,
            height,
            grid: (grid_x, GRID_TOP, grid_w, grid_h),
            ..Sheet::default()
        };
        for (k, line) in lines.iter().enumerate() {
            sheet.labels.push(Label {
                x: grid_x,
                y: 10.0 + 6.0 * k as f32,
                size: if k == 0 { 4.5 } else { 3.4 },
                bold: k == 0,
                text: line.clone(),
            });
        }
        if pages > 1 {
            sheet.labels.push(Label {
                x: grid_x + grid_w - 22.0,
                y: 10.0,
                size: 3.4,
                bold: false,
                text: format!("page {}/{}", p + 1, pages),
            });
        }
        for (r, row) in chunk.iter().enumerate() {
            let base = GRID_TOP + ROW_PITCH * (r as f32 + 0.62);
            sheet.marks.push(calibration(grid_x, base, &o));
            for (c, (lead, from, count, dx, name)) in row.parts.iter().enumerate() {
                let Some(l) = ecg.leads.get(*lead) else {
                    continue;
                };
                let x = x0 + dx;
                if c > 0 {
                    // Column separator: a short vertical tick on the baseline.
                    sheet.marks.push(vec![(x, base - 4.0), (x, base + 4.0)]);
                }
                sheet.labels.push(Label {
                    x: x + 1.0,
                    y: base - ROW_PITCH * 0.42,
                    size: 3.6,
                    bold: true,
                    text: name.clone(),
                });
                let mut t = trace(l, *from, *count, fs, x, base, &o);
                // Like paper, the grid bounds the pen: a trace may reach into the rows around it
                // (large QRS complexes do on every printout) but never over the header.
                let (top, bottom) = (GRID_TOP, GRID_TOP + grid_h);
                for point in &mut t {
                    point.1 = point.1.clamp(top, bottom);
                }
                if !t.is_empty() {
                    sheet.traces.push(t);
                }
            }
        }
        sheet.labels.push(Label {
            x: grid_x,
            y: GRID_TOP + grid_h + 6.0,
            size: 2.8,
            bold: false,
            text: format!(
                "Étalonnage 1 mV × 200 ms en début de ligne · {} mm/s · {} mm/mV",
                fmt_num(o.mm_per_s),
                fmt_num(o.mm_per_mv)
            ),
        });
        sheets.push(sheet);
    }
    sheets
}

/// Rows per A4 page, for the PDF.
pub(crate) fn rows_per_page() -> usize {
    ROWS_PER_PAGE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Format;

    #[test]
    fn a_huge_artefact_stays_inside_the_grid() {
        // 2 s of flat line with a 40 mV spike: taller than three rows.
        let mut samples = vec![0i32; 1000];
        samples[500] = 40_000;
        samples[501] = -40_000;
        let ecg = Ecg {
            format: Format::Edf,
            sampling_hz: 500.0,
            leads: vec![Lead {
                name: "II".into(),
                samples,
                uv_per_unit: 1.0,
            }],
            acquired_at: None,
            device: None,
            subject: None,
        };
        for sheet in layout(
            &ecg,
            &PaperHeader::default(),
            &RenderOptions::default(),
            Some(4),
        ) {
            let (_, top, _, h) = sheet.grid;
            for t in &sheet.traces {
                assert!(t.iter().all(|&(_, y)| y >= top && y <= top + h));
            }
        }
    }
}
