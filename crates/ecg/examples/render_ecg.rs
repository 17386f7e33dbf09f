//! Renders a recording to SVG and PDF and prints how long each took, to check the layout by
//! eye and the render time against the letter's budget.
//!
//! `cargo run --release -p chevet-ecg --example render_ecg -- RECORD.hea OUT_PREFIX [START_S]`

use chevet_ecg::detect::detect_beats;
use chevet_ecg::render::{pdf, svg, PaperHeader, RenderOptions};
use chevet_ecg::{read_path, Recording};
use std::time::Instant;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(input), Some(prefix)) = (args.first(), args.get(1)) else {
        eprintln!("usage: render_ecg RECORD OUT_PREFIX [START_S]");
        std::process::exit(2);
    };
    let start_s = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(0.0);
    let ecg = match read_path(std::path::Path::new(input)) {
        Ok(Recording::Signal(ecg)) => ecg,
        Ok(_) => {
            eprintln!("{input}: not a signal");
            std::process::exit(1);
        }
        Err(e) => {
            eprintln!("{input}: {e}");
            std::process::exit(1);
        }
    };
    let header = PaperHeader {
        patient: Some(
            ecg.subject
                .clone()
                .unwrap_or_else(|| "Hélène Dupré-Lefèvre, née le 03/02/1948".into()),
        ),
        acquired: ecg
            .acquired_at
            .map(|t| t.format("%d/%m/%Y à %H:%M").to_string()),
        device: ecg.device.clone(),
        heart_rate_bpm: None,
        note: Some("Visite à domicile, Dr Éloïse Mercier".into()),
    };
    let options = RenderOptions {
        start_s,
        ..RenderOptions::default()
    };
    let t = Instant::now();
    let beats = detect_beats(&ecg);
    let t_detect = t.elapsed();
    let t = Instant::now();
    let s = svg::svg(&ecg, &header, &options);
    let t_svg = t.elapsed();
    let t = Instant::now();
    let p = pdf::pdf(&ecg, &header, &options);
    let t_pdf = t.elapsed();
    // Second run: fonts and caches warm, the figure that matters for a letter server.
    let t = Instant::now();
    let p2 = pdf::pdf(&ecg, &header, &options);
    let t_pdf2 = t.elapsed();
    let write = |path: String, bytes: &[u8]| {
        if let Err(e) = std::fs::write(&path, bytes) {
            eprintln!("{path}: {e}");
        }
    };
    write(format!("{prefix}.svg"), s.as_bytes());
    write(format!("{prefix}.pdf"), &p);
    println!(
        "{input}: {} leads, {} Hz, {:.1} s; {} beats ({:?} bpm) in {:.1} ms; SVG {} KiB in {:.1} ms; PDF {} KiB in {:.1} ms (again {:.1} ms, {} KiB)",
        ecg.leads.len(),
        ecg.sampling_hz,
        ecg.duration_s(),
        beats.samples.len(),
        beats.heart_rate_bpm.map(|v| v.round()),
        t_detect.as_secs_f64() * 1e3,
        s.len() / 1024,
        t_svg.as_secs_f64() * 1e3,
        p.len() / 1024,
        t_pdf.as_secs_f64() * 1e3,
        t_pdf2.as_secs_f64() * 1e3,
        p2.len() / 1024,
    );
}
