//! Paper rendering: the SVG is well-formed XML with the standard 12-lead arrangement, one
//! strip per lead otherwise, 10 mm calibration pulses; the PDF is one A4 page for a 12-lead
//! with the font embedded and the French text extractable.

use chevet_ecg::render::pdf::{draw_pages, pdf, Fonts};
use chevet_ecg::render::svg::svg;
use chevet_ecg::render::{PaperHeader, RenderOptions};
use chevet_ecg::{Ecg, Format, Lead};

const TWELVE: [&str; 12] = [
    "I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6",
];

/// A synthetic ECG: a narrow QRS-like bump of `1 + lead/10` mV every 0.8 s, 5 µV units.
fn synthetic(names: &[&str], fs: f64, seconds: f64) -> Ecg {
    let n = (fs * seconds) as usize;
    let leads = names
        .iter()
        .enumerate()
        .map(|(k, name)| {
            let amp = 1.0 + k as f64 / 10.0;
            let samples = (0..n)
                .map(|i| {
                    let t = i as f64 / fs;
                    let phase = (t % 0.8) - 0.4;
                    let mv = amp * (-(phase / 0.012).powi(2)).exp()
                        + 0.2 * (-((phase - 0.25) / 0.05).powi(2)).exp();
                    (mv * 200.0).round() as i32
                })
                .collect();
            Lead {
                name: name.to_string(),
                samples,
                uv_per_unit: 5.0,
            }
        })
        .collect();
    Ecg {
        format: Format::Wfdb,
        sampling_hz: fs,
        leads,
        acquired_at: None,
        device: Some("Synthétique".into()),
        subject: None,
    }
}

fn header() -> PaperHeader {
    PaperHeader {
        patient: Some("Hélène Dupré".into()),
        acquired: Some("12/03/2025 à 14:05".into()),
        device: Some("Électrocardiographe".into()),
        heart_rate_bpm: None,
        note: None,
    }
}

/// Absolute points of a path written as `M x y l dx dy dx dy ...` (the renderer's form).
fn path_points(d: &str) -> Vec<(f64, f64)> {
    let mut numbers = Vec::new();
    let mut cur = String::new();
    let flush = |cur: &mut String, numbers: &mut Vec<f64>| {
        if !cur.is_empty() {
            numbers.push(cur.parse::<f64>().expect("number in path data"));
            cur.clear();
        }
    };
    for c in d.chars() {
        match c {
            'M' | 'l' | ' ' => flush(&mut cur, &mut numbers),
            '-' => {
                flush(&mut cur, &mut numbers);
                cur.push(c);
            }
            '.' if cur.contains('.') => {
                flush(&mut cur, &mut numbers);
                cur.push(c);
            }
            c => cur.push(c),
        }
    }
    flush(&mut cur, &mut numbers);
    let mut points = vec![(numbers[0], numbers[1])];
    for pair in numbers[2..].chunks(2) {
        let (x, y) = points[points.len() - 1];
        points.push((x + pair[0], y + pair[1]));
    }
    points
}

fn texts(doc: &roxmltree::Document) -> Vec<(String, f64, f64)> {
    doc.descendants()
        .filter(|n| n.has_tag_name("text"))
        .map(|n| {
            let num = |a: &str| {
                n.attribute(a)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(f64::NAN)
            };
            (n.text().unwrap_or_default().to_string(), num("x"), num("y"))
        })
        .collect()
}

#[test]
fn twelve_lead_svg_has_the_standard_layout() {
    let ecg = synthetic(&TWELVE, 500.0, 10.0);
    let out = svg(&ecg, &header(), &RenderOptions::default());
    let doc = roxmltree::Document::parse(&out).expect("SVG is well-formed XML");
    let root = doc.root_element();
    assert!(root
        .attribute("viewBox")
        .is_some_and(|v| v.starts_with("0 0 297 ")));
    let texts = texts(&doc);
    let at = |name: &str| -> Vec<(f64, f64)> {
        texts
            .iter()
            .filter(|t| t.0 == name)
            .map(|t| (t.1, t.2))
            .collect()
    };
    for name in TWELVE {
        let n = if name == "II" { 2 } else { 1 };
        assert_eq!(at(name).len(), n, "label {name}");
    }
    // Columns: I II III | aVR aVL aVF | V1 V2 V3 | V4 V5 V6, rows top to bottom.
    let columns = [
        ["I", "II", "III"],
        ["aVR", "aVL", "aVF"],
        ["V1", "V2", "V3"],
        ["V4", "V5", "V6"],
    ];
    let pos = |name: &str| at(name)[0];
    for (c, col) in columns.iter().enumerate() {
        for r in 0..3 {
            let (x, y) = pos(col[r]);
            assert!(
                (x - pos(columns[c][0]).0).abs() < 1e-6,
                "{} in column {c}",
                col[r]
            );
            assert!(
                (y - pos(columns[0][r]).1).abs() < 1e-6,
                "{} in row {r}",
                col[r]
            );
            if r > 0 {
                assert!(y > pos(col[r - 1]).1);
            }
            if c > 0 {
                // 2.5 s at 25 mm/s per column.
                assert!((x - pos(columns[c - 1][r]).0 - 62.5).abs() < 1e-6);
            }
        }
    }
    // The rhythm strip: a second II below everything, at the left.
    let rhythm = at("II")[1];
    assert!(rhythm.1 > pos("III").1 && (rhythm.0 - pos("I").0).abs() < 1e-6);
    assert_eq!(out.matches("class=\"trace\"").count(), 13);
    assert!(out.contains("<pattern"), "grid as a pattern");
    assert!(
        out.contains("25 mm/s · 10 mm/mV · FC 75/min"),
        "header with the detected rate"
    );
    assert!(out.contains("Hélène Dupré"));
}

#[test]
fn two_leads_give_two_strips_with_10_mm_calibration() {
    let ecg = synthetic(&["MLII", "V5"], 360.0, 60.0);
    let out = svg(
        &ecg,
        &header(),
        &RenderOptions {
            start_s: 20.0,
            ..Default::default()
        },
    );
    let doc = roxmltree::Document::parse(&out).expect("SVG is well-formed XML");
    let traces: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("trace"))
        .collect();
    assert_eq!(traces.len(), 2);
    // Each strip is 10 s at 25 mm/s = 250 mm wide.
    for t in &traces {
        let p = path_points(t.attribute("d").unwrap_or_default());
        let width = p[p.len() - 1].0 - p[0].0;
        assert!((width - 250.0).abs() < 0.5, "strip width {width}");
    }
    let pulses: Vec<_> = doc
        .descendants()
        .filter(|n| n.attribute("class") == Some("mark"))
        .map(|n| path_points(n.attribute("d").unwrap_or_default()))
        .filter(|p| p.len() > 2)
        .collect();
    assert_eq!(pulses.len(), 2, "one calibration pulse per row");
    for p in pulses {
        let top = p.iter().map(|q| q.1).fold(f64::INFINITY, f64::min);
        let foot = p[0].1;
        assert!(
            (foot - top - 10.0).abs() < 1e-6,
            "pulse height {}",
            foot - top
        );
        let plateau: Vec<_> = p.iter().filter(|q| (q.1 - top).abs() < 1e-6).collect();
        let width = plateau[plateau.len() - 1].0 - plateau[0].0;
        assert!((width - 5.0).abs() < 1e-6, "200 ms = 5 mm, got {width}");
    }
    assert!(out.contains("fenêtre 20 – 30 s sur 60 s"));
}

#[test]
fn degenerate_recordings_do_not_panic() {
    let mut empty = synthetic(&["I"], 250.0, 0.0);
    let _ = svg(&empty, &PaperHeader::default(), &RenderOptions::default());
    let _ = pdf(&empty, &PaperHeader::default(), &RenderOptions::default());
    empty.leads.clear();
    empty.sampling_hz = f64::NAN;
    let o = RenderOptions {
        start_s: f64::INFINITY,
        mm_per_s: -1.0,
        mm_per_mv: 0.0,
    };
    let _ = svg(&empty, &PaperHeader::default(), &o);
    let _ = pdf(&empty, &PaperHeader::default(), &o);
    let short = synthetic(&["II"], 150.0, 3.0);
    let _ = svg(
        &short,
        &PaperHeader::default(),
        &RenderOptions {
            start_s: 100.0,
            ..Default::default()
        },
    );
}

fn run_poppler(tool: &str, pdf: &[u8]) -> String {
    static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let k = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("chevet-ecg-render-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{tool}-{k}.pdf"));
    std::fs::write(&path, pdf).expect("write PDF");
    let mut command = std::process::Command::new(tool);
    command.arg(&path);
    if tool == "pdftotext" {
        command.arg("-");
    }
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("{tool} is needed (Debian package poppler-utils): {e}"));
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "{tool} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn twelve_lead_pdf_is_one_page_with_embedded_font_and_french_text() {
    let ecg = synthetic(&TWELVE, 1000.0, 10.0);
    let bytes = pdf(&ecg, &header(), &RenderOptions::default());
    assert!(bytes.starts_with(b"%PDF-"));
    let has = |needle: &[u8]| bytes.windows(needle.len()).any(|w| w == needle);
    assert!(has(b"/FontFile2"), "embedded TrueType font");
    let info = run_poppler("pdfinfo", &bytes);
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 1")),
        "{info}"
    );
    let text = run_poppler("pdftotext", &bytes);
    for needle in [
        "Hélène Dupré",
        "Électrocardiographe",
        "12 dérivations",
        "25 mm/s · 10 mm/mV · FC 75/min",
        "aVR",
        "V6",
        "Étalonnage",
    ] {
        assert!(text.contains(needle), "{needle:?} not in {text}");
    }
}

#[test]
fn draw_pages_appends_to_a_callers_document() {
    let fonts = Fonts::dejavu().expect("bundled fonts load");
    let mut document = krilla::Document::new();
    document.start_page().finish();
    let ecg = synthetic(&["I", "II", "III", "V1", "V2", "V3"], 500.0, 12.0);
    draw_pages(
        &mut document,
        &ecg,
        &header(),
        &fonts,
        &RenderOptions::default(),
    );
    let bytes = document.finish().expect("PDF written");
    let info = run_poppler("pdfinfo", &bytes);
    // One page of the caller's, then 6 strips at 4 per page.
    assert!(
        info.lines()
            .any(|l| l.starts_with("Pages:") && l.trim_end().ends_with(" 3")),
        "{info}"
    );
}
